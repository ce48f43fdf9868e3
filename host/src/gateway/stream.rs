//! A streamed answer as the gateway hands it to the server: SCRI events, ending with exactly
//! one `stop` (carrying the lineage, with the latency up to that event) or `error`. What an
//! adapter's stream looked like in WIT stays here; the server only encodes SCRI.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use futures::Stream;

use super::GatewayError;
use super::usage::Ticket;
use crate::runtime::bindings::chat as wit;
use crate::runtime::{EventReceiver, InvokeError};
use crate::scri::{Lineage, StreamEvent, Usage, convert};

/// SCRI events of a streamed answer whose first event has arrived (fallback was possible
/// until then). Ends after `stop` or `error`; a stream the adapter cut short ends with an
/// `error` event of kind `stream_truncated`.
pub struct ChatStream {
    pending: Option<wit::StreamEvent>,
    rest: EventReceiver,
    lineage: Lineage,
    started: Instant,
    done: bool,
    /// The usage record, settled at `stop`, `error`, or when the client goes away (drop).
    ticket: Option<Ticket>,
    usage: Option<Usage>,
}

impl ChatStream {
    pub(super) fn new(
        first: wit::StreamEvent,
        rest: EventReceiver,
        lineage: Lineage,
        started: Instant,
        ticket: Option<Ticket>,
    ) -> Self {
        ChatStream {
            pending: Some(first),
            rest,
            lineage,
            started,
            done: false,
            ticket,
            usage: None,
        }
    }

    /// Where the answer comes from (the `stop` event carries it again, with the final
    /// latency): what a dialect writes into its response headers.
    pub fn lineage(&self) -> &Lineage {
        &self.lineage
    }
}

impl Stream for ChatStream {
    type Item = StreamEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let this = &mut *self;
        if this.done {
            return Poll::Ready(None);
        }
        let next = match this.pending.take() {
            Some(first) => Ok(first),
            None => std::task::ready!(this.rest.poll_next(cx)),
        };
        this.lineage.latency_us = this.started.elapsed().as_micros() as u64;
        let event = match next {
            Ok(event) => to_scri(event, &this.lineage),
            Err(error) => failure(&this.lineage, error),
        };
        this.done = matches!(event, StreamEvent::Stop { .. } | StreamEvent::Error { .. });
        match &event {
            StreamEvent::Usage { usage } => this.usage = Some(usage.clone()),
            StreamEvent::Stop { .. } => this.settle("ok"),
            StreamEvent::Error { error } => {
                let kind = error.kind.clone();
                this.settle(&kind);
            }
            _ => {}
        }
        Poll::Ready(Some(event))
    }
}

impl ChatStream {
    fn settle(&mut self, outcome: &str) {
        if let Some(ticket) = self.ticket.take() {
            ticket.answered(&self.lineage, self.usage.as_ref(), outcome);
        }
    }
}

impl Drop for ChatStream {
    /// A stream dropped before its end: the client went away. Recorded with the tokens
    /// reported so far (the provider may have billed more).
    fn drop(&mut self) {
        self.settle("client_closed");
    }
}

/// A failure after the first event: too late to fall back, so the client gets it as the
/// stream's last event.
fn failure(lineage: &Lineage, error: InvokeError) -> StreamEvent {
    let error = GatewayError::Invoke {
        provider: lineage.provider.clone(),
        error,
    };
    tracing::warn!(request_id = %lineage.request_id, error = %error, "stream failed");
    StreamEvent::Error {
        error: error.to_api_error(),
    }
}

fn to_scri(event: wit::StreamEvent, lineage: &Lineage) -> StreamEvent {
    match event {
        wit::StreamEvent::Start(s) => StreamEvent::Start {
            id: s.id,
            model: s.model,
        },
        wit::StreamEvent::TextDelta(text) => StreamEvent::TextDelta { text },
        wit::StreamEvent::ReasoningDelta(r) => StreamEvent::ReasoningDelta {
            text: r.text,
            signature: r.signature,
            redacted: r.redacted,
            format: r.format,
        },
        wit::StreamEvent::ToolCallStart(t) => StreamEvent::ToolCallStart {
            index: t.index,
            id: t.id,
            name: t.name,
            signature: t.signature,
        },
        wit::StreamEvent::ToolCallDelta(t) => StreamEvent::ToolCallDelta {
            index: t.index,
            arguments: t.arguments,
        },
        wit::StreamEvent::Usage(u) => StreamEvent::Usage {
            usage: convert::usage(u),
        },
        wit::StreamEvent::Stop(reason) => {
            let (finish_reason, finish_reason_raw) = convert::finish_reason(reason);
            StreamEvent::Stop {
                finish_reason,
                finish_reason_raw,
                lineage: lineage.clone(),
            }
        }
        wit::StreamEvent::Error(e) => failure(lineage, InvokeError::Adapter(e)),
    }
}
