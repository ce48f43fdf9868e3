//! The adapter's exported functions, type-checked once per component instead of once per call.
//!
//! bindgen's `AdapterPre::instantiate` looks up and type-checks all ten exports against the
//! host's Rust types on every instantiation, walking the SCRI type tree each time: about 12 µs
//! of a request's CPU (4-5% of it in the gateway benchmark's profile), for an answer that
//! depends only on the component. Here the check runs once, on the instance that answers
//! `describe` when the component is loaded ([`Exports::check`]); each call's instance then
//! looks up the one function it needs by its export index.

use wasmtime::component::{
    ComponentExportIndex, ComponentNamedList, Instance, InstancePre, Lift, Lower, ResourceAny,
    TypedFunc,
};
use wasmtime::{AsContextMut, Store};

use super::bindings::{chat, embeddings, errors, models, provider};
use super::loader::PROVIDER_EXPORT;
use super::sandbox::HostState;

macro_rules! exports {
    ($($(#[$doc:meta])* $field:ident = $name:literal: ($($param:ty),*) -> $ret:ty;)*) => {
        /// Where each export of the provider interface is, in one component whose exports
        /// were checked against the host's types ([`Exports::check`]).
        #[derive(Debug, Clone, Copy)]
        pub(super) struct Exports {
            $($field: ComponentExportIndex,)*
        }

        impl Exports {
            /// Find every export of `aratta:scri/provider` in `pre`'s component; their types
            /// are not checked yet, so these indices serve only [`Exports::check`].
            fn find(pre: &InstancePre<HostState>) -> wasmtime::Result<Self> {
                let component = pre.component();
                let interface = component
                    .get_export_index(None, PROVIDER_EXPORT)
                    .ok_or_else(|| wasmtime::format_err!("no exported instance `{PROVIDER_EXPORT}`"))?;
                Ok(Self {
                    $($field: component
                        .get_export_index(Some(&interface), $name)
                        .ok_or_else(|| wasmtime::format_err!("`{PROVIDER_EXPORT}` does not export `{}`", $name))?,)*
                })
            }

            /// Type-check every export of `instance` (an instance of the component these
            /// indices were found in) against the host's types: the check bindgen repeats
            /// per instantiation. Calls into later instances of the component rely on it.
            fn check(&self, store: &mut Store<HostState>, instance: &Instance) -> wasmtime::Result<()> {
                $(
                    instance
                        .get_typed_func::<($($param,)*), ($ret,)>(&mut *store, &self.$field)
                        .map_err(|e| e.context(concat!("type-checking export func `", $name, "`")))?;
                )*
                Ok(())
            }
        }

        impl Guest {
            $(
                $(#[$doc])*
                pub(super) async fn $field(
                    &self,
                    store: &mut Store<HostState>,
                    params: ($($param,)*),
                ) -> wasmtime::Result<$ret> {
                    // SAFETY: a `Guest`'s instance is of the component its `exports` were
                    // found in and checked for (only `Found::check` and
                    // `AdapterPre::instantiate` make one), and these are the types the check
                    // used: both come from this one line of `exports!`.
                    let (answer,) = unsafe {
                        call::<($($param,)*), ($ret,)>(store, &self.instance, self.exports.$field, params)
                    }
                    .await?;
                    Ok(answer)
                }
            )*
        }
    };
}

/// What an export answers: its result, or the adapter's typed error.
type Answer<T> = Result<T, errors::AdapterError>;

exports! {
    /// `describe`: what the adapter is and what it may reach.
    describe = "describe": () -> provider::AdapterInfo;
    /// `chat`.
    chat = "chat": (&provider::CallContext, &chat::ChatRequest) -> Answer<chat::ChatResponse>;
    /// `chat-stream`: the stream resource, which [`Guest::next`] reads.
    chat_stream = "chat-stream": (&provider::CallContext, &chat::ChatRequest) -> Answer<ResourceAny>;
    /// `chat-events.next`: the stream's next event, `None` at its end.
    next = "[method]chat-events.next": (ResourceAny) -> Option<chat::StreamEvent>;
    /// `embed`.
    embed = "embed": (&provider::CallContext, &embeddings::EmbeddingRequest) -> Answer<embeddings::EmbeddingResponse>;
    /// `convert-messages`: a SCRI conversation in the provider's native JSON.
    convert_messages = "convert-messages": (&[chat::Message]) -> Answer<String>;
    /// `convert-tools`: SCRI tools in the provider's native JSON.
    convert_tools = "convert-tools": (&[chat::Tool]) -> Answer<String>;
    /// `parse-tools`: the provider's native tool JSON back to SCRI.
    parse_tools = "parse-tools": (&str) -> Answer<Vec<chat::Tool>>;
    /// `get-models`.
    get_models = "get-models": (&provider::CallContext) -> Answer<Vec<models::ModelInfo>>;
    /// `health-check`.
    health_check = "health-check": (&provider::CallContext) -> Answer<provider::HealthReport>;
}

/// A component linked for this host, with the indices of its exports, found but not yet
/// type-checked: [`Found::check`] makes it an [`AdapterPre`].
pub(super) struct Found {
    pre: InstancePre<HostState>,
    exports: Exports,
}

impl Found {
    /// Find the exports in `pre`'s component. An error names the missing one.
    pub(super) fn new(pre: InstancePre<HostState>) -> wasmtime::Result<Self> {
        let exports = Exports::find(&pre)?;
        Ok(Self { pre, exports })
    }

    /// Instantiate the component once in `store` and check its exports' types on that
    /// instance, which is returned to serve the first call (`describe`).
    pub(super) async fn check(
        self,
        store: &mut Store<HostState>,
    ) -> Result<(AdapterPre, Guest), CheckError> {
        let pre = AdapterPre {
            pre: self.pre,
            exports: self.exports,
        };
        let guest = pre
            .instantiate(store)
            .await
            .map_err(CheckError::Instantiate)?;
        pre.exports
            .check(store, &guest.instance)
            .map_err(CheckError::Types)?;
        Ok((pre, guest))
    }
}

/// Why [`Found::check`] failed.
#[derive(Debug)]
pub(super) enum CheckError {
    /// Instantiation failed (a start function trapped, say).
    Instantiate(wasmtime::Error),
    /// An export's type is not the host's.
    Types(wasmtime::Error),
}

/// A component whose exports were checked: each call instantiates it and calls one export,
/// with no check repeated.
#[derive(Clone)]
pub(super) struct AdapterPre {
    pre: InstancePre<HostState>,
    exports: Exports,
}

impl AdapterPre {
    /// A fresh instance in `store`.
    pub(super) async fn instantiate(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Guest> {
        let instance = self.pre.instantiate_async(&mut *store).await?;
        Ok(Guest {
            exports: self.exports,
            instance,
        })
    }
}

/// One instance of an [`AdapterPre`], its exports callable with the host's types. Only
/// [`AdapterPre::instantiate`] and [`Found::check`] make one, so its exports are always the
/// checked ones of its own component.
pub(super) struct Guest {
    exports: Exports,
    instance: Instance,
}

/// Call the export at `index` of `instance` with `params`.
///
/// # Safety
///
/// `instance` must be an instance of the component `index` was found in, and `(P, R)` the
/// types [`Exports::check`] checked for that export. The type of an export is a property of
/// the component (its type section, and the linker, fixed for an `InstancePre`), so what was
/// checked on one instance holds for every instance of the component.
async unsafe fn call<P, R>(
    store: &mut Store<HostState>,
    instance: &Instance,
    index: ComponentExportIndex,
    params: P,
) -> wasmtime::Result<R>
where
    P: ComponentNamedList + Lower + Send + Sync,
    R: ComponentNamedList + Lift + Send + Sync + 'static,
{
    let func = instance
        .get_func(store.as_context_mut(), index)
        .ok_or_else(|| wasmtime::format_err!("the instance lacks a checked export"))?;
    // SAFETY: the caller's contract: `func` has type `(P) -> R`, checked in `Exports::check`.
    let typed = unsafe { TypedFunc::<P, R>::new_unchecked(func) };
    typed.call_async(store.as_context_mut(), params).await
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use wit_component::{ComponentEncoder, StringEncoding, dummy_module};
    use wit_parser::{ManglingAndAbi, Resolve};

    use crate::runtime::outbound::Outbound;
    use crate::runtime::{AdapterSource, LoadError, Runtime, SandboxLimits};

    /// An adapter component for `wit/` with `edit` applied to `provider.wit`: every function
    /// body is `unreachable`, so nothing in it runs but its start (none) and what is called.
    fn component_for(edit: impl Fn(&str) -> String) -> Vec<u8> {
        let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
        let copy = tempfile::tempdir().expect("temporary directory");
        copy_dir(&wit, copy.path());
        let provider = copy.path().join("provider.wit");
        let text = std::fs::read_to_string(&provider).expect("read provider.wit");
        let edited = edit(&text);
        std::fs::write(&provider, edited).expect("write provider.wit");
        let mut resolve = Resolve::default();
        let (package, _) = resolve
            .push_dir(copy.path())
            .expect("the edited WIT parses");
        let world = resolve
            .select_world(&[package], Some("adapter"))
            .expect("the adapter world");
        let mut module = dummy_module(&resolve, world, ManglingAndAbi::Standard32);
        wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
            .expect("embed the world");
        ComponentEncoder::default()
            .module(&module)
            .and_then(|e| e.validate(true).encode())
            .expect("a valid component")
    }

    /// `provider.wit` with `from` replaced by `to`; `from` must be there.
    fn replacing(from: &'static str, to: &'static str) -> impl Fn(&str) -> String {
        move |wit| {
            assert!(wit.contains(from), "provider.wit declares `{from}`");
            wit.replace(from, to)
        }
    }

    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("create directory");
        for entry in std::fs::read_dir(from).expect("read directory") {
            let entry = entry.expect("directory entry");
            let target = to.join(entry.file_name());
            if entry.file_type().expect("file type").is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), &target).expect("copy file");
            }
        }
    }

    async fn load(bytes: Vec<u8>) -> Result<(), LoadError> {
        let runtime = Runtime::new(
            SandboxLimits {
                memory_bytes: 64 << 20,
                fuel: 1_000_000_000,
                max_instances: 4,
            },
            None,
            Outbound::new(std::time::Duration::from_secs(1)),
        )
        .expect("runtime");
        runtime
            .load_bytes("test component", bytes.into(), AdapterSource::Builtin)
            .await
            .map(drop)
    }

    /// The control: the contract as it is passes the type check, then `describe` traps (its
    /// body is `unreachable`). So the refusals below come from the edits, not from the build.
    #[tokio::test]
    async fn the_contract_as_it_is_passes_the_check_and_reaches_describe() {
        let err = load(component_for(str::to_owned)).await.unwrap_err();
        assert!(
            matches!(&err, LoadError::Describe { reason, .. } if reason.contains("unreachable")),
            "{err}"
        );
    }

    /// Calls skip the per-instance type check because this one runs at load: an export whose
    /// type is not the host's is refused there, naming it, and nothing of it is called.
    #[tokio::test]
    async fn a_mistyped_export_is_refused_at_load_naming_it() {
        let bytes = component_for(replacing(
            "describe: func() -> adapter-info;",
            "describe: func() -> u32;",
        ));
        let err = load(bytes).await.unwrap_err();
        assert!(
            matches!(&err, LoadError::Link { reason, .. } if reason.contains("type-checking export func `describe`")),
            "{err}"
        );
    }

    /// An export the host calls that the component lacks is refused at load, naming it.
    #[tokio::test]
    async fn a_missing_export_is_refused_at_load_naming_it() {
        let bytes = component_for(replacing("health-check: func", "health-probe: func"));
        let err = load(bytes).await.unwrap_err();
        assert!(
            matches!(&err, LoadError::Link { reason, .. } if reason.contains("does not export `health-check`")),
            "{err}"
        );
    }
}
