//! Where each request's CPU goes: `perf record` samples the gateway's call stacks during one
//! more c=50 phase of `local`, and each sample is charged to the stage of the innermost frame
//! that names one ([`STAGES`], checked from the sampled frame outwards). A stage's share of the
//! samples times the phase's CPU per request is its cost per request. Recording perturbs the
//! phase, so the CPU per request is that phase's own (shown next to it); the load tables above
//! are the unperturbed figures.
//!
//! Needs `perf` (Debian: `apt install linux-perf`) and permission to record another process
//! (root, or `kernel.perf_event_paranoid` ≤ 1); without them it says so and measures nothing.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::load::{Target, run_phase};
use crate::process::Gateway;
use crate::wire::Wire;
use crate::{HIGH_CONCURRENCY, Settings};

/// The stages of a request, each with the frame names (substrings of the symbol, or of the
/// mapped file for guest code) that place a sample in it. Checked in order at each frame.
const STAGES: &[(&str, &[&str])] = &[
    ("kernel: loopback TCP, syscalls, wake-ups", &["[kernel"]),
    (
        "guest code (the adapter's encode and decode)",
        &[".cwasm", "wasm[", "wasm-function"],
    ),
    (
        "wasi-http outbound (fields, bodies, streams host calls)",
        &[
            "wasmtime_wasi_http",
            "aratta_host::runtime::outbound",
            "aratta_host::runtime::egress",
        ],
    ),
    (
        "pooled client (hyper, to the upstream)",
        &["hyper_util::client", "hyper::client"],
    ),
    (
        "instantiation and teardown",
        &[
            "InstancePre",
            "instantiate",
            "wasmtime::runtime::store",
            "wasmtime::runtime::vm::instance::allocator",
            "aratta_host::runtime::spares",
            "aratta_host::runtime::sandbox",
        ],
    ),
    (
        "component boundary (calls, lowering, lifting)",
        &["wasmtime::runtime::component", "wasmtime::runtime::func"],
    ),
    ("wasmtime, other", &["wasmtime"]),
    ("egress encode (SCRI → wire JSON)", &["encode", "to_wire"]),
    (
        "ingress parse (wire JSON → SCRI)",
        &["chat_request", "dialects::json", "decode"],
    ),
    (
        "gateway: routing, resilience, SCRI ↔ WIT",
        &[
            "aratta_host::gateway",
            "aratta_host::resilience",
            "aratta_host::scri",
            "aratta_host::runtime",
        ],
    ),
    ("dialects: handlers", &["aratta_host::dialects"]),
    (
        "HTTP server (hyper, axum, ingress guard)",
        &[
            "hyper::server",
            "hyper::proto",
            "axum",
            "tower",
            "aratta_host::server",
        ],
    ),
    ("tokio scheduling", &["tokio::"]),
];

/// What no stage names (allocator and libc calls reached from unnamed frames, and stacks perf
/// could not unwind).
const OTHER: &str = "other (allocator, libc, unwinding lost)";

