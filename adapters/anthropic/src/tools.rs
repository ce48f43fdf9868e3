//! Tool definitions both ways: SCRI `tool` ⇄ Anthropic `{"name","description","input_schema"}`.
//! SCRI → Anthropic → SCRI is the identity: the JSON Schema travels as raw JSON text and is
//! never re-serialized, so its bytes (key order, spacing) come back unchanged.

use aratta_guest::{AdapterError, Json, MismatchKind, Tool};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// One client tool as Anthropic takes it.
#[derive(Serialize, Debug)]
pub struct ToolDef {
    /// The tool's name.
    pub name: String,
    /// What it does, for the model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its input, verbatim.
    pub input_schema: Box<RawValue>,
}

/// SCRI tools as Anthropic tool definitions. A tool whose `parameters` is not a JSON object is
/// the caller's mistake (`invalid-request`): Anthropic requires an object schema.
pub fn to_anthropic(tools: &[Tool]) -> Result<Vec<ToolDef>, AdapterError> {
    tools
        .iter()
        .map(|tool| {
            let schema = RawValue::from_string(tool.parameters.clone()).map_err(|e| {
                AdapterError::invalid_request(format!(
                    "tool `{}` has parameters that are not JSON: {e}",
                    tool.name
                ))
            })?;
            if !schema.get().trim_start().starts_with('{') {
                return Err(AdapterError::invalid_request(format!(
                    "tool `{}` has parameters that are not a JSON Schema object",
                    tool.name
                )));
            }
            Ok(ToolDef {
                name: tool.name.clone(),
                description: tool.description.clone(),
                input_schema: schema,
            })
        })
        .collect()
}

/// SCRI tools as the JSON text of an Anthropic `tools` array.
pub fn to_anthropic_json(tools: &[Tool]) -> Result<Json, AdapterError> {
    let defs = to_anthropic(tools)?;
    serde_json::to_string(&defs).map_err(|e| AdapterError::other(e.to_string()))
}

#[derive(Deserialize)]
struct NativeTool {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    input_schema: Option<Box<RawValue>>,
}

/// SCRI tools from an Anthropic `tools` array. Client tools (no `type`, or `custom`) map;
/// server tools (`web_search_20250305`, `bash_20250124`, ...) have no SCRI form and are
/// reported as a tool-schema change with their path.
pub fn from_anthropic_json(native: &str) -> Result<Vec<Tool>, AdapterError> {
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

fn parse_one(i: usize, item: &RawValue, body: &[u8]) -> Result<Tool, AdapterError> {
    let tool: NativeTool = serde_json::from_str(item.get()).map_err(|e| {
        AdapterError::schema_mismatch(
            MismatchKind::ToolSchemaChange,
            format!("[{i}]"),
            format!("tool {i} is not a tool object: {e}"),
            body,
        )
    })?;
    if let Some(kind) = tool.kind.as_deref().filter(|k| *k != "custom") {
        return Err(AdapterError::schema_mismatch(
            MismatchKind::ToolSchemaChange,
            format!("[{i}].type"),
            format!("tool {i} has type `{kind}`; only client (`custom`) tools map to SCRI"),
            body,
        ));
    }
    let name = tool
        .name
        .ok_or_else(|| AdapterError::missing_field(&format!("[{i}].name"), body))?;
    let parameters = tool
        .input_schema
        .filter(|raw| raw.get() != "null")
        .ok_or_else(|| AdapterError::missing_field(&format!("[{i}].input_schema"), body))?;
    Ok(Tool {
        name,
        description: tool.description,
        parameters: parameters.get().to_string(),
    })
}
