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
