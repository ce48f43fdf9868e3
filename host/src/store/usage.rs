//! Usage rows: one per request, written in batches by the usage recorder (`crate::usage`),
//! read back summed by key, model, provider or period.

use serde::{Deserialize, Serialize};

use super::{Store, StoreError, StoreRow, on_pool, sql_int};

/// One request, as recorded. Never its content.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageRow {
    /// When the request reached the gateway, Unix milliseconds.
    pub at_ms: u64,
    /// The gateway's request id (`req_…`, also in the logs and the lineage).
    pub request_id: String,
    /// The client key's id; `None`: no key (anonymous, agents, heal cycles).
    pub key_id: Option<String>,
    /// `chat`, `chat_stream` or `embed`.
    pub route: String,
    /// The model as the client named it.
    pub model_asked: String,
    /// The provider that answered, or the last one that failed.
    pub provider: Option<String>,
    /// The model that answered.
    pub model: Option<String>,
    /// `ok`, `client_closed` (a stream its client left), `cancelled` (the deadline passed or
    /// the client left before an answer), or the error type.
    pub outcome: String,
    /// Providers tried, retries included.
    pub attempts: u32,
    /// Time inside the gateway, microseconds.
    pub latency_us: u64,
    /// Prompt tokens, cached ones included.
    pub input_tokens: Option<u32>,
    /// Generated tokens, reasoning included.
    pub output_tokens: Option<u32>,
    /// Prompt tokens read from the provider's cache.
    pub cache_read_tokens: Option<u32>,
    /// Prompt tokens written to the provider's cache.
    pub cache_write_tokens: Option<u32>,
    /// Output tokens spent reasoning.
    pub reasoning_tokens: Option<u32>,
    /// What the request cost, in billionths of a US dollar; `None`: no price is known.
    pub cost_nano_usd: Option<u64>,
}

/// How usage is summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GroupBy {
    /// By client key id (`anonymous` for requests without one).
    #[default]
    Key,
    /// By `provider:model` that answered (the model asked, when none answered).
    Model,
    /// By provider.
    Provider,
    /// By UTC day, `YYYY-MM-DD`.
    Day,
    /// By UTC hour, `YYYY-MM-DDTHH`.
    Hour,
}

impl GroupBy {
    /// The name used in queries and output.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Key => "key",
            GroupBy::Model => "model",
            GroupBy::Provider => "provider",
            GroupBy::Day => "day",
            GroupBy::Hour => "hour",
        }
    }

    /// The grouping named `name`.
    pub fn parse(name: &str) -> Option<GroupBy> {
        [
            Self::Key,
            Self::Model,
            Self::Provider,
            Self::Day,
            Self::Hour,
        ]
        .into_iter()
        .find(|g| g.as_str() == name)
    }
}

/// Which rows to sum, and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageQuery {
    /// The grouping.
    pub by: GroupBy,
    /// Rows at or after this time, Unix ms.
    pub since_ms: Option<u64>,
    /// Rows before this time, Unix ms.
    pub until_ms: Option<u64>,
    /// Only this key's rows.
    pub key_id: Option<String>,
    /// Only this provider's rows.
    pub provider: Option<String>,
}

/// One group's sums.
#[derive(Clone, Debug, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UsageGroup {
    /// The key id, `provider:model`, provider, day or hour.
    pub group: String,
    /// Requests.
    pub requests: u64,
    /// Requests that failed (not `ok`, and not a stream its client left).
    pub errors: u64,
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Prompt tokens read from cache.
    pub cache_read_tokens: u64,
    /// Prompt tokens written to cache.
    pub cache_write_tokens: u64,
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// What the priced requests cost, in US dollars.
    pub cost_usd: f64,
    /// Requests that used tokens of a model with no known price: their cost is unknown, not
    /// zero, and is not in `cost_usd`.
    pub unpriced_requests: u64,
    /// Mean time inside the gateway, milliseconds.
    pub mean_latency_ms: f64,
}

/// The columns of a usage insert; the rows follow as ` VALUES (...), (...)`.
const INSERT: &str = "INSERT INTO usage (at_ms, request_id, key_id, route, model_asked, provider, model, outcome, attempts, latency_us, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, reasoning_tokens, cost_nano_usd)";

/// Values per row.
const COLUMNS: usize = 16;

/// Rows per statement: 16 parameters each stays far below SQLite's 32,766 and PostgreSQL's
/// 65,535.
const ROWS_PER_INSERT: usize = 500;

