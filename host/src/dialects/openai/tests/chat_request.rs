//! `chat_request` on request bodies from OpenAI's API reference and guides.

use serde_json::{Value, json};

use crate::dialects::RequestError;
use crate::dialects::openai::chat_request;
use crate::scri::{
    Content, ContentBlock, ImageSource, ResponseFormat, Role, ToolChoice, ToolChoiceMode,
    ToolResultContent,
};

fn parse(body: Value) -> Result<crate::dialects::openai::OpenAiChat, RequestError> {
    chat_request(body.to_string().as_bytes())
}

#[test]
fn reference_default_example() {
    let chat = parse(json!({
        "model": "gpt-4.1",
        "messages": [
            {"role": "developer", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Hello!"}
        ]
    }))
    .unwrap();
    let req = chat.request;
    assert_eq!(req.model, "gpt-4.1");
    assert_eq!(req.messages.len(), 2);
    assert_eq!(req.messages[0].role, Role::Developer);
    assert!(matches!(&req.messages[1].content, Content::Text(t) if t == "Hello!"));
    assert!(!req.stream);
    assert!(!chat.include_usage);
    assert!(req.extra.is_none());
}

#[test]
fn reference_image_input_example() {
    let url = "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg";
    let req = parse(json!({
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is in this image?"},
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}}
        ]}],
        "max_tokens": 300
    }))
    .unwrap()
    .request;
    assert_eq!(req.sampling.max_tokens, Some(300));
    let Content::Blocks(blocks) = &req.messages[0].content else {
        panic!("blocks expected")
    };
    assert!(
        matches!(&blocks[1], ContentBlock::Image(i) if matches!(&i.source, ImageSource::Url { url: u } if u == url))
    );
    let ContentBlock::Image(inline) = &blocks[2] else {
        panic!("image expected")
    };
    assert_eq!(inline.detail.as_deref(), Some("high"));
    assert!(matches!(&inline.source,
        ImageSource::Base64 { media_type, data } if media_type == "image/png" && data == "iVBORw0KGgo="));
}

#[test]
fn reference_functions_example() {
    let req = parse(json!({
        "model": "gpt-4.1",
        "messages": [{"role": "user", "content": "What is the weather like in Boston today?"}],
        "tools": [{"type": "function", "function": {
            "name": "get_current_weather",
            "description": "Get the current weather in a given location",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}
                },
                "required": ["location"]
            },
            "strict": false
        }}],
        "tool_choice": "auto",
        "parallel_tool_calls": false
    }))
    .unwrap()
    .request;
    assert_eq!(req.tools.len(), 1);
    assert_eq!(req.tools[0].name, "get_current_weather");
    assert_eq!(req.tools[0].parameters["required"], json!(["location"]));
    assert!(matches!(
        req.tool_choice,
        Some(ToolChoice::Mode(ToolChoiceMode::Auto))
    ));
    assert_eq!(req.parallel_tool_calls, Some(false));
}

#[test]
fn tool_call_round_trip_from_the_function_calling_guide() {
    let req = parse(json!({
        "model": "gpt-4.1",
        "messages": [
            {"role": "user", "content": "What's the weather like in Paris today?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_12345xyz", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"latitude\":48.8566,\"longitude\":2.3522}"}},
                {"id": "call_broken", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"latitude\":48.85"}}
            ]},
            {"role": "tool", "tool_call_id": "call_12345xyz", "content": "14.2"}
        ],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}}
    }))
    .unwrap()
    .request;
    let Content::Blocks(blocks) = &req.messages[1].content else {
        panic!("blocks expected")
    };
    let ContentBlock::ToolUse(call) = &blocks[0] else {
        panic!("tool_use expected")
    };
    assert_eq!(call.id, "call_12345xyz");
    assert_eq!(
        call.arguments,
        json!({"latitude": 48.8566, "longitude": 2.3522})
    );
    let ContentBlock::ToolUse(broken) = &blocks[1] else {
        panic!("tool_use expected")
    };
    assert_eq!(broken.arguments, json!("{\"latitude\":48.85"));
    let Content::Blocks(result) = &req.messages[2].content else {
        panic!("blocks expected")
    };
    let ContentBlock::ToolResult(result) = &result[0] else {
        panic!("tool_result expected")
    };
    assert_eq!(req.messages[2].role, Role::Tool);
    assert_eq!(result.tool_call_id, "call_12345xyz");
    assert!(matches!(&result.content, ToolResultContent::Text(t) if t == "14.2"));
    assert!(matches!(&req.tool_choice, Some(ToolChoice::Tool { tool }) if tool == "get_weather"));
}

