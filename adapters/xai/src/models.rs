//! xAI's model list (`GET /models`) as SCRI model infos.
//!
//! Beside OpenAI's `id`, `created` and `owned_by`, xAI's entries carry `context_length` and,
//! on language and image models, `input_modalities` / `output_modalities`. Capabilities:
//!
//! | SCRI | from |
//! | --- | --- |
//! | `context-window` | `context_length` |
//! | `vision` | `input_modalities` holds `image`; without modalities, a `grok-4…` (not code) or `…vision…` id |
//! | `tools`, `streaming` | the model writes text (`output_modalities` holds `text`, or none listed) |
//! | `reasoning` | not `…non-reasoning`; `…reasoning`, `grok-3-mini…`, `grok-code…`, or `grok-<N>` with N ≥ 4 |
//! | `embeddings` | never: xAI offers no embedding model |

use aratta_guest::http::Request;
use aratta_guest::json::parse;
use aratta_guest::{AdapterError, CallContext, ModelCapabilities, ModelInfo};
use aratta_openai_compatible::response;
use serde_json::Value;

/// `GET {base}/models`, with capabilities read off each entry.
pub fn list(ctx: &CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
    let bytes = Request::get(ctx, "/models")
        .header("accept", "application/json")
        .send()?
        .error_for_status()?
        .bytes()?;
    parse_models(&bytes)
}

/// A `/models` body as SCRI model infos.
pub fn parse_models(body: &[u8]) -> Result<Vec<ModelInfo>, AdapterError> {
    let mut models = response::models(body)?;
    let raw: Value = parse(body)?;
    let entries = raw.get("data").and_then(Value::as_array);
    for (i, model) in models.iter_mut().enumerate() {
        let entry = entries.and_then(|e| e.get(i)).unwrap_or(&Value::Null);
        model.capabilities = capabilities(&model.id, entry);
    }
    Ok(models)
}

fn modalities<'a>(entry: &'a Value, field: &str) -> Option<Vec<&'a str>> {
    entry
        .get(field)?
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
}

/// What the model `id` (its `/models` entry `entry`) can do.
pub fn capabilities(id: &str, entry: &Value) -> ModelCapabilities {
    let inputs = modalities(entry, "input_modalities");
    let outputs = modalities(entry, "output_modalities");
    let writes_text = outputs.as_ref().is_none_or(|o| o.contains(&"text"));
    let vision = match &inputs {
        Some(inputs) => inputs.contains(&"image"),
        None => id.contains("vision") || (id.starts_with("grok-4") && !id.contains("code")),
    };
    let context = entry
        .get("context_length")
        .and_then(Value::as_u64)
        .map(|n| u32::try_from(n).unwrap_or(u32::MAX));
    ModelCapabilities {
        context_window: context,
        max_output_tokens: None,
        tools: writes_text,
        vision,
        streaming: writes_text,
        embeddings: false,
        reasoning: writes_text && reasons(id),
    }
}

fn reasons(id: &str) -> bool {
    if id.contains("non-reasoning") {
        return false;
    }
    if id.contains("reasoning") || id.starts_with("grok-3-mini") || id.starts_with("grok-code") {
        return true;
    }
    let generation: String = id
        .strip_prefix("grok-")
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    generation.parse::<u32>().is_ok_and(|n| n >= 4)
}
