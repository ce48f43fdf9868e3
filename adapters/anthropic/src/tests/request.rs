//! Request bodies: each case is compared with the exact JSON Anthropic documents for it.

use aratta_guest::{
    AdapterError, Base64Image, ChatRequest, ContentBlock, Image, ImageSource, JsonSchemaFormat,
    Reasoning, ReasoningOptions, ResponseFormat, Role, Tool, ToolCall, ToolChoice, ToolResult,
    ToolResultPart,
};
use serde_json::{Value, json};

use super::{blocks, fixture, request, text};
use crate::request::chat_body;
use crate::response::chat_response;

fn body(request: &ChatRequest) -> Value {
    serde_json::from_str(&chat_body(request, false).unwrap()).unwrap()
}

const WEATHER_SCHEMA: &str = r#"{"type": "object", "properties": {"location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["location"]}"#;

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Get the current weather in a given location".into()),
        parameters: WEATHER_SCHEMA.into(),
    }
}

fn call(id: &str, name: &str, arguments: &str) -> ContentBlock {
    ContentBlock::ToolUse(ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
        signature: None,
    })
}

fn result(id: &str, output: &str) -> ContentBlock {
    ContentBlock::ToolResult(ToolResult {
        tool_call_id: id.into(),
        name: None,
        content: vec![ToolResultPart::Text(output.into())],
        is_error: false,
    })
}

#[test]
fn plain_chat_gets_the_default_max_tokens() {
    let req = request(vec![text(Role::User, "Hello, Claude")]);
    assert_eq!(
        body(&req),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "messages": [{"role": "user", "content": "Hello, Claude"}]
        })
    );
    let streamed: Value = serde_json::from_str(&chat_body(&req, true).unwrap()).unwrap();
    assert_eq!(streamed["stream"], json!(true));
}

#[test]
fn system_and_developer_messages_become_the_top_level_system() {
    let one = request(vec![
        text(Role::System, "You are a seasoned data scientist."),
        text(Role::User, "Hello"),
    ]);
    assert_eq!(
        body(&one),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": "You are a seasoned data scientist.",
            "messages": [{"role": "user", "content": "Hello"}]
        })
    );
    let several = request(vec![
        text(Role::System, "Be terse."),
        text(Role::User, "Hello"),
        blocks(
            Role::Developer,
            vec![ContentBlock::Text("Answer in French.".into())],
        ),
    ]);
    assert_eq!(
        body(&several)["system"],
        json!([
            {"type": "text", "text": "Be terse."},
            {"type": "text", "text": "Answer in French."}
        ])
    );
}

#[test]
fn multi_turn_with_sampling_and_user() {
    let mut req = request(vec![
        text(Role::User, "Hello there."),
        text(Role::Assistant, "Hi, I'm Claude. How can I help you?"),
        text(Role::User, "Can you explain LLMs in plain English?"),
    ]);
    req.sampling.temperature = Some(0.5);
    req.sampling.top_p = Some(0.9);
    req.sampling.top_k = Some(40);
    req.sampling.max_tokens = Some(1024);
    req.sampling.stop = vec!["\n\nHuman:".into()];
    // No Anthropic equivalent: dropped, not sent.
    req.sampling.seed = Some(7);
    req.sampling.presence_penalty = Some(0.1);
    req.sampling.frequency_penalty = Some(0.2);
    req.user = Some("user-1234".into());
    assert_eq!(
        body(&req),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "messages": [
                {"role": "user", "content": "Hello there."},
                {"role": "assistant", "content": "Hi, I'm Claude. How can I help you?"},
                {"role": "user", "content": "Can you explain LLMs in plain English?"}
            ],
            "temperature": 0.5,
            "top_p": 0.9,
            "top_k": 40,
            "stop_sequences": ["\n\nHuman:"],
            "metadata": {"user_id": "user-1234"}
        })
    );
}

