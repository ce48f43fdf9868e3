//! SCRI requests as OpenAI Chat Completions and Embeddings request bodies.

use std::collections::BTreeMap;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::Dialect;
use super::tools;
use super::wire::{
    ChatCompletionRequest, ChatMessage, Content, EmbeddingsRequest, FunctionCallOut, ImageUrl,
    Part, StreamOptions, ToolCallOut,
};
use aratta_guest::{
    AdapterError, ChatRequest, ContentBlock, EmbeddingRequest, Image, ImageSource, Json,
    JsonSchemaFormat, Message, MessageContent, ResponseFormat, Role, ToolChoice, ToolResult,
    ToolResultPart,
};

/// The JSON body of `POST /chat/completions` for `request`, as sent: `stream` asks for
/// Server-Sent Events with a final usage chunk, and `extra` is merged in last, so it can
/// override any field. Tool schemas and the response schema keep their key order (OpenAI
/// generates Structured Outputs in the schema's key order), so the body is built as text.
pub fn chat_body_json(
    request: &ChatRequest,
    dialect: &Dialect,
    stream: bool,
) -> Result<String, AdapterError> {
    let sampling = &request.sampling;
    let mut tools = tools::to_openai(&request.tools)?;
    let mut tool_choice = request.tool_choice.as_ref().map(|choice| match choice {
        ToolChoice::Auto => Value::from("auto"),
        ToolChoice::None => Value::from("none"),
        ToolChoice::Required => Value::from("required"),
        ToolChoice::Tool(name) => {
            serde_json::json!({"type": "function", "function": {"name": name}})
        }
    });
    if let (true, Some(ToolChoice::Tool(name))) =
        (dialect.named_tool_choice_as_required, &request.tool_choice)
    {
        if !tools.iter().any(|t| &t.function.name == name) {
            return Err(AdapterError::invalid_request(format!(
                "tool_choice names `{name}`, which is not among the request's tools"
            )));
        }
        tools.retain(|t| &t.function.name == name);
        tool_choice = Some(Value::from("required"));
    }
    let (max_tokens, max_completion_tokens) = if dialect.max_completion_tokens {
        (None, sampling.max_tokens)
    } else {
        (sampling.max_tokens, None)
    };
    let body = ChatCompletionRequest {
        model: request.model.clone(),
        messages: messages(&request.messages, dialect)?,
        tools,
        tool_choice,
        parallel_tool_calls: request.parallel_tool_calls,
        response_format: request
            .response_format
            .as_ref()
            .and_then(response_format)
            .transpose()?,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k: sampling.top_k.filter(|_| dialect.top_k),
        max_tokens,
        max_completion_tokens,
        stop: sampling.stop.clone(),
        seed: sampling.seed,
        presence_penalty: sampling.presence_penalty,
        frequency_penalty: sampling.frequency_penalty,
        reasoning_effort: request.reasoning.as_ref().and_then(|r| r.effort.clone()),
        user: request.user.clone(),
        stream: stream.then_some(true),
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
    };
    let text = serde_json::to_string(&body).map_err(|e| AdapterError::other(e.to_string()))?;
    merge_extra_json(text, request.extra.as_deref())
}

/// [`chat_body_json`] as a JSON value, for inspecting it (a value's keys are sorted, so
/// send the text).
pub fn chat_body(
    request: &ChatRequest,
    dialect: &Dialect,
    stream: bool,
) -> Result<Value, AdapterError> {
    let text = chat_body_json(request, dialect, stream)?;
    serde_json::from_str(&text).map_err(|e| AdapterError::other(e.to_string()))
}

/// The JSON body of `POST /embeddings`.
pub fn embeddings_body(request: &EmbeddingRequest) -> Result<Value, AdapterError> {
    let body = EmbeddingsRequest {
        model: request.model.clone(),
        input: request.inputs.clone(),
        dimensions: request.dimensions,
        encoding_format: "float",
    };
    let mut value = serde_json::to_value(&body).map_err(|e| AdapterError::other(e.to_string()))?;
    merge_extra(&mut value, request.extra.as_deref())?;
    Ok(value)
}

