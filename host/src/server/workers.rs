//! Serving on one single-threaded runtime per core. The listener's runtime only accepts; each
//! connection is handed to a worker in turn and stays there, so a request's socket, its adapter
//! call and the pooled upstream connection it uses (see [`Outbound`](crate::runtime::outbound))
//! are all driven by one thread. On tokio's multi-threaded runtime the tasks of one request
//! hopped between threads: ~10 context switches and ~60 µs of CPU per chat request, against 2
//! and none here.
//!
//! The number of workers is the number of CPUs, or `TOKIO_WORKER_THREADS` when set (as for the
//! multi-threaded runtime this replaces).
//!
//! Connection limits (`[server]`): at most `max_connections` are open; at the limit the
//! acceptor stops calling `accept`, so new connections wait in the kernel's queue instead of
//! being accepted and dropped, and it resumes as one closes. Each connection is served by
//! hyper with its HTTP/1 header-read timeout (which hyper also runs while a keep-alive
//! connection waits for its next request), and a watchdog closes it gracefully once no
//! request has been in flight for `idle_timeout_seconds` (HTTP/2 included).

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::body::Body;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::ServiceExt;

use crate::config::ServerConfig;

/// The per-connection limits from `[server]`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    max_connections: usize,
    header_read_timeout: Duration,
    idle_timeout: Duration,
}

impl Limits {
    /// The limits `server` sets.
    pub fn new(server: &ServerConfig) -> Self {
        Limits {
            max_connections: server.max_connections,
            header_read_timeout: server.header_read_timeout(),
            idle_timeout: server.idle_timeout(),
        }
    }
}

/// An accepted connection on its way to a worker, holding its place among `max_connections`.
type Accepted = (std::net::TcpStream, OwnedSemaphorePermit);

/// Serve `router` on `listener` until `shutdown` resolves, then let every worker finish its
/// requests in flight and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut inboxes = Vec::new();
    let mut finished = Vec::new();
    for index in 0..worker_count() {
        let (tx, rx) = mpsc::unbounded_channel::<Accepted>();
        let (done_tx, done_rx) = oneshot::channel();
        let router = router.clone();
        let stop = stop_rx.clone();
        std::thread::Builder::new()
            .name(format!("aratta-worker-{index}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("cannot start a worker runtime")
                    .map(|rt| rt.block_on(worker(rx, router, limits, stop)));
                let _ = done_tx.send(result);
            })
            .context("cannot start a worker thread")?;
        inboxes.push(tx);
        finished.push(done_rx);
    }
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let mut next = 0;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // Backpressure: no accept while max_connections are open.
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
        };
        let tcp = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((tcp, _peer)) => tcp,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, as axum does.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let Ok(tcp) = tcp.into_std() else { continue };
        // A worker that has stopped has dropped its inbox; try the next one.
        let mut connection = Some((tcp, permit));
        for _ in 0..inboxes.len() {
            let inbox = &inboxes[next % inboxes.len()];
            next = next.wrapping_add(1);
            match inbox.send(connection.take().expect("not yet handed off")) {
                Ok(()) => break,
                Err(mpsc::error::SendError(back)) => connection = Some(back),
            }
        }
    }
    let _ = stop_tx.send(true);
    drop(inboxes);
    let mut result = Ok(());
    for done in finished {
        match done.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(_) => result = Err(anyhow::anyhow!("a server worker panicked")),
        }
    }
    result
}

fn worker_count() -> usize {
    std::env::var("TOKIO_WORKER_THREADS")
        .ok()
        .and_then(|n| n.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// One worker: serve the connections handed to it until shutdown, then wait for them to
/// finish the requests they are answering.
async fn worker(
    mut inbox: mpsc::UnboundedReceiver<Accepted>,
    router: Router,
    limits: Limits,
    stop: watch::Receiver<bool>,
) {
    let mut connections = JoinSet::new();
    let mut stopped = stop.clone();
    loop {
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = inbox.recv() => match accepted {
                Some((tcp, permit)) => match TcpStream::from_std(tcp) {
                    Ok(tcp) => {
                        connections.spawn(connection(tcp, permit, router.clone(), limits, stop.clone()));
                    }
                    Err(e) => tracing::warn!(error = %e, "could not adopt an accepted connection"),
                },
                // The acceptor has stopped: it has already told every connection to stop.
                None => break,
            },
        }
    }
    while connections.join_next().await.is_some() {}
}

/// Serve one connection until it closes: on shutdown or after `idle_timeout` without a
/// request in flight, gracefully (a request being answered finishes first).
async fn connection(
    tcp: TcpStream,
    _open: OwnedSemaphorePermit,
    router: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::default());
    let tracked = activity.clone();
    let service = tower::service_fn(move |request: http::Request<Incoming>| {
        let in_flight = tracked.enter();
        let call = router.clone().oneshot(request);
        async move {
            let response = call.await?;
            Ok::<_, Infallible>(response.map(|body| {
                Body::new(body.map_frame(move |frame| {
                    let _held = &in_flight;
                    frame
                }))
            }))
        }
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    // As axum::serve: the CONNECT protocol for HTTP/2 websockets.
    builder
        .http2()
        .timer(TokioTimer::new())
        .enable_connect_protocol();
    let conn = builder
        .serve_connection_with_upgrades(TokioIo::new(tcp), TowerToHyperService::new(service));
    let mut conn = std::pin::pin!(conn);
    let mut closing = false;
    loop {
        let idle_until = activity.idle_until(limits.idle_timeout);
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.wait_for(|stop| *stop), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            () = tokio::time::sleep_until(idle_until), if !closing => {
                if activity.idle_until(limits.idle_timeout) <= Instant::now() {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

/// Requests in flight on one connection, and since when it has had none.
struct Activity {
    in_flight: AtomicUsize,
    idle_since: std::sync::Mutex<Instant>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            in_flight: AtomicUsize::new(0),
            idle_since: std::sync::Mutex::new(Instant::now()),
        }
    }
}

impl Activity {
    fn enter(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        InFlight(self.clone())
    }

    /// When the connection will have been idle for `timeout`; with a request in flight, a
    /// whole `timeout` from now (checked again then).
    fn idle_until(&self, timeout: Duration) -> Instant {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Instant::now() + timeout;
        }
        *self.idle_since.lock().expect("never poisoned") + timeout
    }
}

/// One request in flight, until its answer's body ends or is dropped.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        // Set before the count drops, so the watchdog never sees 0 with a stale time.
        *self.0.idle_since.lock().expect("never poisoned") = Instant::now();
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}
