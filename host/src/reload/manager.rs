//! The reload manager: every way a new adapter version gets in (a file in the adapters
//! directory, an approved candidate, a rollback) goes through [`ReloadManager`], one at a
//! time: compile and check, refuse a version that declares another reach than the serving
//! one (`runtime::declared`), verify with a real call, back up the serving version, swap
//! atomically, put the new one on probation. A refusal is logged, kept in the recent events
//! (`GET /api/v1/adapters`), and the refused file is renamed to `<file>.refused` so a restart
//! does not load it; the serving version keeps serving.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde::Serialize;
use utoipa::ToSchema;

use super::approvals::{ApprovalError, Approvals};
use super::history::{self, History, HistoryError, VersionRecord};
use super::probation::{Probation, ProbationRules};
use super::replicas::{Reach, Replicas};
use super::verify::{self, Verification};
use super::watcher;
use crate::config::ReloadConfig;
use crate::fs::write_atomic;
use crate::gateway::Gateway;
use crate::home::Home;
use crate::runtime::{Adapter, AdapterSource, LoadError, declared};
use crate::store::Store;

/// The `action` label values of `adapter_swaps_total` (and of the recent events): a version
/// swapped in, refused, or rolled back.
pub(super) const SWAP_ACTIONS: [&str; 3] = ["swapped", "refused", "rolled_back"];

/// Why a version was not swapped in.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// Not an adapter for this host (see [`LoadError`]).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// It loaded, but a real call through it failed.
    #[error("{origin}: verification failed, the serving version stays: {}", verification.summary())]
    Refused {
        /// What was refused.
        origin: String,
        /// The adapter it would have replaced.
        adapter: String,
        /// Every provider's check.
        verification: Verification,
    },
    /// It declares another reach (base URL, extra hosts, auth) than the serving version.
    #[error("{origin}: refused, the serving version stays: {reason}")]
    ChangedReach {
        /// What was refused.
        origin: String,
        /// The adapter it would have replaced.
        adapter: String,
        /// What it changes (see `runtime::declared`).
        reason: String,
    },
    /// The history could not be read or written (no swap happens without a backup).
    #[error(transparent)]
    History(#[from] HistoryError),
    /// The approval queue.
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    /// A version published for one adapter by another server describes itself as another.
    #[error("{origin}: published as adapter '{expected}' but it describes itself as '{found}'")]
    WrongAdapter {
        /// What was refused.
        origin: String,
        /// The adapter it was published for.
        expected: String,
        /// The name it describes itself with.
        found: String,
    },
    /// No such adapter is loaded.
    #[error("no adapter named '{0}' is loaded; see GET /api/v1/adapters")]
    UnknownAdapter(String),
    /// Nothing to roll back to.
    #[error("adapter '{0}' has no earlier version in its history to roll back to")]
    NoEarlierVersion(String),
    /// Reading a candidate file.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Something the manager did or refused, as reported by `GET /api/v1/adapters`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReloadEvent {
    /// When (seconds since the Unix epoch).
    pub at: u64,
    /// `swapped`, `refused` or `rolled_back`.
    pub action: &'static str,
    /// The adapter, when known (a file that is no adapter at all has none).
    pub adapter: Option<String>,
    /// The version concerned (its SHA-256), when known.
    pub sha256: Option<String>,
    /// Where it came from.
    pub source: String,
    /// What happened, in words.
    pub detail: String,
}

/// The result of a swap.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Swap {
    /// The adapter.
    pub adapter: String,
    /// False when that exact version was serving already (nothing was swapped).
    pub changed: bool,
    /// The version serving before (its SHA-256).
    pub previous_sha256: Option<String>,
    /// The version serving now.
    pub current: VersionRecord,
    /// The verification, when one ran.
    pub verification: Option<Verification>,
}

