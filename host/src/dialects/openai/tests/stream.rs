//! `ChunkEncoder` against the streaming examples of OpenAI's API reference, plus the
//! reasoning, usage and error cases OpenAI-compatible clients rely on.

use serde_json::{Value, json};

use crate::dialects::openai::ChunkEncoder;
use crate::scri::{ApiErrorBody, FinishReason, Lineage, StreamEvent, Usage};

fn run(encoder: &mut ChunkEncoder, events: &[StreamEvent]) -> Vec<Value> {
    events
        .iter()
        .flat_map(|e| encoder.push(e))
        .map(|payload| serde_json::from_str(&payload).expect("payloads are JSON"))
        .collect()
}

fn stop(finish_reason: FinishReason) -> StreamEvent {
    StreamEvent::Stop {
        finish_reason,
        finish_reason_raw: None,
        lineage: Lineage::default(),
    }
}

fn text(t: &str) -> StreamEvent {
    StreamEvent::TextDelta { text: t.into() }
}

#[test]
fn reference_text_stream() {
    let mut enc = ChunkEncoder::new("fallback", "openai:gpt-4o-mini", 1_694_268_190, false);
    let start = StreamEvent::Start {
        id: "chatcmpl-123".into(),
        model: "gpt-4o-mini".into(),
    };
    let chunks = run(&mut enc, &[start, text("Hello"), stop(FinishReason::Stop)]);
    let chunk = |delta: Value, finish: Value| {
        json!({"id": "chatcmpl-123", "object": "chat.completion.chunk", "created": 1_694_268_190,
               "model": "gpt-4o-mini", "system_fingerprint": null,
               "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
    };
    assert_eq!(
        chunks,
        vec![
            chunk(json!({"role": "assistant", "content": ""}), Value::Null),
            chunk(json!({"content": "Hello"}), Value::Null),
            chunk(json!({}), json!("stop")),
        ]
    );
    assert_eq!(enc.done(), Some("[DONE]"));
    assert!(enc.push(&text("late")).is_empty(), "nothing follows a stop");
}

#[test]
fn usage_chunk_follows_the_finish_chunk_even_when_reported_early() {
    let mut enc = ChunkEncoder::new("chatcmpl-9", "m", 1, true);
    let usage = Usage {
        input_tokens: Some(11),
        output_tokens: Some(3),
        ..Usage::default()
    };
    let chunks = run(
        &mut enc,
        &[
            text("Hi"),
            StreamEvent::Usage { usage },
            stop(FinishReason::Length),
        ],
    );
    assert_eq!(chunks.len(), 3);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": "Hi"})
    );
    assert_eq!(chunks[0]["usage"], Value::Null);
    assert_eq!(chunks[1]["choices"][0]["finish_reason"], "length");
    assert_eq!(chunks[2]["choices"], json!([]));
    assert_eq!(
        chunks[2]["usage"],
        json!({"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14})
    );
}

#[test]
fn reference_tool_call_stream() {
    let mut enc = ChunkEncoder::new("chatcmpl-t", "gpt-4o", 1, false);
    let chunks = run(
        &mut enc,
        &[
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_DdmO9pD3xa9XTPNJ32zg2hcA".into(),
                name: "get_weather".into(),
                signature: None,
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "{\"".into(),
            },
            StreamEvent::ToolCallDelta {
                index: 0,
                arguments: "location\": \"Paris\"}".into(),
            },
            stop(FinishReason::ToolCalls),
        ],
    );
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "tool_calls": [{"index": 0, "id": "call_DdmO9pD3xa9XTPNJ32zg2hcA",
               "type": "function", "function": {"name": "get_weather", "arguments": ""}}]})
    );
    assert_eq!(
        chunks[1]["choices"][0]["delta"],
        json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\""}}]})
    );
    assert_eq!(chunks[3]["choices"][0]["finish_reason"], "tool_calls");
}

#[test]
fn reasoning_streams_as_content_and_indexed_details() {
    let mut enc = ChunkEncoder::new("id", "m", 1, false);
    let reasoning = |t: &str, sig: Option<&str>| StreamEvent::ReasoningDelta {
        text: t.into(),
        signature: sig.map(str::to_owned),
        redacted: None,
        format: None,
    };
    let chunks = run(
        &mut enc,
        &[
            reasoning("Let me ", None),
            reasoning("think.", None),
            reasoning("", Some("EqQBCkgIARAB")),
            StreamEvent::ReasoningDelta {
                text: String::new(),
                signature: None,
                redacted: Some("opaque".into()),
                format: None,
            },
            text("Answer"),
            reasoning("more", None),
            StreamEvent::ToolCallStart {
                index: 0,
                id: "call_1".into(),
                name: "f".into(),
                signature: Some("gsig".into()),
            },
        ],
    );
    let details: Vec<&Value> = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"].get("reasoning_details"))
        .map(|d| &d[0])
        .collect();
    let indexes: Vec<u64> = details
        .iter()
        .map(|d| d["index"].as_u64().unwrap())
        .collect();
    assert_eq!(
        indexes,
        [0, 0, 0, 1, 2, 3],
        "signature closes a block; text closes reasoning"
    );
    assert_eq!(
        chunks[0]["choices"][0]["delta"]["reasoning_content"],
        "Let me "
    );
    assert_eq!(
        *details[2],
        json!({"type": "reasoning.text", "text": "", "signature": "EqQBCkgIARAB", "index": 0})
    );
    assert_eq!(
        *details[3],
        json!({"type": "reasoning.encrypted", "data": "opaque", "index": 1})
    );
    assert_eq!(details[5]["id"], "call_1");
    assert_eq!(details[5]["data"], "gsig");
}

