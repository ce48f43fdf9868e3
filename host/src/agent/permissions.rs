//! Who may call what: an agent runs at one [`Tier`] with an optional list of allowed tools, and
//! a call is permitted only when the tool is allowed and its tier is at or below the agent's.
//! A refusal is not an error of the run: the executor audits it and hands it to the model as a
//! tool error, and the loop goes on.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::tools::Tier;

/// An agent's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// The agent's tier: tools requiring more are refused.
    pub tier: Tier,
    /// The tools the agent may call; `None` allows every tool within its tier.
    pub allowed: Option<BTreeSet<String>>,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The model called a tool the executor does not know.
    #[error("no tool named `{tool}`; the tools are: {known}")]
    UnknownTool {
        /// The name the model used.
        tool: String,
        /// The registered tools, comma-separated.
        known: String,
    },
    /// The tool is not in the agent's allowed tools.
    #[error("tool `{tool}` is not among this agent's allowed tools ({allowed})")]
    NotAllowed {
        /// The tool.
        tool: String,
        /// The allowed tools, comma-separated.
        allowed: String,
    },
    /// The tool needs a higher tier than the agent has.
    #[error("tool `{tool}` requires the `{required}` tier; this agent runs at `{tier}`")]
    AboveTier {
        /// The tool.
        tool: String,
        /// What it requires.
        required: Tier,
        /// What the agent has.
        tier: Tier,
    },
}

impl Permissions {
    /// Permissions at `tier` for every tool within it.
    pub fn tier(tier: Tier) -> Self {
        Self {
            tier,
            allowed: None,
        }
    }

    /// The same permissions limited to `tools` (an empty list means no limit).
    pub fn with_allowed<I, S>(mut self, tools: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let set: BTreeSet<String> = tools.into_iter().map(Into::into).collect();
        self.allowed = (!set.is_empty()).then_some(set);
        self
    }

    /// Whether the agent may list this tool to the model at all (allowed, whatever its tier).
    pub fn lists(&self, tool: &str) -> bool {
        self.allowed.as_ref().is_none_or(|a| a.contains(tool))
    }

    /// Decide one call of `tool`, which requires `required`.
    pub fn check(&self, tool: &str, required: Tier) -> Result<(), Denial> {
        if let Some(allowed) = &self.allowed
            && !allowed.contains(tool)
        {
            return Err(Denial::NotAllowed {
                tool: tool.to_owned(),
                allowed: allowed.iter().cloned().collect::<Vec<_>>().join(", "),
            });
        }
        if !self.tier.allows(required) {
            return Err(Denial::AboveTier {
                tool: tool.to_owned(),
                required,
                tier: self.tier,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_above_the_tier_is_refused_naming_both_tiers() {
        let p = Permissions::tier(Tier::Standard);
        assert_eq!(p.check("lookup", Tier::Restricted), Ok(()));
        assert_eq!(p.check("lookup", Tier::Standard), Ok(()));
        let err = p.check("python", Tier::Elevated).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tool `python` requires the `elevated` tier; this agent runs at `standard`"
        );
        assert!(
            Permissions::tier(Tier::System)
                .check("x", Tier::System)
                .is_ok()
        );
    }

    #[test]
    fn the_allow_list_limits_calls_and_listing() {
        let p = Permissions::tier(Tier::System).with_allowed(["a", "b"]);
        assert!(p.check("a", Tier::Restricted).is_ok());
        assert!(matches!(
            p.check("c", Tier::Restricted),
            Err(Denial::NotAllowed { .. })
        ));
        assert!(p.lists("b") && !p.lists("c"));
        let open = Permissions::tier(Tier::Standard).with_allowed(Vec::<String>::new());
        assert!(open.allowed.is_none() && open.lists("anything"));
    }
}
