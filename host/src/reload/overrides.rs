//! Files that override a built-in adapter at startup are verified like a hot swap. The
//! declaration check (same base URL, extra hosts and auth as the built-in) already ran in
//! `Runtime::load_all`; here, before the server listens, each override gets the real call
//! ([`verify`]), and one that fails is replaced by the built-in again, set aside as
//! `<file>.refused` and reported like a refused hot swap.

use std::sync::Arc;
use std::time::Duration;

use super::manager::{ReloadError, ReloadManager};
use super::verify;
use crate::runtime::{Adapter, AdapterSource};

impl ReloadManager {
    /// Verify every adapter file serving in place of a built-in; see the module doc.
    pub async fn verify_overrides(&self) {
        let runtime = &self.gateway.runtime;
        let overrides: Vec<Arc<Adapter>> = runtime
            .adapters()
            .values()
            .filter(|a| matches!(a.source, AdapterSource::File(_)))
            .filter(|a| runtime.builtin(&a.info.name).is_some())
            .cloned()
            .collect();
        let timeout = Duration::from_secs(self.settings.verify_timeout_seconds);
        for adapter in overrides {
            let _one_at_a_time = self.lock.lock().await;
            let (name, origin) = (adapter.info.name.clone(), adapter.source.to_string());
            let verification =
                verify::verify(&self.gateway, &adapter, timeout, &self.settings.verify_chat).await;
            if verification.passed {
                tracing::info!(adapter = %name, file = %origin, verification = %verification.summary(), "adapter file overriding a built-in verified");
                continue;
            }
            let Some(builtin) = runtime.builtin(&name) else {
                continue;
            };
            runtime.install(builtin);
            self.gateway.refresh_model_lists_soon();
            if let AdapterSource::File(path) = &adapter.source {
                self.set_aside(path, &adapter.sha256, "refused");
            }
            let error = ReloadError::Refused {
                origin: origin.clone(),
                adapter: name.clone(),
                verification,
            };
            tracing::error!(from = %origin, error = %error, "adapter file overriding a built-in refused; the built-in serves");
            self.report(
                "refused",
                Some(&name),
                Some(&adapter.sha256),
                &origin,
                error.to_string(),
            );
        }
    }
}
