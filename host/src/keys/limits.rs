//! Each key's limits, enforced at the door of every inference request: requests per minute,
//! tokens per minute, requests at once, and a spend budget per day, week or month.
//!
//! Requests and tokens are counted in a sliding window of one minute (the current minute plus
//! the previous one, weighted by how much of it is still inside the window: the estimate
//! Cloudflare and others use, within a few percent of an exact log, in constant memory). A
//! request is charged when admitted; its tokens, and its cost against the budget, when its
//! usage is recorded (they are known only then), so a request already admitted is never cut
//! off, and the next one is refused. One mechanism for both is why this is not a
//! token-bucket crate: tokens are charged after the fact.
//!
//! The counters live in this process: several replicas on one store each enforce the limits
//! on what they serve. Spend in the current period is read back from the store's usage
//! records at start ([`Limits::preload_spend`]), so a restart does not reset a budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::KeyRecord;

/// Why a request is refused by its key's limits. Answered 429, with `Retry-After` when waiting
/// helps.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Limited {
    /// Requests per minute.
    #[error(
        "the Aratta client key {id} is limited to {limit} requests per minute; retry in {retry_after} s"
    )]
    Requests {
        /// The key.
        id: String,
        /// Its limit.
        limit: u64,
        /// Seconds until a request fits.
        retry_after: u64,
    },
    /// Tokens per minute.
    #[error(
        "the Aratta client key {id} is limited to {limit} tokens per minute and has used them; retry in {retry_after} s"
    )]
    Tokens {
        /// The key.
        id: String,
        /// Its limit.
        limit: u64,
        /// Seconds until the window has room.
        retry_after: u64,
    },
    /// Requests at once.
    #[error(
        "the Aratta client key {id} is limited to {limit} requests at once; retry when one ends"
    )]
    Concurrency {
        /// The key.
        id: String,
        /// Its limit.
        limit: u64,
    },
    /// The period's budget is spent.
    #[error(
        "the Aratta client key {id} has spent its budget of ${budget:.2} this {period} (${spent:.4}); it renews in {retry_after} s"
    )]
    Budget {
        /// The key.
        id: String,
        /// The budget, US dollars.
        budget: f64,
        /// Spent so far this period, US dollars.
        spent: f64,
        /// `day`, `week` or `month`.
        period: &'static str,
        /// Seconds until the next period.
        retry_after: u64,
    },
}

impl Limited {
    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Limited::Requests { .. } => "requests_per_minute_exceeded",
            Limited::Tokens { .. } => "tokens_per_minute_exceeded",
            Limited::Concurrency { .. } => "concurrency_exceeded",
            Limited::Budget { .. } => "budget_exceeded",
        }
    }

    /// Seconds to wait before retrying; `None` when it depends on other requests ending.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Limited::Requests { retry_after, .. }
            | Limited::Tokens { retry_after, .. }
            | Limited::Budget { retry_after, .. } => Some(*retry_after),
            Limited::Concurrency { .. } => None,
        }
    }
}

/// A count over a sliding minute: the current minute's and the previous one's.
#[derive(Debug, Default, Clone, Copy)]
struct Window {
    /// The minute `current` counts (ms since the epoch / 60,000).
    minute: u64,
    current: u64,
    previous: u64,
}

const MINUTE_MS: u64 = 60_000;

impl Window {
    fn roll(&mut self, now_ms: u64) {
        let minute = now_ms / MINUTE_MS;
        if minute == self.minute {
            return;
        }
        self.previous = if minute == self.minute + 1 {
            self.current
        } else {
            0
        };
        self.current = 0;
        self.minute = minute;
    }

    /// The estimated count over the minute ending at `now_ms`.
    fn count(&mut self, now_ms: u64) -> f64 {
        self.roll(now_ms);
        let into = (now_ms % MINUTE_MS) as f64 / MINUTE_MS as f64;
        self.previous as f64 * (1.0 - into) + self.current as f64
    }

    /// Seconds until `count` + `more` fits in `limit` (at least 1).
    fn wait(&mut self, now_ms: u64, limit: u64, more: u64) -> u64 {
        let into_ms = now_ms % MINUTE_MS;
        let room = limit as f64 - more as f64 - self.current as f64;
        let ms = if room < 0.0 || self.previous == 0 {
            // Only the next minute, with the current one as its previous, can have room.
            MINUTE_MS - into_ms
        } else {
            // The previous minute's share shrinks until it fits.
            let needed = (1.0 - room / self.previous as f64) * MINUTE_MS as f64;
            (needed as u64).saturating_sub(into_ms)
        };
        ms.div_ceil(1000).max(1)
    }

    fn add(&mut self, now_ms: u64, n: u64) {
        self.roll(now_ms);
        self.current = self.current.saturating_add(n);
    }
}

