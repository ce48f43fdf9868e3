//! Hot-swapping adapters while the gateway serves.
//!
//! A new adapter version comes from a `.wasm` dropped into the adapters directory
//! ([`watcher`]), an approved candidate from the queue ([`approvals`]), or a rollback to a
//! version kept in the [`history`]. Whatever the way in, the [`manager`] compiles it, checks it
//! against the adapter world, [`verify`]s it with a real call to the provider it will serve,
//! backs the serving version up, and only then swaps it into the runtime's table in one atomic
//! step: calls already running finish on the version they started with. A freshly swapped
//! version is on [`probation`]: if calls start failing because of it, it is rolled back. Servers
//! sharing a store follow each other's swaps (`replicas`).

pub mod approvals;
pub mod history;
mod manager;
mod overrides;
pub mod probation;
mod replicas;
mod rollback;
pub mod verify;
pub mod watcher;

pub use approvals::{Approval, ApprovalError, ApprovalStatus, HealProposal};
pub use history::{History, HistoryError, VersionRecord};
pub(crate) use manager::sha256;
pub use manager::{AdapterVersions, ReloadError, ReloadEvent, ReloadManager, Swap};
pub use probation::{Probation, ProbationRules, Verdict};
pub use verify::{ProviderCheck, Verification};
