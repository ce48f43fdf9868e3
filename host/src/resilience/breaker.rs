//! Per-provider circuit breakers: stop calling a provider that keeps failing, let a few probe
//! requests through after a recovery timeout, and close again once they succeed.
//!
//! ```text
//! CLOSED --(failure_threshold failures within window)--> OPEN
//! OPEN   --(recovery timeout elapsed)------------------> HALF_OPEN (probes let through)
//! HALF_OPEN --(half_open_successes successes)----------> CLOSED
//! HALF_OPEN --(any failure)----------------------------> OPEN
//! ```
//! An operator can force a breaker open (maintenance) or closed (after a manual fix), and
//! reset it; forced states hold until reset.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

/// When breakers trip and recover.
#[derive(Debug, Clone, Copy)]
pub struct BreakerSettings {
    /// Failures within `window` that open the breaker.
    pub failure_threshold: u32,
    /// The sliding window failures are counted in.
    pub window: Duration,
    /// How long an open breaker waits before letting probes through.
    pub recovery: Duration,
    /// Successful probes that close a half-open breaker.
    pub half_open_successes: u32,
}

/// A breaker's state as reported by the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls fail fast without reaching the provider.
    Open,
    /// Probe calls flow; their outcome decides.
    HalfOpen,
    /// Held open by an operator.
    ForcedOpen,
    /// Held closed by an operator.
    ForcedClosed,
}

/// One breaker's state for `GET /api/v1/breakers`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakerStatus {
    /// The provider.
    pub provider: String,
    /// Its state.
    pub state: BreakerState,
    /// Failures in the current window.
    pub recent_failures: u32,
    /// Seconds until an open breaker lets probes through.
    pub retry_in_seconds: Option<u64>,
}

#[derive(Debug)]
struct Breaker {
    state: BreakerState,
    failures: VecDeque<Instant>,
    opened_at: Option<Instant>,
    probe_successes: u32,
}

impl Breaker {
    fn new() -> Self {
        Breaker {
            state: BreakerState::Closed,
            failures: VecDeque::new(),
            opened_at: None,
            probe_successes: 0,
        }
    }
}

/// What happened to a breaker, so the caller can log and count it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// Nothing changed.
    None,
    /// The breaker opened.
    Opened,
    /// The breaker went half-open.
    HalfOpened,
    /// The breaker closed.
    Closed,
}

impl Transition {
    /// Every real change, so a provider's `circuit_transitions_total` series can exist at zero
    /// before its breaker first moves.
    pub const CHANGES: [Transition; 3] = [
        Transition::Opened,
        Transition::HalfOpened,
        Transition::Closed,
    ];

    /// The `to` label of `circuit_transitions_total` (`open`, `half_open`, `closed`); `None`
    /// when nothing changed.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Transition::None => None,
            Transition::Opened => Some("open"),
            Transition::HalfOpened => Some("half_open"),
            Transition::Closed => Some("closed"),
        }
    }
}

/// Every provider's breaker.
pub struct Breakers {
    settings: BreakerSettings,
    inner: Mutex<BTreeMap<String, Breaker>>,
}

impl Breakers {
    /// Breakers for `providers`, all closed.
    pub fn new(settings: BreakerSettings, providers: impl IntoIterator<Item = String>) -> Self {
        Breakers {
            settings,
            inner: Mutex::new(providers.into_iter().map(|p| (p, Breaker::new())).collect()),
        }
    }

    fn with<R>(
        &self,
        provider: &str,
        f: impl FnOnce(&mut Breaker, &BreakerSettings) -> R,
    ) -> Option<R> {
        let mut map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.get_mut(provider).map(|b| f(b, &self.settings))
    }

    /// Whether a call to `provider` may go ahead now. An open breaker whose recovery time has
    /// passed goes half-open and lets the call through as a probe.
    pub fn allow(&self, provider: &str, now: Instant) -> (bool, Transition) {
        self.with(provider, |b, s| match b.state {
            BreakerState::Closed | BreakerState::HalfOpen | BreakerState::ForcedClosed => {
                (true, Transition::None)
            }
            BreakerState::ForcedOpen => (false, Transition::None),
            BreakerState::Open => {
                if b.opened_at
                    .is_some_and(|t| now.duration_since(t) >= s.recovery)
                {
                    b.state = BreakerState::HalfOpen;
                    b.probe_successes = 0;
                    (true, Transition::HalfOpened)
                } else {
                    (false, Transition::None)
                }
            }
        })
        .unwrap_or((true, Transition::None))
    }

