//! Where the session takes the time from: the system clock, or in tests a clock that
//! stands still until it is moved, so times and time limits can be checked exactly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};

/// A source of the current time. Cheap to clone; clones of a fixed clock share its time,
/// so a test keeps one to move the clock the session holds.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    fixed: Option<Arc<Mutex<DateTime<FixedOffset>>>>,
}

impl Clock {
    /// The system's clock, in local time.
    pub fn system() -> Clock {
        Clock { fixed: None }
    }

    /// A clock showing `at` until [`Clock::advance`] moves it.
    pub fn fixed(at: DateTime<FixedOffset>) -> Clock {
        Clock { fixed: Some(Arc::new(Mutex::new(at))) }
    }

    /// Moves a fixed clock forward; the system clock moves on its own and ignores this.
    pub fn advance(&self, by: Duration) {
        if let Some(t) = &self.fixed {
            let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(later) = chrono::Duration::from_std(by).ok().and_then(|by| t.checked_add_signed(by)) {
                *t = later;
            }
        }
    }

    /// The current time.
    pub fn now(&self) -> DateTime<FixedOffset> {
        match &self.fixed {
            Some(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
            None => crate::util::now(),
        }
    }
}
