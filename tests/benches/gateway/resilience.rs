//! What the resilience layers cost.
//!
//! - [`bookkeeping`]: the work the gateway's walk does around every successful provider call
//!   (breaker admission and outcome, request counter and latency histogram, the retry state,
//!   the upstream-status slot and its task-local scope) run in this process through the
//!   gateway's own code, against an empty loop that only takes the timestamps the walk takes
//!   anyway. The difference is its CPU per request; the aim is at most 5 µs.
//! - [`fallback`]: a gateway whose alias `flaky` starts with a provider failing every other
//!   request (503) and falls back to a healthy one, against alias `steady` (the healthy provider
//!   first) on the same gateway, alternating phases. Breakers are held closed so every failure
//!   takes the fallback path (with the default breaker the failing provider would be skipped).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU16;
use std::time::{Duration, Instant};

use aratta_host::config::Config;
use aratta_host::gateway::{Gateway as HostGateway, GatewayError};
use aratta_host::runtime::outbound::{Outbound, UPSTREAM_STATUS};
use aratta_host::runtime::{Runtime, SandboxLimits};

use crate::load::{Summary, Target, run_phase};
use crate::mock::{Mock, Mode};
use crate::process::Gateway;
use crate::report::{median, print_paired};
use crate::{AIM_RESILIENCE_CPU_US, HIGH_CONCURRENCY, Settings};

/// This thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write into.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

const ITERATIONS: u32 = 200_000;

/// A gateway over the default config and a runtime with no adapter loaded: the gateway's own
/// bookkeeping, run in this process with nothing to call.
pub(crate) fn bare_gateway() -> HostGateway {
    let limits = SandboxLimits {
        memory_bytes: 64 << 20,
        fuel: 1_000_000,
        max_instances: 4,
    };
    let runtime = Arc::new(
        Runtime::new(limits, None, Outbound::new(Duration::from_secs(1)))
            .expect("a runtime with no adapters"),
    );
    HostGateway::new(runtime, Config::default(), &|_| None)
}

/// Times the success path's resilience bookkeeping and prints it against the aim.
pub(crate) fn bookkeeping() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("bookkeeping runtime");
    let gw = bare_gateway();
    let policy = gw.retry_policy();
    let provider = "local";
    let mut empty = Vec::new();
    let mut full = Vec::new();
    rt.block_on(async {
        for _ in 0..7 {
            // The timestamps the walk takes with or without resilience.
            let t = thread_cpu();
            for _ in 0..ITERATIONS {
                let t0 = Instant::now();
                std::hint::black_box(t0.elapsed());
            }
            empty.push((thread_cpu() - t).as_nanos() as f64 / f64::from(ITERATIONS));

            let t = thread_cpu();
            for _ in 0..ITERATIONS {
                let t0 = Instant::now();
                let (allowed, transition) = gw.breakers.allow(provider, t0);
                gw.note_transition(provider, transition);
                let retries = policy.start();
                let status = Arc::new(AtomicU16::new(0));
                let answer = UPSTREAM_STATUS
                    .scope(status.clone(), async { Ok::<u32, GatewayError>(1) })
                    .await;
                let elapsed = t0.elapsed();
                gw.observe(provider, "chat", &answer, elapsed, t0);
                std::hint::black_box((allowed, retries, status, answer.is_ok()));
            }
            full.push((thread_cpu() - t).as_nanos() as f64 / f64::from(ITERATIONS));
        }
    });
    let (e, f) = (median(empty), median(full));
    let added_us = (f - e) / 1e3;
    println!(
        "Resilience bookkeeping on the success path (in process, {ITERATIONS} calls × 7, medians):"
    );
    println!(
        "  breaker allow+record, request counter, latency histogram, retry state, status slot: {f:.0} ns CPU/call vs {e:.0} ns for the timestamps alone"
    );
    println!(
        "  added: {added_us:.3} µs CPU per request vs ≤ {AIM_RESILIENCE_CPU_US:.0} µs: {:.3}× the aim — {}",
        added_us / AIM_RESILIENCE_CPU_US,
        if added_us <= AIM_RESILIENCE_CPU_US {
            "MET"
        } else {
            "NOT MET"
        }
    );
}

