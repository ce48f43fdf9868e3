//! `aratta approvals list|approve|reject|propose` and `aratta adapter rollback`: the approval
//! queue and rollbacks of the running server, through its HTTP API (see
//! `crate::server` and `crate::reload`), printed for a terminal.

use std::fmt::Write as _;
use std::path::Path;

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::server_client::{ClientError, ServerClient};
use crate::cli::{ApprovalsCommand, RollbackArgs, ServerArgs};
use crate::config::ConfigError;
use crate::home::Home;

/// Why an approvals command failed.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalsError {
    /// The config naming the server's address.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Talking to the server.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// Reading the candidate.
    #[error("cannot read {}: {reason}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// What the OS said.
        reason: std::io::Error,
    },
}

/// Run `aratta approvals <command>`; returns what to print.
pub async fn run(command: &ApprovalsCommand, home: &Home) -> Result<String, ApprovalsError> {
    match command {
        ApprovalsCommand::List(server) => list(&client(server, home)?).await,
        ApprovalsCommand::Approve { id, server } => approve(&client(server, home)?, id).await,
        ApprovalsCommand::Reject { id, reason, server } => {
            reject(&client(server, home)?, id, reason.as_deref()).await
        }
        ApprovalsCommand::Propose {
            file,
            reason,
            server,
        } => propose(&client(server, home)?, file, reason.as_deref()).await,
    }
}

/// Run `aratta adapter rollback`; returns what to print.
pub async fn run_rollback(args: &RollbackArgs, home: &Home) -> Result<String, ApprovalsError> {
    rollback(&client(&args.server, home)?, &args.name, args.to.as_deref()).await
}

/// A client for the server `server` names (or the config's address).
pub(crate) fn client(server: &ServerArgs, home: &Home) -> Result<ServerClient, ApprovalsError> {
    let config = match &server.url {
        // The URL says everything; a broken config file must not stand in the way.
        Some(_) => crate::config::Config::default(),
        None => crate::config::load(server.config.as_deref(), home)?,
    };
    Ok(ServerClient::new(server.url.as_deref(), &config))
}

/// The queue, newest first, one line per entry.
pub async fn list(client: &ServerClient) -> Result<String, ApprovalsError> {
    let all = client
        .call(
            Method::GET,
            "/api/v1/approvals",
            Bytes::new(),
            "application/json",
        )
        .await?;
    let entries = all.as_array().cloned().unwrap_or_default();
    if entries.is_empty() {
        return Ok("no adapter versions are waiting for approval\n".into());
    }
    let mut out = String::new();
    for e in &entries {
        let _ = writeln!(
            out,
            "{:<20} {:<9} {} {} sha256:{}  {}{}",
            text(&e["id"]),
            text(&e["status"]),
            text(&e["adapter"]),
            text(&e["version"]),
            text(&e["sha256"]).get(..12).unwrap_or_default(),
            text(&e["reason"]),
            e["outcome"]
                .as_str()
                .map(|o| format!(" ({o})"))
                .unwrap_or_default(),
        );
    }
    Ok(out)
}

/// Approve `id`: the server verifies it and swaps it in.
pub async fn approve(client: &ServerClient, id: &str) -> Result<String, ApprovalsError> {
    let answer = client
        .call(
            Method::POST,
            &format!("/api/v1/approvals/{id}/approve"),
            Bytes::new(),
            "application/json",
        )
        .await?;
    let a = &answer["approval"];
    Ok(format!(
        "approved {}: adapter {} {} is serving ({})\n",
        text(&a["id"]),
        text(&a["adapter"]),
        text(&a["version"]),
        text(&a["outcome"]),
    ))
}

/// Reject `id`.
pub async fn reject(
    client: &ServerClient,
    id: &str,
    reason: Option<&str>,
) -> Result<String, ApprovalsError> {
    let body = serde_json::json!({ "reason": reason.unwrap_or("rejected with `aratta approvals reject`") });
    let answer = client
        .call(
            Method::POST,
            &format!("/api/v1/approvals/{id}/reject"),
            Bytes::from(body.to_string()),
            "application/json",
        )
        .await?;
    Ok(format!("rejected {}\n", text(&answer["approval"]["id"])))
}

/// Queue the component in `file` for approval.
pub async fn propose(
    client: &ServerClient,
    file: &Path,
    reason: Option<&str>,
) -> Result<String, ApprovalsError> {
    let bytes = std::fs::read(file).map_err(|reason| ApprovalsError::Read {
        path: file.to_owned(),
        reason,
    })?;
    let reason = reason.unwrap_or("proposed with `aratta approvals propose`");
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("reason", reason)
        .append_pair("proposed_by", "cli")
        .finish();
    let a = client
        .call(
            Method::POST,
            &format!("/api/v1/approvals?{query}"),
            Bytes::from(bytes),
            "application/wasm",
        )
        .await?;
    Ok(format!(
        "queued {}: adapter {} {}; approve with `aratta approvals approve {}`\n",
        text(&a["id"]),
        text(&a["adapter"]),
        text(&a["version"]),
        text(&a["id"]),
    ))
}

/// Roll adapter `name` back to `to` (a version or SHA-256 prefix), else the previous version.
pub async fn rollback(
    client: &ServerClient,
    name: &str,
    to: Option<&str>,
) -> Result<String, ApprovalsError> {
    let body = match to {
        Some(to) if to.len() >= 6 && to.chars().all(|c| c.is_ascii_hexdigit()) => {
            serde_json::json!({ "sha256": to })
        }
        Some(to) => serde_json::json!({ "version": to }),
        None => serde_json::json!({}),
    };
    let swap = client
        .call(
            Method::POST,
            &format!("/api/v1/adapters/{name}/rollback"),
            Bytes::from(body.to_string()),
            "application/json",
        )
        .await?;
    let current = &swap["current"];
    Ok(if swap["changed"] == true {
        format!(
            "adapter {name} rolled back to {} (sha256:{})\n",
            text(&current["version"]),
            text(&current["sha256"]).get(..12).unwrap_or_default()
        )
    } else {
        format!("adapter {name} already serves that version\n")
    })
}

/// A JSON value as a terminal shows it: strings bare, null as `-`.
pub(crate) fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "-".into(),
        other => other.to_string(),
    }
}
