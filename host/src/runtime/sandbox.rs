//! The state of one adapter call: a fresh store with no filesystem, no sockets, no
//! environment, a memory cap and a fuel budget; outbound HTTP goes through [`Hooks`].

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use super::SandboxLimits;
use super::outbound::Hooks;

/// Per-call host state inside the store.
pub struct HostState {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    table: ResourceTable,
    hooks: Hooks,
    limits: StoreLimits,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.hooks,
        }
    }
}

impl HostState {
    /// Give the store the hooks (grant, credential) of the call it is about to serve.
    pub(super) fn set_hooks(&mut self, hooks: Hooks) {
        self.hooks = hooks;
    }
}

/// Yield to the async runtime after this much fuel, so a spinning adapter cannot hold a
/// worker thread for its whole budget.
const FUEL_YIELD_INTERVAL: u64 = 10_000_000;

/// A new store for one call.
pub fn new_store(engine: &Engine, hooks: Hooks, limits: &SandboxLimits) -> Store<HostState> {
    let state = HostState {
        // No preopened directories, no environment, no arguments; sockets are denied by
        // WasiCtx's default address check. Stdout and stderr are discarded.
        wasi: WasiCtx::builder().build(),
        http: WasiHttpCtx::new(),
        table: ResourceTable::new(),
        hooks,
        limits: StoreLimitsBuilder::new()
            .memory_size(limits.memory_bytes)
            .trap_on_grow_failure(true)
            .build(),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store
        .set_fuel(limits.fuel)
        .expect("fuel is enabled on the engine");
    store
        .fuel_async_yield_interval(Some(FUEL_YIELD_INTERVAL))
        .expect("fuel is enabled on the engine");
    store
}