/// One adapter's serving version and history, for `GET /api/v1/adapters`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AdapterVersions {
    /// The adapter's name.
    pub name: String,
    /// The version it describes itself with.
    pub version: String,
    /// SHA-256 of the serving component.
    pub sha256: String,
    /// Where it was loaded from.
    pub source: String,
    /// When it was loaded (seconds since the Unix epoch).
    pub loaded_at: u64,
    /// Seconds left on probation, when it is on probation.
    pub probation_seconds_left: Option<u64>,
    /// Kept versions, oldest first (the serving one included once it has been swapped).
    pub history: Vec<VersionRecord>,
}

/// Swaps adapter versions in and out of the running gateway; see the module doc.
pub struct ReloadManager {
    pub(super) gateway: Arc<Gateway>,
    pub(super) settings: ReloadConfig,
    pub(super) adapters_dir: PathBuf,
    pub(super) history: History,
    pub(super) approvals: Approvals,
    pub(super) lock: tokio::sync::Mutex<()>,
    events: Mutex<VecDeque<ReloadEvent>>,
    /// Freshly swapped versions, judged on the calls the gateway reports.
    probation: Arc<Probation>,
    /// The other servers on the store, once swaps are shared with them.
    pub(super) replicas: OnceLock<Replicas>,
}

/// Recent events kept for the API.
const EVENTS_KEPT: usize = 100;

impl ReloadManager {
    /// A manager for `gateway`, keeping history in `home` and the approval queue in `store`.
    pub fn new(gateway: Arc<Gateway>, home: &Home, store: Store) -> Arc<Self> {
        let settings = gateway.config.reload.clone();
        let probation = Arc::new(Probation::default());
        gateway.add_observer(probation.clone());
        // Every configured provider's adapter has its swap series from the start, at zero.
        for provider in gateway.providers() {
            gateway
                .metrics
                .seed_swaps(&provider.config.adapter, &SWAP_ACTIONS);
        }
        Arc::new(ReloadManager {
            history: History::new(
                store.clone(),
                home.server_name(),
                settings.history_limit,
                home.history_dir(),
            ),
            approvals: Approvals::new(store, home.approvals_dir()),
            adapters_dir: home.adapters_dir(),
            settings,
            gateway,
            lock: tokio::sync::Mutex::new(()),
            events: Mutex::new(VecDeque::new()),
            probation,
            replicas: OnceLock::new(),
        })
    }

    /// The gateway it swaps adapters of.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Start rolling back versions that fail probation and, unless `[reload] watch = false`,
    /// watching the adapters directory. The tasks run on the current tokio runtime for as
    /// long as it does.
    pub fn start(self: &Arc<Self>) {
        let (tx, mut verdicts) = tokio::sync::mpsc::unbounded_channel();
        self.probation.subscribe(tx);
        let me = self.clone();
        tokio::spawn(async move {
            while let Some(verdict) = verdicts.recv().await {
                me.on_verdict(verdict).await;
            }
        });
        if !self.settings.watch {
            return;
        }
        let debounce = Duration::from_millis(self.settings.debounce_ms.max(1));
        match watcher::watch(&self.adapters_dir, debounce) {
            Ok((watch, mut files)) => {
                tracing::info!(dir = %self.adapters_dir.display(), "watching for new adapter versions");
                let me = self.clone();
                tokio::spawn(async move {
                    let _watch = watch;
                    while let Some(path) = files.recv().await {
                        me.install_file(&path).await;
                    }
                });
            }
            Err(e) => tracing::error!(error = %e, "adapters will not be hot-swapped"),
        }
    }

