//! The audit log: one JSON line per tool call, whatever its outcome (done, failed, timed out,
//! refused), so what an agent did can be reconstructed after the fact. Lines are written whole
//! with one `write` to a file opened for appending, so concurrent runs never interleave a line,
//! and flushed to disk before the call goes on ([`crate::fs::append_durably`]); a new log
//! file's directory entry is flushed too.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::tools::Tier;

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The tool ran and returned a result.
    Ok,
    /// The tool ran and failed (its error went back to the model).
    Error,
    /// The tool did not finish in time and was abandoned.
    Timeout,
    /// The call was refused before running (permissions, unknown tool, bad arguments).
    Denied,
}

/// One audit line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When the call finished, RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The agent's name.
    pub agent: String,
    /// The run the call belongs to.
    pub run_id: String,
    /// The tool the model called.
    pub tool: String,
    /// The model's call id.
    pub call_id: String,
    /// The arguments as the model sent them.
    pub arguments: Value,
    /// How it ended.
    pub outcome: Outcome,
    /// The error or refusal, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The agent's tier at the time.
    pub tier: Tier,
    /// Wall-clock time of the call.
    pub duration_ms: u64,
}

/// Why the audit log cannot be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the agent audit log {}: {source}", path.display())]
pub struct AuditOpenError {
    /// The file.
    pub path: PathBuf,
    /// The OS error.
    pub source: std::io::Error,
}

/// Where audit lines go: a JSON-lines file, or memory (for embedding and tests).
pub struct AuditLog {
    sink: Mutex<Sink>,
}

enum Sink {
    File(std::fs::File, PathBuf),
    Memory(Vec<AuditEntry>),
}

impl AuditLog {
    /// Append to `path`, creating it and its directory.
    pub fn open(path: &Path) -> Result<Self, AuditOpenError> {
        let fail = |source| AuditOpenError {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(fail)?;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::fs::sync_dir(dir).map_err(fail)?;
        }
        Ok(Self {
            sink: Mutex::new(Sink::File(file, path.to_path_buf())),
        })
    }

    /// Keep entries in memory; read them with [`AuditLog::entries`].
    pub fn memory() -> Self {
        Self {
            sink: Mutex::new(Sink::Memory(Vec::new())),
        }
    }

    /// Record one entry. A failing disk is logged, never fatal to the run.
    pub fn record(&self, entry: AuditEntry) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *sink {
            Sink::Memory(entries) => entries.push(entry),
            Sink::File(file, path) => {
                let mut line = serde_json::to_vec(&entry).expect("audit entries serialise");
                line.push(b'\n');
                if let Err(e) = crate::fs::append_durably(file, &line) {
                    tracing::error!(path = %path.display(), error = %e, tool = %entry.tool, "cannot write the agent audit log");
                }
            }
        }
    }

    /// The entries kept in memory (empty for a file log).
    pub fn entries(&self) -> Vec<AuditEntry> {
        match &*self.sink.lock().unwrap_or_else(|e| e.into_inner()) {
            Sink::Memory(entries) => entries.clone(),
            Sink::File(..) => Vec::new(),
        }
    }
}

/// Now as RFC 3339 UTC with milliseconds.
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_millis(SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(tool: &str) -> AuditEntry {
        AuditEntry {
            time: now_rfc3339(),
            agent: "a".into(),
            run_id: "run_1".into(),
            tool: tool.into(),
            call_id: "c1".into(),
            arguments: serde_json::json!({"x": 1}),
            outcome: Outcome::Denied,
            detail: Some("no".into()),
            tier: Tier::Standard,
            duration_ms: 0,
        }
    }

    #[test]
    fn a_file_log_holds_one_parsable_line_per_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.jsonl");
        let log = AuditLog::open(&path).unwrap();
        log.record(entry("one"));
        log.record(entry("two"));
        drop(log);
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<AuditEntry> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[1].tool, "two");
        assert!(lines[0].time.ends_with('Z') && lines[0].time.contains('T'));
    }
}
