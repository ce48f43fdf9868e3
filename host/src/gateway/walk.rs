//! The walk over a request's targets ([`super::resolve`]): each provider in turn, its breaker
//! asked first, its transient failures retried (`[retry]`), a provider-side failure falling
//! back to the next target, a caller's own mistake stopping the walk, and every attempt,
//! retries included, written into the lineage.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use super::{Gateway, GatewayError, Provider};
use crate::resilience::{Next, RequestShape, Retries, Why};
use crate::runtime::bindings::provider::CallContext;
use crate::runtime::outbound::UPSTREAM_STATUS;
use crate::runtime::{Adapter, CallEnv, InvokeError};
use crate::scri::{Attempt, Lineage};
use crate::traces::{self, RequestTrace};

/// The request's shape for the health monitor, given the provider's model.
pub(super) type Shape<'s> = &'s (dyn Fn(&str) -> RequestShape + Sync);

/// One request's way through its targets: what was tried so far and the last failure.
struct Walk<'a> {
    route: &'static str,
    reference: &'a str,
    request_id: &'a str,
    started: Instant,
    deadline: Instant,
    attempts: Vec<Attempt>,
    last: Option<GatewayError>,
    trace: Option<&'a RequestTrace>,
}

/// What became of one target.
enum Tried<T> {
    /// It answered, through this adapter.
    Answered(T, Arc<Adapter>),
    /// It failed where another provider may not: on to the next target.
    FallBack,
    /// It failed the way every provider would (the caller's mistake): stop.
    Stop,
}

impl Gateway {
    /// Try each target of `reference` in order until one answers; fall back only on
    /// provider-side failures. A provider's transient failures are retried first (`[retry]`),
    /// each retry an attempt of its own in the lineage. Every adapter error goes to the health
    /// monitor, with the request's shape from `shape`; every attempt gets a span under
    /// `trace`, when the request is traced.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn walk<T, F, Fut>(
        &self,
        route: &'static str,
        reference: &str,
        request_id: &str,
        trace: Option<&RequestTrace>,
        shape: Shape<'_>,
        mut op: F,
    ) -> Result<(T, Lineage), GatewayError>
    where
        F: FnMut(CallEnv, CallContext, String) -> Fut,
        Fut: Future<Output = Result<T, InvokeError>>,
    {
        let started = Instant::now();
        let mut walk = Walk {
            route,
            reference,
            request_id,
            started,
            deadline: started + self.config.server.request_timeout(),
            attempts: Vec::new(),
            last: None,
            trace,
        };
        // A client key limited to some models is refused the others before any routing.
        crate::keys::check_model(reference)
            .map_err(|message| GatewayError::Forbidden { message })?;
        for (provider, model) in self.targets(reference)? {
            match self
                .try_target(&mut walk, provider, &model, shape, &mut op)
                .await
            {
                Tried::Answered(value, adapter) => {
                    return Ok((value, walk.lineage(provider, model, &adapter)));
                }
                Tried::FallBack => continue,
                Tried::Stop => break,
            }
        }
        Err(walk.failure())
    }

    /// Call one target until it answers, fails for good, or has no retry left.
    async fn try_target<T, F, Fut>(
        &self,
        walk: &mut Walk<'_>,
        provider: &Provider,
        model: &str,
        shape: Shape<'_>,
        op: &mut F,
    ) -> Tried<T>
    where
        F: FnMut(CallEnv, CallContext, String) -> Fut,
        Fut: Future<Output = Result<T, InvokeError>>,
    {
        let mut retries = self.retry.start();
        // The last upstream status each attempt saw, for errors that carry none.
        let upstream_status = Arc::new(AtomicU16::new(0));
        loop {
            let t0 = Instant::now();
            if !self.breaker_allows(walk, provider, model, t0) {
                return Tried::FallBack;
            }
            let (outcome, adapter) = self
                .call(provider, model, walk.request_id, &upstream_status, op)
                .await;
            let elapsed = t0.elapsed();
            self.observe(&provider.name, walk.route, &outcome, elapsed, t0);
            let e = match outcome {
                Ok(value) => {
                    walk.attempt(provider, model, "ok", elapsed, None);
                    let adapter = adapter.expect("a call that answered had an adapter");
                    return Tried::Answered(value, adapter);
                }
                Err(e) => e,
            };
            tracing::warn!(request_id = walk.request_id, provider = %provider.name, %model, error = %e, "provider failed");
            walk.attempt(provider, model, e.kind(), elapsed, Some(&e));
            let seen = upstream_status.swap(0, Ordering::Relaxed);
            let failure = Failure {
                adapter: adapter.as_deref(),
                upstream_status: seen,
                at: t0 + elapsed,
            };
            let next =
                self.after_failure(&e, provider, &|| shape(model), failure, &mut retries, walk);
            let falls_back = e.falls_back();
            walk.last = Some(e);
            match next {
                Next::Retry(delay) => self.back_off(walk.request_id, provider, delay).await,
                Next::FallBack(why) if falls_back => {
                    if why != Why::NotTransient && why != Why::OutOfRetries {
                        tracing::info!(request_id = walk.request_id, provider = %provider.name, reason = ?why, "not retrying: falling back");
                    }
                    return Tried::FallBack;
                }
                Next::FallBack(_) => return Tried::Stop,
            }
        }
    }

    /// Whether `provider`'s breaker lets a call through now; a refusal is an attempt of its
    /// own (`circuit_open`).
    fn breaker_allows(
        &self,
        walk: &mut Walk,
        provider: &Provider,
        model: &str,
        at: Instant,
    ) -> bool {
        let (allowed, transition) = self.breakers.allow(&provider.name, at);
        self.note_transition(&provider.name, transition);
        if !allowed {
            tracing::info!(request_id = walk.request_id, provider = %provider.name, "skipped: circuit breaker open");
            let refused = GatewayError::CircuitOpen {
                provider: provider.name.clone(),
            };
            walk.attempt(
                provider,
                model,
                "circuit_open",
                Duration::ZERO,
                Some(&refused),
            );
            walk.last.get_or_insert(refused);
        }
        allowed
    }

    /// One call of `op` on `provider`, recording the upstream statuses it sees; the adapter
    /// it ran in, when it got that far.
    async fn call<T, F, Fut>(
        &self,
        provider: &Provider,
        model: &str,
        request_id: &str,
        upstream_status: &Arc<AtomicU16>,
        op: &mut F,
    ) -> (Result<T, GatewayError>, Option<Arc<Adapter>>)
    where
        F: FnMut(CallEnv, CallContext, String) -> Fut,
        Fut: Future<Output = Result<T, InvokeError>>,
    {
        let (env, ctx) = match provider.call_env(&self.runtime, request_id) {
            Ok(call) => call,
            Err(e) => return (Err(e), None),
        };
        let adapter = env.adapter.clone();
        let result = UPSTREAM_STATUS
            .scope(upstream_status.clone(), op(env, ctx, model.to_owned()))
            .await
            .map_err(|error| GatewayError::Invoke {
                provider: provider.name.clone(),
                error,
            });
        (result, Some(adapter))
    }

    /// Hand an adapter's error to the health monitor and decide what comes next: a retry
    /// after a delay, or falling back (or stopping, which the caller decides by the error).
    fn after_failure(
        &self,
        e: &GatewayError,
        provider: &Provider,
        shape: &dyn Fn() -> RequestShape,
        failure: Failure,
        retries: &mut Retries,
        walk: &Walk,
    ) -> Next {
        let GatewayError::Invoke { error, .. } = e else {
            return Next::FallBack(Why::NotTransient);
        };
        if let Some(adapter) = failure.adapter {
            let seen = (failure.upstream_status != 0).then_some(failure.upstream_status);
            self.note_error(&provider.name, adapter, (error, seen), shape, failure.at);
        }
        if !e.falls_back() {
            return Next::FallBack(Why::NotTransient);
        }
        retries.next(
            error,
            walk.deadline.saturating_duration_since(Instant::now()),
        )
    }

    /// Wait out a retry's backoff, counting the retry.
    async fn back_off(&self, request_id: &str, provider: &Provider, delay: Duration) {
        tracing::info!(request_id, provider = %provider.name, delay_ms = delay.as_millis() as u64, "retrying after a transient failure");
        self.metrics
            .retries
            .with_label_values(&[provider.name.as_str()])
            .inc();
        tokio::time::sleep(delay).await;
    }
}

