//! The offline grader: decides each key point from its cues and its wording, without a
//! model.
//!
//! It is deliberately hard to fool cheaply: a cue under a negation does not count, cues
//! in a bare list of terms count for half (and for nothing when the whole answer is such
//! a list), a sentence that strings the cues of several points together counts for one
//! point at most, and a key point needs two pieces of evidence to be met. A sentence
//! that restates a point in other words is evidence too, so a correct answer that avoids
//! the rubric's vocabulary is not scored like a blank, while an answer that makes no
//! point and only brushes a few earns nothing for the brushes. A point's wording is its
//! own text and, for less, the sentences of the question's reference answer that carry
//! its cues.
//!
//! Code is evidence as well: a line of code that uses what a cue names (a call, a `with`,
//! a test) weighs like a sentence, the words inside compound names match cues, and
//! comments are read as sentences, so an answer given as a working snippet is credited
//! for what it shows; an import, a bare name or a call with no arguments whose result
//! is not kept only names a thing and counts for half.
//!
//! A contradicted point is not met: a sentence that states one of the question's red
//! flags is no evidence for any point, a point whose cues appear in such a sentence is
//! partial at most, and a sentence restates a point only with the words it says the way
//! the point does (a word it denies does not restate a point that affirms it).
//!
//! It cannot judge whether an explanation is right, only whether it covers the rubric's
//! points; everything it shows is labelled offline.

use super::{Assessment, Feedback, FlagHit, Grade, PointVerdict, Verdict};
use crate::bank::Rubric;
use crate::text::{Cue, Segment, SegmentKind, Token, content_roots, is_negated, segments, tokenize};

/// The offline grader's name and version, recorded in transcripts: a change to its rules
/// bumps the version, so old grades can be told apart.
pub const GRADER_VERSION: &str = "offline-8";

/// Share of an answer's words in list fragments above which the answer reads as a list.
const LIST_SHARE: f64 = 0.6;
/// Longest quoted evidence, in characters.
const EVIDENCE_CHARS: usize = 200;

/// Grades one answer against a rubric.
pub fn grade(rubric: &Rubric<'_>, answer: &str) -> Grade {
    Grade::graded(rubric, assess(rubric, answer))
}

