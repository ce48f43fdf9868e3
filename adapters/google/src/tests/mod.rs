//! Tests against recorded Gemini bodies in `tests/fixtures/google/` (see its README for where
//! each comes from), plus request bodies checked field for field.

mod errors;
mod models;
mod request;
mod response;
mod round_trip;
mod stream;
mod tools;

use std::collections::VecDeque;

use aratta_guest::http::ChunkSource;
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, CallContext, ChatRequest, ContentBlock, EventStream, Fallbacks, Message,
    MessageContent, Reasoning, Role, Sampling, StreamEvent, ToolCall,
};

use crate::stream::StreamDecoder;

/// The text of a fixture file.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/google/",
            $name
        ))
    };
}
pub(crate) use fixture;

pub(crate) fn ctx() -> CallContext {
    CallContext {
        base_url: crate::DEFAULT_BASE_URL.into(),
        request_id: "req-0001-abcd".into(),
    }
}

pub(crate) fn fallbacks() -> Fallbacks {
    crate::response::fallbacks(&ctx(), "gemini-requested")
}

pub(crate) fn sampling() -> Sampling {
    Sampling {
        temperature: None,
        top_p: None,
        top_k: None,
        max_tokens: None,
        stop: Vec::new(),
        seed: None,
        presence_penalty: None,
        frequency_penalty: None,
    }
}

pub(crate) fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "gemini-2.5-flash".into(),
        messages,
        tools: Vec::new(),
        tool_choice: None,
        parallel_tool_calls: None,
        response_format: None,
        sampling: sampling(),
        reasoning: None,
        user: None,
        extra: None,
    }
}

pub(crate) fn text(role: Role, text: &str) -> Message {
    Message {
        role,
        content: MessageContent::Text(text.into()),
        name: None,
    }
}

pub(crate) fn blocks(role: Role, blocks: Vec<ContentBlock>) -> Message {
    Message {
        role,
        content: MessageContent::Blocks(blocks),
        name: None,
    }
}

pub(crate) fn call(id: &str, name: &str, arguments: &str, signature: Option<&str>) -> ContentBlock {
    ContentBlock::ToolUse(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
        signature: signature.map(Into::into),
    })
}

pub(crate) fn reasoning(text: &str, signature: Option<&str>, format: Option<&str>) -> ContentBlock {
    ContentBlock::Reasoning(Reasoning {
        text: text.into(),
        signature: signature.map(Into::into),
        redacted: None,
        format: format.map(Into::into),
    })
}

/// A body delivered in pieces of `size` bytes, counting how many pieces were read.
pub(crate) struct Chunks {
    pieces: VecDeque<Vec<u8>>,
    pub(crate) read: std::rc::Rc<std::cell::Cell<usize>>,
}

impl Chunks {
    pub(crate) fn new(body: &[u8], size: usize) -> Self {
        Chunks {
            pieces: body.chunks(size.max(1)).map(<[u8]>::to_vec).collect(),
            read: Default::default(),
        }
    }
}

impl ChunkSource for Chunks {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError> {
        let piece = self.pieces.pop_front();
        if piece.is_some() {
            self.read.set(self.read.get() + 1);
        }
        Ok(piece)
    }
}

/// Every event of a stream, checking that it ends with exactly one terminal event.
pub(crate) fn drain(mut stream: impl EventStream) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    while let Some(event) = stream.next() {
        events.push(event);
        assert!(events.len() < 10_000, "the stream never ends");
    }
    let terminals = events
        .iter()
        .filter(|e| matches!(e, StreamEvent::Stop(_) | StreamEvent::Error(_)))
        .count();
    assert_eq!(terminals, 1, "exactly one stop or error: {events:#?}");
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Stop(_) | StreamEvent::Error(_))
        ),
        "the terminal event is last: {events:#?}"
    );
    assert!(stream.next().is_none(), "nothing after the end");
    events
}

/// The events of `body` read in pieces of 1 byte, 7 bytes and whole; all three must agree.
pub(crate) fn events_in_all_chunkings(body: &str) -> Vec<StreamEvent> {
    let whole = drain(SseStream::new(
        Chunks::new(body.as_bytes(), body.len()),
        StreamDecoder::new(fallbacks()),
    ));
    for size in [1, 7] {
        let events = drain(SseStream::new(
            Chunks::new(body.as_bytes(), size),
            StreamDecoder::new(fallbacks()),
        ));
        assert_eq!(events, whole, "{size}-byte chunks give other events");
    }
    whole
}

#[test]
fn describes_itself() {
    use aratta_guest::{Adapter, AuthScheme};
    let info = crate::Google::describe();
    assert_eq!(info.name, "google");
    assert_eq!(
        info.default_base_url,
        "https://generativelanguage.googleapis.com/v1beta"
    );
    assert_eq!(info.auth, AuthScheme::Header("x-goog-api-key".into()));
    assert!(info.extra_hosts.is_empty());
}
