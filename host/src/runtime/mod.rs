//! The WebAssembly side of Aratta: one engine, the loaded adapters, and calls into them.
//! Each call gets its own store (see [`sandbox`]); the adapter table is swapped atomically,
//! so a call already running keeps the version it started with.

pub mod bindings;
pub(crate) mod builtin;
pub mod compile_child;
pub mod contract;
mod deadline;
pub mod declared;
pub mod egress;
mod engine;
mod exports;
mod invoke;
pub(crate) mod loader;
pub mod outbound;
mod sandbox;
mod spares;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use bytes::Bytes;
use wasmtime::Engine;
use wasmtime::component::Linker;

pub use deadline::Call;
pub use engine::{ComponentCache, SandboxLimits};
pub use invoke::{CallEnv, EventReceiver, InvokeError};
pub use loader::{AdapterSource, LoadError, PROVIDER_EXPORT};
pub use sandbox::HostState;

use bindings::provider::{AdapterInfo, AuthScheme};
use outbound::{Grant, Hooks, Outbound};

/// A loaded adapter: its self-description and a pre-linked component to instantiate per call.
pub struct Adapter {
    /// What `describe` returned.
    pub info: AdapterInfo,
    /// Where it came from.
    pub source: AdapterSource,
    /// SHA-256 of the component bytes.
    pub sha256: String,
    /// The component bytes, kept so the version can be backed up before it is replaced.
    pub bytes: Bytes,
    /// When this version was loaded.
    pub loaded_at: SystemTime,
    pre: exports::AdapterPre,
}

impl Adapter {
    /// Whether the provider demands a credential.
    pub fn needs_credential(&self) -> bool {
        !matches!(self.info.auth, AuthScheme::None)
    }
}

/// One line of `aratta adapter list`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AdapterSummary {
    /// The adapter's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Its one-line description.
    pub description: String,
    /// `built-in` or the file it was loaded from.
    pub source: String,
}

impl From<&Adapter> for AdapterSummary {
    fn from(a: &Adapter) -> Self {
        AdapterSummary {
            name: a.info.name.clone(),
            version: a.info.version.clone(),
            description: a.info.description.clone(),
            source: a.source.to_string(),
        }
    }
}

/// The engine, the linker every adapter is checked against, and the table of loaded adapters.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache: ComponentCache,
    limits: SandboxLimits,
    local_deadline: std::time::Duration,
    outbound: Outbound,
    adapters: ArcSwap<BTreeMap<String, Arc<Adapter>>>,
    /// The built-in adapters as loaded, kept to restore one whose override is refused.
    builtins: ArcSwap<BTreeMap<String, Arc<Adapter>>>,
}

