//! `aratta keys create|list|show|update|revoke`: client keys, read and written in the store itself
//! (`[store] url`, else `<home>/aratta.db`), so keys can be made before the server first runs;
//! a running server picks changes up within a second (see `crate::keys::KeyRing`).

use std::fmt::Write as _;

use crate::cli::{KeysCommand, KeysCreateArgs, KeysUpdateArgs, StoreArgs};
use crate::clock::unix_seconds;
use crate::home::Home;
use crate::keys::{self, IssuedKey, KeyChange, KeyRecord, KeySpec};

/// Run `aratta keys <command>`; returns what to print.
pub async fn run(command: &KeysCommand, home: &Home) -> anyhow::Result<String> {
    match command {
        KeysCommand::Create(args) => create(args, home).await,
        KeysCommand::List(store) => {
            let keys = open(store, home).await?.keys().await?;
            if store.json {
                return json(&keys);
            }
            Ok(table(&keys, unix_seconds()))
        }
        KeysCommand::Show { id, store } => {
            let key =
                open(store, home).await?.key(id).await?.ok_or_else(|| {
                    anyhow::anyhow!("no client key `{id}`; see `aratta keys list`")
                })?;
            if store.json {
                return json(&key);
            }
            Ok(details(&key, unix_seconds()))
        }
        KeysCommand::Update(args) => update(args, home).await,
        KeysCommand::Revoke { id, store } => {
            let key = open(store, home)
                .await?
                .revoke_key(id, unix_seconds())
                .await?
                .ok_or_else(|| anyhow::anyhow!("no client key `{id}`; see `aratta keys list`"))?;
            if store.json {
                return json(&key);
            }
            Ok(format!(
                "revoked {} ({}); a running server refuses it within a second\n",
                key.id, key.name
            ))
        }
    }
}

async fn create(args: &KeysCreateArgs, home: &Home) -> anyhow::Result<String> {
    let set = &args.settings;
    let spec = KeySpec {
        name: args.name.clone(),
        owner: set.owner.clone(),
        expires_in_seconds: set.expires_in_seconds(),
        models: set.models(),
        routes: set.routes(),
        rpm: set.rpm,
        tpm: set.tpm,
        max_concurrent: set.max_concurrent,
        budget_usd: set.budget_usd,
        budget_period: set.budget_period,
    };
    let store = open(&args.store, home).await?;
    let issued: IssuedKey = keys::issue(&store, &spec, unix_seconds()).await?;
    if args.store.json {
        return json(&issued);
    }
    let mut out = details(&issued.record, unix_seconds());
    let _ = writeln!(
        out,
        "\n{}\n\nThis is the key; it is not shown again (Aratta keeps only its hash). Clients send it\nas their SDK's API key.",
        issued.secret
    );
    Ok(out)
}

async fn update(args: &KeysUpdateArgs, home: &Home) -> anyhow::Result<String> {
    let set = &args.settings;
    let cleared = |what: &str| args.clear.iter().any(|c| c == what);
    // An option both set and cleared is a mistake worth naming, not a coin toss.
    for (what, given) in [
        ("owner", set.owner.is_some()),
        ("expiry", set.expires_in.is_some()),
        ("models", !set.models.is_empty()),
        ("routes", !set.routes.is_empty()),
        ("rpm", set.rpm.is_some()),
        ("tpm", set.tpm.is_some()),
        ("max-concurrent", set.max_concurrent.is_some()),
        (
            "budget",
            set.budget_usd.is_some() || set.budget_period.is_some(),
        ),
    ] {
        if given && cleared(what) {
            anyhow::bail!("`--clear {what}` and a new value for it were both given; choose one");
        }
    }
    let change = KeyChange {
        name: args.name.clone().map(Some),
        owner: set_or_clear(set.owner.clone(), cleared("owner")),
        expires_in_seconds: set_or_clear(set.expires_in_seconds(), cleared("expiry")),
        models: set_or_clear(set.models(), cleared("models")),
        routes: set_or_clear(set.routes(), cleared("routes")),
        rpm: set_or_clear(set.rpm, cleared("rpm")),
        tpm: set_or_clear(set.tpm, cleared("tpm")),
        max_concurrent: set_or_clear(set.max_concurrent, cleared("max-concurrent")),
        budget_usd: set_or_clear(set.budget_usd, cleared("budget")),
        budget_period: set.budget_period.map(Some),
    };
    let store = open(&args.store, home).await?;
    let key = keys::update(&store, &args.id, &change, unix_seconds())
        .await?
        .ok_or_else(|| anyhow::anyhow!("no client key `{}`; see `aratta keys list`", args.id))?;
    if args.store.json {
        return json(&key);
    }
    let mut out = details(&key, unix_seconds());
    out.push_str("\nChanged; a running server applies it within a second.\n");
    Ok(out)
}