/// The breakdown of `local` at c=[`HIGH_CONCURRENCY`], streamed or not.
pub(crate) async fn run(gateway: &Gateway, settings: &Settings, stream: bool) {
    println!(
        "Breakdown of the gateway's CPU per request (local, {}, c={HIGH_CONCURRENCY}, perf record)",
        if stream { "streamed" } else { "whole" }
    );
    if let Err(why) = perf_usable() {
        println!("  not measured: {why}");
        return;
    }
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("perf.data");
    let target = Target::new(gateway.addr, Wire::OpenAi, true, stream);
    // Warm the connections and the gateway first, unrecorded.
    let warm = run_phase(
        &target,
        HIGH_CONCURRENCY,
        5_000,
        Duration::from_millis(500),
        0,
        Duration::ZERO,
        None,
    )
    .await;
    warm.fail_loudly("breakdown warm-up");
    let seconds = settings.seconds.as_secs_f64();
    let perf = Command::new("perf")
        .args([
            "record",
            "-q",
            "-F",
            "1999",
            "--call-graph",
            "dwarf,16384",
            "-o",
        ])
        .arg(&data)
        .args(["-p", &gateway.pid().to_string(), "--", "sleep"])
        .arg(format!("{seconds:.2}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start perf record");
    // Let perf attach before the measured phase starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let phase = run_phase(
        &target,
        HIGH_CONCURRENCY,
        0,
        Duration::ZERO,
        settings.max_requests,
        Duration::from_secs_f64((seconds - 0.4).max(0.2)),
        Some(gateway.pid()),
    )
    .await;
    phase.fail_loudly("breakdown phase");
    let output = tokio::task::spawn_blocking(move || perf.wait_with_output())
        .await
        .expect("wait for perf")
        .expect("perf record ran");
    if !output.status.success() {
        println!(
            "  not measured: perf record failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
        return;
    }
    let samples = match stacks(&data) {
        Ok(s) => s,
        Err(why) => {
            println!("  not measured: {why}");
            return;
        }
    };
    let folded = write_folded(
        &samples,
        if stream {
            "local-streamed"
        } else {
            "local-whole"
        },
    );
    let summary = phase.summary();
    let cpu_us = summary
        .cpu_per_request
        .map(crate::report::us)
        .unwrap_or(f64::NAN);
    let mut counts = vec![0u64; STAGES.len() + 1];
    for stack in &samples {
        counts[stage_of(stack)] += 1;
    }
    let total = samples.len().max(1) as f64;
    println!(
        "  {} samples over {} requests; CPU per request in this (recorded) phase {cpu_us:.1} µs",
        samples.len(),
        summary.requests
    );
    println!("  {:<58} {:>7} {:>10}", "stage", "share", "µs/request");
    let mut rows: Vec<(usize, u64)> = counts.iter().copied().enumerate().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1));
    for (i, n) in rows {
        if n == 0 {
            continue;
        }
        let name = STAGES.get(i).map(|s| s.0).unwrap_or(OTHER);
        let share = n as f64 / total;
        println!(
            "  {name:<58} {:>6.1}% {:>10.1}",
            share * 100.0,
            share * cpu_us
        );
    }
    if let Some(path) = folded {
        println!(
            "  call stacks, folded (input of inferno-flamegraph or flamegraph.pl): {}",
            path.display()
        );
    }
}

/// The index in [`STAGES`] of the innermost frame that names a stage, or `STAGES.len()`.
fn stage_of(stack: &[String]) -> usize {
    for frame in stack {
        for (i, (_, names)) in STAGES.iter().enumerate() {
            if names.iter().any(|n| frame.contains(n)) {
                return i;
            }
        }
    }
    STAGES.len()
}

/// Writes the stacks as folded lines (`root;…;leaf count`) to
/// `target/bench-profiles/gateway-<name>.folded`, the input of flame-graph tools.
fn write_folded(samples: &[Vec<String>], name: &str) -> Option<std::path::PathBuf> {
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    for stack in samples {
        let names: Vec<&str> = stack
            .iter()
            .rev()
            .map(|f| f.split(" (").next().unwrap_or(f))
            .map(|f| f.rsplit_once("+0x").map(|(name, _)| name).unwrap_or(f))
            .filter(|f| *f != "[unknown]")
            .collect();
        *counts.entry(names.join(";")).or_default() += 1;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()?
        .join("target/bench-profiles");
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("gateway-{name}.folded"));
    let text: String = counts
        .iter()
        .map(|(stack, n)| format!("{stack} {n}\n"))
        .collect();
    std::fs::write(&path, text).ok()?;
    Some(path)
}

/// Whether `perf` is installed and may record other processes.
fn perf_usable() -> Result<(), String> {
    match Command::new("perf").arg("--version").output() {
        Ok(o) if o.status.success() => {}
        _ => {
            return Err(
                "`perf` was not found; install it (Debian: `apt install linux-perf`) to see the breakdown"
                    .into(),
            );
        }
    }
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .ok()
        .and_then(|v| v.trim().parse::<i32>().ok())
        .unwrap_or(2);
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if paranoid > 1 && !root {
        return Err(format!(
            "kernel.perf_event_paranoid is {paranoid}; recording another process needs ≤ 1 or root"
        ));
    }
    Ok(())
}

/// The sampled call stacks in `data`, innermost frame first, each frame as `symbol (file)`.
fn stacks(data: &Path) -> Result<Vec<Vec<String>>, String> {
    let out = Command::new("perf")
        // `--no-inline`: resolving inlined frames runs addr2line per address and takes minutes.
        .args(["script", "--no-inline", "-F", "ip,sym,dso", "-i"])
        .arg(data)
        .output()
        .map_err(|e| format!("perf script did not run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "perf script failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut stacks = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                stacks.push(std::mem::take(&mut current));
            }
            continue;
        }
        // "<ip> <symbol+offset> (<file>)": keep the symbol and the file.
        let frame = line.split_once(' ').map(|(_, rest)| rest).unwrap_or(line);
        current.push(frame.to_owned());
    }
    if !current.is_empty() {
        stacks.push(current);
    }
    if stacks.is_empty() {
        return Err("perf recorded no samples of the gateway".into());
    }
    Ok(stacks)
}
