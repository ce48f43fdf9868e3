//! Streams: recorded `streamGenerateContent?alt=sse` transcripts, each read in 1-byte, 7-byte
//! and whole chunks, which must give the same events.

use super::{Chunks, drain, events_in_all_chunkings, fallbacks, fixture};
use crate::stream::{StreamDecoder, json_events};
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, EventStream, FinishReason, ReasoningDelta, StreamEvent, StreamStart,
    ToolCallDelta, ToolCallStart, Usage,
};

fn start(id: &str, model: &str) -> StreamEvent {
    StreamEvent::Start(StreamStart {
        id: id.into(),
        model: model.into(),
    })
}

fn text(t: &str) -> StreamEvent {
    StreamEvent::TextDelta(t.into())
}

fn thought(t: &str, signature: Option<&str>) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        text: t.into(),
        format: signature.map(|_| "google".into()),
        signature: signature.map(Into::into),
        redacted: None,
    })
}

fn usage(input: u32, output: u32, reasoning: Option<u32>, cached: Option<u32>) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        cache_read_tokens: cached,
        cache_write_tokens: None,
        reasoning_tokens: reasoning,
    })
}

#[test]
fn streamed_text_ends_with_its_signature_usage_and_stop() {
    assert_eq!(
        events_in_all_chunkings(fixture!("stream_text.sse")),
        vec![
            start("Rz1MaJGXIJzZvr0Pj6SHmAM", "gemini-3-flash-preview"),
            text("The capital"),
            text(" of France is"),
            text(" Paris."),
            thought("", Some("EvwjCvkjAXLI2nyUmA16xmPM/6gOhK7zEIpfhQDSpcMQ")),
            usage(8, 7 + 31, Some(31), Some(0)),
            StreamEvent::Stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn streamed_thoughts_then_signed_text() {
    assert_eq!(
        events_in_all_chunkings(fixture!("stream_thoughts.sse")),
        vec![
            start("Il0taoSYJ5Cez7IPxrzw2Qk", "gemini-2.5-pro"),
            thought("**Evaluating the product**\n\nI need 17 * 23. ", None),
            thought("17 * 20 = 340 and 17 * 3 = 51, so 391.\n", None),
            text("17 × 23 = "),
            thought(
                "",
                Some("CiQB0e2Kb3dRh+BwyqtClX8MVtv+9ZGRhzMyKgS2Tl9bG1sZvJgKXQHR7Ypv")
            ),
            text("391."),
            usage(12, 11 + 164, Some(164), None),
            StreamEvent::Stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn streamed_parallel_calls() {
    assert_eq!(
        events_in_all_chunkings(fixture!("stream_function_calls.sse")),
        vec![
            start("7ulyaJnUD4Gcxs0P8Nin2Ag", "gemini-3-pro-preview"),
            StreamEvent::ToolCallStart(ToolCallStart {
                index: 0,
                id: "call_req0001abcd_0".into(),
                name: "get_weather".into(),
                signature: Some("Eq4DCqsDAdHtim8Z2m0xWkQ1f0bRkL3y4Yw6Lq9cTqHn0mZ8bq7ZbJm".into()),
            }),
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index: 0,
                arguments: r#"{"location":"Paris"}"#.into()
            }),
            StreamEvent::ToolCallStart(ToolCallStart {
                index: 1,
                id: "call_req0001abcd_1".into(),
                name: "get_weather".into(),
                signature: None,
            }),
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index: 1,
                arguments: r#"{"location":"London"}"#.into()
            }),
            usage(120, 30 + 112, Some(112), None),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn a_truncated_stream_is_an_error_not_a_stop() {
    let events = events_in_all_chunkings(fixture!("stream_truncated.sse"));
    assert_eq!(events[1..3], [text("Once upon"), text(" a time")]);
    let Some(StreamEvent::Error(AdapterError::Connection(d))) = events.last() else {
        panic!("expected a connection error: {events:#?}")
    };
    assert!(d.message.contains("truncated"), "{}", d.message);
}

#[test]
fn an_error_chunk_ends_the_stream_classified() {
    let events = events_in_all_chunkings(fixture!("stream_error.sse"));
    assert_eq!(events[1], text("Let me think"));
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error(AdapterError::Overloaded(_)))
    ));
}

#[test]
fn a_blocked_prompt_stops_with_content_filter() {
    let events = events_in_all_chunkings(fixture!("stream_prompt_blocked.sse"));
    assert_eq!(
        events,
        vec![
            start("a1b2c3", "gemini-2.0-flash"),
            StreamEvent::Usage(Usage {
                input_tokens: Some(9),
                output_tokens: None,
                cache_read_tokens: None,
                cache_write_tokens: None,
                reasoning_tokens: None,
            }),
            StreamEvent::Stop(FinishReason::ContentFilter),
        ]
    );
}

#[test]
fn the_body_is_read_only_as_far_as_the_next_event_needs() {
    let body = fixture!("stream_text.sse");
    let source = Chunks::new(body.as_bytes(), 7);
    let read = source.read.clone();
    let total = body.len().div_ceil(7);
    let mut stream = SseStream::new(source, StreamDecoder::new(fallbacks()));
    assert!(matches!(stream.next(), Some(StreamEvent::Start(_))));
    assert!(
        read.get() < total / 3,
        "read {} of {total} pieces for the first event",
        read.get()
    );
    // Anything after the finishing chunk is never read.
    let mut with_tail = body.to_string();
    with_tail.push_str(
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"late\"}]}}]}\r\n\r\n",
    );
    let events = drain(SseStream::new(
        Chunks::new(with_tail.as_bytes(), 7),
        StreamDecoder::new(fallbacks()),
    ));
    assert!(!events.contains(&text("late")));
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Stop(FinishReason::Stop))
    ));
}

