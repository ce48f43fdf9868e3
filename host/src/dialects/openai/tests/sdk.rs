//! What the openai-python SDK does with Aratta's output, replayed in Rust for tests.

use serde_json::{Map, Value};

/// The openai-python SDK's `_accumulate_delta`: strings concatenate, `index` and `type`
/// are replaced, lists of objects merge by their `index`.
pub(super) fn accumulate(acc: &mut Map<String, Value>, delta: &Map<String, Value>) {
    for (key, value) in delta {
        match (acc.get_mut(key), value) {
            (None | Some(Value::Null), _) => {
                acc.insert(key.clone(), value.clone());
            }
            _ if key == "index" || key == "type" => {
                acc.insert(key.clone(), value.clone());
            }
            (Some(Value::String(a)), Value::String(d)) => a.push_str(d),
            (Some(Value::Object(a)), Value::Object(d)) => accumulate(a, d),
            (Some(Value::Array(a)), Value::Array(d)) => {
                for entry in d {
                    let entry = entry.as_object().expect("list entries are objects");
                    let index = entry["index"]
                        .as_u64()
                        .expect("list entries carry an index")
                        as usize;
                    match a.get_mut(index) {
                        Some(Value::Object(existing)) => accumulate(existing, entry),
                        _ => a.insert(index.min(a.len()), Value::Object(entry.clone())),
                    }
                }
            }
            (Some(slot), _) => *slot = value.clone(),
        }
    }
}
