//! Tool definitions both ways. SCRI → OpenAI → SCRI is the identity: the JSON Schema travels as
//! raw JSON text and is never re-serialized.

use serde_json::value::RawValue;

use super::wire::{FunctionDefinition, ToolDefinition};
use aratta_guest::{AdapterError, Json, MismatchKind, Tool};

/// The schema used when a native tool has no `parameters`: an object with no properties.
const EMPTY_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;

/// SCRI tools as OpenAI tool definitions. A tool whose `parameters` is not valid JSON is the
/// caller's mistake (`invalid-request`).
pub fn to_openai(tools: &[Tool]) -> Result<Vec<ToolDefinition>, AdapterError> {
    tools
        .iter()
        .map(|tool| {
            let parameters = RawValue::from_string(tool.parameters.clone()).map_err(|e| {
                AdapterError::invalid_request(format!(
                    "tool `{}` has parameters that are not JSON: {e}",
                    tool.name
                ))
            })?;
            Ok(ToolDefinition {
                kind: "function".to_string(),
                function: FunctionDefinition {
                    name: tool.name.clone(),
                    description: tool.description.clone(),
                    parameters: Some(parameters),
                },
            })
        })
        .collect()
}

/// SCRI tools as the JSON text of an OpenAI `tools` array.
pub fn to_openai_json(tools: &[Tool]) -> Result<Json, AdapterError> {
    let defs = to_openai(tools)?;
    serde_json::to_string(&defs).map_err(|e| AdapterError::other(e.to_string()))
}

/// SCRI tools from an OpenAI `tools` array. Also accepts bare function objects (the legacy
/// `functions` shape). A tool of another `type` (e.g. a built-in tool) is a tool-schema change.
pub fn from_openai_json(native: &str) -> Result<Vec<Tool>, AdapterError> {
    let body = native.as_bytes();
    let items: Vec<Box<RawValue>> = serde_json::from_str(native).map_err(|e| {
        AdapterError::schema_mismatch(
            MismatchKind::ToolSchemaChange,
            "",
            format!("the tools are not a JSON array: {e}"),
            body,
        )
    })?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| parse_one(i, item, body))
        .collect()
}

#[derive(serde::Deserialize)]
struct NativeTool {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    function: Option<NativeFunction>,
    #[serde(flatten)]
    bare: NativeFunction,
}

#[derive(serde::Deserialize, Default)]
struct NativeFunction {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Box<RawValue>>,
}

fn parse_one(i: usize, item: &RawValue, body: &[u8]) -> Result<Tool, AdapterError> {
    let tool: NativeTool = serde_json::from_str(item.get()).map_err(|e| {
        AdapterError::schema_mismatch(
            MismatchKind::ToolSchemaChange,
            format!("[{i}]"),
            format!("tool {i} is not a function tool object: {e}"),
            body,
        )
    })?;
    let (function, prefix) = match (tool.kind.as_deref(), tool.function) {
        (Some("function") | None, Some(function)) => (function, format!("[{i}].function")),
        (None, None) => (tool.bare, format!("[{i}]")),
        (Some(other), _) => {
            return Err(AdapterError::schema_mismatch(
                MismatchKind::ToolSchemaChange,
                format!("[{i}].type"),
                format!("tool {i} has type `{other}`; only `function` tools map to SCRI"),
                body,
            ));
        }
    };
    let name = function
        .name
        .ok_or_else(|| AdapterError::missing_field(&format!("{prefix}.name"), body))?;
    let parameters = match function.parameters {
        Some(raw) if raw.get() != "null" => raw.get().to_string(),
        _ => EMPTY_SCHEMA.to_string(),
    };
    Ok(Tool {
        name,
        description: function.description,
        parameters,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, description: Option<&str>, parameters: &str) -> Tool {
        Tool {
            name: name.into(),
            description: description.map(Into::into),
            parameters: parameters.into(),
        }
    }

    #[test]
    fn round_trip_is_identity() {
        let tools = vec![
            tool(
                "get_weather",
                Some("Get the current weather"),
                r#"{"type": "object", "properties": {"location": {"type": "string", "description": "City, e.g. Paris"}, "unit": {"enum": ["c", "f"]}}, "required": ["location"]}"#,
            ),
            tool(
                "no_description",
                None,
                r#"{"type":"object","properties":{}}"#,
            ),
            tool(
                "unicode_ünï",
                Some("ümlaut \"quoted\""),
                "{\n  \"type\": \"object\"\n}",
            ),
        ];
        let json = to_openai_json(&tools).unwrap();
        assert_eq!(from_openai_json(&json).unwrap(), tools);
    }

    #[test]
    fn output_is_the_openai_shape() {
        let json = to_openai_json(&[tool("f", Some("d"), r#"{"type":"object"}"#)]).unwrap();
        assert_eq!(
            json,
            r#"[{"type":"function","function":{"name":"f","description":"d","parameters":{"type":"object"}}}]"#
        );
    }

    #[test]
    fn parses_the_openai_docs_example() {
        let native = r#"[{"type":"function","function":{"name":"get_current_weather","description":"Get the current weather in a given location","parameters":{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]},"strict":false}}]"#;
        let tools = from_openai_json(native).unwrap();
        assert_eq!(tools.len(), 1);
        assert_eq!(tools[0].name, "get_current_weather");
        let schema: serde_json::Value = serde_json::from_str(&tools[0].parameters).unwrap();
        assert_eq!(schema["required"][0], "location");
    }

    #[test]
    fn bare_functions_and_missing_parameters() {
        let tools = from_openai_json(r#"[{"name":"ping"}]"#).unwrap();
        assert_eq!(tools, vec![tool("ping", None, EMPTY_SCHEMA)]);
    }

    #[test]
    fn invalid_parameters_are_the_callers_mistake() {
        assert!(matches!(
            to_openai(&[tool("f", None, "{not json")]),
            Err(AdapterError::InvalidRequest(_))
        ));
    }

    #[test]
    fn drift_is_reported_with_a_path() {
        let AdapterError::SchemaMismatch(m) =
            from_openai_json(r#"[{"type":"function","function":{"description":"x"}}]"#)
                .unwrap_err()
        else {
            panic!("wrong case")
        };
        assert_eq!(m.kind, MismatchKind::MissingField);
        assert_eq!(m.path, "[0].function.name");

        let AdapterError::SchemaMismatch(m) =
            from_openai_json(r#"[{"type":"web_search_preview"}]"#).unwrap_err()
        else {
            panic!("wrong case")
        };
        assert_eq!(m.kind, MismatchKind::ToolSchemaChange);
        assert_eq!(m.path, "[0].type");

        assert!(from_openai_json(r#"{"tools":[]}"#).is_err());
    }
}
