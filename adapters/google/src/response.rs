//! Gemini answers as SCRI: parts → content blocks, finish reasons, usage, ids.
//!
//! [`classify_part`] is shared with the stream decoder, so a streamed answer and a complete one
//! read the same parts the same way. Parsing tolerates unknown fields and part kinds the
//! adapter has no SCRI form for (`executableCode`, `codeExecutionResult`); it is strict where an
//! answer would otherwise come out silently wrong: a `STOP` candidate without `content`, a
//! part with no recognizable field, a call without a name. Those are `schema-mismatch` errors
//! with the JSON path and the raw body.

use aratta_guest::{
    AdapterError, Base64Image, CallContext, ChatResponse, ContentBlock, Fallbacks, FinishReason,
    Image, ImageSource, MismatchKind, Reasoning, ToolCall, Usage,
};

use crate::wire::{GenerateContentResponse, Part, UsageMetadata};

/// The `format` of reasoning blocks this adapter produces, so other adapters leave their
/// signatures alone and this one knows them again.
pub const FORMAT: &str = "google";

/// Part kinds Gemini documents that have no SCRI block; they are skipped, not reported.
const SKIPPED_KINDS: &[&str] = &[
    "executableCode",
    "codeExecutionResult",
    "fileData",
    "functionResponse",
    "videoMetadata",
    "toolCall",
    "toolResponse",
];

/// Ids and names for what Gemini leaves out: the response id (Gemini's `responseId` is often
/// present), the model, and the request scope that makes generated call ids unique across a
/// conversation (`call_<scope>_<n>`).
pub fn fallbacks(ctx: &CallContext, model: &str) -> Fallbacks {
    Fallbacks::new(ctx, model, "gemini")
}

/// Whether `id` is one [`Fallbacks::call_id`] made (`call_<n>` or `call_<scope>_<n>`), i.e.
/// not Gemini's: such ids are not sent back to Gemini.
pub fn is_generated_call_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("call_") else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match rest.split_once('_') {
        None => digits(rest),
        Some((scope, n)) => {
            (1..=12).contains(&scope.len())
                && scope.bytes().all(|b| b.is_ascii_alphanumeric())
                && digits(n)
        }
    }
}

/// What one part means in SCRI terms.
#[derive(Debug, PartialEq)]
pub enum PartOut {
    /// A thought (`thought: true`): reasoning text, possibly with its signature.
    Thought {
        /// The thought summary (may be empty when only the signature arrives).
        text: String,
        /// Its `thoughtSignature`.
        signature: Option<String>,
    },
    /// Answer text, possibly with the signature Gemini put on it.
    Text {
        /// The text (may be empty when only the signature arrives).
        text: String,
        /// Its `thoughtSignature`.
        signature: Option<String>,
    },
    /// A function call, arguments as JSON text.
    Call {
        /// Gemini's id, when it gave one.
        id: Option<String>,
        /// The function.
        name: String,
        /// The arguments (`{}` when absent).
        arguments: String,
        /// The call's `thoughtSignature`.
        signature: Option<String>,
    },
    /// An image the model generated.
    Image(Image),
    /// A part with no SCRI form.
    Skipped,
}

