//! Lineage: where an answer came from, attached to every response so a caller can audit
//! which provider, model and adapter version produced it and what was tried first.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where an answer came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Lineage {
    /// The provider that answered (its name in the config).
    pub provider: String,
    /// The model that answered.
    pub model: String,
    /// The adapter that translated.
    pub adapter: String,
    /// That adapter's version.
    pub adapter_version: String,
    /// Wall time inside Aratta for the whole request, in microseconds.
    pub latency_us: u64,
    /// Aratta's id for this request (also in its logs).
    pub request_id: String,
    /// Every provider tried, in order, including the one that answered.
    pub attempts: Vec<Attempt>,
}

/// One provider tried while answering a request.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Attempt {
    /// The provider tried.
    pub provider: String,
    /// The model asked for.
    pub model: String,
    /// `ok`, or the error type that made Aratta move on.
    pub outcome: String,
    /// Time spent on this attempt, in microseconds.
    pub latency_us: u64,
}
