//! The committed seed corpus: `fuzz/corpus/<target>/`, one input per file, valid and
//! near-valid bodies taken from the tests and wire fixtures, plus every input that once
//! crashed a target (`crash-*`, kept as regressions). Files are read in name order, so a
//! run is the same on every machine.

use std::path::PathBuf;

/// The directory holding `target`'s seeds.
pub fn dir(target: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target)
}

/// Every seed of `target`, in file-name order (empty when it has none).
pub fn load(target: &str) -> Vec<Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir(target)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// Where failing inputs are written: `target/fuzz-crashes/` of the workspace (or of
/// `CARGO_TARGET_DIR`), outside the committed corpus until someone adds them.
pub fn crash_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("fuzz-crashes")
}