/// Merge the request's `extra` JSON object into `body`, key by key (extra wins).
pub fn merge_extra(body: &mut Value, extra: Option<&str>) -> Result<(), AdapterError> {
    let Some(extra) = extra.filter(|e| !e.trim().is_empty()) else {
        return Ok(());
    };
    let extra: Map<String, Value> = serde_json::from_str(extra).map_err(|e| {
        AdapterError::invalid_request(format!("`extra` must be a JSON object: {e}"))
    })?;
    if let Value::Object(body) = body {
        body.extend(extra);
    }
    Ok(())
}

/// A JSON object's top-level fields with their values as raw text: merging at this level
/// leaves every nested object's key order as it was.
pub type RawFields = BTreeMap<String, Box<RawValue>>;

/// [`merge_extra`] on the text of a JSON object body, keeping nested key order.
pub fn merge_extra_json(body: String, extra: Option<&str>) -> Result<String, AdapterError> {
    let Some(extra) = extra.filter(|e| !e.trim().is_empty()) else {
        return Ok(body);
    };
    let extra: RawFields = serde_json::from_str(extra).map_err(|e| {
        AdapterError::invalid_request(format!("`extra` must be a JSON object: {e}"))
    })?;
    let mut fields: RawFields =
        serde_json::from_str(&body).map_err(|e| AdapterError::other(e.to_string()))?;
    fields.extend(extra);
    serde_json::to_string(&fields).map_err(|e| AdapterError::other(e.to_string()))
}

/// `{"name","description","schema","strict"}` of a JSON-schema answer format, schema verbatim.
#[derive(serde::Serialize)]
pub(crate) struct JsonSchemaOut<'a> {
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'a str>,
    pub schema: &'a RawValue,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

impl<'a> JsonSchemaOut<'a> {
    /// The parts of `format`, whose schema text `schema` was checked by [`schema_raw`].
    pub(crate) fn new(format: &'a JsonSchemaFormat, schema: &'a RawValue) -> JsonSchemaOut<'a> {
        JsonSchemaOut {
            name: &format.name,
            description: format.description.as_deref(),
            schema,
            strict: format.strict,
        }
    }
}

/// The schema text of `format`, checked to be JSON.
pub(crate) fn schema_raw(format: &JsonSchemaFormat) -> Result<Box<RawValue>, AdapterError> {
    RawValue::from_string(format.schema.clone()).map_err(|e| {
        AdapterError::invalid_request(format!("response_format schema is not JSON: {e}"))
    })
}

fn response_format(format: &ResponseFormat) -> Option<Result<Box<RawValue>, AdapterError>> {
    #[derive(serde::Serialize)]
    struct Out<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        json_schema: Option<JsonSchemaOut<'a>>,
    }
    let raw = |out: &Out| {
        serde_json::value::to_raw_value(out).map_err(|e| AdapterError::other(e.to_string()))
    };
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => Some(raw(&Out {
            kind: "json_object",
            json_schema: None,
        })),
        ResponseFormat::JsonSchema(schema) => Some(schema_raw(schema).and_then(|parsed| {
            raw(&Out {
                kind: "json_schema",
                json_schema: Some(JsonSchemaOut::new(schema, &parsed)),
            })
        })),
    }
}

/// The conversation as JSON text of an OpenAI `messages` array.
pub fn messages_json(messages: &[Message], dialect: &Dialect) -> Result<Json, AdapterError> {
    let converted = self::messages(messages, dialect)?;
    serde_json::to_string(&converted).map_err(|e| AdapterError::other(e.to_string()))
}

