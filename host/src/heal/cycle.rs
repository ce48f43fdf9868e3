//! What a heal cycle did, phase by phase, kept in the store (`crate::store::heal_cycles`) so
//! `GET /api/v1/heal` and `aratta heal list` show it after a restart, on every server sharing
//! the store. The record is rewritten after every phase: a cycle cut short by a crash is found
//! `running` when its server starts again, and marked `interrupted`. Cycles an older version
//! kept as JSON files under `<home>/heal/cycles/` are imported once.

use std::path::Path;

use tokio::sync::{mpsc, oneshot};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::edits::Edit;
use crate::clock::unix_millis;
use crate::store::Store;
use crate::store::heal_cycles::HealClaimed;

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
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A record this version cannot read.
    #[error("heal cycle '{id}' in the store is unreadable: {reason}")]
    Corrupt {
        /// The cycle.
        id: String,
        /// What the parser said.
        reason: String,
    },
}

/// A write for the store's writer task.
#[derive(Debug)]
enum Write {
    Save(Box<Cycle>),
    /// Answered once every write queued before it is done.
    Flush(oneshot::Sender<()>),
}

/// The cycles, in the store. Saves are queued and written in order by one task, so a phase
/// never waits on the database; reads wait for the saves queued before them.
#[derive(Debug, Clone)]
pub struct CycleStore {
    store: Store,
    /// The server running the cycles saved through this handle.
    server: String,
    queue: mpsc::UnboundedSender<Write>,
}

impl CycleStore {
    /// The cycles in `store`, saved as run by `server` (a name stable across its restarts).
    /// Starts the writer task on the current tokio runtime.
    pub fn new(store: Store, server: String) -> Self {
        let (queue, mut writes) = mpsc::unbounded_channel::<Write>();
        let (target, by) = (store.clone(), server.clone());
        tokio::spawn(async move {
            while let Some(write) = writes.recv().await {
                match write {
                    Write::Save(cycle) => {
                        if let Err(e) = save(&target, &by, &cycle).await {
                            tracing::warn!(cycle = %cycle.id, error = %e, "cannot save a heal cycle");
                        }
                    }
                    Write::Flush(done) => {
                        let _ = done.send(());
                    }
                }
            }
        });
        CycleStore {
            store,
            server,
            queue,
        }
    }

    /// Queue `cycle` to be written (a failure is logged).
    pub fn save(&self, cycle: &Cycle) {
        let _ = self.queue.send(Write::Save(Box::new(cycle.clone())));
    }

    /// Claim `cycle`'s adapter among the servers on the store, honouring a `cooldown` (seconds)
    /// when given (see `crate::store::heal_cycles`).
    pub async fn claim(
        &self,
        cycle: &Cycle,
        cooldown: Option<u64>,
    ) -> Result<HealClaimed, crate::store::StoreError> {
        let now = crate::clock::unix_seconds();
        self.store
            .claim_heal(&cycle.adapter, &self.server, &cycle.id, now, cooldown)
            .await
    }

    /// `cycle` ended: its claim holds for the cooldown only (a failure is logged; the claim
    /// then runs out after an hour).
    pub async fn end_claim(&self, cycle: &Cycle) {
        let now = crate::clock::unix_seconds();
        if let Err(e) = self
            .store
            .end_heal_claim(&cycle.adapter, &cycle.id, now)
            .await
        {
            tracing::warn!(cycle = %cycle.id, error = %e, "the heal claim could not be ended; other servers wait for it to run out");
        }
    }

