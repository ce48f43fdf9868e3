//! The keys in memory: a map from a key's hash to its record, swapped whole when the store's
//! `client_keys` counter moves. A request's check is a hash and a map lookup, never a query;
//! a key made or revoked by another process (`aratta keys`, another replica) arrives with the
//! next refresh.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;

use super::KeyRecord;
use crate::store::{Store, StoreError, keys::TOPIC};

#[derive(Default)]
struct Snapshot {
    version: i64,
    by_hash: HashMap<[u8; 32], Arc<KeyRecord>>,
}

/// The keys in memory, and when they were last known to match the store.
pub struct KeyRing {
    store: Store,
    snapshot: ArcSwap<Snapshot>,
    /// Milliseconds after `epoch` of the last refresh that read the store.
    fresh_at_ms: AtomicU64,
    epoch: Instant,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("store", &self.store.location())
            .field("keys", &self.snapshot.load().by_hash.len())
            .finish()
    }
}

impl KeyRing {
    /// Every key in `store`.
    pub async fn load(store: Store) -> Result<KeyRing, StoreError> {
        let ring = KeyRing {
            store,
            snapshot: ArcSwap::from_pointee(Snapshot {
                version: -1,
                ..Snapshot::default()
            }),
            fresh_at_ms: AtomicU64::new(0),
            epoch: Instant::now(),
        };
        ring.refresh().await?;
        Ok(ring)
    }

    /// The record of the key whose hash is `hash`.
    pub fn find(&self, hash: &[u8; 32]) -> Option<Arc<KeyRecord>> {
        self.snapshot.load().by_hash.get(hash).cloned()
    }

    /// How many keys are known, revoked and expired ones included.
    pub fn len(&self) -> usize {
        self.snapshot.load().by_hash.len()
    }

    /// Whether no key is known.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How long ago the store was last read successfully.
    pub fn staleness(&self) -> Duration {
        let now = self.epoch.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.fresh_at_ms.load(Ordering::Relaxed)))
    }

    /// The store this ring reads.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Read the store's counter, and every key when it moved. `Ok(true)` when the keys were
    /// reloaded.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let version = self.store.version(TOPIC).await?;
        let reloaded = if version != self.snapshot.load().version {
            let by_hash = self
                .store
                .keys()
                .await?
                .into_iter()
                .map(|k| (k.hash, Arc::new(k)))
                .collect();
            self.snapshot.store(Arc::new(Snapshot { version, by_hash }));
            true
        } else {
            false
        };
        self.fresh_at_ms
            .store(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
        Ok(reloaded)
    }

    /// Refresh every `every` in the background for as long as the ring lives. A failed read
    /// is logged once per outage; the keys last read stay in force until
    /// [`ClientAuth`](super::ClientAuth) judges them too old.
    pub fn start_refresh(self: &Arc<Self>, every: Duration) {
        let ring = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(ring) = ring.upgrade() else { return };
                match ring.refresh().await {
                    Ok(reloaded) => {
                        if failing {
                            tracing::info!(store = %ring.store.location(), "the store is readable again; client keys are current");
                        }
                        if reloaded {
                            tracing::info!(
                                keys = ring.len(),
                                "client keys reloaded from the store"
                            );
                        }
                        failing = false;
                    }
                    Err(e) if !failing => {
                        tracing::error!(error = %e, "client keys could not be reloaded; the keys last read stay in force for now");
                        failing = true;
                    }
                    Err(_) => {}
                }
            }
        });
    }
}
