//! SCRI `ChatResponse` → OpenAI `chat.completion`. One choice; the model is the one the
//! provider reported (not Aratta's `provider:model` form), reasoning rides in
//! `reasoning_content` / `reasoning_details` (see `reasoning`), a signed tool call also carries
//! its signature in `extra_content` as Google's endpoint does, and an unknown finish reason
//! reads as `stop` with the provider's own value kept in `native_finish_reason`.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::reasoning;
use crate::scri::{ChatResponse, ContentBlock, FinishReason, Usage};

/// The `chat.completion` object for a complete SCRI answer; `created` is Unix seconds.
pub fn chat_completion(resp: &ChatResponse, created: u64) -> Value {
    serde_json::to_value(completion(resp, created)).expect("a completion always serializes")
}

/// [`chat_completion`] as a value that serializes straight from the answer's borrowed fields:
/// what the route writes, without building a `Value` tree first (that cost ~7 µs of CPU per
/// answer, a twentieth of the gateway's whole cost for a short one).
pub fn completion(resp: &ChatResponse, created: u64) -> Completion<'_> {
    let mut text = String::new();
    let mut has_text = false;
    let mut thoughts = String::new();
    let mut details = Vec::new();
    let mut calls = Vec::new();
    let mut signatures = Vec::new();
    for block in &resp.content {
        match block {
            ContentBlock::Text { text: t } => {
                if has_text {
                    text.push_str(t);
                } else {
                    text = t.clone();
                }
                has_text = true;
            }
            ContentBlock::Reasoning(r) => {
                thoughts.push_str(&r.text);
                details.push(reasoning::detail(r, details.len()));
            }
            ContentBlock::ToolUse(call) => {
                let extra_content = call.signature.as_deref().map(|signature| {
                    signatures.push((call.id.as_str(), signature));
                    reasoning::call_extra_content(signature)
                });
                calls.push(ToolCall {
                    id: &call.id,
                    kind: "function",
                    function: Function {
                        name: &call.name,
                        arguments: arguments_text(&call.arguments),
                    },
                    extra_content,
                });
            }
            // Images and tool results are not part of an OpenAI assistant message.
            ContentBlock::Image(_) | ContentBlock::ToolResult(_) => {}
        }
    }
    for (id, signature) in signatures {
        details.push(reasoning::call_signature(id, signature, details.len()));
    }
    let reasoning_content = (!details.is_empty()).then_some(thoughts);
    let content = (has_text || calls.is_empty()).then_some(text);
    let id = if resp.id.is_empty() {
        &resp.lineage.request_id
    } else {
        &resp.id
    };
    let model = if resp.model.is_empty() {
        &resp.lineage.model
    } else {
        &resp.model
    };
    let (finish_reason, native_finish_reason) =
        finish_reason(&resp.finish_reason, resp.finish_reason_raw.as_deref());
    Completion {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [Choice {
            index: 0,
            message: Message {
                role: "assistant",
                content,
                refusal: None,
                annotations: [],
                tool_calls: calls,
                reasoning_content,
                reasoning_details: details,
            },
            logprobs: None,
            finish_reason,
            native_finish_reason,
        }],
        usage: resp.usage.as_ref().map(usage_counts),
        system_fingerprint: None,
    }
}

/// OpenAI's `chat.completion`, fields in OpenAI's order; `None` is JSON `null` unless skipped.
#[derive(Debug, Serialize)]
pub struct Completion<'a> {
    id: &'a str,
    object: &'static str,
    created: u64,
    model: &'a str,
    choices: [Choice<'a>; 1],
    usage: Option<UsageCounts>,
    system_fingerprint: Option<()>,
}

#[derive(Debug, Serialize)]
struct Choice<'a> {
    index: u32,
    message: Message<'a>,
    logprobs: Option<()>,
    finish_reason: &'static str,
    /// Present (possibly `null`) only when the SCRI reason is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    native_finish_reason: Option<Option<&'a str>>,
}

#[derive(Debug, Serialize)]
struct Message<'a> {
    role: &'static str,
    content: Option<String>,
    refusal: Option<()>,
    annotations: [(); 0],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<ToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reasoning_content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    reasoning_details: Vec<Value>,
}

