//! Self-healing: when a provider changes its API under a running gateway, the heal worker
//! works out what changed, patches the adapter's Rust source, builds it to a new component,
//! proves it on a real call and swaps it in, or hands a human a verified proposal.
//!
//! One cycle per heal trigger from the health monitor (or per `aratta heal run`), at most one
//! running per adapter, and `[healing] cooldown_seconds` between two cycles of one adapter,
//! among all the servers sharing a store: a server claims the adapter in the store before its
//! cycle starts (`crate::store::heal_cycles`), so two servers seeing one failure run one cycle:
//!
//! 1. **diagnose**: the heal model reads the error samples and the adapter's source
//!    ([`prompts`], [`ask`]);
//! 2. **research**: a search-capable cloud provider looks up the provider's current API
//!    ([`research`]);
//! 3. **fix**: the heal model writes search/replace edits ([`edits`]);
//! 4. **build**: the edits go into a scratch copy of the source ([`source`]), which is built to
//!    a component offline, with a time limit ([`builder`]);
//! 5. **verify**: the failing operation is replayed through the candidate, which must succeed
//!    where the serving version still fails ([`replay`]);
//! 6. **decide**: swap through the reload manager, or queue for a human.
//!
//! Every model call goes through the gateway, never through the adapter being healed. Each
//! cycle is kept in the store, listed by every server on it ([`cycle`]).

pub mod ask;
pub mod builder;
pub mod cycle;
pub mod edits;
pub mod prompts;
pub mod replay;
pub mod research;
mod run;
pub mod source;
mod trace;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::HealingConfig;
use crate::gateway::Gateway;
use crate::home::Home;
use crate::reload::ReloadManager;
use crate::resilience::alerts::WebhookSink;
use crate::resilience::monitor::HealTrigger;
use crate::resilience::samples::ErrorSample;
use crate::store::heal_cycles::HealClaimed;

pub use cycle::{Cycle, CycleStatus, CycleStore, StoreError};

/// Why a cycle could not be started.
#[derive(Debug, thiserror::Error)]
pub enum HealError {
    /// `[healing] enabled` is false.
    #[error(
        "healing is disabled; set [healing] enabled = true (and heal_model) to run heal cycles"
    )]
    Disabled,
    /// No adapter of that name is loaded.
    #[error("no adapter named '{0}' is loaded; see GET /api/v1/adapters")]
    UnknownAdapter(String),
    /// Nothing has failed recently: there is no failure to fix.
    #[error(
        "adapter '{0}' has no recent errors to heal from: a cycle fixes a failure the health \
         monitor has seen (see GET /api/v1/health/triggers)"
    )]
    NoFailure(String),
    /// The store.
    #[error(transparent)]
    Store(#[from] StoreError),
}

#[derive(Default)]
struct Slots {
    running: BTreeSet<String>,
    last_started: HashMap<String, Instant>,
}

/// Runs heal cycles; see the module doc.
pub struct HealWorker {
    gateway: Arc<Gateway>,
    reload: Arc<ReloadManager>,
    home: Home,
    settings: HealingConfig,
    store: CycleStore,
    slots: Mutex<Slots>,
    webhook: Option<WebhookSink>,
}

/// What starts a cycle: the failure it heals.
struct Failure {
    provider: String,
    class: String,
    trigger_id: Option<String>,
    started_by: &'static str,
    samples: Vec<ErrorSample>,
}

impl HealWorker {
    /// A worker for `gateway`'s adapters, swapping through `reload`, keeping cycles in `store`
    /// and its builds in `home`. Call within a tokio runtime (the cycles' writer runs on it).
    pub fn new(
        gateway: Arc<Gateway>,
        reload: Arc<ReloadManager>,
        home: &Home,
        store: crate::store::Store,
    ) -> Arc<Self> {
        let settings = gateway.config.healing.clone();
        // Every configured provider's adapter has its heal series from the start, at zero.
        let outcomes = CycleStatus::COUNTED.map(CycleStatus::as_str);
        for provider in gateway.providers() {
            gateway
                .metrics
                .seed_heal(&provider.config.adapter, &outcomes);
        }
        let webhook = settings.alert_webhook_url.as_deref().and_then(|url| {
            WebhookSink::new(
                url,
                Duration::from_secs(settings.alert_webhook_timeout_seconds),
            )
            .ok()
        });
        Arc::new(HealWorker {
            store: CycleStore::new(store, home.server_name()),
            home: home.clone(),
            settings,
            gateway,
            reload,
            slots: Mutex::new(Slots::default()),
            webhook,
        })
    }

