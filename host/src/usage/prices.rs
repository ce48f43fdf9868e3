//! What tokens cost: a table of each provider's published prices (`host/data/prices.toml`,
//! each entry with the page it was read from and the date), under the operator's overrides
//! (`[prices."provider:model"]`, `"provider:*"` for all of a provider's models). A model found
//! in neither has no price: its cost is unknown, never zero.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::scri::Usage;

/// US dollars per million tokens, as the operator's config and the published table state them.
pub use crate::config::PriceConfig as Price;

impl Price {
    /// What `usage` costs at this price, in billionths of a dollar. SCRI's input tokens
    /// include cache reads and writes, which are billed at their own rates.
    pub fn cost_nano_usd(&self, usage: &Usage) -> u64 {
        let n = |t: Option<u32>| f64::from(t.unwrap_or(0));
        let (read, write) = (n(usage.cache_read_tokens), n(usage.cache_write_tokens));
        let fresh = (n(usage.input_tokens) - read - write).max(0.0);
        let dollars_per_mtok = fresh * self.input
            + read * self.cache_read.unwrap_or(self.input)
            + write * self.cache_write.unwrap_or(self.input)
            + n(usage.output_tokens) * self.output;
        // $/Mtok × tokens = µ$; × 1000 = n$.
        (dollars_per_mtok * 1000.0).round() as u64
    }
}

/// One entry of the price file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    provider: String,
    model: String,
    input: f64,
    #[serde(default)]
    output: f64,
    #[serde(default)]
    cache_read: Option<f64>,
    #[serde(default)]
    cache_write: Option<f64>,
    source: String,
    as_of: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    price: Vec<Entry>,
}

/// The published prices, as shipped with this version.
const PUBLISHED: &str = include_str!("../../data/prices.toml");

/// One price as `GET /api/v1/prices` lists it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Listed {
    /// The provider family (published prices) or the configured provider's name (overrides).
    pub provider: String,
    /// The model, or `*`.
    pub model: String,
    /// The rates.
    #[serde(flatten)]
    pub price: Price,
    /// Where the price comes from: the page it was read from, or `config`.
    pub source: String,
    /// The date the page showed (published prices only).
    pub as_of: Option<String>,
}

/// Prices by provider and model.
#[derive(Clone, Debug, Default)]
pub struct Prices {
    /// The published table, by adapter (the provider family: `openai`, `anthropic`, …), then
    /// model.
    published: HashMap<String, HashMap<String, Listed>>,
    /// The operator's, by configured provider name, then model (`*`: any).
    overrides: HashMap<String, HashMap<String, Price>>,
}

impl Prices {
    /// The published table with `overrides` (`"provider:model"` or `"provider:*"` → price)
    /// over it.
    pub fn new(overrides: impl IntoIterator<Item = (String, Price)>) -> Prices {
        let file: File = toml::from_str(PUBLISHED)
            .expect("host/data/prices.toml parses (a unit test checks it)");
        let mut published: HashMap<String, HashMap<String, Listed>> = HashMap::new();
        for e in file.price {
            let listed = Listed {
                price: Price {
                    input: e.input,
                    output: e.output,
                    cache_read: e.cache_read,
                    cache_write: e.cache_write,
                },
                provider: e.provider.clone(),
                model: e.model.clone(),
                source: e.source,
                as_of: Some(e.as_of),
            };
            published
                .entry(e.provider)
                .or_default()
                .insert(e.model, listed);
        }
        let mut by_provider: HashMap<String, HashMap<String, Price>> = HashMap::new();
        for (reference, price) in overrides {
            if let Some((provider, model)) = reference.split_once(':') {
                by_provider
                    .entry(provider.to_owned())
                    .or_default()
                    .insert(model.to_owned(), price);
            }
        }
        Prices {
            published,
            overrides: by_provider,
        }
    }

