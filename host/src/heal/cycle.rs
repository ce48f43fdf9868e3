//! What a heal cycle did, phase by phase, kept as one JSON file per cycle under
//! `<home>/heal/cycles/` so `GET /api/v1/heal` and `aratta heal list` show it after a restart.
//! The record is rewritten after every phase: a cycle cut short by a crash is found `running`
//! at the next start and marked `interrupted`.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::edits::Edit;
use crate::clock::unix_millis;
use crate::fs::write_atomic;

/// The most of a model's raw answer, a build log or a finding a record keeps.
pub const MAX_KEPT_TEXT: usize = 16 * 1024;

/// Where a cycle stands, or how it ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CycleStatus {
    /// A phase is running.
    Running,
    /// The fix was verified and swapped in.
    Swapped,
    /// The fix (or, when it could not be built, the proposal) waits in the approval queue.
    Queued,
    /// The cycle ended without a usable fix; the serving version is untouched.
    Failed,
    /// Not started: another cycle for the adapter runs, or it is within its cooldown.
    Skipped,
    /// The server stopped while the cycle ran.
    Interrupted,
}

impl CycleStatus {
    /// The outcomes `heal_requests_total` counts, each when a cycle ends: a running cycle is
    /// not counted yet, and one a restart interrupted never ended.
    pub const COUNTED: [CycleStatus; 4] = [
        CycleStatus::Swapped,
        CycleStatus::Queued,
        CycleStatus::Failed,
        CycleStatus::Skipped,
    ];

    /// The `outcome` label of `heal_requests_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            CycleStatus::Running => "running",
            CycleStatus::Swapped => "swapped",
            CycleStatus::Queued => "queued",
            CycleStatus::Failed => "failed",
            CycleStatus::Skipped => "skipped",
            CycleStatus::Interrupted => "interrupted",
        }
    }
}

/// One phase of a cycle: diagnose, research, fix, build, verify or decide.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Phase {
    /// `diagnose`, `research`, `fix`, `build`, `verify` or `decide` (a repeated fix or build
    /// after feedback appears again).
    pub name: String,
    /// `ok`, `failed` or `skipped`.
    pub outcome: String,
    /// The model called, when the phase called one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// How long it took.
    pub duration_ms: u64,
    /// Bytes sent to the model (prompt size), when a model was called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_bytes: Option<usize>,
    /// What came back: the model's raw answer, the build's log tail, the verification result.
    pub output: String,
}

/// The heal model's reading of the failure (schema `aratta_heal_diagnosis`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Diagnosis {
    /// The kind of change, e.g. `renamed_response_field`.
    pub classification: String,
    /// What changed, in a few sentences.
    pub summary: String,
    /// What to search the web for (1–3 queries).
    pub search_queries: Vec<String>,
}

/// What research found.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct Findings {
    /// The provider that answered (none: no research was possible).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// The findings text.
    pub text: String,
    /// The URLs it cited.
    pub urls: Vec<String>,
    /// Each provider tried, and why it was passed over or failed.
    pub attempts: Vec<String>,
}

/// The heal model's fix (schema `aratta_heal_fix`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Fix {
    /// What the fix does.
    pub summary: String,
    /// The model's confidence, 0–1 (capped at 0.5 without research).
    pub confidence: f64,
    /// Search/replace edits, paths relative to the source root.
    pub edits: Vec<Edit>,
}

/// The build of the patched source.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BuildRecord {
    /// Whether a component came out.
    pub ok: bool,
    /// How long it took.
    pub duration_ms: u64,
    /// SHA-256 of the component.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The end of the compiler's output.
    pub log_tail: String,
}

/// The real call that shows the fix works.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Replay {
    /// The operation replayed: `chat`, `chat_stream`, `embed` or `models`.
    pub operation: String,
    /// The provider and model called.
    pub provider: String,
    /// The model.
    pub model: String,
    /// What the serving version answered (it must still fail).
    pub serving: String,
    /// What the candidate answered (it must succeed).
    pub candidate: String,
    /// Whether the candidate fixed what the serving version fails.
    pub fixed: bool,
}

/// What was done with the fix.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// `swapped`, `queued` or `refused`.
    pub action: String,
    /// Why.
    pub reason: String,
    /// The approval queue entry, when queued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// One heal cycle, from trigger to decision.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Cycle {
    /// `heal_` + time + random digits, so ids sort by start.
    pub id: String,
    /// The adapter healed.
    pub adapter: String,
    /// Its serving version when the cycle started.
    pub adapter_version: String,
    /// The provider whose calls failed.
    pub provider: String,
    /// The error class that triggered it (`manual` for `aratta heal run` without errors).
    pub class: String,
    /// The heal trigger, when a trigger started it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_id: Option<String>,
    /// Who started it: `trigger` or `operator`.
    pub started_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub started_at_ms: u64,
    /// When it ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at_ms: Option<u64>,
    /// Where it stands.
    pub status: CycleStatus,
    /// One line on the outcome.
    pub summary: String,
    /// Each phase, in order.
    pub phases: Vec<Phase>,
    /// The diagnosis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// The research.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub research: Option<Findings>,
    /// The fix proposed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// The fix as a unified diff against the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// The build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildRecord>,
    /// The real call through the candidate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<Replay>,
    /// What was done with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
}

