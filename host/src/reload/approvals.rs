//! The approval queue: candidate adapter versions that wait for a human before they may serve.
//! The operator proposes one (`aratta approvals propose` or `POST /api/v1/approvals`);
//! approving runs the same verify-then-swap path as a file dropped into the adapters
//! directory. Each entry is two files under `<home>/approvals/`: `<id>.wasm` (the candidate)
//! and `<id>.json` (what it is and what became of it), so the queue survives restarts.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use bytes::Bytes;

use crate::fs::write_atomic;
use crate::runtime::AdapterSource;

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalStatus {
    /// Waiting for a decision.
    Pending,
    /// Approved, verified and serving (or serving already).
    Approved,
    /// Approved, but verification refused it; the serving version stayed.
    Failed,
    /// Rejected by a human.
    Rejected,
}

/// One candidate in the queue.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    /// Its id, as used in `/api/v1/approvals/{id}/approve`.
    pub id: String,
    /// The adapter it would replace (its `describe` name).
    pub adapter: String,
    /// The version it describes itself with.
    pub version: String,
    /// SHA-256 of the component.
    pub sha256: String,
    /// Why it was proposed.
    pub reason: String,
    /// Who proposed it (`api`, `cli`, `heal`, ...).
    pub proposed_by: String,
    /// When (seconds since the Unix epoch).
    pub proposed_at: u64,
    /// Where it stands.
    pub status: ApprovalStatus,
    /// When it was decided.
    pub decided_at: Option<u64>,
    /// What the decision led to: the swap, or why verification refused it.
    pub outcome: Option<String>,
    /// What a heal cycle knows about its proposal, when `proposed_by` is `heal`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heal: Option<HealProposal>,
}

/// A heal cycle's proposal: why it was made and how far it got, so a human decides with the
/// diagnosis, the sources, the diff and the verification in front of them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct HealProposal {
    /// The cycle (`GET /api/v1/heal/{id}`).
    pub cycle_id: String,
    /// What the heal model found.
    pub diagnosis: String,
    /// The URLs research cited.
    pub sources: Vec<String>,
    /// The edits as a unified diff.
    pub diff: String,
    /// The heal model's confidence (0–1).
    pub confidence: f64,
    /// The real call through the candidate, or why there is none.
    pub verification: String,
    /// Why no component was built (no source or no toolchain); such a proposal cannot be
    /// approved here: apply the diff and install with `aratta adapter build`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_built: Option<String>,
}

/// Why the queue could not be read or changed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// No entry has this id.
    #[error("no approval with id '{0}'; see GET /api/v1/approvals")]
    NotFound(String),
    /// The entry was decided already.
    #[error("approval '{id}' is already {status:?}; only pending approvals can be decided")]
    Decided {
        /// The entry.
        id: String,
        /// Its status.
        status: ApprovalStatus,
    },
    /// A heal proposal without a component.
    #[error(
        "approval '{id}' was not built ({why}); apply its diff to the adapter's source and install it with `aratta adapter build`, then reject this entry"
    )]
    NotBuilt {
        /// The entry.
        id: String,
        /// Why it was not built.
        why: String,
    },
    /// A queue file.
    #[error("approval queue {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The queue on disk.
#[derive(Debug, Clone)]
pub struct Approvals {
    pub(super) dir: PathBuf,
}

fn io(path: PathBuf) -> impl FnOnce(std::io::Error) -> ApprovalError {
    move |source| ApprovalError::Io { path, source }
}