/// Read one part found at `path` of `body`.
pub fn classify_part(part: Part, path: &str, body: &[u8]) -> Result<PartOut, AdapterError> {
    // An empty signature carries nothing to send back.
    let signature = part.thought_signature.filter(|s| !s.is_empty());
    if let Some(call) = part.function_call {
        let name = call.name.filter(|n| !n.is_empty()).ok_or_else(|| {
            AdapterError::missing_field(&format!("{path}.functionCall.name"), body)
        })?;
        let arguments = match call.args {
            None | Some(serde_json::Value::Null) => "{}".to_string(),
            Some(args) => args.to_string(),
        };
        return Ok(PartOut::Call {
            id: call.id.filter(|id| !id.is_empty()),
            name,
            arguments,
            signature,
        });
    }
    if let Some(text) = part.text {
        return Ok(if part.thought == Some(true) {
            PartOut::Thought { text, signature }
        } else {
            PartOut::Text { text, signature }
        });
    }
    if let Some(blob) = part.inline_data {
        return match (blob.mime_type, blob.data) {
            (Some(media_type), Some(data)) => Ok(PartOut::Image(Image {
                source: ImageSource::Base64(Base64Image { media_type, data }),
                detail: None,
            })),
            _ => Err(AdapterError::missing_field(
                &format!("{path}.inlineData.data"),
                body,
            )),
        };
    }
    if part
        .other
        .keys()
        .any(|k| SKIPPED_KINDS.contains(&k.as_str()))
    {
        return Ok(PartOut::Skipped);
    }
    // A signature alone (the last chunk of a stream) sits on an empty text part in practice.
    if signature.is_some() && part.other.is_empty() {
        return Ok(PartOut::Text {
            text: String::new(),
            signature,
        });
    }
    Err(AdapterError::schema_mismatch(
        MismatchKind::UnknownField,
        path,
        format!(
            "part `{path}` has none of text, functionCall or inlineData (fields: {})",
            part.other.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        body,
    ))
}

/// SCRI's finish reason for Gemini's; `had_calls` turns `STOP` into `tool-calls` (Gemini says
/// `STOP` after function calls).
pub fn finish_reason(raw: Option<&str>, had_calls: bool) -> FinishReason {
    match raw {
        Some("STOP") if had_calls => FinishReason::ToolCalls,
        Some("STOP") => FinishReason::Stop,
        Some("MAX_TOKENS") => FinishReason::Length,
        Some(
            "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION"
            | "MODEL_ARMOR",
        ) => FinishReason::ContentFilter,
        Some(other) => FinishReason::Unknown(other.to_string()),
        None if had_calls => FinishReason::ToolCalls,
        None => FinishReason::Unknown(String::new()),
    }
}

fn count(n: Option<u64>) -> Option<u32> {
    n.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn sum(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// SCRI usage from `usageMetadata`. Input counts the prompt (cached part included) plus the
/// tool-use prompt; output counts the visible answer plus thinking, since SCRI's output tokens
/// include reasoning while Gemini's `candidatesTokenCount` does not.
pub fn usage(u: &UsageMetadata) -> Usage {
    Usage {
        input_tokens: count(sum(u.prompt_token_count, u.tool_use_prompt_token_count)),
        output_tokens: count(sum(u.candidates_token_count, u.thoughts_token_count)),
        cache_read_tokens: count(u.cached_content_token_count),
        cache_write_tokens: None,
        reasoning_tokens: count(u.thoughts_token_count),
    }
}

/// The blocks of a complete answer, built part by part.
#[derive(Default)]
struct Blocks {
    blocks: Vec<ContentBlock>,
    calls: usize,
}

impl Blocks {
    fn push(&mut self, part: PartOut, fallbacks: &Fallbacks) {
        match part {
            PartOut::Thought { text, signature } => {
                // A thought's signature can come on an empty thought part after its text.
                if text.is_empty()
                    && let Some(ContentBlock::Reasoning(last)) = self.blocks.last_mut()
                    && last.signature.is_none()
                {
                    last.signature = signature;
                    return;
                }
                if !text.is_empty() || signature.is_some() {
                    self.blocks.push(reasoning(text, signature));
                }
            }
            PartOut::Text { text, signature } => {
                if !text.is_empty() {
                    self.blocks.push(ContentBlock::Text(text));
                }
                if signature.is_some() {
                    self.blocks.push(reasoning(String::new(), signature));
                }
            }
            PartOut::Call {
                id,
                name,
                arguments,
                signature,
            } => {
                let id = id.unwrap_or_else(|| fallbacks.call_id(self.calls));
                self.calls += 1;
                self.blocks.push(ContentBlock::ToolUse(ToolCall {
                    id,
                    name,
                    arguments,
                    signature,
                }));
            }
            PartOut::Image(image) => self.blocks.push(ContentBlock::Image(image)),
            PartOut::Skipped => {}
        }
    }
}

/// A reasoning block in this adapter's format.
pub fn reasoning(text: String, signature: Option<String>) -> ContentBlock {
    ContentBlock::Reasoning(Reasoning {
        text,
        signature,
        redacted: None,
        format: Some(FORMAT.to_string()),
    })
}

/// A complete `generateContent` answer as SCRI. A prompt Gemini blocked (`promptFeedback`
/// with a `blockReason` and no candidates) is an empty answer finished by `content-filter`.
pub fn chat_response(body: &[u8], fallbacks: &Fallbacks) -> Result<ChatResponse, AdapterError> {
    let response: GenerateContentResponse = aratta_guest::json::parse(body)?;
    if let Some(error) = &response.error {
        return Err(crate::errors::embedded(error, body));
    }
    let usage = response.usage_metadata.as_ref().map(usage);
    let id = response
        .response_id
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| fallbacks.id.clone());
    let model = response
        .model_version
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| fallbacks.model.clone());
    let Some(candidate) = response.candidates.and_then(|c| c.into_iter().next()) else {
        if response
            .prompt_feedback
            .and_then(|f| f.block_reason)
            .is_some()
        {
            return Ok(ChatResponse {
                id,
                model,
                content: Vec::new(),
                finish_reason: FinishReason::ContentFilter,
                usage,
            });
        }
        return Err(AdapterError::missing_field("candidates[0]", body));
    };
    let finish = candidate.finish_reason;
    let parts = match candidate.content {
        Some(content) => content.parts.unwrap_or_default(),
        // Filtered output has no content; a normal end always has some.
        None if matches!(finish.as_deref(), Some("STOP") | None) => {
            return Err(AdapterError::missing_field("candidates[0].content", body));
        }
        None => Vec::new(),
    };
    let mut blocks = Blocks::default();
    for (i, part) in parts.into_iter().enumerate() {
        let path = format!("candidates[0].content.parts[{i}]");
        blocks.push(classify_part(part, &path, body)?, fallbacks);
    }
    Ok(ChatResponse {
        id,
        model,
        finish_reason: finish_reason(finish.as_deref(), blocks.calls > 0),
        content: blocks.blocks,
        usage,
    })
}
