//! Swaps shared with the other servers on the store. Every version this server swaps in (a
//! dropped file, an approval, a heal cycle's fix, a rollback, probation's included) is
//! published to the store ([`crate::store::adapters`]); about every second each server reads
//! what is published and follows: a version it does not serve is fetched, compiled, checked
//! against the serving version's declared reach and verified with a real call through this
//! server's own providers, exactly like a dropped file, before it serves here. A version
//! refused here is reported and not tried again until another is published. The last version
//! published wins on every server, including one that starts later.
//!
//! Polling, not PostgreSQL's `LISTEN/NOTIFY`: it works the same on a shared SQLite file, a
//! notification missed while a connection was down cannot lose a swap, and a second of delay
//! is small next to the verification call each server makes anyway.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::manager::{ReloadError, ReloadManager, Swap, sha256};
use crate::runtime::{Adapter, AdapterSource};
use crate::store::Store;
use crate::store::adapters::SharedVersion;

/// Which servers a swap reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Reach {
    /// Published to the other servers on the store: a version this server chose.
    Everywhere,
    /// This server only: a version it followed from the store.
    HereOnly,
}

/// A swapped-in version on its way to the store.
struct Outgoing {
    adapter: String,
    sha256: String,
    version: String,
    bytes: Bytes,
    origin: String,
}

/// This server's link to the others: the queue of versions to publish.
pub(super) struct Replicas {
    outbox: mpsc::UnboundedSender<Outgoing>,
    /// Versions queued or being published: while there are any, the store may still show an
    /// older version this server has just replaced, which must not be followed back.
    unpublished: Arc<AtomicUsize>,
}

impl Replicas {
    /// Queue `adapter`, just swapped in from `origin`, for publishing.
    pub(super) fn publish(&self, adapter: &Adapter, origin: &str) {
        self.unpublished.fetch_add(1, Ordering::SeqCst);
        let sent = self.outbox.send(Outgoing {
            adapter: adapter.info.name.clone(),
            sha256: adapter.sha256.clone(),
            version: adapter.info.version.clone(),
            bytes: adapter.bytes.clone(),
            origin: origin.to_owned(),
        });
        if sent.is_err() {
            self.unpublished.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

impl ReloadManager {
    /// Share swaps with every server on `store`, where this one is named `replica`: publish
    /// this server's swaps, and follow the others' every `every`, starting now (a server that
    /// starts later than the others catches up with what they serve).
    pub fn share_through(self: &Arc<Self>, store: Store, replica: String, every: Duration) {
        let (outbox, queued) = mpsc::unbounded_channel();
        let unpublished = Arc::new(AtomicUsize::new(0));
        let replicas = Replicas {
            outbox,
            unpublished: unpublished.clone(),
        };
        if self.replicas.set(replicas).is_err() {
            tracing::warn!("adapter swaps are already shared through a store");
            return;
        }
        tokio::spawn(publish_loop(
            store.clone(),
            replica,
            queued,
            unpublished.clone(),
        ));
        let me = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut follower = Follower::default();
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(manager) = me.upgrade() else {
                    return;
                };
                if unpublished.load(Ordering::SeqCst) == 0 {
                    follower.poll(&manager, &store).await;
                }
            }
        });
    }

    /// Swap in `bytes`, published to the store as `shared`, through the same checks,
    /// verification, backup and probation as a dropped file, without publishing it again. It
    /// is written into the adapters directory (`swap` does so before it serves).
    async fn install_shared(
        &self,
        shared: &SharedVersion,
        bytes: Bytes,
    ) -> Result<Swap, ReloadError> {
        let origin = format!(
            "replica {} through the store ({})",
            shared.replica, shared.origin
        );
        // Kept where a restart loads it: the serving version's own file, or `<name>.wasm`.
        let path = match self
            .gateway
            .runtime
            .adapter(&shared.adapter)
            .map(|a| a.source.clone())
        {
            Some(AdapterSource::File(p)) if p.parent() == Some(self.adapters_dir.as_path()) => p,
            _ => self.adapters_dir.join(format!("{}.wasm", shared.adapter)),
        };
        let result = async {
            let candidate = self
                .load_candidate(bytes, AdapterSource::File(path))
                .await?;
            if candidate.info.name != shared.adapter {
                return Err(ReloadError::WrongAdapter {
                    origin: origin.clone(),
                    expected: shared.adapter.clone(),
                    found: candidate.info.name.clone(),
                });
            }
            let held = self.lock.lock().await;
            self.swap_in(candidate, &held, Reach::HereOnly).await
        }
        .await;
        self.note(&origin, &shared.sha256, &result);
        result
    }
}

