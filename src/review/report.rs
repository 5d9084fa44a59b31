//! The progress page as plain values: every figure `grill report` draws, and the
//! coordinates of its charts, built from the index, the statistics and the schedule. The
//! shell only fills a template with it, so what the page says is tested here on literals.
//!
//! Every text taken from a transcript or the bank is cleaned of control characters and
//! capped here; the template escapes it. Lists are capped so the page stays small over
//! ten thousand sessions.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Duration, FixedOffset};
use serde::Serialize;

use super::forecast::Forecast;
use super::index::{OFFLINE, Summary, TurnSummary, USER};
use super::schedule::Item;
use super::stats::Stats;
use crate::bank::Bank;

/// The newest points drawn per topic (the trend is over all of them).
pub const POINTS_PER_TOPIC: usize = 200;
/// Key points listed in the grid, weakest first.
pub const GRID_ROWS: usize = 150;
/// Sessions listed, newest first.
pub const SESSIONS: usize = 50;
/// Sessions named beside a key point that was missed, newest first.
pub const MISSED_IN: usize = 5;
/// Days of reviews charted, today first.
pub const DAYS: usize = 30;
/// Topics told apart by colour and dash in the chart; more reuse them.
pub const LINE_STYLES: usize = 8;

/// The score chart's drawing area, in SVG units (the chart scales to the page's width).
const CHART_W: f64 = 640.0;
const CHART_H: f64 = 240.0;
const LEFT: f64 = 34.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 24.0;
/// The due chart's.
const DUE_H: f64 = 120.0;
const DUE_BOTTOM: f64 = 20.0;

/// What the page is built from.
pub struct Inputs<'a> {
    /// The sessions counted (already limited to `--since`), oldest first.
    pub sessions: &'a [Summary],
    /// The bank, for topics and key points.
    pub bank: &'a Bank,
    /// `stats::compute` over `sessions`, for `topic`.
    pub stats: &'a Stats,
    /// The review schedule, limited to `topic`.
    pub items: &'a [Item],
    /// The forecast for the interview day, when one is set.
    pub forecast: Option<&'a Forecast>,
    /// Why there is no forecast, when a day is set but cannot be forecast.
    pub no_forecast: Option<String>,
    /// Only this topic.
    pub topic: Option<&'a str>,
    /// Only sessions started on or after this day.
    pub since: Option<chrono::NaiveDate>,
    /// Transcript files that could not be read.
    pub skipped: usize,
    /// The time now.
    pub now: DateTime<FixedOffset>,
}

/// The whole page.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReportView {
    /// When it was built, `YYYY-MM-DD HH:MM`.
    pub generated: String,
    /// What it covers: "all topics, every session" or narrower.
    pub scope: String,
    /// Sessions with a graded answer in scope (as `grill stats` counts them).
    pub sessions_counted: usize,
    /// Graded answers in scope, follow-ups included.
    pub answers: usize,
    /// Files that could not be read (so every figure is partial).
    pub skipped: usize,
    /// Score over time.
    pub chart: ScoreChart,
    /// Per topic: the figures beside the chart.
    pub topics: Vec<TopicRow>,
    /// The latest verdict of every key point, weakest first.
    pub grid: Vec<PointRow>,
    /// Key points left out of the grid.
    pub grid_more: usize,
    /// Reviews due per day.
    pub due: DueChart,
    /// Predicted recall per topic on the interview day.
    pub forecast: Option<ForecastView>,
    /// Why there is no forecast though a day is set.
    pub no_forecast: Option<String>,
    /// The sessions, newest first.
    pub sessions: Vec<SessionRow>,
    /// Sessions left out of the list.
    pub sessions_more: usize,
    /// Graded answers per grader.
    pub graders: Vec<GraderRow>,
}

/// The score-over-time chart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ScoreChart {
    /// The `viewBox` width and height.
    pub width: f64,
    pub height: f64,
    /// Gridlines at 0, 25, 50, 75 and 100.
    pub ticks: Vec<Tick>,
    /// The first and last day drawn, under the axis.
    pub from: Option<Label>,
    pub to: Option<Label>,
    /// One line per topic.
    pub lines: Vec<Line>,
}

/// A horizontal gridline.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Tick {
    pub score: u8,
    pub y: String,
}

/// Text placed on a chart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Label {
    pub text: String,
    pub x: String,
}