/// The insert of `rows` rows, with `$n` parameters (PostgreSQL) or `?` ones (SQLite, which
/// binds them without parsing their names). A whole chunk's text is made once.
fn insert_sql(rows: usize, numbered: bool) -> std::borrow::Cow<'static, str> {
    static FULL: [std::sync::OnceLock<String>; 2] = [const { std::sync::OnceLock::new() }; 2];
    let make = |rows: usize| INSERT.to_owned() + &super::values_sql(rows, COLUMNS, numbered);
    if rows == ROWS_PER_INSERT {
        std::borrow::Cow::Borrowed(FULL[usize::from(numbered)].get_or_init(|| make(rows)))
    } else {
        std::borrow::Cow::Owned(make(rows))
    }
}

/// The sums, the same for every grouping; `$1`..`$4` are the filters.
fn summary_sql(group: &str) -> String {
    format!(
        "SELECT {group} AS grp, COUNT(*) AS requests,
            COUNT(*) FILTER (WHERE outcome NOT IN ('ok', 'client_closed')) AS errors,
            CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens,
            CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens,
            CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens,
            CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write_tokens,
            CAST(COALESCE(SUM(reasoning_tokens), 0) AS BIGINT) AS reasoning_tokens,
            CAST(COALESCE(SUM(cost_nano_usd), 0) AS BIGINT) AS cost_nano_usd,
            COUNT(*) FILTER (WHERE cost_nano_usd IS NULL AND (COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0)) > 0) AS unpriced,
            CAST(AVG(latency_us) AS DOUBLE PRECISION) AS mean_latency_us
         FROM usage
         WHERE ($1 IS NULL OR at_ms >= $1) AND ($2 IS NULL OR at_ms < $2)
           AND ($3 IS NULL OR key_id = $3) AND ($4 IS NULL OR provider = $4)
         GROUP BY grp ORDER BY grp"
    )
}

impl Store {
    /// Keep `rows`, all or none: multi-row inserts of up to [`ROWS_PER_INSERT`], in one
    /// transaction (a statement per row cost ~40 µs of CPU each, most of it the round trip to
    /// SQLite's thread). Their cost is added to each key's spend per day under `replica` (the
    /// server writing them) in the same transaction, so the budgets every server enforces are
    /// exactly the usage recorded.
    pub async fn insert_usage(&self, rows: &[UsageRow], replica: &str) -> Result<(), StoreError> {
        let doing = "record usage";
        let numbered = matches!(self.pool(), super::Pool::Postgres(_));
        let spend = super::counters::spend_by_key_and_day(rows);
        on_pool!(self, pool => {
            let mut tx = pool.begin().await.map_err(StoreError::query(doing))?;
            for chunk in spend.chunks(super::counters::ROWS_PER_UPSERT) {
                let sql = super::counters::add_spend_sql(chunk.len(), numbered);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for s in chunk {
                    q = q
                        .bind(&s.key_id)
                        .bind(replica)
                        .bind(sql_int(s.day))
                        .bind(sql_int(s.spent_nano_usd));
                }
                q.execute(&mut *tx).await.map_err(StoreError::query(doing))?;
            }
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let sql = insert_sql(chunk.len(), numbered);
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    insert = insert
                        .bind(sql_int(r.at_ms))
                        .bind(&r.request_id)
                        .bind(&r.key_id)
                        .bind(&r.route)
                        .bind(&r.model_asked)
                        .bind(&r.provider)
                        .bind(&r.model)
                        .bind(&r.outcome)
                        .bind(i64::from(r.attempts))
                        .bind(sql_int(r.latency_us))
                        .bind(r.input_tokens.map(i64::from))
                        .bind(r.output_tokens.map(i64::from))
                        .bind(r.cache_read_tokens.map(i64::from))
                        .bind(r.cache_write_tokens.map(i64::from))
                        .bind(r.reasoning_tokens.map(i64::from))
                        .bind(r.cost_nano_usd.map(sql_int));
                }
                insert.execute(&mut *tx).await.map_err(StoreError::query(doing))?;
            }
            tx.commit().await.map_err(StoreError::query(doing))
        })
    }

    /// The sums `query` asks for, one per group, in the group's order.
    pub async fn usage_summary(&self, query: &UsageQuery) -> Result<Vec<UsageGroup>, StoreError> {
        let postgres = matches!(self.pool(), super::Pool::Postgres(_));
        let group = match (query.by, postgres) {
            (GroupBy::Key, _) => "COALESCE(key_id, 'anonymous')",
            (GroupBy::Model, _) => "COALESCE(provider || ':' || model, model_asked)",
            (GroupBy::Provider, _) => "COALESCE(provider, '(none)')",
            (GroupBy::Day, false) => "strftime('%Y-%m-%d', at_ms / 1000, 'unixepoch')",
            (GroupBy::Hour, false) => "strftime('%Y-%m-%dT%H', at_ms / 1000, 'unixepoch')",
            (GroupBy::Day, true) => {
                "to_char(to_timestamp(at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            }
            (GroupBy::Hour, true) => {
                "to_char(to_timestamp(at_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"
            }
        };
        let sql = summary_sql(group);
        on_pool!(self, pool => {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(query.since_ms.map(sql_int))
                .bind(query.until_ms.map(sql_int))
                .bind(&query.key_id)
                .bind(&query.provider)
                .fetch_all(pool)
                .await
                .map_err(StoreError::query("sum usage"))?;
            rows.iter().map(usage_group).collect()
        })
    }

    /// The latest `limit` rows, newest first, of one key when `key_id` is given.
    pub async fn recent_usage(
        &self,
        limit: u32,
        key_id: Option<&str>,
    ) -> Result<Vec<UsageRow>, StoreError> {
        on_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT * FROM usage WHERE ($1 IS NULL OR key_id = $1) ORDER BY at_ms DESC, id DESC LIMIT $2",
            )
            .bind(key_id)
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await
            .map_err(StoreError::query("read recent usage"))?;
            rows.iter().map(usage_row).collect()
        })
    }

    /// Delete rows older than `before_ms`; how many went.
    pub async fn prune_usage(&self, before_ms: u64) -> Result<u64, StoreError> {
        on_pool!(self, pool => sqlx::query("DELETE FROM usage WHERE at_ms < $1")
            .bind(sql_int(before_ms))
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::query("prune old usage")))
    }
}