/// The budget period (`day`, `week` from Monday, or `month`, in UTC) holding `now_ms`:
/// [start, end) in Unix ms.
pub fn period_start(period: &str, now_ms: u64) -> (u64, u64) {
    let day_ms = 86_400_000;
    let days = now_ms / day_ms;
    match period {
        "day" => (days * day_ms, (days + 1) * day_ms),
        // 1970-01-01 was a Thursday; weeks start on Monday.
        "week" => {
            let monday = days - (days + 3) % 7;
            (monday * day_ms, (monday + 7) * day_ms)
        }
        _ => {
            let (y, m) = civil_month(days);
            let start = days_from_civil(y, m, 1);
            let next = if m == 12 {
                days_from_civil(y + 1, 1, 1)
            } else {
                days_from_civil(y, m + 1, 1)
            };
            (start * day_ms, next * day_ms)
        }
    }
}

/// (year, month) of the day `days` after 1970-01-01 (Howard Hinnant's civil_from_days).
fn civil_month(days: u64) -> (i64, u32) {
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m)
}

/// Days from 1970-01-01 to `y-m-d` (Howard Hinnant's days_from_civil).
fn days_from_civil(y: i64, m: u32, d: u32) -> u64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468).max(0) as u64
}

/// One key's counters.
#[derive(Debug, Default)]
struct Counters {
    requests: Window,
    tokens: Window,
    /// The budget period the spend is for, [start, end) in Unix ms.
    period: (u64, u64),
    spent_nano_usd: u64,
}

#[derive(Debug)]
struct KeyState {
    counters: Mutex<Counters>,
    slots: Option<Arc<Semaphore>>,
}

/// What an admitted request holds until it ends: its slot among the key's concurrent requests.
#[derive(Debug)]
pub struct Admitted {
    _slot: Option<OwnedSemaphorePermit>,
}

/// Every key's counters.
#[derive(Debug, Default)]
pub struct Limits {
    keys: Mutex<HashMap<String, Arc<KeyState>>>,
}

impl Limits {
    /// No counters yet: each key's are made on its first request.
    pub fn new() -> Limits {
        Limits::default()
    }

    /// What `key` spent in its budget period holding `now_ms` before this process started
    /// (nano-dollars, from the store's usage records).
    pub fn preload_spend(&self, key: &KeyRecord, spent_nano_usd: u64, now_ms: u64) {
        let state = self.state(key);
        let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
        let period = period_start(key.budget_period.as_deref().unwrap_or("month"), now_ms);
        c.period = period;
        c.spent_nano_usd = spent_nano_usd;
    }

