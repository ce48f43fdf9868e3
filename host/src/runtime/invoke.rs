//! Calling into an adapter: a fresh sandboxed instance per call, the typed result, and traps
//! (panics, fuel or memory exhausted) turned into errors that name the adapter. A streamed
//! answer runs in its own task, which owns the store until the stream ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::mpsc;
use wasmtime::Store;

use super::bindings::{Adapter as AdapterBindings, chat, embeddings, errors, models, provider};
use super::outbound::{Grant, Hooks, Outbound};
use super::sandbox::{self, HostState};
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
}

/// Everything one call needs: the engine, the adapter, and the provider's network grant.
#[derive(Clone)]
pub struct CallEnv {
    pub(super) engine: wasmtime::Engine,
    pub(super) limits: SandboxLimits,
    pub(super) outbound: Outbound,
    /// The adapter being called.
    pub adapter: Arc<Adapter>,
    pub(super) grant: Arc<Grant>,
}

/// An instance made ahead of time for the next call into `adapter` on this thread.
struct Spare {
    adapter: Arc<Adapter>,
    store: Store<HostState>,
    instance: AdapterBindings,
}

thread_local! {
    /// At most one spare instance per adapter and thread. When a call has answered and no
    /// other call is in progress on the thread, the instance for the next call into the same
    /// adapter is made (see [`CallEnv::retire`]), so a request does not wait for
    /// instantiation. Each instance still serves one call only.
    static SPARES: std::cell::RefCell<Vec<Spare>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// This thread's spare instance of `adapter`, if there is one. Spares of adapters that have
/// been replaced (held by nothing else) are dropped on the way.
fn take_spare(adapter: &Arc<Adapter>) -> Option<Spare> {
    SPARES.with_borrow_mut(|spares| {
        spares.retain(|s| Arc::strong_count(&s.adapter) > 1);
        let i = spares
            .iter()
            .position(|s| Arc::ptr_eq(&s.adapter, adapter))?;
        Some(spares.swap_remove(i))
    })
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

fn has_spare(adapter: &Arc<Adapter>) -> bool {
    SPARES.with_borrow(|spares| spares.iter().any(|s| Arc::ptr_eq(&s.adapter, adapter)))
}

/// Events of a streamed answer, delivered by the task that drives the adapter.
pub type EventReceiver = mpsc::Receiver<Result<chat::StreamEvent, InvokeError>>;

impl CallEnv {
    fn hooks(&self) -> Hooks {
        Hooks {
            grant: self.grant.clone(),
            outbound: self.outbound.clone(),
            adapter: self.adapter.info.name.as_str().into(),
        }
    }

    async fn instantiate(&self) -> Result<(Store<HostState>, AdapterBindings), InvokeError> {
        if let Some(mut spare) = take_spare(&self.adapter) {
            // Made for another call into this adapter, perhaps for another provider: this
            // call's grant and credential replace its hooks before any guest code runs.
            spare.store.data_mut().set_hooks(self.hooks());
            return Ok((spare.store, spare.instance));
        }
        let mut store = sandbox::new_store(&self.engine, self.hooks(), &self.limits);
        let instance = self
            .adapter
            .pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| self.trap(e))?;
        Ok((store, instance))
    }

    /// After a call: tear its store down and make this thread's spare instance of the adapter,
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
            if busy() || has_spare(&env.adapter) {
                return;
            }
            let mut store = sandbox::new_store(&env.engine, env.hooks(), &env.limits);
            // A failure here is the next call's to report, when it instantiates inline.
            if let Ok(instance) = env.adapter.pre.instantiate_async(&mut store).await
                && !has_spare(&env.adapter)
            {
                let spare = Spare {
                    adapter: env.adapter.clone(),
                    store,
                    instance,
                };
                SPARES.with_borrow_mut(|spares| spares.push(spare));
            }
        }));
    }

    fn trap(&self, e: wasmtime::Error) -> InvokeError {
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
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_chat(&mut store, ctx, request)
            .await;
        self.retire(store);
        self.flatten(r)
    }

    /// `chat-stream`: returns once the adapter has opened the stream (so an error before the
    /// first byte can still fall back); events then flow through the receiver.
    pub async fn chat_stream(
        &self,
        ctx: &provider::CallContext,
        request: &chat::ChatRequest,
    ) -> Result<EventReceiver, InvokeError> {
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_chat_stream(&mut store, ctx, request)
            .await;
        let stream = self.flatten(r)?;
        let (tx, rx) = mpsc::channel(32);
        let env = self.clone();
        tokio::spawn(async move {
            let guest = instance.aratta_scri_provider().chat_events();
            let mut ended = false;
            loop {
                let event = match guest.call_next(&mut store, stream).await {
                    Ok(Some(event)) => event,
                    Ok(None) => {
                        if !ended {
                            let adapter = env.adapter.info.name.clone();
                            let _ = tx.send(Err(InvokeError::Truncated { adapter })).await;
                        }
                        break;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(env.trap(e))).await;
                        break;
                    }
                };
                ended = matches!(
                    event,
                    chat::StreamEvent::Stop(_) | chat::StreamEvent::Error(_)
                );
                if tx.send(Ok(event)).await.is_err() || ended {
                    break;
                }
            }
            let _ = stream.resource_drop_async(&mut store).await;
        });
        Ok(rx)
    }

    /// `embed`.
    pub async fn embed(
        &self,
        ctx: &provider::CallContext,
        request: &embeddings::EmbeddingRequest,
    ) -> Result<embeddings::EmbeddingResponse, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_embed(&mut store, ctx, request)
            .await;
        self.retire(store);
        self.flatten(r)
    }

    /// `get-models`.
    pub async fn models(
        &self,
        ctx: &provider::CallContext,
    ) -> Result<Vec<models::ModelInfo>, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_get_models(&mut store, ctx)
            .await;
        self.retire(store);
        self.flatten(r)
    }

    /// `health-check`.
    pub async fn health(
        &self,
        ctx: &provider::CallContext,
    ) -> Result<provider::HealthReport, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_health_check(&mut store, ctx)
            .await;
        self.retire(store);
        self.flatten(r)
    }

    /// `convert-tools`: SCRI tools to the provider's native JSON.
    pub async fn convert_tools(&self, tools: &[chat::Tool]) -> Result<String, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_convert_tools(&mut store, tools)
            .await;
        self.retire(store);
        self.flatten(r)
    }

    /// `parse-tools`: the provider's native tool JSON back to SCRI.
    pub async fn parse_tools(&self, native: &str) -> Result<Vec<chat::Tool>, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_parse_tools(&mut store, &native.to_owned())
            .await;
        self.retire(store);
        self.flatten(r)
    }

    /// `convert-messages`: a SCRI conversation in the provider's native JSON.
    pub async fn convert_messages(
        &self,
        messages: &[chat::Message],
    ) -> Result<String, InvokeError> {
        let _busy = InFlight::enter();
        let (mut store, instance) = self.instantiate().await?;
        let r = instance
            .aratta_scri_provider()
            .call_convert_messages(&mut store, messages)
            .await;
        self.retire(store);
        self.flatten(r)
    }
}
