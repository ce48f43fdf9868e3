//! The one wasmtime `Engine` every adapter shares, and the on-disk cache of compiled
//! components that lets a restart skip Cranelift (~290 ms per adapter → ~0.3 ms).

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::LoadError;
use super::compile_child::{ChildCompiler, ChildError};

/// Limits every adapter instance runs under.
#[derive(Debug, Clone, Copy)]
pub struct SandboxLimits {
    /// Linear memory per instance, in bytes.
    pub memory_bytes: usize,
    /// Fuel (≈ wasm instructions) per call: the CPU budget.
    pub fuel: u64,
    /// Instances that may exist at once (concurrent requests and open streams). Beyond it a
    /// call fails with [`super::InvokeError::Overloaded`].
    pub max_instances: u32,
}

/// Memory (per linear memory, and per table) that a finished instance's slot keeps resident
/// for the next instance of the same adapter. The pages a call dirtied are reset in place
/// (found with Linux's `PAGEMAP_SCAN` where available) instead of being returned to the kernel
/// with `madvise` and faulted back in by the next call: that was ~8 page faults, a TLB
/// shootdown and 20–50 µs of CPU per request. Beyond this size, memory is decommitted as before.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Core instances one adapter instance may hold: the adapter's module plus the shims and
/// adapters the component toolchain adds (a Rust adapter has 3-4). Only a counter in the
/// pool, so generous costs nothing, and `max_instances` stays the bound that matters.
const CORE_INSTANCES_PER_ADAPTER: u32 = 8;

/// Build the engine: component model, fuel metering for the CPU budget, and a pooling
/// allocator so a fresh instance per request costs microseconds.
pub fn build_engine(limits: &SandboxLimits) -> Result<Engine, LoadError> {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(limits.max_instances)
        .total_core_instances(
            limits
                .max_instances
                .saturating_mul(CORE_INSTANCES_PER_ADAPTER),
        )
        .total_memories(limits.max_instances.saturating_mul(2))
        .total_tables(limits.max_instances.saturating_mul(2))
        .total_stacks(limits.max_instances)
        .max_memory_size(limits.memory_bytes)
        .max_component_instance_size(1 << 20)
        .max_core_instance_size(1 << 20)
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .consume_fuel(true)
        .memory_reservation(limits.memory_bytes.next_power_of_two().max(1 << 24) as u64)
        .memory_reservation_for_growth(0)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&config).map_err(|e| LoadError::Engine(format!("{e:#}")))
}

/// Compiles components, reusing earlier compilations kept in `dir`.
#[derive(Clone)]
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: u64,
    /// Compiles cache misses in a child process, when this process opted in.
    child: Option<ChildCompiler>,
}

impl ComponentCache {
    /// A cache in `dir` (created on demand); `None` disables caching.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        Self {
            dir,
            engine_key: hasher.finish(),
            child: None,
        }
    }

    /// Compile cache misses in a child process (see [`super::compile_child`]) when this
    /// process opted in and there is a cache to hand the result over in. `limits` must be the
    /// ones `engine` was built from, so the child builds the same engine.
    pub fn with_child_compiler(mut self, limits: SandboxLimits) -> Self {
        if self.dir.is_some() {
            self.child = ChildCompiler::for_limits(limits);
        }
        self
    }

    /// Compile `bytes` (named `origin` in errors), or load the cached compilation.
    pub fn compile(
        &self,
        engine: &Engine,
        origin: &str,
        bytes: &[u8],
    ) -> Result<Component, LoadError> {
        let path = self.entry(bytes);
        if let Some(path) = &path
            && path.exists()
        {
            // SAFETY: the file was written by `Component::serialize` of this engine
            // configuration (the name contains the engine's compatibility hash) into Aratta's
            // own cache directory. A damaged entry fails to deserialize and is recompiled.
            match unsafe { Component::deserialize_file(engine, path) } {
                Ok(component) => return Ok(component),
                Err(e) => {
                    tracing::warn!(cache = %path.display(), error = %e, "discarding unusable cache entry")
                }
            }
        }
        // A cold start spends ~0.3 s per adapter here; say so, so a first start is not silent.
        let started = std::time::Instant::now();
        tracing::info!(
            "compiling {origin} ({} KB) to native code; {}",
            bytes.len() / 1024,
            if path.is_some() {
                "the result is cached, so later starts skip this"
            } else {
                "no compile cache is configured"
            }
        );
        if let (Some(child), Some(path)) = (&self.child, &path) {
            match child.compile_to(bytes, path) {
                // SAFETY: as above: the child is this executable, and it wrote the entry with
                // `Component::serialize` for an engine built from the same limits. An entry
                // that does not match this engine fails to deserialize and is compiled here.
                Ok(()) => match unsafe { Component::deserialize_file(engine, path) } {
                    Ok(component) => {
                        tracing::info!(
                            "compiled {origin} in {} ms (in a child process)",
                            started.elapsed().as_millis()
                        );
                        return Ok(component);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "the child's compilation of {origin} is unusable; compiling in this process")
                    }
                },
                Err(ChildError::Invalid(reason)) => {
                    return Err(LoadError::Invalid {
                        origin: origin.to_owned(),
                        reason,
                    });
                }
                Err(e @ (ChildError::Failed { .. } | ChildError::TimedOut(_))) => {
                    return Err(LoadError::Invalid {
                        origin: origin.to_owned(),
                        reason: e.to_string(),
                    });
                }
                Err(e @ ChildError::Spawn { .. }) => {
                    tracing::warn!(error = %e, "compiling {origin} in this process instead")
                }
            }
        }
        let component = Component::new(engine, bytes).map_err(|e| LoadError::invalid(origin, e))?;
        tracing::info!("compiled {origin} in {} ms", started.elapsed().as_millis());
        if let Some(path) = path
            && let Err(e) = write_entry(&path, &component)
        {
            tracing::warn!(cache = %path.display(), error = %e, "could not cache compiled adapter");
        }
        Ok(component)
    }

    fn entry(&self, bytes: &[u8]) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        let digest = hex::encode(Sha256::digest(bytes));
        Some(dir.join(format!("{digest}-{:016x}.cwasm", self.engine_key)))
    }
}

/// Write `component`, serialized, to the cache entry `path`.
pub(super) fn write_entry(path: &Path, component: &Component) -> anyhow::Result<()> {
    let bytes = component.serialize()?;
    let dir = path.parent().expect("cache entries live in a directory");
    std::fs::create_dir_all(dir)?;
    crate::fs::write_atomic(path, &bytes)?;
    Ok(())
}
