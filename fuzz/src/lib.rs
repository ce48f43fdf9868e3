//! Fuzzing of Aratta's ingress parsers and SSE encoders on stable Rust.
//!
//! cargo-fuzz needs nightly's sanitizer-coverage instrumentation and would rebuild wasmtime
//! instrumented; Aratta builds on stable only (see `docs/fuzzing.md` for the measured
//! decision). So this harness is a stable one: each [`Target`] is a pure function the server
//! runs (the handlers call the same functions), fed by a seeded mutator over a committed seed
//! corpus (`fuzz/corpus/<target>/`) and by `arbitrary`-driven generation, and checked for
//! more than "no panic": parsers answer a typed error that names the field, decoded requests
//! re-encode to a SCRI request `/api/v1/chat` accepts, encoders write SSE that parses back to
//! the JSON they meant.
//!
//! `cargo test --release -p aratta-fuzz` runs a short, seeded pass of every target (see
//! `tests/short_pass.rs`); `cargo run --release -p aratta-fuzz --bin fuzz -- <target>
//! --seconds 3600` runs one for as long as you like.

pub mod corpus;
pub mod generate;
pub mod mutate;
pub mod runner;
pub mod targets;

pub use targets::TARGETS;

/// One fuzz target: a parser or encoder and the properties it must keep.
pub struct Target {
    /// The name on the command line and of its corpus directory.
    pub name: &'static str,
    /// What it fuzzes, for `--list`.
    pub about: &'static str,
    /// Field names and words of its format, for the generator and the mutator.
    pub dict: &'static [&'static str],
    /// Runs one input: `Err` names the broken property (a panic is caught by the runner).
    pub check: fn(&[u8]) -> Result<(), String>,
}

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}
