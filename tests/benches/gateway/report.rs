//! Reporting the load test: per-round lines, then medians over rounds against Aratta's aims.

use std::time::Duration;

use crate::load::Summary;
use crate::process::{Memory, Starts};
use crate::{AIM_ADDED_P50_C1_US, AIM_CPU_PER_REQUEST_US, AIM_PEAK_RSS_MB, HIGH_CONCURRENCY};

#[derive(Default)]
pub(crate) struct Round {
    /// [c=1, c=64]
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

pub(crate) fn print_round(round: usize, r: &Round) {
    let (d1, g1, d64, g64) = (
        r.get(false, 0),
        r.get(true, 0),
        r.get(false, 1),
        r.get(true, 1),
    );
    println!(
        "round {}: added p50/p99 c=1 {:+.0}/{:+.0} µs, c={HIGH_CONCURRENCY} {:+.0}/{:+.0} µs; rps c={HIGH_CONCURRENCY} direct {:.0} aratta {:.0} ({:.2}); CPU/request c=1 {:.1} µs, c={HIGH_CONCURRENCY} {:.1} µs",
        round + 1,
        signed_us(g1.p50, d1.p50),
        signed_us(g1.p99, d1.p99),
        signed_us(g64.p50, d64.p50),
        signed_us(g64.p99, d64.p99),
        d64.rps,
        g64.rps,
        g64.rps / d64.rps,
        g1.cpu_per_request.map(us).unwrap_or(f64::NAN),
        g64.cpu_per_request.map(us).unwrap_or(f64::NAN),
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

pub(crate) fn report(rounds: &[Round], starts: &Starts, rss: Memory) {
    let med = |f: &dyn Fn(&Round) -> f64| median(rounds.iter().map(f).collect());
    println!();
    println!(
        "Medians over {} rounds (each phase: warm-up, then at most the configured requests/seconds)",
        rounds.len()
    );
    println!(
        "{:<8} {:>5} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "path", "conc", "requests", "p50 µs", "p99 µs", "requests/s", "CPU/req µs"
    );
    for (slot, conc) in [(0usize, 1usize), (1, HIGH_CONCURRENCY)] {
        for gateway in [false, true] {
            let requests = med(&|r| r.get(gateway, slot).requests as f64);
            let p50 = med(&|r| us(r.get(gateway, slot).p50));
            let p99 = med(&|r| us(r.get(gateway, slot).p99));
            let rps = med(&|r| r.get(gateway, slot).rps);
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
                "{:<8} {:>5} {:>10.0} {:>10.1} {:>10.1} {:>12.0} {:>12}",
                if gateway { "aratta" } else { "direct" },
                conc,
                requests,
                p50,
                p99,
                rps,
                cpu
            );
        }
    }
    let added = |slot: usize, p99: bool| {
        med(&|r| {
            let (g, d) = (r.get(true, slot), r.get(false, slot));
            if p99 {
                signed_us(g.p99, d.p99)
            } else {
                signed_us(g.p50, d.p50)
            }
        })
    };
    let base = |slot: usize, p99: bool| {
        med(&|r| {
            let d = r.get(false, slot);
            us(if p99 { d.p99 } else { d.p50 })
        })
    };
    println!();
    println!("Added by the gateway (aratta − direct; × = added relative to the direct baseline)");
    for (slot, conc) in [(0usize, 1usize), (1, HIGH_CONCURRENCY)] {
        let (a50, a99) = (added(slot, false), added(slot, true));
        println!(
            "  c={conc:<3} p50 {a50:+8.1} µs ({:.2}× direct)   p99 {a99:+8.1} µs ({:.2}× direct)",
            a50 / base(slot, false),
            a99 / base(slot, true)
        );
    }
    let ratio = med(&|r| r.get(true, 1).rps / r.get(false, 1).rps);
    println!("  throughput at c={HIGH_CONCURRENCY}: aratta/direct = {ratio:.3}");
    let cpu64 = med(&|r| r.get(true, 1).cpu_per_request.map(us).unwrap_or(f64::NAN));
    let cpu1 = med(&|r| r.get(true, 0).cpu_per_request.map(us).unwrap_or(f64::NAN));
    println!(
        "  gateway CPU per request: c=1 {cpu1:.1} µs, c={HIGH_CONCURRENCY} {cpu64:.1} µs (utime+stime of the child)"
    );
    let per = |slot: usize, f: &dyn Fn(&Summary) -> Option<f64>| {
        med(&|r| f(&r.get(true, slot)).unwrap_or(f64::NAN))
    };
    println!(
        "  gateway page faults per request: c=1 {:.2}, c={HIGH_CONCURRENCY} {:.2}; context switches per request: c=1 {:.2}, c={HIGH_CONCURRENCY} {:.2}",
        per(0, &|s| s.faults_per_request),
        per(1, &|s| s.faults_per_request),
        per(0, &|s| s.switches_per_request),
        per(1, &|s| s.switches_per_request),
    );
    println!(
        "  gateway on-CPU time per request (schedstat): c=1 {:.1} µs, c={HIGH_CONCURRENCY} {:.1} µs",
        per(0, &|s| s.run_us_per_request),
        per(1, &|s| s.run_us_per_request),
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
            "  {name:<40} {value:>8.1} {unit} vs ≤ {limit:.0} {unit}: {:.2}× the aim — {}",
            value / limit,
            if value <= limit { "MET" } else { "NOT MET" }
        );
    };
    aim(
        "added p50 latency at c=1",
        added(0, false),
        AIM_ADDED_P50_C1_US,
        "µs",
    );
    aim(
        &format!("gateway CPU per request (c={HIGH_CONCURRENCY})"),
        cpu64,
        AIM_CPU_PER_REQUEST_US,
        "µs",
    );
    aim(
        "peak RSS while serving (1 adapter)",
        hwm_mb,
        AIM_PEAK_RSS_MB,
        "MB",
    );
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
