//! Each server's own counts per client key, kept so that servers sharing one store enforce one
//! set of limits: requests and tokens per minute, and spend per UTC day. A server writes only
//! its own rows and reads the sum of everyone else's. Minute counts are written by
//! `crate::keys::Limits` about once a second, as absolute values (a repeated write never counts
//! twice); spend is added by [`Store::insert_usage`] in the transaction that records the usage
//! it comes from, so budgets and usage records never disagree. Requests in flight, for keys
//! limited in requests at once, are rewritten about once a second while there are any, each
//! row stamped with when, so a stopped server's stop counting.

use super::{Store, StoreError, StoreRow, on_pool, sql_int};

/// One key's requests and tokens in one minute, on one server (or summed over others).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MinuteCount {
    /// The client key's id.
    pub key_id: String,
    /// Unix ms / 60,000.
    pub minute: u64,
    /// Requests admitted.
    pub requests: u64,
    /// Tokens charged (input and output).
    pub tokens: u64,
}

/// One key's spend in one UTC day, on one server (or in one batch of usage).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaySpend {
    /// The client key's id.
    pub key_id: String,
    /// Unix ms / 86,400,000.
    pub day: u64,
    /// Billionths of a US dollar.
    pub spent_nano_usd: u64,
}

/// What the other servers spent on a key in its budget period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PeriodSpend {
    /// The client key's id.
    pub key_id: String,
    /// The key's budget period (`day`, `week` or `month`), as stored.
    pub period: Option<String>,
    /// Billionths of a US dollar.
    pub spent_nano_usd: u64,
}

/// The first day (Unix ms / 86,400,000) of the current day, week and month, for
/// [`Store::others_spend`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeriodStarts {
    /// Today.
    pub day: u64,
    /// This week's Monday.
    pub week: u64,
    /// The first of this month.
    pub month: u64,
}

/// Rows per multi-row upsert: five parameters each, far below either database's limit.
pub(super) const ROWS_PER_UPSERT: usize = 1_000;

/// The cost in `rows` summed per client key and UTC day (rows without a key or a price add
/// nothing), in key and day order.
pub(super) fn spend_by_key_and_day(rows: &[super::usage::UsageRow]) -> Vec<DaySpend> {
    let mut sums: std::collections::BTreeMap<(&str, u64), u64> = Default::default();
    for row in rows {
        if let (Some(key), Some(cost)) = (&row.key_id, row.cost_nano_usd) {
            let sum = sums.entry((key, row.at_ms / 86_400_000)).or_default();
            *sum = sum.saturating_add(cost);
        }
    }
    sums.into_iter()
        .map(|((key, day), spent)| DaySpend {
            key_id: key.to_owned(),
            day,
            spent_nano_usd: spent,
        })
        .collect()
}

/// Adds `rows` (key, replica, day, spend) to what is kept.
pub(super) fn add_spend_sql(rows: usize, numbered: bool) -> String {
    format!(
        "INSERT INTO key_spend (key_id, replica, day, spent_nano_usd){} ON CONFLICT (key_id, day, replica) DO UPDATE SET spent_nano_usd = key_spend.spent_nano_usd + excluded.spent_nano_usd",
        super::values_sql(rows, 4, numbered)
    )
}

