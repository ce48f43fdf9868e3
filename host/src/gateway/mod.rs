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
mod stream;
mod usage;
mod walk;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

pub use error::GatewayError;
pub use health::{HealthReport, ProviderHealth};
pub use model_lists::{ListState, ModelLists};
pub use observe::CallObserver;
pub use provider::Provider;
pub use stream::ChatStream;
pub use usage::Ticket;

use crate::config::Config;
use crate::resilience::{
    BreakerSettings, Breakers, HealthMonitor, Metrics, RequestShape, RetryPolicy,
};
use crate::runtime::bindings::chat as wit;
use crate::runtime::{InvokeError, Runtime};
use crate::scri::{self, convert};

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
    /// Tools registered once and exported to any provider (`/api/v1/tools`, agents).
    pub tools: Arc<crate::tools::ToolRegistry>,
    /// Turns bursts of adapter errors into heal triggers (logged, listed, sent to the webhook).
    pub monitor: HealthMonitor,
    /// The providers' model lists, which bare model names are routed by (kept fresh in the
    /// background: see [`Gateway::start_model_refresh`]).
    pub model_lists: ModelLists,
    retry: RetryPolicy,
    providers: BTreeMap<String, Provider>,
    observers: std::sync::RwLock<Vec<Arc<dyn CallObserver>>>,
    refresh_now: Arc<tokio::sync::Notify>,
    usage: std::sync::OnceLock<Arc<crate::usage::UsageRecorder>>,
    traces: std::sync::OnceLock<Arc<crate::traces::Traces>>,
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
            metrics: observe::metrics(providers.keys()),
            tools: Arc::new(crate::tools::ToolRegistry::new()),
            monitor,
            model_lists: ModelLists::default(),
            retry,
            providers,
            observers: std::sync::RwLock::new(Vec::new()),
            refresh_now: Arc::new(tokio::sync::Notify::new()),
            usage: std::sync::OnceLock::new(),
            traces: std::sync::OnceLock::new(),
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

    /// Fill in `[behaviour] default_model` when the request names no model, and refuse a
    /// request no provider could answer. Every dialect calls this before [`Gateway::chat`]
    /// or [`Gateway::chat_stream`], so all of them default and refuse alike.
    pub fn prepare_chat(&self, request: &mut scri::ChatRequest) -> Result<(), GatewayError> {
        if request.model.is_empty() {
            match &self.config.behaviour.default_model {
                Some(model) => request.model = model.clone(),
                None => {
                    return Err(GatewayError::BadRequest {
                        message: "model: required (name `provider:model` or an alias, or set [behaviour] default_model)".into(),
                        param: Some("model".into()),
                    });
                }
            }
        }
        if request.messages.is_empty() {
            return Err(GatewayError::BadRequest {
                message: "messages: must hold at least one message".into(),
                param: Some("messages".into()),
            });
        }
        Ok(())
    }

    /// Bound a request by `[server] request_timeout_seconds`: `call` must be answered by
    /// `deadline` (the server's, counted from the end of the request's headers), else by that
    /// long from now. A request that runs out answers [`GatewayError::Timeout`].
    pub async fn bounded<T>(
        &self,
        deadline: Option<tokio::time::Instant>,
        call: impl Future<Output = Result<T, GatewayError>>,
    ) -> Result<T, GatewayError> {
        let limit = self.config.server.request_timeout();
        let deadline = deadline.unwrap_or_else(|| tokio::time::Instant::now() + limit);
        match tokio::time::timeout_at(deadline, call).await {
            Ok(answer) => answer,
            Err(_) => Err(GatewayError::Timeout {
                seconds: limit.as_secs(),
            }),
        }
    }

    /// Answer a chat request.
    pub async fn chat(
        &self,
        request: &scri::ChatRequest,
        request_id: &str,
    ) -> Result<scri::ChatResponse, GatewayError> {
        let ticket = self.ticket("chat", &request.model, request_id);
        let walked = self
            .walk(
                "chat",
                &request.model,
                request_id,
                ticket.as_ref().and_then(Ticket::trace),
                &|model| RequestShape::chat(request, "chat", model),
                |env, ctx, model| async move {
                    env.chat(&ctx, &convert::chat_request(request, &model))
                        .await
                },
            )
            .await;
        let answer = walked.map(|(response, lineage)| convert::chat_response(response, lineage));
        if let Some(ticket) = ticket {
            match &answer {
                Ok(a) => ticket.answered(&a.lineage, a.usage.as_ref(), "ok"),
                Err(e) => ticket.failed(e),
            }
        }
        answer
    }

    /// Open a streamed answer. Falls back while no event has reached the client: an error
    /// as the stream's first event still moves on to the next provider.
    pub async fn chat_stream(
        &self,
        request: &scri::ChatRequest,
        request_id: &str,
    ) -> Result<ChatStream, GatewayError> {
        let started = Instant::now();
        let ticket = self.ticket("chat_stream", &request.model, request_id);
        let walked = self
            .walk(
                "chat_stream",
                &request.model,
                request_id,
                ticket.as_ref().and_then(Ticket::trace),
                &|model| RequestShape::chat(request, "chat_stream", model),
                |env, ctx, model| async move {
                    let mut rx = env
                        .chat_stream(&ctx, &convert::chat_request(request, &model))
                        .await?;
                    match rx.next().await? {
                        wit::StreamEvent::Error(e) => Err(InvokeError::Adapter(e)),
                        first => Ok((first, rx)),
                    }
                },
            )
            .await;
        match walked {
            Ok(((first, rest), lineage)) => {
                Ok(ChatStream::new(first, rest, lineage, started, ticket))
            }
            Err(e) => {
                if let Some(ticket) = ticket {
                    ticket.failed(&e);
                }
                Err(e)
            }
        }
    }

    /// Embed texts.
    pub async fn embed(
        &self,
        request: &scri::EmbedRequest,
        request_id: &str,
    ) -> Result<scri::EmbedResponse, GatewayError> {
        let ticket = self.ticket("embed", &request.model, request_id);
        let walked = self
            .walk(
                "embed",
                &request.model,
                request_id,
                ticket.as_ref().and_then(Ticket::trace),
                &|model| RequestShape::embed(request, model),
                |env, ctx, model| async move {
                    env.embed(&ctx, &convert::embed_request(request, &model))
                        .await
                },
            )
            .await;
        let answer = walked.map(|(response, lineage)| scri::EmbedResponse {
            model: response.model,
            embeddings: response.embeddings,
            usage: response.usage.map(convert::usage),
            lineage,
        });
        if let Some(ticket) = ticket {
            match &answer {
                Ok(a) => ticket.answered(&a.lineage, a.usage.as_ref(), "ok"),
                Err(e) => ticket.failed(e),
            }
        }
        answer
    }

    /// Every enabled provider's models and the aliases (those the request's client key may ask
    /// for), asked concurrently; failures are listed, not fatal. What the providers answer also
    /// refreshes the lists bare model names route by, whoever asks.
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
        // A client key limited to some models is shown only the names it may ask for.
        let may_ask = |name: &str| crate::keys::check_model(name).is_ok();
        list.models.retain(|m| may_ask(&m.id) || may_ask(&m.model));
        list.aliases.retain(|alias, _| may_ask(alias));
        list
    }
}
