//! `GET {base}/models` as SCRI model infos, following `nextPageToken` across pages.
//!
//! Capabilities come from what Gemini lists: `supportedGenerationMethods` (`generateContent`
//! means chat, streaming, tools and images for Gemini models; `embedContent` /
//! `batchEmbedContents` mean embeddings), `inputTokenLimit`, `outputTokenLimit` and `thinking`.
//! Tool use and image input are claimed only for `gemini-*` models: Gemma, AQA and the like
//! answer `generateContent` without them.

use aratta_guest::{AdapterError, ModelCapabilities, ModelInfo};

use crate::wire::{Model, ModelList};

/// Models per page (the API's maximum is 1000).
pub const PAGE_SIZE: u32 = 1000;

/// At most this many pages are read, so a server that keeps answering with a token cannot
/// keep the adapter busy forever.
pub const MAX_PAGES: usize = 50;

/// The path of the page after `token` (the first page when `None`).
pub fn page_path(token: Option<&str>) -> String {
    match token {
        None => format!("/models?pageSize={PAGE_SIZE}"),
        Some(token) => format!(
            "/models?pageSize={PAGE_SIZE}&pageToken={}",
            crate::request::encode_path(token).replace('/', "%2F")
        ),
    }
}

/// One page: its models and the next page's token.
pub fn page(body: &[u8]) -> Result<(Vec<ModelInfo>, Option<String>), AdapterError> {
    let list: ModelList = aratta_guest::json::parse(body)?;
    let models = list
        .models
        .unwrap_or_default()
        .into_iter()
        .map(info)
        .collect();
    Ok((models, list.next_page_token.filter(|t| !t.is_empty())))
}

fn count(n: Option<u64>) -> Option<u32> {
    n.map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn info(model: Model) -> ModelInfo {
    let methods = model.supported_generation_methods.unwrap_or_default();
    let has = |m: &str| methods.iter().any(|x| x == m);
    let id = model
        .name
        .strip_prefix("models/")
        .unwrap_or(&model.name)
        .to_string();
    let chat = has("generateContent");
    let gemini = id.starts_with("gemini");
    ModelInfo {
        capabilities: ModelCapabilities {
            context_window: count(model.input_token_limit),
            max_output_tokens: count(model.output_token_limit),
            tools: chat && gemini,
            vision: chat && gemini,
            streaming: chat || has("streamGenerateContent"),
            embeddings: has("embedContent") || has("batchEmbedContents"),
            reasoning: model.thinking == Some(true),
        },
        id,
        owned_by: Some("google".to_string()),
        created: None,
    }
}
