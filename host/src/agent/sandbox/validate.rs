//! The first layer: model-written code is parsed by CPython's own `ast` module, in an isolated
//! `python3 -I -S` process under the sandbox's limits, and checked against the rules in
//! `validate.py`. CPython's parser rather than a Rust one, because the grammar that decides what
//! runs is the interpreter's own: a Rust parser that lags a Python release, or disagrees on an
//! edge case, would check a different program than the one executed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SandboxError;
use super::process::{self, Exit, Mode, ProcessLimits};

/// The checker, run with `-c`; the code arrives on stdin.
const VALIDATOR: &str = include_str!("validate.py");

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

#[derive(Deserialize)]
struct Verdict {
    ok: bool,
    #[serde(default)]
    refusals: Vec<Refusal>,
}

/// Check `code`; `Ok(())` when it may run, else the refusals.
pub async fn check(
    interpreter: &Path,
    code: &str,
    scratch: &Path,
    limits: &ProcessLimits,
    mode: Mode,
) -> Result<(), SandboxError> {
    let args = ["-I", "-S", "-c", VALIDATOR];
    let done = process::run(interpreter, &args, scratch, code.as_bytes(), limits, mode)
        .await
        .map_err(|e| SandboxError::Spawn {
            interpreter: interpreter.to_path_buf(),
            source: e,
        })?;
    if done.exit != (Exit::Exited { code: 0 }) {
        return Err(SandboxError::Validator {
            reason: format!(
                "the checker ended with {:?}: {}",
                done.exit,
                done.stderr.trim()
            ),
        });
    }
    let verdict: Verdict =
        serde_json::from_str(&done.stdout).map_err(|e| SandboxError::Validator {
            reason: format!("the checker's verdict is not JSON ({e}): {}", done.stdout),
        })?;
    if verdict.ok {
        Ok(())
    } else {
        Err(SandboxError::Refused {
            refusals: verdict.refusals,
        })
    }
}
