//! The permission tier a tool requires. An agent runs at one tier and may call only tools whose
//! tier is at or below its own, so the tiers are ordered: `Restricted < Standard < Elevated <
//! System`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How much a tool may do, and so which agents may call it. Ordered from least to most
/// privileged; compare with `<=` to decide whether an agent's tier covers a tool's.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// Read-only tools: no code execution, no network access.
    Restricted,
    /// Ordinary tools (the default for a tool that declares nothing).
    #[default]
    Standard,
    /// Tools with side effects beyond the agent (network calls, running code).
    Elevated,
    /// Tools that act on the host itself; for trusted operators only.
    System,
}

impl Tier {
    /// Every tier, least privileged first (for listings and error messages).
    pub const ALL: [Tier; 4] = [
        Tier::Restricted,
        Tier::Standard,
        Tier::Elevated,
        Tier::System,
    ];

    /// The tier's name as it appears in JSON and in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Restricted => "restricted",
            Tier::Standard => "standard",
            Tier::Elevated => "elevated",
            Tier::System => "system",
        }
    }

    /// Whether an agent running at `self` may call a tool that requires `required`.
    pub fn allows(self, required: Tier) -> bool {
        required <= self
    }
}

impl std::fmt::Display for Tier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tier name that is not one of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission tier `{0}` (expected restricted, standard, elevated or system)")]
pub struct UnknownTier(pub String);

impl std::str::FromStr for Tier {
    type Err = UnknownTier;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Tier::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownTier(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered_least_privileged_first() {
        assert!(Tier::Restricted < Tier::Standard);
        assert!(Tier::Standard < Tier::Elevated);
        assert!(Tier::Elevated < Tier::System);
        assert!(Tier::Elevated.allows(Tier::Standard));
        assert!(!Tier::Standard.allows(Tier::Elevated));
    }

    #[test]
    fn tiers_parse_and_serialize_as_snake_case() {
        assert_eq!("Elevated".parse::<Tier>(), Ok(Tier::Elevated));
        assert!("root".parse::<Tier>().is_err());
        assert_eq!(serde_json::to_string(&Tier::System).unwrap(), "\"system\"");
        assert_eq!(Tier::default(), Tier::Standard);
    }
}
