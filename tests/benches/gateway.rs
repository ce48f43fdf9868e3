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
//! Figures are reported against Aratta's aims, never asserted. Any failed request (a transport
//! error, a non-200 answer, an answer that is not a chat completion, or a gateway request that
//! never reached the mock) makes the benchmark exit non-zero.
//!
//! Knobs (environment): `ARATTA_BENCH_ROUNDS` (default 3), `ARATTA_BENCH_SECONDS` (measured
//! seconds per phase, default 2), `ARATTA_BENCH_MAX_REQUESTS` (per phase, default 200000),
//! `ARATTA_BENCH_STARTS` (cold starts to time, each followed by two warm ones; default 3, 0 skips
//! them), `ARATTA_BIN` (the gateway binary to run).

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;

/// The mock's answer: a realistic non-streamed completion (OpenAI's documented shape).
const CHAT_COMPLETION: &str = r#"{"id":"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT","object":"chat.completion","created":1741569952,"model":"llama3.2","choices":[{"index":0,"message":{"role":"assistant","content":"Hello! How can I assist you today?","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"service_tier":"default","system_fingerprint":"fp_44709d6fcb"}"#;

const MODELS: &str = r#"{"object":"list","data":[{"id":"llama3.2","object":"model","created":1741569952,"owned_by":"library"}]}"#;

/// The same two messages on both paths; only the model name differs.
fn chat_body(model: &str) -> Bytes {
    Bytes::from(format!(
        r#"{{"model":"{model}","messages":[{{"role":"system","content":"You are a helpful assistant."}},{{"role":"user","content":"Hello! Say hello back in one short sentence."}}]}}"#
    ))
}

/// Aratta's aims (docs: /work/shared/peer-figures.md).
const AIM_ADDED_P50_C1_US: f64 = 100.0;
const AIM_CPU_PER_REQUEST_US: f64 = 60.0;
const AIM_PEAK_RSS_MB: f64 = 60.0;

const HIGH_CONCURRENCY: usize = 64;
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

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
    let mock = Mock::start();
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
}

// ---------------------------------------------------------------------------------------------
// Settings

struct Settings {
    rounds: usize,
    seconds: Duration,
    max_requests: u64,
    starts: usize,
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

// ---------------------------------------------------------------------------------------------
// The mock upstream

struct Mock {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
}

impl Mock {
    /// Serves on its own thread and single-threaded runtime until the process exits.
    fn start() -> Mock {
        let hits = Arc::new(AtomicU64::new(0));
        let (tx, rx) = std::sync::mpsc::channel();
        let counter = hits.clone();
        std::thread::Builder::new()
            .name("mock-upstream".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("mock runtime");
                rt.block_on(async move {
                    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind mock");
                    tx.send(listener.local_addr().expect("mock address"))
                        .expect("report mock address");
                    loop {
                        let Ok((tcp, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = tcp.set_nodelay(true);
                        let counter = counter.clone();
                        tokio::spawn(async move {
                            let service = service_fn(move |req| answer(req, counter.clone()));
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(tcp), service)
                                .await;
                        });
                    }
                });
            })
            .expect("spawn the mock upstream");
        let addr = rx.recv().expect("the mock upstream started");
        Mock { addr, hits }
    }

    /// Chat completions answered so far.
    fn chat_hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }
}

