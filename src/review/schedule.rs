//! Spaced repetition driven by the rubric grade: every graded main answer is a review of
//! its question for FSRS, rated from its score, and the schedule is replayed from the
//! transcripts each time (nothing else is stored).
//!
//! Score to rating: below 40 is *again*, 40 to 64 *hard*, 65 to 84 *good*, 85 and up
//! *easy*. A skipped question counts as *again*; an ungraded answer is not a review.
//! Help caps the rating, so a helped answer comes back soon however it scored: after the
//! reference answer (`:ref`) it is *again*, after one or more hints at most *hard*.
//! Desired retention is 0.9, FSRS's default.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset};
use fsrs::{FSRS, MemoryState};

use super::index::Summary;

/// The retention FSRS schedules for.
pub const DESIRED_RETENTION: f32 = 0.9;

/// FSRS's four ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Rating {
    /// Forgotten.
    Again,
    /// Recalled with difficulty.
    Hard,
    /// Recalled.
    Good,
    /// Recalled easily.
    Easy,
}

impl Rating {
    /// The rating's name, as FSRS calls it.
    pub fn label(self) -> &'static str {
        match self {
            Rating::Again => "again",
            Rating::Hard => "hard",
            Rating::Good => "good",
            Rating::Easy => "easy",
        }
    }

    /// The rating an answer scoring `score` earns after `help`: its score's, capped by
    /// [`Help::ceiling`].
    pub fn of_answer(score: u8, help: Help) -> Rating {
        let by_score = Rating::from_score(score);
        help.ceiling().map_or(by_score, |cap| by_score.min(cap))
    }

    /// The rating a rubric score earns.
    pub fn from_score(score: u8) -> Rating {
        match score {
            0..40 => Rating::Again,
            40..65 => Rating::Hard,
            65..85 => Rating::Good,
            _ => Rating::Easy,
        }
    }
}

/// The help a user had before answering, as the transcript records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Help {
    /// Hints shown (`:hint`).
    pub hints: usize,
    /// Whether the reference answer was shown (`:ref`).
    pub reference_shown: bool,
}

impl Help {
    /// The best rating an answer given after this help can earn: *again* after the
    /// reference (it may be pasted back word for word), *hard* after a hint; `None`
    /// without help.
    pub fn ceiling(self) -> Option<Rating> {
        if self.reference_shown {
            Some(Rating::Again)
        } else if self.hints > 0 {
            Some(Rating::Hard)
        } else {
            None
        }
    }
}

/// Where one question stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Item {
    /// The question.
    pub question_id: String,
    /// How many reviews (graded or skipped main answers).
    pub reviews: usize,
    /// The latest review's score (`None` when it was a skip).
    pub last_score: Option<u8>,
    /// The latest review's rating.
    pub last_rating: Rating,
    /// The help had before the latest review's answer (none for a skip).
    pub last_help: Help,
    /// When it was first reviewed (a new question's first day counts towards the day's
    /// new questions).
    pub first_review: DateTime<FixedOffset>,
    /// When it was last reviewed.
    pub last_review: DateTime<FixedOffset>,
    /// When it is due again.
    pub due: DateTime<FixedOffset>,
    /// FSRS stability, in days: how long until recall falls to 90%.
    pub stability: f32,
    /// FSRS difficulty, 1 to 10: how slowly stability grows.
    pub difficulty: f32,
}

impl Item {
    /// The FSRS memory state this item's reviews left.
    pub fn memory(&self) -> MemoryState {
        MemoryState { stability: self.stability, difficulty: self.difficulty }
    }
}

/// FSRS with its default parameters, which every schedule and forecast uses.
pub fn fsrs() -> FSRS {
    FSRS::new(&[]).expect("FSRS's default parameters are valid")
}

/// The memory state after one review rated `rating`, `days` after the previous one
/// (`state` is `None` for a first review), and the interval FSRS schedules next, in days;
/// `None` if FSRS refuses the state.
pub fn review(fsrs: &FSRS, state: Option<MemoryState>, days: u32, rating: Rating) -> Option<(MemoryState, f32)> {
    let next = fsrs.next_states(state, DESIRED_RETENTION, days).ok()?;
    let chosen = match rating {
        Rating::Again => next.again,
        Rating::Hard => next.hard,
        Rating::Good => next.good,
        Rating::Easy => next.easy,
    };
    Some((chosen.memory, chosen.interval))
}

/// One review of one question.
struct Review {
    at: DateTime<FixedOffset>,
    score: Option<u8>,
    rating: Rating,
    help: Help,
}