    /// A file in the adapters directory appeared or changed: swap it in if it passes.
    pub async fn install_file(&self, path: &Path) {
        let bytes = match std::fs::read(path) {
            Ok(bytes) if bytes.is_empty() => return,
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                tracing::info!(file = %path.display(), "adapter file removed; the loaded version keeps serving (roll back or restart to change it)");
                return;
            }
            Err(e) => {
                tracing::error!(file = %path.display(), error = %e, "cannot read adapter file");
                return;
            }
        };
        let source = AdapterSource::File(path.to_owned());
        let sha = sha256(&bytes);
        let origin = source.to_string();
        let result = match self
            .load_candidate(Bytes::from(bytes), source.clone())
            .await
        {
            Err(e) => Err(e),
            Ok(candidate) => {
                let held = self.lock.lock().await;
                // The candidate was read and compiled before the lock: a rollback, approval
                // or newer write may have changed the file meanwhile. What the file holds
                // now is what the operator wants; a changed file has its own event.
                if !history::file_has_hash(path, &sha) {
                    tracing::info!(file = %path.display(), sha256 = %sha, "adapter file changed while its candidate waited; that candidate is dropped");
                    return;
                }
                self.swap_in(candidate, &held, Reach::Everywhere).await
            }
        };
        if let Err(e) = &result {
            self.set_aside(path, &sha, "refused");
            // The refused file may have overwritten the serving version's own file.
            let mut affected = self.loaded_name_of(e).into_iter().collect::<Vec<_>>();
            affected.extend(
                self.gateway
                    .runtime
                    .adapters()
                    .values()
                    .filter(|a| a.source == source)
                    .map(|a| a.info.name.clone()),
            );
            for name in affected {
                self.persist_current(&name);
            }
        }
        // Reported once the directory is in order again.
        self.note(&origin, &sha, &result);
    }

    /// Swap in a component built outside the adapters directory (a heal cycle's fix, kept at
    /// `path`), through the same checks, verification, backup and probation as a dropped
    /// file; a restart loads it from the adapters directory.
    pub async fn install_built(&self, bytes: Bytes, path: &Path) -> Result<Swap, ReloadError> {
        let source = AdapterSource::File(path.to_owned());
        let (origin, sha) = (source.to_string(), sha256(&bytes));
        let result = self.try_install(bytes, source).await;
        self.note(&origin, &sha, &result);
        if let Ok(swap) = &result {
            self.persist_current(&swap.adapter);
        }
        result
    }

    /// Log and report what became of a candidate.
    pub(super) fn note(&self, origin: &str, sha: &str, result: &Result<Swap, ReloadError>) {
        match result {
            Ok(swap) if swap.changed => {
                tracing::info!(adapter = %swap.adapter, version = %swap.current.version, sha256 = %swap.current.sha256, from = %origin, verification = %swap.current.verification, "adapter swapped in");
                self.report(
                    "swapped",
                    Some(&swap.adapter),
                    Some(sha),
                    origin,
                    swap.current.verification.clone(),
                );
            }
            Ok(_) => tracing::debug!(from = %origin, "adapter version already serving"),
            Err(e) => {
                tracing::error!(from = %origin, error = %e, "adapter version refused; the serving version stays");
                self.report(
                    "refused",
                    self.loaded_name_of(e).as_deref(),
                    Some(sha),
                    origin,
                    e.to_string(),
                );
            }
        }
    }

    async fn try_install(&self, bytes: Bytes, source: AdapterSource) -> Result<Swap, ReloadError> {
        // Compiled and described before taking the lock: a candidate whose describe() stalls
        // (cut off at [reload] verify_timeout_seconds) holds up no other swap, approval or
        // rollback. Under the lock, only the verification calls run, each bounded too.
        let candidate = self.load_candidate(bytes, source).await?;
        let held = self.lock.lock().await;
        self.swap_in(candidate, &held, Reach::Everywhere).await
    }

    /// Compile, check and describe a candidate (describe is bounded by `[reload]
    /// verify_timeout_seconds`), without installing it.
    pub(super) async fn load_candidate(
        &self,
        bytes: Bytes,
        source: AdapterSource,
    ) -> Result<Arc<Adapter>, ReloadError> {
        let origin = source.to_string();
        let runtime = &self.gateway.runtime;
        Ok(Arc::new(runtime.load_bytes(&origin, bytes, source).await?))
    }

    /// Verify `candidate` and swap it in, published to `reach`. `_held` is the reload lock:
    /// one change at a time.
    pub(super) async fn swap_in(
        &self,
        candidate: Arc<Adapter>,
        _held: &tokio::sync::MutexGuard<'_, ()>,
        reach: Reach,
    ) -> Result<Swap, ReloadError> {
        let runtime = &self.gateway.runtime;
        let origin = candidate.source.to_string();
        let name = candidate.info.name.clone();
        let current = runtime.adapter(&name);
        if let Some(current) = &current
            && current.sha256 == candidate.sha256
        {
            return Ok(unchanged(current));
        }
        if let Some(current) = &current
            && let Some(reason) = declared::refusal(&current.info, &candidate.info)
        {
            return Err(ReloadError::ChangedReach {
                origin,
                adapter: name,
                reason,
            });
        }
        let timeout = Duration::from_secs(self.settings.verify_timeout_seconds);
        let verification = verify::verify(
            &self.gateway,
            &candidate,
            timeout,
            &self.settings.verify_chat,
        )
        .await;
        if !verification.passed {
            return Err(ReloadError::Refused {
                origin,
                adapter: name,
                verification,
            });
        }
        let record = record_of(
            &candidate,
            verification.verified.then_some(true),
            verification.summary(),
        );
        let previous_sha256 = current.as_ref().map(|c| c.sha256.clone());
        self.swap(current, candidate, record.clone(), true, reach)
            .await?;
        Ok(Swap {
            adapter: name,
            changed: true,
            previous_sha256,
            current: record,
            verification: Some(verification),
        })
    }

    /// Back up `current`, keep `record`, swap `candidate` in, start or end probation, and
    /// publish it to the servers `reach` names.
    pub(super) async fn swap(
        &self,
        current: Option<Arc<Adapter>>,
        candidate: Arc<Adapter>,
        record: VersionRecord,
        probation: bool,
        reach: Reach,
    ) -> Result<(), HistoryError> {
        let name = &candidate.info.name;
        if let Some(current) = &current {
            let served = record_of(
                current,
                None,
                "served before it was replaced; not verified by the reload manager".into(),
            );
            self.history.backup(name, &served, &current.bytes).await?;
        }
        if reach == Reach::HereOnly {
            // The server that published it kept it in the shared history already, with its
            // own verification; a follower only makes sure it is there. And it is on disk
            // before it serves here, so a file an operator drops once they see it serving is
            // never overwritten by it.
            self.history.backup(name, &record, &candidate.bytes).await?;
            self.persist(&candidate);
        } else {
            self.history.push(name, &record, &candidate.bytes).await?;
        }
        let runtime = &self.gateway.runtime;
        runtime.install(candidate.clone());
        if probation {
            let providers: Vec<String> = self
                .gateway
                .providers()
                .filter(|p| p.config.enabled && &p.config.adapter == name)
                .map(|p| p.name.clone())
                .collect();
            self.probation
                .start(name, &candidate.sha256, providers, self.rules());
        } else {
            self.probation.end(name);
        }
        // The providers it serves may list other models now (or at all, if it was broken).
        self.gateway.refresh_model_lists_soon();
        if reach == Reach::Everywhere
            && let Some(replicas) = self.replicas.get()
        {
            replicas.publish(&candidate, &record.source);
        }
        Ok(())
    }

    pub(super) fn rules(&self) -> ProbationRules {
        ProbationRules {
            window: Duration::from_secs(self.settings.probation_seconds),
            min_calls: self.settings.probation_min_calls.max(1),
            max_error_rate: self.settings.probation_error_rate,
        }
    }
}

