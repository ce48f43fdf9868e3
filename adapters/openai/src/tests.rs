//! The adapter against OpenAI's wire format: request bodies built exactly as OpenAI expects,
//! and recorded answers, streams and error bodies from `tests/fixtures/openai/`.

use aratta_guest::sse::SseStream;
use aratta_guest::status::error_for_status;
use aratta_guest::{
    AdapterError, AuthScheme, Base64Image, CallContext, ChatRequest, ContentBlock,
    EmbeddingRequest, EventStream, Fallbacks, FinishReason, Image, ImageSource, JsonSchemaFormat,
    Message, MessageContent, MismatchKind, ReasoningOptions, ResponseFormat, Role, Sampling,
    StreamEvent, Tool, ToolCall, ToolChoice, ToolResult, ToolResultPart, Usage,
};
use aratta_openai_compatible::responses::stream::ResponsesDecoder;
use aratta_openai_compatible::responses::{self, request as responses_request};
use aratta_openai_compatible::stream::StreamDecoder;
use aratta_openai_compatible::{
    OpenAiCompatible, fallbacks as openai_fallbacks, request, response,
};
use serde_json::json;

use super::{CHAT, OpenAi, RESPONSES, errors, models};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/openai/",
            $name
        ))
    };
}

fn fallbacks() -> Fallbacks {
    openai_fallbacks(
        &CallContext {
            base_url: super::DEFAULT_BASE_URL.into(),
            request_id: "req-42".into(),
        },
        "gpt-4.1",
    )
}

fn text(role: Role, t: &str) -> Message {
    Message {
        role,
        content: MessageContent::Text(t.into()),
        name: None,
    }
}

fn blocks(role: Role, blocks: Vec<ContentBlock>) -> Message {
    Message {
        role,
        content: MessageContent::Blocks(blocks),
        name: None,
    }
}

fn request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        model: "gpt-4.1".into(),
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

fn weather() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: r#"{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}"#.into(),
    }
}

#[test]
fn describes_itself() {
    let info = OpenAi::describe();
    assert_eq!(info.name, "openai");
    assert_eq!(info.default_base_url, "https://api.openai.com/v1");
    assert_eq!(info.auth, AuthScheme::Bearer);
    assert!(info.extra_hosts.is_empty());
}

#[test]
fn request_body_with_developer_role_and_max_completion_tokens() {
    let mut req = request(vec![
        text(Role::System, "You are terse."),
        text(Role::Developer, "Answer in French."),
        text(Role::User, "Weather in Paris?"),
    ]);
    req.tools = vec![weather()];
    req.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    req.parallel_tool_calls = Some(false);
    req.sampling = Sampling {
        temperature: Some(0.25),
        top_p: Some(0.5),
        top_k: Some(40),
        max_tokens: Some(1024),
        stop: vec!["END".into()],
        seed: Some(7),
        presence_penalty: Some(0.5),
        frequency_penalty: Some(-0.5),
    };
    req.reasoning = Some(ReasoningOptions {
        effort: Some("low".into()),
        budget_tokens: Some(2048),
        include_reasoning: None,
    });
    req.user = Some("user-1".into());
    req.extra = Some(r#"{"service_tier":"flex","prompt_cache_key":"k1"}"#.into());
    assert!(responses::route(&req, &RESPONSES).is_none());
    let body = request::chat_body(&req, &CHAT, true).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "gpt-4.1",
            "messages": [
                {"role": "system", "content": "You are terse."},
                {"role": "developer", "content": "Answer in French."},
                {"role": "user", "content": "Weather in Paris?"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "get_weather", "description": "Current weather for a city",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
            }}],
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": false,
            "temperature": 0.25,
            "top_p": 0.5,
            "max_completion_tokens": 1024,
            "stop": ["END"],
            "seed": 7,
            "presence_penalty": 0.5,
            "frequency_penalty": -0.5,
            "reasoning_effort": "low",
            "user": "user-1",
            "stream": true,
            "stream_options": {"include_usage": true},
            "service_tier": "flex",
            "prompt_cache_key": "k1"
        })
    );
}

