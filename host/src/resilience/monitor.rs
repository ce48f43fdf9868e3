//! The health monitor: every adapter error is recorded and classified; a burst of errors that
//! healing could fix becomes one heal-trigger event.
//!
//! Per provider and error class there is a sliding window. When `error_threshold` errors of a
//! healable class ([`ErrorClass::heals`]) fall within `window`, the monitor emits a
//! [`HealTrigger`] carrying the recent samples, clears that window and stays quiet for that
//! provider and class until `cooldown` has passed, so one burst is one event and a heal in
//! progress is not asked for again. Transient classes (rate limits, timeouts, overload,
//! connection resets) are counted and never trigger.
//!
//! Events go out on a tokio broadcast channel (for in-process subscribers) and to the alert
//! sinks (see [`alerts`](super::alerts)); the last [`MAX_KEPT_TRIGGERS`] are kept for
//! `GET /api/v1/health/triggers`. Time is passed in (`now`), so tests drive the clock.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

use super::alerts::AlertSink;
use super::samples::{ErrorClass, ErrorSample};

/// Samples kept per provider and class (and so carried by a trigger).
pub const MAX_SAMPLES: usize = 5;

/// Triggers kept for the API.
pub const MAX_KEPT_TRIGGERS: usize = 50;

/// Events a slow subscriber may fall behind by before it misses some.
const CHANNEL_CAPACITY: usize = 64;

/// When a burst of errors becomes a heal trigger (from `[healing]`).
#[derive(Debug, Clone, Copy)]
pub struct MonitorSettings {
    /// Errors of one class within `window` that trigger healing.
    pub threshold: u32,
    /// The sliding window errors are counted in.
    pub window: Duration,
    /// How long a provider and class stay quiet after a trigger.
    pub cooldown: Duration,
}

/// A request to heal a provider's adapter: a burst of one error class crossed the threshold.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HealTrigger {
    /// Unique id of this event.
    pub id: String,
    /// When it fired, in milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// The provider whose calls failed.
    pub provider: String,
    /// The adapter that answered the last of them.
    pub adapter: String,
    /// That adapter's version.
    pub adapter_version: String,
    /// The class of error that crossed the threshold.
    pub class: ErrorClass,
    /// Errors of that class within the window when it fired.
    pub errors_in_window: u32,
    /// `[healing] error_threshold`.
    pub threshold: u32,
    /// `[healing] window_seconds`.
    pub window_seconds: u64,
    /// `[healing] cooldown_seconds`: no other trigger for this provider and class before then.
    pub cooldown_seconds: u64,
    /// The most recent errors of that class, oldest first.
    pub samples: Vec<ErrorSample>,
}

/// One window's state for the API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WindowStatus {
    /// The provider.
    pub provider: String,
    /// The error class.
    pub class: ErrorClass,
    /// Errors of this class ever recorded (since the server started).
    pub total: u64,
    /// Errors within the window now (healable classes only; transient ones are not windowed).
    pub in_window: u32,
    /// Seconds until this provider and class may trigger again.
    pub cooldown_remaining_seconds: Option<u64>,
}

#[derive(Default)]
struct Window {
    total: u64,
    errors: VecDeque<Instant>,
    samples: VecDeque<ErrorSample>,
    quiet_until: Option<Instant>,
}

impl Window {
    fn expire(&mut self, now: Instant, window: Duration) {
        while self
            .errors
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) > window)
        {
            self.errors.pop_front();
        }
    }
}

#[derive(Default)]
struct State {
    windows: BTreeMap<(String, ErrorClass), Window>,
    triggers: VecDeque<Arc<HealTrigger>>,
}

/// Records adapter errors and decides when they call for healing.
pub struct HealthMonitor {
    settings: MonitorSettings,
    state: Mutex<State>,
    events: broadcast::Sender<Arc<HealTrigger>>,
    sinks: Vec<Box<dyn AlertSink>>,
}

