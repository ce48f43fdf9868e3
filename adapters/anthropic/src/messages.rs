//! A SCRI conversation as Anthropic's top-level `system` plus `messages`.
//!
//! Anthropic has no system role: system and developer messages, wherever they stand, are
//! hoisted into `system` in order. Tool results travel in `user` turns, and all results for
//! one assistant turn must arrive in the single user turn that follows it, ahead of any text,
//! so consecutive tool-result messages (and user text right after them) are merged into one
//! user message with the results first. Reasoning goes back as `thinking` / `redacted_thinking`
//! blocks only when Anthropic signed it; anything else could not be verified and is dropped.

use aratta_guest::{
    AdapterError, ContentBlock, Image, ImageSource, Message, MessageContent, Reasoning, Role,
    ToolCall, ToolResult, ToolResultPart,
};
use serde::Serialize;
use serde_json::value::RawValue;

/// The `format` SCRI gives reasoning that Anthropic produced (see `response.rs`).
pub const FORMAT: &str = "anthropic";

/// One Anthropic input message.
#[derive(Serialize, Debug)]
pub struct WireMessage {
    /// `user` or `assistant`.
    pub role: &'static str,
    /// A string, or content blocks.
    pub content: ContentOut,
}

/// Message content: the string shorthand or a list of blocks.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum ContentOut {
    /// `"content": "..."`, what plain SCRI text becomes.
    Text(String),
    /// `"content": [{...}, ...]`.
    Blocks(Vec<BlockOut>),
}

/// The top-level `system`: a string, or text blocks when there were several system messages.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum System {
    /// One system text.
    Text(String),
    /// Several, in order (only `text` blocks).
    Blocks(Vec<BlockOut>),
}

/// An input content block.
#[derive(Serialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockOut {
    /// `{"type":"text","text":...}`
    Text { text: String },
    /// `{"type":"image","source":{...}}`
    Image { source: ImageSourceOut },
    /// `{"type":"tool_use","id","name","input":{...}}`; `input` is the SCRI arguments text.
    ToolUse {
        id: String,
        name: String,
        input: Box<RawValue>,
    },
    /// `{"type":"tool_result","tool_use_id",...}`
    ToolResult {
        tool_use_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<ToolResultContent>,
        #[serde(skip_serializing_if = "is_false")]
        is_error: bool,
    },
    /// `{"type":"thinking","thinking","signature"}`, sent back exactly as received.
    Thinking { thinking: String, signature: String },
    /// `{"type":"redacted_thinking","data"}`
    RedactedThinking { data: String },
}

fn is_false(b: &bool) -> bool {
    !b
}

/// A tool result's content: a string for one text part, blocks otherwise.
#[derive(Serialize, Debug)]
#[serde(untagged)]
pub enum ToolResultContent {
    /// One text part.
    Text(String),
    /// Text and image blocks.
    Blocks(Vec<BlockOut>),
}

/// An image source: inline base64 or a URL Anthropic fetches.
#[derive(Serialize, Debug)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSourceOut {
    /// `{"type":"base64","media_type","data"}`
    Base64 { media_type: String, data: String },
    /// `{"type":"url","url"}`
    Url { url: String },
}

/// The converted conversation.
#[derive(Debug)]
pub struct Conversation {
    /// The hoisted system and developer messages.
    pub system: Option<System>,
    /// The user and assistant turns.
    pub messages: Vec<WireMessage>,
}

#[derive(Serialize)]
struct NativeConversation<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a System>,
    messages: &'a [WireMessage],
}

/// The conversation as Anthropic's native JSON: `{"system": ..., "messages": [...]}`, the two
/// request fields a conversation occupies (`system` absent when there is none).
pub fn conversation_json(messages: &[Message]) -> Result<String, AdapterError> {
    let c = conversation(messages)?;
    serde_json::to_string(&NativeConversation {
        system: c.system.as_ref(),
        messages: &c.messages,
    })
    .map_err(|e| AdapterError::other(e.to_string()))
}

