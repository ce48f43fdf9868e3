//! The one way a dialect reads JSON, so every mistake is reported as a [`RequestError`] with
//! the path of the field at fault in the dialect's notation (`messages[2].content`):
//!
//! - [`object`]: the body as a JSON object (not JSON, or not an object, is `Json`);
//! - [`parse`] and [`parse_at`]: a typed (serde) parse of a body or of a value below a path;
//! - [`Obj`]: a field-by-field reader, for dialects whose errors say more than serde's do
//!   (OpenAI's `invalid_type`, `missing_required_parameter`).
//!
//! A JSON `null` counts as absent, as it does for the providers' optional parameters.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::RequestError;

/// `body` as a JSON object.
pub fn object(body: &[u8]) -> Result<Value, RequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| RequestError::Json {
        reason: e.to_string(),
    })?;
    if !value.is_object() {
        return Err(RequestError::Json {
            reason: format!("expected a JSON object, got {}", kind(&value)),
        });
    }
    Ok(value)
}

/// `body` deserialized as `T` in one pass; an error names the field (`messages[1].role`), or
/// `body` when the whole of it is wrong.
pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, RequestError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty());
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let inner = e.path().to_string();
        let error = e.into_inner();
        if error.is_syntax() || error.is_eof() {
            RequestError::Json {
                reason: error.to_string(),
            }
        } else {
            RequestError::invalid(below("", &inner), error.to_string())
        }
    })
}

/// `value` deserialized as `T`; an error names the field below `path` (`messages[0].content`),
/// or `path` itself (`body` at the root).
pub fn parse_at<T: DeserializeOwned>(value: &Value, path: &str) -> Result<T, RequestError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let inner = e.path().to_string();
        RequestError::invalid(below(path, &inner), e.into_inner().to_string())
    })
}

/// The path of `inner` (serde's path, `.` for the value itself) below `path`.
fn below(path: &str, inner: &str) -> String {
    match (path.is_empty(), inner) {
        (true, ".") => "body".to_owned(),
        (true, _) => inner.to_owned(),
        (false, ".") => path.to_owned(),
        (false, _) if inner.starts_with('[') => format!("{path}{inner}"),
        (false, _) => format!("{path}.{inner}"),
    }
}

fn empty() -> RequestError {
    RequestError::Json {
        reason: "the body is empty; send a JSON object".into(),
    }
}

/// How a JSON value's type reads in an error message.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A type error at `param`.
pub fn type_error(param: &str, expected: &'static str, got: &Value) -> RequestError {
    RequestError::Type {
        param: param.to_owned(),
        expected,
        got: kind(got),
    }
}

/// A JSON object together with its path in the request.
pub struct Obj<'a> {
    /// The object's fields.
    pub map: &'a Map<String, Value>,
    /// Where it sits, e.g. `messages[1]`; empty for the request itself.
    pub path: String,
}

impl<'a> Obj<'a> {
    /// `value` as an object at `path`, or a type error naming `path`.
    pub fn new(value: &'a Value, path: impl Into<String>) -> Result<Self, RequestError> {
        let path = path.into();
        match value {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(type_error(&path, "an object", other)),
        }
    }