/// A gateway over two mocks: `primary` (failing every other request) and `backup`.
struct Pair {
    primary: Mock,
    backup: Mock,
    gateway: Gateway,
}

fn start_pair(bin: &Path, work: &Path) -> Pair {
    let primary = Mock::start(Mode::FailEveryOther);
    let backup = Mock::start(Mode::Healthy);
    let home = work.join("home-fallback");
    std::fs::create_dir_all(&home).expect("create the fallback ARATTA_HOME");
    std::fs::write(
        home.join("config.toml"),
        format!(
            "[providers.primary]\nadapter = \"local\"\nbase_url = \"http://{}/v1\"\n\n\
             [providers.backup]\nadapter = \"local\"\nbase_url = \"http://{}/v1\"\n\n\
             [aliases]\nflaky = [\"primary:llama3.2\", \"backup:llama3.2\"]\n\
             steady = [\"backup:llama3.2\", \"primary:llama3.2\"]\n\n\
             # Held closed: every failure of the primary takes the fallback path.\n\
             [breaker]\nfailure_threshold = 1000000000\n",
            primary.addr, backup.addr
        ),
    )
    .expect("write the fallback config");
    let gateway = Gateway::spawn(bin, &home, &work.join("cache-serve"));
    Pair {
        primary,
        backup,
        gateway,
    }
}

/// One measured phase on `model`; panics on any failed answer or on answers the mocks did not
/// give.
async fn phase(pair: &Pair, model: &str, concurrency: usize, settings: &Settings) -> Summary {
    let target = Target::openai(pair.gateway.addr, model);
    let (warm_n, warm_t) = if concurrency == 1 {
        (300, Duration::from_millis(300))
    } else {
        (5_000, Duration::from_millis(500))
    };
    let before = pair.primary.chat_hits() + pair.backup.chat_hits();
    let r = run_phase(
        &target,
        concurrency,
        warm_n,
        warm_t,
        settings.max_requests,
        settings.seconds,
        Some(pair.gateway.pid()),
    )
    .await;
    r.fail_loudly(&format!("{model}, c={concurrency}"));
    let answered = pair.primary.chat_hits() + pair.backup.chat_hits() - before;
    let sent = r.measured() + r.warmup_requests;
    assert_eq!(
        answered, sent,
        "{model}, c={concurrency}: the gateway answered {sent} requests with 200 but the mocks answered {answered}"
    );
    r.summary()
}

/// Alias `flaky` (primary failing 50%, falling back) against alias `steady` (all success).
pub(crate) async fn fallback(bin: &Path, work: &Path, settings: &Settings) {
    let pair = start_pair(bin, work);
    // [c=1, c=50] × [steady, flaky], per round.
    let mut rows: Vec<[[Summary; 2]; 2]> = Vec::new();
    let failed_before = pair.primary.chat_arrivals() - pair.primary.chat_hits();
    for _ in 0..settings.rounds {
        let mut row = [[Summary::default(); 2]; 2];
        for (slot, concurrency) in [(0usize, 1usize), (1, HIGH_CONCURRENCY)] {
            row[slot][0] = phase(&pair, "steady", concurrency, settings).await;
            row[slot][1] = phase(&pair, "flaky", concurrency, settings).await;
        }
        rows.push(row);
    }
    let failed = pair.primary.chat_arrivals() - pair.primary.chat_hits() - failed_before;
    println!(
        "Fallback: alias over two providers, the first failing every other request with 503 (breakers held closed; medians over {} rounds)",
        rows.len()
    );
    print_paired(
        &rows,
        "alias",
        ["steady (all succeed)", "flaky (50% fall back)"],
        "flaky/steady",
        "",
    );
    println!(
        "  the primary failed {failed} requests, each answered by the backup with no error reaching the client"
    );
}
