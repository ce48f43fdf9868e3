//! Serving during repeated hot swaps: a gateway whose `local` adapter is replaced every
//! `ARATTA_BENCH_SWAP_MS` (default 500 ms) by dropping a new `.wasm` into its adapters
//! directory (written beside it, then renamed in, as an operator would), against the same
//! gateway with no swaps, alternating phases.
//!
//! The new files are the built `local` adapter (`target/adapters/.../aratta_adapter_local.wasm`,
//! made by the host's build script) with a custom section appended that alternates between two
//! markers: each drop is a different file (another SHA-256) that the reload manager compiles (or
//! finds in its compile cache), checks, verifies with a real health check against the mock and
//! swaps in. Every answer must still be 200 and reach the mock: a dropped request fails the run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::load::{Summary, Target, run_phase};
use crate::mock::{Mock, Mode};
use crate::process::Gateway;
use crate::report::print_paired;
use crate::{HIGH_CONCURRENCY, Settings};

/// The built `local` adapter component.
fn local_component() -> Vec<u8> {
    let path = std::env::var_os("ARATTA_BENCH_ADAPTER")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../target/adapters/wasm32-wasip2/release/aratta_adapter_local.wasm")
        });
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the host first (its build script builds the adapters) or set ARATTA_BENCH_ADAPTER",
            path.display()
        )
    })
}

/// `component` with a custom section appended: the same adapter, another SHA-256.
fn with_marker(component: &[u8], n: u8) -> Vec<u8> {
    let name = b"aratta-bench-marker";
    let mut content = vec![name.len() as u8];
    content.extend_from_slice(name);
    content.push(n);
    let mut out = component.to_vec();
    out.push(0);
    out.push(u8::try_from(content.len()).expect("a short section"));
    out.extend(content);
    out
}

/// Drops a new version into `dir` every `every` until `stop`; returns how many it dropped.
fn swapper(dir: PathBuf, every: Duration, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let versions = [
        with_marker(&local_component(), 1),
        with_marker(&local_component(), 2),
    ];
    std::thread::spawn(move || {
        let mut dropped = 0u64;
        while !stop.load(Ordering::Relaxed) {
            let tmp = dir.join(".local.wasm.tmp");
            std::fs::write(&tmp, &versions[(dropped % 2) as usize]).expect("write a version");
            std::fs::rename(&tmp, dir.join("local.wasm")).expect("move the version in");
            dropped += 1;
            std::thread::sleep(every);
        }
        dropped
    })
}

fn swaps_logged(gateway: &Gateway) -> u64 {
    std::fs::read_to_string(&gateway.log)
        .unwrap_or_default()
        .matches("adapter swapped in")
        .count() as u64
}

/// One measured phase; panics on any failed answer.
async fn phase(gateway: &Gateway, mock: &Mock, concurrency: usize, settings: &Settings) -> Summary {
    let target = Target::openai(gateway.addr, "local:llama3.2");
    let (warm_n, warm_t) = if concurrency == 1 {
        (300, Duration::from_millis(300))
    } else {
        (5_000, Duration::from_millis(500))
    };
    let before = mock.chat_hits();
    let r = run_phase(
        &target,
        concurrency,
        warm_n,
        warm_t,
        settings.max_requests,
        settings.seconds,
        Some(gateway.pid()),
    )
    .await;
    r.fail_loudly(&format!("hot swaps, c={concurrency}"));
    let sent = r.measured() + r.warmup_requests;
    assert_eq!(
        mock.chat_hits() - before,
        sent,
        "c={concurrency}: the gateway answered {sent} requests with 200 but the mock answered a different number"
    );
    r.summary()
}

/// No swaps against a swap every `ARATTA_BENCH_SWAP_MS`, on one gateway.
pub(crate) async fn hot_swaps(bin: &Path, work: &Path, settings: &Settings) {
    let every = Duration::from_millis(
        std::env::var("ARATTA_BENCH_SWAP_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(500u64)
            .max(10),
    );
    let mock = Mock::start(Mode::Healthy);
    let home = work.join("home-swaps");
    let adapters = home.join("adapters");
    std::fs::create_dir_all(&adapters).expect("create the adapters directory");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[providers.local]\nbase_url = \"http://{}/v1\"\n\n[reload]\ndebounce_ms = 50\n",
            mock.addr
        ),
    )
    .expect("write the hot-swap config");
    let gateway = Gateway::spawn(bin, &home, &work.join("cache-serve"));
    // [c=1, c=50] × [quiet, swapping], per round.
    let mut rows: Vec<[[Summary; 2]; 2]> = Vec::new();
    let (mut dropped, swapped_before) = (0, swaps_logged(&gateway));
    for _ in 0..settings.rounds {
        let mut row = [[Summary::default(); 2]; 2];
        for (slot, concurrency) in [(0usize, 1usize), (1, HIGH_CONCURRENCY)] {
            row[slot][0] = phase(&gateway, &mock, concurrency, settings).await;
            let stop = Arc::new(AtomicBool::new(false));
            let thread = swapper(adapters.clone(), every, stop.clone());
            row[slot][1] = phase(&gateway, &mock, concurrency, settings).await;
            stop.store(true, Ordering::Relaxed);
            dropped += thread.join().expect("the swapper thread");
            // Let the last drop settle before the next quiet phase.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        rows.push(row);
    }
    let swapped = swaps_logged(&gateway) - swapped_before;
    println!(
        "Hot swaps: a new local.wasm dropped every {} ms during the swapping phases (medians over {} rounds)",
        every.as_millis(),
        rows.len()
    );
    print_paired(
        &rows,
        "phase",
        ["no swaps", "swapping"],
        "swapping/no swaps",
        " (compiling and verifying new versions included)",
    );
    println!(
        "  {dropped} files dropped, {swapped} versions swapped in (the debounce folds drops that land together); no request failed"
    );
}