impl ReloadManager {
    /// Every loaded adapter with its serving version and its history.
    pub async fn adapters(&self) -> Vec<AdapterVersions> {
        let runtime = &self.gateway.runtime;
        let now = Instant::now();
        let mut listed = Vec::new();
        for a in runtime.adapters().values() {
            let history = self.history.list(&a.info.name).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read adapter history");
                Vec::new()
            });
            listed.push(AdapterVersions {
                name: a.info.name.clone(),
                version: a.info.version.clone(),
                sha256: a.sha256.clone(),
                source: a.source.to_string(),
                loaded_at: crate::clock::seconds_at(a.loaded_at),
                probation_seconds_left: self
                    .probation
                    .until(&a.info.name)
                    .map(|until| until.saturating_duration_since(now).as_secs()),
                history,
            });
        }
        listed
    }

    /// What the manager did recently, oldest first.
    pub fn events(&self) -> Vec<ReloadEvent> {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        events.iter().cloned().collect()
    }

    /// Count and keep one event; `action` is one of [`SWAP_ACTIONS`].
    pub(super) fn report(
        &self,
        action: &'static str,
        adapter: Option<&str>,
        sha256: Option<&str>,
        source: &str,
        detail: String,
    ) {
        debug_assert!(SWAP_ACTIONS.contains(&action), "unlisted action {action}");
        self.gateway
            .metrics
            .adapter_swaps
            .with_label_values(&[adapter.unwrap_or("unknown"), action])
            .inc();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() == EVENTS_KEPT {
            events.pop_front();
        }
        events.push_back(ReloadEvent {
            at: crate::clock::unix_seconds(),
            action,
            adapter: adapter.map(str::to_owned),
            sha256: sha256.map(str::to_owned),
            source: source.to_owned(),
            detail,
        });
    }

    /// The adapter a refused candidate would have replaced, when it got far enough to say.
    fn loaded_name_of(&self, e: &ReloadError) -> Option<String> {
        match e {
            ReloadError::Refused { adapter, .. } | ReloadError::ChangedReach { adapter, .. } => {
                Some(adapter.clone())
            }
            _ => None,
        }
    }

    /// Rename a refused or rolled-back file in the adapters directory to `<file>.<suffix>`,
    /// if it still holds that version, so a restart does not load it again.
    pub(super) fn set_aside(&self, path: &Path, sha256: &str, suffix: &str) {
        if path.parent() != Some(self.adapters_dir.as_path())
            || !history::file_has_hash(path, sha256)
        {
            return;
        }
        let mut aside = path.as_os_str().to_owned();
        aside.push(format!(".{suffix}"));
        match std::fs::rename(path, &aside) {
            Ok(()) => {
                tracing::info!(file = %path.display(), to = %PathBuf::from(&aside).display(), "adapter file set aside")
            }
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "cannot set the adapter file aside")
            }
        }
    }

    /// Make sure a restart loads the version serving `name` now: write it into the adapters
    /// directory unless it is built in or its file there still holds it.
    pub(super) fn persist_current(&self, name: &str) {
        if let Some(current) = self.gateway.runtime.adapter(name) {
            self.persist(&current);
        }
    }

    /// Write `current` into the adapters directory unless it is built in or its file there
    /// still holds it.
    fn persist(&self, current: &Adapter) {
        let name = &current.info.name;
        let target = match &current.source {
            AdapterSource::Builtin => return,
            AdapterSource::File(p) if p.parent() == Some(self.adapters_dir.as_path()) => p.clone(),
            AdapterSource::File(_) | AdapterSource::Approval(_) => {
                self.adapters_dir.join(format!("{name}.wasm"))
            }
        };
        if history::file_has_hash(&target, &current.sha256) {
            return;
        }
        if let Err(e) = std::fs::create_dir_all(&self.adapters_dir)
            .and_then(|()| write_atomic(&target, &current.bytes))
        {
            tracing::warn!(file = %target.display(), error = %e, "cannot write the serving adapter version; a restart may load another");
        }
    }
}

pub(super) fn unchanged(current: &Adapter) -> Swap {
    Swap {
        adapter: current.info.name.clone(),
        changed: false,
        previous_sha256: Some(current.sha256.clone()),
        current: record_of(current, None, "already serving".into()),
        verification: None,
    }
}

fn record_of(adapter: &Adapter, verified: Option<bool>, verification: String) -> VersionRecord {
    VersionRecord {
        sha256: adapter.sha256.clone(),
        version: adapter.info.version.clone(),
        installed_at: crate::clock::seconds_at(adapter.loaded_at),
        source: adapter.source.to_string(),
        verified,
        verification,
    }
}

/// A component's SHA-256, as the history and the API name versions.
pub(crate) fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
