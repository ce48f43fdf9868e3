//! Adapter versions (`/api/v1/adapters`) and the approval queue (`/api/v1/approvals`), served
//! from the reload manager. Reading is open like the other status routes; everything that
//! changes what serves (rollback, proposing, approving, rejecting) is an admin action under
//! the same token policy as the breakers.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::reload::{
    AdapterVersions, Approval, ApprovalError, ApprovalStatus, HistoryError, ProviderCheck,
    ReloadError, ReloadEvent, ReloadManager, Swap, Verification, VersionRecord,
};
use crate::scri::{ApiError, ApiErrorBody};

use super::admin_routes::Admin;
use crate::dialects::scri::error_response;

/// The reload routes in the OpenAPI document (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(adapters, rollback, approvals, propose, decide),
    components(schemas(
        AdapterList,
        AdapterVersions,
        ReloadEvent,
        VersionRecord,
        Swap,
        Verification,
        ProviderCheck,
        RollbackTo,
        Approval,
        ApprovalStatus,
        Decision,
        Rejection
    ))
)]
pub struct AdapterApi;

/// The reload routes over `manager`, to merge into the main router.
pub fn router(manager: Arc<ReloadManager>) -> Router {
    let limit =
        usize::try_from(manager.gateway().config.server.max_body_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/v1/adapters", get(adapters))
        .route("/api/v1/adapters/{name}/rollback", post(rollback))
        .route("/api/v1/approvals", get(approvals).post(propose))
        .route("/api/v1/approvals/{id}/{action}", post(decide))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(manager)
}

/// `GET /api/v1/adapters`.
#[derive(Debug, Serialize, ToSchema)]
pub struct AdapterList {
    /// Every loaded adapter: serving version and history.
    pub adapters: Vec<AdapterVersions>,
    /// What the reload manager did recently (swaps, refusals, rollbacks), oldest first.
    pub events: Vec<ReloadEvent>,
}

/// Every loaded adapter's serving version and kept history, and recent reload events.
#[utoipa::path(get, path = "/api/v1/adapters", responses((status = 200, body = AdapterList)))]
async fn adapters(State(m): State<Arc<ReloadManager>>) -> Json<AdapterList> {
    Json(AdapterList {
        adapters: m.adapters().await,
        events: m.events(),
    })
}

/// The body of a rollback: which version, by described version or SHA-256 (prefix of at
/// least 6); none means the newest kept version other than the serving one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackTo {
    /// The described version.
    pub version: Option<String>,
    /// The component's SHA-256, or a prefix of at least 6 hex digits.
    pub sha256: Option<String>,
}

/// Restore a kept version atomically (admin); the body may name it, else the newest other one.
#[utoipa::path(post, path = "/api/v1/adapters/{name}/rollback",
    params(("name" = String, Path, description = "The adapter")),
    request_body(content = Option<RollbackTo>, description = "Which version (optional)"),
    responses(
        (status = 200, description = "The swap back", body = Swap),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
        (status = 404, description = "No such adapter or kept version", body = ApiError),
        (status = 409, description = "No earlier version is kept", body = ApiError),
    ))]
async fn rollback(
    _admin: Admin,
    State(m): State<Arc<ReloadManager>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<Swap>, Response> {
    let to = super::bodies::rollback_to(&body).map_err(IntoResponse::into_response)?;
    let wanted = to.sha256.or(to.version);
    m.rollback(&name, wanted.as_deref(), "rolled back by an operator")
        .await
        .map(Json)
        .map_err(|e| reload_failure(&e))
}

/// Adapter versions waiting for a human, and those decided.
#[utoipa::path(get, path = "/api/v1/approvals", responses((status = 200, body = Vec<Approval>)))]
async fn approvals(State(m): State<Arc<ReloadManager>>) -> Result<Json<Vec<Approval>>, Response> {
    m.approvals()
        .await
        .map(Json)
        .map_err(|e| reload_failure(&ReloadError::Approval(e)))
}

/// Who proposes a candidate and why: `POST /api/v1/approvals?reason=...&proposed_by=...`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct Proposal {
    reason: Option<String>,
    proposed_by: Option<String>,
}

/// Queue a candidate component (the `.wasm` bytes as the body) for approval (admin).
#[utoipa::path(post, path = "/api/v1/approvals", params(Proposal),
    request_body(content = Vec<u8>, content_type = "application/wasm", description = "The candidate component"),
    responses(
        (status = 201, description = "Queued", body = Approval),
        (status = 400, description = "Empty body", body = ApiError),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
        (status = 422, description = "Not an adapter component", body = ApiError),
    ))]
