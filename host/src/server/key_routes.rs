//! Client keys (`/api/v1/keys`): make, list, show, change and revoke the keys clients send to the
//! inference routes. Every route is an admin action (the token beyond loopback), listings
//! included: names and owners are the operator's business. A key is shown once, in the
//! answer that made it; the store keeps only its hash.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use utoipa::OpenApi;

use crate::dialects::scri::Failure;
use crate::keys::{IssuedKey, KeyChange, KeyError, KeyRecord, KeySpec, Keys, Route};
use crate::scri::ApiError;

use super::adapter_routes::status_error;
use super::admin_routes::Admin;

/// The key routes in the OpenAPI document (merged into `/api/v1/openapi.json`).
#[derive(OpenApi)]
#[openapi(
    paths(list, create, show, update, revoke),
    components(schemas(KeyRecord, KeySpec, KeyChange, IssuedKey, Route))
)]
pub struct KeyApi;

/// The key routes over `keys`, to merge into the main router.
pub fn router(keys: Keys) -> Router {
    Router::new()
        .route("/api/v1/keys", get(list).post(create))
        .route("/api/v1/keys/{id}", get(show).patch(update).delete(revoke))
        .with_state(keys)
}

/// Every key, revoked and expired ones included, oldest first (admin).
#[utoipa::path(get, path = "/api/v1/keys",
    responses(
        (status = 200, body = Vec<KeyRecord>),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
    ))]
async fn list(_admin: Admin, State(keys): State<Keys>) -> Result<Json<Vec<KeyRecord>>, Response> {
    keys.store
        .keys()
        .await
        .map(Json)
        .map_err(|e| failure(&e.into()))
}

/// Make a key (admin). The answer holds the key itself, in `secret`, this once.
#[utoipa::path(post, path = "/api/v1/keys",
    request_body(content = KeySpec, content_type = "application/json"),
    responses(
        (status = 201, description = "Made; `secret` is the key, shown only here", body = IssuedKey),
        (status = 400, description = "A field is invalid; the message names it", body = ApiError),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
    ))]
async fn create(
    _admin: Admin,
    State(keys): State<Keys>,
    body: Bytes,
) -> Result<(StatusCode, Json<IssuedKey>), Response> {
    let spec = super::bodies::key_spec(&body).map_err(Failure::into_response)?;
    let issued = keys.issue(&spec).await.map_err(|e| failure(&e))?;
    tracing::info!(key = %issued.record.id, name = %issued.record.name, "client key created");
    Ok((StatusCode::CREATED, Json(issued)))
}

/// One key (admin).
#[utoipa::path(get, path = "/api/v1/keys/{id}",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    responses(
        (status = 200, body = KeyRecord),
        (status = 404, description = "No such key", body = ApiError),
    ))]
async fn show(
    _admin: Admin,
    State(keys): State<Keys>,
    Path(id): Path<String>,
) -> Result<Json<KeyRecord>, Response> {
    match keys.store.key(&id).await {
        Ok(Some(key)) => Ok(Json(key)),
        Ok(None) => Err(not_found(&id)),
        Err(e) => Err(failure(&e.into())),
    }
}

/// Change a key (admin): a JSON merge patch of the fields of its spec (`null` removes one),
/// in effect from this answer on here, within a second on other servers. Its clients keep
/// their key.
#[utoipa::path(patch, path = "/api/v1/keys/{id}",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    request_body(content = KeyChange, content_type = "application/json"),
    responses(
        (status = 200, description = "Changed", body = KeyRecord),
        (status = 400, description = "A field is invalid; the message names it", body = ApiError),
        (status = 404, description = "No such key", body = ApiError),
        (status = 409, description = "The key is revoked", body = ApiError),
    ))]
async fn update(
    _admin: Admin,
    State(keys): State<Keys>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<KeyRecord>, Response> {
    let change = super::bodies::key_change(&body).map_err(Failure::into_response)?;
    match keys.update(&id, &change).await {
        Ok(Some(key)) => {
            tracing::info!(key = %key.id, name = %key.name, "client key changed");
            Ok(Json(key))
        }
        Ok(None) => Err(not_found(&id)),
        Err(e) => Err(failure(&e)),
    }
}

/// Revoke a key (admin): refused from this answer on by this server, within a second by
/// others on the same store. The record stays, marked with when.
#[utoipa::path(delete, path = "/api/v1/keys/{id}",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    responses(
        (status = 200, description = "Revoked (or already was)", body = KeyRecord),
        (status = 404, description = "No such key", body = ApiError),
    ))]
async fn revoke(
    _admin: Admin,
    State(keys): State<Keys>,
    Path(id): Path<String>,
) -> Result<Json<KeyRecord>, Response> {
    match keys.revoke(&id).await {
        Ok(Some(key)) => {
            tracing::warn!(key = %key.id, name = %key.name, "client key revoked");
            Ok(Json(key))
        }
        Ok(None) => Err(not_found(&id)),
        Err(e) => Err(failure(&e)),
    }
}

fn not_found(id: &str) -> Response {
    status_error(
        StatusCode::NOT_FOUND,
        "not_found_error",
        "not_found",
        format!("no client key `{id}`; see GET /api/v1/keys"),
    )
}

fn failure(e: &KeyError) -> Response {
    match e {
        KeyError::Spec(spec) => status_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "invalid_key_spec",
            spec.to_string(),
        ),
        KeyError::Revoked { .. } => status_error(
            StatusCode::CONFLICT,
            "invalid_request_error",
            "key_revoked",
            e.to_string(),
        ),
        KeyError::Random(_) | KeyError::Store(_) => {
            tracing::error!(error = %e, "client key route failed");
            status_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "api_error",
                "store_unavailable",
                e.to_string(),
            )
        }
    }
}
