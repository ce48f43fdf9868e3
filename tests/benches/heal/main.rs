//! The heal benchmark: how long from the first drifted response to the first healed answer,
//! phase by phase, with a cold build cache and then a warm one, while the gateway keeps serving
//! other traffic.
//!
//! `cargo bench -p aratta-tests --bench heal`
//!
//! Each run starts the real `aratta` binary with the heal test kit's mocks (`aratta_tests::heal`):
//! Anthropic's Messages API, which then renames the response's `content` to `output`; a
//! scripted heal model behind the `local` adapter (its two answers cost nothing, so the build
//! and the verification dominate, as they would not with a real model); an xAI researcher.
//! Two workers send chat requests to the `local` provider throughout (any failure among them
//! is reported: the aim is zero), and one client repeats the drifted Anthropic request every
//! 100 ms until it is answered again. The cold run's build directory is new; the warm run
//! reuses it, so only the patched adapter crate is compiled.
//!
//! Figures are reported against the aims (warm ≤ 30 s, cold ≤ 3 min on two cores), never
//! asserted; a run that does not heal makes the benchmark exit non-zero.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use aratta_tests::heal::*;
use aratta_tests::upstream::Upstream;
use serde_json::{Value, json};

/// The real fix plus a second alias named after the run, so the warm run compiles changed code
/// (the same patch twice, or one differing only in a comment, is served from rustc's
/// incremental cache in a fraction of a second).
fn edits(label: &str) -> Value {
    let mut edits = good_edits();
    let replace = edits[0]["replace"].as_str().unwrap().to_owned();
    edits[0]["replace"] = json!(format!(
        "    #[serde(alias = \"{label}_output\")]\n{replace}"
    ));
    edits
}

/// What one run measured.
struct Run {
    label: &'static str,
    healed_after: Duration,
    phases: Vec<(String, u64)>,
    drifted_failures: u64,
    traffic: u64,
    traffic_failures: u64,
}

async fn run(label: &'static str, build_dir: &Path) -> Result<Run, String> {
    let drift = DriftSwitch::default();
    let anthropic_up = Upstream::start(anthropic(drift.clone())).await;
    let model = HealModel::start(vec![
        ("aratta_heal_diagnosis", diagnosis()),
        ("aratta_heal_fix", fix(0.95, edits(label))),
    ])
    .await;
    let (xai, openai) = (researcher(None).await, researcher(None).await);
    let setup = Setup {
        auto_apply: true,
        research: Some((xai.url(), openai.url())),
        build_dir: Some(build_dir.to_owned()),
        ..Setup::default()
    };
    let gateway = Arc::new(start(&anthropic_up, &model, &setup).await);
    if chat_status(&gateway).await.0 != 200 {
        return Err(format!("{label}: the adapter failed before the drift"));
    }

    // Other traffic, throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let (served, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (gateway, stop) = (gateway.clone(), stop.clone());
            let (served, failed) = (served.clone(), failed.clone());
            tokio::spawn(async move {
                let body = json!({"model": "local:heal-coder", "messages": [{"role": "user", "content": "hello"}]});
                while !stop.load(Ordering::Relaxed) {
                    let ok = gateway.post_json("/api/v1/chat", &body).await.status() == 200;
                    served.fetch_add(1, Ordering::Relaxed);
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
        })
        .collect();

    drift.set(Drift::RenamedField);
    let t0 = Instant::now();
    let mut drifted_failures = 0;
    loop {
        if chat_status(&gateway).await.0 == 200 {
            break;
        }
        drifted_failures += 1;
        if t0.elapsed() > Duration::from_secs(900) {
            return Err(format!(
                "{label}: not healed within 15 minutes\n{}",
                gateway.logs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let healed_after = t0.elapsed();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.await;
    }
    let cycle: Value = gateway
        .get("/api/v1/heal")
        .await
        .json::<Value>()
        .await
        .unwrap()[0]
        .clone();
    if cycle["status"] != "swapped" {
        return Err(format!("{label}: the cycle did not swap: {cycle:#}"));
    }
    let phases = cycle["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["duration_ms"].as_u64().unwrap(),
            )
        })
        .collect();
    Ok(Run {
        label,
        healed_after,
        phases,
        drifted_failures,
        traffic: served.load(Ordering::Relaxed),
        traffic_failures: failed.load(Ordering::Relaxed),
    })
}

fn print(run: &Run) {
    let phases: Vec<String> = run
        .phases
        .iter()
        .map(|(name, ms)| format!("{name} {:.2} s", *ms as f64 / 1000.0))
        .collect();
    println!(
        "{:<5} first drifted response -> first healed answer: {:>6.1} s   ({})",
        run.label,
        run.healed_after.as_secs_f64(),
        phases.join(", ")
    );
    println!(
        "      drifted requests that failed meanwhile: {}; other traffic: {} requests, {} failed",
        run.drifted_failures, run.traffic, run.traffic_failures
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        let root = aratta_tests::bins::workspace_root().join("target");
        std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let dir = tempfile::tempdir_in(&root).map_err(|e| e.to_string())?;
        let cold = run("cold", dir.path()).await?;
        print(&cold);
        let warm = run("warm", dir.path()).await?;
        print(&warm);
        let ratio = warm.healed_after.as_secs_f64() / cold.healed_after.as_secs_f64();
        println!(
            "warm/cold: {ratio:.2}   aims: warm <= 30 s ({}), cold <= 180 s ({}), other traffic 0 failed ({})",
            verdict(warm.healed_after <= Duration::from_secs(30)),
            verdict(cold.healed_after <= Duration::from_secs(180)),
            verdict(cold.traffic_failures + warm.traffic_failures == 0),
        );
        Ok::<_, String>(())
    });
    if let Err(e) = result {
        eprintln!("heal benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT met" }
}
