//! Tool registry routes: `GET/POST /api/v1/tools`, `GET/DELETE /api/v1/tools/{name}`,
//! `GET /api/v1/tools/export/{provider}` and `POST /api/v1/tools/import/{provider}`. The
//! provider's own adapter does every translation; errors have the SCRI API's shape.
//!
//! Registering, importing and deleting change what every client and agent of the server sees,
//! so they are admin actions: beyond loopback they need `Authorization: Bearer
//! $ARATTA_ADMIN_TOKEN`. Listing and exporting are open.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::gateway::Gateway;
use crate::scri::{ApiError, ApiErrorBody};
use crate::tools::{OnConflict, Tier, ToolDef, ToolError, TranslationFailure, Translator};

use super::admin_routes::Admin;
use crate::dialects::scri::{bad_request, error_response, parse_json};

/// The tool routes in the OpenAPI document (merged into the SCRI API's).
#[derive(OpenApi)]
#[openapi(
    paths(list, register, get_tool, delete, export, import),
    components(schemas(ToolDef, Tier, ToolList))
)]
pub struct ToolApi;

/// Registered tools, in registration order.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ToolList {
    /// The tools.
    pub tools: Vec<ToolDef>,
}

/// `?replace=true`: a tool whose name is registered with a different definition replaces it
/// instead of being refused.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RegisterParams {
    /// Replace registered tools of the same name (default false: a different definition under
    /// a taken name is refused).
    #[serde(default)]
    pub replace: bool,
}

/// Options of an import.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ImportParams {
    /// The permission tier the imported tools require (default: a registered tool's own,
    /// `standard` for a new one).
    #[serde(default)]
    #[param(value_type = Option<String>)]
    pub tier: Option<Tier>,
    /// Replace registered tools of the same name (default false: a different definition under
    /// a taken name is refused).
    #[serde(default)]
    pub replace: bool,
}

/// Which tools to export.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ExportParams {
    /// Comma-separated tool names, in the order wanted (default: every tool).
    #[serde(default)]
    pub tools: Option<String>,
}

/// A SCRI 400 naming what is wrong with the query string (axum's own rejection is plain text).
fn bad_query(e: QueryRejection) -> Response {
    bad_request(&format!("query string: {}", e.body_text()), None).into_response()
}

fn conflict(replace: bool) -> OnConflict {
    if replace {
        OnConflict::Replace
    } else {
        OnConflict::Refuse
    }
}

/// A registry failure as an HTTP answer.
pub struct ToolFailure(pub ToolError);

impl From<ToolError> for ToolFailure {
    fn from(e: ToolError) -> Self {
        ToolFailure(e)
    }
}

impl IntoResponse for ToolFailure {
    fn into_response(self) -> Response {
        let (status, body) = api_error(&self.0);
        error_response(status, body)
    }
}

