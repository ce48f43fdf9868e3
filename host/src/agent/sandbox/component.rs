//! Where the sandbox component comes from. Aratta ships its source (the WIT world in
//! `wit/sandbox/`, the guest in `guest/`) inside the binary; on first use it runs
//! componentize-py to build CPython plus the guest into one component, keeps the `.wasm` in the
//! cache directory (named by the hash of the source, so a new Aratta with a changed guest builds
//! again), and compiles it once more into a `.cwasm` next to it. From then on a start costs a
//! file read and a deserialize; componentize-py and the network are needed only for that first
//! build. Without componentize-py the `python` tool fails closed: nothing ever runs on the host.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::SandboxError;
use crate::build::python::{COMPONENTIZE_PY_PIN, find_componentize_py};
use crate::runtime::ComponentCache;

/// The world, as the guest and the host's bindings read it.
const WORLD: &str = include_str!("../../../../wit/sandbox/world.wit");
/// The guest's entry module (the `run` and `check` exports).
const GUEST: &str = include_str!("guest/guest.py");
/// The AST checker the guest calls.
const CHECKER: &str = include_str!("guest/checker.py");

/// A build of componentize-py may take this long (about 10 s on a quiet machine).
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

/// Where to find componentize-py and keep what it builds.
#[derive(Debug, Clone, Default)]
pub struct ComponentSource {
    /// The componentize-py executable; `None` looks for `componentize-py` on `PATH`.
    pub componentize_py: Option<PathBuf>,
    /// The cache directory (`<home>/cache`); `None` builds into a temporary directory each
    /// time the sandbox starts.
    pub cache_dir: Option<PathBuf>,
}

/// The hash of everything the component is built from: its name in the cache.
fn source_key() -> String {
    let mut hash = Sha256::new();
    for part in [WORLD, GUEST, CHECKER, COMPONENTIZE_PY_PIN] {
        hash.update(part.len().to_le_bytes());
        hash.update(part.as_bytes());
    }
    hex::encode(&hash.finalize()[..12])
}

impl ComponentSource {
    /// The compiled component, built and cached on first use. A cached build that does not
    /// compile (a damaged file) is removed and built again.
    pub async fn load(&self, engine: &Engine) -> Result<Component, SandboxError> {
        // Gateways sharing a cache build and compile one at a time: the next one waits, then
        // finds both cached, instead of spending the same CPU in parallel.
        let _lock = self.lock().await;
        let (wasm, cached) = self.wasm().await?;
        match compile(engine, self.cache_dir.clone(), wasm).await {
            Err(e) if cached => {
                tracing::warn!(error = %e, "rebuilding the cached sandbox component");
                if let Some(path) = self.cached_path() {
                    let _ = std::fs::remove_file(path);
                }
                let (wasm, _) = self.wasm().await?;
                compile(engine, self.cache_dir.clone(), wasm).await
            }
            other => other,
        }
    }

    /// An exclusive lock on `<cache>/sandbox/.lock`, held until dropped (none without a cache).
    async fn lock(&self) -> Option<std::fs::File> {
        let dir = self.cache_dir.as_ref()?.join("sandbox");
        std::fs::create_dir_all(&dir).ok()?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(".lock"))
            .ok()?;
        tokio::task::spawn_blocking(move || file.lock().map(|()| file))
            .await
            .ok()?
            .ok()
    }

    /// Where the built `.wasm` is kept.
    pub(super) fn cached_path(&self) -> Option<PathBuf> {
        let name = format!("sandbox-{}.wasm", source_key());
        self.cache_dir
            .as_ref()
            .map(|d| d.join("sandbox").join(name))
    }

    /// The component's bytes, and whether they came from the cache.
    async fn wasm(&self) -> Result<(Vec<u8>, bool), SandboxError> {
        let cached = self.cached_path();
        if let Some(path) = &cached
            && let Ok(bytes) = std::fs::read(path)
        {
            return Ok((bytes, true));
        }
        let tool = self.componentize_py()?;
        let work = tempfile::Builder::new()
            .prefix("aratta-sandbox-build-")
            .tempdir()
            .map_err(|e| build_error(format!("cannot make a build directory: {e}")))?;
        let bytes = build(&tool, work.path()).await?;
        if let Some(path) = cached
            && let Err(e) = store(&path, &bytes)
        {
            tracing::warn!(path = %path.display(), error = %e, "could not cache the sandbox component");
        }
        Ok((bytes, false))
    }

    /// The configured componentize-py, else the one on `PATH`; an error saying what to install.
    fn componentize_py(&self) -> Result<PathBuf, SandboxError> {
        find_componentize_py(self.componentize_py.as_deref())
            .map_err(|reason| SandboxError::Unavailable { reason })
    }
}

