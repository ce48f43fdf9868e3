//! The ReAct loop: ask the model (through the gateway, so any provider behind the alias), run
//! the tool calls it makes, give it the results, and repeat until it answers without a tool call
//! or `max_iterations` turns are used. Each step is emitted as it happens.

use std::sync::Arc;

use super::config::AgentConfig;
use super::context::{AgentContext, ToolRecord};
use super::events::Step;
use super::executor::{Caller, Executor};
use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::{self, ContentBlock, Sampling, Usage};

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Finish {
    /// The model answered.
    Answer(String),
    /// `max_iterations` turns passed without an answer.
    MaxIterations,
}

/// A finished run: how it ended and everything it did.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run id (also in every audit line of the run).
    pub run_id: String,
    /// How it ended.
    pub finish: Finish,
    /// The conversation, tool calls and state.
    pub context: AgentContext,
}

/// Why a run stopped before it could finish.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The settings cannot work.
    #[error("invalid agent config: {0}")]
    Config(#[from] super::config::ConfigError),
    /// The model could not be asked (unknown alias, every provider failed...).
    #[error("iteration {iteration}: the model failed: {source}")]
    Model {
        /// The turn that failed.
        iteration: u32,
        /// The gateway's error.
        source: GatewayError,
    },
}

/// An agent: a config, the gateway it asks and the executor that runs its tools.
pub struct Agent {
    /// Its settings.
    pub config: AgentConfig,
    gateway: Arc<Gateway>,
    executor: Arc<Executor>,
}

impl Agent {
    /// An agent; fails when the config names an unknown tool or a value out of range.
    pub fn new(
        config: AgentConfig,
        gateway: Arc<Gateway>,
        executor: Arc<Executor>,
    ) -> Result<Self, AgentError> {
        config.validate(|name| executor.get(name).map(|t| t.def.tier))?;
        Ok(Self {
            config,
            gateway,
            executor,
        })
    }

    /// Run `task` to the end, calling `emit` with each step as it happens.
    pub async fn run(
        &self,
        task: &str,
        emit: &mut (dyn FnMut(Step) + Send),
    ) -> Result<RunOutcome, AgentError> {
        self.run_with(AgentContext::new(self.config.system.as_deref(), task), emit)
            .await
    }

    /// Run from a prepared context (seeded state, earlier conversation).
    pub async fn run_with(
        &self,
        mut context: AgentContext,
        emit: &mut (dyn FnMut(Step) + Send),
    ) -> Result<RunOutcome, AgentError> {
        let config = &self.config;
        let run_id = format!("run_{}", uuid::Uuid::new_v4().simple());
        let caller = Caller {
            agent: config.name.clone(),
            run_id: run_id.clone(),
            permissions: config.permissions(),
        };
        let tools = self.executor.offered(&caller.permissions);
        emit(Step::Start {
            run_id: run_id.clone(),
            agent: config.name.clone(),
            model: config.model.clone(),
            tools: tools.iter().map(|t| t.name.clone()).collect(),
        });
        let mut usage = Usage::default();
        while context.iterations < config.max_iterations {
            context.iterations += 1;
            let iteration = context.iterations;
            let request = scri::ChatRequest {
                model: config.model.clone(),
                messages: context.messages.clone(),
                tools: tools.clone(),
                tool_choice: None,
                parallel_tool_calls: None,
                response_format: None,
                sampling: Sampling {
                    temperature: config.temperature,
                    ..Sampling::default()
                },
                reasoning: None,
                user: None,
                extra: None,
                stream: false,
            };
            let response = match self.gateway.chat(&request, &request_id()).await {
                Ok(r) => r,
                Err(source) => {
                    emit(Step::Error {
                        iteration,
                        message: source.to_string(),
                    });
                    return Err(AgentError::Model { iteration, source });
                }
            };
            add_usage(&mut usage, response.usage.as_ref());
            let text = crate::scri::text_of(&response.content);
            let calls: Vec<scri::ToolCall> = response
                .content
                .iter()
                .filter_map(|b| match b {
                    ContentBlock::ToolUse(call) => Some(call.clone()),
                    _ => None,
                })
                .collect();
            context.push_assistant(response.content);
            if calls.is_empty() {
                emit(Step::Answer {
                    iteration,
                    text: text.clone(),
                    usage,
                    lineage: response.lineage,
                });
                return Ok(RunOutcome {
                    run_id,
                    finish: Finish::Answer(text),
                    context,
                });
            }
            if !text.trim().is_empty() {
                emit(Step::Thought { iteration, text });
            }
            let mut records = Vec::with_capacity(calls.len());
            for call in calls {
                emit(Step::ToolCall {
                    iteration,
                    id: call.id.clone(),
                    name: call.name.clone(),
                    arguments: call.arguments.clone(),
                });
                let result = self.executor.execute(&caller, &call).await;
                emit(Step::ToolResult {
                    iteration,
                    id: call.id.clone(),
                    name: call.name.clone(),
                    outcome: result.outcome,
                    content: result.content.clone(),
                    duration_ms: result.duration_ms,
                });
                records.push(ToolRecord {
                    iteration,
                    call,
                    result: result.content,
                    outcome: result.outcome,
                });
            }
            context.push_results(records);
        }
        emit(Step::MaxIterations {
            iterations: config.max_iterations,
        });
        Ok(RunOutcome {
            run_id,
            finish: Finish::MaxIterations,
            context,
        })
    }
}

fn add_usage(total: &mut Usage, turn: Option<&Usage>) {
    let Some(turn) = turn else { return };
    let add = |a: &mut Option<u32>, b: Option<u32>| {
        if let Some(b) = b {
            *a = Some(a.unwrap_or(0) + b);
        }
    };
    add(&mut total.input_tokens, turn.input_tokens);
    add(&mut total.output_tokens, turn.output_tokens);
    add(&mut total.cache_read_tokens, turn.cache_read_tokens);
    add(&mut total.cache_write_tokens, turn.cache_write_tokens);
    add(&mut total.reasoning_tokens, turn.reasoning_tokens);
}
