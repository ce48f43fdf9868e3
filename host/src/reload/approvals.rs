//! The approval queue: candidate adapter versions that wait for a human before they may serve.
//! The operator proposes one (`aratta approvals propose` or `POST /api/v1/approvals`);
//! approving runs the same verify-then-swap path as a file dropped into the adapters
//! directory. The queue lives in the store (`crate::store::approvals`), so it survives restarts
//! and servers sharing a store share it: an entry proposed on one can be approved on another,
//! and a server deciding an entry claims it first, so two cannot both act on it. A queue an
//! older version kept as files under `<home>/approvals/` is imported once at start.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use bytes::Bytes;

use crate::runtime::AdapterSource;
use crate::store::approvals::{Claim, StoredApproval};
use crate::store::{Store, StoreError};

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

impl ApprovalStatus {
    /// The name the API and the store use.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Failed => "failed",
            ApprovalStatus::Rejected => "rejected",
        }
    }
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
    /// Another request (on this server or another sharing the store) is deciding it now.
    #[error("approval '{0}' is being decided by another request; try again once it is done")]
    Busy(String),
    /// The store could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An entry in the store this version cannot read.
    #[error("approval '{id}' in the store is unreadable: {reason}")]
    Corrupt {
        /// The entry.
        id: String,
        /// What the parser said.
        reason: String,
    },
}

/// The queue, in the store.
#[derive(Debug, Clone)]
pub struct Approvals {
    store: Store,
    /// Where older versions kept the queue, imported once.
    legacy_dir: PathBuf,
}

impl Approvals {
    /// The queue in `store`; `legacy_dir` is where an older version may have left one.
    pub fn new(store: Store, legacy_dir: PathBuf) -> Self {
        Approvals { store, legacy_dir }
    }

    /// Queue `entry` with its component (none for a heal proposal that was not built).
    pub async fn add(
        &self,
        entry: &Approval,
        component: Option<&[u8]>,
    ) -> Result<(), ApprovalError> {
        let json = serde_json::to_string(entry).expect("entries serialize");
        self.store
            .insert_approval(
                &entry.id,
                &entry.adapter,
                entry.status.as_str(),
                &json,
                component,
            )
            .await?;
        Ok(())
    }

    /// Every entry, newest first; one this version cannot read is logged and skipped.
    pub async fn list(&self) -> Result<Vec<Approval>, ApprovalError> {
        let rows = self.store.approvals().await?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                parse(row)
                    .inspect_err(|e| tracing::warn!(error = %e, "skipping an unreadable approval"))
                    .ok()
            })
            .collect())
    }

    /// The entry `id`.
    pub async fn get(&self, id: &str) -> Result<Approval, ApprovalError> {
        match self.store.approval(id).await? {
            Some(row) => parse(&row),
            None => Err(ApprovalError::NotFound(id.to_owned())),
        }
    }

    /// Claim the pending entry `id` to decide it, with its component.
    pub async fn claim(&self, id: &str) -> Result<(Approval, Option<Vec<u8>>), ApprovalError> {
        match self
            .store
            .claim_approval(id, crate::clock::unix_seconds())
            .await?
        {
            Claim::Taken(row, component) => Ok((parse(&row)?, component)),
            Claim::Busy => Err(ApprovalError::Busy(id.to_owned())),
            Claim::Decided(row) => Err(ApprovalError::Decided {
                id: id.to_owned(),
                status: parse(&row)?.status,
            }),
            Claim::Missing => Err(ApprovalError::NotFound(id.to_owned())),
        }
    }

    /// Record a decision on `entry`, claimed by this server (its component is no longer
    /// needed).
    pub async fn decide(
        &self,
        mut entry: Approval,
        status: ApprovalStatus,
        outcome: String,
    ) -> Result<Approval, ApprovalError> {
        entry.status = status;
        entry.decided_at = Some(crate::clock::unix_seconds());
        entry.outcome = Some(outcome);
        let json = serde_json::to_string(&entry).expect("entries serialize");
        if self
            .store
            .decide_approval(&entry.id, status.as_str(), &json)
            .await?
        {
            return Ok(entry);
        }
        let now = self.get(&entry.id).await?;
        Err(ApprovalError::Decided {
            id: entry.id,
            status: now.status,
        })
    }

    /// Import the queue an older version kept as files (`<id>.json` and `<id>.wasm` under
    /// `<home>/approvals/`) into the store, then rename the directory
    /// `approvals.imported-<unix seconds>`. Entries already in the store are kept as they are.
    pub async fn import_legacy(&self) {
        let dir = &self.legacy_dir;
        let Some(files) = crate::fs::json_files::<Approval>(dir) else {
            return;
        };
        let mut imported = 0;
        for (path, entry) in files {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    tracing::warn!(file = %path.display(), error = %e, "approval file not imported into the store; the renamed directory keeps it");
                    continue;
                }
            };
            let component = std::fs::read(path.with_extension("wasm")).ok();
            if let Err(e) = self.add(&entry, component.as_deref()).await {
                tracing::error!(error = %e, dir = %dir.display(), "the approval queue of an older version could not be imported; it stays in place");
                return;
            }
            imported += 1;
        }
        crate::fs::retire_imported(dir, "approval queue", imported);
    }
}

