//! Spare instances: after a call has answered on an idle thread, the instance for the next call
//! into the same adapter is made ahead of time, so a request does not wait for instantiation.
//! Each spare still serves one call only, under the grant it was made with.
//!
//! Spares hold instance slots, so they are shared by every thread rather than kept per thread:
//! a call that finds the pool full returns all of them to it and tries again. Kept per thread,
//! a spare made on one worker (say after the background model-list refresh) held a slot that a
//! call on another worker could not reclaim, and a pool of two served one request.

use std::sync::{Arc, Mutex, MutexGuard};

use wasmtime::Store;

use super::Adapter;
use super::exports::Guest;
use super::outbound::Grant;
use super::sandbox::HostState;

/// An instance made ahead of time for the next call into `adapter`, under `grant`: its start
/// functions (guest code, which may make requests and keep what they got) ran with that grant,
/// so it serves only a call with the same grant.
pub(super) struct Spare {
    pub(super) adapter: Arc<Adapter>,
    pub(super) grant: Arc<Grant>,
    pub(super) store: Store<HostState>,
    pub(super) guest: Guest,
}

/// At most one spare per adapter. The lock is held for a scan of a short list, never while an
/// instance is made or dropped (tearing a store down takes ~10 µs).
static SPARES: Mutex<Vec<Spare>> = Mutex::new(Vec::new());

fn spares() -> MutexGuard<'static, Vec<Spare>> {
    // A panic while the list was held leaves it consistent: every operation is one push or
    // one removal.
    SPARES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The spare instance of `adapter`, if there is one and it was made under the same grant as
/// `grant` (the same provider, origins, credential and timeout). A spare made for another
/// provider is dropped, not reused: what its start functions fetched under that provider's
/// grant must not reach a call with another. Spares of adapters that have been replaced (held
/// by nothing else) are dropped on the way.
pub(super) fn take(adapter: &Arc<Adapter>, grant: &Grant) -> Option<Spare> {
    let (found, stale) = {
        let mut spares = spares();
        let stale: Vec<Spare> = spares
            .extract_if(.., |s| Arc::strong_count(&s.adapter) == 1)
            .collect();
        let found = spares
            .iter()
            .position(|s| Arc::ptr_eq(&s.adapter, adapter))
            .map(|i| spares.swap_remove(i));
        (found, stale)
    };
    drop(stale);
    found.filter(|s| *s.grant == *grant)
}

/// Keep `spare` for the next call into its adapter, unless that adapter already has one (then
/// it is dropped).
pub(super) fn put(spare: Spare) {
    let mut spares = spares();
    if !spares
        .iter()
        .any(|s| Arc::ptr_eq(&s.adapter, &spare.adapter))
    {
        spares.push(spare);
        return;
    }
    drop(spares);
    drop(spare);
}

/// Whether `adapter` has a spare instance.
pub(super) fn has(adapter: &Arc<Adapter>) -> bool {
    spares().iter().any(|s| Arc::ptr_eq(&s.adapter, adapter))
}

/// Drop every spare instance (of every adapter), returning their slots to the pool. Returns
/// whether there were any.
pub(super) fn drop_all() -> bool {
    let all = std::mem::take(&mut *spares());
    !all.is_empty()
}
