//! Progress per topic, the trend over sessions, and the key points missed most often.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::index::Summary;
use super::schedule::Rating;
use crate::bank::Bank;

/// One topic's figures.
#[derive(Debug, Clone, Serialize)]
pub struct TopicStats {
    /// The topic.
    pub topic: String,
    /// Distinct questions practised.
    pub questions: usize,
    /// Graded answers (main questions and follow-ups).
    pub answers: usize,
    /// Mean score of those answers.
    pub mean: Option<f64>,
    /// Mean score per session, oldest first (the last 20 sessions).
    pub trend: Vec<f64>,
}

/// A key point missed again and again.
#[derive(Debug, Clone, Serialize)]
pub struct WeakPoint {
    /// The question.
    pub question_id: String,
    /// The key point.
    pub key_point_id: String,
    /// What it says, from the bank (empty if the bank no longer has it).
    pub point: String,
    /// Answers that missed it.
    pub missed: usize,
    /// Graded answers to the question.
    pub of: usize,
}

/// How the confidence a user gave before each grade (`grill practice --confidence`)
/// matched the grades, for one topic. Confidence 1 to 4 reads as the probability 1/8,
/// 3/8, 5/8 or 7/8 that the answer is right, and an answer is right when its score
/// earns *good* or better (65 and up).
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    /// The topic.
    pub topic: String,
    /// Graded answers given a confidence.
    pub answers: usize,
    /// The Brier score: the mean squared gap between confidence and outcome, 0 at best;
    /// always saying 50% earns 0.25.
    pub brier: f64,
    /// The mean confidence, as a probability.
    pub confidence: f64,
    /// The share of those answers that were right.
    pub right: f64,
}

impl Calibration {
    /// How far confidence ran ahead of the grades, positive when over-confident.
    pub fn bias(&self) -> f64 {
        self.confidence - self.right
    }
}

/// A confidence level, 1 to 4, as the probability of being right: the middle of its
/// quarter.
pub fn probability(level: u8) -> f64 {
    (f64::from(level.clamp(1, 4)) * 2.0 - 1.0) / 8.0
}

/// Everything `grill stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Sessions counted.
    pub sessions: usize,
    /// Per topic, by name.
    pub topics: Vec<TopicStats>,
    /// The key points missed most often, worst first.
    pub weakest: Vec<WeakPoint>,
    /// Confidence against grades, per topic with any.
    pub calibration: Vec<Calibration>,
}

/// Computes the figures over `sessions`, for one topic or all.
pub fn compute(sessions: &[Summary], bank: &Bank, topic: Option<&str>) -> Stats {
    let topic_of = |q: &str| bank.get(q).map_or_else(|| "(not in the bank)".to_string(), |q| q.topic.clone());
    let wanted = |q: &str| topic.is_none_or(|t| topic_of(q) == t);
    #[derive(Default)]
    struct Acc {
        questions: BTreeSet<Arc<str>>,
        scores: Vec<f64>,
        trend: Vec<f64>,
    }
    let mut per_topic: BTreeMap<String, Acc> = BTreeMap::new();
    let mut misses: BTreeMap<(Arc<str>, Arc<str>), usize> = BTreeMap::new();
    let mut graded_main: BTreeMap<Arc<str>, usize> = BTreeMap::new();
    let mut counted = 0;
    // Per topic: (confidence, outcome) pairs.
    let mut rated: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for s in sessions {
        let mut session_scores: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for t in s.turns.iter().filter(|t| wanted(&t.question_id)) {
            let Some(score) = t.score else { continue };
            let topic = topic_of(&t.question_id);
            if let Some(level) = t.confidence {
                let right = Rating::from_score(score) >= Rating::Good;
                rated.entry(topic.clone()).or_default().push((probability(level), f64::from(u8::from(right))));
            }
            let e = per_topic.entry(topic.clone()).or_default();
            e.questions.insert(t.question_id.clone());
            e.scores.push(f64::from(score));
            session_scores.entry(topic).or_default().push(f64::from(score));
            if !t.follow_up {
                *graded_main.entry(t.question_id.clone()).or_default() += 1;
                for k in &t.missed {
                    *misses.entry((t.question_id.clone(), k.clone())).or_default() += 1;
                }
            }
        }
        if !session_scores.is_empty() {
            counted += 1;
        }
        for (topic, scores) in session_scores {
            let mean = scores.iter().sum::<f64>() / scores.len() as f64;
            per_topic.entry(topic).or_default().trend.push(mean);
        }
    }
    let topics = per_topic
        .into_iter()
        .map(|(topic, a)| TopicStats {
            topic,
            questions: a.questions.len(),
            answers: a.scores.len(),
            mean: (!a.scores.is_empty()).then(|| a.scores.iter().sum::<f64>() / a.scores.len() as f64),
            trend: a.trend[a.trend.len().saturating_sub(20)..].to_vec(),
        })
        .collect();
    let mut weakest: Vec<WeakPoint> = misses
        .into_iter()
        .map(|((q, k), missed)| {
            let point = bank
                .get(&q)
                .and_then(|qq| qq.key_points.iter().find(|kp| *kp.id == *k))
                .map_or(String::new(), |kp| kp.point.clone());
            WeakPoint {
                of: graded_main.get(&q).copied().unwrap_or(missed),
                question_id: q.to_string(),
                key_point_id: k.to_string(),
                point,
                missed,
            }
        })
        .collect();
    weakest.sort_by(|a, b| {
        let ra = a.missed as f64 / a.of as f64;
        let rb = b.missed as f64 / b.of as f64;
        rb.total_cmp(&ra).then(b.missed.cmp(&a.missed)).then(a.question_id.cmp(&b.question_id))
    });
    weakest.truncate(8);
    let calibration = rated
        .into_iter()
        .map(|(topic, pairs)| {
            let n = pairs.len() as f64;
            Calibration {
                topic,
                answers: pairs.len(),
                brier: pairs.iter().map(|(p, o)| (p - o).powi(2)).sum::<f64>() / n,
                confidence: pairs.iter().map(|(p, _)| p).sum::<f64>() / n,
                right: pairs.iter().map(|(_, o)| o).sum::<f64>() / n,
            }
        })
        .collect();
    Stats { sessions: counted, topics, weakest, calibration }
}

/// Scores 0-100 as a row of block characters, one per value.
pub fn sparkline(values: &[f64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    values.iter().map(|v| BARS[((v.clamp(0.0, 100.0) / 100.0) * 7.0).round() as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_levels_read_as_probabilities_and_the_brier_score_follows() {
        assert_eq!([1, 2, 3, 4].map(probability), [0.125, 0.375, 0.625, 0.875]);
        let c = Calibration { topic: "t".into(), answers: 2, brier: 0.0, confidence: 0.875, right: 0.5 };
        assert_eq!(c.bias(), 0.375, "certain, and right half the time: over-confident");
    }

    #[test]
    fn sparkline_maps_the_range() {
        assert_eq!(sparkline(&[0.0, 50.0, 100.0]), "▁▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
