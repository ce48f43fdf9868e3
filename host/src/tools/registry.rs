//! `ToolRegistry`: the tools an operator registered, shared by every request and agent. Reads
//! are concurrent, writes are atomic (a batch is validated whole before any of it is stored),
//! and tools keep their registration order, so exports list them as they were registered.
//! A tool another part of the server provides (the agent executor's) is pinned: listed and
//! exported like any other, but deleting or replacing it through the registry is refused, since
//! its provider would go on running it. Once [`ToolRegistry::restore`] has given it a
//! [`ToolStore`], every change is saved before it takes effect (pinned tools are not saved).
//!
//! Registering a definition identical to the registered one of that name
//! ([`ToolDef::same_definition`]) changes nothing and is not a conflict, pinned tools included,
//! so a registry exported and imported back goes through; a different definition under a taken
//! name is refused (or, with [`OnConflict::Replace`], replaces it).

use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use indexmap::IndexMap;
use serde_json::Value;

use super::def::ToolDef;
use super::error::ToolError;
use super::store::{StoreError, ToolStore};
use super::tier::Tier;
use super::translate::Translator;
use super::validate;

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
    /// Where changes are saved, once [`Self::restore`] has run.
    store: OnceLock<ToolStore>,
}

/// What [`ToolRegistry::restore`] found.
#[derive(Debug, Default)]
pub struct Restored {
    /// The tools loaded, in order.
    pub loaded: Vec<String>,
    /// What went wrong, each naming the file and what was done about it (also logged).
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
    pub fn register(&self, def: ToolDef) -> Result<(), ToolError> {
        self.register_all(vec![def], OnConflict::Refuse).map(drop)
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
    pub fn register_all(
        &self,
        defs: Vec<ToolDef>,
        on_conflict: OnConflict,
    ) -> Result<Vec<ToolDef>, ToolError> {
        self.apply(defs, on_conflict, Tiers::AsGiven)
    }

    fn apply(
        &self,
        mut defs: Vec<ToolDef>,
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
        let mut tools = self.write();
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
        if changes.is_empty() {
            return Ok(result);
        }
        let mut next = tools.clone();
        for def in changes {
            next.insert(def.name.clone(), def);
        }
        self.save(&next)?;
        *tools = next;
        Ok(result)
    }

    /// Save `tools` (the registry as it is about to become; pinned ones left out) to the
    /// store, if there is one. Called with the `tools` lock held, so saves happen in the
    /// order of the changes.
    fn save(&self, tools: &IndexMap<String, ToolDef>) -> Result<(), ToolError> {
        let Some(store) = self.store.get() else {
            return Ok(());
        };
        let pinned = self.pinned.read().unwrap_or_else(PoisonError::into_inner);
        let saved: Vec<&ToolDef> = tools
            .values()
            .filter(|d| !pinned.contains_key(&d.name))
            .collect();
        store.save(&saved).map_err(|e| ToolError::NotSaved {
            reason: e.to_string(),
        })
    }

    /// Load the tools `store` holds and from now on save every change there. Call once, at
    /// startup, after the pinned tools are registered. A saved tool that is now refused (its
    /// name pinned, a rule it breaks) is reported and the file copied aside before anything
    /// overwrites it; a file that cannot be parsed is renamed aside and reported; a file that
    /// cannot be read at all leaves the registry unsaved (rather than overwrite it later).
    pub fn restore(&self, store: ToolStore) -> Restored {
        let mut report = Restored::default();
        let shown = store.path().display().to_string();
        let attach = match store.load() {
            Ok(defs) => {
                for def in defs {
                    let name = def.name.clone();
                    match self.register_all(vec![def], OnConflict::Refuse) {
                        Ok(_) => report.loaded.push(name),
                        Err(e) => report.problems.push(format!("{shown}: not restored: {e}")),
                    }
                }
                if !report.problems.is_empty() {
                    match store.copy_aside("unrestored") {
                        Ok(aside) => report.problems.push(format!(
                            "{shown}: the file as it was is kept at {}",
                            aside.display()
                        )),
                        Err(e) => report
                            .problems
                            .push(format!("{shown}: could not keep a copy of the file ({e})")),
                    }
                }
                true
            }
            Err(e @ StoreError::Corrupt { .. }) => match store.set_aside("corrupt") {
                Ok(aside) => {
                    report.problems.push(format!(
                        "{e}; it was moved to {} and the registry starts without it",
                        aside.display()
                    ));
                    true
                }
                Err(io) => {
                    report.problems.push(format!(
                        "{e}; it could not be moved aside ({io}), so registry changes will not be saved"
                    ));
                    false
                }
            },
            Err(e) => {
                report.problems.push(format!(
                    "{e}; registry changes will not be saved until it can be read"
                ));
                false
            }
        };
        for problem in &report.problems {
            tracing::error!(problem = %problem, "tool registry");
        }
        if attach {
            tracing::info!(file = %shown, restored = report.loaded.len(), "tool registry saved in");
            let _ = self.store.set(store);
        }
        report
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
    pub fn remove(&self, name: &str) -> Result<ToolDef, ToolError> {
        let mut tools = self.write();
        self.check_unpinned(name)?;
        let mut next = tools.clone();
        let removed = next.shift_remove(name).ok_or_else(|| ToolError::NotFound {
            tool: name.to_owned(),
        })?;
        self.save(&next)?;
        *tools = next;
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
        self.apply(defs, on_conflict, tiers)
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

    #[test]
    fn register_get_list_remove() {
        let r = ToolRegistry::new();
        r.register(tool("b")).unwrap();
        r.register(tool("a")).unwrap();
        assert_eq!(r.get("a"), Some(tool("a")));
        let names: Vec<String> = r.list().into_iter().map(|t| t.name).collect();
        assert_eq!(names, ["b", "a"], "registration order");
        assert_eq!(r.remove("b").unwrap(), tool("b"));
        assert!(matches!(r.remove("b"), Err(ToolError::NotFound { tool }) if tool == "b"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn duplicates_are_refused_naming_the_tool() {
        let r = ToolRegistry::new();
        r.register(tool("a")).unwrap();
        r.register(tool("a"))
            .expect("the same definition again is a no-op");
        let err = r.register(tool("a").with_tier(Tier::Elevated)).unwrap_err();
        assert!(
            err.to_string().starts_with("tool `a`: duplicate name"),
            "{err}"
        );
        let err = r
            .register_all(vec![tool("x"), tool("x")], OnConflict::Replace)
            .unwrap_err();
        assert!(err.to_string().contains("appears twice"), "{err}");
        assert!(r.get("x").is_none());
    }

    #[test]
    fn a_batch_is_all_or_nothing() {
        let r = ToolRegistry::new();
        let bad = ToolDef::new("bad", None, json!({"type": "array"}));
        let err = r
            .register_all(vec![tool("ok"), bad], OnConflict::Refuse)
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("tool `bad`: parameters must be an object schema"),
            "{err}"
        );
        assert!(r.is_empty());
    }

    #[test]
    fn pinned_tools_are_listed_but_not_deleted_or_replaced() {
        let r = ToolRegistry::new();
        r.register_pinned(tool("python"), "the agent executor (built in)")
            .unwrap();
        assert_eq!(r.list(), vec![tool("python")]);
        let err = r.remove("python").unwrap_err();
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
                .unwrap_err();
            assert!(matches!(err, ToolError::Pinned { .. }), "{err}");
        }
        assert!(r.get("ok").is_none(), "the batch is all or nothing");
        // The same definition again changes nothing, so it is no conflict.
        let same = r
            .register_all(vec![tool("python")], OnConflict::Refuse)
            .unwrap();
        assert_eq!(same, vec![tool("python")]);
        let err = r.register_pinned(tool("python"), "x").unwrap_err();
        assert!(matches!(err, ToolError::Pinned { .. }), "{err}");
        r.register(tool("mine")).unwrap();
        let err = r.register_pinned(tool("mine"), "x").unwrap_err();
        assert!(matches!(err, ToolError::Duplicate { .. }), "{err}");
        assert_eq!(r.remove("mine").unwrap(), tool("mine"));
        assert_eq!(r.list(), vec![tool("python")]);
    }

    #[test]
    fn an_import_without_a_tier_keeps_the_registered_ones() {
        let r = ToolRegistry::new();
        r.register(tool("a").with_tier(Tier::Elevated)).unwrap();
        let got = r
            .apply(
                vec![tool("a"), tool("b")],
                OnConflict::Refuse,
                Tiers::KeepRegistered,
            )
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
            .unwrap_err();
        assert!(err.to_string().contains("different definition"), "{err}");
        r.apply(
            vec![changed.clone()],
            OnConflict::Replace,
            Tiers::KeepRegistered,
        )
        .unwrap();
        assert_eq!(r.get("a"), Some(changed.with_tier(Tier::Elevated)));
    }

    #[test]
    fn replace_keeps_the_place_in_the_order() {
        let r = ToolRegistry::new();
        r.register_all(vec![tool("a"), tool("b")], OnConflict::Refuse)
            .unwrap();
        let a2 = tool("a").with_tier(Tier::System);
        r.register_all(vec![a2.clone()], OnConflict::Replace)
            .unwrap();
        assert_eq!(r.list(), vec![a2, tool("b")]);
        assert!(r.select(&["b", "nope"]).is_err());
        assert_eq!(r.select(&["b"]).unwrap(), vec![tool("b")]);
    }
}