/// One topic's line.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Line {
    pub topic: String,
    /// Which of the [`LINE_STYLES`] it wears.
    pub style: usize,
    /// The polyline's `points`.
    pub path: String,
    /// The least-squares line through the points drawn, when they span some time.
    pub trend: Option<Segment>,
    pub points: Vec<Point>,
}

/// A straight line on a chart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Segment {
    pub x1: String,
    pub y1: String,
    pub x2: String,
    pub y2: String,
}

/// The least-squares fit `y = a + b x` of `xy`: `None` for fewer than two distinct `x`.
fn least_squares(xy: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = xy.len() as f64;
    let mx = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let my = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if xy.len() < 2 || sxx < 1e-9 {
        return None;
    }
    let b = xy.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum::<f64>() / sxx;
    Some((my - b * mx, b))
}

/// One graded main answer.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Point {
    pub x: String,
    pub y: String,
    pub score: u8,
    pub date: String,
    pub session: String,
}

/// One topic's figures.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TopicRow {
    pub topic: String,
    pub style: usize,
    /// As `grill stats` counts them: distinct questions, graded answers (follow-ups
    /// included) and their mean (exact, for `data-` attributes, and rounded).
    pub questions: usize,
    pub answers: usize,
    pub mean: Option<f64>,
    pub mean_text: String,
    /// Main answers charted, and how many of them are drawn.
    pub charted: usize,
    pub drawn: usize,
    /// Mean of the first half of the main answers against the second's, oldest first.
    pub first_half: Option<String>,
    pub second_half: Option<String>,
    /// "up 12", "down 3", "level" or "too few answers".
    pub trend: String,
}

/// One key point's latest verdict.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PointRow {
    pub topic: String,
    pub question_id: String,
    pub key_point_id: String,
    /// What it says, from the bank, capped; empty when the bank lacks it.
    pub point: String,
    /// `met`, `partial` or `missed`.
    pub verdict: &'static str,
    /// ✓, ~ or ✗: read without colour.
    pub symbol: &'static str,
    /// Graded main answers that missed it, of all graded main answers to its question.
    pub missed: usize,
    pub of: usize,
    /// The sessions that missed it, newest first, capped.
    pub missed_in: Vec<String>,
    pub missed_in_more: usize,
}

/// Reviews due per day.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DueChart {
    pub width: f64,
    pub height: f64,
    /// The axis's height.
    pub base: String,
    pub bars: Vec<Bar>,
    /// The busiest day's count.
    pub peak: usize,
    /// Reviews due in the days charted.
    pub total: usize,
    /// Reviews due after them.
    pub later: usize,
    /// Days charted.
    pub days: usize,
    /// Reviews due now, overdue included.
    pub now: usize,
}

/// One day's reviews. Day 0 is now, and holds everything overdue.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bar {
    pub day: String,
    pub label: String,
    pub due: usize,
    pub x: String,
    pub y: String,
    pub w: String,
    pub h: String,
    /// Whether the day's label is printed under the axis (every seventh).
    pub labelled: bool,
    pub label_x: String,
}

/// The interview-day forecast, per topic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ForecastView {
    pub day: String,
    pub days_left: i64,
    pub target: String,
    pub recall: String,
    pub topics: Vec<RecallRow>,
}

/// One topic's predicted recall.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RecallRow {
    pub topic: String,
    pub questions: usize,
    pub unseen: usize,
    /// Exact, for `data-` attributes, and as a percentage.
    pub recall: f64,
    pub percent: String,
    /// Whether it falls short of the target.
    pub short: bool,
}

/// One session.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SessionRow {
    pub id: String,
    pub date: String,
    pub mode: String,
    pub status: String,
    pub topics: String,
    pub answered: usize,
    pub mean: Option<f64>,
    pub mean_text: String,
    pub graders: String,
}

/// Graded answers per grader.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraderRow {
    /// As the index names it: `offline`, `self` or a model's name.
    pub grader: String,
    /// What the reader sees.
    pub label: String,
    pub answers: usize,
}

