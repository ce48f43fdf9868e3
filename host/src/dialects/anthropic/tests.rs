//! Unit tests of the Anthropic translation: requests as the official SDK sends them, answers
//! and streams as it parses them.

use serde_json::{Value, json};

use super::*;
use crate::dialects::RequestError;
use crate::scri::{
    ApiErrorBody, ChatResponse, Content, ContentBlock, FinishReason, Lineage, ModelCapabilities,
    ModelEntry, ModelList, Reasoning, ResponseFormat, Role, StreamEvent, ToolCall, ToolChoice,
    ToolChoiceMode, ToolResultContent, Usage,
};

fn parse(body: Value) -> crate::scri::ChatRequest {
    messages_request(body.to_string().as_bytes()).expect("valid request")
}

fn refused(body: Value) -> RequestError {
    messages_request(body.to_string().as_bytes()).expect_err("must be refused")
}

#[test]
fn a_full_request_maps_every_field() {
    let request = parse(json!({
        "model": "local:llama3.2",
        "max_tokens": 256,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Weather?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Use the tool.", "signature": "sig-1"},
                {"type": "redacted_thinking", "data": "enc"},
                {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C", "is_error": true},
                {"type": "text", "text": "And tomorrow?"},
            ]},
        ],
        "tools": [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": true},
        "stop_sequences": ["END"],
        "temperature": 0.5, "top_p": 0.9, "top_k": 40,
        "metadata": {"user_id": "u-1"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "output_config": {"effort": "max"},
        "stream": true,
    }));
    assert_eq!(request.model, "local:llama3.2");
    assert!(request.stream);
    assert_eq!(request.sampling.max_tokens, Some(256));
    assert_eq!(request.sampling.stop, vec!["END"]);
    assert_eq!(request.sampling.top_k, Some(40));
    assert_eq!(request.user.as_deref(), Some("u-1"));
    assert!(matches!(
        request.tool_choice,
        Some(ToolChoice::Mode(ToolChoiceMode::Required))
    ));
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert_eq!(request.tools[0].parameters, json!({"type": "object"}));
    let reasoning = request.reasoning.unwrap();
    assert_eq!(reasoning.budget_tokens, Some(2048));
    assert_eq!(reasoning.effort.as_deref(), Some("high"));
    let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::User
        ]
    );
    let Content::Blocks(assistant) = &request.messages[2].content else {
        panic!("blocks")
    };
    assert!(
        matches!(&assistant[0], ContentBlock::Reasoning(r) if r.text == "Use the tool." && r.signature.as_deref() == Some("sig-1"))
    );
    assert!(
        matches!(&assistant[1], ContentBlock::Reasoning(r) if r.redacted.as_deref() == Some("enc"))
    );
    assert!(
        matches!(&assistant[2], ContentBlock::ToolUse(c) if c.arguments == json!({"city": "Paris"}))
    );
    let Content::Blocks(tool) = &request.messages[3].content else {
        panic!("blocks")
    };
    let ContentBlock::ToolResult(result) = &tool[0] else {
        panic!("a tool result")
    };
    assert_eq!(result.tool_call_id, "toolu_1");
    assert_eq!(result.name.as_deref(), Some("get_weather"));
    assert!(result.is_error);
    assert!(matches!(&result.content, ToolResultContent::Text(t) if t == "18C"));
}

#[test]
fn tool_choice_tool_and_json_schema_output() {
    let request = parse(json!({
        "model": "m", "max_tokens": 10,
        "messages": [{"role": "user", "content": "hi"}],
        "tool_choice": {"type": "tool", "name": "f"},
        "output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}},
    }));
    assert!(matches!(request.tool_choice, Some(ToolChoice::Tool { ref tool }) if tool == "f"));
    assert_eq!(request.parallel_tool_calls, None);
    assert!(matches!(
        request.response_format,
        Some(ResponseFormat::JsonSchema { .. })
    ));
}

