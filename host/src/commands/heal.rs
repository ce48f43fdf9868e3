//! `aratta heal list|show|run`: the running server's heal cycles, through its HTTP API (see
//! `crate::heal`), printed for a terminal.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Method;
use serde_json::Value;

use super::approvals::{ApprovalsError, client, text};
use super::server_client::ServerClient;
use crate::cli::HealCommand;
use crate::home::Home;

/// Run `aratta heal <command>`; returns what to print.
pub async fn run(command: &HealCommand, home: &Home) -> Result<String, ApprovalsError> {
    match command {
        HealCommand::List(server) => list(&client(server, home)?).await,
        HealCommand::Show { id, server } => show(&client(server, home)?, id).await,
        HealCommand::Run {
            adapter,
            wait,
            server,
        } => start(&client(server, home)?, adapter, *wait).await,
    }
}

async fn get(client: &ServerClient, path: &str) -> Result<Value, ApprovalsError> {
    Ok(client
        .call(Method::GET, path, Bytes::new(), "application/json")
        .await?)
}

/// Every cycle, newest first, one line each.
pub async fn list(client: &ServerClient) -> Result<String, ApprovalsError> {
    let all = get(client, "/api/v1/heal").await?;
    let cycles = all.as_array().cloned().unwrap_or_default();
    if cycles.is_empty() {
        return Ok("no heal cycle yet\n".into());
    }
    let mut out = String::new();
    for c in &cycles {
        let _ = writeln!(
            out,
            "{:<22} {:<11} {:<10} {:<14} {}",
            text(&c["id"]),
            text(&c["status"]),
            text(&c["adapter"]),
            text(&c["class"]),
            text(&c["summary"]),
        );
    }
    Ok(out)
}

/// One cycle, phase by phase, with its diff.
pub async fn show(client: &ServerClient, id: &str) -> Result<String, ApprovalsError> {
    let c = get(client, &format!("/api/v1/heal/{id}")).await?;
    Ok(render(&c))
}

/// Start a cycle; with `wait`, follow it until it ends (up to 30 minutes).
pub async fn start(
    client: &ServerClient,
    adapter: &str,
    wait: bool,
) -> Result<String, ApprovalsError> {
    let body = serde_json::json!({ "adapter": adapter }).to_string();
    let started = client
        .call(
            Method::POST,
            "/api/v1/heal/run",
            Bytes::from(body),
            "application/json",
        )
        .await?;
    let id = text(&started["id"]);
    if !wait || started["status"] != "running" {
        return Ok(format!(
            "heal cycle {id}: {} ({}); follow it with `aratta heal show {id}`\n",
            text(&started["status"]),
            text(&started["summary"])
        ));
    }
    let until = Instant::now() + Duration::from_secs(30 * 60);
    let mut seen = 0;
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let c = get(client, &format!("/api/v1/heal/{id}")).await?;
        let phases = c["phases"].as_array().cloned().unwrap_or_default();
        for p in phases.iter().skip(seen) {
            eprintln!(
                "  {:<9} {:<7} {:>7} ms",
                text(&p["name"]),
                text(&p["outcome"]),
                p["duration_ms"]
            );
        }
        seen = phases.len();
        if c["status"] != "running" || Instant::now() > until {
            return Ok(render(&c));
        }
    }
}

fn render(c: &Value) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}: {}\nadapter {} {} (provider {}), {} started by {}",
        text(&c["id"]),
        text(&c["status"]),
        text(&c["summary"]),
        text(&c["adapter"]),
        text(&c["adapter_version"]),
        text(&c["provider"]),
        text(&c["class"]),
        text(&c["started_by"]),
    );
    for p in c["phases"].as_array().into_iter().flatten() {
        let model = p["model"]
            .as_str()
            .map(|m| format!(" [{m}]"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {:<9} {:<7} {:>7} ms{model}",
            text(&p["name"]),
            text(&p["outcome"]),
            p["duration_ms"]
        );
    }
    if c["diagnosis"].is_object() {
        let _ = writeln!(out, "diagnosis: {}", text(&c["diagnosis"]["summary"]));
    }
    for url in c["research"]["urls"].as_array().into_iter().flatten() {
        let _ = writeln!(out, "source: {}", text(url));
    }
    let v = &c["verification"];
    if v.is_object() {
        let _ = writeln!(
            out,
            "verification: serving {}; candidate {}",
            text(&v["serving"]),
            text(&v["candidate"])
        );
    }
    let d = &c["decision"];
    if d.is_object() {
        let _ = writeln!(
            out,
            "decision: {} ({}){}",
            text(&d["action"]),
            text(&d["reason"]),
            d["approval_id"]
                .as_str()
                .map(|a| format!("; approve with `aratta approvals approve {a}`"))
                .unwrap_or_default()
        );
    }
    if let Some(diff) = c["diff"].as_str() {
        let _ = writeln!(out, "{diff}");
    }
    out
}
