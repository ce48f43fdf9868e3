//! Probation: the first minutes of a freshly swapped adapter version. The gateway reports the
//! outcome of every provider call ([`Probation::record`]); while a version is on probation, the
//! failures that point at the adapter (traps, truncated streams, responses it can no longer
//! parse, errors it cannot classify) are counted against it, and once enough calls have been
//! seen and the failure rate is over the threshold, a [`Verdict`] asks the reload manager to
//! roll it back. An adapter call cancelled at its wall-clock deadline is the adapter's failure.
//! Failures that say nothing about the adapter (rate limits, the provider's timeouts, a provider
//! that is down, a full instance pool, the caller's own invalid request) are counted as
//! neither.
//!
//! With nothing on probation, `record` is one atomic load: the success path pays nothing.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::gateway::GatewayError;
use crate::runtime::InvokeError;
use crate::runtime::bindings::errors::AdapterError;

/// How a new version is judged.
#[derive(Debug, Clone, Copy)]
pub struct ProbationRules {
    /// How long after the swap calls are judged.
    pub window: Duration,
    /// Calls needed before the failure rate means anything.
    pub min_calls: u32,
    /// Failure rate (0–1) above which the version is rolled back.
    pub max_error_rate: f64,
}

/// A version on probation failed it: roll it back.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The adapter.
    pub adapter: String,
    /// The version that failed (its component's SHA-256).
    pub sha256: String,
    /// Calls judged.
    pub calls: u32,
    /// Of which failed because of the adapter.
    pub failures: u32,
}

struct Trial {
    adapter: String,
    sha256: String,
    providers: Vec<String>,
    started: Instant,
    until: Instant,
    rules: ProbationRules,
    calls: u32,
    failures: u32,
}

/// Versions on probation, and where verdicts go.
#[derive(Default)]
pub struct Probation {
    active: AtomicBool,
    trials: Mutex<Vec<Trial>>,
    verdicts: OnceLock<mpsc::UnboundedSender<Verdict>>,
}

/// The gateway reports every call here (registered by the reload manager).
impl crate::gateway::CallObserver for Probation {
    fn call_finished(&self, provider: &str, error: Option<&GatewayError>, started: Instant) {
        self.record(provider, error, started);
    }
}

impl Probation {
    /// Send verdicts to `tx` (the reload manager). Only the first call has an effect.
    pub fn subscribe(&self, tx: mpsc::UnboundedSender<Verdict>) {
        let _ = self.verdicts.set(tx);
    }

    /// Put version `sha256` of `adapter`, serving `providers`, on probation from now.
    pub fn start(
        &self,
        adapter: &str,
        sha256: &str,
        providers: Vec<String>,
        rules: ProbationRules,
    ) {
        let now = Instant::now();
        let mut trials = self.trials.lock().unwrap_or_else(|e| e.into_inner());
        trials.retain(|t| t.adapter != adapter && t.until > now);
        if providers.is_empty() || rules.window.is_zero() {
            self.active.store(!trials.is_empty(), Ordering::Release);
            return;
        }
        trials.push(Trial {
            adapter: adapter.to_owned(),
            sha256: sha256.to_owned(),
            providers,
            started: now,
            until: now + rules.window,
            rules,
            calls: 0,
            failures: 0,
        });
        self.active.store(true, Ordering::Release);
    }

    /// End `adapter`'s probation (it was replaced or rolled back).
    pub fn end(&self, adapter: &str) {
        let mut trials = self.trials.lock().unwrap_or_else(|e| e.into_inner());
        trials.retain(|t| t.adapter != adapter);
        self.active.store(!trials.is_empty(), Ordering::Release);
    }

    /// Whether `adapter` is on probation now, and until when.
    pub fn until(&self, adapter: &str) -> Option<Instant> {
        let trials = self.trials.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        trials
            .iter()
            .find(|t| t.adapter == adapter && t.until > now)
            .map(|t| t.until)
    }