impl Approvals {
    /// The queue kept in `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Approvals { dir }
    }

    /// Queue `entry` with its component (none for a heal proposal that was not built).
    pub fn add(&self, entry: &Approval, component: Option<&[u8]>) -> Result<(), ApprovalError> {
        std::fs::create_dir_all(&self.dir).map_err(io(self.dir.clone()))?;
        if let Some(component) = component {
            let wasm = self.dir.join(format!("{}.wasm", entry.id));
            write_atomic(&wasm, component).map_err(io(wasm))?;
        }
        self.save(entry)
    }

    /// Every entry, newest first.
    pub fn list(&self) -> Result<Vec<Approval>, ApprovalError> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io(self.dir.clone())(e)),
        };
        let mut all: Vec<Approval> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| match std::fs::read(&p).map(|b| serde_json::from_slice(&b)) {
                Ok(Ok(entry)) => Some(entry),
                Ok(Err(e)) => {
                    tracing::warn!(file = %p.display(), error = %e, "skipping an unreadable approval");
                    None
                }
                Err(_) => None,
            })
            .collect();
        all.sort_by(|a: &Approval, b| b.id.cmp(&a.id));
        Ok(all)
    }

    /// The entry `id`.
    pub fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ApprovalError::NotFound(id.to_owned()));
        }
        let path = self.dir.join(format!("{id}.json"));
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApprovalError::NotFound(id.to_owned()),
            _ => io(path.clone())(e),
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| io(path)(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
    }

    /// The entry `id` if it is still pending, with its component.
    pub fn pending(&self, id: &str) -> Result<(Approval, Vec<u8>), ApprovalError> {
        let entry = self.get(id)?;
        if entry.status != ApprovalStatus::Pending {
            return Err(ApprovalError::Decided {
                id: id.to_owned(),
                status: entry.status,
            });
        }
        if let Some(why) = entry.heal.as_ref().and_then(|h| h.not_built.clone()) {
            return Err(ApprovalError::NotBuilt {
                id: id.to_owned(),
                why,
            });
        }
        let wasm = self.dir.join(format!("{id}.wasm"));
        let component = std::fs::read(&wasm).map_err(io(wasm))?;
        Ok((entry, component))
    }

    /// Record a decision on `entry` (its component is no longer needed).
    pub fn decide(
        &self,
        mut entry: Approval,
        status: ApprovalStatus,
        outcome: String,
    ) -> Result<Approval, ApprovalError> {
        entry.status = status;
        entry.decided_at = Some(crate::clock::unix_seconds());
        entry.outcome = Some(outcome);
        self.save(&entry)?;
        let _ = std::fs::remove_file(self.dir.join(format!("{}.wasm", entry.id)));
        Ok(entry)
    }

    fn save(&self, entry: &Approval) -> Result<(), ApprovalError> {
        let path = self.dir.join(format!("{}.json", entry.id));
        let json = serde_json::to_vec_pretty(entry).expect("entries serialize");
        write_atomic(&path, &json).map_err(io(path))
    }
}

/// A fresh approval id: `apr_`, the time in milliseconds and 4 random hex digits, so ids
/// sort in the order they were proposed.
pub fn new_id() -> String {
    let millis = crate::clock::unix_millis();
    let random = &uuid::Uuid::new_v4().simple().to_string()[..4];
    format!("apr_{millis:011x}{random}")
}

/// The decisions on the queue, made through the reload manager.
impl super::ReloadManager {
    /// Queue `component` for a human's decision. It must load as an adapter (so the queue can
    /// say which adapter and version it is); it is verified only when approved.
    pub async fn propose(
        &self,
        component: Bytes,
        reason: &str,
        proposed_by: &str,
    ) -> Result<Approval, super::ReloadError> {
        self.propose_with(component, reason, proposed_by, None)
            .await
    }

    /// [`propose`](Self::propose) with what a heal cycle knows about the candidate.
    pub async fn propose_with(
        &self,
        component: Bytes,
        reason: &str,
        proposed_by: &str,
        heal: Option<HealProposal>,
    ) -> Result<Approval, super::ReloadError> {
        let id = new_id();
        let candidate = self
            .gateway()
            .runtime
            .load_bytes(
                &format!("candidate {id}"),
                component.clone(),
                AdapterSource::File(self.approvals.dir.join(format!("{id}.wasm"))),
            )
            .await?;
        let entry = Approval {
            id,
            adapter: candidate.info.name.clone(),
            version: candidate.info.version.clone(),
            sha256: candidate.sha256.clone(),
            reason: reason.to_owned(),
            proposed_by: proposed_by.to_owned(),
            proposed_at: crate::clock::unix_seconds(),
            status: ApprovalStatus::Pending,
            decided_at: None,
            outcome: None,
            heal,
        };
        self.approvals.add(&entry, Some(&component))?;
        tracing::info!(id = %entry.id, adapter = %entry.adapter, version = %entry.version, reason, "adapter version waits for approval");
        Ok(entry)
    }

