//! `grill eval --set mine`: the grader in use measured against the user's own verdicts,
//! read from the transcripts folder. The cases and figures are `eval::mine`'s; this
//! module reads, grades and prints.

use std::io::Write;

use crate::cli::EvalArgs;
use crate::error::{ExitStatus, UserError};
use crate::eval::grade_answers;
use crate::eval::metrics::Ratio;
use crate::eval::mine::{self, MineFigures, MineSet, Overruled, PointMisses};
use crate::grade::record::GraderInfo;
use crate::review::index;
use crate::scrub::controls;
use crate::transcript::{Store, shown};

use super::{Context, counts_of, every_run, grading, measures, output, pct, progress_bar};

/// Rows of the table of key points the grader most often gets wrong.
pub const WRONG_MOST_ROWS: usize = 10;

/// What to say when there is nothing to measure on.
pub const NOTHING_YET: &str =
    "no answers with your own verdicts yet: confirm a grade after practice or run `grill review dispute`";

/// Grades the user's own set and prints the figures.
pub fn run(ctx: &Context, args: &EvalArgs) -> anyhow::Result<ExitStatus> {
    if args.check {
        return Err(UserError::new("`--check` holds a grader to the bars of the shipped set; `--set mine` has none")
            .hint("run `grill eval --check` for the bars, or `grill eval --set mine` without `--check`")
            .into());
    }
    let bank = ctx.bank()?;
    let store = Store::new(&ctx.settings.transcripts.value);
    let (listed, mut bad) = index::load(&store);
    let mut loaded = Vec::with_capacity(listed.len());
    for (path, _) in listed {
        match Store::load(&path) {
            Ok(t) => loaded.push((shown(&path), t)),
            Err(e) => bad.push(e),
        }
    }
    index::warn_skipped(&bad, &ctx.err_style);
    let source = format!("your own verdicts in {}", shown(store.dir()));
    let mut set = mine::from_transcripts(source, loaded.iter().map(|(p, t)| (p.clone(), t)), &bank);
    if set.cases.is_empty() {
        return Err(UserError::new(NOTHING_YET).into());
    }
    if !args.questions.is_empty() {
        if let Some(id) = args.questions.iter().find(|id| !set.cases.iter().any(|c| c.question() == id.as_str())) {
            let mut have: Vec<&str> = set.cases.iter().map(|c| c.question()).collect();
            have.sort_unstable();
            have.dedup();
            return Err(UserError::new(format!("none of your answers with your own verdicts is to `{id}`"))
                .hint(format!("they are to: {}", have.join(", ")))
                .into());
        }
        set.cases.retain(|c| args.questions.iter().any(|id| id == c.question()));
    }
    let (rt, grader, runs, jobs) = grading(ctx, args)?;
    let work: Vec<_> = set.cases.iter().map(|c| (c.prompt(&bank), c.text.as_str())).collect();
    let pb = progress_bar((work.len() * runs) as u64, &grader);
    let tick = || pb.inc(1);
    let Some(all) = every_run(&rt, &grader, &pb, runs, || grade_answers(&grader, &work, jobs, &tick))? else {
        return Ok(ExitStatus::Interrupted);
    };
    let figures: Vec<MineFigures> = all.iter().map(|o| mine::figures(&set.cases, o)).collect();
    let mut wrong = mine::wrong_most(&set.cases, &all);
    wrong.truncate(WRONG_MOST_ROWS);
    let overruled = mine::overruled(&set.cases);
    let info = grader.info();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = output::MineOutput {
            schema: output::MINE_SCHEMA,
            set: output::MineSetOutput {
                source: &set.source,
                sessions: set.sessions(),
                answers: set.cases.len(),
                left_out: &set.left_out,
            },
            grader: &info,
            measures: measures(&info),
            runs: &figures,
            wrong_most: &wrong,
            overruled: &overruled,
            cases: set
                .cases
                .iter()
                .enumerate()
                .map(|(i, c)| output::MineCaseOutput {
                    session: &c.session,
                    file: &c.file,
                    turn: c.turn,
                    question: c.question(),
                    follow_up: c.asked.follow_up_id.as_deref(),
                    score: c.score,
                    labels: c
                        .labels
                        .iter()
                        .map(|(id, verdict)| output::PointOutput { id, verdict: *verdict })
                        .collect(),
                    reviewed: c.reviewed.as_ref().map(|r| r.index),
                    graded: all.iter().filter_map(|run| run.get(i)).map(output::GradedOutput::from).collect(),
                })
                .collect(),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        print_text(&mut out, ctx, &set, &info, &figures, &wrong, &overruled)?;
    }
    out.flush()?;
    Ok(if bad.is_empty() { ExitStatus::Success } else { ExitStatus::Error })
}

