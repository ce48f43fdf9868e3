//! SCRI embeddings and model listings as JSON.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::{Lineage, Usage};

/// Texts to embed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmbedRequest {
    /// An alias, `provider:model`, or a bare model name that providers list.
    pub model: String,
    /// The texts, embedded in order.
    pub inputs: Vec<String>,
    /// Requested vector size, where the provider can shorten vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    /// Provider-specific fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<Value>,
}

/// One vector per input, in order.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EmbedResponse {
    /// The model that embedded.
    pub model: String,
    /// The vectors.
    pub embeddings: Vec<Vec<f32>>,
    /// Token accounting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Where the answer came from.
    pub lineage: Lineage,
}

/// What a model can do.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct ModelCapabilities {
    /// Context window in tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u32>,
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u32>,
    /// Tool calls.
    pub tools: bool,
    /// Image input.
    pub vision: bool,
    /// Streaming.
    pub streaming: bool,
    /// Embeddings.
    pub embeddings: bool,
    /// Reasoning.
    pub reasoning: bool,
}

/// A model, addressed as `provider:id`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelEntry {
    /// `provider:model`, ready to use as a request's `model`.
    pub id: String,
    /// The provider offering it.
    pub provider: String,
    /// The provider's own model id.
    pub model: String,
    /// Who publishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owned_by: Option<String>,
    /// Unix seconds when created, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<u64>,
    /// What it can do.
    pub capabilities: ModelCapabilities,
}

/// `GET /api/v1/models`: every enabled provider's models, plus providers that failed to list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModelList {
    /// The models.
    pub models: Vec<ModelEntry>,
    /// Aliases from the config, with their ordered targets.
    pub aliases: std::collections::BTreeMap<String, Vec<String>>,
    /// Providers that could not list their models, with the reason.
    pub unavailable: Vec<ProviderProblem>,
}

/// A provider that could not answer, and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ProviderProblem {
    /// The provider.
    pub provider: String,
    /// What went wrong.
    pub error: super::ApiErrorBody,
}