impl Cycle {
    /// A cycle starting now for `adapter` at `adapter_version`, on `provider`'s failures of
    /// `class`: `running`, with no phase yet.
    pub fn start(
        adapter: &str,
        adapter_version: &str,
        provider: &str,
        class: &str,
        trigger_id: Option<String>,
        started_by: &str,
    ) -> Cycle {
        Cycle {
            id: new_id(),
            adapter: adapter.to_owned(),
            adapter_version: adapter_version.to_owned(),
            provider: provider.to_owned(),
            class: class.to_owned(),
            trigger_id,
            started_by: started_by.to_owned(),
            started_at_ms: unix_millis(),
            finished_at_ms: None,
            status: CycleStatus::Running,
            summary: "diagnosing".into(),
            phases: Vec::new(),
            diagnosis: None,
            research: None,
            fix: None,
            diff: None,
            build: None,
            verification: None,
            decision: None,
        }
    }
}

/// Why the cycle store could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No cycle has this id.
    #[error("no heal cycle with id '{0}'; see GET /api/v1/heal")]
    NotFound(String),
    /// A file.
    #[error("heal cycle store {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The cycles on disk.
#[derive(Debug, Clone)]
pub struct CycleStore {
    dir: PathBuf,
}

impl CycleStore {
    /// The store kept in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        CycleStore { dir }
    }

    /// Write `cycle` (durably; a reader never sees half a record).
    pub fn save(&self, cycle: &Cycle) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.dir.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let path = self.dir.join(format!("{}.json", cycle.id));
        let json = serde_json::to_vec_pretty(cycle).expect("cycles serialize");
        write_atomic(&path, &json).map_err(|source| StoreError::Io { path, source })
    }

    /// Every cycle, newest first (unreadable files are logged and left out).
    pub fn list(&self) -> Result<Vec<Cycle>, StoreError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(StoreError::Io {
                    path: self.dir.clone(),
                    source,
                });
            }
        };
        let mut all: Vec<Cycle> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| match std::fs::read(&p).map(|b| serde_json::from_slice(&b)) {
                Ok(Ok(cycle)) => Some(cycle),
                Ok(Err(e)) => {
                    tracing::warn!(file = %p.display(), error = %e, "skipping an unreadable heal cycle");
                    None
                }
                Err(_) => None,
            })
            .collect();
        all.sort_by(|a: &Cycle, b| b.id.cmp(&a.id));
        Ok(all)
    }

    /// The cycle `id`.
    pub fn get(&self, id: &str) -> Result<Cycle, StoreError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(StoreError::NotFound(id.to_owned()));
        }
        let path = self.dir.join(format!("{id}.json"));
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => StoreError::NotFound(id.to_owned()),
            _ => StoreError::Io {
                path: path.clone(),
                source: e,
            },
        })?;
        serde_json::from_slice(&bytes).map_err(|e| StoreError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })
    }

    /// Mark cycles left `running` by a previous process as `interrupted`.
    pub fn mark_interrupted(&self) {
        for mut cycle in self.list().unwrap_or_default() {
            if cycle.status == CycleStatus::Running {
                cycle.status = CycleStatus::Interrupted;
                cycle.summary = "interrupted: the server stopped while this cycle ran".into();
                cycle.finished_at_ms = Some(unix_millis());
                if let Err(e) = self.save(&cycle) {
                    tracing::warn!(cycle = %cycle.id, error = %e, "cannot mark a heal cycle interrupted");
                }
            }
        }
    }
}

/// A fresh cycle id: `heal_`, the time in milliseconds (hex) and 4 random hex digits.
pub fn new_id() -> String {
    let random = &uuid::Uuid::new_v4().simple().to_string()[..4];
    format!("heal_{:011x}{random}", unix_millis())
}

/// `text` cut to at most `max` bytes at a character boundary, with a note when cut.
pub fn bounded(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [{} more bytes]", &text[..end], text.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cycle(id: &str, status: CycleStatus) -> Cycle {
        let mut cycle = Cycle::start(
            "openai",
            "0.1.0",
            "openai",
            "missing_field",
            None,
            "trigger",
        );
        cycle.id = id.into();
        cycle.status = status;
        cycle
    }

    #[test]
    fn cycles_are_listed_newest_first_and_running_ones_become_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let store = CycleStore::new(dir.path().join("cycles"));
        assert!(store.list().unwrap().is_empty());
        store.save(&cycle("heal_1", CycleStatus::Swapped)).unwrap();
        store.save(&cycle("heal_2", CycleStatus::Running)).unwrap();
        let ids: Vec<String> = store.list().unwrap().into_iter().map(|c| c.id).collect();
        assert_eq!(ids, ["heal_2", "heal_1"]);
        store.mark_interrupted();
        assert_eq!(
            store.get("heal_2").unwrap().status,
            CycleStatus::Interrupted
        );
        assert_eq!(store.get("heal_1").unwrap().status, CycleStatus::Swapped);
        assert!(matches!(store.get("../x"), Err(StoreError::NotFound(_))));
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let text = "é".repeat(10);
        let cut = bounded(&text, 5);
        assert!(cut.starts_with("éé") && cut.contains("more bytes"), "{cut}");
        assert_eq!(bounded("short", 10), "short");
    }
}
