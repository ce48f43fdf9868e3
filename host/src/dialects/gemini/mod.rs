//! The Gemini API dialect (Generative Language API `v1beta`): pure translation between
//! Gemini's wire format and SCRI, so the official Google Gen AI SDKs work unchanged with
//! `http_options.base_url` pointed at Aratta and reach any provider. The translation is
//! pure (no I/O); [`routes`] serves it.
//!
//! | Gemini                                              | here                               |
//! |-----------------------------------------------------|------------------------------------|
//! | `POST /v1beta/models/{model}:generateContent`       | [`generate_request`] → SCRI; [`generate_response`] back |
//! | `POST /v1beta/models/{model}:streamGenerateContent` | the same request; [`ChunkEncoder`] back |
//! | `POST /v1beta/models/{model}:embedContent`, `:batchEmbedContents` | [`embed_request`], [`batch_embed_request`] and their answers |
//! | `GET /v1beta/models`, `GET /v1beta/models/{model}`  | [`models_page`], [`model`]         |
//! | any error                                           | [`error_body`]; bad requests are [`RequestError`](super::RequestError) |
//!
//! **Model names in the path.** The SDK builds `models/{model}:{method}` without escaping, so
//! an Aratta model (`local:llama3.2:3b`, an alias) arrives as `local:llama3.2:3b:generateContent`;
//! [`split_model_method`] splits at the LAST colon. Gemini's own method names hold no colon,
//! so every Aratta model name survives (`/` too: the route takes the rest of the path).
//!
//! What does not cross: `safetySettings` and `taskType` steer Google's models only and are
//! ignored; Google's built-in tools (search, code execution, ...), `cachedContent`, several
//! candidates, non-text output modalities and logprobs are refused with a 400 naming the
//! field. Field names are accepted in camelCase (what the SDK sends) and snake_case (what
//! Google's REST examples often use).

mod contents;
mod embed;
mod error;
mod models;
mod request;
mod response;
pub mod routes;
mod schema;
mod stream;
#[cfg(test)]
mod tests;

pub use embed::{batch_embed_request, batch_embed_response, embed_request, embed_response};
pub use error::{error_body, status_name};
pub use models::{ModelsQuery, model, models_page};
pub use request::generate_request;
pub use response::{GenerateBody, finish_reason, generate_body, generate_response};
pub use stream::ChunkEncoder;

/// Split the path after `/v1beta/models/` into the model and the method, at the last colon:
/// `local:llama3.2:generateContent` → (`local:llama3.2`, `generateContent`). A leading
/// `models/` (some clients repeat it) is dropped. `None` when there is no colon.
pub fn split_model_method(rest: &str) -> Option<(&str, &str)> {
    let (model, method) = rest.rsplit_once(':')?;
    let model = model.strip_prefix("models/").unwrap_or(model);
    Some((model, method))
}
