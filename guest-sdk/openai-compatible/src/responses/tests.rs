//! Tests of the Responses API against recorded bodies in `fixtures/responses/`.

use serde_json::{Value, json};

use super::request::body;
use super::response::chat_response;
use super::stream::ResponsesDecoder;
use super::{ResponsesDialect, route};
use crate::tests::{Chunks, drain, fallbacks};
use aratta_guest::sse::SseStream;
use aratta_guest::{
    AdapterError, Base64Image, ChatRequest, ContentBlock, FinishReason, Image, ImageSource,
    JsonSchemaFormat, Message, MessageContent, MismatchKind, Reasoning, ReasoningDelta,
    ReasoningOptions, ResponseFormat, Role, Sampling, StreamEvent, StreamStart, Tool, ToolCall,
    ToolCallDelta, ToolCallStart, ToolChoice, ToolResult, ToolResultPart, Usage,
};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/responses/",
            $name
        ))
    };
}

const OPENAI: ResponsesDialect = ResponsesDialect::OPENAI;
const XAI: ResponsesDialect = ResponsesDialect::XAI;

fn msg(role: Role, blocks: Vec<ContentBlock>) -> Message {
    Message {
        role,
        content: MessageContent::Blocks(blocks),
        name: None,
    }
}

fn text(role: Role, t: &str) -> Message {
    Message {
        role,
        content: MessageContent::Text(t.into()),
        name: None,
    }
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "o4-mini".into(),
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

fn reasoning(format: Option<&str>, id: Option<&str>, redacted: Option<&str>) -> ContentBlock {
    ContentBlock::Reasoning(Reasoning {
        text: "Thought about it.".into(),
        signature: id.map(Into::into),
        redacted: redacted.map(Into::into),
        format: format.map(Into::into),
    })
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather".into()),
        parameters: r#"{"type":"object","properties":{"location":{"type":"string"}}}"#.into(),
    }
}

#[test]
fn a_full_request_body() {
    let mut req = request(vec![
        text(Role::System, "Be brief."),
        text(Role::Developer, "Answer in French."),
        msg(
            Role::User,
            vec![
                ContentBlock::Text("What is this?".into()),
                ContentBlock::Image(Image {
                    source: ImageSource::Base64(Base64Image {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into(),
                    }),
                    detail: None,
                }),
            ],
        ),
    ]);
    req.tools = vec![weather_tool()];
    req.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    req.parallel_tool_calls = Some(false);
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "answer".into(),
        description: None,
        schema: r#"{"type":"object"}"#.into(),
        strict: Some(true),
    }));
    req.sampling.temperature = Some(0.5);
    req.sampling.max_tokens = Some(800);
    req.reasoning = Some(ReasoningOptions {
        effort: Some("high".into()),
        budget_tokens: None,
        include_reasoning: Some(true),
    });
    req.user = Some("user-42".into());
    req.extra = Some(r#"{"tools":[{"type":"web_search"}],"service_tier":"flex"}"#.into());
    let got = body(&req, &OPENAI, true, "test").unwrap();
    let want = json!({
        "model": "o4-mini",
        "input": [
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": [
                {"type": "input_text", "text": "What is this?"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgo=", "detail": "auto"}
            ]}
        ],
        "tools": [
            {"type": "function", "name": "get_weather", "description": "Current weather",
             "parameters": {"type": "object", "properties": {"location": {"type": "string"}}},
             "strict": false},
            {"type": "web_search"}
        ],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": false,
        "text": {"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": true}},
        "temperature": 0.5,
        "max_output_tokens": 800,
        "reasoning": {"effort": "high", "summary": "auto"},
        "include": ["reasoning.encrypted_content"],
        "store": false,
        "user": "user-42",
        "stream": true,
        "service_tier": "flex"
    });
    assert_eq!(got, want);
}