impl HealthMonitor {
    /// A monitor with no history that alerts `sinks` on every trigger.
    pub fn new(settings: MonitorSettings, sinks: Vec<Box<dyn AlertSink>>) -> Self {
        HealthMonitor {
            settings,
            state: Mutex::new(State::default()),
            events: broadcast::channel(CHANNEL_CAPACITY).0,
            sinks,
        }
    }

    /// Heal triggers from now on. A receiver that falls more than 64 events behind loses the
    /// oldest (and is told so by `RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<HealTrigger>> {
        self.events.subscribe()
    }

    /// The settings in force.
    pub fn settings(&self) -> MonitorSettings {
        self.settings
    }

    /// Record one adapter error that happened at `now`. Returns the heal trigger it fired, if
    /// it fired one; the trigger has already been published and handed to every sink.
    pub fn record(&self, sample: ErrorSample, now: Instant) -> Option<Arc<HealTrigger>> {
        let trigger = self.decide(sample, now)?;
        // No subscriber is fine: nothing in-process needs to listen.
        let _ = self.events.send(trigger.clone());
        for sink in &self.sinks {
            sink.deliver(&trigger);
        }
        Some(trigger)
    }

    /// The window bookkeeping, without publishing: what `record` decides.
    fn decide(&self, sample: ErrorSample, now: Instant) -> Option<Arc<HealTrigger>> {
        let s = self.settings;
        let class = sample.class;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let w = state
            .windows
            .entry((sample.provider.clone(), class))
            .or_default();
        w.total += 1;
        if !class.heals() {
            return None;
        }
        w.expire(now, s.window);
        // Invalid requests count only while the provider refuses them identically: a burst of
        // different refusals is callers' mistakes, one repeated refusal may be drift.
        if class == ErrorClass::InvalidRequest
            && w.samples
                .back()
                .is_some_and(|last| !same_refusal(last, &sample))
        {
            w.errors.clear();
            w.samples.clear();
        }
        w.errors.push_back(now);
        if w.samples.len() == MAX_SAMPLES {
            w.samples.pop_front();
        }
        w.samples.push_back(sample);
        if (w.errors.len() as u32) < s.threshold || w.quiet_until.is_some_and(|t| now < t) {
            return None;
        }
        let last = w.samples.back().expect("a sample was just pushed");
        let trigger = Arc::new(HealTrigger {
            id: format!("heal_{}", uuid::Uuid::new_v4().simple()),
            at_unix_ms: crate::clock::unix_millis(),
            provider: last.provider.clone(),
            adapter: last.adapter.clone(),
            adapter_version: last.adapter_version.clone(),
            class,
            errors_in_window: w.errors.len() as u32,
            threshold: s.threshold,
            window_seconds: s.window.as_secs(),
            cooldown_seconds: s.cooldown.as_secs(),
            samples: w.samples.iter().cloned().collect(),
        });
        w.errors.clear();
        w.samples.clear();
        w.quiet_until = Some(now + s.cooldown);
        if state.triggers.len() == MAX_KEPT_TRIGGERS {
            state.triggers.pop_front();
        }
        state.triggers.push_back(trigger.clone());
        Some(trigger)
    }

    /// The triggers fired so far (at most the last 50), oldest first.
    pub fn triggers(&self) -> Vec<Arc<HealTrigger>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.triggers.iter().cloned().collect()
    }

    /// The most recent healable errors of `adapter`, as a trigger would carry them: the
    /// window holding its newest sample, else the samples of its last trigger. What an
    /// operator's `aratta heal run` heals from.
    pub fn recent(&self, adapter: &str) -> Option<(String, ErrorClass, Vec<ErrorSample>)> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let newest_window = state
            .windows
            .iter()
            .filter(|((_, class), w)| {
                class.heals() && w.samples.back().is_some_and(|s| s.adapter == adapter)
            })
            .max_by_key(|(_, w)| w.samples.back().map(|s| s.at_unix_ms));
        if let Some(((provider, class), w)) = newest_window {
            return Some((
                provider.clone(),
                *class,
                w.samples.iter().cloned().collect(),
            ));
        }
        state
            .triggers
            .iter()
            .rev()
            .find(|t| t.adapter == adapter)
            .map(|t| (t.provider.clone(), t.class, t.samples.clone()))
    }

    /// Every provider and class seen so far, with its counts.
    pub fn windows(&self, now: Instant) -> Vec<WindowStatus> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let window = self.settings.window;
        state
            .windows
            .iter_mut()
            .map(|((provider, class), w)| {
                w.expire(now, window);
                WindowStatus {
                    provider: provider.clone(),
                    class: *class,
                    total: w.total,
                    in_window: w.errors.len() as u32,
                    cooldown_remaining_seconds: w
                        .quiet_until
                        .filter(|t| now < *t)
                        .map(|t| t.duration_since(now).as_secs()),
                }
            })
            .collect()
    }
}

