//! The load generator: N workers on one single-threaded runtime, one keep-alive HTTP/1.1
//! connection each, sequential requests; a warm-up, then a measured run bounded by requests and
//! seconds, with the gateway's `/proc` usage over the measured part. Each request's latency is
//! timed to the end of the answer, and to its first body bytes (a stream's first token).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::Barrier;

use crate::REQUEST_TIMEOUT;
use crate::process::Usage;
use crate::wire::Wire;

/// Where one phase sends its requests, and how it checks their answers.
pub(crate) struct Target {
    pub(crate) addr: SocketAddr,
    pub(crate) path: String,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Bytes,
    pub(crate) wire: Wire,
    pub(crate) stream: bool,
}

impl Target {
    /// A request in `wire`'s API to the mock (`gateway` false) or to Aratta.
    pub(crate) fn new(addr: SocketAddr, wire: Wire, gateway: bool, stream: bool) -> Target {
        Target {
            addr,
            path: wire.path(gateway, stream),
            headers: wire.headers(),
            body: wire.body(gateway, stream),
            wire,
            stream,
        }
    }

    /// An OpenAI chat completion, not streamed, for `model`.
    pub(crate) fn openai(addr: SocketAddr, model: &str) -> Target {
        Target {
            addr,
            path: "/v1/chat/completions".into(),
            headers: Vec::new(),
            body: crate::chat_body(model),
            wire: Wire::OpenAi,
            stream: false,
        }
    }
}

/// What one phase measured.
pub(crate) struct PhaseResult {
    pub(crate) concurrency: usize,
    pub(crate) latencies: Vec<Duration>,
    /// Request sent → first body bytes, per measured request.
    pub(crate) first_bytes: Vec<Duration>,
    pub(crate) elapsed: Duration,
    pub(crate) warmup_requests: u64,
    pub(crate) non_200: u64,
    pub(crate) failures: Vec<String>,
    /// What the gateway used over the measured part, when a pid was given.
    pub(crate) usage: Option<Usage>,
}

#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Summary {
    pub(crate) requests: u64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    /// Median time to the first body bytes.
    pub(crate) first_p50: Duration,
    pub(crate) rps: f64,
    pub(crate) cpu_per_request: Option<Duration>,
    pub(crate) faults_per_request: Option<f64>,
    pub(crate) switches_per_request: Option<f64>,
    pub(crate) run_us_per_request: Option<f64>,
}

impl PhaseResult {
    pub(crate) fn measured(&self) -> u64 {
        self.latencies.len() as u64
    }

    pub(crate) fn fail_loudly(&self, what: &str) {
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

    pub(crate) fn summary(&self) -> Summary {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let n = sorted.len() as u64;
        let mut first = self.first_bytes.clone();
        first.sort_unstable();
        Summary {
            first_p50: percentile(&first, 0.50),
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
pub(crate) fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Bounds shared by the workers of one phase.
pub(crate) struct Budget {
    pub(crate) warmup_left: AtomicU64,
    pub(crate) measure_left: AtomicU64,
}

pub(crate) fn take(counter: &AtomicU64) -> bool {
    counter
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
        .is_ok()
}

/// `concurrency` workers, one keep-alive connection each: a warm-up of at most `warm_n`
/// requests or `warm_t`, then a measured run of at most `max_n` requests or `max_t`.
/// With `pid`, that process's CPU time over the measured run is recorded.
pub(crate) async fn run_phase(
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
        let target = Arc::new(Target {
            addr: target.addr,
            path: target.path.clone(),
            headers: target.headers.clone(),
            body: target.body.clone(),
            wire: target.wire,
            stream: target.stream,
        });
        let addr = target.addr;
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
                match c.request(&target, !checked).await {
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
                match c.request(&target, !checked).await {
                    Ok(timing) => {
                        out.latencies.push(timing.total);
                        out.first_bytes.push(timing.first_bytes);
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
        first_bytes: Vec::new(),
        elapsed: Duration::ZERO,
        warmup_requests: 0,
        non_200: 0,
        failures: Vec::new(),
        usage: None,
    };
    for w in workers {
        let w = w.await.expect("a load generator worker panicked");
        result.latencies.extend(w.latencies);
        result.first_bytes.extend(w.first_bytes);
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
pub(crate) struct WorkerResult {
    pub(crate) latencies: Vec<Duration>,
    pub(crate) first_bytes: Vec<Duration>,
    pub(crate) warmup: u64,
    pub(crate) non_200: u64,
    pub(crate) failures: Vec<String>,
}

pub(crate) enum Failure {
    Status(u16, String),
    Other(String),
}

/// One keep-alive HTTP/1.1 client connection.
pub(crate) struct Connection {
    pub(crate) sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    pub(crate) host: String,
}

impl Connection {
    pub(crate) async fn open(addr: SocketAddr) -> Result<Connection, String> {
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

    /// POST the target's request and read the whole answer, timing it to the first body bytes
    /// and to the end; `check` also checks the answer in full.
    pub(crate) async fn request(
        &mut self,
        target: &Target,
        check: bool,
    ) -> Result<Timing, Failure> {
        let exchange = async {
            self.sender
                .ready()
                .await
                .map_err(|e| Failure::Other(format!("connection closed: {e}")))?;
            let mut request = Request::post(target.path.as_str())
                .header("host", &self.host)
                .header("content-type", "application/json");
            for (name, value) in &target.headers {
                request = request.header(*name, value);
            }
            let request = request
                .body(Full::new(target.body.clone()))
                .expect("a valid request");
            let t0 = Instant::now();
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| Failure::Other(format!("request failed: {e}")))?;
            let status = response.status();
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            let mut first_bytes = None;
            while let Some(frame) = body.frame().await {
                let frame =
                    frame.map_err(|e| Failure::Other(format!("reading the body failed: {e}")))?;
                if let Some(data) = frame.data_ref()
                    && !data.is_empty()
                {
                    first_bytes.get_or_insert_with(|| t0.elapsed());
                    if check || status != StatusCode::OK {
                        bytes.extend_from_slice(data);
                    }
                }
            }
            let total = t0.elapsed();
            if status != StatusCode::OK {
                return Err(Failure::Status(
                    status.as_u16(),
                    String::from_utf8_lossy(&bytes).into_owned(),
                ));
            }
            if check {
                target
                    .wire
                    .check(&bytes, target.stream)
                    .map_err(Failure::Other)?;
            }
            Ok(Timing {
                total,
                first_bytes: first_bytes.unwrap_or(total),
            })
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Other(format!(
                "no answer within {REQUEST_TIMEOUT:?}"
            ))),
        }
    }
}

/// When one answer arrived, from the request's sending.
pub(crate) struct Timing {
    pub(crate) total: Duration,
    pub(crate) first_bytes: Duration,
}
