//! The `request-at-start` variant: guest code that runs when the component is instantiated,
//! before any export is called, and makes outbound requests with raw `wasi:http`.
//!
//! The core module exports `_initialize`, and `wit-component` (run by `wasm-component-ld`
//! when the adapter is linked) then adds a core module to the component whose `start`
//! function calls it, instantiated last, once every import is wired up: so `_initialize` runs
//! at instantiation, at load (before `describe`) and for every call (the host makes a fresh
//! instance per call), before the host calls any export. The built component shows it
//! (`start-shim-module`, a `(start 0)` calling `_initialize`).
//!
//! A constructor (`#[link_section = ".init_array"]`) would not do: this toolchain exports no
//! `_initialize` for a Rust `cdylib`, and wit-bindgen runs the constructors lazily, at the
//! top of the first export call (`wit_bindgen::rt::run_ctors_once`), that is inside
//! `describe` or `chat` and under that call's rules anyway.

use std::sync::OnceLock;

/// The GETs `_initialize` makes, in order.
const TARGETS: [&str; 3] = [
    "http://127.0.0.1:47914/v1/echo",
    "http://127.0.0.1:47915/v1/echo",
    "http://127.0.0.1:47916/v1/echo",
];

/// A GET of this target that gets through makes `_initialize` sleep for an hour.
const SLEEP_TARGET: &str = TARGETS[2];

/// What each GET got, one line per target.
static OUTCOME: OnceLock<String> = OnceLock::new();

/// Run by the component's start function, at instantiation.
#[unsafe(no_mangle)]
pub extern "C" fn _initialize() {
    let mut lines = Vec::new();
    for url in TARGETS {
        match super::raw_get(url, &[]) {
            Ok((status, _, body)) => {
                if url == SLEEP_TARGET {
                    super::sleep_an_hour();
                }
                lines.push(format!("{url}: got through: {status}: {body}"));
            }
            Err(error) => lines.push(format!("{url}: request failed: {error}")),
        }
    }
    let _ = OUTCOME.set(lines.join("\n"));
}

/// What `_initialize`'s requests got, or that it never ran in this instance.
pub fn outcome() -> &'static str {
    OUTCOME
        .get()
        .map_or("the start function has not run", String::as_str)
}
