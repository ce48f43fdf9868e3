use serde_json::json;

use crate::Dialect;
use crate::request::{chat_body, embeddings_body, messages_json};
use aratta_guest::{
    AdapterError, Base64Image, ChatRequest, ContentBlock, EmbeddingRequest, Image, ImageSource,
    JsonSchemaFormat, Message, MessageContent, Reasoning, ReasoningOptions, ResponseFormat, Role,
    Sampling, Tool, ToolCall, ToolChoice, ToolResult, ToolResultPart,
};

const LOCAL: Dialect = Dialect::LOCAL;

fn msg(role: Role, content: MessageContent) -> Message {
    Message {
        role,
        content,
        name: None,
    }
}

fn text(role: Role, t: &str) -> Message {
    msg(role, MessageContent::Text(t.into()))
}

fn tool(name: &str) -> Tool {
    Tool {
        name: name.into(),
        description: Some(format!("{name} tool")),
        parameters: r#"{"type":"object","properties":{"q":{"type":"string"}}}"#.into(),
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        model: "llama3.2".into(),
        messages: vec![text(Role::User, "hi")],
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
fn minimal_request_sends_only_what_is_set() {
    let body = chat_body(&request(), &LOCAL, false).unwrap();
    assert_eq!(
        body,
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
    );
}

#[test]
fn streaming_asks_for_usage() {
    let body = chat_body(&request(), &LOCAL, true).unwrap();
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
}

#[test]
fn a_full_conversation() {
    let mut req = request();
    req.messages = vec![
        text(Role::System, "be brief"),
        text(Role::Developer, "use tools"),
        msg(
            Role::User,
            MessageContent::Blocks(vec![
                ContentBlock::Text("what is this?".into()),
                ContentBlock::Image(Image {
                    source: ImageSource::Base64(Base64Image {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into(),
                    }),
                    detail: Some("low".into()),
                }),
            ]),
        ),
        msg(
            Role::Assistant,
            MessageContent::Blocks(vec![
                ContentBlock::Reasoning(Reasoning {
                    text: "think".into(),
                    signature: None,
                    redacted: None,
                    format: None,
                }),
                ContentBlock::Text("Let me look.".into()),
                ContentBlock::ToolUse(ToolCall {
                    id: "call_1".into(),
                    name: "search".into(),
                    arguments: r#"{"q":"cat"}"#.into(),
                    signature: None,
                }),
                ContentBlock::ToolUse(ToolCall {
                    id: "call_2".into(),
                    name: "search".into(),
                    arguments: r#"{"q":"dog"}"#.into(),
                    signature: None,
                }),
            ]),
        ),
        msg(
            Role::Tool,
            MessageContent::Blocks(vec![
                ContentBlock::ToolResult(ToolResult {
                    tool_call_id: "call_1".into(),
                    name: Some("search".into()),
                    content: vec![ToolResultPart::Text("a cat".into())],
                    is_error: false,
                }),
                ContentBlock::ToolResult(ToolResult {
                    tool_call_id: "call_2".into(),
                    name: None,
                    content: vec![
                        ToolResultPart::Text("no dog".into()),
                        ToolResultPart::Image(Image {
                            source: ImageSource::Url("https://x/dog.png".into()),
                            detail: None,
                        }),
                    ],
                    is_error: true,
                }),
            ]),
        ),
    ];
    let body = chat_body(&req, &LOCAL, false).unwrap();
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "system", "content": "use tools"},
            {"role": "user", "content": [
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}
            ]},
            {"role": "assistant", "content": "Let me look.", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"cat\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "search", "arguments": "{\"q\":\"dog\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "a cat"},
            {"role": "tool", "tool_call_id": "call_2", "content": "Error: no dog"},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/dog.png"}}]}
        ])
    );
    // OpenAI itself keeps the developer role.
    let body = chat_body(&req, &Dialect::OPENAI, false).unwrap();
    assert_eq!(body["messages"][1]["role"], "developer");
}

