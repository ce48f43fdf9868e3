//! Tests of the OpenAI wire format against recorded bodies in `fixtures/openai/`.

mod request;
mod response;
mod stream;

use aratta_guest::http::ChunkSource;
use aratta_guest::{AdapterError, StreamEvent};
use aratta_guest::{CallContext, Fallbacks};

/// The text of a fixture file.
macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/openai/",
            $name
        ))
    };
}
pub(crate) use fixture;

pub(crate) fn fallbacks() -> Fallbacks {
    super::fallbacks(
        &CallContext {
            base_url: "http://127.0.0.1:11434/v1".into(),
            request_id: "req-0001-abcd".into(),
        },
        "requested-model",
    )
}

/// A body delivered in pieces of `size` bytes, optionally failing after the last piece.
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

#[test]
fn generated_call_ids_are_scoped_by_request() {
    assert_eq!(fallbacks().call_id(2), "call_req0001abcd_2");
    assert_eq!(fallbacks().id, "chatcmpl-req-0001-abcd");
    let bare = super::fallbacks(
        &CallContext {
            base_url: String::new(),
            request_id: String::new(),
        },
        "m",
    );
    assert_eq!(bare.call_id(0), "call_0");
    assert_eq!(bare.id, "chatcmpl-aratta");
}

/// Every event of a stream, checking that the stream ends with exactly one terminal event.
pub(crate) fn drain(mut stream: impl aratta_guest::EventStream) -> Vec<StreamEvent> {
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
