//! Aratta adapter for local OpenAI-compatible servers: Ollama, vLLM and llama.cpp's
//! `llama-server`. Everything is `aratta-openai-compatible`'s; this crate only names the
//! adapter and picks [`Dialect::LOCAL`]. The servers' quirks (see README.md) are handled by
//! that crate's lenient parsing, so the OpenAI and xAI adapters benefit too.

use aratta_guest::AuthScheme;
use aratta_openai_compatible::{Dialect, openai_compatible_adapter};

openai_compatible_adapter! {
    /// The adapter. Local servers need no key; the host may still add an optional bearer key
    /// (vLLM and llama-server `--api-key`).
    pub struct Local {
        name: "local",
        description: "Local OpenAI-compatible servers: Ollama, vLLM, llama.cpp",
        // Ollama's OpenAI-compatible endpoint, the most common local server.
        default_base_url: "http://127.0.0.1:11434/v1",
        auth: AuthScheme::None,
        dialect: Dialect::LOCAL,
    }
}

#[cfg(test)]
mod tests {
    use aratta_guest::{AdapterError, AuthScheme, Message, MessageContent, Role, Tool};
    use aratta_openai_compatible::OpenAiCompatible;

    use super::Local;

    #[test]
    fn describes_itself_as_local_with_ollamas_url() {
        let info = Local::describe();
        assert_eq!(info.name, "local");
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(info.default_base_url, "http://127.0.0.1:11434/v1");
        assert_eq!(info.auth, AuthScheme::None);
    }

    #[test]
    fn tools_round_trip() {
        let tools = vec![Tool {
            name: "get_weather".into(),
            description: Some("Weather for a city".into()),
            parameters:
                r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#
                    .into(),
        }];
        let native = Local::convert_tools(tools.clone()).unwrap();
        assert_eq!(Local::parse_tools(native).unwrap(), tools);
    }

    #[test]
    fn developer_messages_go_out_as_system() {
        let json = Local::convert_messages(vec![Message {
            role: Role::Developer,
            content: MessageContent::Text("be terse".into()),
            name: None,
        }])
        .unwrap();
        assert_eq!(json, r#"[{"role":"system","content":"be terse"}]"#);
    }

    #[test]
    fn parse_tools_reports_drift() {
        assert!(matches!(
            Local::parse_tools(r#"[{"type":"code_interpreter"}]"#.into()),
            Err(AdapterError::SchemaMismatch(_))
        ));
    }
}
