//! `ToolRegistry`: the tools an operator registered, shared by every request and agent. Reads
//! are concurrent, writes are atomic (a batch is validated whole before any of it is stored),
//! and tools keep their registration order, so exports list them as they were registered.
//! A tool another part of the server provides (the agent executor's) is pinned: listed and
//! exported like any other, but deleting or replacing it through the registry is refused, since
//! its provider would go on running it. Once [`ToolRegistry::restore`] has given it the
//! store, every change is written there before it takes effect (pinned tools are not), and
//! [`ToolRegistry::start_refresh`] reloads it when another server (or process) on the store
//! changed it.
//!
//! Registering a definition identical to the registered one of that name
//! ([`ToolDef::same_definition`]) changes nothing and is not a conflict, pinned tools included,
//! so a registry exported and imported back goes through; a different definition under a taken
//! name is refused (or, with [`OnConflict::Replace`], replaces it).

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use indexmap::IndexMap;
use serde_json::Value;

use super::def::ToolDef;
use super::error::ToolError;
use super::file::{FileError, ToolsFile};
use super::tier::Tier;
use super::translate::Translator;
use super::validate;
use crate::store::tools::{StoredTool, TOPIC, ToolsWrite};
use crate::store::{Store, StoreError};

/// What to do when a registered name is registered again with a different definition (an
/// identical one is always a no-op).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnConflict {
    /// Refuse the whole batch (the default: names are unique).
    #[default]
    Refuse,
    /// Replace the registered tool, keeping its place in the order.
    Replace,
}

/// Which tier a definition in a batch has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tiers {
    /// Its own.
    AsGiven,
    /// The registered tool's of that name, if there is one (an import that names no tier: a
    /// provider's format carries none, so it says nothing about tiers).
    KeepRegistered,
}

/// The registered tools, by name. Thread-safe; share it behind an `Arc` (the gateway holds one).
#[derive(Debug, Default)]
pub struct ToolRegistry {
    tools: RwLock<IndexMap<String, ToolDef>>,
    /// Pinned names and who provides them. Lock order: `tools`, then `pinned`.
    pinned: RwLock<HashMap<String, String>>,
    /// Where changes are written, once [`Self::restore`] has run.
    store: OnceLock<Store>,
    /// One change (or reload from the store) at a time, so memory and the store agree.
    writer: tokio::sync::Mutex<()>,
    /// The store's `tools` change counter when the registry was last loaded from it.
    seen: AtomicI64,
}

