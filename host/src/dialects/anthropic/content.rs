//! Anthropic content blocks → SCRI messages. A user turn's `tool_result` blocks become SCRI
//! `tool` messages (one per result, in order, before the rest of the turn), since SCRI
//! carries tool results in `tool` messages; everything else keeps its place.
//!
//! | Anthropic block                                  | SCRI                                  |
//! |--------------------------------------------------|---------------------------------------|
//! | `text`                                           | `text`                                |
//! | `image` (`base64` or `url` source)               | `image`                               |
//! | `tool_use` {id, name, input}                     | `tool_use`                            |
//! | `tool_result` {tool_use_id, content, is_error}   | `tool_result` (name from the call)    |
//! | `thinking` {thinking, signature}                 | `reasoning` {text, signature}         |
//! | `redacted_thinking` {data}                       | `reasoning` {redacted: data}          |

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use crate::dialects::RequestError;
use crate::dialects::json::parse_at;
use crate::scri::{
    Content, ContentBlock, Image, ImageSource, Message, Reasoning, Role, ToolCall, ToolResult,
    ToolResultContent, ToolResultPart,
};

/// One input block, as the SDK's `ContentBlockParam` union (the types SCRI can carry).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        text: String,
    },
    Image {
        source: Source,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Option<Value>,
        #[serde(default)]
        is_error: bool,
    },
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        data: String,
    },
}

/// An image source; `file` sources (the Files API) have no SCRI equivalent.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Source {
    Base64 { media_type: String, data: String },
    Url { url: String },
}

/// A tool result's inner block: text or an image.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ResultBlock {
    Text { text: String },
    Image { source: Source },
}

fn image(source: Source) -> Image {
    let source = match source {
        Source::Base64 { media_type, data } => ImageSource::Base64 { media_type, data },
        Source::Url { url } => ImageSource::Url { url },
    };
    Image {
        source,
        detail: None,
    }
}

/// Call ids seen so far, with their tool names (a tool result names its tool in SCRI).
#[derive(Debug, Default)]
pub(crate) struct Calls(HashMap<String, String>);

/// Append the SCRI messages for Anthropic message `i` (`role`, `content`) to `out`.
pub(crate) fn convert_message(
    i: usize,
    role: &str,
    content: &Value,
    calls: &mut Calls,
    out: &mut Vec<Message>,
) -> Result<(), RequestError> {
    let role = match role {
        "user" => Role::User,
        "assistant" => Role::Assistant,
        other => {
            return Err(RequestError::Invalid {
                param: format!("messages[{i}].role"),
                reason: format!(
                    "must be `user` or `assistant`, got `{other}` (put instructions in the top-level `system`)"
                ),
            });
        }
    };
    let path = format!("messages[{i}].content");
    let blocks = match content {
        Value::String(text) => {
            out.push(message(role, Content::Text(text.clone())));
            return Ok(());
        }
        Value::Array(items) => items,
        _ => {
            return Err(RequestError::Invalid {
                param: path,
                reason: "expected a string or an array of content blocks".into(),
            });
        }
    };
    let mut kept = Vec::new();
    for (j, item) in blocks.iter().enumerate() {
        let at = format!("{path}[{j}]");
        let block: Block = parse_at(item, &at)?;
        match (role, block) {
            (_, Block::Text { text }) => kept.push(ContentBlock::Text { text }),
            (Role::User, Block::Image { source }) => kept.push(ContentBlock::Image(image(source))),
            (
                Role::User,
                Block::ToolResult {
                    tool_use_id,
                    content,
                    is_error,
                },
            ) => {
                let result = ToolResult {
                    name: calls.0.get(&tool_use_id).cloned(),
                    tool_call_id: tool_use_id,
                    content: result_content(content.as_ref(), &format!("{at}.content"))?,
                    is_error,
                };
                let block = ContentBlock::ToolResult(result);
                out.push(message(Role::Tool, Content::Blocks(vec![block])));
            }
            (Role::Assistant, Block::ToolUse { id, name, input }) => {
                calls.0.insert(id.clone(), name.clone());
                kept.push(ContentBlock::ToolUse(ToolCall {
                    id,
                    name,
                    arguments: input,
                    signature: None,
                }));
            }
            (
                Role::Assistant,
                Block::Thinking {
                    thinking,
                    signature,
                },
            ) => {
                kept.push(ContentBlock::Reasoning(Reasoning {
                    text: thinking,
                    signature: signature.filter(|s| !s.is_empty()),
                    redacted: None,
                    format: None,
                }));
            }
            (Role::Assistant, Block::RedactedThinking { data }) => {
                kept.push(ContentBlock::Reasoning(Reasoning {
                    redacted: Some(data),
                    ..Reasoning::default()
                }));
            }
            (_, other) => {
                return Err(RequestError::Invalid {
                    param: format!("{at}.type"),
                    reason: format!(
                        "a `{}` block cannot appear in a {} message",
                        kind(&other),
                        role_name(role)
                    ),
                });
            }
        }
    }
    if !kept.is_empty() || blocks.is_empty() {
        out.push(message(role, Content::Blocks(kept)));
    }
    Ok(())
}

fn message(role: Role, content: Content) -> Message {
    Message {
        role,
        content,
        name: None,
    }
}

fn kind(block: &Block) -> &'static str {
    match block {
        Block::Text { .. } => "text",
        Block::Image { .. } => "image",
        Block::ToolUse { .. } => "tool_use",
        Block::ToolResult { .. } => "tool_result",
        Block::Thinking { .. } => "thinking",
        Block::RedactedThinking { .. } => "redacted_thinking",
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Assistant => "an assistant",
        _ => "a user",
    }
}

fn result_content(content: Option<&Value>, path: &str) -> Result<ToolResultContent, RequestError> {
    match content {
        None => Ok(ToolResultContent::Text(String::new())),
        Some(Value::String(text)) => Ok(ToolResultContent::Text(text.clone())),
        Some(Value::Array(items)) => {
            let mut parts = Vec::with_capacity(items.len());
            for (k, item) in items.iter().enumerate() {
                parts.push(match parse_at(item, &format!("{path}[{k}]"))? {
                    ResultBlock::Text { text } => ToolResultPart::Text { text },
                    ResultBlock::Image { source } => ToolResultPart::Image(image(source)),
                });
            }
            Ok(ToolResultContent::Parts(parts))
        }
        Some(_) => Err(RequestError::Invalid {
            param: path.to_owned(),
            reason: "expected a string or an array of text and image blocks".into(),
        }),
    }
}

/// The top-level `system`: a string, or text blocks (each its own SCRI text block).
pub(crate) fn system(value: &Value) -> Result<Option<Message>, RequestError> {
    match value {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(message(Role::System, Content::Text(text.clone())))),
        Value::Array(items) => {
            let mut blocks = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match parse_at(item, &format!("system[{i}]"))? {
                    ResultBlock::Text { text } => blocks.push(ContentBlock::Text { text }),
                    ResultBlock::Image { .. } => {
                        return Err(RequestError::Invalid {
                            param: format!("system[{i}].type"),
                            reason: "system blocks must be `text`".into(),
                        });
                    }
                }
            }
            Ok(Some(message(Role::System, Content::Blocks(blocks))))
        }
        _ => Err(RequestError::Invalid {
            param: "system".into(),
            reason: "expected a string or an array of text blocks".into(),
        }),
    }
}
