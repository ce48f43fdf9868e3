//! Gemini embeddings → SCRI and back. `embedContent` embeds one `content`;
//! `batchEmbedContents` (what the Python SDK's `embed_content` calls) embeds one per request,
//! every request naming the model of the path. A content's text parts are joined with `\n`
//! into one input. `outputDimensionality` becomes SCRI `dimensions`; `taskType` and `title`
//! steer Google's models only and are ignored.

use serde::Deserialize;
use serde_json::{Value, json};

use super::contents::InContent;
use crate::dialects::RequestError;
use crate::dialects::json::parse_at;
use crate::scri::{EmbedRequest, EmbedResponse};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbedBody {
    #[serde(default)]
    model: Option<String>,
    content: InContent,
    #[serde(default, alias = "output_dimensionality")]
    output_dimensionality: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct BatchBody {
    requests: Vec<Value>,
}

fn text_of(content: &InContent, path: &str) -> Result<String, RequestError> {
    let mut texts = Vec::with_capacity(content.parts.len());
    for (i, part) in content.parts.iter().enumerate() {
        match part.get("text").and_then(Value::as_str) {
            Some(text) => texts.push(text),
            None => {
                return Err(RequestError::unsupported(
                    format!("{path}.parts[{i}]"),
                    "only text can be embedded through Aratta",
                ));
            }
        }
    }
    if texts.is_empty() {
        return Err(RequestError::invalid(
            format!("{path}.parts"),
            "must hold at least one text part",
        ));
    }
    Ok(texts.join("\n"))
}

fn check_model(named: Option<&str>, model: &str, path: &str) -> Result<(), RequestError> {
    match named.map(|m| m.strip_prefix("models/").unwrap_or(m)) {
        Some(m) if m != model => Err(RequestError::invalid(
            path,
            format!(
                "names model `{m}`, but the request's path names `{model}`; one batch embeds with one model"
            ),
        )),
        _ => Ok(()),
    }
}

/// Parse an `embedContent` body for `model`.
pub fn embed_request(model: &str, body: &[u8]) -> Result<EmbedRequest, RequestError> {
    let body: EmbedBody = parse_at(&crate::dialects::json::object(body)?, "")?;
    check_model(body.model.as_deref(), model, "model")?;
    Ok(EmbedRequest {
        model: model.to_owned(),
        inputs: vec![text_of(&body.content, "content")?],
        dimensions: body.output_dimensionality,
        extra: None,
    })
}

/// Parse a `batchEmbedContents` body for `model`.
pub fn batch_embed_request(model: &str, body: &[u8]) -> Result<EmbedRequest, RequestError> {
    let batch: BatchBody = parse_at(&crate::dialects::json::object(body)?, "")?;
    if batch.requests.is_empty() {
        return Err(RequestError::invalid(
            "requests",
            "must hold at least one request",
        ));
    }
    let mut inputs = Vec::with_capacity(batch.requests.len());
    let mut dimensions = None;
    for (i, request) in batch.requests.iter().enumerate() {
        let path = format!("requests[{i}]");
        let one: EmbedBody = parse_at(request, &path)?;
        check_model(one.model.as_deref(), model, &format!("{path}.model"))?;
        if i > 0 && one.output_dimensionality != dimensions {
            return Err(RequestError::invalid(
                format!("{path}.outputDimensionality"),
                "every request of a batch must ask for the same dimensionality",
            ));
        }
        dimensions = one.output_dimensionality;
        inputs.push(text_of(&one.content, &format!("{path}.content"))?);
    }
    Ok(EmbedRequest {
        model: model.to_owned(),
        inputs,
        dimensions,
        extra: None,
    })
}

/// The `embedContent` answer: `{"embedding": {"values": [...]}}`.
pub fn embed_response(resp: &EmbedResponse) -> Value {
    let values = resp.embeddings.first().cloned().unwrap_or_default();
    json!({"embedding": {"values": values}})
}

/// The `batchEmbedContents` answer: `{"embeddings": [{"values": [...]}, ...]}`.
pub fn batch_embed_response(resp: &EmbedResponse) -> Value {
    let embeddings: Vec<Value> = resp
        .embeddings
        .iter()
        .map(|v| json!({"values": v}))
        .collect();
    json!({"embeddings": embeddings})
}