/// The verdicts on one answer, before scoring.
pub fn assess(rubric: &Rubric<'_>, answer: &str) -> Assessment {
    let segs = segments(answer);
    let words: usize = segs.iter().filter(|s| s.kind != SegmentKind::Code).map(|s| s.tokens.len()).sum();
    let mut notes = Vec::new();

    if segs.is_empty() {
        notes.push("empty answer".to_string());
        return missed_everything(rubric, notes);
    }
    if words < 15 && says_dont_know(answer) {
        notes.push("the answer says the candidate does not know".to_string());
        return missed_everything(rubric, notes);
    }
    // Every sentence that states a red flag, and which flag.
    let flag_hits: Vec<Vec<usize>> = rubric
        .red_flags
        .iter()
        .map(|f| {
            let mut at: Vec<usize> = find_cues_spread(&f.cues, &segs, FLAG_CUE_GAP)
                .into_iter()
                .filter(|h| !reported(&segs[h.segment], h.start))
                .map(|h| h.segment)
                .collect();
            at.dedup();
            at
        })
        .collect();
    let contradicting: Vec<usize> = {
        let mut v: Vec<usize> = flag_hits.iter().flatten().copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let mut found: Vec<Vec<Hit>> = rubric.key_points.iter().map(|k| find_cues(&k.cues, &segs)).collect();
    // A sentence that states one of the question's misconceptions uses the point's words
    // to say something false about it: it is no evidence for the point, and the answer
    // that says it has shown it does not know which holds, so the point is partial at
    // most however well it is stated elsewhere.
    let contradicted: Vec<bool> = found
        .iter_mut()
        .map(|hits| {
            let before = hits.len();
            hits.retain(|h| contradicting.binary_search(&h.segment).is_err());
            hits.len() < before
        })
        .collect();
    let stuffed = unpack_packed_sentences(&segs, &mut found);
    let fragment_words: usize = segs
        .iter()
        .enumerate()
        .filter(|(i, s)| s.kind == SegmentKind::Fragment || stuffed.contains(i))
        .map(|(_, s)| s.tokens.len())
        .sum();
    // Code that does something is never a list of terms, so its words weigh against the
    // fragments: an answer given mostly as working code is not zeroed as a list.
    let code_words: usize = segs.iter().filter(|s| s.statement).map(|s| s.tokens.len()).sum();
    let list_like = words >= 6 && fragment_words as f64 >= LIST_SHARE * (words + code_words) as f64;
    if list_like {
        notes.push(
            "reads as a list of terms rather than an explanation: terms outside sentences earn no credit".to_string(),
        );
    }

    let skipped: Vec<usize> = stuffed.iter().chain(&contradicting).copied().collect();
    let restated = restatements(rubric, &segs, &skipped);
    let key_points = rubric
        .key_points
        .iter()
        .zip(&found)
        .zip(&restated)
        .zip(&contradicted)
        .map(|(((k, found), restated), &contradicted)| {
            // Sentences carry full weight, and so does code that uses what the cue names (a
            // call, a `with`, a test): using a thing correctly shows it as well as saying
            // it. A name that is only mentioned (an import, a bare term) counts for half.
            let strong: Vec<&Hit> = found.iter().filter(|h| h.kind == SegmentKind::Prose || h.statement).collect();
            let strong_cues = distinct(strong.iter().map(|h| h.cue));
            let weak_cues = if list_like { 0 } else { distinct(found.iter().map(|h| h.cue)) - strong_cues };
            // A sentence restating the point in other words weighs like a cue in a sentence:
            // a correct answer in its own words is still an explanation.
            let restatements = restated.iter().map(|&(_, w)| w).sum::<f64>().min(2.0);
            let value = strong_cues as f64 + 0.5 * weak_cues as f64 + restatements;
            let verdict = if value >= 2.0 && (strong_cues >= 1 || restatements >= 1.0) && !contradicted {
                Verdict::Met
            } else if value >= 1.0 {
                Verdict::Partial
            } else {
                Verdict::Missed
            };
            let evidence = (verdict != Verdict::Missed)
                .then(|| {
                    strong.first().copied().or(found.first()).map(|h| h.segment).or(restated.first().map(|&(si, _)| si))
                })
                .flatten()
                .map(|si| quote(&segs[si]));
            // Met on one sentence alone, however full, is not firm: a generality can
            // share a point's words without making it.
            let pieces = found.len() + restated.len();
            let firm = verdict == Verdict::Met && pieces >= 2;
            (PointVerdict { evidence, ..PointVerdict::bare(&k.id, verdict) }, firm)
        })
        .collect::<Vec<_>>();
    let firm: Vec<bool> = key_points.iter().map(|(_, f)| *f).collect();
    let mut key_points: Vec<PointVerdict> = key_points.into_iter().map(|(v, _)| v).collect();
    if drop_stray_mentions(&mut key_points, &firm) {
        notes.push("no key point is made firmly and few are touched: passing mentions earn no credit".to_string());
    }

    let red_flags = rubric
        .red_flags
        .iter()
        .zip(&flag_hits)
        .filter_map(|(f, at)| {
            at.first().map(|&si| FlagHit { id: f.id.clone(), severity: f.severity, evidence: Some(quote(&segs[si])) })
        })
        .collect::<Vec<_>>();

    let feedback = feedback(rubric, &key_points);
    Assessment { key_points, red_flags, errors: Vec::new(), holistic: None, feedback, notes, analysis: None }
}

/// A partial verdict rests on one piece of evidence: a cue in one sentence, or one
/// sentence that happens to share a point's words. An answer that makes no point firmly
/// and touches at most half of them in passing is talking around the topic, and such
/// mentions are its vocabulary rather than knowledge of it: they earn nothing. Partial
/// touches count beside a point that is met firmly (on two pieces of evidence or more:
/// a generality can share enough of a point's words in one sentence), or when they
/// spread over most of the rubric, as a careful answer in its own words does.
/// Returns whether it dropped any.
fn drop_stray_mentions(verdicts: &mut [PointVerdict], firm: &[bool]) -> bool {
    let met = firm.iter().any(|&f| f);
    let touched = verdicts.iter().filter(|v| v.verdict != Verdict::Missed).count();
    if met || touched == 0 || 2 * touched > verdicts.len() {
        return false;
    }
    for v in verdicts.iter_mut() {
        v.verdict = Verdict::Missed;
        v.evidence = None;
    }
    true
}

/// A sentence naming this many key points or more may be packed with terms rather than
/// explaining them.
const PACKED_POINTS: usize = 3;
/// Words a sentence needs per key point it names to read as an explanation: a real
/// sentence spends words on each thing it relates, a stuffed one strings terms together.
const WORDS_PER_POINT: usize = 10;

/// Finds the sentences that string together the cues of several key points in too few
/// words ("the semaphore pickles the event loop so the GIL becomes I/O-bound"). Such a
/// sentence has the shape of an explanation but can explain one thing at most: when one
/// point has several cues in it and every other point is a passing mention, it is about
/// that point and keeps its cues for it; when several points have several cues each, it
/// is a list of terms dressed as a sentence and counts for none. Returns the indices of
/// the latter: their words count as a list's when judging whether the answer is a list.
fn unpack_packed_sentences(segs: &[Segment], found: &mut [Vec<Hit>]) -> Vec<usize> {
    let mut packed = Vec::new();
    for (si, seg) in segs.iter().enumerate().filter(|(_, s)| s.kind == SegmentKind::Prose) {
        // (distinct cues here, point) for every key point with a cue in this sentence.
        let mut named: Vec<(usize, usize)> = found
            .iter()
            .enumerate()
            .map(|(ki, hits)| (distinct(hits.iter().filter(|h| h.segment == si).map(|h| h.cue)), ki))
            .filter(|&(cues, _)| cues > 0)
            .collect();
        if named.len() < PACKED_POINTS || seg.tokens.len() >= WORDS_PER_POINT * named.len() {
            continue;
        }
        named.sort_by_key(|&(cues, ki)| (std::cmp::Reverse(cues), ki));
        let about = (named[0].0 >= 2 && named[1].0 == 1).then_some(named[0].1);
        for (ki, hits) in found.iter_mut().enumerate() {
            if Some(ki) != about {
                hits.retain(|h| h.segment != si);
            }
        }
        if about.is_none() {
            packed.push(si);
        }
    }
    packed
}

/// How much of a key point's own wording a sentence must share to restate it: the sum,
/// over the point's content words found in the sentence, of one over the number of
/// points whose wording uses that word. A word that only this point uses and one it
/// shares with one other point is enough: paraphrases keep few of a point's words, and
/// the sentence must still share more with this point than with any other.
const RESTATEMENT: f64 = 1.5;
/// A sentence whose closest point is this one, by a word no other point uses, leans
/// towards restating it and counts for half: a paraphrase spends several sentences on
/// a point it names in different words each time, and two such sentences together say
/// as much as one that shares more of its wording.
const NEAR_RESTATEMENT: f64 = 1.0;
/// A sentence that shares twice what a restatement needs says the point over on its own
/// and weighs like two: a plain answer spends one full sentence on a point where a
/// terse one names two of its terms. Met on that one sentence is still not firm (see
/// [`drop_stray_mentions`]).
const FULL_RESTATEMENT: f64 = 2.0 * RESTATEMENT;

/// For each key point, the sentences that restate it in other words than its cues: a
/// sentence restates the point whose wording it shares most with (and no other, so one
/// sentence supports one point), when it shares enough. A point's wording is its own
/// text and, for less, the words the reference answer spends on it: a point is one line,
/// and the reference says each point at the length an answer does, in the plainer words
/// an answer uses. Words used by more than half of the points are the question's topic
/// rather than any point's, and do not count.
fn restatements(rubric: &Rubric<'_>, segs: &[Segment], skipped: &[usize]) -> Vec<Vec<(usize, f64)>> {
    let polar: Vec<Polar> = rubric.key_points.iter().map(|k| Polar::of(&tokenize(&k.point))).collect();
    let vocab: Vec<Vec<String>> = rubric.key_points.iter().map(|k| content_roots(&tokenize(&k.point))).collect();
    let topical = (vocab.len() / 2).max(1);
    let borrowed = reference_words(rubric, &vocab);
    let wide: Vec<Vec<&str>> =
        vocab.iter().zip(&borrowed).map(|(own, more)| own.iter().chain(more).map(String::as_str).collect()).collect();
    let weights: Vec<Vec<(&str, f64)>> = vocab
        .iter()
        .zip(&borrowed)
        .map(|(words, more)| {
            let own = words.iter().filter_map(|w| {
                let n = vocab.iter().filter(|v| v.contains(w)).count();
                (n <= topical).then(|| (w.as_str(), 1.0 / n as f64))
            });
            let more = more.iter().filter_map(|w| {
                let n = wide.iter().filter(|v| v.contains(&w.as_str())).count();
                (n <= topical).then(|| (w.as_str(), REFERENCE_WEIGHT / n as f64))
            });
            own.chain(more).collect()
        })
        .collect();
    let polar: Vec<Polar> = polar
        .into_iter()
        .zip(&borrowed)
        .map(|(mut p, more)| {
            p.affirmed.extend(more.iter().cloned());
            p.affirmed.sort_unstable();
            p.affirmed.dedup();
            p
        })
        .collect();
    let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); vocab.len()];
    for (si, seg) in segs.iter().enumerate() {
        if seg.kind != SegmentKind::Prose || skipped.contains(&si) {
            continue;
        }
        let said = Polar::of(&seg.tokens);
        let shared: Vec<f64> = weights
            .iter()
            .zip(&polar)
            .map(|(ws, point)| ws.iter().filter(|(w, _)| said.agrees(point, w)).map(|(_, x)| x).sum())
            .collect();
        let best = shared.iter().copied().fold(0.0, f64::max);
        let at_best: Vec<usize> = (0..shared.len()).filter(|&i| shared[i] == best).collect();
        // A sentence that restates two points equally well says which neither is.
        if at_best.len() != 1 {
            continue;
        }
        if best >= FULL_RESTATEMENT {
            out[at_best[0]].push((si, 2.0));
        } else if best >= RESTATEMENT {
            out[at_best[0]].push((si, 1.0));
        } else if best >= NEAR_RESTATEMENT {
            out[at_best[0]].push((si, 0.5));
        }
    }
    // Full restatements first, so the evidence quoted is the clearest.
    for r in &mut out {
        r.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    out
}