/// What this server has already followed (or tried to): the generation of each adapter's row.
#[derive(Default)]
struct Follower {
    seen: HashMap<String, u64>,
    failing: bool,
}

impl Follower {
    /// Read what is published and follow every row that changed since the last poll.
    async fn poll(&mut self, manager: &ReloadManager, store: &Store) {
        let shared = match store.shared_versions().await {
            Ok(shared) => {
                if std::mem::take(&mut self.failing) {
                    tracing::info!("adapter swaps are shared through the store again");
                }
                shared
            }
            Err(e) => {
                if !std::mem::replace(&mut self.failing, true) {
                    tracing::warn!(error = %e, "adapter swaps on other servers cannot be followed until the store answers");
                }
                return;
            }
        };
        for row in shared {
            if self
                .seen
                .get(&row.adapter)
                .is_some_and(|&seen| seen >= row.generation)
            {
                continue;
            }
            if !self.follow(manager, store, &row).await {
                return;
            }
            self.seen.insert(row.adapter.clone(), row.generation);
        }
    }

    /// Follow one changed row; false when the store failed and the row should be read again.
    async fn follow(
        &mut self,
        manager: &ReloadManager,
        store: &Store,
        row: &SharedVersion,
    ) -> bool {
        let serving = manager.gateway.runtime.adapter(&row.adapter);
        if serving.is_some_and(|a| a.sha256 == row.sha256) {
            return true;
        }
        let bytes = match store.adapter_component(&row.sha256).await {
            Ok(Some(bytes)) => bytes,
            // Replaced since it was read: the next poll sees the newer row.
            Ok(None) => return true,
            Err(e) => {
                tracing::warn!(adapter = %row.adapter, error = %e, "cannot read a published adapter version");
                return false;
            }
        };
        if sha256(&bytes) != row.sha256 {
            tracing::error!(adapter = %row.adapter, sha256 = %row.sha256, "the published adapter component does not match its SHA-256; not followed");
            return true;
        }
        tracing::info!(adapter = %row.adapter, sha256 = %row.sha256, version = %row.version, replica = %row.replica, "following an adapter version published by another server");
        // Refused or not, it is reported by the manager; a refusal is not retried until
        // another version is published.
        let _ = manager.install_shared(row, Bytes::from(bytes)).await;
        true
    }
}

/// Publish queued versions in order, the newest per adapter; one the store refuses is tried
/// again every second, unless a newer one replaces it.
async fn publish_loop(
    store: Store,
    replica: String,
    mut queued: mpsc::UnboundedReceiver<Outgoing>,
    unpublished: Arc<AtomicUsize>,
) {
    let mut pending: BTreeMap<String, Outgoing> = BTreeMap::new();
    let mut failing = false;
    loop {
        if pending.is_empty() {
            match queued.recv().await {
                Some(out) => {
                    pending.insert(out.adapter.clone(), out);
                }
                None => return,
            }
        }
        while let Ok(out) = queued.try_recv() {
            // A newer version of the same adapter replaces the one not yet published.
            if pending.insert(out.adapter.clone(), out).is_some() {
                unpublished.fetch_sub(1, Ordering::SeqCst);
            }
        }
        let adapters: Vec<String> = pending.keys().cloned().collect();
        for adapter in adapters {
            let out = &pending[&adapter];
            let published = store
                .publish_adapter(
                    &out.adapter,
                    &out.sha256,
                    &out.version,
                    &out.bytes,
                    &replica,
                    &out.origin,
                )
                .await;
            match published {
                Ok(generation) => {
                    tracing::info!(adapter = %out.adapter, sha256 = %out.sha256, ?generation, "adapter version published to the other servers");
                    pending.remove(&adapter);
                    unpublished.fetch_sub(1, Ordering::SeqCst);
                    failing = false;
                }
                Err(e) => {
                    if !std::mem::replace(&mut failing, true) {
                        tracing::warn!(adapter = %out.adapter, error = %e, "adapter version not yet published to the other servers; retrying every second");
                    }
                }
            }
        }
        if !pending.is_empty() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
