//! Request bodies, compared as whole JSON values: what Gemini receives, exactly.

use serde_json::{Value, json};

use super::{blocks, call, reasoning, request, text};
use crate::request::{chat_body, model_path};
use aratta_guest::{
    AdapterError, Base64Image, ContentBlock, Image, ImageSource, JsonSchemaFormat,
    ReasoningOptions, ResponseFormat, Role, Tool, ToolChoice, ToolResult, ToolResultPart,
};

fn body(req: &aratta_guest::ChatRequest) -> Value {
    chat_body(req).unwrap()
}

fn result(id: &str, name: Option<&str>, output: &str, is_error: bool) -> ContentBlock {
    ContentBlock::ToolResult(ToolResult {
        tool_call_id: id.into(),
        name: name.map(Into::into),
        content: vec![ToolResultPart::Text(output.into())],
        is_error,
    })
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a location".into()),
        parameters: r#"{"type":"object","properties":{"location":{"type":"string"}},"required":["location"]}"#.into(),
    }
}

#[test]
fn system_and_developer_become_one_system_instruction() {
    let req = request(vec![
        text(Role::System, "You are a cat."),
        text(Role::Developer, "Answer in one line."),
        text(Role::User, "Hello"),
    ]);
    assert_eq!(
        body(&req),
        json!({
            "systemInstruction": {"parts": [{"text": "You are a cat."}, {"text": "Answer in one line."}]},
            "contents": [{"role": "user", "parts": [{"text": "Hello"}]}]
        })
    );
}

#[test]
fn multi_turn_with_sampling() {
    let mut req = request(vec![
        text(Role::User, "Hello"),
        text(
            Role::Assistant,
            "Great to meet you. What would you like to know?",
        ),
        text(
            Role::User,
            "I have two dogs in my house. How many paws are in my house?",
        ),
    ]);
    req.sampling.temperature = Some(0.7);
    req.sampling.top_p = Some(0.95);
    req.sampling.top_k = Some(40);
    req.sampling.max_tokens = Some(800);
    req.sampling.stop = vec!["Title".into()];
    req.sampling.seed = Some(42);
    req.sampling.presence_penalty = Some(0.5);
    req.sampling.frequency_penalty = Some(-0.25);
    assert_eq!(
        body(&req),
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "Hello"}]},
                {"role": "model", "parts": [{"text": "Great to meet you. What would you like to know?"}]},
                {"role": "user", "parts": [{"text": "I have two dogs in my house. How many paws are in my house?"}]}
            ],
            "generationConfig": {
                "temperature": 0.7, "topP": 0.95, "topK": 40, "maxOutputTokens": 800,
                "stopSequences": ["Title"], "seed": 42,
                "presencePenalty": 0.5, "frequencyPenalty": -0.25
            }
        })
    );
    // The number is written as given, not as the nearest f64 of an f32.
    assert!(
        chat_body(&req)
            .unwrap()
            .to_string()
            .contains("\"temperature\":0.7,")
    );
}

