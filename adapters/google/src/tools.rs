//! Tool definitions both ways: SCRI tools ⇄ Gemini `functionDeclarations`.
//!
//! The schema goes out as `parametersJsonSchema` (full JSON Schema), not `parameters` (Google's
//! OpenAPI-3.0 subset with upper-case `type` values and no `$ref`, `additionalProperties`,
//! `oneOf`, `const`, ...). SCRI tools carry JSON Schema, so `parametersJsonSchema` takes them
//! as they are: nothing is rewritten or dropped, and the schema text travels as raw JSON, so
//! SCRI → Gemini → SCRI is the identity. Declarations written with `parameters` are still read
//! back, with their `type` values lower-cased into JSON Schema.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use aratta_guest::{AdapterError, Json, MismatchKind, Tool};

/// The schema of a declaration that has none: an object with no properties.
const EMPTY_SCHEMA: &str = r#"{"type":"object","properties":{}}"#;

/// A `FunctionDeclaration` as sent.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeclarationOut {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    parameters_json_schema: Box<RawValue>,
}

/// SCRI tools as Gemini function declarations. A tool whose `parameters` is not JSON is the
/// caller's mistake (`invalid-request`).
pub fn to_declarations(tools: &[Tool]) -> Result<Vec<DeclarationOut>, AdapterError> {
    tools
        .iter()
        .map(|tool| {
            let schema = RawValue::from_string(tool.parameters.clone()).map_err(|e| {
                AdapterError::invalid_request(format!(
                    "tool `{}` has parameters that are not JSON: {e}",
                    tool.name
                ))
            })?;
            Ok(DeclarationOut {
                name: tool.name.clone(),
                description: tool.description.clone(),
                parameters_json_schema: schema,
            })
        })
        .collect()
}

/// SCRI tools as the JSON text of a `functionDeclarations` array.
pub fn to_json(tools: &[Tool]) -> Result<Json, AdapterError> {
    serde_json::to_string(&to_declarations(tools)?).map_err(|e| AdapterError::other(e.to_string()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeclarationIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters_json_schema: Option<Box<RawValue>>,
    #[serde(default)]
    parameters: Option<Value>,
    #[serde(default)]
    function_declarations: Option<Vec<Box<RawValue>>>,
    #[serde(flatten)]
    other: serde_json::Map<String, Value>,
}

/// SCRI tools from Gemini's native JSON: a `functionDeclarations` array (what
/// [`to_json`] writes), a request's `tools` array (`[{"functionDeclarations": [...]}]`), or
/// one such tool object. Built-in tools (`googleSearch`, `codeExecution`, ...) have no SCRI
/// form and are reported as a tool-schema change.
pub fn from_json(native: &str) -> Result<Vec<Tool>, AdapterError> {
    let body = native.as_bytes();
    let value: Box<RawValue> = serde_json::from_str(native).map_err(|e| {
        AdapterError::schema_mismatch(
            MismatchKind::ToolSchemaChange,
            "",
            format!("the tools are not JSON: {e}"),
            body,
        )
    })?;
    let items: Vec<Box<RawValue>> = if value.get().trim_start().starts_with('[') {
        serde_json::from_str(value.get()).map_err(|e| AdapterError::other(e.to_string()))?
    } else {
        vec![value]
    };
    let mut tools = Vec::new();
    for (i, item) in items.iter().enumerate() {
        read_item(&format!("[{i}]"), item, body, &mut tools)?;
    }
    Ok(tools)
}

fn read_item(
    path: &str,
    item: &RawValue,
    body: &[u8],
    out: &mut Vec<Tool>,
) -> Result<(), AdapterError> {
    let decl: DeclarationIn = serde_json::from_str(item.get()).map_err(|e| {
        AdapterError::schema_mismatch(
            MismatchKind::ToolSchemaChange,
            path,
            format!("`{path}` is not a function declaration or a tool: {e}"),
            body,
        )
    })?;
    if let Some(nested) = &decl.function_declarations {
        for (j, inner) in nested.iter().enumerate() {
            read_item(
                &format!("{path}.functionDeclarations[{j}]"),
                inner,
                body,
                out,
            )?;
        }
        return Ok(());
    }
    let Some(name) = decl.name else {
        if let Some(kind) = decl.other.keys().next() {
            return Err(AdapterError::schema_mismatch(
                MismatchKind::ToolSchemaChange,
                format!("{path}.{kind}"),
                format!(
                    "`{path}` is the built-in tool `{kind}`; only function declarations map to SCRI"
                ),
                body,
            ));
        }
        return Err(AdapterError::missing_field(&format!("{path}.name"), body));
    };
    let parameters = match (decl.parameters_json_schema, decl.parameters) {
        (Some(raw), _) if raw.get() != "null" => raw.get().to_string(),
        (_, Some(schema)) if !schema.is_null() => openapi_to_json_schema(schema).to_string(),
        _ => EMPTY_SCHEMA.to_string(),
    };
    out.push(Tool {
        name,
        description: decl.description,
        parameters,
    });
    Ok(())
}

/// Google's OpenAPI-subset `Schema` as JSON Schema: `type` values are upper-case enum names
/// there (`OBJECT`, `STRING`) and lower-case in JSON Schema; `nullable: true` becomes a
/// `["t", "null"]` type. Everything else already has the JSON Schema meaning.
fn openapi_to_json_schema(schema: Value) -> Value {
    match schema {
        Value::Object(map) => {
            let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
            let mut out = serde_json::Map::new();
            for (key, value) in map {
                let value = match (key.as_str(), value) {
                    ("nullable", _) => continue,
                    ("type", Value::String(t)) => {
                        let t = Value::String(t.to_ascii_lowercase());
                        if nullable {
                            Value::Array(vec![t, "null".into()])
                        } else {
                            t
                        }
                    }
                    // Property names and enum values are data, not schemas.
                    ("properties", Value::Object(props)) => Value::Object(
                        props
                            .into_iter()
                            .map(|(k, v)| (k, openapi_to_json_schema(v)))
                            .collect(),
                    ),
                    ("enum" | "required" | "propertyOrdering" | "example" | "default", v) => v,
                    (_, v) => openapi_to_json_schema(v),
                };
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(openapi_to_json_schema).collect())
        }
        other => other,
    }
}