impl Store {
    /// Write `replica`'s own minute counts (replacing what it wrote before for the same key and
    /// minute), in one transaction.
    pub async fn write_counters(
        &self,
        replica: &str,
        minutes: &[MinuteCount],
    ) -> Result<(), StoreError> {
        let doing = "write the client keys' counters";
        let numbered = matches!(self.pool(), super::Pool::Postgres(_));
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            for chunk in minutes.chunks(ROWS_PER_UPSERT) {
                let sql = format!(
                    "INSERT INTO key_minutes (key_id, replica, minute, requests, tokens){} ON CONFLICT (key_id, minute, replica) DO UPDATE SET requests = excluded.requests, tokens = excluded.tokens",
                    super::values_sql(chunk.len(), 5, numbered)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for m in chunk {
                    q = q
                        .bind(&m.key_id)
                        .bind(replica)
                        .bind(sql_int(m.minute))
                        .bind(sql_int(m.requests))
                        .bind(sql_int(m.tokens));
                }
                q.execute(&mut *tx).await.map_err(StoreError::query(doing))?;
            }
            tx.commit().await.map_err(StoreError::query(doing))
        })
    }

    /// Every other server's requests and tokens per key and minute, from `since_minute` on,
    /// summed over the servers.
    pub async fn others_minutes(
        &self,
        replica: &str,
        since_minute: u64,
    ) -> Result<Vec<MinuteCount>, StoreError> {
        let doing = "read the other servers' counters";
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT key_id, minute, CAST(SUM(requests) AS BIGINT) AS requests, CAST(SUM(tokens) AS BIGINT) AS tokens
                 FROM key_minutes WHERE replica <> $1 AND minute >= $2 GROUP BY key_id, minute",
            )
            .bind(replica)
            .bind(sql_int(since_minute))
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(doing))?;
            rows.iter()
                .map(|row| {
                    Ok(MinuteCount {
                        key_id: column(row, "key_id")?,
                        minute: count(row, "minute")?,
                        requests: count(row, "requests")?,
                        tokens: count(row, "tokens")?,
                    })
                })
                .collect()
        })
    }

    /// What every other server (and every earlier run of this one) spent on each key with a
    /// budget, in the key's current period (`starts` gives where each kind of period began).
    pub async fn others_spend(
        &self,
        replica: &str,
        starts: PeriodStarts,
    ) -> Result<Vec<PeriodSpend>, StoreError> {
        let doing = "read the other servers' spend";
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT s.key_id AS key_id, k.budget_period AS period, CAST(SUM(s.spent_nano_usd) AS BIGINT) AS spent
                 FROM key_spend s JOIN client_keys k ON k.id = s.key_id
                 WHERE s.replica <> $1 AND k.budget_usd IS NOT NULL
                   AND s.day >= CASE k.budget_period WHEN 'day' THEN $2 WHEN 'week' THEN $3 ELSE $4 END
                 GROUP BY s.key_id, k.budget_period",
            )
            .bind(replica)
            .bind(sql_int(starts.day))
            .bind(sql_int(starts.week))
            .bind(sql_int(starts.month))
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(doing))?;
            rows.iter()
                .map(|row| {
                    Ok(PeriodSpend {
                        key_id: column(row, "key_id")?,
                        period: column(row, "period")?,
                        spent_nano_usd: count(row, "spent")?,
                    })
                })
                .collect()
        })
    }

    /// Write `replica`'s requests in flight per key (replacing its earlier rows), stamped
    /// `now_ms`, in one transaction.
    pub async fn write_inflight(
        &self,
        replica: &str,
        inflight: &[(String, u64)],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let doing = "write the client keys' requests in flight";
        let numbered = matches!(self.pool(), super::Pool::Postgres(_));
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            for chunk in inflight.chunks(ROWS_PER_UPSERT) {
                let sql = format!(
                    "INSERT INTO key_inflight (key_id, replica, inflight, updated_ms){} ON CONFLICT (key_id, replica) DO UPDATE SET inflight = excluded.inflight, updated_ms = excluded.updated_ms",
                    super::values_sql(chunk.len(), 4, numbered)
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (key_id, n) in chunk {
                    q = q
                        .bind(key_id)
                        .bind(replica)
                        .bind(sql_int(*n))
                        .bind(sql_int(now_ms));
                }
                q.execute(&mut *tx).await.map_err(StoreError::query(doing))?;
            }
            tx.commit().await.map_err(StoreError::query(doing))
        })
    }

    /// Every other server's requests in flight per key, summed, from rows written at
    /// `since_ms` or later (older ones are a stopped server's).
    pub async fn others_inflight(
        &self,
        replica: &str,
        since_ms: u64,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        let doing = "read the other servers' requests in flight";
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT key_id, CAST(SUM(inflight) AS BIGINT) AS inflight
                 FROM key_inflight WHERE replica <> $1 AND updated_ms >= $2 AND inflight > 0
                 GROUP BY key_id",
            )
            .bind(replica)
            .bind(sql_int(since_ms))
            .fetch_all(pool)
            .await
            .map_err(StoreError::query(doing))?;
            rows.iter()
                .map(|row| Ok((column(row, "key_id")?, count(row, "inflight")?)))
                .collect()
        })
    }

    /// Delete minute counts before `minute`, day spend before `day`, and requests in flight
    /// last written before `inflight_ms`: the limits read only the last two minutes, budgets
    /// at most the last month, and requests in flight only from servers still running.
    pub async fn prune_counters(
        &self,
        minute: u64,
        day: u64,
        inflight_ms: u64,
    ) -> Result<(), StoreError> {
        let doing = "prune the client keys' counters";
        on_pool!(self, pool => {
            sqlx::query("DELETE FROM key_minutes WHERE minute < $1")
                .bind(sql_int(minute))
                .execute(pool)
                .await
                .map_err(StoreError::query(doing))?;
            sqlx::query("DELETE FROM key_inflight WHERE updated_ms < $1")
                .bind(sql_int(inflight_ms))
                .execute(pool)
                .await
                .map_err(StoreError::query(doing))?;
            sqlx::query("DELETE FROM key_spend WHERE day < $1")
                .bind(sql_int(day))
                .execute(pool)
                .await
                .map(drop)
                .map_err(StoreError::query(doing))
        })
    }
}

