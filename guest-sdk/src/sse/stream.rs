//! One streamed answer read from a `text/event-stream` body, with the pump loop written once.
//!
//! A provider supplies only a [`Decoder`], the state machine that turns its events into SCRI
//! stream events. [`SseStream`] does the rest: it reads the body a chunk at a time, frames the
//! bytes with [`SseParser`], feeds each event to the decoder and hands the SCRI events it
//! queued to the host one by one, reading no more of the body than the next event needs, so
//! the first token reaches the client as soon as the provider sent it.

use std::collections::VecDeque;

use super::{SseEvent, SseParser};
use crate::StreamEvent;
use crate::error::MAX_ERROR_BODY;
use crate::events::EventStream;
use crate::http::ChunkSource;

/// A provider's streaming format: SSE events in, SCRI stream events out.
///
/// A decoder emits exactly one terminal event (`stop` or `error`) and then reports
/// [`is_done`](Decoder::is_done), after which [`SseStream`] reads no further.
pub trait Decoder {
    /// Handle one SSE event, appending the SCRI events it yields to `out`.
    fn on_event(&mut self, event: &SseEvent, out: &mut VecDeque<StreamEvent>);

    /// The body ended. `saw_events` says whether it held any SSE event (a body with none is
    /// most likely an error page sent with status 200); `head` is its first
    /// [`MAX_ERROR_BODY`] bytes, for the error detail. A decoder that is not done yet must
    /// emit its terminal event here: a stream cut short is an `error`, never a silent `stop`.
    fn on_eof(&mut self, saw_events: bool, head: &[u8], out: &mut VecDeque<StreamEvent>);

    /// Whether the terminal event went out.
    fn is_done(&self) -> bool;

    /// Whether `event`, cut off by the end of the body before its blank line, still counts.
    /// The SSE spec discards such an event and so does this default; a provider whose
    /// recordings end the last event without the blank line can accept it when it is whole.
    fn accepts_unterminated(&self, _event: &SseEvent) -> bool {
        false
    }
}

/// A streamed answer read from `source` on demand through the decoder `D`.
pub struct SseStream<S: ChunkSource, D: Decoder> {
    source: S,
    parser: SseParser,
    decoder: D,
    queue: VecDeque<StreamEvent>,
    parsed: Vec<SseEvent>,
    head: Vec<u8>,
    saw_events: bool,
    ended: bool,
}

impl<S: ChunkSource, D: Decoder> SseStream<S, D> {
    /// A stream over `source` (a response [`Body`](crate::http::Body), or recorded bytes in
    /// tests), decoded by `decoder`.
    pub fn new(source: S, decoder: D) -> Self {
        SseStream {
            source,
            parser: SseParser::new(),
            decoder,
            queue: VecDeque::new(),
            parsed: Vec::new(),
            head: Vec::new(),
            saw_events: false,
            ended: false,
        }
    }

    /// Read one chunk of the body and decode what it completes.
    fn pump(&mut self) {
        match self.source.read_chunk() {
            Ok(Some(bytes)) => {
                if self.head.len() < MAX_ERROR_BODY {
                    let room = MAX_ERROR_BODY - self.head.len();
                    self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
                }
                self.parser.push(&bytes, &mut self.parsed);
                self.decode_parsed();
            }
            Ok(None) => {
                if self.parser.has_partial_event() {
                    self.parser.push(b"\n\n", &mut self.parsed);
                    let decoder = &self.decoder;
                    self.parsed.retain(|e| decoder.accepts_unterminated(e));
                    self.decode_parsed();
                }
                self.decoder
                    .on_eof(self.saw_events, &self.head, &mut self.queue);
                self.ended = true;
            }
            Err(error) => {
                if !self.decoder.is_done() {
                    self.queue.push_back(StreamEvent::Error(error));
                }
                self.ended = true;
            }
        }
    }

    fn decode_parsed(&mut self) {
        for event in self.parsed.drain(..) {
            self.saw_events = true;
            self.decoder.on_event(&event, &mut self.queue);
        }
    }
}