/// SCRI messages as Anthropic's `system` and `messages`.
pub fn conversation(messages: &[Message]) -> Result<Conversation, AdapterError> {
    let mut system = Vec::new();
    let mut out: Vec<WireMessage> = Vec::with_capacity(messages.len());
    for (i, message) in messages.iter().enumerate() {
        match message.role {
            Role::System | Role::Developer => system.extend(system_texts(i, message)?),
            Role::User | Role::Tool => {
                if let Some(content) = user_content(i, message)? {
                    push_user(&mut out, content);
                }
            }
            Role::Assistant => {
                if let Some(content) = assistant_content(i, message)? {
                    out.push(WireMessage {
                        role: "assistant",
                        content,
                    });
                }
            }
        }
    }
    let system = match system.len() {
        0 => None,
        1 => system.pop().map(System::Text),
        _ => Some(System::Blocks(
            system
                .into_iter()
                .map(|text| BlockOut::Text { text })
                .collect(),
        )),
    };
    Ok(Conversation {
        system,
        messages: out,
    })
}

fn system_texts(i: usize, message: &Message) -> Result<Vec<String>, AdapterError> {
    match &message.content {
        MessageContent::Text(text) => Ok(vec![text.clone()]),
        MessageContent::Blocks(blocks) => blocks
            .iter()
            .map(|block| match block {
                ContentBlock::Text(text) => Ok(text.clone()),
                _ => Err(AdapterError::invalid_request(format!(
                    "messages[{i}]: Anthropic's system prompt takes only text blocks"
                ))),
            })
            .collect(),
    }
}

/// Append a user turn, merging it into the previous user turn when either carries tool
/// results: Anthropic wants every result for an assistant turn in the one user turn after it.
fn push_user(out: &mut Vec<WireMessage>, content: ContentOut) {
    if let Some(last) = out.last_mut()
        && last.role == "user"
        && (has_tool_result(&last.content) || has_tool_result(&content))
    {
        let mut blocks = into_blocks(std::mem::replace(
            &mut last.content,
            ContentOut::Blocks(Vec::new()),
        ));
        blocks.extend(into_blocks(content));
        last.content = ContentOut::Blocks(results_first(blocks));
        return;
    }
    out.push(WireMessage {
        role: "user",
        content,
    });
}

fn has_tool_result(content: &ContentOut) -> bool {
    matches!(content, ContentOut::Blocks(blocks)
        if blocks.iter().any(|b| matches!(b, BlockOut::ToolResult { .. })))
}

fn into_blocks(content: ContentOut) -> Vec<BlockOut> {
    match content {
        ContentOut::Text(text) => vec![BlockOut::Text { text }],
        ContentOut::Blocks(blocks) => blocks,
    }
}

/// Tool results ahead of everything else, each group in its original order.
fn results_first(blocks: Vec<BlockOut>) -> Vec<BlockOut> {
    let (mut results, rest): (Vec<_>, Vec<_>) = blocks
        .into_iter()
        .partition(|b| matches!(b, BlockOut::ToolResult { .. }));
    results.extend(rest);
    results
}

fn user_content(i: usize, message: &Message) -> Result<Option<ContentOut>, AdapterError> {
    let blocks = match &message.content {
        MessageContent::Text(text) if message.role == Role::Tool => {
            return Err(AdapterError::invalid_request(format!(
                "messages[{i}]: a tool message needs tool-result blocks (to name the call it \
                 answers), got text {:?}",
                text.chars().take(40).collect::<String>()
            )));
        }
        MessageContent::Text(text) => return Ok(Some(ContentOut::Text(text.clone()))),
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        match block {
            ContentBlock::Text(text) if text.is_empty() => {}
            ContentBlock::Text(text) => out.push(BlockOut::Text { text: text.clone() }),
            ContentBlock::Image(image) => out.push(image_block(i, image)?),
            ContentBlock::ToolResult(result) => out.push(tool_result(i, result)?),
            ContentBlock::ToolUse(_) => {
                return Err(AdapterError::invalid_request(format!(
                    "messages[{i}]: only assistant messages can carry tool-use blocks"
                )));
            }
            // The user never reasons; nothing Anthropic could verify.
            ContentBlock::Reasoning(_) => {}
        }
    }
    Ok((!out.is_empty()).then(|| ContentOut::Blocks(results_first(out))))
}

