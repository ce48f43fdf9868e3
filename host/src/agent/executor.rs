//! The executor: runs the tool calls a model makes. Every tool declares a [`Tier`] and is one of
//! three kinds — a Rust function registered in-process, an HTTP endpoint, or the code sandbox —
//! and every call is checked against the agent's [`Permissions`], bounded by the tool's timeout,
//! and written to the [`AuditLog`], whatever its outcome. Nothing a tool does ends a run: a
//! refusal, a failure or a timeout becomes a tool error the model reads on its next turn.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use serde_json::Value;

use super::audit::{AuditEntry, AuditLog, Outcome, now_rfc3339};
use super::http_tool::HttpTools;
use super::permissions::Permissions;
use super::sandbox::Sandbox;
use crate::scri;
use crate::tools::{Tier, ToolDef};

/// A Rust tool: arguments in, text for the model (or an error message) out.
pub type ToolFn = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// How a tool is carried out.
#[derive(Clone)]
pub enum ToolImpl {
    /// A function in this process.
    Function(ToolFn),
    /// POST the arguments as JSON to this URL.
    Http {
        /// The endpoint.
        url: String,
    },
    /// Run the `code` argument in the code sandbox.
    Python,
}

/// A tool the executor can run.
#[derive(Clone)]
pub struct Registered {
    /// What the model sees, and the tier it needs.
    pub def: ToolDef,
    /// What runs.
    pub imp: ToolImpl,
    /// How long one call may take.
    pub timeout: Duration,
}

/// Why a tool cannot be registered.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The name is taken.
    #[error("tool `{0}` is already registered")]
    Duplicate(String),
    /// The tool's kind needs a higher tier than it declares.
    #[error(
        "tool `{tool}` is {kind} and must declare at least the `{least}` tier (it declares `{declared}`)"
    )]
    TierTooLow {
        /// The tool.
        tool: String,
        /// What kind of tool it is.
        kind: &'static str,
        /// The least tier for that kind.
        least: Tier,
        /// What it declared.
        declared: Tier,
    },
}

/// Who is calling: the agent's name, its run and its permissions.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The agent's name (for the audit log).
    pub agent: String,
    /// The run id (for the audit log).
    pub run_id: String,
    /// What the agent may call.
    pub permissions: Permissions,
}

/// What one call produced, as the model will see it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    /// The result text, or the error message.
    pub content: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall-clock time.
    pub duration_ms: u64,
}

impl CallResult {
    /// Whether the model should read this as a tool error.
    pub fn is_error(&self) -> bool {
        self.outcome != Outcome::Ok
    }
}

/// The tools and everything needed to run them.
pub struct Executor {
    tools: BTreeMap<String, Registered>,
    sandbox: Arc<Sandbox>,
    http: HttpTools,
    audit: Arc<AuditLog>,
}

impl Executor {
    /// An executor with no tools, running code in `sandbox` and auditing to `audit`.
    pub fn new(sandbox: Arc<Sandbox>, audit: Arc<AuditLog>) -> Self {
        Self {
            tools: BTreeMap::new(),
            sandbox,
            http: HttpTools::default(),
            audit,
        }
    }

    /// Add a tool. HTTP tools reach the network and the sandbox runs code, so neither may be
    /// `restricted`; the sandbox needs `elevated`.
    pub fn register(&mut self, tool: Registered) -> Result<(), RegisterError> {
        let name = tool.def.name.clone();
        if self.tools.contains_key(&name) {
            return Err(RegisterError::Duplicate(name));
        }
        let least = match tool.imp {
            ToolImpl::Function(_) => None,
            ToolImpl::Http { .. } => Some(("an HTTP tool", Tier::Standard)),
            ToolImpl::Python => Some(("the code sandbox", Tier::Elevated)),
        };
        if let Some((kind, least)) = least
            && tool.def.tier < least
        {
            return Err(RegisterError::TierTooLow {
                tool: name,
                kind,
                least,
                declared: tool.def.tier,
            });
        }
        self.tools.insert(name, tool);
        Ok(())
    }

    /// The registered tools, by name.
    pub fn tools(&self) -> impl Iterator<Item = &Registered> {
        self.tools.values()
    }

    /// The tool named `name`.
    pub fn get(&self, name: &str) -> Option<&Registered> {
        self.tools.get(name)
    }

    /// The audit log calls are written to.
    pub fn audit(&self) -> &Arc<AuditLog> {
        &self.audit
    }

    /// The tools offered to a model for an agent with `permissions`: those it may call.
    pub fn offered(&self, permissions: &Permissions) -> Vec<scri::Tool> {
        self.tools
            .values()
            .filter(|t| permissions.check(&t.def.name, t.def.tier).is_ok())
            .map(|t| t.def.to_scri())
            .collect()
    }

    /// Run one call: check permissions, run within the timeout, audit, and say what the model
    /// should read.
    pub async fn execute(&self, caller: &Caller, call: &scri::ToolCall) -> CallResult {
        let started = Instant::now();
        let (outcome, content) = match self.admit(caller, call) {
            Err(refusal) => (Outcome::Denied, refusal),
            Ok(tool) => {
                match tokio::time::timeout(tool.timeout, self.invoke(tool, &call.arguments)).await {
                    Ok(Ok(text)) => (Outcome::Ok, text),
                    Ok(Err(error)) => (Outcome::Error, error),
                    Err(_) => (
                        Outcome::Timeout,
                        format!(
                            "tool `{}` did not finish within {} s",
                            call.name,
                            tool.timeout.as_secs_f64()
                        ),
                    ),
                }
            }
        };
        let duration_ms = started.elapsed().as_millis() as u64;
        self.audit.record(AuditEntry {
            time: now_rfc3339(),
            agent: caller.agent.clone(),
            run_id: caller.run_id.clone(),
            tool: call.name.clone(),
            call_id: call.id.clone(),
            arguments: call.arguments.clone(),
            outcome,
            detail: (outcome != Outcome::Ok).then(|| content.clone()),
            tier: caller.permissions.tier,
            duration_ms,
        });
        CallResult {
            content,
            outcome,
            duration_ms,
        }
    }

