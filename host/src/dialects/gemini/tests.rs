//! Unit tests of the Gemini translation: requests as the google-genai SDK sends them, answers
//! and streams as it parses them.

use serde_json::{Value, json};

use super::*;
use crate::dialects::RequestError;
use crate::scri::{
    ApiErrorBody, ChatResponse, Content, ContentBlock, EmbedResponse, FinishReason, Lineage,
    ModelCapabilities, ModelEntry, ModelList, Reasoning, ResponseFormat, Role, StreamEvent,
    ToolCall, ToolChoice, ToolResultContent, Usage,
};

fn parse(body: Value) -> crate::scri::ChatRequest {
    generate_request("local:llama3.2", body.to_string().as_bytes(), false).expect("valid")
}

fn refused(body: Value) -> RequestError {
    generate_request("m", body.to_string().as_bytes(), false).expect_err("refused")
}

#[test]
fn the_model_is_split_at_the_last_colon() {
    assert_eq!(
        split_model_method("local:llama3.2:3b:generateContent"),
        Some(("local:llama3.2:3b", "generateContent"))
    );
    assert_eq!(
        split_model_method("models/fast:streamGenerateContent"),
        Some(("fast", "streamGenerateContent"))
    );
    assert_eq!(
        split_model_method("team/fast:embedContent"),
        Some(("team/fast", "embedContent"))
    );
    assert_eq!(split_model_method("nocolon"), None);
}

#[test]
fn a_full_request_maps_every_field() {
    let request = parse(json!({
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "contents": [
            {"role": "user", "parts": [
                {"text": "Weather in Paris?"},
                {"inlineData": {"mimeType": "image/png", "data": "iVBO"}},
            ]},
            {"role": "model", "parts": [
                {"text": "Let me check", "thought": true, "thoughtSignature": "t-sig"},
                {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": "c-sig"},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"output": "18C"}}},
            ]},
            {"role": "model", "parts": [{"text": "It is 18C.", "thoughtSignature": "s2"}]},
        ],
        "tools": [{"functionDeclarations": [{"name": "get_weather", "description": "Weather",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "nullable": true}},
                "required": ["city"], "propertyOrdering": ["city"]}}]}],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
        "generationConfig": {"temperature": 0.2, "topP": 0.9, "topK": 40.0, "maxOutputTokens": 64,
            "stopSequences": ["END"], "seed": 7, "responseMimeType": "application/json",
            "thinkingConfig": {"includeThoughts": true, "thinkingBudget": 1024}},
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
    }));
    assert_eq!(request.model, "local:llama3.2");
    assert_eq!(request.sampling.top_k, Some(40));
    assert_eq!(request.sampling.max_tokens, Some(64));
    assert_eq!(request.sampling.seed, Some(7));
    assert!(matches!(
        request.response_format,
        Some(ResponseFormat::JsonObject)
    ));
    let reasoning = request.reasoning.unwrap();
    assert_eq!(reasoning.budget_tokens, Some(1024));
    assert_eq!(reasoning.include_reasoning, Some(true));
    assert!(
        matches!(request.tool_choice, Some(ToolChoice::Tool { ref tool }) if tool == "get_weather")
    );
    assert_eq!(
        request.tools[0].parameters,
        json!({"type": "object", "properties": {"city": {"type": ["string", "null"]}}, "required": ["city"]})
    );
    let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::Assistant
        ]
    );
    let Content::Blocks(model) = &request.messages[2].content else {
        panic!()
    };
    assert!(
        matches!(&model[0], ContentBlock::Reasoning(r) if r.text == "Let me check" && r.signature.as_deref() == Some("t-sig"))
    );
    let ContentBlock::ToolUse(call) = &model[1] else {
        panic!()
    };
    assert_eq!(call.id, "call_1");
    assert_eq!(call.signature.as_deref(), Some("c-sig"));
    let Content::Blocks(tool) = &request.messages[3].content else {
        panic!()
    };
    let ContentBlock::ToolResult(result) = &tool[0] else {
        panic!()
    };
    assert_eq!(result.tool_call_id, "call_1");
    assert!(matches!(&result.content, ToolResultContent::Text(t) if t == "18C"));
    let Content::Blocks(last) = &request.messages[4].content else {
        panic!()
    };
    assert!(matches!(&last[0], ContentBlock::Text { text } if text == "It is 18C."));
    assert!(
        matches!(&last[1], ContentBlock::Reasoning(r) if r.text.is_empty() && r.signature.as_deref() == Some("s2"))
    );
}