    /// Import the cycles an older version kept as files, mark the cycles this server's previous
    /// run left running as interrupted and, when `[healing] enabled`, start a cycle for every
    /// heal trigger from now on.
    pub async fn start(self: &Arc<Self>) {
        self.store
            .import_legacy(&self.home.heal_dir().join("cycles"))
            .await;
        if let Err(e) = self.store.mark_interrupted().await {
            tracing::warn!(error = %e, "heal cycles left running by the previous run could not be marked interrupted");
        }
        if !self.settings.enabled {
            return;
        }
        let mut triggers = self.gateway.monitor.subscribe();
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match triggers.recv().await {
                    Ok(trigger) => me.on_trigger(&trigger).await,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(
                            missed = n,
                            "heal worker fell behind; some triggers were not healed"
                        );
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        tracing::info!("heal worker started");
    }

    /// The gateway it heals adapters of.
    pub fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }

    /// Every cycle, newest first.
    pub async fn cycles(&self) -> Result<Vec<Cycle>, StoreError> {
        self.store.list().await
    }

    /// The cycle `id`.
    pub async fn cycle(&self, id: &str) -> Result<Cycle, StoreError> {
        self.store.get(id).await
    }

    /// Start a cycle for `adapter` now (an operator's request), healing the most recent
    /// errors the monitor has seen for it. Returns the cycle as it starts (or as skipped,
    /// when one is running already); it goes on in the background.
    pub async fn run_now(self: &Arc<Self>, adapter: &str) -> Result<Cycle, HealError> {
        if !self.settings.enabled {
            return Err(HealError::Disabled);
        }
        if self.gateway.runtime.adapter(adapter).is_none() {
            return Err(HealError::UnknownAdapter(adapter.to_owned()));
        }
        let (provider, class, samples) = self
            .gateway
            .monitor
            .recent(adapter)
            .ok_or_else(|| HealError::NoFailure(adapter.to_owned()))?;
        let failure = Failure {
            provider,
            class: class.as_str().to_owned(),
            trigger_id: None,
            started_by: "operator",
            samples,
        };
        Ok(self.begin(adapter, failure, false).await)
    }

    async fn on_trigger(self: &Arc<Self>, trigger: &HealTrigger) {
        let failure = Failure {
            provider: trigger.provider.clone(),
            class: trigger.class.as_str().to_owned(),
            trigger_id: Some(trigger.id.clone()),
            started_by: "trigger",
            samples: trigger.samples.clone(),
        };
        let cycle = self.begin(&trigger.adapter, failure, true).await;
        tracing::info!(cycle = %cycle.id, adapter = %cycle.adapter, status = cycle.status.as_str(), "heal trigger received");
    }

