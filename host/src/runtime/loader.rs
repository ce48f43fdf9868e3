//! Finding, checking and compiling adapters: the built-in ones embedded in the binary and
//! every `.wasm` in the adapters directory (a file overrides a built-in of the same name).
//! A file that is not an adapter is refused with the file and the reason; the rest load.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker, types::ComponentItem};
use wasmtime::{Engine, Store};

use super::bindings::provider;
use super::exports::{AdapterPre, CheckError, Found};
use super::sandbox::HostState;

/// The export every adapter must have, at the exact version this host speaks.
pub const PROVIDER_EXPORT: &str = "aratta:scri/provider@0.2.0";

/// Why an adapter could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a WebAssembly component at all.
    #[error("{origin}: not a valid WebAssembly component: {reason}")]
    Invalid {
        /// The file or built-in name.
        origin: String,
        /// What wasmtime said.
        reason: String,
    },
    /// A core module where a component was expected.
    #[error(
        "{origin}: is a core WebAssembly module, not a component; build adapters with `cargo build --target wasm32-wasip2` (or `aratta adapter build`)"
    )]
    CoreModule {
        /// The file or built-in name.
        origin: String,
    },
    /// An adapter for another version of the SCRI contract.
    #[error(
        "{origin}: exports {found}, but this host speaks {PROVIDER_EXPORT}; rebuild it against this version of aratta-guest"
    )]
    WrongVersion {
        /// The file or built-in name.
        origin: String,
        /// The export it has instead.
        found: String,
    },
    /// A component that is not an adapter.
    #[error(
        "{origin}: does not export {PROVIDER_EXPORT} (its exports: {exports}); it is not an Aratta adapter"
    )]
    NotAnAdapter {
        /// The file or built-in name.
        origin: String,
        /// What it exports instead.
        exports: String,
    },
    /// Imports the host does not provide, or an export of the wrong shape.
    #[error("{origin}: does not fit the adapter world: {reason}")]
    Link {
        /// The file or built-in name.
        origin: String,
        /// What wasmtime said.
        reason: String,
    },
    /// `describe` trapped or returned nonsense.
    #[error("{origin}: describe() failed: {reason}")]
    Describe {
        /// The file or built-in name.
        origin: String,
        /// What went wrong.
        reason: String,
    },
    /// A file overriding a built-in adapter declares another reach (see `runtime::declared`);
    /// the built-in keeps serving.
    #[error("{origin}: refused as an override of the built-in adapter '{adapter}': {reason}")]
    Override {
        /// The file.
        origin: String,
        /// The built-in it would have replaced.
        adapter: String,
        /// What it changes.
        reason: String,
    },
    /// `describe` did not answer within its deadline; the call was cancelled.
    #[error(
        "{origin}: describe() did not answer within {after:?} ([reload] verify_timeout_seconds); the call was cancelled and the adapter refused"
    )]
    DescribeTimeout {
        /// The file or built-in name.
        origin: String,
        /// The deadline it missed.
        after: std::time::Duration,
    },
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The engine could not be built.
    #[error("wasmtime engine: {0}")]
    Engine(String),
}

impl LoadError {
    pub(crate) fn invalid(origin: &str, e: wasmtime::Error) -> Self {
        LoadError::Invalid {
            origin: origin.to_owned(),
            reason: format!("{e:#}"),
        }
    }
}

/// Where an adapter came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterSource {
    /// Compiled from `adapters/` and embedded in the binary.
    Builtin,
    /// Loaded from this file.
    File(PathBuf),
    /// The candidate of this entry of the approval queue (kept in the store).
    Approval(String),
}

impl std::fmt::Display for AdapterSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdapterSource::Builtin => f.write_str("built-in"),
            AdapterSource::File(p) => write!(f, "{}", p.display()),
            AdapterSource::Approval(id) => write!(f, "approval {id}"),
        }
    }
}

/// A component that passed every check it can pass without running: compiled, linked, its
/// exports found. [`describe`] runs it.
pub struct CheckedComponent {
    /// Compiled, linked, its exports found (their types are checked by [`describe`]).
    pub(super) found: Found,
    /// SHA-256 of the component bytes.
    pub sha256: String,
}

