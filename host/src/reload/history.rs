//! The versions each adapter has run, kept on disk so any of them can be restored: for adapter
//! `name`, `<home>/history/<name>/<sha256>.wasm` holds the component and
//! `<home>/history/<name>/index.json` the metadata, oldest first. At most `limit` versions are
//! kept per adapter; the oldest go first.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::fs::write_atomic;

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
    /// A file or directory of the history.
    #[error("adapter history {}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// `index.json` is not what this version of Aratta writes.
    #[error("adapter history {}: unreadable index ({source}); move it aside to start a new history", path.display())]
    Corrupt {
        /// The index file.
        path: PathBuf,
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

/// The on-disk history of every adapter.
#[derive(Debug, Clone)]
pub struct History {
    root: PathBuf,
    limit: usize,
}

impl History {
    /// A history under `root` keeping `limit` versions per adapter (at least 2: the current
    /// one and one to go back to).
    pub fn new(root: PathBuf, limit: usize) -> Self {
        History {
            root,
            limit: limit.max(2),
        }
    }

    fn dir(&self, adapter: &str) -> PathBuf {
        self.root.join(adapter)
    }

    /// The path of a kept component.
    pub fn component_path(&self, adapter: &str, sha256: &str) -> PathBuf {
        self.dir(adapter).join(format!("{sha256}.wasm"))
    }

    /// Every kept version of `adapter`, oldest first (empty when it has no history yet).
    pub fn list(&self, adapter: &str) -> Result<Vec<VersionRecord>, HistoryError> {
        let path = self.dir(adapter).join("index.json");
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| HistoryError::Corrupt { path, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(HistoryError::Io { path, source }),
        }
    }

    /// Keep `record` (with its component `bytes`) as the newest version of `adapter`; a version
    /// already kept moves to the end. Versions beyond the limit are dropped, oldest first.
    pub fn push(
        &self,
        adapter: &str,
        record: VersionRecord,
        bytes: &[u8],
    ) -> Result<(), HistoryError> {
        let mut index = self.list(adapter)?;
        index.retain(|r| r.sha256 != record.sha256);
        self.store(adapter, &record.sha256, bytes)?;
        index.push(record);
        self.save(adapter, index)
    }

    /// Keep `record` unless a version with its hash is already kept (then nothing changes):
    /// the backup taken of the serving version before it is replaced.
    pub fn backup(
        &self,
        adapter: &str,
        record: VersionRecord,
        bytes: &[u8],
    ) -> Result<(), HistoryError> {
        if self
            .list(adapter)?
            .iter()
            .any(|r| r.sha256 == record.sha256)
        {
            return Ok(());
        }
        self.push(adapter, record, bytes)
    }

    /// The kept version of `adapter` whose hash starts with, or whose described version
    /// equals, `wanted` (the newest such one).
    pub fn find(&self, adapter: &str, wanted: &str) -> Result<VersionRecord, HistoryError> {
        let index = self.list(adapter)?;
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
    pub fn component(&self, adapter: &str, sha256: &str) -> Result<Vec<u8>, HistoryError> {
        let path = self.component_path(adapter, sha256);
        std::fs::read(&path).map_err(|source| HistoryError::Io { path, source })
    }

    fn store(&self, adapter: &str, sha256: &str, bytes: &[u8]) -> Result<(), HistoryError> {
        let dir = self.dir(adapter);
        std::fs::create_dir_all(&dir).map_err(|source| HistoryError::Io {
            path: dir.clone(),
            source,
        })?;
        let path = self.component_path(adapter, sha256);
        if path.is_file() {
            return Ok(());
        }
        write_atomic(&path, bytes).map_err(|source| HistoryError::Io { path, source })
    }

    fn save(&self, adapter: &str, mut index: Vec<VersionRecord>) -> Result<(), HistoryError> {
        let excess = index.len().saturating_sub(self.limit);
        for old in index.drain(..excess) {
            let path = self.component_path(adapter, &old.sha256);
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(file = %path.display(), error = %e, "could not delete an old adapter version");
            }
        }
        let path = self.dir(adapter).join("index.json");
        let json = serde_json::to_vec_pretty(&index).expect("records serialize");
        write_atomic(&path, &json).map_err(|source| HistoryError::Io { path, source })
    }
}

/// Whether `path` holds exactly the component with hash `sha256`.
pub fn file_has_hash(path: &Path, sha256: &str) -> bool {
    use sha2::{Digest, Sha256};
    std::fs::read(path).is_ok_and(|bytes| hex::encode(Sha256::digest(&bytes)) == sha256)
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

    #[test]
    fn keeps_the_newest_versions_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(dir.path().to_owned(), 3);
        for i in 0..5 {
            let sha = format!("{i:064}");
            history
                .push("a", record(&sha, &format!("1.0.{i}")), b"wasm")
                .unwrap();
        }
        let kept: Vec<String> = history
            .list("a")
            .unwrap()
            .into_iter()
            .map(|r| r.version)
            .collect();
        assert_eq!(kept, ["1.0.2", "1.0.3", "1.0.4"]);
        assert!(!history.component_path("a", &format!("{:064}", 1)).exists());
        assert!(history.component_path("a", &format!("{:064}", 4)).exists());
        assert_eq!(history.find("a", "1.0.3").unwrap().version, "1.0.3");
        assert_eq!(
            history.find("a", "1.0.0").unwrap_err().to_string(),
            "adapter 'a' has no version 1.0.0 in its history"
        );
    }

    #[test]
    fn a_backup_of_a_kept_version_changes_nothing_and_push_moves_it_last() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::new(dir.path().to_owned(), 10);
        history.push("a", record("aaaaaaaa", "1"), b"one").unwrap();
        history.push("a", record("bbbbbbbb", "2"), b"two").unwrap();
        history
            .backup("a", record("aaaaaaaa", "1"), b"one")
            .unwrap();
        assert_eq!(history.list("a").unwrap().last().unwrap().version, "2");
        history.push("a", record("aaaaaaaa", "1"), b"one").unwrap();
        assert_eq!(history.list("a").unwrap().last().unwrap().version, "1");
        assert_eq!(history.component("a", "aaaaaaaa").unwrap(), b"one");
        assert_eq!(history.find("a", "bbbbbb").unwrap().version, "2");
    }
}