/// What the health monitor needs to know of a failed call besides the error.
struct Failure<'a> {
    /// The adapter it ran in, when it got that far.
    adapter: Option<&'a Adapter>,
    /// The last upstream status it saw; 0 for none.
    upstream_status: u16,
    /// When it failed.
    at: Instant,
}

impl Walk<'_> {
    /// Note one attempt on `provider`.
    /// Write an attempt into the lineage (and its span, when traced).
    fn attempt(
        &mut self,
        provider: &Provider,
        model: &str,
        outcome: &str,
        took: Duration,
        error: Option<&GatewayError>,
    ) {
        if let Some(trace) = self.trace {
            let base_url = provider.base_url();
            trace.attempt(traces::Attempt {
                provider: &provider.name,
                adapter: &provider.config.adapter,
                base_url: base_url.as_deref(),
                model,
                outcome,
                took,
                number: self.attempts.len() + 1,
                retry: self.attempts.iter().any(|a| a.provider == provider.name),
                error: error.map(ToString::to_string),
            });
        }
        self.attempts.push(Attempt {
            provider: provider.name.clone(),
            model: model.to_owned(),
            outcome: outcome.to_owned(),
            latency_us: took.as_micros() as u64,
        });
    }

    /// The lineage of an answer from `provider` through `adapter`.
    fn lineage(self, provider: &Provider, model: String, adapter: &Adapter) -> Lineage {
        Lineage {
            provider: provider.name.clone(),
            model,
            adapter: adapter.info.name.clone(),
            adapter_version: adapter.info.version.clone(),
            latency_us: self.started.elapsed().as_micros() as u64,
            request_id: self.request_id.to_owned(),
            attempts: self.attempts,
        }
    }

    /// Why no target answered: the one failure, or every attempt and the last failure.
    fn failure(self) -> GatewayError {
        let last = self.last.expect("at least one target was tried");
        if self.attempts.len() == 1 {
            last
        } else {
            GatewayError::Exhausted {
                reference: self.reference.to_owned(),
                attempts: self.attempts,
                last: Box::new(last),
            }
        }
    }
}