#[test]
fn snake_case_fields_are_accepted_and_ids_are_kept() {
    let request = parse(json!({
        "system_instruction": {"parts": [{"text": "x"}]},
        "contents": [
            {"role": "model", "parts": [{"function_call": {"id": "c9", "name": "f", "args": {}}}]},
            {"role": "user", "parts": [{"function_response": {"id": "c9", "name": "f", "response": {"error": "boom"}}}]},
        ],
        "generation_config": {"max_output_tokens": 5, "response_mime_type": "application/json",
            "response_json_schema": {"type": "object"}},
    }));
    assert_eq!(request.sampling.max_tokens, Some(5));
    assert!(matches!(
        request.response_format,
        Some(ResponseFormat::JsonSchema { .. })
    ));
    let Content::Blocks(tool) = &request.messages[2].content else {
        panic!()
    };
    let ContentBlock::ToolResult(result) = &tool[0] else {
        panic!()
    };
    assert_eq!(result.tool_call_id, "c9");
    assert!(result.is_error);
}

#[test]
fn mistakes_name_the_field() {
    let err = refused(json!({"contents": []}));
    assert!(err.to_string().starts_with("contents:"), "{err}");
    let err = refused(json!({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}));
    assert!(err.to_string().starts_with("contents[0].role"), "{err}");
    let err =
        refused(json!({"contents": [{"parts": [{"text": "x"}]}], "tools": [{"googleSearch": {}}]}));
    assert!(
        matches!(&err, RequestError::Unsupported { param, .. } if param == "tools[0].googleSearch"),
        "{err}"
    );
    let err = refused(
        json!({"contents": [{"parts": [{"inlineData": {"mimeType": "audio/wav", "data": "x"}}]}]}),
    );
    assert!(
        err.to_string()
            .starts_with("contents[0].parts[0].inlineData.mimeType"),
        "{err}"
    );
    let err = refused(json!({"contents": [{"parts": [{"text": 5}]}]}));
    assert!(
        err.to_string().starts_with("contents[0].parts[0].text"),
        "{err}"
    );
    let err = refused(
        json!({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"candidateCount": 2}}),
    );
    assert!(
        err.to_string()
            .starts_with("generationConfig.candidateCount"),
        "{err}"
    );
    let err = refused(
        json!({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": 1e300}}),
    );
    assert!(
        err.to_string()
            .starts_with("generationConfig.temperature: "),
        "{err}"
    );
    let err = refused(
        json!({"contents": [{"parts": [{"functionResponse": {"name": "f", "response": {}}}]}]}),
    );
    assert!(err.to_string().contains("no earlier functionCall"), "{err}");
    let body = error_body(400, &err.to_api_error());
    assert_eq!(body["error"]["code"], 400);
    assert_eq!(body["error"]["status"], "INVALID_ARGUMENT");
}

fn lineage() -> Lineage {
    Lineage {
        provider: "anthropic".into(),
        model: "claude".into(),
        ..Lineage::default()
    }
}

#[test]
fn a_response_becomes_generate_content_response() {
    let resp = ChatResponse {
        id: "r1".into(),
        model: "claude".into(),
        content: vec![
            ContentBlock::Reasoning(Reasoning {
                text: "hmm".into(),
                signature: Some("s".into()),
                ..Reasoning::default()
            }),
            ContentBlock::Text {
                text: "Hello".into(),
            },
            ContentBlock::Reasoning(Reasoning {
                signature: Some("s2".into()),
                ..Reasoning::default()
            }),
            ContentBlock::ToolUse(ToolCall {
                id: "c1".into(),
                name: "f".into(),
                arguments: json!({"a": 1}),
                signature: Some("cs".into()),
            }),
        ],
        finish_reason: FinishReason::ToolCalls,
        finish_reason_raw: None,
        usage: Some(Usage {
            input_tokens: Some(100),
            output_tokens: Some(30),
            cache_read_tokens: Some(60),
            cache_write_tokens: None,
            reasoning_tokens: Some(10),
        }),
        lineage: lineage(),
    };
    let body = generate_response(&resp);
    assert_eq!(
        body["candidates"][0]["content"]["parts"],
        json!([
            {"text": "hmm", "thought": true, "thoughtSignature": "s"},
            {"text": "Hello", "thoughtSignature": "s2"},
            {"functionCall": {"id": "c1", "name": "f", "args": {"a": 1}}, "thoughtSignature": "cs"},
        ])
    );
    assert_eq!(body["candidates"][0]["finishReason"], "STOP");
    assert_eq!(
        body["usageMetadata"],
        json!({"promptTokenCount": 100, "candidatesTokenCount": 20, "totalTokenCount": 130,
            "cachedContentTokenCount": 60, "thoughtsTokenCount": 10})
    );
    assert_eq!(finish_reason(&FinishReason::Length, None), "MAX_TOKENS");
    assert_eq!(
        finish_reason(&FinishReason::Unknown, Some("RECITATION")),
        "RECITATION"
    );
    assert_eq!(
        finish_reason(&FinishReason::Unknown, Some("pause_turn")),
        "OTHER"
    );
}

#[test]
fn a_stream_sends_whole_calls_and_finishes_with_usage() {
    let mut enc = ChunkEncoder::new("req", "m");
    let events = [
        StreamEvent::Start {
            id: "r1".into(),
            model: "claude".into(),
        },
        StreamEvent::TextDelta { text: "Hi".into() },
        StreamEvent::ToolCallStart {
            index: 0,
            id: "c1".into(),
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
                input_tokens: Some(5),
                output_tokens: Some(3),
                ..Usage::default()
            },
        },
        StreamEvent::Stop {
            finish_reason: FinishReason::ToolCalls,
            finish_reason_raw: None,
            lineage: lineage(),
        },
    ];
    let chunks: Vec<Value> = events
        .iter()
        .flat_map(|e| enc.push(e))
        .map(|c| serde_json::from_str(&c).unwrap())
        .collect();
    assert_eq!(chunks.len(), 2);
    assert_eq!(
        chunks[0]["candidates"][0]["content"]["parts"],
        json!([{"text": "Hi"}])
    );
    assert_eq!(chunks[0]["responseId"], "r1");
    let last = &chunks[1];
    assert_eq!(
        last["candidates"][0]["content"]["parts"],
        json!([{"functionCall": {"id": "c1", "name": "f", "args": {"a": 1}}}])
    );
    assert_eq!(last["candidates"][0]["finishReason"], "STOP");
    assert_eq!(last["usageMetadata"]["promptTokenCount"], 5);
    assert!(enc.finished());
}