#[test]
fn mistakes_name_the_field() {
    let err = refused(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    assert!(err.to_string().contains("max_tokens"), "{err}");
    let err = refused(json!({"model": "m", "max_tokens": 1, "messages": [
        {"role": "user", "content": [{"type": "document", "source": {}}]}]}));
    assert!(
        err.to_string()
            .starts_with("messages[0].content[0].type: unknown variant `document`"),
        "{err}"
    );
    let err = refused(json!({"model": "m", "max_tokens": 1, "messages": [
        {"role": "system", "content": "x"}]}));
    assert!(err.to_string().starts_with("messages[0].role"), "{err}");
    let err = refused(json!({"model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "web_search_20250305", "name": "web_search"}]}));
    assert!(
        matches!(&err, RequestError::Unsupported { param, .. } if param == "tools[0].type"),
        "{err}"
    );
    let err = refused(json!({"model": "m", "max_tokens": 1, "messages": [
        {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "x"}]}]}));
    assert!(
        err.to_string().contains("cannot appear in a assistant")
            || err.to_string().contains("cannot appear"),
        "{err}"
    );
    let err = refused(json!({"model": "m", "max_tokens": 1,
        "messages": [{"role": "user", "content": "x"}], "temperature": 1e39}));
    assert!(err.to_string().starts_with("temperature: "), "{err}");
    assert!(matches!(
        messages_request(b"{nope"),
        Err(RequestError::Json { .. })
    ));
    let body = error_body(&err.to_api_error());
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
}

fn lineage() -> Lineage {
    Lineage {
        provider: "local".into(),
        model: "llama3.2".into(),
        ..Lineage::default()
    }
}

#[test]
fn a_response_becomes_a_message() {
    let resp = ChatResponse {
        id: "chatcmpl-1".into(),
        model: "llama3.2".into(),
        content: vec![
            ContentBlock::Reasoning(Reasoning {
                text: "hmm".into(),
                signature: Some("s".into()),
                ..Reasoning::default()
            }),
            ContentBlock::Text {
                text: "Hello".into(),
            },
            ContentBlock::ToolUse(ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: json!({"a": 1}),
                signature: None,
            }),
        ],
        finish_reason: FinishReason::ToolCalls,
        finish_reason_raw: None,
        usage: Some(Usage {
            input_tokens: Some(100),
            output_tokens: Some(7),
            cache_read_tokens: Some(60),
            cache_write_tokens: Some(10),
            reasoning_tokens: None,
        }),
        lineage: lineage(),
    };
    let m = message(&resp);
    assert_eq!(m["id"], "msg_chatcmpl-1");
    assert_eq!(m["type"], "message");
    assert_eq!(m["stop_reason"], "tool_use");
    assert_eq!(
        m["content"],
        json!([
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "text", "text": "Hello"},
            {"type": "tool_use", "id": "call_1", "name": "f", "input": {"a": 1}},
        ])
    );
    assert_eq!(
        m["usage"],
        json!({"input_tokens": 30, "output_tokens": 7,
            "cache_creation_input_tokens": 10, "cache_read_input_tokens": 60})
    );
}

#[test]
fn stop_reasons() {
    assert_eq!(stop_reason(&FinishReason::Stop, None), "end_turn");
    assert_eq!(stop_reason(&FinishReason::Length, None), "max_tokens");
    assert_eq!(stop_reason(&FinishReason::ContentFilter, None), "refusal");
    assert_eq!(
        stop_reason(&FinishReason::Unknown, Some("pause_turn")),
        "pause_turn"
    );
    assert_eq!(
        stop_reason(&FinishReason::Unknown, Some("OTHER")),
        "end_turn"
    );
}

