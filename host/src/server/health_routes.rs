//! `GET /api/v1/health/triggers`: the heal triggers the health monitor fired (with their error
//! samples), and every provider's error counts by class. The samples hold providers' raw
//! bodies, so this is an admin route: beyond loopback it needs the admin token.

use std::sync::Arc;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use serde::Serialize;

use crate::gateway::Gateway;
use crate::resilience::{HealTrigger, WindowStatus};

use super::admin_routes::Admin;
use crate::dialects::scri::Failure;

/// What the health monitor has seen.
#[derive(Serialize)]
pub struct TriggerReport {
    /// `[healing] error_threshold`.
    pub error_threshold: u32,
    /// `[healing] window_seconds`.
    pub window_seconds: u64,
    /// `[healing] cooldown_seconds`.
    pub cooldown_seconds: u64,
    /// The last heal triggers (at most 50), oldest first.
    pub triggers: Vec<HealTrigger>,
    /// Errors per provider and class since the server started.
    pub errors: Vec<WindowStatus>,
}

/// `GET /api/v1/health/triggers`.
pub async fn triggers(
    _admin: Admin,
    State(gw): State<Arc<Gateway>>,
) -> Result<Json<TriggerReport>, Failure> {
    let settings = gw.monitor.settings();
    Ok(Json(TriggerReport {
        error_threshold: settings.threshold,
        window_seconds: settings.window.as_secs(),
        cooldown_seconds: settings.cooldown.as_secs(),
        triggers: gw
            .monitor
            .triggers()
            .iter()
            .map(|t| (**t).clone())
            .collect(),
        errors: gw.monitor.windows(Instant::now()),
    }))
}
