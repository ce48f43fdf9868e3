//! The usage recorder: the request path hands it a finished request's record and moves on
//! (a `try_send` on a bounded queue, never a wait, never a write); one task writes the queue
//! to the store in batches. A store that refuses a batch (down, full, locked) has it kept and
//! retried with backoff; what exceeds the bound while it is down, or arrives while the queue
//! is full, is dropped and counted (`aratta_usage_records_dropped_total`), never lost silently.
//!
//! A record does not wake the writer: it waits in the queue until the batch window ends, so a
//! busy server pays one wake-up per window rather than one per request (a cross-thread wake
//! costs more CPU than the rest of the record). Only the first record after a quiet spell, a
//! flush, and a queue past half full call the writer early.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use prometheus::{CounterVec, IntCounter, IntCounterVec};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use super::{Prices, UsageRow};
use crate::keys::Limits;
use crate::resilience::Metrics;
use crate::scri::Usage;
use crate::store::Store;

/// How the recorder batches and bounds.
#[derive(Clone, Copy, Debug)]
pub struct RecorderSettings {
    /// Records waiting in the queue at most.
    pub queue: usize,
    /// How long the writer gathers records before writing a batch.
    pub batch_window: Duration,
    /// Records per write at most.
    pub max_batch: usize,
    /// Records kept for retry while the store refuses them, at most.
    pub max_pending: usize,
    /// Records older than this are deleted (every hour); `None`: kept for ever.
    pub retention: Option<Duration>,
}

impl Default for RecorderSettings {
    fn default() -> Self {
        RecorderSettings {
            queue: 65_536,
            batch_window: Duration::from_millis(250),
            max_batch: 2_000,
            max_pending: 200_000,
            retention: None,
        }
    }
}

// Rows are nearly every message; boxing them would cost an allocation per request to save
// space in a queue that is almost always short.
#[allow(clippy::large_enum_variant)]
enum Message {
    Row(UsageRow),
    Flush(oneshot::Sender<()>),
}

/// The recorder's series in the gateway's registry (the handles share it).
#[derive(Clone)]
struct Counters {
    tokens: IntCounterVec,
    cost_usd: CounterVec,
    unpriced_requests: IntCounterVec,
    client_requests: IntCounterVec,
    usage_dropped: IntCounter,
    usage_write_failures: IntCounter,
}

impl Counters {
    fn of(m: &Metrics) -> Counters {
        Counters {
            tokens: m.tokens.clone(),
            cost_usd: m.cost_usd.clone(),
            unpriced_requests: m.unpriced_requests.clone(),
            client_requests: m.client_requests.clone(),
            usage_dropped: m.usage_dropped.clone(),
            usage_write_failures: m.usage_write_failures.clone(),
        }
    }
}

/// Hands finished requests to the writer task.
pub struct UsageRecorder {
    tx: mpsc::Sender<Message>,
    /// Calls the writer before its window ends (a flush, a queue past half full).
    wake: Arc<Notify>,
    /// Free places in the queue below which a record calls the writer.
    wake_below: usize,
    prices: Prices,
    metrics: Counters,
    limits: Option<Arc<Limits>>,
}

impl Drop for UsageRecorder {
    /// The writer writes what is queued and ends now, not at the end of its window.
    fn drop(&mut self) {
        self.wake.notify_one();
    }
}

impl std::fmt::Debug for UsageRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsageRecorder").finish_non_exhaustive()
    }
}

impl UsageRecorder {
    /// A recorder writing to `store`, pricing with `prices`, counting in `metrics`, charging
    /// each key's tokens and cost to `limits`; spawns the writer task (which ends when the
    /// recorder is dropped, after writing what it holds).
    pub fn start(
        store: Store,
        prices: Prices,
        metrics: &Metrics,
        settings: RecorderSettings,
        limits: Option<Arc<Limits>>,
    ) -> Arc<UsageRecorder> {
        let metrics = Counters::of(metrics);
        let (tx, rx) = mpsc::channel(settings.queue.max(1));
        // The spend goes into the store under the limits' name for this server, so the limits
        // read every other server's and not their own twice.
        let replica = limits
            .as_ref()
            .map_or_else(|| "unlimited".to_owned(), |l| l.replica().to_owned());
        let wake = Arc::new(Notify::new());
        tokio::spawn(write_loop(
            store,
            rx,
            metrics.clone(),
            settings,
            replica,
            wake.clone(),
        ));
        Arc::new(UsageRecorder {
            tx,
            wake,
            wake_below: settings.queue.max(1) / 2,
            prices,
            metrics,
            limits,
        })
    }

