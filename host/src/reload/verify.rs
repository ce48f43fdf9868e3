//! Verifying a candidate adapter version before it serves: a real call through it, for every
//! enabled provider it would serve, with that provider's grant and credential. The call is the
//! adapter's `health-check` (for the built-in adapters: the provider's models endpoint), plus a
//! one-message chat when `[reload] verify_chat` names a model for the provider. A provider that
//! cannot be called at all (no credential in the environment) is skipped and said so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use utoipa::ToSchema;

use crate::gateway::{Gateway, GatewayError, request_id};
use crate::runtime::bindings::errors::AdapterError;
use crate::runtime::{Adapter, CallEnv, InvokeError};
use crate::scri::{self, convert};

/// One provider's verdict on a candidate.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProviderCheck {
    /// The provider.
    pub provider: String,
    /// `passed`, `failed` or `skipped`.
    pub outcome: &'static str,
    /// What was called and what came back.
    pub detail: String,
    /// How long it took, in milliseconds.
    pub latency_ms: u64,
}

/// The verdict on a candidate: passed unless a provider's check failed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// Whether the candidate may serve.
    pub passed: bool,
    /// Whether any real call was made (false: nothing could verify it).
    pub verified: bool,
    /// Every provider's check.
    pub checks: Vec<ProviderCheck>,
}

impl Verification {
    /// One line for logs and the history.
    pub fn summary(&self) -> String {
        if self.checks.is_empty() {
            return "not verified: no enabled provider uses this adapter".into();
        }
        let parts: Vec<String> = self
            .checks
            .iter()
            .map(|c| format!("{} {}: {}", c.provider, c.outcome, c.detail))
            .collect();
        parts.join("; ")
    }
}

/// Check `candidate` against every enabled provider configured to use an adapter of its name.
pub async fn verify(
    gateway: &Gateway,
    candidate: &Arc<Adapter>,
    timeout: Duration,
    chat_models: &std::collections::BTreeMap<String, String>,
) -> Verification {
    let name = &candidate.info.name;
    let rid = request_id();
    let checks = gateway
        .providers()
        .filter(|p| p.config.enabled && &p.config.adapter == name)
        .map(|p| {
            let rid = rid.clone();
            async move {
                let t0 = Instant::now();
                let (outcome, detail) = match p.call_env(&gateway.runtime, &rid) {
                    Ok((mut env, ctx)) => {
                        if format!("{:?}", env.adapter.info.auth) != format!("{:?}", candidate.info.auth) {
                            // The grant's credential header follows the serving version's
                            // auth scheme; the candidate expects another.
                            ("failed", format!(
                                "it changes the provider's auth scheme ({:?} to {:?}); install it with a restart",
                                env.adapter.info.auth, candidate.info.auth
                            ))
                        } else {
                            env.adapter = candidate.clone();
                            let model = chat_models.get(&p.name).map(String::as_str);
                            match tokio::time::timeout(timeout, call(&env, &ctx, &p.name, model)).await {
                                Ok(Ok((true, detail))) => ("passed", detail),
                                Ok(Ok((false, detail))) => ("skipped", detail),
                                Ok(Err(e)) => ("failed", e),
                                Err(_) => ("failed", format!("no answer within {} s", timeout.as_secs())),
                            }
                        }
                    }
                    // A brand-new adapter, or no credential: nothing to call it with.
                    Err(e @ (GatewayError::MissingCredential { .. } | GatewayError::NoAdapter { .. } | GatewayError::NoBaseUrl { .. })) => {
                        ("skipped", e.to_string())
                    }
                    Err(e) => ("failed", e.to_string()),
                };
                ProviderCheck {
                    provider: p.name.clone(),
                    outcome,
                    detail,
                    latency_ms: t0.elapsed().as_millis() as u64,
                }
            }
        });
    let checks = futures::future::join_all(checks).await;
    Verification {
        passed: checks.iter().all(|c| c.outcome != "failed"),
        verified: checks.iter().any(|c| c.outcome == "passed"),
        checks,
    }
}

/// The health check, then the chat when a model is configured; `Ok` says whether a real call
/// was made and what answered.
async fn call(
    env: &CallEnv,
    ctx: &crate::runtime::bindings::provider::CallContext,
    provider: &str,
    chat_model: Option<&str>,
) -> Result<(bool, String), String> {
    let describe = |error: InvokeError| {
        GatewayError::Invoke {
            provider: provider.to_owned(),
            error,
        }
        .to_string()
    };
    let mut detail = match env.health(ctx).await {
        Ok(report) => format!(
            "health-check answered ({} models)",
            report.model_count.map_or("?".into(), |n| n.to_string())
        ),
        // An adapter without a health check is judged by the chat alone, if there is one.
        Err(InvokeError::Adapter(AdapterError::Unsupported(_))) if chat_model.is_some() => {
            "no health-check".to_owned()
        }
        Err(InvokeError::Adapter(AdapterError::Unsupported(_))) => {
            return Ok((false, "it has no health-check and [reload] verify_chat names no model for this provider: only loaded and described".into()));
        }
        Err(e) => return Err(format!("health-check failed: {}", describe(e))),
    };
    if let Some(model) = chat_model {
        let request: scri::ChatRequest = serde_json::from_value(serde_json::json!({
            "model": model,
            "messages": [{"role": "user", "content": "ping"}],
            "max_tokens": 1,
        }))
        .expect("a valid chat request");
        match env.chat(ctx, &convert::chat_request(&request, model)).await {
            Ok(_) => detail.push_str(&format!(", chat with {model} answered")),
            Err(e) => {
                return Err(format!(
                    "{detail}, but chat with {model} failed: {}",
                    describe(e)
                ));
            }
        }
    }
    Ok((true, detail))
}