#[test]
fn bodies_that_are_not_event_streams() {
    let events = drain(SseStream::new(
        Chunks::new(b"", 1),
        StreamDecoder::new(fallbacks()),
    ));
    assert!(matches!(
        events[..],
        [StreamEvent::Error(AdapterError::SchemaMismatch(_))]
    ));
    // A proxy that answers with a JSON error and a 200.
    let body = br#"{"error":{"code":500,"message":"upstream failed","status":"INTERNAL"}}"#;
    let events = drain(SseStream::new(
        Chunks::new(body, 16),
        StreamDecoder::new(fallbacks()),
    ));
    let [StreamEvent::Error(AdapterError::SchemaMismatch(m))] = &events[..] else {
        panic!("{events:#?}")
    };
    assert!(
        m.detail.message.contains("upstream failed"),
        "{}",
        m.detail.message
    );
    // Garbage in an event.
    let events = drain(SseStream::new(
        Chunks::new(b"data: {not json\r\n\r\n", 4),
        StreamDecoder::new(fallbacks()),
    ));
    assert!(matches!(
        &events[..],
        [StreamEvent::Error(AdapterError::SchemaMismatch(m))] if m.kind == aratta_guest::MismatchKind::StreamFormatChange
    ));
}

#[test]
fn the_json_array_form_replays_as_events() {
    // What `streamGenerateContent` answers without `alt=sse`.
    let sse = fixture!("stream_function_calls.sse");
    let chunks: Vec<&str> = sse
        .split("\r\n\r\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .collect();
    let array = format!("[{}]", chunks.join(",\r\n"));
    assert_eq!(
        json_events(array.as_bytes(), fallbacks()),
        events_in_all_chunkings(sse)
    );
}

#[test]
fn metadata_chunks_are_tolerated_and_renamed_content_is_not() {
    let body = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]}}]}\r\n\r\n\
                data: {\"candidates\":[{\"groundingMetadata\":{\"webSearchQueries\":[\"q\"]},\"index\":0}]}\r\n\r\n\
                data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"!\"}]},\"finishReason\":\"STOP\"}]}\r\n\r\n";
    let events = events_in_all_chunkings(body);
    assert_eq!(events[1..3], [text("Hi"), text("!")]);
    assert_eq!(events.last(), Some(&StreamEvent::Stop(FinishReason::Stop)));
    let renamed = "data: {\"candidates\":[{\"contents\":{\"parts\":[{\"text\":\"Hi\"}]},\"index\":0}]}\r\n\r\n";
    let events = events_in_all_chunkings(renamed);
    let Some(StreamEvent::Error(AdapterError::SchemaMismatch(m))) = events.last() else {
        panic!("{events:#?}")
    };
    assert_eq!(m.path, "candidates[0].content");
}
