//! One run of model-written code inside the sandbox component: a fresh `Store` with WASI that
//! offers a fresh scratch directory as its only filesystem (mounted at `/`, so `/etc/passwd`
//! names a file inside the scratch directory), no environment, no arguments, no sockets and
//! no name lookup; stdout and stderr go to bounded in-memory pipes; fuel bounds the CPU, a
//! resource limiter bounds linear memory and tables, and a timeout around the whole call bounds
//! wall-clock time (the store yields to the async runtime every few milliseconds of fuel, and
//! every WASI wait is async, so the timeout fires inside a spin or a sleep alike).
//!
//! The engine is the sandbox's own: the adapters' engine is a pooling allocator sized for small
//! adapters, while CPython needs tens of megabytes per instance and runs rarely.

use std::path::Path;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

use super::output::{BoundedOutput, OUTPUT_LIMIT_TRAP};
use super::{Exit, Finished, Limits, Refusal, SandboxError};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit/sandbox",
        world: "aratta:sandbox/sandbox",
        exports: { default: async },
    });
}

use bindings::Ending;

/// Yield to the async runtime after this much fuel (a few milliseconds of CPython), so the
/// wall-clock timeout can fire in a loop that never calls the host.
const FUEL_YIELD_INTERVAL: u64 = 10_000_000;

/// Most table elements an instance may grow to (CPython's function table is ~10,000).
const MAX_TABLE_ELEMENTS: usize = 1 << 20;

/// The sandbox's engine: the component model, fuel, and nothing pooled.
pub fn engine() -> Result<Engine, SandboxError> {
    let mut config = Config::new();
    config.wasm_component_model(true).consume_fuel(true);
    Engine::new(&config).map_err(|e| SandboxError::Build {
        reason: format!("cannot create the sandbox's engine: {e:#}"),
    })
}

/// A linker with WASI (preview 2) for the sandbox's stores.
pub fn linker(engine: &Engine) -> Result<Linker<RunState>, SandboxError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).map_err(|e| SandboxError::Build {
        reason: format!("cannot link WASI for the sandbox: {e:#}"),
    })?;
    Ok(linker)
}

/// The state of one run's store.
pub struct RunState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
}

impl WasiView for RunState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Refuses growth of linear memory past the limit (CPython turns the refusal into
/// `MemoryError`), and remembers that it did.
struct MemoryLimiter {
    max_bytes: usize,
    hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.max_bytes;
        self.hit |= !ok;
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// What the host asks of one instance.
pub enum Task<'a> {
    /// Check the code with the AST rules, and run it when none is broken.
    CheckAndRun(&'a str),
    /// Run the code without the AST check (the tests of the wasm boundary on its own).
    RunUnchecked(&'a str),
}

/// Instantiate the component in a fresh store over `scratch` and carry out `task`.
pub async fn run(
    engine: &Engine,
    linker: &Linker<RunState>,
    component: &Component,
    scratch: &Path,
    limits: &Limits,
    task: Task<'_>,
) -> Result<Finished, SandboxError> {
    let stdout = BoundedOutput::new(limits.max_output_bytes);
    let stderr = BoundedOutput::new(limits.max_output_bytes);
    let mut wasi = WasiCtx::builder();
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }));
    wasi.preopened_dir(scratch, "/", FsPerms::ReadWrite)
        .map_err(|e| SandboxError::Scratch(std::io::Error::other(format!("{e:#}"))))?;
    let state = RunState {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: MemoryLimiter {
            max_bytes: limits.memory_bytes,
            hit: false,
        },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    store
        .set_fuel(limits.fuel)
        .and_then(|()| store.fuel_async_yield_interval(Some(FUEL_YIELD_INTERVAL)))
        .map_err(|e| SandboxError::Build {
            reason: format!("the sandbox's engine has no fuel: {e:#}"),
        })?;
    let started = Instant::now();
    let work = async {
        let instance = bindings::Sandbox::instantiate_async(&mut store, component, linker).await?;
        let code = match task {
            Task::CheckAndRun(code) => {
                let refusals = instance.call_check(&mut store, code).await?;
                if !refusals.is_empty() {
                    return Ok(Err(refusals));
                }
                code
            }
            Task::RunUnchecked(code) => code,
        };
        instance.call_run(&mut store, code).await.map(Ok)
    };
    let ended = tokio::time::timeout(limits.wall, work).await;
    let duration = started.elapsed();
    let exit = match ended {
        Err(_) => Exit::TimedOut,
        Ok(Ok(Err(refusals))) => {
            return Err(SandboxError::Refused {
                refusals: refusals.into_iter().map(Refusal::from).collect(),
            });
        }
        Ok(Ok(Ok(ending))) => match ending {
            Ending::Completed => Exit::Completed,
            Ending::Exited(code) => Exit::Exited { code },
            Ending::Raised(error) => Exit::Raised { error },
        },
        Ok(Err(trap)) => exit_of_trap(&trap, &stdout, &stderr, store.data().limiter.hit),
    };
    let (stdout, stdout_truncated) = stdout.take();
    let (stderr, stderr_truncated) = stderr.take();
    Ok(Finished {
        exit,
        stdout,
        stderr,
        stdout_truncated,
        stderr_truncated,
        duration_ms: duration_ms(duration),
    })
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Name the limit a trap comes from; any other trap is reported with its message.
fn exit_of_trap(
    trap: &wasmtime::Error,
    stdout: &BoundedOutput,
    stderr: &BoundedOutput,
    memory_hit: bool,
) -> Exit {
    if trap.downcast_ref::<Trap>() == Some(&Trap::OutOfFuel) {
        return Exit::CpuLimit;
    }
    if stdout.overflowed() || stderr.overflowed() || format!("{trap:#}").contains(OUTPUT_LIMIT_TRAP)
    {
        return Exit::OutputLimit;
    }
    if memory_hit {
        return Exit::MemoryLimit;
    }
    Exit::Trapped {
        reason: format!("{trap:#}"),
    }
}

impl From<bindings::Refusal> for Refusal {
    fn from(r: bindings::Refusal) -> Self {
        Refusal {
            construct: r.construct,
            line: r.line,
            col: r.col,
            message: r.message,
        }
    }
}
