//! The versions each adapter has run, kept in the store (`crate::store::history`) so any of
//! them can be restored, on any server sharing the store: a version swapped in on one server
//! can be rolled back to on another. At most `[reload] history_limit` versions are kept per
//! adapter; the oldest go first. A history an older version kept as files (`<home>/history/`)
//! is imported once at start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::history::Keep;
use crate::store::{Store, StoreError};

/// One version of an adapter, as kept in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VersionRecord {
    /// SHA-256 of the component: the version's identity.
    pub sha256: String,
    /// The version the adapter describes itself with.
    pub version: String,
    /// When it started serving (seconds since the Unix epoch).
    pub installed_at: u64,
    /// Where it came from: `built-in`, a file, `rollback`, `approval <id>`.
    pub source: String,
    /// Whether its verification passed (`None`: nothing could verify it, or it was restored
    /// by a rollback and not re-verified).
    pub verified: Option<bool>,
    /// What the verification did, in words.
    pub verification: String,
}

/// Why the history could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    /// The store could not be reached or refused the write.
    #[error("adapter history: {0}")]
    Store(#[from] StoreError),
    /// A kept entry is not what this version of Aratta writes.
    #[error("adapter history of '{adapter}': an entry is unreadable ({source})")]
    Corrupt {
        /// The adapter.
        adapter: String,
        /// What the JSON parser said.
        source: serde_json::Error,
    },
    /// No version matches what was asked for.
    #[error("adapter '{adapter}' has no version {wanted} in its history")]
    NoSuchVersion {
        /// The adapter.
        adapter: String,
        /// The version or SHA-256 asked for.
        wanted: String,
    },
}

/// The history of every adapter, as this server keeps it in the store.
#[derive(Debug, Clone)]
pub struct History {
    store: Store,
    server: String,
    limit: usize,
    legacy_dir: PathBuf,
}

impl History {
    /// A history in `store`, written as `server`, keeping `limit` versions per adapter (at
    /// least 2: the current one and one to go back to); `legacy_dir` is where older versions
    /// kept it as files.
    pub fn new(store: Store, server: String, limit: usize, legacy_dir: PathBuf) -> Self {
        History {
            store,
            server,
            limit: limit.max(2),
            legacy_dir,
        }
    }

    /// Every kept version of `adapter`, oldest first (empty when it has no history yet).
    pub async fn list(&self, adapter: &str) -> Result<Vec<VersionRecord>, HistoryError> {
        self.store
            .adapter_history(adapter)
            .await?
            .iter()
            .map(|entry| {
                serde_json::from_str(entry).map_err(|source| HistoryError::Corrupt {
                    adapter: adapter.to_owned(),
                    source,
                })
            })
            .collect()
    }

    /// Keep `record` (with its component `bytes`) as the newest version of `adapter`; a version
    /// already kept moves to the end. Versions beyond the limit are dropped, oldest first.
    pub async fn push(
        &self,
        adapter: &str,
        record: &VersionRecord,
        bytes: &[u8],
    ) -> Result<(), HistoryError> {
        self.keep(adapter, record, bytes, Keep::AsNewest).await
    }

    /// Keep `record` unless a version with its hash is already kept (then nothing changes):
    /// the backup taken of the serving version before it is replaced.
    pub async fn backup(
        &self,
        adapter: &str,
        record: &VersionRecord,
        bytes: &[u8],
    ) -> Result<(), HistoryError> {
        self.keep(adapter, record, bytes, Keep::IfMissing).await
    }

    async fn keep(
        &self,
        adapter: &str,
        record: &VersionRecord,
        bytes: &[u8],
        keep: Keep,
    ) -> Result<(), HistoryError> {
        let entry = serde_json::to_string(record).expect("records serialize");
        self.store
            .keep_adapter_version(
                adapter,
                &record.sha256,
                &entry,
                bytes,
                &self.server,
                keep,
                self.limit,
            )
            .await?;
        Ok(())
    }

    /// The kept version of `adapter` whose hash starts with, or whose described version
    /// equals, `wanted` (the newest such one).
    pub async fn find(&self, adapter: &str, wanted: &str) -> Result<VersionRecord, HistoryError> {
        let index = self.list(adapter).await?;
        index
            .into_iter()
            .rev()
            .find(|r| r.version == wanted || (wanted.len() >= 6 && r.sha256.starts_with(wanted)))
            .ok_or_else(|| HistoryError::NoSuchVersion {
                adapter: adapter.to_owned(),
                wanted: wanted.to_owned(),
            })
    }

    /// The component of a kept version.
    pub async fn component(&self, adapter: &str, sha256: &str) -> Result<Vec<u8>, HistoryError> {
        self.store
            .kept_component(adapter, sha256)
            .await?
            .ok_or_else(|| HistoryError::NoSuchVersion {
                adapter: adapter.to_owned(),
                wanted: sha256.to_owned(),
            })
    }

    /// Import the history an older version kept as files (`<name>/index.json` and
    /// `<name>/<sha256>.wasm` under `<home>/history/`) into the store, oldest first and after
    /// what the store keeps already, then rename the directory `history.imported-<unix
    /// seconds>`. A version whose component is missing or altered is left out.
    pub async fn import_legacy(&self) {
        let dir = &self.legacy_dir;
        let Ok(adapters) = std::fs::read_dir(dir) else {
            return;
        };
        let mut imported = 0;
        for adapter_dir in adapters.filter_map(|e| e.ok().map(|e| e.path())) {
            let Some(adapter) = adapter_dir.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let index = adapter_dir.join("index.json");
            let records: Vec<VersionRecord> = match std::fs::read(&index)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            {
                Ok(records) => records,
                Err(e) => {
                    tracing::warn!(file = %index.display(), error = %e, "adapter history not imported into the store; the renamed directory keeps it");
                    continue;
                }
            };
            for record in records {
                let file = adapter_dir.join(format!("{}.wasm", record.sha256));
                let bytes = match std::fs::read(&file) {
                    Ok(bytes) if super::manager::sha256(&bytes) == record.sha256 => bytes,
                    _ => {
                        tracing::warn!(file = %file.display(), "kept adapter version missing or altered; not imported");
                        continue;
                    }
                };
                if let Err(e) = self.push(adapter, &record, &bytes).await {
                    tracing::error!(error = %e, dir = %dir.display(), "the adapter history of an older version could not be imported; it stays in place");
                    return;
                }
                imported += 1;
            }
        }
        crate::fs::retire_imported(dir, "adapter history", imported);
    }
}

