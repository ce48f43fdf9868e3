//! SCRI `ModelList` → Gemini's `GET /v1beta/models` (`{"models": [...], "nextPageToken"}`,
//! paged by `pageSize` (default 50, at most 1000) and `pageToken`, here the offset) and
//! `GET /v1beta/models/{model}`. Names are `models/` + Aratta's `provider:model` (then the
//! aliases), so the SDK can send any listed name straight back.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::scri::{ModelEntry, ModelList};

/// The paging query of `GET /v1beta/models`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsQuery {
    /// Page size, 1 to 1000 (default 50).
    #[serde(default)]
    pub page_size: Option<usize>,
    /// The `nextPageToken` of the previous page.
    #[serde(default)]
    pub page_token: Option<String>,
}

fn all(list: &ModelList) -> Vec<Value> {
    let mut out: Vec<Value> = list.models.iter().map(entry).collect();
    for (alias, targets) in &list.aliases {
        if !list.models.iter().any(|m| &m.id == alias) {
            out.push(json!({
                "name": format!("models/{alias}"),
                "baseModelId": alias,
                "version": "alias",
                "displayName": alias,
                "description": format!("Aratta alias for {}", targets.join(", ")),
                "supportedGenerationMethods": ["generateContent", "streamGenerateContent"],
            }));
        }
    }
    out
}

fn entry(m: &ModelEntry) -> Value {
    let caps = &m.capabilities;
    let mut methods = Vec::new();
    if caps.embeddings {
        methods.extend(["embedContent", "batchEmbedContents"]);
    }
    if !caps.embeddings || caps.streaming || caps.tools {
        methods.extend(["generateContent", "streamGenerateContent"]);
    }
    let mut out = json!({
        "name": format!("models/{}", m.id),
        "baseModelId": m.model,
        "version": m.provider,
        "displayName": m.model,
        "supportedGenerationMethods": methods,
        "thinking": caps.reasoning,
    });
    if let Some(n) = caps.context_window {
        out["inputTokenLimit"] = json!(n);
    }
    if let Some(n) = caps.max_output_tokens {
        out["outputTokenLimit"] = json!(n);
    }
    out
}

/// One page of models in Gemini's shape.
pub fn models_page(list: &ModelList, query: &ModelsQuery) -> Value {
    let all = all(list);
    let size = query.page_size.unwrap_or(50).clamp(1, 1000);
    let start = query
        .page_token
        .as_deref()
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0)
        .min(all.len());
    let end = (start + size).min(all.len());
    let mut page = json!({"models": all[start..end]});
    if end < all.len() {
        page["nextPageToken"] = json!(end.to_string());
    }
    page
}

/// One model by name (`local:llama3.2`, with or without `models/`), when it is listed.
pub fn model(list: &ModelList, name: &str) -> Option<Value> {
    let name = name.strip_prefix("models/").unwrap_or(name);
    let wanted = format!("models/{name}");
    all(list).into_iter().find(|m| m["name"] == wanted)
}