#[test]
fn assistant_with_only_tool_calls_has_no_content() {
    let mut req = request();
    req.messages = vec![msg(
        Role::Assistant,
        MessageContent::Blocks(vec![ContentBlock::ToolUse(ToolCall {
            id: "c".into(),
            name: "f".into(),
            arguments: "{}".into(),
            signature: None,
        })]),
    )];
    let body = chat_body(&req, &LOCAL, false).unwrap();
    assert!(body["messages"][0].get("content").is_none(), "{body}");
}

#[test]
fn sampling_reasoning_format_and_user() {
    let mut req = request();
    req.sampling = Sampling {
        temperature: Some(0.5),
        top_p: Some(0.25),
        top_k: Some(40),
        max_tokens: Some(256),
        stop: vec!["\n\n".into()],
        seed: Some(42),
        presence_penalty: Some(0.5),
        frequency_penalty: Some(-0.5),
    };
    req.reasoning = Some(ReasoningOptions {
        effort: Some("low".into()),
        budget_tokens: Some(100),
        include_reasoning: None,
    });
    req.user = Some("u-1".into());
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "answer".into(),
        description: None,
        schema: r#"{"type":"object","properties":{"n":{"type":"integer"}}}"#.into(),
        strict: Some(true),
    }));
    let body = chat_body(&req, &LOCAL, false).unwrap();
    assert_eq!(body["temperature"], 0.5);
    assert_eq!(body["top_p"], 0.25);
    assert_eq!(body["top_k"], 40);
    assert_eq!(body["max_tokens"], 256);
    assert!(body.get("max_completion_tokens").is_none());
    assert_eq!(body["stop"], json!(["\n\n"]));
    assert_eq!(body["seed"], 42);
    assert_eq!(body["presence_penalty"], 0.5);
    assert_eq!(body["frequency_penalty"], -0.5);
    assert_eq!(body["reasoning_effort"], "low");
    assert_eq!(body["user"], "u-1");
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}, "strict": true}})
    );
    let body = chat_body(&req, &Dialect::OPENAI, false).unwrap();
    assert_eq!(body["max_completion_tokens"], 256);
    assert!(body.get("max_tokens").is_none());
    assert!(body.get("top_k").is_none());

    req.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(
        chat_body(&req, &LOCAL, false).unwrap()["response_format"],
        json!({"type": "json_object"})
    );
    req.response_format = Some(ResponseFormat::Text);
    assert!(
        chat_body(&req, &LOCAL, false)
            .unwrap()
            .get("response_format")
            .is_none()
    );
}

