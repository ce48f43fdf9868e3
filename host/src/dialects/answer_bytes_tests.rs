//! Whole answers are serialized from typed, borrowed views of the SCRI answer rather than
//! through a `serde_json::Value` tree. Clients (and the SDKs' tests) see the bytes, so the
//! order of every field is pinned here, for an answer that uses every part of each shape: text,
//! reasoning (signed, and redacted), a signed tool call, arguments that are not an object,
//! every usage count and a finish reason SCRI does not know.

use serde_json::json;

use crate::scri::{ChatResponse, ContentBlock, FinishReason, Lineage, Reasoning, ToolCall, Usage};

fn rich(raw_finish: &str) -> ChatResponse {
    ChatResponse {
        id: "resp-1".into(),
        model: "m-2025".into(),
        content: vec![
            ContentBlock::Reasoning(Reasoning {
                text: "think \"hard\"".into(),
                signature: Some("sig-r".into()),
                ..Reasoning::default()
            }),
            ContentBlock::Reasoning(Reasoning {
                redacted: Some("opaque".into()),
                ..Reasoning::default()
            }),
            ContentBlock::Text {
                text: "Hello".into(),
            },
            ContentBlock::Text {
                text: ", world\n".into(),
            },
            ContentBlock::ToolUse(ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: json!({"city": "Paris", "days": 2}),
                signature: Some("sig-c".into()),
            }),
            ContentBlock::ToolUse(ToolCall {
                id: "call_2".into(),
                name: "raw".into(),
                arguments: json!("{\"broken\": "),
                signature: None,
            }),
        ],
        finish_reason: FinishReason::Unknown,
        finish_reason_raw: Some(raw_finish.into()),
        usage: Some(Usage {
            input_tokens: Some(100),
            output_tokens: Some(40),
            cache_read_tokens: Some(60),
            cache_write_tokens: Some(5),
            reasoning_tokens: Some(12),
        }),
        lineage: Lineage {
            model: "lineage-model".into(),
            request_id: "req_1".into(),
            ..Lineage::default()
        },
    }
}

#[test]
fn openai_completion_bytes() {
    let answer = rich("RECITATION");
    let body = serde_json::to_string(&crate::dialects::openai::completion(&answer, 7)).unwrap();
    assert_eq!(body, OPENAI);
    let bare = ChatResponse {
        id: String::new(),
        model: String::new(),
        content: vec![],
        finish_reason: FinishReason::Stop,
        usage: None,
        ..answer
    };
    let body = serde_json::to_string(&crate::dialects::openai::completion(&bare, 7)).unwrap();
    assert_eq!(body, OPENAI_BARE);
}

#[test]
fn anthropic_message_bytes() {
    let answer = rich("pause_turn");
    let body = serde_json::to_string(&crate::dialects::anthropic::message_body(&answer)).unwrap();
    assert_eq!(body, ANTHROPIC);
}

#[test]
fn gemini_response_bytes() {
    let answer = rich("RECITATION");
    let body = serde_json::to_string(&crate::dialects::gemini::generate_body(&answer)).unwrap();
    assert_eq!(body, GEMINI);
}

// Written by the `Value`-tree serializers these replaced (at 3fa3181).
const OPENAI: &str = "{\"id\":\"resp-1\",\"object\":\"chat.completion\",\"created\":7,\"model\":\"m-2025\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello, world\\n\",\"refusal\":null,\"annotations\":[],\"tool_calls\":[{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\",\\\"days\\\":2}\"},\"extra_content\":{\"google\":{\"thought_signature\":\"sig-c\"}}},{\"id\":\"call_2\",\"type\":\"function\",\"function\":{\"name\":\"raw\",\"arguments\":\"{\\\"broken\\\": \"}}],\"reasoning_content\":\"think \\\"hard\\\"\",\"reasoning_details\":[{\"type\":\"reasoning.text\",\"text\":\"think \\\"hard\\\"\",\"signature\":\"sig-r\",\"index\":0},{\"type\":\"reasoning.encrypted\",\"data\":\"opaque\",\"index\":1},{\"type\":\"reasoning.encrypted\",\"id\":\"call_1\",\"data\":\"sig-c\",\"index\":2}]},\"logprobs\":null,\"finish_reason\":\"stop\",\"native_finish_reason\":\"RECITATION\"}],\"usage\":{\"prompt_tokens\":100,\"completion_tokens\":40,\"total_tokens\":140,\"prompt_tokens_details\":{\"cached_tokens\":60},\"completion_tokens_details\":{\"reasoning_tokens\":12}},\"system_fingerprint\":null}";
const OPENAI_BARE: &str = "{\"id\":\"req_1\",\"object\":\"chat.completion\",\"created\":7,\"model\":\"lineage-model\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null,\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null,\"system_fingerprint\":null}";
const ANTHROPIC: &str = "{\"id\":\"msg_resp-1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m-2025\",\"content\":[{\"type\":\"thinking\",\"thinking\":\"think \\\"hard\\\"\",\"signature\":\"sig-r\"},{\"type\":\"redacted_thinking\",\"data\":\"opaque\"},{\"type\":\"text\",\"text\":\"Hello\"},{\"type\":\"text\",\"text\":\", world\\n\"},{\"type\":\"tool_use\",\"id\":\"call_1\",\"name\":\"get_weather\",\"input\":{\"city\":\"Paris\",\"days\":2}},{\"type\":\"tool_use\",\"id\":\"call_2\",\"name\":\"raw\",\"input\":{\"_raw\":\"{\\\"broken\\\": \"}}],\"stop_reason\":\"pause_turn\",\"stop_sequence\":null,\"usage\":{\"input_tokens\":35,\"output_tokens\":40,\"cache_creation_input_tokens\":5,\"cache_read_input_tokens\":60}}";
const GEMINI: &str = "{\"candidates\":[{\"content\":{\"role\":\"model\",\"parts\":[{\"text\":\"think \\\"hard\\\"\",\"thought\":true,\"thoughtSignature\":\"sig-r\"},{\"text\":\"Hello\"},{\"text\":\", world\\n\"},{\"functionCall\":{\"id\":\"call_1\",\"name\":\"get_weather\",\"args\":{\"city\":\"Paris\",\"days\":2}},\"thoughtSignature\":\"sig-c\"},{\"functionCall\":{\"id\":\"call_2\",\"name\":\"raw\",\"args\":{\"_raw\":\"{\\\"broken\\\": \"}}}]},\"finishReason\":\"RECITATION\",\"index\":0}],\"modelVersion\":\"m-2025\",\"responseId\":\"resp-1\",\"usageMetadata\":{\"promptTokenCount\":100,\"candidatesTokenCount\":28,\"totalTokenCount\":140,\"cachedContentTokenCount\":60,\"thoughtsTokenCount\":12}}";
