//! Heal cycles (`/api/v1/heal`): the list, one cycle phase by phase, and starting one for an
//! adapter now. Reading is open like the other status routes; starting a cycle is an admin
//! action under the same token policy as the breakers and approvals.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use utoipa::{OpenApi, ToSchema};

use crate::heal::cycle::{BuildRecord, Decision, Diagnosis, Findings, Fix, Phase, Replay};
use crate::heal::edits::Edit;
use crate::heal::{Cycle, CycleStatus, HealError, HealWorker, StoreError};
use crate::scri::ApiError;

use super::adapter_routes::status_error;
use super::admin_routes::Admin;
use crate::dialects::scri::{Failure, parse_json};

/// The heal routes in the OpenAPI document (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(cycles, cycle, run),
    components(schemas(
        Cycle,
        CycleStatus,
        Phase,
        Diagnosis,
        Findings,
        Fix,
        Edit,
        BuildRecord,
        Replay,
        Decision,
        HealRun
    ))
)]
pub struct HealApi;

/// The heal routes over `worker`, to merge into the main router.
pub fn router(worker: Arc<HealWorker>) -> Router {
    Router::new()
        .route("/api/v1/heal", get(cycles))
        .route("/api/v1/heal/run", post(run))
        .route("/api/v1/heal/{id}", get(cycle))
        .with_state(worker)
}

/// Every heal cycle, newest first.
#[utoipa::path(get, path = "/api/v1/heal", responses((status = 200, body = Vec<Cycle>)))]
async fn cycles(State(w): State<Arc<HealWorker>>) -> Result<Json<Vec<Cycle>>, Response> {
    w.cycles()
        .await
        .map(Json)
        .map_err(|e| failure(&HealError::Store(e)))
}

/// One heal cycle: each phase with its model, duration, input size and output, the research
/// URLs, the diff, the build log tail, the verification and the decision.
#[utoipa::path(get, path = "/api/v1/heal/{id}",
    params(("id" = String, Path, description = "The cycle id")),
    responses(
        (status = 200, body = Cycle),
        (status = 404, description = "No such cycle", body = ApiError),
    ))]
async fn cycle(
    State(w): State<Arc<HealWorker>>,
    Path(id): Path<String>,
) -> Result<Json<Cycle>, Response> {
    w.cycle(&id)
        .await
        .map(Json)
        .map_err(|e| failure(&HealError::Store(e)))
}

/// Which adapter to heal now: `{"adapter": "openai"}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HealRun {
    /// The adapter's name.
    pub adapter: String,
}

/// Start a heal cycle for an adapter now, from the most recent errors the health monitor has
/// seen for it (admin). The cycle runs in the background; follow it at `/api/v1/heal/{id}`.
#[utoipa::path(post, path = "/api/v1/heal/run",
    request_body(content = HealRun, content_type = "application/json"),
    responses(
        (status = 202, description = "Started (or skipped: its status says why)", body = Cycle),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
        (status = 404, description = "No such adapter", body = ApiError),
        (status = 409, description = "Healing is disabled, or the adapter has no recent errors", body = ApiError),
    ))]
async fn run(
    _admin: Admin,
    State(w): State<Arc<HealWorker>>,
    body: Bytes,
) -> Result<(StatusCode, Json<Cycle>), Response> {
    let request: HealRun = parse_json(&body).map_err(|e: Failure| e.into_response())?;
    w.run_now(&request.adapter)
        .await
        .map(|c| (StatusCode::ACCEPTED, Json(c)))
        .map_err(|e| failure(&e))
}

fn failure(e: &HealError) -> Response {
    let (status, kind, code) = match e {
        HealError::UnknownAdapter(_) | HealError::Store(StoreError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "not_found_error", "not_found")
        }
        HealError::Disabled => (
            StatusCode::CONFLICT,
            "invalid_request_error",
            "healing_disabled",
        ),
        HealError::NoFailure(_) => (
            StatusCode::CONFLICT,
            "invalid_request_error",
            "nothing_to_heal",
        ),
        HealError::Store(_) => (StatusCode::INTERNAL_SERVER_ERROR, "api_error", "storage"),
    };
    status_error(status, kind, code, e.to_string())
}
