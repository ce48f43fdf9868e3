//! The adapters compiled from `adapters/` by the build script and embedded in the binary, so
//! `aratta serve` works with nothing installed.

include!(concat!(env!("OUT_DIR"), "/builtin_adapters.rs"));