/// The schedule of every question reviewed in `sessions`.
pub fn schedule(sessions: &[Summary]) -> Vec<Item> {
    let mut reviews: BTreeMap<&str, Vec<Review>> = BTreeMap::new();
    for s in sessions {
        for t in s.turns.iter().filter(|t| !t.follow_up) {
            let at = t.answered_at.unwrap_or(s.started_at);
            let review = match (t.skipped, t.score) {
                (true, _) => Review { at, score: None, rating: Rating::Again, help: Help::default() },
                (false, Some(score)) => {
                    Review { at, score: Some(score), rating: Rating::of_answer(score, t.help), help: t.help }
                }
                (false, None) => continue,
            };
            reviews.entry(&t.question_id).or_default().push(review);
        }
    }
    let fsrs = fsrs();
    reviews
        .into_iter()
        .filter_map(|(id, mut rs)| {
            rs.sort_by_key(|r| r.at);
            let mut state: Option<MemoryState> = None;
            let mut last: Option<DateTime<FixedOffset>> = None;
            let mut interval = 0.0f32;
            for r in &rs {
                let days = last.map_or(0, |l| (r.at - l).num_days().max(0) as u32);
                let (memory, next) = review(&fsrs, state, days, r.rating)?;
                state = Some(memory);
                interval = next;
                last = Some(r.at);
            }
            let last_review = last?;
            let latest = rs.last()?;
            let first_review = rs.first()?.at;
            // Whole days, at least one: practising the same question twice in a day teaches
            // little.
            let days = interval.round().max(1.0) as i64;
            Some(Item {
                question_id: id.to_string(),
                reviews: rs.len(),
                last_score: latest.score,
                last_rating: latest.rating,
                last_help: latest.help,
                first_review,
                last_review,
                due: last_review + Duration::days(days),
                stability: state.map_or(0.0, |s| s.stability),
                difficulty: state.map_or(0.0, |s| s.difficulty),
            })
        })
        .collect()
}

/// The items due at `now`, weakest first: lowest last score (a skip counts as 0), then
/// the most overdue.
pub fn due(items: &[Item], now: DateTime<FixedOffset>) -> Vec<&Item> {
    let mut v: Vec<&Item> = items.iter().filter(|i| i.due <= now).collect();
    v.sort_by(|a, b| a.last_score.unwrap_or(0).cmp(&b.last_score.unwrap_or(0)).then(a.due.cmp(&b.due)));
    v
}

/// What `grill practice --due` asks today: due questions first, then never-seen ones
/// at a steady rate, as Anki introduces new cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Today {
    /// How many questions of the pool are due.
    pub due_total: usize,
    /// The due ones asked, weakest first.
    pub due: Vec<String>,
    /// The never-seen ones asked after them, in the pool's order.
    pub new: Vec<String>,
    /// Questions (of any topic) first reviewed today, before this session.
    pub new_so_far: usize,
    /// Never-seen questions in the pool.
    pub unseen: usize,
    /// The pool's question due soonest after now, and when.
    pub next: Option<(String, DateTime<FixedOffset>)>,
}

