//! The approval queue's rows (`crate::reload::approvals` keeps the entries' meaning). An entry
//! is stored as the JSON the API shows, with its candidate component until it is decided. A
//! server deciding an entry claims it first, in one conditional update, so two servers (or two
//! requests) cannot both act on it; a claim left by a server that died mid-way expires after
//! [`CLAIM_EXPIRES_SECONDS`].

use super::{Store, StoreError, StoreRow, on_pool, sql_int};

/// How long a claim holds off other servers: far longer than a verification may take.
pub const CLAIM_EXPIRES_SECONDS: u64 = 600;

/// One row of the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredApproval {
    /// The entry as JSON.
    pub entry: String,
    /// `pending`, `approved`, `failed` or `rejected`.
    pub status: String,
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Claimed: the entry and its component (none for a proposal that was not built).
    Taken(StoredApproval, Option<Vec<u8>>),
    /// Someone else is deciding it (a claim younger than the expiry).
    Busy,
    /// Decided already.
    Decided(StoredApproval),
    /// No such entry.
    Missing,
}

impl Store {
    /// Queue an entry (`entry` as JSON) with its candidate; an id already queued is kept as it
    /// is (an import run twice adds nothing).
    pub async fn insert_approval(
        &self,
        id: &str,
        adapter: &str,
        status: &str,
        entry: &str,
        component: Option<&[u8]>,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO approvals (id, adapter, status, entry, component) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(adapter)
        .bind(status)
        .bind(entry)
        .bind(component)
        .execute(pool)
        .await
        .map(drop)
        .map_err(StoreError::query("queue an approval")))
    }

    /// Every entry, newest first.
    pub async fn approvals(&self) -> Result<Vec<StoredApproval>, StoreError> {
        let doing = "list the approvals";
        on_pool!(self, pool => {
            let rows = sqlx::query("SELECT status, entry FROM approvals ORDER BY id DESC")
                .fetch_all(pool)
                .await
                .map_err(StoreError::query(doing))?;
            rows.iter().map(stored).collect::<Result<_, _>>().map_err(StoreError::query(doing))
        })
    }

    /// The entry `id`, if there is one.
    pub async fn approval(&self, id: &str) -> Result<Option<StoredApproval>, StoreError> {
        let doing = "read an approval";
        on_pool!(self, pool => {
            let row = sqlx::query("SELECT status, entry FROM approvals WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::query(doing))?;
            row.as_ref().map(stored).transpose().map_err(StoreError::query(doing))
        })
    }

    /// Claim the pending entry `id` at `now` (Unix seconds) to decide it.
    pub async fn claim_approval(&self, id: &str, now: u64) -> Result<Claim, StoreError> {
        let doing = "claim an approval";
        let expired = sql_int(now.saturating_sub(CLAIM_EXPIRES_SECONDS));
        on_pool!(self, pool => {
            let claimed = sqlx::query(
                "UPDATE approvals SET claimed_at = $1
                 WHERE id = $2 AND status = 'pending' AND (claimed_at IS NULL OR claimed_at < $3)",
            )
            .bind(sql_int(now))
            .bind(id)
            .bind(expired)
            .execute(pool)
            .await
            .map_err(StoreError::query(doing))?
            .rows_affected();
            let row = sqlx::query("SELECT status, entry, component FROM approvals WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::query(doing))?;
            let Some(row) = row else {
                return Ok(Claim::Missing);
            };
            let entry = stored(&row).map_err(StoreError::query(doing))?;
            Ok(if claimed == 1 {
                let component: Option<Vec<u8>> =
                    row.column("component").map_err(StoreError::query(doing))?;
                Claim::Taken(entry, component)
            } else if entry.status == "pending" {
                Claim::Busy
            } else {
                Claim::Decided(entry)
            })
        })
    }

    /// Record the decision on the entry `id` this server claimed: its new status and entry;
    /// the component is dropped. False when the entry was not pending any more.
    pub async fn decide_approval(
        &self,
        id: &str,
        status: &str,
        entry: &str,
    ) -> Result<bool, StoreError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE approvals SET status = $1, entry = $2, component = NULL, claimed_at = NULL
             WHERE id = $3 AND status = 'pending'",
        )
        .bind(status)
        .bind(entry)
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err(StoreError::query("record an approval's decision")))
    }
}

fn stored(row: &impl StoreRow) -> Result<StoredApproval, sqlx::Error> {
    Ok(StoredApproval {
        status: row.column("status")?,
        entry: row.column("entry")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_claim_is_taken_once_until_it_expires_and_a_decision_ends_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        store
            .insert_approval("apr_1", "local", "pending", "{}", Some(b"wasm"))
            .await
            .unwrap();
        store
            .insert_approval("apr_2", "local", "pending", "{\"n\":2}", None)
            .await
            .unwrap();
        let ids: Vec<String> = store
            .approvals()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.entry)
            .collect();
        assert_eq!(ids, ["{\"n\":2}", "{}"], "newest first");

        let taken = store.claim_approval("apr_1", 1_000).await.unwrap();
        assert!(
            matches!(&taken, Claim::Taken(_, Some(bytes)) if bytes == b"wasm"),
            "{taken:?}"
        );
        assert_eq!(
            store.claim_approval("apr_1", 1_001).await.unwrap(),
            Claim::Busy
        );
        let later = 1_000 + CLAIM_EXPIRES_SECONDS + 1;
        assert!(matches!(
            store.claim_approval("apr_1", later).await.unwrap(),
            Claim::Taken(..)
        ));
        assert!(
            store
                .decide_approval("apr_1", "rejected", "{\"r\":1}")
                .await
                .unwrap()
        );
        assert!(
            !store
                .decide_approval("apr_1", "approved", "{}")
                .await
                .unwrap(),
            "decided once"
        );
        let decided = store.claim_approval("apr_1", later).await.unwrap();
        assert!(
            matches!(&decided, Claim::Decided(a) if a.status == "rejected"),
            "{decided:?}"
        );
        assert_eq!(
            store.claim_approval("apr_9", later).await.unwrap(),
            Claim::Missing
        );
    }
}
