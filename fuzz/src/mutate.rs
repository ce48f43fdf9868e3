//! The mutator: each input starts from a seed of the committed corpus and takes one to four
//! mutations, chosen by a seeded PRNG so a run is reproducible from its seed. Most mutations
//! work on the JSON tree (replace a node by a value of the same or another kind, drop or add a
//! field, graft a node from another seed, nest a node past serde_json's depth limit), since a
//! body that is still JSON reaches the field checks; the rest work on the bytes (flips,
//! dictionary tokens, cuts, repeats, broken UTF-8), which is what the JSON and path layers see.

use arbitrary::Unstructured;
use serde_json::Value;

use crate::generate;

/// Bytes that matter to JSON, SSE and model paths, for byte-level replacement.
const BYTES: &[u8] = b"\0\xff\"\\{}[],:0-.eE\n\r /%";

/// Byte strings a tokenizer trips on: broken UTF-8, lone surrogates, huge exponents.
const TOKENS: &[&[u8]] = &[
    b"\xc3",
    b"\xed\xa0\x80",
    b"\\ud800",
    b"\\u0000",
    b"1e999",
    b"-0",
    b"18446744073709551616",
    b"null",
    b"[[[[[[[[",
    b"}}}",
    b"\"\":",
];

/// Generates inputs from seeds; one per target run.
pub struct Mutator<'a> {
    rng: fastrand::Rng,
    seeds: &'a [Vec<u8>],
    dict: &'static [&'static str],
    entropy: Vec<u8>,
}

