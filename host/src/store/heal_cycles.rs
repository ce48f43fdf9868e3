//! Heal cycles' records (`crate::heal::cycle` keeps their meaning): one row per cycle with its
//! record as JSON, rewritten after every phase, and the server that runs it. And each
//! adapter's heal claim: the servers on the store run one cycle per adapter between them, and
//! honour each other's cooldown.

use super::{Store, StoreError, StoreRow, on_pool, sql_int};

/// How long a running cycle's claim holds off the other servers: far longer than a cycle takes
/// (its build alone is bounded by `[healing] build_timeout_seconds`), so only a claim whose
/// server stopped mid-cycle runs out.
pub const HEAL_CLAIM_EXPIRES_SECONDS: u64 = 3600;

/// An adapter's heal claim, as held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealClaim {
    /// The server that holds it.
    pub server: String,
    /// Its cycle.
    pub cycle_id: String,
    /// When it was taken (Unix seconds).
    pub claimed_at: u64,
    /// When its cycle ended (Unix seconds); `None` while it runs.
    pub finished_at: Option<u64>,
}

/// What a claim found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HealClaimed {
    /// Taken: this server's cycle may run.
    Taken,
    /// Another server's cycle runs, or started within the cooldown.
    Held(HealClaim),
}

impl Store {
    /// Write the record of cycle `id` (`record` as JSON), run by `server`.
    pub async fn save_heal_cycle(
        &self,
        id: &str,
        adapter: &str,
        status: &str,
        server: &str,
        record: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "INSERT INTO heal_cycles (id, adapter, status, server, record) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, server = excluded.server, record = excluded.record",
        )
        .bind(id)
        .bind(adapter)
        .bind(status)
        .bind(server)
        .bind(record)
        .execute(pool)
        .await
        .map(drop)
        .map_err(StoreError::query("save a heal cycle")))
    }

    /// Every cycle's record, newest first.
    pub async fn heal_cycles(&self) -> Result<Vec<String>, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT record FROM heal_cycles ORDER BY id DESC")
            .fetch_all(pool)
            .await
            .map_err(StoreError::query("list the heal cycles")))
    }

    /// The record of cycle `id`, if there is one.
    pub async fn heal_cycle(&self, id: &str) -> Result<Option<String>, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar("SELECT record FROM heal_cycles WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .map_err(StoreError::query("read a heal cycle")))
    }

    /// Claim `adapter` for cycle `cycle_id` of `server` at `now` (Unix seconds). Taken unless
    /// another server's cycle runs (a claim younger than [`HEAL_CLAIM_EXPIRES_SECONDS`]), or,
    /// with a `cooldown` (seconds), the last cycle started less than that ago. A running claim
    /// of `server` itself was left by its previous run: it is taken over.
    pub async fn claim_heal(
        &self,
        adapter: &str,
        server: &str,
        cycle_id: &str,
        now: u64,
        cooldown: Option<u64>,
    ) -> Result<HealClaimed, StoreError> {
        let doing = "claim an adapter for a heal cycle";
        let started_before = cooldown.map_or(i64::MAX, |c| sql_int(now.saturating_sub(c)));
        let expired_before = sql_int(now.saturating_sub(HEAL_CLAIM_EXPIRES_SECONDS));
        let taken: Option<String> = on_pool!(self, pool => sqlx::query_scalar(
            "INSERT INTO heal_claims (adapter, server, cycle_id, claimed_at, finished_at) VALUES ($1, $2, $3, $4, NULL)
             ON CONFLICT (adapter) DO UPDATE SET server = excluded.server, cycle_id = excluded.cycle_id,
                 claimed_at = excluded.claimed_at, finished_at = NULL
             WHERE (heal_claims.finished_at IS NOT NULL AND heal_claims.claimed_at <= $5)
                OR (heal_claims.finished_at IS NULL AND (heal_claims.claimed_at < $6 OR heal_claims.server = $2))
             RETURNING cycle_id",
        )
        .bind(adapter)
        .bind(server)
        .bind(cycle_id)
        .bind(sql_int(now))
        .bind(started_before)
        .bind(expired_before)
        .fetch_optional(pool)
        .await
        .map_err(StoreError::query(doing)))?;
        if taken.is_some() {
            return Ok(HealClaimed::Taken);
        }
        let held = on_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT server, cycle_id, claimed_at, finished_at FROM heal_claims WHERE adapter = $1",
            )
            .bind(adapter)
            .fetch_one(pool)
            .await
            .map_err(StoreError::query(doing))?;
            (|| -> Result<HealClaim, sqlx::Error> {
                Ok(HealClaim {
                    server: row.column("server")?,
                    cycle_id: row.column("cycle_id")?,
                    claimed_at: row.column::<i64>("claimed_at")?.max(0) as u64,
                    finished_at: row
                        .column::<Option<i64>>("finished_at")?
                        .map(|t| t.max(0) as u64),
                })
            })()
            .map_err(StoreError::query(doing))
        })?;
        Ok(HealClaimed::Held(held))
    }

    /// Cycle `cycle_id` of `adapter` ended at `now` (Unix seconds): its claim holds only for
    /// the cooldown from here on.
    pub async fn end_heal_claim(
        &self,
        adapter: &str,
        cycle_id: &str,
        now: u64,
    ) -> Result<(), StoreError> {
        on_pool!(self, pool => sqlx::query(
            "UPDATE heal_claims SET finished_at = $3 WHERE adapter = $1 AND cycle_id = $2",
        )
        .bind(adapter)
        .bind(cycle_id)
        .bind(sql_int(now))
        .execute(pool)
        .await
        .map(drop)
        .map_err(StoreError::query("end a heal claim")))
    }

    /// The records of `server`'s cycles with `status`.
    pub async fn heal_cycles_of(
        &self,
        server: &str,
        status: &str,
    ) -> Result<Vec<String>, StoreError> {
        on_pool!(self, pool => sqlx::query_scalar(
            "SELECT record FROM heal_cycles WHERE server = $1 AND status = $2 ORDER BY id",
        )
        .bind(server)
        .bind(status)
        .fetch_all(pool)
        .await
        .map_err(StoreError::query("list a server's heal cycles")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_server_heals_an_adapter_at_a_time_and_the_cooldown_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let claim = |server: &'static str, cycle: &'static str, now: u64, cooldown| {
            let store = store.clone();
            async move {
                store
                    .claim_heal("openai", server, cycle, now, cooldown)
                    .await
                    .unwrap()
            }
        };
        assert_eq!(claim("a", "c1", 1_000, Some(300)).await, HealClaimed::Taken);
        let HealClaimed::Held(held) = claim("b", "c2", 1_010, None).await else {
            panic!("b took a claim a holds");
        };
        assert_eq!((held.server.as_str(), held.cycle_id.as_str()), ("a", "c1"));
        assert_eq!(held.finished_at, None);
        // a restarted: its own running claim is stale, and taken over.
        assert_eq!(claim("a", "c3", 1_020, Some(300)).await, HealClaimed::Taken);
        store.end_heal_claim("openai", "c1", 1_030).await.unwrap();
        assert!(
            matches!(claim("b", "c4", 1_040, None).await, HealClaimed::Held(_)),
            "ending an old cycle's claim leaves the running one"
        );
        store.end_heal_claim("openai", "c3", 1_100).await.unwrap();
        // Within a's cooldown: b honouring one waits, an operator's run does not.
        let HealClaimed::Held(held) = claim("b", "c5", 1_200, Some(300)).await else {
            panic!("the cooldown was not honoured");
        };
        assert_eq!(held.finished_at, Some(1_100));
        assert_eq!(claim("b", "c6", 1_200, None).await, HealClaimed::Taken);
        store.end_heal_claim("openai", "c6", 1_250).await.unwrap();
        assert_eq!(claim("a", "c7", 1_550, Some(300)).await, HealClaimed::Taken);
        // A claim whose server died mid-cycle runs out after an hour.
        let later = 1_550 + HEAL_CLAIM_EXPIRES_SECONDS;
        assert!(matches!(
            claim("b", "c8", later, None).await,
            HealClaimed::Held(_)
        ));
        assert_eq!(claim("b", "c9", later + 1, None).await, HealClaimed::Taken);
    }
}
