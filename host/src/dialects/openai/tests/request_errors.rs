//! `chat_request` refusals: every malformed or unsupported request names the field at fault.

use serde_json::{Value, json};

use crate::dialects::RequestError;
use crate::dialects::openai::chat_request;

fn param_of(body: Value) -> (Option<String>, String) {
    let err = chat_request(body.to_string().as_bytes()).expect_err("the request should be refused");
    (err.param().map(str::to_owned), err.to_string())
}

#[test]
fn malformed_requests_name_the_field() {
    let user = json!({"role": "user", "content": "hi"});
    let cases = [
        (json!({"messages": [user]}), "model"),
        (json!({"model": "m"}), "messages"),
        (json!({"model": "m", "messages": []}), "messages"),
        (json!({"model": "m", "messages": "hi"}), "messages"),
        (json!({"model": 4, "messages": [user]}), "model"),
        (
            json!({"model": "m", "messages": [user, user, {"role": "user", "content": 5}]}),
            "messages[2].content",
        ),
        (
            json!({"model": "m", "messages": [{"role": "function", "name": "f", "content": "1"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "1"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "1"}]}),
            "messages[0].tool_call_id",
        ),
        (json!({"model": "m", "messages": [user], "n": 2}), "n"),
        (
            json!({"model": "m", "messages": [user], "functions": [{"name": "f"}]}),
            "functions",
        ),
        (
            json!({"model": "m", "messages": [user], "tools": [{"type": "custom", "custom": {"name": "x"}}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "messages": [user], "tools": [{"type": ""}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "messages": [user], "tools": [{"name": "web_search"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "messages": [user], "tool_choice": "sometimes"}),
            "tool_choice",
        ),
        (
            json!({"model": "m", "messages": [user], "temperature": "hot"}),
            "temperature",
        ),
        (
            json!({"model": "m", "messages": [user], "temperature": 1e300}),
            "temperature",
        ),
        (
            json!({"model": "m", "messages": [user], "frequency_penalty": -3.5e38}),
            "frequency_penalty",
        ),
        (
            json!({"model": "m", "messages": [user], "stop": [1]}),
            "stop[0]",
        ),
        (
            json!({"model": "m", "messages": [user], "seed": -1}),
            "seed",
        ),
        (
            json!({"model": "m", "messages": [user], "response_format": {"type": "yaml"}}),
            "response_format.type",
        ),
    ];
    for (body, param) in cases {
        let (got, message) = param_of(body);
        assert_eq!(got.as_deref(), Some(param), "{message}");
        assert!(message.starts_with(param), "{message}");
    }
    assert_eq!(
        param_of(json!({"model": "m", "messages": [user, user, {"role": "user", "content": 5}]})).1,
        "messages[2].content: expected a string or an array of content parts, got a number"
    );
    assert!(
        param_of(json!({"model": "m", "messages": [user], "n": 3}))
            .1
            .contains("one choice")
    );
    assert!(
        param_of(json!({"model": "m", "messages": [{"role": "function", "content": "1"}]}))
            .1
            .contains("`function`")
    );
}

#[test]
fn invalid_json_is_a_json_error() {
    let err = chat_request(b"{\"model\": ").unwrap_err();
    assert!(matches!(err, RequestError::Json { .. }));
    assert_eq!(err.param(), None);
    assert!(matches!(
        chat_request(b"[1, 2]").unwrap_err(),
        RequestError::Json { .. }
    ));
}
