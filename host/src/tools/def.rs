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
}
