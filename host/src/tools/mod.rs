//! The tool registry: tools defined once (name, description, JSON-schema parameters, the
//! permission tier they need) and offered to any provider in its native format, translated by
//! the provider's own adapter.
//!
//! - [`def`]: [`ToolDef`], a registered tool.
//! - [`tier`]: [`Tier`], the ordered permission tiers.

pub mod def;
pub mod tier;

pub use def::ToolDef;
pub use tier::{Tier, UnknownTier};
