//! The tool registry: tools defined once (name, description, JSON-schema parameters, the
//! permission tier they need) and offered to any provider in its native format, translated by
//! the provider's own adapter.
//!
//! - [`def`]: [`ToolDef`], a registered tool.
//! - [`tier`]: [`Tier`], the ordered permission tiers.
//! - [`validate`]: the rules a definition must follow (names every provider accepts, object
//!   schemas valid against the JSON Schema meta-schema).
//! - [`registry`]: [`ToolRegistry`], thread-safe storage in registration order, kept in the
//!   store (`crate::store::tools`) and shared with the servers on it.
//! - [`file`]: [`ToolsFile`], the `tools.json` older versions kept the registry in, imported
//!   into the store once.
//! - [`translate`]: [`Translator`], export and import through the adapters' `convert-tools` and
//!   `parse-tools`.
//! - [`error`]: [`ToolError`] and the [`Rule`] a refused definition broke.

pub mod def;
pub mod error;
pub mod file;
pub mod registry;
pub mod tier;
pub mod translate;
pub mod validate;

pub use def::ToolDef;
pub use error::{Rule, ToolError, TranslationFailure};
pub use file::{FileError, ToolsFile};
pub use registry::{OnConflict, Restored, ToolRegistry};
pub use tier::{Tier, UnknownTier};
pub use translate::Translator;

#[cfg(test)]
mod tests;
