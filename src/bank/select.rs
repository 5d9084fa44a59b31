//! Choosing the questions of a session from the selection flags.

use super::{Bank, Level, Question};

/// What the user asked to practise.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Selection {
    /// Only these topics (any of them); empty means all.
    pub topics: Vec<String>,
    /// Exactly these questions, in this order; overrides topics and level.
    pub questions: Vec<String>,
    /// Only this level.
    pub level: Option<Level>,
    /// How many questions at most.
    pub count: usize,
    /// Seed of the shuffle, so a session can be repeated.
    pub seed: u64,
}

/// A selection that names something the bank does not have.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SelectionError {
    /// `--question` named an unknown id.
    #[error("no question with id `{id}`{}", did_you_mean(.suggestions))]
    UnknownQuestion {
        /// The id asked for.
        id: String,
        /// Ids close to it.
        suggestions: Vec<String>,
    },
    /// `--topic` named an unknown topic.
    #[error("no topic `{topic}`; topics are: {}", .known.join(", "))]
    UnknownTopic {
        /// The topic asked for.
        topic: String,
        /// The bank's topics.
        known: Vec<String>,
    },
    /// The filters left nothing.
    #[error("no question matches that selection")]
    Empty,
}

impl crate::error::Diagnose for SelectionError {
    fn exit(&self) -> crate::error::ExitStatus {
        crate::error::ExitStatus::Failure
    }

    fn hint(&self) -> Option<String> {
        match self {
            SelectionError::UnknownQuestion { .. } => Some("`grill bank list` shows every question's id".into()),
            SelectionError::UnknownTopic { .. } => None,
            SelectionError::Empty => Some("loosen --topic or --level, or see `grill bank list`".into()),
        }
    }
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() { String::new() } else { format!(" (did you mean {}?)", s.join(", ")) }
}

/// Picks the session's questions: the named ones in order, or a seeded shuffle of those
/// that pass the topic and level filters, cut to `count`.
pub fn select<'b>(bank: &'b Bank, sel: &Selection) -> Result<Vec<&'b Question>, SelectionError> {
    if !sel.questions.is_empty() {
        return sel
            .questions
            .iter()
            .map(|id| {
                bank.get(id).ok_or_else(|| SelectionError::UnknownQuestion {
                    id: id.clone(),
                    suggestions: bank.similar_ids(id).into_iter().map(str::to_string).collect(),
                })
            })
            .collect();
    }
    let topics = bank.topics();
    for t in &sel.topics {
        if !topics.contains(&t.as_str()) {
            return Err(SelectionError::UnknownTopic {
                topic: t.clone(),
                known: topics.iter().map(|s| s.to_string()).collect(),
            });
        }
    }
    let mut pool: Vec<&Question> = bank
        .questions()
        .iter()
        .filter(|q| sel.topics.is_empty() || sel.topics.contains(&q.topic))
        .filter(|q| sel.level.is_none_or(|l| q.level == l))
        .collect();
    if pool.is_empty() {
        return Err(SelectionError::Empty);
    }
    fastrand::Rng::with_seed(sel.seed).shuffle(&mut pool);
    pool.truncate(sel.count.max(1));
    Ok(pool)
}