    /// The price of `model` answered by `provider` (its configured name) through `adapter`:
    /// the operator's `provider:model`, then `provider:*`, then the published price of the
    /// adapter's provider for the model itself, for the model it is a dated snapshot of
    /// (`gpt-4o-2024-08-06` is priced as `gpt-4o`), or for the latest listed snapshot of it
    /// (`claude-sonnet-4-5` as `claude-sonnet-4-5-20250929`).
    pub fn lookup(&self, provider: &str, adapter: &str, model: &str) -> Option<Price> {
        if let Some(mine) = self.overrides.get(provider)
            && let Some(price) = mine.get(model).or_else(|| mine.get("*"))
        {
            return Some(*price);
        }
        let table = self.published.get(adapter)?;
        if let Some(listed) = table.get(model) {
            return Some(listed.price);
        }
        let base = table
            .iter()
            .filter(|(name, _)| is_snapshot_of(model, name))
            .max_by_key(|(name, _)| name.len());
        let snapshot = || {
            table
                .iter()
                .filter(|(name, _)| is_snapshot_of(name, model))
                .max_by(|a, b| a.0.cmp(b.0))
        };
        base.or_else(snapshot).map(|(_, listed)| listed.price)
    }

    /// Every price: the operator's first, then the published ones, each sorted by provider
    /// and model.
    pub fn listing(&self) -> Vec<Listed> {
        let mut mine: Vec<Listed> = self
            .overrides
            .iter()
            .flat_map(|(provider, models)| {
                models.iter().map(|(model, price)| Listed {
                    provider: provider.clone(),
                    model: model.clone(),
                    price: *price,
                    source: "config".into(),
                    as_of: None,
                })
            })
            .collect();
        let mut published: Vec<Listed> = self
            .published
            .values()
            .flat_map(|m| m.values().cloned())
            .collect();
        let order = |a: &Listed, b: &Listed| (&a.provider, &a.model).cmp(&(&b.provider, &b.model));
        mine.sort_by(order);
        published.sort_by(order);
        mine.extend(published);
        mine
    }
}