/// SCRI messages as OpenAI messages. One SCRI message can become several: each tool result is
/// its own `tool` message, placed before the rest of the message it came in. Reasoning blocks
/// are not sent back (Chat Completions has no input field for them).
pub fn messages(messages: &[Message], dialect: &Dialect) -> Result<Vec<ChatMessage>, AdapterError> {
    let mut out = Vec::with_capacity(messages.len());
    for message in messages {
        convert_message(message, dialect, &mut out)?;
    }
    Ok(out)
}

fn role_name(role: Role, dialect: &Dialect) -> &'static str {
    match role {
        Role::System => "system",
        Role::Developer if dialect.developer_role => "developer",
        Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

fn plain(role: &'static str, content: Option<Content>, name: Option<String>) -> ChatMessage {
    ChatMessage {
        role,
        content,
        name,
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

fn convert_message(
    message: &Message,
    dialect: &Dialect,
    out: &mut Vec<ChatMessage>,
) -> Result<(), AdapterError> {
    let role = role_name(message.role, dialect);
    let blocks = match &message.content {
        MessageContent::Text(text) if message.role == Role::Tool => {
            return Err(AdapterError::invalid_request(format!(
                "a tool message needs tool-result blocks (to name the call it answers), got text {:?}",
                text.chars().take(40).collect::<String>()
            )));
        }
        MessageContent::Text(text) => {
            out.push(plain(
                role,
                Some(Content::Text(text.clone())),
                message.name.clone(),
            ));
            return Ok(());
        }
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    let mut result_images = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text(text) => parts.push(Part::Text { text: text.clone() }),
            ContentBlock::Image(image) => parts.push(image_part(image)),
            ContentBlock::ToolUse(call) => calls.push(ToolCallOut {
                id: call.id.clone(),
                kind: "function",
                function: FunctionCallOut {
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                },
            }),
            ContentBlock::ToolResult(result) => {
                out.push(tool_message(result));
                result_images.extend(result.content.iter().filter_map(|p| match p {
                    ToolResultPart::Image(image) => Some(image_part(image)),
                    ToolResultPart::Text(_) => None,
                }));
            }
            ContentBlock::Reasoning(_) => {}
        }
    }
    // Tool messages take only text; images a tool returned follow as a user message.
    if !result_images.is_empty() {
        out.push(plain("user", Some(Content::Parts(result_images)), None));
    }
    if !calls.is_empty() && message.role != Role::Assistant {
        return Err(AdapterError::invalid_request(
            "only assistant messages can carry tool-use blocks",
        ));
    }
    if parts.is_empty() && calls.is_empty() {
        return Ok(()); // Only tool results (already sent) or reasoning.
    }
    let content = match parts.len() {
        0 => None,
        1 if matches!(parts[0], Part::Text { .. }) => match parts.pop() {
            Some(Part::Text { text }) => Some(Content::Text(text)),
            _ => None,
        },
        _ => Some(Content::Parts(parts)),
    };
    let mut msg = plain(role, content, message.name.clone());
    msg.tool_calls = calls;
    out.push(msg);
    Ok(())
}

fn tool_message(result: &ToolResult) -> ChatMessage {
    let mut text: String = result
        .content
        .iter()
        .filter_map(|p| match p {
            ToolResultPart::Text(t) => Some(t.as_str()),
            ToolResultPart::Image(_) => None,
        })
        .collect::<Vec<_>>()
        .join("\n");
    if result.is_error {
        // Chat Completions has no error flag; say it in the text so the model knows.
        text = format!("Error: {text}");
    }
    ChatMessage {
        role: "tool",
        content: Some(Content::Text(text)),
        name: None,
        tool_calls: Vec::new(),
        tool_call_id: Some(result.tool_call_id.clone()),
    }
}

fn image_part(image: &Image) -> Part {
    let url = match &image.source {
        ImageSource::Url(url) => url.clone(),
        ImageSource::Base64(b) => format!("data:{};base64,{}", b.media_type, b.data),
    };
    Part::ImageUrl {
        image_url: ImageUrl {
            url,
            detail: image.detail.clone(),
        },
    }
}
