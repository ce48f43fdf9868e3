//! A SCRI `ChatResponse` → a Gemini `GenerateContentResponse`.
//!
//! | SCRI                                     | Gemini part                                       |
//! |------------------------------------------|---------------------------------------------------|
//! | `text`                                   | `{"text"}`                                        |
//! | `reasoning` with text                    | `{"text", "thought": true, "thoughtSignature"}`   |
//! | `reasoning` with only a signature        | `thoughtSignature` on the text part before it, else an empty text part carrying it |
//! | `tool_use`                               | `{"functionCall": {id, name, args}, "thoughtSignature"}` |
//! | `reasoning` redacted                     | dropped: Gemini has no place for another provider's encrypted reasoning |
//!
//! | SCRI finish        | `finishReason`                                   |
//! |--------------------|--------------------------------------------------|
//! | stop, tool_calls   | `STOP` (Gemini ends a function-calling turn so)  |
//! | length             | `MAX_TOKENS`                                     |
//! | content_filter     | `SAFETY`                                         |
//! | unknown            | the raw reason when it is Gemini-style (upper case), else `OTHER` |
//!
//! Usage: `promptTokenCount` = input (cached included, as in both), `cachedContentTokenCount`
//! = cache reads, `thoughtsTokenCount` = reasoning, `candidatesTokenCount` = output less
//! reasoning (Gemini counts thoughts apart), `totalTokenCount` = input + output.

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::scri::{ChatResponse, ContentBlock, FinishReason, Reasoning, ToolCall, Usage};

/// The answer as Gemini's `GenerateContentResponse`.
pub fn generate_response(resp: &ChatResponse) -> Value {
    serde_json::to_value(generate_body(resp)).expect("a response always serializes")
}

/// [`generate_response`] as a value that serializes from the answer's borrowed fields (the
/// parts aside): what the route writes, without building the envelope as a `Value` first.
pub fn generate_body(resp: &ChatResponse) -> GenerateBody<'_> {
    let model = if resp.model.is_empty() {
        &resp.lineage.model
    } else {
        &resp.model
    };
    let mut parts = Vec::new();
    for block in &resp.content {
        push_block(&mut parts, block);
    }
    GenerateBody {
        candidates: [Candidate {
            content: Content {
                role: "model",
                parts,
            },
            finish_reason: finish_reason(&resp.finish_reason, resp.finish_reason_raw.as_deref()),
            index: 0,
        }],
        model_version: model,
        response_id: &resp.id,
        usage_metadata: resp.usage.as_ref().map(usage_counts),
    }
}

/// Gemini's `GenerateContentResponse`, fields in the order Gemini writes them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateBody<'a> {
    candidates: [Candidate; 1],
    model_version: &'a str,
    response_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    usage_metadata: Option<UsageCounts>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Content,
    finish_reason: String,
    index: u32,
}

#[derive(Debug, Serialize)]
struct Content {
    role: &'static str,
    parts: Vec<Value>,
}

/// Append the Gemini part(s) of one SCRI block.
pub(crate) fn push_block(parts: &mut Vec<Value>, block: &ContentBlock) {
    match block {
        ContentBlock::Text { text } => parts.push(json!({"text": text})),
        ContentBlock::ToolUse(call) => parts.push(call_part(call)),
        ContentBlock::Reasoning(r) => push_reasoning(parts, r),
        ContentBlock::Image(_) | ContentBlock::ToolResult(_) => {}
    }
}

/// A `functionCall` part.
pub(crate) fn call_part(call: &ToolCall) -> Value {
    let args = match &call.arguments {
        Value::Object(_) => call.arguments.clone(),
        Value::Null => Value::Object(Map::new()),
        other => json!({"_raw": other}),
    };
    let mut part = json!({"functionCall": {"id": call.id, "name": call.name, "args": args}});
    if let Some(signature) = &call.signature {
        part["thoughtSignature"] = json!(signature);
    }
    part
}

fn push_reasoning(parts: &mut Vec<Value>, r: &Reasoning) {
    if r.redacted.is_some() {
        return;
    }
    if !r.text.is_empty() {
        let mut part = json!({"text": r.text, "thought": true});
        if let Some(signature) = &r.signature {
            part["thoughtSignature"] = json!(signature);
        }
        parts.push(part);
        return;
    }
    let Some(signature) = &r.signature else {
        return;
    };
    match parts.last_mut() {
        Some(last) if last.get("text").is_some() && last.get("thoughtSignature").is_none() => {
            last["thoughtSignature"] = json!(signature);
        }
        _ => parts.push(json!({"text": "", "thoughtSignature": signature})),
    }
}

/// Gemini's `finishReason` for a SCRI finish reason.
pub fn finish_reason(reason: &FinishReason, raw: Option<&str>) -> String {
    match reason {
        FinishReason::Stop | FinishReason::ToolCalls => "STOP".into(),
        FinishReason::Length => "MAX_TOKENS".into(),
        FinishReason::ContentFilter => "SAFETY".into(),
        FinishReason::Unknown => match raw {
            Some(raw)
                if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
            {
                raw.to_owned()
            }
            _ => "OTHER".into(),
        },
    }
}

/// Gemini's `usageMetadata`.
pub(crate) fn usage_metadata(u: &Usage) -> Value {
    serde_json::to_value(usage_counts(u)).expect("usage always serializes")
}

fn usage_counts(u: &Usage) -> UsageCounts {
    let input = u.input_tokens.unwrap_or(0);
    let output = u.output_tokens.unwrap_or(0);
    let thoughts = u.reasoning_tokens.unwrap_or(0);
    UsageCounts {
        prompt_token_count: input,
        candidates_token_count: output.saturating_sub(thoughts),
        total_token_count: input.saturating_add(output),
        cached_content_token_count: u.cache_read_tokens,
        thoughts_token_count: u.reasoning_tokens,
    }
}

/// Gemini's `usageMetadata`; the cached and thoughts counts appear only when known.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageCounts {
    prompt_token_count: u32,
    candidates_token_count: u32,
    total_token_count: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    cached_content_token_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thoughts_token_count: Option<u32>,
}