/// Whether `model` is `base` with a date or version suffix (`-2024-08-06`, `-20250514`,
/// `-latest`, `-001`, `-0709`), not another model of the family (`-mini`, `-5`, `-1-fast`).
fn is_snapshot_of(model: &str, base: &str) -> bool {
    let Some(suffix) = model.strip_prefix(base).and_then(|r| r.strip_prefix('-')) else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let date = suffix.len() == 10
        && suffix.split('-').map(str::len).eq([4, 2, 2])
        && suffix.split('-').all(digits);
    suffix == "latest" || date || (suffix.len() >= 3 && digits(suffix))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input: u32, output: u32, read: u32, write: u32) -> Usage {
        Usage {
            input_tokens: Some(input),
            output_tokens: Some(output),
            cache_read_tokens: Some(read),
            cache_write_tokens: Some(write),
            reasoning_tokens: None,
        }
    }

    #[test]
    fn the_published_table_parses_and_every_entry_is_sourced_and_sane() {
        let file: File = toml::from_str(PUBLISHED).unwrap();
        assert!(file.price.len() >= 10, "{} prices", file.price.len());
        let mut seen = std::collections::HashSet::new();
        for e in &file.price {
            let what = format!("{}:{}", e.provider, e.model);
            assert!(seen.insert(what.clone()), "{what} listed twice");
            assert!(
                e.source.starts_with("https://"),
                "{what}: source {}",
                e.source
            );
            assert!(
                e.as_of.len() == 10 && e.as_of.starts_with("20"),
                "{what}: as_of {}",
                e.as_of
            );
            let price = Price {
                input: e.input,
                output: e.output,
                cache_read: e.cache_read,
                cache_write: e.cache_write,
            };
            assert_eq!(price.check(), Ok(()), "{what}");
            assert!(e.input > 0.0, "{what}: a published price of zero");
        }
    }

    #[test]
    fn costs_bill_each_kind_of_token_at_its_rate() {
        let p = Price {
            input: 3.0,
            output: 15.0,
            cache_read: Some(0.3),
            cache_write: Some(3.75),
        };
        // 1,000 fresh at $3/M = $0.003; 2,000 read at $0.30/M = $0.0006; 1,000 written at
        // $3.75/M = $0.00375; 500 out at $15/M = $0.0075. Total $0.01485.
        assert_eq!(
            p.cost_nano_usd(&usage(4_000, 500, 2_000, 1_000)),
            14_850_000
        );
        let no_cache_rates = Price {
            cache_read: None,
            cache_write: None,
            ..p
        };
        assert_eq!(
            no_cache_rates.cost_nano_usd(&usage(4_000, 0, 2_000, 1_000)),
            12_000_000
        );
        assert_eq!(p.cost_nano_usd(&Usage::default()), 0);
        // Reported cache tokens beyond the input never make a negative charge.
        assert_eq!(p.cost_nano_usd(&usage(10, 0, 100, 0)), 30_000);
    }

    #[test]
    fn overrides_come_first_then_published_prices_and_their_snapshots() {
        let free = Price::default();
        let custom = Price {
            input: 1.0,
            ..Price::default()
        };
        let overrides = [
            ("local:*".to_owned(), free),
            ("work:gpt-4o".to_owned(), custom),
        ];
        let prices = Prices::new(overrides);
        assert_eq!(prices.lookup("local", "local", "llama3.2"), Some(free));
        assert_eq!(prices.lookup("work", "openai", "gpt-4o"), Some(custom));
        let published = prices
            .lookup("openai", "openai", "gpt-4o")
            .expect("gpt-4o is priced");
        assert_eq!(
            prices.lookup("openai", "openai", "gpt-4o-2024-08-06"),
            Some(published)
        );
        assert_ne!(
            prices.lookup("openai", "openai", "gpt-4o-mini"),
            Some(published),
            "not a snapshot"
        );
        assert_eq!(
            prices.lookup("openai", "openai", "gpt-4o-turbo-preview"),
            None
        );
        assert_eq!(
            prices.lookup("vllm", "local", "llama3.2"),
            None,
            "unknown, not zero"
        );
        assert!(is_snapshot_of(
            "claude-sonnet-4-20250514",
            "claude-sonnet-4"
        ));
        assert!(is_snapshot_of("gpt-4o-2024-08-06", "gpt-4o"));
        assert!(is_snapshot_of("gemini-2.0-flash-001", "gemini-2.0-flash"));
        assert!(!is_snapshot_of("gpt-4o-mini", "gpt-4o"));
        assert!(!is_snapshot_of("claude-opus-4-5-20251101", "claude-opus-4"));
        assert!(!is_snapshot_of("grok-4-1-fast-reasoning", "grok-4"));
        // An alias is priced as its listed snapshot, and not as a newer sibling's.
        let alias = prices.lookup("anthropic", "anthropic", "claude-sonnet-4-5");
        let dated = prices.lookup("anthropic", "anthropic", "claude-sonnet-4-5-20250929");
        assert!(alias.is_some() && alias == dated);
        let opus_4 = prices
            .lookup("anthropic", "anthropic", "claude-opus-4")
            .unwrap();
        let opus_4_5 = prices
            .lookup("anthropic", "anthropic", "claude-opus-4-5")
            .unwrap();
        assert_eq!((opus_4.input, opus_4_5.input), (15.0, 5.0));
    }

    #[test]
    fn bad_rates_are_named() {
        let bad = Price {
            input: -1.0,
            ..Price::default()
        };
        assert_eq!(bad.check().unwrap_err().0, "input");
        let nan = Price {
            cache_read: Some(f64::NAN),
            ..Price::default()
        };
        assert_eq!(nan.check().unwrap_err().0, "cache_read");
    }
}