fn usage_group(row: &impl StoreRow) -> Result<UsageGroup, StoreError> {
    let n = |c: &str| -> Result<u64, StoreError> {
        row.column::<Option<i64>>(c)
            .map(|v| v.unwrap_or(0).max(0) as u64)
            .map_err(|e| corrupt(c, e))
    };
    let mean: Option<f64> = row
        .column("mean_latency_us")
        .map_err(|e| corrupt("latency", e))?;
    Ok(UsageGroup {
        group: row.column("grp").map_err(|e| corrupt("group", e))?,
        requests: n("requests")?,
        errors: n("errors")?,
        input_tokens: n("input_tokens")?,
        output_tokens: n("output_tokens")?,
        cache_read_tokens: n("cache_read_tokens")?,
        cache_write_tokens: n("cache_write_tokens")?,
        reasoning_tokens: n("reasoning_tokens")?,
        cost_usd: n("cost_nano_usd")? as f64 / 1e9,
        unpriced_requests: n("unpriced")?,
        mean_latency_ms: mean.unwrap_or(0.0) / 1000.0,
    })
}

fn usage_row(row: &impl StoreRow) -> Result<UsageRow, StoreError> {
    let u64_of = |c: &str| -> Result<u64, StoreError> {
        row.column::<i64>(c)
            .map(|v| v.max(0) as u64)
            .map_err(|e| corrupt(c, e))
    };
    let tokens = |c: &str| -> Result<Option<u32>, StoreError> {
        row.column::<Option<i64>>(c)
            .map(|v| v.map(|v| u32::try_from(v.max(0)).unwrap_or(u32::MAX)))
            .map_err(|e| corrupt(c, e))
    };
    let text = |c: &str| -> Result<String, StoreError> { row.column(c).map_err(|e| corrupt(c, e)) };
    let maybe = |c: &str| -> Result<Option<String>, StoreError> {
        row.column(c).map_err(|e| corrupt(c, e))
    };
    Ok(UsageRow {
        at_ms: u64_of("at_ms")?,
        request_id: text("request_id")?,
        key_id: maybe("key_id")?,
        route: text("route")?,
        model_asked: text("model_asked")?,
        provider: maybe("provider")?,
        model: maybe("model")?,
        outcome: text("outcome")?,
        attempts: u64_of("attempts")? as u32,
        latency_us: u64_of("latency_us")?,
        input_tokens: tokens("input_tokens")?,
        output_tokens: tokens("output_tokens")?,
        cache_read_tokens: tokens("cache_read_tokens")?,
        cache_write_tokens: tokens("cache_write_tokens")?,
        reasoning_tokens: tokens("reasoning_tokens")?,
        cost_nano_usd: row
            .column::<Option<i64>>("cost_nano_usd")
            .map(|v| v.map(|v| v.max(0) as u64))
            .map_err(|e| corrupt("cost_nano_usd", e))?,
    })
}

