//! Responses API answers as SCRI: `output` items become content blocks, `status` and
//! `incomplete_details` the finish reason, `usage` the token counts, and the cited sources
//! (xAI's `citations`, `url_citation` annotations) a final sources block.
//!
//! Item types SCRI has no place for (a server-side `web_search_call`, `x_search_call`, …) are
//! skipped: the provider ran them and their results are in the answer. New item and event
//! types are tolerated; a missing `output`, a function call without a name, or a `failed`
//! response are errors.

use serde::Deserialize;
use serde_json::Value;

use super::ResponsesDialect;
use crate::response::arguments_text;
use crate::sources::Sources;
use aratta_guest::Fallbacks;
use aratta_guest::json::parse;
use aratta_guest::{
    AdapterError, ChatResponse, ContentBlock, FinishReason, Reasoning, ToolCall, Usage,
};

/// A `response` object (also inside `response.created` / `response.completed` events).
#[derive(Debug, Default, Deserialize)]
pub struct ResponseObject {
    /// The response id.
    #[serde(default)]
    pub id: Option<String>,
    /// The model that answered.
    #[serde(default)]
    pub model: Option<String>,
    /// The output items; `None` when the field is missing.
    #[serde(default)]
    pub output: Option<Vec<Item>>,
    /// `completed`, `incomplete`, `failed`, `in_progress`, `cancelled`, `queued`.
    #[serde(default)]
    pub status: Option<String>,
    /// Why an `incomplete` response stopped.
    #[serde(default)]
    pub incomplete_details: Option<Value>,
    /// What went wrong in a `failed` response.
    #[serde(default)]
    pub error: Option<Value>,
    /// Token accounting.
    #[serde(default)]
    pub usage: Option<ResponseUsage>,
    /// xAI: every source URL the search tools encountered.
    #[serde(default)]
    pub citations: Option<Value>,
}

/// One output item; which fields are set depends on `type`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Item {
    /// `message`, `function_call`, `reasoning`, `web_search_call`, …
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The item id (`msg_…`, `fc_…`, `rs_…`).
    #[serde(default)]
    pub id: Option<String>,
    /// A function call's id, which its output must name.
    #[serde(default)]
    pub call_id: Option<String>,
    /// A function call's tool name.
    #[serde(default)]
    pub name: Option<String>,
    /// A function call's arguments (JSON text).
    #[serde(default)]
    pub arguments: Option<Value>,
    /// A message's parts, or a reasoning item's full text parts.
    #[serde(default)]
    pub content: Option<Vec<Part>>,
    /// A reasoning item's summary parts.
    #[serde(default)]
    pub summary: Option<Vec<Part>>,
    /// A reasoning item's encrypted reasoning.
    #[serde(default)]
    pub encrypted_content: Option<String>,
}

/// A content part: `output_text`, `refusal`, `summary_text`, `reasoning_text`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Part {
    /// The part type.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// A refusal's text.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Citations attached to the text.
    #[serde(default)]
    pub annotations: Option<Vec<Value>>,
}

/// `usage` of the Responses API.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ResponseUsage {
    /// Input tokens, cached ones included.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Input breakdown.
    #[serde(default)]
    pub input_tokens_details: Option<Value>,
    /// Output tokens, reasoning included.
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Output breakdown.
    #[serde(default)]
    pub output_tokens_details: Option<Value>,
    /// Input plus output.
    #[serde(default)]
    pub total_tokens: Option<u64>,
}

fn detail(v: &Option<Value>, field: &str) -> Option<u64> {
    v.as_ref()?.get(field)?.as_u64()
}

