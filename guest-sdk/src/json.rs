//! Parse a provider's JSON body into the adapter's wire types, so drift reads the same in every
//! adapter: a `schema-mismatch` error with the JSON path where parsing failed and the raw body.

use serde::de::DeserializeOwned;

use crate::{AdapterError, MismatchKind};

/// Parse `body` as `T`, reporting where it failed as a JSON path (`choices[0].message`).
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AdapterError> {
    // Tracking the path costs allocations for every field, so a body is first parsed without
    // it; only one that fails is parsed again to say where.
    if let Ok(value) = serde_json::from_slice(body) {
        return Ok(value);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let path = if path == "." { String::new() } else { path };
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() {
            format!("the provider's response is not JSON: {inner}")
        } else {
            format!("the provider's response does not have the expected shape: {inner}")
        };
        AdapterError::schema_mismatch(MismatchKind::MissingField, path, message, body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Answer {
        #[allow(dead_code)]
        choices: Vec<u32>,
    }

    #[test]
    fn drift_names_the_path_and_keeps_the_body() {
        let Err(AdapterError::SchemaMismatch(m)) = parse::<Answer>(br#"{"choices":[1,"x"]}"#)
        else {
            panic!("wrong case")
        };
        assert_eq!(m.path, "choices[1]");
        assert_eq!(m.detail.body.as_deref(), Some(r#"{"choices":[1,"x"]}"#));
        let Err(AdapterError::SchemaMismatch(m)) = parse::<Answer>(b"<html>") else {
            panic!("wrong case")
        };
        assert!(
            m.detail.message.contains("not JSON"),
            "{}",
            m.detail.message
        );
    }
}
