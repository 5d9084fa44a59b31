//! Readiness for a day: the recall FSRS predicts for each question on the day of an
//! interview, per topic, and how many reviews a day from now until then reach a target.
//!
//! Recall is FSRS's retrievability: the probability of recalling an answer, falling with
//! time since the last review along a power curve whose pace is the question's stability
//! (the days until it falls to 90%). A question never reviewed counts as 0.
//!
//! The daily number comes from a simulation, not a formula: each day from today to the
//! day before the interview, review that many questions, always those with the lowest
//! recall predicted for the interview (unseen ones first), each rated *good*; the answer
//! is the smallest number that leaves every question at the target or above on the day.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use fsrs::MemoryState;
use serde::Serialize;

use super::schedule::{self, Item, Rating};

/// What the daily number assumes, in words, for every output that shows it.
pub const ASSUMES: &str = "each day from today to the day before the interview you review that many questions, always \
                           those with the lowest predicted recall for the day (never-seen ones first, at 0%), and \
                           recall each well enough to rate it good; memory follows FSRS's default forgetting curve";

/// The recall of a memory of `stability` days, `elapsed` days (any fraction) after its
/// last review: FSRS-6's power forgetting curve with the default decay. A stability of 0
/// or less is a question never learnt: 0.
pub fn retrievability(stability: f64, elapsed: f64) -> f64 {
    if stability <= 0.0 || !stability.is_finite() {
        return 0.0;
    }
    let decay = f64::from(fsrs::DEFAULT_PARAMETERS[20]);
    // The factor that makes recall exactly 0.9 when `elapsed` equals `stability`.
    let factor = 0.9f64.powf(-1.0 / decay) - 1.0;
    (elapsed.max(0.0) / stability * factor + 1.0).powf(-decay)
}

/// Days from `from` to `to`, with the fraction.
fn days_between(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> f64 {
    (to - from).num_seconds() as f64 / 86_400.0
}

/// One reviewed question's predicted recall on the day.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionRecall {
    /// The question.
    pub question_id: String,
    /// Its topic.
    pub topic: String,
    /// Predicted recall on the day with no more practice, 0 to 1.
    pub recall: f64,
    /// FSRS stability, in days.
    pub stability: f32,
    /// When it was last reviewed.
    pub last_review: DateTime<FixedOffset>,
}

/// One topic's predicted recall on the day.
#[derive(Debug, Clone, Serialize)]
pub struct TopicRecall {
    /// The topic.
    pub topic: String,
    /// Its questions in scope.
    pub questions: usize,
    /// How many of them were never reviewed (each counts as 0).
    pub unseen: usize,
    /// Mean predicted recall over all its questions, 0 to 1.
    pub recall: f64,
}

/// The forecast for one day.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    /// The interview day.
    pub interview: NaiveDate,
    /// Whole days from today to it.
    pub days_left: i64,
    /// The recall to reach, 0 to 1.
    pub target: f64,
    /// Mean predicted recall over every question in scope, unseen ones as 0.
    pub recall: f64,
    /// Per topic, by name.
    pub topics: Vec<TopicRecall>,
    /// Every reviewed question, lowest predicted recall first.
    pub questions: Vec<QuestionRecall>,
    /// The ten questions most at risk (lowest predicted recall), unseen ones included.
    pub at_risk: Vec<String>,
    /// The fewest reviews a day that bring every question to the target; `None` when
    /// even reviewing every question every day does not.
    pub reviews_per_day: Option<usize>,
    /// What `reviews_per_day` assumes.
    pub assumes: &'static str,
}

/// The recall aimed for when none is given: FSRS's own desired retention.
pub const DEFAULT_TARGET: f64 = 0.9;

/// How many questions [`Forecast::at_risk`] holds.
pub const AT_RISK: usize = 10;

