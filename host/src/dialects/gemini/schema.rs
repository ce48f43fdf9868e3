//! Gemini's `Schema` (an OpenAPI 3.0 subset with upper-case type names, `nullable`, and
//! `propertyOrdering`) → JSON Schema, the form SCRI tools and response formats carry and
//! every other provider reads. A schema sent as `parametersJsonSchema` /
//! `responseJsonSchema` is JSON Schema already and is not touched.

use serde_json::{Map, Value, json};

/// Convert one Gemini schema, recursively (`properties`, `items`, `anyOf`).
pub(crate) fn to_json_schema(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::with_capacity(map.len());
    let nullable = map.get("nullable").and_then(Value::as_bool) == Some(true);
    for (key, value) in map {
        let converted = match key.as_str() {
            "nullable" | "propertyOrdering" | "property_ordering" => continue,
            "type" => match value.as_str() {
                Some(t) if nullable => json!([t.to_ascii_lowercase(), "null"]),
                Some(t) => Value::String(t.to_ascii_lowercase()),
                None => value.clone(),
            },
            "properties" => match value {
                Value::Object(props) => Value::Object(
                    props
                        .iter()
                        .map(|(k, v)| (k.clone(), to_json_schema(v)))
                        .collect(),
                ),
                other => other.clone(),
            },
            "items" => to_json_schema(value),
            "anyOf" | "any_of" => match value {
                Value::Array(all) => Value::Array(all.iter().map(to_json_schema).collect()),
                other => other.clone(),
            },
            _ => value.clone(),
        };
        let key = match key.as_str() {
            "any_of" => "anyOf",
            "max_items" => "maxItems",
            "min_items" => "minItems",
            other => other,
        };
        out.insert(key.to_owned(), converted);
    }
    Value::Object(out)
}
