//! Calling into an adapter: a fresh sandboxed instance per call, the typed result, and traps
//! (panics, fuel or memory exhausted) turned into errors that name the adapter. Every call
//! runs under a wall-clock deadline (see [`super::deadline`]); a full instance pool is an
//! overload, not the adapter's fault. A streamed answer runs in its own task, which owns the
//! store until the stream ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use wasmtime::Store;

use super::bindings::{chat, embeddings, errors, models, provider};
use super::deadline::{Call, NETWORK_GRACE};
use super::exports::Guest;
use super::outbound::{Grant, Hooks, Outbound};
use super::sandbox::{self, HostState};
use super::spares::{self, Spare};
use super::{Adapter, SandboxLimits};

/// Why a call into an adapter produced no answer.
#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The adapter answered with a typed error (usually the provider's).
    #[error("adapter error: {0:?}")]
    Adapter(errors::AdapterError),
    /// The adapter trapped: a panic, an exhausted CPU budget or memory limit, a bug.
    #[error("adapter '{adapter}' crashed: {message}")]
    Trap {
        /// The adapter's name.
        adapter: String,
        /// The trap and its backtrace summary.
        message: String,
    },
    /// The stream ended without a `stop` or `error` event.
    #[error("adapter '{adapter}' ended the stream without a stop event: the answer is truncated")]
    Truncated {
        /// The adapter's name.
        adapter: String,
    },
    /// The adapter did not answer within the call's wall-clock deadline; the call was
    /// cancelled and its instance freed. The adapter's fault, like a trap.
    #[error(
        "adapter '{adapter}' did not answer {call} within {after:?} ({setting}); the call was cancelled"
    )]
    Timeout {
        /// The adapter's name.
        adapter: String,
        /// The call that stalled.
        call: Call,
        /// The deadline it missed.
        after: Duration,
        /// The config that sets that deadline.
        setting: &'static str,
    },
    /// Every instance slot of the sandbox pool is in use: the gateway is overloaded. Not the
    /// adapter's fault; the client should retry shortly.
    #[error(
        "adapter '{adapter}' could not be started: all adapter instance slots are busy ({limit}; [behaviour] adapter_max_instances); retry shortly"
    )]
    Overloaded {
        /// The adapter's name.
        adapter: String,
        /// What wasmtime's pool ran out of.
        limit: String,
    },
}

impl InvokeError {
    /// Whether the call failed because the host is overloaded rather than because of the
    /// adapter or the provider: the breaker, the health monitor and probation ignore these.
    pub fn is_overload(&self) -> bool {
        matches!(self, InvokeError::Overloaded { .. })
    }
}

/// Whether `e` says the pooling allocator is full (instances, memories, tables or stacks).
pub(super) fn pool_exhausted(e: &wasmtime::Error) -> bool {
    e.is::<wasmtime::PoolConcurrencyLimitError>()
}

/// Everything one call needs: the engine, the adapter, and the provider's network grant.
#[derive(Clone)]
pub struct CallEnv {
    pub(super) engine: wasmtime::Engine,
    pub(super) limits: SandboxLimits,
    pub(super) local_deadline: Duration,
    pub(super) outbound: Outbound,
    /// The adapter being called.
    pub adapter: Arc<Adapter>,
    pub(super) grant: Arc<Grant>,
}

thread_local! {
    /// Calls in progress that started on this thread (streams aside).
    static BUSY: Arc<AtomicUsize> = Arc::new(AtomicUsize::new(0));
}

/// Counts a call as in progress on the thread it started on, until dropped.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn enter() -> Self {
        let count = BUSY.with(Arc::clone);
        count.fetch_add(1, Ordering::Relaxed);
        InFlight(count)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether calls are in progress on this thread. A busy thread makes no spares: under load
/// every call would wait for one anyway, and making them ahead costs ~4% more CPU.
fn busy() -> bool {
    BUSY.with(|count| count.load(Ordering::Relaxed) > 0)
}