/// Compile (or load from cache) and check that `bytes` is an adapter for this host.
pub fn check(
    engine: &Engine,
    linker: &Linker<HostState>,
    cache: &super::ComponentCache,
    origin: &str,
    bytes: &[u8],
) -> Result<CheckedComponent, LoadError> {
    if !bytes.starts_with(b"\0asm") {
        return Err(LoadError::Invalid {
            origin: origin.to_owned(),
            reason: "the file is not WebAssembly (it does not start with the `\\0asm` magic bytes)"
                .into(),
        });
    }
    if wasmparser_is_core_module(bytes) {
        return Err(LoadError::CoreModule {
            origin: origin.to_owned(),
        });
    }
    let component: Component = cache.compile(engine, origin, bytes)?;
    check_exports(engine, &component, origin)?;
    let found = linker
        .instantiate_pre(&component)
        .and_then(Found::new)
        .map_err(|e| LoadError::Link {
            origin: origin.to_owned(),
            reason: format!("{e:#}"),
        })?;
    Ok(CheckedComponent {
        found,
        sha256: hex::encode(Sha256::digest(bytes)),
    })
}

/// A core module starts with the magic and version 1; a component has layer 1 in the header.
fn wasmparser_is_core_module(bytes: &[u8]) -> bool {
    bytes.len() >= 8 && bytes[..4] == *b"\0asm" && bytes[4..8] == [1, 0, 0, 0]
}

fn check_exports(engine: &Engine, component: &Component, origin: &str) -> Result<(), LoadError> {
    let ty = component.component_type();
    let mut names = Vec::new();
    for (name, item) in ty.exports(engine) {
        if name == PROVIDER_EXPORT && matches!(item.ty, ComponentItem::ComponentInstance(_)) {
            return Ok(());
        }
        names.push(name.to_owned());
    }
    if let Some(found) = names.iter().find(|n| n.starts_with("aratta:scri/provider")) {
        return Err(LoadError::WrongVersion {
            origin: origin.to_owned(),
            found: found.clone(),
        });
    }
    Err(LoadError::NotAnAdapter {
        origin: origin.to_owned(),
        exports: if names.is_empty() {
            "none".into()
        } else {
            names.join(", ")
        },
    })
}

/// Instantiate the component once in a sandbox that may not reach the network, check its
/// exports' types on that instance and call `describe`, all within `deadline` (a start
/// function runs guest code too). Past it the call is dropped, which cancels it, and the
/// store with it.
pub(super) async fn describe(
    found: Found,
    mut store: Store<HostState>,
    origin: &str,
    deadline: std::time::Duration,
) -> Result<(provider::AdapterInfo, AdapterPre), LoadError> {
    let fail = |reason: String| LoadError::Describe {
        origin: origin.to_owned(),
        reason,
    };
    let call = async {
        let (pre, guest) = found.check(&mut store).await.map_err(|e| match e {
            CheckError::Instantiate(e) => fail(format!("{e:#}")),
            CheckError::Types(e) => LoadError::Link {
                origin: origin.to_owned(),
                reason: format!("{e:#}"),
            },
        })?;
        let info = guest
            .describe(&mut store, ())
            .await
            .map_err(|e| fail(format!("{e:#}")))?;
        Ok((info, pre))
    };
    let (info, pre) =
        tokio::time::timeout(deadline, call)
            .await
            .map_err(|_| LoadError::DescribeTimeout {
                origin: origin.to_owned(),
                after: deadline,
            })??;
    if info.name.is_empty()
        || !info
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(fail(format!(
            "adapter name {:?} must be non-empty and use only letters, digits, '-' and '_'",
            info.name
        )));
    }
    Ok((info, pre))
}

/// Every `*.wasm` file in `dir`, sorted by name; a missing directory has none.
pub fn wasm_files(dir: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(LoadError::Io {
                path: dir.to_owned(),
                source,
            });
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wasm") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}
