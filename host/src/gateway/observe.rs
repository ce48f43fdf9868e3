//! What the gateway does with each provider call's outcome: metrics, the provider's circuit
//! breaker, the health monitor, and the [`CallObserver`]s registered by the layers above (the
//! reload manager's probation of a freshly swapped adapter version). Kept apart from the walk
//! in `mod.rs` so the request path reads as routing and fallback only.

use std::sync::Arc;
use std::time::Instant;

use super::{Gateway, GatewayError};
use crate::config::Config;
use crate::resilience::{
    AlertSink, ErrorClass, ErrorSample, HealthMonitor, LogSink, Metrics, MonitorSettings,
    RequestShape, Transition, WebhookSink,
};
use crate::runtime::InvokeError;

/// Told the outcome of every provider call the gateway makes, after the gateway's own
/// bookkeeping (metrics, breaker) and not for calls refused because the instance pool was
/// full. Called on the request path: an observer must be cheap when it has nothing to do.
pub trait CallObserver: Send + Sync {
    /// A call to `provider`, begun at `started`, answered (`error` is `None`) or failed.
    fn call_finished(&self, provider: &str, error: Option<&GatewayError>, started: Instant);
}

impl Gateway {
    /// Count one provider call and feed its outcome to the provider's breaker. Only
    /// provider-side failures count against a breaker: a request the provider rejected as
    /// invalid shows the provider is alive. A call refused because the gateway's instance
    /// pool was full says nothing about the provider or its adapter: it is counted in the
    /// metrics only. Public so the gateway benchmark can time the success path's
    /// bookkeeping as it runs here.
    pub fn observe<T>(
        &self,
        provider: &str,
        route: &'static str,
        outcome: &Result<T, GatewayError>,
        elapsed: std::time::Duration,
        at: Instant,
    ) {
        let m = &self.metrics;
        m.request_seconds
            .with_label_values(&[provider, route])
            .observe(elapsed.as_secs_f64());
        let (label, provider_failed) = match outcome {
            Ok(_) => ("ok", false),
            Err(e) => {
                m.provider_errors
                    .with_label_values(&[provider, e.kind()])
                    .inc();
                (e.kind(), e.falls_back())
            }
        };
        m.requests
            .with_label_values(&[provider, route, label])
            .inc();
        if outcome.as_ref().is_err_and(GatewayError::is_overload) {
            return;
        }
        let transition = self
            .breakers
            .record(provider, !provider_failed, at + elapsed);
        self.note_transition(provider, transition);
        let observers = self.observers.read().unwrap_or_else(|e| e.into_inner());
        for observer in observers.iter() {
            observer.call_finished(provider, outcome.as_ref().err(), at);
        }
    }

    /// Tell `observer` every provider call's outcome from now on. How a layer above the
    /// gateway (the reload manager) follows calls without the gateway knowing it.
    pub fn add_observer(&self, observer: Arc<dyn CallObserver>) {
        self.observers
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(observer);
    }

    /// Count an adapter error by class and hand it to the health monitor; a heal trigger it
    /// fires is counted in `heal_triggers_total`. A full instance pool is not the adapter's
    /// error and is left out. The request's shape is only built here, on
    /// the error path.
    pub(super) fn note_error(
        &self,
        provider: &str,
        adapter: &crate::runtime::Adapter,
        (error, upstream_status): (&InvokeError, Option<u16>),
        shape: &dyn Fn() -> RequestShape,
        at: Instant,
    ) {
        if error.is_overload() {
            return;
        }
        let class = ErrorClass::of(error);
        self.metrics
            .adapter_errors
            .with_label_values(&[provider, class.as_str()])
            .inc();
        let sample = ErrorSample::new(
            provider,
            (&adapter.info.name, &adapter.info.version),
            error,
            upstream_status,
            shape(),
        );
        if self.monitor.record(sample, at).is_some() {
            self.metrics.heal_triggers.inc();
        }
    }

    /// Log and count a breaker's state change.
    pub fn note_transition(&self, provider: &str, transition: Transition) {
        let Some(to) = transition.label() else {
            return;
        };
        match transition {
            Transition::None => {}
            Transition::Opened => {
                self.metrics
                    .circuit_opens
                    .with_label_values(&[provider])
                    .inc();
                tracing::warn!(
                    provider,
                    "circuit breaker opened: calls fail fast until it recovers"
                );
            }
            Transition::HalfOpened => {
                tracing::info!(
                    provider,
                    "circuit breaker half-open: letting probes through"
                );
            }
            Transition::Closed => tracing::info!(provider, "circuit breaker closed"),
        }
        self.metrics
            .circuit_transitions
            .with_label_values(&[provider, to])
            .inc();
        self.metrics
            .open_circuits
            .set(self.breakers.open_count() as i64);
    }
}

/// The gateway's metrics, with every series of each of `providers` created at zero (see
/// [`Metrics::seed_provider`]), so they are listed before the first request.
pub(super) fn metrics<'a>(providers: impl Iterator<Item = &'a String>) -> Metrics {
    let metrics = Metrics::new();
    let kinds: Vec<&str> = GatewayError::call_failure_kinds().collect();
    for provider in providers {
        metrics.seed_provider(provider, &kinds);
    }
    metrics
}

/// The health monitor for `config`'s `[healing]`: a log line per trigger, and a webhook when
/// one is configured (a URL the config check let through but the client refuses is logged).
pub(super) fn monitor(config: &Config) -> HealthMonitor {
    let h = &config.healing;
    let mut sinks: Vec<Box<dyn AlertSink>> = vec![Box::new(LogSink)];
    if let Some(url) = &h.alert_webhook_url {
        let timeout = std::time::Duration::from_secs(h.alert_webhook_timeout_seconds);
        match WebhookSink::new(url, timeout) {
            Ok(sink) => sinks.push(Box::new(sink)),
            Err(e) => tracing::error!(error = %e, "heal triggers will not be posted"),
        }
    }
    HealthMonitor::new(
        MonitorSettings {
            threshold: h.error_threshold,
            window: std::time::Duration::from_secs(h.window_seconds),
            cooldown: std::time::Duration::from_secs(h.cooldown_seconds),
        },
        sinks,
    )
}