/// Events of a streamed answer, delivered by the task that drives the adapter. The one
/// place a stream's end is judged: every consumer reads a well-formed stream, one that ends
/// with `stop` or `error`.
pub struct EventReceiver {
    rx: mpsc::Receiver<Result<chat::StreamEvent, InvokeError>>,
    adapter: String,
}

impl EventReceiver {
    /// The next event. A stream that ends without a `stop` or `error` event (the adapter
    /// returned none, or the task driving it ended) reads as [`InvokeError::Truncated`];
    /// read no further after a terminal event or an error (it reads as truncated again).
    pub async fn next(&mut self) -> Result<chat::StreamEvent, InvokeError> {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
    }

    /// [`EventReceiver::next`] for a hand-written `Stream`.
    pub fn poll_next(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<chat::StreamEvent, InvokeError>> {
        self.rx.poll_recv(cx).map(|event| {
            event.unwrap_or_else(|| {
                Err(InvokeError::Truncated {
                    adapter: self.adapter.clone(),
                })
            })
        })
    }
}

impl CallEnv {
    fn hooks(&self) -> Hooks {
        Hooks {
            grant: self.grant.clone(),
            outbound: self.outbound.clone(),
            adapter: self.adapter.info.name.as_str().into(),
        }
    }

    /// A fresh instance for `call`. Instantiation runs the component's start functions (guest
    /// code), so it is bounded by the call's deadline too.
    async fn instantiate(&self, call: Call) -> Result<(Store<HostState>, Guest), InvokeError> {
        tokio::time::timeout(self.deadline(call), self.instantiate_now())
            .await
            .unwrap_or_else(|_| Err(self.timed_out(call)))
    }

    async fn instantiate_now(&self) -> Result<(Store<HostState>, Guest), InvokeError> {
        if let Some(mut spare) = spares::take(&self.adapter, &self.grant) {
            // Made under an equal grant after an earlier call; from here on, this call's.
            spare.store.data_mut().set_hooks(self.hooks());
            return Ok((spare.store, spare.guest));
        }
        let mut store = sandbox::new_store(&self.engine, self.hooks(), &self.limits);
        let guest = match self.adapter.pre.instantiate(&mut store).await {
            // Spares hold slots too: give them back and try once more.
            Err(e) if pool_exhausted(&e) && spares::drop_all() => {
                drop(store);
                store = sandbox::new_store(&self.engine, self.hooks(), &self.limits);
                self.adapter.pre.instantiate(&mut store).await
            }
            other => other,
        }
        .map_err(|e| self.trap(e))?;
        Ok((store, guest))
    }

    /// Whether less than half of the instance pool is in use: only then is a spare made, so
    /// spares (one per adapter) do not crowd the calls of a busy gateway, which can reclaim them.
    fn pool_has_room(&self) -> bool {
        self.engine
            .pooling_allocator_metrics()
            .is_some_and(|m| m.component_instances() * 2 < u64::from(self.limits.max_instances))
    }

    /// How long `call` may take.
    fn deadline(&self, call: Call) -> Duration {
        if call.reaches_provider() {
            self.grant.timeout + NETWORK_GRACE
        } else {
            self.local_deadline
        }
    }

    fn timed_out(&self, call: Call) -> InvokeError {
        let after = self.deadline(call);
        tracing::error!(adapter = %self.adapter.info.name, %call, ?after, "adapter call cancelled: past its deadline");
        InvokeError::Timeout {
            adapter: self.adapter.info.name.clone(),
            call,
            after,
            setting: call.limit_setting(),
        }
    }

    /// After `call` ran under [`tokio::time::timeout`] of its deadline: retire `store` and
    /// return the answer, or, past the deadline (the guest call was dropped, which cancels
    /// it), drop the store, freeing its instance slot at once.
    fn finish<T>(
        &self,
        call: Call,
        store: Store<HostState>,
        r: Result<wasmtime::Result<Result<T, errors::AdapterError>>, tokio::time::error::Elapsed>,
    ) -> Result<T, InvokeError> {
        match r {
            Ok(r) => {
                self.retire(store);
                self.flatten(r)
            }
            Err(_) => {
                drop(store);
                Err(self.timed_out(call))
            }
        }
    }