#[test]
fn xai_sends_developer_as_system_and_tools_without_strict() {
    let mut req = request(vec![text(Role::Developer, "terse")]);
    req.tools = vec![weather_tool()];
    req.reasoning = Some(ReasoningOptions {
        effort: None,
        budget_tokens: None,
        include_reasoning: Some(true),
    });
    let got = body(&req, &XAI, false, "test").unwrap();
    assert_eq!(
        got["input"],
        json!([{"role": "system", "content": "terse"}])
    );
    assert_eq!(got["tools"][0].get("strict"), None);
    // xAI takes no `reasoning.summary`; encrypted reasoning is still asked for.
    assert_eq!(got.get("reasoning"), None);
    assert_eq!(got["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(got.get("stream"), None);
}

#[test]
fn a_tool_round_trip_turn_keeps_order_and_own_reasoning_only() {
    let req = request(vec![
        text(Role::User, "Weather in Paris?"),
        msg(
            Role::Assistant,
            vec![
                reasoning(Some("openai-responses-v1"), Some("rs_1"), Some("enc1")),
                reasoning(Some("anthropic-claude-v1"), Some("sig"), None),
                ContentBlock::Text("Checking.".into()),
                ContentBlock::ToolUse(ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"location":"Paris"}"#.into(),
                    signature: None,
                }),
            ],
        ),
        msg(
            Role::Tool,
            vec![ContentBlock::ToolResult(ToolResult {
                tool_call_id: "call_1".into(),
                name: Some("get_weather".into()),
                content: vec![ToolResultPart::Text("18C".into())],
                is_error: false,
            })],
        ),
        msg(
            Role::Tool,
            vec![ContentBlock::ToolResult(ToolResult {
                tool_call_id: "call_2".into(),
                name: None,
                content: vec![ToolResultPart::Text("timeout".into())],
                is_error: true,
            })],
        ),
    ]);
    assert_eq!(
        route(&req, &OPENAI),
        Some("reasoning carried from an earlier turn")
    );
    let got = body(&req, &OPENAI, false, "test").unwrap();
    assert_eq!(
        got["input"],
        json!([
            {"role": "user", "content": "Weather in Paris?"},
            {"type": "reasoning", "id": "rs_1",
             "summary": [{"type": "summary_text", "text": "Thought about it."}],
             "encrypted_content": "enc1"},
            {"role": "assistant", "content": "Checking."},
            {"type": "function_call", "call_id": "call_1", "name": "get_weather",
             "arguments": "{\"location\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
            {"type": "function_call_output", "call_id": "call_2", "output": "Error: timeout"}
        ])
    );
    assert_eq!(got["include"], json!(["reasoning.encrypted_content"]));
    // xAI does not take OpenAI's reasoning back.
    let got = body(&req, &XAI, false, "test").unwrap();
    assert_eq!(got["input"][1]["role"], "assistant");
}

#[test]
fn routing() {
    let plain = request(vec![text(Role::User, "hi")]);
    assert_eq!(route(&plain, &OPENAI), None);
    let mut search = plain.clone();
    search.extra = Some(r#"{"tools":[{"type":"x_search"}]}"#.into());
    assert_eq!(
        route(&search, &XAI),
        Some("server-side tools in `extra.tools`")
    );
    let mut functions_only = plain.clone();
    functions_only.extra = Some(r#"{"tools":[{"type":"function","name":"f"}]}"#.into());
    assert_eq!(route(&functions_only, &XAI), None);
    let mut wants = plain.clone();
    wants.reasoning = Some(ReasoningOptions {
        effort: Some("low".into()),
        budget_tokens: None,
        include_reasoning: Some(true),
    });
    assert_eq!(route(&wants, &OPENAI), Some("`include-reasoning`"));
    // A streamed answer's reasoning comes back without a format: recognized by its item id.
    let streamed = request(vec![msg(
        Role::Assistant,
        vec![reasoning(None, Some("rs_abc"), Some("enc"))],
    )]);
    assert!(route(&streamed, &XAI).is_some());
    let foreign = request(vec![msg(
        Role::Assistant,
        vec![reasoning(
            Some("google-gemini-v1"),
            Some("rs_abc"),
            Some("enc"),
        )],
    )]);
    assert_eq!(route(&foreign, &XAI), None);
}

#[test]
fn what_the_responses_api_cannot_express_is_refused() {
    let mut req = request(vec![text(Role::User, "hi")]);
    req.sampling.stop = vec!["END".into()];
    let AdapterError::InvalidRequest(d) = body(&req, &OPENAI, false, "web search").unwrap_err()
    else {
        panic!("wrong case")
    };
    assert!(d.message.contains("`stop`") && d.message.contains("web search"));
    let mut req = request(vec![text(Role::Tool, "bare text")]);
    req.sampling.stop = vec![];
    assert!(matches!(
        body(&req, &OPENAI, false, "t"),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn reasoning_and_a_tool_call() {
    let r = chat_response(
        fixture!("openai_reasoning_tool.json").as_bytes(),
        &fallbacks(),
        &OPENAI,
    )
    .unwrap();
    assert_eq!(r.id, "resp_68a1c0a9f3c08195b4a0b1a2c3d4e5f6");
    assert_eq!(r.model, "o4-mini-2025-04-16");
    assert_eq!(
        r.content,
        vec![
            ContentBlock::Reasoning(Reasoning {
                text: "**Checking the weather**\n\nThe user wants Paris weather; call the tool.\n\nUse Celsius.".into(),
                signature: Some("rs_68a1c0aa5b5c8195a8c1d2e3f4a5b6c7".into()),
                redacted: Some("gAAAAABooMCq3Xb1uX9m0k1Qn7aW2w==".into()),
                format: Some("openai-responses-v1".into()),
            }),
            ContentBlock::ToolUse(ToolCall {
                id: "call_9Kx2ZC8pQe4Lr1Tb3Ws5Vy7N".into(),
                name: "get_weather".into(),
                arguments: r#"{"location":"Paris, France","unit":"c"}"#.into(),
                signature: None,
            }),
        ]
    );
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: Some(312),
            output_tokens: Some(150),
            cache_read_tokens: Some(256),
            cache_write_tokens: None,
            reasoning_tokens: Some(128),
        })
    );
    // The block goes back as the same item on the next turn.
    let ContentBlock::Reasoning(block) = r.content[0].clone() else {
        unreachable!()
    };
    let next = request(vec![msg(
        Role::Assistant,
        vec![ContentBlock::Reasoning(block)],
    )]);
    let input = body(&next, &OPENAI, false, "t").unwrap()["input"].clone();
    assert_eq!(input[0]["id"], "rs_68a1c0aa5b5c8195a8c1d2e3f4a5b6c7");
    assert_eq!(
        input[0]["encrypted_content"],
        "gAAAAABooMCq3Xb1uX9m0k1Qn7aW2w=="
    );
}

#[test]
fn xai_web_search_answer_with_sources() {
    let r = chat_response(
        fixture!("xai_web_search.json").as_bytes(),
        &fallbacks(),
        &XAI,
    )
    .unwrap();
    assert_eq!(
        r.content,
        vec![
            ContentBlock::Text(
                "xAI is an American artificial intelligence company founded in July 2023 [[1]](https://x.ai/company).".into()
            ),
            ContentBlock::Text(
                "\n\nSources:\n- https://x.ai/company\n- https://x.ai/\n- https://en.wikipedia.org/wiki/XAI_%28company%29\n".into()
            ),
        ]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(r.usage.unwrap().output_tokens, Some(583));
}

#[test]
fn incomplete_failed_and_drifted_answers() {
    let incomplete = br#"{"id":"r","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"Trunc"}]}]}"#;
    let r = chat_response(incomplete, &fallbacks(), &OPENAI).unwrap();
    assert_eq!(r.finish_reason, FinishReason::Length);
    let filtered =
        br#"{"status":"incomplete","incomplete_details":{"reason":"content_filter"},"output":[]}"#;
    let r = chat_response(filtered, &fallbacks(), &OPENAI).unwrap();
    assert_eq!(r.finish_reason, FinishReason::ContentFilter);
    assert_eq!(r.id, "chatcmpl-req-0001-abcd");
    let failed =
        br#"{"status":"failed","error":{"code":"server_error","message":"boom"},"output":[]}"#;
    assert!(matches!(
        chat_response(failed, &fallbacks(), &OPENAI),
        Err(AdapterError::Upstream(d)) if d.message.contains("boom")
    ));
    let renamed = br#"{"status":"completed","outputs":[]}"#;
    let Err(AdapterError::SchemaMismatch(m)) = chat_response(renamed, &fallbacks(), &OPENAI) else {
        panic!("expected a mismatch")
    };
    assert_eq!(
        (m.kind, m.path.as_str()),
        (MismatchKind::MissingField, "output")
    );
    let nameless = br#"{"status":"completed","output":[{"type":"message","content":[]},{"type":"function_call","call_id":"c","arguments":"{}"}]}"#;
    let Err(AdapterError::SchemaMismatch(m)) = chat_response(nameless, &fallbacks(), &OPENAI)
    else {
        panic!("expected a mismatch")
    };
    assert_eq!(m.path, "output[1].name");
    let unknown = br#"{"status":"completed","brand_new":1,"output":[{"type":"shiny_new_item"},{"type":"message","content":[{"type":"output_text","text":"ok","new":true}]}]}"#;
    let r = chat_response(unknown, &fallbacks(), &OPENAI).unwrap();
    assert_eq!(r.content, vec![ContentBlock::Text("ok".into())]);
}

fn run(body: &str, size: usize, dialect: &ResponsesDialect) -> Vec<StreamEvent> {
    drain(SseStream::new(
        Chunks::new(body.as_bytes(), size),
        ResponsesDecoder::new(fallbacks(), dialect.clone()),
    ))
}

fn events(body: &str, dialect: &ResponsesDialect) -> Vec<StreamEvent> {
    let whole = run(body, usize::MAX, dialect);
    for size in [1, 7, 64, 1000] {
        assert_eq!(run(body, size, dialect), whole, "chunks of {size} bytes");
    }
    whole
}

fn thought(t: &str) -> StreamEvent {
    StreamEvent::ReasoningDelta(ReasoningDelta {
        text: t.into(),
        signature: None,
        redacted: None,
        format: None,
    })
}

#[test]
fn openai_stream_with_reasoning_text_sources_and_a_call() {
    let got = events(fixture!("openai_stream.sse"), &OPENAI);
    assert_eq!(
        got,
        vec![
            StreamEvent::Start(StreamStart {
                id: "resp_68a1c0a9f3c08195b4a0b1a2c3d4e5f6".into(),
                model: "o4-mini-2025-04-16".into(),
            }),
            thought("**Checking the weather**"),
            thought("\n\nCall the tool."),
            thought("\n\nUse Celsius."),
            StreamEvent::ReasoningDelta(ReasoningDelta {
                text: String::new(),
                signature: Some("rs_68a1c0aa5b5c8195a8c1d2e3f4a5b6c7".into()),
                redacted: Some("gAAAAABooMCq3Xb1uX9m0k1Qn7aW2w==".into()),
                format: Some(OPENAI.reasoning_format.into()),
            }),
            StreamEvent::TextDelta("Checking".into()),
            StreamEvent::TextDelta(" now.".into()),
            StreamEvent::ToolCallStart(ToolCallStart {
                index: 0,
                id: "call_9Kx2ZC8pQe4Lr1Tb3Ws5Vy7N".into(),
                name: "get_weather".into(),
                signature: None,
            }),
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index: 0,
                arguments: "{\"location\":".into(),
            }),
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index: 0,
                arguments: "\"Paris, France\"}".into(),
            }),
            StreamEvent::TextDelta("\n\nSources:\n- https://meteofrance.com/\n".into()),
            StreamEvent::Usage(Usage {
                input_tokens: Some(312),
                output_tokens: Some(150),
                cache_read_tokens: Some(256),
                cache_write_tokens: None,
                reasoning_tokens: Some(128),
            }),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
}

#[test]
fn xai_stream_with_encrypted_reasoning() {
    let got = events(fixture!("xai_stream.sse"), &XAI);
    assert_eq!(got.len(), 8, "{got:#?}");
    assert_eq!(
        got[3],
        StreamEvent::ReasoningDelta(ReasoningDelta {
            text: String::new(),
            signature: Some("rs_0b824fe9-3250-2588-0bbf-0810402fc822".into()),
            redacted: Some("WjtnRFdCMihgUoZ7mSMscKCe3dmgPFa5".into()),
            format: Some(XAI.reasoning_format.into()),
        })
    );
    assert_eq!(
        got[6],
        StreamEvent::Usage(Usage {
            input_tokens: Some(680),
            output_tokens: Some(484),
            cache_read_tokens: Some(642),
            cache_write_tokens: None,
            reasoning_tokens: Some(264),
        })
    );
    assert_eq!(got[7], StreamEvent::Stop(FinishReason::Stop));
}

fn last_error(events: &[StreamEvent]) -> &AdapterError {
    match events.last() {
        Some(StreamEvent::Error(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn a_cut_stream_is_an_error_not_a_short_answer() {
    let full = fixture!("openai_stream.sse");
    let cut = &full[..full.find("event: response.completed").unwrap()];
    let got = events(cut, &OPENAI);
    assert!(
        matches!(last_error(&got), AdapterError::Connection(d) if d.message.contains("truncated"))
    );
    let done_early = format!("{cut}data: [DONE]\n\n");
    assert!(matches!(
        last_error(&events(&done_early, &OPENAI)),
        AdapterError::Connection(_)
    ));
    let not_sse = run(r#"{"error":{"message":"nope"}}"#, 8, &OPENAI);
    assert!(
        matches!(last_error(&not_sse), AdapterError::SchemaMismatch(m) if m.detail.message.contains("nope"))
    );
}

#[test]
fn error_and_failed_events() {
    let created =
        "data: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"m\"}}\n\n";
    let error = format!(
        "{created}event: error\ndata: {{\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"slow down\",\"param\":null,\"sequence_number\":1}}\n\n"
    );
    assert!(matches!(
        last_error(&events(&error, &OPENAI)),
        AdapterError::RateLimited(_)
    ));
    let failed = format!(
        "{created}data: {{\"type\":\"response.failed\",\"response\":{{\"status\":\"failed\",\"error\":{{\"code\":\"server_error\",\"message\":\"The model failed\"}}}}}}\n\n"
    );
    assert!(matches!(
        last_error(&events(&failed, &OPENAI)),
        AdapterError::Upstream(d) if d.message.contains("The model failed")
    ));
    let unknown_then_done = format!(
        "{created}data: {{\"type\":\"response.web_search_call.searching\",\"item_id\":\"ws\",\"output_index\":0}}\n\ndata: {{\"type\":\"response.something_new\"}}\n\ndata: {{\"type\":\"response.completed\",\"response\":{{\"status\":\"completed\",\"output\":[],\"citations\":[\"https://x.ai/\"]}}}}\n\n"
    );
    let got = events(&unknown_then_done, &XAI);
    assert_eq!(
        got[1..],
        [
            StreamEvent::TextDelta("\n\nSources:\n- https://x.ai/\n".into()),
            StreamEvent::Stop(FinishReason::Stop)
        ]
    );
    let no_response = format!("{created}data: {{\"type\":\"response.completed\"}}\n\n");
    assert!(matches!(
        last_error(&events(&no_response, &OPENAI)),
        AdapterError::SchemaMismatch(m) if m.path == "response"
    ));
    let garbage = format!("{created}data: {{not json\n\n");
    assert!(matches!(
        last_error(&events(&garbage, &OPENAI)),
        AdapterError::SchemaMismatch(m) if m.kind == MismatchKind::StreamFormatChange
    ));
    let _ = Value::Null;
}

#[test]
fn calls_that_arrive_whole_or_before_their_name() {
    let created =
        "data: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"m\"}}\n\n";
    // Only `output_item.done` (no added/delta events), as some servers send it.
    let whole = format!(
        "{created}data: {{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_a\",\"name\":\"f\",\"arguments\":\"{{}}\"}}}}\n\ndata: {{\"type\":\"response.completed\",\"response\":{{\"status\":\"completed\",\"output\":[]}}}}\n\n"
    );
    let got = events(&whole, &OPENAI);
    assert_eq!(
        got[1..],
        [
            StreamEvent::ToolCallStart(ToolCallStart {
                index: 0,
                id: "call_a".into(),
                name: "f".into(),
                signature: None
            }),
            StreamEvent::ToolCallDelta(ToolCallDelta {
                index: 0,
                arguments: "{}".into()
            }),
            StreamEvent::Stop(FinishReason::ToolCalls),
        ]
    );
    let early = format!(
        "{created}data: {{\"type\":\"response.function_call_arguments.delta\",\"item_id\":\"fc_1\",\"output_index\":0,\"delta\":\"{{\\\"a\\\":1}}\"}}\n\ndata: {{\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{{\"type\":\"function_call\",\"id\":\"fc_1\",\"call_id\":\"call_a\",\"name\":\"f\",\"arguments\":\"{{\\\"a\\\":1}}\"}}}}\n\ndata: {{\"type\":\"response.completed\",\"response\":{{\"status\":\"completed\",\"output\":[]}}}}\n\n"
    );
    let got = events(&early, &OPENAI);
    assert_eq!(
        got[2],
        StreamEvent::ToolCallDelta(ToolCallDelta {
            index: 0,
            arguments: "{\"a\":1}".into()
        })
    );
    assert_eq!(got.len(), 4, "{got:#?}");
}

#[test]
fn schemas_keep_their_key_order_on_the_wire() {
    let mut req = request(vec![text(Role::User, "hi")]);
    req.tools = vec![Tool {
        name: "t".into(),
        description: None,
        parameters: r#"{"type":"object","properties":{"zeta":{},"alpha":{}}}"#.into(),
    }];
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "out".into(),
        description: Some("d".into()),
        schema: r#"{"properties":{"reasoning":{},"answer":{}},"type":"object"}"#.into(),
        strict: None,
    }));
    req.extra = Some(r#"{"tools":[{"type":"web_search","filters":{"z":1,"a":2}}]}"#.into());
    let text = super::request::body_json(&req, &OPENAI, false, "t").unwrap();
    assert!(text.contains(r#"{"type":"function","name":"t","parameters":{"type":"object","properties":{"zeta":{},"alpha":{}}},"strict":false}"#), "{text}");
    assert!(text.contains(r#""text":{"format":{"type":"json_schema","name":"out","description":"d","schema":{"properties":{"reasoning":{},"answer":{}},"type":"object"}}}"#), "{text}");
    assert!(
        text.contains(r#"{"type":"web_search","filters":{"z":1,"a":2}}"#),
        "{text}"
    );
}

#[test]
fn text_streamed_without_item_ids_is_not_repeated_at_the_end() {
    let body = concat!(
        "data: {\"type\":\"response.created\",\"response\":{\"id\":\"r\",\"model\":\"m\"}}\n\n",
        "data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"Hi\"}\n\n",
        "data: {\"type\":\"response.output_item.done\",\"output_index\":0,\"item\":{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\"Hi\"}]}}\n\n",
        "data: {\"type\":\"response.output_item.done\",\"output_index\":1,\"item\":{\"type\":\"message\",\"content\":[{\"type\":\"output_text\",\"text\":\" there\"}]}}\n\n",
        "data: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[]}}\n\n",
    );
    let got = events(body, &OPENAI);
    assert_eq!(
        got[1..],
        [
            StreamEvent::TextDelta("Hi".into()),
            StreamEvent::TextDelta(" there".into()),
            StreamEvent::Stop(FinishReason::Stop)
        ]
    );
}
