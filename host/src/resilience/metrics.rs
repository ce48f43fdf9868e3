//! Counters, gauges and histograms of everything the gateway does, kept in one Prometheus
//! registry (the `prometheus` crate: lock-free counters, the standard text format) and served
//! as Prometheus text at `/metrics` and as JSON at `/api/v1/metrics`.
//!
//! Series exist from the start: a labelled series shows up only once its label values are
//! used, so every combination that can be known before the first call is created at zero when
//! the server starts, and dashboards and alerts (`increase(circuit_opens_total[5m]) > 0`) can
//! be written before the first failure. For each configured provider:
//!
//! | metric | created at zero for | seeded by |
//! | --- | --- | --- |
//! | `aratta_requests_total` | each route of [`ROUTES`] × `ok` and every failure kind | the gateway |
//! | `aratta_request_duration_seconds` | each route of [`ROUTES`] | the gateway |
//! | `provider_errors_total` | every failure kind | the gateway |
//! | `adapter_errors_total` | every [`ErrorClass`] | the gateway |
//! | `provider_retries_total`, `circuit_opens_total` | the provider | the gateway |
//! | `circuit_transitions_total` | every breaker [`Transition`] and operator [`Action`] | the gateway |
//! | `heal_requests_total` | the provider's adapter × each counted outcome | the heal worker |
//! | `adapter_swaps_total` | the provider's adapter × each action | the reload manager |
//! | `aratta_tokens_total`, `aratta_cost_usd_total` | each token kind of [`TOKEN_KINDS`]; the provider | the gateway |
//!
//! What cannot be known up front is left to appear on first use: adapters no provider names
//! (installed later, or only refused), `adapter_swaps_total{adapter="unknown"}` (a file refused
//! before its name was read), `aratta_client_requests_total{key}` (keys are made while serving), and `heal_duration_seconds{phase}` and `aratta_adapter_seconds`,
//! which carry no provider label. Unlabelled metrics (`open_circuits`,
//! `heal_triggers_total`) always exist.

use prometheus::proto::MetricType;
use prometheus::{
    CounterVec, Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts,
    Registry, TextEncoder,
};
use serde_json::{Value, json};

use super::breaker::{Action, Transition};
use super::samples::ErrorClass;

/// The `route` label of `aratta_requests_total` and `aratta_request_duration_seconds`: the
/// gateway's three operations (`Gateway::chat`, `chat_stream` and `embed` walk under these).
pub const ROUTES: [&str; 3] = ["chat", "chat_stream", "embed"];

/// The `kind` label of `aratta_tokens_total`: SCRI's usage fields.
pub const TOKEN_KINDS: [&str; 5] = ["input", "output", "cache_read", "cache_write", "reasoning"];

/// Latency buckets from 100 µs to 2 min: gateway overhead and provider calls on one scale.
const SECONDS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0, 120.0,
];

