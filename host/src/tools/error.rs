//! Why the registry refused a tool or could not translate one. Every refusal names the tool
//! and the rule it broke, so a client (or an agent author) can fix the definition.

use crate::runtime::InvokeError;

/// A rule a tool definition broke. Each one's message says what the rule is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rule {
    /// A provider would reject the name.
    #[error("name rejected by {providers}: {requirement} (`{pattern}`)")]
    Name {
        /// Who rejects it (e.g. `google (Gemini)`).
        providers: &'static str,
        /// The rule in words.
        requirement: &'static str,
        /// The rule as a regular expression.
        pattern: &'static str,
    },
    /// `parameters` is not an object schema (providers pass arguments as one JSON object).
    #[error(
        "parameters must be an object schema (a JSON object with \"type\": \"object\"): {found}"
    )]
    NotObjectSchema {
        /// What was found instead.
        found: String,
    },
    /// `parameters` does not conform to the JSON Schema meta-schema.
    #[error("parameters is not a valid JSON Schema: at `{path}`: {message}")]
    BadJsonSchema {
        /// JSON pointer into `parameters` (`/properties/city/type`); empty for the root.
        path: String,
        /// What the meta-schema says is wrong.
        message: String,
    },
    /// `parameters` conforms to the meta-schema but cannot be used (an unresolvable `$ref`,
    /// a `pattern` that is not a regular expression).
    #[error("parameters is not a usable JSON Schema: {message}")]
    UnusableSchema {
        /// What failed when compiling it.
        message: String,
    },
}

impl Rule {
    /// A short machine-readable code for API errors.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Name { .. } => "invalid_tool_name",
            Rule::NotObjectSchema { .. } => "tool_parameters_not_object",
            Rule::BadJsonSchema { .. } | Rule::UnusableSchema { .. } => "invalid_tool_schema",
        }
    }

    /// The field of the tool definition at fault.
    pub fn field(&self) -> &'static str {
        match self {
            Rule::Name { .. } => "name",
            _ => "parameters",
        }
    }
}

/// Why a registry operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// The definition breaks a rule.
    #[error("tool `{tool}`: {rule}")]
    Invalid {
        /// The tool's name as given.
        tool: String,
        /// The rule it broke.
        rule: Rule,
    },
    /// A tool of that name is already registered (or appears twice in one request).
    #[error(
        "tool `{tool}`: duplicate name: a tool of that name is already registered{hint}; names are unique in the registry"
    )]
    Duplicate {
        /// The name.
        tool: String,
        /// How to replace it, where there is a way.
        hint: &'static str,
    },
    /// The tool is provided by another part of the server (the agent executor), which would
    /// go on running it: deleting or replacing it through the registry is refused.
    #[error(
        "tool `{tool}` is provided by {owner}; it cannot be deleted or replaced through the tool registry (change it where it is provided)"
    )]
    Pinned {
        /// The name.
        tool: String,
        /// Who provides it.
        owner: String,
    },
    /// No tool of that name is registered.
    #[error("no tool named `{tool}` is registered")]
    NotFound {
        /// The name asked for.
        tool: String,
    },
    /// The name is neither a configured provider nor a loaded adapter.
    #[error(
        "no provider or adapter named `{name}`; configured providers: {providers}; loaded adapters: {adapters}"
    )]
    UnknownProvider {
        /// The name asked for.
        name: String,
        /// The configured providers, comma-separated.
        providers: String,
        /// The loaded adapters, comma-separated.
        adapters: String,
    },
    /// A configured provider names an adapter that is not loaded.
    #[error("provider `{provider}` uses adapter `{adapter}`, which is not loaded")]
    AdapterNotLoaded {
        /// The provider.
        provider: String,
        /// Its adapter.
        adapter: String,
    },
    /// The adapter refused or failed the translation.
    #[error("adapter `{adapter}` could not {operation}: {message}")]
    Adapter {
        /// The adapter.
        adapter: String,
        /// `convert tools` or `parse tools`.
        operation: &'static str,
        /// The adapter's message.
        message: String,
        /// What the call returned (boxed: it is large and rare).
        error: Box<InvokeError>,
    },
    /// The adapter's output is not what the contract promises (its JSON does not parse).
    #[error("adapter `{adapter}` returned {what} that is not JSON: {source}")]
    AdapterOutput {
        /// The adapter.
        adapter: String,
        /// Which output.
        what: String,
        /// The parse error.
        source: serde_json::Error,
    },
    /// The change could not be written to the store, so it was not made.
    #[error("the tool registry could not be saved, so nothing changed: {reason}")]
    NotSaved {
        /// What the store said.
        reason: String,
    },
}

/// How an adapter's tool translation failed, in the terms the API reports: whose fault it
/// is and whether trying again can help. Keeps the WIT error types behind the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranslationFailure {
    /// The adapter found the tools invalid for its provider.
    Rejected,
    /// The provider has no equivalent (a tool kind it does not support).
    Unsupported,
    /// The adapter crashed.
    Trapped,
    /// The adapter ran past its deadline.
    TimedOut,
    /// The gateway's instance pool was full; try again.
    Overloaded,
    /// Anything else the adapter returned.
    Failed,
}

impl TranslationFailure {
    /// How the call behind a [`ToolError::Adapter`] failed.
    pub fn of(error: &InvokeError) -> Self {
        use crate::runtime::bindings::errors::AdapterError as A;
        match error {
            InvokeError::Adapter(A::InvalidRequest(_) | A::SchemaMismatch(_)) => {
                TranslationFailure::Rejected
            }
            InvokeError::Adapter(A::Unsupported(_)) => TranslationFailure::Unsupported,
            InvokeError::Trap { .. } => TranslationFailure::Trapped,
            InvokeError::Timeout { .. } => TranslationFailure::TimedOut,
            InvokeError::Overloaded { .. } => TranslationFailure::Overloaded,
            _ => TranslationFailure::Failed,
        }
    }
}

impl ToolError {
    /// A refusal of `tool` under `rule`.
    pub fn invalid(tool: &str, rule: Rule) -> Self {
        ToolError::Invalid {
            tool: tool.to_owned(),
            rule,
        }
    }
}
