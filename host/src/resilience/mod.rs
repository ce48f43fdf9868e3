//! What keeps Aratta answering when providers fail, and tells the operator what happened:
//! circuit breakers per provider and metrics for everything.

pub mod breaker;
pub mod metrics;

pub use breaker::{Action, BreakerSettings, BreakerState, BreakerStatus, Breakers, Transition};
pub use metrics::Metrics;
