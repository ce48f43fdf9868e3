//! The gateway benchmark: what Aratta adds to a chat completion, against the same upstream
//! reached directly, measured in one process so the baseline and the gateway share a machine.
//!
//! `cargo bench --bench gateway`
//!
//! 1. A mock upstream (hyper, loopback, its own thread and single-threaded runtime) speaks the
//!    three wires ([`wire`]): OpenAI chat completions, Anthropic Messages and Gemini
//!    `generateContent`, streamed (one event per frame) or not.
//! 2. The real `aratta` binary as deployed (`target/dist/aratta`, the `dist` profile with
//!    whole-program LTO, built when missing; or `$ARATTA_BIN`)
//!    starts as a child with a temporary `ARATTA_HOME` whose config points `local`, `anthropic`
//!    and `google` at the mock, on `--port 0`; it is ready when it prints
//!    `aratta listening on http://HOST:PORT`.
//! 3. For each built-in adapter (`local` for OpenAI's wire, `anthropic`, `google`), streamed and
//!    not: a load generator (one single-threaded runtime, N workers with one keep-alive
//!    connection each, sequential requests) measures the direct path (client → mock, in the
//!    provider's API) and the gateway path (client → Aratta's route for the same API, model
//!    `adapter:model`, → the adapter → mock) at concurrency 1 and 50, after a warm-up on the
//!    same connections. Rounds alternate the two paths; tables show medians over rounds.
//!    Streams are also timed to their first bytes (time to first token).
//! 4. From the child's `/proc`: CPU time (utime + stime) over the measured phases divided by the
//!    requests served, and peak RSS (`VmHWM`). Start time is spawn → listening line, with an
//!    empty compile cache (`ARATTA_CACHE_DIR`) and with a warm one.
//! 5. Where each request's CPU goes ([`breakdown`]): `perf record` of the gateway during one
//!    more c=50 phase of `local`, each sample charged to the stage its call stack is in.
//! 6. The resilience layers ([`resilience`]): the success path's bookkeeping (breaker, metrics,
//!    retry state, upstream-status slot) timed in this process against an empty loop; then a
//!    second gateway whose alias' primary provider fails every other request (503) and falls
//!    back to a healthy one, against the same alias with a healthy first provider.
//! 7. Hot swaps ([`swaps`]): a gateway serving while a new `local.wasm` is dropped into its
//!    adapters directory every `ARATTA_BENCH_SWAP_MS` (default 500), against no swaps.
//! 8. Serving a team ([`team`]): the client-key check and the usage record (priced, counted,
//!    written to SQLite in batches) timed in this process against the same empty loop.
//!
//! Figures are reported against Aratta's aims, never asserted. Any failed request (a transport
//! error, a non-200 answer, an answer that is not the mock's, or a gateway request that never
//! reached the mock) makes the benchmark exit non-zero.
//!
//! Knobs (environment): `ARATTA_BENCH_ROUNDS` (default 3), `ARATTA_BENCH_SECONDS` (measured
//! seconds per phase, default 2), `ARATTA_BENCH_MAX_REQUESTS` (per phase, default 200000),
//! `ARATTA_BENCH_STARTS` (cold starts to time, each followed by two warm ones; default 3, 0 skips
//! them), `ARATTA_BENCH_ADAPTERS` (comma-separated, default `local,anthropic,google`),
//! `ARATTA_BENCH_PARTS` (comma-separated parts to run, default
//! `load,breakdown,resilience,swaps,team`), `ARATTA_BIN` (the gateway binary to run),
//! `ARATTA_BENCH_SWAP_MS` (the hot-swap interval), `ARATTA_BENCH_ADAPTER` (the component
//! dropped in; default the built `local`), `ARATTA_BENCH_LOCAL_ADAPTER` (a component installed
//! as `local` for the load and start phases, e.g. the Python example; default the built-in one).

mod breakdown;
mod load;
mod mock;
mod process;
mod report;
mod resilience;
mod swaps;
mod team;
mod wire;

use std::time::Duration;

use bytes::Bytes;

use load::{Target, run_phase};
use mock::{Mock, Mode};
use process::{Gateway, aratta_bin, measure_starts, warn_if_stale};
use report::{Round, Scenario, print_round, report};
use wire::Wire;

/// The same two messages on both paths; only the model name differs.
pub(crate) fn chat_body(model: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"model":"{model}","messages":[{{"role":"system","content":"You are a helpful assistant."}},{{"role":"user","content":"Hello! Say hello back in one short sentence."}}]}}"#
    ))
}

/// Aratta's aims (docs: /work/shared/peer-figures.md).
pub(crate) const AIM_ADDED_P50_C1_US: f64 = 100.0;
pub(crate) const AIM_ADDED_P99_C1_US: f64 = 300.0;
pub(crate) const AIM_ADDED_TTFT_US: f64 = 200.0;
pub(crate) const AIM_RPS_HIGH: f64 = 25_000.0;
pub(crate) const AIM_CPU_PER_REQUEST_US: f64 = 60.0;
pub(crate) const AIM_PEAK_RSS_MB: f64 = 60.0;
/// The resilience layers' budget on the success path (issue 4).
pub(crate) const AIM_RESILIENCE_CPU_US: f64 = 5.0;
/// Client-key check plus usage record, CPU per request (issue 14).
pub(crate) const AIM_TEAM_CPU_US: f64 = 5.0;

