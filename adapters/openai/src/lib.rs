//! Aratta adapter for OpenAI's API (`https://api.openai.com/v1`).
//!
//! Chat goes to Chat Completions (`/chat/completions`) through `aratta-openai-compatible` with
//! OpenAI's own [`Dialect`] (`developer` role, `max_completion_tokens`), except where only the
//! Responses API (`/responses`) can do what was asked ([`RESPONSES`]): server-side tools in
//! `extra.tools`, reasoning summaries (`include-reasoning`), or encrypted reasoning carried from
//! an earlier Responses answer. Embeddings, models and the health check use `/embeddings` and
//! `/models`. Every error passes through [`errors::classify`], which reads OpenAI's error
//! codes. The field-by-field mapping is in `docs/providers/openai.md`.

pub mod errors;
pub mod models;

#[cfg(test)]
mod tests;

use aratta_guest::{AdapterError, AdapterInfo, AuthScheme, CallContext, ModelInfo};
use aratta_openai_compatible::responses::ResponsesDialect;
use aratta_openai_compatible::{Dialect, OpenAiCompatible};

/// The base URL of OpenAI's API, as the official SDKs default it.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// OpenAI's Chat Completions: `developer` stays `developer`, the token limit is
/// `max_completion_tokens` (the only name reasoning models accept), no `top_k`.
pub const CHAT: Dialect = Dialect::OPENAI;

/// OpenAI's Responses API: function tools sent `strict: false`, reasoning summaries on request.
pub const RESPONSES: ResponsesDialect = ResponsesDialect::OPENAI;

/// The adapter: OpenAI-compatible defaults, except for model capabilities and errors.
pub struct OpenAi;

impl OpenAiCompatible for OpenAi {
    const DIALECT: Dialect = CHAT;
    const RESPONSES: Option<ResponsesDialect> = Some(RESPONSES);

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

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        models::list(&ctx)
    }

    fn classify(error: AdapterError) -> AdapterError {
        errors::classify(error)
    }
}

aratta_guest::export_adapter!(aratta_openai_compatible::Compatible<OpenAi>);
