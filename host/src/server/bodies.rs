//! The request bodies of the SCRI, agent and admin routes, parsed exactly as their handlers
//! parse them: pure functions from the bytes to the typed request or the 400 the client gets.
//! The handlers call these, and so does the fuzz harness (`fuzz/`), so what is fuzzed is what
//! the server runs. (The OpenAI, Anthropic and Gemini bodies have their own pure parsers in
//! [`crate::openai`], [`crate::anthropic_api`] and [`crate::gemini_api`].)

use super::error::{Failure, bad_request, parse_json};
use crate::scri;
use crate::tools::ToolDef;

pub use super::adapter_routes::{Rejection, RollbackTo};
pub use super::agent_routes::AgentRunRequest;

/// `POST /api/v1/chat`: a SCRI chat request.
pub fn scri_chat(body: &[u8]) -> Result<scri::ChatRequest, Failure> {
    let request: scri::ChatRequest = parse_json(body)?;
    if let Some(field) = request.sampling.out_of_range() {
        let message = format!("{field}: out of range for this setting (at most ±3.4e38)");
        return Err(bad_request(&message, Some(field.into())));
    }
    Ok(request)
}

/// `POST /api/v1/embed`: a SCRI embedding request.
pub fn scri_embed(body: &[u8]) -> Result<scri::EmbedRequest, Failure> {
    parse_json(body)
}

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

    fn param(failure: Failure) -> Option<String> {
        match failure.0 {
            GatewayError::BadRequest { param, .. } => param,
            other => panic!("not a 400: {other}"),
        }
    }

    #[test]
    fn an_out_of_range_float_is_refused_naming_the_field() {
        let chat = br#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 1e300}"#;
        let refused = scri_chat(chat).err().expect("1e300 is no f32");
        assert_eq!(param(refused).as_deref(), Some("temperature"));
        let run = br#"{"task": "x", "model": "m", "temperature": -1e39}"#;
        let refused = agent_run(run).err().expect("-1e39 is no f32");
        assert_eq!(param(refused).as_deref(), Some("temperature"));
        let fine = br#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3e38}"#;
        assert_eq!(
            scri_chat(fine)
                .ok()
                .expect("3e38 fits")
                .sampling
                .temperature,
            Some(3e38)
        );
    }

    #[test]
    fn admin_bodies_may_be_empty_but_not_malformed() {
        assert!(rollback_to(b" \n").ok().expect("empty").version.is_none());
        assert!(rejection(b"").ok().expect("empty").reason.is_none());
        assert!(rollback_to(br#"{"verison": "1"}"#).is_err());
        assert!(tool_defs(b"[]").is_err());
        assert_eq!(
            tool_defs(br#"{"name": "a", "parameters": {}}"#)
                .ok()
                .expect("one tool")
                .len(),
            1
        );
    }
}
