//! One inference request as a trace: a server span named for the operation and the model
//! asked (`chat gpt-4o`), and under it a client span per provider attempt. Attributes follow
//! the GenAI semantic conventions (`gen_ai.*`); what they do not cover is under `aratta.*`.
//! No content (messages, tool arguments, answers) is ever put on a span.

use std::time::{Duration, SystemTime};

use opentelemetry::propagation::{Extractor, TextMapPropagator};
use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Context, KeyValue};
use opentelemetry_sdk::propagation::TraceContextPropagator;

use super::{Traces, provider_system};
use crate::scri::{Lineage, Usage};

/// The span of a request being served; ended exactly once, by [`RequestTrace::answered`],
/// [`RequestTrace::failed`] or, for a request abandoned (its client left, its deadline
/// passed), when it is dropped.
pub struct RequestTrace {
    cx: Context,
    tracer: opentelemetry_sdk::trace::SdkTracer,
    operation: &'static str,
    ended: bool,
}

/// One provider attempt, for its span.
pub struct Attempt<'a> {
    /// The provider's name in the config.
    pub provider: &'a str,
    /// Its adapter (for `gen_ai.provider.name`).
    pub adapter: &'a str,
    /// Its base URL, when it has one (`server.address`, `server.port`).
    pub base_url: Option<&'a str>,
    /// The provider's model.
    pub model: &'a str,
    /// `ok`, or the error type.
    pub outcome: &'a str,
    /// How long it took; it ended now.
    pub took: Duration,
    /// Its place among the request's attempts, 1 first.
    pub number: usize,
    /// Whether it repeats a provider already tried (a retry).
    pub retry: bool,
    /// What failed, when it did.
    pub error: Option<String>,
}

/// The caller's `traceparent` and `tracestate`, for the propagator.
struct Incoming<'a> {
    traceparent: &'a str,
    tracestate: Option<&'a str>,
}

impl Extractor for Incoming<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => Some(self.traceparent),
            "tracestate" => self.tracestate,
            _ => None,
        }
    }

    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// `gen_ai.operation.name` of a gateway route.
fn operation(route: &str) -> &'static str {
    match route {
        "embed" => "embeddings",
        _ => "chat",
    }
}

