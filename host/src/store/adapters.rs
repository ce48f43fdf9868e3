//! The adapter version each adapter serves, shared by every server on the store: the server
//! that swaps a version in (a dropped file, an approval, a heal cycle, a rollback) publishes it
//! here, and the others follow (`crate::reload::replicas`), each verifying it before it serves
//! there. One row per adapter with a generation that grows on every change, so a follower
//! reads a handful of rows to see what changed, and two servers publishing at once leave the
//! last one's version, never a mix. Only the serving component of each adapter is kept.

use super::{Store, StoreError, StoreRow, on_pool, sql_int};

/// What one adapter serves, as last published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SharedVersion {
    /// The adapter's name.
    pub adapter: String,
    /// SHA-256 of its component.
    pub sha256: String,
    /// The version the component describes itself as.
    pub version: String,
    /// Grows by one with every change to this adapter's row.
    pub generation: u64,
    /// The server that published it (see `crate::keys::Limits::replica`).
    pub replica: String,
    /// Where the version came from on that server (a file, an approval, the history).
    pub origin: String,
}

impl Store {
    /// Publish `bytes` (with SHA-256 `sha256`, describing itself as `version`) as what
    /// `adapter` serves, from server `replica`. Publishing the version already published
    /// changes nothing. Returns the row's generation when it changed.
    pub async fn publish_adapter(
        &self,
        adapter: &str,
        sha256: &str,
        version: &str,
        bytes: &[u8],
        replica: &str,
        origin: &str,
    ) -> Result<Option<u64>, StoreError> {
        let doing = "publish an adapter version";
        let now = sql_int(crate::clock::unix_seconds());
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            sqlx::query(
                "INSERT INTO adapter_components (sha256, adapter, bytes, stored_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (sha256) DO NOTHING",
            )
            .bind(sha256)
            .bind(adapter)
            .bind(bytes)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(doing))?;
            let generation: Option<i64> = sqlx::query_scalar(
                "INSERT INTO adapter_serving (adapter, sha256, version, generation, replica, origin, published_at)
                 VALUES ($1, $2, $3, 1, $4, $5, $6)
                 ON CONFLICT (adapter) DO UPDATE SET sha256 = excluded.sha256, version = excluded.version,
                     generation = adapter_serving.generation + 1, replica = excluded.replica,
                     origin = excluded.origin, published_at = excluded.published_at
                 WHERE adapter_serving.sha256 <> excluded.sha256
                 RETURNING generation",
            )
            .bind(adapter)
            .bind(sha256)
            .bind(version)
            .bind(replica)
            .bind(origin)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(StoreError::query(doing))?;
            // Only the serving component is kept here: the history (`super::history`) keeps the rest.
            sqlx::query("DELETE FROM adapter_components WHERE adapter = $1 AND sha256 <> $2")
                .bind(adapter)
                .bind(sha256)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(doing))?;
            tx.commit().await.map_err(StoreError::query(doing))?;
            Ok(generation.map(|g| g.max(0) as u64))
        })
    }

    /// What every adapter serves, as last published, by adapter name.
    pub async fn shared_versions(&self) -> Result<Vec<SharedVersion>, StoreError> {
        let doing = "read the published adapter versions";
        let sql = "SELECT adapter, sha256, version, generation, replica, origin FROM adapter_serving ORDER BY adapter";
        on_pool!(self, pool => {
            let rows = sqlx::query(sql)
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(doing))?;
            rows.iter()
                .map(|row| -> Result<SharedVersion, sqlx::Error> {
                    Ok(SharedVersion {
                        adapter: row.column("adapter")?,
                        sha256: row.column("sha256")?,
                        version: row.column("version")?,
                        generation: row.column::<i64>("generation")?.max(0) as u64,
                        replica: row.column("replica")?,
                        origin: row.column("origin")?,
                    })
                })
                .collect::<Result<_, _>>()
                .map_err(StoreError::query(doing))
        })
    }

    /// The component with SHA-256 `sha256`, while it is the serving one of its adapter.
    pub async fn adapter_component(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT bytes FROM adapter_components WHERE sha256 = $1")
            .bind(sha256)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query("read a published adapter component")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_publish_bumps_the_generation_once_and_keeps_only_the_serving_component() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        assert!(store.shared_versions().await.unwrap().is_empty());
        let publish = |sha: &'static str, replica: &'static str| {
            let store = store.clone();
            async move {
                store
                    .publish_adapter("local", sha, "1.0", sha.as_bytes(), replica, "a file")
                    .await
                    .unwrap()
            }
        };
        assert_eq!(publish("aaaa", "r1").await, Some(1));
        assert_eq!(publish("aaaa", "r2").await, None, "the same version again");
        assert_eq!(publish("bbbb", "r2").await, Some(2));
        let shared = store.shared_versions().await.unwrap();
        assert_eq!(
            shared,
            [SharedVersion {
                adapter: "local".into(),
                sha256: "bbbb".into(),
                version: "1.0".into(),
                generation: 2,
                replica: "r2".into(),
                origin: "a file".into(),
            }]
        );
        assert_eq!(
            store.adapter_component("bbbb").await.unwrap().as_deref(),
            Some(&b"bbbb"[..])
        );
        assert_eq!(store.adapter_component("aaaa").await.unwrap(), None);
        // Back to an earlier version: a change like any other.
        assert_eq!(publish("aaaa", "r1").await, Some(3));
    }
}
