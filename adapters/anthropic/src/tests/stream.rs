//! Streams: recorded transcripts fed in 1-byte, 7-byte and whole chunks give the same events.

use aratta_guest::{
    AdapterError, FinishReason, MismatchKind, ReasoningDelta, StreamEvent, StreamStart,
    ToolCallDelta, ToolCallStart, Usage, peek_stream,
};

use super::{Chunks, drain, fixture};
use aratta_guest::sse::SseStream;

use crate::stream::StreamDecoder;

fn run(body: &str, size: usize) -> Vec<StreamEvent> {
    drain(SseStream::new(
        Chunks::new(body.as_bytes(), size),
        StreamDecoder::new("msg_fallback".into(), "requested-model".into()),
    ))
}

/// The events of a fixture, checked to be the same however its body is cut into chunks.
fn events(name: &str) -> Vec<StreamEvent> {
    let body = fixture(name);
    let whole = run(&body, usize::MAX);
    for size in [1, 7] {
        assert_eq!(run(&body, size), whole, "{name} in chunks of {size} bytes");
    }
    whole
}

fn start(id: &str, model: &str) -> StreamEvent {
    StreamEvent::Start(StreamStart {
        id: id.into(),
        model: model.into(),
    })
}

fn text(t: &str) -> StreamEvent {
    StreamEvent::TextDelta(t.into())
}

fn thinking(t: &str) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        text: t.into(),
        signature: None,
        redacted: None,
        format: None,
    })
}

fn signature(s: &str) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        text: String::new(),
        signature: Some(s.into()),
        redacted: None,
        format: Some("anthropic".into()),
    })
}

fn call(index: u32, id: &str, name: &str) -> StreamEvent {
    StreamEvent::ToolCallStart(ToolCallStart {
        index,
        id: id.into(),
        name: name.into(),
        signature: None,
    })
}

fn args(index: u32, arguments: &str) -> StreamEvent {
    StreamEvent::ToolCallDelta(ToolCallDelta {
        index,
        arguments: arguments.into(),
    })
}

fn usage(input: u32, output: u32) -> StreamEvent {
    StreamEvent::Usage(Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        cache_read_tokens: None,
        cache_write_tokens: None,
        reasoning_tokens: None,
    })
}

fn stop(reason: FinishReason) -> StreamEvent {
    StreamEvent::Stop(reason)
}