/// The forecast for `interview`, from `now`, over the questions of `pool` (id and topic,
/// in bank order) with their schedule `items` (items of other questions are ignored).
/// `interview` must be after `now`'s day.
pub fn forecast(
    pool: &[(&str, &str)],
    items: &[Item],
    now: DateTime<FixedOffset>,
    interview: NaiveDate,
    target: f64,
) -> Forecast {
    let days_left = (interview - now.date_naive()).num_days().max(1);
    // The same time of day as now, so that simulated reviews fall whole days apart.
    let on_the_day = now + Duration::days(days_left);
    let by_id: BTreeMap<&str, &Item> = items.iter().map(|i| (i.question_id.as_str(), i)).collect();
    let recall_of = |id: &str| {
        by_id.get(id).map_or(0.0, |i| retrievability(f64::from(i.stability), days_between(i.last_review, on_the_day)))
    };
    let mut questions: Vec<QuestionRecall> = pool
        .iter()
        .filter_map(|(id, topic)| {
            let i = by_id.get(id)?;
            Some(QuestionRecall {
                question_id: id.to_string(),
                topic: topic.to_string(),
                recall: recall_of(id),
                stability: i.stability,
                last_review: i.last_review,
            })
        })
        .collect();
    questions.sort_by(|a, b| a.recall.total_cmp(&b.recall).then_with(|| a.question_id.cmp(&b.question_id)));
    let mut per_topic: BTreeMap<&str, (usize, usize, f64)> = BTreeMap::new();
    for (id, topic) in pool {
        let e = per_topic.entry(topic).or_default();
        e.0 += 1;
        e.1 += usize::from(!by_id.contains_key(id));
        e.2 += recall_of(id);
    }
    let topics = per_topic
        .into_iter()
        .map(|(topic, (n, unseen, sum))| TopicRecall {
            topic: topic.to_string(),
            questions: n,
            unseen,
            recall: sum / n as f64,
        })
        .collect();
    let mut risk: Vec<(f64, &str)> = pool.iter().map(|(id, _)| (recall_of(id), *id)).collect();
    risk.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    let recall = if pool.is_empty() { 0.0 } else { risk.iter().map(|r| r.0).sum::<f64>() / pool.len() as f64 };
    let states: Vec<Option<(MemoryState, DateTime<FixedOffset>)>> =
        pool.iter().map(|(id, _)| by_id.get(id).map(|i| (i.memory(), i.last_review))).collect();
    Forecast {
        interview,
        days_left,
        target,
        recall,
        topics,
        at_risk: risk.iter().take(AT_RISK).map(|r| r.1.to_string()).collect(),
        questions,
        reviews_per_day: reviews_per_day(&states, now, days_left, target),
        assumes: ASSUMES,
    }
}

/// The fewest reviews a day that leave every question at `target` or above after
/// `days` days of them (see the module's doc); `None` if reviewing all does not.
fn reviews_per_day(
    states: &[Option<(MemoryState, DateTime<FixedOffset>)>],
    now: DateTime<FixedOffset>,
    days: i64,
    target: f64,
) -> Option<usize> {
    let unseen = states.iter().filter(|s| s.is_none()).count();
    // Each unseen question needs a review at least, so fewer a day cannot do.
    let fewest = unseen.div_ceil(days.max(1) as usize);
    // The smallest number that works, tried in order: the simulation is cheap, and a
    // search that assumes more reviews never hurt would need proving.
    (fewest..=states.len()).find(|&n| lowest_after(states, now, days, n) >= target)
}