/// A figure over the runs: its value, or the mean with the lowest and highest.
fn over_runs(figures: &[MineFigures], value: impl Fn(&MineFigures) -> Option<f64>, sign: bool) -> String {
    let values: Vec<f64> = figures.iter().filter_map(value).collect();
    let shown = |v: f64| if sign { format!("{v:+.1}") } else { format!("{v:.3}") };
    match values.as_slice() {
        [] => "n/a".into(),
        [one] => shown(*one),
        many => {
            let mean = many.iter().sum::<f64>() / many.len() as f64;
            let lo = many.iter().copied().fold(f64::MAX, f64::min);
            let hi = many.iter().copied().fold(f64::MIN, f64::max);
            format!("{} ({}-{})", shown(mean), shown(lo), shown(hi))
        }
    }
}

fn pairs(r: &Ratio) -> String {
    let hits = if r.hits.fract() == 0.0 { format!("{}", r.hits) } else { format!("{:.1}", r.hits) };
    format!("{hits} of {} pairs you scored apart", r.of)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn print_text(
    out: &mut dyn Write,
    ctx: &Context,
    set: &MineSet,
    info: &GraderInfo,
    figures: &[MineFigures],
    wrong: &[PointMisses],
    overruled: &[Overruled],
) -> std::io::Result<()> {
    let style = ctx.style;
    let first = &figures[0];
    let heading = format!(
        "Calibration: {}, {} from {}",
        controls(&set.source),
        plural(set.cases.len(), "answer", "answers"),
        plural(set.sessions(), "session", "sessions")
    );
    writeln!(out, "{}", style.bold(&heading))?;
    writeln!(out, "Measures {}.", measures(info))?;
    if figures.len() > 1 {
        writeln!(out, "{} runs; figures are the mean over runs, with the lowest and highest.", figures.len())?;
    }
    writeln!(out, "  graded {} · ungraded {} (left out of every figure)", first.graded, first.ungraded)?;
    if !set.left_out.is_empty() {
        let n: usize = set.left_out.iter().map(|l| l.answers).sum();
        let ids: Vec<String> = set.left_out.iter().map(|l| controls(&l.question).into_owned()).collect();
        let what = if n == 1 { "answer left out: its question is" } else { "answers left out: their question is" };
        writeln!(out, "  {n} {what} no longer in the bank ({})", ids.join(", "))?;
    }
    writeln!(out)?;
    let a = &first.key_point_agreement;
    let rows: [(&str, String, String); 5] = [
        (
            "key-point agreement (Cohen's kappa)",
            over_runs(figures, |f| f.key_point_agreement.kappa, false),
            format!("observed {} · chance {} over {} verdicts", pct(a.observed), pct(a.expected), a.of),
        ),
        ("key-point F1", over_runs(figures, |f| f.key_points.f1, false), counts_of(&first.key_points)),
        ("pairwise ordering against yours", over_runs(figures, |f| f.pairwise.value(), false), pairs(&first.pairwise)),
        ("Kendall tau, your scores vs its", over_runs(figures, |f| f.kendall_tau, false), String::new()),
        (
            "mean score difference (its - yours)",
            over_runs(figures, |f| f.mean_difference, true),
            "above 0: it gives more than you".into(),
        ),
    ];
    for (label, value, counts) in rows {
        if counts.is_empty() {
            writeln!(out, "  {label:<39} {value}")?;
        } else {
            writeln!(out, "  {label:<39} {value:<14} {}", style.dim(&counts))?;
        }
    }
    writeln!(out)?;
    let over = if figures.len() > 1 { format!(", over {} runs", figures.len()) } else { String::new() };
    if wrong.is_empty() {
        writeln!(out, "Key points this grader most often gets wrong for you: none{over}, every verdict was yours.")?;
    } else {
        writeln!(out, "Key points this grader most often gets wrong for you{over}:")?;
        let q: Vec<String> = wrong.iter().map(|m| controls(&m.question).into_owned()).collect();
        let k: Vec<String> = wrong.iter().map(|m| controls(&m.key_point).into_owned()).collect();
        let qw = q.iter().map(|s| s.chars().count()).chain([8]).max().unwrap_or(8);
        let kw = k.iter().map(|s| s.chars().count()).chain([9]).max().unwrap_or(9);
        writeln!(
            out,
            "  {}",
            style.dim(&format!(
                "{:<qw$}  {:<kw$}  {:<9}  it gave more / less than you",
                "question", "key point", "wrong"
            ))
        )?;
        for ((m, q), k) in wrong.iter().zip(&q).zip(&k) {
            let times = format!("{} of {}", m.wrong, m.of);
            writeln!(out, "  {q:<qw$}  {k:<kw$}  {times:<9}  {} / {}", m.higher, m.lower)?;
        }
    }
    if !overruled.is_empty() {
        writeln!(out)?;
        writeln!(out, "The grades you reviewed, against your word on them:")?;
        for o in overruled {
            let a = &o.key_point_agreement;
            writeln!(
                out,
                "  {}: {}, overruled on {} · {} of {} verdicts changed · kappa {}",
                controls(&o.grader.to_string()),
                plural(o.answers, "answer", "answers"),
                o.overruled,
                o.changed,
                a.of,
                pct(a.kappa)
            )?;
        }
    }
    Ok(())
}
