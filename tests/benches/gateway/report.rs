//! Reporting the load test: per-round lines, then medians over rounds against Aratta's aims.

use std::time::Duration;

use crate::load::Summary;
use crate::process::{Memory, Starts};
use crate::wire::{STREAM_CHUNKS, Wire};
use crate::{
    AIM_ADDED_P50_C1_US, AIM_ADDED_P99_C1_US, AIM_ADDED_TTFT_US, AIM_CPU_PER_REQUEST_US,
    AIM_PEAK_RSS_MB, AIM_RPS_HIGH, HIGH_CONCURRENCY,
};

/// One load scenario: an adapter's wire, streamed or not.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scenario {
    pub(crate) wire: Wire,
    pub(crate) stream: bool,
}

impl std::fmt::Display for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let api = match self.wire {
            Wire::OpenAi => "OpenAI chat",
            Wire::Anthropic => "Anthropic messages",
            Wire::Gemini => "Gemini generateContent",
        };
        let mode = if self.stream { "streamed" } else { "whole" };
        write!(f, "{} ({api}, {mode})", self.wire.adapter())
    }
}

#[derive(Default)]
pub(crate) struct Round {
    /// [c=1, c=HIGH_CONCURRENCY]
    pub(crate) direct: [Option<Summary>; 2],
    pub(crate) gateway: [Option<Summary>; 2],
}

impl Round {
    pub(crate) fn get(&self, gateway: bool, slot: usize) -> Summary {
        let s = if gateway { &self.gateway } else { &self.direct };
        s[slot].expect("every phase ran")
    }
}

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn signed_us(a: Duration, b: Duration) -> f64 {
    us(a) - us(b)
}

