//! Progress per topic, the trend over sessions, and the key points missed most often.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::Serialize;

use super::index::Summary;
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

/// Everything `grill stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    /// Sessions counted.
    pub sessions: usize,
    /// Per topic, by name.
    pub topics: Vec<TopicStats>,
    /// The key points missed most often, worst first.
    pub weakest: Vec<WeakPoint>,
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
    for s in sessions {
        let mut session_scores: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for t in s.turns.iter().filter(|t| wanted(&t.question_id)) {
            let Some(score) = t.score else { continue };
            let topic = topic_of(&t.question_id);
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
    Stats { sessions: counted, topics, weakest }
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
    fn sparkline_maps_the_range() {
        assert_eq!(sparkline(&[0.0, 50.0, 100.0]), "▁▅█");
        assert_eq!(sparkline(&[]), "");
    }
}