#[test]
fn request_body_with_images_json_schema_and_a_tool_turn() {
    let mut req = request(vec![
        blocks(
            Role::User,
            vec![
                ContentBlock::Text("Compare these.".into()),
                ContentBlock::Image(Image {
                    source: ImageSource::Url("https://example.com/a.png".into()),
                    detail: Some("high".into()),
                }),
                ContentBlock::Image(Image {
                    source: ImageSource::Base64(Base64Image {
                        media_type: "image/jpeg".into(),
                        data: "/9j/4AAQ".into(),
                    }),
                    detail: None,
                }),
            ],
        ),
        blocks(
            Role::Assistant,
            vec![
                ContentBlock::ToolUse(ToolCall {
                    id: "call_1".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"location":"Paris"}"#.into(),
                    signature: None,
                }),
                ContentBlock::ToolUse(ToolCall {
                    id: "call_2".into(),
                    name: "get_weather".into(),
                    arguments: r#"{"location":"Rome"}"#.into(),
                    signature: None,
                }),
            ],
        ),
        blocks(
            Role::Tool,
            vec![
                ContentBlock::ToolResult(ToolResult {
                    tool_call_id: "call_1".into(),
                    name: None,
                    content: vec![ToolResultPart::Text("18C".into())],
                    is_error: false,
                }),
                ContentBlock::ToolResult(ToolResult {
                    tool_call_id: "call_2".into(),
                    name: None,
                    content: vec![ToolResultPart::Text("no data".into())],
                    is_error: true,
                }),
            ],
        ),
    ]);
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "comparison".into(),
        description: Some("The comparison".into()),
        schema: r#"{"type":"object","properties":{"winner":{"type":"string"}},"required":["winner"],"additionalProperties":false}"#.into(),
        strict: Some(true),
    }));
    let body = request::chat_body(&req, &CHAT, false).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "gpt-4.1",
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "Compare these."},
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "high"}},
                    {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}
                ]},
                {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Rome\"}"}}
                ]},
                {"role": "tool", "content": "18C", "tool_call_id": "call_1"},
                {"role": "tool", "content": "Error: no data", "tool_call_id": "call_2"}
            ],
            "response_format": {"type": "json_schema", "json_schema": {
                "name": "comparison", "description": "The comparison",
                "schema": {"type": "object", "properties": {"winner": {"type": "string"}}, "required": ["winner"], "additionalProperties": false},
                "strict": true
            }}
        })
    );
}

