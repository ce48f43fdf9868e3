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
//! whose `extra.tools` holds them goes to `/responses` ([`RESPONSES`]); the sources the
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
    AdapterError, AdapterInfo, AuthScheme, CallContext, EmbeddingRequest, EmbeddingResponse,
    ErrorDetail, ModelInfo,
};
use aratta_openai_compatible::responses::ResponsesDialect;
use aratta_openai_compatible::{Dialect, OpenAiCompatible};

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

/// The adapter: OpenAI-compatible defaults, except for models, embeddings and errors.
pub struct Xai;

impl OpenAiCompatible for Xai {
    const DIALECT: Dialect = CHAT;
    const RESPONSES: Option<ResponsesDialect> = Some(RESPONSES);

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

    fn embed(
        _ctx: CallContext,
        _request: EmbeddingRequest,
    ) -> Result<EmbeddingResponse, AdapterError> {
        Err(AdapterError::Unsupported(ErrorDetail::new(
            "xAI offers no embedding models (its model list has none); route `embed` to a \
             provider that does",
        )))
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        models::list(&ctx)
    }

    fn classify(error: AdapterError) -> AdapterError {
        errors::classify(error)
    }
}

aratta_guest::export_adapter!(aratta_openai_compatible::Compatible<Xai>);