/// A word the reference answer spends on a point counts for this share of one from the
/// point's own text: the reference is one good answer, not the wording a point requires,
/// so it takes two of its words to weigh like one of the point's.
const REFERENCE_WEIGHT: f64 = 0.5;

/// For each key point, the content words the reference answer uses in the sentences it
/// spends on that point and the point's own text does not: a sentence of the reference
/// is about the point whose cues it carries most of (and no other, when two tie).
fn reference_words(rubric: &Rubric<'_>, vocab: &[Vec<String>]) -> Vec<Vec<String>> {
    let segs = segments(rubric.reference);
    let found: Vec<Vec<Hit>> = rubric.key_points.iter().map(|k| find_cues(&k.cues, &segs)).collect();
    let mut out: Vec<Vec<String>> = vec![Vec::new(); vocab.len()];
    for (si, seg) in segs.iter().enumerate().filter(|(_, s)| s.kind == SegmentKind::Prose) {
        let cues: Vec<usize> =
            found.iter().map(|hits| distinct(hits.iter().filter(|h| h.segment == si).map(|h| h.cue))).collect();
        let best = cues.iter().copied().max().unwrap_or(0);
        let at_best: Vec<usize> = (0..cues.len()).filter(|&i| cues[i] == best).collect();
        if best == 0 || at_best.len() != 1 {
            continue;
        }
        let ki = at_best[0];
        let words = content_roots(&seg.tokens).into_iter().filter(|w| !vocab[ki].contains(w));
        out[ki].extend(words);
    }
    for words in &mut out {
        words.sort_unstable();
        words.dedup();
    }
    out
}