/// A `--clear`ed setting is removed, a given one set, any other kept.
fn set_or_clear<T>(value: Option<T>, cleared: bool) -> Option<Option<T>> {
    match value {
        Some(v) => Some(Some(v)),
        None if cleared => Some(None),
        None => None,
    }
}

async fn open(args: &StoreArgs, home: &Home) -> anyhow::Result<crate::store::Store> {
    let config = crate::config::load(args.config.as_deref(), home)?;
    crate::bootstrap::open_store(&config, home).await
}

fn json(value: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// `active`, `revoked`, or `expired`, at `now`.
fn state(key: &KeyRecord, now: u64) -> &'static str {
    if key.revoked_at.is_some() {
        "revoked"
    } else if key.expires_at.is_some_and(|at| at <= now) {
        "expired"
    } else {
        "active"
    }
}

fn when(seconds: u64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
    )
    .to_string()
}

fn table(keys: &[KeyRecord], now: u64) -> String {
    if keys.is_empty() {
        return "no client keys; make one with `aratta keys create --name NAME`\n".into();
    }
    let mut out = format!(
        "{:<20}  {:<8}  {:<14}  {:<20}  {:<20}  {}\n",
        "ID", "STATE", "KEY", "CREATED", "EXPIRES", "NAME (OWNER)"
    );
    for k in keys {
        let owner = k
            .owner
            .as_deref()
            .map(|o| format!(" ({o})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{:<20}  {:<8}  {:<14}  {:<20}  {:<20}  {}{owner}",
            k.id,
            state(k, now),
            k.hint,
            when(k.created_at),
            k.expires_at.map_or_else(|| "never".into(), when),
            k.name,
        );
    }
    out
}

fn details(k: &KeyRecord, now: u64) -> String {
    let list = |l: &Option<Vec<String>>, all: &str| {
        l.as_ref().map_or_else(|| all.to_owned(), |l| l.join(", "))
    };
    let mut out = String::new();
    let _ = writeln!(out, "id:       {}", k.id);
    let _ = writeln!(out, "name:     {}", k.name);
    if let Some(owner) = &k.owner {
        let _ = writeln!(out, "owner:    {owner}");
    }
    let _ = writeln!(out, "state:    {}", state(k, now));
    let _ = writeln!(out, "key:      {}", k.hint);
    let _ = writeln!(out, "created:  {}", when(k.created_at));
    let _ = writeln!(
        out,
        "expires:  {}",
        k.expires_at.map_or_else(|| "never".into(), when)
    );
    if let Some(at) = k.revoked_at {
        let _ = writeln!(out, "revoked:  {}", when(at));
    }
    let _ = writeln!(out, "models:   {}", list(&k.models, "any"));
    let _ = writeln!(
        out,
        "routes:   {}",
        list(&k.routes, "chat, embeddings, models")
    );
    let limit = |n: Option<u64>, unit: &str| {
        n.map_or_else(|| format!("no {unit} limit"), |n| format!("{n} {unit}"))
    };
    let _ = writeln!(
        out,
        "limits:   {}, {}, {}",
        limit(k.rpm, "requests/min"),
        limit(k.tpm, "tokens/min"),
        limit(k.max_concurrent, "at once")
    );
    if let Some(budget) = k.budget_usd {
        let _ = writeln!(
            out,
            "budget:   ${budget:.2} per {}",
            k.budget_period.as_deref().unwrap_or("month")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(revoked: Option<u64>, expires: Option<u64>) -> KeyRecord {
        KeyRecord {
            id: "key_0123456789abcdef".into(),
            hint: "ark_abcd…wxyz".into(),
            name: "ci".into(),
            owner: Some("team".into()),
            models: Some(vec!["fast".into()]),
            expires_at: expires,
            revoked_at: revoked,
            ..KeyRecord::default()
        }
    }

    #[test]
    fn states_and_listing() {
        assert_eq!(state(&key(None, None), 10), "active");
        assert_eq!(state(&key(None, Some(10)), 10), "expired");
        assert_eq!(state(&key(Some(5), None), 10), "revoked");
        let listing = table(&[key(None, Some(86_400))], 10);
        assert!(
            listing.contains("key_0123456789abcdef  active"),
            "{listing}"
        );
        assert!(listing.contains("1970-01-02T00:00:00Z"), "{listing}");
        assert!(listing.contains("ci (team)"), "{listing}");
        let shown = details(&key(Some(5), None), 10);
        assert!(
            shown.contains("models:   fast") && shown.contains("revoked:  1970"),
            "{shown}"
        );
        assert!(table(&[], 0).contains("aratta keys create"));
    }
}
