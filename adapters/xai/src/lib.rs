//! Aratta adapter for xAI's API (`https://api.x.ai/v1`, Grok models).
//!
//! xAI serves OpenAI's Chat Completions format with differences this crate accounts for:
//! SCRI's `developer` role goes out as `system` (xAI documents `system`, `user`, `assistant`,
//! `tool`); reasoning arrives as `reasoning_content`; `completion_tokens` leaves the reasoning
//! tokens out (the SDK adds them back from `total_tokens`); errors use their own body shape
//! (`{"code","error"}`) and statuses (a bad key is 400, exhausted credits 403 or 429).
//!
//! Search: xAI retired Live Search (`search_parameters` now answers 410). Its replacement, the
//! server-side `web_search` and `x_search` tools, exists only on the Responses API, so a request
//! whose `extra.tools` holds them goes to `/responses` ([`responses::route`]); the sources the
//! agent consulted come back as a final `Sources:` text block. Reasoning summaries and xAI's
//! encrypted reasoning (carried to the next turn) take the same route.
//!
//! xAI offers no embedding model, so `embed` is `unsupported`. The field-by-field mapping is in
//! `docs/providers/xai.md`.

pub mod errors;
pub mod models;

#[cfg(test)]
mod tests;

use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, EmbeddingRequest, EmbeddingResponse, ErrorDetail, HealthReport, Json, Message,
    ModelInfo, Tool,
};
use aratta_openai_compatible::responses::{self, ResponsesDialect};
use aratta_openai_compatible::{Dialect, client, request, tools};

/// The base URL of xAI's API, as xAI's docs and the OpenAI SDKs pointed at it use it.
pub const DEFAULT_BASE_URL: &str = "https://api.x.ai/v1";

/// xAI's Chat Completions: `developer` sent as `system`, the token limit as
/// `max_completion_tokens` (`max_tokens` is deprecated there), no `top_k`, named tool choice
/// in OpenAI's object form.
pub const CHAT: Dialect = Dialect {
    developer_role: false,
    max_completion_tokens: true,
    top_k: false,
    named_tool_choice_as_required: false,
};

/// xAI's Responses API: reasoning blocks in format `xai-responses-v1`, no `strict` on function
/// tools, no `reasoning.summary` parameter (summaries come without asking).
pub const RESPONSES: ResponsesDialect = ResponsesDialect::XAI;

/// The adapter.
pub struct Xai;

impl Adapter for Xai {
    fn describe() -> AdapterInfo {
        AdapterInfo {
            name: "xai".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            description: "xAI (Grok): Chat Completions, Responses API for web and X search, models"
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
        _ctx: CallContext,
        _request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        Err(AdapterError::Unsupported(ErrorDetail::new(
            "xAI offers no embedding models (its model list has none); route `embed` to a \
             provider that does",
        )))
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

aratta_guest::export_adapter!(Xai);
