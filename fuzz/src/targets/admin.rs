//! The SCRI, agent and admin bodies, parsed as their handlers parse them (`dialects::scri`, `server::bodies`).
//! A refusal must be a 400 that names the field; what is accepted must go on through the next
//! pure step the handler runs (re-encoding, the agent's config check, the tool registry).

use aratta_host::dialects::scri as scri_dialect;
use aratta_host::server::bodies;
use aratta_host::tools::{OnConflict, Tier, ToolRegistry};

use super::{dict, ensure, is_bad_request, reencodes, reencodes_embed};
use crate::Target;

/// `POST /api/v1/chat`.
pub const SCRI_CHAT: Target = Target {
    name: "scri_chat",
    about: "SCRI chat request (dialects::scri::chat_request)",
    dict: dict::SCRI,
    check: scri_chat,
};

fn scri_chat(input: &[u8]) -> Result<(), String> {
    match scri_dialect::chat_request(input) {
        Ok(request) => reencodes(&request),
        Err(failure) => is_bad_request(&failure),
    }
}

/// `POST /api/v1/embed`.
pub const SCRI_EMBED: Target = Target {
    name: "scri_embed",
    about: "SCRI embedding request (dialects::scri::embed_request)",
    dict: dict::SCRI,
    check: scri_embed,
};

fn scri_embed(input: &[u8]) -> Result<(), String> {
    match scri_dialect::embed_request(input) {
        Ok(request) => reencodes_embed(&request),
        Err(failure) => is_bad_request(&failure),
    }
}

/// `POST /api/v1/agents/run`.
pub const AGENT_RUN: Target = Target {
    name: "agent_run",
    about: "agent run body, its config and the config check (server::bodies::agent_run)",
    dict: dict::SCRI,
    check: agent_run,
};

fn agent_run(input: &[u8]) -> Result<(), String> {
    let request = match bodies::agent_run(input) {
        Ok(request) => request,
        Err(failure) => return is_bad_request(&failure),
    };
    let (config, task) = match request.into_config() {
        Ok(pair) => pair,
        Err(failure) => return is_bad_request(&failure),
    };
    ensure(!task.trim().is_empty(), || "an empty task accepted".into())?;
    // The tools an executor has, by tier, as the route's lookup answers.
    let tier_of = |name: &str| match name {
        "current_time" => Some(Tier::Restricted),
        "http_get" => Some(Tier::Standard),
        "python" => Some(Tier::Elevated),
        _ => None,
    };
    if let Err(e) = config.validate(tier_of) {
        ensure(!e.field.is_empty() && !e.message.is_empty(), || {
            format!("a config error without field or message: {e}")
        })?;
    }
    Ok(())
}

/// `POST /api/v1/tools`.
pub const TOOL_DEFS: Target = Target {
    name: "tool_defs",
    about: "tool registration body and the registry's checks (bodies::tool_defs, register_all)",
    dict: dict::SCRI,
    check: tool_defs,
};

fn tool_defs(input: &[u8]) -> Result<(), String> {
    let defs = match bodies::tool_defs(input) {
        Ok(defs) => defs,
        Err(failure) => return is_bad_request(&failure),
    };
    let registry = ToolRegistry::new();
    let n = defs.len();
    // A registry without a store never waits on anything: the future completes when polled.
    match futures::executor::block_on(registry.register_all(defs, OnConflict::Refuse)) {
        Ok(registered) => ensure(registry.len() == n && registered.len() == n, || {
            format!(
                "{n} tools accepted, {} registered, {} answered",
                registry.len(),
                registered.len()
            )
        }),
        Err(e) => ensure(registry.is_empty() && !e.to_string().is_empty(), || {
            format!(
                "a refused batch left {} tools registered: {e}",
                registry.len()
            )
        }),
    }
}

/// `POST /api/v1/keys` and `PATCH /api/v1/keys/{id}`.
pub const KEY_SPEC: Target = Target {
    name: "key_spec",
    about: "client key spec, key change and their checks (server::bodies::key_spec, key_change)",
    dict: dict::SCRI,
    check: key_spec,
};

fn key_spec(input: &[u8]) -> Result<(), String> {
    key_change(input)?;
    let spec = match bodies::key_spec(input) {
        Ok(spec) => spec,
        Err(failure) => return is_bad_request(&failure),
    };
    // What is accepted re-encodes to the same spec and passes its checks again.
    let text =
        serde_json::to_vec(&spec).map_err(|e| format!("an accepted spec does not encode: {e}"))?;
    match bodies::key_spec(&text) {
        Ok(again) => ensure(again == spec, || format!("{spec:?} re-read as {again:?}")),
        Err(failure) => Err(format!(
            "an accepted spec is refused when re-read: {}",
            failure.0
        )),
    }
}

/// The same bytes as a change to a key with every setting: a refusal names a field; an
/// accepted change re-encodes to itself and leaves the key's identity and no zero limit.
fn key_change(input: &[u8]) -> Result<(), String> {
    let change = match bodies::key_change(input) {
        Ok(change) => change,
        Err(failure) => return is_bad_request(&failure),
    };
    let text = serde_json::to_vec(&change)
        .map_err(|e| format!("an accepted change does not encode: {e}"))?;
    match bodies::key_change(&text) {
        Ok(again) => ensure(again == change, || {
            format!("{change:?} re-read as {again:?}")
        })?,
        Err(failure) => {
            return Err(format!(
                "an accepted change is refused when re-read: {}",
                failure.0
            ));
        }
    }
    let key = aratta_host::keys::KeyRecord {
        id: "key_0123456789abcdef".into(),
        hint: "ark_abcd…wxyz".into(),
        name: "ci".into(),
        owner: Some("platform".into()),
        models: Some(vec!["fast".into()]),
        routes: Some(vec!["chat".into()]),
        created_at: 1_000,
        expires_at: Some(5_000),
        rpm: Some(10),
        tpm: Some(1_000),
        max_concurrent: Some(2),
        budget_usd: Some(5.0),
        budget_period: Some("day".into()),
        ..Default::default()
    };
    match change.apply(&key, 2_000) {
        Ok(new) => ensure(
            new.id == key.id
                && new.hash == key.hash
                && new.created_at == key.created_at
                && ![new.rpm, new.tpm, new.max_concurrent].contains(&Some(0))
                && !new.name.trim().is_empty()
                && (new.budget_period.is_some() == new.budget_usd.is_some()),
            || format!("{change:?} made {new:?}"),
        ),
        Err(e) => ensure(!e.field.is_empty() && !e.reason.is_empty(), || {
            format!("a refusal without a field or reason: {e:?}")
        }),
    }
}

/// `POST /api/v1/adapters/{name}/rollback` and `POST /api/v1/approvals/{id}/reject`.
pub const ADAPTER_BODIES: Target = Target {
    name: "adapter_bodies",
    about: "rollback and rejection bodies (server::bodies::rollback_to, rejection)",
    dict: dict::SCRI,
    check: adapter_bodies,
};

fn adapter_bodies(input: &[u8]) -> Result<(), String> {
    if let Err(failure) = bodies::rollback_to(input) {
        is_bad_request(&failure)?;
    }
    if let Err(failure) = bodies::rejection(input) {
        is_bad_request(&failure)?;
    }
    Ok(())
}
