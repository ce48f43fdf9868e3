//! The adapter's pure operations: describe, tools both ways, conversations, embeddings.

use aratta_guest::{
    Adapter, AdapterError, AuthScheme, CallContext, ContentBlock, EmbeddingRequest, MismatchKind,
    Role, Tool,
};

use super::{blocks, mismatch, text};
use crate::Anthropic;

#[test]
fn describes_itself() {
    let info = Anthropic::describe();
    assert_eq!(info.name, "anthropic");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    assert_eq!(info.default_base_url, "https://api.anthropic.com");
    assert_eq!(info.auth, AuthScheme::Header("x-api-key".into()));
    assert!(info.extra_hosts.is_empty());
}

fn corpus() -> Vec<Tool> {
    vec![
        Tool {
            name: "get_stock_price".into(),
            description: Some("Get the current stock price for a given ticker symbol.".into()),
            parameters: r#"{"type":"object","properties":{"ticker":{"type":"string","description":"The stock ticker symbol, e.g. AAPL for Apple Inc."}},"required":["ticker"]}"#.into(),
        },
        Tool {
            name: "no_description".into(),
            description: None,
            parameters: r#"{"type": "object", "properties": {}}"#.into(),
        },
        Tool {
            name: "ordered_ünï".into(),
            description: Some("keys stay in order: \"z\" before \"a\"".into()),
            parameters: "{\n  \"type\": \"object\",\n  \"properties\": {\"z\": {\"type\": \"integer\"}, \"a\": {\"type\": \"number\"}}\n}".into(),
        },
    ]
}

#[test]
fn tools_round_trip_is_identity() {
    let native = Anthropic::convert_tools(corpus()).unwrap();
    assert_eq!(Anthropic::parse_tools(native).unwrap(), corpus());
}

#[test]
fn tools_are_anthropics_shape() {
    let native = Anthropic::convert_tools(corpus()[..1].to_vec()).unwrap();
    assert_eq!(
        native,
        r#"[{"name":"get_stock_price","description":"Get the current stock price for a given ticker symbol.","input_schema":{"type":"object","properties":{"ticker":{"type":"string","description":"The stock ticker symbol, e.g. AAPL for Apple Inc."}},"required":["ticker"]}}]"#
    );
    // `"type": "custom"` is the explicit form of a client tool.
    let custom = r#"[{"type":"custom","name":"f","input_schema":{"type":"object"}}]"#;
    assert_eq!(Anthropic::parse_tools(custom.into()).unwrap()[0].name, "f");
}

#[test]
fn parse_tools_reports_drift_with_paths() {
    let m = mismatch(
        Anthropic::parse_tools(
            r#"[{"type":"web_search_20250305","name":"web_search","max_uses":5}]"#.into(),
        )
        .unwrap_err(),
    );
    assert_eq!(m.kind, MismatchKind::ToolSchemaChange);
    assert_eq!(m.path, "[0].type");
    let m = mismatch(
        Anthropic::parse_tools(
            r#"[{"name":"f","input_schema":{}},{"name":"g","parameters":{}}]"#.into(),
        )
        .unwrap_err(),
    );
    assert_eq!(m.kind, MismatchKind::MissingField);
    assert_eq!(m.path, "[1].input_schema");
    assert!(Anthropic::parse_tools(r#"{"tools":[]}"#.into()).is_err());
}

#[test]
fn convert_messages_gives_system_and_messages() {
    let json = Anthropic::convert_messages(vec![
        text(Role::System, "Be terse."),
        text(Role::User, "Hi"),
        blocks(Role::Assistant, vec![ContentBlock::Text("Hello".into())]),
    ])
    .unwrap();
    assert_eq!(
        json,
        r#"{"system":"Be terse.","messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Hello"}]}]}"#
    );
    let json = Anthropic::convert_messages(vec![text(Role::User, "Hi")]).unwrap();
    assert_eq!(json, r#"{"messages":[{"role":"user","content":"Hi"}]}"#);
}

#[test]
fn embeddings_are_unsupported_and_say_so() {
    let err = Anthropic::embed(
        CallContext {
            base_url: "https://api.anthropic.com".into(),
            request_id: "r".into(),
        },
        EmbeddingRequest {
            model: "m".into(),
            inputs: vec!["a".into()],
            dimensions: None,
            extra: None,
        },
    )
    .unwrap_err();
    let AdapterError::Unsupported(d) = err else {
        panic!("not unsupported")
    };
    assert!(d.message.contains("no embeddings API"));
}
