//! Aratta adapter for OpenAI's API (`https://api.openai.com/v1`).
//!
//! Chat goes to Chat Completions (`/chat/completions`) through the SDK's OpenAI module with
//! OpenAI's own [`Dialect`] (`developer` role, `max_completion_tokens`), except where only the
//! Responses API (`/responses`) can do what was asked ([`responses::route`]): server-side tools
//! in `extra.tools`, reasoning summaries (`include-reasoning`), or encrypted reasoning carried
//! from an earlier Responses answer. Embeddings, models and the health check use `/embeddings`
//! and `/models`. Every error passes through [`errors::classify`], which reads OpenAI's error
//! codes. The field-by-field mapping is in `docs/providers/openai.md`.

pub mod errors;
pub mod models;

#[cfg(test)]
mod tests;

use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, EmbeddingRequest, EmbeddingResponse, HealthReport, Json, Message, ModelInfo,
    Tool,
};
use aratta_openai_compatible::responses::{self, ResponsesDialect};
use aratta_openai_compatible::{Dialect, client, request, tools};

/// The base URL of OpenAI's API, as the official SDKs default it.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// OpenAI's Chat Completions: `developer` stays `developer`, the token limit is
/// `max_completion_tokens` (the only name reasoning models accept), no `top_k`.
pub const CHAT: Dialect = Dialect::OPENAI;

/// OpenAI's Responses API: function tools sent `strict: false`, reasoning summaries on request.
pub const RESPONSES: ResponsesDialect = ResponsesDialect::OPENAI;

/// The adapter.
pub struct OpenAi;

impl Adapter for OpenAi {
    fn describe() -> AdapterInfo {
        AdapterInfo {
            name: "openai".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "OpenAI: Chat Completions (Responses API for server-side tools and \
                          reasoning), embeddings, models"
                .to_string(),
            default_base_url: DEFAULT_BASE_URL.to_string(),
            extra_hosts: Vec::new(),
            auth: AuthScheme::Bearer,
        }
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        match responses::route(&request, &RESPONSES) {
            Some(why) => responses::chat(&ctx, &request, &RESPONSES, why),
            None => client::chat(&ctx, &request, &CHAT),
        }
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        match responses::route(&request, &RESPONSES) {
            Some(why) => responses::chat_stream(&ctx, &request, &RESPONSES, why),
            None => client::chat_stream(&ctx, &request, &CHAT),
        }
    }

    fn embed(
        ctx: CallContext,
        request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        client::embed(&ctx, &request)
    }

    fn convert_messages(messages: Vec<Message>) -> Result<Json, AdapterError> {
        request::messages_json(&messages, &CHAT)
    }

    fn convert_tools(tools: Vec<Tool>) -> Result<Json, AdapterError> {
        tools::to_openai_json(&tools)
    }

    fn parse_tools(native: Json) -> Result<Vec<Tool>, AdapterError> {
        tools::from_openai_json(&native)
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        models::list(&ctx)
    }

    fn health_check(ctx: CallContext) -> Result<HealthReport, AdapterError> {
        let models = models::list(&ctx)?;
        Ok(HealthReport {
            model_count: Some(u32::try_from(models.len()).unwrap_or(u32::MAX)),
            detail: models
                .is_empty()
                .then(|| "the key lists no models".to_string()),
        })
    }

    fn classify(error: AdapterError) -> AdapterError {
        errors::classify(error)
    }
}

aratta_guest::export_adapter!(OpenAi);
