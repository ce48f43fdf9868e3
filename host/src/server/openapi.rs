//! `GET /api/v1/openapi.json`: the SCRI API described from the handlers' own types, so the
//! document cannot drift from what the server accepts.

use axum::Json;
use utoipa::OpenApi;

use crate::gateway::{HealthReport, ProviderHealth};
use crate::scri;

/// The SCRI API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Aratta SCRI API",
        description = "One API for every LLM provider: chat, streaming, tools, embeddings, models, health."
    ),
    paths(
        crate::dialects::scri::routes::chat,
        crate::dialects::scri::routes::embed,
        crate::dialects::scri::routes::models,
        crate::dialects::scri::routes::health
    ),
    components(schemas(
        scri::ChatRequest,
        scri::ChatResponse,
        scri::Message,
        scri::Content,
        scri::ContentBlock,
        scri::Role,
        scri::Image,
        scri::ImageSource,
        scri::Tool,
        scri::ToolCall,
        scri::ToolResult,
        scri::ToolResultContent,
        scri::ToolResultPart,
        scri::Reasoning,
        scri::ToolChoice,
        scri::ToolChoiceMode,
        scri::ResponseFormat,
        scri::Sampling,
        scri::ReasoningOptions,
        scri::FinishReason,
        scri::Usage,
        scri::Lineage,
        scri::Attempt,
        scri::StreamEvent,
        scri::EmbedRequest,
        scri::EmbedResponse,
        scri::ModelList,
        scri::ModelEntry,
        scri::ModelCapabilities,
        scri::ProviderProblem,
        scri::ApiError,
        scri::ApiErrorBody,
        HealthReport,
        ProviderHealth,
    ))
)]
pub struct ScriApi;

/// Serve the document (the tool registry's, agents', adapter reload, heal, client-key and
/// usage routes merged in).
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    let mut doc = ScriApi::openapi();
    doc.merge(super::tool_routes::ToolApi::openapi());
    doc.merge(super::agent_routes::AgentApi::openapi());
    doc.merge(super::adapter_routes::AdapterApi::openapi());
    doc.merge(super::heal_routes::HealApi::openapi());
    doc.merge(super::key_routes::KeyApi::openapi());
    doc.merge(super::usage_routes::UsageApi::openapi());
    Json(doc)
}
