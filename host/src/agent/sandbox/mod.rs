//! The code sandbox: runs model-written Python inside WebAssembly, in layers, so a gap in the
//! first is contained by the second.
//!
//! | layer | what it stops |
//! | --- | --- |
//! | the AST check (`guest/checker.py`, run by the component's own CPython) | imports outside an allow-list; dunder and private attributes; `exec`/`eval`/`compile`/`open`/`__import__`/`getattr`/`globals`/`vars`; reflection by name held in data (`operator.attrgetter`/`methodcaller`, `string.Formatter`, `format_map`, `.format` on a computed string, dunder names in any string); refusals name the construct and line |
//! | the wasm boundary ([`runner`]) | everything else: CPython is a WebAssembly component ([`component`]) run by wasmtime with a fresh scratch directory as its only filesystem, no environment, no sockets or name lookup, no processes (WASI has none), only the modules snapshotted into the component, and limits on fuel (CPU), linear memory, wall-clock time and output bytes |
//!
//! Nothing runs on the host: when the component cannot be built (componentize-py missing) the
//! `python` tool fails with an error that says what to install.

pub mod component;
mod output;
pub mod runner;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};

pub use crate::build::python::{COMPONENTIZE_PY_PIN, COMPONENTIZE_PY_VAR};
pub use component::ComponentSource;

/// The limits one run is held to.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Wall-clock time from instantiation to the end of the run.
    pub wall: Duration,
    /// Fuel (≈ wasm instructions): the CPU budget, check included.
    pub fuel: u64,
    /// Linear memory, in bytes.
    pub memory_bytes: usize,
    /// Bytes kept of stdout and of stderr each; a run that writes more is stopped.
    pub max_output_bytes: usize,
}

/// How the sandbox runs code.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where the component comes from.
    pub source: ComponentSource,
    /// The limits of each run.
    pub limits: Limits,
    /// Largest source accepted, in bytes.
    pub max_code_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            source: ComponentSource::default(),
            limits: Limits {
                wall: Duration::from_secs(10),
                // About 5 s of CPython spinning on a 2-core machine (a spin loop spends 6e9 in 0.6 s).
                fuel: 50_000_000_000,
                memory_bytes: 256 << 20,
                max_output_bytes: 64 << 10,
            },
            max_code_bytes: 64 << 10,
        }
    }
}

/// One rule the code broke: the construct, where, and why it is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// The construct as written (`import os`, `.__class__`, `eval`).
    pub construct: String,
    /// 1-based line (0 when the parser could not say).
    pub line: u32,
    /// 1-based column.
    pub col: u32,
    /// Why it is refused.
    pub message: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: `{}`: {}",
            self.line, self.construct, self.message
        )
    }
}

/// Why sandboxed code did not run.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The code broke the sandbox's rules; nothing ran.
    #[error("code refused: {}", refusals.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; "))]
    Refused {
        /// Every rule broken.
        refusals: Vec<Refusal>,
    },
    /// The code is larger than `max_code_bytes`.
    #[error("code refused: {bytes} bytes is more than the sandbox's limit of {limit}")]
    TooLarge {
        /// The code's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// componentize-py, needed once to build the sandbox component, is missing.
    #[error(
        "the python tool is unavailable: its sandbox is built once with componentize-py, and {reason}; install it with `pip install {COMPONENTIZE_PY_PIN}` (or set {COMPONENTIZE_PY_VAR} to its path). Code is never run outside the sandbox"
    )]
    Unavailable {
        /// What was looked for and not found.
        reason: String,
    },
    /// The component could not be built, compiled or instantiated.
    #[error("the python tool is unavailable: the sandbox component failed: {reason}")]
    Build {
        /// What went wrong.
        reason: String,
    },
    /// The scratch directory could not be prepared.
    #[error("cannot prepare the scratch directory: {0}")]
    Scratch(std::io::Error),
}

/// How a run ended. Reaching a limit is a result, not an error: the code ran and was stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Exit {
    /// It ran to its end.
    Completed,
    /// It raised an exception it did not catch.
    Raised {
        /// The exception's type and message (the traceback is in stderr).
        error: String,
    },
    /// It called `sys.exit` with this status.
    Exited {
        /// The status.
        code: i32,
    },
    /// The wall-clock limit passed.
    TimedOut,
    /// The fuel (CPU) budget ran out.
    CpuLimit,
    /// It needed more linear memory than allowed and could not go on.
    MemoryLimit,
    /// It wrote more than the output bound.
    OutputLimit,
    /// The WebAssembly code trapped (a stack overflow, for instance).
    Trapped {
        /// The trap.
        reason: String,
    },
}

