//! The adapter history's rows (`crate::reload::history` keeps their meaning): every version an
//! adapter has run, with its component, shared by the servers on the store so a version swapped
//! in on one can be restored on any. An entry is stored as the JSON the API shows.

use super::{Store, StoreError, on_pool, sql_int};

/// How a version is kept when its adapter already has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// It becomes the newest, with this entry (a version swapped in again).
    AsNewest,
    /// The entry already kept stays as it is, in its place (the backup of a serving version).
    IfMissing,
}

impl Store {
    /// Keep `component` (with SHA-256 `sha256`, `entry` as JSON) in `adapter`'s history, from
    /// `server`, then drop that adapter's oldest versions beyond `limit`, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn keep_adapter_version(
        &self,
        adapter: &str,
        sha256: &str,
        entry: &str,
        component: &[u8],
        server: &str,
        keep: Keep,
        limit: usize,
    ) -> Result<(), StoreError> {
        let doing = "keep an adapter version in the history";
        let insert = match keep {
            Keep::AsNewest => {
                "INSERT INTO adapter_history (adapter, sha256, seq, server, entry, component)
                 VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM adapter_history WHERE adapter = $1), $3, $4, $5)
                 ON CONFLICT (adapter, sha256) DO UPDATE SET seq = excluded.seq, server = excluded.server, entry = excluded.entry"
            }
            Keep::IfMissing => {
                "INSERT INTO adapter_history (adapter, sha256, seq, server, entry, component)
                 VALUES ($1, $2, (SELECT COALESCE(MAX(seq), 0) + 1 FROM adapter_history WHERE adapter = $1), $3, $4, $5)
                 ON CONFLICT (adapter, sha256) DO NOTHING"
            }
        };
        let limit = sql_int(limit as u64);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            sqlx::query(insert)
                .bind(adapter)
                .bind(sha256)
                .bind(server)
                .bind(entry)
                .bind(component)
                .execute(&mut *tx)
                .await
                .map_err(StoreError::query(doing))?;
            sqlx::query(
                "DELETE FROM adapter_history WHERE adapter = $1 AND sha256 NOT IN
                     (SELECT sha256 FROM adapter_history WHERE adapter = $1 ORDER BY seq DESC LIMIT $2)",
            )
            .bind(adapter)
            .bind(limit)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::query(doing))?;
            tx.commit().await.map_err(StoreError::query(doing))
        })
    }

    /// Every kept version of `adapter` (each entry as JSON), oldest first.
    pub async fn adapter_history(&self, adapter: &str) -> Result<Vec<String>, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT entry FROM adapter_history WHERE adapter = $1 ORDER BY seq, sha256",
        )
        .bind(adapter)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("read an adapter's history")))
    }

    /// The component of a kept version of `adapter`, if it is still kept.
    pub async fn kept_component(
        &self,
        adapter: &str,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT component FROM adapter_history WHERE adapter = $1 AND sha256 = $2",
        )
        .bind(adapter)
        .bind(sha256)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::query("read a kept adapter version")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn kept(store: &Store) -> Vec<String> {
        store.adapter_history("local").await.unwrap()
    }

    #[tokio::test]
    async fn versions_are_kept_newest_last_up_to_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let keep = |sha: &'static str, entry: &'static str, keep: Keep| {
            let store = store.clone();
            async move {
                store
                    .keep_adapter_version("local", sha, entry, sha.as_bytes(), "s1", keep, 3)
                    .await
                    .unwrap()
            }
        };
        keep("a", "A", Keep::AsNewest).await;
        keep("b", "B", Keep::AsNewest).await;
        keep("a", "A again", Keep::IfMissing).await;
        assert_eq!(kept(&store).await, ["A", "B"], "a backup keeps its place");
        keep("a", "A2", Keep::AsNewest).await;
        assert_eq!(
            kept(&store).await,
            ["B", "A2"],
            "kept again: now the newest"
        );
        keep("c", "C", Keep::AsNewest).await;
        keep("d", "D", Keep::AsNewest).await;
        assert_eq!(
            kept(&store).await,
            ["A2", "C", "D"],
            "the oldest went first"
        );
        assert_eq!(store.kept_component("local", "b").await.unwrap(), None);
        assert_eq!(
            store.kept_component("local", "d").await.unwrap().as_deref(),
            Some(&b"d"[..])
        );
        assert!(store.adapter_history("other").await.unwrap().is_empty());
    }
}