    /// Record a call's outcome. Only provider-side failures should be recorded as failures.
    pub fn record(&self, provider: &str, success: bool, now: Instant) -> Transition {
        self.with(provider, |b, s| {
            while b
                .failures
                .front()
                .is_some_and(|t| now.duration_since(*t) > s.window)
            {
                b.failures.pop_front();
            }
            match (b.state, success) {
                (BreakerState::ForcedOpen | BreakerState::ForcedClosed, _) => Transition::None,
                (BreakerState::Closed, true) => Transition::None,
                (BreakerState::Closed, false) => {
                    b.failures.push_back(now);
                    if b.failures.len() as u32 >= s.failure_threshold {
                        b.state = BreakerState::Open;
                        b.opened_at = Some(now);
                        Transition::Opened
                    } else {
                        Transition::None
                    }
                }
                (BreakerState::HalfOpen, true) => {
                    b.probe_successes += 1;
                    if b.probe_successes >= s.half_open_successes {
                        b.state = BreakerState::Closed;
                        b.failures.clear();
                        Transition::Closed
                    } else {
                        Transition::None
                    }
                }
                (BreakerState::HalfOpen, false) => {
                    b.state = BreakerState::Open;
                    b.opened_at = Some(now);
                    Transition::Opened
                }
                // A call admitted before the breaker opened finished late: nothing to change.
                (BreakerState::Open, _) => Transition::None,
            }
        })
        .unwrap_or(Transition::None)
    }

    /// Force a breaker open or closed, or reset it to closed with no history. `false` when
    /// the provider is unknown.
    pub fn set(&self, provider: &str, action: Action) -> bool {
        self.with(provider, |b, _| match action {
            Action::Open => b.state = BreakerState::ForcedOpen,
            Action::Close => b.state = BreakerState::ForcedClosed,
            Action::Reset => *b = Breaker::new(),
        })
        .is_some()
    }

    /// Every breaker's state.
    pub fn status(&self, now: Instant) -> Vec<BreakerStatus> {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.iter()
            .map(|(provider, b)| BreakerStatus {
                provider: provider.clone(),
                state: b.state,
                recent_failures: b
                    .failures
                    .iter()
                    .filter(|t| now.duration_since(**t) <= self.settings.window)
                    .count() as u32,
                retry_in_seconds: match (b.state, b.opened_at) {
                    (BreakerState::Open, Some(t)) => Some(
                        self.settings
                            .recovery
                            .saturating_sub(now.duration_since(t))
                            .as_secs(),
                    ),
                    _ => None,
                },
            })
            .collect()
    }

    /// How many breakers are open (forced or not).
    pub fn open_count(&self) -> usize {
        let map = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        map.values()
            .filter(|b| matches!(b.state, BreakerState::Open | BreakerState::ForcedOpen))
            .count()
    }
}

/// An operator's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Hold open (maintenance).
    Open,
    /// Hold closed (after a manual fix).
    Close,
    /// Back to closed, history cleared, no longer forced.
    Reset,
}

impl Action {
    /// Every command, so their `circuit_transitions_total` series can exist at zero.
    pub const ALL: [Action; 3] = [Action::Open, Action::Close, Action::Reset];

    /// The `to` label an operator's command is counted under (`open`, `close`, `reset`).
    pub fn label(self) -> &'static str {
        match self {
            Action::Open => "open",
            Action::Close => "close",
            Action::Reset => "reset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn breakers() -> Breakers {
        Breakers::new(
            BreakerSettings {
                failure_threshold: 3,
                window: Duration::from_secs(60),
                recovery: Duration::from_secs(30),
                half_open_successes: 2,
            },
            ["p".to_string()],
        )
    }

    #[test]
    fn opens_after_the_threshold_within_the_window_and_fails_fast() {
        let b = breakers();
        let t = Instant::now();
        assert_eq!(b.record("p", false, t), Transition::None);
        assert_eq!(b.record("p", false, t), Transition::None);
        assert_eq!(b.record("p", false, t), Transition::Opened);
        assert_eq!(
            b.allow("p", t + Duration::from_secs(1)),
            (false, Transition::None)
        );
        assert_eq!(b.open_count(), 1);
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let b = breakers();
        let t = Instant::now();
        b.record("p", false, t);
        b.record("p", false, t);
        assert_eq!(
            b.record("p", false, t + Duration::from_secs(61)),
            Transition::None
        );
        assert!(b.allow("p", t + Duration::from_secs(61)).0);
    }

    #[test]
    fn recovers_through_half_open_probes() {
        let b = breakers();
        let t = Instant::now();
        for _ in 0..3 {
            b.record("p", false, t);
        }
        let later = t + Duration::from_secs(31);
        assert_eq!(b.allow("p", later), (true, Transition::HalfOpened));
        assert_eq!(b.record("p", true, later), Transition::None);
        assert_eq!(b.record("p", true, later), Transition::Closed);
        assert_eq!(b.status(later)[0].state, BreakerState::Closed);
    }

    #[test]
    fn a_failed_probe_opens_it_again() {
        let b = breakers();
        let t = Instant::now();
        for _ in 0..3 {
            b.record("p", false, t);
        }
        let later = t + Duration::from_secs(31);
        b.allow("p", later);
        assert_eq!(b.record("p", false, later), Transition::Opened);
        assert!(!b.allow("p", later + Duration::from_secs(1)).0);
    }

    #[test]
    fn forced_states_hold_until_reset() {
        let b = breakers();
        let t = Instant::now();
        assert!(b.set("p", Action::Open));
        assert!(!b.allow("p", t + Duration::from_secs(3600)).0);
        assert!(b.set("p", Action::Close));
        for _ in 0..10 {
            b.record("p", false, t);
        }
        assert!(b.allow("p", t).0);
        assert!(b.set("p", Action::Reset));
        assert_eq!(b.status(t)[0].state, BreakerState::Closed);
        assert!(!b.set("nobody", Action::Open));
    }
}
