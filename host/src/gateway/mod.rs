//! The gateway: resolves a request's model to providers ([`resolve`]: an alias walks its list
//! in order, a bare model name the providers that list it by priority), calls each provider's
//! adapter, falls back on provider-side failures, and records lineage ([`walk`]).

mod error;
mod health;
pub mod known;
mod model_lists;
mod observe;
mod provider;
mod refresh;
mod resolve;
mod walk;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub use error::GatewayError;
pub use health::{HealthReport, ProviderHealth};
pub use model_lists::{ListState, ModelLists};
pub use provider::Provider;

use crate::config::Config;
use crate::resilience::{
    BreakerSettings, Breakers, HealthMonitor, Metrics, RequestShape, RetryPolicy,
};
use crate::runtime::bindings::chat as wit;
use crate::runtime::{EventReceiver, InvokeError, Runtime};
use crate::scri::{self, Lineage, convert};

/// Providers, aliases and the runtime, shared by every request.
pub struct Gateway {
    /// The loaded adapters.
    pub runtime: Arc<Runtime>,
    /// The config the server started with.
    pub config: Config,
    /// One circuit breaker per provider.
    pub breakers: Breakers,
    /// Everything counted.
    pub metrics: Metrics,
    /// Who may use admin routes.
    pub admin: crate::server::AdminPolicy,
    /// Tools registered once and exported to any provider (`/api/v1/tools`, agents).
    pub tools: crate::tools::ToolRegistry,
    /// Turns bursts of adapter errors into heal triggers (logged, listed, sent to the webhook).
    pub monitor: HealthMonitor,
    /// The providers' model lists, which bare model names are routed by (kept fresh in the
    /// background: see [`Gateway::start_model_refresh`]).
    pub model_lists: ModelLists,
    retry: RetryPolicy,
    providers: BTreeMap<String, Provider>,
    refresh_now: Arc<tokio::sync::Notify>,
}

/// A streamed answer whose first event has arrived (so fallback was still possible until then).
pub struct OpenStream {
    /// The first event.
    pub first: wit::StreamEvent,
    /// The events after it.
    pub rest: EventReceiver,
    /// Where it comes from; `latency_us` is filled in when the stream ends.
    pub lineage: Lineage,
    /// When the request began, for the final latency.
    pub started: Instant,
}

/// A fresh request id, also written to the logs.
pub fn request_id() -> String {
    format!("req_{}", uuid::Uuid::new_v4().simple())
}

