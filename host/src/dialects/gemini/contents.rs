//! Gemini `contents` → SCRI messages.
//!
//! | Gemini part (role)                                  | SCRI                                     |
//! |-----------------------------------------------------|------------------------------------------|
//! | `text` (user or model)                              | `text`                                   |
//! | `text` + `thought: true` (+ `thoughtSignature`) (model) | `reasoning` {text, signature}        |
//! | `text` + `thoughtSignature` (model)                 | `text`, then `reasoning` {"", signature} |
//! | `inlineData` / `fileData` with an `image/*` type (user) | `image` (base64 / URL)               |
//! | `functionCall` {id, name, args} + `thoughtSignature` (model) | `tool_use` with the signature   |
//! | `functionResponse` {id, name, response} (user)      | a `tool` message with a `tool_result`    |
//!
//! Calls without an `id` get `call_{n}`, and responses without one are matched to the
//! earliest unanswered call of the same name (how Gemini itself pairs them). A response of
//! `{"output": x}` or `{"error": x}` (the keys Google documents) carries `x`, the latter as
//! a failed result; any other response object is passed as its JSON text.

use std::collections::{HashMap, VecDeque};

use serde::Deserialize;
use serde_json::Value;

use crate::dialects::RequestError;
use crate::dialects::json::parse_at;
use crate::scri::{
    Content, ContentBlock, Image, ImageSource, Message, Reasoning, Role, ToolCall, ToolResult,
    ToolResultContent,
};