    /// Queue a heal proposal that has no component (it could not be built), so a human still
    /// gets the diagnosis, the sources and the diff.
    pub fn propose_unbuilt(
        &self,
        adapter: &str,
        version: &str,
        reason: &str,
        heal: HealProposal,
    ) -> Result<Approval, ApprovalError> {
        let entry = Approval {
            id: new_id(),
            adapter: adapter.to_owned(),
            version: version.to_owned(),
            sha256: String::new(),
            reason: reason.to_owned(),
            proposed_by: "heal".to_owned(),
            proposed_at: crate::clock::unix_seconds(),
            status: ApprovalStatus::Pending,
            decided_at: None,
            outcome: None,
            heal: Some(heal),
        };
        self.approvals.add(&entry, None)?;
        tracing::info!(id = %entry.id, adapter, reason, "heal proposal (not built) waits for a human");
        Ok(entry)
    }

    /// Every queued candidate, newest first.
    pub fn approvals(&self) -> Result<Vec<Approval>, ApprovalError> {
        self.approvals.list()
    }

    /// Approve `id`: verify it and swap it in, as a file dropped into the adapters directory
    /// would be. A candidate that fails verification is marked `failed` and the error returned.
    /// The whole decision runs under the reload lock, so two decisions on one candidate (two
    /// approvals, an approval and a rejection) cannot both act: the second finds it decided.
    /// Every adapter call made meanwhile is bounded (describe and verification by `[reload]
    /// verify_timeout_seconds`).
    pub async fn approve(&self, id: &str) -> Result<(Approval, super::Swap), super::ReloadError> {
        let held = self.lock.lock().await;
        let (entry, component) = self.approvals.pending(id)?;
        let source = AdapterSource::File(self.approvals.dir.join(format!("{id}.wasm")));
        let (origin, sha) = (source.to_string(), super::manager::sha256(&component));
        let result = match self.load_candidate(Bytes::from(component), source).await {
            Ok(candidate) => {
                self.swap_in(candidate, &held, super::replicas::Reach::Everywhere)
                    .await
            }
            Err(e) => Err(e),
        };
        self.note(&origin, &sha, &result);
        match result {
            Ok(swap) => {
                let outcome = if swap.changed {
                    format!("swapped in: {}", swap.current.verification)
                } else {
                    "this version was serving already".to_owned()
                };
                self.persist_current(&swap.adapter);
                let entry = self
                    .approvals
                    .decide(entry, ApprovalStatus::Approved, outcome)?;
                Ok((entry, swap))
            }
            Err(e) => {
                self.approvals
                    .decide(entry, ApprovalStatus::Failed, e.to_string())?;
                Err(e)
            }
        }
    }

    /// Reject `id`; nothing changes but the queue. Under the reload lock, like approvals.
    pub async fn reject(&self, id: &str, why: &str) -> Result<Approval, ApprovalError> {
        let _held = self.lock.lock().await;
        let entry = match self.approvals.pending(id) {
            Ok((entry, _)) => entry,
            Err(ApprovalError::NotBuilt { .. }) => self.approvals.get(id)?,
            Err(e) => return Err(e),
        };
        tracing::info!(id, adapter = %entry.adapter, "adapter version rejected");
        self.approvals
            .decide(entry, ApprovalStatus::Rejected, format!("rejected: {why}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, at: u64) -> Approval {
        Approval {
            id: id.into(),
            adapter: "local".into(),
            version: "1".into(),
            sha256: "abc".into(),
            reason: "test".into(),
            proposed_by: "test".into(),
            proposed_at: at,
            status: ApprovalStatus::Pending,
            decided_at: None,
            outcome: None,
            heal: None,
        }
    }

    #[test]
    fn entries_are_listed_newest_first_and_decided_once() {
        let dir = tempfile::tempdir().unwrap();
        let q = Approvals::new(dir.path().join("approvals"));
        assert!(q.list().unwrap().is_empty());
        q.add(&entry("apr_1", 1), Some(b"one")).unwrap();
        q.add(&entry("apr_2", 2), Some(b"two")).unwrap();
        let ids: Vec<String> = q.list().unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["apr_2", "apr_1"]);
        let (e, bytes) = q.pending("apr_1").unwrap();
        assert_eq!(bytes, b"one");
        q.decide(e, ApprovalStatus::Rejected, "no".into()).unwrap();
        assert!(matches!(
            q.pending("apr_1"),
            Err(ApprovalError::Decided {
                status: ApprovalStatus::Rejected,
                ..
            })
        ));
        assert!(matches!(q.get("../etc"), Err(ApprovalError::NotFound(_))));
        assert!(matches!(q.get("apr_9"), Err(ApprovalError::NotFound(_))));
    }
}