/// The status and `{"error": ...}` body for a registry failure.
pub fn api_error(e: &ToolError) -> (StatusCode, ApiErrorBody) {
    use StatusCode as S;
    let (status, kind, code, param, provider) = match e {
        ToolError::Invalid { rule, .. } => (
            S::BAD_REQUEST,
            "invalid_request_error",
            rule.code(),
            Some(rule.field()),
            None,
        ),
        ToolError::Duplicate { .. } => (
            S::CONFLICT,
            "invalid_request_error",
            "tool_exists",
            Some("name"),
            None,
        ),
        ToolError::Pinned { .. } => (
            S::CONFLICT,
            "invalid_request_error",
            "tool_pinned",
            Some("name"),
            None,
        ),
        ToolError::NotFound { .. } => (
            S::NOT_FOUND,
            "not_found_error",
            "tool_not_found",
            Some("name"),
            None,
        ),
        ToolError::UnknownProvider { name, .. } => (
            S::NOT_FOUND,
            "not_found_error",
            "provider_not_found",
            Some("provider"),
            Some(name.clone()),
        ),
        ToolError::AdapterNotLoaded { provider, .. } => (
            S::SERVICE_UNAVAILABLE,
            "provider_unavailable_error",
            "adapter_not_loaded",
            None,
            Some(provider.clone()),
        ),
        ToolError::Adapter { adapter, error, .. } => {
            let (status, kind, code) = match TranslationFailure::of(error) {
                TranslationFailure::Rejected => (
                    S::BAD_REQUEST,
                    "invalid_request_error",
                    "tool_translation_rejected",
                ),
                TranslationFailure::Unsupported => (
                    S::BAD_REQUEST,
                    "unsupported_error",
                    "tool_translation_unsupported",
                ),
                TranslationFailure::Trapped => (S::BAD_GATEWAY, "adapter_error", "adapter_trapped"),
                TranslationFailure::TimedOut => {
                    (S::GATEWAY_TIMEOUT, "timeout_error", "adapter_timeout")
                }
                TranslationFailure::Overloaded => (
                    S::SERVICE_UNAVAILABLE,
                    "overloaded_error",
                    "instance_pool_exhausted",
                ),
                TranslationFailure::Failed => {
                    (S::BAD_GATEWAY, "adapter_error", "tool_translation_failed")
                }
            };
            (status, kind, code, None, Some(adapter.clone()))
        }
        ToolError::NotSaved { .. } => (
            S::INTERNAL_SERVER_ERROR,
            "server_error",
            "tool_registry_not_saved",
            None,
            None,
        ),
        ToolError::AdapterOutput { adapter, .. } => (
            S::BAD_GATEWAY,
            "adapter_error",
            "adapter_invalid",
            None,
            Some(adapter.clone()),
        ),
    };
    let body = ApiErrorBody {
        message: e.to_string(),
        kind: kind.to_owned(),
        param: param.map(str::to_owned),
        code: Some(code.to_owned()),
        provider,
        upstream_status: None,
    };
    (status, body)
}

/// Every registered tool.
#[utoipa::path(get, path = "/api/v1/tools", responses((status = 200, body = ToolList)))]
pub async fn list(State(gw): State<Arc<Gateway>>) -> Json<ToolList> {
    Json(ToolList {
        tools: gw.tools.list(),
    })
}

/// Register a tool, or an array of tools (all or none). Refusals name the tool and the rule.
/// A tool identical to the registered one of its name (same name, tier and description, and
/// `parameters` equal as JSON whatever the key order) is a no-op, not a conflict.
#[utoipa::path(post, path = "/api/v1/tools", params(RegisterParams),
    request_body(content = ToolDef, description = "A tool, or an array of tools"),
    responses(
        (status = 201, description = "What was registered", body = ToolList),
        (status = 400, description = "A definition breaks a rule (named in the message)", body = ApiError),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
        (status = 409, description = "A name is already registered with a different definition", body = ApiError),
    ))]
pub async fn register(
    _admin: Admin,
    State(gw): State<Arc<Gateway>>,
    params: Result<Query<RegisterParams>, QueryRejection>,
    body: Bytes,
) -> Result<(StatusCode, Json<ToolList>), Response> {
    let Query(params) = params.map_err(bad_query)?;
    let defs = super::bodies::tool_defs(&body).map_err(IntoResponse::into_response)?;
    let tools = gw
        .tools
        .register_all(defs, conflict(params.replace))
        .await
        .map_err(|e| ToolFailure(e).into_response())?;
    tracing::info!(tools = ?tools.iter().map(|d| &d.name).collect::<Vec<_>>(), "tools registered");
    Ok((StatusCode::CREATED, Json(ToolList { tools })))
}

/// One registered tool.
#[utoipa::path(get, path = "/api/v1/tools/{name}",
    responses((status = 200, body = ToolDef), (status = 404, body = ApiError)))]
pub async fn get_tool(
    State(gw): State<Arc<Gateway>>,
    Path(name): Path<String>,
) -> Result<Json<ToolDef>, ToolFailure> {
    gw.tools
        .get(&name)
        .map(Json)
        .ok_or(ToolFailure(ToolError::NotFound { tool: name }))
}

