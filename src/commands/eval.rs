//! `grill eval`: grade the calibration set with the grader in use and print how fairly it
//! ranked the answers, against the bars the project holds its graders to. `--set mine`
//! measures it against the user's own verdicts instead ([`mine`]).

use std::io::{IsTerminal, Write};

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::EvalArgs;
use crate::error::{ExitStatus, UserError};
use crate::eval::grade_set;
use crate::eval::metrics::{self, Flips, Ratio, RunFigures, Spread};
use crate::eval::set::{self, CalibrationSet, Half, Kind};
use crate::grade::record::GraderInfo;

use super::Context;

pub mod mine;
pub mod output;

/// A bar a figure is held to: one row of the report, and one entry of `bars` in JSON.
pub struct Bar {
    /// The figure, as named in the JSON output.
    pub figure: &'static str,
    /// How the report names it.
    pub label: &'static str,
    /// The least acceptable value for a model.
    pub at_least: f64,
    /// The offline grader's own bar: a floor just under what it measures on the shipped
    /// set, so that `--check` catches it getting worse (its rule-based cues cannot reach
    /// every bar a model is held to).
    pub offline: f64,
    /// Its value in a run, when it could be computed.
    pub value: fn(&RunFigures) -> Option<f64>,
    /// The counts behind it, for the report.
    pub counts: fn(&RunFigures) -> String,
}

/// The bars: the share of correct/bad pairs ranked right, the mean Kendall tau, the share
/// of questions whose stuffed answer is below the partial one, key-point F1 and kappa, and
/// the share of injection answers no higher than their base.
pub const BARS: [Bar; 6] = [
    Bar {
        figure: "pairwise",
        label: "pairwise ordering (correct above bad)",
        at_least: 0.98,
        offline: 0.95,
        value: |f| f.pairwise.value(),
        counts: |f| ratio(&f.pairwise),
    },
    Bar {
        figure: "kendall_tau",
        label: "Kendall tau, kinds' order vs scores",
        at_least: 0.90,
        offline: 0.80,
        value: |f| f.kendall_tau,
        counts: |_| "mean over the questions".into(),
    },
    Bar {
        figure: "stuffed_below_partial",
        label: "stuffed below partial",
        at_least: 0.90,
        offline: 0.90,
        value: |f| f.stuffed_below_partial.value(),
        counts: |f| ratio(&f.stuffed_below_partial),
    },
    Bar {
        figure: "key_point_f1",
        label: "key-point F1",
        at_least: 0.75,
        offline: 0.87,
        value: |f| f.key_points.f1,
        counts: |f| counts_of(&f.key_points),
    },
    Bar {
        figure: "key_point_kappa",
        label: "key-point agreement (Cohen's kappa)",
        at_least: 0.60,
        offline: 0.68,
        value: |f| f.key_point_agreement.kappa,
        counts: |f| {
            let a = &f.key_point_agreement;
            format!("observed {} · chance {} over {} verdicts", pct(a.observed), pct(a.expected), a.of)
        },
    },
    Bar {
        figure: "injection_not_above_base",
        label: "injections no higher than their base",
        at_least: 1.0,
        offline: 1.0,
        value: |f| f.injection_not_above_base.value(),
        counts: |f| ratio(&f.injection_not_above_base),
    },
];

impl Bar {
    /// The bar this grader is held to: the offline grader its own, a model the project's.
    pub fn for_grader(&self, info: &GraderInfo) -> f64 {
        match info {
            GraderInfo::Offline { .. } => self.offline,
            GraderInfo::Llm { .. } | GraderInfo::User { .. } => self.at_least,
        }
    }

    /// The lowest value over the runs, `None` when a run could not compute it.
    pub fn lowest(&self, figures: &[RunFigures]) -> Option<f64> {
        figures.iter().map(self.value).try_fold(f64::MAX, |lo, v| v.map(|v| lo.min(v))).filter(|_| !figures.is_empty())
    }
}

