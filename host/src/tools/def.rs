//! `ToolDef`: a tool as the registry keeps it — the SCRI tool (name, description, JSON-schema
//! parameters) plus the permission tier an agent needs to call it. It converts to and from
//! [`scri::Tool`], the shape that crosses into adapters.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::tier::Tier;
use crate::scri;

/// A tool registered once and offered to any provider. The name is the key in the registry;
/// `parameters` is a JSON Schema whose top level is an object schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToolDef {
    /// Unique in the registry; providers restrict the alphabet (`[a-zA-Z0-9_-]{1,64}` is safe).
    pub name: String,
    /// What the tool does, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// JSON Schema (an object schema) of the arguments.
    #[schema(value_type = Object)]
    pub parameters: Value,
    /// The least permission tier an agent needs to call the tool (default `standard`).
    #[serde(default)]
    pub tier: Tier,
}

impl ToolDef {
    /// A tool at the default tier.
    pub fn new(name: impl Into<String>, description: Option<String>, parameters: Value) -> Self {
        Self {
            name: name.into(),
            description,
            parameters,
            tier: Tier::default(),
        }
    }

    /// The same tool requiring `tier`.
    pub fn with_tier(mut self, tier: Tier) -> Self {
        self.tier = tier;
        self
    }

    /// Whether `other` defines the same tool, which makes registering it again a no-op
    /// rather than a conflict. Identical means: the same name and tier, the same description
    /// (a missing one and an empty one are the same), and `parameters` equal as JSON values
    /// ([`same_json`]: objects whatever their key order, numbers by value).
    pub fn same_definition(&self, other: &ToolDef) -> bool {
        let description = |d: &ToolDef| d.description.clone().filter(|d| !d.is_empty());
        self.name == other.name
            && self.tier == other.tier
            && description(self) == description(other)
            && same_json(&self.parameters, &other.parameters)
    }

    /// The SCRI tool offered to a model (the tier stays with the registry).
    pub fn to_scri(&self) -> scri::Tool {
        scri::Tool {
            name: self.name.clone(),
            description: self.description.clone(),
            parameters: self.parameters.clone(),
        }
    }

    /// A SCRI tool (for example one parsed from a provider's format) at `tier`.
    pub fn from_scri(tool: scri::Tool, tier: Tier) -> Self {
        Self {
            name: tool.name,
            description: tool.description,
            parameters: tool.parameters,
            tier,
        }
    }
}

/// JSON equality as JSON means it: objects are equal when they hold the same keys with equal
/// values, whatever the order the keys were written in; arrays are equal element by element,
/// in order; numbers are equal by value (`1` and `1.0` are the same number).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
        }
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same_json(v, w))
        }
        (Value::Number(a), Value::Number(b)) => a == b || a.as_f64() == b.as_f64(),
        _ => a == b,
    }
}

impl From<scri::Tool> for ToolDef {
    fn from(tool: scri::Tool) -> Self {
        Self::from_scri(tool, Tier::default())
    }
}

impl From<&ToolDef> for scri::Tool {
    fn from(def: &ToolDef) -> Self {
        def.to_scri()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tier_defaults_to_standard_and_round_trips() {
        let def: ToolDef = serde_json::from_value(json!({
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {}}
        }))
        .unwrap();
        assert_eq!(def.tier, Tier::Standard);
        let back: ToolDef = serde_json::from_value(serde_json::to_value(&def).unwrap()).unwrap();
        assert_eq!(back, def);
        assert_eq!(ToolDef::from(def.to_scri()), def);
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_value::<ToolDef>(json!({
            "name": "x", "parameters": {}, "input_schema": {}
        }))
        .unwrap_err();
        assert!(err.to_string().contains("input_schema"), "{err}");
    }

    #[test]
    fn identical_means_equal_json_whatever_the_key_order() {
        let def: ToolDef = serde_json::from_str(
            r#"{"name": "w", "description": "", "parameters":
                {"type": "object", "properties": {"c": {"type": "number", "minimum": 1}}}}"#,
        )
        .unwrap();
        let reordered: ToolDef = serde_json::from_str(
            r#"{"parameters": {"properties": {"c": {"minimum": 1.0, "type": "number"}},
                "type": "object"}, "name": "w"}"#,
        )
        .unwrap();
        assert!(def.same_definition(&reordered));
        assert!(!def.same_definition(&reordered.clone().with_tier(Tier::Elevated)));
        let mut described = reordered.clone();
        described.description = Some("Weather".into());
        assert!(!def.same_definition(&described));
        let mut required = reordered;
        required.parameters["required"] = json!(["c"]);
        assert!(!def.same_definition(&required));
        assert!(
            !same_json(&json!([1, 2]), &json!([2, 1])),
            "arrays keep their order"
        );
    }
}
