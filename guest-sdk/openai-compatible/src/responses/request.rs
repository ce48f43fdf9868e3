//! SCRI requests as Responses API bodies: messages become `input` items, tools are flattened
//! (`{"type":"function","name":…}`), the token limit is `max_output_tokens`, the answer format
//! is `text.format`, and `extra` is merged last except `extra.tools`, which is appended.

use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use super::{ResponsesDialect, carries_reasoning};
use crate::request::{JsonSchemaOut, RawFields, schema_raw};
use crate::wire::decimal_f64;
use aratta_guest::{
    AdapterError, ChatRequest, ContentBlock, Image, ImageSource, Message, MessageContent,
    ResponseFormat, Role, ToolChoice, ToolResult, ToolResultPart,
};

/// The tools of `extra.tools` whose `type` is not `function`: the provider runs them itself
/// (web search, X search, code execution). `None` when `extra` has no `tools` array.
pub fn server_tools(extra: Option<&str>) -> Option<Vec<Value>> {
    let extra: Value = serde_json::from_str(extra?).ok()?;
    let tools = extra.get("tools")?.as_array()?;
    Some(
        tools
            .iter()
            .filter(|t| t.get("type").and_then(Value::as_str) != Some("function"))
            .cloned()
            .collect(),
    )
}

/// The JSON body of `POST /responses` for `request`, as sent; `why` says why the Responses
/// API is used, for the errors about what it cannot express. Tool and answer schemas keep
/// their key order.
pub fn body_json(
    request: &ChatRequest,
    dialect: &ResponsesDialect,
    stream: bool,
    why: &str,
) -> Result<String, AdapterError> {
    let sampling = &request.sampling;
    let unsupported = [
        ("stop", !sampling.stop.is_empty()),
        ("seed", sampling.seed.is_some()),
        ("presence-penalty", sampling.presence_penalty.is_some()),
        ("frequency-penalty", sampling.frequency_penalty.is_some()),
    ];
    if let Some((name, _)) = unsupported.iter().find(|(_, set)| *set) {
        return Err(AdapterError::invalid_request(format!(
            "`{name}` cannot be sent: this request needs the Responses API ({why}), which has \
             no such parameter"
        )));
    }
    let mut extra: RawFields = match request.extra.as_deref().filter(|e| !e.trim().is_empty()) {
        Some(text) => serde_json::from_str(text).map_err(|e| {
            AdapterError::invalid_request(format!("`extra` must be a JSON object: {e}"))
        })?,
        None => RawFields::new(),
    };
    let mut body = RawFields::new();
    put(&mut body, "model", &request.model)?;
    put(&mut body, "input", &input(&request.messages, dialect)?)?;
    let mut tools = function_tools(request, dialect)?;
    if let Some(more) = extra.remove("tools") {
        let more: Vec<Box<RawValue>> = serde_json::from_str(more.get()).map_err(|e| {
            AdapterError::invalid_request(format!("`extra.tools` must be an array: {e}"))
        })?;
        tools.extend(more);
    }
    if !tools.is_empty() {
        put(&mut body, "tools", &tools)?;
    }
    if let Some(choice) = &request.tool_choice {
        let choice = match choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::None => json!("none"),
            ToolChoice::Required => json!("required"),
            ToolChoice::Tool(name) => json!({"type": "function", "name": name}),
        };
        put(&mut body, "tool_choice", &choice)?;
    }
    if let Some(parallel) = request.parallel_tool_calls {
        put(&mut body, "parallel_tool_calls", &parallel)?;
    }
    if let Some(format) = text_format(request.response_format.as_ref())? {
        #[derive(serde::Serialize)]
        struct Text {
            format: Box<RawValue>,
        }
        put(&mut body, "text", &Text { format })?;
    }
    if let Some(t) = sampling.temperature {
        put(&mut body, "temperature", &decimal_f64(t))?;
    }
    if let Some(p) = sampling.top_p {
        put(&mut body, "top_p", &decimal_f64(p))?;
    }
    if let Some(max) = sampling.max_tokens {
        put(&mut body, "max_output_tokens", &max)?;
    }
    let mut reasoning = Map::new();
    if let Some(options) = &request.reasoning {
        if let Some(effort) = &options.effort {
            reasoning.insert("effort".into(), json!(effort));
        }
        if dialect.reasoning_summaries && options.include_reasoning == Some(true) {
            reasoning.insert("summary".into(), json!("auto"));
        }
    }
    if !reasoning.is_empty() {
        put(&mut body, "reasoning", &reasoning)?;
    }
    // Encrypted reasoning is the only way to carry reasoning to the next turn without storing
    // the conversation at the provider; asked for whenever reasoning is involved.
    if request.reasoning.is_some() || carries_any_reasoning(&request.messages, dialect) {
        put(&mut body, "include", &["reasoning.encrypted_content"])?;
    }
    put(&mut body, "store", &false)?;
    if let Some(user) = &request.user {
        put(&mut body, "user", user)?;
    }
    if stream {
        put(&mut body, "stream", &true)?;
    }
    body.extend(extra);
    serde_json::to_string(&body).map_err(|e| AdapterError::other(e.to_string()))
}

