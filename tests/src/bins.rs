//! Where the test suite finds what it runs: the `aratta` binary, the misbehaving adapter and the
//! shared compile cache. Each is built at most once per test process.
//!
//! Paths follow the test executable: a test runs as `target/<profile>/deps/<name>-<hash>`, so the
//! gateway is `target/<profile>/aratta`, built with the same profile.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root (the directory with the root `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits inside the workspace")
        .to_path_buf()
}

/// `target/<profile>`: the directory holding the test executable's `deps/`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("path of the test executable");
    match exe.parent() {
        Some(deps) if deps.file_name().is_some_and(|n| n == "deps") => {
            deps.parent().expect("deps/ has a parent").to_path_buf()
        }
        _ => {
            let profile = if cfg!(debug_assertions) {
                "debug"
            } else {
                "release"
            };
            workspace_root().join("target").join(profile)
        }
    }
}

/// The profile the tests were built with (`release`, `debug`, or a custom one).
pub fn profile_name() -> String {
    profile_dir()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "debug".into())
}

/// The cargo target directory (`target/`).
pub fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("the profile directory has a parent")
        .to_path_buf()
}

/// The wasmtime compile cache every test gateway shares (`target/<profile>/aratta-test-cache`),
/// passed to the server as `ARATTA_CACHE_DIR`.
pub fn cache_dir() -> PathBuf {
    profile_dir().join("aratta-test-cache")
}

/// The `aratta` binary: `$ARATTA_BIN` as given, else `target/<profile>/aratta`. `cargo test`
/// builds it (the host has an integration test), with the same features as the rest of the
/// run; it is rebuilt here only when missing or older than a source file, with
/// `cargo build --bin aratta` over the whole workspace so the features (and wasmtime's
/// artifacts) stay the same. Panics with cargo's output when the build fails.
pub fn aratta_bin() -> PathBuf {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("ARATTA_BIN") {
            return Ok(PathBuf::from(bin));
        }
        let bin = profile_dir().join(format!("aratta{}", std::env::consts::EXE_SUFFIX));
        if is_fresh(&bin) {
            return Ok(bin);
        }
        let mut args = vec!["build", "--bin", "aratta"];
        let profile = profile_name();
        match profile.as_str() {
            "debug" => {}
            "release" => args.push("--release"),
            other => args.extend(["--profile", other]),
        }
        let manifest = workspace_root().join("Cargo.toml");
        cargo(&args, &manifest, &target_dir())?;
        if bin.is_file() {
            Ok(bin)
        } else {
            Err(format!(
                "cargo built aratta but {} is missing",
                bin.display()
            ))
        }
    })
    .clone()
    .unwrap_or_else(|e| panic!("cannot get the aratta binary: {e}"))
}

/// Whether `bin` exists and is newer than every source it is built from.
fn is_fresh(bin: &Path) -> bool {
    let Ok(built) = bin.metadata().and_then(|m| m.modified()) else {
        return false;
    };
    let root = workspace_root();
    let sources = [
        "host",
        "adapters",
        "guest-sdk",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
    ];
    !sources.iter().any(|s| newer_than(&root.join(s), built))
}

fn newer_than(path: &Path, time: std::time::SystemTime) -> bool {
    let Ok(meta) = path.metadata() else {
        return false;
    };
    if meta.is_file() {
        return meta.modified().is_ok_and(|m| m > time);
    }
    std::fs::read_dir(path).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name() != "target" && newer_than(&e.path(), time))
    })
}

/// The misbehaving test adapter (`tests/adapters/misbehaving`), built once per process with
/// `cargo build --release --target wasm32-wasip2 --target-dir target/adapters`.
pub fn misbehaving_adapter() -> PathBuf {
    static WASM: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    WASM.get_or_init(|| {
        let manifest =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters/misbehaving/Cargo.toml");
        let target = target_dir().join("adapters");
        cargo(
            &["build", "--release", "--target", "wasm32-wasip2"],
            &manifest,
            &target,
        )?;
        let wasm = target.join("wasm32-wasip2/release/aratta_adapter_misbehaving.wasm");
        if wasm.is_file() {
            Ok(wasm)
        } else {
            Err(format!(
                "cargo built the adapter but {} is missing",
                wasm.display()
            ))
        }
    })
    .clone()
    .unwrap_or_else(|e| panic!("cannot build the misbehaving adapter: {e}"))
}

/// A variant of the misbehaving adapter built with `--features <feature>` (see its
/// `Cargo.toml`), for misbehaviour no request can select (in `describe`, say). Each feature gets
/// its own target directory (`target/adapters-<feature>`), so variants never overwrite each
/// other or the plain build; each is built at most once per test process.
pub fn misbehaving_variant(feature: &str) -> PathBuf {
    use std::collections::HashMap;
    use std::sync::Mutex;
    static BUILT: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    // Held across the build: two tests asking for one variant build it once.
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    built
        .entry(feature.to_owned())
        .or_insert_with(|| {
            let manifest =
                Path::new(env!("CARGO_MANIFEST_DIR")).join("adapters/misbehaving/Cargo.toml");
            let target = target_dir().join(format!("adapters-{feature}"));
            cargo(
                &[
                    "build",
                    "--release",
                    "--target",
                    "wasm32-wasip2",
                    "--features",
                    feature,
                ],
                &manifest,
                &target,
            )?;
            let wasm = target.join("wasm32-wasip2/release/aratta_adapter_misbehaving.wasm");
            if wasm.is_file() {
                Ok(wasm)
            } else {
                Err(format!(
                    "cargo built the adapter but {} is missing",
                    wasm.display()
                ))
            }
        })
        .clone()
        .unwrap_or_else(|e| panic!("cannot build the misbehaving adapter with {feature}: {e}"))
}

/// Runs `cargo <args> --manifest-path <manifest> --target-dir <target>`; the error carries
/// cargo's stderr.
fn cargo(args: &[&str], manifest: &Path, target: &Path) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args(args)
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", cargo.to_string_lossy()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo {}` for {} failed ({}):\n{}",
            args.join(" "),
            manifest.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}