/// Compile `wasm` off the async runtime (seconds of Cranelift the first time), through the
/// adapters' `.cwasm` cache so later starts only deserialize.
async fn compile(
    engine: &Engine,
    cache_dir: Option<PathBuf>,
    wasm: Vec<u8>,
) -> Result<Component, SandboxError> {
    let engine = engine.clone();
    let cache = ComponentCache::new(&engine, cache_dir);
    tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let component = cache
            .compile(&engine, "the code sandbox", &wasm)
            .map_err(|e| build_error(format!("the component does not compile: {e}")))?;
        tracing::info!(
            ms = started.elapsed().as_millis() as u64,
            "code sandbox component loaded"
        );
        Ok(component)
    })
    .await
    .map_err(|e| build_error(format!("the compile task failed: {e}")))?
}

fn build_error(reason: String) -> SandboxError {
    SandboxError::Build { reason }
}

/// Run componentize-py on the embedded source in `work`; the component's bytes.
async fn build(tool: &Path, work: &Path) -> Result<Vec<u8>, SandboxError> {
    let write = |name: &str, text: &str| {
        let path = work.join(name);
        std::fs::create_dir_all(path.parent().expect("a file in the build directory"))
            .and_then(|()| std::fs::write(&path, text))
            .map_err(|e| build_error(format!("cannot write {}: {e}", path.display())))
    };
    write("wit/world.wit", WORLD)?;
    write("guest.py", GUEST)?;
    write("checker.py", CHECKER)?;
    let out = work.join("sandbox.wasm");
    let started = Instant::now();
    tracing::info!(tool = %tool.display(), "building the code sandbox component (once)");
    let mut command = tokio::process::Command::new(tool);
    command
        .current_dir(work)
        .args([
            "-q",
            "-d",
            "wit",
            "-w",
            "sandbox",
            "componentize",
            "-p",
            ".",
        ])
        .arg("guest")
        .arg("-o")
        .arg(&out)
        .env_remove("PYTHONPATH")
        .env_remove("VIRTUAL_ENV")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let done = tokio::time::timeout(BUILD_TIMEOUT, command.output())
        .await
        .map_err(|_| {
            build_error(format!(
                "componentize-py did not finish within {BUILD_TIMEOUT:?}"
            ))
        })?
        .map_err(|e| SandboxError::Unavailable {
            reason: format!("cannot start {}: {e}", tool.display()),
        })?;
    if !done.status.success() {
        return Err(build_error(format!(
            "componentize-py failed ({}): {}{}",
            done.status,
            String::from_utf8_lossy(&done.stdout).trim(),
            String::from_utf8_lossy(&done.stderr).trim()
        )));
    }
    let bytes = std::fs::read(&out)
        .map_err(|e| build_error(format!("componentize-py wrote no component: {e}")))?;
    tracing::info!(
        bytes = bytes.len(),
        ms = started.elapsed().as_millis() as u64,
        "code sandbox component built"
    );
    Ok(bytes)
}

/// Write `bytes` to `path` through a unique temporary name, so a concurrent reader never sees
/// half a file.
fn store(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("cache entries live in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".tmp-{}", uuid::Uuid::new_v4()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