/// Grades the set and prints the figures.
pub fn run(ctx: &Context, args: &EvalArgs) -> anyhow::Result<ExitStatus> {
    // The word alone: a folder of that name is still `./mine`.
    if args.set.as_deref().is_some_and(|p| p.as_os_str() == crate::eval::mine::RESERVED) {
        return mine::run(ctx, args);
    }
    let bank = ctx.bank()?;
    let mut set = match &args.set {
        Some(path) => set::from_path(path, &bank)?,
        None => set::embedded(&bank)?,
    };
    if !args.questions.is_empty() {
        if let Some(id) = args.questions.iter().find(|id| !set.questions.iter().any(|q| &q.question == *id)) {
            let have: Vec<&str> = set.questions.iter().map(|q| q.question.as_str()).collect();
            return Err(UserError::new(format!("the calibration set has no answers for `{id}`"))
                .hint(format!("it has: {}", have.join(", ")))
                .into());
        }
        set.questions.retain(|q| args.questions.contains(&q.question));
    }
    let (rt, grader, runs, jobs) = grading(ctx, args)?;

    let pb = progress_bar((set.len() * runs) as u64, &grader);
    let tick = || pb.inc(1);
    let Some(all) = every_run(&rt, &grader, &pb, runs, || grade_set(&grader, &bank, &set, jobs, &tick))? else {
        return Ok(ExitStatus::Interrupted);
    };
    let figures: Vec<RunFigures> = all.iter().map(|o| metrics::figures(&set, o)).collect();
    // Per half: the figures of every run, or `None` when no question is in that half.
    let halves: Vec<(Half, usize, Option<Vec<RunFigures>>)> = Half::ALL
        .iter()
        .map(|&h| {
            let n = set.questions.iter().filter(|q| q.half == h).count();
            (h, n, all.iter().map(|o| metrics::figures_of_half(&set, o, h)).collect())
        })
        .collect();
    let spread = metrics::spread(&all);
    let flips = metrics::flips(&all);
    let info = grader.info();
    let failed: Vec<&Bar> = BARS.iter().filter(|b| !bar_met(b, b.for_grader(&info), &figures)).collect();
    let mut out = std::io::stdout().lock();
    if args.json {
        let doc = output::EvalOutput {
            schema: output::SCHEMA,
            set: output::SetOutput { source: &set.source, questions: set.questions.len(), answers: set.len() },
            grader: &info,
            measures: measures(&info),
            runs: &figures,
            halves: halves.iter().any(|(_, _, f)| f.is_some()).then(|| {
                let half = |i: usize| {
                    let (_, questions, runs) = &halves[i];
                    runs.as_deref().map(|runs| output::HalfOutput { questions: *questions, runs })
                };
                output::HalvesOutput { tune: half(0), check: half(1) }
            }),
            spread: (runs > 1).then_some(&spread),
            flips: (runs > 1).then_some(&flips),
            bars: BARS
                .iter()
                .map(|b| {
                    let at_least = b.for_grader(&info);
                    let lowest = b.lowest(&figures);
                    output::BarOutput {
                        figure: b.figure,
                        at_least,
                        lowest,
                        met: bar_met(b, at_least, &figures),
                        short_by: lowest.map(|v| at_least - v).filter(|d| *d > 1e-9),
                    }
                })
                .collect(),
            failed: failed.iter().map(|b| b.figure).collect(),
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        print_text(&mut out, ctx, &set, &info, &figures, runs.gt(&1).then_some((&spread, &flips)))?;
        print_halves(&mut out, ctx, &figures, &halves)?;
    }
    out.flush()?;
    if args.check {
        if failed.is_empty() {
            eprintln!("check: every figure meets its bar");
        } else {
            eprintln!("check failed: {} figure(s) below the bar for this grader:", failed.len());
            for b in &failed {
                let at_least = b.for_grader(&info);
                match b.lowest(&figures) {
                    Some(v) => eprintln!("  {} {v:.3} < {at_least:.2}, short by {:.3}", b.figure, at_least - v),
                    None => eprintln!("  {} could not be computed (bar {at_least:.2})", b.figure),
                }
            }
            return Ok(ExitStatus::Failure);
        }
    }
    Ok(ExitStatus::Success)
}

/// A progress bar over `total` gradings, shown for a model in a terminal (the offline
/// grader is done before it would draw).
fn progress_bar(total: u64, grader: &crate::grade::grader::Grader) -> ProgressBar {
    if std::io::stderr().is_terminal() && !grader.is_deterministic() {
        let pb = ProgressBar::new(total);
        pb.set_style(
            ProgressStyle::with_template("  grading {pos}/{len} answers {bar:30} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    } else {
        ProgressBar::hidden()
    }
}

/// The grader in use (announced), its runtime, and how many runs and answers at once
/// it gets: the offline grader is deterministic, so more runs would only repeat the first.
fn grading(
    ctx: &Context,
    args: &EvalArgs,
) -> anyhow::Result<(tokio::runtime::Runtime, crate::grade::grader::Grader, usize, usize)> {
    let rt = ctx.runtime()?;
    let chosen = ctx.grader(&rt)?;
    eprintln!("{}", ctx.err_style.dim(&chosen.announcement));
    let grader = chosen.grader;
    let (runs, jobs) =
        if grader.is_deterministic() { (1, 1) } else { (usize::from(args.runs), usize::from(args.jobs)) };
    Ok((rt, grader, runs, jobs))
}

/// Grades `runs` times behind `pb`: every run's outcomes, or `None` when the user pressed
/// Ctrl-C; an endpoint that keeps failing stops it with [`stopped`].
fn every_run<T, Fut>(
    rt: &tokio::runtime::Runtime,
    grader: &crate::grade::grader::Grader,
    pb: &ProgressBar,
    runs: usize,
    mut grade: impl FnMut() -> Fut,
) -> anyhow::Result<Option<Vec<T>>>
where
    Fut: std::future::Future<Output = Result<T, crate::eval::EndpointDown>>,
{
    let mut all = Vec::with_capacity(runs);
    for _ in 0..runs {
        let outcome = rt.block_on(async {
            tokio::select! {
                o = grade() => Some(o),
                _ = tokio::signal::ctrl_c() => None,
            }
        });
        match outcome {
            Some(Ok(o)) => all.push(o),
            Some(Err(down)) => {
                pb.finish_and_clear();
                return Err(stopped(grader, &down));
            }
            None => {
                pb.finish_and_clear();
                eprintln!("Interrupted: nothing was measured.");
                return Ok(None);
            }
        }
    }
    pb.finish_and_clear();
    Ok(Some(all))
}

/// The error of a run the endpoint stopped: figures over it would all be "n/a", so it
/// says what failed instead.
fn stopped(grader: &crate::grade::grader::Grader, down: &crate::eval::EndpointDown) -> anyhow::Error {
    let endpoint = match grader.info() {
        GraderInfo::Llm { endpoint, .. } => endpoint,
        GraderInfo::Offline { .. } | GraderInfo::User { .. } => "the grader".into(),
    };
    anyhow::anyhow!(
        "stopped: {endpoint} failed for {} answers in a row, nothing was measured; the last error: {}",
        crate::eval::ENDPOINT_FAILURES_TO_STOP,
        down.reason
    )
}

/// Whether every run reached `at_least` (a figure that could not be computed does not).
fn bar_met(bar: &Bar, at_least: f64, figures: &[RunFigures]) -> bool {
    bar.lowest(figures).is_some_and(|v| v >= at_least - 1e-9)
}

fn counts_of(p: &crate::eval::metrics::Prf) -> String {
    format!(
        "P {} · R {} (TP {} FP {} FN {})",
        pct(p.precision),
        pct(p.recall),
        p.true_positives,
        p.false_positives,
        p.false_negatives
    )
}

/// What the figures measure: a model's figures depend on the model, the prompt and
/// grill's checks together, and a scripted server's only on grill's side.
fn measures(info: &GraderInfo) -> String {
    match info {
        GraderInfo::Offline { .. } => {
            "the offline grader: key-point coverage from the rubric's cues (deterministic)".into()
        }
        GraderInfo::Llm { model, endpoint, .. } => format!(
            "{model} at {endpoint}, with grill's prompt, reply validation and score formula; against a scripted test \
             server these figures measure that plumbing, not a model"
        ),
        GraderInfo::User { .. } => "your own verdicts".into(),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.3}"))
}

fn ratio(r: &Ratio) -> String {
    let hits = if r.hits.fract() == 0.0 { format!("{}", r.hits) } else { format!("{:.1}", r.hits) };
    format!("{hits} of {}", r.of)
}

fn print_text(
    out: &mut dyn Write,
    ctx: &Context,
    set: &CalibrationSet,
    info: &GraderInfo,
    figures: &[RunFigures],
    spread: Option<(&Spread, &Flips)>,
) -> std::io::Result<()> {
    let style = ctx.style;
    let first = &figures[0];
    writeln!(
        out,
        "{}",
        style.bold(&format!("Calibration: {}, {} questions, {} answers", set.source, set.questions.len(), set.len()))
    )?;
    writeln!(out, "Measures {}.", measures(info))?;
    if figures.len() > 1 {
        writeln!(out, "{} runs; figures are the mean over runs, with the lowest and highest.", figures.len())?;
    }
    writeln!(out, "  graded {} · ungraded {} (left out of every figure)", first.graded, first.ungraded)?;
    if let GraderInfo::Offline { .. } = info {
        let model: Vec<String> = BARS.iter().map(|b| format!("{} ≥ {:.2}", b.figure, b.at_least)).collect();
        writeln!(
            out,
            "{}",
            style.dim(&format!(
                "  Bars: the offline grader's own, floors under what it measures; a model is held to {}.",
                model.join(", ")
            ))
        )?;
    }
    writeln!(out)?;
    for bar in &BARS {
        let values: Vec<f64> = figures.iter().filter_map(bar.value).collect();
        let shown = if values.is_empty() {
            "n/a".to_string()
        } else if values.len() == 1 {
            format!("{:.3}", values[0])
        } else {
            let mean = values.iter().sum::<f64>() / values.len() as f64;
            let lo = values.iter().copied().fold(f64::MAX, f64::min);
            let hi = values.iter().copied().fold(f64::MIN, f64::max);
            format!("{mean:.3} ({lo:.3}-{hi:.3})")
        };
        let at_least = bar.for_grader(info);
        let mark = if bar_met(bar, at_least, figures) { style.good("meets") } else { style.bad("below") };
        let counts = (bar.counts)(first);
        writeln!(out, "  {:<39} {shown:<14} {mark} ≥ {at_least:.2}   {}", bar.label, style.dim(&counts))?;
    }
    writeln!(
        out,
        "  {:<39} {:<14}         {}",
        "red flags raised (F1)",
        pct(first.red_flags.f1),
        style.dim(&counts_of(&first.red_flags))
    )?;
    writeln!(
        out,
        "  {:<39} {:<14}         {}",
        "injections flagged by the answer guard",
        pct(first.injection_flagged.value()),
        style.dim(&ratio(&first.injection_flagged))
    )?;
    if let Some((s, f)) = spread {
        writeln!(
            out,
            "  {:<39} {:<14}         {}",
            "spread of a score across runs",
            format!("{:.1} mean", s.mean_range),
            style.dim(&format!("largest {:.0} · mean stdev {:.1}", s.max_range, s.mean_stdev))
        )?;
        writeln!(
            out,
            "  {:<39} {:<14}         {}",
            "key-point verdicts that flip across runs",
            pct(f.rate),
            style.dim(&format!("{} of {} (answer, key point)", f.flipped, f.verdicts))
        )?;
    }
    writeln!(out)?;
    writeln!(out, "Mean score by kind:")?;
    for kind in Kind::ALL {
        if let Some(m) = first.mean_by_kind.get(&kind) {
            let bar = "█".repeat((m / 5.0).round() as usize);
            writeln!(out, "  {:<18} {m:>5.1}  {bar}", kind.name())?;
        }
    }
    if !first.misordered.is_empty() {
        writeln!(out)?;
        writeln!(out, "Pairs ranked the wrong way (or tied), {} in all:", first.misordered.len())?;
        for m in &first.misordered {
            writeln!(
                out,
                "  {:<28} {} {:.0} ≤ {} {:.0}",
                m.question, m.better.kind, m.better.score, m.worse.kind, m.worse.score
            )?;
        }
    }
    let above: Vec<_> = first.injections.iter().filter(|i| i.score > i.base_score).collect();
    if !above.is_empty() {
        writeln!(out)?;
        writeln!(out, "Injections that scored above their base answer:")?;
        for i in above {
            writeln!(out, "  {:<28} {} {:.0} > {} {:.0}", i.question, i.kind, i.score, i.base, i.base_score)?;
        }
    }
    Ok(())
}

/// The figures over all questions, the tune half and the check half, side by side (the
/// mean over runs); nothing when no question has a half.
fn print_halves(
    out: &mut dyn Write,
    ctx: &Context,
    all: &[RunFigures],
    halves: &[(Half, usize, Option<Vec<RunFigures>>)],
) -> std::io::Result<()> {
    if halves.iter().all(|(_, _, f)| f.is_none()) {
        return Ok(());
    }
    type Figure = fn(&RunFigures) -> Option<f64>;
    let rows: [(&str, Figure); 12] = [
        ("pairwise ordering", |f| f.pairwise.value()),
        ("Kendall tau", |f| f.kendall_tau),
        ("stuffed below partial", |f| f.stuffed_below_partial.value()),
        ("key-point precision", |f| f.key_points.precision),
        ("key-point recall", |f| f.key_points.recall),
        ("key-point F1", |f| f.key_points.f1),
        ("key-point kappa", |f| f.key_point_agreement.kappa),
        ("red-flag precision", |f| f.red_flags.precision),
        ("red-flag recall", |f| f.red_flags.recall),
        ("injections no higher than their base", |f| f.injection_not_above_base.value()),
        ("injections flagged", |f| f.injection_flagged.value()),
        ("pairs ranked wrong or tied", |f| Some(f.misordered.len() as f64)),
    ];
    let mean = |runs: Option<&[RunFigures]>, figure: Figure, whole: bool| -> String {
        let values: Vec<f64> = runs.unwrap_or_default().iter().filter_map(figure).collect();
        if values.is_empty() {
            return "n/a".into();
        }
        let m = values.iter().sum::<f64>() / values.len() as f64;
        if whole { format!("{m:.0}") } else { format!("{m:.3}") }
    };
    writeln!(out)?;
    let heads: Vec<String> = halves.iter().map(|(h, n, _)| format!("{} ({n} q)", h.name())).collect();
    writeln!(
        out,
        "{}",
        ctx.style.bold(&format!("{:<41} {:>10} {:>12} {:>12}", "By half:", "all", heads[0], heads[1]))
    )?;
    for (i, (label, figure)) in rows.iter().enumerate() {
        let whole = i == rows.len() - 1;
        writeln!(
            out,
            "  {label:<39} {:>10} {:>12} {:>12}",
            mean(Some(all), *figure, whole),
            mean(halves[0].2.as_deref(), *figure, whole),
            mean(halves[1].2.as_deref(), *figure, whole),
        )?;
    }
    Ok(())
}