    /// Fill in `row`'s tokens from `usage`, price them (at the price of `adapter`'s
    /// `provider:model`), count and charge them, and queue the row for the store. Never waits.
    pub fn record(&self, mut row: UsageRow, adapter: &str, usage: Option<&Usage>) {
        let m = &self.metrics;
        if let Some(u) = usage {
            row.input_tokens = u.input_tokens;
            row.output_tokens = u.output_tokens;
            row.cache_read_tokens = u.cache_read_tokens;
            row.cache_write_tokens = u.cache_write_tokens;
            row.reasoning_tokens = u.reasoning_tokens;
        }
        if let (Some(provider), Some(model), Some(usage)) = (&row.provider, &row.model, usage) {
            let tokens = [
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
                usage.reasoning_tokens,
            ];
            for (kind, n) in crate::resilience::metrics::TOKEN_KINDS.iter().zip(tokens) {
                if let Some(n) = n.filter(|n| *n > 0) {
                    m.tokens
                        .with_label_values(&[provider.as_str(), kind])
                        .inc_by(u64::from(n));
                }
            }
            match self.prices.lookup(provider, adapter, model) {
                Some(price) => {
                    let cost = price.cost_nano_usd(usage);
                    m.cost_usd
                        .with_label_values(&[provider])
                        .inc_by(cost as f64 / 1e9);
                    row.cost_nano_usd = Some(cost);
                }
                None if tokens.iter().flatten().any(|n| *n > 0) => {
                    m.unpriced_requests.with_label_values(&[provider]).inc();
                }
                None => {}
            }
        }
        if let (Some(limits), Some(key)) = (&self.limits, &row.key_id) {
            let tokens = u64::from(row.input_tokens.unwrap_or(0))
                + u64::from(row.output_tokens.unwrap_or(0));
            limits.charge(key, tokens, row.cost_nano_usd, crate::clock::unix_millis());
        }
        let key = row.key_id.as_deref().unwrap_or("anonymous");
        let outcome = if row.outcome == "ok" { "ok" } else { "error" };
        m.client_requests.with_label_values(&[key, outcome]).inc();
        if self.tx.try_send(Message::Row(row)).is_err() {
            m.usage_dropped.inc();
            tracing::warn!(
                "usage record dropped: the recorder's queue is full (the store is too slow or down)"
            );
        } else if self.tx.capacity() < self.wake_below {
            self.wake.notify_one();
        }
    }

    /// Wait until every record queued before this call is written (or given up on), at most
    /// `within`. For shutdown, and for tests that read usage back.
    pub async fn flush(&self, within: Duration) -> bool {
        let (ack, done) = oneshot::channel();
        let sent = tokio::time::timeout(within, self.tx.send(Message::Flush(ack))).await;
        if !matches!(sent, Ok(Ok(()))) {
            return false;
        }
        self.wake.notify_one();
        matches!(tokio::time::timeout(within, done).await, Ok(Ok(())))
    }
}

