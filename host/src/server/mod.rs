//! The HTTP server: SCRI routes under `/api/v1`, OpenAI-compatible routes under `/v1`, and
//! the OpenAPI document of the SCRI API generated from the same types the handlers use.

mod adapter_routes;
mod admin_routes;
mod agent_routes;
mod anthropic_routes;
pub mod bodies;
mod error;
mod gemini_routes;
mod guard;
mod heal_routes;
mod health_routes;
mod ingress;
mod model_routes;
mod openai_routes;
mod openapi;
mod scri_routes;
mod tool_routes;
mod workers;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::config::Config;
use crate::gateway::{Gateway, GatewayError};
use crate::home::Home;
use crate::runtime::outbound::Outbound;
use crate::runtime::{Runtime, SandboxLimits};
use crate::scri;

pub use admin_routes::AdminPolicy;
pub use error::Failure;

/// The router over a gateway: every route Aratta serves.
pub fn router(gateway: Arc<Gateway>) -> Router {
    let limit = usize::try_from(gateway.config.server.max_body_bytes).unwrap_or(usize::MAX);
    Router::new()
        .route("/api/v1/chat", post(scri_routes::chat))
        .route("/api/v1/embed", post(scri_routes::embed))
        .route("/api/v1/models", get(scri_routes::models))
        .route("/api/v1/health", get(scri_routes::health))
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
        .route(
            "/v1/chat/completions",
            post(openai_routes::chat_completions),
        )
        .route("/v1/embeddings", post(openai_routes::embeddings))
        .route("/v1/models", get(model_routes::list))
        .route(
            "/v1/models/{*rest}",
            get(model_routes::get).post(gemini_routes::call),
        )
        .route("/v1/messages", post(anthropic_routes::messages))
        .route("/v1beta/models", get(gemini_routes::models))
        .route(
            "/v1beta/models/{*rest}",
            get(gemini_routes::model).post(gemini_routes::call),
        )
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

async fn not_found(uri: http::Uri) -> Failure {
    Failure(GatewayError::UnknownModel {
        message: format!(
            "no route {}; see /api/v1/openapi.json for the SCRI API and /v1/* for the OpenAI-compatible one",
            uri.path()
        ),
    })
}

/// Build the runtime and gateway from `config`, load adapters, bind and serve until Ctrl-C.
/// Prints `aratta listening on http://ADDR` on stdout once bound.
pub async fn run(config: Config, home: Home) -> anyhow::Result<()> {
    let gateway = Arc::new(start_gateway(config, &home).await?);
    // Model lists for bare model names load in the background; nothing waits for them.
    gateway.start_model_refresh();
    let ip: std::net::IpAddr = gateway.config.server.host.parse().with_context(|| {
        format!(
            "[server] host {:?} is not an IP address",
            gateway.config.server.host
        )
    })?;
    let addr = SocketAddr::new(ip, gateway.config.server.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let server = gateway.config.server.clone();
    // Hot swaps: the adapters directory is watched from here on (see crate::reload).
    let reload = crate::reload::ReloadManager::new(gateway.clone(), &home);
    // Files overriding a built-in get a hot swap's real call before anything is served.
    reload.verify_overrides().await;
    reload.start();
    // Heal cycles on heal triggers, when [healing] enabled (see crate::heal).
    let heal = crate::heal::HealWorker::new(gateway.clone(), reload.clone(), &home);
    heal.start();
    // Agents (`/api/v1/agents/run`) share one executor: tools, sandbox and audit log.
    // An unusable tools file or audit log disables agents, not the server.
    let agents = crate::agent::setup::executor(&home, &|v| std::env::var(v).ok())
        .inspect_err(|e| tracing::error!(error = %e, "agents are disabled: POST /api/v1/agents/run will refuse runs"))
        .ok();
    if let Some(agents) = &agents {
        pin_agent_tools(&gateway.tools, agents);
    }
    // After the pins, so a saved tool cannot take a built-in's name.
    gateway
        .tools
        .restore(crate::tools::ToolStore::new(home.tools_path()));
    let app = router(gateway)
        .merge(adapter_routes::router(reload))
        .merge(heal_routes::router(heal));
    let app = match agents {
        Some(agents) => app.layer(axum::Extension(Arc::new(agents))),
        None => app,
    };
    // Outermost, so every route (and the fallback) is guarded and limited.
    let ingress = Arc::new(ingress::Ingress::new(bound, &server));
    let app = app.layer(axum::middleware::from_fn_with_state(
        ingress,
        ingress::admit,
    ));
    tracing::info!(address = %bound, "serving");
    println!("aratta listening on http://{bound}");
    workers::serve(listener, app, workers::Limits::new(&server), async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await
}

/// List the agents' tools in the registry, so they are listed and exported to any provider
/// like registered ones; pinned, since deleting them there would not stop the executor
/// running them. A refusal (a name already taken, a rule broken) is logged, never fatal.
fn pin_agent_tools(registry: &crate::tools::ToolRegistry, agents: &crate::agent::Executor) {
    for tool in agents.tools() {
        let owner = match tool.imp {
            crate::agent::executor::ToolImpl::Http { .. } => {
                "the agent executor (an HTTP tool configured in ARATTA_AGENT_TOOLS or <home>/agent-tools.json)"
            }
            _ => "the agent executor (built in)",
        };
        if let Err(e) = registry.register_pinned(tool.def.clone(), owner) {
            tracing::warn!(tool = %tool.def.name, error = %e, "agent tool not listed in the tool registry");
        }
    }
}

/// The runtime with every adapter loaded, and the gateway over it. Problems with single
/// adapters or providers are logged; they never stop the server.
pub async fn start_gateway(config: Config, home: &Home) -> anyhow::Result<Gateway> {
    let behaviour = &config.behaviour;
    let limits = SandboxLimits {
        memory_bytes: usize::try_from(behaviour.adapter_memory_mib << 20).unwrap_or(usize::MAX),
        fuel: behaviour.adapter_fuel,
        max_instances: behaviour.adapter_max_instances,
    };
    let cache_dir = cache_dir(home);
    let outbound = Outbound::new(behaviour.upstream_connect_timeout());
    let local_deadline = std::time::Duration::from_secs(config.reload.verify_timeout_seconds);
    let runtime = Arc::new(
        Runtime::new(limits, Some(cache_dir), outbound)?.with_local_deadline(local_deadline),
    );
    let t0 = std::time::Instant::now();
    runtime.load_all(&home.adapters_dir()).await;
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "adapters loaded"
    );
    let mut gateway = Gateway::new(runtime.clone(), config, &|var| std::env::var(var).ok());
    gateway.admin = AdminPolicy::for_bind(
        &gateway.config.server.host,
        std::env::var("ARATTA_ADMIN_TOKEN").ok(),
    );
    for p in gateway.providers().filter(|p| p.config.enabled) {
        if p.base_url().is_none() {
            tracing::error!(provider = %p.name, adapter = %p.config.adapter, "{}", p.no_base_url());
            continue;
        }
        match runtime.adapter(&p.config.adapter) {
            None => {
                tracing::warn!(provider = %p.name, adapter = %p.config.adapter, "provider's adapter is not loaded; its requests will fail until it is installed")
            }
            Some(a) if a.needs_credential() && !p.has_key() => {
                tracing::warn!(provider = %p.name, env = %p.config.api_key_env, "provider needs an API key; set the variable")
            }
            Some(_) => {
                tracing::info!(provider = %p.name, base_url = ?p.base_url(), "provider ready")
            }
        }
    }
    Ok(gateway)
}

/// Where compiled components are cached: `ARATTA_CACHE_DIR`, else the home's `cache/`.
pub fn cache_dir(home: &Home) -> std::path::PathBuf {
    std::env::var_os("ARATTA_CACHE_DIR")
        .map(Into::into)
        .unwrap_or_else(|| home.cache_dir())
}

/// Fill in the default model and refuse chat requests no provider could answer.
fn validate_chat(gw: &Gateway, request: &mut scri::ChatRequest) -> Result<(), Failure> {
    if request.model.is_empty() {
        match &gw.config.behaviour.default_model {
            Some(model) => request.model = model.clone(),
            None => {
                return Err(error::bad_request(
                    "model: required (name an alias, `provider:model` or a model a provider lists, or set [behaviour] default_model)",
                    Some("model".into()),
                ));
            }
        }
    }
    if request.messages.is_empty() {
        return Err(error::bad_request(
            "messages: must hold at least one message",
            Some("messages".into()),
        ));
    }
    Ok(())
}

/// Bound a request by `[server] request_timeout_seconds`, counted from the end of its headers
/// (the deadline the ingress layer set; reading the body has already used part of it).
async fn with_timeout<T>(
    gw: &Gateway,
    fut: impl Future<Output = Result<T, GatewayError>>,
) -> Result<T, Failure> {
    let limit = gw.config.server.request_timeout();
    let deadline = ingress::DEADLINE
        .try_with(|d| *d)
        .unwrap_or_else(|_| tokio::time::Instant::now() + limit);
    match tokio::time::timeout_at(deadline, fut).await {
        Ok(r) => r.map_err(Failure),
        Err(_) => Err(Failure(GatewayError::Timeout {
            seconds: limit.as_secs(),
        })),
    }
}
