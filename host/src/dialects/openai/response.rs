//! SCRI `ChatResponse` → OpenAI `chat.completion`. One choice; the model is the one the
//! provider reported (not Aratta's `provider:model` form), reasoning rides in
//! `reasoning_content` / `reasoning_details` (see `reasoning`), a signed tool call also carries
//! its signature in `extra_content` as Google's endpoint does, and an unknown finish reason
//! reads as `stop` with the provider's own value kept in `native_finish_reason`.

use serde_json::{Map, Value, json};

use super::reasoning;
use crate::scri::{ChatResponse, ContentBlock, FinishReason, Usage};

/// The `chat.completion` object for a complete SCRI answer; `created` is Unix seconds.
pub fn chat_completion(resp: &ChatResponse, created: u64) -> Value {
    let mut text = String::new();
    let mut has_text = false;
    let mut thoughts = String::new();
    let mut details = Vec::new();
    let mut calls = Vec::new();
    let mut signatures = Vec::new();
    for block in &resp.content {
        match block {
            ContentBlock::Text { text: t } => {
                text.push_str(t);
                has_text = true;
            }
            ContentBlock::Reasoning(r) => {
                thoughts.push_str(&r.text);
                details.push(reasoning::detail(r, details.len()));
            }
            ContentBlock::ToolUse(call) => {
                let mut entry = json!({
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": arguments_text(&call.arguments)},
                });
                if let Some(signature) = &call.signature {
                    entry["extra_content"] = reasoning::call_extra_content(signature);
                    signatures.push((call.id.as_str(), signature.as_str()));
                }
                calls.push(entry);
            }
            // Images and tool results are not part of an OpenAI assistant message.
            ContentBlock::Image(_) | ContentBlock::ToolResult(_) => {}
        }
    }
    for (id, signature) in signatures {
        details.push(reasoning::call_signature(id, signature, details.len()));
    }

    let mut message = Map::new();
    message.insert("role".into(), json!("assistant"));
    let content = if has_text || calls.is_empty() {
        json!(text)
    } else {
        Value::Null
    };
    message.insert("content".into(), content);
    message.insert("refusal".into(), Value::Null);
    message.insert("annotations".into(), json!([]));
    if !calls.is_empty() {
        message.insert("tool_calls".into(), Value::Array(calls));
    }
    if !details.is_empty() {
        message.insert("reasoning_content".into(), json!(thoughts));
        message.insert("reasoning_details".into(), Value::Array(details));
    }

    let mut choice = Map::new();
    choice.insert("index".into(), json!(0));
    choice.insert("message".into(), Value::Object(message));
    choice.insert("logprobs".into(), Value::Null);
    finish(
        &mut choice,
        &resp.finish_reason,
        resp.finish_reason_raw.as_deref(),
    );

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
    json!({
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [Value::Object(choice)],
        "usage": resp.usage.as_ref().map(usage),
        "system_fingerprint": null,
    })
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
    let name = match reason {
        FinishReason::Stop | FinishReason::Unknown => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
    };
    choice.insert("finish_reason".into(), json!(name));
    if *reason == FinishReason::Unknown {
        choice.insert("native_finish_reason".into(), json!(raw));
    }
}

/// OpenAI's `usage` object. Counts SCRI does not know are 0; the details objects appear only
/// when their count is known.
pub(crate) fn usage(u: &Usage) -> Value {
    let prompt = u.input_tokens.unwrap_or(0);
    let completion = u.output_tokens.unwrap_or(0);
    let mut out = Map::new();
    out.insert("prompt_tokens".into(), json!(prompt));
    out.insert("completion_tokens".into(), json!(completion));
    out.insert(
        "total_tokens".into(),
        json!(u64::from(prompt) + u64::from(completion)),
    );
    if let Some(cached) = u.cache_read_tokens {
        out.insert(
            "prompt_tokens_details".into(),
            json!({"cached_tokens": cached}),
        );
    }
    if let Some(reasoning) = u.reasoning_tokens {
        out.insert(
            "completion_tokens_details".into(),
            json!({"reasoning_tokens": reasoning}),
        );
    }
    Value::Object(out)
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