impl RequestTrace {
    /// Open the span of a request to `route` for `model`, under the caller's trace when it
    /// sent a valid `traceparent`.
    pub fn start(
        traces: &Traces,
        route: &str,
        model: &str,
        request_id: &str,
        key_id: Option<&str>,
        traceparent: Option<(&str, Option<&str>)>,
    ) -> RequestTrace {
        let parent = match traceparent {
            Some((traceparent, tracestate)) => TraceContextPropagator::new().extract(&Incoming {
                traceparent,
                tracestate,
            }),
            None => Context::new(),
        };
        let operation = operation(route);
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", operation),
            KeyValue::new("gen_ai.request.model", model.to_owned()),
            KeyValue::new("aratta.route", route.to_owned()),
            KeyValue::new("aratta.request_id", request_id.to_owned()),
        ];
        if let Some(key) = key_id {
            attributes.push(KeyValue::new("aratta.client_key.id", key.to_owned()));
        }
        let tracer = traces.tracer().clone();
        let span = tracer
            .span_builder(format!("{operation} {model}"))
            .with_kind(SpanKind::Server)
            .with_attributes(attributes)
            .start_with_context(&tracer, &parent);
        RequestTrace {
            cx: parent.with_span(span),
            tracer,
            operation,
            ended: false,
        }
    }

    /// One provider attempt that ended now (see [`Attempt`]).
    pub fn attempt(&self, attempt: Attempt<'_>) {
        let end = SystemTime::now();
        let Attempt {
            provider,
            adapter,
            base_url,
            model,
            outcome,
            took,
            number,
            retry,
            error,
        } = attempt;
        let mut attributes = vec![
            KeyValue::new("gen_ai.operation.name", self.operation),
            KeyValue::new("gen_ai.provider.name", provider_system(adapter)),
            KeyValue::new("gen_ai.request.model", model.to_owned()),
            KeyValue::new("aratta.provider", provider.to_owned()),
            KeyValue::new("aratta.attempt.number", number as i64),
            KeyValue::new("aratta.attempt.retry", retry),
            KeyValue::new("aratta.attempt.outcome", outcome.to_owned()),
        ];
        if let Some(url) = base_url.and_then(|u| url::Url::parse(u).ok()) {
            if let Some(host) = url.host_str() {
                attributes.push(KeyValue::new("server.address", host.to_owned()));
            }
            if let Some(port) = url.port_or_known_default() {
                attributes.push(KeyValue::new("server.port", i64::from(port)));
            }
        }
        if outcome != "ok" {
            attributes.push(KeyValue::new("error.type", outcome.to_owned()));
        }
        let span = self
            .tracer
            .span_builder(format!("{} {model}", self.operation))
            .with_kind(SpanKind::Client)
            .with_start_time(end.checked_sub(took).unwrap_or(end))
            .with_attributes(attributes)
            .start_with_context(&self.tracer, &self.cx);
        let cx = Context::new().with_span(span);
        if outcome != "ok" {
            cx.span()
                .set_status(Status::error(error.unwrap_or_else(|| outcome.to_owned())));
        }
        cx.span().end_with_timestamp(end);
    }

    /// The request was answered: who answered, with what usage; `outcome` is `ok` or how a
    /// stream ended after its first event.
    pub fn answered(mut self, lineage: &Lineage, usage: Option<&Usage>, outcome: &str) {
        let span = self.cx.span();
        let mut attributes = vec![
            KeyValue::new("gen_ai.response.model", lineage.model.clone()),
            KeyValue::new("aratta.provider", lineage.provider.clone()),
            KeyValue::new("aratta.adapter", lineage.adapter.clone()),
            KeyValue::new("aratta.adapter.version", lineage.adapter_version.clone()),
            KeyValue::new("aratta.attempts", lineage.attempts.len() as i64),
            KeyValue::new("aratta.outcome", outcome.to_owned()),
        ];
        attributes.push(KeyValue::new(
            "gen_ai.provider.name",
            provider_system(&lineage.adapter),
        ));
        if let Some(usage) = usage {
            let counts = [
                ("gen_ai.usage.input_tokens", usage.input_tokens),
                ("gen_ai.usage.output_tokens", usage.output_tokens),
                (
                    "gen_ai.usage.cache_read.input_tokens",
                    usage.cache_read_tokens,
                ),
                (
                    "gen_ai.usage.cache_creation.input_tokens",
                    usage.cache_write_tokens,
                ),
                ("aratta.usage.reasoning_tokens", usage.reasoning_tokens),
            ];
            attributes.extend(
                counts
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| KeyValue::new(k, i64::from(v)))),
            );
        }
        if outcome != "ok" {
            attributes.push(KeyValue::new("error.type", outcome.to_owned()));
            span.set_status(Status::error(format!("the stream ended with {outcome}")));
        }
        span.set_attributes(attributes);
        span.end();
        self.ended = true;
    }

    /// The request failed before any answer: `kind` is the error type, `message` what the
    /// client was told, after `attempts` provider attempts.
    pub fn failed(mut self, kind: &str, message: String, attempts: usize) {
        let span = self.cx.span();
        span.set_attributes([
            KeyValue::new("error.type", kind.to_owned()),
            KeyValue::new("aratta.outcome", kind.to_owned()),
            KeyValue::new("aratta.attempts", attempts as i64),
        ]);
        span.set_status(Status::error(message));
        span.end();
        self.ended = true;
    }
}

impl Drop for RequestTrace {
    fn drop(&mut self) {
        if !self.ended {
            let span = self.cx.span();
            span.set_attributes([
                KeyValue::new("error.type", "cancelled"),
                KeyValue::new("aratta.outcome", "cancelled"),
            ]);
            span.set_status(Status::error(
                "abandoned: the client went away or the request's deadline passed",
            ));
            span.end();
        }
    }
}
