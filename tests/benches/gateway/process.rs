//! The gateway process: finding the `aratta` binary, spawning `aratta serve` on a temporary
//! home, reading what it used from `/proc` (CPU, page faults, context switches, memory), and
//! timing its starts.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use crate::STARTUP_TIMEOUT;

/// The profile of the binary users deploy (whole-program LTO; see the workspace Cargo.toml).
pub(crate) const DIST_PROFILE: &str = "dist";

/// `$ARATTA_BIN`, else `target/dist/aratta`, built when missing (~20 min of LTO the first time).
pub(crate) fn aratta_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ARATTA_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("path of the bench executable");
    // target/<profile>/deps/gateway-<hash> → target/dist/aratta
    let target_dir = exe
        .parent()
        .and_then(Path::parent)
        .and_then(Path::parent)
        .expect("the bench runs from target/<profile>/deps")
        .to_path_buf();
    let bin = target_dir
        .join(DIST_PROFILE)
        .join(format!("aratta{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        return bin;
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace");
    println!(
        "building the gateway: cargo build --profile {DIST_PROFILE} -p aratta-host --bin aratta (whole-program LTO: ~20 min on two cores the first time)"
    );
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--profile",
            DIST_PROFILE,
            "-p",
            "aratta-host",
            "--bin",
            "aratta",
        ])
        .status()
        .expect("run cargo");
    assert!(status.success(), "building aratta failed ({status})");
    assert!(
        bin.is_file(),
        "cargo built aratta but {} is missing",
        bin.display()
    );
    bin
}

/// The bench measures whatever binary it finds: say so when sources are newer than it.
pub(crate) fn warn_if_stale(bin: &Path) {
    let Ok(built) = bin.metadata().and_then(|m| m.modified()) else {
        return;
    };
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut newest: Option<(SystemTime, PathBuf)> = None;
    for dir in ["host/src", "guest-sdk/src", "adapters", "wit"] {
        newest_file(&workspace.join(dir), &mut newest);
    }
    if let Some((time, path)) = newest
        && time > built
    {
        println!(
            "WARNING: {} is newer than {}; rebuild (cargo build --profile {DIST_PROFILE} -p aratta-host --bin aratta) to measure current sources",
            path.display(),
            bin.display()
        );
    }
}

pub(crate) fn newest_file(dir: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if meta.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                newest_file(&path, newest);
            }
        } else if let Ok(t) = meta.modified()
            && newest.as_ref().is_none_or(|(n, _)| t > *n)
        {
            *newest = Some((t, path));
        }
    }
}

pub(crate) struct Gateway {
    pub(crate) child: Child,
    pub(crate) addr: SocketAddr,
    /// Spawn → listening line.
    pub(crate) startup: Duration,
    pub(crate) log: PathBuf,
}

