//! The [`EventStream`] a streamed answer is read from, and what adapters do with one: peek at
//! its start so an early error can still fall back, or replay a complete answer as events.

use std::collections::VecDeque;

use crate::{
    AdapterError, ChatResponse, ContentBlock, ReasoningDelta, StreamEvent, StreamStart,
    ToolCallDelta, ToolCallStart,
};

/// The events of one streamed answer, pulled by the host one at a time.
///
/// A well-formed stream yields `start`, any deltas and `usage`, then exactly one `stop`; or an
/// `error` at any point. The SDK's glue returns `None` after the first `stop` or `error`, so an
/// implementation need not guard against being called again.
pub trait EventStream {
    /// The next event, or `None` once the stream has ended. Read only as much of the provider's
    /// body as the next event needs, so the first token reaches the client early.
    fn next(&mut self) -> Option<StreamEvent>;
}

/// A boxed stream is a stream, so wrappers and helpers take either.
impl<T: EventStream + ?Sized> EventStream for Box<T> {
    fn next(&mut self) -> Option<StreamEvent> {
        (**self).next()
    }
}

/// A boxed [`EventStream`], what [`Adapter::chat_stream`](crate::Adapter::chat_stream) returns.
pub type BoxEventStream = Box<dyn EventStream>;

/// Read `stream` up to its first event after `start`. When that is an `error`, nothing of the
/// answer exists yet, so it is returned as `Err` and the host can still fall back to another
/// provider; otherwise the stream is returned whole, the events read so far included.
pub fn peek_stream(mut stream: BoxEventStream) -> Result<BoxEventStream, AdapterError> {
    let mut seen = Vec::new();
    loop {
        match stream.next() {
            Some(StreamEvent::Error(error)) => return Err(error),
            Some(event @ StreamEvent::Start(_)) => seen.push(event),
            Some(event) => {
                seen.push(event);
                break;
            }
            None => break,
        }
    }
    Ok(Box::new(Chain {
        seen: seen.into(),
        rest: stream,
    }))
}

/// Events already read, then the rest of the stream.
struct Chain {
    seen: VecDeque<StreamEvent>,
    rest: BoxEventStream,
}

impl EventStream for Chain {
    fn next(&mut self) -> Option<StreamEvent> {
        self.seen.pop_front().or_else(|| self.rest.next())
    }
}

/// An [`EventStream`] over events already in memory, for adapters whose provider cannot stream
/// (answer with `chat`, then replay the result) and for tests.
#[derive(Debug, Default)]
pub struct VecEventStream {
    events: VecDeque<StreamEvent>,
}

impl VecEventStream {
    /// A stream that yields `events` in order.
    pub fn new(events: Vec<StreamEvent>) -> Self {
        VecEventStream {
            events: events.into(),
        }
    }

    /// The events of a complete answer: for a server that answers a streaming request with
    /// one JSON body (a proxy, a server that cannot stream), and for adapters that cannot
    /// stream at all.
    pub fn from_response(response: ChatResponse) -> Self {
        let mut events = vec![StreamEvent::Start(StreamStart {
            id: response.id,
            model: response.model,
        })];
        let mut index = 0;
        for block in response.content {
            match block {
                ContentBlock::Text(text) => events.push(StreamEvent::TextDelta(text)),
                ContentBlock::Reasoning(r) => {
                    events.push(StreamEvent::ReasoningDelta(ReasoningDelta {
                        text: r.text,
                        signature: r.signature,
                        redacted: r.redacted,
                        format: r.format,
                    }))
                }
                ContentBlock::ToolUse(call) => {
                    events.push(StreamEvent::ToolCallStart(ToolCallStart {
                        index,
                        id: call.id,
                        name: call.name,
                        signature: call.signature,
                    }));
                    events.push(StreamEvent::ToolCallDelta(ToolCallDelta {
                        index,
                        arguments: call.arguments,
                    }));
                    index += 1;
                }
                ContentBlock::Image(_) | ContentBlock::ToolResult(_) => {}
            }
        }
        if let Some(usage) = response.usage {
            events.push(StreamEvent::Usage(usage));
        }
        events.push(StreamEvent::Stop(response.finish_reason));
        Self::new(events)
    }
}

impl EventStream for VecEventStream {
    fn next(&mut self) -> Option<StreamEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FinishReason, StreamStart};

    fn start() -> StreamEvent {
        StreamEvent::Start(StreamStart {
            id: "i".into(),
            model: "m".into(),
        })
    }

    #[test]
    fn an_error_before_any_content_is_returned_as_err() {
        let stream = VecEventStream::new(vec![
            start(),
            StreamEvent::Error(AdapterError::timeout("t")),
        ]);
        assert!(matches!(
            peek_stream(Box::new(stream)),
            Err(AdapterError::Timeout(_))
        ));
    }

    #[test]
    fn otherwise_every_event_is_kept_in_order() {
        let events = vec![
            start(),
            StreamEvent::TextDelta("a".into()),
            StreamEvent::Error(AdapterError::timeout("later")),
        ];
        let mut stream = peek_stream(Box::new(VecEventStream::new(events.clone()))).unwrap();
        let mut out = Vec::new();
        while let Some(e) = stream.next() {
            out.push(e);
        }
        assert_eq!(out, events);
        let mut empty = peek_stream(Box::new(VecEventStream::new(vec![]))).unwrap();
        assert_eq!(empty.next(), None);
        let stop = vec![start(), StreamEvent::Stop(FinishReason::Stop)];
        let mut s = peek_stream(Box::new(VecEventStream::new(stop))).unwrap();
        assert_eq!(s.next(), Some(start()));
    }
}