async fn propose(
    _admin: Admin,
    State(m): State<Arc<ReloadManager>>,
    Query(p): Query<Proposal>,
    body: Bytes,
) -> Result<(StatusCode, Json<Approval>), Response> {
    if body.is_empty() {
        return Err(status_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "empty_body",
            "send the candidate component (.wasm) as the request body".into(),
        ));
    }
    let reason = p
        .reason
        .unwrap_or_else(|| "proposed through the API".into());
    let by = p.proposed_by.unwrap_or_else(|| "api".into());
    m.propose(body, &reason, &by)
        .await
        .map(|a| (StatusCode::CREATED, Json(a)))
        .map_err(|e| reload_failure(&e))
}

/// A decision: what it did to the entry and, for an approval, the swap.
#[derive(Debug, Serialize, ToSchema)]
struct Decision {
    approval: Approval,
    #[serde(skip_serializing_if = "Option::is_none")]
    swap: Option<Swap>,
}

/// Why a candidate is rejected: `{"reason": "..."}` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// Why, for the approval record.
    pub reason: Option<String>,
}

/// Approve (verify, then swap in) or reject a queued candidate (admin).
#[utoipa::path(post, path = "/api/v1/approvals/{id}/{action}",
    params(("id" = String, Path, description = "The approval id"),
           ("action" = String, Path, description = "`approve` or `reject`")),
    request_body(content = Option<Rejection>, description = "For reject: why (optional)"),
    responses(
        (status = 200, description = "The decision, and the swap for an approval", body = Decision),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
        (status = 404, description = "No such approval", body = ApiError),
        (status = 409, description = "Already decided", body = ApiError),
        (status = 422, description = "The candidate failed verification", body = ApiError),
    ))]
async fn decide(
    _admin: Admin,
    State(m): State<Arc<ReloadManager>>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<Decision>, Response> {
    match action.as_str() {
        "approve" => {
            let (approval, swap) = m.approve(&id).await.map_err(|e| reload_failure(&e))?;
            Ok(Json(Decision {
                approval,
                swap: Some(swap),
            }))
        }
        "reject" => {
            let why = super::bodies::rejection(&body).map_err(IntoResponse::into_response)?;
            let why = why.reason.unwrap_or_else(|| "by an operator".into());
            let approval = m
                .reject(&id, &why)
                .await
                .map_err(|e| reload_failure(&ReloadError::Approval(e)))?;
            Ok(Json(Decision {
                approval,
                swap: None,
            }))
        }
        other => Err(status_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "unknown_action",
            format!("unknown approval action `{other}`; use approve or reject"),
        )),
    }
}

/// A reload failure as an HTTP answer: what is missing is a 404, a state that forbids it a
/// 409, a candidate that is no adapter or failed verification a 422, a store that cannot be
/// reached a 503.
fn reload_failure(e: &ReloadError) -> Response {
    let (status, kind, code) = match e {
        ReloadError::UnknownAdapter(_)
        | ReloadError::History(HistoryError::NoSuchVersion { .. })
        | ReloadError::Approval(ApprovalError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "not_found_error", "not_found")
        }
        ReloadError::NoEarlierVersion(_)
        | ReloadError::Approval(
            ApprovalError::Decided { .. } | ApprovalError::NotBuilt { .. } | ApprovalError::Busy(_),
        ) => (StatusCode::CONFLICT, "invalid_request_error", "conflict"),
        ReloadError::Load(_) | ReloadError::WrongAdapter { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request_error",
            "not_an_adapter",
        ),
        ReloadError::Refused { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "adapter_error",
            "verification_failed",
        ),
        ReloadError::ChangedReach { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "adapter_error",
            "declaration_changed",
        ),
        ReloadError::Approval(ApprovalError::Store(_))
        | ReloadError::History(HistoryError::Store(_)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "api_error",
            "store_unavailable",
        ),
        ReloadError::History(_) | ReloadError::Approval(_) | ReloadError::Io { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "api_error", "storage")
        }
    };
    status_error(status, kind, code, e.to_string())
}

/// An error answer in the API's shape, with its status, type and code.
pub(super) fn status_error(
    status: StatusCode,
    kind: &str,
    code: &str,
    message: String,
) -> Response {
    error_response(
        status,
        ApiErrorBody {
            message,
            kind: kind.to_owned(),
            param: None,
            code: Some(code.to_owned()),
            provider: None,
            upstream_status: None,
        },
    )
}
