//! What keeps Aratta answering when providers fail, and tells the operator what happened:
//! circuit breakers per provider, retries with backoff, the health monitor that turns bursts
//! of adapter errors into heal triggers (and alerts), and metrics for everything.

pub mod alerts;
pub mod breaker;
pub mod metrics;
pub mod monitor;
pub mod retry;
pub mod samples;

pub use alerts::{AlertSink, LogSink, WebhookSink};
pub use breaker::{Action, BreakerSettings, BreakerState, BreakerStatus, Breakers, Transition};
pub use metrics::Metrics;
pub use monitor::{HealTrigger, HealthMonitor, MonitorSettings, WindowStatus};
pub use retry::{Next, Retries, RetryPolicy, Why};
pub use samples::{ErrorClass, ErrorSample, RequestShape};
