//! Start-up, in one place: build the runtime and load the adapters, bind the gateway to the
//! configured providers, start the reload manager, the heal worker and the agents' executor,
//! and hand them to the server. The top of the host's layers: it may use every module, and
//! no module below uses it (commands call it; see the layer check in `host/tests/layers.rs`).

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;

use crate::config::Config;
use crate::gateway::Gateway;
use crate::home::Home;
use crate::runtime::outbound::Outbound;
use crate::runtime::{Runtime, SandboxLimits};
use crate::server::{self, AdminPolicy, Services};

/// Build everything from `config`, bind and serve until Ctrl-C. Prints
/// `aratta listening on http://ADDR` on stdout once bound.
pub async fn serve(config: Config, home: Home) -> anyhow::Result<()> {
    // The store first: a server that cannot check client keys must not start serving.
    let keys = open_keys(&config, &home).await?;
    let gateway = Arc::new(start_gateway(config, &home).await?);
    // Every request's usage, priced and written in batches off the request path.
    let prices = crate::usage::Prices::new(
        gateway
            .config
            .prices
            .iter()
            .map(|(reference, price)| (reference.clone(), *price)),
    );
    let retention = gateway.config.store.usage_retention_days;
    let recorder = crate::usage::UsageRecorder::start(
        keys.store.clone(),
        prices.clone(),
        &gateway.metrics,
        crate::usage::RecorderSettings {
            retention: (retention > 0).then(|| std::time::Duration::from_secs(retention * 86_400)),
            ..Default::default()
        },
        Some(keys.limits.clone()),
    );
    gateway.record_usage(recorder.clone());
    // Traces, when [traces] endpoint is set: a span per request and attempt, per heal cycle.
    let traces =
        crate::traces::Traces::start(&gateway.config.traces, tokio::runtime::Handle::current())?
            .map(Arc::new);
    if let Some(traces) = &traces {
        tracing::info!(endpoint = %traces.endpoint(), "exporting traces over OTLP/HTTP");
        gateway.trace_with(traces.clone());
    }
    // Model lists for bare model names load in the background; nothing waits for them.
    gateway.start_model_refresh();
    let settings = gateway.config.server.clone();
    let ip: std::net::IpAddr = settings
        .host
        .parse()
        .with_context(|| format!("[server] host {:?} is not an IP address", settings.host))?;
    let addr = SocketAddr::new(ip, settings.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    // Hot swaps: the adapters directory is watched from here on (see crate::reload).
    let reload = crate::reload::ReloadManager::new(gateway.clone(), &home, keys.store.clone());
    reload.import_legacy().await;
    // Files overriding a built-in get a hot swap's real call before anything is served.
    reload.verify_overrides().await;
    reload.start();
    // Servers on one store follow each other's swaps (see crate::reload).
    reload.share_through(
        keys.store.clone(),
        keys.limits.replica().to_owned(),
        std::time::Duration::from_secs(1),
    );
    // Heal cycles on heal triggers, when [healing] enabled (see crate::heal).
    let heal =
        crate::heal::HealWorker::new(gateway.clone(), reload.clone(), &home, keys.store.clone());
    heal.start().await;
    // Agents (`/api/v1/agents/run`) share one executor: tools, sandbox and audit log.
    // An unusable tools file or audit log disables agents, not the server.
    let agents = crate::agent::setup::executor(&home, &|v| std::env::var(v).ok())
        .inspect_err(|e| tracing::error!(error = %e, "agents are disabled: POST /api/v1/agents/run will refuse runs"))
        .ok()
        .map(Arc::new);
    if let Some(agents) = &agents {
        pin_agent_tools(&gateway.tools, agents);
    }
    // After the pins, so a saved tool cannot take a built-in's name.
    let legacy_tools = crate::tools::ToolsFile::new(home.tools_path());
    gateway
        .tools
        .restore(keys.store.clone(), &legacy_tools)
        .await;
    gateway
        .tools
        .start_refresh(std::time::Duration::from_secs(1));
    let admin = AdminPolicy::for_bind(&settings.host, std::env::var("ARATTA_ADMIN_TOKEN").ok());
    let client_keys_required = settings.client_keys_required();
    if !client_keys_required && !ip.is_loopback() {
        tracing::warn!(host = %ip, "[server] require_client_keys = false on a server beyond loopback: anyone who reaches it spends your provider keys");
    }
    tracing::info!(
        required = client_keys_required,
        keys = keys.ring.len(),
        store = %keys.store.location(),
        "client keys"
    );
    let (key_limits, store) = (keys.limits.clone(), keys.store.clone());
    let services = Services {
        gateway,
        reload,
        heal,
        agents,
        admin,
        usage: server::UsageState {
            store: keys.store.clone(),
            recorder: recorder.clone(),
            prices,
        },
        keys,
        client_keys_required,
    };
    let app = server::app(services, bound);
    tracing::info!(address = %bound, "serving");
    println!("aratta listening on http://{bound}");
    let served = server::serve(listener, app, &settings, async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    })
    .await;
    // What the recorder still holds goes to the store before the process ends.
    if !recorder.flush(std::time::Duration::from_secs(5)).await {
        tracing::warn!("usage records still queued at shutdown were not all written");
    }
    // The keys' last counts too, so the next run (or the other servers) hold them to them.
    let last_sync = key_limits.sync(&store, crate::clock::unix_millis());
    match tokio::time::timeout(std::time::Duration::from_secs(5), last_sync).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, "the client keys' last counts were not written"),
        Err(_) => tracing::warn!("the client keys' last counts were not written in 5 s"),
    }
    // And the spans still batched go to the collector (the exporter sends from this runtime).
    if let Some(traces) = traces {
        let _ = tokio::task::spawn_blocking(move || traces.shutdown()).await;
    }
    served
}

