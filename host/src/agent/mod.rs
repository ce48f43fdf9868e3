//! Agents: a ReAct loop over the gateway whose tool calls run through a permission-checked,
//! audited executor, with a sandbox for model-written Python.
//!
//! - [`react`]: [`Agent`], the loop (model turn, tool calls, results, repeat).
//! - [`config`]: [`AgentConfig`] (model alias, iterations, temperature, tier, tools).
//! - [`context`]: [`AgentContext`] (conversation, tool results, state between turns).
//! - [`events`]: [`Step`], what a run emits as it goes (printed by the CLI, streamed over SSE).
//! - [`executor`]: runs Rust-function, HTTP and sandbox tools with timeouts.
//! - [`permissions`]: the four tiers and allowed tools. [`audit`]: one JSON line per call.
//! - [`sandbox`]: runs model-written Python, checked first, inside WebAssembly.
//! - [`builtins`]: the built-in tools and HTTP tools from a file; [`setup`]: the executor the
//!   CLI and the server share.

pub mod audit;
pub mod builtins;
pub mod config;
pub mod context;
pub mod events;
pub mod executor;
pub mod http_tool;
pub mod permissions;
pub mod react;
pub mod sandbox;
pub mod setup;

pub use config::AgentConfig;
pub use context::AgentContext;
pub use events::Step;
pub use executor::Executor;
pub use react::{Agent, AgentError, Finish, RunOutcome};