/// Text from a transcript or the bank, made safe to show: no control characters, at most
/// `max` characters.
fn clean(text: &str, max: usize) -> String {
    let text = crate::scrub::controls(text);
    if text.chars().count() <= max {
        return text.into_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}

fn fmt1(x: f64) -> String {
    format!("{x:.1}")
}

fn mean(xs: &[f64]) -> Option<f64> {
    (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
}

/// Builds the page's view.
pub fn build(inp: &Inputs) -> ReportView {
    let bank = inp.bank;
    let topic_of = |q: &str| bank.get(q).map_or_else(|| "(not in the bank)".to_string(), |q| q.topic.clone());
    let in_scope = |t: &TurnSummary| inp.topic.is_none_or(|want| topic_of(&t.question_id) == want);
    let style_of: HashMap<&str, usize> =
        inp.stats.topics.iter().enumerate().map(|(i, t)| (t.topic.as_str(), i % LINE_STYLES)).collect();

    // Graded main answers per topic, oldest first: (when, score, session).
    let mut mains: Mains = BTreeMap::new();
    for s in inp.sessions {
        for t in s.turns.iter().filter(|t| in_scope(t) && !t.follow_up) {
            if let Some(score) = t.score {
                mains.entry(topic_of(&t.question_id)).or_default().push((
                    t.answered_at.unwrap_or(s.started_at),
                    score,
                    &s.id,
                ));
            }
        }
    }
    for v in mains.values_mut() {
        v.sort_by_key(|(at, _, _)| *at);
    }

    let chart = score_chart(&mains, &style_of);
    let topics = inp
        .stats
        .topics
        .iter()
        .map(|t| {
            let all = mains.get(&t.topic).map_or(&[][..], Vec::as_slice);
            let scores: Vec<f64> = all.iter().map(|(_, s, _)| f64::from(*s)).collect();
            let half = scores.len() / 2;
            let (first, second) = if half > 0 { (mean(&scores[..half]), mean(&scores[half..])) } else { (None, None) };
            let trend = match (first, second) {
                (Some(a), Some(b)) => match (b - a).round() {
                    d if d >= 1.0 => format!("up {d:.0}"),
                    d if d <= -1.0 => format!("down {:.0}", -d),
                    _ => "level".to_string(),
                },
                _ => "too few answers".to_string(),
            };
            TopicRow {
                topic: clean(&t.topic, 60),
                style: style_of.get(t.topic.as_str()).copied().unwrap_or(0),
                questions: t.questions,
                answers: t.answers,
                mean: t.mean,
                mean_text: t.mean.map_or("–".into(), |m| format!("{m:.0}")),
                charted: all.len(),
                drawn: all.len().min(POINTS_PER_TOPIC),
                first_half: first.map(|m| format!("{m:.0}")),
                second_half: second.map(|m| format!("{m:.0}")),
                trend,
            }
        })
        .collect();

    let (grid, grid_more) = grid(inp.sessions, bank, &in_scope, &topic_of);
    let due = due_chart(inp.items, inp.now);
    let forecast = inp.forecast.map(|f| ForecastView {
        day: f.interview.format("%Y-%m-%d").to_string(),
        days_left: f.days_left,
        target: format!("{:.0}%", f.target * 100.0),
        recall: format!("{:.0}%", f.recall * 100.0),
        topics: f
            .topics
            .iter()
            .map(|t| RecallRow {
                topic: clean(&t.topic, 60),
                questions: t.questions,
                unseen: t.unseen,
                recall: t.recall,
                percent: format!("{:.0}%", t.recall * 100.0),
                short: t.recall < f.target,
            })
            .collect(),
    });

    let listed: Vec<&Summary> =
        inp.sessions.iter().rev().filter(|s| inp.topic.is_none() || s.turns.iter().any(&in_scope)).collect();
    let sessions_more = listed.len().saturating_sub(SESSIONS);
    let sessions = listed
        .iter()
        .take(SESSIONS)
        .map(|s| {
            let turns: Vec<&TurnSummary> = s.turns.iter().filter(|t| in_scope(t)).collect();
            let topics: BTreeSet<String> = turns.iter().map(|t| topic_of(&t.question_id)).collect();
            let scores: Vec<f64> = turns.iter().filter_map(|t| t.score).map(f64::from).collect();
            let graders: BTreeSet<&str> =
                turns.iter().filter(|t| t.score.is_some()).filter_map(|t| t.grader.as_deref()).collect();
            let m = mean(&scores);
            SessionRow {
                id: clean(&s.id, 40),
                date: s.started_at.format("%Y-%m-%d %H:%M").to_string(),
                mode: s.mode.to_string(),
                status: s.status.to_string(),
                topics: clean(&topics.into_iter().collect::<Vec<_>>().join(", "), 120),
                answered: turns.iter().filter(|t| t.answered_at.is_some()).count(),
                mean: m,
                mean_text: m.map_or("–".into(), |m| format!("{m:.0}")),
                graders: clean(&graders.into_iter().collect::<Vec<_>>().join(", "), 120),
            }
        })
        .collect();

    let mut by_grader: BTreeMap<Arc<str>, usize> = BTreeMap::new();
    for s in inp.sessions {
        for t in s.turns.iter().filter(|t| in_scope(t) && t.score.is_some()) {
            let name = t.grader.clone().unwrap_or_else(|| Arc::from("unknown"));
            *by_grader.entry(name).or_default() += 1;
        }
    }
    // Offline first, the models by name, the user's own word last.
    let rank = |g: &str| match g {
        OFFLINE => 0,
        USER => 2,
        _ => 1,
    };
    let mut graders: Vec<GraderRow> = by_grader
        .into_iter()
        .map(|(g, answers)| GraderRow {
            label: match &*g {
                OFFLINE => "offline key-point grader".to_string(),
                USER => "your own verdicts (confirmed or corrected)".to_string(),
                model => format!("model: {}", clean(model, 80)),
            },
            grader: clean(&g, 80),
            answers,
        })
        .collect();
    graders.sort_by_key(|g| rank(&g.grader));

    let mut scope = vec![inp.topic.map_or("all topics".to_string(), |t| format!("topic {}", clean(t, 60)))];
    scope.push(inp.since.map_or("every session".to_string(), |d| format!("sessions since {d}")));
    ReportView {
        generated: inp.now.format("%Y-%m-%d %H:%M").to_string(),
        scope: scope.join(", "),
        sessions_counted: inp.stats.sessions,
        answers: inp.stats.topics.iter().map(|t| t.answers).sum(),
        skipped: inp.skipped,
        chart,
        topics,
        grid,
        grid_more,
        due,
        forecast,
        no_forecast: inp.no_forecast.clone(),
        sessions,
        sessions_more,
        graders,
    }
}

/// A graded main answer: when, its score, its session.
type Answer<'a> = (DateTime<FixedOffset>, u8, &'a str);
/// Graded main answers per topic, oldest first.
type Mains<'a> = BTreeMap<String, Vec<Answer<'a>>>;

fn score_chart(mains: &Mains, style_of: &HashMap<&str, usize>) -> ScoreChart {
    let drawn = |v: &[Answer]| v.len().saturating_sub(POINTS_PER_TOPIC);
    let times: Vec<DateTime<FixedOffset>> =
        mains.values().flat_map(|v| v[drawn(v)..].iter().map(|(at, _, _)| *at)).collect();
    let (lo, hi) = (times.iter().min().copied(), times.iter().max().copied());
    let plot_w = CHART_W - LEFT - RIGHT;
    let plot_h = CHART_H - TOP - BOTTOM;
    let x_of = |at: DateTime<FixedOffset>| match (lo, hi) {
        (Some(lo), Some(hi)) if hi > lo => {
            LEFT + plot_w * (at - lo).num_seconds() as f64 / (hi - lo).num_seconds() as f64
        }
        _ => LEFT + plot_w / 2.0,
    };
    let y_of = |score: f64| TOP + plot_h * (1.0 - score / 100.0);
    let lines = mains
        .iter()
        .map(|(topic, v)| {
            let points: Vec<Point> = v[drawn(v)..]
                .iter()
                .map(|(at, score, session)| Point {
                    x: fmt1(x_of(*at)),
                    y: fmt1(y_of(f64::from(*score))),
                    score: *score,
                    date: at.format("%Y-%m-%d").to_string(),
                    session: clean(session, 40),
                })
                .collect();
            let xy: Vec<(f64, f64)> =
                v[drawn(v)..].iter().map(|(at, score, _)| (x_of(*at), y_of(f64::from(*score)))).collect();
            Line {
                topic: clean(topic, 60),
                style: style_of.get(topic.as_str()).copied().unwrap_or(0),
                path: points.iter().map(|p| format!("{},{}", p.x, p.y)).collect::<Vec<_>>().join(" "),
                trend: least_squares(&xy).map(|(a, b)| {
                    let (x1, x2) = (xy.first().map_or(LEFT, |p| p.0), xy.last().map_or(LEFT, |p| p.0));
                    // Clamped to the plot: a steep fit over a short span must not leave it.
                    let y = |x: f64| (a + b * x).clamp(TOP, CHART_H - BOTTOM);
                    Segment { x1: fmt1(x1), y1: fmt1(y(x1)), x2: fmt1(x2), y2: fmt1(y(x2)) }
                }),
                points,
            }
        })
        .collect();
    let label = |at: DateTime<FixedOffset>| Label { text: at.format("%Y-%m-%d").to_string(), x: fmt1(x_of(at)) };
    ScoreChart {
        width: CHART_W,
        height: CHART_H,
        ticks: [0u8, 25, 50, 75, 100].iter().map(|&s| Tick { score: s, y: fmt1(y_of(f64::from(s))) }).collect(),
        from: lo.map(label),
        to: hi.filter(|h| Some(*h) != lo).map(label),
        lines,
    }
}

fn grid(
    sessions: &[Summary],
    bank: &Bank,
    in_scope: &dyn Fn(&TurnSummary) -> bool,
    topic_of: &dyn Fn(&str) -> String,
) -> (Vec<PointRow>, usize) {
    // Per question: the latest graded main answer, graded main answers, and per key point
    // the sessions that missed it (oldest first).
    #[derive(Default)]
    struct Acc<'a> {
        latest: Option<&'a TurnSummary>,
        of: usize,
        missed_in: BTreeMap<Arc<str>, Vec<&'a str>>,
    }
    let mut per_q: BTreeMap<Arc<str>, Acc> = BTreeMap::new();
    for s in sessions {
        for t in s.turns.iter().filter(|t| in_scope(t) && !t.follow_up && t.score.is_some()) {
            let a = per_q.entry(t.question_id.clone()).or_default();
            a.latest = Some(t);
            a.of += 1;
            for k in &t.missed {
                a.missed_in.entry(k.clone()).or_default().push(&s.id);
            }
        }
    }
    let mut rows = Vec::new();
    for (q, a) in &per_q {
        let Some(latest) = a.latest else { continue };
        let question = bank.get(q);
        let mut ids: Vec<Arc<str>> =
            question.map(|qq| qq.key_points.iter().map(|k| Arc::from(k.id.as_str())).collect()).unwrap_or_default();
        // Key points a grade named that the bank no longer has still show.
        for k in latest.missed.iter().chain(&latest.partial).chain(a.missed_in.keys()) {
            if !ids.contains(k) {
                ids.push(k.clone());
            }
        }
        for k in ids {
            let (verdict, symbol) = if latest.missed.contains(&k) {
                ("missed", "✗")
            } else if latest.partial.contains(&k) {
                ("partial", "~")
            } else {
                ("met", "✓")
            };
            let missed_in = a.missed_in.get(&k).map_or(&[][..], Vec::as_slice);
            let point = question
                .and_then(|qq| qq.key_points.iter().find(|kp| *kp.id == *k))
                .map_or(String::new(), |kp| clean(&kp.point, 100));
            rows.push(PointRow {
                topic: clean(&topic_of(q), 60),
                question_id: clean(q, 60),
                key_point_id: clean(&k, 60),
                point,
                verdict,
                symbol,
                missed: missed_in.len(),
                of: a.of,
                missed_in: missed_in.iter().rev().take(MISSED_IN).map(|s| clean(s, 40)).collect(),
                missed_in_more: missed_in.len().saturating_sub(MISSED_IN),
            });
        }
    }
    let weight = |v: &str| match v {
        "missed" => 0,
        "partial" => 1,
        _ => 2,
    };
    // As `grill stats` ranks its weakest: the share missed, then the count; then the
    // latest verdict, so a point half-made last time comes before one made.
    rows.sort_by(|a, b| {
        let ra = a.missed as f64 / a.of.max(1) as f64;
        let rb = b.missed as f64 / b.of.max(1) as f64;
        rb.total_cmp(&ra)
            .then(b.missed.cmp(&a.missed))
            .then(weight(a.verdict).cmp(&weight(b.verdict)))
            .then_with(|| (&a.question_id, &a.key_point_id).cmp(&(&b.question_id, &b.key_point_id)))
    });
    let more = rows.len().saturating_sub(GRID_ROWS);
    rows.truncate(GRID_ROWS);
    (rows, more)
}

