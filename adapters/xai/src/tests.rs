//! The adapter against xAI's wire format: request bodies with xAI's differences, and recorded
//! answers, streams and error bodies from `tests/fixtures/xai/`.

use aratta_guest::sse::SseStream;
use aratta_guest::status::error_for_status;
use aratta_guest::{
    AdapterError, AuthScheme, CallContext, ChatRequest, ContentBlock, EmbeddingRequest,
    EventStream, Fallbacks, FinishReason, MessageContent, MismatchKind, Reasoning,
    ReasoningOptions, Role, Sampling, StreamEvent, Tool, ToolChoice, Usage,
};
use aratta_openai_compatible::responses::stream::ResponsesDecoder;
use aratta_openai_compatible::responses::{self, request as responses_request};
use aratta_openai_compatible::stream::StreamDecoder;
use aratta_openai_compatible::{
    OpenAiCompatible, fallbacks as openai_fallbacks, request, response,
};
use serde_json::json;

use super::{CHAT, RESPONSES, Xai, errors, models};

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/xai/",
            $name
        ))
    };
}

fn fallbacks() -> Fallbacks {
    openai_fallbacks(
        &CallContext {
            base_url: super::DEFAULT_BASE_URL.into(),
            request_id: "req-7".into(),
        },
        "grok-4.3",
    )
}

fn message(role: Role, t: &str) -> aratta_guest::Message {
    aratta_guest::Message {
        role,
        content: MessageContent::Text(t.into()),
        name: None,
    }
}

