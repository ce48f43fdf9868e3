//! Aratta's host: loads provider adapters as sandboxed WebAssembly components and serves
//! SCRI and OpenAI-compatible HTTP APIs on top of them.
//!
//! The modules form layers, listed here from the bottom up; a module uses only modules on
//! its own line or above it, never below (the test `host/tests/layers.rs` fails otherwise):
//!
//! 1. [`clock`], [`fs`], [`home`], [`store`]: time as records write it, durable file
//!    writes, where everything lives, the database of durable state.
//! 2. [`runtime`]: the wasmtime engine, adapter loading, sandboxed calls, outbound HTTP.
//! 3. [`scri`]: SCRI's JSON shapes and their conversion to the WIT types adapters take.
//! 4. [`config`]: the operator's settings, layered and checked.
//! 5. [`resilience`]: circuit breakers, retries, metrics, the health monitor.
//! 6. [`tools`], [`keys`], [`usage`], [`traces`]: the tool registry, tools defined once and
//!    exported to any provider; the client keys Aratta issues, and who a request runs as; a
//!    usage record per request, priced, written in batches; OpenTelemetry spans per request
//!    and attempt, exported over OTLP when configured.
//! 7. [`gateway`]: providers, model routing and fallback on top of the runtime.
//! 8. [`reload`]: hot-swapping adapters: the directory watch, verification, history and
//!    rollback, probation (fed by the gateway's call observers), the approval queue.
//! 9. [`build`]: building an adapter project (Rust, Python, JavaScript) to a component.
//! 10. [`heal`]: self-healing: the heal worker's cycles (diagnose, research, fix, build,
//!     verify, decide) that patch an adapter's source and swap the rebuilt component in.
//! 11. [`agent`]: a ReAct loop over the gateway, an audited tool executor with permission
//!     tiers, and a sandbox for model-written Python.
//! 12. [`dialects`]: the APIs clients speak (SCRI, OpenAI's, Anthropic's, Gemini's), each a
//!     folder with its translator to and from SCRI and its routes, behind one trait, so those
//!     official SDKs reach every provider.
//! 13. [`server`]: the HTTP server: the dialects' routes, the operator's routes, the ingress
//!     guard.
//! 14. [`bootstrap`]: start-up, wiring every part together.
//! 15. [`cli`], [`commands`]: how an operator runs it.

pub mod agent;
pub mod bootstrap;
pub mod build;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod dialects;
pub mod fs;
pub mod gateway;
pub mod heal;
pub mod home;
pub mod keys;
pub mod reload;
pub mod resilience;
pub mod runtime;
pub mod scri;
pub mod server;
pub mod store;
pub mod tools;
pub mod traces;
pub mod usage;
