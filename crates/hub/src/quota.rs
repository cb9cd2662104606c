//! The proactive quota gate: before a platform call, a slot in the quota for that method and
//! caller; background work waits for one, interactive callers are told when to retry. The
//! windows live in this process, or in Redis so that every hub process shares them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use shopbridge_core::Clock;
use shopbridge_core::quota::{Priority, QuotaRule, QuotaTable, SlidingWindow};

/// No slot now: retry after this many milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("quota exhausted: retry after {0} ms")]
pub struct RetryAfter(pub i64);

/// The Redis side of a shared window: the same arithmetic as [`SlidingWindow`], atomic in one
/// script. KEYS[1] a sorted set of grant times; ARGV now, window, cap, a unique member.
/// Answers 0 when granted, else the milliseconds until a slot frees.
const SHARED_WINDOW_SCRIPT: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local cap = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < cap then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window * 2)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - cap, count - cap, 'WITHSCORES')
local wait = tonumber(oldest[2]) + window - now
if wait < 1 then wait = 1 end
return wait
";

#[derive(Clone)]
enum Windows {
    Local(Arc<Mutex<HashMap<(String, String), SlidingWindow>>>),
    Redis {
        connection: redis::aio::ConnectionManager,
        prefix: String,
    },
}

#[derive(Clone)]
pub struct QuotaGate {
    clock: Arc<dyn Clock>,
    table: QuotaTable,
    windows: Windows,
    /// How many times a background caller has started to wait for a slot, shared by the
    /// gate's clones: what shows that work is paced by the quota, and when.
    waits: Arc<tokio::sync::watch::Sender<u64>>,
}

impl std::fmt::Debug for QuotaGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match &self.windows {
            Windows::Local(_) => "local",
            Windows::Redis { .. } => "redis",
        };
        f.debug_struct("QuotaGate")
            .field("table", &self.table)
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

/// Redis could not be reached or answered something unexpected.
#[derive(Debug, thiserror::Error)]
#[error("redis: {0}")]
pub struct QuotaBackendError(String);

impl QuotaGate {
    /// The documented quotas, counted in this process.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            table: QuotaTable::documented(),
            windows: Windows::Local(Arc::new(Mutex::new(HashMap::new()))),
            waits: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// The number of times background callers have started to wait for a slot (or for the
    /// shared backend to answer again), as it grows.
    pub fn waits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.waits.subscribe()
    }

    /// Other quota rules (a higher tier, or a test's small quota).
    pub fn with_table(mut self, table: QuotaTable) -> Self {
        self.table = table;
        self
    }

    /// Counts in Redis at `url`, shared with every process using the same URL and `prefix`.
    pub async fn with_redis(mut self, url: &str, prefix: &str) -> Result<Self, QuotaBackendError> {
        let client = redis::Client::open(url).map_err(|err| QuotaBackendError(err.to_string()))?;
        let connection = redis::aio::ConnectionManager::new(client)
            .await
            .map_err(|err| QuotaBackendError(err.to_string()))?;
        self.windows = Windows::Redis {
            connection,
            prefix: prefix.to_owned(),
        };
        Ok(self)
    }

    async fn try_once(
        &self,
        service: &str,
        method: &str,
        caller: &str,
        priority: Priority,
    ) -> Result<Result<(), RetryAfter>, QuotaBackendError> {
        let Some((rule, _)) = self.table.vop(service, method) else {
            return Ok(Ok(()));
        };
        let name = format!("{service}.{}", rule.method);
        let now = self.clock.now_ms();
        match &self.windows {
            Windows::Local(windows) => {
                let mut windows = windows
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                Ok(windows
                    .entry((name, caller.to_owned()))
                    .or_insert_with(|| SlidingWindow::for_rule(&rule))
                    .try_acquire(now, priority)
                    .map_err(RetryAfter))
            }
            Windows::Redis { connection, prefix } => {
                shared_acquire(
                    connection.clone(),
                    prefix,
                    &name,
                    caller,
                    &rule,
                    now,
                    priority,
                )
                .await
            }
        }
    }

    /// Takes a slot: background callers wait for one, interactive ones get a retry-after. If the
    /// shared backend fails, the call waits and tries again rather than going over the quota.
    pub async fn acquire(
        &self,
        service: &str,
        method: &str,
        caller: &str,
        priority: Priority,
    ) -> Result<(), RetryAfter> {
        loop {
            match self.try_once(service, method, caller, priority).await {
                Ok(Ok(())) => return Ok(()),
                Ok(Err(wait)) if priority == Priority::Interactive => return Err(wait),
                Ok(Err(RetryAfter(ms))) => {
                    self.waits
                        .send_modify(|waits| *waits = waits.saturating_add(1));
                    tokio::time::sleep(Duration::from_millis(ms.max(1) as u64)).await
                }
                Err(err) => {
                    tracing::warn!(error = %err, "quota backend unavailable; waiting");
                    if priority == Priority::Interactive {
                        return Err(RetryAfter(1_000));
                    }
                    self.waits
                        .send_modify(|waits| *waits = waits.saturating_add(1));
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

async fn shared_acquire(
    mut connection: redis::aio::ConnectionManager,
    prefix: &str,
    name: &str,
    caller: &str,
    rule: &QuotaRule,
    now: i64,
    priority: Priority,
) -> Result<Result<(), RetryAfter>, QuotaBackendError> {
    // The same limiter as in-process, so the reserve and transit guard match.
    let local = SlidingWindow::for_rule(rule);
    let cap = match priority {
        Priority::Interactive => local.limit,
        Priority::Background => local.limit - local.reserve,
    };
    let member = format!("{now}-{}", uuid::Uuid::new_v4().simple());
    let wait: i64 = redis::Script::new(SHARED_WINDOW_SCRIPT)
        .key(format!("{prefix}:quota:{name}:{caller}"))
        .arg(now)
        .arg(local.window_ms)
        .arg(cap)
        .arg(member)
        .invoke_async(&mut connection)
        .await
        .map_err(|err| QuotaBackendError(err.to_string()))?;
    Ok(if wait == 0 {
        Ok(())
    } else {
        Err(RetryAfter(wait))
    })
}
