//! Healing an adapter: the pieces the heal worker uses to turn model-written edits into a new
//! component. [`source`] finds (or unpacks) the adapter's Rust source, [`edits`] checks and
//! applies search/replace edits as a security boundary, and [`builder`] builds a patched copy
//! to a wasm component, offline and with a time limit, in a persistent target directory so a
//! heal build is incremental.

pub mod builder;
pub mod edits;
pub mod source;
