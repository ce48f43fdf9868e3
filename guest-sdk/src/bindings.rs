//! The SCRI contract as Rust types, generated from the workspace's single copy of `wit/`.
//!
//! WASI interfaces are not regenerated: `with` points them at the `wasip2` crate, so a
//! `wasip2::http::types::ErrorCode` and the one in these bindings are the same type.

#![allow(missing_docs)]

wit_bindgen::generate!({
    world: "adapter",
    path: "../wit",
    with: {
        "wasi:http/types@0.2.12": wasip2::http::types,
        "wasi:http/outgoing-handler@0.2.12": wasip2::http::outgoing_handler,
        "wasi:io/error@0.2.12": wasip2::io::error,
        "wasi:io/poll@0.2.12": wasip2::io::poll,
        "wasi:io/streams@0.2.12": wasip2::io::streams,
        "wasi:clocks/monotonic-clock@0.2.12": wasip2::clocks::monotonic_clock,
    },
    additional_derives: [Clone, PartialEq],
    pub_export_macro: true,
    default_bindings_module: "aratta_guest::bindings",
});