#[test]
fn images_from_base64_urls_and_data_urls() {
    let image = |source| {
        ContentBlock::Image(Image {
            source,
            detail: Some("high".into()),
        })
    };
    let req = request(vec![blocks(
        Role::User,
        vec![
            image(ImageSource::Base64(Base64Image {
                media_type: "image/jpeg".into(),
                data: "/9j/4AAQSkZJRg==".into(),
            })),
            image(ImageSource::Url(
                "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"
                    .into(),
            )),
            image(ImageSource::Url("data:image/png;base64,iVBORw0KGgo=".into())),
            ContentBlock::Text("Describe these images.".into()),
        ],
    )]);
    assert_eq!(
        body(&req)["messages"],
        json!([{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/jpeg", "data": "/9j/4AAQSkZJRg=="}},
            {"type": "image", "source": {"type": "url", "url": "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
            {"type": "text", "text": "Describe these images."}
        ]}])
    );
    let bad = request(vec![blocks(
        Role::User,
        vec![image(ImageSource::Url("data:image/png,raw".into()))],
    )]);
    assert!(matches!(
        chat_body(&bad, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn tools_tool_call_and_tool_result_turn() {
    let mut req = request(vec![
        text(Role::User, "What is the weather like in San Francisco?"),
        blocks(
            Role::Assistant,
            vec![
                ContentBlock::Text(
                    "I'll check the current weather in San Francisco for you.".into(),
                ),
                call(
                    "toolu_01A09q90qw90lq917835lq9",
                    "get_weather",
                    r#"{"location": "San Francisco, CA", "unit": "celsius"}"#,
                ),
            ],
        ),
        blocks(
            Role::Tool,
            vec![result("toolu_01A09q90qw90lq917835lq9", "15 degrees")],
        ),
    ]);
    req.tools = vec![weather_tool()];
    req.tool_choice = Some(ToolChoice::Auto);
    let text = chat_body(&req, false).unwrap();
    // The schema and the arguments reach Anthropic byte for byte.
    assert!(text.contains(WEATHER_SCHEMA), "{text}");
    assert!(text.contains(r#"{"location": "San Francisco, CA", "unit": "celsius"}"#));
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "tools": [{
                "name": "get_weather",
                "description": "Get the current weather in a given location",
                "input_schema": serde_json::from_str::<Value>(WEATHER_SCHEMA).unwrap()
            }],
            "tool_choice": {"type": "auto"},
            "messages": [
                {"role": "user", "content": "What is the weather like in San Francisco?"},
                {"role": "assistant", "content": [
                    {"type": "text", "text": "I'll check the current weather in San Francisco for you."},
                    {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather",
                     "input": {"location": "San Francisco, CA", "unit": "celsius"}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01A09q90qw90lq917835lq9", "content": "15 degrees"}
                ]}
            ]
        })
    );
}

#[test]
fn parallel_tool_results_merge_into_one_user_turn_results_first() {
    let mut failed = result("toolu_02", "timeout");
    if let ContentBlock::ToolResult(r) = &mut failed {
        r.is_error = true;
    }
    let with_image = ContentBlock::ToolResult(ToolResult {
        tool_call_id: "toolu_03".into(),
        name: Some("screenshot".into()),
        content: vec![
            ToolResultPart::Text("the page".into()),
            ToolResultPart::Image(Image {
                source: ImageSource::Base64(Base64Image {
                    media_type: "image/png".into(),
                    data: "iVBORw0KGgo=".into(),
                }),
                detail: None,
            }),
        ],
        is_error: false,
    });
    let req = request(vec![
        text(Role::User, "Weather and time in SF, and a screenshot?"),
        blocks(
            Role::Assistant,
            vec![
                // What an OpenAI client sends next to tool calls: dropped, Anthropic rejects it.
                ContentBlock::Text(String::new()),
                call("toolu_01", "get_weather", r#"{"location":"SF"}"#),
                call("toolu_02", "get_time", ""),
                call("toolu_03", "screenshot", "{}"),
            ],
        ),
        blocks(Role::Tool, vec![result("toolu_01", "15 degrees")]),
        blocks(Role::Tool, vec![failed]),
        text(Role::User, "Thanks!"),
        blocks(Role::Tool, vec![with_image]),
    ]);
    assert_eq!(
        body(&req)["messages"],
        json!([
            {"role": "user", "content": "Weather and time in SF, and a screenshot?"},
            {"role": "assistant", "content": [
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"location": "SF"}},
                {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}},
                {"type": "tool_use", "id": "toolu_03", "name": "screenshot", "input": {}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "15 degrees"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "content": "timeout", "is_error": true},
                {"type": "tool_result", "tool_use_id": "toolu_03", "content": [
                    {"type": "text", "text": "the page"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
                ]},
                {"type": "text", "text": "Thanks!"}
            ]}
        ])
    );
}

#[test]
fn thinking_round_trips_with_its_signature() {
    // Turn 1's answer, as the adapter parsed it, goes back verbatim in turn 2.
    let answer = chat_response(fixture("thinking.json").as_bytes(), "m", "id").unwrap();
    let mut history = answer.content.clone();
    history.push(ContentBlock::Reasoning(Reasoning {
        text: String::new(),
        signature: None,
        redacted: Some("EmwKAhgBEgy3va3pzix".into()),
        format: Some("anthropic".into()),
    }));
    // Neither can Anthropic verify: Gemini's signature, unsigned reasoning.
    history.push(ContentBlock::Reasoning(Reasoning {
        text: "thought elsewhere".into(),
        signature: Some("gemini-sig".into()),
        redacted: None,
        format: Some("google".into()),
    }));
    history.push(ContentBlock::Reasoning(Reasoning {
        text: "unsigned".into(),
        signature: None,
        redacted: None,
        format: None,
    }));
    let mut req = request(vec![
        text(Role::User, "What's the weather in Paris?"),
        blocks(Role::Assistant, history),
        blocks(
            Role::Tool,
            vec![result(
                "toolu_01CswdEQBMshySk6Y9DFKrfq",
                "Current temperature: 88°F",
            )],
        ),
    ]);
    req.tools = vec![weather_tool()];
    req.reasoning = Some(ReasoningOptions {
        effort: None,
        budget_tokens: Some(10000),
        include_reasoning: None,
    });
    let sent = body(&req);
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 10000})
    );
    assert_eq!(sent["max_tokens"], json!(14096));
    let original: Value = serde_json::from_str(&fixture("thinking.json")).unwrap();
    let mut expected = original["content"].as_array().unwrap().clone();
    expected.push(json!({"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix"}));
    assert_eq!(sent["messages"][1]["content"], Value::Array(expected));
    assert_eq!(
        sent["messages"][2]["content"][0]["tool_use_id"],
        json!("toolu_01CswdEQBMshySk6Y9DFKrfq")
    );
}

#[test]
fn effort_levels_and_hidden_reasoning() {
    let with = |effort: &str, include: Option<bool>| {
        let mut req = request(vec![text(Role::User, "Hi")]);
        req.reasoning = Some(ReasoningOptions {
            effort: Some(effort.into()),
            budget_tokens: None,
            include_reasoning: include,
        });
        req.sampling.max_tokens = Some(32000);
        req
    };
    assert_eq!(
        body(&with("high", None))["thinking"],
        json!({"type": "enabled", "budget_tokens": 16384})
    );
    assert_eq!(
        body(&with("minimal", Some(false)))["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024, "display": "omitted"})
    );
    assert!(body(&with("none", None)).get("thinking").is_none());
    assert!(matches!(
        chat_body(&with("extreme", None), false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn json_schema_uses_structured_outputs_and_json_object_an_instruction() {
    let schema = r#"{"type":"object","properties":{"name":{"type":"string"},"email":{"type":"string"}},"required":["name","email"],"additionalProperties":false}"#;
    let mut req = request(vec![text(
        Role::User,
        "Extract: John Smith, john@example.com",
    )]);
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "contact".into(),
        description: None,
        schema: schema.into(),
        strict: Some(true),
    }));
    let sent = chat_body(&req, false).unwrap();
    assert!(sent.contains(&format!(r#""schema":{schema}"#)), "{sent}");
    assert_eq!(
        serde_json::from_str::<Value>(&sent).unwrap()["output_config"],
        json!({"format": {"type": "json_schema", "schema": serde_json::from_str::<Value>(schema).unwrap()}})
    );

    req.messages.insert(0, text(Role::System, "Be precise."));
    req.response_format = Some(ResponseFormat::JsonObject);
    let sent = body(&req);
    assert!(sent.get("output_config").is_none());
    assert_eq!(
        sent["system"],
        json!([
            {"type": "text", "text": "Be precise."},
            {"type": "text", "text": crate::request::JSON_OBJECT_INSTRUCTION}
        ])
    );
}

#[test]
fn tool_choice_cases() {
    let choice = |choice: Option<ToolChoice>, parallel: Option<bool>| {
        let mut req = request(vec![text(Role::User, "Hi")]);
        req.tools = vec![weather_tool()];
        req.tool_choice = choice;
        req.parallel_tool_calls = parallel;
        body(&req).get("tool_choice").cloned()
    };
    assert_eq!(choice(None, None), None);
    assert_eq!(
        choice(Some(ToolChoice::Required), None),
        Some(json!({"type": "any"}))
    );
    assert_eq!(
        choice(Some(ToolChoice::None), Some(false)),
        Some(json!({"type": "none"}))
    );
    assert_eq!(
        choice(Some(ToolChoice::Tool("get_weather".into())), Some(false)),
        Some(json!({"type": "tool", "name": "get_weather", "disable_parallel_tool_use": true}))
    );
    assert_eq!(
        choice(None, Some(false)),
        Some(json!({"type": "auto", "disable_parallel_tool_use": true}))
    );
    assert_eq!(
        choice(Some(ToolChoice::Auto), Some(true)),
        Some(json!({"type": "auto"}))
    );

    let mut no_tools = request(vec![text(Role::User, "Hi")]);
    no_tools.tool_choice = Some(ToolChoice::None);
    assert!(body(&no_tools).get("tool_choice").is_none());
    let mut unknown = request(vec![text(Role::User, "Hi")]);
    unknown.tools = vec![weather_tool()];
    unknown.tool_choice = Some(ToolChoice::Tool("nope".into()));
    assert!(matches!(
        chat_body(&unknown, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn extra_is_merged_last_and_keeps_nested_order() {
    let mut req = request(vec![text(Role::User, "Hi")]);
    req.sampling.top_k = Some(40);
    req.extra = Some(r#"{"top_k": 5, "thinking": {"type": "adaptive", "display": "summarized"}, "service_tier": "auto"}"#.into());
    let sent = chat_body(&req, false).unwrap();
    assert!(sent.contains(r#"{"type": "adaptive", "display": "summarized"}"#));
    let sent: Value = serde_json::from_str(&sent).unwrap();
    assert_eq!(sent["top_k"], json!(5));
    assert_eq!(sent["service_tier"], json!("auto"));
    req.extra = Some("[1]".into());
    assert!(matches!(
        chat_body(&req, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn server_tools_in_extra_are_appended_to_the_function_tools() {
    let mut req = request(vec![text(Role::User, "News?")]);
    req.tools = vec![weather_tool()];
    req.extra = Some(
        r#"{"tools": [{"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]}"#
            .into(),
    );
    let sent = body(&req);
    assert_eq!(sent["tools"].as_array().unwrap().len(), 2, "{sent}");
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(
        sent["tools"][1],
        json!({"type": "web_search_20250305", "name": "web_search", "max_uses": 3})
    );
    // Without function tools, the server tools are the whole list.
    req.tools.clear();
    assert_eq!(body(&req)["tools"].as_array().unwrap().len(), 1);
    req.extra = Some(r#"{"tools": {"type": "web_search"}}"#.into());
    assert!(matches!(
        chat_body(&req, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn callers_mistakes_are_invalid_requests() {
    let cases = vec![
        vec![blocks(Role::User, vec![call("t", "f", "{}")])],
        vec![text(Role::Tool, "a result without its call id")],
        vec![blocks(Role::Assistant, vec![call("t", "f", "not json")])],
        vec![blocks(Role::Assistant, vec![call("t", "f", "[1, 2]")])],
        vec![blocks(Role::Assistant, vec![result("t", "out")])],
        vec![blocks(
            Role::System,
            vec![ContentBlock::Image(Image {
                source: ImageSource::Url("https://x/y.png".into()),
                detail: None,
            })],
        )],
    ];
    for messages in cases {
        let req = request(messages.clone());
        assert!(
            matches!(chat_body(&req, false), Err(AdapterError::InvalidRequest(_))),
            "{messages:?}"
        );
    }
    let mut bad_tool = request(vec![text(Role::User, "Hi")]);
    bad_tool.tools = vec![Tool {
        name: "f".into(),
        description: None,
        parameters: "{oops".into(),
    }];
    assert!(matches!(
        chat_body(&bad_tool, false),
        Err(AdapterError::InvalidRequest(_))
    ));
}