/// Whether two invalid-request errors are the provider's same refusal (same status and
/// message).
fn same_refusal(a: &ErrorSample, b: &ErrorSample) -> bool {
    a.status == b.status && a.message == b.message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::samples::RequestShape;
    use crate::runtime::InvokeError;
    use crate::runtime::bindings::errors::{
        AdapterError, ErrorDetail, MismatchKind, RateLimit, SchemaMismatch,
    };

    fn detail() -> ErrorDetail {
        ErrorDetail {
            message: "drift".into(),
            status: Some(200),
            body: Some("{\"object\":\"chat.completion\"}".into()),
        }
    }

    fn mismatch(provider: &str) -> ErrorSample {
        let e = InvokeError::Adapter(AdapterError::SchemaMismatch(SchemaMismatch {
            kind: MismatchKind::MissingField,
            path: "choices".into(),
            detail: detail(),
        }));
        ErrorSample::new(
            provider,
            ("local", "0.1.0"),
            &e,
            None,
            RequestShape::default(),
        )
    }

    fn rate_limit() -> ErrorSample {
        let e = InvokeError::Adapter(AdapterError::RateLimited(RateLimit {
            retry_after_ms: Some(1000),
            detail: detail(),
        }));
        ErrorSample::new("p", ("local", "0.1.0"), &e, None, RequestShape::default())
    }

    fn monitor() -> HealthMonitor {
        HealthMonitor::new(
            MonitorSettings {
                threshold: 3,
                window: Duration::from_secs(60),
                cooldown: Duration::from_secs(300),
            },
            Vec::new(),
        )
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_threshold_within_the_window_fires_once_with_the_samples() {
        let m = monitor();
        let t = Instant::now();
        let mut events = m.subscribe();
        assert!(m.record(mismatch("p"), t).is_none());
        assert!(m.record(mismatch("p"), t + secs(1)).is_none());
        let trigger = m
            .record(mismatch("p"), t + secs(2))
            .expect("third error fires");
        assert_eq!(trigger.class, ErrorClass::MissingField);
        assert_eq!(trigger.errors_in_window, 3);
        assert_eq!(trigger.samples.len(), 3);
        assert_eq!(trigger.samples[0].status, Some(200));
        assert_eq!(events.try_recv().expect("published").id, trigger.id);
        assert_eq!(m.triggers().len(), 1);
    }

    #[test]
    fn errors_that_fall_out_of_the_window_do_not_count() {
        let m = monitor();
        let t = Instant::now();
        m.record(mismatch("p"), t);
        m.record(mismatch("p"), t + secs(1));
        assert!(m.record(mismatch("p"), t + secs(62)).is_none());
        assert_eq!(m.windows(t + secs(62))[0].in_window, 1);
    }

    #[test]
    fn the_cooldown_allows_one_trigger_then_another_after_it() {
        let m = monitor();
        let t = Instant::now();
        let mut fired = 0;
        // A steady burst for 10 minutes, one error every 5 s: one trigger per 300 s cooldown.
        for i in 0..120 {
            if m.record(mismatch("p"), t + secs(i * 5)).is_some() {
                fired += 1;
            }
        }
        assert_eq!(fired, 2, "t=10 s and t=310 s; the third would be at 610 s");
        let w = &m.windows(t + secs(600))[0];
        assert_eq!(w.total, 120);
        assert!(w.cooldown_remaining_seconds.is_some());
    }

    #[test]
    fn after_the_cooldown_a_fresh_burst_is_needed() {
        let m = monitor();
        let t = Instant::now();
        for i in 0..3 {
            m.record(mismatch("p"), t + secs(i));
        }
        // The window was cleared when it fired: one error after the cooldown is not a burst.
        assert!(m.record(mismatch("p"), t + secs(400)).is_none());
        assert!(m.record(mismatch("p"), t + secs(401)).is_none());
        assert!(m.record(mismatch("p"), t + secs(402)).is_some());
    }

    #[test]
    fn transient_errors_are_counted_and_never_trigger() {
        let m = monitor();
        let t = Instant::now();
        for i in 0..100 {
            assert!(
                m.record(rate_limit(), t + Duration::from_millis(i))
                    .is_none()
            );
        }
        let w = &m.windows(t)[0];
        assert_eq!(
            (w.class, w.total, w.in_window),
            (ErrorClass::RateLimited, 100, 0)
        );
        assert!(m.triggers().is_empty());
    }

    fn refusal(message: &str) -> ErrorSample {
        let e = InvokeError::Adapter(AdapterError::InvalidRequest(ErrorDetail {
            message: message.into(),
            status: Some(400),
            body: None,
        }));
        ErrorSample::new("p", ("local", "0.1.0"), &e, None, RequestShape::default())
    }

    #[test]
    fn only_the_same_refusal_repeated_triggers() {
        let m = monitor();
        let t = Instant::now();
        // Callers' mistakes: every refusal says something else.
        for (i, what) in ["a", "b", "c", "d", "e", "f"].iter().enumerate() {
            assert!(m.record(refusal(what), t + secs(i as u64)).is_none());
        }
        // The provider refuses what the adapter sends, every time.
        let same = "max_tokens: no longer supported; use max_output_tokens";
        assert!(m.record(refusal(same), t + secs(10)).is_none());
        assert!(m.record(refusal(same), t + secs(11)).is_none());
        let trigger = m.record(refusal(same), t + secs(12)).expect("fires");
        assert_eq!(trigger.class, ErrorClass::InvalidRequest);
        assert!(trigger.samples.iter().all(|s| s.message == same));
    }

    #[test]
    fn providers_are_windowed_apart() {
        let m = monitor();
        let t = Instant::now();
        for _ in 0..2 {
            m.record(mismatch("a"), t);
            m.record(mismatch("b"), t);
        }
        assert_eq!(m.record(mismatch("a"), t).unwrap().provider, "a");
        assert_eq!(m.record(mismatch("b"), t).unwrap().provider, "b");
    }

    #[test]
    fn samples_and_kept_triggers_are_bounded() {
        let m = HealthMonitor::new(
            MonitorSettings {
                threshold: 8,
                window: secs(60),
                cooldown: Duration::ZERO,
            },
            Vec::new(),
        );
        let t = Instant::now();
        let mut last = None;
        for i in 0..(8 * (MAX_KEPT_TRIGGERS as u64 + 5)) {
            last = m
                .record(mismatch("p"), t + Duration::from_millis(i))
                .or(last);
        }
        assert_eq!(last.unwrap().samples.len(), MAX_SAMPLES);
        assert_eq!(m.triggers().len(), MAX_KEPT_TRIGGERS);
    }
}
