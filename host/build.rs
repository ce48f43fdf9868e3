//! Builds every adapter crate under `adapters/` to a `wasm32-wasip2` component and embeds
//! them in the binary, so `aratta serve` works on a fresh machine with no adapters installed.
//!
//! The adapters are built by a nested `cargo` into their own target directory
//! (`target/adapters`), so the host's build lock is never contended. Set
//! `ARATTA_BUILTIN_ADAPTERS=none` to embed none (the server then loads only the adapters
//! directory).
//!
//! It also packs each built-in adapter's source (the crate, the guest SDK and the helper crates it
//! depends on, the WIT, the lock file and a generated standalone workspace manifest) into one
//! deterministic `.tar.gz`, so the heal worker and `aratta adapter source` can rebuild an adapter
//! on a machine without this repository (see `host/src/heal/source.rs` for the layout).

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build/sources.rs"]
mod sources;

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives in the workspace root")
        .to_owned();
    let out = PathBuf::from(env("OUT_DIR")).join("builtin_adapters.rs");
    // Cargo.toml holds the adapters' build profile (opt-level etc.).
    for watched in [
        "adapters",
        "guest-sdk",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
        "rust-toolchain.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=ARATTA_BUILTIN_ADAPTERS");

    let crates = if std::env::var("ARATTA_BUILTIN_ADAPTERS").as_deref() == Ok("none") {
        Vec::new()
    } else {
        adapter_crates(&root)
    };
    let target_dir = root.join("target").join("adapters");
    if !crates.is_empty() {
        build(&root, &target_dir, &crates);
    }
    let wasm_dir = target_dir.join("wasm32-wasip2").join("release");
    let mut code = String::from(
        "/// (name, component bytes) of every built-in adapter.\npub static ADAPTERS: &[(&str, &[u8])] = &[\n",
    );
    for (dir_name, package) in &crates {
        let file = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        code.push_str(&format!(
            "    ({dir_name:?}, include_bytes!({:?})),\n",
            file.display().to_string()
        ));
    }
    code.push_str("];\n");
    let archive = PathBuf::from(env("OUT_DIR")).join("adapter_sources.tar.gz");
    if crates.is_empty() {
        code.push_str(
            "/// No built-in adapters, so no source.\npub static SOURCES: &[u8] = &[];\n",
        );
    } else {
        sources::pack(&root, &crates, &archive);
        code.push_str(&format!(
            "/// The built-in adapters' source, a .tar.gz (see `crate::heal::source`).\n\
             pub static SOURCES: &[u8] = include_bytes!({:?});\n",
            archive.display().to_string()
        ));
    }
    std::fs::write(&out, code).expect("write builtin_adapters.rs");
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name}"))
}

/// `(directory name, package name)` of each adapter crate that is a workspace member, sorted.
/// A crate under `adapters/` that is not (yet) a member is not embedded, so work in progress
/// never breaks the host's build.
fn adapter_crates(root: &Path) -> Vec<(String, String)> {
    let workspace = std::fs::read_to_string(root.join("Cargo.toml")).expect("read Cargo.toml");
    println!(
        "cargo:rerun-if-changed={}",
        root.join("Cargo.toml").display()
    );
    let mut crates = Vec::new();
    for member in workspace.split('"').filter(|s| s.starts_with("adapters/")) {
        let manifest = root.join(member).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|e| panic!("{}: {e}", manifest.display()));
        let package = text
            .lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("name = ")
                    .map(|v| v.trim_matches('"').to_owned())
            })
            .unwrap_or_else(|| panic!("{}: no package name", manifest.display()));
        let dir_name = member.trim_start_matches("adapters/").to_owned();
        crates.push((dir_name, package));
    }
    crates.sort();
    crates
}

fn build(root: &Path, target_dir: &Path, crates: &[(String, String)]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(target_dir);
    for (_, package) in crates {
        cmd.args(["-p", package]);
    }
    // Flags meant for the host must not leak into the wasm build.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_PROFILE_RELEASE_DEBUG",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().expect("run cargo to build the adapters");
    if !status.success() {
        panic!(
            "building the built-in adapters for wasm32-wasip2 failed (see above). If the target is missing, run \
             `rustup target add wasm32-wasip2` (rust-toolchain.toml normally installs it)."
        );
    }
}