/// Unregister a tool; answers with what was registered.
#[utoipa::path(delete, path = "/api/v1/tools/{name}",
    responses((status = 200, body = ToolDef), (status = 401, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "The tool is provided by the agent executor", body = ApiError)))]
pub async fn delete(
    _admin: Admin,
    State(gw): State<Arc<Gateway>>,
    Path(name): Path<String>,
) -> Result<Json<ToolDef>, Response> {
    let removed = gw
        .tools
        .remove(&name)
        .await
        .map_err(|e| ToolFailure(e).into_response())?;
    tracing::info!(tool = %name, "tool removed");
    Ok(Json(removed))
}

/// The registered tools in a provider's native format (a configured provider's name or an
/// adapter's), written by its adapter: e.g. Anthropic `[{"name","description","input_schema"}]`,
/// OpenAI `[{"type":"function","function":{...}}]`, Gemini `[{"name","description","parametersJsonSchema"}]`.
#[utoipa::path(get, path = "/api/v1/tools/export/{provider}", params(ExportParams),
    responses(
        (status = 200, description = "The provider's native tool definitions", body = Object),
        (status = 404, description = "No such provider, adapter or tool", body = ApiError),
        (status = 502, description = "The adapter failed", body = ApiError),
    ))]
pub async fn export(
    State(gw): State<Arc<Gateway>>,
    Path(provider): Path<String>,
    params: Result<Query<ExportParams>, QueryRejection>,
) -> Result<Json<Value>, Response> {
    let Query(params) = params.map_err(bad_query)?;
    let tools = match &params.tools {
        Some(names) => {
            let names: Vec<&str> = names
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            gw.tools
                .select(&names)
                .map_err(|e| ToolFailure(e).into_response())?
        }
        None => gw.tools.list(),
    };
    let translator = Translator::new(&gw.runtime, &gw.config);
    let native = translator
        .export(&provider, &tools)
        .await
        .map_err(|e| ToolFailure(e).into_response())?;
    Ok(Json(native))
}

/// Register the tools in a provider's native format (the body, as that provider takes them),
/// parsed by its adapter. All or none; refusals name the tool and the rule. A tool identical
/// to the registered one is a no-op; without `?tier=` a registered tool's tier is kept (the
/// native formats carry none), so an export imported back, built-in tools included, succeeds.
#[utoipa::path(post, path = "/api/v1/tools/import/{provider}", params(ImportParams),
    request_body(content = Object, description = "The provider's native tool definitions"),
    responses(
        (status = 201, description = "What was registered", body = ToolList),
        (status = 400, description = "The body is not the provider's tool format, or a tool breaks a rule", body = ApiError),
        (status = 401, description = "Beyond loopback: the admin token is missing or wrong", body = ApiError),
        (status = 404, description = "No such provider or adapter", body = ApiError),
        (status = 409, description = "A name is already registered with a different definition", body = ApiError),
    ))]
pub async fn import(
    _admin: Admin,
    State(gw): State<Arc<Gateway>>,
    Path(provider): Path<String>,
    params: Result<Query<ImportParams>, QueryRejection>,
    body: Bytes,
) -> Result<(StatusCode, Json<ToolList>), Response> {
    let Query(params) = params.map_err(bad_query)?;
    let _: serde::de::IgnoredAny = parse_json(&body).map_err(IntoResponse::into_response)?;
    // parse_json accepted it, so it is JSON and therefore UTF-8.
    let native = std::str::from_utf8(&body).map_err(|e| {
        bad_request(&format!("the request body is not UTF-8: {e}"), None).into_response()
    })?;
    let translator = Translator::new(&gw.runtime, &gw.config);
    let tools = gw
        .tools
        .import(
            &translator,
            &provider,
            native,
            params.tier,
            conflict(params.replace),
        )
        .await
        .map_err(|e| ToolFailure(e).into_response())?;
    tracing::info!(%provider, tools = ?tools.iter().map(|d| &d.name).collect::<Vec<_>>(), "tools imported");
    Ok((StatusCode::CREATED, Json(ToolList { tools })))
}
