//! `AgentConfig`: everything that makes one agent what it is — the model alias it talks to,
//! how many turns it gets, its sampling temperature, its permission tier and its tools. The
//! model is a name the gateway resolves, so pointing an agent at another provider is a change
//! of this value, not of code.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::permissions::Permissions;
use crate::tools::Tier;

/// The default cap on model turns.
pub const DEFAULT_MAX_ITERATIONS: u32 = 10;

/// One agent's settings.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// A name for logs and the audit log.
    #[serde(default = "default_name")]
    pub name: String,
    /// An alias from the config, `provider:model`, or a bare model name that providers list.
    pub model: String,
    /// Model turns before the run stops without an answer.
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u32,
    /// Sampling temperature; the provider's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    /// The permission tier: tools requiring more are refused.
    #[serde(default)]
    pub tier: Tier,
    /// The tools the agent may use; empty means every tool within its tier.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Instructions sent as the system message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
}

fn default_name() -> String {
    "agent".into()
}

fn default_max_iterations() -> u32 {
    DEFAULT_MAX_ITERATIONS
}

/// A setting that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ConfigError {
    /// The field at fault.
    pub field: &'static str,
    /// What is wrong and what would do.
    pub message: String,
}

impl AgentConfig {
    /// An agent for `model` with the defaults (10 iterations, `standard` tier, every tool).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            name: default_name(),
            model: model.into(),
            max_iterations: DEFAULT_MAX_ITERATIONS,
            temperature: None,
            tier: Tier::default(),
            tools: Vec::new(),
            system: None,
        }
    }

    /// The permissions the tier and tool list amount to.
    pub fn permissions(&self) -> Permissions {
        Permissions::tier(self.tier).with_allowed(self.tools.iter().cloned())
    }

    /// Check the values before a run starts; `tier_of` gives a tool's required tier, `None`
    /// for an unknown tool. Listing a tool the agent's tier cannot call is a mistake in the
    /// config, refused here rather than left for the model to discover.
    pub fn validate(&self, tier_of: impl Fn(&str) -> Option<Tier>) -> Result<(), ConfigError> {
        if self.model.trim().is_empty() {
            return Err(ConfigError {
                field: "model",
                message: "required: `provider:model` or an alias".into(),
            });
        }
        if !(1..=100).contains(&self.max_iterations) {
            return Err(ConfigError {
                field: "max_iterations",
                message: format!("{} is outside 1..=100", self.max_iterations),
            });
        }
        if let Some(t) = self.temperature
            && !(0.0..=2.0).contains(&t)
        {
            return Err(ConfigError {
                field: "temperature",
                message: format!("{t} is outside 0.0..=2.0"),
            });
        }
        for tool in &self.tools {
            match tier_of(tool) {
                None => {
                    return Err(ConfigError {
                        field: "tools",
                        message: format!("no tool named `{tool}`"),
                    });
                }
                Some(required) if !self.tier.allows(required) => {
                    return Err(ConfigError {
                        field: "tools",
                        message: format!(
                            "`{tool}` requires the `{required}` tier and this agent runs at `{}`; raise the tier or drop the tool",
                            self.tier
                        ),
                    });
                }
                Some(_) => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_in_and_bad_values_name_the_field() {
        let c: AgentConfig = serde_json::from_value(serde_json::json!({"model": "fast"})).unwrap();
        assert_eq!((c.max_iterations, c.tier), (10, Tier::Standard));
        assert!(c.validate(|_| Some(Tier::Restricted)).is_ok());
        let mut bad = c.clone();
        bad.max_iterations = 0;
        assert_eq!(
            bad.validate(|_| Some(Tier::Restricted)).unwrap_err().field,
            "max_iterations"
        );
        let mut bad = c.clone();
        bad.tools = vec!["nope".into()];
        assert_eq!(
            bad.validate(|t| (t == "python").then_some(Tier::Elevated))
                .unwrap_err()
                .to_string(),
            "tools: no tool named `nope`"
        );
        bad.tools = vec!["python".into()];
        assert_eq!(
            bad.validate(|_| Some(Tier::Elevated))
                .unwrap_err()
                .to_string(),
            "tools: `python` requires the `elevated` tier and this agent runs at `standard`; raise the tier or drop the tool"
        );
        bad.tier = Tier::Elevated;
        assert!(bad.validate(|_| Some(Tier::Elevated)).is_ok());
    }
}