    /// After a call: tear its store down and make the adapter's spare instance,
    /// in a task of their own that runs once the current task has answered. Resetting the
    /// store's memory and ending its fiber (~10 µs), and instantiating (~10-15 µs), need not
    /// delay the response.
    fn retire(&self, store: Store<HostState>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let env = self.clone();
        drop(runtime.spawn(async move {
            drop(store);
            if busy() || spares::has(&env.adapter) || !env.pool_has_room() {
                return;
            }
            // Boxed: instantiation's future is large, and a busy gateway spawns this task
            // after every call only to drop the store.
            Box::pin(env.make_spare()).await;
        }));
    }

    /// Instantiate the adapter ahead of the next call and keep it as its spare.
    async fn make_spare(self) {
        let mut store = sandbox::new_store(&self.engine, self.hooks(), &self.limits);
        // A failure here is the next call's to report, when it instantiates inline.
        let made = tokio::time::timeout(
            self.local_deadline,
            self.adapter.pre.instantiate(&mut store),
        )
        .await;
        if let Ok(Ok(guest)) = made {
            spares::put(Spare {
                adapter: self.adapter,
                grant: self.grant,
                store,
                guest,
            });
        }
    }

    fn trap(&self, e: wasmtime::Error) -> InvokeError {
        if pool_exhausted(&e) {
            tracing::warn!(adapter = %self.adapter.info.name, error = %e, "adapter instance pool exhausted");
            return InvokeError::Overloaded {
                adapter: self.adapter.info.name.clone(),
                limit: e.root_cause().to_string(),
            };
        }
        let root = e.root_cause().to_string();
        let message = match e.downcast_ref::<wasmtime::Trap>() {
            Some(wasmtime::Trap::OutOfFuel) => {
                "it used up its CPU budget (fuel); raise [behaviour] adapter_fuel if this is legitimate".to_owned()
            }
            Some(wasmtime::Trap::UnreachableCodeReached) => "it panicked (wasm `unreachable`)".to_owned(),
            _ if root.contains("growing memory") || root.contains("memory minimum size") => format!(
                "it exceeded its memory limit of {} MiB ([behaviour] adapter_memory_mib)",
                self.limits.memory_bytes >> 20
            ),
            _ if root.contains("resource table has no free keys") => format!(
                "it held more than {} live host resources (wasi-http headers, requests, bodies, streams) in one call, the sandbox's limit",
                super::sandbox::MAX_RESOURCES
            ),
            _ if root.contains("size of fields exceeds limit") => format!(
                "its headers exceeded {} KiB in one wasi-http fields, the sandbox's limit",
                super::sandbox::MAX_FIELDS_BYTES >> 10
            ),
            Some(trap) => trap.to_string(),
            None => root,
        };
        let message = message.lines().next().unwrap_or_default().to_owned();
        tracing::error!(adapter = %self.adapter.info.name, error = %format!("{e:?}"), "adapter trapped");
        InvokeError::Trap {
            adapter: self.adapter.info.name.clone(),
            message,
        }
    }

    fn flatten<T>(
        &self,
        r: wasmtime::Result<Result<T, errors::AdapterError>>,
    ) -> Result<T, InvokeError> {
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(InvokeError::Adapter(e)),
            Err(e) => Err(self.trap(e)),
        }
    }