#[test]
fn error_is_an_error_payload_and_no_done() {
    let mut enc = ChunkEncoder::new("id", "m", 1, true);
    let error = StreamEvent::Error {
        error: ApiErrorBody {
            message: "upstream closed the connection".into(),
            kind: "connection_error".into(),
            param: None,
            code: None,
            provider: Some("openai".into()),
            upstream_status: None,
        },
    };
    let chunks = run(
        &mut enc,
        &[text("partial"), error, stop(FinishReason::Stop)],
    );
    assert_eq!(chunks.len(), 2, "the stop after an error is ignored");
    assert_eq!(
        chunks[1]["error"]["message"],
        "upstream closed the connection"
    );
    assert_eq!(chunks[1]["error"]["type"], "connection_error");
    assert_eq!(enc.done(), None);
    assert!(enc.is_finished());
}

#[test]
fn a_bare_stop_still_announces_the_role_and_zero_usage() {
    let mut enc = ChunkEncoder::new("id", "m", 1, true);
    assert_eq!(enc.done(), None);
    let chunks = run(&mut enc, &[stop(FinishReason::Stop)]);
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant"})
    );
    assert_eq!(chunks[1]["usage"]["total_tokens"], 0);
}

#[test]
fn a_streamed_answer_accumulated_by_the_sdk_comes_back_as_the_same_blocks() {
    let mut enc = ChunkEncoder::new("id", "m", 1, false);
    let events = [
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
        },
        StreamEvent::ReasoningDelta {
            text: "Let me ".into(),
            signature: None,
            redacted: None,
            format: None,
        },
        StreamEvent::ReasoningDelta {
            text: "think.".into(),
            signature: None,
            redacted: None,
            format: None,
        },
        StreamEvent::ReasoningDelta {
            text: String::new(),
            signature: Some("EqQB+/=".into()),
            redacted: None,
            format: None,
        },
        StreamEvent::ReasoningDelta {
            text: String::new(),
            signature: None,
            redacted: Some("opaque".into()),
            format: None,
        },
        text("Checking"),
        text(" now."),
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "weather".into(),
            signature: Some("gsig".into()),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"city\":".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "\"Florence\"}".into(),
        },
        stop(FinishReason::ToolCalls),
    ];
    let mut message = serde_json::Map::new();
    for chunk in run(&mut enc, &events) {
        super::sdk::accumulate(
            &mut message,
            chunk["choices"][0]["delta"].as_object().unwrap(),
        );
    }
    assert_eq!(message["content"], "Checking now.");
    assert_eq!(message["reasoning_content"], "Let me think.");

    let next = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}, message]});
    let req = crate::dialects::openai::chat_request(next.to_string().as_bytes())
        .unwrap()
        .request;
    let crate::scri::Content::Blocks(blocks) = &req.messages[1].content else {
        panic!("blocks expected")
    };
    assert_eq!(
        serde_json::to_value(blocks).unwrap(),
        json!([
            {"type": "reasoning", "text": "Let me think.", "signature": "EqQB+/="},
            {"type": "reasoning", "text": "", "redacted": "opaque"},
            {"type": "text", "text": "Checking now."},
            {"type": "tool_use", "id": "call_1", "name": "weather",
             "arguments": {"city": "Florence"}, "signature": "gsig"}
        ])
    );
}

#[test]
fn a_signed_call_streams_its_signature_on_the_opening_delta_and_survives_a_rebuilt_turn() {
    let mut enc = ChunkEncoder::new("id", "m", 1, false);
    let events = [
        StreamEvent::ToolCallStart {
            index: 0,
            id: "call_1".into(),
            name: "weather".into(),
            signature: Some("Eq4DCqsDAdHtim8Z==".into()),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"city\":\"Paris\"}".into(),
        },
        StreamEvent::ToolCallStart {
            index: 1,
            id: "call_2".into(),
            name: "weather".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 1,
            arguments: "{\"city\":\"London\"}".into(),
        },
        stop(FinishReason::ToolCalls),
    ];
    let chunks = run(&mut enc, &events);
    // Google's stream: `extra_content` on the tool-call delta that opens the call.
    assert_eq!(
        chunks[0]["choices"][0]["delta"]["tool_calls"][0],
        json!({"index": 0, "id": "call_1", "type": "function",
               "function": {"name": "weather", "arguments": ""},
               "extra_content": {"google": {"thought_signature": "Eq4DCqsDAdHtim8Z=="}}})
    );
    assert!(
        chunks[2]["choices"][0]["delta"]["tool_calls"][0]
            .get("extra_content")
            .is_none()
    );

    let mut message = serde_json::Map::new();
    for chunk in &chunks {
        super::sdk::accumulate(
            &mut message,
            chunk["choices"][0]["delta"].as_object().unwrap(),
        );
    }
    // The agent keeps only the calls, each as the SDK accumulated it.
    let rebuilt = json!({"role": "assistant", "tool_calls": message["tool_calls"]});
    let next = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}, rebuilt]});
    let req = crate::dialects::openai::chat_request(next.to_string().as_bytes())
        .unwrap()
        .request;
    let crate::scri::Content::Blocks(blocks) = &req.messages[1].content else {
        panic!("blocks expected")
    };
    assert_eq!(
        serde_json::to_value(blocks).unwrap(),
        json!([
            {"type": "tool_use", "id": "call_1", "name": "weather",
             "arguments": {"city": "Paris"}, "signature": "Eq4DCqsDAdHtim8Z=="},
            {"type": "tool_use", "id": "call_2", "name": "weather",
             "arguments": {"city": "London"}}
        ])
    );
}
