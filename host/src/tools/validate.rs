//! The rules a tool definition must follow before the registry takes it: a name every
//! provider accepts, and parameters that are an object schema and valid JSON Schema.
//!
//! | rule | why |
//! | --- | --- |
//! | name matches `^[a-zA-Z0-9_-]{1,64}$` | OpenAI (and the OpenAI-compatible xAI and local servers) and Anthropic reject anything else |
//! | name starts with a letter or `_` | Gemini rejects `Invalid function name. Must start with a letter or an underscore` (its set also allows `.` and `:`, which OpenAI and Anthropic do not) |
//! | `parameters` is a JSON object with `"type": "object"` | arguments travel as one JSON object; Anthropic's `input_schema` and OpenAI's `parameters` must be object schemas |
//! | `parameters` validates against its draft's meta-schema | a provider would reject it, or worse, silently ignore a misspelt keyword's value |
//! | `parameters` compiles (every `$ref` resolves inside it, every `pattern` is a regex) | providers fetch nothing, so an external `$ref` could never be followed |
//!
//! A registered tool must work on every provider ("register once, run on any provider"), so a
//! name is checked against every provider's rule, and the refusal names the provider.

use serde_json::Value;

use super::def::ToolDef;
use super::error::{Rule, ToolError};

/// One provider family's rule for tool names.
pub struct NameRule {
    /// Who enforces it.
    pub providers: &'static str,
    /// The rule in words.
    pub requirement: &'static str,
    /// The rule as a regular expression (for messages and docs).
    pub pattern: &'static str,
    check: fn(&str) -> bool,
}

impl NameRule {
    /// Whether `name` passes.
    pub fn accepts(&self, name: &str) -> bool {
        (self.check)(name)
    }

    fn rule(&self) -> Rule {
        Rule::Name {
            providers: self.providers,
            requirement: self.requirement,
            pattern: self.pattern,
        }
    }
}

fn openai_anthropic(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn gemini(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok
        && name.len() <= 64
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Every provider family's name rule, checked in this order.
pub const NAME_RULES: [NameRule; 2] = [
    NameRule {
        providers: "openai, anthropic, xai and local (OpenAI-compatible)",
        requirement: "1 to 64 characters, each a letter, digit, `_` or `-`",
        pattern: "^[a-zA-Z0-9_-]{1,64}$",
        check: openai_anthropic,
    },
    NameRule {
        providers: "google (Gemini)",
        requirement: "must start with a letter or `_`, then letters, digits, `_`, `-`, `.` or `:`, at most 64 characters",
        pattern: "^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$",
        check: gemini,
    },
];

/// Check a name against every provider's rule.
pub fn check_name(name: &str) -> Result<(), Rule> {
    match NAME_RULES.iter().find(|r| !r.accepts(name)) {
        Some(rule) => Err(rule.rule()),
        None => Ok(()),
    }
}

/// Check that `parameters` is an object schema, valid against the JSON Schema meta-schema of
/// its draft (`$schema`, else 2020-12), and compilable.
pub fn check_parameters(parameters: &Value) -> Result<(), Rule> {
    let Value::Object(map) = parameters else {
        return Err(Rule::NotObjectSchema {
            found: format!("found {}", kind(parameters)),
        });
    };
    match map.get("type") {
        Some(Value::String(t)) if t == "object" => {}
        Some(other) => {
            return Err(Rule::NotObjectSchema {
                found: format!("its \"type\" is {other}"),
            });
        }
        None => {
            return Err(Rule::NotObjectSchema {
                found: "it has no \"type\"".into(),
            });
        }
    }
    if let Err(e) = jsonschema::meta::validate(parameters) {
        return Err(Rule::BadJsonSchema {
            path: e.instance_path().to_string(),
            message: e.to_string(),
        });
    }
    jsonschema::options()
        .build(parameters)
        .map(drop)
        .map_err(|e| Rule::UnusableSchema {
            message: e.to_string(),
        })
}

/// Check a whole definition; the error names the tool and the rule.
pub fn check(def: &ToolDef) -> Result<(), ToolError> {
    check_name(&def.name)
        .and_then(|()| check_parameters(&def.parameters))
        .map_err(|rule| ToolError::invalid(&def.name, rule))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_of(name: &str, parameters: Value) -> Rule {
        match check(&ToolDef::new(name, None, parameters)) {
            Err(ToolError::Invalid { tool, rule }) => {
                assert_eq!(tool, name);
                rule
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    fn obj() -> Value {
        json!({"type": "object", "properties": {"q": {"type": "string"}}})
    }

    #[test]
    fn portable_names_pass() {
        for name in ["get_weather", "a", "_x", "search-flights", &"x".repeat(64)] {
            assert!(check_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn names_a_provider_rejects_are_refused_naming_the_provider() {
        for (name, who) in [
            ("", "openai"),
            ("has space", "openai"),
            ("dotted.name", "openai"),
            ("ns:tool", "openai"),
            ("ünïcode", "openai"),
            (&"x".repeat(65), "openai"),
            ("3d_render", "google"),
            ("-dash_first", "google"),
        ] {
            let rule = rule_of(name, obj());
            let text = rule.to_string();
            assert!(text.contains(who), "{name}: {text}");
            assert_eq!(rule.code(), "invalid_tool_name");
        }
    }

    #[test]
    fn parameters_must_be_an_object_schema() {
        for (params, says) in [
            (json!("object"), "found a string"),
            (json!([]), "found an array"),
            (json!(null), "found null"),
            (json!({"properties": {}}), "no \"type\""),
            (json!({"type": "string"}), "\"string\""),
            (json!({"type": ["object", "null"]}), "[\"object\",\"null\"]"),
        ] {
            let rule = rule_of("t", params);
            assert_eq!(rule.code(), "tool_parameters_not_object");
            assert!(rule.to_string().contains(says), "{rule}");
        }
    }

    #[test]
    fn schemas_the_meta_schema_rejects_are_refused_with_the_path() {
        let rule = rule_of(
            "t",
            json!({"type": "object", "properties": {"city": {"type": "strin"}}}),
        );
        match &rule {
            Rule::BadJsonSchema { path, .. } => assert_eq!(path, "/properties/city/type"),
            other => panic!("{other:?}"),
        }
        let rule = rule_of("t", json!({"type": "object", "required": "city"}));
        assert!(rule.to_string().contains("/required"), "{rule}");
        let rule = rule_of("t", json!({"type": "object", "properties": []}));
        assert_eq!(rule.code(), "invalid_tool_schema");
    }

    #[test]
    fn unusable_schemas_are_refused() {
        let rule = rule_of(
            "t",
            json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}),
        );
        assert!(matches!(rule, Rule::UnusableSchema { .. }), "{rule:?}");
        let rule = rule_of(
            "t",
            json!({"type": "object", "properties": {"a": {"type": "string", "pattern": "(unclosed"}}}),
        );
        assert_eq!(rule.code(), "invalid_tool_schema", "{rule}");
    }

    #[test]
    fn draft_07_schemas_with_definitions_pass() {
        let params = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "definitions": {"point": {"type": "object", "properties": {"x": {"type": "number"}}}},
            "properties": {"at": {"$ref": "#/definitions/point"}},
            "additionalProperties": false
        });
        assert!(check_parameters(&params).is_ok());
    }
}
