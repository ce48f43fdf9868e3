//! A SCRI `ChatResponse` → an Anthropic `Message`.
//!
//! | SCRI                                   | Anthropic                                        |
//! |----------------------------------------|--------------------------------------------------|
//! | `text`                                 | `text` block                                     |
//! | `tool_use` {id, name, arguments}       | `tool_use` {id, name, input}                     |
//! | `reasoning` {text, signature}          | `thinking` {thinking, signature}                 |
//! | `reasoning` {redacted}                 | `redacted_thinking` {data}                       |
//! | finish `stop` / `length` / `tool_calls` / `content_filter` | `end_turn` / `max_tokens` / `tool_use` / `refusal` |
//! | finish `unknown` with an Anthropic raw reason (`pause_turn`, `stop_sequence`, ...) | that reason |
//! | usage input (cached included), output  | `input_tokens` (uncached only), `output_tokens`  |
//! | usage cache_read / cache_write         | `cache_read_input_tokens` / `cache_creation_input_tokens` |
//!
//! Anthropic's `input_tokens` excludes cache reads and writes (its total input is the sum of
//! the three), while SCRI's includes them, so they are subtracted.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::scri::{ChatResponse, ContentBlock, FinishReason, Reasoning, Usage};

/// The answer as Anthropic's `Message` object.
pub fn message(resp: &ChatResponse) -> Value {
    serde_json::to_value(message_body(resp)).expect("a message always serializes")
}

/// [`message`] as a value that serializes straight from the answer's borrowed fields: what
/// the route writes, without building a `Value` tree first.
pub fn message_body(resp: &ChatResponse) -> MessageBody<'_> {
    let model = if resp.model.is_empty() {
        &resp.lineage.model
    } else {
        &resp.model
    };
    MessageBody {
        id: message_id(&resp.id),
        kind: "message",
        role: "assistant",
        model,
        content: resp.content.iter().filter_map(block).collect(),
        stop_reason: stop_reason(&resp.finish_reason, resp.finish_reason_raw.as_deref()),
        stop_sequence: None,
        usage: usage_counts(resp.usage.as_ref()),
    }
}

/// Anthropic's `Message`, fields in Anthropic's order.
#[derive(Debug, Serialize)]
pub struct MessageBody<'a> {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    role: &'static str,
    model: &'a str,
    content: Vec<Block<'a>>,
    stop_reason: &'static str,
    stop_sequence: Option<()>,
    usage: UsageCounts,
}

/// A content block; the tag comes first, as Anthropic writes it.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block<'a> {
    Text {
        text: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: Cow<'a, Value>,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    RedactedThinking {
        data: &'a str,
    },
}

/// A message id in Anthropic's `msg_` form (the provider's own id when it has that form).
pub(crate) fn message_id(id: &str) -> String {
    if id.starts_with("msg_") {
        id.to_owned()
    } else {
        format!("msg_{id}")
    }
}

fn block(b: &ContentBlock) -> Option<Block<'_>> {
    Some(match b {
        ContentBlock::Text { text } => Block::Text { text },
        ContentBlock::ToolUse(call) => Block::ToolUse {
            id: &call.id,
            name: &call.name,
            input: tool_input(&call.arguments),
        },
        ContentBlock::Reasoning(r) => reasoning(r),
        // Answers carry no images or tool results in SCRI's providers; nothing to show.
        ContentBlock::Image(_) | ContentBlock::ToolResult(_) => return None,
    })
}

/// Anthropic's `input` is always an object; arguments a model produced as invalid JSON are
/// kept as SCRI keeps them (a string), under `_raw`, so nothing is silently lost.
fn tool_input(arguments: &Value) -> Cow<'_, Value> {
    match arguments {
        Value::Object(_) => Cow::Borrowed(arguments),
        Value::Null => Cow::Owned(Value::Object(Map::new())),
        other => Cow::Owned(json!({"_raw": other})),
    }
}

fn reasoning(r: &Reasoning) -> Block<'_> {
    match &r.redacted {
        Some(data) => Block::RedactedThinking { data },
        None => Block::Thinking {
            thinking: &r.text,
            signature: r.signature.as_deref().unwrap_or(""),
        },
    }
}

/// Anthropic's `stop_reason` for a SCRI finish reason.
pub fn stop_reason(reason: &FinishReason, raw: Option<&str>) -> &'static str {
    const ANTHROPIC: [&str; 7] = [
        "end_turn",
        "max_tokens",
        "stop_sequence",
        "tool_use",
        "pause_turn",
        "refusal",
        "model_context_window_exceeded",
    ];
    match reason {
        FinishReason::Stop => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "refusal",
        FinishReason::Unknown => raw
            .and_then(|raw| ANTHROPIC.iter().find(|r| **r == raw).copied())
            .unwrap_or("end_turn"),
    }
}

/// Anthropic's `usage` object; unknown counts are 0 (the SDK requires both token counts).
pub(crate) fn usage(usage: Option<&Usage>) -> Value {
    serde_json::to_value(usage_counts(usage)).expect("usage always serializes")
}

fn usage_counts(usage: Option<&Usage>) -> UsageCounts {
    let u = usage.cloned().unwrap_or_default();
    let read = u.cache_read_tokens.unwrap_or(0);
    let write = u.cache_write_tokens.unwrap_or(0);
    UsageCounts {
        input_tokens: u.input_tokens.unwrap_or(0).saturating_sub(read + write),
        output_tokens: u.output_tokens.unwrap_or(0),
        cache_creation_input_tokens: u.cache_write_tokens,
        cache_read_input_tokens: u.cache_read_tokens,
    }
}

/// Anthropic's `usage`; an unknown cache count is `null`.
#[derive(Debug, Serialize)]
struct UsageCounts {
    input_tokens: u32,
    output_tokens: u32,
    cache_creation_input_tokens: Option<u32>,
    cache_read_input_tokens: Option<u32>,
}
