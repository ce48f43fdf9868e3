//! The Gemini response shapes the adapter reads (Generative Language API v1beta, field names as
//! on the wire, camelCase). Only what the translation needs is typed; everything else is
//! tolerated, since Google adds fields often (`urlContextMetadata`, `avgLogprobs`, ...).
//! Requests are built as JSON values in `request.rs` and `contents.rs` instead: they are small,
//! and `extra` has to be merged into them anyway.

use serde::Deserialize;
use serde_json::{Map, Value};

/// A `GenerateContentResponse`: the whole answer of `generateContent`, or one SSE chunk of
/// `streamGenerateContent`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GenerateContentResponse {
    /// The answers; the adapter reads the first (it never asks for `candidateCount` > 1).
    #[serde(default)]
    pub candidates: Option<Vec<Candidate>>,
    /// Why the prompt was blocked, when it was (then there are no candidates).
    #[serde(default)]
    pub prompt_feedback: Option<PromptFeedback>,
    /// Token accounting; in a stream, the last chunk carries the final totals.
    #[serde(default)]
    pub usage_metadata: Option<UsageMetadata>,
    /// The model that answered, e.g. `gemini-2.5-flash`.
    #[serde(default)]
    pub model_version: Option<String>,
    /// Google's id for this answer.
    #[serde(default)]
    pub response_id: Option<String>,
    /// A failure reported inside a 200 body or stream (`{"error":{"code":500,...}}`).
    #[serde(default)]
    pub error: Option<Value>,
}

/// One candidate answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate {
    /// What the model said; absent when the output was filtered.
    #[serde(default)]
    pub content: Option<Content>,
    /// `STOP`, `MAX_TOKENS`, `SAFETY`, ...; absent on all but the last chunk of a stream.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Every other field (`safetyRatings`, `groundingMetadata`, ...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Candidate {
    /// Whether the candidate carries only metadata Gemini documents (a stream chunk may bring
    /// grounding or citations on their own), as opposed to content under an unknown name.
    pub fn is_metadata_only(&self) -> bool {
        const METADATA: &[&str] = &[
            "index",
            "safetyRatings",
            "citationMetadata",
            "groundingMetadata",
            "urlContextMetadata",
            "avgLogprobs",
            "logprobsResult",
            "tokenCount",
        ];
        !self.other.is_empty() && self.other.keys().all(|k| METADATA.contains(&k.as_str()))
    }
}

/// A turn's content: a role and its parts.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Content {
    /// The parts, in order. Absent when the model produced nothing (e.g. the thinking budget
    /// used up every output token).
    #[serde(default)]
    pub parts: Option<Vec<Part>>,
}

/// One part of a content. Exactly one data field is set in practice; `thoughtSignature` may
/// accompany any of them.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Part {
    /// Text (answer text, or reasoning when `thought` is true).
    #[serde(default)]
    pub text: Option<String>,
    /// Whether `text` is a thought (reasoning summary) rather than answer text.
    #[serde(default)]
    pub thought: Option<bool>,
    /// Opaque signature that must go back on this same part in the next request.
    #[serde(default)]
    pub thought_signature: Option<String>,
    /// A tool call.
    #[serde(default)]
    pub function_call: Option<FunctionCall>,
    /// Inline bytes (images from image-output models).
    #[serde(default)]
    pub inline_data: Option<Blob>,
    /// Every other field, kept so an unknown part kind can be told from a known one.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A `functionCall` part's payload.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionCall {
    /// Google's call id, when it sends one.
    #[serde(default)]
    pub id: Option<String>,
    /// The function's name.
    #[serde(default)]
    pub name: Option<String>,
    /// The arguments, a JSON object.
    #[serde(default)]
    pub args: Option<Value>,
}

/// Inline bytes.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blob {
    /// IANA media type.
    #[serde(default)]
    pub mime_type: Option<String>,
    /// Base64 bytes.
    #[serde(default)]
    pub data: Option<String>,
}

/// Why a prompt was blocked.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PromptFeedback {
    /// `SAFETY`, `OTHER`, `BLOCKLIST`, `PROHIBITED_CONTENT`, `IMAGE_SAFETY`.
    #[serde(default)]
    pub block_reason: Option<String>,
}

/// Token counts. `candidatesTokenCount` excludes thinking; `thoughtsTokenCount` is separate.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UsageMetadata {
    /// The prompt, cached content included.
    #[serde(default)]
    pub prompt_token_count: Option<u64>,
    /// The answer's visible output.
    #[serde(default)]
    pub candidates_token_count: Option<u64>,
    /// Thinking.
    #[serde(default)]
    pub thoughts_token_count: Option<u64>,
    /// Prompt tokens served from the context cache (implicit or explicit).
    #[serde(default)]
    pub cached_content_token_count: Option<u64>,
    /// Prompt tokens added by tool use (e.g. search results), billed as input.
    #[serde(default)]
    pub tool_use_prompt_token_count: Option<u64>,
}

/// `GET models` (one page).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelList {
    /// The models on this page.
    #[serde(default)]
    pub models: Option<Vec<Model>>,
    /// The token for the next page; absent or empty on the last.
    #[serde(default)]
    pub next_page_token: Option<String>,
}

/// One model of the list.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Model {
    /// `models/gemini-2.5-flash`.
    pub name: String,
    /// Context window.
    #[serde(default)]
    pub input_token_limit: Option<u64>,
    /// Output limit.
    #[serde(default)]
    pub output_token_limit: Option<u64>,
    /// `generateContent`, `embedContent`, `batchEmbedContents`, `countTokens`, ...
    #[serde(default)]
    pub supported_generation_methods: Option<Vec<String>>,
    /// Whether the model thinks.
    #[serde(default)]
    pub thinking: Option<bool>,
}

/// `batchEmbedContents`' answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchEmbedResponse {
    /// One embedding per request, in request order.
    pub embeddings: Vec<ContentEmbedding>,
}

/// One embedding.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentEmbedding {
    /// The vector.
    pub values: Vec<f32>,
}
