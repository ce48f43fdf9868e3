//! The gateway benchmark: what Aratta adds to a chat completion, against the same upstream
//! reached directly, measured in one process so the baseline and the gateway share a machine.
//!
//! `cargo bench -p aratta-tests --bench gateway`
//!
//! 1. A mock upstream (hyper, loopback, its own thread and single-threaded runtime) answers
//!    `POST /v1/chat/completions` with a fixed `chat.completion` and `GET /v1/models`.
//! 2. The real `aratta` binary (`target/<profile>/aratta`, built when missing, or `$ARATTA_BIN`)
//!    starts as a child with a temporary `ARATTA_HOME` whose config points `local` at the mock,
//!    on `--port 0`; it is ready when it prints `aratta listening on http://HOST:PORT`.
//! 3. A load generator (one single-threaded runtime, N workers with one keep-alive connection
//!    each, sequential requests with the same two-message body) measures the direct path
//!    (client → mock) and the gateway path (client → aratta `/v1/chat/completions` with model
//!    `local:<m>` → mock) at concurrency 1 and 64, after a warm-up on the same connections.
//!    Rounds alternate the two paths; the table shows each figure's median over rounds.
//! 4. From the child's `/proc`: CPU time (utime + stime) over the measured phases divided by the
//!    requests served, and peak RSS (`VmHWM`). Start time is spawn → listening line, with an
//!    empty compile cache (`ARATTA_CACHE_DIR`) and with a warm one.
//!
//! 5. The resilience layers ([`resilience`]): the success path's bookkeeping (breaker, metrics,
//!    retry state, upstream-status slot) timed in this process against an empty loop; then a
//!    second gateway whose alias' primary provider fails every other request (503) and falls
//!    back to a healthy one, against the same alias with a healthy first provider.
//! 6. Hot swaps ([`swaps`]): a gateway serving while a new `local.wasm` is dropped into its
//!    adapters directory every `ARATTA_BENCH_SWAP_MS` (default 500), against no swaps.
//!
//! Figures are reported against Aratta's aims, never asserted. Any failed request (a transport
//! error, a non-200 answer, an answer that is not a chat completion, or a gateway request that
//! never reached the mock) makes the benchmark exit non-zero.
//!
//! Knobs (environment): `ARATTA_BENCH_ROUNDS` (default 3), `ARATTA_BENCH_SECONDS` (measured
//! seconds per phase, default 2), `ARATTA_BENCH_MAX_REQUESTS` (per phase, default 200000),
//! `ARATTA_BENCH_STARTS` (cold starts to time, each followed by two warm ones; default 3, 0 skips
//! them), `ARATTA_BIN` (the gateway binary to run), `ARATTA_BENCH_SWAP_MS` (the hot-swap
//! interval), `ARATTA_BENCH_ADAPTER` (the component dropped in; default the built `local`),
//! `ARATTA_BENCH_LOCAL_ADAPTER` (a component installed as `local` for the load and start
//! phases, e.g. the Python example; default the built-in one).

mod load;
mod mock;
mod process;
mod report;
mod resilience;
mod swaps;

use std::time::Duration;

use bytes::Bytes;

use load::{Target, run_phase};
use mock::{Mock, Mode};
use process::{Gateway, aratta_bin, measure_starts, warn_if_stale};
use report::{Round, print_round, report};

/// The same two messages on both paths; only the model name differs.
pub(crate) fn chat_body(model: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"model":"{model}","messages":[{{"role":"system","content":"You are a helpful assistant."}},{{"role":"user","content":"Hello! Say hello back in one short sentence."}}]}}"#
    ))
}

/// Aratta's aims (docs: /work/shared/peer-figures.md).
pub(crate) const AIM_ADDED_P50_C1_US: f64 = 100.0;
pub(crate) const AIM_CPU_PER_REQUEST_US: f64 = 60.0;
pub(crate) const AIM_PEAK_RSS_MB: f64 = 60.0;
/// The resilience layers' budget on the success path (issue 4).
pub(crate) const AIM_RESILIENCE_CPU_US: f64 = 5.0;

