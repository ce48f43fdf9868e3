//! Heal cycles' records (`crate::heal::cycle` keeps their meaning): one row per cycle with its
//! record as JSON, rewritten after every phase, and the server that runs it.

use super::{Store, StoreError, on_pool};

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