#[test]
fn tools_and_choices() {
    let mut req = request();
    req.tools = vec![tool("a"), tool("b")];
    req.parallel_tool_calls = Some(false);
    req.tool_choice = Some(ToolChoice::Required);
    let body = chat_body(&req, &LOCAL, false).unwrap();
    assert_eq!(body["tool_choice"], "required");
    assert_eq!(body["parallel_tool_calls"], false);
    assert_eq!(
        body["tools"][0],
        json!({"type": "function", "function": {"name": "a", "description": "a tool", "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}})
    );
    for (choice, expected) in [(ToolChoice::Auto, "auto"), (ToolChoice::None, "none")] {
        req.tool_choice = Some(choice);
        assert_eq!(
            chat_body(&req, &LOCAL, false).unwrap()["tool_choice"],
            expected
        );
    }
}

#[test]
fn named_tool_choice_per_dialect() {
    let mut req = request();
    req.tools = vec![tool("a"), tool("b")];
    req.tool_choice = Some(ToolChoice::Tool("b".into()));
    let openai = chat_body(&req, &Dialect::OPENAI, false).unwrap();
    assert_eq!(
        openai["tool_choice"],
        json!({"type": "function", "function": {"name": "b"}})
    );
    assert_eq!(openai["tools"].as_array().unwrap().len(), 2);
    // Local servers: only that tool, and it is required.
    let local = chat_body(&req, &LOCAL, false).unwrap();
    assert_eq!(local["tool_choice"], "required");
    assert_eq!(local["tools"].as_array().unwrap().len(), 1);
    assert_eq!(local["tools"][0]["function"]["name"], "b");
    req.tool_choice = Some(ToolChoice::Tool("missing".into()));
    assert!(matches!(
        chat_body(&req, &LOCAL, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn extra_is_merged_last() {
    let mut req = request();
    req.sampling.temperature = Some(1.0);
    req.extra = Some(r#"{"temperature":0,"keep_alive":"5m","options":{"num_ctx":8192}}"#.into());
    let body = chat_body(&req, &LOCAL, false).unwrap();
    assert_eq!(body["temperature"], 0);
    assert_eq!(body["keep_alive"], "5m");
    assert_eq!(body["options"]["num_ctx"], 8192);
    req.extra = Some("[1,2]".into());
    assert!(matches!(
        chat_body(&req, &LOCAL, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn callers_mistakes_are_invalid_requests() {
    let mut req = request();
    req.messages = vec![text(Role::Tool, "result without a call id")];
    assert!(matches!(
        chat_body(&req, &LOCAL, false),
        Err(AdapterError::InvalidRequest(_))
    ));
    req.messages = vec![msg(
        Role::User,
        MessageContent::Blocks(vec![ContentBlock::ToolUse(ToolCall {
            id: "c".into(),
            name: "f".into(),
            arguments: "{}".into(),
            signature: None,
        })]),
    )];
    assert!(matches!(
        chat_body(&req, &LOCAL, false),
        Err(AdapterError::InvalidRequest(_))
    ));
    let mut req = request();
    req.tools = vec![Tool {
        name: "f".into(),
        description: None,
        parameters: "not json".into(),
    }];
    assert!(matches!(
        chat_body(&req, &LOCAL, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn convert_messages_is_the_messages_array() {
    let json = messages_json(
        &[text(Role::User, "hi"), text(Role::Assistant, "hello")],
        &LOCAL,
    )
    .unwrap();
    assert_eq!(
        json,
        r#"[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]"#
    );
}

#[test]
fn embeddings_request() {
    let req = EmbeddingRequest {
        model: "nomic-embed-text".into(),
        inputs: vec!["a".into(), "b".into()],
        dimensions: Some(256),
        extra: Some(r#"{"truncate":true}"#.into()),
    };
    assert_eq!(
        embeddings_body(&req).unwrap(),
        json!({"model": "nomic-embed-text", "input": ["a", "b"], "dimensions": 256, "encoding_format": "float", "truncate": true})
    );
}

#[test]
fn sampling_values_keep_their_decimal_form_on_the_wire() {
    let mut req = request();
    req.sampling.temperature = Some(0.7);
    req.sampling.top_p = Some(0.9);
    req.sampling.presence_penalty = Some(-0.3);
    req.sampling.frequency_penalty = Some(1.1);
    let text = serde_json::to_string(&chat_body(&req, &LOCAL, false).unwrap()).unwrap();
    for expected in [
        "\"temperature\":0.7",
        "\"top_p\":0.9",
        "\"presence_penalty\":-0.3",
        "\"frequency_penalty\":1.1",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
}

#[test]
fn schemas_keep_their_key_order_on_the_wire() {
    // OpenAI generates Structured Outputs in the schema's key order: `reasoning` must stay
    // before `answer`, and a tool's properties in the order the caller wrote them.
    let mut req = request();
    req.tools = vec![Tool {
        name: "t".into(),
        description: None,
        parameters:
            r#"{"type":"object","properties":{"zeta":{"type":"string"},"alpha":{"type":"string"}}}"#
                .into(),
    }];
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "out".into(),
        description: None,
        schema: r#"{"type":"object","properties":{"reasoning":{"type":"string"},"answer":{"type":"string"}}}"#.into(),
        strict: Some(true),
    }));
    req.extra = Some(r#"{"metadata":{"z":"1","a":"2"}}"#.into());
    let text = crate::request::chat_body_json(&req, &LOCAL, false).unwrap();
    assert!(
        text.contains(r#""properties":{"zeta":{"type":"string"},"alpha":{"type":"string"}}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""properties":{"reasoning":{"type":"string"},"answer":{"type":"string"}}"#),
        "{text}"
    );
    assert!(text.contains(r#""metadata":{"z":"1","a":"2"}"#), "{text}");
}
