//! Native unit tests, replaying the recorded wire fixtures in `tests/fixtures/anthropic/`
//! (see the README there for where each comes from).

mod errors;
mod models;
mod operations;
mod request;
mod response;
mod stream;

use aratta_guest::http::ChunkSource;
use aratta_guest::{
    AdapterError, ChatRequest, ContentBlock, EventStream, Message, MessageContent, Role, Sampling,
    StreamEvent,
};

/// A fixture's text.
pub(crate) fn fixture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/fixtures/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Recorded bytes served in pieces of `size` bytes.
pub(crate) struct Chunks {
    pieces: std::collections::VecDeque<Vec<u8>>,
    fail_at_end: Option<AdapterError>,
}

impl Chunks {
    pub(crate) fn new(body: &[u8], size: usize) -> Self {
        Chunks {
            pieces: body.chunks(size.max(1)).map(<[u8]>::to_vec).collect(),
            fail_at_end: None,
        }
    }

    pub(crate) fn failing(body: &[u8], error: AdapterError) -> Self {
        Chunks {
            fail_at_end: Some(error),
            ..Self::new(body, 16)
        }
    }
}

impl ChunkSource for Chunks {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError> {
        match self.pieces.pop_front() {
            Some(piece) => Ok(Some(piece)),
            None => match self.fail_at_end.take() {
                Some(error) => Err(error),
                None => Ok(None),
            },
        }
    }
}

/// Every event of a stream, checking that it ends with exactly one terminal event, last.
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

/// A request for `messages` with nothing else set.
pub(crate) fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "claude-sonnet-4-5".into(),
        messages,
        tools: vec![],
        tool_choice: None,
        parallel_tool_calls: None,
        response_format: None,
        sampling: Sampling {
            temperature: None,
            top_p: None,
            top_k: None,
            max_tokens: None,
            stop: vec![],
            seed: None,
            presence_penalty: None,
            frequency_penalty: None,
        },
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

/// The schema-mismatch inside `error`, or a panic naming what came instead.
pub(crate) fn mismatch(error: AdapterError) -> aratta_guest::SchemaMismatch {
    match error {
        AdapterError::SchemaMismatch(m) => m,
        other => panic!("expected a schema mismatch, got {other:?}"),
    }
}