#[test]
fn reasoning_summaries_and_server_tools_go_to_the_responses_api() {
    let mut req = request(vec![
        text(Role::Developer, "Cite sources."),
        text(Role::User, "News?"),
    ]);
    req.extra = Some(r#"{"tools":[{"type":"web_search"}]}"#.into());
    let why = responses::route(&req, &RESPONSES).unwrap();
    let body = responses_request::body(&req, &RESPONSES, false, why).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "gpt-4.1",
            "input": [
                {"role": "developer", "content": "Cite sources."},
                {"role": "user", "content": "News?"}
            ],
            "tools": [{"type": "web_search"}],
            "store": false
        })
    );
    let mut req = request(vec![text(Role::User, "Why is the sky blue?")]);
    req.model = "o4-mini".into();
    req.reasoning = Some(ReasoningOptions {
        effort: Some("medium".into()),
        budget_tokens: None,
        include_reasoning: Some(true),
    });
    let why = responses::route(&req, &RESPONSES).unwrap();
    let body = responses_request::body(&req, &RESPONSES, true, why).unwrap();
    assert_eq!(
        body["reasoning"],
        json!({"effort": "medium", "summary": "auto"})
    );
    assert_eq!(body["include"], json!(["reasoning.encrypted_content"]));
    assert_eq!(body["stream"], json!(true));
    req.sampling.stop = vec!["x".into()];
    assert!(matches!(
        responses_request::body(&req, &RESPONSES, false, why),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn a_text_answer_with_cached_tokens() {
    let r = response::chat_response(fixture!("chat.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.id, "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT");
    assert_eq!(r.model, "gpt-4.1-2025-04-14");
    assert_eq!(
        r.content,
        vec![ContentBlock::Text(
            "Hello! How can I assist you today?".into()
        )]
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: Some(2006),
            output_tokens: Some(10),
            cache_read_tokens: Some(1920),
            cache_write_tokens: None,
            reasoning_tokens: Some(0),
        })
    );
}

#[test]
fn parallel_tool_calls_reasoning_tokens_json_and_refusals() {
    let r = response::chat_response(fixture!("tool_calls.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    let calls: Vec<_> = r
        .content
        .iter()
        .map(|b| match b {
            ContentBlock::ToolUse(c) => (c.id.as_str(), c.arguments.as_str()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("call_12345xyz", "{\"location\":\"Paris, France\"}"),
            ("call_67890abc", "{\"location\":\"Bogotá, Colombia\"}")
        ]
    );

    let r = response::chat_response(fixture!("reasoning.json").as_bytes(), &fallbacks()).unwrap();
    let usage = r.usage.unwrap();
    // OpenAI counts reasoning inside completion_tokens: output stays 212.
    assert_eq!(
        (
            usage.output_tokens,
            usage.reasoning_tokens,
            usage.cache_read_tokens
        ),
        (Some(212), Some(192), Some(1152))
    );

    let r = response::chat_response(fixture!("json_schema.json").as_bytes(), &fallbacks()).unwrap();
    let ContentBlock::Text(json_text) = &r.content[0] else {
        panic!("expected text")
    };
    let parsed: serde_json::Value = serde_json::from_str(json_text).unwrap();
    assert_eq!(parsed["participants"][1], "Bob");

    let r = response::chat_response(fixture!("refusal.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(
        r.content,
        vec![ContentBlock::Text(
            "I'm sorry, I can't assist with that request.".into()
        )]
    );
}

#[test]
fn new_fields_are_tolerated_and_a_renamed_one_is_reported() {
    let r =
        response::chat_response(fixture!("unknown_field.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.content, vec![ContentBlock::Text("Still here.".into())]);
    let err = response::chat_response(fixture!("renamed_field.json").as_bytes(), &fallbacks())
        .unwrap_err();
    let AdapterError::SchemaMismatch(m) = errors::classify(err) else {
        panic!("expected schema-mismatch")
    };
    assert_eq!(
        (m.kind, m.path.as_str()),
        (MismatchKind::MissingField, "choices")
    );
    assert!(m.detail.body.unwrap().contains("outputs"));
}

/// A recorded body delivered `size` bytes at a time.
struct Recorded {
    chunks: std::collections::VecDeque<Vec<u8>>,
}

impl aratta_guest::http::ChunkSource for Recorded {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError> {
        Ok(self.chunks.pop_front())
    }
}

fn recorded(body: &str, size: usize) -> Recorded {
    Recorded {
        chunks: body.as_bytes().chunks(size).map(<[u8]>::to_vec).collect(),
    }
}

fn drain(mut stream: impl EventStream) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    while let Some(event) = stream.next() {
        events.push(event);
    }
    events
}

/// The events of a Chat Completions stream as the host sees them (errors classified, as the
/// export glue does), the same whatever the chunk size.
fn chat_events(body: &str) -> Vec<StreamEvent> {
    let run = |size| {
        let stream = SseStream::new(recorded(body, size), StreamDecoder::new(fallbacks()));
        let classify = |event| match event {
            StreamEvent::Error(error) => StreamEvent::Error(errors::classify(error)),
            other => other,
        };
        drain(stream).into_iter().map(classify).collect::<Vec<_>>()
    };
    let whole = run(body.len());
    for size in [1, 5, 64] {
        assert_eq!(run(size), whole, "chunks of {size}");
    }
    whole
}

#[test]
fn a_streamed_answer_ends_with_the_usage_chunk() {
    let events = chat_events(fixture!("chat.stream.sse"));
    assert_eq!(events.len(), 5, "{events:#?}");
    assert_eq!(events[1], StreamEvent::TextDelta("Hello".into()));
    assert_eq!(
        events[3],
        StreamEvent::Usage(Usage {
            input_tokens: Some(2006),
            output_tokens: Some(8),
            cache_read_tokens: Some(1920),
            cache_write_tokens: None,
            reasoning_tokens: Some(0),
        })
    );
    assert_eq!(events[4], StreamEvent::Stop(FinishReason::Stop));
}

#[test]
fn streamed_parallel_tool_calls() {
    let events = chat_events(fixture!("tool_calls.stream.sse"));
    let starts: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallStart(s) => Some((s.index, s.id.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(starts, [(0, "call_12345xyz"), (1, "call_67890abc")]);
    let args: String = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallDelta(d) if d.index == 1 => Some(d.arguments.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(args, "{\"location\":\"Bogotá, Colombia\"}");
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Stop(FinishReason::ToolCalls))
    );
}

#[test]
fn a_truncated_stream_is_an_error() {
    let events = chat_events(fixture!("truncated.stream.sse"));
    assert!(
        matches!(events.last(), Some(StreamEvent::Error(AdapterError::Connection(d))) if d.message.contains("truncated")),
        "{events:#?}"
    );
    assert!(!events.iter().any(|e| matches!(e, StreamEvent::Stop(_))));
}

#[test]
fn an_error_inside_the_stream_is_classified() {
    let body = "data: {\"id\":\"c\",\"model\":\"gpt-4.1\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}\n\n";
    let events = chat_events(body);
    assert!(matches!(
        events.last(),
        Some(StreamEvent::Error(AdapterError::Unauthorized(_)))
    ));
}

#[test]
fn responses_api_answers() {
    let r = responses::response::chat_response(
        fixture!("responses_web_search.json").as_bytes(),
        &fallbacks(),
        &RESPONSES,
    )
    .unwrap();
    assert_eq!(r.content.len(), 2);
    assert_eq!(
        r.content[1],
        ContentBlock::Text(
            "\n\nSources:\n- https://example.org/urban-forests?utm_source=openai\n".into()
        )
    );
    assert_eq!(r.finish_reason, FinishReason::Stop);
    let r = responses::response::chat_response(
        fixture!("responses_reasoning.json").as_bytes(),
        &fallbacks(),
        &RESPONSES,
    )
    .unwrap();
    assert!(matches!(&r.content[0], ContentBlock::Reasoning(x)
        if x.format.as_deref() == Some("openai-responses-v1") && x.redacted.is_some()));
    let stream = SseStream::new(
        recorded(fixture!("responses_reasoning.stream.sse"), 17),
        ResponsesDecoder::new(fallbacks(), RESPONSES),
    );
    let events = drain(stream);
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Stop(FinishReason::ToolCalls))
    );
}

#[test]
fn embeddings_request_and_answer() {
    let req = EmbeddingRequest {
        model: "text-embedding-3-small".into(),
        inputs: vec!["first".into(), "second".into()],
        dimensions: Some(4),
        extra: Some(r#"{"user":"u1"}"#.into()),
    };
    assert_eq!(
        request::embeddings_body(&req).unwrap(),
        json!({
            "model": "text-embedding-3-small",
            "input": ["first", "second"],
            "dimensions": 4,
            "encoding_format": "float",
            "user": "u1"
        })
    );
    let r = response::embedding_response(fixture!("embeddings.json").as_bytes(), 2, "m").unwrap();
    // Put back in input order by `index`.
    assert_eq!(r.embeddings[0][0], 0.0023064255);
    assert_eq!(r.embeddings[1][0], 0.0121);
    assert_eq!(r.usage.unwrap().input_tokens, Some(9));
}

#[test]
fn models_with_capabilities_by_family() {
    let list = models::parse(fixture!("models.json").as_bytes()).unwrap();
    let caps = |id: &str| {
        list.iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .capabilities
    };
    let c = caps("gpt-4.1-2025-04-14");
    assert!(c.tools && c.vision && c.streaming && !c.reasoning);
    assert_eq!(c.context_window, Some(1_047_576));
    let c = caps("o4-mini");
    assert!(c.tools && c.vision && c.reasoning);
    let c = caps("gpt-5");
    assert_eq!(
        (c.context_window, c.max_output_tokens),
        (Some(400_000), Some(128_000))
    );
    assert!(!caps("gpt-5-chat-latest").tools);
    assert!(!caps("o1-mini").tools);
    assert!(caps("text-embedding-3-small").embeddings);
    assert!(!caps("whisper-1").streaming && !caps("dall-e-3").tools);
    assert!(caps("ft:gpt-4o-mini-2024-07-18:acme::9xYz").vision);
    let created = list.iter().find(|m| m.id == "gpt-5").unwrap().created;
    assert_eq!(created, Some(1754425777));
    assert!(models::capabilities("gpt-5.2").reasoning);
    assert!(models::capabilities("gpt-7-turbo").tools);
    assert!(!models::capabilities("gpt-4o-mini-search-preview").tools);
}

fn classified(status: u16, body: &str) -> AdapterError {
    errors::classify(error_for_status(status, None, body.as_bytes()))
}

#[test]
fn each_error_class() {
    assert!(matches!(
        classified(400, fixture!("error_400_context_length.json")),
        AdapterError::InvalidRequest(d) if d.message.contains("maximum context length") && d.status == Some(400)
    ));
    assert!(matches!(
        classified(401, fixture!("error_401_invalid_api_key.json")),
        AdapterError::Unauthorized(_)
    ));
    assert!(matches!(
        classified(403, fixture!("error_403_region.json")),
        AdapterError::Unauthorized(_)
    ));
    assert!(matches!(
        classified(404, fixture!("error_404_model_not_found.json")),
        AdapterError::InvalidRequest(_)
    ));
    let AdapterError::RateLimited(r) = classified(429, fixture!("error_429_rate_limit.json"))
    else {
        panic!("expected rate-limited")
    };
    assert_eq!(r.retry_after_ms, Some(1896));
    // A retry-after header wins over the message.
    let AdapterError::RateLimited(r) = errors::classify(error_for_status(
        429,
        Some(5000),
        fixture!("error_429_rate_limit.json").as_bytes(),
    )) else {
        panic!("expected rate-limited")
    };
    assert_eq!(r.retry_after_ms, Some(5000));
    let AdapterError::Unauthorized(d) =
        classified(429, fixture!("error_429_insufficient_quota.json"))
    else {
        panic!("quota is not a rate limit")
    };
    assert_eq!(d.status, Some(429));
    assert!(d.message.contains("insufficient_quota"));
    assert!(d.body.unwrap().contains("check your plan"));
    assert!(matches!(
        classified(500, fixture!("error_500.json")),
        AdapterError::Upstream(d) if d.status == Some(500)
    ));
    assert!(matches!(
        classified(503, fixture!("error_503.json")),
        AdapterError::Overloaded(_)
    ));
    assert!(matches!(
        classified(502, "<html>bad gateway</html>"),
        AdapterError::Upstream(_)
    ));
}

#[test]
fn retry_hints_in_messages() {
    let hint = |m: &str| errors::retry_hint_ms(m);
    assert_eq!(hint("Please try again in 20s. Visit"), Some(20_000));
    assert_eq!(hint("Please try again in 1.896s."), Some(1896));
    assert_eq!(hint("Please try again in 120ms. Visit"), Some(120));
    assert_eq!(hint("Please try again in 6m0s."), Some(360_000));
    assert_eq!(hint("Please try again in 1h2m3.5s."), Some(3_723_500));
    assert_eq!(hint("Please try again later."), None);
    assert_eq!(hint("no hint"), None);
}

#[test]
fn tools_round_trip_and_messages_convert() {
    let corpus = vec![
        weather(),
        Tool {
            name: "no_args".into(),
            description: None,
            parameters: r#"{"type":"object","properties":{}}"#.into(),
        },
        Tool {
            name: "nested-schema_2".into(),
            description: Some("Ünïcode \"quoted\" description".into()),
            parameters: r#"{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"id":{"type":"integer"},"tags":{"type":"array","items":{"type":"string"}}},"required":["id"]}},"mode":{"enum":["a","b"]}},"additionalProperties":false}"#.into(),
        },
    ];
    let native = OpenAi::convert_tools(corpus.clone()).unwrap();
    assert_eq!(OpenAi::parse_tools(native).unwrap(), corpus);
    let json = OpenAi::convert_messages(vec![text(Role::Developer, "be terse")]).unwrap();
    assert_eq!(json, r#"[{"role":"developer","content":"be terse"}]"#);
    assert!(matches!(
        OpenAi::parse_tools(r#"[{"type":"web_search"}]"#.into()),
        Err(AdapterError::SchemaMismatch(m)) if m.kind == MismatchKind::ToolSchemaChange
    ));
}
