//! Anthropic `Message` objects as SCRI chat responses, plus the usage and stop-reason mappings
//! the stream shares.
//!
//! Parsing is lenient where the API grows (unknown fields, new content block types such as
//! server-tool results, citations) and strict where an answer would otherwise be silently
//! wrong: a body without `content`, a `text` block without `text`, a `tool_use` without its
//! `id` or `name` are `schema-mismatch` errors with the JSON path and the raw body.

use aratta_guest::json::parse;
use aratta_guest::{
    AdapterError, ChatResponse, ContentBlock, FinishReason, Reasoning, ToolCall, Usage,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::errors;
use crate::messages::FORMAT;

/// The fields of a `Message` this adapter reads; everything else is tolerated and ignored.
#[derive(Deserialize)]
struct MessageWire {
    id: Option<String>,
    model: Option<String>,
    content: Option<Vec<Box<RawValue>>>,
    stop_reason: Option<String>,
    usage: Option<WireUsage>,
}

/// `usage` of a `Message` or a `message_delta` (every field optional: the delta repeats only
/// what changed, and older models omit the cache fields).
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq)]
pub struct WireUsage {
    /// Uncached input tokens.
    pub input_tokens: Option<u64>,
    /// Output tokens, thinking included.
    pub output_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    pub cache_read_input_tokens: Option<u64>,
    /// `{"thinking_tokens": N}` on models that report it.
    pub output_tokens_details: Option<OutputDetails>,
}

/// `usage.output_tokens_details`.
#[derive(Deserialize, Default, Debug, Clone, Copy, PartialEq)]
pub struct OutputDetails {
    /// Output tokens spent thinking.
    pub thinking_tokens: Option<u64>,
}

impl WireUsage {
    /// `self` updated with the fields `later` reports (a `message_delta`'s cumulative totals),
    /// the way the official SDK accumulates a stream.
    pub fn merged(self, later: &WireUsage) -> WireUsage {
        WireUsage {
            input_tokens: later.input_tokens.or(self.input_tokens),
            output_tokens: later.output_tokens.or(self.output_tokens),
            cache_creation_input_tokens: later
                .cache_creation_input_tokens
                .or(self.cache_creation_input_tokens),
            cache_read_input_tokens: later
                .cache_read_input_tokens
                .or(self.cache_read_input_tokens),
            output_tokens_details: later.output_tokens_details.or(self.output_tokens_details),
        }
    }
}

fn count(n: Option<u64>) -> Option<u32> {
    n.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// SCRI usage. Anthropic's `input_tokens` excludes cached tokens ("total input tokens is the
/// sum of `input_tokens`, `cache_creation_input_tokens` and `cache_read_input_tokens`"), while
/// SCRI's `input-tokens` includes them, so SCRI input is that sum.
pub fn usage(u: &WireUsage) -> Usage {
    let parts = [
        u.input_tokens,
        u.cache_creation_input_tokens,
        u.cache_read_input_tokens,
    ];
    let input = parts
        .iter()
        .any(Option::is_some)
        .then(|| parts.iter().map(|p| p.unwrap_or(0)).sum());
    Usage {
        input_tokens: count(input),
        output_tokens: count(u.output_tokens),
        cache_read_tokens: count(u.cache_read_input_tokens),
        cache_write_tokens: count(u.cache_creation_input_tokens),
        reasoning_tokens: count(u.output_tokens_details.and_then(|d| d.thinking_tokens)),
    }
}

/// A SCRI finish reason from Anthropic's `stop_reason`. `model_context_window_exceeded` is a
/// token limit like `max_tokens`; `pause_turn` (a server tool paused a long turn) and reasons
/// added later keep their raw value. No reason at all is `tool-calls` after tool calls (the
/// only thing a turn can wait on), otherwise `unknown("")`.
pub fn finish_reason(raw: Option<&str>, had_tool_calls: bool) -> FinishReason {
    match raw {
        Some("end_turn") | Some("stop_sequence") => FinishReason::Stop,
        Some("max_tokens") | Some("model_context_window_exceeded") => FinishReason::Length,
        Some("tool_use") => FinishReason::ToolCalls,
        Some("refusal") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Unknown(other.to_string()),
        None if had_tool_calls => FinishReason::ToolCalls,
        None => FinishReason::Unknown(String::new()),
    }
}

/// The id used when Anthropic sends none: derived from the host's request id.
pub fn fallback_id(request_id: &str) -> String {
    match request_id {
        "" => "msg_aratta".to_string(),
        id => format!("msg_aratta_{id}"),
    }
}

/// A complete `Message` body as a SCRI response; `model` and `fallback_id` stand in when the
/// body omits them.
pub fn chat_response(
    body: &[u8],
    model: &str,
    fallback_id: &str,
) -> Result<ChatResponse, AdapterError> {
    if errors::is_error_body(body) {
        return Err(errors::for_event(body, "Anthropic answered with an error"));
    }
    let message: MessageWire = parse(body)?;
    let raw_blocks = message
        .content
        .ok_or_else(|| AdapterError::missing_field("content", body))?;
    let mut content = Vec::with_capacity(raw_blocks.len());
    for (i, raw) in raw_blocks.iter().enumerate() {
        if let Some(block) = content_block(raw, &format!("content[{i}]"), body)? {
            content.push(block);
        }
    }
    let had_tool_calls = content
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolUse(_)));
    Ok(ChatResponse {
        id: message
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| fallback_id.to_string()),
        model: message
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| model.to_string()),
        content,
        finish_reason: finish_reason(message.stop_reason.as_deref(), had_tool_calls),
        usage: message.usage.as_ref().map(usage),
    })
}