pub(crate) const HIGH_CONCURRENCY: usize = 50;
pub(crate) const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

fn main() {
    // `cargo test --benches` runs this without `--bench`: nothing to check there.
    if !std::env::args().any(|a| a == "--bench") {
        println!("gateway benchmark: run it with `cargo bench --bench gateway`");
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
            "# No background model listing: every request names `adapter:model`.\n\
             [behaviour]\nmodel_list_refresh_seconds = 0\n\n\
             [providers.local]\nbase_url = \"http://{0}/v1\"\n\n\
             [providers.anthropic]\nbase_url = \"http://{0}\"\n\n\
             [providers.google]\nbase_url = \"http://{0}/v1beta\"\n",
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("load generator runtime");
    if settings.runs("load") {
        let starts = measure_starts(&bin, &home, work.path(), settings.starts);
        // The gateway under load: started on a warm cache.
        let cache = work.path().join("cache-serve");
        let gateway = Gateway::spawn(&bin, &home, &cache);
        let mut results = Vec::new();
        for scenario in settings.scenarios() {
            let rounds = rt.block_on(load_scenario(scenario, &mock, &gateway, &settings));
            results.push((scenario, rounds));
        }
        let rss = gateway.memory();
        drop(gateway);
        report(&results, &starts, rss);
    }
    if settings.runs("breakdown") {
        println!();
        let cache = work.path().join("cache-serve");
        // Served from the compile cache, as the load test is, so the adapter's code runs from
        // its `.cwasm` file and perf can name its frames.
        drop(Gateway::spawn(&bin, &home, &cache));
        let gateway = Gateway::spawn(&bin, &home, &cache);
        rt.block_on(breakdown::run(&gateway, &settings, false));
        rt.block_on(breakdown::run(&gateway, &settings, true));
    }
    if settings.runs("resilience") {
        println!();
        resilience::bookkeeping();
        println!();
        rt.block_on(resilience::fallback(&bin, work.path(), &settings));
    }
    if settings.runs("swaps") {
        println!();
        rt.block_on(swaps::hot_swaps(&bin, work.path(), &settings));
    }
    if settings.runs("team") {
        println!();
        team::per_request(work.path());
    }
}

/// The rounds of one scenario: at c=1 and c=[`HIGH_CONCURRENCY`], direct then through Aratta.
async fn load_scenario(
    scenario: Scenario,
    mock: &Mock,
    gateway: &Gateway,
    settings: &Settings,
) -> Vec<Round> {
    let direct = Target::new(mock.addr, scenario.wire, false, scenario.stream);
    let through = Target::new(gateway.addr, scenario.wire, true, scenario.stream);
    // A first request through each path proves both answer before anything is timed.
    for target in [&direct, &through] {
        let r = run_phase(
            target,
            1,
            1,
            Duration::from_secs(5),
            0,
            Duration::ZERO,
            None,
        )
        .await;
        r.fail_loudly(&format!("{scenario}: first request"));
    }
    let mut rounds = Vec::new();
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
            d.fail_loudly(&format!(
                "{scenario}, round {round}: direct, c={concurrency}"
            ));
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
            g.fail_loudly(&format!(
                "{scenario}, round {round}: aratta, c={concurrency}"
            ));
            let reached = mock.chat_hits() - before;
            let sent = g.measured() + g.warmup_requests;
            if reached != sent {
                panic!(
                    "{scenario}, round {round}, c={concurrency}: the gateway answered {sent} requests with 200 but the mock upstream saw {reached}"
                );
            }
            one.direct[slot] = Some(d.summary());
            one.gateway[slot] = Some(g.summary());
        }
        print_round(scenario, round, &one);
        rounds.push(one);
    }
    rounds
}

// ---------------------------------------------------------------------------------------------
// Settings

pub(crate) struct Settings {
    pub(crate) rounds: usize,
    pub(crate) seconds: Duration,
    pub(crate) max_requests: u64,
    pub(crate) starts: usize,
    adapters: Vec<String>,
    parts: Vec<String>,
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
            adapters: list("ARATTA_BENCH_ADAPTERS", &["local", "anthropic", "google"]),
            parts: list(
                "ARATTA_BENCH_PARTS",
                &["load", "breakdown", "resilience", "swaps", "team"],
            ),
        }
    }

    /// Whether the part `name` of the benchmark runs.
    fn runs(&self, name: &str) -> bool {
        self.parts.iter().any(|p| p == name)
    }

    /// The load scenarios: each chosen adapter, not streamed then streamed.
    fn scenarios(&self) -> Vec<Scenario> {
        Wire::ALL
            .into_iter()
            .filter(|w| self.adapters.iter().any(|a| a == w.adapter()))
            .flat_map(|wire| [false, true].map(|stream| Scenario { wire, stream }))
            .collect()
    }
}

/// A comma-separated list from the environment; every entry must be one of `known`.
fn list(name: &str, known: &[&str]) -> Vec<String> {
    let Ok(value) = std::env::var(name) else {
        return known.iter().map(|s| s.to_string()).collect();
    };
    let chosen: Vec<String> = value
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    for entry in &chosen {
        if !known.contains(&entry.as_str()) {
            panic!(
                "{name}: unknown entry {entry:?}; choose from {}",
                known.join(", ")
            );
        }
    }
    chosen
}