    /// The tool, when the call may run; else the refusal the model reads.
    fn admit(&self, caller: &Caller, call: &scri::ToolCall) -> Result<&Registered, String> {
        let Some(tool) = self.tools.get(&call.name) else {
            let known: Vec<&str> = self.tools.keys().map(String::as_str).collect();
            return Err(super::permissions::Denial::UnknownTool {
                tool: call.name.clone(),
                known: known.join(", "),
            }
            .to_string());
        };
        caller
            .permissions
            .check(&call.name, tool.def.tier)
            .map_err(|d| format!("permission denied: {d}"))?;
        if !call.arguments.is_object() {
            return Err(format!(
                "the arguments of `{}` must be a JSON object, got: {}",
                call.name, call.arguments
            ));
        }
        Ok(tool)
    }

    async fn invoke(&self, tool: &Registered, arguments: &Value) -> Result<String, String> {
        match &tool.imp {
            ToolImpl::Function(f) => f(arguments.clone()).await,
            ToolImpl::Http { url } => self.http.call(url, arguments).await,
            ToolImpl::Python => {
                let code = arguments
                    .get("code")
                    .and_then(Value::as_str)
                    .ok_or("the `python` tool needs a string argument `code`")?;
                super::builtins::python_result(self.sandbox.run(code).await)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::sandbox::SandboxConfig;
    use serde_json::json;

    fn executor() -> Executor {
        let mut ex = Executor::new(
            Arc::new(Sandbox::new(SandboxConfig::default()).unwrap()),
            Arc::new(AuditLog::memory()),
        );
        let slow: ToolFn = Arc::new(|_| {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                Ok("late".into())
            })
        });
        ex.register(Registered {
            def: ToolDef::new("slow", None, json!({"type": "object"})),
            imp: ToolImpl::Function(slow),
            timeout: Duration::from_millis(50),
        })
        .unwrap();
        let failing: ToolFn =
            Arc::new(|args| Box::pin(async move { Err(format!("bad input {args}")) }));
        ex.register(Registered {
            def: ToolDef::new("failing", None, json!({"type": "object"}))
                .with_tier(Tier::Restricted),
            imp: ToolImpl::Function(failing),
            timeout: Duration::from_secs(1),
        })
        .unwrap();
        ex
    }

    fn caller(tier: Tier) -> Caller {
        Caller {
            agent: "t".into(),
            run_id: "run_t".into(),
            permissions: Permissions::tier(tier),
        }
    }

    fn call(name: &str, arguments: Value) -> scri::ToolCall {
        scri::ToolCall {
            id: "c1".into(),
            name: name.into(),
            arguments,
            signature: None,
        }
    }

    #[tokio::test]
    async fn a_slow_tool_times_out_and_a_failing_one_errors_both_audited() {
        let ex = executor();
        let r = ex
            .execute(&caller(Tier::Standard), &call("slow", json!({})))
            .await;
        assert_eq!(r.outcome, Outcome::Timeout);
        assert_eq!(r.content, "tool `slow` did not finish within 0.05 s");
        let r = ex
            .execute(&caller(Tier::Standard), &call("failing", json!({"x": 1})))
            .await;
        assert_eq!(
            (r.outcome, r.content.as_str()),
            (Outcome::Error, r#"bad input {"x":1}"#)
        );
        let r = ex
            .execute(
                &caller(Tier::Standard),
                &call("failing", json!("not an object")),
            )
            .await;
        assert_eq!(r.outcome, Outcome::Denied);
        assert!(r.content.contains("must be a JSON object"), "{}", r.content);
        let audited: Vec<Outcome> = ex.audit().entries().iter().map(|e| e.outcome).collect();
        assert_eq!(audited, [Outcome::Timeout, Outcome::Error, Outcome::Denied]);
    }

    #[tokio::test]
    async fn offered_tools_follow_the_tier() {
        let ex = executor();
        let names = |tier| -> Vec<String> {
            ex.offered(&Permissions::tier(tier))
                .into_iter()
                .map(|t| t.name)
                .collect()
        };
        assert_eq!(names(Tier::Restricted), ["failing"]);
        assert_eq!(names(Tier::Standard), ["failing", "slow"]);
    }

    #[test]
    fn network_and_code_tools_cannot_be_restricted() {
        let mut ex = executor();
        let err = ex
            .register(Registered {
                def: ToolDef::new("fetch", None, json!({"type": "object"}))
                    .with_tier(Tier::Restricted),
                imp: ToolImpl::Http {
                    url: "http://127.0.0.1:9/x".into(),
                },
                timeout: Duration::from_secs(1),
            })
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "tool `fetch` is an HTTP tool and must declare at least the `standard` tier (it declares `restricted`)"
        );
        let mut python = crate::agent::builtins::python_tool();
        python.def.tier = Tier::Standard;
        assert!(matches!(
            ex.register(python),
            Err(RegisterError::TierTooLow { .. })
        ));
        assert!(matches!(
            ex.register(crate::agent::builtins::current_time_tool())
                .and_then(|_| ex.register(crate::agent::builtins::current_time_tool())),
            Err(RegisterError::Duplicate(_))
        ));
    }
}
