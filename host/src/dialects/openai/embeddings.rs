//! `POST /v1/embeddings` ⇄ SCRI embeddings. `encoding_format` matters more than it looks:
//! the openai-python SDK asks for `base64` whenever the caller does not choose, and decodes
//! the answer as little-endian `f32` bytes, so that form must be exact.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Number, Value, json};

use crate::dialects::RequestError;
use crate::dialects::json::{Obj, type_error};
use crate::scri::{EmbedRequest, EmbedResponse};

/// How the vectors are written in the response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EncodingFormat {
    /// A JSON array of numbers (OpenAI's default).
    #[default]
    Float,
    /// Base64 of the vector's little-endian `f32` bytes.
    Base64,
}

/// Fields this module maps; every other non-null field (e.g. `user`) goes to `extra`.
const HANDLED: &[&str] = &["model", "input", "dimensions", "encoding_format"];

/// Parse an OpenAI embeddings request body into SCRI, plus the encoding the answer needs.
/// `input` may be a string or an array of strings; token arrays are refused, since SCRI
/// carries text.
pub fn embeddings_request(body: &[u8]) -> Result<(EmbedRequest, EncodingFormat), RequestError> {
    let value = crate::dialects::json::object(body)?;
    let root = Obj::new(&value, "")?;
    let model = root.req_str("model")?;
    if model.is_empty() {
        return Err(RequestError::Invalid {
            param: "model".into(),
            reason: "must not be empty".into(),
        });
    }
    let format = match root.str("encoding_format")? {
        None | Some("float") => EncodingFormat::Float,
        Some("base64") => EncodingFormat::Base64,
        Some(other) => {
            return Err(RequestError::Invalid {
                param: "encoding_format".into(),
                reason: format!("unknown format `{other}`; expected `float` or `base64`"),
            });
        }
    };
    let extra: Map<String, Value> = root
        .map
        .iter()
        .filter(|(key, value)| !HANDLED.contains(&key.as_str()) && !value.is_null())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    let request = EmbedRequest {
        model: model.to_owned(),
        inputs: inputs(root.require("input")?)?,
        dimensions: root.u32("dimensions")?,
        extra: (!extra.is_empty()).then_some(Value::Object(extra)),
    };
    Ok((request, format))
}

fn inputs(input: &Value) -> Result<Vec<String>, RequestError> {
    let token_arrays = || RequestError::Unsupported {
        param: "input".into(),
        reason: "token arrays are not supported; send the text as a string or an array of strings"
            .into(),
    };
    match input {
        Value::String(text) => Ok(vec![text.clone()]),
        Value::Array(items) if items.is_empty() => Err(RequestError::Invalid {
            param: "input".into(),
            reason: "must contain at least one input".into(),
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| match item {
                Value::String(text) => Ok(text.clone()),
                Value::Number(_) | Value::Array(_) => Err(token_arrays()),
                other => Err(type_error(&format!("input[{i}]"), "a string", other)),
            })
            .collect(),
        other => Err(type_error(
            "input",
            "a string or an array of strings",
            other,
        )),
    }
}

/// The OpenAI `list` of embeddings for a SCRI answer, vectors written as `format` asks.
pub fn embeddings_response(resp: &EmbedResponse, format: EncodingFormat) -> Value {
    let data: Vec<Value> = resp
        .embeddings
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = match format {
                EncodingFormat::Float => Value::Array(vector.iter().map(|&x| float(x)).collect()),
                EncodingFormat::Base64 => json!(base64_vector(vector)),
            };
            json!({"object": "embedding", "index": index, "embedding": embedding})
        })
        .collect();
    let prompt_tokens = resp
        .usage
        .as_ref()
        .and_then(|u| u.input_tokens)
        .unwrap_or(0);
    json!({
        "object": "list",
        "data": data,
        "model": resp.model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    })
}

/// An `f32` as the JSON number with its shortest decimal form (`0.0023064255`, as OpenAI
/// writes it, not the widened `0.002306425478309393`); a non-finite value becomes null.
fn float(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// Base64 (standard alphabet, padded) of the vector's little-endian `f32` bytes, which is
/// what `numpy.frombuffer(base64.b64decode(s), dtype="float32")` reads back.
fn base64_vector(vector: &[f32]) -> String {
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_little_endian_f32() {
        // [0.0, 0.5, 1.0, 1.5] as little-endian f32 bytes, base64-encoded.
        assert_eq!(
            base64_vector(&[0.0, 0.5, 1.0, 1.5]),
            "AAAAAAAAAD8AAIA/AADAPw=="
        );
        assert_eq!(base64_vector(&[1.0]), "AACAPw==");
        // The first values of the vector in OpenAI's embeddings reference example.
        assert_eq!(
            base64_vector(&[0.002_306_425_5, -0.009_327_292, -0.002_884_222_2]),
            "ZicXO4DRGLw4BT27"
        );
    }
}