fn corrupt(column: &str, e: sqlx::Error) -> StoreError {
    StoreError::Corrupt {
        what: "usage summary".into(),
        detail: format!("column `{column}`: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        at_ms: u64,
        key: Option<&str>,
        provider: &str,
        outcome: &str,
        cost: Option<u64>,
    ) -> UsageRow {
        UsageRow {
            at_ms,
            request_id: format!("req_{at_ms}"),
            key_id: key.map(str::to_owned),
            route: "chat".into(),
            model_asked: "fast".into(),
            provider: Some(provider.into()),
            model: Some("m".into()),
            outcome: outcome.into(),
            attempts: 1,
            latency_us: 2_000,
            input_tokens: Some(10),
            output_tokens: Some(5),
            cache_read_tokens: Some(4),
            cache_write_tokens: None,
            reasoning_tokens: Some(1),
            cost_nano_usd: cost,
        }
    }

    #[tokio::test]
    async fn rows_sum_by_each_grouping_within_the_filters() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let day = 86_400_000;
        store
            .insert_usage(
                &[
                    row(day, Some("key_a"), "openai", "ok", Some(1_500_000_000)),
                    row(day + 1, Some("key_a"), "local", "ok", None),
                    row(2 * day, None, "openai", "rate_limit_error", Some(0)),
                    row(
                        2 * day + 5,
                        Some("key_b"),
                        "openai",
                        "ok",
                        Some(500_000_000),
                    ),
                ],
                "r1",
            )
            .await
            .unwrap();
        let sum = |q: UsageQuery| {
            let store = store.clone();
            async move { store.usage_summary(&q).await.unwrap() }
        };
        let by_key = sum(UsageQuery::default()).await;
        let groups: Vec<_> = by_key
            .iter()
            .map(|g| (g.group.as_str(), g.requests))
            .collect();
        assert_eq!(groups, [("anonymous", 1), ("key_a", 2), ("key_b", 1)]);
        let a = &by_key[1];
        assert_eq!(
            (
                a.input_tokens,
                a.output_tokens,
                a.cache_read_tokens,
                a.reasoning_tokens
            ),
            (20, 10, 8, 2)
        );
        assert_eq!(a.cost_usd, 1.5);
        assert_eq!(
            a.unpriced_requests, 1,
            "local has no price: unknown, not zero"
        );
        assert_eq!(a.mean_latency_ms, 2.0);
        assert_eq!(by_key[0].errors, 1);

        let by_day = sum(UsageQuery {
            by: GroupBy::Day,
            ..UsageQuery::default()
        })
        .await;
        assert_eq!(
            by_day.iter().map(|g| g.group.as_str()).collect::<Vec<_>>(),
            ["1970-01-02", "1970-01-03"]
        );
        let by_model = sum(UsageQuery {
            by: GroupBy::Model,
            ..UsageQuery::default()
        })
        .await;
        assert_eq!(
            by_model
                .iter()
                .map(|g| g.group.as_str())
                .collect::<Vec<_>>(),
            ["local:m", "openai:m"]
        );
        let filtered = sum(UsageQuery {
            by: GroupBy::Provider,
            since_ms: Some(day + 1),
            until_ms: Some(2 * day + 5),
            key_id: None,
            provider: Some("openai".into()),
        })
        .await;
        assert_eq!(filtered.len(), 1);
        assert_eq!(
            (filtered[0].group.as_str(), filtered[0].requests),
            ("openai", 1)
        );
        let one_key = sum(UsageQuery {
            key_id: Some("key_b".into()),
            ..UsageQuery::default()
        })
        .await;
        assert_eq!(one_key.len(), 1);

        let recent = store.recent_usage(2, None).await.unwrap();
        assert_eq!(
            recent.iter().map(|r| r.at_ms).collect::<Vec<_>>(),
            [2 * day + 5, 2 * day]
        );
        assert_eq!(recent[0].cost_nano_usd, Some(500_000_000));
        assert_eq!(recent[0].key_id.as_deref(), Some("key_b"));
        assert_eq!(
            store.recent_usage(10, Some("key_a")).await.unwrap().len(),
            2
        );

        assert_eq!(store.prune_usage(2 * day).await.unwrap(), 2);
        assert_eq!(
            sum(UsageQuery::default())
                .await
                .iter()
                .map(|g| g.requests)
                .sum::<u64>(),
            2
        );
    }
}