    /// The path of field `key` of this object.
    pub fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Field `key`, treating `null` as absent.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Field `key`, or an error naming it when absent.
    pub fn require(&self, key: &str) -> Result<&'a Value, RequestError> {
        self.get(key).ok_or_else(|| RequestError::Missing {
            param: self.field(key),
        })
    }

    /// An optional string field.
    pub fn str(&self, key: &str) -> Result<Option<&'a str>, RequestError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(type_error(&self.field(key), "a string", other)),
        }
    }

    /// A required string field.
    pub fn req_str(&self, key: &str) -> Result<&'a str, RequestError> {
        self.str(key)?.ok_or_else(|| RequestError::Missing {
            param: self.field(key),
        })
    }

    /// An optional boolean field.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, RequestError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(type_error(&self.field(key), "a boolean", other)),
        }
    }

    /// An optional number field, narrowed to `f32` as SCRI's sampling fields are.
    pub fn f32(&self, key: &str) -> Result<Option<f32>, RequestError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_f64().map(crate::scri::float::finite_f32) {
                Some(Err(reason)) => Err(RequestError::Invalid {
                    param: self.field(key),
                    reason,
                }),
                narrowed => Ok(narrowed.and_then(Result::ok)),
            },
            Some(other) => Err(type_error(&self.field(key), "a number", other)),
        }
    }

    /// An optional non-negative integer field.
    pub fn u64(&self, key: &str) -> Result<Option<u64>, RequestError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| RequestError::Invalid {
                param: self.field(key),
                reason: format!("expected a non-negative integer, got {n}"),
            }),
            Some(other) => Err(type_error(&self.field(key), "an integer", other)),
        }
    }

    /// An optional non-negative integer field that fits SCRI's `u32` counts.
    pub fn u32(&self, key: &str) -> Result<Option<u32>, RequestError> {
        match self.u64(key)? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| RequestError::Invalid {
                    param: self.field(key),
                    reason: format!("{n} is too large (at most {})", u32::MAX),
                }),
        }
    }

    /// An optional object field.
    pub fn obj(&self, key: &str) -> Result<Option<Obj<'a>>, RequestError> {
        self.get(key)
            .map(|v| Obj::new(v, self.field(key)))
            .transpose()
    }

    /// An optional array field.
    pub fn array(&self, key: &str) -> Result<Option<&'a Vec<Value>>, RequestError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items)),
            Some(other) => Err(type_error(&self.field(key), "an array", other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_nest_and_null_is_absent() {
        let v = json!({"a": {"b": null, "c": 3}});
        let root = Obj::new(&v, "").unwrap();
        let a = root.obj("a").unwrap().unwrap();
        assert_eq!(a.field("c"), "a.c");
        assert_eq!(a.u32("b").unwrap(), None);
        assert_eq!(
            a.require("b"),
            Err(RequestError::Missing {
                param: "a.b".into()
            })
        );
    }

    #[test]
    fn wrong_types_and_values_are_named() {
        let v = json!({"n": -1, "s": 5, "big": 5_000_000_000u64});
        let root = Obj::new(&v, "").unwrap();
        assert!(
            matches!(root.u64("n"), Err(RequestError::Invalid { ref param, .. }) if param == "n")
        );
        assert_eq!(
            root.str("s").unwrap_err().to_string(),
            "s: expected a string, got a number"
        );
        assert!(root.u32("big").is_err());
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Message {
        role: String,
        content: Option<String>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        messages: Vec<Message>,
    }

    #[test]
    fn a_typed_parse_names_the_field_or_the_body() {
        let wrong = br#"{"messages": [{"role": "user"}, {"role": 3}]}"#;
        let e = parse::<Body>(wrong).unwrap_err();
        assert_eq!(e.param(), Some("messages[1].role"), "{e}");
        let e = parse::<Body>(b"[]").unwrap_err();
        assert_eq!(e.param(), Some("body"), "{e}");
        assert!(matches!(
            parse::<Body>(b"{").unwrap_err(),
            RequestError::Json { .. }
        ));
        assert!(matches!(
            parse::<Body>(b"  ").unwrap_err(),
            RequestError::Json { .. }
        ));
        let value = json!({"role": "user", "extra": 1});
        let e = parse_at::<Message>(&value, "messages[4]").unwrap_err();
        assert_eq!(e.param(), Some("messages[4].extra"), "{e}");
    }

    #[test]
    fn only_an_object_is_a_body() {
        assert!(object(br#"{"a": 1}"#).is_ok());
        assert_eq!(
            object(b"[1]").unwrap_err().to_string(),
            "the request body is not valid JSON: expected a JSON object, got an array"
        );
        assert!(object(b"\n").is_err());
    }
}