pub(crate) const HIGH_CONCURRENCY: usize = 64;
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    // `cargo test --benches` runs this without `--bench`: nothing to check there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("gateway benchmark: run it with `cargo bench -p aratta-tests --bench gateway`");
        return;
    }
    let settings = Settings::from_env();
    let bin = aratta_bin();
    warn_if_stale(&bin);
    let work = tempfile::tempdir().expect("temporary directory");
    let mock = Mock::start(Mode::Healthy);
    println!(
        "gateway benchmark: aratta = {}, mock upstream on {}, {} rounds of {:.1} s per phase",
        bin.display(),
        mock.addr,
        settings.rounds,
        settings.seconds.as_secs_f64()
    );

    // Start times: spawn → listening line, empty cache vs warm cache.
    let home = work.path().join("home");
    std::fs::create_dir_all(&home).expect("create ARATTA_HOME");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[providers.local]\nbase_url = \"http://{}/v1\"\n",
            mock.addr
        ),
    )
    .expect("write config.toml");
    if let Some(path) = std::env::var_os("ARATTA_BENCH_LOCAL_ADAPTER") {
        // Serve `local` with another component (e.g. the Python example) for the whole run.
        let adapters = home.join("adapters");
        std::fs::create_dir_all(&adapters).expect("create the adapters directory");
        std::fs::copy(&path, adapters.join("local.wasm")).expect("copy ARATTA_BENCH_LOCAL_ADAPTER");
        println!(
            "serving `local` with {}",
            std::path::Path::new(&path).display()
        );
    }
    let starts = measure_starts(&bin, &home, work.path(), settings.starts);

    // The gateway under load: started on a warm cache.
    let cache = work.path().join("cache-serve");
    let gateway = Gateway::spawn(&bin, &home, &cache);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("load generator runtime");
    let direct = Target {
        addr: mock.addr,
        path: "/v1/chat/completions",
        body: chat_body("llama3.2"),
    };
    let through = Target {
        addr: gateway.addr,
        path: "/v1/chat/completions",
        body: chat_body("local:llama3.2"),
    };

    let mut rounds = Vec::new();
    rt.block_on(async {
        // A first request through each path proves both answer before anything is timed.
        for target in [&direct, &through] {
            let r = run_phase(target, 1, 1, Duration::from_secs(5), 0, Duration::ZERO, None).await;
            r.fail_loudly("first request");
        }
        for round in 0..settings.rounds {
            let mut one = Round::default();
            for (slot, concurrency) in [(0, 1), (1, HIGH_CONCURRENCY)] {
                let (warm_n, warm_t) = if concurrency == 1 {
                    (300, Duration::from_millis(300))
                } else {
                    (5_000, Duration::from_millis(500))
                };
                let d = run_phase(
                    &direct,
                    concurrency,
                    warm_n,
                    warm_t,
                    settings.max_requests,
                    settings.seconds,
                    None,
                )
                .await;
                d.fail_loudly(&format!("round {round}: direct, c={concurrency}"));
                let before = mock.chat_hits();
                let g = run_phase(
                    &through,
                    concurrency,
                    warm_n,
                    warm_t,
                    settings.max_requests,
                    settings.seconds,
                    Some(gateway.pid()),
                )
                .await;
                g.fail_loudly(&format!("round {round}: aratta, c={concurrency}"));
                let reached = mock.chat_hits() - before;
                let sent = g.measured() + g.warmup_requests;
                if reached != sent {
                    panic!(
                        "round {round}, c={concurrency}: the gateway answered {sent} requests with 200 but the mock upstream saw {reached}"
                    );
                }
                one.direct[slot] = Some(d.summary());
                one.gateway[slot] = Some(g.summary());
            }
            print_round(round, &one);
            rounds.push(one);
        }
    });
    let rss = gateway.memory();
    drop(gateway);
    report(&rounds, &starts, rss);

    println!();
    resilience::bookkeeping();
    println!();
    rt.block_on(resilience::fallback(&bin, work.path(), &settings));
    println!();
    rt.block_on(swaps::hot_swaps(&bin, work.path(), &settings));
}

// ---------------------------------------------------------------------------------------------
// Settings

pub(crate) struct Settings {
    pub(crate) rounds: usize,
    pub(crate) seconds: Duration,
    pub(crate) max_requests: u64,
    pub(crate) starts: usize,
}

impl Settings {
    fn from_env() -> Self {
        fn var<T: std::str::FromStr>(name: &str, default: T) -> T {
            match std::env::var(name) {
                Ok(v) => v
                    .trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid number")),
                Err(_) => default,
            }
        }
        Settings {
            rounds: var("ARATTA_BENCH_ROUNDS", 3usize).clamp(1, 20),
            seconds: Duration::from_secs_f64(var("ARATTA_BENCH_SECONDS", 2.0f64).clamp(0.1, 30.0)),
            max_requests: var("ARATTA_BENCH_MAX_REQUESTS", 200_000u64).clamp(10, 2_000_000),
            starts: var("ARATTA_BENCH_STARTS", 3usize).min(10),
        }
    }
}
