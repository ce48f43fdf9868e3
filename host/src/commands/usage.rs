//! `aratta usage`: requests, tokens and cost from the store's usage records, summed by key,
//! model, provider, day or hour, as a table or JSON.

use std::fmt::Write as _;

use crate::cli::UsageArgs;
use crate::home::Home;
use crate::usage::{GroupBy, UsageGroup, UsageQuery, parse_time};

/// Run `aratta usage`; returns what to print.
pub async fn run(args: &UsageArgs, home: &Home) -> anyhow::Result<String> {
    let now = crate::clock::unix_millis();
    let time =
        |flag: &str, v: &str| parse_time(v, now).map_err(|e| anyhow::anyhow!("--{flag}: {e}"));
    let query = UsageQuery {
        by: GroupBy::parse(&args.by).unwrap_or_default(),
        since_ms: Some(time("since", &args.since)?),
        until_ms: args
            .until
            .as_deref()
            .map(|u| time("until", u))
            .transpose()?,
        key_id: args.key.clone(),
        provider: args.provider.clone(),
    };
    let config = crate::config::load(args.store.config.as_deref(), home)?;
    let store = crate::bootstrap::open_store(&config, home).await?;
    let groups = store.usage_summary(&query).await?;
    if args.store.json {
        return Ok(serde_json::to_string_pretty(&groups)? + "\n");
    }
    Ok(table(query.by, &groups))
}

fn table(by: GroupBy, groups: &[UsageGroup]) -> String {
    if groups.is_empty() {
        return "no requests recorded in this period\n".into();
    }
    let width = groups
        .iter()
        .map(|g| g.group.len())
        .max()
        .unwrap_or(0)
        .max(8);
    let mut out = format!(
        "{:<width$}  {:>9}  {:>7}  {:>12}  {:>12}  {:>12}  {:>11}  {:>10}\n",
        by.as_str().to_uppercase(),
        "REQUESTS",
        "ERRORS",
        "INPUT",
        "OUTPUT",
        "CACHE READ",
        "COST (USD)",
        "MEAN MS"
    );
    for g in groups {
        let cost = if g.unpriced_requests > 0 {
            format!("{:.4}+?", g.cost_usd)
        } else {
            format!("{:.4}", g.cost_usd)
        };
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>7}  {:>12}  {:>12}  {:>12}  {:>11}  {:>10.1}",
            g.group,
            g.requests,
            g.errors,
            g.input_tokens,
            g.output_tokens,
            g.cache_read_tokens,
            cost,
            g.mean_latency_ms
        );
    }
    if groups.iter().any(|g| g.unpriced_requests > 0) {
        out.push_str(
            "\n+? : some requests used a model with no known price; their cost is not included.\n\
             Set one with [prices.\"provider:model\"] (or \"provider:*\") in the config.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_marks_unknown_costs() {
        let groups = [
            UsageGroup {
                group: "key_a".into(),
                requests: 3,
                cost_usd: 0.0125,
                ..UsageGroup::default()
            },
            UsageGroup {
                group: "anonymous".into(),
                requests: 1,
                unpriced_requests: 1,
                ..UsageGroup::default()
            },
        ];
        let text = table(GroupBy::Key, &groups);
        assert!(text.starts_with("KEY"), "{text}");
        assert!(text.contains("0.0125 "), "{text}");
        assert!(text.contains("0.0000+?"), "{text}");
        assert!(text.contains("[prices."), "{text}");
        assert!(table(GroupBy::Day, &[]).contains("no requests"));
    }
}
