//! Turning each request the gateway serves into a usage record and a trace: a [`Ticket`] is
//! taken when the request starts (only when a recorder or traces are installed: no cost
//! otherwise) and settled once, when the answer is complete, the request failed, or a
//! stream's client went away. A ticket dropped unsettled (the request's deadline passed, or
//! its client left before an answer) is recorded as `cancelled`.

use std::sync::Arc;
use std::time::Instant;

use super::{Gateway, GatewayError};
use crate::scri::{Lineage, Usage};
use crate::traces::{RequestTrace, Traces};
use crate::usage::{UsageRecorder, UsageRow};

/// A request being served, to record (usage) and trace when it ends.
pub struct Ticket {
    usage: Option<Open>,
    trace: Option<RequestTrace>,
}

struct Open {
    recorder: Arc<UsageRecorder>,
    row: UsageRow,
    started: Instant,
}

impl Gateway {
    /// Record every request's usage with `recorder` from now on (once; later calls are
    /// ignored).
    pub fn record_usage(&self, recorder: Arc<UsageRecorder>) {
        let _ = self.usage.set(recorder);
    }

    /// Trace every request with `traces` from now on (once; later calls are ignored).
    pub fn trace_with(&self, traces: Arc<Traces>) {
        let _ = self.traces.set(traces);
    }

    /// The traces requests and heal cycles are exported to, when configured.
    pub fn traces(&self) -> Option<&Arc<Traces>> {
        self.traces.get()
    }

    /// A ticket for a request to `route` for `model`, when usage is recorded or requests are
    /// traced. The client key (and the caller's `traceparent`) come from the request's caller
    /// (none outside a served request: agents, heal cycles). Public so the gateway benchmark
    /// can time the usage bookkeeping as it runs here.
    pub fn ticket(&self, route: &str, model: &str, request_id: &str) -> Option<Ticket> {
        let recorder = self.usage.get();
        let traces = self.traces.get();
        if recorder.is_none() && traces.is_none() {
            return None;
        }
        crate::keys::CALLER
            .try_with(|c| Some(self.ticket_for(c, route, model, request_id)))
            .unwrap_or_else(|_| {
                let anonymous = crate::keys::Caller::default();
                Some(self.ticket_for(&anonymous, route, model, request_id))
            })
    }

    fn ticket_for(
        &self,
        caller: &crate::keys::Caller,
        route: &str,
        model: &str,
        request_id: &str,
    ) -> Ticket {
        let key_id = caller.key.as_ref().map(|k| k.id.as_str());
        let usage = self.usage.get().map(|recorder| Open {
            recorder: recorder.clone(),
            started: Instant::now(),
            row: UsageRow {
                at_ms: crate::clock::unix_millis(),
                request_id: request_id.to_owned(),
                key_id: key_id.map(str::to_owned),
                route: route.to_owned(),
                model_asked: model.to_owned(),
                outcome: "ok".into(),
                ..UsageRow::default()
            },
        });
        let trace = self.traces.get().map(|traces| {
            let parent = caller
                .traceparent
                .as_deref()
                .map(|p| (p, caller.tracestate.as_deref()));
            RequestTrace::start(traces, route, model, request_id, key_id, parent)
        });
        Ticket { usage, trace }
    }
}

impl Ticket {
    /// The request's trace, for its attempts' spans.
    pub(super) fn trace(&self) -> Option<&RequestTrace> {
        self.trace.as_ref()
    }

    /// The request ended with an answer from `lineage`'s provider (`outcome`: `ok`, or how a
    /// stream ended after its first event).
    pub fn answered(mut self, lineage: &Lineage, usage: Option<&Usage>, outcome: &str) {
        if let Some(trace) = self.trace.take() {
            trace.answered(lineage, usage, outcome);
        }
        if let Some(mut open) = self.usage.take() {
            open.row.provider = Some(lineage.provider.clone());
            open.row.model = Some(lineage.model.clone());
            open.row.attempts = lineage.attempts.len() as u32;
            open.row.outcome = outcome.to_owned();
            open.finish(&lineage.adapter, usage);
        }
    }

    /// The request failed with `error` before any answer.
    pub fn failed(mut self, error: &GatewayError) {
        let (attempts, last) = match error {
            GatewayError::Exhausted { attempts, last, .. } => (attempts.len(), last.as_ref()),
            other => (
                usize::from(matches!(other, GatewayError::Invoke { .. })),
                other,
            ),
        };
        if let Some(trace) = self.trace.take() {
            trace.failed(error.kind(), error.to_string(), attempts);
        }
        let Some(mut open) = self.usage.take() else {
            return;
        };
        if let GatewayError::Invoke { provider, .. } = last {
            open.row.provider = Some(provider.clone());
        }
        open.row.attempts = attempts as u32;
        open.row.outcome = error.kind().to_owned();
        open.finish("", None);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if let Some(mut open) = self.usage.take() {
            open.row.outcome = "cancelled".into();
            open.finish("", None);
        }
    }
}

impl Open {
    fn finish(mut self, adapter: &str, usage: Option<&Usage>) {
        self.row.latency_us = self.started.elapsed().as_micros() as u64;
        self.recorder.record(self.row, adapter, usage);
    }
}