/// Whether `path` holds exactly the component with hash `sha256`.
pub fn file_has_hash(path: &Path, sha256: &str) -> bool {
    std::fs::read(path).is_ok_and(|bytes| super::manager::sha256(&bytes) == sha256)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(sha: &str, version: &str) -> VersionRecord {
        VersionRecord {
            sha256: sha.into(),
            version: version.into(),
            installed_at: 0,
            source: "test".into(),
            verified: Some(true),
            verification: "passed".into(),
        }
    }

    async fn history(dir: &Path, limit: usize) -> History {
        let store = Store::open(&dir.join("a.db")).await.unwrap();
        History::new(store, "srv_test".into(), limit, dir.join("history"))
    }

    async fn versions(history: &History, adapter: &str) -> Vec<String> {
        let kept = history.list(adapter).await.unwrap();
        kept.into_iter().map(|r| r.version).collect()
    }

    #[tokio::test]
    async fn keeps_the_newest_versions_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let history = history(dir.path(), 3).await;
        for i in 0..5 {
            let sha = format!("{i:064}");
            let version = format!("1.0.{i}");
            history
                .push("a", &record(&sha, &version), version.as_bytes())
                .await
                .unwrap();
        }
        assert_eq!(versions(&history, "a").await, ["1.0.2", "1.0.3", "1.0.4"]);
        assert!(history.component("a", &format!("{:064}", 1)).await.is_err());
        assert_eq!(
            history.component("a", &format!("{:064}", 4)).await.unwrap(),
            b"1.0.4"
        );
        assert_eq!(history.find("a", "1.0.3").await.unwrap().version, "1.0.3");
        assert_eq!(
            history.find("a", "1.0.0").await.unwrap_err().to_string(),
            "adapter 'a' has no version 1.0.0 in its history"
        );
    }

    #[tokio::test]
    async fn a_backup_of_a_kept_version_changes_nothing_and_push_moves_it_last() {
        let dir = tempfile::tempdir().unwrap();
        let history = history(dir.path(), 10).await;
        history
            .push("a", &record("aaaaaaaa", "1"), b"one")
            .await
            .unwrap();
        history
            .push("a", &record("bbbbbbbb", "2"), b"two")
            .await
            .unwrap();
        history
            .backup("a", &record("aaaaaaaa", "1"), b"one")
            .await
            .unwrap();
        assert_eq!(versions(&history, "a").await, ["1", "2"]);
        history
            .push("a", &record("aaaaaaaa", "1"), b"one")
            .await
            .unwrap();
        assert_eq!(versions(&history, "a").await, ["2", "1"]);
        assert_eq!(history.component("a", "aaaaaaaa").await.unwrap(), b"one");
        assert_eq!(history.find("a", "bbbbbb").await.unwrap().version, "2");
    }

    #[tokio::test]
    async fn another_server_on_the_store_sees_and_restores_the_same_versions() {
        let dir = tempfile::tempdir().unwrap();
        let here = history(dir.path(), 10).await;
        let there = History::new(
            Store::open(&dir.path().join("a.db")).await.unwrap(),
            "srv_there".into(),
            10,
            dir.path().join("unused"),
        );
        here.push("a", &record("aaaaaaaa", "1"), b"one")
            .await
            .unwrap();
        assert_eq!(versions(&there, "a").await, ["1"]);
        assert_eq!(there.component("a", "aaaaaaaa").await.unwrap(), b"one");
    }

    #[tokio::test]
    async fn an_older_versions_files_are_imported_once_leaving_out_altered_components() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = dir.path().join("history");
        let adapter_dir = legacy.join("local");
        std::fs::create_dir_all(&adapter_dir).unwrap();
        let one = b"one".to_vec();
        let one_sha = crate::reload::manager::sha256(&one);
        let two_sha = crate::reload::manager::sha256(b"two");
        std::fs::write(adapter_dir.join(format!("{one_sha}.wasm")), &one).unwrap();
        std::fs::write(adapter_dir.join(format!("{two_sha}.wasm")), b"altered").unwrap();
        let index = serde_json::to_vec(&[record(&one_sha, "1"), record(&two_sha, "2")]).unwrap();
        std::fs::write(adapter_dir.join("index.json"), index).unwrap();
        std::fs::create_dir_all(legacy.join("broken")).unwrap();
        std::fs::write(legacy.join("broken/index.json"), b"{not json").unwrap();

        let history = history(dir.path(), 10).await;
        history.import_legacy().await;
        assert_eq!(versions(&history, "local").await, ["1"]);
        assert_eq!(history.component("local", &one_sha).await.unwrap(), one);
        assert!(!legacy.exists(), "the old directory is renamed");
        let renamed: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("history.imported-")
            })
            .collect();
        assert_eq!(renamed.len(), 1);
        assert!(renamed[0].path().join("broken/index.json").exists());
        history.import_legacy().await;
        assert_eq!(versions(&history, "local").await, ["1"], "nothing twice");
    }
}
