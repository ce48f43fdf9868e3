//! The HTTP server: every dialect's routes ([`crate::dialects::router`]: chat, embeddings,
//! models and health in SCRI, OpenAI's, Anthropic's and Gemini's), the operator's routes under
//! `/api/v1` (the tool registry, agents, adapters, heal cycles, client keys, usage, breakers
//! and metrics), the OpenAPI document of the SCRI API generated from the same types the handlers
//! use, and the ingress guard and connection workers in front of them all. Any other path is a 404
//! `not_found`. The server speaks SCRI to the gateway and never sees WIT.

mod adapter_routes;
mod admin_routes;
mod agent_routes;
pub mod bodies;
mod guard;
mod heal_routes;
mod health_routes;
mod ingress;
mod key_routes;
mod openapi;
mod tool_routes;
mod usage_routes;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::agent::Executor;
use crate::config::ServerConfig;
use crate::gateway::Gateway;
use crate::heal::HealWorker;
use crate::reload::ReloadManager;

pub use admin_routes::{Admin, AdminPolicy};

/// The router over a gateway: every route Aratta serves.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let limit = usize::try_from(gateway.config.server.max_body_bytes).unwrap_or(usize::MAX);
    crate::dialects::router()
        .route("/api/v1/openapi.json", get(openapi::document))
        .route(
            "/api/v1/tools",
            get(tool_routes::list).post(tool_routes::register),
        )
        .route(
            "/api/v1/tools/{name}",
            get(tool_routes::get_tool).delete(tool_routes::delete),
        )
        .route("/api/v1/tools/export/{provider}", get(tool_routes::export))
        .route("/api/v1/tools/import/{provider}", post(tool_routes::import))
        .route("/api/v1/breakers", get(admin_routes::breakers))
        .route(
            "/api/v1/breakers/{provider}/{action}",
            post(admin_routes::set_breaker),
        )
        .route("/api/v1/health/triggers", get(health_routes::triggers))
        .route("/api/v1/metrics", get(admin_routes::metrics_json))
        .route("/metrics", get(admin_routes::prometheus))
        .route("/api/v1/agents/run", post(agent_routes::run))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(limit))
        .with_state(gateway)
}

/// The answer to a path no route serves: 404 `not_found` (not `model_not_found`: no model
/// was named), in the same `{"error": {...}}` shape as every other error.
async fn not_found(uri: http::Uri) -> axum::response::Response {
    let body = crate::scri::ApiErrorBody {
        message: format!(
            "no route {}; see /api/v1/openapi.json for the SCRI API and /v1/* for the OpenAI-compatible one",
            uri.path()
        ),
        kind: "not_found_error".into(),
        param: None,
        code: Some("not_found".into()),
        provider: None,
        upstream_status: None,
    };
    crate::dialects::scri::error_response(http::StatusCode::NOT_FOUND, body)
}

/// Everything the server serves, assembled at start-up by `crate::bootstrap`.
pub struct Services {
    /// Chat, embeddings, models, tools, breakers, metrics.
    pub gateway: Arc<Gateway>,
    /// Adapter versions, rollback and the approval queue.
    pub reload: Arc<ReloadManager>,
    /// Heal cycles.
    pub heal: Arc<HealWorker>,
    /// The agents' executor; `None` when agents are disabled (the route says why).
    pub agents: Option<Arc<Executor>>,
    /// Who may use admin routes.
    pub admin: AdminPolicy,
    /// Client keys: the store and the keys in memory (`/api/v1/keys`).
    pub keys: crate::keys::Keys,
    /// Whether inference requests must carry a client key.
    pub client_keys_required: bool,
    /// Usage records and prices (`/api/v1/usage`, `/api/v1/prices`).
    pub usage: usage_routes::UsageState,
}

pub use usage_routes::UsageState;

/// The whole application: every route, the admin policy, and the ingress guard outermost,
/// so every route (and the fallback) is guarded and limited. `bound` is the listening
/// address, which is the only `Host` a request may name.
pub fn app(services: Services, bound: SocketAddr) -> Router {
    let auth = Arc::new(crate::keys::ClientAuth::new(
        services.keys.ring.clone(),
        services.client_keys_required,
        services.keys.limits.clone(),
    ));
    let ingress = Arc::new(ingress::Ingress::new(
        bound,
        &services.gateway.config.server,
        auth,
        services.gateway.traces().is_some(),
    ));
    let app = router(services.gateway)
        .merge(adapter_routes::router(services.reload))
        .merge(key_routes::router(services.keys))
        .merge(usage_routes::router(services.usage))
        .merge(heal_routes::router(services.heal));
    let app = match services.agents {
        Some(agents) => app.layer(axum::Extension(agents)),
        None => app,
    };
    app.layer(axum::Extension(Arc::new(services.admin))).layer(
        axum::middleware::from_fn_with_state(ingress, ingress::admit),
    )
}

/// Serve `app` on `listener` until `shutdown` resolves, within `[server]`'s connection and
/// concurrency limits.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    server: &ServerConfig,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    workers::serve(listener, app, workers::Limits::new(server), shutdown).await
}
