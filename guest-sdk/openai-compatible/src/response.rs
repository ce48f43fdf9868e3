//! OpenAI responses as SCRI: complete chat answers, usage, finish reasons, embeddings and model
//! lists. Cited sources (`annotations`, `citations`) follow the answer as a sources block
//! ([`sources`](super::sources)). Missing required fields are `schema-mismatch` errors with a JSON path and the raw
//! body, never an empty answer.

use serde_json::Value;

use super::sources::Sources;
use super::wire::{ChatCompletion, EmbeddingsResponse, ModelEntry, ModelList, Timings, WireUsage};
use aratta_guest::json::parse;
use aratta_guest::{
    AdapterError, ChatResponse, ContentBlock, EmbeddingResponse, Fallbacks, FinishReason,
    MismatchKind, ModelCapabilities, ModelInfo, Reasoning, ToolCall, Usage,
};

/// A SCRI finish reason from OpenAI's; `had_tool_calls` turns `stop` into `tool-calls`, since
/// some servers (Ollama, vLLM with a named tool choice) say `stop` after calling tools.
/// No reason at all is `unknown("")`.
pub fn finish_reason(raw: Option<&str>, had_tool_calls: bool) -> FinishReason {
    match raw {
        Some("stop") | Some("end_turn") if had_tool_calls => FinishReason::ToolCalls,
        Some("stop") | Some("end_turn") | Some("eos") => FinishReason::Stop,
        Some("length") | Some("max_tokens") => FinishReason::Length,
        Some("tool_calls") | Some("function_call") => FinishReason::ToolCalls,
        Some("content_filter") => FinishReason::ContentFilter,
        Some(other) => FinishReason::Unknown(other.to_string()),
        None if had_tool_calls => FinishReason::ToolCalls,
        None => FinishReason::Unknown(String::new()),
    }
}

fn count(n: Option<u64>) -> Option<u32> {
    n.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// SCRI usage from OpenAI's, falling back to llama.cpp's `timings` when `usage` is absent.
///
/// SCRI counts input with cached tokens and output with reasoning tokens, as OpenAI does.
/// Servers that count otherwise are recognized by their own totals: xAI leaves reasoning out
/// of `completion_tokens` (its `total_tokens` is prompt + completion + reasoning), and has
/// reported `cached_tokens` larger than `prompt_tokens` (cached input left out of the prompt
/// count). Both are added back; an OpenAI-style count is left as it is.
pub fn usage(usage: Option<&WireUsage>, timings: Option<&Timings>) -> Option<Usage> {
    if let Some(u) = usage {
        let cached = u
            .prompt_tokens_details
            .as_ref()
            .and_then(|d| d.cached_tokens);
        let reasoning = u
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens);
        let input = match (u.prompt_tokens, cached) {
            (Some(p), Some(c)) if c > p => Some(p + c),
            (p, _) => p,
        };
        let output = match (u.completion_tokens, reasoning, u.total_tokens) {
            (Some(c), Some(r), Some(t))
                if r > 0 && input.is_some_and(|i| t == i.saturating_add(c).saturating_add(r)) =>
            {
                Some(c + r)
            }
            (c, _, _) => c,
        };
        return Some(Usage {
            input_tokens: count(input),
            output_tokens: count(output),
            cache_read_tokens: count(cached),
            cache_write_tokens: None,
            reasoning_tokens: count(reasoning),
        });
    }
    let t = timings?;
    let input = match (t.prompt_n, t.cache_n) {
        (None, None) => None,
        (p, c) => Some(p.unwrap_or(0) + c.unwrap_or(0)),
    };
    Some(Usage {
        input_tokens: count(input),
        output_tokens: count(t.predicted_n),
        cache_read_tokens: count(t.cache_n),
        cache_write_tokens: None,
        reasoning_tokens: None,
    })
}

/// Tool-call arguments as JSON text: strings pass through, objects (some Ollama versions) are
/// serialized, and empty or missing arguments become `{}`.
pub fn arguments_text(arguments: Option<&Value>) -> String {
    match arguments {
        Some(Value::String(s)) if s.trim().is_empty() => "{}".to_string(),
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => "{}".to_string(),
        Some(other) => other.to_string(),
    }
}

/// Reasoning text from `reasoning_content` or `reasoning` (whichever is a non-empty string).
pub fn reasoning_text(
    reasoning_content: Option<&str>,
    reasoning: Option<&Value>,
) -> Option<String> {
    reasoning_content
        .filter(|s| !s.is_empty())
        .or_else(|| reasoning.and_then(Value::as_str).filter(|s| !s.is_empty()))
        .map(str::to_string)
}