impl<'a> Mutator<'a> {
    /// A mutator over `seeds` (may be empty), drawing from the PRNG seeded with `seed`.
    pub fn new(seed: u64, seeds: &'a [Vec<u8>], dict: &'static [&'static str]) -> Self {
        Mutator {
            rng: fastrand::Rng::with_seed(seed),
            seeds,
            dict,
            entropy: Vec::new(),
        }
    }

    /// The next input.
    pub fn next_input(&mut self) -> Vec<u8> {
        let mut input = self.seed();
        for _ in 0..self.rng.usize(1..=4) {
            input = match self.rng.u8(0..16) {
                0..=8 => self
                    .mutate_json(&input)
                    .unwrap_or_else(|| self.mutate_bytes(input)),
                9..=12 => self.mutate_bytes(input),
                13 => self.splice(input),
                _ => self.generate(),
            };
        }
        input
    }

    fn seed(&mut self) -> Vec<u8> {
        if self.seeds.is_empty() {
            return Vec::new();
        }
        self.seeds[self.rng.usize(..self.seeds.len())].clone()
    }

    /// Fresh random bytes for `Unstructured` (kept in a buffer to avoid an allocation each time).
    fn refill(&mut self) {
        let n = self.rng.usize(16..=2048);
        self.entropy.resize(n, 0);
        self.rng.fill(&mut self.entropy);
    }

    /// A value generated from scratch.
    fn generate(&mut self) -> Vec<u8> {
        self.refill();
        let mut u = Unstructured::new(&self.entropy);
        let value = generate::value(&mut u, self.dict, 4).unwrap_or(Value::Null);
        value.to_string().into_bytes()
    }

    fn mutate_json(&mut self, input: &[u8]) -> Option<Vec<u8>> {
        let mut root: Value = serde_json::from_slice(input).ok()?;
        let mut pointers = Vec::new();
        collect_pointers(&root, String::new(), &mut pointers);
        let pointer = pointers[self.rng.usize(..pointers.len())].clone();
        let donor = self.donor();
        self.refill();
        let mut u = Unstructured::new(&self.entropy);
        let dict = self.dict;
        let op = self.rng.u8(0..10);
        let nest_levels = self.rng.usize(1..=140);
        let in_objects = self.rng.bool();
        let node = root.pointer_mut(&pointer)?;
        match op {
            0 | 1 => *node = generate::value(&mut u, dict, 3).ok()?,
            2 | 3 => *node = same_kind(&mut u, node, dict)?,
            4 => match node {
                Value::Object(map) if !map.is_empty() => {
                    let i = u.choose_index(map.len()).ok()?;
                    let k = map.keys().nth(i)?.clone();
                    map.remove(&k);
                }
                Value::Array(items) if !items.is_empty() => {
                    let i = u.choose_index(items.len()).ok()?;
                    items.remove(i);
                }
                _ => *node = Value::Null,
            },
            5 | 6 => match node {
                Value::Object(map) => {
                    let k = generate::key(&mut u, dict).ok()?;
                    map.insert(k, generate::value(&mut u, dict, 2).ok()?);
                }
                Value::Array(items) => {
                    let item = match items.first() {
                        Some(first) if u.ratio(1u8, 2u8).ok()? => first.clone(),
                        _ => generate::value(&mut u, dict, 2).ok()?,
                    };
                    items.push(item);
                }
                _ => *node = generate::value(&mut u, dict, 1).ok()?,
            },
            7 | 8 => *node = donor.unwrap_or(Value::Null),
            _ => *node = generate::nest(node.take(), nest_levels, in_objects),
        }
        let out = if self.rng.u8(0..8) == 0 {
            serde_json::to_vec_pretty(&root)
        } else {
            serde_json::to_vec(&root)
        };
        out.ok()
    }

    /// A random node of a random seed, to graft.
    fn donor(&mut self) -> Option<Value> {
        let seed = self.seed();
        let value: Value = serde_json::from_slice(&seed).ok()?;
        let mut pointers = Vec::new();
        collect_pointers(&value, String::new(), &mut pointers);
        let pointer = &pointers[self.rng.usize(..pointers.len())];
        value.pointer(pointer).cloned()
    }

    fn mutate_bytes(&mut self, mut input: Vec<u8>) -> Vec<u8> {
        let len = input.len();
        match self.rng.u8(0..8) {
            0 if len > 0 => input[self.rng.usize(..len)] ^= 1 << self.rng.u8(0..8),
            1 if len > 0 => input[self.rng.usize(..len)] = BYTES[self.rng.usize(..BYTES.len())],
            2 => {
                let at = self.rng.usize(..=len);
                let token: Vec<u8> = if self.rng.bool() && !self.dict.is_empty() {
                    let word = self.dict[self.rng.usize(..self.dict.len())];
                    format!("\"{word}\"").into_bytes()
                } else {
                    TOKENS[self.rng.usize(..TOKENS.len())].to_vec()
                };
                input.splice(at..at, token);
            }
            3 if len > 0 => {
                let start = self.rng.usize(..len);
                let end = self.rng.usize(start..=len.min(start + 64));
                input.drain(start..end);
            }
            4 if len > 0 => {
                let start = self.rng.usize(..len);
                let end = self.rng.usize(start..=len.min(start + 64));
                let chunk = input[start..end].to_vec();
                for _ in 0..self.rng.usize(1..=16) {
                    input.splice(end..end, chunk.iter().copied());
                }
            }
            5 if len > 0 => input.truncate(self.rng.usize(..len)),
            _ => {
                let at = self.rng.usize(..=len);
                let byte = self.rng.u8(..);
                input.insert(at, byte);
            }
        }
        input
    }

    /// The head of one input joined to the tail of another seed.
    fn splice(&mut self, input: Vec<u8>) -> Vec<u8> {
        let other = self.seed();
        let cut_a = self.rng.usize(..=input.len());
        let cut_b = self.rng.usize(..=other.len());
        let mut out = input[..cut_a].to_vec();
        out.extend_from_slice(&other[cut_b..]);
        out
    }
}

/// A value of the same JSON kind as `node` (a string stays a string, ...), so typed fields
/// stay typed and the parser checks the value itself.
fn same_kind(u: &mut Unstructured, node: &Value, dict: &[&str]) -> Option<Value> {
    Some(match node {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(!b),
        Value::Number(_) => generate::number(u).ok()?,
        Value::String(_) => Value::String(generate::string(u, dict).ok()?),
        Value::Array(items) => {
            let mut items = items.clone();
            if !items.is_empty() {
                let i = u.choose_index(items.len()).ok()?;
                let j = u.choose_index(items.len()).ok()?;
                items.swap(i, j);
                items.push(items[i].clone());
            }
            Value::Array(items)
        }
        Value::Object(map) => {
            // The same fields, one of them set to a value of another kind.
            let mut map = map.clone();
            if !map.is_empty() {
                let i = u.choose_index(map.len()).ok()?;
                let k = map.keys().nth(i)?.clone();
                map.insert(k, generate::value(u, dict, 1).ok()?);
            }
            Value::Object(map)
        }
    })
}

/// JSON pointers to every node of `value` (the root is `""`).
fn collect_pointers(value: &Value, here: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let k = k.replace('~', "~0").replace('/', "~1");
                collect_pointers(v, format!("{here}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_pointers(v, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(here);
}