/// Today's questions from `pool` (ids, in the order new ones come in), at most `count`:
/// the due ones weakest first, then never-seen ones while fewer than `new_per_day` have
/// had their first review today. A day is a calendar day in `now`'s offset.
pub fn today(items: &[Item], pool: &[&str], now: DateTime<FixedOffset>, count: usize, new_per_day: usize) -> Today {
    let in_pool: Vec<Item> = items.iter().filter(|i| pool.contains(&i.question_id.as_str())).cloned().collect();
    let due_now = due(&in_pool, now);
    let due: Vec<String> = due_now.iter().take(count).map(|i| i.question_id.clone()).collect();
    let day = now.date_naive();
    // Anki's rule: the day's allowance counts every question first seen today, whatever
    // the filters of the session that saw it.
    let new_so_far = items.iter().filter(|i| i.first_review.with_timezone(now.offset()).date_naive() == day).count();
    let unseen: Vec<&str> = pool.iter().copied().filter(|id| !items.iter().any(|i| i.question_id == *id)).collect();
    let room = count.saturating_sub(due.len()).min(new_per_day.saturating_sub(new_so_far));
    let next = in_pool.iter().filter(|i| i.due > now).min_by_key(|i| i.due).map(|i| (i.question_id.clone(), i.due));
    Today {
        due_total: due_now.len(),
        due,
        new: unseen.iter().take(room).map(|id| id.to_string()).collect(),
        new_so_far,
        unseen: unseen.len(),
        next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::index::TurnSummary;
    use crate::transcript::Status;

    fn at(day: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-01-01T10:00:00+00:00").unwrap() + Duration::days(day)
    }

    fn session(day: i64, q: &str, score: Option<u8>, skipped: bool) -> Summary {
        Summary {
            id: format!("s{day}{q}"),
            started_at: at(day),
            status: Status::Completed,
            mode: crate::transcript::SessionMode::Practice,
            plan: vec![q.into()],
            turns: vec![TurnSummary {
                question_id: q.into(),
                follow_up: false,
                answered_at: (!skipped).then(|| at(day)),
                skipped,
                score,
                pending: false,
                missed: vec![],
                partial: vec![],
                help: Help::default(),
                confidence: None,
                grader: score.map(|_| "offline".into()),
            }],
        }
    }

    #[test]
    fn ratings_follow_the_documented_bands() {
        assert_eq!(Rating::from_score(0), Rating::Again);
        assert_eq!(Rating::from_score(39), Rating::Again);
        assert_eq!(Rating::from_score(40), Rating::Hard);
        assert_eq!(Rating::from_score(65), Rating::Good);
        assert_eq!(Rating::from_score(85), Rating::Easy);
        assert_eq!(Rating::from_score(100), Rating::Easy);
    }

    #[test]
    fn a_weak_answer_comes_back_sooner_than_a_strong_one() {
        let items = schedule(&[session(0, "weak", Some(20), false), session(0, "strong", Some(95), false)]);
        let weak = items.iter().find(|i| i.question_id == "weak").unwrap();
        let strong = items.iter().find(|i| i.question_id == "strong").unwrap();
        assert!(weak.due < strong.due, "{:?} vs {:?}", weak.due, strong.due);
        assert_eq!(weak.due, at(1), "again: tomorrow");
        // Due lists put the weakest first.
        let due = due(&items, at(365));
        assert_eq!(due.iter().map(|i| i.question_id.as_str()).collect::<Vec<_>>(), ["weak", "strong"]);
    }

    #[test]
    fn good_reviews_stretch_the_interval_and_ungraded_answers_do_not_count() {
        let once = schedule(&[session(0, "q", Some(75), false)]);
        let twice = schedule(&[
            session(0, "q", Some(75), false),
            session(3, "q", Some(75), false),
            session(4, "q", None, false),
        ]);
        assert_eq!(twice[0].reviews, 2);
        assert!(twice[0].due - twice[0].last_review > once[0].due - once[0].last_review);
        let skipped = schedule(&[session(0, "q", None, true)]);
        assert_eq!(skipped[0].last_rating, Rating::Again);
    }

    #[test]
    fn the_reference_makes_any_answer_again_and_a_hint_caps_it_at_hard() {
        let reference = Help { hints: 0, reference_shown: true };
        let hinted = Help { hints: 2, reference_shown: false };
        let both = Help { hints: 1, reference_shown: true };
        assert_eq!(Rating::of_answer(100, reference), Rating::Again);
        assert_eq!(Rating::of_answer(100, both), Rating::Again);
        assert_eq!(Rating::of_answer(100, hinted), Rating::Hard);
        assert_eq!(Rating::of_answer(70, Help { hints: 1, reference_shown: false }), Rating::Hard);
        // A cap never raises: a weak answer after a hint is still again.
        assert_eq!(Rating::of_answer(20, hinted), Rating::Again);
        assert_eq!(Rating::of_answer(50, hinted), Rating::Hard);
        // Without help the score decides.
        assert_eq!(Rating::of_answer(100, Help::default()), Rating::Easy);
        assert_eq!(Help::default().ceiling(), None);
    }

    #[test]
    fn a_pasted_reference_comes_back_tomorrow() {
        let mut pasted = session(0, "q", Some(100), false);
        pasted.turns[0].help = Help { hints: 0, reference_shown: true };
        let items = schedule(&[pasted]);
        assert_eq!(items[0].last_rating, Rating::Again);
        assert!(items[0].last_help.reference_shown);
        assert_eq!(items[0].due, at(1));
        let mut hinted = session(0, "q", Some(100), false);
        hinted.turns[0].help = Help { hints: 2, reference_shown: false };
        let items = schedule(&[hinted]);
        assert_eq!(items[0].last_rating, Rating::Hard);
        assert_eq!(items[0].last_help.hints, 2);
    }

    #[test]
    fn today_asks_the_due_first_then_new_ones_within_the_day_s_allowance() {
        let items = schedule(&[
            session(0, "weak", Some(20), false),
            session(0, "strong", Some(95), false),
            session(30, "fresh", Some(75), false),
        ]);
        let pool = ["weak", "strong", "fresh", "n1", "n2", "n3"];
        // Day 30: weak and strong are due; fresh was first seen today, so one new of two.
        let t = today(&items, &pool, at(30), 5, 2);
        assert_eq!(t.due_total, 2);
        assert_eq!(t.due, ["weak", "strong"]);
        assert_eq!((t.new_so_far, t.unseen), (1, 3));
        assert_eq!(t.new, ["n1"]);
        // The count comes first: the weakest due one only, and no room for new ones.
        let t = today(&items, &pool, at(30), 1, 2);
        assert_eq!((t.due.as_slice(), t.new.len()), (&["weak".to_string()][..], 0));
        // The next day the allowance is whole again.
        let t = today(&items, &pool, at(31), 5, 2);
        assert_eq!(t.new_so_far, 0);
        assert_eq!(t.new, ["n1", "n2"]);
        let t = today(&items, &["fresh", "n1"], at(30) + Duration::hours(1), 5, 0);
        assert!(t.due.is_empty() && t.new.is_empty());
        assert_eq!(t.next.map(|n| n.0), Some("fresh".into()));
    }
}