/// Gather, write, retry, prune, until every sender is gone and what was queued is written.
async fn write_loop(
    store: Store,
    mut rx: mpsc::Receiver<Message>,
    metrics: Counters,
    settings: RecorderSettings,
    replica: String,
    wake: Arc<Notify>,
) {
    let mut pending: VecDeque<UsageRow> = VecDeque::new();
    let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
    let mut backoff = Duration::from_secs(1);
    let mut retry_at: Option<Instant> = None;
    let mut next_prune = Instant::now();
    let mut open = true;
    loop {
        /// Keeps `message`; a flush also ends the wait for a retry (someone is waiting for the
        /// store: try it now, once, rather than at the end of the backoff).
        fn take(
            message: Message,
            pending: &mut VecDeque<UsageRow>,
            flushes: &mut Vec<oneshot::Sender<()>>,
            retry_at: &mut Option<Instant>,
        ) {
            match message {
                Message::Row(row) => pending.push_back(row),
                Message::Flush(ack) => {
                    flushes.push(ack);
                    *retry_at = None;
                }
            }
        }
        // Wait for a record, or for the time to retry what the store refused.
        match retry_at {
            None => match rx.recv().await {
                Some(message) => take(message, &mut pending, &mut flushes, &mut retry_at),
                None => open = false,
            },
            Some(at) if open => match tokio::time::timeout_at(at, rx.recv()).await {
                Ok(Some(message)) => take(message, &mut pending, &mut flushes, &mut retry_at),
                Ok(None) => open = false,
                Err(_) => {}
            },
            Some(at) => tokio::time::sleep_until(at).await,
        }
        // Gather for the batch window, unless a flush is waiting: records queue up meanwhile
        // without waking this task, and are taken at the end of the window, or when a flush
        // or a filling queue calls.
        if open && pending.len() < settings.max_batch && flushes.is_empty() {
            let window_end = Instant::now() + settings.batch_window;
            tokio::select! {
                () = tokio::time::sleep_until(window_end) => {}
                () = wake.notified() => {}
            }
        }
        loop {
            match rx.try_recv() {
                Ok(message) => take(message, &mut pending, &mut flushes, &mut retry_at),
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    open = false;
                    break;
                }
            }
        }
        if retry_at.is_none_or(|at| Instant::now() >= at) {
            retry_at = None;
            while !pending.is_empty() {
                let n = pending.len().min(settings.max_batch);
                match store
                    .insert_usage(&pending.make_contiguous()[..n], &replica)
                    .await
                {
                    Ok(()) => {
                        pending.drain(..n);
                        backoff = Duration::from_secs(1);
                    }
                    Err(e) => {
                        metrics.usage_write_failures.inc();
                        tracing::error!(error = %e, pending = pending.len(), retry_in_s = backoff.as_secs(), "usage records not written; kept for a retry");
                        retry_at = Some(Instant::now() + backoff);
                        backoff = (backoff * 2).min(Duration::from_secs(30));
                        break;
                    }
                }
            }
        }
        let over = pending.len().saturating_sub(settings.max_pending);
        if over > 0 || (!open && retry_at.is_some()) {
            // Beyond the bound, or shutting down while the store refuses: count what is lost.
            let lost = if open { over } else { pending.len() };
            pending.drain(..lost);
            metrics.usage_dropped.inc_by(lost as u64);
            tracing::error!(
                dropped = lost,
                "usage records dropped: the store has refused them too long"
            );
            if !open {
                retry_at = None;
            }
        }
        // A flush is answered once everything before it is written, or given up on.
        if retry_at.is_none() {
            for ack in flushes.drain(..) {
                let _ = ack.send(());
            }
        }
        if let Some(keep) = settings.retention
            && Instant::now() >= next_prune
        {
            next_prune = Instant::now() + Duration::from_secs(3600);
            let before = crate::clock::unix_millis().saturating_sub(keep.as_millis() as u64);
            match store.prune_usage(before).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    deleted = n,
                    "usage records past [store] usage_retention_days deleted"
                ),
                Err(e) => tracing::warn!(error = %e, "old usage records could not be deleted"),
            }
        }
        if !open && pending.is_empty() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::usage::UsageQuery;

    fn row(i: u64) -> UsageRow {
        UsageRow {
            at_ms: 1_000 + i,
            request_id: format!("req_{i}"),
            route: "chat".into(),
            model_asked: "local:m".into(),
            provider: Some("local".into()),
            model: Some("m".into()),
            outcome: "ok".into(),
            attempts: 1,
            ..UsageRow::default()
        }
    }

    fn usage(input: u32, output: u32) -> Usage {
        Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            ..Usage::default()
        }
    }

    #[tokio::test]
    async fn records_are_priced_counted_and_written_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let metrics = Metrics::new();
        let price = crate::usage::Price {
            input: 1.0,
            output: 2.0,
            ..Default::default()
        };
        let overrides = [("local:*".to_owned(), price)];
        let prices = Prices::new(overrides);
        let recorder = UsageRecorder::start(
            store.clone(),
            prices,
            &metrics,
            RecorderSettings::default(),
            None,
        );
        for i in 0..500 {
            recorder.record(row(i), "local", Some(&usage(1_000, 500)));
        }
        let mut unpriced = row(999);
        unpriced.provider = Some("vllm".into());
        recorder.record(unpriced, "local", Some(&usage(10, 0)));
        assert!(recorder.flush(Duration::from_secs(10)).await);
        let sums = store.usage_summary(&UsageQuery::default()).await.unwrap();
        assert_eq!(sums[0].requests, 501);
        assert_eq!(sums[0].input_tokens, 500 * 1_000 + 10);
        // 1,000 in at $1/M + 500 out at $2/M = $0.002 a request.
        assert!(
            (sums[0].cost_usd - 1.0).abs() < 1e-9,
            "{}",
            sums[0].cost_usd
        );
        assert_eq!(sums[0].unpriced_requests, 1);
        let text = metrics.prometheus_text();
        assert!(
            text.contains("aratta_tokens_total{kind=\"input\",provider=\"local\"} 500000"),
            "{text}"
        );
        assert!(
            text.contains("aratta_unpriced_requests_total{provider=\"vllm\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("aratta_client_requests_total{key=\"anonymous\",outcome=\"ok\"} 501")
        );
    }

    /// Requests recorded so far, as the store has them.
    async fn written(store: &Store) -> u64 {
        let sums = store.usage_summary(&UsageQuery::default()).await.unwrap();
        sums.first().map_or(0, |s| s.requests)
    }

    #[tokio::test]
    async fn records_wait_for_the_window_unless_a_flush_or_a_filling_queue_calls_the_writer() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let metrics = Metrics::new();
        let settings = RecorderSettings {
            queue: 8,
            batch_window: Duration::from_secs(3600),
            ..RecorderSettings::default()
        };
        let recorder =
            UsageRecorder::start(store.clone(), Prices::new([]), &metrics, settings, None);
        // The first record starts a window; the next ones wait in the queue, unwritten.
        for i in 0..3 {
            recorder.record(row(i), "local", None);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(written(&store).await, 0, "nothing before the window ends");
        // A queue past half full (4 of 8 places taken, then 5) calls the writer.
        for i in 3..6 {
            recorder.record(row(i), "local", None);
        }
        let mut seen = 0;
        for _ in 0..100 {
            seen = written(&store).await;
            if seen > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(seen >= 5, "the filling queue was written: {seen}");
        // A flush writes what is queued at once.
        recorder.record(row(6), "local", None);
        let started = std::time::Instant::now();
        assert!(recorder.flush(Duration::from_secs(10)).await);
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(written(&store).await, 7);
        assert_eq!(metrics.usage_dropped.get(), 0);
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        let metrics = Metrics::new();
        let settings = RecorderSettings {
            queue: 4,
            batch_window: Duration::from_secs(5),
            ..RecorderSettings::default()
        };
        let recorder =
            UsageRecorder::start(store.clone(), Prices::default(), &metrics, settings, None);
        // The writer is parked in its batch window: the queue of 4 fills.
        let started = std::time::Instant::now();
        for i in 0..100 {
            recorder.record(row(i), "local", None);
        }
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "record waited"
        );
        assert!(
            metrics.usage_dropped.get() >= 90,
            "{}",
            metrics.usage_dropped.get()
        );
        assert!(recorder.flush(Duration::from_secs(10)).await);
        let kept = store.usage_summary(&UsageQuery::default()).await.unwrap()[0].requests;
        assert_eq!(
            kept + metrics.usage_dropped.get(),
            100,
            "every record is written or counted"
        );
    }

    #[tokio::test]
    async fn records_the_store_refuses_are_kept_and_written_when_it_recovers() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).await.unwrap();
        // The store refuses writes: another connection holds the write lock.
        let crate::store::Pool::Sqlite(pool) = store.pool() else {
            unreachable!("a file store")
        };
        let mut blocker = pool.acquire().await.unwrap();
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *blocker)
            .await
            .unwrap();
        let metrics = Metrics::new();
        let settings = RecorderSettings {
            batch_window: Duration::from_millis(10),
            ..RecorderSettings::default()
        };
        let recorder =
            UsageRecorder::start(store.clone(), Prices::default(), &metrics, settings, None);
        for i in 0..10 {
            recorder.record(row(i), "local", None);
        }
        // The busy timeout (5 s) passes, the batch is refused and kept.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while metrics.usage_write_failures.get() == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no write failure seen"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sqlx::query("ROLLBACK")
            .execute(&mut *blocker)
            .await
            .unwrap();
        drop(blocker);
        assert!(recorder.flush(Duration::from_secs(20)).await);
        let sums = store.usage_summary(&UsageQuery::default()).await.unwrap();
        assert_eq!(sums[0].requests, 10);
        assert_eq!(metrics.usage_dropped.get(), 0);
    }
}