/// [`body_json`] as a JSON value, for inspecting it (a value's keys are sorted, so send the
/// text).
pub fn body(
    request: &ChatRequest,
    dialect: &ResponsesDialect,
    stream: bool,
    why: &str,
) -> Result<Value, AdapterError> {
    let text = body_json(request, dialect, stream, why)?;
    serde_json::from_str(&text).map_err(|e| AdapterError::other(e.to_string()))
}

fn put<T: serde::Serialize + ?Sized>(
    body: &mut RawFields,
    key: &str,
    value: &T,
) -> Result<(), AdapterError> {
    let raw =
        serde_json::value::to_raw_value(value).map_err(|e| AdapterError::other(e.to_string()))?;
    body.insert(key.to_string(), raw);
    Ok(())
}

fn carries_any_reasoning(messages: &[Message], dialect: &ResponsesDialect) -> bool {
    messages.iter().any(|m| match &m.content {
        MessageContent::Blocks(blocks) => blocks
            .iter()
            .any(|b| matches!(b, ContentBlock::Reasoning(r) if carries_reasoning(r, dialect))),
        MessageContent::Text(_) => false,
    })
}

fn function_tools(
    request: &ChatRequest,
    dialect: &ResponsesDialect,
) -> Result<Vec<Box<RawValue>>, AdapterError> {
    #[derive(serde::Serialize)]
    struct FunctionTool<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        name: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
        parameters: &'a RawValue,
        #[serde(skip_serializing_if = "Option::is_none")]
        strict: Option<bool>,
    }
    request
        .tools
        .iter()
        .map(|tool| {
            let parameters = RawValue::from_string(tool.parameters.clone()).map_err(|e| {
                AdapterError::invalid_request(format!(
                    "tool `{}` has parameters that are not JSON: {e}",
                    tool.name
                ))
            })?;
            serde_json::value::to_raw_value(&FunctionTool {
                kind: "function",
                name: &tool.name,
                description: tool.description.as_deref(),
                parameters: &parameters,
                strict: dialect.non_strict_tools.then_some(false),
            })
            .map_err(|e| AdapterError::other(e.to_string()))
        })
        .collect()
}

fn text_format(format: Option<&ResponseFormat>) -> Result<Option<Box<RawValue>>, AdapterError> {
    #[derive(serde::Serialize)]
    struct Format<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        #[serde(flatten, skip_serializing_if = "Option::is_none")]
        schema: Option<JsonSchemaOut<'a>>,
    }
    let raw = |f: &Format| {
        serde_json::value::to_raw_value(f).map_err(|e| AdapterError::other(e.to_string()))
    };
    match format {
        None | Some(ResponseFormat::Text) => Ok(None),
        Some(ResponseFormat::JsonObject) => raw(&Format {
            kind: "json_object",
            schema: None,
        })
        .map(Some),
        Some(ResponseFormat::JsonSchema(format)) => {
            let schema = schema_raw(format)?;
            raw(&Format {
                kind: "json_schema",
                schema: Some(JsonSchemaOut::new(format, &schema)),
            })
            .map(Some)
        }
    }
}