#[test]
fn a_failing_stream_ends_with_an_error_chunk() {
    let mut enc = ChunkEncoder::new("req", "m");
    let error = ApiErrorBody {
        message: "provider 'google': overloaded".into(),
        kind: "overloaded_error".into(),
        param: None,
        code: None,
        provider: None,
        upstream_status: Some(503),
    };
    let out = enc.push(&StreamEvent::Error { error });
    let body: Value = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(body["error"]["code"], 503);
    assert_eq!(body["error"]["status"], "UNAVAILABLE");
    assert!(enc.finished());
}

#[test]
fn embeddings_both_ways() {
    let one = embed_request(
        "local:e",
        br#"{"content": {"parts": [{"text": "a"}, {"text": "b"}]}, "outputDimensionality": 8}"#,
    )
    .unwrap();
    assert_eq!(one.inputs, ["a\nb"]);
    assert_eq!(one.dimensions, Some(8));
    let batch = batch_embed_request(
        "local:e",
        br#"{"requests": [{"model": "models/local:e", "content": {"parts": [{"text": "x"}]}},
                          {"model": "models/local:e", "content": {"parts": [{"text": "y"}]}}]}"#,
    )
    .unwrap();
    assert_eq!(batch.inputs, ["x", "y"]);
    let err = batch_embed_request(
        "local:e",
        br#"{"requests": [{"model": "models/other", "content": {"parts": [{"text": "x"}]}}]}"#,
    )
    .unwrap_err();
    assert!(err.to_string().starts_with("requests[0].model"), "{err}");
    let resp = EmbedResponse {
        model: "e".into(),
        embeddings: vec![vec![0.5, 1.0], vec![2.0]],
        usage: None,
        lineage: lineage(),
    };
    assert_eq!(
        batch_embed_response(&resp),
        json!({"embeddings": [{"values": [0.5, 1.0]}, {"values": [2.0]}]})
    );
    assert_eq!(
        embed_response(&resp),
        json!({"embedding": {"values": [0.5, 1.0]}})
    );
}

#[test]
fn models_are_paged_like_gemini() {
    let entry = |id: &str, embeddings: bool| ModelEntry {
        id: format!("local:{id}"),
        provider: "local".into(),
        model: id.into(),
        owned_by: None,
        created: None,
        capabilities: ModelCapabilities {
            embeddings,
            context_window: Some(8192),
            ..ModelCapabilities::default()
        },
    };
    let list = ModelList {
        models: vec![entry("a", false), entry("e", true)],
        aliases: [("fast".to_owned(), vec!["local:a".to_owned()])].into(),
        unavailable: Vec::new(),
    };
    let page = models_page(
        &list,
        &ModelsQuery {
            page_size: Some(2),
            page_token: None,
        },
    );
    assert_eq!(page["models"][0]["name"], "models/local:a");
    assert_eq!(page["models"][0]["inputTokenLimit"], 8192);
    assert_eq!(
        page["models"][1]["supportedGenerationMethods"],
        json!(["embedContent", "batchEmbedContents"])
    );
    assert_eq!(page["nextPageToken"], "2");
    let next = models_page(
        &list,
        &ModelsQuery {
            page_size: Some(2),
            page_token: Some("2".into()),
        },
    );
    assert_eq!(next["models"][0]["name"], "models/fast");
    assert!(next.get("nextPageToken").is_none());
    assert_eq!(model(&list, "models/local:e").unwrap()["baseModelId"], "e");
    assert!(model(&list, "nope").is_none());
}