fn request(messages: Vec<aratta_guest::Message>) -> ChatRequest {
    ChatRequest {
        model: "grok-4.3".into(),
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

#[test]
fn describes_itself() {
    let info = Xai::describe();
    assert_eq!(info.name, "xai");
    assert_eq!(info.default_base_url, "https://api.x.ai/v1");
    assert_eq!(info.auth, AuthScheme::Bearer);
}

#[test]
fn request_body_with_xais_differences() {
    let mut req = request(vec![
        message(Role::Developer, "Be terse."),
        message(Role::User, "Weather in SF?"),
    ]);
    req.tools = vec![Tool {
        name: "weather".into(),
        description: Some("Weather for a location".into()),
        parameters: r#"{"type":"object","properties":{"location":{"type":"string"}}}"#.into(),
    }];
    req.tool_choice = Some(ToolChoice::Required);
    req.sampling.max_tokens = Some(512);
    req.sampling.top_k = Some(20);
    req.sampling.temperature = Some(0.7);
    req.reasoning = Some(ReasoningOptions {
        effort: Some("low".into()),
        budget_tokens: None,
        include_reasoning: None,
    });
    assert!(responses::route(&req, &RESPONSES).is_none());
    assert_eq!(
        request::chat_body(&req, &CHAT, true).unwrap(),
        json!({
            "model": "grok-4.3",
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "Weather in SF?"}
            ],
            "tools": [{"type": "function", "function": {
                "name": "weather", "description": "Weather for a location",
                "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}
            }}],
            "tool_choice": "required",
            "temperature": 0.7,
            "max_completion_tokens": 512,
            "reasoning_effort": "low",
            "stream": true,
            "stream_options": {"include_usage": true}
        })
    );
    // Sent as given: xAI itself rejects them on reasoning models (400, see the error tests),
    // and a silently dropped stop sequence would change the answer.
    req.sampling.stop = vec!["END".into()];
    req.sampling.presence_penalty = Some(0.1);
    let body = request::chat_body(&req, &CHAT, false).unwrap();
    assert_eq!(
        (body["stop"].clone(), body["presence_penalty"].clone()),
        (json!(["END"]), json!(0.1))
    );
    // The retired Live Search parameters pass through untouched (xAI now answers 410).
    req.extra = Some(r#"{"search_parameters":{"mode":"auto"}}"#.into());
    let body = request::chat_body(&req, &CHAT, false).unwrap();
    assert_eq!(body["search_parameters"], json!({"mode": "auto"}));
}

#[test]
fn search_tools_go_to_the_responses_api() {
    let mut req = request(vec![
        message(Role::Developer, "Cite."),
        message(Role::User, "xAI news?"),
    ]);
    req.extra = Some(
        r#"{"tools":[{"type":"web_search","allowed_domains":["x.ai"]},{"type":"x_search","from_date":"2026-01-01"}]}"#.into(),
    );
    let why = responses::route(&req, &RESPONSES).unwrap();
    assert_eq!(
        responses_request::body(&req, &RESPONSES, true, why).unwrap(),
        json!({
            "model": "grok-4.3",
            "input": [
                {"role": "system", "content": "Cite."},
                {"role": "user", "content": "xAI news?"}
            ],
            "tools": [
                {"type": "web_search", "allowed_domains": ["x.ai"]},
                {"type": "x_search", "from_date": "2026-01-01"}
            ],
            "store": false,
            "stream": true
        })
    );
}

#[test]
fn usage_adds_the_reasoning_xai_leaves_out() {
    let r = response::chat_response(fixture!("chat.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(
        r.usage,
        Some(Usage {
            input_tokens: Some(663),
            output_tokens: Some(174),
            cache_read_tokens: Some(654),
            cache_write_tokens: None,
            reasoning_tokens: Some(124),
        })
    );
    assert_eq!(r.id, "3c9e5f1a-8b2d-4e6f-a0c1-7d3b9e2f4a6c");
    assert_eq!(r.finish_reason, FinishReason::Stop);
}

#[test]
fn reasoning_content_and_a_tool_call() {
    let r = response::chat_response(fixture!("reasoning_content.json").as_bytes(), &fallbacks())
        .unwrap();
    assert!(
        matches!(&r.content[0], ContentBlock::Reasoning(x) if x.text.starts_with("The user asks"))
    );
    assert!(
        matches!(&r.content[1], ContentBlock::ToolUse(c) if c.id == "call_93562515" && c.name == "weather")
    );
    assert_eq!(r.content.len(), 2);
    assert_eq!(r.finish_reason, FinishReason::ToolCalls);
    assert_eq!(r.usage.unwrap().output_tokens, Some(215));
}

#[test]
fn new_fields_are_tolerated_and_a_renamed_one_is_reported() {
    let r =
        response::chat_response(fixture!("unknown_field.json").as_bytes(), &fallbacks()).unwrap();
    assert_eq!(r.content, vec![ContentBlock::Text("Still fine.".into())]);
    let AdapterError::SchemaMismatch(m) =
        response::chat_response(fixture!("renamed_field.json").as_bytes(), &fallbacks())
            .unwrap_err()
    else {
        panic!("expected schema-mismatch")
    };
    assert_eq!(
        (m.kind, m.path.as_str()),
        (MismatchKind::MissingField, "choices[0].message")
    );
}

struct Recorded(std::collections::VecDeque<Vec<u8>>);

impl aratta_guest::http::ChunkSource for Recorded {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError> {
        Ok(self.0.pop_front())
    }
}

fn recorded(body: &str, size: usize) -> Recorded {
    Recorded(body.as_bytes().chunks(size).map(<[u8]>::to_vec).collect())
}

fn drain(mut stream: impl EventStream) -> Vec<StreamEvent> {
    let mut events = Vec::new();
    while let Some(event) = stream.next() {
        events.push(event);
    }
    events
}

fn chat_events(body: &str) -> Vec<StreamEvent> {
    let run = |size| {
        drain(SseStream::new(
            recorded(body, size),
            StreamDecoder::new(fallbacks()),
        ))
    };
    let whole = run(body.len());
    for size in [1, 9, 100] {
        assert_eq!(run(size), whole, "chunks of {size}");
    }
    whole
}

#[test]
fn streamed_reasoning_text_and_the_usage_chunk() {
    let events = chat_events(fixture!("chat.stream.sse"));
    assert_eq!(events.len(), 7, "{events:#?}");
    assert!(matches!(&events[1], StreamEvent::ReasoningDelta(d) if d.text == "First"));
    assert_eq!(events[3], StreamEvent::TextDelta("Hello".into()));
    assert_eq!(
        events[5],
        StreamEvent::Usage(Usage {
            input_tokens: Some(12),
            output_tokens: Some(292),
            cache_read_tokens: Some(11),
            cache_write_tokens: None,
            reasoning_tokens: Some(290),
        })
    );
    assert_eq!(events[6], StreamEvent::Stop(FinishReason::Stop));
}

#[test]
fn streamed_tool_calls_arrive_whole() {
    let events = chat_events(fixture!("tool_calls.stream.sse"));
    let calls: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCallStart(s) => Some((s.index, s.id.clone())),
            StreamEvent::ToolCallDelta(d) => Some((d.index, d.arguments.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        [
            (0, "call_55117580".to_string()),
            (0, "{\"location\":\"San Francisco\"}".to_string()),
            (1, "call_55117581".to_string()),
            (1, "{\"location\":\"Oakland\"}".to_string()),
        ]
    );
    assert_eq!(
        events.last(),
        Some(&StreamEvent::Stop(FinishReason::ToolCalls))
    );
}

#[test]
fn a_truncated_stream_is_an_error() {
    let events = chat_events(fixture!("truncated.stream.sse"));
    assert!(
        matches!(
            events.last(),
            Some(StreamEvent::Error(AdapterError::Connection(_)))
        ),
        "{events:#?}"
    );
}

#[test]
fn web_search_answers_keep_their_sources() {
    let r = responses::response::chat_response(
        fixture!("responses_web_search.json").as_bytes(),
        &fallbacks(),
        &RESPONSES,
    )
    .unwrap();
    let ContentBlock::Text(sources) = r.content.last().unwrap() else {
        panic!("expected the sources block")
    };
    assert!(sources.starts_with("\n\nSources:\n- https://x.ai/company\n"));
    // Responses API usage already counts reasoning inside output_tokens.
    assert_eq!(r.usage.unwrap().output_tokens, Some(583));

    let events = drain(SseStream::new(
        recorded(fixture!("responses_reasoning.stream.sse"), 33),
        ResponsesDecoder::new(fallbacks(), RESPONSES),
    ));
    let carried = events.iter().find_map(|e| match e {
        StreamEvent::ReasoningDelta(d) if d.redacted.is_some() => Some(d.clone()),
        _ => None,
    });
    let carried = carried.expect("encrypted reasoning");
    // Sent back on the next turn as the same reasoning item (the host keeps signature and data).
    let next = request(vec![aratta_guest::Message {
        role: Role::Assistant,
        content: MessageContent::Blocks(vec![ContentBlock::Reasoning(Reasoning {
            text: String::new(),
            signature: carried.signature.clone(),
            redacted: carried.redacted.clone(),
            format: None,
        })]),
        name: None,
    }]);
    let why = responses::route(&next, &RESPONSES).unwrap();
    let body = responses_request::body(&next, &RESPONSES, false, why).unwrap();
    assert_eq!(
        body["input"][0],
        json!({"type": "reasoning", "id": "rs_0b824fe9-3250-2588-0bbf-0810402fc822",
               "summary": [], "encrypted_content": "WjtnRFdCMihgUoZ7mSMscKCe3dmgPFa5"})
    );
}

#[test]
fn models_with_capabilities() {
    let list = models::parse_models(fixture!("models.json").as_bytes()).unwrap();
    assert_eq!(list.len(), 6);
    let caps = |id: &str| list.iter().find(|m| m.id == id).unwrap().capabilities;
    let c = caps("grok-4.3");
    assert!(c.vision && c.tools && c.streaming && c.reasoning && !c.embeddings);
    assert_eq!(c.context_window, Some(1_000_000));
    assert!(!caps("grok-4.20-0309-non-reasoning").reasoning);
    assert!(caps("grok-4.20-0309-reasoning").reasoning);
    assert!(caps("grok-4.20-0309-reasoning").vision);
    let c = caps("grok-code-fast-1");
    assert!(c.reasoning && !c.vision);
    assert!(!caps("grok-3").reasoning);
    let c = caps("grok-imagine-image");
    assert!(!c.tools && !c.streaming && !c.reasoning);
    assert_eq!(list[0].owned_by.as_deref(), Some("xai"));
}

fn classified(status: u16, body: &str) -> AdapterError {
    errors::classify(error_for_status(status, None, body.as_bytes()))
}

#[test]
fn each_error_class() {
    assert!(matches!(
        classified(400, fixture!("error_400_invalid_api_key.json")),
        AdapterError::Unauthorized(d) if d.status == Some(400)
    ));
    assert!(matches!(
        classified(400, fixture!("error_400_invalid_argument.json")),
        AdapterError::InvalidRequest(d) if d.message.contains("presencePenalty")
    ));
    assert!(matches!(
        classified(
            401,
            r#"{"code":"Unauthenticated","error":"No API key provided."}"#
        ),
        AdapterError::Unauthorized(_)
    ));
    let AdapterError::Unauthorized(d) = classified(403, fixture!("error_403_credits.json")) else {
        panic!("credits")
    };
    assert!(d.message.contains("credits exhausted"));
    assert!(matches!(
        classified(429, fixture!("error_429_credits.json")),
        AdapterError::Unauthorized(d) if d.status == Some(429)
    ));
    assert!(matches!(
        errors::classify(error_for_status(429, Some(2000), fixture!("error_429_rate_limit.json").as_bytes())),
        AdapterError::RateLimited(r) if r.retry_after_ms == Some(2000)
    ));
    assert!(matches!(
        classified(404, fixture!("error_404_model_not_found.json")),
        AdapterError::InvalidRequest(_)
    ));
    assert!(matches!(
        classified(410, fixture!("error_410_live_search.json")),
        AdapterError::InvalidRequest(d) if d.message.contains("web_search") && d.status == Some(410)
    ));
    assert!(matches!(
        classified(422, fixture!("error_422.txt")),
        AdapterError::InvalidRequest(d) if d.message.contains("missing field `content`")
    ));
    assert!(matches!(
        classified(500, fixture!("error_500.json")),
        AdapterError::Upstream(_)
    ));
    assert!(matches!(
        classified(503, fixture!("error_503.json")),
        AdapterError::Overloaded(_)
    ));
}

#[test]
fn embed_is_unsupported_with_a_reason() {
    let err = Xai::embed(
        CallContext {
            base_url: super::DEFAULT_BASE_URL.into(),
            request_id: String::new(),
        },
        EmbeddingRequest {
            model: "v1".into(),
            inputs: vec!["x".into()],
            dimensions: None,
            extra: None,
        },
    )
    .unwrap_err();
    assert!(matches!(err, AdapterError::Unsupported(d) if d.message.contains("no embedding")));
}

#[test]
fn tools_round_trip_and_developer_becomes_system() {
    let corpus = vec![
        Tool {
            name: "weather".into(),
            description: Some("Weather for a location".into()),
            parameters: r#"{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}"#.into(),
        },
        Tool {
            name: "no_params".into(),
            description: None,
            parameters: r#"{"type":"object","properties":{}}"#.into(),
        },
    ];
    let native = Xai::convert_tools(corpus.clone()).unwrap();
    assert_eq!(Xai::parse_tools(native).unwrap(), corpus);
    assert_eq!(
        Xai::convert_messages(vec![message(Role::Developer, "terse")]).unwrap(),
        r#"[{"role":"system","content":"terse"}]"#
    );
}
