//! The proactive quota gate: before a platform call, a slot in the documented quota for that
//! method and caller; background work waits for one, interactive callers are told when to retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shopbridge_core::Clock;
use shopbridge_core::quota::{Priority, SlidingWindow, vop_quota};

/// No slot now: retry after this many milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("quota exhausted: retry after {0} ms")]
pub struct RetryAfter(pub i64);

#[derive(Debug, Clone)]
pub struct QuotaGate {
    clock: Arc<dyn Clock>,
    windows: Arc<Mutex<HashMap<(String, String), SlidingWindow>>>,
}

impl QuotaGate {
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            windows: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    fn try_once(
        &self,
        service: &str,
        method: &str,
        caller: &str,
        priority: Priority,
    ) -> Result<(), RetryAfter> {
        let Some((rule, _)) = vop_quota(service, method) else {
            return Ok(());
        };
        let key = (format!("{service}.{}", rule.method), caller.to_owned());
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        windows
            .entry(key)
            .or_insert_with(|| SlidingWindow::for_rule(rule))
            .try_acquire(self.clock.now_ms(), priority)
            .map_err(RetryAfter)
    }

    /// Takes a slot: background callers wait for one, interactive ones get a retry-after.
    pub async fn acquire(
        &self,
        service: &str,
        method: &str,
        caller: &str,
        priority: Priority,
    ) -> Result<(), RetryAfter> {
        loop {
            match self.try_once(service, method, caller, priority) {
                Ok(()) => return Ok(()),
                Err(wait) if priority == Priority::Interactive => return Err(wait),
                Err(RetryAfter(ms)) => {
                    tokio::time::sleep(Duration::from_millis(ms.max(1) as u64)).await
                }
            }
        }
    }
}