/// SCRI messages as `input` items, in order. Within a message, text runs become one message
/// item, each tool call a `function_call` item, each tool result a `function_call_output`
/// item, and reasoning of this provider a `reasoning` item; other providers' reasoning is
/// left out (it cannot be verified here).
pub fn input(messages: &[Message], dialect: &ResponsesDialect) -> Result<Vec<Value>, AdapterError> {
    let mut items = Vec::with_capacity(messages.len());
    for message in messages {
        let role = match message.role {
            Role::System => "system",
            Role::Developer if dialect.developer_role => "developer",
            Role::Developer => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        let blocks = match &message.content {
            MessageContent::Text(text) if message.role == Role::Tool => {
                return Err(AdapterError::invalid_request(format!(
                    "a tool message needs tool-result blocks (to name the call it answers), got \
                     text {:?}",
                    text.chars().take(40).collect::<String>()
                )));
            }
            MessageContent::Text(text) => {
                items.push(json!({"role": role, "content": text}));
                continue;
            }
            MessageContent::Blocks(blocks) => blocks,
        };
        let mut parts: Vec<Value> = Vec::new();
        for block in blocks {
            match block {
                ContentBlock::Text(text) => parts.push(text_part(message.role, text)),
                ContentBlock::Image(image) => {
                    if message.role == Role::Assistant {
                        return Err(AdapterError::invalid_request(
                            "the Responses API takes no images in assistant messages",
                        ));
                    }
                    parts.push(image_part(image));
                }
                ContentBlock::ToolUse(call) => {
                    if message.role != Role::Assistant {
                        return Err(AdapterError::invalid_request(
                            "only assistant messages can carry tool-use blocks",
                        ));
                    }
                    flush(&mut items, role, &mut parts);
                    items.push(json!({
                        "type": "function_call",
                        "call_id": call.id,
                        "name": call.name,
                        "arguments": call.arguments,
                    }));
                }
                ContentBlock::ToolResult(result) => {
                    flush(&mut items, role, &mut parts);
                    items.push(tool_output(result));
                }
                ContentBlock::Reasoning(r) => {
                    if carries_reasoning(r, dialect) {
                        flush(&mut items, role, &mut parts);
                        let summary: Vec<Value> = if r.text.is_empty() {
                            Vec::new()
                        } else {
                            vec![json!({"type": "summary_text", "text": r.text})]
                        };
                        let mut item = json!({
                            "type": "reasoning",
                            "id": r.signature,
                            "summary": summary,
                        });
                        if let Some(encrypted) = &r.redacted {
                            item["encrypted_content"] = json!(encrypted);
                        }
                        items.push(item);
                    }
                }
            }
        }
        flush(&mut items, role, &mut parts);
    }
    Ok(items)
}

/// Close the message item being built from `parts`, if any.
fn flush(items: &mut Vec<Value>, role: &str, parts: &mut Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    let parts = std::mem::take(parts);
    // A lone text part goes as a plain string, the form every server accepts.
    let content = match parts.as_slice() {
        [one] if one.get("type").and_then(Value::as_str) != Some("input_image") => {
            one.get("text").cloned().unwrap_or(Value::Null)
        }
        _ => Value::Array(parts),
    };
    items.push(json!({"role": role, "content": content}));
}

fn text_part(role: Role, text: &str) -> Value {
    let kind = if role == Role::Assistant {
        "output_text"
    } else {
        "input_text"
    };
    json!({"type": kind, "text": text})
}

fn image_url(image: &Image) -> String {
    match &image.source {
        ImageSource::Url(url) => url.clone(),
        ImageSource::Base64(b) => format!("data:{};base64,{}", b.media_type, b.data),
    }
}

fn image_part(image: &Image) -> Value {
    json!({
        "type": "input_image",
        "image_url": image_url(image),
        "detail": image.detail.as_deref().unwrap_or("auto"),
    })
}

fn tool_output(result: &ToolResult) -> Value {
    let has_images = result
        .content
        .iter()
        .any(|p| matches!(p, ToolResultPart::Image(_)));
    let prefix = if result.is_error { "Error: " } else { "" };
    let output = if has_images {
        let mut parts: Vec<Value> = Vec::new();
        if result.is_error {
            parts.push(json!({"type": "input_text", "text": "Error:"}));
        }
        for part in &result.content {
            parts.push(match part {
                ToolResultPart::Text(t) => json!({"type": "input_text", "text": t}),
                ToolResultPart::Image(image) => image_part(image),
            });
        }
        Value::Array(parts)
    } else {
        let text: Vec<&str> = result
            .content
            .iter()
            .filter_map(|p| match p {
                ToolResultPart::Text(t) => Some(t.as_str()),
                ToolResultPart::Image(_) => None,
            })
            .collect();
        json!(format!("{prefix}{}", text.join("\n")))
    };
    json!({"type": "function_call_output", "call_id": result.tool_call_id, "output": output})
}