    /// Wait until every save queued so far is written.
    async fn flushed(&self) {
        let (done, written) = oneshot::channel();
        if self.queue.send(Write::Flush(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// Every cycle, newest first (unreadable records are logged and left out).
    pub async fn list(&self) -> Result<Vec<Cycle>, StoreError> {
        self.flushed().await;
        let records = self.store.heal_cycles().await?;
        Ok(records
            .iter()
            .filter_map(|r| {
                parse(r)
                    .inspect_err(
                        |e| tracing::warn!(error = %e, "skipping an unreadable heal cycle"),
                    )
                    .ok()
            })
            .collect())
    }

    /// The cycle `id`.
    pub async fn get(&self, id: &str) -> Result<Cycle, StoreError> {
        self.flushed().await;
        match self.store.heal_cycle(id).await? {
            Some(record) => parse(&record),
            None => Err(StoreError::NotFound(id.to_owned())),
        }
    }

    /// Mark this server's cycles left `running` by its previous run as `interrupted`. Call
    /// before any cycle starts.
    pub async fn mark_interrupted(&self) -> Result<(), StoreError> {
        let running = self
            .store
            .heal_cycles_of(&self.server, CycleStatus::Running.as_str())
            .await?;
        for record in running {
            let mut cycle = parse(&record)?;
            cycle.status = CycleStatus::Interrupted;
            cycle.summary = "interrupted: the server stopped while this cycle ran".into();
            cycle.finished_at_ms = Some(unix_millis());
            save(&self.store, &self.server, &cycle).await?;
        }
        Ok(())
    }

    /// Import the cycles an older version kept as `<id>.json` files in `dir`, then rename
    /// `dir` to `<dir>.imported-<unix seconds>`.
    pub async fn import_legacy(&self, dir: &Path) {
        let Some(files) = crate::fs::json_files::<Cycle>(dir) else {
            return;
        };
        let mut imported = 0;
        for (path, cycle) in files {
            let cycle = match cycle {
                Ok(cycle) => cycle,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "heal cycle file not imported into the store; the renamed directory keeps it");
                    continue;
                }
            };
            if let Err(e) = save(&self.store, &self.server, &cycle).await {
                tracing::error!(dir = %dir.display(), error = %e, "the heal cycles of an older version could not be imported; they stay in place");
                return;
            }
            imported += 1;
        }
        crate::fs::retire_imported(dir, "heal cycles", imported);
    }
}

async fn save(store: &Store, server: &str, cycle: &Cycle) -> Result<(), crate::store::StoreError> {
    let record = serde_json::to_string(cycle).expect("cycles serialize");
    store
        .save_heal_cycle(
            &cycle.id,
            &cycle.adapter,
            cycle.status.as_str(),
            server,
            &record,
        )
        .await
}

fn parse(record: &str) -> Result<Cycle, StoreError> {
    serde_json::from_str(record).map_err(|e| StoreError::Corrupt {
        id: serde_json::from_str::<serde_json::Value>(record)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned()),
        reason: e.to_string(),
    })
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

    #[tokio::test]
    async fn cycles_are_listed_newest_first_and_running_ones_become_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Store::open(&dir.path().join("aratta.db")).await.unwrap();
        let store = CycleStore::new(db.clone(), "me".into());
        assert!(store.list().await.unwrap().is_empty());
        store.save(&cycle("heal_1", CycleStatus::Swapped));
        store.save(&cycle("heal_2", CycleStatus::Running));
        let ids: Vec<String> = store
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(
            ids,
            ["heal_2", "heal_1"],
            "reads see the saves queued before them"
        );
        // Another server's running cycle is its own business.
        let other = CycleStore::new(db, "other".into());
        other.save(&cycle("heal_3", CycleStatus::Running));
        other.list().await.unwrap();
        store.mark_interrupted().await.unwrap();
        let status = |id: &'static str| {
            let store = store.clone();
            async move { store.get(id).await.unwrap().status }
        };
        assert_eq!(status("heal_2").await, CycleStatus::Interrupted);
        assert_eq!(status("heal_1").await, CycleStatus::Swapped);
        assert_eq!(status("heal_3").await, CycleStatus::Running);
        assert!(matches!(
            store.get("../x").await,
            Err(StoreError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn an_older_versions_cycles_are_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("cycles");
        std::fs::create_dir_all(&legacy).unwrap();
        let old = serde_json::to_vec(&cycle("heal_1", CycleStatus::Running)).unwrap();
        std::fs::write(legacy.join("heal_1.json"), old).unwrap();
        std::fs::write(legacy.join("heal_2.json"), b"{not json").unwrap();
        let db = Store::open(&dir.path().join("aratta.db")).await.unwrap();
        let store = CycleStore::new(db, "me".into());
        store.import_legacy(&legacy).await;
        store.mark_interrupted().await.unwrap();
        assert!(!legacy.exists(), "renamed");
        let all = store.list().await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].status, CycleStatus::Interrupted);
    }

    #[test]
    fn long_text_is_cut_at_a_character_boundary() {
        let text = "é".repeat(10);
        let cut = bounded(&text, 5);
        assert!(cut.starts_with("éé") && cut.contains("more bytes"), "{cut}");
        assert_eq!(bounded("short", 10), "short");
    }
}