/// What [`ToolRegistry::restore`] found.
#[derive(Debug, Default)]
pub struct Restored {
    /// The tools loaded, in order.
    pub loaded: Vec<String>,
    /// What went wrong, each naming the tool or file and what was done about it (also logged).
    pub problems: Vec<String>,
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, IndexMap<String, ToolDef>> {
        // A panic while holding the lock cannot leave the map half-written (every write is a
        // single insert/remove after validation), so a poisoned lock is still consistent.
        self.tools.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, IndexMap<String, ToolDef>> {
        self.tools.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Register one tool; refused if it breaks a rule or its name is taken by a different
    /// definition (the same one again is a no-op).
    pub async fn register(&self, def: ToolDef) -> Result<(), ToolError> {
        self.register_all(vec![def], OnConflict::Refuse)
            .await
            .map(drop)
    }

    /// Register a tool that `owner` (e.g. "the agent executor (built in)") provides and runs:
    /// refused like [`Self::register`], and once registered, deleting or replacing it is
    /// refused with [`ToolError::Pinned`] naming `owner`.
    pub fn register_pinned(&self, def: ToolDef, owner: &str) -> Result<(), ToolError> {
        validate::check(&def)?;
        let mut tools = self.write();
        let mut pinned = self.pinned.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(owner) = pinned.get(&def.name) {
            return Err(ToolError::Pinned {
                tool: def.name.clone(),
                owner: owner.clone(),
            });
        }
        if tools.contains_key(&def.name) {
            return Err(ToolError::Duplicate {
                tool: def.name.clone(),
                hint: " (delete it first, or register with replace)",
            });
        }
        pinned.insert(def.name.clone(), owner.to_owned());
        tools.insert(def.name.clone(), def);
        Ok(())
    }

    /// The refusal for changing `name` if it is pinned.
    fn check_unpinned(&self, name: &str) -> Result<(), ToolError> {
        let pinned = self.pinned.read().unwrap_or_else(PoisonError::into_inner);
        match pinned.get(name) {
            Some(owner) => Err(ToolError::Pinned {
                tool: name.to_owned(),
                owner: owner.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Register several tools at once: all of them or, on the first refusal, none. A tool
    /// identical to the registered one of its name is left as it is. Returns the tools as
    /// they are now registered, in the order given.
    pub async fn register_all(
        &self,
        defs: Vec<ToolDef>,
        on_conflict: OnConflict,
    ) -> Result<Vec<ToolDef>, ToolError> {
        self.apply(defs, on_conflict, Tiers::AsGiven).await
    }

    async fn apply(
        &self,
        defs: Vec<ToolDef>,
        on_conflict: OnConflict,
        tiers: Tiers,
    ) -> Result<Vec<ToolDef>, ToolError> {
        for (i, def) in defs.iter().enumerate() {
            validate::check(def)?;
            if defs[..i].iter().any(|d| d.name == def.name) {
                return Err(ToolError::Duplicate {
                    tool: def.name.clone(),
                    hint: " (it appears twice in this request)",
                });
            }
        }
        let _one_at_a_time = self.writer.lock().await;
        let (changes, result) = self.plan(defs, on_conflict, tiers)?;
        if changes.is_empty() {
            return Ok(result);
        }
        self.persist(&changes, on_conflict == OnConflict::Replace, &[])
            .await?;
        let mut tools = self.write();
        for def in changes {
            tools.insert(def.name.clone(), def);
        }
        Ok(result)
    }

    /// What registering `defs` changes (identical tools change nothing), and the tools as
    /// they would then be registered; or the refusal.
    fn plan(
        &self,
        mut defs: Vec<ToolDef>,
        on_conflict: OnConflict,
        tiers: Tiers,
    ) -> Result<(Vec<ToolDef>, Vec<ToolDef>), ToolError> {
        let tools = self.read();
        if tiers == Tiers::KeepRegistered {
            for def in &mut defs {
                if let Some(registered) = tools.get(&def.name) {
                    def.tier = registered.tier;
                }
            }
        }
        let mut changes = Vec::new();
        let mut result = Vec::with_capacity(defs.len());
        for def in defs {
            match tools.get(&def.name) {
                Some(registered) if registered.same_definition(&def) => {
                    result.push(registered.clone());
                    continue;
                }
                registered => {
                    self.check_unpinned(&def.name)?;
                    if registered.is_some() && on_conflict == OnConflict::Refuse {
                        return Err(ToolError::Duplicate {
                            tool: def.name.clone(),
                            hint: " with a different definition (delete it first, or register with replace)",
                        });
                    }
                }
            }
            result.push(def.clone());
            changes.push(def);
        }
        Ok((changes, result))
    }

    /// Write `upserts` and `removals` to the store, if there is one, before they take effect.
    async fn persist(
        &self,
        upserts: &[ToolDef],
        replace: bool,
        removals: &[String],
    ) -> Result<(), ToolError> {
        let Some(store) = self.store.get() else {
            return Ok(());
        };
        let rows: Vec<StoredTool> = upserts.iter().map(stored).collect();
        match store.change_tools(&rows, replace, removals).await {
            Ok(ToolsWrite::Done) => Ok(()),
            Ok(ToolsWrite::Taken(tool)) => Err(ToolError::Duplicate {
                tool,
                hint: " with a different definition by another server on the store (delete it first, or register with replace)",
            }),
            Err(e) => Err(ToolError::NotSaved {
                reason: e.to_string(),
            }),
        }
    }

    /// Import `legacy` (a `tools.json` an older version left) into `store` once, load the tools
    /// the store keeps, and from now on write every change there. Call once, at startup, after
    /// the pinned tools are registered. A kept tool now refused (its name pinned, a rule it
    /// breaks, a definition this version cannot read) is reported and left in the store as it
    /// is; a legacy file that cannot be parsed is renamed aside and reported.
    pub async fn restore(&self, store: Store, legacy: &ToolsFile) -> Restored {
        let mut report = Restored::default();
        self.import_file(&store, legacy, &mut report.problems).await;
        {
            let _one_at_a_time = self.writer.lock().await;
            match self.reload(&store, &mut report.problems).await {
                Ok(loaded) => report.loaded = loaded,
                Err(e) => report.problems.push(format!(
                    "{e}; the registry starts empty until the store can be read"
                )),
            }
        }
        for problem in &report.problems {
            tracing::error!(problem = %problem, "tool registry");
        }
        tracing::info!(store = %store.location(), restored = report.loaded.len(), "tool registry kept in the store");
        let _ = self.store.set(store);
        report
    }

    /// Reload from the store whenever its `tools` counter moves (a change by another server or
    /// process on it), checking every `every`, for as long as the registry lives.
    pub fn start_refresh(self: &Arc<Self>, every: Duration) {
        let registry: Weak<ToolRegistry> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tick.tick().await;
                let Some(registry) = registry.upgrade() else {
                    return;
                };
                match registry.refresh().await {
                    Ok(()) if std::mem::take(&mut failing) => {
                        tracing::info!("the tool registry follows the store again")
                    }
                    Ok(()) => {}
                    Err(e) if !std::mem::replace(&mut failing, true) => {
                        tracing::warn!(error = %e, "the tool registry cannot follow the store; it keeps what it has")
                    }
                    Err(_) => {}
                }
            }
        });
    }

    /// Reload from the store if its `tools` counter moved since the last load.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let Some(store) = self.store.get() else {
            return Ok(());
        };
        if store.version(TOPIC).await? == self.seen.load(Ordering::SeqCst) {
            return Ok(());
        }
        let _one_at_a_time = self.writer.lock().await;
        let mut problems = Vec::new();
        self.reload(store, &mut problems).await?;
        for problem in &problems {
            tracing::warn!(problem = %problem, "tool registry");
        }
        Ok(())
    }

    /// Replace the registered tools (pinned ones stay) with those `store` keeps; returns the
    /// names loaded, and adds what was refused to `problems`. The caller holds the writer lock.
    async fn reload(
        &self,
        store: &Store,
        problems: &mut Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        let version = store.version(TOPIC).await?;
        let kept = store.tools().await?;
        let pinned = self
            .pinned
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut next: IndexMap<String, ToolDef> = self
            .read()
            .iter()
            .filter(|(name, _)| pinned.contains_key(*name))
            .map(|(name, def)| (name.clone(), def.clone()))
            .collect();
        let mut loaded = Vec::new();
        for row in kept {
            let refused = |why: String| {
                format!(
                    "tool `{}` in the store: not loaded: {why}; it is left there as it is",
                    row.name
                )
            };
            let def: ToolDef = match serde_json::from_str(&row.definition) {
                Ok(def) => def,
                Err(e) => {
                    problems.push(refused(format!("unreadable definition ({e})")));
                    continue;
                }
            };
            if def.name != row.name {
                problems.push(refused(format!("its definition is named `{}`", def.name)));
                continue;
            }
            if let Err(e) = validate::check(&def) {
                problems.push(refused(e.to_string()));
                continue;
            }
            if let Some(owner) = pinned.get(&def.name) {
                problems.push(refused(format!("the name is taken by {owner}")));
                continue;
            }
            loaded.push(def.name.clone());
            next.insert(def.name.clone(), def);
        }
        *self.write() = next;
        self.seen.store(version, Ordering::SeqCst);
        Ok(loaded)
    }

    /// Import the tools of `legacy` into `store`, once: the file is renamed
    /// `<file>.imported-<unix seconds>` afterwards. A tool now refused, or one the store holds
    /// with another definition, is reported and not imported (the renamed file keeps it).
    async fn import_file(&self, store: &Store, legacy: &ToolsFile, problems: &mut Vec<String>) {
        let shown = legacy.path().display().to_string();
        let defs = match legacy.load() {
            Ok(_) if !legacy.path().exists() => return,
            Ok(defs) => defs,
            Err(e @ FileError::Corrupt { .. }) => {
                problems.push(match legacy.set_aside("corrupt") {
                    Ok(aside) => format!(
                        "{e}; it was moved to {} and the registry starts without it",
                        aside.display()
                    ),
                    Err(io) => format!("{e}; it could not be moved aside ({io})"),
                });
                return;
            }
            Err(e) => {
                problems.push(format!(
                    "{e}; not imported into the store, it stays in place"
                ));
                return;
            }
        };
        let mut imported = 0;
        for def in defs {
            if let Err(e) = validate::check(&def).and_then(|()| self.check_unpinned(&def.name)) {
                problems.push(format!("{shown}: not imported: {e}"));
                continue;
            }
            match store.change_tools(&[stored(&def)], false, &[]).await {
                Ok(ToolsWrite::Done) => imported += 1,
                Ok(ToolsWrite::Taken(name)) => problems.push(format!(
                    "{shown}: tool `{name}` not imported: the store holds another definition of it"
                )),
                Err(e) => {
                    problems.push(format!("{shown}: not imported ({e}); it stays in place"));
                    return;
                }
            }
        }
        match legacy.set_aside("imported") {
            Ok(aside) => tracing::info!(file = %shown, imported, kept_at = %aside.display(), "tools saved by an older version imported into the store"),
            Err(e) => problems.push(format!("{shown}: imported, but it could not be renamed ({e}); it will be imported again at the next start")),
        }
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<ToolDef> {
        self.read().get(name).cloned()
    }

    /// Every tool, in registration order.
    pub fn list(&self) -> Vec<ToolDef> {
        self.read().values().cloned().collect()
    }

    /// The named tools, in the order asked; an unknown name is an error naming it.
    pub fn select(&self, names: &[impl AsRef<str>]) -> Result<Vec<ToolDef>, ToolError> {
        let tools = self.read();
        names
            .iter()
            .map(|n| {
                tools
                    .get(n.as_ref())
                    .cloned()
                    .ok_or_else(|| ToolError::NotFound {
                        tool: n.as_ref().to_owned(),
                    })
            })
            .collect()
    }

    /// Unregister `name`, returning what was registered; refused for a pinned tool.
    pub async fn remove(&self, name: &str) -> Result<ToolDef, ToolError> {
        let _one_at_a_time = self.writer.lock().await;
        self.check_unpinned(name)?;
        let removed = self.get(name).ok_or_else(|| ToolError::NotFound {
            tool: name.to_owned(),
        })?;
        self.persist(&[], false, &[name.to_owned()]).await?;
        self.write().shift_remove(name);
        Ok(removed)
    }

    /// How many tools are registered.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether no tool is registered.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    /// Every registered tool in the native format of `provider` (a configured provider's
    /// name or an adapter's), translated by that provider's adapter.
    pub async fn export_for_provider(
        &self,
        translator: &Translator<'_>,
        provider: &str,
    ) -> Result<Value, ToolError> {
        translator.export(provider, &self.list()).await
    }

    /// Register the tools in `native` (`provider`'s own format, as JSON text), parsed by that
    /// provider's adapter, at `tier`. Without a tier (a provider's format carries none), a
    /// tool keeps the tier of the registered tool of its name, and a new one gets the default,
    /// so importing an export back is a no-op. Returns the tools as now registered.
    pub async fn import(
        &self,
        translator: &Translator<'_>,
        provider: &str,
        native: &str,
        tier: Option<Tier>,
        on_conflict: OnConflict,
    ) -> Result<Vec<ToolDef>, ToolError> {
        let defs: Vec<ToolDef> = translator
            .import(provider, native)
            .await?
            .into_iter()
            .map(|d| d.with_tier(tier.unwrap_or_default()))
            .collect();
        let tiers = match tier {
            Some(_) => Tiers::AsGiven,
            None => Tiers::KeepRegistered,
        };
        self.apply(defs, on_conflict, tiers).await
    }
}

/// `def` as the store keeps it.
fn stored(def: &ToolDef) -> StoredTool {
    StoredTool {
        name: def.name.clone(),
        definition: serde_json::to_string(def).expect("tool definitions serialise"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(name: &str) -> ToolDef {
        ToolDef::new(
            name,
            Some(format!("{name} tool")),
            json!({"type": "object", "properties": {}}),
        )
    }

    #[tokio::test]
    async fn register_get_list_remove() {
        let r = ToolRegistry::new();
        r.register(tool("b")).await.unwrap();
        r.register(tool("a")).await.unwrap();
        assert_eq!(r.get("a"), Some(tool("a")));
        let names: Vec<String> = r.list().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["b", "a"], "registration order");
        assert_eq!(r.remove("b").await.unwrap(), tool("b"));
        assert!(matches!(r.remove("b").await, Err(ToolError::NotFound { tool }) if tool == "b"));
        assert_eq!(r.len(), 1);
    }

    #[tokio::test]
    async fn duplicates_are_refused_naming_the_tool() {
        let r = ToolRegistry::new();
        r.register(tool("a")).await.unwrap();
        r.register(tool("a"))
            .await
            .expect("the same definition again is a no-op");
        let err = r
            .register(tool("a").with_tier(Tier::Elevated))
            .await
            .unwrap_err();
        assert!(
            err.to_string().starts_with("tool `a`: duplicate name"),
            "{err}"
        );
        let err = r
            .register_all(vec![tool("x"), tool("x")], OnConflict::Replace)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        assert!(r.get("x").is_none());
    }

    #[tokio::test]
    async fn a_batch_is_all_or_nothing() {
        let r = ToolRegistry::new();
        let bad = ToolDef::new("bad", None, json!({"type": "array"}));
        let err = r
            .register_all(vec![tool("ok"), bad], OnConflict::Refuse)
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("tool `bad`: parameters must be an object schema"),
            "{err}"
        );
        assert!(r.is_empty());
    }

    #[tokio::test]
    async fn pinned_tools_are_listed_but_not_deleted_or_replaced() {
        let r = ToolRegistry::new();
        r.register_pinned(tool("python"), "the agent executor (built in)")
            .unwrap();
        assert_eq!(r.list(), vec![tool("python")]);
        let err = r.remove("python").await.unwrap_err();
        assert!(
            matches!(&err, ToolError::Pinned { tool, .. } if tool == "python"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("provided by the agent executor (built in)"),
            "{err}"
        );
        let changed = tool("python").with_tier(Tier::System);
        for on_conflict in [OnConflict::Replace, OnConflict::Refuse] {
            let err = r
                .register_all(vec![tool("ok"), changed.clone()], on_conflict)
                .await
                .unwrap_err();
            assert!(matches!(err, ToolError::Pinned { .. }), "{err}");
        }
        assert!(r.get("ok").is_none(), "the batch is all or nothing");
        // The same definition again changes nothing, so it is no conflict.
        let same = r
            .register_all(vec![tool("python")], OnConflict::Refuse)
            .await
            .unwrap();
        assert_eq!(same, vec![tool("python")]);
        let err = r.register_pinned(tool("python"), "x").unwrap_err();
        assert!(matches!(err, ToolError::Pinned { .. }), "{err}");
        r.register(tool("mine")).await.unwrap();
        let err = r.register_pinned(tool("mine"), "x").unwrap_err();
        assert!(matches!(err, ToolError::Duplicate { .. }), "{err}");
        assert_eq!(r.remove("mine").await.unwrap(), tool("mine"));
        assert_eq!(r.list(), vec![tool("python")]);
    }

    #[tokio::test]
    async fn an_import_without_a_tier_keeps_the_registered_ones() {
        let r = ToolRegistry::new();
        r.register(tool("a").with_tier(Tier::Elevated))
            .await
            .unwrap();
        let got = r
            .apply(
                vec![tool("a"), tool("b")],
                OnConflict::Refuse,
                Tiers::KeepRegistered,
            )
            .await
            .unwrap();
        assert_eq!(got, vec![tool("a").with_tier(Tier::Elevated), tool("b")]);
        let mut changed = tool("a");
        changed.description = Some("another".into());
        let err = r
            .apply(
                vec![changed.clone()],
                OnConflict::Refuse,
                Tiers::KeepRegistered,
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("different definition"), "{err}");
        r.apply(
            vec![changed.clone()],
            OnConflict::Replace,
            Tiers::KeepRegistered,
        )
        .await
        .unwrap();
        assert_eq!(r.get("a"), Some(changed.with_tier(Tier::Elevated)));
    }

    #[tokio::test]
    async fn replace_keeps_the_place_in_the_order() {
        let r = ToolRegistry::new();
        r.register_all(vec![tool("a"), tool("b")], OnConflict::Refuse)
            .await
            .unwrap();
        let a2 = tool("a").with_tier(Tier::System);
        r.register_all(vec![a2.clone()], OnConflict::Replace)
            .await
            .unwrap();
        assert_eq!(r.list(), vec![a2, tool("b")]);
        assert!(r.select(&["b", "nope"]).is_err());
        assert_eq!(r.select(&["b"]).unwrap(), vec![tool("b")]);
    }

    mod kept_in_the_store {
        use super::*;
        use crate::store::on_pool;

        async fn store(dir: &tempfile::TempDir) -> Store {
            Store::open(&dir.path().join("aratta.db")).await.unwrap()
        }

        fn no_file(dir: &tempfile::TempDir) -> ToolsFile {
            ToolsFile::new(dir.path().join("tools.json"))
        }

        #[tokio::test]
        async fn every_change_is_written_and_a_new_registry_gets_it_back() {
            let dir = tempfile::tempdir().unwrap();
            let r = ToolRegistry::new();
            r.register_pinned(tool("python"), "the agent executor (built in)")
                .unwrap();
            let report = r.restore(store(&dir).await, &no_file(&dir)).await;
            assert!(report.problems.is_empty(), "{:?}", report.problems);
            r.register(tool("b")).await.unwrap();
            r.register_all(vec![tool("a"), tool("c")], OnConflict::Refuse)
                .await
                .unwrap();
            r.remove("c").await.unwrap();
            let kept: Vec<String> = store(&dir)
                .await
                .tools()
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.name)
                .collect();
            assert_eq!(kept, ["b", "a"], "pinned tools are not kept");

            let again = ToolRegistry::new();
            let report = again.restore(store(&dir).await, &no_file(&dir)).await;
            assert_eq!(report.loaded, ["b", "a"]);
            assert_eq!(again.list(), vec![tool("b"), tool("a")]);
        }

        #[tokio::test]
        async fn a_change_that_cannot_be_written_is_not_made() {
            let dir = tempfile::tempdir().unwrap();
            let store = store(&dir).await;
            let r = ToolRegistry::new();
            r.restore(store.clone(), &no_file(&dir)).await;
            r.register(tool("a")).await.unwrap();
            on_pool!(store, pool => {
                sqlx::query("DROP TABLE tools").execute(pool).await.unwrap();
            });
            let err = r.register(tool("b")).await.unwrap_err();
            assert!(matches!(err, ToolError::NotSaved { .. }), "{err}");
            let err = r.remove("a").await.unwrap_err();
            assert!(matches!(err, ToolError::NotSaved { .. }), "{err}");
            assert_eq!(r.list(), vec![tool("a")], "nothing changed");
        }

        #[tokio::test]
        async fn another_registry_on_the_store_follows_and_a_taken_name_is_refused() {
            let dir = tempfile::tempdir().unwrap();
            let (a, b) = (ToolRegistry::new(), ToolRegistry::new());
            a.restore(store(&dir).await, &no_file(&dir)).await;
            b.restore(store(&dir).await, &no_file(&dir)).await;
            a.register(tool("x")).await.unwrap();
            // b has not reloaded yet: its own definition of x is refused by the store.
            let other = tool("x").with_tier(Tier::System);
            let err = b.register(other.clone()).await.unwrap_err();
            assert!(
                err.to_string().contains("by another server on the store"),
                "{err}"
            );
            assert!(b.get("x").is_none());
            b.refresh().await.unwrap();
            assert_eq!(b.list(), vec![tool("x")]);
            b.register_all(vec![other.clone()], OnConflict::Replace)
                .await
                .unwrap();
            b.remove("x").await.unwrap_or_else(|e| panic!("{e}"));
            b.register(tool("y")).await.unwrap();
            a.refresh().await.unwrap();
            assert_eq!(a.list(), vec![tool("y")]);
        }

        #[tokio::test]
        async fn a_kept_tool_now_refused_is_reported_and_left_in_the_store() {
            let dir = tempfile::tempdir().unwrap();
            let store = store(&dir).await;
            let rows = [
                StoredTool {
                    name: "python".into(),
                    definition: serde_json::to_string(&tool("python")).unwrap(),
                },
                StoredTool {
                    name: "broken".into(),
                    definition: "{\"name\": ".into(),
                },
                stored(&tool("mine")),
            ];
            store.change_tools(&rows, false, &[]).await.unwrap();
            let r = ToolRegistry::new();
            r.register_pinned(tool("python"), "the agent executor (built in)")
                .unwrap();
            let report = r.restore(store.clone(), &no_file(&dir)).await;
            assert_eq!(report.loaded, ["mine"]);
            assert_eq!(report.problems.len(), 2, "{:?}", report.problems);
            assert!(
                report.problems[0].contains("tool `python`")
                    && report.problems[0].contains("the agent executor"),
                "{:?}",
                report.problems
            );
            assert!(
                report.problems[1].contains("tool `broken`")
                    && report.problems[1].contains("unreadable definition"),
                "{:?}",
                report.problems
            );
            r.register(tool("more")).await.unwrap();
            assert_eq!(store.tools().await.unwrap().len(), 4, "left as they are");
        }

        #[tokio::test]
        async fn an_older_versions_file_is_imported_once_and_renamed() {
            let dir = tempfile::tempdir().unwrap();
            let file = no_file(&dir);
            let mut older = tool("python");
            older.description = Some("an older python".into());
            let saved = serde_json::json!({"version": 1, "tools": [older, tool("b"), tool("a")]});
            std::fs::write(file.path(), saved.to_string()).unwrap();
            let r = ToolRegistry::new();
            r.register_pinned(tool("python"), "the agent executor (built in)")
                .unwrap();
            let report = r.restore(store(&dir).await, &file).await;
            assert_eq!(report.loaded, ["b", "a"]);
            assert!(
                report.problems.len() == 1 && report.problems[0].contains("tool `python`"),
                "{:?}",
                report.problems
            );
            assert!(!file.path().exists());
            let renamed: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("tools.json.imported-"))
                .collect();
            assert_eq!(renamed.len(), 1, "kept, renamed");
        }

        #[tokio::test]
        async fn a_corrupt_file_is_moved_aside_and_reported() {
            let dir = tempfile::tempdir().unwrap();
            let file = no_file(&dir);
            std::fs::write(file.path(), "not json").unwrap();
            let r = ToolRegistry::new();
            let report = r.restore(store(&dir).await, &file).await;
            assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
            assert!(
                report.problems[0].contains("not a saved tool list")
                    && report.problems[0].contains("moved to"),
                "{:?}",
                report.problems
            );
            let aside: Vec<String> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("tools.json.corrupt-"))
                .collect();
            assert_eq!(aside.len(), 1);
            assert_eq!(
                std::fs::read_to_string(dir.path().join(&aside[0])).unwrap(),
                "not json"
            );
            r.register(tool("a")).await.unwrap();
        }
    }
}
