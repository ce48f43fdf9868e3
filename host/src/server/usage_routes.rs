//! Usage and prices: `GET /api/v1/usage` sums the usage records by key, model, provider, day
//! or hour within a period (an admin route: it names every key's spending), and
//! `GET /api/v1/prices` lists the prices costs are computed with (the operator's, then the
//! published table with each source and date).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::scri::ApiError;
use crate::store::Store;
use crate::usage::{
    GroupBy, Listed, Prices, UsageGroup, UsageQuery, UsageRecorder, UsageRow, parse_time,
};

use super::adapter_routes::status_error;
use super::admin_routes::Admin;

/// The usage routes in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(usage, requests, prices),
    components(schemas(UsageReport, UsageGroup, GroupBy, Listed, UsageRow))
)]
pub struct UsageApi;

/// What the routes read.
#[derive(Clone)]
pub struct UsageState {
    /// Where the records are.
    pub store: Store,
    /// The recorder, flushed before a read so a request just answered is counted.
    pub recorder: Arc<UsageRecorder>,
    /// The prices costs are computed with.
    pub prices: Prices,
}

/// The routes over `state`, to merge into the main router.
pub fn router(state: UsageState) -> Router {
    Router::new()
        .route("/api/v1/usage", get(usage))
        .route("/api/v1/usage/requests", get(requests))
        .route("/api/v1/prices", get(prices))
        .with_state(state)
}

/// `GET /api/v1/usage`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UsageParams {
    /// `key` (default), `model`, `provider`, `day` or `hour`.
    pub by: Option<String>,
    /// From: a duration back from now (`24h`, `7d`), a date or an RFC 3339 date-time.
    pub since: Option<String>,
    /// Until (not included), in the same forms.
    pub until: Option<String>,
    /// Only this client key's requests (`key_…`).
    pub key: Option<String>,
    /// Only this provider's.
    pub provider: Option<String>,
}

/// Sums of usage, one per group.
#[derive(Debug, Serialize, ToSchema)]
pub struct UsageReport {
    /// The grouping.
    pub by: GroupBy,
    /// From, Unix ms (none: the first record).
    pub since_ms: Option<u64>,
    /// Until, Unix ms (none: now).
    pub until_ms: Option<u64>,
    /// The groups, in order.
    pub groups: Vec<UsageGroup>,
}

/// Usage summed by key, model, provider, day or hour (admin). Costs count priced requests
/// only; `unpriced_requests` says how many used tokens of a model with no known price.
#[utoipa::path(get, path = "/api/v1/usage", params(UsageParams),
    responses(
        (status = 200, body = UsageReport),
        (status = 400, description = "A parameter is invalid; the message names it", body = ApiError),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
    ))]
async fn usage(
    _admin: Admin,
    State(state): State<UsageState>,
    params: Result<Query<UsageParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<UsageReport>, Response> {
    let bad = |message: String| {
        status_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_query",
            message,
        )
    };
    let Query(params) =
        params.map_err(|e| bad(format!("the query is invalid: {}", e.body_text())))?;
    let by = match params.by.as_deref() {
        None => GroupBy::Key,
        Some(name) => GroupBy::parse(name).ok_or_else(|| {
            bad(format!(
                "by: `{name}` is not a grouping; use key, model, provider, day or hour"
            ))
        })?,
    };
    let now = crate::clock::unix_millis();
    let time = |field: &str, v: Option<&str>| -> Result<Option<u64>, String> {
        v.map(|t| parse_time(t, now).map_err(|e| format!("{field}: {e}")))
            .transpose()
    };
    let query = UsageQuery {
        by,
        since_ms: time("since", params.since.as_deref()).map_err(bad)?,
        until_ms: time("until", params.until.as_deref()).map_err(bad)?,
        key_id: params.key,
        provider: params.provider,
    };
    state.recorder.flush(Duration::from_secs(2)).await;
    let groups = state.store.usage_summary(&query).await.map_err(|e| {
        status_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "store_unavailable",
            e.to_string(),
        )
    })?;
    Ok(Json(UsageReport {
        by,
        since_ms: query.since_ms,
        until_ms: query.until_ms,
        groups,
    }))
}

/// `GET /api/v1/usage/requests`'s query.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RecentParams {
    /// How many, newest first (default 100, at most 1000).
    pub limit: Option<u32>,
    /// Only this client key's requests (`key_…`).
    pub key: Option<String>,
}

/// The latest requests, newest first (admin): when, which key, route, model asked, who
/// answered, how it ended, attempts, latency, tokens and cost. Never content.
#[utoipa::path(get, path = "/api/v1/usage/requests", params(RecentParams),
    responses(
        (status = 200, body = Vec<UsageRow>),
        (status = 400, description = "A parameter is invalid", body = ApiError),
    ))]
async fn requests(
    _admin: Admin,
    State(state): State<UsageState>,
    params: Result<Query<RecentParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<UsageRow>>, Response> {
    let Query(params) = params.map_err(|e| {
        status_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_query",
            format!("the query is invalid: {}", e.body_text()),
        )
    })?;
    let limit = params.limit.unwrap_or(100).clamp(1, 1000);
    state.recorder.flush(Duration::from_secs(2)).await;
    state
        .store
        .recent_usage(limit, params.key.as_deref())
        .await
        .map(Json)
        .map_err(|e| {
            status_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                "store_unavailable",
                e.to_string(),
            )
        })
}

/// Every price costs are computed with: the operator's (`source: config`), then the published
/// table, each with the page it was read from and its date.
#[utoipa::path(get, path = "/api/v1/prices", responses((status = 200, body = Vec<Listed>)))]
async fn prices(State(state): State<UsageState>) -> Json<Vec<Listed>> {
    Json(state.prices.listing())
}