    /// One provider call that started at `started` ended with `error` (or succeeded).
    pub fn record(&self, provider: &str, error: Option<&GatewayError>, started: Instant) {
        if !self.active.load(Ordering::Acquire) {
            return;
        }
        let failed = match error {
            None => false,
            Some(e) => match blames_adapter(e) {
                Some(blame) => blame,
                None => return,
            },
        };
        let now = Instant::now();
        let mut trials = self.trials.lock().unwrap_or_else(|e| e.into_inner());
        let mut verdict = None;
        trials.retain_mut(|t| {
            if t.until <= now {
                tracing::info!(adapter = %t.adapter, sha256 = %t.sha256, calls = t.calls, failures = t.failures, "adapter version passed probation");
                return false;
            }
            // Calls that began before the swap ran on the previous version.
            if started < t.started || !t.providers.iter().any(|p| p == provider) {
                return true;
            }
            t.calls += 1;
            t.failures += u32::from(failed);
            let rate = f64::from(t.failures) / f64::from(t.calls);
            if t.calls >= t.rules.min_calls && rate > t.rules.max_error_rate {
                verdict = Some(Verdict {
                    adapter: t.adapter.clone(),
                    sha256: t.sha256.clone(),
                    calls: t.calls,
                    failures: t.failures,
                });
                return false;
            }
            true
        });
        self.active.store(!trials.is_empty(), Ordering::Release);
        drop(trials);
        if let Some(verdict) = verdict {
            tracing::error!(adapter = %verdict.adapter, sha256 = %verdict.sha256, calls = verdict.calls, failures = verdict.failures, "adapter version failed probation");
            if let Some(tx) = self.verdicts.get() {
                let _ = tx.send(verdict);
            }
        }
    }
}

/// Whether a failure is the adapter's (`Some(true)`), not a verdict on it at all (`None`: the
/// caller's mistake, a provider that is down or busy, a missing credential), or never `false`.
fn blames_adapter(e: &GatewayError) -> Option<bool> {
    match e {
        GatewayError::BadAdapter { .. } => Some(true),
        GatewayError::Invoke { error, .. } => match error {
            InvokeError::Trap { .. }
            | InvokeError::Truncated { .. }
            | InvokeError::Timeout { .. } => Some(true),
            InvokeError::Overloaded { .. } => None,
            InvokeError::Adapter(AdapterError::SchemaMismatch(_) | AdapterError::Other(_)) => {
                Some(true)
            }
            InvokeError::Adapter(_) => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> ProbationRules {
        ProbationRules {
            window: Duration::from_secs(60),
            min_calls: 4,
            max_error_rate: 0.5,
        }
    }

    fn trap() -> GatewayError {
        GatewayError::Invoke {
            provider: "p".into(),
            error: InvokeError::Trap {
                adapter: "a".into(),
                message: "it panicked".into(),
            },
        }
    }

    #[test]
    fn a_failing_version_gets_exactly_one_verdict() {
        let p = Probation::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        p.subscribe(tx);
        p.start("a", "sha", vec!["p".into()], rules());
        let t = Instant::now();
        p.record("p", None, t);
        for _ in 0..3 {
            p.record("p", Some(&trap()), t);
        }
        let v = rx.try_recv().expect("a verdict");
        assert_eq!((v.calls, v.failures, v.sha256.as_str()), (4, 3, "sha"));
        p.record("p", Some(&trap()), t);
        assert!(rx.try_recv().is_err(), "one verdict per probation");
        assert!(!p.active.load(Ordering::Acquire));
    }

    #[test]
    fn other_providers_earlier_calls_and_provider_outages_do_not_count() {
        let p = Probation::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        p.subscribe(tx);
        let before = Instant::now();
        p.start("a", "sha", vec!["p".into()], rules());
        let t = Instant::now();
        let down = GatewayError::CircuitOpen {
            provider: "p".into(),
        };
        for _ in 0..10 {
            p.record("q", Some(&trap()), t);
            p.record("p", Some(&trap()), before);
            p.record("p", Some(&down), t);
        }
        assert!(rx.try_recv().is_err());
        assert!(p.until("a").is_some());
        p.end("a");
        assert!(p.until("a").is_none());
    }
}
