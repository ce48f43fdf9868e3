//! Whole-body checks: the body an adapter sent upstream must equal, value for value, the body
//! the provider expects for that case, stored as `tests/fixtures/<dir>/requests/<case>.json`.
//!
//! Each expected body is written in the provider's documented request shape (field names checked
//! against the provider's official SDK types; see `tests/fixtures/<dir>/requests/README.md`). A
//! mismatch names the first differing JSON path in document order, with both values, and shows
//! the whole body that was sent. `ARATTA_BLESS_REQUESTS=1` writes the sent body in place of a
//! missing or different expectation, for a human to review before committing — never in CI.

use serde_json::Value;

use super::Spec;

/// Compares the body of one request for `case` with its expected fixture.
pub fn check(spec: &Spec, case: &str, sent: &Value) -> Result<(), String> {
    let path = format!(
        "{}/fixtures/{}/requests/{case}.json",
        env!("CARGO_MANIFEST_DIR"),
        spec.fixtures
    );
    let bless = std::env::var_os("ARATTA_BLESS_REQUESTS").is_some();
    let expected = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str::<Value>(&text)
            .map_err(|e| format!("expected body {path} is not JSON: {e}"))?,
        Err(_) if bless => return write(&path, sent),
        Err(e) => {
            return Err(format!(
                "no expected body for case {case} ({path}: {e}); the adapter sent {}",
                pretty(sent)
            ));
        }
    };
    match first_difference(&expected, sent, "$") {
        None => Ok(()),
        Some(_) if bless => write(&path, sent),
        Some(diff) => Err(format!(
            "the body sent for {case} differs from {path} at {diff}\nsent: {}",
            pretty(sent)
        )),
    }
}

fn write(path: &str, sent: &Value) -> Result<(), String> {
    if let Some(dir) = std::path::Path::new(path).parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, pretty(sent) + "\n").map_err(|e| format!("{path}: {e}"))
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// The first place, in document order, where `actual` differs from `expected`: its JSON path
/// and what each side holds there. `None` when they are equal.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (key, ev) in e {
                let here = format!("{path}.{key}");
                match a.get(key) {
                    None => return Some(format!("{here}: missing (expected {ev})")),
                    Some(av) => {
                        if let Some(diff) = first_difference(ev, av, &here) {
                            return Some(diff);
                        }
                    }
                }
            }
            a.iter()
                .find(|(key, _)| !e.contains_key(*key))
                .map(|(key, av)| format!("{path}.{key}: not expected (sent {av})"))
        }
        (Value::Array(e), Value::Array(a)) => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                if let Some(diff) = first_difference(ev, av, &format!("{path}[{i}]")) {
                    return Some(diff);
                }
            }
            (e.len() != a.len())
                .then(|| format!("{path}: expected {} element(s), sent {}", e.len(), a.len()))
        }
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, sent {actual}")),
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;
    use serde_json::json;

    #[test]
    fn equal_bodies_have_no_difference() {
        let body = json!({"a": [1, {"b": "c"}], "d": null});
        assert_eq!(first_difference(&body, &body.clone(), "$"), None);
    }

    #[test]
    fn names_the_first_differing_path() {
        let expected = json!({"messages": [{"role": "user", "content": "hi"}], "z": 1});
        let sent = json!({"messages": [{"role": "system", "content": "hi"}], "z": 2});
        assert_eq!(
            first_difference(&expected, &sent, "$").unwrap(),
            "$.messages[0].role: expected \"user\", sent \"system\""
        );
    }

    #[test]
    fn reports_missing_extra_and_length() {
        let missing = first_difference(&json!({"a": 1}), &json!({}), "$").unwrap();
        assert!(missing.starts_with("$.a: missing"), "{missing}");
        let extra = first_difference(&json!({}), &json!({"b": true}), "$").unwrap();
        assert_eq!(extra, "$.b: not expected (sent true)");
        let short = first_difference(&json!([1, 2]), &json!([1]), "$").unwrap();
        assert_eq!(short, "$: expected 2 element(s), sent 1");
        let kind = first_difference(&json!({"a": 1}), &json!({"a": "1"}), "$").unwrap();
        assert_eq!(kind, "$.a: expected 1, sent \"1\"");
    }
}