    /// `chat`.
    pub async fn chat(
        &self,
        ctx: &provider::CallContext,
        request: &chat::ChatRequest,
    ) -> Result<chat::ChatResponse, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::Chat).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::Chat),
            guest.chat(&mut store, (ctx, request)),
        )
        .await;
        self.finish(Call::Chat, store, r)
    }

    /// `chat-stream`: returns once the adapter has opened the stream (so an error before the
    /// first byte can still fall back); events then flow through the receiver.
    pub async fn chat_stream(
        &self,
        ctx: &provider::CallContext,
        request: &chat::ChatRequest,
    ) -> Result<EventReceiver, InvokeError> {
        let (mut store, guest) = self.instantiate(Call::ChatStream).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::ChatStream),
            guest.chat_stream(&mut store, (ctx, request)),
        )
        .await;
        let stream = match r {
            Ok(r) => self.flatten(r)?,
            Err(_) => {
                drop(store);
                return Err(self.timed_out(Call::ChatStream));
            }
        };
        let (tx, rx) = mpsc::channel(32);
        let env = self.clone();
        let receiver = EventReceiver {
            rx,
            adapter: self.adapter.info.name.clone(),
        };
        tokio::spawn(async move {
            let next_deadline = env.deadline(Call::StreamNext);
            loop {
                let next = tokio::time::timeout(next_deadline, guest.next(&mut store, (stream,)));
                // A client that goes away frees the instance now, not at the deadline: a
                // never-ending stream would otherwise hold its pool slot until then.
                let next = tokio::select! {
                    next = next => next,
                    () = tx.closed() => {
                        drop(store);
                        return;
                    }
                };
                let event = match next {
                    Ok(Ok(Some(event))) => event,
                    // Without a terminal event, the receiver reads this as truncated.
                    Ok(Ok(None)) => break,
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(env.trap(e))).await;
                        break;
                    }
                    Err(_) => {
                        // The cancelled call leaves the instance unusable: drop it now.
                        drop(store);
                        let _ = tx.send(Err(env.timed_out(Call::StreamNext))).await;
                        return;
                    }
                };
                let ended = matches!(
                    event,
                    chat::StreamEvent::Stop(_) | chat::StreamEvent::Error(_)
                );
                if tx.send(Ok(event)).await.is_err() || ended {
                    break;
                }
            }
            // The stream's destructor is guest code too.
            let _ =
                tokio::time::timeout(env.local_deadline, stream.resource_drop_async(&mut store))
                    .await;
        });
        Ok(receiver)
    }

    /// `embed`.
    pub async fn embed(
        &self,
        ctx: &provider::CallContext,
        request: &embeddings::EmbeddingRequest,
    ) -> Result<embeddings::EmbeddingResponse, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::Embed).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::Embed),
            guest.embed(&mut store, (ctx, request)),
        )
        .await;
        self.finish(Call::Embed, store, r)
    }

    /// `get-models`.
    pub async fn models(
        &self,
        ctx: &provider::CallContext,
    ) -> Result<Vec<models::ModelInfo>, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::GetModels).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::GetModels),
            guest.get_models(&mut store, (ctx,)),
        )
        .await;
        self.finish(Call::GetModels, store, r)
    }

    /// `health-check`.
    pub async fn health(
        &self,
        ctx: &provider::CallContext,
    ) -> Result<provider::HealthReport, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::HealthCheck).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::HealthCheck),
            guest.health_check(&mut store, (ctx,)),
        )
        .await;
        self.finish(Call::HealthCheck, store, r)
    }

    /// `convert-tools`: SCRI tools to the provider's native JSON.
    pub async fn convert_tools(&self, tools: &[chat::Tool]) -> Result<String, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::ConvertTools).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::ConvertTools),
            guest.convert_tools(&mut store, (tools,)),
        )
        .await;
        self.finish(Call::ConvertTools, store, r)
    }

    /// `parse-tools`: the provider's native tool JSON back to SCRI.
    pub async fn parse_tools(&self, native: &str) -> Result<Vec<chat::Tool>, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::ParseTools).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::ParseTools),
            guest.parse_tools(&mut store, (native,)),
        )
        .await;
        self.finish(Call::ParseTools, store, r)
    }

    /// `convert-messages`: a SCRI conversation in the provider's native JSON.
    pub async fn convert_messages(
        &self,
        messages: &[chat::Message],
    ) -> Result<String, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, guest) = self.instantiate(Call::ConvertMessages).await?;
        let r = tokio::time::timeout(
            self.deadline(Call::ConvertMessages),
            guest.convert_messages(&mut store, (messages,)),
        )
        .await;
        self.finish(Call::ConvertMessages, store, r)
    }
}