/// The lowest recall on the day, `days` days from `now`, after reviewing `n` questions a
/// day as [`ASSUMES`] says (1 when there is no question).
fn lowest_after(
    states: &[Option<(MemoryState, DateTime<FixedOffset>)>],
    now: DateTime<FixedOffset>,
    days: i64,
    n: usize,
) -> f64 {
    let fsrs = schedule::fsrs();
    let on_the_day = now + Duration::days(days);
    let recall = |s: &Option<(MemoryState, DateTime<FixedOffset>)>| {
        s.map_or(0.0, |(m, at)| retrievability(f64::from(m.stability), days_between(at, on_the_day)))
    };
    let mut sim = states.to_vec();
    for k in 0..days {
        let at = now + Duration::days(k);
        let mut order: Vec<usize> = (0..sim.len()).collect();
        order.sort_by(|&a, &b| recall(&sim[a]).total_cmp(&recall(&sim[b])).then(a.cmp(&b)));
        for &i in order.iter().take(n) {
            let (state, elapsed) = match sim[i] {
                Some((m, last)) => (Some(m), (at - last).num_days().max(0) as u32),
                None => (None, 0),
            };
            if let Some((m, _)) = schedule::review(&fsrs, state, elapsed, Rating::Good) {
                sim[i] = Some((m, at));
            }
        }
    }
    sim.iter().map(recall).fold(1.0, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::schedule::Help;

    #[test]
    fn retrievability_matches_the_fsrs_crate() {
        let decay = fsrs::DEFAULT_PARAMETERS[20];
        let fsrs = schedule::fsrs();
        // States FSRS itself produces (first reviews of each rating, then a good review
        // three days later), and some set by hand.
        let mut states: Vec<MemoryState> = [Rating::Again, Rating::Hard, Rating::Good, Rating::Easy]
            .iter()
            .map(|&r| schedule::review(&fsrs, None, 0, r).unwrap().0)
            .collect();
        let later = schedule::review(&fsrs, Some(states[2]), 3, Rating::Good).unwrap().0;
        states.push(later);
        states.push(MemoryState { stability: 0.5, difficulty: 9.0 });
        states.push(MemoryState { stability: 100.0, difficulty: 1.0 });
        for state in states {
            for elapsed in [0.0f32, 0.25, 1.0, 2.5, 7.0, 30.0, 365.0] {
                let theirs = f64::from(fsrs::current_retrievability(state, elapsed, decay));
                let ours = retrievability(f64::from(state.stability), f64::from(elapsed));
                assert!((ours - theirs).abs() < 1e-5, "{state:?} after {elapsed} days: {ours} vs {theirs}");
            }
        }
    }

    #[test]
    fn recall_is_ninety_percent_after_one_stability_and_falls_with_time() {
        assert!((retrievability(4.0, 4.0) - 0.9).abs() < 1e-9);
        assert_eq!(retrievability(4.0, 0.0), 1.0);
        assert!(retrievability(4.0, 10.0) < retrievability(4.0, 5.0));
        assert!(retrievability(40.0, 10.0) > retrievability(4.0, 10.0));
        assert_eq!(retrievability(0.0, 1.0), 0.0, "never learnt");
        // FSRS schedules the next review when recall falls to the desired retention.
        let fsrs = schedule::fsrs();
        let (m, interval) = schedule::review(&fsrs, None, 0, Rating::Good).unwrap();
        let at_due = retrievability(f64::from(m.stability), f64::from(interval));
        assert!((at_due - f64::from(schedule::DESIRED_RETENTION)).abs() < 0.01, "{at_due}");
    }

    fn at(day: i64) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+00:00").unwrap() + Duration::days(day)
    }

    fn item(id: &str, stability: f32, last: i64) -> Item {
        Item {
            question_id: id.into(),
            reviews: 1,
            last_score: Some(80),
            last_rating: Rating::Good,
            last_help: Help::default(),
            first_review: at(last),
            last_review: at(last),
            due: at(last + 3),
            stability,
            difficulty: 5.0,
        }
    }

    #[test]
    fn the_forecast_counts_unseen_questions_as_zero_and_lists_the_weakest_first() {
        let pool = [("a", "t1"), ("b", "t1"), ("c", "t2")];
        let items = [item("a", 10.0, 0), item("b", 1.0, 0), item("elsewhere", 1.0, 0)];
        let day = NaiveDate::from_ymd_opt(2026, 12, 11).unwrap();
        let f = forecast(&pool, &items, at(0), day, 0.9);
        assert_eq!(f.days_left, 10);
        assert!((f.questions[1].recall - 0.9).abs() < 1e-9, "a: ten days at stability 10");
        assert_eq!(f.questions.iter().map(|q| q.question_id.as_str()).collect::<Vec<_>>(), ["b", "a"]);
        assert_eq!(f.at_risk, ["c", "b", "a"]);
        assert_eq!((f.topics[1].topic.as_str(), f.topics[1].unseen, f.topics[1].recall), ("t2", 1, 0.0));
        assert!((f.topics[0].recall - (f.questions[0].recall + 0.9) / 2.0).abs() < 1e-9);
        let n = f.reviews_per_day.expect("reachable in ten days");
        assert!(n >= 1, "c needs one review at least");
        // One review a day fewer does not do; and a higher target needs at least as many.
        let states: Vec<_> = pool
            .iter()
            .map(|(id, _)| items.iter().find(|i| i.question_id == *id).map(|i| (i.memory(), i.last_review)))
            .collect();
        assert_eq!(reviews_per_day(&states, at(0), 10, 0.9), Some(n));
        assert!(lowest_after(&states, at(0), 10, n) >= 0.9);
        assert!(lowest_after(&states, at(0), 10, n - 1) < 0.9, "one fewer a day leaves one below");
        assert!(reviews_per_day(&states, at(0), 10, 0.97).is_none_or(|m| m >= n));
    }

    #[test]
    fn a_target_out_of_reach_by_tomorrow_has_no_daily_number() {
        // A first good review leaves about 95% a day later: 0.99 cannot be reached.
        let states = [None];
        assert_eq!(reviews_per_day(&states, at(0), 1, 0.99), None);
        assert_eq!(reviews_per_day(&states, at(0), 1, 0.9), Some(1));
        // Nothing to learn, nothing to do.
        assert_eq!(reviews_per_day(&[], at(0), 5, 0.9), Some(0));
    }
}