#[derive(Debug, Serialize)]
struct ToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: Function<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extra_content: Option<Value>,
}

#[derive(Debug, Serialize)]
struct Function<'a> {
    name: &'a str,
    arguments: String,
}

/// Tool-call arguments as OpenAI sends them: JSON text. A string is already that text (the
/// adapter keeps invalid JSON verbatim as a string).
pub(crate) fn arguments_text(arguments: &Value) -> String {
    match arguments {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Set `finish_reason` on a choice; an unknown SCRI reason reads as `stop`, and the
/// provider's raw value goes in `native_finish_reason` (OpenRouter's name for it).
pub(crate) fn finish(choice: &mut Map<String, Value>, reason: &FinishReason, raw: Option<&str>) {
    let (name, native) = finish_reason(reason, raw);
    choice.insert("finish_reason".into(), json!(name));
    if let Some(native) = native {
        choice.insert("native_finish_reason".into(), json!(native));
    }
}

/// OpenAI's `finish_reason` for `reason`, and the `native_finish_reason` to add (the
/// provider's raw value, possibly none) when the SCRI reason is unknown.
fn finish_reason<'a>(
    reason: &FinishReason,
    raw: Option<&'a str>,
) -> (&'static str, Option<Option<&'a str>>) {
    let name = match reason {
        FinishReason::Stop | FinishReason::Unknown => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
    };
    (name, (*reason == FinishReason::Unknown).then_some(raw))
}

/// OpenAI's `usage` object. Counts SCRI does not know are 0; the details objects appear only
/// when their count is known.
pub(crate) fn usage(u: &Usage) -> Value {
    serde_json::to_value(usage_counts(u)).expect("usage always serializes")
}

fn usage_counts(u: &Usage) -> UsageCounts {
    let prompt_tokens = u.input_tokens.unwrap_or(0);
    let completion_tokens = u.output_tokens.unwrap_or(0);
    UsageCounts {
        prompt_tokens,
        completion_tokens,
        total_tokens: u64::from(prompt_tokens) + u64::from(completion_tokens),
        prompt_tokens_details: u
            .cache_read_tokens
            .map(|cached_tokens| PromptDetails { cached_tokens }),
        completion_tokens_details: u
            .reasoning_tokens
            .map(|reasoning_tokens| CompletionDetails { reasoning_tokens }),
    }
}

#[derive(Debug, Serialize)]
struct UsageCounts {
    prompt_tokens: u32,
    completion_tokens: u32,
    total_tokens: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Serialize)]
struct PromptDetails {
    cached_tokens: u32,
}

#[derive(Debug, Serialize)]
struct CompletionDetails {
    reasoning_tokens: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_details_appear_only_when_known() {
        let bare = usage(&Usage {
            input_tokens: Some(9),
            output_tokens: Some(12),
            ..Usage::default()
        });
        assert_eq!(
            bare,
            json!({"prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21})
        );
        let full = usage(&Usage {
            input_tokens: Some(2006),
            output_tokens: Some(300),
            cache_read_tokens: Some(1920),
            cache_write_tokens: Some(5),
            reasoning_tokens: Some(256),
        });
        assert_eq!(
            full["prompt_tokens_details"],
            json!({"cached_tokens": 1920})
        );
        assert_eq!(
            full["completion_tokens_details"],
            json!({"reasoning_tokens": 256})
        );
        assert_eq!(full["total_tokens"], 2306);
    }

    #[test]
    fn unknown_finish_reason_reads_as_stop_with_the_raw_value() {
        let mut choice = Map::new();
        finish(&mut choice, &FinishReason::Unknown, Some("RECITATION"));
        assert_eq!(choice["finish_reason"], "stop");
        assert_eq!(choice["native_finish_reason"], "RECITATION");
        let mut choice = Map::new();
        finish(&mut choice, &FinishReason::ContentFilter, None);
        assert_eq!(choice["finish_reason"], "content_filter");
        assert!(!choice.contains_key("native_finish_reason"));
    }

    #[test]
    fn arguments_are_json_text() {
        assert_eq!(
            arguments_text(&json!({"location": "Boston, MA"})),
            r#"{"location":"Boston, MA"}"#
        );
        assert_eq!(arguments_text(&json!("{\"broken\": ")), "{\"broken\": ");
    }
}
