//! The gateway: resolves a request's model to providers (an alias walks its list in order),
//! calls each provider's adapter, falls back on provider-side failures, and records lineage.

mod error;
mod health;
pub mod known;
mod observe;
mod provider;
mod stream;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Instant;

pub use error::GatewayError;
pub use health::{HealthReport, ProviderHealth};
pub use observe::CallObserver;
pub use provider::Provider;
pub use stream::ChatStream;

use crate::config::{Config, parse_model_ref};
use crate::resilience::{
    BreakerSettings, Breakers, HealthMonitor, Metrics, Next, RequestShape, RetryPolicy, Why,
};
use crate::runtime::bindings::chat as wit;
use crate::runtime::bindings::provider::CallContext;
use crate::runtime::outbound::UPSTREAM_STATUS;
use crate::runtime::{CallEnv, InvokeError, Runtime};
use crate::scri::{self, Attempt, Lineage, convert};

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
    pub tools: crate::tools::ToolRegistry,
    /// Turns bursts of adapter errors into heal triggers (logged, listed, sent to the webhook).
    pub monitor: HealthMonitor,
    retry: RetryPolicy,
    providers: BTreeMap<String, Provider>,
    observers: std::sync::RwLock<Vec<Arc<dyn CallObserver>>>,
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
            tools: crate::tools::ToolRegistry::new(),
            monitor,
            retry,
            providers,
            observers: std::sync::RwLock::new(Vec::new()),
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

    /// The `(provider, model)` pairs a model reference stands for, in the order to try them.
    pub fn targets(&self, reference: &str) -> Result<Vec<(&Provider, String)>, GatewayError> {
        if let Some(entries) = self.config.aliases.get(reference) {
            return Ok(entries
                .iter()
                .filter_map(|e| parse_model_ref(e))
                .filter_map(|(p, m)| self.providers.get(p).map(|p| (p, m.to_owned())))
                .filter(|(p, _)| p.config.enabled)
                .collect());
        }
        let unknown = |what: String| GatewayError::UnknownModel {
            message: format!(
                "{what}; use `provider:model` with a configured provider ({}) or an alias ({})",
                join_or_none(self.providers.keys()),
                join_or_none(self.config.aliases.keys()),
            ),
        };
        let Some((provider, model)) = parse_model_ref(reference) else {
            return Err(unknown(format!(
                "model '{reference}' names no provider and is not an alias"
            )));
        };
        match self.providers.get(provider) {
            Some(p) if p.config.enabled => Ok(vec![(p, model.to_owned())]),
            Some(_) => Err(unknown(format!(
                "provider '{provider}' is disabled in the config"
            ))),
            None => Err(unknown(format!("no provider or alias named '{provider}'"))),
        }
    }

    /// Try each target in order until one answers; fall back only on provider-side failures.
    /// A provider's transient failures are retried first (`[retry]`), each retry an attempt
    /// of its own in the lineage. Every adapter error goes to the health monitor, with the
    /// request's shape from `shape` (given the provider's model).
    async fn walk<T, F, Fut>(
        &self,
        route: &'static str,
        reference: &str,
        request_id: &str,
        shape: &(dyn Fn(&str) -> RequestShape + Sync),
        mut op: F,
    ) -> Result<(T, Lineage), GatewayError>
    where
        F: FnMut(CallEnv, CallContext, String) -> Fut,
        Fut: Future<Output = Result<T, InvokeError>>,
    {
        let started = Instant::now();
        let deadline = started + self.config.server.request_timeout();
        let targets = self.targets(reference)?;
        if targets.is_empty() {
            return Err(GatewayError::UnknownModel {
                message: format!("alias '{reference}' has no enabled provider"),
            });
        }
        let mut attempts = Vec::new();
        let mut last = None;
        'targets: for (provider, model) in targets {
            let mut retries = self.retry.start();
            // The last upstream status each attempt saw, for errors that carry none.
            let upstream_status = Arc::new(AtomicU16::new(0));
            loop {
                let t0 = Instant::now();
                let (allowed, transition) = self.breakers.allow(&provider.name, t0);
                self.note_transition(&provider.name, transition);
                if !allowed {
                    tracing::info!(request_id, provider = %provider.name, "skipped: circuit breaker open");
                    attempts.push(Attempt {
                        provider: provider.name.clone(),
                        model,
                        outcome: "circuit_open".into(),
                        latency_us: 0,
                    });
                    last.get_or_insert(GatewayError::CircuitOpen {
                        provider: provider.name.clone(),
                    });
                    continue 'targets;
                }
                let (outcome, adapter) = match provider.call_env(&self.runtime, request_id) {
                    Ok((env, ctx)) => {
                        let adapter = env.adapter.clone();
                        let call = op(env, ctx, model.clone());
                        let result = UPSTREAM_STATUS
                            .scope(upstream_status.clone(), call)
                            .await
                            .map_err(|error| GatewayError::Invoke {
                                provider: provider.name.clone(),
                                error,
                            });
                        (result, Some(adapter))
                    }
                    Err(e) => (Err(e), None),
                };
                let elapsed = t0.elapsed();
                let latency_us = elapsed.as_micros() as u64;
                self.observe(&provider.name, route, &outcome, elapsed, t0);
                let e = match outcome {
                    Ok(value) => {
                        let adapter = adapter.expect("a call that answered had an adapter");
                        attempts.push(Attempt {
                            provider: provider.name.clone(),
                            model: model.clone(),
                            outcome: "ok".into(),
                            latency_us,
                        });
                        let lineage = Lineage {
                            provider: provider.name.clone(),
                            model,
                            adapter: adapter.info.name.clone(),
                            adapter_version: adapter.info.version.clone(),
                            latency_us: started.elapsed().as_micros() as u64,
                            request_id: request_id.to_owned(),
                            attempts,
                        };
                        return Ok((value, lineage));
                    }
                    Err(e) => e,
                };
                tracing::warn!(request_id, provider = %provider.name, %model, error = %e, "provider failed");
                attempts.push(Attempt {
                    provider: provider.name.clone(),
                    model: model.clone(),
                    outcome: e.kind().to_owned(),
                    latency_us,
                });
                let mut next = Next::FallBack(Why::NotTransient);
                if let GatewayError::Invoke { error, .. } = &e {
                    let seen = upstream_status.swap(0, Ordering::Relaxed);
                    if let Some(adapter) = &adapter {
                        self.note_error(
                            &provider.name,
                            adapter,
                            (error, (seen != 0).then_some(seen)),
                            &|| shape(&model),
                            t0 + elapsed,
                        );
                    }
                    if e.falls_back() {
                        next =
                            retries.next(error, deadline.saturating_duration_since(Instant::now()));
                    }
                }
                let falls_back = e.falls_back();
                last = Some(e);
                match next {
                    Next::Retry(delay) => {
                        tracing::info!(request_id, provider = %provider.name, delay_ms = delay.as_millis() as u64, "retrying after a transient failure");
                        self.metrics
                            .retries
                            .with_label_values(&[provider.name.as_str()])
                            .inc();
                        tokio::time::sleep(delay).await;
                    }
                    Next::FallBack(why) if falls_back => {
                        if why != Why::NotTransient && why != Why::OutOfRetries {
                            tracing::info!(request_id, provider = %provider.name, reason = ?why, "not retrying: falling back");
                        }
                        continue 'targets;
                    }
                    Next::FallBack(_) => break 'targets,
                }
            }
        }
        let last = last.expect("at least one target was tried");
        if attempts.len() == 1 {
            Err(last)
        } else {
            Err(GatewayError::Exhausted {
                reference: reference.to_owned(),
                attempts,
                last: Box::new(last),
            })
        }
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
    ) -> Result<ChatStream, GatewayError> {
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
                    match rx.next().await? {
                        wit::StreamEvent::Error(e) => Err(InvokeError::Adapter(e)),
                        first => Ok((first, rx)),
                    }
                },
            )
            .await?;
        Ok(ChatStream::new(first, rest, lineage, started))
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
    pub async fn models(&self) -> scri::ModelList {
        let request_id = request_id();
        let calls = self
            .providers
            .values()
            .filter(|p| p.config.enabled)
            .map(|p| {
                let request_id = request_id.clone();
                async move {
                    let result = match p.call_env(&self.runtime, &request_id) {
                        Ok((env, ctx)) => {
                            env.models(&ctx)
                                .await
                                .map_err(|error| GatewayError::Invoke {
                                    provider: p.name.clone(),
                                    error,
                                })
                        }
                        Err(e) => Err(e),
                    };
                    (p, result)
                }
            });
        let mut list = scri::ModelList {
            models: Vec::new(),
            aliases: self.config.aliases.clone(),
            unavailable: Vec::new(),
        };
        for (provider, result) in futures::future::join_all(calls).await {
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

fn join_or_none<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none configured".into()
    } else {
        names.join(", ")
    }
}
