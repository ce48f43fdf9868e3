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
//! The request path reads and writes memory only. About once a second [`Limits::sync`] writes
//! this server's minute counts to the store and reads back the sum of every other server's
//! counts and spend (the servers sharing a PostgreSQL store, and earlier runs of this one; the
//! spend is what the usage recorder wrote with each batch of usage), so replicas enforce one
//! set of limits, each seeing the others' traffic within a second; a budget carries over a
//! restart the same way. Requests at once are shared the same way: each server writes how many
//! it has in flight on a key and reads the others' sum, so two servers can each admit one
//! request the other has not heard of yet, within that second, and a server that stops counts
//! for nothing after [`INFLIGHT_FRESH_MS`]. Shared counters in the store rather than a
//! Redis-compatible server: the store is already there, a second's delay is well inside what
//! per-minute limits and budgets need, and exact requests at once across servers would put a
//! store round trip on every request's path twice.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use super::KeyRecord;
use crate::store::counters::{MinuteCount, PeriodStarts};
use crate::store::{Store, StoreError};

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
        "the Aratta client key {id} has spent its budget of ${budget} this {period} (${spent:.4}); it renews in {retry_after} s"
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

    /// This window and `other` together, at `now_ms`.
    fn plus(&mut self, other: &mut Window, now_ms: u64) -> Window {
        self.roll(now_ms);
        other.roll(now_ms);
        Window {
            minute: self.minute,
            current: self.current.saturating_add(other.current),
            previous: self.previous.saturating_add(other.previous),
        }
    }
}

const DAY_MS: u64 = 86_400_000;

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

/// Another server's requests in flight count while the row it rewrites about once a second is
/// at most this old: longer than a busy store's slow write, short enough that a server that
/// stopped mid-request frees its share of a key's requests at once soon.
pub const INFLIGHT_FRESH_MS: u64 = 10_000;

/// What the other servers sharing the store counted on one key, as of the last sync.
#[derive(Debug, Default, Clone)]
struct Others {
    requests: Window,
    tokens: Window,
    /// Their requests in flight.
    inflight: u64,
    /// Their spend in the key's budget period, and that period, [start, end) in Unix ms.
    spend: Option<((u64, u64), u64)>,
}

/// One key's counters.
#[derive(Debug, Default)]
struct Counters {
    requests: Window,
    tokens: Window,
    /// The budget period the spend is for, [start, end) in Unix ms.
    period: (u64, u64),
    /// This server's spend in that period.
    spent_nano_usd: u64,
    others: Others,
    /// Counted since the last sync wrote them.
    dirty: bool,
    /// This server's requests in flight (kept only for a key limited in requests at once).
    inflight: u64,
    /// What the last sync wrote of `inflight`; `None` before the first write.
    inflight_written: Option<u64>,
}

impl Counters {
    /// The spend the budget is held to at `now_ms`: this server's and the others'.
    fn spent(&mut self, period: (u64, u64)) -> u64 {
        if self.period != period {
            // A new period (or the key's first request): nothing spent in it yet here.
            self.period = period;
            self.spent_nano_usd = 0;
        }
        let others = match self.others.spend {
            Some((p, spent)) if p == period => spent,
            _ => 0,
        };
        self.spent_nano_usd.saturating_add(others)
    }
}

#[derive(Debug)]
struct KeyState {
    counters: Mutex<Counters>,
    /// Whether the key limits requests at once, so its requests in flight are counted.
    counts_inflight: bool,
}

/// What an admitted request holds until it ends: its place among the key's requests in flight.
#[derive(Debug)]
pub struct Admitted {
    inflight: Option<Arc<KeyState>>,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Some(state) = self.inflight.take() {
            let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
            c.inflight = c.inflight.saturating_sub(1);
        }
    }
}

/// Every key's counters.
#[derive(Debug)]
pub struct Limits {
    keys: Mutex<HashMap<String, Arc<KeyState>>>,
    /// The others' counts from the last sync, for keys this server has not counted yet.
    others: Mutex<HashMap<String, Others>>,
    /// This server's name among those sharing the store: drawn at start, so each run's counts
    /// are its own rows.
    replica: String,
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new()
    }
}