/// Message text from `content`: a string, or the text of an array of parts.
fn content_text(content: &Value) -> Option<String> {
    match content {
        Value::String(s) => Some(s.clone()),
        Value::Array(parts) => Some(
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect(),
        ),
        _ => None,
    }
}

/// An error the provider reported inside a 2xx body or stream (`{"error":…}`, or vLLM's older
/// `{"object":"error",…}`), classified by its `code` when that is an HTTP status.
pub fn embedded_error(completion: &ChatCompletion, raw: &[u8]) -> Option<AdapterError> {
    let whole: Value;
    let err = match (&completion.error, completion.object.as_deref()) {
        (Some(err), _) if !err.is_null() => err,
        // vLLM's older flat shape: the body itself is the error object.
        (_, Some("error")) => {
            whole = serde_json::from_slice(raw).ok()?;
            &whole
        }
        _ => return None,
    };
    let code = err
        .get("code")
        .and_then(|c| {
            c.as_u64()
                .or_else(|| c.as_str().and_then(|s| s.parse().ok()))
        })
        .filter(|c| (400..600).contains(c))
        .and_then(|c| u16::try_from(c).ok());
    Some(match code {
        Some(status) => aratta_guest::status::error_for_status(status, None, raw),
        None => AdapterError::Upstream(
            aratta_guest::ErrorDetail::new(format!(
                "the provider reported an error: {}",
                aratta_guest::status::provider_message(raw).unwrap_or_else(|| err.to_string())
            ))
            .with_body(raw),
        ),
    })
}

/// A complete `chat.completion` body as a SCRI response.
pub fn chat_response(body: &[u8], fallbacks: &Fallbacks) -> Result<ChatResponse, AdapterError> {
    let completion: ChatCompletion = parse(body)?;
    if let Some(err) = embedded_error(&completion, body) {
        return Err(err);
    }
    let choices = completion
        .choices
        .ok_or_else(|| AdapterError::missing_field("choices", body))?;
    let choice = choices
        .into_iter()
        .next()
        .ok_or_else(|| AdapterError::missing_field("choices[0]", body))?;
    let message = choice
        .message
        .ok_or_else(|| AdapterError::missing_field("choices[0].message", body))?;
    let mut content = Vec::new();
    if let Some(text) = reasoning_text(
        message.reasoning_content.as_deref(),
        message.reasoning.as_ref(),
    ) {
        content.push(ContentBlock::Reasoning(Reasoning {
            text,
            signature: None,
            redacted: None,
            format: None,
        }));
    }
    let calls = message.tool_calls.unwrap_or_default();
    match &message.content {
        None if calls.is_empty() && message.refusal.is_none() => {
            return Err(AdapterError::missing_field(
                "choices[0].message.content",
                body,
            ));
        }
        Some(value) => match content_text(value) {
            Some(text) if !text.is_empty() => content.push(ContentBlock::Text(text)),
            Some(_) => {}
            None if value.is_null() => {}
            None => {
                return Err(AdapterError::schema_mismatch(
                    MismatchKind::MissingField,
                    "choices[0].message.content",
                    "message content is neither text nor an array of parts",
                    body,
                ));
            }
        },
        None => {}
    }
    if let Some(refusal) = message.refusal.filter(|r| !r.is_empty()) {
        content.push(ContentBlock::Text(refusal));
    }
    let mut sources = Sources::new();
    for annotation in message.annotations.iter().flatten() {
        sources.add_annotation(annotation);
    }
    if let Some(citations) = &completion.citations {
        sources.add_citations(citations);
    }
    let had_tool_calls = !calls.is_empty();
    for (i, call) in calls.into_iter().enumerate() {
        let function = call.function.unwrap_or_default();
        let name = function.name.filter(|n| !n.is_empty()).ok_or_else(|| {
            AdapterError::missing_field(
                &format!("choices[0].message.tool_calls[{i}].function.name"),
                body,
            )
        })?;
        content.push(ContentBlock::ToolUse(ToolCall {
            id: call
                .id
                .filter(|id| !id.is_empty())
                .unwrap_or_else(|| fallbacks.call_id(i)),
            name,
            arguments: arguments_text(function.arguments.as_ref()),
            signature: None,
        }));
    }
    if let Some(block) = sources.block() {
        content.push(ContentBlock::Text(block));
    }
    Ok(ChatResponse {
        id: completion
            .id
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| fallbacks.id.clone()),
        model: completion
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| fallbacks.model.clone()),
        content,
        finish_reason: finish_reason(choice.finish_reason.as_deref(), had_tool_calls),
        usage: usage(completion.usage.as_ref(), completion.timings.as_ref()),
    })
}