fn count(n: Option<u64>) -> Option<u32> {
    n.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// SCRI usage from the Responses API's. Output that leaves reasoning out (its total is input +
/// output + reasoning) gets it added back, as in Chat Completions.
pub fn usage(u: &ResponseUsage) -> Usage {
    let cached = detail(&u.input_tokens_details, "cached_tokens");
    let reasoning = detail(&u.output_tokens_details, "reasoning_tokens");
    let output = match (u.input_tokens, u.output_tokens, reasoning, u.total_tokens) {
        (Some(i), Some(o), Some(r), Some(t)) if r > 0 && t == i + o + r => Some(o + r),
        (_, o, _, _) => o,
    };
    Usage {
        input_tokens: count(u.input_tokens),
        output_tokens: count(output),
        cache_read_tokens: count(cached),
        cache_write_tokens: None,
        reasoning_tokens: count(reasoning),
    }
}

/// The SCRI finish reason for a finished response.
pub fn finish_reason(response: &ResponseObject, had_tool_calls: bool) -> FinishReason {
    let reason = response
        .incomplete_details
        .as_ref()
        .and_then(|d| d.get("reason"))
        .and_then(Value::as_str);
    match (response.status.as_deref(), reason) {
        (Some("incomplete"), Some("max_output_tokens")) => FinishReason::Length,
        (Some("incomplete"), Some("content_filter")) => FinishReason::ContentFilter,
        (Some("incomplete"), Some(other)) => FinishReason::Unknown(other.to_string()),
        (Some("completed"), _) | (None, _) if had_tool_calls => FinishReason::ToolCalls,
        (Some("completed"), _) => FinishReason::Stop,
        (Some(other), _) => FinishReason::Unknown(other.to_string()),
        (None, _) => FinishReason::Unknown(String::new()),
    }
}

/// The error of a `failed` response (or of an `error` event): classified by its `code` where
/// that names a class, `upstream` otherwise; the raw payload is kept.
pub fn failure(error: Option<&Value>, raw: &[u8]) -> AdapterError {
    let code = error
        .and_then(|e| e.get("code"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("no message");
    let text = format!("the provider reported an error ({code}): {message}");
    let detail = aratta_guest::ErrorDetail::new(text).with_body(raw);
    match code {
        "rate_limit_exceeded" => AdapterError::RateLimited(aratta_guest::RateLimit {
            retry_after_ms: None,
            detail,
        }),
        "server_is_overloaded" | "slow_down" => AdapterError::Overloaded(detail),
        "invalid_prompt" | "context_length_exceeded" | "invalid_request_error" => {
            AdapterError::InvalidRequest(detail)
        }
        _ => AdapterError::Upstream(detail),
    }
}

/// Collects the SCRI content of output items, in order, with the sources they cite.
#[derive(Debug)]
pub struct Collector<'a> {
    dialect: &'a ResponsesDialect,
    fallbacks: &'a Fallbacks,
    /// Content blocks so far.
    pub content: Vec<ContentBlock>,
    /// Sources cited so far.
    pub sources: Sources,
    /// Function calls so far.
    pub calls: usize,
}

impl<'a> Collector<'a> {
    /// An empty collector.
    pub fn new(dialect: &'a ResponsesDialect, fallbacks: &'a Fallbacks) -> Self {
        Collector {
            dialect,
            fallbacks,
            content: Vec::new(),
            sources: Sources::new(),
            calls: 0,
        }
    }

    /// Add the blocks of one output item found at `path` in `raw`.
    pub fn add(&mut self, item: &Item, path: &str, raw: &[u8]) -> Result<(), AdapterError> {
        match item.kind.as_deref() {
            Some("message") => {
                for part in item.content.iter().flatten() {
                    for annotation in part.annotations.iter().flatten() {
                        self.sources.add_annotation(annotation);
                    }
                    let text = match part.kind.as_deref() {
                        Some("refusal") => part.refusal.as_deref(),
                        _ => part.text.as_deref(),
                    };
                    if let Some(text) = text.filter(|t| !t.is_empty()) {
                        match self.content.last_mut() {
                            Some(ContentBlock::Text(prev)) => prev.push_str(text),
                            _ => self.content.push(ContentBlock::Text(text.to_string())),
                        }
                    }
                }
            }
            Some("function_call") => {
                let name = item
                    .name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| AdapterError::missing_field(&format!("{path}.name"), raw))?;
                let id = item
                    .call_id
                    .clone()
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| self.fallbacks.call_id(self.calls));
                self.content.push(ContentBlock::ToolUse(ToolCall {
                    id,
                    name,
                    arguments: arguments_text(item.arguments.as_ref()),
                    signature: None,
                }));
                self.calls += 1;
            }
            Some("reasoning") => {
                if let Some(block) = reasoning_block(item, self.dialect) {
                    self.content.push(ContentBlock::Reasoning(block));
                }
            }
            // Server-side tool calls and anything newer: nothing to show in SCRI.
            _ => {}
        }
        Ok(())
    }
}

/// A reasoning item as a SCRI block, or `None` when it has neither text nor encrypted content
/// (an item the provider did not store cannot be referred to later).
pub fn reasoning_block(item: &Item, dialect: &ResponsesDialect) -> Option<Reasoning> {
    let texts = |parts: &Option<Vec<Part>>| -> Vec<String> {
        parts
            .iter()
            .flatten()
            .filter_map(|p| p.text.clone())
            .filter(|t| !t.is_empty())
            .collect()
    };
    let mut text = texts(&item.summary);
    if text.is_empty() {
        text = texts(&item.content);
    }
    let text = text.join("\n\n");
    let encrypted = item.encrypted_content.clone().filter(|e| !e.is_empty());
    if text.is_empty() && encrypted.is_none() {
        return None;
    }
    Some(Reasoning {
        text,
        signature: item.id.clone().filter(|id| !id.is_empty()),
        redacted: encrypted,
        format: Some(dialect.reasoning_format.to_string()),
    })
}

/// A complete Responses API body as a SCRI answer.
pub fn chat_response(
    body: &[u8],
    fallbacks: &Fallbacks,
    dialect: &ResponsesDialect,
) -> Result<ChatResponse, AdapterError> {
    let response: ResponseObject = parse(body)?;
    if response.status.as_deref() == Some("failed")
        || response.error.as_ref().is_some_and(|e| !e.is_null())
    {
        return Err(failure(response.error.as_ref(), body));
    }
    let items = response
        .output
        .as_ref()
        .ok_or_else(|| AdapterError::missing_field("output", body))?;
    let mut collected = Collector::new(dialect, fallbacks);
    for (i, item) in items.iter().enumerate() {
        collected.add(item, &format!("output[{i}]"), body)?;
    }
    let mut content = collected.content;
    let mut sources = collected.sources;
    if let Some(citations) = &response.citations {
        let mut all = Sources::new();
        all.add_citations(citations);
        for url in sources.urls() {
            all.add(url);
        }
        sources = all;
    }
    if let Some(block) = sources.block() {
        content.push(ContentBlock::Text(block));
    }
    let calls = collected.calls;
    Ok(ChatResponse {
        id: response
            .id
            .clone()
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| fallbacks.id.clone()),
        model: response
            .model
            .clone()
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| fallbacks.model.clone()),
        content,
        finish_reason: finish_reason(&response, calls > 0),
        usage: response.usage.as_ref().map(usage),
    })
}