fn assistant_content(i: usize, message: &Message) -> Result<Option<ContentOut>, AdapterError> {
    let blocks = match &message.content {
        MessageContent::Text(text) if text.is_empty() => return Ok(None),
        MessageContent::Text(text) => return Ok(Some(ContentOut::Text(text.clone()))),
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut out = Vec::with_capacity(blocks.len());
    for block in blocks {
        match block {
            // Anthropic rejects empty text blocks; OpenAI clients send `content: ""` beside
            // tool calls.
            ContentBlock::Text(text) if text.is_empty() => {}
            ContentBlock::Text(text) => out.push(BlockOut::Text { text: text.clone() }),
            ContentBlock::Image(image) => out.push(image_block(i, image)?),
            ContentBlock::ToolUse(call) => out.push(tool_use(i, call)?),
            ContentBlock::Reasoning(reasoning) => out.extend(thinking_block(reasoning)),
            ContentBlock::ToolResult(_) => {
                return Err(AdapterError::invalid_request(format!(
                    "messages[{i}]: tool results belong in tool or user messages, not assistant ones"
                )));
            }
        }
    }
    Ok((!out.is_empty()).then_some(ContentOut::Blocks(out)))
}

/// A reasoning block Anthropic can verify, or nothing: redacted data goes back as
/// `redacted_thinking`, signed text as `thinking`; unsigned reasoning and reasoning another
/// provider signed would be rejected (or silently ignored), so it is not sent.
pub fn thinking_block(reasoning: &Reasoning) -> Option<BlockOut> {
    if !matches!(reasoning.format.as_deref(), None | Some(FORMAT)) {
        return None;
    }
    if let Some(data) = &reasoning.redacted {
        return Some(BlockOut::RedactedThinking { data: data.clone() });
    }
    let signature = reasoning.signature.as_ref()?;
    Some(BlockOut::Thinking {
        thinking: reasoning.text.clone(),
        signature: signature.clone(),
    })
}

fn tool_use(i: usize, call: &ToolCall) -> Result<BlockOut, AdapterError> {
    let text = match call.arguments.trim() {
        "" => "{}".to_string(),
        _ => call.arguments.clone(),
    };
    let input = RawValue::from_string(text).map_err(|e| {
        AdapterError::invalid_request(format!(
            "messages[{i}]: tool call `{}` has arguments that are not JSON: {e}",
            call.id
        ))
    })?;
    if !input.get().trim_start().starts_with('{') {
        return Err(AdapterError::invalid_request(format!(
            "messages[{i}]: tool call `{}` has arguments that are not a JSON object; Anthropic's \
             `input` must be one",
            call.id
        )));
    }
    Ok(BlockOut::ToolUse {
        id: call.id.clone(),
        name: call.name.clone(),
        input,
    })
}

fn tool_result(i: usize, result: &ToolResult) -> Result<BlockOut, AdapterError> {
    let content = match result.content.as_slice() {
        [] => None,
        [ToolResultPart::Text(text)] => Some(ToolResultContent::Text(text.clone())),
        parts => Some(ToolResultContent::Blocks(
            parts
                .iter()
                .map(|part| match part {
                    ToolResultPart::Text(text) => Ok(BlockOut::Text { text: text.clone() }),
                    ToolResultPart::Image(image) => image_block(i, image),
                })
                .collect::<Result<_, _>>()?,
        )),
    };
    Ok(BlockOut::ToolResult {
        tool_use_id: result.tool_call_id.clone(),
        content,
        is_error: result.is_error,
    })
}

/// An image block. `data:` URLs become base64 sources: Anthropic's `url` source fetches over
/// HTTP(S) only. The `detail` hint has no Anthropic equivalent and is dropped.
fn image_block(i: usize, image: &Image) -> Result<BlockOut, AdapterError> {
    let source = match &image.source {
        ImageSource::Base64(b) => ImageSourceOut::Base64 {
            media_type: b.media_type.clone(),
            data: b.data.clone(),
        },
        ImageSource::Url(url) if url.starts_with("data:") => {
            let (media_type, data) = url
                .strip_prefix("data:")
                .and_then(|rest| rest.split_once(','))
                .and_then(|(meta, data)| Some((meta.strip_suffix(";base64")?, data)))
                .ok_or_else(|| {
                    AdapterError::invalid_request(format!(
                        "messages[{i}]: an image `data:` URL must be `data:<media type>;base64,<data>`"
                    ))
                })?;
            ImageSourceOut::Base64 {
                media_type: media_type.to_string(),
                data: data.to_string(),
            }
        }
        ImageSource::Url(url) => ImageSourceOut::Url { url: url.clone() },
    };
    Ok(BlockOut::Image { source })
}
