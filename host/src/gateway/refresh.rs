//! Filling and refreshing the model lists bare model names are routed by
//! ([`super::model_lists`]), always in the background: at start, then every
//! `[behaviour] model_list_refresh_seconds`, and again at once when an adapter is swapped (a
//! provider whose adapter was missing or broken can list its models now). A request never
//! waits for a list; the server serves everything else while the first ones load. With the
//! setting at 0 nothing is fetched: no call reaches a provider that a client did not ask for.
//!
//! Listings are not provider calls in the breaker's or the metrics' sense: a provider that is
//! down fails its listing, keeps its last good list, and its breaker opens on real traffic.

use std::sync::Arc;
use std::time::Duration;

use super::{Gateway, GatewayError, Provider, request_id};
use crate::runtime::bindings::models::ModelInfo;

/// Longest one provider's listing may take in the background refresh; a hung provider must not
/// hold back the next round for the others.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

impl Gateway {
    /// `provider`'s models, asked now.
    pub(super) async fn list_models(
        &self,
        provider: &Provider,
        request_id: &str,
    ) -> Result<Vec<ModelInfo>, GatewayError> {
        let (env, ctx) = provider.call_env(&self.runtime, request_id)?;
        env.models(&ctx)
            .await
            .map_err(|error| GatewayError::Invoke {
                provider: provider.name.clone(),
                error,
            })
    }

    /// Keep what one listing of `provider` returned: its model ids, or why it failed (a
    /// failure keeps the last good list).
    pub(super) fn record_models(&self, provider: &str, outcome: Result<Vec<String>, String>) {
        match outcome {
            Ok(models) => {
                let count = models.len();
                if self.model_lists.record(provider, Ok(models)) {
                    tracing::info!(
                        %provider,
                        models = count,
                        "model list updated: bare model names route by it"
                    );
                }
            }
            Err(error) => {
                tracing::warn!(%provider, %error, "model list not refreshed; the last good one stays");
                self.model_lists.record(provider, Err(error));
            }
        }
    }

    /// Fetch every enabled provider's model list concurrently, keeping each as it arrives.
    pub async fn refresh_model_lists(&self) {
        let request_id = &request_id();
        let listings = self
            .providers()
            .filter(|p| p.config.enabled)
            .map(|p| async move {
                let listing = tokio::time::timeout(LIST_TIMEOUT, self.list_models(p, request_id));
                let outcome = match listing.await {
                    Ok(Ok(models)) => Ok(ids(&models)),
                    Ok(Err(e)) => Err(e.to_string()),
                    Err(_) => Err(format!("no answer within {} s", LIST_TIMEOUT.as_secs())),
                };
                self.record_models(&p.name, outcome);
            });
        futures::future::join_all(listings).await;
    }

    /// Have the background refresh run again now, not at its next tick (an adapter changed).
    pub fn refresh_model_lists_soon(&self) {
        self.refresh_now.notify_one();
    }

    /// Start the background refresh on the current tokio runtime: a first round now, then one
    /// every `[behaviour] model_list_refresh_seconds` or when asked. It ends once the gateway
    /// is dropped.
    pub fn start_model_refresh(self: &Arc<Self>) {
        let Some(every) = self.config.behaviour.model_list_refresh() else {
            tracing::info!(
                "model lists are not fetched ([behaviour] model_list_refresh_seconds = 0): bare model names are not routed"
            );
            return;
        };
        let gateway = Arc::downgrade(self);
        let now = self.refresh_now.clone();
        tokio::spawn(async move {
            loop {
                match gateway.upgrade() {
                    Some(gateway) => gateway.refresh_model_lists().await,
                    None => return,
                }
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = now.notified() => {}
                }
            }
        });
    }
}

/// The ids of a listing.
pub(super) fn ids(models: &[ModelInfo]) -> Vec<String> {
    models.iter().map(|m| m.id.clone()).collect()
}