#[test]
fn streamed_text() {
    assert_eq!(
        events("message.stream.sse"),
        vec![
            start(
                "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY",
                "claude-sonnet-4-5-20250929"
            ),
            usage(25, 1),
            text("Hello"),
            text("!"),
            // The final usage: the start's input, the delta's cumulative output.
            usage(25, 15),
            stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn the_sdks_recording_without_a_final_blank_line_completes() {
    let events = events("sdk_basic.stream.sse");
    assert_eq!(events[2..5], [text("Hello"), text(" there"), text("!")]);
    assert_eq!(events[5..], [usage(11, 6), stop(FinishReason::Stop)]);
}

#[test]
fn streamed_tool_call() {
    let events = events("tool_use.stream.sse");
    let streamed_text: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::TextDelta(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        streamed_text,
        "Okay, let's check the weather for San Francisco, CA:"
    );
    let tail = &events[events.len() - 11..];
    assert_eq!(
        tail,
        [
            call(0, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather"),
            args(0, "{\"location\":"),
            args(0, " \"San"),
            args(0, " Francisc"),
            args(0, "o,"),
            args(0, " CA\""),
            args(0, ", "),
            args(0, "\"unit\": \"fah"),
            args(0, "renheit\"}"),
            usage(472, 89),
            stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn parallel_tool_calls_are_indexed_among_tool_calls() {
    let events = events("parallel_tool_use.stream.sse");
    assert_eq!(
        events,
        vec![
            start("msg_01K2Vx4bCjX9Y8aYpZ3Hq1Ws", "claude-sonnet-4-5-20250929"),
            StreamEvent::Usage(Usage {
                input_tokens: Some(690),
                output_tokens: Some(3),
                cache_read_tokens: Some(0),
                cache_write_tokens: Some(0),
                reasoning_tokens: None,
            }),
            text("I'll check the weather and the time in both places."),
            // Content block 1 is SCRI tool call 0.
            call(0, "toolu_01WeatherSF", "get_weather"),
            args(0, "{\"location\": \"San Francisco, CA\"}"),
            call(1, "toolu_01TimeSF", "get_time"),
            args(1, "{\"timezone\": "),
            args(1, "\"America/Los_Angeles\"}"),
            // A tool without parameters streams no input: its arguments are `{}`.
            call(2, "toolu_01Ping", "ping"),
            args(2, "{}"),
            StreamEvent::Usage(Usage {
                input_tokens: Some(690),
                output_tokens: Some(142),
                cache_read_tokens: Some(0),
                cache_write_tokens: Some(0),
                reasoning_tokens: None,
            }),
            stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn streamed_thinking_then_its_signature() {
    let events = events("thinking.stream.sse");
    assert_eq!(events[0], start("msg_01...", "claude-sonnet-4-5-20250929"));
    // No usage anywhere in this recording: none is invented.
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Usage(_))));
    assert_eq!(
        events[1],
        thinking("Let me solve this step by step:\n\n1. First break down 27 * 453")
    );
    assert_eq!(
        events[7..],
        [
            signature("EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds..."),
            text("27 * 453 = 12,231"),
            stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn redacted_thinking_and_cache_usage() {
    let events = events("redacted_thinking.stream.sse");
    assert_eq!(
        events[1..],
        [
            StreamEvent::Usage(Usage {
                input_tokens: Some(188_107),
                output_tokens: Some(1),
                cache_read_tokens: Some(0),
                cache_write_tokens: Some(188_086),
                reasoning_tokens: None,
            }),
            thinking("Let me analyze this step by step..."),
            signature("WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL...."),
            StreamEvent::ReasoningDelta(ReasoningDelta {
                text: String::new(),
                signature: None,
                redacted: Some("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj2pabDHGkVUhOHG6aXjOTrifFRwrPj4Gvb3CR9lsnHzbBtPx6tJ+Vq9+0eXLP".into()),
                format: Some("anthropic".into()),
            }),
            text("Based on my analysis..."),
            StreamEvent::Usage(Usage {
                input_tokens: Some(188_107),
                output_tokens: Some(393),
                cache_read_tokens: Some(0),
                cache_write_tokens: Some(188_086),
                reasoning_tokens: Some(301),
            }),
            stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn refusal_is_content_filter_with_the_final_usage() {
    let events = events("refusal.stream.sse");
    assert_eq!(
        events[1..],
        [
            StreamEvent::Usage(Usage {
                reasoning_tokens: Some(67),
                ..match usage(20, 120) {
                    StreamEvent::Usage(u) => u,
                    _ => unreachable!(),
                }
            }),
            stop(FinishReason::ContentFilter),
        ]
    );
}

#[test]
fn unknown_fields_in_events_are_tolerated() {
    assert_eq!(
        events("extra_fields.stream.sse"),
        vec![
            start("msg_123", "claude-3-opus-latest"),
            usage(11, 1),
            text("Hello"),
            text("!"),
            usage(11, 3),
            stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn unknown_event_and_block_types_are_skipped() {
    let body = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m1\",\"model\":\"c\"}}\n\n\
        event: hologram\ndata: {\"type\":\"hologram\",\"beam\":1}\n\n\
        event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"server_tool_use\",\"id\":\"srv_1\",\"name\":\"web_search\",\"input\":{}}}\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"query\\\": \\\"x\\\"}\"}}\n\n\
        event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n\
        event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"citations_delta\",\"citation\":{}}}\n\n\
        event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":\"ok\"}}\n\n\
        event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"pause_turn\"},\"usage\":{\"output_tokens\":4}}\n\n\
        event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
    let events = run(body, 7);
    assert_eq!(
        events,
        vec![
            start("m1", "c"),
            text("ok"),
            StreamEvent::Usage(Usage {
                input_tokens: None,
                output_tokens: Some(4),
                cache_read_tokens: None,
                cache_write_tokens: None,
                reasoning_tokens: None,
            }),
            stop(FinishReason::Unknown("pause_turn".into())),
        ]
    );
}

#[test]
fn an_error_event_before_content_is_returned_for_fallback() {
    let events = events("overloaded.stream.sse");
    assert!(
        matches!(&events[..], [StreamEvent::Start(_), StreamEvent::Error(AdapterError::Overloaded(d))]
        if d.message.contains("overloaded_error") && d.body.as_deref().unwrap().contains("Overloaded"))
    );
    let stream = SseStream::new(
        Chunks::new(fixture("overloaded.stream.sse").as_bytes(), 64),
        StreamDecoder::new("f".into(), "m".into()),
    );
    assert!(matches!(
        peek_stream(Box::new(stream)),
        Err(AdapterError::Overloaded(_))
    ));
}

#[test]
fn an_error_event_mid_stream_ends_it() {
    let events = events("error_midstream.stream.sse");
    assert_eq!(events[2], text("Hello"));
    assert!(
        matches!(&events[3], StreamEvent::Error(AdapterError::Upstream(d))
        if d.message.contains("api_error"))
    );
}

#[test]
fn a_truncated_stream_is_an_error_not_a_success() {
    let events = events("truncated.stream.sse");
    assert_eq!(events[2..4], [text("Hello"), text("!")]);
    assert!(
        matches!(&events[4], StreamEvent::Error(AdapterError::Connection(d))
        if d.message.contains("truncated"))
    );

    // Cut in the middle of the last event's JSON: still truncation, not a format change.
    let body = fixture("message.stream.sse");
    let cut = &body[..body.find("\"end_turn\"").unwrap()];
    assert!(matches!(
        run(cut, 7).last(),
        Some(StreamEvent::Error(AdapterError::Connection(_)))
    ));

    // The connection failing mid-body is reported as it is.
    let failing = SseStream::new(
        Chunks::failing(cut.as_bytes(), AdapterError::connection("reset")),
        StreamDecoder::new("f".into(), "m".into()),
    );
    assert!(matches!(
        drain(failing).last(),
        Some(StreamEvent::Error(AdapterError::Connection(d))) if d.message == "reset"
    ));
}

#[test]
fn bodies_that_are_not_event_streams() {
    let events = run(&fixture("error_500.json"), 7);
    let [StreamEvent::Error(AdapterError::SchemaMismatch(m))] = &events[..] else {
        panic!("{events:?}")
    };
    assert_eq!(m.kind, MismatchKind::StreamFormatChange);
    assert!(m.detail.message.contains("Internal server error"));
    assert!(matches!(
        run("", 1)[..],
        [StreamEvent::Error(AdapterError::SchemaMismatch(_))]
    ));
}

#[test]
fn drift_inside_events_is_a_stream_format_change() {
    let start = "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"c\"}}\n\n";
    let cases = [
        // Not JSON.
        "event: content_block_delta\ndata: {oops\n\n".to_string(),
        // A text delta renamed its field.
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"content\":\"x\"}}\n\n".to_string(),
        // Tool input for a block that never started.
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n".to_string(),
        // A tool_use block without its id.
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"name\":\"f\",\"input\":{}}}\n\n".to_string(),
    ];
    for case in cases {
        let events = run(&format!("{start}{case}"), 7);
        let Some(StreamEvent::Error(AdapterError::SchemaMismatch(m))) = events.last() else {
            panic!("{case}: {events:?}")
        };
        assert!(
            matches!(
                m.kind,
                MismatchKind::StreamFormatChange | MismatchKind::MissingField
            ),
            "{case}: {m:?}"
        );
    }
    // Content before `message_start` is out of order.
    let events = run(
        "data: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
        7,
    );
    assert!(matches!(
        events[..],
        [StreamEvent::Error(AdapterError::SchemaMismatch(_))]
    ));
}
