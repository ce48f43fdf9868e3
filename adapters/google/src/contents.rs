//! SCRI messages as Gemini `contents` and `systemInstruction`.
//!
//! - `system` and `developer` messages become the parts of one `systemInstruction` (Gemini has
//!   a single instruction, not a system turn), in order, wherever they stand.
//! - `user` and `tool` messages become `user` contents; `assistant` becomes `model`.
//!   Consecutive contents of one role are merged, so the results of parallel calls (one SCRI
//!   `tool` message each) reach Gemini as one turn, as its function-calling guide shows.
//! - Tool results become `functionResponse` parts with `response: {"output": …}` (or
//!   `{"error": …}` when the tool failed), the keys Google documents. Gemini matches results
//!   by function name, so a result without `name` takes the name of the call with its id.
//! - Thought signatures go back on the part they came on (see [`model_parts`]).

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use aratta_guest::{
    AdapterError, ContentBlock, Image, ImageSource, Message, MessageContent, Reasoning, Role,
    ToolCall, ToolResult, ToolResultPart,
};

/// The signature Google documents for function calls it did not produce (history from another
/// model or provider): Gemini 3 rejects the current turn's first call of a step without one.
pub const FOREIGN_CALL_SIGNATURE: &str = "skip_thought_signature_validator";

/// A conversation in Gemini's terms.
#[derive(Debug, Default, PartialEq)]
pub struct Conversation {
    /// `systemInstruction`, when there were system or developer messages.
    pub system: Option<Value>,
    /// `contents`, alternating `user` and `model`.
    pub contents: Vec<Value>,
}

impl Conversation {
    /// The conversation as it appears in a request body (`convert-messages`).
    pub fn to_value(&self) -> Value {
        let mut body = Map::new();
        if let Some(system) = &self.system {
            body.insert("systemInstruction".into(), system.clone());
        }
        body.insert("contents".into(), Value::Array(self.contents.clone()));
        Value::Object(body)
    }
}

/// Translate `messages`.
pub fn convert(messages: &[Message]) -> Result<Conversation, AdapterError> {
    let names = call_names(messages);
    let mut system = Vec::new();
    let mut contents: Vec<(&'static str, Vec<Value>)> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let (role, parts) = match message.role {
            Role::System | Role::Developer => {
                system.extend(system_parts(i, &message.content)?);
                continue;
            }
            Role::User | Role::Tool => ("user", user_parts(i, &message.content, &names)?),
            Role::Assistant => ("model", model_parts(i, &message.content)?),
        };
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(parts),
            _ => contents.push((role, parts)),
        }
    }
    let mut contents: Vec<Value> = contents
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    sign_current_turn(&mut contents);
    Ok(Conversation {
        system: (!system.is_empty()).then(|| json!({"parts": system})),
        contents,
    })
}

/// Tool names by call id, to name results that arrive without one.
fn call_names(messages: &[Message]) -> HashMap<&str, &str> {
    let mut names = HashMap::new();
    for message in messages {
        if let MessageContent::Blocks(blocks) = &message.content {
            for block in blocks {
                if let ContentBlock::ToolUse(call) = block {
                    names.insert(call.id.as_str(), call.name.as_str());
                }
            }
        }
    }
    names
}

fn system_parts(i: usize, content: &MessageContent) -> Result<Vec<Value>, AdapterError> {
    match content {
        MessageContent::Text(text) => Ok(text_part(text).into_iter().collect()),
        MessageContent::Blocks(blocks) => blocks
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text(text) => text_part(text).map(Ok),
                _ => Some(Err(AdapterError::invalid_request(format!(
                    "message {i}: Gemini's systemInstruction takes only text"
                )))),
            })
            .collect(),
    }
}

fn text_part(text: &str) -> Option<Value> {
    (!text.is_empty()).then(|| json!({"text": text}))
}

fn user_parts(
    i: usize,
    content: &MessageContent,
    names: &HashMap<&str, &str>,
) -> Result<Vec<Value>, AdapterError> {
    let blocks = match content {
        MessageContent::Text(text) => return Ok(text_part(text).into_iter().collect()),
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text(text) => parts.extend(text_part(text)),
            ContentBlock::Image(image) => parts.push(image_part(image)?),
            ContentBlock::ToolResult(result) => tool_result(i, result, names, &mut parts)?,
            ContentBlock::ToolUse(call) => parts.push(call_part(call)?),
            // Reasoning belongs to the model's turns; a user turn has nowhere to put it.
            ContentBlock::Reasoning(_) => {}
        }
    }
    Ok(parts)
}

