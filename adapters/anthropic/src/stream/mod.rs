//! Streamed Messages (`"stream": true`) as SCRI stream events.
//!
//! Anthropic streams `message_start`, then per content block `content_block_start`, deltas and
//! `content_block_stop`, then `message_delta` (stop reason, cumulative usage) and
//! `message_stop`; `ping` and event types added later may come anywhere and are skipped.
//! [`Decoder`] maps them:
//!
//! | Anthropic | SCRI |
//! | --- | --- |
//! | `message_start` | `start`; its usage is emitted just before the first content event |
//! | `text_delta` (and text in a block start) | `text-delta` |
//! | `thinking_delta` / `signature_delta` | `reasoning-delta` with text / with signature |
//! | `redacted_thinking` block | `reasoning-delta` with `redacted` |
//! | `tool_use` block start / `input_json_delta` | `tool-call-start` / `tool-call-delta`, indexed among tool calls |
//! | `message_delta` | `usage` with the start's totals updated by the delta's |
//! | `message_stop` | `stop` |
//! | `error` | `error` (`overloaded_error` → `overloaded`, ...) |
//!
//! The start's usage waits for content so that an `error` right after `message_start` is still
//! the first thing after `start`, where `peek_stream` can return it for fallback. A body that
//! ends without `message_stop` is an `error` (truncated), never a silent success.

mod decoder;

use std::collections::VecDeque;

use aratta_guest::error::MAX_ERROR_BODY;
use aratta_guest::http::ChunkSource;
use aratta_guest::sse::{SseEvent, SseParser};
use aratta_guest::{EventStream, StreamEvent};

pub use decoder::Decoder;

fn is_json(data: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(data).is_ok()
}

/// A streamed answer read from `source` on demand: each `next` reads just enough of the body
/// to yield the next event.
pub struct SseStream<S: ChunkSource> {
    source: S,
    parser: SseParser,
    decoder: Decoder,
    queue: VecDeque<StreamEvent>,
    parsed: Vec<SseEvent>,
    head: Vec<u8>,
    saw_events: bool,
    ended: bool,
}

impl<S: ChunkSource> SseStream<S> {
    /// A stream over `source` (a response body, or recorded bytes in tests).
    pub fn new(source: S, decoder: Decoder) -> Self {
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

    fn feed(&mut self, bytes: &[u8]) {
        if self.head.len() < MAX_ERROR_BODY {
            let room = MAX_ERROR_BODY - self.head.len();
            self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        }
        self.parser.push(bytes, &mut self.parsed);
        for event in self.parsed.drain(..) {
            self.saw_events = true;
            self.decoder.on_event(&event, &mut self.queue);
        }
    }

    fn pump(&mut self) {
        match self.source.read_chunk() {
            Ok(Some(bytes)) => self.feed(&bytes),
            Ok(None) => {
                // A last event whose blank line never came (the SDK's own recorded streams end
                // so) counts when its data is whole JSON; a cut one is left to `on_eof`, which
                // reports the truncation.
                if self.parser.has_partial_event() {
                    let mut tail = Vec::new();
                    self.parser.push(b"\n\n", &mut tail);
                    for event in tail.iter().filter(|e| is_json(&e.data)) {
                        self.saw_events = true;
                        self.decoder.on_event(event, &mut self.queue);
                    }
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
}

impl<S: ChunkSource> EventStream for SseStream<S> {
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