fn names(events: &[(&'static str, String)]) -> Vec<&'static str> {
    events.iter().map(|(n, _)| *n).collect()
}

#[test]
fn a_stream_follows_anthropics_event_order() {
    let mut enc = EventEncoder::new("req", "m");
    let mut all = Vec::new();
    let events = [
        StreamEvent::Start {
            id: "msg_1".into(),
            model: "claude".into(),
        },
        StreamEvent::ReasoningDelta {
            text: "think".into(),
            signature: None,
            redacted: None,
            format: None,
        },
        StreamEvent::ReasoningDelta {
            text: String::new(),
            signature: Some("sig".into()),
            redacted: None,
            format: None,
        },
        StreamEvent::TextDelta { text: "Hi".into() },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "t1".into(),
            name: "f".into(),
            signature: None,
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "{\"a\":".into(),
        },
        StreamEvent::ToolCallDelta {
            index: 0,
            arguments: "1}".into(),
        },
        StreamEvent::Usage {
            usage: Usage {
                input_tokens: Some(12),
                output_tokens: Some(5),
                ..Usage::default()
            },
        },
        StreamEvent::Stop {
            finish_reason: FinishReason::ToolCalls,
            finish_reason_raw: None,
            lineage: lineage(),
        },
    ];
    for e in &events {
        all.extend(enc.push(e));
    }
    assert!(enc.finished());
    assert_eq!(
        names(&all),
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = all
        .iter()
        .map(|(_, d)| serde_json::from_str(d).unwrap())
        .collect();
    assert_eq!(data[0]["message"]["id"], "msg_1");
    assert_eq!(data[0]["message"]["model"], "claude");
    assert_eq!(
        data[3]["delta"],
        json!({"type": "signature_delta", "signature": "sig"})
    );
    assert_eq!(data[6]["index"], 1);
    assert_eq!(data[8]["content_block"]["type"], "tool_use");
    assert_eq!(
        data[9]["delta"],
        json!({"type": "input_json_delta", "partial_json": "{\"a\":"})
    );
    assert_eq!(data[12]["delta"]["stop_reason"], "tool_use");
    assert_eq!(data[12]["usage"]["input_tokens"], 12);
    assert_eq!(data[12]["usage"]["output_tokens"], 5);
}

#[test]
fn a_failing_stream_ends_with_an_error_event() {
    let mut enc = EventEncoder::new("req", "m");
    let first = enc.push(&StreamEvent::TextDelta { text: "a".into() });
    assert_eq!(
        names(&first),
        [
            "message_start",
            "content_block_start",
            "content_block_delta"
        ]
    );
    let error = ApiErrorBody {
        message: "provider 'x': cut".into(),
        kind: "connection_error".into(),
        param: None,
        code: None,
        provider: None,
        upstream_status: None,
    };
    let out = enc.push(&StreamEvent::Error { error });
    assert_eq!(names(&out), ["error"]);
    let data: Value = serde_json::from_str(&out[0].1).unwrap();
    assert_eq!(data["error"]["type"], "api_error");
    assert!(enc.finished());
    assert!(
        enc.push(&StreamEvent::TextDelta { text: "b".into() })
            .is_empty()
    );
}

#[test]
fn models_are_paged_like_anthropic() {
    let entry = |id: &str| ModelEntry {
        id: format!("local:{id}"),
        provider: "local".into(),
        model: id.into(),
        owned_by: None,
        created: Some(1_700_000_000),
        capabilities: ModelCapabilities::default(),
    };
    let list = ModelList {
        models: vec![entry("a"), entry("b"), entry("c")],
        aliases: [("fast".to_owned(), vec!["local:a".to_owned()])].into(),
        unavailable: Vec::new(),
    };
    let page = models_page(
        &list,
        &ModelsQuery {
            limit: Some(2),
            ..ModelsQuery::default()
        },
    );
    assert_eq!(page["has_more"], true);
    assert_eq!(page["first_id"], "local:a");
    assert_eq!(page["last_id"], "local:b");
    assert_eq!(page["data"][0]["type"], "model");
    assert_eq!(page["data"][0]["created_at"], "2023-11-14T22:13:20Z");
    let next = models_page(
        &list,
        &ModelsQuery {
            after_id: Some("local:b".into()),
            limit: Some(2),
            ..ModelsQuery::default()
        },
    );
    assert_eq!(next["has_more"], false);
    assert_eq!(next["data"][1]["id"], "fast");
    assert_eq!(next["data"][1]["created_at"], "1970-01-01T00:00:00Z");
}
