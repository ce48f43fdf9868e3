//! Asking the heal model for structured output through Aratta's own gateway, so aliases,
//! fallback, breakers, lineage and metrics apply to heal calls like to any other.
//!
//! The request carries `response_format` with a JSON Schema and a fixed name
//! (`aratta_heal_diagnosis`, `aratta_heal_fix`); an answer that is not JSON of that shape is
//! retried once with the reason, then the phase fails with the model's raw answer kept.

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::{ChatRequest, text_of};

/// Why a structured answer was not had.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The gateway could not get any answer.
    #[error("the heal model {model} could not be called: {source}")]
    Call {
        /// The model reference.
        model: String,
        /// The gateway's error.
        #[source]
        source: Box<GatewayError>,
    },
    /// Two answers in a row were not JSON of the schema.
    #[error("the heal model {model} answered twice without valid `{schema}` JSON: {reason}")]
    Invalid {
        /// The model reference.
        model: String,
        /// The schema's name.
        schema: &'static str,
        /// Why the last answer was refused.
        reason: String,
        /// The last answer as it came.
        raw: String,
    },
}

impl AskError {
    /// The model's raw answer, when it answered.
    pub fn raw(&self) -> Option<&str> {
        match self {
            AskError::Invalid { raw, .. } => Some(raw),
            AskError::Call { .. } => None,
        }
    }
}

/// A structured answer with what it took.
#[derive(Debug)]
pub struct Answer<T> {
    /// The parsed answer.
    pub value: T,
    /// The answer's text as it came.
    pub raw: String,
    /// Bytes of prompt sent (both attempts).
    pub input_bytes: usize,
    /// The provider:model that answered.
    pub answered_by: String,
}

/// Ask `model` with `system` and `user`, for JSON matching `schema` named `name`.
pub async fn structured<T: DeserializeOwned>(
    gateway: &Gateway,
    model: &str,
    name: &'static str,
    schema: Value,
    system: &str,
    user: &str,
) -> Result<Answer<T>, AskError> {
    let mut messages = vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": user}),
    ];
    let mut input_bytes = system.len() + user.len();
    let mut last: Option<(String, String)> = None;
    for attempt in 0..2 {
        if let Some((raw, reason)) = &last {
            let nudge = format!(
                "That answer is not valid: {reason}. Answer again with only one JSON object matching the `{name}` schema, no prose and no code fences."
            );
            input_bytes += nudge.len() + raw.len();
            messages.push(json!({"role": "assistant", "content": raw}));
            messages.push(json!({"role": "user", "content": nudge}));
        }
        let request: ChatRequest = serde_json::from_value(json!({
            "model": model,
            "messages": messages,
            "temperature": 0.0,
            "response_format": {
                "type": "json_schema",
                "name": name,
                "schema": schema,
                "strict": true,
            },
        }))
        .expect("a valid heal request");
        let response = gateway
            .chat(&request, &request_id())
            .await
            .map_err(|e| AskError::Call {
                model: model.to_owned(),
                source: Box::new(e),
            })?;
        let raw = text_of(&response.content);
        let answered_by = format!("{}:{}", response.lineage.provider, response.model);
        match parse::<T>(&raw) {
            Ok(value) => {
                return Ok(Answer {
                    value,
                    raw,
                    input_bytes,
                    answered_by,
                });
            }
            Err(reason) => {
                tracing::warn!(model, schema = name, attempt, %reason, "heal model answer refused");
                last = Some((raw, reason));
            }
        }
    }
    let (raw, reason) = last.expect("two attempts failed");
    Err(AskError::Invalid {
        model: model.to_owned(),
        schema: name,
        reason,
        raw,
    })
}

/// Parse a JSON answer, tolerating a code fence around it (models add them even when asked
/// not to).
pub fn parse<T: DeserializeOwned>(raw: &str) -> Result<T, String> {
    let text = raw.trim();
    let text = text
        .strip_prefix("```json")
        .or_else(|| text.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .unwrap_or(text)
        .trim();
    if text.is_empty() {
        return Err("the answer is empty".into());
    }
    serde_json::from_str(text).map_err(|e| format!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Shape {
        a: u32,
    }

    #[test]
    fn answers_parse_with_or_without_a_fence() {
        assert_eq!(parse::<Shape>("{\"a\": 1}").unwrap().a, 1);
        assert_eq!(parse::<Shape>("```json\n{\"a\": 2}\n```").unwrap().a, 2);
        assert!(parse::<Shape>("").unwrap_err().contains("empty"));
        assert!(
            parse::<Shape>("{\"b\": 1}")
                .unwrap_err()
                .contains("missing field `a`")
        );
    }
}
