//! Serde types of the OpenAI Chat Completions, Embeddings and Models wire formats.
//!
//! Request types serialize exactly what is set. Response types are lenient: unknown fields are
//! ignored, most fields are optional, and values whose type varies between servers (content,
//! tool-call arguments, reasoning) are kept as JSON values for the conversions to interpret.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// One message of the `messages` array.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatMessage {
    /// `system`, `developer`, `user`, `assistant` or `tool`.
    pub role: &'static str,
    /// Text or parts; omitted for an assistant message that only calls tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<Content>,
    /// Participant name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The assistant's tool calls.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCallOut>,
    /// Which call a `tool` message answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

/// Message content: a string, or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Content {
    /// Plain text.
    Text(String),
    /// Text and image parts, in order.
    Parts(Vec<Part>),
}

/// One content part.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    /// `{"type":"text","text":…}`
    Text {
        /// The text.
        text: String,
    },
    /// `{"type":"image_url","image_url":{"url":…,"detail":…}}`
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
}

/// An image reference: an `https:` or `data:` URL.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    /// The URL.
    pub url: String,
    /// `low`, `high` or `auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A tool call in an assistant message sent back to the provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallOut {
    /// The call id.
    pub id: String,
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function and its arguments.
    pub function: FunctionCallOut,
}

/// The function part of a [`ToolCallOut`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionCallOut {
    /// The tool's name.
    pub name: String,
    /// The arguments as JSON text.
    pub arguments: String,
}

/// A tool definition: `{"type":"function","function":{…}}`.
#[derive(Debug, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// Always `function` on output; checked on input.
    #[serde(rename = "type")]
    pub kind: String,
    /// The function.
    pub function: FunctionDefinition,
}

/// The function part of a [`ToolDefinition`]. `parameters` is kept as raw JSON text, so a
/// schema survives SCRI → OpenAI → SCRI byte for byte.
#[derive(Debug, Serialize, Deserialize)]
pub struct FunctionDefinition {
    /// The tool's name.
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Box<RawValue>>,
}

/// `stream_options`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamOptions {
    /// Ask for a final chunk with the usage totals.
    pub include_usage: bool,
}

/// The body of `POST /chat/completions`, before `extra` is merged in.
#[derive(Debug, Default, Serialize)]
pub struct ChatCompletionRequest {
    /// The model id.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<ToolDefinition>,
    /// `auto`, `none`, `required` or `{"type":"function","function":{"name":…}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// Whether several tool calls may come in one turn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// `{"type":"json_object"}` or `{"type":"json_schema","json_schema":{…}}`, as text so the
    /// schema keeps its key order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Box<RawValue>>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "decimal")]
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "decimal")]
    pub top_p: Option<f32>,
    /// Top-k sampling (vLLM, llama.cpp; not OpenAI).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u32>,
    /// Token limit, classic name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Token limit, the name OpenAI's reasoning models require.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u32>,
    /// Stop sequences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stop: Vec<String>,
    /// Sampling seed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Presence penalty.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "decimal")]
    pub presence_penalty: Option<f32>,
    /// Frequency penalty.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "decimal")]
    pub frequency_penalty: Option<f32>,
    /// `minimal`, `low`, `medium` or `high`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<String>,
    /// End-user id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Stream the answer as Server-Sent Events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
}

/// An `f32` as the `f64` with the same shortest decimal form: SCRI carries sampling values as
/// `f32`, and widening `0.7f32` directly gives `0.699999988079071` on the wire.
pub fn decimal_f64(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(f64::from(x))
}

fn decimal<S: serde::Serializer>(x: &Option<f32>, s: S) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => s.serialize_f64(decimal_f64(*x)),
        None => s.serialize_none(),
    }
}

/// Deserialize a field so that `null` is `Some(Value::Null)` and only a missing field is `None`:
/// a message whose `content` is null said nothing, one without `content` has drifted.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A complete `chat.completion` (also the shape of every streamed `chat.completion.chunk`).
#[derive(Debug, Default, Deserialize)]
pub struct ChatCompletion {
    /// The response id.
    #[serde(default)]
    pub id: Option<String>,
    /// The model that answered.
    #[serde(default)]
    pub model: Option<String>,
    /// The choices; only the first is used.
    #[serde(default)]
    pub choices: Option<Vec<Choice>>,
    /// Token accounting (in streams: a final chunk, or with the last choice).
    #[serde(default)]
    pub usage: Option<WireUsage>,
    /// llama.cpp's timings, a fallback for usage.
    #[serde(default)]
    pub timings: Option<Timings>,
    /// An error reported inside a 200 response or stream.
    #[serde(default)]
    pub error: Option<Value>,
    /// `chat.completion`, `chat.completion.chunk`, or vLLM's older flat `error` shape.
    #[serde(default)]
    pub object: Option<String>,
    /// Source URLs a search consulted (xAI's and Perplexity's top-level `citations`).
    #[serde(default)]
    pub citations: Option<Value>,
}

