//! The SCRI request bodies, parsed exactly as their handlers parse them: pure functions from
//! the bytes to the typed request or the 400 the client gets. The fuzz harness (`fuzz/`) calls
//! them too, so what is fuzzed is what the server runs.

use super::error::{Failure, bad_request, parse_json};
use crate::scri;

/// `POST /api/v1/chat`: a SCRI chat request.
pub fn chat_request(body: &[u8]) -> Result<scri::ChatRequest, Failure> {
    let request: scri::ChatRequest = parse_json(body)?;
    if let Some(field) = request.sampling.out_of_range() {
        let message = format!("{field}: out of range for this setting (at most ±3.4e38)");
        return Err(bad_request(&message, Some(field.into())));
    }
    Ok(request)
}

/// `POST /api/v1/embed`: a SCRI embedding request.
pub fn embed_request(body: &[u8]) -> Result<scri::EmbedRequest, Failure> {
    parse_json(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::GatewayError;

    #[test]
    fn an_out_of_range_float_is_refused_naming_the_field() {
        let chat = br#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 1e300}"#;
        match chat_request(chat) {
            Err(Failure(GatewayError::BadRequest { param, .. })) => {
                assert_eq!(param.as_deref(), Some("temperature"))
            }
            Err(Failure(other)) => panic!("not a 400: {other}"),
            Ok(_) => panic!("accepted"),
        }
        let fine = br#"{"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 3e38}"#;
        let Ok(request) = chat_request(fine) else {
            panic!("3e38 fits an f32")
        };
        assert_eq!(request.sampling.temperature, Some(3e38));
    }
}
