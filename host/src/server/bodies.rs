//! The request bodies of the agent and admin routes, parsed exactly as their handlers parse
//! them: pure functions from the bytes to the typed request or the 400 the client gets. The
//! handlers call these, and so does the fuzz harness (`fuzz/`), so what is fuzzed is what the
//! server runs. (The chat and embedding bodies of every dialect are parsed in
//! [`crate::dialects`].)

use crate::dialects::scri::{Failure, bad_request, parse_json};
use crate::keys::{KeyChange, KeySpec};
use crate::tools::ToolDef;

pub use super::adapter_routes::{Rejection, RollbackTo};
pub use super::agent_routes::AgentRunRequest;

/// `POST /api/v1/agents/run`: an agent run (its settings and task).
pub fn agent_run(body: &[u8]) -> Result<AgentRunRequest, Failure> {
    parse_json(body)
}

/// `POST /api/v1/tools`: one tool definition, or a non-empty array of them (all or none).
pub fn tool_defs(body: &[u8]) -> Result<Vec<ToolDef>, Failure> {
    let is_array = body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    let defs: Vec<ToolDef> = if is_array {
        parse_json(body)?
    } else {
        vec![parse_json(body)?]
    };
    if defs.is_empty() {
        return Err(bad_request("the array of tools is empty", None));
    }
    Ok(defs)
}

/// `POST /api/v1/keys`: a new client key's name, owner, lifetime and limits, checked.
pub fn key_spec(body: &[u8]) -> Result<KeySpec, Failure> {
    let spec: KeySpec = parse_json(body)?;
    spec.check()
        .map_err(|e| bad_request(&e.to_string(), Some(e.field.into())))?;
    Ok(spec)
}

/// `PATCH /api/v1/keys/{id}`: the fields to change (checked against the key itself later).
pub fn key_change(body: &[u8]) -> Result<KeyChange, Failure> {
    parse_json(body)
}

/// `POST /api/v1/adapters/{name}/rollback`: which version; an empty body names none.
pub fn rollback_to(body: &[u8]) -> Result<RollbackTo, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(RollbackTo::default());
    }
    parse_json(body)
}

/// `POST /api/v1/approvals/{id}/reject`: why; an empty body gives no reason.
pub fn rejection(body: &[u8]) -> Result<Rejection, Failure> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Rejection::default());
    }
    parse_json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::GatewayError;

    /// The field a 400 names; panics when `result` is not a 400.
    fn refused_param<T>(result: Result<T, Failure>) -> Option<String> {
        match result {
            Err(Failure(GatewayError::BadRequest { param, .. })) => param,
            Err(Failure(other)) => panic!("not a 400: {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn an_out_of_range_float_is_refused_naming_the_field() {
        let run = br#"{"task": "x", "model": "m", "temperature": -1e39}"#;
        assert_eq!(
            refused_param(agent_run(run)).as_deref(),
            Some("temperature")
        );
    }

    #[test]
    fn admin_bodies_may_be_empty_but_not_malformed() {
        assert!(matches!(
            rollback_to(b" \n"),
            Ok(RollbackTo {
                version: None,
                sha256: None
            })
        ));
        assert!(matches!(rejection(b""), Ok(Rejection { reason: None })));
        assert!(rollback_to(br#"{"verison": "1"}"#).is_err());
        assert!(tool_defs(b"[]").is_err());
        assert_eq!(
            refused_param(key_spec(br#"{"name": "a", "models": []}"#)).as_deref(),
            Some("models")
        );
        assert!(key_spec(br#"{"name": "a", "routes": ["chat"]}"#).is_ok());
        assert!(
            matches!(tool_defs(br#"{"name": "a", "parameters": {}}"#), Ok(defs) if defs.len() == 1)
        );
    }
}
