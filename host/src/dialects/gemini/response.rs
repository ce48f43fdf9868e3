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

use serde_json::{Map, Value, json};

use crate::scri::{ChatResponse, ContentBlock, FinishReason, Reasoning, ToolCall, Usage};

/// The answer as Gemini's `GenerateContentResponse`.
pub fn generate_response(resp: &ChatResponse) -> Value {
    let model = if resp.model.is_empty() {
        &resp.lineage.model
    } else {
        &resp.model
    };
    let mut parts = Vec::new();
    for block in &resp.content {
        push_block(&mut parts, block);
    }
    let mut body = json!({
        "candidates": [{
            "content": {"role": "model", "parts": parts},
            "finishReason": finish_reason(&resp.finish_reason, resp.finish_reason_raw.as_deref()),
            "index": 0,
        }],
        "modelVersion": model,
        "responseId": resp.id,
    });
    if let Some(usage) = &resp.usage {
        body["usageMetadata"] = usage_metadata(usage);
    }
    body
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
    let input = u.input_tokens.unwrap_or(0);
    let output = u.output_tokens.unwrap_or(0);
    let thoughts = u.reasoning_tokens.unwrap_or(0);
    let mut usage = json!({
        "promptTokenCount": input,
        "candidatesTokenCount": output.saturating_sub(thoughts),
        "totalTokenCount": input.saturating_add(output),
    });
    if let Some(cached) = u.cache_read_tokens {
        usage["cachedContentTokenCount"] = json!(cached);
    }
    if let Some(thoughts) = u.reasoning_tokens {
        usage["thoughtsTokenCount"] = json!(thoughts);
    }
    usage
}
