//! What serving a team costs per request: the client-key check and the key's limits
//! (requests and tokens per minute, requests at once, a budget) at the door, and the usage
//! record at the end, run in this process through the gateway's own code, against the same
//! empty loop as the resilience bookkeeping (the timestamps a request takes anyway). The usage
//! record's cost includes its share of the batched SQLite writes, and the limits' share of
//! their once-a-second sync with the store: the whole process's CPU is measured (the writer
//! runs on another thread) and the recorder is flushed before the clock stops. Requests take
//! turns among the keys, as a team's would. The aim is at most 5 µs of CPU per request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aratta_host::keys::{CALLER, Caller, ClientAuth, KeyRing, KeySpec, Limits, Route, issue};
use aratta_host::resilience::Metrics;
use aratta_host::scri::{Lineage, Usage};
use aratta_host::store::Store;
use aratta_host::usage::{Prices, RecorderSettings, UsageRecorder};

use crate::AIM_TEAM_CPU_US;
use crate::report::median;

/// The process's CPU time, every thread (`RUSAGE_SELF`).
fn process_cpu() -> Duration {
    // SAFETY: a zeroed rusage is a valid value to write into.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid rusage to write into.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

const ITERATIONS: u32 = 100_000;
/// Keys in the ring, so the lookup is a lookup among many.
const KEYS: usize = 1_000;

/// Times the key check and the usage record and prints them against the aim.
pub(crate) fn per_request(work: &std::path::Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("team runtime");
    rt.block_on(async {
        let store = Store::open(&work.join("team-bench.db")).await.expect("a store");
        let mut secrets = Vec::with_capacity(KEYS);
        for i in 0..KEYS {
            // Every limit set, none reached: each is checked and charged.
            let spec = KeySpec {
                name: format!("bench {i}"),
                models: Some(vec!["local:*".into()]),
                rpm: Some(1 << 40),
                tpm: Some(1 << 50),
                max_concurrent: Some(64),
                budget_usd: Some(1e12),
                ..KeySpec::default()
            };
            secrets.push(issue(&store, &spec, 1).await.expect("a key").secret);
        }
        let ring = Arc::new(KeyRing::load(store.clone()).await.expect("the ring"));
        let key_limits = Arc::new(Limits::new());
        key_limits.start_sync(store.clone(), Duration::from_secs(1));
        let auth = ClientAuth::new(ring, true, key_limits.clone());
        let headers: Vec<http::HeaderMap> = secrets
            .iter()
            .map(|secret| {
                let mut headers = http::HeaderMap::new();
                headers.insert(
                    http::header::AUTHORIZATION,
                    format!("Bearer {secret}").parse().expect("a header"),
                );
                headers
            })
            .collect();
        let uri: http::Uri = "/v1/chat/completions".parse().expect("a uri");

        let gw = crate::resilience::bare_gateway();
        let overrides = [(
            "local:*".to_owned(),
            aratta_host::usage::Price {
                input: 0.1,
                output: 0.2,
                ..Default::default()
            },
        )];
        let metrics = Metrics::new();
        let recorder = UsageRecorder::start(
            store.clone(),
            Prices::new(overrides),
            &metrics,
            RecorderSettings::default(),
            Some(key_limits),
        );
        gw.record_usage(recorder.clone());
        let lineage = Lineage {
            provider: "local".into(),
            model: "llama3.2".into(),
            adapter: "local".into(),
            adapter_version: "1.0.0".into(),
            latency_us: 900,
            request_id: "req_0123456789abcdef0123456789abcdef".into(),
            attempts: Vec::new(),
        };
        let usage = Usage {
            input_tokens: Some(2006),
            output_tokens: Some(10),
            cache_read_tokens: Some(1920),
            cache_write_tokens: None,
            reasoning_tokens: None,
        };

        let mut empty = Vec::new();
        let mut keyed = Vec::new();
        for _ in 0..5 {
            let t = process_cpu();
            for _ in 0..ITERATIONS {
                let t0 = Instant::now();
                std::hint::black_box(t0.elapsed());
            }
            empty.push((process_cpu() - t).as_nanos() as f64 / f64::from(ITERATIONS));

            let t = process_cpu();
            for i in 0..ITERATIONS {
                // The writer is given its turn every 10,000 requests, as a server's would be
                // between requests: a tight loop records far faster than any server answers,
                // and would only measure the queue overflowing.
                if i % 10_000 == 0 {
                    assert!(recorder.flush(Duration::from_secs(60)).await, "the recorder flushed");
                }
                let t0 = Instant::now();
                let caller: Caller = auth
                    .admit(Route::Chat, &headers[i as usize % KEYS], &uri, 2)
                    .expect("the key is good");
                let key = caller.key.clone().expect("a key");
                let admitted = auth
                    .limits()
                    .admit(&key, aratta_host::clock::unix_millis())
                    .expect("within its limits");
                CALLER
                    .scope(caller, async {
                        aratta_host::keys::check_model("local:llama3.2").expect("allowed");
                        let ticket = gw.ticket("chat", "local:llama3.2", &lineage.request_id);
                        if let Some(ticket) = ticket {
                            ticket.answered(&lineage, Some(&usage), "ok");
                        }
                    })
                    .await;
                drop(admitted);
                std::hint::black_box(t0.elapsed());
            }
            assert!(recorder.flush(Duration::from_secs(60)).await, "the recorder flushed");
            keyed.push((process_cpu() - t).as_nanos() as f64 / f64::from(ITERATIONS));
        }
        assert_eq!(metrics.usage_dropped.get(), 0, "no record was dropped");
        let (e, k) = (median(empty), median(keyed));
        let added_us = (k - e) / 1e3;
        println!(
            "Serving a team (in process, {ITERATIONS} requests × 5 taking turns among {KEYS} keys, medians; all threads' CPU):"
        );
        println!(
            "  key check + limits (rpm, tpm, at once, budget) + model check + usage record (priced, counted, charged, written to SQLite in batches) + the limits' sync: {k:.0} ns CPU/request vs {e:.0} ns for the timestamps alone ({:.1}×)",
            k / e.max(1.0)
        );
        println!(
            "  added: {added_us:.3} µs CPU per request vs ≤ {AIM_TEAM_CPU_US:.0} µs: {:.3}× the aim — {}",
            added_us / AIM_TEAM_CPU_US,
            if added_us <= AIM_TEAM_CPU_US { "MET" } else { "NOT MET" }
        );
    });
}