/// One choice: `message` in a complete answer, `delta` in a stream chunk.
#[derive(Debug, Default, Deserialize)]
pub struct Choice {
    /// Which choice (requests ask for one).
    #[serde(default)]
    pub index: Option<u32>,
    /// The complete message.
    #[serde(default)]
    pub message: Option<ResponseMessage>,
    /// The streamed piece.
    #[serde(default)]
    pub delta: Option<ResponseMessage>,
    /// Why generation ended; null until the last chunk.
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// A response message or a stream delta.
#[derive(Debug, Default, Deserialize)]
pub struct ResponseMessage {
    /// Text (a string, null, or an array of text parts).
    #[serde(default, deserialize_with = "present")]
    pub content: Option<Value>,
    /// Reasoning text (DeepSeek, vLLM before 0.11, llama.cpp).
    #[serde(default)]
    pub reasoning_content: Option<String>,
    /// Reasoning text (vLLM 0.11+, Ollama); a string, or an object on some routers.
    #[serde(default)]
    pub reasoning: Option<Value>,
    /// A refusal in place of content.
    #[serde(default)]
    pub refusal: Option<String>,
    /// Tool calls (whole, or pieces in a stream).
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCallIn>>,
    /// `url_citation` annotations of OpenAI's search models.
    #[serde(default)]
    pub annotations: Option<Vec<Value>>,
}

/// A tool call, or a piece of one in a stream.
#[derive(Debug, Default, Deserialize)]
pub struct ToolCallIn {
    /// The call's position (streams; Ollama once omitted it and now repeats 0).
    #[serde(default)]
    pub index: Option<u32>,
    /// The call id (absent on later pieces; empty on vLLM's; missing on some servers).
    #[serde(default)]
    pub id: Option<String>,
    /// The function.
    #[serde(default)]
    pub function: Option<FunctionCallIn>,
}

/// The function part of a [`ToolCallIn`].
#[derive(Debug, Default, Deserialize)]
pub struct FunctionCallIn {
    /// The tool's name (first piece only, in streams).
    #[serde(default)]
    pub name: Option<String>,
    /// JSON text; some Ollama versions send an object instead.
    #[serde(default)]
    pub arguments: Option<Value>,
}

/// `usage`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct WireUsage {
    /// Prompt tokens, including cached ones.
    #[serde(default)]
    pub prompt_tokens: Option<u64>,
    /// Generated tokens: including reasoning (OpenAI), or without it (xAI; see
    /// [`usage`](super::response::usage)).
    #[serde(default)]
    pub completion_tokens: Option<u64>,
    /// Prompt plus completion tokens, as the server adds them up; tells how it counted.
    #[serde(default)]
    pub total_tokens: Option<u64>,
    /// Prompt breakdown.
    #[serde(default)]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    /// Completion breakdown.
    #[serde(default)]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

/// `usage.prompt_tokens_details`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PromptTokensDetails {
    /// Prompt tokens served from the cache.
    #[serde(default)]
    pub cached_tokens: Option<u64>,
}

/// `usage.completion_tokens_details`.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CompletionTokensDetails {
    /// Tokens spent reasoning.
    #[serde(default)]
    pub reasoning_tokens: Option<u64>,
}

/// llama.cpp's `timings`: `prompt_n` tokens evaluated, `cache_n` reused, `predicted_n` generated.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Timings {
    /// Prompt tokens evaluated (not cached).
    #[serde(default)]
    pub prompt_n: Option<u64>,
    /// Prompt tokens reused from the cache.
    #[serde(default)]
    pub cache_n: Option<u64>,
    /// Generated tokens.
    #[serde(default)]
    pub predicted_n: Option<u64>,
}

/// The body of `POST /embeddings`, before `extra` is merged in.
#[derive(Debug, Serialize)]
pub struct EmbeddingsRequest {
    /// The embedding model.
    pub model: String,
    /// The texts.
    pub input: Vec<String>,
    /// Requested vector size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Always `float`: servers differ in their default.
    pub encoding_format: &'static str,
}

/// The response of `POST /embeddings`.
#[derive(Debug, Deserialize)]
pub struct EmbeddingsResponse {
    /// One entry per input.
    #[serde(default)]
    pub data: Option<Vec<EmbeddingData>>,
    /// The model that embedded.
    #[serde(default)]
    pub model: Option<String>,
    /// Token accounting.
    #[serde(default)]
    pub usage: Option<WireUsage>,
}

/// One vector.
#[derive(Debug, Deserialize)]
pub struct EmbeddingData {
    /// Which input it belongs to.
    #[serde(default)]
    pub index: Option<usize>,
    /// Floats, or base64 of little-endian f32 when a server ignores `encoding_format`.
    #[serde(default)]
    pub embedding: Option<Value>,
}

/// The response of `GET /models`.
#[derive(Debug, Deserialize)]
pub struct ModelList {
    /// The models; Ollama sends `null` when none is installed.
    #[serde(default, deserialize_with = "present")]
    pub data: Option<Value>,
}

/// One entry of `GET /models`.
#[derive(Debug, Deserialize)]
pub struct ModelEntry {
    /// The model id.
    pub id: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: Option<u64>,
    /// Publisher.
    #[serde(default)]
    pub owned_by: Option<String>,
    /// vLLM: the context length it serves.
    #[serde(default)]
    pub max_model_len: Option<u64>,
    /// llama.cpp: `meta.n_ctx_train`.
    #[serde(default)]
    pub meta: Option<ModelMeta>,
}

/// llama.cpp's per-model metadata.
#[derive(Debug, Deserialize)]
pub struct ModelMeta {
    /// The context length the model was trained with.
    #[serde(default)]
    pub n_ctx_train: Option<u64>,
}