/// The gateway's metrics.
pub struct Metrics {
    registry: Registry,
    /// `aratta_requests_total{provider,route,outcome}`: calls to providers.
    pub requests: IntCounterVec,
    /// `aratta_request_duration_seconds{provider,route}`: each provider call, end to end.
    pub request_seconds: HistogramVec,
    /// `aratta_adapter_seconds{adapter,operation}`: time inside an adapter call (translation
    /// plus the upstream exchange it drives).
    pub adapter_seconds: HistogramVec,
    /// `provider_errors_total{provider,type}`: every provider failure, by error class.
    pub provider_errors: IntCounterVec,
    /// `adapter_errors_total{provider,class}`: adapter errors by the health monitor's class
    /// (the SCRI `adapter-error` variant, schema drift by kind).
    pub adapter_errors: IntCounterVec,
    /// `provider_retries_total{provider}`: transient failures retried on the same provider.
    pub retries: IntCounterVec,
    /// `circuit_opens_total{provider}`: breakers opening.
    pub circuit_opens: IntCounterVec,
    /// `circuit_transitions_total{provider,to}`: every breaker state change.
    pub circuit_transitions: IntCounterVec,
    /// `open_circuits`: breakers open right now.
    pub open_circuits: IntGauge,
    /// `adapter_swaps_total{adapter,action}`: the reload manager's swaps, refusals and
    /// rollbacks (manual and probation), so an operator can alert on a version being refused.
    pub adapter_swaps: IntCounterVec,
    /// `heal_triggers_total`: heal triggers the health monitor fired.
    pub heal_triggers: IntCounter,
    /// `heal_requests_total{adapter,outcome}`: heal cycles (not triggers) and how they ended.
    pub heal_requests: IntCounterVec,
    /// `heal_duration_seconds{phase}`: each heal phase, and `total` for a whole cycle.
    pub heal_duration: HistogramVec,
    /// `aratta_tokens_total{provider,kind}`: tokens providers reported, by [`TOKEN_KINDS`].
    pub tokens: IntCounterVec,
    /// `aratta_cost_usd_total{provider}`: what priced requests cost (unpriced ones add nothing:
    /// see `aratta_unpriced_requests_total`).
    pub cost_usd: CounterVec,
    /// `aratta_unpriced_requests_total{provider}`: requests that used tokens of a model with no
    /// known price.
    pub unpriced_requests: IntCounterVec,
    /// `aratta_client_requests_total{key,outcome}`: requests per client key (`anonymous`
    /// without one), `ok` or `error`.
    pub client_requests: IntCounterVec,
    /// `aratta_usage_records_dropped_total`: usage records lost because the recorder's queue
    /// was full or the store refused them for too long.
    pub usage_dropped: IntCounter,
    /// `aratta_usage_write_failures_total`: batches of usage records the store refused (they
    /// are kept and retried).
    pub usage_write_failures: IntCounter,
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter_vec = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let histogram_vec = |name: &str, help: &str, labels: &[&str]| {
            let h = HistogramVec::new(
                HistogramOpts::new(name, help).buckets(SECONDS.to_vec()),
                labels,
            )
            .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("unique metric");
            h
        };
        let requests = counter_vec(
            "aratta_requests_total",
            "Calls to providers, by outcome",
            &["provider", "route", "outcome"],
        );
        let request_seconds = histogram_vec(
            "aratta_request_duration_seconds",
            "Provider calls, end to end",
            &["provider", "route"],
        );
        let adapter_seconds = histogram_vec(
            "aratta_adapter_seconds",
            "Time inside adapter calls",
            &["adapter", "operation"],
        );
        let provider_errors = counter_vec(
            "provider_errors_total",
            "Provider failures by error class",
            &["provider", "type"],
        );
        let adapter_errors = counter_vec(
            "adapter_errors_total",
            "Adapter errors by class",
            &["provider", "class"],
        );
        let retries = counter_vec(
            "provider_retries_total",
            "Transient failures retried on the same provider",
            &["provider"],
        );
        let circuit_opens = counter_vec(
            "circuit_opens_total",
            "Circuit breakers opening",
            &["provider"],
        );
        let circuit_transitions = counter_vec(
            "circuit_transitions_total",
            "Circuit breaker state changes",
            &["provider", "to"],
        );
        let adapter_swaps = counter_vec(
            "adapter_swaps_total",
            "Adapter versions swapped in, refused or rolled back",
            &["adapter", "action"],
        );
        let open_circuits =
            IntGauge::new("open_circuits", "Circuit breakers open now").expect("valid metric");
        registry
            .register(Box::new(open_circuits.clone()))
            .expect("unique metric");
        let heal_triggers = IntCounter::new(
            "heal_triggers_total",
            "Heal triggers the health monitor fired",
        )
        .expect("valid metric");
        registry
            .register(Box::new(heal_triggers.clone()))
            .expect("unique metric");
        let heal_requests = counter_vec(
            "heal_requests_total",
            "Heal cycles, by adapter and outcome",
            &["adapter", "outcome"],
        );
        let heal_duration = HistogramVec::new(
            HistogramOpts::new("heal_duration_seconds", "Heal cycle phases' duration").buckets(
                vec![0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0],
            ),
            &["phase"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(heal_duration.clone()))
            .expect("unique metric");
        let tokens = counter_vec(
            "aratta_tokens_total",
            "Tokens providers reported, by kind",
            &["provider", "kind"],
        );
        let cost_usd = CounterVec::new(
            Opts::new(
                "aratta_cost_usd_total",
                "What priced requests cost, in US dollars",
            ),
            &["provider"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(cost_usd.clone()))
            .expect("unique metric");
        let unpriced_requests = counter_vec(
            "aratta_unpriced_requests_total",
            "Requests that used tokens of a model with no known price",
            &["provider"],
        );
        let client_requests = counter_vec(
            "aratta_client_requests_total",
            "Requests per client key",
            &["key", "outcome"],
        );
        let counter = |name: &str, help: &str| {
            let c = IntCounter::new(name, help).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("unique metric");
            c
        };
        let usage_dropped = counter(
            "aratta_usage_records_dropped_total",
            "Usage records lost (queue full, or the store refused them for too long)",
        );
        let usage_write_failures = counter(
            "aratta_usage_write_failures_total",
            "Batches of usage records the store refused (kept and retried)",
        );
        Metrics {
            registry,
            tokens,
            cost_usd,
            unpriced_requests,
            client_requests,
            usage_dropped,
            usage_write_failures,
            requests,
            request_seconds,
            adapter_seconds,
            provider_errors,
            adapter_errors,
            retries,
            circuit_opens,
            circuit_transitions,
            open_circuits,
            adapter_swaps,
            heal_triggers,
            heal_requests,
            heal_duration,
        }
    }

    /// Create at zero every series of `provider` whose label values are known before its
    /// first call (see the module's table). `failure_kinds` are the `outcome` / `type` values
    /// a failed call is counted under (the gateway's error kinds).
    pub fn seed_provider(&self, provider: &str, failure_kinds: &[&str]) {
        for route in ROUTES {
            self.request_seconds.with_label_values(&[provider, route]);
            self.requests.with_label_values(&[provider, route, "ok"]);
            for kind in failure_kinds {
                self.requests.with_label_values(&[provider, route, kind]);
            }
        }
        for kind in failure_kinds {
            self.provider_errors.with_label_values(&[provider, kind]);
        }
        for class in ErrorClass::ALL {
            self.adapter_errors
                .with_label_values(&[provider, class.as_str()]);
        }
        self.retries.with_label_values(&[provider]);
        self.circuit_opens.with_label_values(&[provider]);
        let states = Transition::CHANGES.iter().filter_map(|t| t.label());
        let actions = Action::ALL.iter().map(|a| a.label());
        for to in states.chain(actions) {
            self.circuit_transitions.with_label_values(&[provider, to]);
        }
        for kind in TOKEN_KINDS {
            self.tokens.with_label_values(&[provider, kind]);
        }
        self.cost_usd.with_label_values(&[provider]);
        self.unpriced_requests.with_label_values(&[provider]);
    }

    /// Create `heal_requests_total{adapter, outcome}` at zero for each of `outcomes` (the
    /// heal worker's counted cycle outcomes).
    pub fn seed_heal(&self, adapter: &str, outcomes: &[&str]) {
        for outcome in outcomes {
            self.heal_requests.with_label_values(&[adapter, outcome]);
        }
    }

    /// Create `adapter_swaps_total{adapter, action}` at zero for each of `actions` (the
    /// reload manager's reported actions).
    pub fn seed_swaps(&self, adapter: &str, actions: &[&str]) {
        for action in actions {
            self.adapter_swaps.with_label_values(&[adapter, action]);
        }
    }

    /// Prometheus text exposition format.
    pub fn prometheus_text(&self) -> String {
        let mut out = Vec::new();
        TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .expect("text encoding into memory cannot fail");
        String::from_utf8(out).expect("the text format is UTF-8")
    }

    /// The same data as JSON: `{name: {help, type, samples: [{labels, value | count, sum, buckets}]}}`.
    pub fn json(&self) -> Value {
        let mut families = serde_json::Map::new();
        for family in self.registry.gather() {
            let samples: Vec<Value> = family
                .get_metric()
                .iter()
                .map(|m| {
                    let labels: serde_json::Map<String, Value> = m
                        .get_label()
                        .iter()
                        .map(|l| (l.name().to_owned(), Value::from(l.value())))
                        .collect();
                    if family.get_field_type() == MetricType::HISTOGRAM {
                        let h = m.get_histogram();
                        let buckets: Vec<Value> = h
                            .get_bucket()
                            .iter()
                            .map(|b| json!({"le": b.upper_bound(), "count": b.cumulative_count()}))
                            .collect();
                        json!({"labels": labels, "count": h.get_sample_count(), "sum": h.get_sample_sum(), "buckets": buckets})
                    } else if family.get_field_type() == MetricType::COUNTER {
                        json!({"labels": labels, "value": m.get_counter().get_value()})
                    } else {
                        json!({"labels": labels, "value": m.get_gauge().get_value()})
                    }
                })
                .collect();
            families.insert(
                family.name().to_owned(),
                json!({"help": family.help(), "type": format!("{:?}", family.get_field_type()).to_lowercase(), "samples": samples}),
            );
        }
        Value::Object(families)
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_in_both_formats() {
        let m = Metrics::new();
        m.provider_errors
            .with_label_values(&["local", "rate_limit_error"])
            .inc();
        m.provider_errors
            .with_label_values(&["local", "rate_limit_error"])
            .inc();
        m.open_circuits.set(1);
        m.request_seconds
            .with_label_values(&["local", "chat"])
            .observe(0.002);
        let text = m.prometheus_text();
        assert!(
            text.contains("provider_errors_total{provider=\"local\",type=\"rate_limit_error\"} 2"),
            "{text}"
        );
        assert!(text.contains("open_circuits 1"));
        let json = m.json();
        assert_eq!(json["provider_errors_total"]["samples"][0]["value"], 2.0);
        assert_eq!(
            json["aratta_request_duration_seconds"]["samples"][0]["count"],
            1
        );
    }

    #[test]
    fn a_seeded_provider_shows_every_series_at_zero() {
        let m = Metrics::new();
        m.seed_provider("p", &["rate_limit_error", "upstream_error"]);
        m.seed_heal("google", &["swapped", "failed"]);
        m.seed_swaps("google", &["swapped"]);
        let text = m.prometheus_text();
        for line in [
            "circuit_opens_total{provider=\"p\"} 0",
            "provider_retries_total{provider=\"p\"} 0",
            "provider_errors_total{provider=\"p\",type=\"upstream_error\"} 0",
            "adapter_errors_total{class=\"adapter_trap\",provider=\"p\"} 0",
            "circuit_transitions_total{provider=\"p\",to=\"half_open\"} 0",
            "circuit_transitions_total{provider=\"p\",to=\"reset\"} 0",
            "aratta_requests_total{outcome=\"ok\",provider=\"p\",route=\"chat_stream\"} 0",
            "aratta_request_duration_seconds_count{provider=\"p\",route=\"embed\"} 0",
            "heal_requests_total{adapter=\"google\",outcome=\"failed\"} 0",
            "adapter_swaps_total{action=\"swapped\",adapter=\"google\"} 0",
        ] {
            assert!(text.contains(line), "{line} missing from:\n{text}");
        }
        let json = m.json();
        let samples = json["adapter_errors_total"]["samples"].as_array().unwrap();
        assert_eq!(samples.len(), ErrorClass::ALL.len());
        assert!(samples.iter().all(|s| s["value"] == 0.0));
        // 3 routes × (ok + 2 kinds).
        assert_eq!(
            json["aratta_requests_total"]["samples"]
                .as_array()
                .unwrap()
                .len(),
            9
        );
    }
}