impl Runtime {
    /// Build the engine and linker. `cache_dir` keeps compiled components across restarts.
    pub fn new(
        limits: SandboxLimits,
        cache_dir: Option<std::path::PathBuf>,
        outbound: Outbound,
    ) -> Result<Self, LoadError> {
        let engine = engine::build_engine(&limits)?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .and_then(|()| wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker))
            .map_err(|e| LoadError::Engine(format!("{e:#}")))?;
        let cache = ComponentCache::new(&engine, cache_dir).with_child_compiler(limits);
        Ok(Self {
            engine,
            linker,
            cache,
            limits,
            local_deadline: deadline::DEFAULT_LOCAL,
            outbound,
            adapters: ArcSwap::from_pointee(BTreeMap::new()),
            builtins: ArcSwap::from_pointee(BTreeMap::new()),
        })
    }

    /// Bound calls that never leave the sandbox (describe at load, tool and message
    /// conversion) by `deadline` instead of 10 s; `aratta serve` passes `[reload]
    /// verify_timeout_seconds`. Calls that reach the provider are bounded by its timeout.
    pub fn with_local_deadline(mut self, deadline: std::time::Duration) -> Self {
        self.local_deadline = deadline;
        self
    }

    /// Load the built-in adapters, then every `.wasm` in `dir` (overriding built-ins of the
    /// same name, as long as it declares the same reach as the built-in: see [`declared`]).
    /// Returns the files refused; they are logged, and everything else serves.
    pub async fn load_all(&self, dir: &Path) -> Vec<LoadError> {
        let mut table = BTreeMap::new();
        let mut refused = Vec::new();
        for (name, bytes) in builtin::ADAPTERS {
            match self
                .load_bytes(
                    &format!("built-in adapter {name}"),
                    Bytes::from_static(bytes),
                    AdapterSource::Builtin,
                )
                .await
            {
                Ok(adapter) => {
                    table.insert(adapter.info.name.clone(), Arc::new(adapter));
                }
                Err(e) => refused.push(e),
            }
        }
        self.builtins.store(Arc::new(table.clone()));
        match loader::wasm_files(dir) {
            Ok(files) => {
                for path in files {
                    match self.load_file(&path).await {
                        Ok(adapter) => {
                            if let Some(old) = table.get(&adapter.info.name) {
                                if let Some(reason) = declared::refusal(&old.info, &adapter.info) {
                                    refused.push(LoadError::Override {
                                        origin: path.display().to_string(),
                                        adapter: adapter.info.name.clone(),
                                        reason,
                                    });
                                    continue;
                                }
                                tracing::info!(adapter = %adapter.info.name, file = %path.display(), replaces = %old.source, "adapter file overrides");
                            }
                            table.insert(adapter.info.name.clone(), Arc::new(adapter));
                        }
                        Err(e) => refused.push(e),
                    }
                }
            }
            Err(e) => refused.push(e),
        }
        for e in &refused {
            tracing::error!(error = %e, "adapter refused");
        }
        for a in table.values() {
            tracing::info!(adapter = %a.info.name, version = %a.info.version, source = %a.source, "adapter loaded");
        }
        self.adapters.store(Arc::new(table));
        refused
    }

    /// Load and check one adapter file.
    pub async fn load_file(&self, path: &Path) -> Result<Adapter, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.load_bytes(
            &path.display().to_string(),
            Bytes::from(bytes),
            AdapterSource::File(path.to_owned()),
        )
        .await
    }

    /// Compile (on a blocking thread: it can take a second), check and describe a component
    /// without installing it. `origin` names it in errors.
    pub async fn load_bytes(
        &self,
        origin: &str,
        bytes: Bytes,
        source: AdapterSource,
    ) -> Result<Adapter, LoadError> {
        let (engine, linker, cache) =
            (self.engine.clone(), self.linker.clone(), self.cache.clone());
        let (owned_origin, owned_bytes) = (origin.to_owned(), bytes.clone());
        let checked = tokio::task::spawn_blocking(move || {
            loader::check(&engine, &linker, &cache, &owned_origin, &owned_bytes)
        })
        .await
        .map_err(|e| LoadError::Engine(format!("the compile task failed: {e}")))??;
        let store = sandbox::new_store(&self.engine, self.deny_all_hooks(origin), &self.limits);
        let (info, pre) =
            loader::describe(checked.found, store, origin, self.local_deadline).await?;
        Ok(Adapter {
            info,
            source,
            sha256: checked.sha256,
            bytes,
            loaded_at: SystemTime::now(),
            pre,
        })
    }

    /// Put `adapter` in the table under its name, atomically: calls that already hold the
    /// previous version finish on it, every call after this sees the new one. Returns the
    /// version it replaced.
    pub fn install(&self, adapter: Arc<Adapter>) -> Option<Arc<Adapter>> {
        let name = adapter.info.name.clone();
        let previous = self.adapters.rcu(|table| {
            let mut table = BTreeMap::clone(table);
            table.insert(name.clone(), adapter.clone());
            table
        });
        previous.get(&name).cloned()
    }

    fn deny_all_hooks(&self, origin: &str) -> Hooks {
        Hooks {
            grant: Arc::new(Grant::none("")),
            outbound: self.outbound.clone(),
            adapter: origin.into(),
        }
    }

    /// The shared outbound client (to tell it the operator's own origins).
    pub fn outbound(&self) -> &Outbound {
        &self.outbound
    }

    /// The adapter currently serving `name`.
    pub fn adapter(&self, name: &str) -> Option<Arc<Adapter>> {
        self.adapters.load().get(name).cloned()
    }

    /// The built-in adapter named `name`, as embedded (whatever serves that name now).
    pub fn builtin(&self, name: &str) -> Option<Arc<Adapter>> {
        self.builtins.load().get(name).cloned()
    }

    /// Every loaded adapter, by name.
    pub fn adapters(&self) -> Arc<BTreeMap<String, Arc<Adapter>>> {
        self.adapters.load_full()
    }

    /// What a call into `adapter` on behalf of a provider needs.
    pub fn call_env(&self, adapter: Arc<Adapter>, grant: Arc<Grant>) -> CallEnv {
        CallEnv {
            engine: self.engine.clone(),
            limits: self.limits,
            local_deadline: self.local_deadline,
            outbound: self.outbound.clone(),
            adapter,
            grant,
        }
    }
}

/// Check one component file the way the server would, without a running server: for
/// `aratta adapter build` and `aratta adapter list`.
pub async fn inspect_component(path: &Path) -> Result<AdapterSummary, LoadError> {
    let runtime = Runtime::new(
        SandboxLimits {
            memory_bytes: 64 << 20,
            fuel: 5_000_000_000,
            max_instances: 4,
        },
        None,
        Outbound::new(std::time::Duration::from_secs(1)),
    )?;
    let adapter = runtime.load_file(path).await?;
    Ok(AdapterSummary::from(&adapter))
}