impl Limits {
    /// No counters yet: each key's are made on its first request.
    pub fn new() -> Limits {
        let mut bytes = [0u8; 8];
        // Without randomness, the time and process id still tell runs apart.
        if getrandom::fill(&mut bytes).is_err() {
            let t = crate::clock::unix_millis() ^ u64::from(std::process::id()) << 40;
            bytes = t.to_le_bytes();
        }
        Limits {
            keys: Mutex::default(),
            others: Mutex::default(),
            replica: bytes.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }

    /// This server's name in the store's counters.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    fn state(&self, key: &KeyRecord) -> Arc<KeyState> {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(state) = keys.get(&key.id) {
            return state.clone();
        }
        let others = self
            .others
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key.id)
            .cloned()
            .unwrap_or_default();
        let state = Arc::new(KeyState {
            counters: Mutex::new(Counters {
                others,
                ..Counters::default()
            }),
            counts_inflight: key.max_concurrent.is_some(),
        });
        keys.insert(key.id.clone(), state.clone());
        state
    }

    /// Admit a request on `key` at `now_ms`, or say which limit refuses it.
    pub fn admit(&self, key: &KeyRecord, now_ms: u64) -> Result<Admitted, Limited> {
        if !key.has_limits() {
            return Ok(Admitted { inflight: None });
        }
        let state = self.state(key);
        let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
        let c = &mut *c;
        if let Some(limit) = key.max_concurrent
            && c.inflight.saturating_add(c.others.inflight) >= limit
        {
            return Err(Limited::Concurrency {
                id: key.id.clone(),
                limit,
            });
        }
        if let Some(budget) = key.budget_usd {
            let period = key.budget_period.as_deref().unwrap_or("month");
            let (start, end) = period_start(period, now_ms);
            let spent = c.spent((start, end)) as f64 / 1e9;
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
        if let Some(tpm) = key.tpm {
            let mut tokens = c.tokens.plus(&mut c.others.tokens, now_ms);
            if tokens.count(now_ms) >= tpm as f64 {
                return Err(Limited::Tokens {
                    id: key.id.clone(),
                    limit: tpm,
                    retry_after: tokens.wait(now_ms, tpm, 1),
                });
            }
        }
        if let Some(rpm) = key.rpm {
            let mut requests = c.requests.plus(&mut c.others.requests, now_ms);
            if requests.count(now_ms) + 1.0 > rpm as f64 {
                return Err(Limited::Requests {
                    id: key.id.clone(),
                    limit: rpm,
                    retry_after: requests.wait(now_ms, rpm, 1),
                });
            }
            c.requests.add(now_ms, 1);
            c.dirty = true;
        }
        let inflight = state.counts_inflight.then(|| {
            c.inflight += 1;
            state.clone()
        });
        Ok(Admitted { inflight })
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
        c.dirty = true;
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

    /// Write this server's minute counts to `store`, then read every other server's, and their
    /// spend (which the usage recorder writes with the usage records, under [`Limits::replica`]):
    /// the limits' view of the whole deployment, as of `now_ms`. Run once before serving (so a restart
    /// keeps the period's spend) and then about every second ([`Limits::start_sync`]).
    pub async fn sync(&self, store: &Store, now_ms: u64) -> Result<(), StoreError> {
        let states: Vec<(String, Arc<KeyState>)> = self
            .keys
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(id, s)| (id.clone(), s.clone()))
            .collect();
        let mut minutes = Vec::new();
        let mut written = Vec::new();
        let mut inflight = Vec::new();
        for (id, state) in &states {
            let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
            // Rewritten while there are any, so the row stays fresh; once more at none.
            if state.counts_inflight && (c.inflight > 0 || c.inflight_written != Some(c.inflight)) {
                inflight.push((id.clone(), c.inflight));
            }
            if !std::mem::take(&mut c.dirty) {
                continue;
            }
            written.push(state);
            c.requests.roll(now_ms);
            c.tokens.roll(now_ms);
            let minute = now_ms / MINUTE_MS;
            for (m, requests, tokens) in [
                (minute, c.requests.current, c.tokens.current),
                (minute - 1, c.requests.previous, c.tokens.previous),
            ] {
                minutes.push(MinuteCount {
                    key_id: id.clone(),
                    minute: m,
                    requests,
                    tokens,
                });
            }
        }
        if !minutes.is_empty()
            && let Err(e) = store.write_counters(&self.replica, &minutes).await
        {
            // Written again at the next sync: the rows are absolute, nothing doubles.
            for state in written {
                state
                    .counters
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .dirty = true;
            }
            return Err(e);
        }
        if !inflight.is_empty() {
            store
                .write_inflight(&self.replica, &inflight, now_ms)
                .await?;
            let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
            for (id, n) in &inflight {
                if let Some(state) = keys.get(id) {
                    state
                        .counters
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .inflight_written = Some(*n);
                }
            }
        }

        let minute = now_ms / MINUTE_MS;
        let day = |ms: u64| ms / DAY_MS;
        let starts = PeriodStarts {
            day: day(period_start("day", now_ms).0),
            week: day(period_start("week", now_ms).0),
            month: day(period_start("month", now_ms).0),
        };
        let counts = store.others_minutes(&self.replica, minute - 1).await?;
        let spent = store.others_spend(&self.replica, starts).await?;
        let inflight = store
            .others_inflight(&self.replica, now_ms.saturating_sub(INFLIGHT_FRESH_MS))
            .await?;
        let mut others: HashMap<String, Others> = HashMap::new();
        for m in counts {
            let o = others.entry(m.key_id).or_default();
            for (window, n) in [(&mut o.requests, m.requests), (&mut o.tokens, m.tokens)] {
                window.minute = minute;
                if m.minute == minute {
                    window.current = n;
                } else {
                    window.previous = n;
                }
            }
        }
        for s in spent {
            let period = period_start(s.period.as_deref().unwrap_or("month"), now_ms);
            others.entry(s.key_id).or_default().spend = Some((period, s.spent_nano_usd));
        }
        for (key_id, n) in inflight {
            others.entry(key_id).or_default().inflight = n;
        }
        for (id, state) in &states {
            let mut c = state.counters.lock().unwrap_or_else(|e| e.into_inner());
            c.others = others.get(id).cloned().unwrap_or(Others {
                requests: Window {
                    minute,
                    ..Window::default()
                },
                tokens: Window {
                    minute,
                    ..Window::default()
                },
                spend: None,
                inflight: 0,
            });
        }
        *self.others.lock().unwrap_or_else(|e| e.into_inner()) = others;
        Ok(())
    }

    /// Sync with `store` every `every` until the limits are dropped, and prune counts no
    /// limit reads any more once an hour. A store that fails is logged once until it recovers;
    /// meanwhile each server goes on counting what it serves.
    pub fn start_sync(self: &Arc<Self>, store: Store, every: Duration) {
        let limits: Weak<Limits> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            let mut next_prune = tokio::time::Instant::now();
            loop {
                tick.tick().await;
                let Some(limits) = limits.upgrade() else {
                    return;
                };
                let now = crate::clock::unix_millis();
                match limits.sync(&store, now).await {
                    Ok(()) if failing => {
                        failing = false;
                        tracing::info!(
                            "the client keys' counters are shared through the store again"
                        );
                    }
                    Ok(()) => {}
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "the client keys' counters cannot be shared through the store; each server enforces the limits on what it serves until it can");
                    }
                    Err(_) => {}
                }
                if tokio::time::Instant::now() >= next_prune {
                    next_prune += Duration::from_secs(3600);
                    // Two minutes of counts and 40 days of spend cover every window and period.
                    let minute = now / MINUTE_MS;
                    if let Err(e) = store
                        .prune_counters(
                            minute.saturating_sub(5),
                            (now / DAY_MS).saturating_sub(40),
                            now.saturating_sub(3_600_000),
                        )
                        .await
                    {
                        tracing::warn!(error = %e, "old client key counters could not be deleted");
                    }
                }
            }
        });
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

    /// Requests at once are held to one limit across servers sharing a store: each hears of the
    /// others' at its next sync, and a server that stopped counts for nothing once its row is
    /// stale.
    #[tokio::test]
    async fn servers_sharing_a_store_share_requests_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let k = key(|k| k.max_concurrent = Some(3));
        let (a, b) = (Limits::new(), Limits::new());
        let held_on_a = [a.admit(&k, T0).unwrap(), a.admit(&k, T0).unwrap()];
        let on_b = b.admit(&k, T0).unwrap();
        a.sync(&store, T0 + 1).await.unwrap();
        b.sync(&store, T0 + 1).await.unwrap();
        let refused = b.admit(&k, T0 + 2).unwrap_err();
        assert!(
            matches!(refused, Limited::Concurrency { limit: 3, .. }),
            "{refused}"
        );
        a.sync(&store, T0 + 3).await.unwrap();
        assert!(a.admit(&k, T0 + 4).is_err(), "a has heard of b's one");

        // One of a's ends: once b hears of it, b has room for one more, and only one.
        drop(on_b);
        let [first, _second] = held_on_a;
        drop(first);
        a.sync(&store, T0 + 1_000).await.unwrap();
        b.sync(&store, T0 + 1_000).await.unwrap();
        let _more = [
            b.admit(&k, T0 + 1_001).unwrap(),
            b.admit(&k, T0 + 1_001).unwrap(),
        ];
        assert!(b.admit(&k, T0 + 1_002).is_err(), "1 on a + 2 on b");

        // a stops without a word: once its row is stale, b no longer counts its one.
        let stale = T0 + 1_000 + INFLIGHT_FRESH_MS + 1;
        b.sync(&store, stale).await.unwrap();
        assert!(b.admit(&k, stale + 1).is_ok());
    }

    #[test]
    fn budgets_renew_each_period() {
        let limits = Limits::new();
        let k = key(|k| k.budget_usd = Some(1.0));
        assert!(limits.admit(&k, T0).is_ok());
        limits.charge("key_1", 10, Some(1_050_000_000), T0 + 1);
        let refused = limits.admit(&k, T0 + 2).unwrap_err();
        assert!(
            matches!(&refused, Limited::Budget { period: "month", spent, .. } if (*spent - 1.05).abs() < 1e-9),
            "{refused}"
        );
        let (_, end) = period_start("month", T0);
        assert_eq!(refused.retry_after(), Some((end - T0 - 2).div_ceil(1000)));
        assert!(limits.admit(&k, end).is_ok(), "a new month");
    }

    /// Two servers on one store: each sees what the other counted once both have synced,
    /// and a third started later (a restart) sees the budget's spend.
    #[tokio::test]
    async fn servers_sharing_a_store_enforce_one_set_of_limits() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let k = key(|k| {
            k.rpm = Some(4);
            k.budget_usd = Some(1.0);
            k.budget_period = Some("day".into());
        });
        store.insert_key(&k).await.unwrap();
        let (a, b) = (Limits::new(), Limits::new());
        assert_ne!(a.replica(), b.replica());
        for i in 0..3 {
            assert!(a.admit(&k, T0 + i).is_ok());
        }
        // As the usage recorder does: charge the limits, write the usage with its cost.
        let spend = |limits: &Limits, cost: u64, at: u64| {
            limits.charge("key_1", 100, Some(cost), at);
            let row = crate::store::usage::UsageRow {
                at_ms: at,
                key_id: Some("key_1".into()),
                cost_nano_usd: Some(cost),
                ..Default::default()
            };
            let (store, replica) = (store.clone(), limits.replica().to_owned());
            async move { store.insert_usage(&[row], &replica).await.unwrap() }
        };
        spend(&a, 600_000_000, T0 + 5).await;
        assert!(b.admit(&k, T0 + 10).is_ok(), "b has not heard of a's yet");
        a.sync(&store, T0 + 20).await.unwrap();
        b.sync(&store, T0 + 20).await.unwrap();
        let refused = b.admit(&k, T0 + 30).unwrap_err();
        assert_eq!(
            refused.code(),
            "requests_per_minute_exceeded",
            "3 on a + 1 on b"
        );
        assert!(
            a.admit(&k, T0 + 30).is_ok(),
            "a synced before b wrote its one"
        );
        a.sync(&store, T0 + 40).await.unwrap();
        assert!(
            a.admit(&k, T0 + 50).is_err(),
            "now a has heard of b's one too"
        );

        // Two minutes on, the rate is free again, and b spends the rest of the budget.
        let later = T0 + 180_000;
        assert!(b.admit(&k, later).is_ok());
        spend(&b, 500_000_000, later + 1).await;
        b.sync(&store, later + 2).await.unwrap();
        a.sync(&store, later + 2).await.unwrap();
        let refused = a.admit(&k, later + 3).unwrap_err();
        assert!(
            matches!(&refused, Limited::Budget { period: "day", spent, .. } if (*spent - 1.1).abs() < 1e-9),
            "{refused}"
        );

        // A server started afterwards (a restart) begins with the day's spend.
        let c = Limits::new();
        c.sync(&store, later + 4).await.unwrap();
        assert_eq!(
            c.admit(&k, later + 5).unwrap_err().code(),
            "budget_exceeded"
        );
        let tomorrow = period_start("day", later).1;
        c.sync(&store, tomorrow).await.unwrap();
        assert!(c.admit(&k, tomorrow + 1).is_ok(), "a new day");
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
