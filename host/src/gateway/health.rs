//! `GET /api/v1/health`: the state of every configured provider, checked concurrently with
//! each adapter's `health-check` (the provider's models endpoint).

use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

use super::{Gateway, GatewayError, request_id};

/// The server's view of its providers. The server is up whenever this is served.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthReport {
    /// Always `ok`: the server answers.
    pub status: &'static str,
    /// Aratta's version.
    pub version: &'static str,
    /// One entry per configured provider.
    pub providers: Vec<ProviderHealth>,
}

/// One provider's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderHealth {
    /// The provider's name.
    pub provider: String,
    /// Whether the config enables it.
    pub enabled: bool,
    /// The adapter it uses.
    pub adapter: String,
    /// That adapter's version, when it is loaded.
    pub adapter_version: Option<String>,
    /// Where the adapter came from, when it is loaded.
    pub adapter_source: Option<String>,
    /// The base URL in use.
    pub base_url: Option<String>,
    /// `present`, `absent` (optional) or `missing` (required).
    pub credential: &'static str,
    /// Whether the provider answered its health check.
    pub reachable: bool,
    /// How long the check took, in milliseconds.
    pub latency_ms: Option<u64>,
    /// What went wrong, when something did.
    pub error: Option<String>,
}

/// How long one provider's check may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

impl Gateway {
    /// Check every provider concurrently.
    pub async fn health(&self) -> HealthReport {
        let request_id = request_id();
        let checks = self.providers().map(|p| {
            let request_id = request_id.clone();
            async move {
                let adapter = self.runtime.adapter(&p.config.adapter);
                let mut health = ProviderHealth {
                    provider: p.name.clone(),
                    enabled: p.config.enabled,
                    adapter: p.config.adapter.clone(),
                    adapter_version: adapter.as_ref().map(|a| a.info.version.clone()),
                    adapter_source: adapter.as_ref().map(|a| a.source.to_string()),
                    base_url: p.base_url(),
                    credential: match (
                        p.has_key(),
                        adapter.as_ref().is_some_and(|a| a.needs_credential()),
                    ) {
                        (true, _) => "present",
                        (false, true) => "missing",
                        (false, false) => "absent",
                    },
                    reachable: false,
                    latency_ms: None,
                    error: None,
                };
                if !p.config.enabled {
                    return health;
                }
                let t0 = Instant::now();
                let result = match p.call_env(&self.runtime, &request_id) {
                    Ok((env, ctx)) => {
                        match tokio::time::timeout(CHECK_TIMEOUT, env.health(&ctx)).await {
                            Ok(r) => r.map(|_| ()).map_err(|error| GatewayError::Invoke {
                                provider: p.name.clone(),
                                error,
                            }),
                            Err(_) => Err(GatewayError::Timeout {
                                seconds: CHECK_TIMEOUT.as_secs(),
                            }),
                        }
                    }
                    Err(e) => Err(e),
                };
                health.latency_ms = Some(t0.elapsed().as_millis() as u64);
                match result {
                    Ok(()) => health.reachable = true,
                    Err(e) => health.error = Some(e.to_string()),
                }
                health
            }
        });
        HealthReport {
            status: "ok",
            version: env!("CARGO_PKG_VERSION"),
            providers: futures::future::join_all(checks).await,
        }
    }
}
