//! One time limit for a whole piece of work (a grading, a follow-up, a check), however
//! many requests, retries and waits it takes: `--timeout` is what the user waits at
//! most, not what each request may take.

use std::time::{Duration, Instant};

/// When the work must be over, and the limit it came from (for messages).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// A deadline `limit` from now.
    pub fn after(limit: Duration) -> Deadline {
        Deadline::from(Instant::now(), limit)
    }

    /// A deadline `limit` after `start`.
    pub fn from(start: Instant, limit: Duration) -> Deadline {
        Deadline { at: start + limit, limit }
    }

    /// The limit the deadline was set with.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Time left at `now`; `None` once the deadline has passed.
    pub fn remaining_at(&self, now: Instant) -> Option<Duration> {
        self.at.checked_duration_since(now).filter(|d| !d.is_zero())
    }

    /// Time left now; `None` once the deadline has passed.
    pub fn remaining(&self) -> Option<Duration> {
        self.remaining_at(Instant::now())
    }

    /// Whether a wait of `wait` starting at `now` would still leave time for a request
    /// after it: a wait that ends at or past the deadline is pointless.
    pub fn allows_wait_at(&self, now: Instant, wait: Duration) -> bool {
        self.remaining_at(now).is_some_and(|left| wait < left)
    }

    /// At most `d`, and never past the deadline (zero once it has passed).
    pub fn clamp(&self, d: Duration) -> Duration {
        self.remaining().map_or(Duration::ZERO, |left| left.min(d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_time_shrinks_to_none_at_the_deadline() {
        let start = Instant::now();
        let d = Deadline::from(start, Duration::from_secs(5));
        assert_eq!(d.limit(), Duration::from_secs(5));
        assert_eq!(d.remaining_at(start), Some(Duration::from_secs(5)));
        assert_eq!(d.remaining_at(start + Duration::from_millis(3500)), Some(Duration::from_millis(1500)));
        assert_eq!(d.remaining_at(start + Duration::from_secs(5)), None);
        assert_eq!(d.remaining_at(start + Duration::from_secs(60)), None);
    }

    #[test]
    fn a_wait_that_would_reach_the_deadline_is_not_allowed() {
        let start = Instant::now();
        let d = Deadline::from(start, Duration::from_secs(5));
        assert!(d.allows_wait_at(start, Duration::from_secs(4)));
        assert!(!d.allows_wait_at(start, Duration::from_secs(5)));
        assert!(!d.allows_wait_at(start + Duration::from_secs(2), Duration::from_secs(3)));
        assert!(!d.allows_wait_at(start + Duration::from_secs(6), Duration::ZERO));
    }
}
