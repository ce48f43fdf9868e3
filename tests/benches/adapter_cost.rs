//! What an adapter's language costs the host, measured in this process through the host's own
//! runtime (`aratta_host::runtime`): component size, compile time on first load (Cranelift, no
//! cache) and load from the compile cache, and the CPU of one fresh instance plus a pure call
//! (`convert-tools`, no network), for the built-in Rust `local` adapter and each component
//! given. Per-request CPU through the whole gateway is the `gateway` bench's figure; run it
//! with `ARATTA_BENCH_LOCAL_ADAPTER` to serve `local` with another component.
//!
//! `ARATTA_BENCH_COMPONENTS=a.wasm,b.wasm cargo bench --profile release --bench adapter_cost`
//! (`ARATTA_BENCH_CALLS`, default 200: pure calls timed per adapter). The release profile and
//! the whole workspace reuse the host's build; `-p aratta-tests` or the bench profile compile
//! wasmtime again.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aratta_host::runtime::bindings::chat::Tool;
use aratta_host::runtime::outbound::{Grant, Outbound};
use aratta_host::runtime::{Adapter, AdapterSource, Runtime, SandboxLimits};
use bytes::Bytes;

/// The server's defaults (`[behaviour]`), so the figures are the ones a gateway sees.
const LIMITS: SandboxLimits = SandboxLimits {
    memory_bytes: 64 << 20,
    fuel: 5_000_000_000,
    max_instances: 1000,
};

/// CPU time (user + system) of this process so far.
fn cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct it is given.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

fn runtime(cache: Option<PathBuf>) -> Runtime {
    Runtime::new(LIMITS, cache, Outbound::new(Duration::from_secs(1))).expect("the runtime")
}

async fn load(runtime: &Runtime, name: &str, bytes: &Bytes) -> (Adapter, Duration) {
    let started = Instant::now();
    let adapter = runtime
        .load_bytes(name, bytes.clone(), AdapterSource::Builtin)
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    (adapter, started.elapsed())
}

async fn measure(name: &str, bytes: Bytes, calls: u32) {
    let (_, cold) = load(&runtime(None), name, &bytes).await;
    let cache = tempfile::tempdir().expect("a cache directory");
    let cached = runtime(Some(cache.path().to_path_buf()));
    load(&cached, name, &bytes).await;
    let (adapter, warm) = load(&cached, name, &bytes).await;
    let grant = Arc::new(Grant {
        provider: "bench".into(),
        origins: Vec::new(),
        credential: None,
        timeout: Duration::from_secs(10),
    });
    let env = cached.call_env(Arc::new(adapter), grant);
    let tools = [Tool {
        name: "get_weather".into(),
        description: Some("Current weather for a city".into()),
        parameters: r#"{"type":"object","properties":{"location":{"type":"string"}}}"#.into(),
    }];
    env.convert_tools(&tools).await.expect("a first call");
    let (cpu_before, started) = (cpu(), Instant::now());
    for _ in 0..calls {
        env.convert_tools(&tools).await.expect("convert-tools");
    }
    let per_call = |d: Duration| d.as_secs_f64() * 1e6 / f64::from(calls);
    println!(
        "{name:<24} {:>8.2} MB {:>10.0} ms {:>9.1} ms {:>10.0} µs {:>10.0} µs",
        bytes.len() as f64 / 1e6,
        cold.as_secs_f64() * 1e3,
        warm.as_secs_f64() * 1e3,
        per_call(cpu() - cpu_before),
        per_call(started.elapsed()),
    );
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("adapter cost: run it with `cargo bench --profile release --bench adapter_cost`");
        return;
    }
    let calls: u32 = std::env::var("ARATTA_BENCH_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let components: Vec<PathBuf> = std::env::var("ARATTA_BENCH_COMPONENTS")
        .unwrap_or_default()
        .split(',')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let builtins = runtime(None);
        builtins
            .load_all(&std::env::temp_dir().join("aratta-no-adapters"))
            .await;
        let local = builtins
            .adapter("local")
            .expect("the built-in local adapter");
        println!(
            "{:<24} {:>11} {:>13} {:>12} {:>13} {:>13}",
            "adapter", "size", "first load", "from cache", "call CPU", "call wall"
        );
        measure("local (Rust, built-in)", local.bytes.clone(), calls).await;
        for path in components {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            measure(&name, Bytes::from(bytes), calls).await;
        }
    });
}
