//! Aratta's end-to-end test kit.
//!
//! - [`mock`]: a mock OpenAI-compatible upstream (Ollama, vLLM, llama.cpp) that serves recorded wire
//!   fixtures, misbehaves on demand and records every request it receives.
//! - [`gateway`]: starts the real `aratta` binary against a config, in a temporary `ARATTA_HOME`.
//! - [`config`]: the config TOML a test runs with.
//! - [`conformance`]: per-provider mock upstreams replaying recorded fixtures, for the conformance matrix.
//! - [`bins`]: where the `aratta` binary, the misbehaving adapter and the shared compile cache are.
//! - [`sse`]: reads streamed answers on the client side.
//! - [`expect`]: shared assertions on OpenAI-format answers and Aratta's lineage headers.
//! - [`venv`]: Python virtual environments under `target/` from pinned requirements files.
//! - [`npm`]: npm toolchains under `target/` from pinned `package-lock.json` files.
//! - [`upstream`]: a programmable HTTP upstream that records what it was sent.
//! - [`heal`]: a drifting Anthropic upstream, a scripted heal model and researchers.
//! - [`otlp`]: a mock OpenTelemetry collector that decodes the OTLP/HTTP spans it receives.
//! - [`postgres`]: throwaway PostgreSQL 15 servers, unpacked from Debian packages under `target/`.
//!
//! The tests themselves are in `tests/e2e/`, one file per area.

pub mod bins;
pub mod config;
pub mod conformance;
pub mod expect;
pub mod gateway;
pub mod heal;
pub mod mock;
pub mod npm;
pub mod otlp;
pub mod postgres;
pub mod sse;
pub mod upstream;
pub mod venv;
