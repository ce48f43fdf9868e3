//! `chat_completion` against response bodies from OpenAI's API reference, and the round trip
//! a client makes: the answer's message sent back as the next request's assistant turn.

use serde_json::{Value, json};

use crate::dialects::openai::{chat_completion, chat_request};
use crate::scri::{
    ChatResponse, Content, ContentBlock, FinishReason, Lineage, Reasoning, ToolCall, Usage,
};

fn response(
    content: Vec<ContentBlock>,
    finish_reason: FinishReason,
    usage: Option<Usage>,
) -> ChatResponse {
    ChatResponse {
        id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT".into(),
        model: "gpt-4.1-2025-04-14".into(),
        content,
        finish_reason,
        finish_reason_raw: None,
        usage,
        lineage: Lineage {
            provider: "openai".into(),
            model: "gpt-4.1".into(),
            request_id: "req-1".into(),
            ..Lineage::default()
        },
    }
}

#[test]
fn reference_text_completion() {
    let resp = response(
        vec![ContentBlock::Text {
            text: "Hello! How can I assist you today?".into(),
        }],
        FinishReason::Stop,
        Some(Usage {
            input_tokens: Some(19),
            output_tokens: Some(10),
            cache_read_tokens: Some(0),
            reasoning_tokens: Some(0),
            ..Usage::default()
        }),
    );
    // OpenAI's example, minus the audio/prediction counters and service_tier SCRI has no data for.
    let expected = json!({
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": 1_741_569_952,
        "model": "gpt-4.1-2025-04-14",
        "choices": [{
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Hello! How can I assist you today?",
                "refusal": null,
                "annotations": []
            },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": {
            "prompt_tokens": 19,
            "completion_tokens": 10,
            "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0}
        },
        "system_fingerprint": null
    });
    assert_eq!(chat_completion(&resp, 1_741_569_952), expected);
}

#[test]
fn reference_tool_call_completion_has_null_content() {
    let resp = response(
        vec![ContentBlock::ToolUse(ToolCall {
            id: "call_abc123".into(),
            name: "get_current_weather".into(),
            arguments: json!({"location": "Boston, MA"}),
            signature: None,
        })],
        FinishReason::ToolCalls,
        None,
    );
    let body = chat_completion(&resp, 1_699_896_916);
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    assert_eq!(
        choice["message"]["tool_calls"],
        json!([{"id": "call_abc123", "type": "function",
                "function": {"name": "get_current_weather", "arguments": "{\"location\":\"Boston, MA\"}"}}])
    );
    assert!(choice["message"].get("reasoning_content").is_none());
    assert_eq!(body["usage"], Value::Null);
}

#[test]
fn provider_model_is_reported_and_empty_id_falls_back() {
    let mut resp = response(Vec::new(), FinishReason::Length, None);
    resp.id.clear();
    let body = chat_completion(&resp, 0);
    assert_eq!(body["id"], "req-1");
    assert_eq!(
        body["model"], "gpt-4.1-2025-04-14",
        "not the lineage's provider:model form"
    );
    assert_eq!(body["choices"][0]["message"]["content"], "");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
}

#[test]
fn reasoning_and_signatures_survive_the_round_trip() {
    let content = vec![
        ContentBlock::Reasoning(Reasoning {
            text: "The user wants the weather.".into(),
            signature: Some("ErUBCkYIBRgCIkDx+/8=".into()),
            redacted: None,
            format: Some("anthropic".into()),
        }),
        ContentBlock::Reasoning(Reasoning {
            text: String::new(),
            signature: None,
            redacted: Some("EmwKAhgBEgy3va3pzix/LafPsn4aDFIT".into()),
            format: Some("anthropic".into()),
        }),
        ContentBlock::Text {
            text: "Checking.".into(),
        },
        ContentBlock::ToolUse(ToolCall {
            id: "call_1".into(),
            name: "weather".into(),
            arguments: json!({"city": "Florence"}),
            signature: Some("CiQBjz1rX+gemini==".into()),
        }),
    ];
    let resp = response(content.clone(), FinishReason::ToolCalls, None);
    let body = chat_completion(&resp, 0);
    let message = &body["choices"][0]["message"];
    assert_eq!(message["reasoning_content"], "The user wants the weather.");
    assert_eq!(message["reasoning_details"].as_array().unwrap().len(), 3);

    let next = json!({"model": "anthropic:claude", "messages": [
        {"role": "user", "content": "Weather in Florence?"}, message.clone()]});
    let req = chat_request(next.to_string().as_bytes()).unwrap().request;
    let Content::Blocks(blocks) = &req.messages[1].content else {
        panic!("blocks expected")
    };
    assert_eq!(
        serde_json::to_value(blocks).unwrap(),
        serde_json::to_value(&content).unwrap()
    );
}

#[test]
fn unknown_finish_reason_keeps_the_providers_value() {
    let mut resp = response(Vec::new(), FinishReason::Unknown, None);
    resp.finish_reason_raw = Some("MALFORMED_FUNCTION_CALL".into());
    let choice = &chat_completion(&resp, 0)["choices"][0];
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["native_finish_reason"], "MALFORMED_FUNCTION_CALL");
}

/// The turn most agent code writes back: the assistant's `tool_calls` copied call by call
/// (as the SDK's `model_dump()` gives them), without the message's `reasoning_details`.
fn rebuilt_from_tool_calls(message: &Value) -> Value {
    json!({"role": "assistant", "content": null, "tool_calls": message["tool_calls"]})
}

#[test]
fn a_signed_call_carries_its_signature_where_google_puts_it_and_keeps_it_without_details() {
    let content = vec![
        ContentBlock::ToolUse(ToolCall {
            id: "call_1".into(),
            name: "weather".into(),
            arguments: json!({"city": "Paris"}),
            signature: Some("EpwCCpkCAdHtim+qV0cH7x==".into()),
        }),
        ContentBlock::ToolUse(ToolCall {
            id: "call_2".into(),
            name: "weather".into(),
            arguments: json!({"city": "London"}),
            signature: None,
        }),
    ];
    let resp = response(content.clone(), FinishReason::ToolCalls, None);
    let body = chat_completion(&resp, 0);
    let message = &body["choices"][0]["message"];
    // Google's OpenAI-compatible response: the signature on the call it belongs to.
    assert_eq!(
        message["tool_calls"][0],
        json!({"id": "call_1", "type": "function",
               "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"},
               "extra_content": {"google": {"thought_signature": "EpwCCpkCAdHtim+qV0cH7x=="}}})
    );
    assert!(
        message["tool_calls"][1].get("extra_content").is_none(),
        "an unsigned call has no extra_content: {message}"
    );

    let next = json!({"model": "google:gemini-3-flash-preview", "messages": [
        {"role": "user", "content": "Weather in Paris and London?"},
        rebuilt_from_tool_calls(message),
        {"role": "tool", "tool_call_id": "call_1", "content": "18 C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "12 C"}]});
    let req = chat_request(next.to_string().as_bytes()).unwrap().request;
    let Content::Blocks(blocks) = &req.messages[1].content else {
        panic!("blocks expected")
    };
    assert_eq!(
        serde_json::to_value(blocks).unwrap(),
        serde_json::to_value(&content).unwrap()
    );
}
