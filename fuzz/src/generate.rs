//! Structure-aware pieces built from `arbitrary`'s `Unstructured`: JSON values, strings and
//! numbers chosen to sit on parser edges (the wrong type, integer and float limits, empty and
//! long text, odd Unicode, SSE and path delimiters), with object keys and strings taken from
//! the target's dictionary so generated bodies get past the first field check.

use arbitrary::{Result, Unstructured};
use serde_json::{Map, Number, Value};

/// Strings that have broken parsers before: delimiters of the formats Aratta speaks (SSE,
/// JSON, model paths), control and non-BMP characters, and words the dialects give meaning to.
const STRINGS: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "null",
    "true",
    "{}",
    "[]",
    ":",
    "::",
    "models/",
    "models/a:b",
    "local:llama3.2:3b",
    "\u{0}",
    "\u{feff}",
    "é",
    "😀",
    "\r",
    "\r\n",
    "\n\n",
    "data: x",
    "event: x",
    "[DONE]",
    "%3A",
    "%",
    "/",
    "\\",
    "\"",
    "__globals__",
    "data:image/png;base64,iVBORw0KGgo=",
    "data:;base64,",
    "data:image/png;base64",
    "https://example.com/a.png",
];

/// Integers and floats at the limits the parsers convert to (`u32`, `u64`, `f32`).
const NUMBERS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    1024.0,
    4294967295.0,
    4294967296.0,
    1e38,
    3.5e38,
    1e300,
    -1e300,
    9007199254740993.0,
    1e-45,
    1e-320,
];

/// A string: from the edge list, the dictionary, arbitrary characters, or a long repeat.
pub fn string(u: &mut Unstructured, dict: &[&str]) -> Result<String> {
    Ok(match u.int_in_range(0..=6u8)? {
        0 => (*u.choose(STRINGS)?).to_owned(),
        1 | 2 if !dict.is_empty() => (*u.choose(dict)?).to_owned(),
        3 => {
            let n = u.int_in_range(0..=48usize)?;
            let mut s = String::with_capacity(n);
            for _ in 0..n {
                s.push(u.arbitrary::<char>()?);
            }
            s
        }
        4 => {
            let piece = (*u.choose(STRINGS)?).to_owned() + "x";
            piece.repeat(u.int_in_range(1..=2_000usize)?)
        }
        5 if !dict.is_empty() => format!("{}:{}", u.choose(dict)?, u.choose(dict)?),
        _ => u.arbitrary::<String>()?,
    })
}

/// A JSON number: an edge value, or an arbitrary integer or finite float.
pub fn number(u: &mut Unstructured) -> Result<Value> {
    Ok(match u.int_in_range(0..=4u8)? {
        0 | 1 => float(*u.choose(NUMBERS)?),
        2 => Value::Number(u.arbitrary::<u64>()?.into()),
        3 => Value::Number(u.arbitrary::<i64>()?.into()),
        _ => float(u.arbitrary::<f64>()?),
    })
}

fn float(f: f64) -> Value {
    // Whole values stay integers (JSON `4294967296`, not `4294967296.0`), as clients send them.
    if f.fract() == 0.0 && f.abs() < 1.8e19 && f != 0.0 {
        if f >= 0.0 {
            return Value::Number((f as u64).into());
        }
        return Value::Number((f as i64).into());
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

/// Any JSON value, at most `depth` levels deep, keys mostly from `dict`.
pub fn value(u: &mut Unstructured, dict: &[&str], depth: u32) -> Result<Value> {
    let max = if depth == 0 { 3 } else { 5 };
    Ok(match u.int_in_range(0..=max)? {
        0 => Value::Null,
        1 => Value::Bool(u.arbitrary()?),
        2 => number(u)?,
        3 => Value::String(string(u, dict)?),
        4 => {
            let n = u.int_in_range(0..=4usize)?;
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(value(u, dict, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let n = u.int_in_range(0..=5usize)?;
            let mut map = Map::new();
            for _ in 0..n {
                map.insert(key(u, dict)?, value(u, dict, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

/// An object key: nearly always a known field name, so the parser looks at the value.
pub fn key(u: &mut Unstructured, dict: &[&str]) -> Result<String> {
    if !dict.is_empty() && u.ratio(7u8, 8u8)? {
        return Ok((*u.choose(dict)?).to_owned());
    }
    string(u, dict)
}

/// `value` nested `levels` deep in arrays or objects: deep enough to reach serde_json's
/// recursion limit (128) and any recursive walk after it.
pub fn nest(inner: Value, levels: usize, in_objects: bool) -> Value {
    (0..levels).fold(inner, |v, _| {
        if in_objects {
            let mut map = Map::new();
            map.insert("a".into(), v);
            Value::Object(map)
        } else {
            Value::Array(vec![v])
        }
    })
}