/// An entry as the store keeps it.
fn parse(row: &StoredApproval) -> Result<Approval, ApprovalError> {
    serde_json::from_str(&row.entry).map_err(|e| ApprovalError::Corrupt {
        id: serde_json::from_str::<serde_json::Value>(&row.entry)
            .ok()
            .and_then(|v| v["id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned()),
        reason: e.to_string(),
    })
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
                AdapterSource::Approval(id.clone()),
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
        self.approvals.add(&entry, Some(&component)).await?;
        tracing::info!(id = %entry.id, adapter = %entry.adapter, version = %entry.version, reason, "adapter version waits for approval");
        Ok(entry)
    }

    /// Queue a heal proposal that has no component (it could not be built), so a human still
    /// gets the diagnosis, the sources and the diff.
    pub async fn propose_unbuilt(
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
        self.approvals.add(&entry, None).await?;
        tracing::info!(id = %entry.id, adapter, reason, "heal proposal (not built) waits for a human");
        Ok(entry)
    }

    /// Every queued candidate, newest first.
    pub async fn approvals(&self) -> Result<Vec<Approval>, ApprovalError> {
        self.approvals.list().await
    }

    /// Approve `id`: verify it and swap it in, as a file dropped into the adapters directory
    /// would be. A candidate that fails verification is marked `failed` and the error returned.
    /// The entry is claimed in the store first and the decision runs under the reload lock, so
    /// two decisions on one candidate (two approvals, an approval and a rejection, on this
    /// server or another sharing the store) cannot both act: the second finds it decided, or
    /// being decided. Every adapter call made meanwhile is bounded (describe and verification
    /// by `[reload] verify_timeout_seconds`).
    pub async fn approve(&self, id: &str) -> Result<(Approval, super::Swap), super::ReloadError> {
        let held = self.lock.lock().await;
        let entry = self.approvals.get(id).await?;
        if let Some(why) = entry.heal.as_ref().and_then(|h| h.not_built.clone())
            && entry.status == ApprovalStatus::Pending
        {
            return Err(ApprovalError::NotBuilt {
                id: id.to_owned(),
                why,
            }
            .into());
        }
        let (entry, component) = self.approvals.claim(id).await?;
        let component = component.unwrap_or_default();
        let source = AdapterSource::Approval(id.to_owned());
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
                    .decide(entry, ApprovalStatus::Approved, outcome)
                    .await?;
                Ok((entry, swap))
            }
            Err(e) => {
                self.approvals
                    .decide(entry, ApprovalStatus::Failed, e.to_string())
                    .await?;
                Err(e)
            }
        }
    }

    /// Reject `id`; nothing changes but the queue. Claimed and under the reload lock, like
    /// approvals.
    pub async fn reject(&self, id: &str, why: &str) -> Result<Approval, ApprovalError> {
        let _held = self.lock.lock().await;
        let (entry, _) = self.approvals.claim(id).await?;
        tracing::info!(id, adapter = %entry.adapter, "adapter version rejected");
        self.approvals
            .decide(entry, ApprovalStatus::Rejected, format!("rejected: {why}"))
            .await
    }

    /// Import the approval queue and the adapter history an older version kept as files, once
    /// (see [`Approvals::import_legacy`] and [`super::History::import_legacy`]).
    pub async fn import_legacy(&self) {
        self.approvals.import_legacy().await;
        self.history.import_legacy().await;
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

    #[tokio::test]
    async fn entries_are_listed_newest_first_and_decided_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("aratta.db")).await.unwrap();
        let q = Approvals::new(store, dir.path().join("approvals"));
        assert!(q.list().await.unwrap().is_empty());
        q.add(&entry("apr_1", 1), Some(b"one")).await.unwrap();
        q.add(&entry("apr_2", 2), Some(b"two")).await.unwrap();
        let ids: Vec<String> = q.list().await.unwrap().into_iter().map(|a| a.id).collect();
        assert_eq!(ids, ["apr_2", "apr_1"]);
        let (e, bytes) = q.claim("apr_1").await.unwrap();
        assert_eq!(bytes.as_deref(), Some(&b"one"[..]));
        assert!(matches!(
            q.claim("apr_1").await,
            Err(ApprovalError::Busy(_))
        ));
        q.decide(e.clone(), ApprovalStatus::Rejected, "no".into())
            .await
            .unwrap();
        assert!(matches!(
            q.claim("apr_1").await,
            Err(ApprovalError::Decided {
                status: ApprovalStatus::Rejected,
                ..
            })
        ));
        assert!(matches!(
            q.decide(e, ApprovalStatus::Approved, "yes".into()).await,
            Err(ApprovalError::Decided { .. })
        ));
        assert_eq!(q.get("apr_1").await.unwrap().outcome.as_deref(), Some("no"));
        assert!(matches!(
            q.get("../etc").await,
            Err(ApprovalError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn an_older_versions_queue_is_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("approvals");
        std::fs::create_dir_all(&legacy).unwrap();
        let json = serde_json::to_vec(&entry("apr_1", 1)).unwrap();
        std::fs::write(legacy.join("apr_1.json"), json).unwrap();
        std::fs::write(legacy.join("apr_1.wasm"), b"one").unwrap();
        std::fs::write(legacy.join("apr_2.json"), b"{not json").unwrap();
        let store = Store::open(&dir.path().join("aratta.db")).await.unwrap();
        let q = Approvals::new(store, legacy.clone());
        q.import_legacy().await;
        assert!(!legacy.exists(), "renamed");
        let (e, bytes) = q.claim("apr_1").await.unwrap();
        assert_eq!(
            (e.id.as_str(), bytes.as_deref()),
            ("apr_1", Some(&b"one"[..]))
        );
        assert_eq!(q.list().await.unwrap().len(), 1);
    }
}
