//! The providers' model lists, kept so that a bare model name (`llama3.2`: no provider, not an
//! alias) is routed without asking any provider on the request path. The lists are fetched in
//! the background ([`super::refresh`]); a provider whose listing fails keeps its last good list.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::RwLock;

/// Every provider's last good model list, by provider name.
#[derive(Debug, Default)]
pub struct ModelLists {
    listings: RwLock<BTreeMap<String, Listing>>,
}

#[derive(Debug, Default)]
struct Listing {
    /// The ids it listed the last time its listing succeeded; `None` until it has.
    models: Option<BTreeSet<String>>,
    /// Why its last listing failed, when it did.
    failure: Option<String>,
}

/// What is known of one provider's models, for telling a client why a name matched nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListState {
    /// No listing has finished yet.
    Loading,
    /// Every listing so far failed; the last one for this reason.
    Failed(String),
    /// The last good list has this many models.
    Known(usize),
}

impl ModelLists {
    /// Keep the outcome of one listing of `provider`: a success replaces its list, a failure
    /// keeps the last good one. Whether the list changed (for logging).
    pub fn record(&self, provider: &str, outcome: Result<Vec<String>, String>) -> bool {
        let mut listings = self.listings.write().unwrap_or_else(|e| e.into_inner());
        let listing = listings.entry(provider.to_owned()).or_default();
        match outcome {
            Ok(models) => {
                let models: BTreeSet<String> = models.into_iter().collect();
                listing.failure = None;
                let changed = listing.models.as_ref() != Some(&models);
                listing.models = Some(models);
                changed
            }
            Err(reason) => {
                listing.failure = Some(reason);
                false
            }
        }
    }

    /// The id `provider` lists for `name`, if it lists it: `name` itself, or for a name
    /// without a tag `name:latest` (Ollama lists a plain `ollama pull llama3.2` as
    /// `llama3.2:latest`).
    pub fn find(&self, provider: &str, name: &str) -> Option<String> {
        let listings = self.listings.read().unwrap_or_else(|e| e.into_inner());
        let models = listings.get(provider)?.models.as_ref()?;
        if models.contains(name) {
            return Some(name.to_owned());
        }
        let latest = format!("{name}:latest");
        (!name.contains(':') && models.contains(&latest)).then_some(latest)
    }

    /// What is known of `provider`'s models.
    pub fn state(&self, provider: &str) -> ListState {
        let listings = self.listings.read().unwrap_or_else(|e| e.into_inner());
        match listings.get(provider) {
            Some(Listing {
                models: Some(models),
                ..
            }) => ListState::Known(models.len()),
            Some(Listing {
                failure: Some(reason),
                ..
            }) => ListState::Failed(reason.clone()),
            _ => ListState::Loading,
        }
    }

    /// Up to `limit` listed models whose id contains `name` (ignoring case), as
    /// `provider:model`, among `providers`: suggestions for a name that matched nothing.
    pub fn similar(&self, providers: &[&str], name: &str, limit: usize) -> Vec<String> {
        let needle = name.to_lowercase();
        if needle.is_empty() {
            return Vec::new();
        }
        let listings = self.listings.read().unwrap_or_else(|e| e.into_inner());
        providers
            .iter()
            .filter_map(|p| Some((p, listings.get(*p)?.models.as_ref()?)))
            .flat_map(|(p, models)| {
                models
                    .iter()
                    .filter(|m| m.to_lowercase().contains(&needle))
                    .map(move |m| format!("{p}:{m}"))
            })
            .take(limit)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(names: &[&str]) -> Result<Vec<String>, String> {
        Ok(names.iter().map(|n| n.to_string()).collect())
    }

    #[test]
    fn a_failed_listing_keeps_the_last_good_list() {
        let lists = ModelLists::default();
        assert_eq!(lists.state("local"), ListState::Loading);
        assert!(!lists.record("local", Err("connection refused".into())));
        assert_eq!(
            lists.state("local"),
            ListState::Failed("connection refused".into())
        );
        assert!(lists.record("local", ids(&["llama3.2"])));
        assert!(!lists.record("local", ids(&["llama3.2"])), "unchanged");
        lists.record("local", Err("connection refused".into()));
        assert_eq!(lists.state("local"), ListState::Known(1));
        assert_eq!(lists.find("local", "llama3.2").as_deref(), Some("llama3.2"));
    }

    #[test]
    fn an_untagged_name_finds_the_latest_tag_only() {
        let lists = ModelLists::default();
        lists.record("local", ids(&["llama3.2:latest", "qwen2.5-coder:7b"]));
        assert_eq!(
            lists.find("local", "llama3.2").as_deref(),
            Some("llama3.2:latest")
        );
        assert_eq!(
            lists.find("local", "llama3.2:latest").as_deref(),
            Some("llama3.2:latest")
        );
        assert_eq!(lists.find("local", "qwen2.5-coder"), None);
        assert_eq!(lists.find("local", "qwen2.5-coder:7"), None);
        assert_eq!(lists.find("other", "llama3.2"), None);
        assert_eq!(
            lists.similar(&["local", "other"], "QWEN", 5),
            ["local:qwen2.5-coder:7b"]
        );
    }
}
