//! OpenAI `messages` → SCRI messages, one role at a time. Assistant turns become blocks in
//! SCRI's order (reasoning, text, tool calls) so signed reasoning precedes what it produced;
//! `tool` messages become `tool_result` blocks; the legacy `function` role is refused.

use serde_json::Value;

use super::content::{self, Parts};
use super::reasoning;
use crate::dialects::RequestError;
use crate::dialects::json::{Obj, type_error};
use crate::scri::{
    Content, ContentBlock, Message, Role, ToolCall, ToolResult, ToolResultContent, ToolResultPart,
};

/// The request's `messages`: required, an array, not empty.
pub(crate) fn messages(root: &Obj) -> Result<Vec<Message>, RequestError> {
    let items = root
        .array("messages")?
        .ok_or_else(|| RequestError::Missing {
            param: "messages".into(),
        })?;
    if items.is_empty() {
        return Err(RequestError::Invalid {
            param: "messages".into(),
            reason: "must contain at least one message".into(),
        });
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| message(&Obj::new(item, format!("messages[{i}]"))?))
        .collect()
}

fn message(msg: &Obj) -> Result<Message, RequestError> {
    let name = msg.str("name")?.map(str::to_owned);
    let (role, parts) = match msg.req_str("role")? {
        "system" => (Role::System, Parts::Text),
        "developer" => (Role::Developer, Parts::Text),
        "user" => (Role::User, Parts::TextAndImages),
        "assistant" => return assistant(msg, name),
        "tool" => return tool(msg),
        "function" => {
            return Err(RequestError::Unsupported {
                param: msg.field("role"),
                reason: "the legacy `function` role is not supported; send tool results as \
                         `tool` messages with a `tool_call_id`"
                    .into(),
            });
        }
        other => {
            return Err(RequestError::Invalid {
                param: msg.field("role"),
                reason: format!(
                    "unknown role `{other}`; expected system, developer, user, assistant or tool"
                ),
            });
        }
    };
    let content = content::content(msg.require("content")?, &msg.field("content"), parts)?;
    Ok(Message {
        role,
        content,
        name,
    })
}

fn assistant(msg: &Obj, name: Option<String>) -> Result<Message, RequestError> {
    for legacy in ["function_call", "audio"] {
        if msg.get(legacy).is_some() {
            let reason = if legacy == "audio" {
                "references to earlier audio answers are not supported".to_owned()
            } else {
                "the deprecated `function_call` is not supported; send `tool_calls`".to_owned()
            };
            return Err(RequestError::Unsupported {
                param: msg.field(legacy),
                reason,
            });
        }
    }
    let mut calls = Vec::new();
    if let Some(items) = msg.array("tool_calls")? {
        let path = msg.field("tool_calls");
        for (i, item) in items.iter().enumerate() {
            calls.push(tool_call(&Obj::new(item, format!("{path}[{i}]"))?)?);
        }
    }
    let ids: Vec<&str> = calls.iter().map(|c| c.id.as_str()).collect();
    let recovered = reasoning::from_message(msg, &ids)?;
    for (id, signature) in recovered.call_signatures {
        if let Some(call) = calls.iter_mut().find(|c| c.id == id) {
            call.signature = Some(signature);
        }
    }

    let mut text = match msg.get("content") {
        None => Vec::new(),
        Some(Value::String(s)) if s.is_empty() => Vec::new(),
        Some(value) => {
            match content::content(value, &msg.field("content"), Parts::TextAndRefusals)? {
                Content::Text(s) if recovered.blocks.is_empty() && calls.is_empty() => {
                    return Ok(Message {
                        role: Role::Assistant,
                        content: Content::Text(s),
                        name,
                    });
                }
                Content::Text(s) => vec![ContentBlock::Text { text: s }],
                Content::Blocks(blocks) => blocks,
            }
        }
    };
    if text.is_empty()
        && let Some(refusal) = msg.str("refusal")?
    {
        text.push(ContentBlock::Text {
            text: refusal.to_owned(),
        });
    }

    let blocks: Vec<ContentBlock> = recovered
        .blocks
        .into_iter()
        .map(ContentBlock::Reasoning)
        .chain(text)
        .chain(calls.into_iter().map(ContentBlock::ToolUse))
        .collect();
    let content = if blocks.is_empty() {
        Content::Text(String::new())
    } else {
        Content::Blocks(blocks)
    };
    Ok(Message {
        role: Role::Assistant,
        content,
        name,
    })
}

/// One of an assistant's `tool_calls`. `arguments` is JSON text; it becomes a JSON value, or
/// stays the string it was when the model produced invalid JSON.
fn tool_call(call: &Obj) -> Result<ToolCall, RequestError> {
    match call.str("type")?.unwrap_or("function") {
        "function" => {}
        other => {
            return Err(RequestError::Unsupported {
                param: call.field("type"),
                reason: format!("`{other}` tool calls are not supported; only `function` is"),
            });
        }
    }
    let id = call.req_str("id")?.to_owned();
    let function = call.obj("function")?.ok_or_else(|| RequestError::Missing {
        param: call.field("function"),
    })?;
    let name = function.req_str("name")?.to_owned();
    let arguments = match function.require("arguments")? {
        Value::String(text) => {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone()))
        }
        object @ Value::Object(_) => object.clone(),
        other => {
            return Err(type_error(
                &function.field("arguments"),
                "a JSON string",
                other,
            ));
        }
    };
    // Google's OpenAI-compatible API carries Gemini's thought signature on the call itself.
    let signature = reasoning::call_signature_from_extra(call);
    Ok(ToolCall {
        id,
        name,
        arguments,
        signature,
    })
}

fn tool(msg: &Obj) -> Result<Message, RequestError> {
    let tool_call_id = msg.req_str("tool_call_id")?.to_owned();
    let path = msg.field("content");
    let content = match content::content(msg.require("content")?, &path, Parts::TextAndImages)? {
        Content::Text(text) => ToolResultContent::Text(text),
        Content::Blocks(blocks) => ToolResultContent::Parts(
            blocks
                .into_iter()
                .filter_map(|block| match block {
                    ContentBlock::Text { text } => Some(ToolResultPart::Text { text }),
                    ContentBlock::Image(image) => Some(ToolResultPart::Image(image)),
                    _ => None,
                })
                .collect(),
        ),
    };
    Ok(Message {
        role: Role::Tool,
        content: Content::Blocks(vec![ContentBlock::ToolResult(ToolResult {
            tool_call_id,
            name: msg.str("name")?.map(str::to_owned),
            content,
            is_error: false,
        })]),
        name: None,
    })
}