    fn state(&self, key: &KeyRecord) -> Arc<KeyState> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.entry(key.id.clone())
            .or_insert_with(|| {
                Arc::new(KeyState {
                    counters: Mutex::new(Counters::default()),
                    slots: key.max_concurrent.map(|n| {
                        Arc::new(Semaphore::new(usize::try_from(n).unwrap_or(usize::MAX)))
                    }),
                })
            })
            .clone()
    }

    /// Admit a request on `key` at `now_ms`, or say which limit refuses it.
    pub fn admit(&self, key: &KeyRecord, now_ms: u64) -> Result<Admitted, Limited> {
        if !key.has_limits() {
            return Ok(Admitted { _slot: None });
        }
        let state = self.state(key);
        let slot = match (&state.slots, key.max_concurrent) {
            (Some(slots), Some(limit)) => Some(slots.clone().try_acquire_owned().map_err(
                |_| Limited::Concurrency {
                    id: key.id.clone(),
                    limit,
                },
            )?),
            _ => None,
        };
        let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(budget) = key.budget_usd {
            let period = key.budget_period.as_deref().unwrap_or("month");
            let (start, end) = period_start(period, now_ms);
            if c.period != (start, end) {
                // A new period (or the key's first request): nothing spent in it yet.
                c.period = (start, end);
                c.spent_nano_usd = 0;
            }
            let spent = c.spent_nano_usd as f64 / 1e9;
            if spent >= budget {
                return Err(Limited::Budget {
                    id: key.id.clone(),
                    budget,
                    spent,
                    period: match period {
                        "day" => "day",
                        "week" => "week",
                        _ => "month",
                    },
                    retry_after: (end - now_ms).div_ceil(1000),
                });
            }
        }
        if let Some(tpm) = key.tpm
            && c.tokens.count(now_ms) >= tpm as f64
        {
            return Err(Limited::Tokens {
                id: key.id.clone(),
                limit: tpm,
                retry_after: c.tokens.wait(now_ms, tpm, 1),
            });
        }
        if let Some(rpm) = key.rpm {
            if c.requests.count(now_ms) + 1.0 > rpm as f64 {
                return Err(Limited::Requests {
                    id: key.id.clone(),
                    limit: rpm,
                    retry_after: c.requests.wait(now_ms, rpm, 1),
                });
            }
            c.requests.add(now_ms, 1);
        }
        Ok(Admitted { _slot: slot })
    }

    /// Charge a finished request's tokens and cost to `key_id` at `now_ms`.
    pub fn charge(&self, key_id: &str, tokens: u64, cost_nano_usd: Option<u64>, now_ms: u64) {
        let state = {
            let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
            match keys.get(key_id) {
                Some(state) => state.clone(),
                // A key with no limits has no counters to charge.
                None => return,
            }
        };
        let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
        c.tokens.add(now_ms, tokens);
        if let Some(cost) = cost_nano_usd
            && now_ms >= c.period.0
            && now_ms < c.period.1
        {
            c.spent_nano_usd = c.spent_nano_usd.saturating_add(cost);
        }
    }

    /// Forget a key's counters (its limits changed or it was revoked).
    pub fn forget(&self, key_id: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(f: impl FnOnce(&mut KeyRecord)) -> KeyRecord {
        let mut k = KeyRecord {
            id: "key_1".into(),
            ..KeyRecord::default()
        };
        f(&mut k);
        k
    }

    const T0: u64 = 1_800_000_000_000; // a whole minute

    #[test]
    fn requests_per_minute_slide() {
        let limits = Limits::new();
        let k = key(|k| k.rpm = Some(3));
        for i in 0..3 {
            assert!(limits.admit(&k, T0 + i).is_ok());
        }
        let refused = limits.admit(&k, T0 + 10).unwrap_err();
        assert_eq!(refused.code(), "requests_per_minute_exceeded");
        assert_eq!(refused.retry_after(), Some(60));
        // Half-way into the next minute, half the previous minute's three still count: 1.5
        // + 1 fits in 3.
        assert!(limits.admit(&k, T0 + 90_000).is_ok());
        // Two minutes later the window is empty.
        for i in 0..3 {
            assert!(limits.admit(&k, T0 + 200_000 + i).is_ok());
        }
    }

    #[test]
    fn tokens_are_charged_after_and_refuse_the_next_request() {
        let limits = Limits::new();
        let k = key(|k| k.tpm = Some(1_000));
        assert!(limits.admit(&k, T0).is_ok());
        limits.charge("key_1", 1_500, None, T0 + 5);
        let refused = limits.admit(&k, T0 + 10).unwrap_err();
        assert!(
            matches!(refused, Limited::Tokens { limit: 1_000, .. }),
            "{refused}"
        );
        // The previous minute's 1,500 fall below 1,000 a third of the way into the next.
        assert!(limits.admit(&k, T0 + 60_000 + 10_000).is_err());
        assert!(limits.admit(&k, T0 + 60_000 + 21_000).is_ok());
    }

    #[tokio::test]
    async fn concurrency_is_held_until_the_request_ends() {
        let limits = Limits::new();
        let k = key(|k| k.max_concurrent = Some(2));
        let a = limits.admit(&k, T0).unwrap();
        let _b = limits.admit(&k, T0).unwrap();
        let refused = limits.admit(&k, T0).unwrap_err();
        assert_eq!(refused.retry_after(), None);
        drop(a);
        assert!(limits.admit(&k, T0).is_ok());
    }

    #[test]
    fn budgets_count_the_stored_spend_and_renew_each_period() {
        let limits = Limits::new();
        let k = key(|k| k.budget_usd = Some(1.0));
        // $0.90 spent before this process started: still under $1.
        limits.preload_spend(&k, 900_000_000, T0);
        assert!(limits.admit(&k, T0).is_ok());
        limits.charge("key_1", 10, Some(150_000_000), T0 + 1);
        let refused = limits.admit(&k, T0 + 2).unwrap_err();
        assert!(
            matches!(&refused, Limited::Budget { period: "month", spent, .. } if (*spent - 1.05).abs() < 1e-9),
            "{refused}"
        );
        let (_, end) = period_start("month", T0);
        assert_eq!(refused.retry_after(), Some((end - T0 - 2).div_ceil(1000)));
        assert!(limits.admit(&k, end).is_ok(), "a new month");
    }

    #[test]
    fn periods_start_where_the_calendar_says() {
        // 2027-03-17T12:00:00Z, a Wednesday.
        let t = 1_805_284_800_000;
        let day = 86_400_000;
        assert_eq!(
            period_start("day", t),
            (t - 12 * 3_600_000, t + 12 * 3_600_000)
        );
        let (monday, _) = period_start("week", t);
        assert_eq!(monday, t - 12 * 3_600_000 - 2 * day);
        let (first, next) = period_start("month", t);
        assert_eq!(first, days_from_civil(2027, 3, 1) * day);
        assert_eq!(next, days_from_civil(2027, 4, 1) * day);
        assert_eq!(civil_month(days_from_civil(2024, 2, 29)), (2024, 2));
        assert_eq!(civil_month(days_from_civil(2026, 12, 31)), (2026, 12));
        assert_eq!(days_from_civil(1970, 1, 1), 0);
    }
}
