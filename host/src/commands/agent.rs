//! `aratta agent run`: runs one agent in this process — the gateway is built from the same
//! config and adapters `aratta serve` uses, so no server needs to be running — and prints each
//! step as it happens (or one JSON object per line with `--json`).

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;

use crate::agent::{Agent, AgentConfig, Finish, Step, setup};
use crate::cli::AgentRunArgs;
use crate::home::Home;

/// Run the agent `args` describe; an answer exits 0, anything else is an error.
pub async fn run(args: &AgentRunArgs, home: &Home) -> anyhow::Result<()> {
    let config = crate::config::load(args.config.as_deref(), home)?;
    let env = |name: &str| std::env::var(name).ok();
    let executor = Arc::new(setup::executor(home, &env)?);
    let gateway = Arc::new(crate::bootstrap::start_gateway(config, home).await?);
    // One run, no server: the model lists a bare `--model llama3.2` routes by are worth the wait.
    gateway.refresh_model_lists().await;
    let agent_config = AgentConfig {
        name: args.name.clone(),
        model: args.model.clone(),
        max_iterations: args.max_iterations,
        temperature: args.temperature,
        tier: args.tier,
        tools: args.tools.clone(),
        system: args.system.clone(),
    };
    let agent = Agent::new(agent_config, gateway, executor)?;
    let json = args.json;
    let mut out = std::io::stdout();
    let mut emit = move |step: Step| {
        let line = if json {
            serde_json::to_string(&step).expect("steps serialise")
        } else {
            render(&step)
        };
        // A closed stdout (`| head`) must not stop the run; the audit log still records it.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    };
    let outcome = agent
        .run(&args.task, &mut emit)
        .await
        .context("agent run failed")?;
    match outcome.finish {
        Finish::Answer(_) => Ok(()),
        Finish::MaxIterations => anyhow::bail!(
            "the agent stopped after {} iterations without an answer (--max-iterations)",
            args.max_iterations
        ),
    }
}

/// One step as a line for people.
pub fn render(step: &Step) -> String {
    match step {
        Step::Start {
            run_id,
            model,
            tools,
            ..
        } => format!("[start] {run_id} model={model} tools={}", tools.join(",")),
        Step::Thought { iteration, text } => format!("[{iteration}] thought: {}", text.trim()),
        Step::ToolCall {
            iteration,
            name,
            arguments,
            ..
        } => format!("[{iteration}] call {name} {arguments}"),
        Step::ToolResult {
            iteration,
            name,
            outcome,
            content,
            duration_ms,
            ..
        } => format!(
            "[{iteration}] result {name} {} ({duration_ms} ms): {}",
            serde_json::to_value(outcome)
                .expect("outcome serialises")
                .as_str()
                .unwrap_or("?"),
            content.trim()
        ),
        Step::Answer {
            iteration, text, ..
        } => format!("[{iteration}] answer: {}", text.trim()),
        Step::MaxIterations { iterations } => {
            format!("[stop] no answer after {iterations} iterations")
        }
        Step::Error { iteration, message } => format!("[{iteration}] error: {message}"),
    }
}