/// The store (`[store] url`, else `<home>/aratta.db`) and the client keys in it, kept fresh
/// every second (keys made or revoked by `aratta keys` or another server on the store).
pub async fn open_keys(config: &Config, home: &Home) -> anyhow::Result<crate::keys::Keys> {
    let store = open_store(config, home).await?;
    let ring = Arc::new(crate::keys::KeyRing::load(store.clone()).await?);
    ring.start_refresh(std::time::Duration::from_secs(1));
    // The limits start from what every server sharing the store (and this one's earlier runs)
    // counted, then stay in step with them.
    let limits = Arc::new(crate::keys::Limits::new());
    limits.sync(&store, crate::clock::unix_millis()).await?;
    limits.start_sync(store.clone(), std::time::Duration::from_secs(1));
    Ok(crate::keys::Keys {
        store,
        ring,
        limits,
    })
}

/// The store `[store] url` names (else `<home>/aratta.db`), opened and migrated.
pub async fn open_store(config: &Config, home: &Home) -> anyhow::Result<crate::store::Store> {
    let location = crate::store::Location::parse(config.store.url.as_deref(), &home.store_path())?;
    Ok(crate::store::Store::connect(&location).await?)
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
    let runtime = Arc::new(start_runtime(&config, home)?);
    let t0 = std::time::Instant::now();
    runtime.load_all(&home.adapters_dir()).await;
    tracing::info!(
        elapsed_ms = t0.elapsed().as_millis() as u64,
        "adapters loaded"
    );
    let gateway = Gateway::new(runtime.clone(), config, &|var| std::env::var(var).ok());
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

/// The runtime `[behaviour]` describes, with no adapter loaded yet.
fn start_runtime(config: &Config, home: &Home) -> anyhow::Result<Runtime> {
    let behaviour = &config.behaviour;
    let limits = SandboxLimits {
        memory_bytes: usize::try_from(behaviour.adapter_memory_mib << 20).unwrap_or(usize::MAX),
        fuel: behaviour.adapter_fuel,
        max_instances: behaviour.adapter_max_instances,
    };
    let cache_dir = home.component_cache(&|v| std::env::var(v).ok());
    let outbound = Outbound::new(behaviour.upstream_connect_timeout());
    let local_deadline = std::time::Duration::from_secs(config.reload.verify_timeout_seconds);
    Ok(Runtime::new(limits, Some(cache_dir), outbound)?.with_local_deadline(local_deadline))
}
