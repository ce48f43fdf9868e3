//! Turning each request the gateway serves into a usage record: a [`Ticket`] is taken when
//! the request starts (only when a recorder is installed: no cost otherwise) and settled once,
//! when the answer is complete, the request failed, or a stream's client went away. A ticket
//! dropped unsettled (the request's deadline passed, or its client left before an answer) is
//! recorded as `cancelled`.

use std::sync::Arc;
use std::time::Instant;

use super::{Gateway, GatewayError};
use crate::scri::{Lineage, Usage};
use crate::usage::{UsageRecorder, UsageRow};

/// A request being served, to record when it ends.
pub struct Ticket(Option<Open>);

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

    /// A ticket for a request to `route` for `model`, when usage is recorded. The client key
    /// is the request's caller (none outside a served request: agents, heal cycles). Public so
    /// the gateway benchmark can time the usage bookkeeping as it runs here.
    pub fn ticket(&self, route: &str, model: &str, request_id: &str) -> Option<Ticket> {
        let recorder = self.usage.get()?.clone();
        let key_id = crate::keys::CALLER
            .try_with(|c| c.key.as_ref().map(|k| k.id.clone()))
            .ok()
            .flatten();
        Some(Ticket(Some(Open {
            recorder,
            started: Instant::now(),
            row: UsageRow {
                at_ms: crate::clock::unix_millis(),
                request_id: request_id.to_owned(),
                key_id,
                route: route.to_owned(),
                model_asked: model.to_owned(),
                outcome: "ok".into(),
                ..UsageRow::default()
            },
        })))
    }
}

impl Ticket {
    /// The request ended with an answer from `lineage`'s provider (`outcome`: `ok`, or how a
    /// stream ended after its first event).
    pub fn answered(mut self, lineage: &Lineage, usage: Option<&Usage>, outcome: &str) {
        if let Some(mut open) = self.0.take() {
            open.row.provider = Some(lineage.provider.clone());
            open.row.model = Some(lineage.model.clone());
            open.row.attempts = lineage.attempts.len() as u32;
            open.row.outcome = outcome.to_owned();
            open.finish(&lineage.adapter, usage);
        }
    }

    /// The request failed with `error` before any answer.
    pub fn failed(mut self, error: &GatewayError) {
        let Some(mut open) = self.0.take() else {
            return;
        };
        let (attempts, last) = match error {
            GatewayError::Exhausted { attempts, last, .. } => (attempts.len(), last.as_ref()),
            other => (
                usize::from(matches!(other, GatewayError::Invoke { .. })),
                other,
            ),
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
        if let Some(mut open) = self.0.take() {
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
