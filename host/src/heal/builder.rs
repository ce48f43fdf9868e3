//! Building a patched copy of an adapter's source to a wasm component, for the heal worker.
//!
//! The edits are applied to a scratch copy, never to the source tree itself. The copy lives at
//! a stable place per adapter (`<build_dir>/<name>-builtin/src`, or
//! `<name>-<hash of the tree's root>/src` for an installed one, cargo's target directory beside
//! it in `target/`) and is
//! re-synced before each build by writing only the files whose bytes differ: cargo fingerprints
//! path crates by their path and mtimes, so with a persistent target directory a warm heal build
//! recompiles only the crates whose files an edit touched (the adapter, or the guest SDK and the
//! adapter). Each tree gets its own subdirectory of the target directory too: cargo hashes a
//! path crate by its path relative to its workspace root, so two trees sharing one target
//! directory overwrite each other's guest-SDK build and every heal build recompiles it
//! (measured for `local`: 13 s, against 0.6 s for an adapter-only edit with its own
//! directory, thanks to the release profile's incremental compilation). One build per adapter
//! at a time per place: a lock file beside it, so gateways sharing a build directory (the test
//! suite's do) take turns.
//!
//! Cargo runs offline, in its own process group that is killed at the time limit, with the
//! host's build variables removed (as `host/build.rs` does for the built-in adapters), and the
//! same JSON-message handling as `aratta adapter build` (`crate::build::rust`). The last
//! 8 KiB of its rendered diagnostics are kept, to show a human or feed back to the model.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};

use super::edits::{self, Edit, EditError};
use super::source::{self, SourceError, SourceOrigin, SourceTree};
use crate::build::BuildError;
use crate::build::rust::{self as cargo, TARGET};

/// How much of the compiler's output is kept.
pub const LOG_TAIL_BYTES: usize = 8 * 1024;

/// A component built from patched source.
#[derive(Debug)]
pub struct Built {
    /// The component's bytes.
    pub component: Vec<u8>,
    /// The unified diff of the edits that were built.
    pub diff: String,
    /// The end of cargo's output (warnings may be there even on success).
    pub log_tail: String,
    /// How long cargo ran.
    pub duration: Duration,
    /// The patched tree that was built (kept for the next, incremental build).
    pub scratch: PathBuf,
}

/// Why a heal build produced no component.
#[derive(Debug, thiserror::Error)]
pub enum BuildFailure {
    /// The edits were refused; nothing was built.
    #[error("the edits were refused: {0}")]
    Edits(#[from] EditError),
    /// The patched source does not compile.
    #[error("the patched adapter does not compile:\n{log_tail}")]
    Compile {
        /// The end of the compiler's messages.
        log_tail: String,
    },
    /// Cargo ran past the time limit and was killed.
    #[error("the build was stopped after {seconds} s (the time limit)")]
    TimedOut {
        /// The limit, in seconds.
        seconds: u64,
        /// The end of the compiler's messages so far.
        log_tail: String,
    },
    /// Cargo or the wasm32-wasip2 target is missing; the message says what to install.
    #[error("cannot build adapters on this machine: {0}")]
    Toolchain(String),
    /// The build succeeded without a `.wasm` library.
    #[error("the build produced no .wasm component (the adapter crate needs crate-type cdylib)")]
    NoComponent,
    /// Copying the source or reading the component failed.
    #[error("{0}")]
    Io(String),
}

impl From<SourceError> for BuildFailure {
    fn from(error: SourceError) -> Self {
        BuildFailure::Io(error.to_string())
    }
}

/// Copies `tree` to its scratch place under `build_dir`, applies `edits` there and builds the
/// adapter within `limit`, with cargo's target directory beside it (persistent, e.g. under the
/// home, so the next build is incremental). The place is locked for the whole build (a lock
/// file beside it), so gateways sharing a `build_dir` take turns instead of racing.
pub async fn build(
    tree: &SourceTree,
    edits: &[Edit],
    build_dir: &Path,
    limit: Duration,
) -> Result<Built, BuildFailure> {
    edits::check(edits, tree)?;
    let name = scratch_name(tree);
    let place = build_dir.join(&name);
    let scratch = place.join("src");
    let lock = lock(build_dir.join(format!("{name}.lock"))).await?;
    let (from, to) = (tree.root.clone(), scratch.clone());
    tokio::task::spawn_blocking(move || source::sync_tree(&from, &to))
        .await
        .map_err(|e| BuildFailure::Io(e.to_string()))??;
    let patched = SourceTree {
        root: scratch.clone(),
        ..tree.clone()
    };
    let diff = edits::apply(edits, &patched)?;
    let started = Instant::now();
    let (component, log_tail) = compile(&patched, &place.join("target"), limit).await?;
    drop(lock);
    Ok(Built {
        component,
        diff,
        log_tail,
        duration: started.elapsed(),
        scratch,
    })
}

/// An exclusive lock on `path` (created if need be), held until the file is dropped.
async fn lock(path: PathBuf) -> Result<std::fs::File, BuildFailure> {
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.lock()?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| BuildFailure::Io(e.to_string()))?
    .map_err(|e| BuildFailure::Io(format!("cannot lock the heal build directory: {e}")))
}