    /// Take the adapter's slot here and its claim among the servers on the store, and spawn
    /// the cycle, or record why not.
    async fn begin(
        self: &Arc<Self>,
        adapter: &str,
        failure: Failure,
        honour_cooldown: bool,
    ) -> Cycle {
        let version = self
            .gateway
            .runtime
            .adapter(adapter)
            .map(|a| a.info.version.clone())
            .unwrap_or_default();
        let mut cycle = Cycle::start(
            adapter,
            &version,
            &failure.provider,
            &failure.class,
            failure.trigger_id.clone(),
            failure.started_by,
        );
        let mut skipped = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            let cooldown = Duration::from_secs(self.settings.cooldown_seconds);
            if slots.running.contains(adapter) {
                Some("another heal cycle for this adapter is running".to_owned())
            } else if let Some(left) = slots
                .last_started
                .get(adapter)
                .map(|t| cooldown.saturating_sub(t.elapsed()))
                .filter(|left| honour_cooldown && !left.is_zero())
            {
                Some(format!(
                    "within the cooldown: the last cycle of this adapter started less than [healing] cooldown_seconds ({}) ago; {} s left",
                    cooldown.as_secs(),
                    left.as_secs()
                ))
            } else {
                slots.running.insert(adapter.to_owned());
                None
            }
        };
        if skipped.is_none() {
            skipped = self.claim(&cycle, honour_cooldown).await;
        }
        if skipped.is_none() {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots
                .last_started
                .insert(adapter.to_owned(), Instant::now());
        }
        if let Some(why) = skipped {
            cycle.status = CycleStatus::Skipped;
            cycle.summary = format!("skipped: {why}");
            cycle.finished_at_ms = Some(cycle.started_at_ms);
            self.finish(&cycle);
            return cycle;
        }
        self.save(&cycle);
        let me = self.clone();
        let started = cycle.clone();
        tokio::spawn(async move {
            let t0 = Instant::now();
            let mut cycle = started;
            let adapter = cycle.adapter.clone();
            me.run(&mut cycle, &failure.samples).await;
            cycle.finished_at_ms = Some(crate::clock::unix_millis());
            me.gateway
                .metrics
                .heal_duration
                .with_label_values(&["total"])
                .observe(t0.elapsed().as_secs_f64());
            me.finish(&cycle);
            me.store.end_claim(&cycle).await;
            let mut slots = me.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.running.remove(&adapter);
        });
        cycle
    }

    /// Claim `cycle`'s adapter among the servers on the store; on refusal, give this server's
    /// slot back and say who holds it. A store that cannot be asked does not stop healing.
    async fn claim(&self, cycle: &Cycle, honour_cooldown: bool) -> Option<String> {
        let cooldown = honour_cooldown.then_some(self.settings.cooldown_seconds);
        let held = match self.store.claim(cycle, cooldown).await {
            Ok(HealClaimed::Taken) => return None,
            Ok(HealClaimed::Held(held)) => held,
            Err(e) => {
                tracing::warn!(adapter = %cycle.adapter, error = %e, "cannot ask the store whether another server heals this adapter; healing here");
                return None;
            }
        };
        let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
        slots.running.remove(&cycle.adapter);
        drop(slots);
        let now = crate::clock::unix_seconds();
        Some(match held.finished_at {
            None => format!(
                "server {} is healing this adapter (cycle {}, started {} s ago)",
                held.server,
                held.cycle_id,
                now.saturating_sub(held.claimed_at)
            ),
            Some(_) => format!(
                "within the cooldown: the last cycle of this adapter (cycle {} on server {}) started {} s ago; [healing] cooldown_seconds is {}",
                held.cycle_id,
                held.server,
                now.saturating_sub(held.claimed_at),
                self.settings.cooldown_seconds
            ),
        })
    }

    /// Save, count, log and announce a finished cycle.
    fn finish(&self, cycle: &Cycle) {
        self.save(cycle);
        self.gateway
            .metrics
            .heal_requests
            .with_label_values(&[&cycle.adapter, cycle.status.as_str()])
            .inc();
        tracing::info!(cycle = %cycle.id, adapter = %cycle.adapter, outcome = cycle.status.as_str(), summary = %cycle.summary, "heal cycle ended");
        if let Some(traces) = self.gateway.traces() {
            trace::export(traces, cycle);
        }
        if let Some(webhook) = &self.webhook {
            let body = serde_json::json!({
                "event": "heal_cycle",
                "id": cycle.id,
                "adapter": cycle.adapter,
                "provider": cycle.provider,
                "outcome": cycle.status.as_str(),
                "summary": cycle.summary,
                "approval_id": cycle.decision.as_ref().and_then(|d| d.approval_id.clone()),
            });
            webhook.post(
                "heal_cycle",
                &cycle.id,
                serde_json::to_vec(&body).unwrap_or_default(),
            );
        }
    }

    fn save(&self, cycle: &Cycle) {
        self.store.save(cycle);
    }

    /// Where heal builds keep their scratch copies and cargo's target directories.
    fn build_dir(&self) -> PathBuf {
        self.settings
            .build_dir
            .clone()
            .unwrap_or_else(|| self.home.heal_dir().join("build"))
    }
}