/// The content words of a text, split into those it affirms and those it denies (under
/// a negation).
struct Polar {
    affirmed: Vec<String>,
    denied: Vec<String>,
}

impl Polar {
    fn of(tokens: &[Token]) -> Polar {
        let (mut affirmed, mut denied) = (Vec::new(), Vec::new());
        for (i, t) in tokens.iter().enumerate() {
            if is_negated(tokens, i) { &mut denied } else { &mut affirmed }.push(t.clone());
        }
        Polar { affirmed: content_roots(&affirmed), denied: content_roots(&denied) }
    }

    /// Whether this text says `word` the way `point` does: a word denied here and
    /// affirmed in the point ("objects are not freed at once" against a point about
    /// objects freed at once) shares nothing with it, while a point that itself denies
    /// something ("has no hook") is restated by a sentence that denies it too.
    fn agrees(&self, point: &Polar, word: &str) -> bool {
        let has = |v: &[String]| v.binary_search_by(|r| r.as_str().cmp(word)).is_ok();
        (has(&self.affirmed) && has(&point.affirmed)) || (has(&self.denied) && has(&point.denied))
    }
}

/// Phrases that report a claim in order to reject it ("people think X, but ..."): a
/// red-flag cue after one of them in the same sentence is not the candidate's claim.
static REPORTING: std::sync::LazyLock<Vec<Cue>> = std::sync::LazyLock::new(|| {
    [
        "people think",
        "people say",
        "people assume",
        "people believe",
        "some people",
        "many people",
        "myth",
        "misconception",
        "wrong to say",
        "wrong to think",
        "mistake to",
        "common mistake",
        "contrary to",
        "not true that",
        "is not true",
        "some say",
        "some claim",
        "you often hear",
        "often claimed",
        "often said",
        "the idea that",
        "the claim that",
        "the belief that",
        "it used to be",
        "used to be true",
        "before 3",
        "in python 2",
    ]
    .iter()
    .filter_map(|c| Cue::parse(c))
    .collect()
});

/// Phrases that set what follows them aside ("rather than sprinkle X everywhere"): they
/// reach only the few words after them in their clause, as a negation does.
static SETTING_ASIDE: std::sync::LazyLock<Vec<Cue>> = std::sync::LazyLock::new(|| {
    ["rather than", "instead of", "as opposed to", "in place of"].iter().filter_map(|c| Cue::parse(c)).collect()
});
/// How many words after the end of a setting-aside phrase it still reaches.
const SETTING_ASIDE_WINDOW: usize = 3;

/// Whether the words before `at` in the segment report a claim rather than make it, or
/// set it aside.
fn reported(seg: &Segment, at: usize) -> bool {
    let before = &seg.tokens[..at];
    REPORTING.iter().any(|c| !c.find_in(before).is_empty())
        || SETTING_ASIDE.iter().any(|c| {
            c.find_in(before).into_iter().any(|start| {
                let end = start + c.span_at(before, start);
                at - end <= SETTING_ASIDE_WINDOW
                    && seg.tokens.get(at).is_some_and(|t| t.clause == seg.tokens[end - 1].clause)
            })
        })
}

/// One place a cue was found.
struct Hit {
    cue: usize,
    segment: usize,
    start: usize,
    len: usize,
    kind: SegmentKind,
    /// Found in a line of code that does something.
    statement: bool,
}

/// Every non-negated place where one of `cues` occurs. Where two cues overlap (as
/// "reference count" and "count" do), only the longer counts, so one phrase is one cue.
fn find_cues(cues: &[String], segs: &[Segment]) -> Vec<Hit> {
    find_cues_spread(cues, segs, 0)
}

/// Up to this many words may stand between two words of a red-flag cue. A red flag's cues
/// are whole claims of several words, which people pad ("a descriptor is basically a
/// decorator"); a key point's cues are short terms, matched exactly.
const FLAG_CUE_GAP: usize = 2;

/// Like [`find_cues`], with up to `gap` words allowed between two words of a cue.
fn find_cues_spread(cues: &[String], segs: &[Segment], gap: usize) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    for (ci, cue) in cues.iter().enumerate() {
        let Some(cue) = Cue::parse(cue) else { continue };
        for (si, seg) in segs.iter().enumerate() {
            for (start, len) in cue.find_spread(&seg.tokens, gap) {
                // In code `not` is an operator in an expression (`if x is not None`), not the
                // writer denying what follows.
                if seg.statement || !is_negated(&seg.tokens, start) {
                    hits.push(Hit { cue: ci, segment: si, start, len, kind: seg.kind, statement: seg.statement });
                }
            }
        }
    }
    hits.sort_by_key(|h| std::cmp::Reverse(h.len));
    let mut kept: Vec<Hit> = Vec::new();
    for h in hits {
        let overlaps =
            kept.iter().any(|k| k.segment == h.segment && k.start < h.start + h.len && h.start < k.start + k.len);
        if !overlaps {
            kept.push(h);
        }
    }
    kept.sort_by_key(|h| (h.segment, h.start));
    kept
}

fn distinct(cues: impl Iterator<Item = usize>) -> usize {
    let mut v: Vec<usize> = cues.collect();
    v.sort_unstable();
    v.dedup();
    v.len()
}

fn quote(seg: &Segment) -> String {
    let text = seg.text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() <= EVIDENCE_CHARS {
        text
    } else {
        let cut: String = text.chars().take(EVIDENCE_CHARS).collect();
        format!("{}…", cut.trim_end())
    }
}

