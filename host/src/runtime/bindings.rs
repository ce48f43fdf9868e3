//! Host-side bindings of the adapter world (`wit/world.wit`), generated from the single copy
//! of the contract. WASI types come from wasmtime-wasi(-http) so their resource tables are shared.

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "aratta:scri/adapter",
    exports: { default: async },
    require_store_data_send: true,
    with: {
        "wasi:http": wasmtime_wasi_http::p2::bindings::http,
        "wasi:io": wasmtime_wasi::p2::bindings::io,
        "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
    },
});

pub use aratta::scri::{chat, embeddings, errors, models};
pub use exports::aratta::scri::provider;

impl errors::AdapterError {
    /// The detail every case carries (message, status, raw body): one place to reach it, so
    /// callers need not list every case.
    pub fn detail(&self) -> &errors::ErrorDetail {
        use errors::AdapterError as E;
        match self {
            E::RateLimited(r) => &r.detail,
            E::SchemaMismatch(s) => &s.detail,
            E::Timeout(d)
            | E::Overloaded(d)
            | E::Connection(d)
            | E::Unauthorized(d)
            | E::InvalidRequest(d)
            | E::Upstream(d)
            | E::Unsupported(d)
            | E::Other(d) => d,
        }
    }
}