#[derive(Deserialize)]
struct Typed {
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The fields of every block type this adapter maps, all optional so that a missing one is
/// reported with its exact path (`content[1].id`) rather than the block's.
#[derive(Deserialize)]
struct BlockWire {
    text: Option<String>,
    thinking: Option<String>,
    signature: Option<String>,
    data: Option<String>,
    id: Option<String>,
    name: Option<String>,
    input: Option<Box<RawValue>>,
}

fn required(
    value: Option<String>,
    path: &str,
    field: &str,
    body: &[u8],
) -> Result<String, AdapterError> {
    value.ok_or_else(|| AdapterError::missing_field(&format!("{path}.{field}"), body))
}

/// Parse `raw` (found at `path` in `body`) as `T`, reporting a failure at its full path.
pub fn parse_at<T: DeserializeOwned>(
    raw: &RawValue,
    path: &str,
    body: &[u8],
) -> Result<T, AdapterError> {
    parse::<T>(raw.get().as_bytes()).map_err(|error| match error {
        AdapterError::SchemaMismatch(mut m) => {
            m.path = match m.path.as_str() {
                "" => path.to_string(),
                inner => format!("{path}.{inner}"),
            };
            m.detail.body = Some(aratta_guest::error::truncate_body(body));
            AdapterError::SchemaMismatch(m)
        }
        other => other,
    })
}

/// One response content block as SCRI, `None` for block types SCRI has no form for (server
/// tool use and results, container uploads, blocks added later).
pub fn content_block(
    raw: &RawValue,
    path: &str,
    body: &[u8],
) -> Result<Option<ContentBlock>, AdapterError> {
    let typed: Typed = parse_at(raw, path, body)?;
    let kind = typed.kind.unwrap_or_default();
    if !matches!(
        kind.as_str(),
        "text" | "thinking" | "redacted_thinking" | "tool_use"
    ) {
        return Ok(None);
    }
    let block: BlockWire = parse_at(raw, path, body)?;
    Ok(Some(match kind.as_str() {
        "text" => ContentBlock::Text(required(block.text, path, "text", body)?),
        "thinking" => ContentBlock::Reasoning(Reasoning {
            text: required(block.thinking, path, "thinking", body)?,
            signature: block.signature,
            redacted: None,
            format: Some(FORMAT.to_string()),
        }),
        "redacted_thinking" => ContentBlock::Reasoning(Reasoning {
            text: String::new(),
            signature: None,
            redacted: Some(required(block.data, path, "data", body)?),
            format: Some(FORMAT.to_string()),
        }),
        _ => ContentBlock::ToolUse(ToolCall {
            id: required(block.id, path, "id", body)?,
            name: required(block.name, path, "name", body)?,
            arguments: arguments_text(block.input.as_deref()),
            signature: None,
        }),
    }))
}

/// A tool call's `input` as SCRI arguments text, exactly as Anthropic wrote it; absent or
/// `null` input is `{}`.
pub fn arguments_text(input: Option<&RawValue>) -> String {
    match input.map(RawValue::get) {
        None | Some("null") => "{}".to_string(),
        Some(text) => text.to_string(),
    }
}