/// What a run did.
#[derive(Debug, Clone, Serialize)]
pub struct Finished {
    /// How it ended.
    pub exit: Exit,
    /// Its standard output, up to the bound (lossy UTF-8).
    pub stdout: String,
    /// Its standard error, up to the bound (lossy UTF-8).
    pub stderr: String,
    /// Whether stdout was longer than the bound.
    pub stdout_truncated: bool,
    /// Whether stderr was longer than the bound.
    pub stderr_truncated: bool,
    /// Wall-clock time from instantiation to the end.
    pub duration_ms: u64,
}

/// What a run did, as the executor reports it.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How the code ended, its output and duration.
    #[serde(flatten)]
    pub finished: Finished,
}

impl RunReport {
    /// Whether the code ran to its end (or exited with status 0).
    pub fn succeeded(&self) -> bool {
        matches!(
            self.finished.exit,
            Exit::Completed | Exit::Exited { code: 0 }
        )
    }
}

/// The compiled component and what instantiates it.
struct Prepared {
    component: Component,
    linker: Linker<runner::RunState>,
}

/// Runs model-written Python. Cheap to share: the component is built and compiled once, on
/// first use (or by [`Sandbox::warm_up`]); a failure is not remembered, so installing
/// componentize-py makes the next call work.
pub struct Sandbox {
    config: SandboxConfig,
    engine: Engine,
    prepared: tokio::sync::Mutex<Option<Arc<Prepared>>>,
}

impl Sandbox {
    /// A sandbox with `config`; nothing is built until the first run.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        Ok(Self {
            config,
            engine: runner::engine()?,
            prepared: tokio::sync::Mutex::new(None),
        })
    }

    /// The limits in force.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Build (or load) the component in the background, so the first call does not wait for it.
    pub fn warm_up(self: &Arc<Self>) {
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let sandbox = self.clone();
        handle.spawn(async move {
            if let Err(e) = sandbox.prepare().await {
                tracing::warn!(error = %e, "the python tool's sandbox is not ready");
            }
        });
    }

    /// Build (or load) the component now; `Ok` when runs can start.
    pub async fn ready(&self) -> Result<(), SandboxError> {
        self.prepare().await.map(|_| ())
    }

    /// The component, built, compiled and linked on first use.
    async fn prepare(&self) -> Result<Arc<Prepared>, SandboxError> {
        let mut slot = self.prepared.lock().await;
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let component = self.config.source.load(&self.engine).await?;
        let linker = runner::linker(&self.engine)?;
        let prepared = Arc::new(Prepared { component, linker });
        *slot = Some(prepared.clone());
        Ok(prepared)
    }

    /// Check `code` with the AST rules and, when none is broken, run it in a fresh instance over
    /// a fresh scratch directory that is removed afterwards.
    pub async fn run(&self, code: &str) -> Result<RunReport, SandboxError> {
        if code.len() > self.config.max_code_bytes {
            return Err(SandboxError::TooLarge {
                bytes: code.len(),
                limit: self.config.max_code_bytes,
            });
        }
        self.execute(runner::Task::CheckAndRun(code)).await
    }

    /// Run `code` without the AST check: the wasm boundary alone. For tests of that boundary;
    /// the `python` tool always goes through [`Sandbox::run`].
    pub async fn run_unchecked(&self, code: &str) -> Result<RunReport, SandboxError> {
        self.execute(runner::Task::RunUnchecked(code)).await
    }

    async fn execute(&self, task: runner::Task<'_>) -> Result<RunReport, SandboxError> {
        let prepared = self.prepare().await?;
        let scratch = tempfile::Builder::new()
            .prefix("aratta-sandbox-")
            .tempdir()
            .map_err(SandboxError::Scratch)?;
        let finished = runner::run(
            &self.engine,
            &prepared.linker,
            &prepared.component,
            scratch.path(),
            &self.config.limits,
            task,
        )
        .await?;
        Ok(RunReport { finished })
    }
}

/// The default place for the component: `<cache>/sandbox/`, built by the componentize-py that
/// `ARATTA_COMPONENTIZE_PY` names, else the one on `PATH`.
pub fn source_from_env(
    cache_dir: PathBuf,
    var: &dyn Fn(&str) -> Option<String>,
) -> ComponentSource {
    ComponentSource {
        componentize_py: var(COMPONENTIZE_PY_VAR)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
        cache_dir: Some(cache_dir),
    }
}

#[cfg(test)]
mod tests;