#[test]
fn reasoning_comes_back_before_text_and_tool_calls() {
    let req = parse(json!({
        "model": "anthropic:claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "Weather in Florence?"},
            {"role": "assistant", "content": "Let me check.",
             "reasoning_content": "The user wants weather.",
             "reasoning_details": [
                {"type": "reasoning.text", "text": "The user wants weather.",
                 "signature": "ErUBCkYIBRgCIkDx+/==", "format": "anthropic-claude-v1", "index": 0}
             ],
             "tool_calls": [{"id": "toolu_01", "type": "function",
                             "function": {"name": "weather", "arguments": "{\"location\":\"Florence\"}"}}]},
            {"role": "tool", "tool_call_id": "toolu_01", "content": [{"type": "text", "text": "Sunny, 24C"}]}
        ]
    }))
    .unwrap()
    .request;
    let Content::Blocks(blocks) = &req.messages[1].content else {
        panic!("blocks expected")
    };
    assert_eq!(blocks.len(), 3);
    let ContentBlock::Reasoning(r) = &blocks[0] else {
        panic!("reasoning first")
    };
    assert_eq!(r.signature.as_deref(), Some("ErUBCkYIBRgCIkDx+/=="));
    assert!(matches!(&blocks[1], ContentBlock::Text { text } if text == "Let me check."));
    assert!(matches!(&blocks[2], ContentBlock::ToolUse(c) if c.name == "weather"));
}

#[test]
fn sampling_stop_reasoning_and_streaming_map() {
    let chat = parse(json!({
        "model": "o3", "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.2, "top_p": 0.9, "max_tokens": 10, "max_completion_tokens": 500,
        "stop": "\n\n", "seed": 42, "presence_penalty": 0.5, "frequency_penalty": -0.5,
        "user": "user-1234", "reasoning_effort": "high",
        "stream": true, "stream_options": {"include_usage": true},
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "math_reasoning", "strict": true,
            "schema": {"type": "object", "properties": {"final_answer": {"type": "string"}},
                       "required": ["final_answer"], "additionalProperties": false}}}
    }))
    .unwrap();
    let req = chat.request;
    assert!(req.stream && chat.include_usage);
    assert_eq!(req.sampling.temperature, Some(0.2));
    assert_eq!(
        req.sampling.max_tokens,
        Some(500),
        "max_completion_tokens wins"
    );
    assert_eq!(req.sampling.stop, vec!["\n\n".to_owned()]);
    assert_eq!(req.sampling.seed, Some(42));
    assert_eq!(req.sampling.frequency_penalty, Some(-0.5));
    assert_eq!(req.user.as_deref(), Some("user-1234"));
    assert_eq!(req.reasoning.unwrap().effort.as_deref(), Some("high"));
    assert!(matches!(req.response_format,
        Some(ResponseFormat::JsonSchema { ref name, strict: Some(true), .. }) if name == "math_reasoning"));
    let req = parse(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}],
                          "stop": ["a", "b"], "stream_options": {"include_usage": true}}),
    )
    .unwrap();
    assert_eq!(
        req.request.sampling.stop,
        vec!["a".to_owned(), "b".to_owned()]
    );
    assert!(!req.include_usage, "include_usage only applies to streams");
}

#[test]
fn unmodelled_fields_pass_through_in_extra() {
    let req = parse(json!({
        "model": "gpt-4.1", "messages": [{"role": "user", "content": "Hello!"}],
        "logprobs": true, "top_logprobs": 2, "logit_bias": {"50256": -100},
        "metadata": {"team": "a"}, "store": false, "service_tier": "flex", "n": 1,
        "modalities": ["text"], "web_search_options": {}, "seed": null
    }))
    .unwrap()
    .request;
    let extra = req.extra.unwrap();
    let mut keys: Vec<&str> = extra
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "logit_bias",
            "logprobs",
            "metadata",
            "modalities",
            "service_tier",
            "store",
            "top_logprobs",
            "web_search_options"
        ]
    );
    assert_eq!(extra["logit_bias"], json!({"50256": -100}));
}

#[test]
fn provider_native_tools_go_to_extra_tools_verbatim() {
    let req = parse(json!({
        "model": "xai:grok-4", "messages": [{"role": "user", "content": "News?"}],
        "tools": [
            {"type": "web_search", "allowed_domains": ["x.ai"]},
            {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
            {"type": "x_search", "allowed_x_handles": ["xai"]}
        ],
        "logprobs": true
    }))
    .unwrap()
    .request;
    assert_eq!(req.tools.len(), 1);
    assert_eq!(req.tools[0].name, "get_weather");
    let extra = req.extra.unwrap();
    assert_eq!(
        extra["tools"],
        json!([
            {"type": "web_search", "allowed_domains": ["x.ai"]},
            {"type": "x_search", "allowed_x_handles": ["xai"]}
        ])
    );
    assert_eq!(extra["logprobs"], json!(true));
    let only_functions = parse(json!({
        "model": "m", "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": "f"}}]
    }))
    .unwrap()
    .request;
    assert!(
        only_functions.extra.is_none(),
        "no extra without native tools"
    );
}