async fn answer(
    req: Request<Incoming>,
    hits: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let reply = |status: StatusCode, text: &'static str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from_static(text.as_bytes())))
            .expect("a valid response")
    };
    Ok(match (parts.method, parts.uri.path()) {
        (Method::POST, "/v1/chat/completions") => {
            if contains(&body, b"\"messages\"") {
                hits.fetch_add(1, Ordering::Relaxed);
                reply(StatusCode::OK, CHAT_COMPLETION)
            } else {
                reply(
                    StatusCode::BAD_REQUEST,
                    r#"{"error":{"message":"no messages","type":"invalid_request_error"}}"#,
                )
            }
        }
        (Method::GET, "/v1/models") => reply(StatusCode::OK, MODELS),
        _ => reply(
            StatusCode::NOT_FOUND,
            r#"{"error":{"message":"not found","type":"invalid_request_error"}}"#,
        ),
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// The gateway process

fn aratta_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ARATTA_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("path of the bench executable");
    // target/<profile>/deps/gateway-<hash> → target/<profile>/aratta
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("the bench runs from target/<profile>/deps")
        .to_path_buf();
    let bin = profile_dir.join(format!("aratta{}", std::env::consts::EXE_SUFFIX));
    if bin.is_file() {
        return bin;
    }
    let profile = profile_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "release".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace");
    println!("building the gateway: cargo build --profile {profile} -p aratta-host --bin aratta");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args([
            "build",
            "--profile",
            &profile,
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
fn warn_if_stale(bin: &Path) {
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
            "WARNING: {} is newer than {}; rebuild (cargo build --release -p aratta-host --bin aratta) to measure current sources",
            path.display(),
            bin.display()
        );
    }
}

fn newest_file(dir: &Path, newest: &mut Option<(SystemTime, PathBuf)>) {
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

struct Gateway {
    child: Child,
    addr: SocketAddr,
    /// Spawn → listening line.
    startup: Duration,
    log: PathBuf,
}

impl Gateway {
    /// `aratta serve --port 0` with `home` and compile cache `cache`; returns once listening.
    fn spawn(bin: &Path, home: &Path, cache: &Path) -> Gateway {
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
        cmd.env("ARATTA_HOME", home)
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

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn memory(&self) -> Memory {
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
struct Memory {
    hwm_kb: u64,
    rss_kb: u64,
}

/// What the gateway process has used so far, from `/proc`.
#[derive(Clone, Copy, Debug, Default)]
struct Usage {
    /// User + system CPU time (`/proc/<pid>/stat` utime + stime).
    cpu: Duration,
    /// Minor page faults (`minflt`).
    faults: u64,
    /// Context switches of all its threads, voluntary and not (`/proc/<pid>/task/*/status`).
    switches: u64,
    /// On-CPU time of its live threads as the scheduler measured it, in nanoseconds
    /// (`/proc/<pid>/task/*/schedstat`): finer than utime + stime, which are sampled at ticks.
    run_ns: u64,
}

impl Usage {
    fn of(pid: u32) -> Usage {
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

    fn since(self, before: Usage) -> Usage {
        Usage {
            cpu: self.cpu.saturating_sub(before.cpu),
            faults: self.faults.saturating_sub(before.faults),
            switches: self.switches.saturating_sub(before.switches),
            run_ns: self.run_ns.saturating_sub(before.run_ns),
        }
    }
}

struct Starts {
    cold: Vec<(Duration, Memory)>,
    warm: Vec<Duration>,
}

/// `cold_starts` cold starts (each with an empty cache dir) and two warm starts after each.
fn measure_starts(bin: &Path, home: &Path, work: &Path, cold_starts: usize) -> Starts {
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

// ---------------------------------------------------------------------------------------------
// The load generator

struct Target {
    addr: SocketAddr,
    path: &'static str,
    body: Bytes,
}

/// What one phase measured.
struct PhaseResult {
    concurrency: usize,
    latencies: Vec<Duration>,
    elapsed: Duration,
    warmup_requests: u64,
    non_200: u64,
    failures: Vec<String>,
    /// What the gateway used over the measured part, when a pid was given.
    usage: Option<Usage>,
}

#[derive(Clone, Copy, Debug, Default)]
struct Summary {
    requests: u64,
    p50: Duration,
    p99: Duration,
    rps: f64,
    cpu_per_request: Option<Duration>,
    faults_per_request: Option<f64>,
    switches_per_request: Option<f64>,
    run_us_per_request: Option<f64>,
}

impl PhaseResult {
    fn measured(&self) -> u64 {
        self.latencies.len() as u64
    }

    fn fail_loudly(&self, what: &str) {
        if self.non_200 > 0 || !self.failures.is_empty() {
            panic!(
                "{what} (c={}): {} non-200 answers, {} failures; first failures: {:#?}",
                self.concurrency,
                self.non_200,
                self.failures.len(),
                &self.failures[..self.failures.len().min(5)]
            );
        }
    }

    fn summary(&self) -> Summary {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let n = sorted.len() as u64;
        Summary {
            requests: n,
            p50: percentile(&sorted, 0.50),
            p99: percentile(&sorted, 0.99),
            rps: n as f64 / self.elapsed.as_secs_f64().max(1e-9),
            cpu_per_request: self.usage.map(|u| u.cpu / (n.max(1) as u32)),
            faults_per_request: self.usage.map(|u| u.faults as f64 / n.max(1) as f64),
            switches_per_request: self.usage.map(|u| u.switches as f64 / n.max(1) as f64),
            run_us_per_request: self.usage.map(|u| u.run_ns as f64 / 1e3 / n.max(1) as f64),
        }
    }
}

/// Nearest-rank percentile of sorted samples.
fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Bounds shared by the workers of one phase.
struct Budget {
    warmup_left: AtomicU64,
    measure_left: AtomicU64,
}

fn take(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// `concurrency` workers, one keep-alive connection each: a warm-up of at most `warm_n`
/// requests or `warm_t`, then a measured run of at most `max_n` requests or `max_t`.
/// With `pid`, that process's CPU time over the measured run is recorded.
async fn run_phase(
    target: &Target,
    concurrency: usize,
    warm_n: u64,
    warm_t: Duration,
    max_n: u64,
    max_t: Duration,
    pid: Option<u32>,
) -> PhaseResult {
    let budget = Arc::new(Budget {
        warmup_left: AtomicU64::new(warm_n),
        measure_left: AtomicU64::new(max_n),
    });
    let warmed = Arc::new(Barrier::new(concurrency + 1));
    let go = Arc::new(Barrier::new(concurrency + 1));
    let warm_deadline = Instant::now() + warm_t;
    // Workers read the measured deadline once `go` opens.
    let deadline = Arc::new(std::sync::Mutex::new(Instant::now()));
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (budget, warmed, go, deadline) =
            (budget.clone(), warmed.clone(), go.clone(), deadline.clone());
        let (addr, path, body) = (target.addr, target.path, target.body.clone());
        workers.push(tokio::spawn(async move {
            let mut out = WorkerResult::default();
            let mut conn = match Connection::open(addr).await {
                Ok(c) => Some(c),
                Err(e) => {
                    out.failures.push(format!("connect to {addr}: {e}"));
                    None
                }
            };
            // Warm-up (the first answer of every worker is checked in full).
            let mut checked = false;
            while conn.is_some() && Instant::now() < warm_deadline && take(&budget.warmup_left) {
                let c = conn.as_mut().unwrap();
                match c.request(path, &body, !checked).await {
                    Ok(_) => {
                        out.warmup += 1;
                        checked = true;
                    }
                    Err(Failure::Status(s, text)) => {
                        out.non_200 += 1;
                        out.failures.push(format!("HTTP {s}: {text}"));
                    }
                    Err(Failure::Other(e)) => {
                        out.failures.push(e);
                        conn = None;
                    }
                }
            }
            warmed.wait().await;
            go.wait().await;
            let end = *deadline.lock().unwrap();
            while let Some(c) = conn.as_mut() {
                if Instant::now() >= end || !take(&budget.measure_left) {
                    break;
                }
                let t0 = Instant::now();
                match c.request(path, &body, !checked).await {
                    Ok(()) => {
                        out.latencies.push(t0.elapsed());
                        checked = true;
                    }
                    Err(Failure::Status(s, text)) => {
                        out.non_200 += 1;
                        if out.failures.len() < 5 {
                            out.failures.push(format!("HTTP {s}: {text}"));
                        }
                    }
                    Err(Failure::Other(e)) => {
                        out.failures.push(e);
                        break;
                    }
                }
            }
            out
        }));
    }
    warmed.wait().await;
    let before = pid.map(Usage::of);
    let start = Instant::now();
    *deadline.lock().unwrap() = start + max_t;
    go.wait().await;
    let mut result = PhaseResult {
        concurrency,
        latencies: Vec::new(),
        elapsed: Duration::ZERO,
        warmup_requests: 0,
        non_200: 0,
        failures: Vec::new(),
        usage: None,
    };
    for w in workers {
        let w = w.await.expect("a load generator worker panicked");
        result.latencies.extend(w.latencies);
        result.warmup_requests += w.warmup;
        result.non_200 += w.non_200;
        result.failures.extend(w.failures);
    }
    result.elapsed = start.elapsed();
    result.usage = pid
        .zip(before)
        .map(|(p, before)| Usage::of(p).since(before));
    result
}

#[derive(Default)]
struct WorkerResult {
    latencies: Vec<Duration>,
    warmup: u64,
    non_200: u64,
    failures: Vec<String>,
}

enum Failure {
    Status(u16, String),
    Other(String),
}

/// One keep-alive HTTP/1.1 client connection.
struct Connection {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    host: String,
}

impl Connection {
    async fn open(addr: SocketAddr) -> Result<Connection, String> {
        let tcp = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Connection {
            sender,
            host: addr.to_string(),
        })
    }

    /// POST `body` to `path` and read the whole answer; `check` also parses it.
    async fn request(&mut self, path: &str, body: &Bytes, check: bool) -> Result<(), Failure> {
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|e| Failure::Other(format!("connection closed: {e}")))?;
            let request = Request::post(path)
                .header("host", &self.host)
                .header("content-type", "application/json")
                .body(Full::new(body.clone()))
                .expect("a valid request");
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| Failure::Other(format!("request failed: {e}")))?;
            let status = response.status();
            let bytes = response
                .into_body()
                .collect()
                .await
                .map_err(|e| Failure::Other(format!("reading the body failed: {e}")))?
                .to_bytes();
            if status != StatusCode::OK {
                return Err(Failure::Status(
                    status.as_u16(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
            if check {
                check_completion(&bytes).map_err(Failure::Other)?;
            }
            Ok(())
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Other(format!(
                "no answer within {REQUEST_TIMEOUT:?}"
            ))),
        }
    }
}

/// An answer must be a chat completion carrying the mock's text.
fn check_completion(bytes: &[u8]) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        format!(
            "answer is not JSON ({e}): {}",
            String::from_utf8_lossy(bytes)
        )
    })?;
    let content = v["choices"][0]["message"]["content"].as_str();
    if v["object"] == "chat.completion" && content == Some("Hello! How can I assist you today?") {
        Ok(())
    } else {
        Err(format!("answer is not the expected chat.completion: {v}"))
    }
}

// ---------------------------------------------------------------------------------------------
// Reporting

#[derive(Default)]
struct Round {
    /// [c=1, c=64]
    direct: [Option<Summary>; 2],
    gateway: [Option<Summary>; 2],
}

impl Round {
    fn get(&self, gateway: bool, slot: usize) -> Summary {
        let s = if gateway { &self.gateway } else { &self.direct };
        s[slot].expect("every phase ran")
    }
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn signed_us(a: Duration, b: Duration) -> f64 {
    us(a) - us(b)
}

fn print_round(round: usize, r: &Round) {
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

fn median(mut v: Vec<f64>) -> f64 {
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

fn report(rounds: &[Round], starts: &Starts, rss: Memory) {
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