fn column<T: super::Value>(row: &impl StoreRow, name: &str) -> Result<T, StoreError> {
    row.column(name).map_err(|e| StoreError::Corrupt {
        what: "client key counter".into(),
        detail: format!("column `{name}`: {e}"),
    })
}

fn count(row: &impl StoreRow, name: &str) -> Result<u64, StoreError> {
    Ok(column::<Option<i64>>(row, name)?.unwrap_or(0).max(0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys::KeyRecord;

    #[tokio::test]
    async fn each_server_reads_the_others_sums_and_rewrites_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        for (id, hash, period) in [("key_d", 1, "day"), ("key_m", 2, "month")] {
            let key = KeyRecord {
                id: id.into(),
                hash: [hash; 32],
                budget_usd: Some(1.0),
                budget_period: Some(period.into()),
                ..KeyRecord::default()
            };
            store.insert_key(&key).await.unwrap();
        }
        let minute = |key: &str, minute, requests| MinuteCount {
            key_id: key.into(),
            minute,
            requests,
            tokens: requests * 10,
        };
        // Usage priced in nano-dollars, on `day` (Unix ms / 86,400,000), by key.
        let usage = |key: &str, day: u64, cost: u64| crate::store::usage::UsageRow {
            at_ms: day * 86_400_000 + 1,
            key_id: Some(key.into()),
            cost_nano_usd: Some(cost),
            ..Default::default()
        };
        store
            .write_counters("a", &[minute("key_d", 100, 3), minute("key_d", 99, 1)])
            .await
            .unwrap();
        // Written again with larger counts: replaced, not added.
        store
            .write_counters("a", &[minute("key_d", 100, 4)])
            .await
            .unwrap();
        store
            .write_counters("b", &[minute("key_d", 100, 2)])
            .await
            .unwrap();
        // Spend is added, batch by batch, per key and day: a spent 6 today on key_d (two
        // batches), 7 the day before, 11 on key_m; b spent 1.
        store
            .insert_usage(&[usage("key_d", 20, 5), usage("key_d", 19, 7)], "a")
            .await
            .unwrap();
        store
            .insert_usage(
                &[
                    usage("key_d", 20, 1),
                    usage("key_m", 3, 11),
                    usage("key_x", 20, 0),
                ],
                "a",
            )
            .await
            .unwrap();
        store
            .insert_usage(&[usage("key_d", 20, 1)], "b")
            .await
            .unwrap();

        let mut seen_by_c = store.others_minutes("c", 100).await.unwrap();
        seen_by_c.sort_by_key(|m| m.minute);
        assert_eq!(seen_by_c, [minute("key_d", 100, 6)]);
        let seen_by_b = store.others_minutes("b", 99).await.unwrap();
        assert_eq!(seen_by_b.len(), 2, "{seen_by_b:?}");
        assert!(seen_by_b.contains(&minute("key_d", 100, 4)));

        let starts = PeriodStarts {
            day: 20,
            week: 18,
            month: 0,
        };
        let mut spent = store.others_spend("c", starts).await.unwrap();
        spent.sort_by(|a, b| a.key_id.cmp(&b.key_id));
        assert_eq!(
            spent,
            [
                PeriodSpend {
                    key_id: "key_d".into(),
                    period: Some("day".into()),
                    spent_nano_usd: 7,
                },
                PeriodSpend {
                    key_id: "key_m".into(),
                    period: Some("month".into()),
                    spent_nano_usd: 11,
                },
            ],
            "key_d counts today only; key_m its whole month"
        );

        // Requests in flight: a's rewritten row replaces its first; b's stale one is a
        // stopped server's.
        let mine = |n| vec![("key_d".to_owned(), n)];
        store.write_inflight("a", &mine(3), 5_000).await.unwrap();
        store.write_inflight("a", &mine(2), 9_000).await.unwrap();
        store.write_inflight("b", &mine(4), 1_000).await.unwrap();
        store.write_inflight("d", &mine(1), 9_000).await.unwrap();
        assert_eq!(
            store.others_inflight("c", 2_000).await.unwrap(),
            mine(3),
            "a's 2 and d's 1, not b's stale 4"
        );
        assert_eq!(store.others_inflight("a", 2_000).await.unwrap(), mine(1));
        assert_eq!(store.others_inflight("c", 0).await.unwrap(), mine(7));

        store.prune_counters(100, 20, 2_000).await.unwrap();
        assert_eq!(store.others_inflight("c", 0).await.unwrap(), mine(3));
        assert_eq!(store.others_minutes("c", 0).await.unwrap().len(), 1);
        let left = store.others_spend("b", starts).await.unwrap();
        assert_eq!(left.len(), 1, "day 3 and day 19 are gone: {left:?}");
    }
}