pub(crate) fn print_round(scenario: Scenario, round: usize, r: &Round) {
    let (d1, g1, dh, gh) = (
        r.get(false, 0),
        r.get(true, 0),
        r.get(false, 1),
        r.get(true, 1),
    );
    println!(
        "{scenario} round {}: added p50/p99 c=1 {:+.0}/{:+.0} µs, c={HIGH_CONCURRENCY} {:+.0}/{:+.0} µs; rps c={HIGH_CONCURRENCY} direct {:.0} aratta {:.0} ({:.2}); CPU/request c=1 {:.1} µs, c={HIGH_CONCURRENCY} {:.1} µs",
        round + 1,
        signed_us(g1.p50, d1.p50),
        signed_us(g1.p99, d1.p99),
        signed_us(gh.p50, dh.p50),
        signed_us(gh.p99, dh.p99),
        dh.rps,
        gh.rps,
        gh.rps / dh.rps,
        g1.cpu_per_request.map(us).unwrap_or(f64::NAN),
        gh.cpu_per_request.map(us).unwrap_or(f64::NAN),
    );
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// One scenario's medians over rounds, as the summary and the aims read them.
struct Figures {
    added_p50_c1: f64,
    added_p99_c1: f64,
    rps_direct: f64,
    rps: f64,
    cpu_c1: f64,
    cpu: f64,
    /// Streams: added time to the first bytes at c=1.
    added_ttft: f64,
    /// Streams: the added time after the first bytes, per text delta, at c=1.
    per_chunk: f64,
}

/// The detailed table of one scenario, and its figures.
fn scenario_table(scenario: Scenario, rounds: &[Round]) -> Figures {
    let med = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    println!();
    println!("{scenario}: medians over {} rounds", rounds.len());
    println!(
        "  {:<8} {:>5} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "path", "conc", "requests", "p50 µs", "p99 µs", "first µs", "requests/s", "CPU/req µs"
    );
    for (slot, conc) in [(0usize, 1usize), (1, HIGH_CONCURRENCY)] {
        for gateway in [false, true] {
            let cpu = if gateway {
                format!(
                    "{:.1}",
                    med(&|r| r
                        .get(true, slot)
                        .cpu_per_request
                        .map(us)
                        .unwrap_or(f64::NAN))
                )
            } else {
                "—".into()
            };
            println!(
                "  {:<8} {:>5} {:>10.0} {:>10.1} {:>10.1} {:>10.1} {:>12.0} {:>12}",
                if gateway { "aratta" } else { "direct" },
                conc,
                med(&|r| r.get(gateway, slot).requests as f64),
                med(&|r| us(r.get(gateway, slot).p50)),
                med(&|r| us(r.get(gateway, slot).p99)),
                med(&|r| us(r.get(gateway, slot).first_p50)),
                med(&|r| r.get(gateway, slot).rps),
                cpu
            );
        }
    }
    let added = |slot: usize, f: &dyn Fn(&Summary) -> Duration| {
        med(&|r| signed_us(f(&r.get(true, slot)), f(&r.get(false, slot))))
    };
    let cpu = |slot: usize| {
        med(&|r| {
            r.get(true, slot)
                .cpu_per_request
                .map(us)
                .unwrap_or(f64::NAN)
        })
    };
    let added_ttft = added(0, &|s| s.first_p50);
    let figures = Figures {
        added_p50_c1: added(0, &|s| s.p50),
        added_p99_c1: added(0, &|s| s.p99),
        rps_direct: med(&|r| r.get(false, 1).rps),
        rps: med(&|r| r.get(true, 1).rps),
        cpu_c1: cpu(0),
        cpu: cpu(1),
        added_ttft,
        per_chunk: (added(0, &|s| s.p50) - added_ttft) / STREAM_CHUNKS as f64,
    };
    println!(
        "  added: c=1 p50 {:+.1} µs, p99 {:+.1} µs; c={HIGH_CONCURRENCY} p50 {:+.1} µs; throughput at c={HIGH_CONCURRENCY} aratta/direct {:.3}",
        figures.added_p50_c1,
        figures.added_p99_c1,
        added(1, &|s| s.p50),
        figures.rps / figures.rps_direct,
    );
    if scenario.stream {
        println!(
            "  stream of {STREAM_CHUNKS} deltas: added time to first bytes {:+.1} µs; added after them {:+.2} µs per delta; CPU {:.2} µs per delta at c={HIGH_CONCURRENCY}",
            figures.added_ttft,
            figures.per_chunk,
            figures.cpu / STREAM_CHUNKS as f64,
        );
    }
    let per = |slot: usize, f: &dyn Fn(&Summary) -> Option<f64>| {
        med(&|r| f(&r.get(true, slot)).unwrap_or(f64::NAN))
    };
    println!(
        "  gateway per request at c=1 / c={HIGH_CONCURRENCY}: page faults {:.2} / {:.2}, context switches {:.2} / {:.2}, on-CPU (schedstat) {:.1} / {:.1} µs",
        per(0, &|s| s.faults_per_request),
        per(1, &|s| s.faults_per_request),
        per(0, &|s| s.switches_per_request),
        per(1, &|s| s.switches_per_request),
        per(0, &|s| s.run_us_per_request),
        per(1, &|s| s.run_us_per_request),
    );
    figures
}

pub(crate) fn report(results: &[(Scenario, Vec<Round>)], starts: &Starts, rss: Memory) {
    let figures: Vec<(Scenario, Figures)> = results
        .iter()
        .map(|(s, rounds)| (*s, scenario_table(*s, rounds)))
        .collect();

    println!();
    println!(
        "Summary: what Aratta adds, per adapter (medians; added = aratta − direct, same run, same mock)"
    );
    println!(
        "  {:<42} {:>9} {:>9} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9}",
        "scenario",
        "+p50 c=1",
        "+p99 c=1",
        "rps direct",
        "rps aratta",
        "CPU c=1",
        "CPU c=50",
        "+TTFT",
        "+/delta"
    );
    for (scenario, f) in &figures {
        let stream = |v: f64| {
            if scenario.stream {
                format!("{v:+.1}")
            } else {
                "—".into()
            }
        };
        println!(
            "  {:<42} {:>+9.1} {:>+9.1} {:>10.0} {:>10.0} {:>9.1} {:>9.1} {:>9} {:>9}",
            scenario.to_string(),
            f.added_p50_c1,
            f.added_p99_c1,
            f.rps_direct,
            f.rps,
            f.cpu_c1,
            f.cpu,
            stream(f.added_ttft),
            stream(f.per_chunk),
        );
    }
    println!(
        "  (µs; CPU is the gateway's utime+stime per request; c=50 columns at concurrency {HIGH_CONCURRENCY})"
    );
    let hwm_mb = rss.hwm_kb as f64 / 1024.0;
    println!(
        "  gateway memory after the load test: peak RSS (VmHWM) {hwm_mb:.1} MB, RSS now {:.1} MB",
        rss.rss_kb as f64 / 1024.0
    );

    println!();
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    let cold: Vec<f64> = starts.cold.iter().map(|(d, _)| ms(d)).collect();
    let warm: Vec<f64> = starts.warm.iter().map(ms).collect();
    let cold_hwm = median(
        starts
            .cold
            .iter()
            .map(|(_, m)| m.hwm_kb as f64 / 1024.0)
            .collect(),
    );
    let fmt = |v: &[f64]| {
        v.iter()
            .map(|x| format!("{x:.0}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if cold.is_empty() {
        println!("Start times: skipped (ARATTA_BENCH_STARTS=0)");
    } else {
        println!(
            "Start (spawn → listening line): cold (empty compile cache) median {:.0} ms [{}], peak RSS {:.1} MB; warm median {:.0} ms [{}]",
            median(cold.clone()),
            fmt(&cold),
            cold_hwm,
            median(warm.clone()),
            fmt(&warm)
        );
    }

    println!();
    println!("Aims (measured / aim; ≤ 1.00 is met):");
    let aim = |name: &str, value: f64, limit: f64, unit: &str| {
        println!(
            "  {name:<52} {value:>9.1} {unit} vs ≤ {limit:.0} {unit}: {:.2}× the aim — {}",
            value / limit,
            if value <= limit { "MET" } else { "NOT MET" }
        );
    };
    for (scenario, f) in &figures {
        if scenario.stream {
            aim(
                &format!("{scenario}: added TTFT c=1"),
                f.added_ttft,
                AIM_ADDED_TTFT_US,
                "µs",
            );
            continue;
        }
        aim(
            &format!("{scenario}: added p50 c=1"),
            f.added_p50_c1,
            AIM_ADDED_P50_C1_US,
            "µs",
        );
        aim(
            &format!("{scenario}: added p99 c=1"),
            f.added_p99_c1,
            AIM_ADDED_P99_C1_US,
            "µs",
        );
        aim(
            &format!("{scenario}: CPU/request c={HIGH_CONCURRENCY}"),
            f.cpu,
            AIM_CPU_PER_REQUEST_US,
            "µs",
        );
        println!(
            "  {:<52} {:>9.0} req/s vs ≥ {AIM_RPS_HIGH:.0} req/s: {:.2}× the aim — {}",
            format!("{scenario}: throughput c={HIGH_CONCURRENCY}"),
            f.rps,
            f.rps / AIM_RPS_HIGH,
            if f.rps >= AIM_RPS_HIGH {
                "MET"
            } else {
                "NOT MET"
            }
        );
    }
    aim("peak RSS while serving", hwm_mb, AIM_PEAK_RSS_MB, "MB");
    if !cold.is_empty() {
        aim(
            "peak RSS of a cold first start",
            cold_hwm,
            AIM_PEAK_RSS_MB,
            "MB",
        );
        aim(
            "warm start to listening",
            median(warm.clone()),
            1000.0,
            "ms",
        );
    }
}

/// A baseline phase against a variant of it, at c=1 and c=`HIGH_CONCURRENCY`, each round's
/// `[[baseline, variant]; 2]`: one table of medians, then the variant/baseline ratios. Shared
/// by the fallback and hot-swap parts so both read the same way.
pub fn print_paired(
    rows: &[[[Summary; 2]; 2]],
    column: &str,
    names: [&str; 2],
    ratio_label: &str,
    ratio_note: &str,
) {
    let med = |slot: usize, which: usize, f: &dyn Fn(&Summary) -> f64| {
        median(rows.iter().map(|r| f(&r[slot][which])).collect())
    };
    let cpu = |s: &Summary, scale: f64| {
        s.cpu_per_request
            .map(|d| d.as_secs_f64() * scale)
            .unwrap_or(f64::NAN)
    };
    println!(
        "{:<28} {:>5} {:>10} {:>10} {:>12} {:>12}",
        column, "conc", "p50 µs", "p99 µs", "requests/s", "CPU/req µs"
    );
    for (slot, conc) in [(0usize, 1usize), (1, HIGH_CONCURRENCY)] {
        for (which, name) in names.iter().enumerate() {
            println!(
                "{:<28} {:>5} {:>10.1} {:>10.1} {:>12.0} {:>12.1}",
                name,
                conc,
                med(slot, which, &|s| s.p50.as_secs_f64() * 1e6),
                med(slot, which, &|s| s.p99.as_secs_f64() * 1e6),
                med(slot, which, &|s| s.rps),
                med(slot, which, &|s| cpu(s, 1e6)),
            );
        }
        let ratio = |f: &dyn Fn(&Summary) -> f64| med(slot, 1, f) / med(slot, 0, f);
        println!(
            "  c={conc}: {ratio_label} p50 {:.2}×, p99 {:.2}×, requests/s {:.2}×, CPU/request {:.2}×{ratio_note}",
            ratio(&|s| s.p50.as_secs_f64()),
            ratio(&|s| s.p99.as_secs_f64()),
            ratio(&|s| s.rps),
            ratio(&|s| cpu(s, 1.0)),
        );
    }
}