#[test]
fn images_inline_data_url_and_file_uri() {
    let image = |source| {
        ContentBlock::Image(Image {
            source,
            detail: Some("high".into()),
        })
    };
    let req = request(vec![blocks(
        Role::User,
        vec![
            ContentBlock::Text("What is in these images?".into()),
            image(ImageSource::Base64(Base64Image {
                media_type: "image/png".into(),
                data: "iVBORw0KGgo=".into(),
            })),
            image(ImageSource::Url("data:image/jpeg;base64,/9j/4AAQ".into())),
            image(ImageSource::Url(
                "https://example.com/cat.JPG?size=large".into(),
            )),
            image(ImageSource::Url(
                "https://generativelanguage.googleapis.com/v1beta/files/abc123".into(),
            )),
        ],
    )]);
    assert_eq!(
        body(&req)["contents"][0]["parts"],
        json!([
            {"text": "What is in these images?"},
            {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}},
            {"inlineData": {"mimeType": "image/jpeg", "data": "/9j/4AAQ"}},
            {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://example.com/cat.JPG?size=large"}},
            {"fileData": {"fileUri": "https://generativelanguage.googleapis.com/v1beta/files/abc123"}}
        ])
    );
    let bad = request(vec![blocks(
        Role::User,
        vec![image(ImageSource::Url("data:image/png,raw".into()))],
    )]);
    assert!(matches!(
        chat_body(&bad),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn tools_call_and_result_with_recovered_name() {
    let mut req = request(vec![
        text(Role::User, "What's the weather in Paris?"),
        blocks(
            Role::Assistant,
            vec![call(
                "call_req0001abcd_0",
                "get_weather",
                r#"{"location":"Paris"}"#,
                Some("EpwCsig"),
            )],
        ),
        // No name: it is recovered from the call with the same id.
        blocks(
            Role::Tool,
            vec![result(
                "call_req0001abcd_0",
                None,
                r#"{"temp_c":18,"sky":"clear"}"#,
                false,
            )],
        ),
    ]);
    req.tools = vec![weather_tool()];
    req.tool_choice = Some(ToolChoice::Tool("get_weather".into()));
    assert_eq!(
        body(&req),
        json!({
            "contents": [
                {"role": "user", "parts": [{"text": "What's the weather in Paris?"}]},
                {"role": "model", "parts": [{
                    "functionCall": {"name": "get_weather", "args": {"location": "Paris"}},
                    "thoughtSignature": "EpwCsig"
                }]},
                {"role": "user", "parts": [{
                    "functionResponse": {"name": "get_weather", "response": {"output": {"temp_c": 18, "sky": "clear"}}}
                }]}
            ],
            "tools": [{"functionDeclarations": [{
                "name": "get_weather",
                "description": "Current weather for a location",
                "parametersJsonSchema": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}
            }]}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}}
        })
    );
}

#[test]
fn tool_choice_modes() {
    let mode = |choice| {
        let mut req = request(vec![text(Role::User, "hi")]);
        req.tool_choice = Some(choice);
        body(&req)["toolConfig"]["functionCallingConfig"].clone()
    };
    assert_eq!(mode(ToolChoice::Auto), json!({"mode": "AUTO"}));
    assert_eq!(mode(ToolChoice::None), json!({"mode": "NONE"}));
    assert_eq!(mode(ToolChoice::Required), json!({"mode": "ANY"}));
}

#[test]
fn parallel_calls_and_their_results_share_one_turn() {
    let req = request(vec![
        text(Role::User, "Weather in Paris and London?"),
        blocks(
            Role::Assistant,
            vec![
                call(
                    "call_req0001abcd_0",
                    "get_weather",
                    r#"{"location":"Paris"}"#,
                    Some("Eq4Dsig"),
                ),
                call(
                    "call_req0001abcd_1",
                    "get_weather",
                    r#"{"location":"London"}"#,
                    None,
                ),
            ],
        ),
        blocks(
            Role::Tool,
            vec![result(
                "call_req0001abcd_0",
                Some("get_weather"),
                "18C, clear",
                false,
            )],
        ),
        blocks(
            Role::Tool,
            vec![result(
                "call_req0001abcd_1",
                Some("get_weather"),
                "station offline",
                true,
            )],
        ),
    ]);
    assert_eq!(
        body(&req)["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Paris and London?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}}, "thoughtSignature": "Eq4Dsig"},
                {"functionCall": {"name": "get_weather", "args": {"location": "London"}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "get_weather", "response": {"output": "18C, clear"}}},
                {"functionResponse": {"name": "get_weather", "response": {"error": "station offline"}}}
            ]}
        ])
    );
}