fn says_dont_know(answer: &str) -> bool {
    let a = answer.to_lowercase().replace('’', "'");
    let a = a.trim().trim_end_matches(['.', '!']);
    a == "pass"
        || a == "idk"
        || ["don't know", "dont know", "do not know", "no idea", "not sure", "no clue", "can't remember"]
            .iter()
            .any(|p| a.contains(p))
}

fn missed_everything(rubric: &Rubric<'_>, notes: Vec<String>) -> Assessment {
    let key_points: Vec<PointVerdict> =
        rubric.key_points.iter().map(|k| PointVerdict::bare(&k.id, Verdict::Missed)).collect();
    let feedback = feedback(rubric, &key_points);
    Assessment {
        key_points,
        red_flags: Vec::new(),
        errors: Vec::new(),
        holistic: None,
        feedback,
        notes,
        analysis: None,
    }
}

fn feedback(rubric: &Rubric<'_>, verdicts: &[PointVerdict]) -> Feedback {
    let point = |id: &str| rubric.key_points.iter().find(|k| k.id == id);
    let strengths = verdicts
        .iter()
        .filter(|v| v.verdict == Verdict::Met)
        .filter_map(|v| point(&v.id).map(|k| k.point.clone()))
        .collect();
    let mut gaps: Vec<(u32, bool, String)> = verdicts
        .iter()
        .filter(|v| v.verdict != Verdict::Met)
        .filter_map(|v| point(&v.id).map(|k| (k.weight, v.verdict == Verdict::Partial, k.point.clone())))
        .collect();
    // Heaviest first; among equals, what was missed outright before what was touched on.
    gaps.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let next_step = gaps.first().map(|(_, _, p)| format!("Study this point and explain it in your own words: {p}"));
    Feedback { strengths, gaps: gaps.into_iter().map(|(_, _, p)| p).collect(), next_step }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::{KeyPoint, RedFlag, Severity};

    fn rubric_parts() -> (Vec<KeyPoint>, Vec<RedFlag>) {
        let kp = |id: &str, cues: &[&str]| KeyPoint {
            id: id.into(),
            point: format!("point {id}"),
            weight: 1,
            cues: cues.iter().map(|s| s.to_string()).collect(),
        };
        (
            vec![
                kp("refcount", &["reference count*", "refcount*", "freed immediately", "drops to zero"]),
                kp("cycles", &["cyclic garbage collector", "reference cycle*", "generation*", "gc.collect"]),
                kp("pymalloc", &["pymalloc", "small object allocator", "arena*", "private heap"]),
            ],
            vec![RedFlag {
                id: "gc-only".into(),
                point: "says Python only has a tracing GC".into(),
                severity: Severity::Critical,
                cues: vec!["only a garbage collector".into(), "no reference counting".into()],
            }],
        )
    }

    fn score_of(answer: &str) -> u8 {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        grade(&r, answer).score().unwrap()
    }

    const STRONG: &str = "CPython uses reference counting: every object keeps a refcount, and when it drops to zero \
        the object is freed immediately. Reference cycles are handled by a cyclic garbage collector that works in \
        generations, and you can force a pass with gc.collect. Small objects come from pymalloc, which carves arenas \
        out of a private heap.";

    #[test]
    fn a_strong_answer_meets_every_point() {
        assert_eq!(score_of(STRONG), 100);
    }

    #[test]
    fn negated_cues_do_not_count() {
        let s = score_of(
            "There is no reference counting in Python and objects are never freed immediately. \
             The cyclic garbage collector finds reference cycles in generations.",
        );
        assert!(s <= 40, "{s}");
    }

    #[test]
    fn keyword_stuffing_scores_near_the_bottom() {
        let stuffed = "reference counting, refcount, drops to zero, cyclic garbage collector, generations, gc.collect, \
                       pymalloc, arenas, private heap";
        let s = score_of(stuffed);
        assert!(s <= 10, "stuffing scored {s}");
        let partial = score_of(
            "Python frees memory with reference counting, so when the refcount drops to zero the object goes away.",
        );
        assert!(s < partial, "stuffing {s} vs partial {partial}");
    }

    #[test]
    fn a_sentence_stringing_many_points_together_explains_one_at_most() {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let met = |answer: &str| -> Vec<Verdict> { assess(&r, answer).key_points.iter().map(|v| v.verdict).collect() };
        // Two cues of each point in 15 words: the shape of a sentence, no explanation.
        let packed = "The refcount drops to zero in the arenas so generations of pymalloc run gc.collect.";
        assert_eq!(met(packed), [Verdict::Missed; 3]);
        // Dense but about one point, naming the others in passing: credit for that point.
        let dense = "The refcount drops to zero and the object is freed immediately, unlike generations in pymalloc.";
        assert_eq!(met(dense), [Verdict::Met, Verdict::Missed, Verdict::Missed]);
        // The same terms with the words a real explanation spends on each point.
        assert_eq!(score_of(STRONG), 100);
    }

    fn kp(id: &str, point: &str, cues: &[&str]) -> KeyPoint {
        KeyPoint { id: id.into(), point: point.into(), weight: 1, cues: cues.iter().map(|s| s.to_string()).collect() }
    }

    /// Three memory key points, each with one cue that the answers below avoid, so that
    /// only the points' own words can earn them.
    fn memory_points() -> [KeyPoint; 3] {
        [
            kp(
                "refcount",
                "Every object counts its references and is freed the moment the count drops to zero.",
                &["refcount*"],
            ),
            kp("cycles", "A cyclic collector finds groups of objects that only reference each other.", &["gc.collect"]),
            kp("pymalloc", "Small allocations come from pools carved out of larger arenas.", &["pymalloc"]),
        ]
    }

    #[test]
    fn a_point_restated_in_other_words_earns_credit() {
        let k = memory_points();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &[] };
        // Another point made firmly, so that a partial touch beside it counts.
        const CYCLES: &str =
            "Calling gc.collect runs the cyclic collector over groups of objects that only reference each other.";
        let verdicts = |a: &str| -> Vec<Verdict> {
            assess(&r, &format!("{CYCLES} {a}")).key_points.iter().map(|v| v.verdict).collect()
        };
        // No cue at all, but the point's own distinctive words: partial.
        assert_eq!(
            verdicts("Each one keeps a tally and is freed as soon as it hits zero."),
            [Verdict::Partial, Verdict::Met, Verdict::Missed]
        );
        // Most of them in one sentence: the point said over, met.
        assert_eq!(
            verdicts("Each object keeps a tally of references and is freed as soon as it drops to zero."),
            [Verdict::Met, Verdict::Met, Verdict::Missed]
        );
        // Restated twice: met.
        assert_eq!(
            verdicts(
                "Each object keeps a tally of references and is freed as soon as it drops to zero. \
                 Once the count of references drops to zero, the memory is freed right away."
            ),
            [Verdict::Met, Verdict::Met, Verdict::Missed]
        );
        // A sentence closest to the point by one word only it uses leans towards it: alone
        // it is not enough, two count as one restatement, and they add to a full one.
        assert_eq!(verdicts("Memory is freed at once."), [Verdict::Missed, Verdict::Met, Verdict::Missed]);
        let leaning = "Memory is freed at once. Nothing waits for a later sweep when the tally hits zero.";
        assert_eq!(verdicts(leaning), [Verdict::Partial, Verdict::Met, Verdict::Missed]);
        assert_eq!(
            verdicts(&format!(
                "Each object keeps a tally of references and is freed as soon as it drops to zero. {leaning}"
            )),
            [Verdict::Met, Verdict::Met, Verdict::Missed]
        );
        // One word only this point uses and one it shares with another point: partial.
        let four = [
            k[0].clone(),
            k[1].clone(),
            k[2].clone(),
            kp("large", "Large blocks skip the pools and go straight to the system allocator.", &["malloc"]),
        ];
        let r4 = Rubric { reference: "", testing: "", key_points: &four, red_flags: &[] };
        let verdicts4 = |a: &str| -> Vec<Verdict> {
            assess(&r4, &format!("{CYCLES} {a}")).key_points.iter().map(|v| v.verdict).collect()
        };
        assert_eq!(
            verdicts4("Memory for tiny things is carved from pools."),
            [Verdict::Missed, Verdict::Met, Verdict::Partial, Verdict::Missed]
        );
        // A single word of the point is not enough.
        assert_eq!(
            verdicts4("Memory for tiny things is carved up."),
            [Verdict::Missed, Verdict::Met, Verdict::Missed, Verdict::Missed]
        );
        // Talking about the topic in general words restates nothing.
        assert_eq!(
            verdicts("Python manages memory for you, so objects come and go as the program runs."),
            [Verdict::Missed, Verdict::Met, Verdict::Missed]
        );
    }

    #[test]
    fn the_reference_answer_lends_a_point_its_words() {
        let k = [
            kp("refcount", "Objects are freed when their reference count drops to zero.", &["refcount*"]),
            kp("cycles", "A cyclic collector finds groups of objects that only reference each other.", &["gc.collect"]),
            kp("pymalloc", "Small allocations come from pools carved out of larger arenas.", &["pymalloc"]),
        ];
        // The reference spends a sentence on each point, in words the points do not use.
        let reference = "Every object carries a refcount, a tally bumped by each new name and dropped when a \
                         name goes away. Loops of objects pointing at one another are found by gc.collect, which \
                         sweeps them in batches. Tiny objects come from pymalloc, which keeps its own slabs.";
        let answer = "Calling gc.collect runs the cyclic collector over groups of objects that only reference each \
                      other. Each thing keeps a tally, bumped by every new name and dropped when a name goes away.";
        let verdicts = |reference: &str| -> Vec<Verdict> {
            let r = Rubric { reference, testing: "", key_points: &k, red_flags: &[] };
            assess(&r, answer).key_points.iter().map(|v| v.verdict).collect()
        };
        assert_eq!(verdicts(""), [Verdict::Missed, Verdict::Met, Verdict::Missed]);
        // The answer's sentence says over what the reference spends on the point.
        assert_eq!(verdicts(reference), [Verdict::Met, Verdict::Met, Verdict::Missed]);
    }

    #[test]
    fn one_sentence_saying_a_point_over_meets_it_but_not_firmly() {
        let k = memory_points();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &[] };
        let verdicts = |a: &str| -> Vec<Verdict> { assess(&r, a).key_points.iter().map(|v| v.verdict).collect() };
        let full = "Each object counts the references to it, and the moment that count drops to zero it is freed.";
        let pools = "Memory for tiny things is carved from pools.";
        // Beside another point touched, one full sentence meets its point.
        assert_eq!(verdicts(&format!("{full} {pools}")), [Verdict::Met, Verdict::Missed, Verdict::Partial]);
        // Alone it is not firm: one sentence sharing a point's words may be a generality.
        let a = assess(&r, &format!("{full} Python handles the rest for you."));
        assert!(a.notes.iter().any(|n| n.contains("passing mentions")), "{:?}", a.notes);
    }

    #[test]
    fn passing_mentions_without_a_point_made_earn_nothing() {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let verdicts = |a: &str| -> Vec<Verdict> { assess(&r, a).key_points.iter().map(|v| v.verdict).collect() };
        // One cue in a sentence, nothing else made: the topic's vocabulary, not a point.
        let stray = "Memory in Python is mostly automatic, there is a private heap somewhere and it just works.";
        assert_eq!(verdicts(stray), [Verdict::Missed; 3]);
        assert!(assess(&r, stray).notes.iter().any(|n| n.contains("passing mentions")));
        // The same mention beside a point that is made keeps its partial credit.
        let beside = "When the refcount drops to zero the object is freed. There is a private heap for small objects.";
        assert_eq!(verdicts(beside), [Verdict::Met, Verdict::Missed, Verdict::Partial]);
        // Passing touches on most of the rubric are coverage, not strays.
        let spread =
            "Each object has a refcount. There is a reference cycle detector. Small ones live in a private heap.";
        assert_eq!(verdicts(spread), [Verdict::Partial; 3]);
    }

    /// A rubric about running CPU-bound work, for answers given as code.
    fn parallel_rubric() -> (Vec<KeyPoint>, Vec<RedFlag>) {
        (
            vec![
                kp(
                    "processes",
                    "CPU-bound work goes to separate processes.",
                    &["process pool", "multiprocessing", "separate process*"],
                ),
                kp("none-check", "Sentinels are compared by identity.", &["is none", "is not none", "sentinel*"]),
                kp("threads", "Threads help while waiting on I/O.", &["worker thread", "i/o-bound", "blocking i/o"]),
            ],
            vec![RedFlag {
                id: "threads-for-cpu".into(),
                point: "says threads speed up CPU-bound work".into(),
                severity: Severity::Critical,
                cues: vec!["threads speed up cpu-bound work".into()],
            }],
        )
    }

    fn verdicts_of(rubric: (Vec<KeyPoint>, Vec<RedFlag>), answer: &str) -> Vec<Verdict> {
        let (k, f) = rubric;
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        assess(&r, answer).key_points.iter().map(|v| v.verdict).collect()
    }

    #[test]
    fn names_and_calls_in_code_are_evidence() {
        let v = |a: &str| verdicts_of(parallel_rubric(), a);
        // Using the pool is as good as saying its name in a sentence, and the words of a
        // compound name count.
        let code = "```python\nwith ProcessPoolExecutor() as pool:\n    results = pool.map(crunch, chunks)\n\
                    if results is None:\n    raise RuntimeError\n```";
        assert_eq!(v(code), [Verdict::Partial, Verdict::Partial, Verdict::Missed]);
        let more = format!("{code}\nEach chunk runs in a separate process, so the cores are all busy.");
        assert_eq!(v(&more)[0], Verdict::Met);
        // `is not None` in code is a test, not a denial.
        let not_none =
            "```python\nwith ProcessPoolExecutor() as pool:\n    if value is not None:\n        use(value)\n```";
        assert_eq!(v(not_none), [Verdict::Partial, Verdict::Partial, Verdict::Missed]);
        // An import only names a thing: half as much as using it.
        let (k, f) = parallel_rubric();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let threads = "I/O-bound work waits on blocking I/O, and a worker thread does that well.";
        let import = format!("{threads}\n```python\nfrom concurrent.futures import ProcessPoolExecutor\n```");
        assert_eq!(assess(&r, &import).key_points[0].verdict, Verdict::Missed);
        let used = format!("{threads}\n```python\nex = ProcessPoolExecutor()\n```");
        assert_eq!(assess(&r, &used).key_points[0].verdict, Verdict::Partial);
    }

    #[test]
    fn rubric_words_written_as_bare_calls_are_a_list_of_terms() {
        let (k, f) = parallel_rubric();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let score = |a: &str| grade(&r, a).score().unwrap();
        let stuffed = "```python\nProcessPoolExecutor(); multiprocessing(); SeparateProcess()\nSentinel(); IsNone()\n\
                       WorkerThread(); BlockingIO()\n```";
        assert!(score(stuffed) <= 10, "{}", score(stuffed));
        let real = "```python\nwith ProcessPoolExecutor() as pool:\n    totals = pool.map(crunch, chunks)\n\
                    MISSING = object()\nif cached is None:\n    cached = load()\n\
                    with ThreadPoolExecutor() as ex:\n    pages = list(ex.map(fetch, urls))  # blocking I/O in a worker thread\n```";
        assert!(score(real) >= 50, "{}", score(real));
    }

    #[test]
    fn a_comment_in_code_is_read_as_a_sentence() {
        let v = |a: &str| verdicts_of(parallel_rubric(), a);
        let code = "```python\ndef fetch(url):\n    return urlopen(url).read()  # blocking I/O, runs in a worker thread\n\
                    with ThreadPoolExecutor() as ex:\n    pages = list(ex.map(fetch, urls))\n```";
        assert_eq!(v(code)[2], Verdict::Met);
    }

    #[test]
    fn an_answer_given_as_code_is_never_zeroed_as_a_list() {
        let (k, f) = parallel_rubric();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        // One terse summary line (packed with three points' cues) and the code showing it.
        let answer = "Process pool for CPU, worker thread for blocking I/O, sentinels by is None.\n\
                      ```python\nwith ProcessPoolExecutor() as pool:\n    totals = pool.map(crunch, chunks)\n\
                      MISSING = object()\nif cached is None:\n    cached = load()\n```";
        let a = assess(&r, answer);
        assert!(a.notes.iter().all(|n| !n.contains("list of terms")), "{:?}", a.notes);
        assert!(a.key_points.iter().any(|v| v.verdict != Verdict::Missed));
        // The same summary alone is a list of terms.
        let a = assess(&r, "Process pool, worker thread, blocking I/O, sentinels, is None, multiprocessing.");
        assert!(a.notes.iter().any(|n| n.contains("list of terms")), "{:?}", a.notes);
    }

    #[test]
    fn empty_dont_know_and_off_topic_score_zero() {
        assert_eq!(score_of(""), 0);
        assert_eq!(score_of("   \n\n "), 0);
        assert_eq!(score_of("I don't know, sorry."), 0);
        assert_eq!(score_of("Django has an ORM that maps models to tables and it ships an admin site."), 0);
    }

    #[test]
    fn a_misconception_reported_to_be_rejected_raises_no_red_flag() {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let a =
            assess(&r, "Some people think there is no reference counting in Python, but every object has a refcount.");
        assert!(a.red_flags.is_empty(), "{:?}", a.red_flags);
        let a = assess(&r, "Honestly there is only a garbage collector in Python.");
        assert_eq!(a.red_flags.len(), 1);
    }

    fn flags_of(rubric: (Vec<KeyPoint>, Vec<RedFlag>), answer: &str) -> Vec<String> {
        let (k, f) = rubric;
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        assess(&r, answer).red_flags.into_iter().map(|h| h.id).collect()
    }

    #[test]
    fn red_flag_cues_allow_a_few_padding_words() {
        let flags = |a: &str| flags_of(rubric_parts(), a);
        assert_eq!(flags("In CPython there is only a tracing garbage collector."), ["gc-only"]);
        assert_eq!(flags("In CPython there is only a big, slow garbage collector."), ["gc-only"]);
        // More than two words of padding make it another sentence.
        assert!(flags("In CPython there is only a refcount, with a backup garbage collector.").is_empty());
    }

    #[test]
    fn a_claim_set_aside_raises_no_red_flag() {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let a = assess(&r, "Rather than assume there is only a garbage collector, check gc.get_referrers.");
        assert!(a.red_flags.is_empty(), "{:?}", a.red_flags);
        // Setting aside reaches a few words only: a claim further on is still made.
        let a = assess(&r, "Instead of a long story, the truth is simple: there is only a garbage collector.");
        assert_eq!(a.red_flags.len(), 1);
    }

    #[test]
    fn a_sentence_stating_a_red_flag_is_no_evidence() {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        // The cycles point's cues, in a sentence that states the misconception.
        let wrong = "Honestly there is only a garbage collector with generations that finds every reference cycle. \
                     Small objects come from pymalloc, which carves arenas out of a private heap.";
        let a = assess(&r, wrong);
        assert_eq!(a.red_flags.len(), 1);
        assert_eq!(a.key_points[1].verdict, Verdict::Missed, "{:?}", a.key_points[1]);
        // The same cues in a sentence of their own are evidence.
        let right = "The cyclic collector works in generations and finds every reference cycle. \
                     Small objects come from pymalloc, which carves arenas out of a private heap.";
        assert_eq!(assess(&r, right).key_points[1].verdict, Verdict::Met);
    }

    #[test]
    fn a_point_stated_and_contradicted_is_partial_at_most() {
        let (k, f) = rubric_parts();
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &f };
        let both = format!("{STRONG} Still, there is only a garbage collector that frees reference cycles.");
        let a = assess(&r, &both);
        assert_eq!(a.key_points[1].verdict, Verdict::Partial);
        // Points the misconception does not touch keep their verdicts.
        assert_eq!(a.key_points[2].verdict, Verdict::Met);
        assert_eq!(assess(&r, STRONG).key_points[1].verdict, Verdict::Met);
    }

    #[test]
    fn a_denied_word_does_not_restate_a_point_that_affirms_it() {
        let k = [
            kp("freed", "Objects are freed the moment their count of references drops to zero.", &["refcount*"]),
            kp("hook", "The identity test has no hook and cannot be overridden.", &["is operator"]),
            kp("pymalloc", "Small allocations come from pools carved out of larger arenas.", &["pymalloc", "arena*"]),
        ];
        let r = Rubric { reference: "", testing: "", key_points: &k, red_flags: &[] };
        let met = "Small objects come from pymalloc, which carves arenas out of pools.";
        let verdict = |a: &str, i: usize| assess(&r, &format!("{met} {a}")).key_points[i].verdict;
        assert_eq!(verdict("The memory is freed, and the count drops to zero.", 0), Verdict::Met);
        assert_eq!(verdict("The memory is not freed, and the count never drops to zero.", 0), Verdict::Missed);
        // A point that denies something is restated by a sentence that denies it too.
        assert_eq!(verdict("Identity has no hook, so a class cannot override it.", 1), Verdict::Partial);
    }

    #[test]
    fn a_red_flag_caps_the_score() {
        let s = score_of(&format!("{STRONG} Really Python has no reference counting, it is all tracing."));
        assert_eq!(s, 30);
    }
}
