use super::{Chunks, drain, fallbacks, fixture};
use crate::stream::StreamDecoder;
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, FinishReason, MismatchKind, ReasoningDelta, StreamEvent, StreamStart,
    ToolCallDelta, ToolCallStart, Usage,
};

fn run(body: &str, size: usize) -> Vec<StreamEvent> {
    drain(SseStream::new(
        Chunks::new(body.as_bytes(), size),
        StreamDecoder::new(fallbacks()),
    ))
}

/// The events of `body`, checked to be the same however the body is cut into chunks.
fn events(body: &str) -> Vec<StreamEvent> {
    let whole = run(body, usize::MAX);
    for size in [1, 2, 7, 64, 1000] {
        assert_eq!(run(body, size), whole, "chunks of {size} bytes");
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

fn reasoning(t: &str) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        text: t.into(),
        signature: None,
        redacted: None,
        format: None,
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

fn usage(input: u32, output: u32) -> Usage {
    Usage {
        input_tokens: Some(input),
        output_tokens: Some(output),
        cache_read_tokens: None,
        cache_write_tokens: None,
        reasoning_tokens: None,
    }
}

fn error(events: &[StreamEvent]) -> &AdapterError {
    match events.last() {
        Some(StreamEvent::Error(e)) => e,
        other => panic!("expected an error event, got {other:?}"),
    }
}

#[test]
fn openai_text_with_usage_after_finish() {
    assert_eq!(
        events(fixture!("openai_stream.sse")),
        vec![
            start("chatcmpl-123", "gpt-4o-mini"),
            text("Hello"),
            text(" there!"),
            StreamEvent::Usage(Usage {
                cache_read_tokens: Some(0),
                reasoning_tokens: Some(0),
                ..usage(9, 3)
            }),
            StreamEvent::Stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn openai_parallel_tool_calls() {
    assert_eq!(
        events(fixture!("openai_stream_tools.sse")),
        vec![
            start("chatcmpl-9Qx", "gpt-4o"),
            call(0, "call_DdmO9pD3xa9XTPNJ32zg2hcA", "get_weather"),
            args(0, "{\"lo"),
            args(0, "cation\": \"Paris\"}"),
            call(1, "call_8B2x", "get_time"),
            args(1, "{\"tz\": \"CET\"}"),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn ollama_reused_index_zero_makes_two_calls() {
    let evs = events(fixture!("ollama_stream_tools.sse"));
    assert_eq!(
        evs,
        vec![
            start("chatcmpl-412", "qwen2.5-coder:7b"),
            call(0, "call_lyywui55", "file_write"),
            args(0, r#"{"content":"print(\"hello\")","filePath":"hello.py"}"#),
            call(1, "call_0scw2dos", "file_write"),
            args(1, r#"{"content":"print(\"world\")","filePath":"world.py"}"#),
            StreamEvent::Usage(usage(160, 48)),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn ollama_without_ids_with_object_arguments_and_stop() {
    assert_eq!(
        events(fixture!("ollama_stream_no_ids.sse")),
        vec![
            start("chatcmpl-5", "llama3.1"),
            call(0, "call_req0001abcd_0", "get_weather"),
            args(0, r#"{"city":"Paris"}"#),
            call(1, "call_req0001abcd_1", "get_weather"),
            args(1, r#"{"city":"Rome"}"#),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn ollama_reasoning_field() {
    assert_eq!(
        events(fixture!("ollama_stream_reasoning.sse")),
        vec![
            start("chatcmpl-88", "qwen3:8b"),
            reasoning("Okay, the user"),
            reasoning(" asks for 17×23."),
            text("391"),
            StreamEvent::Stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn vllm_empty_ids_and_second_call_at_index_zero() {
    let evs = events(fixture!("vllm_stream_tools.sse"));
    assert_eq!(
        evs,
        vec![
            start("chatcmpl-cb1efbea", "ibm-granite/granite-3.2-2b-instruct"),
            call(0, "chatcmpl-tool-c9ZCzB9b9N", "get_weather"),
            args(0, "{\"city\": "),
            args(0, "\"Seoul\"}"),
            call(1, "chatcmpl-tool-HfzZPEVfQg", "get_weather"),
            args(1, "{\"city\": \"Busan\"}"),
            StreamEvent::Usage(usage(236, 34)),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn vllm_reasoning_under_either_name_and_usage_with_finish() {
    assert_eq!(
        events(fixture!("vllm_stream_reasoning.sse")),
        vec![
            start("chatcmpl-r1", "Qwen/Qwen3-8B"),
            reasoning("9.11 < 9.8"),
            reasoning(" since 0.11 < 0.8"),
            text("9.8 is greater."),
            StreamEvent::Usage(usage(20, 21)),
            StreamEvent::Stop(FinishReason::Length),
        ]
    );
}

#[test]
fn llamacpp_reasoning_usage_and_timings() {
    assert_eq!(
        events(fixture!("llamacpp_stream.sse")),
        vec![
            start(
                "chatcmpl-Ca3q6j8NlTmm9h34TBbwr3wjgO47kWpz",
                "google/gemma-3-1b-it-qat-q4_0"
            ),
            reasoning("Greet back."),
            text("Hi"),
            StreamEvent::Usage(usage(75, 31)),
            StreamEvent::Stop(FinishReason::Stop),
        ]
    );
}

#[test]
fn llamacpp_tool_call_deltas() {
    let evs = events(fixture!("llamacpp_stream_tools.sse"));
    assert_eq!(
        evs[1],
        call(0, "Gm4jBfPd5Wkz0ylIdK3J5vCBCo7b3lV5", "get_current_weather")
    );
    let joined: String = evs
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta(d) => Some(d.arguments.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(joined, r#"{"location":"Paris"}"#);
    assert_eq!(evs[evs.len() - 2], StreamEvent::Usage(usage(180, 20)));
}

#[test]
fn llamacpp_error_field_is_an_error_not_a_normal_end() {
    let evs = events(fixture!("llamacpp_stream_error.sse"));
    assert_eq!(evs.len(), 2, "{evs:?}");
    let AdapterError::InvalidRequest(d) = error(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(d.status, Some(400));
    assert!(d.message.contains("context size"), "{}", d.message);
}

#[test]
fn truncated_stream_is_an_error() {
    let evs = events(fixture!("truncated.sse"));
    assert_eq!(evs[1], text("The answer is"));
    let AdapterError::Connection(d) = error(&evs) else {
        panic!("{evs:?}")
    };
    assert!(d.message.contains("truncated"), "{}", d.message);
}

#[test]
fn end_of_body_after_a_finish_reason_is_a_clean_end() {
    let body = fixture!("openai_stream.sse").replace("data: [DONE]\n", "");
    assert!(matches!(
        events(&body).last(),
        Some(StreamEvent::Stop(FinishReason::Stop))
    ));
}

#[test]
fn a_plain_json_error_body_is_reported_with_its_message() {
    let body = r#"{"error":{"code":400,"message":"request (6009 tokens) exceeds the available context size (4096 tokens)","type":"exceed_context_size_error"}}"#;
    let evs = events(body);
    assert_eq!(evs.len(), 1);
    let AdapterError::SchemaMismatch(m) = error(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(m.kind, MismatchKind::StreamFormatChange);
    assert!(
        m.detail.message.contains("6009 tokens"),
        "{}",
        m.detail.message
    );
    assert_eq!(m.detail.body.as_deref(), Some(body));
}

#[test]
fn an_empty_body_is_an_error() {
    assert!(matches!(
        error(&events("")),
        AdapterError::SchemaMismatch(_)
    ));
    assert!(matches!(
        error(&events(": ping\n\n")),
        AdapterError::SchemaMismatch(_)
    ));
}

#[test]
fn done_before_any_chunk_is_an_error() {
    let evs = events("data: [DONE]\n\n");
    assert!(
        matches!(error(&evs), AdapterError::SchemaMismatch(m) if m.kind == MismatchKind::StreamFormatChange)
    );
}

#[test]
fn malformed_chunk_names_its_path() {
    let body = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"tool_calls\":\"oops\"}}]}\n\n";
    let evs = events(body);
    let AdapterError::SchemaMismatch(m) = error(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(m.kind, MismatchKind::StreamFormatChange);
    assert_eq!(m.path, "choices[0].delta.tool_calls");
    let evs = events("data: {not json\n\n");
    assert!(matches!(error(&evs), AdapterError::SchemaMismatch(_)));
}

#[test]
fn error_chunk_midstream() {
    let body = "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: {\"error\":{\"message\":\"quota exceeded\"}}\n\ndata: [DONE]\n\n";
    let evs = events(body);
    assert_eq!(evs.len(), 3);
    assert!(
        matches!(error(&evs), AdapterError::Upstream(d) if d.message.contains("quota exceeded"))
    );
    let body = "event: error\ndata: {\"message\":\"overloaded\",\"code\":503}\n\n";
    assert!(matches!(error(&events(body)), AdapterError::Overloaded(_)));
}

#[test]
fn unknown_finish_reason_is_kept() {
    let body = "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"},\"finish_reason\":\"eos_token\"}]}\n\ndata: [DONE]\n\n";
    assert_eq!(
        events(body).last(),
        Some(&StreamEvent::Stop(FinishReason::Unknown(
            "eos_token".into()
        )))
    );
}

#[test]
fn done_without_finish_reason_is_unknown_not_stop() {
    let body = "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\ndata: [DONE]\n\n";
    assert_eq!(
        events(body).last(),
        Some(&StreamEvent::Stop(FinishReason::Unknown(String::new())))
    );
}

#[test]
fn missing_ids_and_models_fall_back() {
    let body = "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"f\",\"arguments\":\"\"}}]}}]}\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n";
    assert_eq!(
        events(body),
        vec![
            start("chatcmpl-req-0001-abcd", "requested-model"),
            call(0, "call_req0001abcd_0", "f"),
            // A call that never got arguments still gets a JSON object.
            args(0, "{}"),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn repeated_names_and_ids_continue_the_same_call() {
    // Older llama.cpp repeated the name on every piece; sglang repeats the id.
    let body = concat!(
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"a\\\":\"}}]}}]}\n\n",
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":\"1}\"}}]}}]}\n\n",
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
    );
    let evs = events(body);
    assert_eq!(
        evs[1..4],
        [call(0, "c1", "f"), args(0, "{\"a\":"), args(0, "1}")]
    );
    assert_eq!(evs.len(), 5);
}

#[test]
fn arguments_before_the_name_are_held_back() {
    let body = concat!(
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"a\\\":1}\"}}]}}]}\n\n",
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"name\":\"late\"}}]}}]}\n\n",
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
    );
    let evs = events(body);
    assert_eq!(
        evs[1..3],
        [call(0, "call_req0001abcd_0", "late"), args(0, "{\"a\":1}")]
    );
}

#[test]
fn a_call_that_never_names_its_tool_is_an_error() {
    let body = concat!(
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n",
        "data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\ndata: [DONE]\n\n",
    );
    let evs = events(body);
    let AdapterError::SchemaMismatch(m) = error(&evs) else {
        panic!("{evs:?}")
    };
    assert_eq!(m.path, "choices[0].delta.tool_calls[0].function.name");
}

#[test]
fn a_read_failure_ends_the_stream_with_its_error() {
    let body = fixture!("truncated.sse");
    let source = Chunks::failing(body.as_bytes(), AdapterError::timeout("stalled"));
    let evs = drain(SseStream::new(source, StreamDecoder::new(fallbacks())));
    assert!(matches!(error(&evs), AdapterError::Timeout(_)));
}

#[test]
fn a_complete_answer_replays_as_events() {
    let answer = crate::response::chat_response(
        fixture!("vllm_chat_reasoning.json").as_bytes(),
        &fallbacks(),
    )
    .unwrap();
    let evs = drain(aratta_guest::VecEventStream::from_response(answer));
    assert_eq!(evs[0], start("chatcmpl-9f8e7d", "Qwen/Qwen3-8B"));
    assert_eq!(evs[1], reasoning("Need the weather; call the tool."));
    assert_eq!(evs[2], call(0, "chatcmpl-tool-6ac0a2b1f2", "get_weather"));
    assert_eq!(
        evs.last(),
        Some(&StreamEvent::Stop(FinishReason::ToolCalls))
    );
}

#[test]
fn an_error_before_content_is_returned_by_chat_stream_itself() {
    let body = fixture!("llamacpp_stream_error.sse");
    let stream = SseStream::new(
        Chunks::new(body.as_bytes(), 9),
        StreamDecoder::new(fallbacks()),
    );
    let Err(AdapterError::InvalidRequest(d)) = aratta_guest::peek_stream(Box::new(stream)) else {
        panic!("expected the error up front")
    };
    assert!(d.message.contains("context size"));
    // A healthy stream loses nothing by being peeked.
    let body = fixture!("openai_stream.sse");
    let peeked = aratta_guest::peek_stream(Box::new(SseStream::new(
        Chunks::new(body.as_bytes(), 5),
        StreamDecoder::new(fallbacks()),
    )))
    .unwrap();
    assert_eq!(drain(peeked), events(body));
}

#[test]
fn streamed_citations_come_before_usage() {
    let body = concat!(
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Sunny.\",\"annotations\":[{\"type\":\"url_citation\",\"url_citation\":{\"url\":\"https://w.example/\"}}]}}]}\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"citations\":[\"https://x.ai/\"]}\n\n",
        "data: {\"id\":\"c\",\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":4,\"completion_tokens\":2,\"total_tokens\":6}}\n\n",
        "data: [DONE]\n\n",
    );
    assert_eq!(
        events(body),
        vec![
            start("c", "m"),
            text("Sunny."),
            text("\n\nSources:\n- https://w.example/\n- https://x.ai/\n"),
            StreamEvent::Usage(usage(4, 2)),
            StreamEvent::Stop(FinishReason::Stop),
        ]
    );
}
