//! Serving on one single-threaded runtime per core. The listener's runtime only accepts; each
//! connection is handed to a worker in turn and stays there, so a request's socket, its adapter
//! call and the pooled upstream connection it uses (see [`Outbound`](crate::runtime::outbound))
//! are all driven by one thread. On tokio's multi-threaded runtime the tasks of one request
//! hopped between threads: ~10 context switches and ~60 µs of CPU per chat request, against 2
//! and none here.
//!
//! The number of workers is the number of CPUs, or `TOKIO_WORKER_THREADS` when set (as for the
//! multi-threaded runtime this replaces).

use std::future::Future;
use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot, watch};

/// Serve `router` on `listener` until `shutdown` resolves, then let every worker finish its
/// requests in flight (axum's graceful shutdown) and return.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let local = listener.local_addr()?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut inboxes = Vec::new();
    let mut finished = Vec::new();
    for index in 0..worker_count() {
        let (tx, rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        let handoff = Handoff { rx, local };
        let router = router.clone();
        let mut stop = stop_rx.clone();
        std::thread::Builder::new()
            .name(format!("aratta-worker-{index}"))
            .spawn(move || {
                let result = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .context("cannot start a worker runtime")
                    .and_then(|rt| {
                        rt.block_on(async move {
                            axum::serve(handoff, router)
                                .with_graceful_shutdown(async move {
                                    let _ = stop.wait_for(|stop| *stop).await;
                                })
                                .await
                                .context("server failed")
                        })
                    });
                let _ = done_tx.send(result);
            })
            .context("cannot start a worker thread")?;
        inboxes.push(tx);
        finished.push(done_rx);
    }
    let mut next = 0;
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, as axum does.
                    tracing::error!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let _ = tcp.set_nodelay(true);
        let Ok(tcp) = tcp.into_std() else { continue };
        // A worker that has stopped has dropped its inbox; try the next one.
        let mut connection = Some((tcp, peer));
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

/// A worker's end of the hand-off: the connections the acceptor gave it.
struct Handoff {
    rx: mpsc::UnboundedReceiver<(std::net::TcpStream, SocketAddr)>,
    local: SocketAddr,
}

impl axum::serve::Listener for Handoff {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            match self.rx.recv().await {
                Some((tcp, peer)) => match TcpStream::from_std(tcp) {
                    Ok(tcp) => return (tcp, peer),
                    Err(e) => tracing::warn!(error = %e, "could not adopt an accepted connection"),
                },
                // The acceptor has stopped: no more connections, shutdown is under way.
                None => std::future::pending().await,
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}