impl<S: ChunkSource, D: Decoder> EventStream for SseStream<S, D> {
    fn next(&mut self) -> Option<StreamEvent> {
        loop {
            if let Some(event) = self.queue.pop_front() {
                return Some(event);
            }
            if self.ended || self.decoder.is_done() {
                return None;
            }
            self.pump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AdapterError, FinishReason};

    /// Each event's data as a text delta; `[DONE]` stops.
    #[derive(Default)]
    struct Echo {
        done: bool,
        unterminated: bool,
        eof: Option<(bool, Vec<u8>)>,
    }

    impl Decoder for Echo {
        fn on_event(&mut self, event: &SseEvent, out: &mut VecDeque<StreamEvent>) {
            if event.data == "[DONE]" {
                self.done = true;
                out.push_back(StreamEvent::Stop(FinishReason::Stop));
            } else {
                out.push_back(StreamEvent::TextDelta(event.data.clone()));
            }
        }

        fn on_eof(&mut self, saw_events: bool, head: &[u8], out: &mut VecDeque<StreamEvent>) {
            self.eof = Some((saw_events, head.to_vec()));
            if !self.done {
                self.done = true;
                out.push_back(StreamEvent::Error(AdapterError::other("cut")));
            }
        }

        fn is_done(&self) -> bool {
            self.done
        }

        fn accepts_unterminated(&self, _event: &SseEvent) -> bool {
            self.unterminated
        }
    }

    /// A body in pieces, counting reads; `Err` after the last piece when `fail` is set.
    struct Pieces {
        pieces: VecDeque<&'static [u8]>,
        reads: usize,
        fail: bool,
    }

    impl ChunkSource for Pieces {
        fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError> {
            self.reads += 1;
            match self.pieces.pop_front() {
                Some(piece) => Ok(Some(piece.to_vec())),
                None if self.fail => Err(AdapterError::timeout("stalled")),
                None => Ok(None),
            }
        }
    }

    fn stream(pieces: &[&'static [u8]], decoder: Echo, fail: bool) -> SseStream<Pieces, Echo> {
        let source = Pieces {
            pieces: pieces.iter().copied().collect(),
            reads: 0,
            fail,
        };
        SseStream::new(source, decoder)
    }

    fn drain(mut s: SseStream<Pieces, Echo>) -> (Vec<StreamEvent>, SseStream<Pieces, Echo>) {
        let mut events = Vec::new();
        while let Some(event) = s.next() {
            events.push(event);
        }
        (events, s)
    }

    #[test]
    fn reads_only_as_far_as_the_next_event_and_stops_at_the_end() {
        let mut s = stream(
            &[b"data: a\n\n", b"data: [DONE]\n\n", b"data: late\n\n"],
            Echo::default(),
            false,
        );
        assert_eq!(s.next(), Some(StreamEvent::TextDelta("a".into())));
        assert_eq!(s.source.reads, 1);
        let (events, s) = drain(s);
        assert_eq!(events, [StreamEvent::Stop(FinishReason::Stop)]);
        assert_eq!(
            s.source.reads, 2,
            "nothing is read after the terminal event"
        );
    }

    #[test]
    fn the_end_of_the_body_goes_to_the_decoder_with_its_head() {
        let (events, s) = drain(stream(&[b"data: a\n\ndata: cut"], Echo::default(), false));
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(matches!(events[1], StreamEvent::Error(_)));
        assert_eq!(
            s.decoder.eof,
            Some((true, b"data: a\n\ndata: cut".to_vec()))
        );
        let (_, s) = drain(stream(&[b"not an event stream"], Echo::default(), false));
        assert_eq!(s.decoder.eof.map(|(saw, _)| saw), Some(false));
    }

    #[test]
    fn an_unterminated_last_event_counts_only_when_the_decoder_accepts_it() {
        let accepting = Echo {
            unterminated: true,
            ..Echo::default()
        };
        let (events, _) = drain(stream(&[b"data: a\n\ndata: [DONE]"], accepting, false));
        assert_eq!(events.last(), Some(&StreamEvent::Stop(FinishReason::Stop)));
    }

    #[test]
    fn a_read_failure_ends_the_stream_with_its_error() {
        let (events, _) = drain(stream(&[b"data: a\n\n"], Echo::default(), true));
        assert!(matches!(
            events.last(),
            Some(StreamEvent::Error(AdapterError::Timeout(_)))
        ));
    }
}