impl Gateway {
    /// Bind every configured provider, reading credentials with `env`.
    pub fn new(
        runtime: Arc<Runtime>,
        config: Config,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let providers = config
            .providers
            .keys()
            .map(|name| (name.clone(), Provider::new(name, &config, env)))
            .collect::<BTreeMap<_, _>>();
        // The providers' base URLs are the operator's (or the host's table): the only origins
        // allowed to resolve to loopback or private space (see runtime::egress).
        runtime.outbound().trust_operator_origins(
            providers
                .values()
                .filter_map(|p| p.base_url())
                .filter_map(|url| crate::runtime::outbound::Origin::parse(&url)),
        );
        let b = &config.breaker;
        let breakers = Breakers::new(
            BreakerSettings {
                failure_threshold: b.failure_threshold,
                window: std::time::Duration::from_secs(b.window_seconds),
                recovery: std::time::Duration::from_secs(b.recovery_seconds),
                half_open_successes: b.half_open_successes,
            },
            config.providers.keys().cloned(),
        );
        let monitor = observe::monitor(&config);
        let r = &config.retry;
        let retry = RetryPolicy {
            max_retries: r.max_retries,
            base: std::time::Duration::from_millis(r.base_delay_ms),
            cap: std::time::Duration::from_millis(r.max_delay_ms),
        };
        Self {
            runtime,
            config,
            breakers,
            metrics: Metrics::new(),
            admin: crate::server::AdminPolicy::default(),
            tools: crate::tools::ToolRegistry::new(),
            monitor,
            model_lists: ModelLists::default(),
            retry,
            providers,
            refresh_now: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// How this gateway retries a provider's transient failures (`[retry]`).
    pub fn retry_policy(&self) -> RetryPolicy {
        self.retry
    }

    /// Every configured provider, by name.
    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.values()
    }

    /// The `(provider, model)` pairs a model reference stands for, in the order to try them
    /// (see [`resolve`] for the order); never empty.
    pub fn targets(&self, reference: &str) -> Result<Vec<(&Provider, String)>, GatewayError> {
        let targets = resolve::resolve(&self.config, &self.model_lists, reference)?;
        Ok(targets
            .into_iter()
            .map(|(name, model)| (&self.providers[name], model))
            .collect())
    }

    /// Answer a chat request.
    pub async fn chat(
        &self,
        request: &scri::ChatRequest,
        request_id: &str,
    ) -> Result<scri::ChatResponse, GatewayError> {
        let (response, lineage) = self
            .walk(
                "chat",
                &request.model,
                request_id,
                &|model| RequestShape::chat(request, "chat", model),
                |env, ctx, model| async move {
                    env.chat(&ctx, &convert::chat_request(request, &model))
                        .await
                },
            )
            .await?;
        Ok(convert::chat_response(response, lineage))
    }

    /// Open a streamed answer. Falls back while no event has reached the client: an error
    /// as the stream's first event still moves on to the next provider.
    pub async fn chat_stream(
        &self,
        request: &scri::ChatRequest,
        request_id: &str,
    ) -> Result<OpenStream, GatewayError> {
        let started = Instant::now();
        let ((first, rest), lineage) = self
            .walk(
                "chat_stream",
                &request.model,
                request_id,
                &|model| RequestShape::chat(request, "chat_stream", model),
                |env, ctx, model| async move {
                    let mut rx = env
                        .chat_stream(&ctx, &convert::chat_request(request, &model))
                        .await?;
                    match rx.recv().await {
                        Some(Ok(wit::StreamEvent::Error(e))) => Err(InvokeError::Adapter(e)),
                        Some(Ok(first)) => Ok((first, rx)),
                        Some(Err(e)) => Err(e),
                        None => Err(InvokeError::Truncated {
                            adapter: env.adapter.info.name.clone(),
                        }),
                    }
                },
            )
            .await?;
        Ok(OpenStream {
            first,
            rest,
            lineage,
            started,
        })
    }

    /// Embed texts.
    pub async fn embed(
        &self,
        request: &scri::EmbedRequest,
        request_id: &str,
    ) -> Result<scri::EmbedResponse, GatewayError> {
        let (response, lineage) = self
            .walk(
                "embed",
                &request.model,
                request_id,
                &|model| RequestShape::embed(request, model),
                |env, ctx, model| async move {
                    env.embed(&ctx, &convert::embed_request(request, &model))
                        .await
                },
            )
            .await?;
        Ok(scri::EmbedResponse {
            model: response.model,
            embeddings: response.embeddings,
            usage: response.usage.map(convert::usage),
            lineage,
        })
    }

    /// Every enabled provider's models, asked concurrently; failures are listed, not fatal.
    /// What the providers answer also refreshes the lists bare model names route by.
    pub async fn models(&self) -> scri::ModelList {
        let request_id = &request_id();
        let calls = self
            .providers
            .values()
            .filter(|p| p.config.enabled)
            .map(|p| async move { (p, self.list_models(p, request_id).await) });
        let mut list = scri::ModelList {
            models: Vec::new(),
            aliases: self.config.aliases.clone(),
            unavailable: Vec::new(),
        };
        for (provider, result) in futures::future::join_all(calls).await {
            let outcome = match &result {
                Ok(models) => Ok(refresh::ids(models)),
                Err(e) => Err(e.to_string()),
            };
            self.record_models(&provider.name, outcome);
            match result {
                Ok(models) => list
                    .models
                    .extend(models.into_iter().map(|m| scri::ModelEntry {
                        id: format!("{}:{}", provider.name, m.id),
                        provider: provider.name.clone(),
                        model: m.id,
                        owned_by: m.owned_by,
                        created: m.created,
                        capabilities: convert::capabilities(m.capabilities),
                    })),
                Err(e) => list.unavailable.push(scri::ProviderProblem {
                    provider: provider.name.clone(),
                    error: e.to_api_error(),
                }),
            }
        }
        list
    }
}