/// A part being assembled for a model turn: a finished part, or a signature that belongs to an
/// adjacent text part.
enum Item {
    Part(Value),
    Signature(String),
}

/// The parts of an assistant message.
///
/// Where Gemini put a `thoughtSignature`, the adapter answered with:
/// - a thought part (`thought: true`) → a reasoning block with that text and signature → a
///   thought part again;
/// - a function call → `tool-call.signature` → the same `functionCall` part;
/// - a text part → a reasoning block with empty text and the signature, right after the text
///   (streams end with the signature, often on an empty text part). Back here it is put on the
///   text part just before it, or, when the host moved reasoning first (the OpenAI route puts
///   `reasoning_details` ahead of the content), the text part just after it. With no text
///   next to it, it goes out as Gemini sent it: an empty text part carrying the signature.
///
/// Reasoning with another provider's `format` is dropped: Gemini cannot verify it.
pub fn model_parts(i: usize, content: &MessageContent) -> Result<Vec<Value>, AdapterError> {
    let blocks = match content {
        MessageContent::Text(text) => return Ok(text_part(text).into_iter().collect()),
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut items = Vec::new();
    for block in blocks {
        match block {
            ContentBlock::Text(text) => items.extend(text_part(text).map(Item::Part)),
            ContentBlock::Image(image) => items.push(Item::Part(image_part(image)?)),
            ContentBlock::ToolUse(call) => items.push(Item::Part(call_part(call)?)),
            ContentBlock::ToolResult(_) => {
                return Err(AdapterError::invalid_request(format!(
                    "message {i}: an assistant message cannot carry a tool result"
                )));
            }
            ContentBlock::Reasoning(reasoning) => items.extend(reasoning_item(reasoning)),
        }
    }
    Ok(resolve_signatures(items))
}

/// Whether a reasoning block may be sent to Gemini: its own format, or none (streamed
/// reasoning reaches clients without one).
fn is_gemini_reasoning(reasoning: &Reasoning) -> bool {
    match reasoning.format.as_deref() {
        None => reasoning.redacted.is_none(),
        Some(format) => format.starts_with("google") || format.starts_with("gemini"),
    }
}

fn reasoning_item(reasoning: &Reasoning) -> Option<Item> {
    if !is_gemini_reasoning(reasoning) {
        return None;
    }
    if reasoning.text.is_empty() {
        return reasoning.signature.clone().map(Item::Signature);
    }
    let mut part = json!({"text": reasoning.text, "thought": true});
    if let Some(signature) = &reasoning.signature {
        part["thoughtSignature"] = json!(signature);
    }
    Some(Item::Part(part))
}

/// Whether `item` is an answer-text part that can still take a signature.
fn takes_signature(item: Option<&Item>) -> bool {
    matches!(item, Some(Item::Part(p))
        if p.get("text").is_some() && p.get("thought").is_none() && p.get("thoughtSignature").is_none())
}

fn resolve_signatures(mut items: Vec<Item>) -> Vec<Value> {
    for i in 0..items.len() {
        let Item::Signature(signature) = &items[i] else {
            continue;
        };
        let signature = json!(signature);
        let target = if i > 0 && takes_signature(items.get(i - 1)) {
            Some(i - 1)
        } else if takes_signature(items.get(i + 1)) {
            Some(i + 1)
        } else {
            None
        };
        match target {
            Some(t) => {
                if let Item::Part(part) = &mut items[t] {
                    part["thoughtSignature"] = signature;
                }
                items[i] = Item::Part(Value::Null);
            }
            None => items[i] = Item::Part(json!({"text": "", "thoughtSignature": signature})),
        }
    }
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Part(Value::Null) | Item::Signature(_) => None,
            Item::Part(part) => Some(part),
        })
        .collect()
}

/// A `functionCall` part. The id goes out only when Gemini made it: ids the adapter generated
/// (`call_<n>`) were never Gemini's.
fn call_part(call: &ToolCall) -> Result<Value, AdapterError> {
    let args: Value = if call.arguments.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(&call.arguments).map_err(|e| {
            AdapterError::invalid_request(format!(
                "the arguments of tool call `{}` are not JSON: {e}",
                call.id
            ))
        })?
    };
    if !args.is_object() {
        return Err(AdapterError::invalid_request(format!(
            "the arguments of tool call `{}` must be a JSON object for Gemini",
            call.id
        )));
    }
    let mut function = json!({"name": call.name, "args": args});
    if !crate::response::is_generated_call_id(&call.id) && !call.id.is_empty() {
        function["id"] = json!(call.id);
    }
    let mut part = json!({"functionCall": function});
    if let Some(signature) = &call.signature {
        part["thoughtSignature"] = json!(signature);
    }
    Ok(part)
}