/// One `Content`.
#[derive(Debug, Deserialize)]
pub(crate) struct InContent {
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub parts: Vec<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    thought: Option<bool>,
    #[serde(default, alias = "thought_signature")]
    thought_signature: Option<String>,
    #[serde(default, alias = "inline_data")]
    inline_data: Option<Blob>,
    #[serde(default, alias = "file_data")]
    file_data: Option<FileData>,
    #[serde(default, alias = "function_call")]
    function_call: Option<FunctionCall>,
    #[serde(default, alias = "function_response")]
    function_response: Option<FunctionResponse>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Blob {
    #[serde(alias = "mime_type")]
    mime_type: String,
    data: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileData {
    #[serde(default, alias = "mime_type")]
    mime_type: Option<String>,
    #[serde(alias = "file_uri")]
    file_uri: String,
}

#[derive(Debug, Deserialize)]
struct FunctionCall {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    args: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct FunctionResponse {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    response: Value,
}

/// Part keys with no SCRI equivalent, refused by name.
const UNSUPPORTED_PARTS: &[&str] = &[
    "executableCode",
    "executable_code",
    "codeExecutionResult",
    "code_execution_result",
    "videoMetadata",
    "video_metadata",
    "toolCall",
    "toolResponse",
];

/// Calls seen so far: the ids of unanswered calls by name, and how many there were.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pending: HashMap<String, VecDeque<String>>,
    count: usize,
}

/// Append the SCRI messages for `contents[i]` to `out`.
pub(crate) fn convert_content(
    i: usize,
    content: &InContent,
    calls: &mut Calls,
    out: &mut Vec<Message>,
) -> Result<(), RequestError> {
    let model = match content.role.as_deref().unwrap_or("user") {
        "user" | "function" | "" => false,
        "model" => true,
        other => {
            return Err(RequestError::invalid(
                format!("contents[{i}].role"),
                format!(
                    "must be `user` or `model`, got `{other}` (put instructions in `systemInstruction`)"
                ),
            ));
        }
    };
    let mut blocks = Vec::new();
    for (j, value) in content.parts.iter().enumerate() {
        let at = format!("contents[{i}].parts[{j}]");
        if let Some(key) = UNSUPPORTED_PARTS.iter().find(|k| value.get(**k).is_some()) {
            return Err(RequestError::unsupported(
                format!("{at}.{key}"),
                "Gemini's server-side code execution has no equivalent at other providers",
            ));
        }
        let part: Part = parse_at(value, &at)?;
        if model {
            model_part(part, &at, calls, &mut blocks)?;
        } else {
            user_part(part, &at, calls, &mut blocks, out)?;
        }
    }
    if !blocks.is_empty() || content.parts.is_empty() {
        let role = if model { Role::Assistant } else { Role::User };
        out.push(Message {
            role,
            content: Content::Blocks(blocks),
            name: None,
        });
    }
    Ok(())
}

fn model_part(
    part: Part,
    at: &str,
    calls: &mut Calls,
    blocks: &mut Vec<ContentBlock>,
) -> Result<(), RequestError> {
    let signature = part.thought_signature.filter(|s| !s.is_empty());
    if let Some(call) = part.function_call {
        calls.count += 1;
        let id = call
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| format!("call_{}", calls.count));
        calls
            .pending
            .entry(call.name.clone())
            .or_default()
            .push_back(id.clone());
        blocks.push(ContentBlock::ToolUse(ToolCall {
            id,
            name: call.name,
            arguments: call
                .args
                .unwrap_or_else(|| Value::Object(Default::default())),
            signature,
        }));
        return Ok(());
    }
    if let Some(text) = part.text {
        if part.thought == Some(true) {
            blocks.push(reasoning(text, signature));
        } else {
            if !text.is_empty() {
                blocks.push(ContentBlock::Text { text });
            }
            if signature.is_some() {
                blocks.push(reasoning(String::new(), signature));
            }
        }
        return Ok(());
    }
    if part.inline_data.is_some() || part.file_data.is_some() || part.function_response.is_some() {
        return Err(RequestError::invalid(
            at,
            "a model turn holds text and function calls only",
        ));
    }
    if let Some(signature) = signature {
        blocks.push(reasoning(String::new(), Some(signature)));
    }
    Ok(())
}

fn reasoning(text: String, signature: Option<String>) -> ContentBlock {
    ContentBlock::Reasoning(Reasoning {
        text,
        signature,
        redacted: None,
        format: None,
    })
}

fn user_part(
    part: Part,
    at: &str,
    calls: &mut Calls,
    blocks: &mut Vec<ContentBlock>,
    out: &mut Vec<Message>,
) -> Result<(), RequestError> {
    if let Some(response) = part.function_response {
        let id = match response.id.filter(|id| !id.is_empty()) {
            Some(id) => {
                if let Some(queue) = calls.pending.get_mut(&response.name) {
                    queue.retain(|pending| *pending != id);
                }
                id
            }
            None => calls
                .pending
                .get_mut(&response.name)
                .and_then(VecDeque::pop_front)
                .ok_or_else(|| {
                    RequestError::invalid(
                        format!("{at}.functionResponse.name"),
                        format!(
                            "no earlier functionCall of `{}` is waiting for this response",
                            response.name
                        ),
                    )
                })?,
        };
        let (content, is_error) = result_content(response.response);
        let result = ToolResult {
            tool_call_id: id,
            name: Some(response.name),
            content: ToolResultContent::Text(content),
            is_error,
        };
        out.push(Message {
            role: Role::Tool,
            content: Content::Blocks(vec![ContentBlock::ToolResult(result)]),
            name: None,
        });
        return Ok(());
    }
    if let Some(text) = part.text {
        if part.thought != Some(true) {
            blocks.push(ContentBlock::Text { text });
        }
        return Ok(());
    }
    let (mime, source, field) = match (part.inline_data, part.file_data) {
        (Some(blob), _) => (
            blob.mime_type.clone(),
            ImageSource::Base64 {
                media_type: blob.mime_type,
                data: blob.data,
            },
            "inlineData",
        ),
        (None, Some(file)) => (
            file.mime_type.unwrap_or_else(|| "image/*".into()),
            ImageSource::Url { url: file.file_uri },
            "fileData",
        ),
        (None, None) => {
            if part.function_call.is_some() {
                return Err(RequestError::invalid(
                    format!("{at}.functionCall"),
                    "function calls belong in `model` turns",
                ));
            }
            return Ok(());
        }
    };
    if !mime.starts_with("image/") {
        return Err(RequestError::unsupported(
            format!("{at}.{field}.mimeType"),
            format!("`{mime}` is not supported through Aratta; images (`image/*`) are"),
        ));
    }
    blocks.push(ContentBlock::Image(Image {
        source,
        detail: None,
    }));
    Ok(())
}

/// A function response's content, and whether it reports a failure.
fn result_content(response: Value) -> (String, bool) {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match &response {
        Value::Object(map) if map.len() == 1 => {
            if let Some(output) = map.get("output") {
                return (text(output), false);
            }
            if let Some(error) = map.get("error") {
                return (text(error), true);
            }
            (response.to_string(), false)
        }
        Value::Null => (String::new(), false),
        other => (text(other), false),
    }
}
