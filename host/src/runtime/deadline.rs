//! Wall-clock deadlines on adapter calls. Fuel bounds the CPU an adapter may burn, but not
//! the time it may wait: a guest blocked in a WASI sleep or poll uses no fuel at all. Every
//! call into an adapter therefore runs under a deadline, and when it passes the call's future
//! is dropped. Wasmtime then resumes the guest's fiber with an error that unwinds it (a host
//! call it was blocked in, such as a sleep, is dropped with it); the caller drops the store,
//! which returns its instance slot to the pool. A guest spinning without waiting is cut off
//! the same way: fuel makes it yield to tokio every few million instructions (see
//! `sandbox::FUEL_YIELD_INTERVAL`), and the deadline fires at such a yield, so no separate
//! epoch ticker is needed.
//!
//! Each bound covers the call's instantiation too (a component's start functions are guest
//! code), and a spare instance made ahead of time is bounded by the local one.
//!
//! Two bounds, both from config that already exists:
//! - calls that reach the provider (chat, embed, opening a stream and each of its events,
//!   get-models, health-check) get the provider's upstream timeout (`[providers.<name>]
//!   timeout_seconds`, else `[behaviour] upstream_timeout_seconds`) plus [`NETWORK_GRACE`],
//!   so a slow upstream surfaces first as the provider's own timeout and only an adapter
//!   that stalls by itself hits this one;
//! - calls that never leave the sandbox (describe at load, tool and message conversion) get
//!   `[reload] verify_timeout_seconds` ([`DEFAULT_LOCAL`] outside `aratta serve`).

use std::time::Duration;

/// Added to the provider's upstream timeout for calls that reach the provider.
pub const NETWORK_GRACE: Duration = Duration::from_secs(5);

/// The bound on calls that make no network request, unless the runtime is given another.
pub const DEFAULT_LOCAL: Duration = Duration::from_secs(10);

/// One kind of call into an adapter, named as in the WIT contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `describe`, once per load.
    Describe,
    /// `chat`.
    Chat,
    /// `chat-stream`, until the stream is open.
    ChatStream,
    /// `chat-events.next`: one event of an open stream.
    StreamNext,
    /// `embed`.
    Embed,
    /// `get-models`.
    GetModels,
    /// `health-check`.
    HealthCheck,
    /// `convert-tools`.
    ConvertTools,
    /// `parse-tools`.
    ParseTools,
    /// `convert-messages`.
    ConvertMessages,
}

impl Call {
    /// The function's name in the contract.
    pub fn name(self) -> &'static str {
        match self {
            Call::Describe => "describe",
            Call::Chat => "chat",
            Call::ChatStream => "chat-stream",
            Call::StreamNext => "a stream's next event",
            Call::Embed => "embed",
            Call::GetModels => "get-models",
            Call::HealthCheck => "health-check",
            Call::ConvertTools => "convert-tools",
            Call::ParseTools => "parse-tools",
            Call::ConvertMessages => "convert-messages",
        }
    }

    /// Whether the call may reach the provider (and so gets the provider's timeout).
    pub fn reaches_provider(self) -> bool {
        !matches!(
            self,
            Call::Describe | Call::ConvertTools | Call::ParseTools | Call::ConvertMessages
        )
    }

    /// The config that sets this call's bound, for error messages.
    pub fn limit_setting(self) -> &'static str {
        if self.reaches_provider() {
            "the provider's timeout_seconds or [behaviour] upstream_timeout_seconds, plus 5 s"
        } else {
            "[reload] verify_timeout_seconds"
        }
    }
}

impl std::fmt::Display for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_conversions_and_describe_stay_local() {
        let local = [
            Call::Describe,
            Call::ConvertTools,
            Call::ParseTools,
            Call::ConvertMessages,
        ];
        for call in local {
            assert!(!call.reaches_provider(), "{call}");
            assert_eq!(call.limit_setting(), "[reload] verify_timeout_seconds");
        }
        for call in [
            Call::Chat,
            Call::ChatStream,
            Call::StreamNext,
            Call::Embed,
            Call::GetModels,
            Call::HealthCheck,
        ] {
            assert!(call.reaches_provider(), "{call}");
        }
    }
}