fn due_chart(items: &[Item], now: DateTime<FixedOffset>) -> DueChart {
    let mut counts = [0usize; DAYS];
    let mut later = 0;
    for i in items {
        // Day 0 is now and everything overdue; day k, the k-th 24 hours from now.
        let k = if i.due <= now {
            0
        } else {
            usize::try_from((i.due - now).num_seconds().saturating_sub(1) / 86_400 + 1).unwrap_or(usize::MAX)
        };
        match counts.get_mut(k) {
            Some(c) => *c += 1,
            None => later += 1,
        }
    }
    let peak = counts.iter().copied().max().unwrap_or(0);
    let plot_w = CHART_W - LEFT - RIGHT;
    let slot = plot_w / DAYS as f64;
    let plot_h = DUE_H - TOP - DUE_BOTTOM;
    let bars = counts
        .iter()
        .enumerate()
        .map(|(k, &due)| {
            let h = if peak == 0 { 0.0 } else { plot_h * due as f64 / peak as f64 };
            let day = now + Duration::days(k as i64);
            let x = LEFT + slot * k as f64;
            Bar {
                day: day.format("%Y-%m-%d").to_string(),
                label: if k == 0 { "now".to_string() } else { day.format("%m-%d").to_string() },
                due,
                x: fmt1(x + slot * 0.1),
                y: fmt1(TOP + plot_h - h),
                w: fmt1(slot * 0.8),
                h: fmt1(h),
                labelled: k % 7 == 0,
                label_x: fmt1(x + slot / 2.0),
            }
        })
        .collect();
    DueChart {
        width: CHART_W,
        height: DUE_H,
        base: fmt1(TOP + plot_h),
        bars,
        peak,
        total: counts.iter().sum(),
        later,
        days: DAYS,
        now: counts[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bank::BankSource;
    use crate::review::schedule::{Help, Rating};
    use crate::review::stats;
    use crate::transcript::{SessionMode, Status};

    const BANK: &str = include_str!("../../tests/fixtures/bank/sample.toml");

    fn at(day: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00").unwrap() + Duration::days(day)
    }

    fn turn(q: &str, score: u8, missed: &[&str], grader: &str) -> TurnSummary {
        TurnSummary {
            question_id: q.into(),
            follow_up: false,
            answered_at: None,
            skipped: false,
            score: Some(score),
            pending: false,
            missed: missed.iter().map(|&m| m.into()).collect(),
            partial: vec![],
            help: Help::default(),
            confidence: None,
            grader: Some(grader.into()),
        }
    }

    fn session(id: &str, day: i64, mode: SessionMode, turns: Vec<TurnSummary>) -> Summary {
        Summary { id: id.into(), started_at: at(day), status: Status::Completed, mode, plan: vec![], turns }
    }

    fn item(q: &str, due: DateTime<FixedOffset>) -> Item {
        Item {
            question_id: q.into(),
            reviews: 1,
            last_score: Some(50),
            last_rating: Rating::Hard,
            last_help: Help::default(),
            first_review: at(0),
            last_review: at(0),
            due,
            stability: 1.0,
            difficulty: 5.0,
        }
    }

    #[test]
    fn the_view_holds_the_figures_of_the_history() {
        let bank = Bank::from_files([("sample.toml".to_string(), BANK.to_string())], BankSource::Embedded).unwrap();
        let mut partly = turn("tides", 80, &[], "self");
        partly.partial = vec!["sun".into()];
        let mut follow = turn("colours", 10, &["additive"], "offline");
        follow.follow_up = true;
        let sessions = vec![
            session(
                "aaaa0001",
                0,
                SessionMode::Practice,
                vec![turn("colours", 40, &["subtractive"], "offline"), follow],
            ),
            session(
                "aaaa0002",
                1,
                SessionMode::Interview,
                vec![turn("colours", 60, &["subtractive"], "qwen\u{1b}[31m")],
            ),
            session("aaaa0003", 2, SessionMode::Practice, vec![turn("colours", 90, &[], "offline"), partly]),
        ];
        let st = stats::compute(&sessions, &bank, None);
        let now = at(3);
        let items = vec![item("colours", at(1)), item("tides", now + Duration::hours(30)), item("x", at(90))];
        let v = build(&Inputs {
            sessions: &sessions,
            bank: &bank,
            stats: &st,
            items: &items,
            forecast: None,
            no_forecast: None,
            topic: None,
            since: None,
            skipped: 1,
            now,
        });

        assert_eq!((v.sessions_counted, v.answers, v.skipped), (3, 5, 1));
        // One line, main answers only, oldest first, the follow-up left out.
        let line = &v.chart.lines[0];
        assert_eq!(line.topic, "sample");
        assert_eq!(line.points.iter().map(|p| p.score).collect::<Vec<_>>(), [40, 60, 90, 80]);
        assert_eq!(line.points[0].x, "34.0", "the oldest at the left edge");
        assert_eq!(line.points[2].y, "28.8", "90 is a tenth of the plot below its top");
        let trend = line.trend.as_ref().expect("four answers over two days have a trend");
        assert_eq!((trend.x1.as_str(), trend.x2.as_str()), ("34.0", "632.0"), "it spans the points drawn");
        assert_eq!((trend.y1.as_str(), trend.y2.as_str()), ("134.7", "40.1"), "rising scores draw a line going up");
        assert_eq!(least_squares(&[(0.0, 1.0), (1.0, 3.0), (2.0, 5.0)]), Some((1.0, 2.0)));
        assert_eq!(least_squares(&[(1.0, 1.0), (1.0, 3.0)]), None, "no span, no slope");
        let t = &v.topics[0];
        assert_eq!((t.answers, t.charted, t.mean_text.as_str()), (5, 4, "56"));
        assert_eq!(
            (t.first_half.as_deref(), t.second_half.as_deref(), t.trend.as_str()),
            (Some("50"), Some("85"), "up 35")
        );

        // Weakest first: missed in 2 of 3, then the partial, then the made ones.
        let g: Vec<(&str, &str, usize, usize)> =
            v.grid.iter().map(|r| (r.key_point_id.as_str(), r.verdict, r.missed, r.of)).collect();
        assert_eq!(g[0], ("subtractive", "met", 2, 3));
        assert_eq!(v.grid[0].missed_in, ["aaaa0002", "aaaa0001"], "newest first");
        assert_eq!((g[1].0, g[1].1, v.grid[1].symbol), ("sun", "partial", "~"));
        assert!(g.iter().all(|r| r.0 != "additive"), "a follow-up's key points are not the question's: {g:?}");
        assert_eq!(g.len(), 6, "every key point of both questions: {g:?}");

        // Overdue counts now; 30 hours away is day 2; 87 days away is later.
        assert_eq!((v.due.bars[0].due, v.due.bars[2].due, v.due.later, v.due.total), (1, 1, 1, 2));
        assert_eq!(v.due.bars[0].label, "now");
        assert_eq!(v.due.bars.len(), DAYS);

        assert_eq!(v.sessions.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["aaaa0003", "aaaa0002", "aaaa0001"]);
        assert_eq!((v.sessions[1].mode.as_str(), v.sessions[0].graders.as_str()), ("interview", "offline, self"));
        let graders: Vec<(&str, usize)> = v.graders.iter().map(|g| (g.grader.as_str(), g.answers)).collect();
        assert_eq!(graders, [("offline", 3), ("qwen[31m", 1), ("self", 1)], "the escape is gone");
        assert_eq!(v.scope, "all topics, every session");
    }

    #[test]
    fn an_empty_history_builds_an_empty_page() {
        let bank = Bank::from_files([("sample.toml".to_string(), BANK.to_string())], BankSource::Embedded).unwrap();
        let st = stats::compute(&[], &bank, Some("sample"));
        let v = build(&Inputs {
            sessions: &[],
            bank: &bank,
            stats: &st,
            items: &[],
            forecast: None,
            no_forecast: Some("the day has come".into()),
            topic: Some("sample"),
            since: chrono::NaiveDate::from_ymd_opt(2026, 1, 2),
            skipped: 0,
            now: at(0),
        });
        assert!(v.chart.lines.is_empty() && v.grid.is_empty() && v.sessions.is_empty() && v.graders.is_empty());
        assert_eq!((v.due.total, v.due.peak, v.chart.from.is_none()), (0, 0, true));
        assert_eq!(v.scope, "topic sample, sessions since 2026-01-02");
    }
}
