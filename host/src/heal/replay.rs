//! The real call that proves a fix: the operation that failed (chat, stream, embed or models),
//! on the same provider and model, with a synthetic message, through a given adapter version.
//! A candidate is a fix only when it succeeds where the serving version still fails; a
//! candidate that compiles and passes a health check but not this is refused.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::cycle::{MAX_KEPT_TEXT, bounded};
use crate::gateway::{Gateway, GatewayError, request_id};
use crate::runtime::bindings::chat::StreamEvent;
use crate::runtime::{Adapter, InvokeError};
use crate::scri::{self, convert};

/// What the failing request looked like, as far as the replay needs it.
#[derive(Debug, Clone)]
pub struct Operation {
    /// `chat`, `chat_stream`, `embed` or `models`.
    pub route: String,
    /// The provider called.
    pub provider: String,
    /// The model asked (the provider's own name for it).
    pub model: String,
}

/// Call `operation` through `adapter` with the provider's grant and credential; `Ok` carries
/// a line on what answered, `Err` the failure.
pub async fn call(
    gateway: &Gateway,
    adapter: &Arc<Adapter>,
    operation: &Operation,
    timeout: Duration,
) -> Result<String, String> {
    let provider = gateway
        .providers()
        .find(|p| p.name == operation.provider)
        .ok_or_else(|| format!("provider {} is not configured", operation.provider))?;
    let (mut env, ctx) = provider
        .call_env(&gateway.runtime, &request_id())
        .map_err(|e| e.to_string())?;
    env.adapter = adapter.clone();
    let describe = |error: InvokeError| {
        bounded(
            &GatewayError::Invoke {
                provider: operation.provider.clone(),
                error,
            }
            .to_string(),
            MAX_KEPT_TEXT,
        )
    };
    let model = operation.model.as_str();
    let chat = || -> scri::ChatRequest {
        serde_json::from_value(json!({
            "model": model,
            "messages": [{"role": "user", "content": "Reply with the single word: ok"}],
            "max_tokens": 16,
        }))
        .expect("a valid chat request")
    };
    let work = async {
        match operation.route.as_str() {
            "chat_stream" => {
                let mut rx = env
                    .chat_stream(&ctx, &convert::chat_request(&chat(), model))
                    .await
                    .map_err(describe)?;
                let mut events = 0usize;
                loop {
                    match rx.next().await.map_err(describe)? {
                        StreamEvent::Error(e) => return Err(describe(InvokeError::Adapter(e))),
                        StreamEvent::Stop(_) => {
                            return Ok(format!(
                                "stream answered ({} events, then stop)",
                                events + 1
                            ));
                        }
                        _ => events += 1,
                    }
                }
            }
            "embed" => {
                let request: scri::EmbedRequest =
                    serde_json::from_value(json!({"model": model, "inputs": ["ok"]}))
                        .expect("a valid embed request");
                let answer = env
                    .embed(&ctx, &convert::embed_request(&request, model))
                    .await
                    .map_err(describe)?;
                Ok(format!(
                    "embed answered ({} vectors)",
                    answer.embeddings.len()
                ))
            }
            "models" => {
                let models = env.models(&ctx).await.map_err(describe)?;
                Ok(format!("models answered ({} models)", models.len()))
            }
            _ => {
                let answer = env
                    .chat(&ctx, &convert::chat_request(&chat(), model))
                    .await
                    .map_err(describe)?;
                Ok(format!(
                    "chat answered ({} content blocks)",
                    answer.content.len()
                ))
            }
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    }
}
