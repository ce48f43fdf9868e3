//! Tools to and from a provider's native format, translated by the provider's own adapter
//! (`convert-tools` / `parse-tools` in `wit/provider.wit`). The registry holds no knowledge of
//! any wire format, so an adapter installed from a file gets registry support for free.
//!
//! Translation is pure: each call runs in a fresh sandboxed instance under a deny-all network
//! grant and without a credential, so an adapter cannot reach anything while translating.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

use super::def::ToolDef;
use super::error::ToolError;
use super::tier::Tier;
use crate::config::{Config, ProviderConfig};
use crate::runtime::bindings::chat as wit;
use crate::runtime::bindings::errors::AdapterError;
use crate::runtime::outbound::Grant;
use crate::runtime::{Adapter, CallEnv, InvokeError, Runtime};

/// Finds the adapter for a provider or adapter name and calls its translation exports.
pub struct Translator<'a> {
    runtime: &'a Runtime,
    providers: Option<&'a BTreeMap<String, ProviderConfig>>,
}

impl<'a> Translator<'a> {
    /// Names resolve to configured providers first (their `adapter`), then to loaded adapters.
    pub fn new(runtime: &'a Runtime, config: &'a Config) -> Self {
        Self {
            runtime,
            providers: Some(&config.providers),
        }
    }

    /// Names resolve to loaded adapters only (no config at hand, e.g. a library user).
    pub fn adapters_only(runtime: &'a Runtime) -> Self {
        Self {
            runtime,
            providers: None,
        }
    }

    /// The adapter that speaks for `name`: the adapter of the configured provider `name`,
    /// else the loaded adapter `name`.
    pub fn resolve(&self, name: &str) -> Result<Arc<Adapter>, ToolError> {
        if let Some(p) = self.providers.and_then(|ps| ps.get(name)) {
            return self
                .runtime
                .adapter(&p.adapter)
                .ok_or_else(|| ToolError::AdapterNotLoaded {
                    provider: name.to_owned(),
                    adapter: p.adapter.clone(),
                });
        }
        self.runtime
            .adapter(name)
            .ok_or_else(|| ToolError::UnknownProvider {
                name: name.to_owned(),
                providers: join(self.providers.into_iter().flat_map(|ps| ps.keys())),
                adapters: join(self.runtime.adapters().keys()),
            })
    }

    fn env(&self, adapter: Arc<Adapter>) -> CallEnv {
        let grant = Arc::new(Grant::none(&adapter.info.name));
        self.runtime.call_env(adapter, grant)
    }

    /// `tools` in the native format of `provider` (see [`resolve`](Self::resolve)), as the
    /// adapter writes it (e.g. Anthropic `[{"name","description","input_schema"}]`).
    pub async fn export(&self, provider: &str, tools: &[ToolDef]) -> Result<Value, ToolError> {
        self.export_with(self.resolve(provider)?, tools).await
    }

    /// `tools` in the native format `adapter` writes.
    pub async fn export_with(
        &self,
        adapter: Arc<Adapter>,
        tools: &[ToolDef],
    ) -> Result<Value, ToolError> {
        let name = adapter.info.name.clone();
        let wit_tools: Vec<wit::Tool> = tools.iter().map(to_wit).collect();
        let native = self
            .env(adapter)
            .convert_tools(&wit_tools)
            .await
            .map_err(|error| adapter_error(&name, "convert tools", error))?;
        serde_json::from_str(&native).map_err(|source| ToolError::AdapterOutput {
            adapter: name,
            what: "converted tools".into(),
            source,
        })
    }

    /// The tools in `native` (`provider`'s own format, JSON text), parsed by its adapter. The
    /// text goes to the adapter as given, so nothing is reformatted on the way. The tools come
    /// back at the default tier and are not checked against the registry's rules here.
    pub async fn import(&self, provider: &str, native: &str) -> Result<Vec<ToolDef>, ToolError> {
        self.import_with(self.resolve(provider)?, native).await
    }

    /// The tools in `native`, parsed by `adapter`.
    pub async fn import_with(
        &self,
        adapter: Arc<Adapter>,
        native: &str,
    ) -> Result<Vec<ToolDef>, ToolError> {
        let name = adapter.info.name.clone();
        let tools = self
            .env(adapter)
            .parse_tools(native)
            .await
            .map_err(|error| adapter_error(&name, "parse tools", error))?;
        tools
            .into_iter()
            .map(|t| {
                let parameters = serde_json::from_str(&t.parameters).map_err(|source| {
                    ToolError::AdapterOutput {
                        adapter: name.clone(),
                        what: format!("parameters for tool `{}`", t.name),
                        source,
                    }
                })?;
                Ok(ToolDef {
                    name: t.name,
                    description: t.description,
                    parameters,
                    tier: Tier::default(),
                })
            })
            .collect()
    }

    async fn import_from_adapter(
        &self,
        adapter: &str,
        native: &str,
    ) -> Result<Vec<ToolDef>, ToolError> {
        let found = self
            .runtime
            .adapter(adapter)
            .ok_or_else(|| ToolError::UnknownProvider {
                name: adapter.to_owned(),
                providers: join(self.providers.into_iter().flat_map(|ps| ps.keys())),
                adapters: join(self.runtime.adapters().keys()),
            })?;
        self.import_with(found, native).await
    }

    /// Tools from an Anthropic `tools` array, parsed by the loaded `anthropic` adapter.
    pub async fn from_anthropic(&self, native: &str) -> Result<Vec<ToolDef>, ToolError> {
        self.import_from_adapter("anthropic", native).await
    }

    /// Tools from an OpenAI `tools` array, parsed by the loaded `openai` adapter.
    pub async fn from_openai(&self, native: &str) -> Result<Vec<ToolDef>, ToolError> {
        self.import_from_adapter("openai", native).await
    }

    /// Tools from Gemini `functionDeclarations` (or a request's `tools`), parsed by the
    /// loaded `google` adapter.
    pub async fn from_google(&self, native: &str) -> Result<Vec<ToolDef>, ToolError> {
        self.import_from_adapter("google", native).await
    }

    /// Tools from an xAI `tools` array, parsed by the loaded `xai` adapter.
    pub async fn from_xai(&self, native: &str) -> Result<Vec<ToolDef>, ToolError> {
        self.import_from_adapter("xai", native).await
    }

    /// Tools from a local (OpenAI-compatible) server's `tools` array, parsed by the loaded
    /// `local` adapter.
    pub async fn from_local(&self, native: &str) -> Result<Vec<ToolDef>, ToolError> {
        self.import_from_adapter("local", native).await
    }
}

fn to_wit(def: &ToolDef) -> wit::Tool {
    wit::Tool {
        name: def.name.clone(),
        description: def.description.clone(),
        parameters: def.parameters.to_string(),
    }
}

fn adapter_error(adapter: &str, operation: &'static str, error: InvokeError) -> ToolError {
    let message = match &error {
        InvokeError::Adapter(a) => match a {
            AdapterError::SchemaMismatch(s) if !s.path.is_empty() => {
                format!("at `{}`: {}", s.path, s.detail.message)
            }
            other => other.detail().message.clone(),
        },
        other => other.to_string(),
    };
    ToolError::Adapter {
        adapter: adapter.to_owned(),
        operation,
        message,
        error: Box::new(error),
    }
}

fn join<'s>(names: impl Iterator<Item = &'s String>) -> String {
    let names: Vec<&str> = names.map(String::as_str).collect();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}
