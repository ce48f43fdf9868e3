//! The code sandbox: runs model-written Python in layers, so a gap in one is caught by the next.
//!
//! | layer | what it stops |
//! | --- | --- |
//! | [`validate`]: CPython's `ast`, checked before anything runs | imports outside an allow-list, dunder and private attributes, `exec`/`eval`/`compile`/`open`/`__import__`, `globals`/`getattr`/`vars` tricks; refusals name the construct and line |
//! | `prelude.py`: a PEP 578 audit hook installed before the code runs | processes, sockets, `ctypes`, frame access, and file writes or reads outside the scratch directory |
//! | [`process`]: the OS | empty environment (no API keys), a fresh scratch directory, `RLIMIT_CPU`/`AS`/`FSIZE`/`NOFILE`/`NPROC`, a wall-clock limit that kills the whole process group, bounded stdout/stderr |
//! | [`isolation`]: where the machine permits | a new network namespace (no network at all) and, when the gateway runs as root, the `nobody` user (so `RLIMIT_NPROC` applies and nothing of the gateway's is writable) |

pub mod isolation;
pub mod process;
pub mod validate;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::OnceCell;

pub use isolation::Isolation;
pub use process::{Exit, Finished, ProcessLimits};
pub use validate::Refusal;

/// The runner: compiles `main.py`, installs the audit hook, runs it.
const PRELUDE: &str = include_str!("prelude.py");

/// Limits for one run of sandboxed code.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The interpreter to use; `None` finds one (see [`isolation::candidates`]).
    pub python: Option<PathBuf>,
    /// The OS limits of each run.
    pub limits: ProcessLimits,
    /// Largest source accepted, in bytes.
    pub max_code_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            python: None,
            limits: ProcessLimits {
                wall: Duration::from_secs(10),
                cpu_seconds: 5,
                memory_bytes: 256 << 20,
                max_processes: 32,
                max_file_bytes: 1 << 20,
                max_output_bytes: 64 << 10,
            },
            max_code_bytes: 64 << 10,
        }
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
    /// No Python interpreter starts on this machine.
    #[error("no Python interpreter could start in the sandbox: {}", tried.join("; "))]
    NoInterpreter {
        /// Each interpreter and mode tried, and what happened.
        tried: Vec<String>,
    },
    /// The interpreter could not be started.
    #[error("cannot start {}: {source}", interpreter.display())]
    Spawn {
        /// The interpreter.
        interpreter: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The checker itself failed (an internal error, not a verdict on the code).
    #[error("the code checker failed: {reason}")]
    Validator {
        /// What went wrong.
        reason: String,
    },
    /// The scratch directory could not be prepared.
    #[error("cannot prepare the scratch directory: {0}")]
    Scratch(std::io::Error),
}

/// What a run did. Exceeding a limit is a result, not an error: the code ran and was stopped.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// How the process ended, its output and duration.
    #[serde(flatten)]
    pub finished: Finished,
    /// The interpreter and isolation it ran with.
    pub isolation: Isolation,
}

impl RunReport {
    /// Whether the code ran to the end with exit status 0.
    pub fn succeeded(&self) -> bool {
        self.finished.exit == (Exit::Exited { code: 0 })
    }
}

/// Runs model-written Python. Cheap to share: the interpreter probe happens once.
pub struct Sandbox {
    config: SandboxConfig,
    isolation: OnceCell<Result<Isolation, Vec<String>>>,
}

impl Sandbox {
    /// A sandbox with `config`; nothing is started until the first run.
    pub fn new(config: SandboxConfig) -> Self {
        Self {
            config,
            isolation: OnceCell::new(),
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The interpreter and isolation mode (probed on first use).
    pub async fn isolation(&self) -> Result<&Isolation, SandboxError> {
        let probed = self
            .isolation
            .get_or_init(|| async {
                let interpreters = isolation::candidates(self.config.python.as_deref()).await;
                let found = isolation::probe(&interpreters).await;
                match &found {
                    Ok(iso) if !iso.mode.network_namespace => tracing::warn!(
                        interpreter = %iso.interpreter.display(),
                        "code sandbox without a network namespace: network is refused by the AST rules and the audit hook only"
                    ),
                    Ok(iso) => tracing::info!(interpreter = %iso.interpreter.display(), mode = ?iso.mode, "code sandbox ready"),
                    Err(tried) => tracing::warn!(?tried, "code sandbox has no usable Python"),
                }
                found
            })
            .await;
        probed
            .as_ref()
            .map_err(|tried| SandboxError::NoInterpreter {
                tried: tried.clone(),
            })
    }

    /// Check `code` without running it.
    pub async fn check(&self, code: &str) -> Result<(), SandboxError> {
        let iso = self.isolation().await?.clone();
        let scratch = self.scratch(&iso)?;
        self.check_in(code, &iso, scratch.path()).await
    }

    async fn check_in(
        &self,
        code: &str,
        iso: &Isolation,
        scratch: &std::path::Path,
    ) -> Result<(), SandboxError> {
        if code.len() > self.config.max_code_bytes {
            return Err(SandboxError::TooLarge {
                bytes: code.len(),
                limit: self.config.max_code_bytes,
            });
        }
        validate::check(
            &iso.interpreter,
            code,
            scratch,
            &self.config.limits,
            iso.mode,
        )
        .await
    }

    /// Validate `code`, then run it in a fresh scratch directory that is removed afterwards.
    pub async fn run(&self, code: &str) -> Result<RunReport, SandboxError> {
        let iso = self.isolation().await?.clone();
        let scratch = self.scratch(&iso)?;
        self.check_in(code, &iso, scratch.path()).await?;
        let main = scratch.path().join("main.py");
        std::fs::write(&main, code).map_err(SandboxError::Scratch)?;
        let args = ["-I", "-S", "-c", PRELUDE];
        let finished = process::run(
            &iso.interpreter,
            &args,
            scratch.path(),
            b"",
            &self.config.limits,
            iso.mode,
        )
        .await
        .map_err(|e| SandboxError::Spawn {
            interpreter: iso.interpreter.clone(),
            source: e,
        })?;
        Ok(RunReport {
            finished,
            isolation: iso,
        })
    }

    /// A fresh temporary directory, owned by the sandbox's user when it drops privileges.
    fn scratch(&self, iso: &Isolation) -> Result<tempfile::TempDir, SandboxError> {
        let dir = tempfile::Builder::new()
            .prefix("aratta-sandbox-")
            .tempdir()
            .map_err(SandboxError::Scratch)?;
        if let Some(uid) = iso.mode.drop_to_uid {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(uid))
                .map_err(SandboxError::Scratch)?;
        }
        Ok(dir)
    }
}

#[cfg(test)]
mod tests;
