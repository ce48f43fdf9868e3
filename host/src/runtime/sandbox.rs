//! The state of one adapter call: a fresh store with no filesystem, no sockets, no
//! environment, a memory cap and a fuel budget; outbound HTTP goes through [`Hooks`].
//!
//! Host memory the guest can make the host hold is bounded too. wasi-http headers (`fields`),
//! requests, responses and body buffers live in host memory, outside the guest's memory cap,
//! and a loop of `fields.new` + `append` costs little fuel. So each call's resource table
//! holds at most [`MAX_RESOURCES`] live resources (a chat call uses about 20), each `fields`
//! at most [`MAX_FIELDS_BYTES`], and each outgoing body buffers at most two chunks of
//! [`super::outbound::BODY_CHUNK_BYTES`]: per call the host holds at most about
//! `MAX_RESOURCES` × 128 KiB = 32 MiB for these, whatever the guest does. Creating one
//! resource, or a header beyond a fields' limit, traps the call (the error names the adapter
//! and the limit); the gateway keeps serving.

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

/// Live resources (streams, pollables, fields, requests, responses, bodies) one call may hold.
pub const MAX_RESOURCES: usize = 256;

/// Bytes (wasi-http's in-memory estimate) one `fields` resource may hold. Requests an adapter
/// builds carry about 1 KiB of headers; wasi-http's default is 128 KiB.
pub const MAX_FIELDS_BYTES: usize = 32 * 1024;

/// Yield to the async runtime after this much fuel, so a spinning adapter cannot hold a
/// worker thread for its whole budget.
const FUEL_YIELD_INTERVAL: u64 = 10_000_000;

/// A new store for one call.
pub fn new_store(engine: &Engine, hooks: Hooks, limits: &SandboxLimits) -> Store<HostState> {
    let mut table = ResourceTable::new();
    table.set_max_capacity(MAX_RESOURCES);
    let mut http = WasiHttpCtx::new();
    http.set_field_size_limit(MAX_FIELDS_BYTES);
    let state = HostState {
        // No preopened directories, no environment, no arguments; sockets are denied by
        // WasiCtx's default address check. Stdout and stderr are discarded.
        wasi: WasiCtx::builder().build(),
        http,
        table,
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
