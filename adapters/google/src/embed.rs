//! Embeddings through `batchEmbedContents`: one request per input text, answered in order.
//!
//! `extra` is merged into every per-text request (that is where Gemini's embedding options
//! live: `taskType`, `title`), not into the outer `{"requests": [...]}` body.

use serde_json::{Value, json};

use aratta_guest::{AdapterError, EmbeddingRequest, EmbeddingResponse};

use crate::request::merge_extra;
use crate::wire::BatchEmbedResponse;

/// The resource name Gemini wants inside each request: `models/{model}`.
pub fn model_resource(model: &str) -> String {
    let model = model.trim();
    if model.starts_with("models/") || model.starts_with("tunedModels/") {
        model.to_string()
    } else {
        format!("models/{model}")
    }
}

/// The body of `POST {base}/models/{model}:batchEmbedContents`.
pub fn body(request: &EmbeddingRequest) -> Result<Value, AdapterError> {
    let model = model_resource(&request.model);
    let requests = request
        .inputs
        .iter()
        .map(|text| {
            let mut one = json!({"model": model, "content": {"parts": [{"text": text}]}});
            if let Some(dimensions) = request.dimensions {
                one["outputDimensionality"] = json!(dimensions);
            }
            merge_extra(&mut one, request.extra.as_deref())?;
            Ok(one)
        })
        .collect::<Result<Vec<_>, AdapterError>>()?;
    Ok(json!({"requests": requests}))
}

/// The vectors of `body`, which must hold one per input.
pub fn response(
    body: &[u8],
    request: &EmbeddingRequest,
) -> Result<EmbeddingResponse, AdapterError> {
    let parsed: BatchEmbedResponse = aratta_guest::json::parse(body)?;
    if parsed.embeddings.len() != request.inputs.len() {
        return Err(AdapterError::schema_mismatch(
            aratta_guest::MismatchKind::MissingField,
            "embeddings",
            format!(
                "Gemini returned {} embeddings for {} inputs",
                parsed.embeddings.len(),
                request.inputs.len()
            ),
            body,
        ));
    }
    Ok(EmbeddingResponse {
        model: request.model.clone(),
        embeddings: parsed.embeddings.into_iter().map(|e| e.values).collect(),
        // batchEmbedContents reports no token counts.
        usage: None,
    })
}
