//! Tool definitions: SCRI → Gemini → SCRI must be the identity for the whole corpus.

use crate::tools::{from_json, to_json};
use aratta_guest::{AdapterError, MismatchKind, Tool};

fn tool(name: &str, description: Option<&str>, parameters: &str) -> Tool {
    Tool {
        name: name.into(),
        description: description.map(Into::into),
        parameters: parameters.into(),
    }
}

/// Nested objects, enums, arrays of objects, optional fields, descriptions, `$ref`/`$defs`,
/// `anyOf`, `additionalProperties`, odd formatting and non-ASCII text.
fn corpus() -> Vec<Tool> {
    vec![
        tool(
            "get_weather",
            Some("Get the current weather in a given location"),
            r#"{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}"#,
        ),
        tool(
            "create_order",
            Some("Create an order with line items"),
            r#"{"type": "object", "properties": {"customer": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}}, "required": ["name"]}, "items": {"type": "array", "items": {"type": "object", "properties": {"sku": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1}, "options": {"type": "array", "items": {"type": "string", "enum": ["gift_wrap", "express"]}}}, "required": ["sku", "quantity"], "additionalProperties": false}}, "note": {"type": ["string", "null"]}}, "required": ["customer", "items"]}"#,
        ),
        tool(
            "search",
            None,
            "{\n  \"type\": \"object\",\n  \"$defs\": {\"filter\": {\"anyOf\": [{\"type\": \"string\"}, {\"type\": \"object\", \"properties\": {\"field\": {\"type\": \"string\"}}}]}},\n  \"properties\": {\"query\": {\"type\": \"string\"}, \"filters\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/filter\"}}}\n}",
        ),
        tool(
            "no_arguments",
            Some("Takes nothing"),
            r#"{"type":"object","properties":{}}"#,
        ),
        tool(
            "übersetzen",
            Some("Übersetzt \"Text\" ins Deutsche"),
            r#"{"type":"object","properties":{"text":{"type":"string","description":"Quelltext — beliebig"}}}"#,
        ),
    ]
}

#[test]
fn round_trip_is_identity() {
    let tools = corpus();
    let native = to_json(&tools).unwrap();
    assert_eq!(from_json(&native).unwrap(), tools);
}

#[test]
fn output_is_a_function_declarations_array() {
    let json = to_json(&[tool("f", Some("d"), r#"{"type":"object"}"#)]).unwrap();
    assert_eq!(
        json,
        r#"[{"name":"f","description":"d","parametersJsonSchema":{"type":"object"}}]"#
    );
    let json = to_json(&[tool("g", None, "{}")]).unwrap();
    assert_eq!(json, r#"[{"name":"g","parametersJsonSchema":{}}]"#);
}

#[test]
fn request_tools_arrays_and_openapi_parameters_are_read() {
    // Google's function-calling guide writes `parameters` in its OpenAPI subset.
    let native = r#"[{"functionDeclarations":[{"name":"set_light_values","description":"Sets the brightness and color temperature of a light.","parameters":{"type":"OBJECT","properties":{"brightness":{"type":"INTEGER","description":"Light level from 0 to 100."},"color_temp":{"type":"STRING","enum":["daylight","cool","warm"],"nullable":true}},"required":["brightness"]}}]}]"#;
    let tools = from_json(native).unwrap();
    assert_eq!(tools.len(), 1);
    assert_eq!(tools[0].name, "set_light_values");
    let schema: serde_json::Value = serde_json::from_str(&tools[0].parameters).unwrap();
    assert_eq!(
        schema,
        serde_json::json!({"type":"object","properties":{"brightness":{"type":"integer","description":"Light level from 0 to 100."},"color_temp":{"type":["string","null"],"enum":["daylight","cool","warm"]}},"required":["brightness"]})
    );
    // One tool object, and a declaration without parameters.
    let tools = from_json(r#"{"functionDeclarations":[{"name":"ping"}]}"#).unwrap();
    assert_eq!(
        tools,
        vec![tool("ping", None, r#"{"type":"object","properties":{}}"#)]
    );
}

#[test]
fn drift_and_built_in_tools_are_reported() {
    let mismatch = |native: &str| match from_json(native).unwrap_err() {
        AdapterError::SchemaMismatch(m) => (m.kind, m.path),
        other => panic!("wrong case: {other:?}"),
    };
    assert_eq!(
        mismatch(r#"[{"functionDeclarations":[{"name":"a"}]},{"googleSearch":{}}]"#),
        (MismatchKind::ToolSchemaChange, "[1].googleSearch".into())
    );
    assert_eq!(
        mismatch(r#"[{"description":"no name"}]"#),
        (MismatchKind::MissingField, "[0].name".into())
    );
    assert_eq!(
        mismatch(r#"[{}]"#),
        (MismatchKind::MissingField, "[0].name".into())
    );
    assert_eq!(mismatch("not json").0, MismatchKind::ToolSchemaChange);
    assert!(matches!(
        to_json(&[tool("f", None, "{oops")]),
        Err(AdapterError::InvalidRequest(_))
    ));
}