/// An `/embeddings` body as a SCRI response with exactly `expected` vectors, in input order.
pub fn embedding_response(
    body: &[u8],
    expected: usize,
    fallback_model: &str,
) -> Result<EmbeddingResponse, AdapterError> {
    let response: EmbeddingsResponse = parse(body)?;
    let data = response
        .data
        .ok_or_else(|| AdapterError::missing_field("data", body))?;
    let mut slots: Vec<Option<Vec<f32>>> = vec![None; expected];
    for (i, item) in data.into_iter().enumerate() {
        let path = format!("data[{i}].embedding");
        let index = item.index.unwrap_or(i);
        let vector = match item.embedding {
            Some(Value::Array(values)) => values
                .iter()
                .map(|v| v.as_f64().map(|f| f as f32))
                .collect::<Option<Vec<f32>>>()
                .ok_or_else(|| {
                    AdapterError::schema_mismatch(
                        MismatchKind::MissingField,
                        &path,
                        "the embedding is not a flat list of numbers (llama.cpp returns one \
                         vector per token when started without pooling; use --pooling mean)",
                        body,
                    )
                })?,
            Some(Value::String(b64)) => decode_f32_base64(&b64).ok_or_else(|| {
                AdapterError::schema_mismatch(
                    MismatchKind::MissingField,
                    &path,
                    "the embedding is a string but not base64 of little-endian floats",
                    body,
                )
            })?,
            _ => return Err(AdapterError::missing_field(&path, body)),
        };
        match slots.get_mut(index) {
            Some(slot) => *slot = Some(vector),
            None => {
                return Err(AdapterError::schema_mismatch(
                    MismatchKind::MissingField,
                    format!("data[{i}].index"),
                    format!("index {index} is out of range for {expected} inputs"),
                    body,
                ));
            }
        }
    }
    let embeddings = slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| {
            slot.ok_or_else(|| AdapterError::missing_field(&format!("data[{i}]"), body))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EmbeddingResponse {
        model: response
            .model
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| fallback_model.to_string()),
        embeddings,
        usage: response.usage.as_ref().map(|u| Usage {
            input_tokens: count(u.prompt_tokens),
            output_tokens: None,
            cache_read_tokens: None,
            cache_write_tokens: None,
            reasoning_tokens: None,
        }),
    })
}

fn decode_f32_base64(text: &str) -> Option<Vec<f32>> {
    let mut bytes = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((acc >> bits) as u8);
        }
    }
    if bytes.len() % 4 != 0 {
        return None;
    }
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

/// A `/models` body as SCRI model infos. Context windows come from vLLM's `max_model_len` or
/// llama.cpp's `meta.n_ctx_train`; Ollama's `"data": null` (no model installed) is an empty list.
pub fn models(body: &[u8]) -> Result<Vec<ModelInfo>, AdapterError> {
    let list: ModelList = parse(body)?;
    let entries = match list.data {
        None => return Err(AdapterError::missing_field("data", body)),
        Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(entries)) => entries,
        Some(_) => {
            return Err(AdapterError::schema_mismatch(
                MismatchKind::MissingField,
                "data",
                "`data` is not a list",
                body,
            ));
        }
    };
    entries
        .into_iter()
        .enumerate()
        .map(|(i, entry)| {
            let entry: ModelEntry = serde_json::from_value(entry).map_err(|e| {
                AdapterError::schema_mismatch(
                    MismatchKind::MissingField,
                    format!("data[{i}]"),
                    format!("model entry {i}: {e}"),
                    body,
                )
            })?;
            let context = entry
                .max_model_len
                .or_else(|| entry.meta.as_ref().and_then(|m| m.n_ctx_train));
            Ok(ModelInfo {
                id: entry.id,
                owned_by: entry.owned_by.filter(|o| !o.is_empty()),
                created: entry.created.filter(|&c| c > 0),
                capabilities: ModelCapabilities {
                    context_window: count(context),
                    max_output_tokens: None,
                    tools: false,
                    vision: false,
                    streaming: true,
                    embeddings: false,
                    reasoning: false,
                },
            })
        })
        .collect()
}
