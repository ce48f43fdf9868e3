//! `POST /api/v1/agents/run`: runs one agent and streams its steps as server-sent events (the
//! event name is the step's `type`: `start`, `thought`, `tool_call`, `tool_result`, then
//! `answer`, `max_iterations` or `error`). A tier above `standard` (code execution, system
//! tools) is an admin action: beyond loopback it needs `Authorization: Bearer
//! $ARATTA_ADMIN_TOKEN`. The run is cancelled when the client goes away.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::Stream;
use http::HeaderMap;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::agent::{Agent, AgentConfig, Executor, Step};
use crate::gateway::{Gateway, GatewayError};
use crate::tools::Tier;

use super::admin_routes::AdminPolicy;
use crate::dialects::scri::{Failure, bad_request};

/// The agent route in the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(run),
    components(schemas(
        AgentRunRequest,
        Step,
        Tier,
        crate::scri::Usage,
        crate::scri::Lineage,
        crate::scri::Attempt
    ))
)]
pub struct AgentApi;

/// A run request: the agent's settings and its task.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentRunRequest {
    /// The task.
    pub task: String,
    /// An alias, `provider:model`, or a bare model name that providers list.
    pub model: String,
    /// The tools the agent may use; empty or absent means every tool within its tier.
    #[serde(default)]
    pub tools: Vec<String>,
    /// `restricted`, `standard` (default), `elevated` or `system`.
    #[serde(default)]
    pub tier: Tier,
    /// Model turns before the run stops (default 10).
    #[serde(default)]
    pub max_iterations: Option<u32>,
    /// Sampling temperature.
    #[serde(default, deserialize_with = "crate::scri::float::opt_finite_f32")]
    pub temperature: Option<f32>,
    /// System instructions.
    #[serde(default)]
    pub system: Option<String>,
    /// A name for the audit log (default `http`).
    #[serde(default)]
    pub name: Option<String>,
}

impl AgentRunRequest {
    /// The agent's settings and its task; an empty task is refused. A pure step, so the fuzz
    /// harness runs it as the route does.
    pub fn into_config(self) -> Result<(AgentConfig, String), Failure> {
        if self.task.trim().is_empty() {
            return Err(bad_request("task: must not be empty", Some("task".into())));
        }
        let mut config = AgentConfig::new(self.model);
        config.name = self.name.unwrap_or_else(|| "http".into());
        config.tools = self.tools;
        config.tier = self.tier;
        config.temperature = self.temperature;
        config.system = self.system;
        if let Some(n) = self.max_iterations {
            config.max_iterations = n;
        }
        Ok((config, self.task))
    }
}

/// Run an agent, streaming its steps.
#[utoipa::path(post, path = "/api/v1/agents/run", request_body = AgentRunRequest,
    responses(
        (status = 200, description = "`text/event-stream` of Step", body = Step),
        (status = 400, description = "The request is invalid", body = crate::scri::ApiError),
        (status = 403, description = "A tier above standard without the admin token", body = crate::scri::ApiError),
    ))]
pub async fn run(
    State(gw): State<Arc<Gateway>>,
    executor: Option<Extension<Arc<Executor>>>,
    Extension(admin): Extension<Arc<AdminPolicy>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, Failure> {
    let Some(Extension(executor)) = executor else {
        return Err(Failure(GatewayError::BadRequest {
            message: "agents are disabled on this server: its agent tools file or audit log could not be opened (see its log)".into(),
            param: None,
        }));
    };
    let request = super::bodies::agent_run(&body)?;
    if request.tier > Tier::Standard {
        admin.check(&headers)?;
    }
    let (config, task) = request.into_config()?;
    if let Err(e) = config.validate(|name| executor.get(name).map(|t| t.def.tier)) {
        return Err(bad_request(&e.to_string(), Some(e.field.into())));
    }
    if let Err(e) = gw.targets(&config.model) {
        return Err(Failure(e));
    }
    let agent = Agent::new(config, gw, executor).map_err(|e| bad_request(&e.to_string(), None))?;
    Ok(Sse::new(steps(agent, task)).into_response())
}

/// Aborts the run when the stream (the client's connection) is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn steps(agent: Agent, task: String) -> impl Stream<Item = Result<Event, Infallible>> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Step>();
    let handle = tokio::spawn(async move {
        let mut emit = move |step: Step| {
            let _ = tx.send(step);
        };
        // The outcome is in the steps (answer, max_iterations or error) and the audit log.
        let _ = agent.run(&task, &mut emit).await;
    });
    futures::stream::unfold((rx, AbortOnDrop(handle)), |(mut rx, guard)| async move {
        let step = rx.recv().await?;
        let event = Event::default()
            .event(step.name())
            .data(serde_json::to_string(&step).expect("steps serialise"));
        Some((Ok(event), (rx, guard)))
    })
}