impl Gateway {
    /// `aratta serve --port 0` with `home` and compile cache `cache`; returns once listening.
    pub(crate) fn spawn(bin: &Path, home: &Path, cache: &Path) -> Gateway {
        let log = cache.with_extension(format!(
            "{}.log",
            SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        let stderr = std::fs::File::create(&log).expect("create the gateway log");
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--port", "0"]);
        for (name, _) in std::env::vars_os() {
            let name_text = name.to_string_lossy();
            if name_text.starts_with("ARATTA_")
                || name_text == "RUST_LOG"
                || name_text == "LOCAL_API_KEY"
            {
                cmd.env_remove(&name);
            }
        }
        // The mock's key for the cloud providers, which also keeps a real key in this shell
        // from reaching the mock.
        cmd.env("ANTHROPIC_API_KEY", crate::mock::API_KEY)
            .env("GEMINI_API_KEY", crate::mock::API_KEY)
            .env("ARATTA_HOME", home)
            .env("ARATTA_CACHE_DIR", cache)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        let t0 = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = Vec::new();
            let mut tx = Some(tx);
            loop {
                line.clear();
                match reader.read_until(b'\n', &mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {
                        let text = String::from_utf8_lossy(&line);
                        if let Some(rest) = text.split("aratta listening on http://").nth(1)
                            && let Some(tx) = tx.take()
                        {
                            let _ = tx.send(rest.trim().to_owned());
                        }
                    }
                }
            }
        });
        let problem: String = match rx.recv_timeout(STARTUP_TIMEOUT) {
            Ok(text) => {
                let startup = t0.elapsed();
                match text.parse::<SocketAddr>() {
                    Ok(addr) => {
                        return Gateway {
                            child,
                            addr,
                            startup,
                            log,
                        };
                    }
                    Err(_) => format!("unparsable listening address {text:?}"),
                }
            }
            Err(_) => "no listening line".to_owned(),
        };
        let _ = child.kill();
        let status = child.wait();
        let logs = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("aratta did not start ({problem}; exit {status:?}); its log:\n{logs}");
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn memory(&self) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/<pid>/status of the gateway");
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .unwrap_or(0)
        };
        Memory {
            hwm_kb: kb("VmHWM:"),
            rss_kb: kb("VmRSS:"),
        }
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_file(&self.log);
        } else if let Ok(logs) = std::fs::read_to_string(&self.log) {
            let tail: Vec<&str> = logs.lines().rev().take(30).collect();
            eprintln!("--- last lines of the gateway's log ---");
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Memory {
    pub(crate) hwm_kb: u64,
    pub(crate) rss_kb: u64,
}

/// What the gateway process has used so far, from `/proc`.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Usage {
    /// User + system CPU time (`/proc/<pid>/stat` utime + stime).
    pub(crate) cpu: Duration,
    /// Minor page faults (`minflt`).
    pub(crate) faults: u64,
    /// Context switches of all its threads, voluntary and not (`/proc/<pid>/task/*/status`).
    pub(crate) switches: u64,
    /// On-CPU time of its live threads as the scheduler measured it, in nanoseconds
    /// (`/proc/<pid>/task/*/schedstat`): finer than utime + stime, which are sampled at ticks.
    pub(crate) run_ns: u64,
}

impl Usage {
    pub(crate) fn of(pid: u32) -> Usage {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .expect("read /proc/<pid>/stat of the gateway");
        // Fields after the parenthesised command name: minflt is field 10, utime and stime 14, 15.
        let after = &stat[stat.rfind(')').expect("stat has (comm)") + 2..];
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| fields[i - 3].parse::<u64>().expect("numeric stat field");
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        let mut switches = 0;
        let mut run_ns = 0;
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) {
            for task in tasks.flatten() {
                if let Ok(sched) = std::fs::read_to_string(task.path().join("schedstat")) {
                    run_ns += sched
                        .split_whitespace()
                        .next()
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0);
                }
                let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
                    continue;
                };
                switches += status
                    .lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split(':').nth(1)?.trim().parse::<u64>().ok())
                    .sum::<u64>();
            }
        }
        Usage {
            cpu: Duration::from_nanos((field(14) + field(15)) * 1_000_000_000 / hz),
            faults: field(10),
            switches,
            run_ns,
        }
    }

    pub(crate) fn since(self, before: Usage) -> Usage {
        Usage {
            cpu: self.cpu.saturating_sub(before.cpu),
            faults: self.faults.saturating_sub(before.faults),
            switches: self.switches.saturating_sub(before.switches),
            run_ns: self.run_ns.saturating_sub(before.run_ns),
        }
    }
}

pub(crate) struct Starts {
    pub(crate) cold: Vec<(Duration, Memory)>,
    pub(crate) warm: Vec<Duration>,
}

/// `cold_starts` cold starts (each with an empty cache dir) and two warm starts after each.
pub(crate) fn measure_starts(bin: &Path, home: &Path, work: &Path, cold_starts: usize) -> Starts {
    // An untimed start first, so the binary's pages are in the page cache for every figure; it
    // also warms the cache the load test's gateway uses.
    drop(Gateway::spawn(bin, home, &work.join("cache-serve")));
    let mut starts = Starts {
        cold: Vec::new(),
        warm: Vec::new(),
    };
    for i in 0..cold_starts {
        let cache = work.join(format!("cache-start-{i}"));
        let cold = Gateway::spawn(bin, home, &cache);
        starts.cold.push((cold.startup, cold.memory()));
        drop(cold);
        for _ in 0..2 {
            let warm = Gateway::spawn(bin, home, &cache);
            starts.warm.push(warm.startup);
        }
    }
    starts
}