#[test]
fn foreign_calls_keep_their_ids_and_get_the_documented_signature() {
    let req = request(vec![
        text(Role::User, "Weather?"),
        blocks(
            Role::Assistant,
            vec![call(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                "{}",
                None,
            )],
        ),
        blocks(
            Role::Tool,
            vec![result(
                "toolu_01A09q90qw90lq917835lq9",
                Some("get_weather"),
                "sunny",
                false,
            )],
        ),
    ]);
    let contents = body(&req)["contents"].clone();
    assert_eq!(
        contents[1]["parts"][0],
        json!({
            "functionCall": {"id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "args": {}},
            "thoughtSignature": "skip_thought_signature_validator"
        })
    );
    assert_eq!(
        contents[2]["parts"][0]["functionResponse"]["id"],
        "toolu_01A09q90qw90lq917835lq9"
    );
}

#[test]
fn only_the_current_turn_gets_placeholder_signatures() {
    let turn = |prompt: &str, id: &str| {
        vec![
            text(Role::User, prompt),
            blocks(Role::Assistant, vec![call(id, "f", "{}", None)]),
            blocks(Role::Tool, vec![result(id, Some("f"), "ok", false)]),
        ]
    };
    let mut messages = turn("first", "call_0");
    messages.extend(turn("second", "call_1"));
    let contents = body(&request(messages))["contents"].clone();
    assert!(
        contents[1]["parts"][0].get("thoughtSignature").is_none(),
        "earlier turns are left alone"
    );
    // The second prompt merges with the first turn's tool result: [user, model, user, model, user].
    assert_eq!(contents.as_array().unwrap().len(), 5);
    assert_eq!(
        contents[3]["parts"][0]["thoughtSignature"],
        "skip_thought_signature_validator"
    );
    // Generated ids were never Gemini's, so they do not go back.
    assert!(contents[3]["parts"][0]["functionCall"].get("id").is_none());
}

#[test]
fn tool_result_without_name_or_matching_call_is_refused() {
    let req = request(vec![blocks(
        Role::Tool,
        vec![result("nope", None, "x", false)],
    )]);
    let Err(AdapterError::InvalidRequest(d)) = chat_body(&req) else {
        panic!("expected invalid-request")
    };
    assert!(d.message.contains("`nope`"), "{}", d.message);
}

#[test]
fn json_schema_and_json_object_output() {
    let mut req = request(vec![text(Role::User, "A cookie recipe")]);
    let schema = r#"{"type":"object","properties":{"recipe_name":{"type":"string"},"ingredients":{"type":"array","items":{"type":"string"}}},"required":["recipe_name"],"additionalProperties":false}"#;
    req.response_format = Some(ResponseFormat::JsonSchema(JsonSchemaFormat {
        name: "recipe".into(),
        description: None,
        schema: schema.into(),
        strict: Some(true),
    }));
    assert_eq!(
        body(&req)["generationConfig"],
        json!({
            "responseMimeType": "application/json",
            "responseJsonSchema": serde_json::from_str::<Value>(schema).unwrap()
        })
    );
    req.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(
        body(&req)["generationConfig"],
        json!({"responseMimeType": "application/json"})
    );
    req.response_format = Some(ResponseFormat::Text);
    assert!(body(&req).get("generationConfig").is_none());
}

#[test]
fn reasoning_options_become_thinking_config() {
    let thinking = |effort: Option<&str>, budget: Option<u32>, include: Option<bool>| {
        let mut req = request(vec![text(Role::User, "hi")]);
        req.reasoning = Some(ReasoningOptions {
            effort: effort.map(Into::into),
            budget_tokens: budget,
            include_reasoning: include,
        });
        chat_body(&req).map(|b| b["generationConfig"]["thinkingConfig"].clone())
    };
    assert_eq!(
        thinking(None, Some(1024), Some(true)).unwrap(),
        json!({"thinkingBudget": 1024, "includeThoughts": true})
    );
    assert_eq!(
        thinking(Some("low"), None, None).unwrap(),
        json!({"thinkingLevel": "LOW"})
    );
    assert_eq!(
        thinking(Some("high"), Some(2048), None).unwrap(),
        json!({"thinkingBudget": 2048}),
        "a budget wins over an effort"
    );
    assert_eq!(
        thinking(Some("none"), None, None).unwrap(),
        json!({"thinkingBudget": 0})
    );
    assert!(matches!(
        thinking(Some("extreme"), None, None),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn extra_merges_into_nested_objects() {
    let mut req = request(vec![text(Role::User, "hi")]);
    req.sampling.temperature = Some(1.0);
    req.extra = Some(
        r#"{"generationConfig":{"responseModalities":["TEXT"],"temperature":null},
            "safetySettings":[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}],
            "cachedContent":"cachedContents/abc"}"#
            .into(),
    );
    let b = body(&req);
    assert_eq!(
        b["generationConfig"],
        json!({"responseModalities": ["TEXT"]})
    );
    assert_eq!(b["cachedContent"], "cachedContents/abc");
    assert_eq!(b["safetySettings"][0]["threshold"], "BLOCK_NONE");
    req.extra = Some("[1]".into());
    assert!(matches!(
        chat_body(&req),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn seeds_beyond_int32_are_refused() {
    let mut req = request(vec![text(Role::User, "hi")]);
    req.sampling.seed = Some(1 << 40);
    assert!(matches!(
        chat_body(&req),
        Err(AdapterError::InvalidRequest(_))
    ));
}

#[test]
fn foreign_reasoning_is_dropped_and_unsigned_gemini_reasoning_kept() {
    let req = request(vec![
        text(Role::User, "hi"),
        blocks(
            Role::Assistant,
            vec![
                reasoning(
                    "Anthropic thinking",
                    Some("ErUBCkYIAxgC"),
                    Some("anthropic"),
                ),
                reasoning("Gemini thought", None, Some("google")),
                ContentBlock::Text("Hello".into()),
            ],
        ),
    ]);
    assert_eq!(
        body(&req)["contents"][1]["parts"],
        json!([{"text": "Gemini thought", "thought": true}, {"text": "Hello"}])
    );
}

#[test]
fn model_paths() {
    assert_eq!(
        model_path("gemini-2.5-flash", "generateContent").unwrap(),
        "/models/gemini-2.5-flash:generateContent"
    );
    assert_eq!(
        model_path("models/gemini-2.5-pro", "streamGenerateContent").unwrap(),
        "/models/gemini-2.5-pro:streamGenerateContent"
    );
    assert_eq!(
        model_path("tunedModels/my-model", "generateContent").unwrap(),
        "/tunedModels/my-model:generateContent"
    );
    assert_eq!(
        model_path("odd model?", "generateContent").unwrap(),
        "/models/odd%20model%3F:generateContent"
    );
    assert!(model_path(" ", "generateContent").is_err());
}

#[test]
fn assistant_text_and_empty_messages() {
    let req = request(vec![
        text(Role::User, "hi"),
        text(Role::Assistant, ""),
        text(Role::User, "again"),
    ]);
    // The empty turn disappears and the two user turns merge.
    assert_eq!(
        body(&req)["contents"],
        json!([{"role": "user", "parts": [{"text": "hi"}, {"text": "again"}]}])
    );
}

#[test]
fn built_in_tools_in_extra_join_the_function_declarations() {
    let mut req = request(vec![text(Role::User, "hi")]);
    req.tools = vec![weather_tool()];
    req.extra = Some(r#"{"tools":[{"googleSearch":{}}]}"#.into());
    let b = body(&req);
    let tools = b["tools"].as_array().expect("tools");
    assert_eq!(tools.len(), 2, "{b}");
    assert!(tools[0]["functionDeclarations"].is_array());
    assert_eq!(tools[1], json!({"googleSearch": {}}));
    // With no function tools of its own, `extra.tools` is the whole list.
    req.tools.clear();
    assert_eq!(body(&req)["tools"], json!([{"googleSearch": {}}]));
}
