//! The executor `aratta agent run` and `aratta serve` share: the built-in tools, HTTP tools
//! from the tools file, the code sandbox, and the audit log file.
//!
//! | variable | default | what |
//! | --- | --- | --- |
//! | `ARATTA_AGENT_AUDIT` | `<home>/agent-audit.jsonl` | the audit log (JSON lines, appended) |
//! | `ARATTA_AGENT_TOOLS` | `<home>/agent-tools.json` when it exists | HTTP tools (see [`super::builtins`]) |
//! | `ARATTA_COMPONENTIZE_PY` | `componentize-py` on `PATH` | builds the `python` tool's sandbox component, once (see [`super::sandbox::component`]) |
//! | `ARATTA_CACHE_DIR` | `<home>/cache` | where the built component and its compilation are kept |

use std::path::PathBuf;
use std::sync::Arc;

use super::audit::{AuditLog, AuditOpenError};
use super::builtins::{self, ToolsFileError};
use super::executor::{Executor, RegisterError};
use super::sandbox::{self, Sandbox, SandboxConfig, SandboxError};
use crate::home::Home;

/// Why the executor cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The audit log cannot be opened.
    #[error(transparent)]
    Audit(#[from] AuditOpenError),
    /// The tools file is unusable.
    #[error(transparent)]
    ToolsFile(#[from] ToolsFileError),
    /// A built-in tool clashes (a bug).
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// The sandbox's engine cannot be created.
    #[error(transparent)]
    Sandbox(#[from] SandboxError),
}

/// The audit log's path.
pub fn audit_path(home: &Home, var: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    var("ARATTA_AGENT_AUDIT")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| home.root().join("agent-audit.jsonl"))
}

/// The executor with the built-in tools and any HTTP tools, auditing to the file.
pub fn executor(home: &Home, var: &dyn Fn(&str) -> Option<String>) -> Result<Executor, SetupError> {
    let audit = Arc::new(AuditLog::open(&audit_path(home, var))?);
    let cache_dir = home.component_cache(var);
    let sandbox = Arc::new(Sandbox::new(SandboxConfig {
        source: sandbox::source_from_env(cache_dir, var),
        ..SandboxConfig::default()
    })?);
    // The first build takes seconds; start it now rather than in the model's first call.
    sandbox.warm_up();
    let mut executor = Executor::new(sandbox, audit);
    executor.register(builtins::python_tool())?;
    executor.register(builtins::current_time_tool())?;
    let tools_file = match var("ARATTA_AGENT_TOOLS").filter(|v| !v.is_empty()) {
        Some(path) => Some(PathBuf::from(path)),
        None => Some(home.root().join("agent-tools.json")).filter(|p| p.exists()),
    };
    if let Some(path) = tools_file {
        let n = builtins::register_http_tools(&mut executor, &path)?;
        tracing::info!(path = %path.display(), tools = n, "agent HTTP tools loaded");
    }
    Ok(executor)
}
