//! Rollback: restoring a kept version, on an operator's request or when a freshly swapped
//! version fails probation. A restored version served before, so it is not verified again (a
//! provider outage must not block going back); it is not put on probation either, so two bad
//! versions cannot roll each other back and forth.

use std::sync::Arc;

use bytes::Bytes;

use super::manager::unchanged;
use super::probation::Verdict;
use super::replicas::Reach;
use super::{ReloadError, ReloadManager, Swap};
use crate::clock::unix_seconds;
use crate::runtime::AdapterSource;

impl ReloadManager {
    /// Restore a kept version of `name`: `wanted` is a described version or a SHA-256 prefix;
    /// without it, the newest kept version other than the serving one. A restored version
    /// served before, so it is not verified again (a provider outage must not block it).
    pub async fn rollback(
        &self,
        name: &str,
        wanted: Option<&str>,
        why: &str,
    ) -> Result<Swap, ReloadError> {
        let result = self.try_rollback(name, wanted).await;
        match &result {
            Ok(swap) if swap.changed => {
                tracing::warn!(adapter = %name, to = %swap.current.sha256, version = %swap.current.version, why, "adapter rolled back");
                self.report(
                    "rolled_back",
                    Some(name),
                    Some(&swap.current.sha256),
                    "history",
                    format!(
                        "{why}; now serving version {} ({})",
                        swap.current.version, swap.current.sha256
                    ),
                );
            }
            Ok(_) => {}
            Err(e) => tracing::error!(adapter = %name, error = %e, "rollback failed"),
        }
        result
    }

    async fn try_rollback(&self, name: &str, wanted: Option<&str>) -> Result<Swap, ReloadError> {
        let _one_at_a_time = self.lock.lock().await;
        let runtime = &self.gateway.runtime;
        let current = runtime
            .adapter(name)
            .ok_or_else(|| ReloadError::UnknownAdapter(name.to_owned()))?;
        let target = match wanted {
            Some(wanted) => self.history.find(name, wanted).await?,
            None => self
                .history
                .list(name)
                .await?
                .into_iter()
                .rev()
                .find(|r| r.sha256 != current.sha256)
                .ok_or_else(|| ReloadError::NoEarlierVersion(name.to_owned()))?,
        };
        if target.sha256 == current.sha256 {
            return Ok(unchanged(&current));
        }
        let bytes = self.history.component(name, &target.sha256).await?;
        // A restored file version is written back into the adapters directory (below), so a
        // restart loads it; that file is its source from now on.
        let source = if target.source == AdapterSource::Builtin.to_string() {
            AdapterSource::Builtin
        } else {
            AdapterSource::File(self.adapters_dir.join(format!("{name}.wasm")))
        };
        let restored = Arc::new(
            runtime
                .load_bytes(&format!("history of {name}"), Bytes::from(bytes), source)
                .await?,
        );
        if let Some(reason) = crate::runtime::declared::refusal(&current.info, &restored.info) {
            return Err(ReloadError::ChangedReach {
                origin: format!("history of {name}"),
                adapter: name.to_owned(),
                reason,
            });
        }
        let mut record = target.clone();
        record.installed_at = unix_seconds();
        self.swap(
            Some(current.clone()),
            restored,
            record.clone(),
            false,
            Reach::Everywhere,
        )
        .await?;
        if let AdapterSource::File(path) = &current.source {
            self.set_aside(path, &current.sha256, "rolled-back");
        }
        self.persist_current(name);
        Ok(Swap {
            adapter: name.to_owned(),
            changed: true,
            previous_sha256: Some(current.sha256.clone()),
            current: record,
            verification: None,
        })
    }

    pub(super) async fn on_verdict(&self, verdict: Verdict) {
        let serving = self.gateway.runtime.adapter(&verdict.adapter);
        if serving.is_none_or(|a| a.sha256 != verdict.sha256) {
            return;
        }
        let why = format!(
            "failed probation: {} of its first {} calls failed because of the adapter",
            verdict.failures, verdict.calls
        );
        let _ = self.rollback(&verdict.adapter, None, &why).await;
    }
}