/// Builds `tree`'s adapter as it is, offline, into `target_dir`: the component's bytes and
/// the end of cargo's output.
pub async fn compile(
    tree: &SourceTree,
    target_dir: &Path,
    limit: Duration,
) -> Result<(Vec<u8>, String), BuildFailure> {
    let root = tree.root.clone();
    tokio::task::spawn_blocking(move || cargo::check_target(&root))
        .await
        .map_err(|e| BuildFailure::Io(e.to_string()))?
        .map_err(toolchain)?;
    let manifest = tree.manifest();
    let mut command = tokio::process::Command::new("cargo");
    command
        .args([
            "build",
            "--release",
            "--offline",
            "--color",
            "never",
            "--target",
            TARGET,
        ])
        .arg("--message-format=json-render-diagnostics")
        .arg("--manifest-path")
        .arg(&manifest)
        .current_dir(&tree.root)
        .env("CARGO_TARGET_DIR", target_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .process_group(0);
    for (name, _) in std::env::vars_os() {
        if leaks_into_build(&name.to_string_lossy()) {
            command.env_remove(name);
        }
    }
    let mut child = command
        .spawn()
        .map_err(|source| toolchain(cargo::missing("cargo", source)))?;
    let pid = child.id();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let tail = std::sync::Mutex::new(String::new());
    let run = async {
        let artifacts = async {
            let mut artifacts = Vec::new();
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                artifacts.extend(cargo::parse_artifact(&line));
            }
            artifacts
        };
        let (artifacts, (), status) =
            tokio::join!(artifacts, keep_tail(stderr, &tail), child.wait());
        (artifacts, status)
    };
    let outcome = tokio::time::timeout(limit, run).await;
    let log_tail = tail
        .lock()
        .expect("the tail lock is never poisoned")
        .clone();
    let Ok((artifacts, status)) = outcome else {
        kill_group(pid);
        let _ = child.wait().await;
        return Err(BuildFailure::TimedOut {
            seconds: limit.as_secs(),
            log_tail,
        });
    };
    let status = status.map_err(|e| BuildFailure::Io(format!("waiting for cargo: {e}")))?;
    if !status.success() {
        return Err(BuildFailure::Compile { log_tail });
    }
    let path = cargo::find_component(&artifacts, &manifest).ok_or(BuildFailure::NoComponent)?;
    let component = tokio::fs::read(&path)
        .await
        .map_err(|e| BuildFailure::Io(format!("{}: {e}", path.display())))?;
    Ok((component, log_tail))
}

/// Whether an inherited variable would change the build: flags, targets and profiles meant
/// for the host, a parent cargo's jobserver, or a toolchain override (the tree's
/// `rust-toolchain.toml` decides).
fn leaks_into_build(name: &str) -> bool {
    const EXACT: [&str; 10] = [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTDOCFLAGS",
        "CARGO_ENCODED_RUSTDOCFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
        "RUSTUP_TOOLCHAIN",
        "RUSTC",
    ];
    const PREFIXES: [&str; 3] = ["CARGO_BUILD_", "CARGO_PROFILE_", "CARGO_TARGET_"];
    EXACT.contains(&name) || PREFIXES.iter().any(|p| name.starts_with(p))
}

fn toolchain(error: BuildError) -> BuildFailure {
    BuildFailure::Toolchain(error.to_string())
}

/// Reads `stream` to its end, keeping the last [`LOG_TAIL_BYTES`] in `tail`.
async fn keep_tail(stream: impl AsyncRead + Unpin, tail: &std::sync::Mutex<String>) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let mut tail = tail.lock().expect("the tail lock is never poisoned");
        tail.push_str(&line);
        tail.push('\n');
        if tail.len() > 2 * LOG_TAIL_BYTES {
            let mut cut = tail.len() - LOG_TAIL_BYTES;
            while !tail.is_char_boundary(cut) {
                cut += 1;
            }
            tail.drain(..cut);
        }
    }
    let mut tail = tail.lock().expect("the tail lock is never poisoned");
    if tail.len() > LOG_TAIL_BYTES {
        let mut cut = tail.len() - LOG_TAIL_BYTES;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail.drain(..cut);
    }
}

/// Kills cargo and every compiler it started (they share its process group).
fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|pid| i32::try_from(pid).ok()) {
        // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// `<name>-builtin` for a built-in adapter (stable across new binaries, so their heal builds
/// stay warm), else `<crate dir name>-<8 hex digits of the root path's hash>`.
fn scratch_name(tree: &SourceTree) -> String {
    let name = tree
        .crate_dir
        .file_name()
        .or_else(|| tree.root.file_name())
        .map_or("adapter".into(), |n| n.to_string_lossy().into_owned());
    if tree.origin == SourceOrigin::Builtin {
        return format!("{name}-builtin");
    }
    let hash = Sha256::digest(tree.root.as_os_str().as_encoded_bytes());
    format!("{name}-{}", hex::encode(&hash[..4]))
}

#[cfg(test)]
#[path = "builder_tests.rs"]
mod tests;