/// A `functionResponse` part, followed by the result's images as their own parts (every
/// Gemini model takes those; multimodal `functionResponse.parts` is Gemini 3 only).
fn tool_result(
    i: usize,
    result: &ToolResult,
    names: &HashMap<&str, &str>,
    parts: &mut Vec<Value>,
) -> Result<(), AdapterError> {
    let name = match &result.name {
        Some(name) => name.as_str(),
        None => names.get(result.tool_call_id.as_str()).copied().ok_or_else(|| {
            AdapterError::invalid_request(format!(
                "message {i}: the result of tool call `{}` has no name, and no earlier call has \
                 that id; Gemini matches results by function name",
                result.tool_call_id
            ))
        })?,
    };
    let texts: Vec<&str> = result
        .content
        .iter()
        .filter_map(|p| match p {
            ToolResultPart::Text(t) => Some(t.as_str()),
            ToolResultPart::Image(_) => None,
        })
        .collect();
    let text = texts.join("\n");
    // JSON objects and arrays go as structure; anything else as the text it is.
    let output = match serde_json::from_str::<Value>(&text) {
        Ok(value @ (Value::Object(_) | Value::Array(_))) => value,
        _ => Value::String(text),
    };
    let key = if result.is_error { "error" } else { "output" };
    let mut function = json!({"name": name, "response": {key: output}});
    if !crate::response::is_generated_call_id(&result.tool_call_id)
        && !result.tool_call_id.is_empty()
    {
        function["id"] = json!(result.tool_call_id);
    }
    parts.push(json!({"functionResponse": function}));
    for part in &result.content {
        if let ToolResultPart::Image(image) = part {
            parts.push(image_part(image)?);
        }
    }
    Ok(())
}

/// An image part: `inlineData` for bytes and `data:` URLs, `fileData` for other URLs (Files
/// API URIs, public HTTPS URLs). Gemini has no per-image `detail`.
fn image_part(image: &Image) -> Result<Value, AdapterError> {
    match &image.source {
        ImageSource::Base64(b) => {
            Ok(json!({"inlineData": {"mimeType": b.media_type, "data": b.data}}))
        }
        ImageSource::Url(url) => {
            if let Some(rest) = url.strip_prefix("data:") {
                let (meta, data) = rest.split_once(',').ok_or_else(|| {
                    AdapterError::invalid_request("a `data:` image URL has no `,`")
                })?;
                let Some(mime) = meta.strip_suffix(";base64") else {
                    return Err(AdapterError::invalid_request(
                        "only base64 `data:` image URLs can be sent to Gemini",
                    ));
                };
                return Ok(json!({"inlineData": {"mimeType": mime, "data": data}}));
            }
            let mut file = json!({"fileUri": url});
            if let Some(mime) = mime_from_url(url) {
                file["mimeType"] = json!(mime);
            }
            Ok(json!({"fileData": file}))
        }
    }
}

/// The image type a URL's extension names, for `fileData.mimeType`.
fn mime_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next()?;
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        _ => return None,
    })
}

/// Give the first function call of every model step in the current turn a signature when it
/// has none (history from another provider, or from a Gemini call without thinking), with the
/// value Google documents for that case. Earlier turns are not validated and stay as they are.
/// The current turn starts after the last user content that is more than tool results.
fn sign_current_turn(contents: &mut [Value]) {
    let is_prompt = |c: &Value| {
        c["role"] == "user"
            && c["parts"]
                .as_array()
                .is_some_and(|parts| parts.iter().any(|p| p.get("functionResponse").is_none()))
    };
    let start = contents.iter().rposition(is_prompt).map_or(0, |i| i + 1);
    for content in &mut contents[start..] {
        if content["role"] != "model" {
            continue;
        }
        let Some(parts) = content["parts"].as_array_mut() else {
            continue;
        };
        if let Some(first) = parts.iter_mut().find(|p| p.get("functionCall").is_some())
            && first.get("thoughtSignature").is_none()
        {
            first["thoughtSignature"] = json!(FOREIGN_CALL_SIGNATURE);
        }
    }
}
