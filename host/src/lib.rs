//! Aratta's host: loads provider adapters as sandboxed WebAssembly components and serves
//! SCRI and OpenAI-compatible HTTP APIs on top of them.
//!
//! - [`runtime`]: the wasmtime engine, adapter loading, sandboxed calls, outbound HTTP.
//! - [`gateway`]: providers, model routing and fallback on top of the runtime.
//! - [`server`]: the HTTP API (SCRI, OpenAI-, Anthropic- and Gemini-compatible routes).
//! - [`scri`] and [`openai`]: the JSON shapes of those APIs and the translation between them.
//! - [`anthropic_api`] and [`gemini_api`]: Anthropic's Messages API and the Gemini API, translated
//!   to and from SCRI, so those official SDKs reach every provider too.
//! - [`resilience`]: circuit breakers, retries, the health monitor that turns bursts of adapter
//!   errors into heal triggers, and the metrics.
//! - [`tools`]: the tool registry, tools defined once and exported to any provider by its adapter.
//! - [`agent`]: agents — a ReAct loop over the gateway, an audited tool executor with
//!   permission tiers, and a sandbox for model-written Python.
//! - [`reload`]: hot-swapping adapters: the directory watch, verification, history and
//!   rollback, probation, the approval queue.
//! - [`heal`]: self-healing: the heal worker's cycles (diagnose, research, fix, build, verify,
//!   decide) that patch an adapter's source and swap the rebuilt component in.
//! - [`config`], [`home`], [`cli`], [`commands`]: how an operator runs it; [`fs`]: the durable
//!   file writes everything it keeps goes through.

pub mod agent;
pub mod anthropic_api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod fs;
pub mod gateway;
pub mod gemini_api;
pub mod heal;
pub mod home;
pub mod openai;
pub mod reload;
pub mod resilience;
pub mod runtime;
pub mod scri;
pub mod server;
pub mod tools;
