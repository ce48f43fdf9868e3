//! The tools every executor starts with, and HTTP tools an operator declares in a JSON file.
//!
//! | tool | tier | what |
//! | --- | --- | --- |
//! | `python` | elevated | runs the `code` argument in the code sandbox; stdout is the result |
//! | `current_time` | restricted | the current UTC time (RFC 3339), a read-only Rust function |
//!
//! HTTP tools (`ARATTA_AGENT_TOOLS`, else `<home>/agent-tools.json`, optional) are a JSON list of
//! `{"name", "description", "parameters", "tier", "url", "timeout_seconds"}`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::audit::now_rfc3339;
use super::executor::{Executor, Registered, ToolImpl};
use super::sandbox::{Exit, RunReport, SandboxError};
use crate::tools::{Tier, ToolDef};

/// The sandbox tool's definition.
pub fn python_tool() -> Registered {
    Registered {
        def: ToolDef::new(
            "python",
            Some(
                "Run Python 3 code in a sandbox and return what it prints. Only the modules math, json, re, \
                 random, statistics, itertools, functools, collections, datetime, decimal, fractions, string \
                 and similar pure-computation modules can be imported; no files, network or processes \
                 (it runs inside WebAssembly)."
                    .into(),
            ),
            json!({
                "type": "object",
                "properties": {"code": {"type": "string", "description": "The program; print the result."}},
                "required": ["code"]
            }),
        )
        .with_tier(Tier::Elevated),
        imp: ToolImpl::Python,
        // The sandbox has its own wall-clock limit; this is the backstop.
        timeout: Duration::from_secs(60),
    }
}

/// `current_time`: a read-only function, allowed at every tier.
pub fn current_time_tool() -> Registered {
    Registered {
        def: ToolDef::new(
            "current_time",
            Some("The current date and time in UTC (RFC 3339).".into()),
            json!({"type": "object", "properties": {}}),
        )
        .with_tier(Tier::Restricted),
        imp: ToolImpl::Function(Arc::new(|_| Box::pin(async { Ok(now_rfc3339()) }))),
        timeout: Duration::from_secs(1),
    }
}

/// A sandbox run as the model reads it: stdout when the code succeeded, else how it ended with
/// its stderr; a refusal names the constructs and lines.
pub fn python_result(run: Result<RunReport, SandboxError>) -> Result<String, String> {
    let report = run.map_err(|e| e.to_string())?;
    let f = &report.finished;
    let mut stdout = f.stdout.clone();
    if f.stdout_truncated {
        stdout.push_str("\n[output truncated]");
    }
    if report.succeeded() {
        return Ok(stdout);
    }
    let how = match &f.exit {
        Exit::Completed => "ran to its end".into(),
        Exit::Raised { error } => format!("raised {error}"),
        Exit::Exited { code } => format!("exited with status {code}"),
        Exit::TimedOut => "was stopped at the wall-clock limit".into(),
        Exit::CpuLimit => "was stopped at the CPU limit".into(),
        Exit::MemoryLimit => "was stopped at the memory limit".into(),
        Exit::OutputLimit => "was stopped at the output limit".into(),
        Exit::Trapped { reason } => format!("was stopped by the sandbox: {reason}"),
    };
    Err(format!(
        "the code {how}\nstdout:\n{stdout}\nstderr:\n{}",
        f.stderr
    ))
}

/// One HTTP tool as declared in the tools file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpToolSpec {
    name: String,
    #[serde(default)]
    description: Option<String>,
    parameters: Value,
    #[serde(default)]
    tier: Tier,
    url: String,
    #[serde(default = "default_http_timeout")]
    timeout_seconds: u64,
}

fn default_http_timeout() -> u64 {
    30
}

/// Why the tools file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ToolsFileError {
    /// The file cannot be read.
    #[error("cannot read the agent tools file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not a list of tools.
    #[error("the agent tools file {}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the JSON path.
        message: String,
    },
}

/// Register the HTTP tools declared in `path`.
pub fn register_http_tools(executor: &mut Executor, path: &Path) -> Result<usize, ToolsFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ToolsFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let invalid = |message: String| ToolsFileError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let de = &mut serde_json::Deserializer::from_str(&text);
    let specs: Vec<HttpToolSpec> = serde_path_to_error::deserialize(de)
        .map_err(|e| invalid(format!("{}: {}", e.path(), e.inner())))?;
    let count = specs.len();
    for spec in specs {
        let parsed = url::Url::parse(&spec.url)
            .map_err(|e| invalid(format!("tool `{}`: url {:?}: {e}", spec.name, spec.url)))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(invalid(format!(
                "tool `{}`: url must be http or https",
                spec.name
            )));
        }
        if !spec.parameters.is_object() {
            return Err(invalid(format!(
                "tool `{}`: parameters must be a JSON Schema object",
                spec.name
            )));
        }
        executor
            .register(Registered {
                def: ToolDef::new(spec.name, spec.description, spec.parameters)
                    .with_tier(spec.tier),
                imp: ToolImpl::Http { url: spec.url },
                timeout: Duration::from_secs(spec.timeout_seconds.max(1)),
            })
            .map_err(|e| invalid(e.to_string()))?;
    }
    Ok(count)
}
