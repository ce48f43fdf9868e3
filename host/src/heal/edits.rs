//! Model-written search/replace edits to an adapter's source, checked as a security boundary.
//!
//! The heal model's output is untrusted text that Aratta then compiles on the host. So an edit
//! may only change existing `.rs` files under the adapter's `src/` or the guest SDK's `src/`
//! (no manifests, build scripts or new files, hence no new dependencies or build-time code),
//! its `search` text must occur exactly once, and it may not add a construct that reaches
//! outside the sandbox at build time or outside Rust's safety: `include_str!`,
//! `include_bytes!`, `include!`, `env!`, `option_env!`, `#[path]`, `cfg_attr` (which can carry a `path`),
//! `unsafe`, `extern`, `asm!`/`global_asm!`, inner attributes `#![..]`, and the macro tricks
//! that would assemble one of them (`$name!`, `#[$..]`, `$` in a path).
//!
//! The check is lexical and whitespace-insensitive: every such construct is taken with its
//! arguments (up to the end of its first bracketed group or statement), and after each edit
//! the file may hold only constructs its original text already held, so an existing
//! `env!("CARGO_PKG_VERSION")` does not refuse an unrelated edit while `env!("HOME")` is
//! refused. It errs towards refusing: the words count inside comments and strings too.
//! Every refusal names the edit (`edits[i]`, from 0) and the reason, to be fed back to the
//! model. [`apply`] is all or nothing: every edit is checked in memory before a file is written.

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::source::SourceTree;

/// At most this many edits in one fix.
pub const MAX_EDITS: usize = 64;
/// At most this many bytes of replacement text in one fix, summed over its edits.
pub const MAX_REPLACE_BYTES: usize = 256 * 1024;

/// One search/replace edit, as the heal model writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Edit {
    /// The file, relative to the source tree's root (e.g. `adapters/openai/src/lib.rs`).
    pub file: String,
    /// Text that occurs exactly once in the file (after the edits before this one).
    pub search: String,
    /// What replaces it.
    pub replace: String,
}

/// Why a list of edits was refused; the message is meant for the model that wrote them.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The list is empty.
    #[error("no edits: give at least one {{file, search, replace}}")]
    Empty,
    /// Too many edits.
    #[error("{count} edits is too many: at most {MAX_EDITS}")]
    TooMany {
        /// How many were given.
        count: usize,
    },
    /// Too much replacement text.
    #[error("{bytes} bytes of replacement text is too much: at most {MAX_REPLACE_BYTES}")]
    TooLarge {
        /// The total given.
        bytes: usize,
    },
    /// The path is absolute (or empty).
    #[error("edits[{index}]: `{file}` must be a path relative to the source root")]
    Absolute {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// The path climbs out with `..`.
    #[error("edits[{index}]: `{file}` must not contain `..`")]
    ParentDir {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// The file is not Rust source.
    #[error("edits[{index}]: `{file}` is not a .rs file; only Rust source may be edited")]
    NotRust {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// The file is outside the editable directories.
    #[error("edits[{index}]: `{file}` is not under {allowed}; only those sources may be edited")]
    NotEditable {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
        /// The editable directories, for the message.
        allowed: String,
    },
    /// The file does not exist (edits cannot create files).
    #[error("edits[{index}]: `{file}` does not exist; edits may change existing files only")]
    Missing {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// The path leads, through a symbolic link, outside the editable directories.
    #[error("edits[{index}]: `{file}` resolves outside the editable sources (a symbolic link)")]
    Escapes {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// `search` is empty.
    #[error("edits[{index}]: `search` is empty; give text that occurs exactly once in `{file}`")]
    EmptySearch {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// `search` does not occur in the file.
    #[error("edits[{index}]: `search` does not occur in `{file}` (after the edits before it)")]
    NotFound {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
    },
    /// `search` occurs more than once.
    #[error(
        "edits[{index}]: `search` occurs {count} times in `{file}`; include more surrounding \
         text so it occurs exactly once"
    )]
    Ambiguous {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
        /// How many times it occurs.
        count: usize,
    },
    /// The edit adds a forbidden construct.
    #[error(
        "edits[{index}]: the replacement adds `{construct}` to `{file}`; edits may not add \
         include_str!, include_bytes!, include!, env!, option_env!, #[path], unsafe, extern, \
         wit_bindgen::generate!, \
         asm!, global_asm!, inner attributes #![..] or macros that build them"
    )]
    Forbidden {
        /// The edit's position, from 0.
        index: usize,
        /// The path as given.
        file: String,
        /// The construct, as tokens.
        construct: String,
    },
    /// The file could not be read or written.
    #[error("`{file}`: {source}")]
    Io {
        /// The path as given.
        file: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

impl EditError {
    /// Whether the edits break a safety rule (a path outside the editable sources, a file
    /// that is not Rust, a forbidden construct), as opposed to not applying: a broken rule
    /// ends the heal cycle at once instead of being fed back to the model.
    pub fn is_forbidden(&self) -> bool {
        matches!(
            self,
            EditError::Absolute { .. }
                | EditError::ParentDir { .. }
                | EditError::NotRust { .. }
                | EditError::NotEditable { .. }
                | EditError::Escapes { .. }
                | EditError::Forbidden { .. }
        )
    }
}

/// A file's text before and after the edits.
struct Patched {
    file: String,
    path: PathBuf,
    original: String,
    text: String,
    allowed: Vec<String>,
}

/// Checks `edits` against `tree` without writing anything: every rule of the module doc.
pub fn check(edits: &[Edit], tree: &SourceTree) -> Result<(), EditError> {
    plan(edits, tree).map(|_| ())
}

/// Checks `edits` against `tree` and, only if all pass, writes them; returns the unified
/// diff of the whole change (`a/<file>`, `b/<file>` headers), for the human who reviews it.
pub fn apply(edits: &[Edit], tree: &SourceTree) -> Result<String, EditError> {
    let patched = plan(edits, tree)?;
    let mut diff = String::new();
    for file in &patched {
        diff.push_str(
            &similar::TextDiff::from_lines(&file.original, &file.text)
                .unified_diff()
                .header(&format!("a/{}", file.file), &format!("b/{}", file.file))
                .to_string(),
        );
    }
    for file in &patched {
        std::fs::write(&file.path, &file.text).map_err(|source| EditError::Io {
            file: file.file.clone(),
            source,
        })?;
    }
    Ok(diff)
}

/// Applies the edits in memory, in order, refusing at the first broken rule.
fn plan(edits: &[Edit], tree: &SourceTree) -> Result<Vec<Patched>, EditError> {
    if edits.is_empty() {
        return Err(EditError::Empty);
    }
    if edits.len() > MAX_EDITS {
        return Err(EditError::TooMany { count: edits.len() });
    }
    let bytes = edits.iter().map(|e| e.replace.len()).sum();
    if bytes > MAX_REPLACE_BYTES {
        return Err(EditError::TooLarge { bytes });
    }
    let mut files: Vec<Patched> = Vec::new();
    let mut by_path: BTreeMap<PathBuf, usize> = BTreeMap::new();
    for (index, edit) in edits.iter().enumerate() {
        let path = resolve(index, &edit.file, tree)?;
        let slot = match by_path.get(&path) {
            Some(slot) => *slot,
            None => {
                let original = std::fs::read_to_string(&path).map_err(|source| EditError::Io {
                    file: edit.file.clone(),
                    source,
                })?;
                files.push(Patched {
                    file: edit.file.clone(),
                    allowed: constructs(&original),
                    text: original.clone(),
                    original,
                    path: path.clone(),
                });
                by_path.insert(path, files.len() - 1);
                files.len() - 1
            }
        };
        let file = &mut files[slot];
        file.text = replace_once(index, edit, &file.text)?;
        if let Some(construct) = added(&file.allowed, &constructs(&file.text)) {
            return Err(EditError::Forbidden {
                index,
                file: edit.file.clone(),
                construct,
            });
        }
    }
    Ok(files)
}

/// The canonical path of an editable file, or why it is not one.
fn resolve(index: usize, file: &str, tree: &SourceTree) -> Result<PathBuf, EditError> {
    let name = || file.to_string();
    let relative = Path::new(file);
    if file.is_empty() || file.starts_with(['/', '\\']) || relative.has_root() {
        return Err(EditError::Absolute {
            index,
            file: name(),
        });
    }
    let mut clean = PathBuf::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => clean.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(EditError::ParentDir {
                    index,
                    file: name(),
                });
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(EditError::Absolute {
                    index,
                    file: name(),
                });
            }
        }
    }
    if clean.extension().is_none_or(|e| e != "rs") {
        return Err(EditError::NotRust {
            index,
            file: name(),
        });
    }
    let dirs = tree.editable_dirs();
    let Some(dir) = dirs.iter().find(|dir| clean.starts_with(dir)) else {
        let allowed = dirs
            .iter()
            .map(|d| format!("`{}/`", d.display()))
            .collect::<Vec<_>>()
            .join(" or ");
        return Err(EditError::NotEditable {
            index,
            file: name(),
            allowed,
        });
    };
    let path = tree.root.join(&clean);
    if !path.is_file() {
        return Err(EditError::Missing {
            index,
            file: name(),
        });
    }
    let canonical = path.canonicalize().map_err(|source| EditError::Io {
        file: name(),
        source,
    })?;
    let dir = tree
        .root
        .join(dir)
        .canonicalize()
        .map_err(|source| EditError::Io {
            file: name(),
            source,
        })?;
    if !canonical.starts_with(&dir) {
        return Err(EditError::Escapes {
            index,
            file: name(),
        });
    }
    Ok(canonical)
}

/// `text` with the edit's `search` (which must occur exactly once) replaced.
fn replace_once(index: usize, edit: &Edit, text: &str) -> Result<String, EditError> {
    let file = || edit.file.clone();
    if edit.search.is_empty() {
        return Err(EditError::EmptySearch {
            index,
            file: file(),
        });
    }
    // Overlapping occurrences count too: "aa" occurs twice in "aaa".
    let mut starts = (0..text.len())
        .filter(|&i| text.is_char_boundary(i) && text[i..].starts_with(&edit.search));
    let Some(at) = starts.next() else {
        return Err(EditError::NotFound {
            index,
            file: file(),
        });
    };
    let more = starts.count();
    if more > 0 {
        return Err(EditError::Ambiguous {
            index,
            file: file(),
            count: more + 1,
        });
    }
    Ok(format!(
        "{}{}{}",
        &text[..at],
        edit.replace,
        &text[at + edit.search.len()..]
    ))
}

/// The first construct in `now` beyond those in `allowed` (both sorted multisets).
fn added(allowed: &[String], now: &[String]) -> Option<String> {
    let mut budget: BTreeMap<&str, usize> = BTreeMap::new();
    for construct in allowed {
        *budget.entry(construct).or_default() += 1;
    }
    for construct in now {
        match budget.get_mut(construct.as_str()) {
            Some(left) if *left > 0 => *left -= 1,
            _ => return Some(construct.clone()),
        }
    }
    None
}

/// Words refused wherever they occur.
/// (`cfg_attr` because it can carry `path = ..`.)
/// (`wit_bindgen` because its `generate!` reads files at build time.)
const ALWAYS: [&str; 9] = [
    "wit_bindgen",
    "unsafe",
    "extern",
    "include_str",
    "include_bytes",
    "option_env",
    "global_asm",
    "naked_asm",
    "cfg_attr",
];
/// Macro names that are also common words: refused when invoked (`!`), renamed (`as`) or
/// named by path (`::`).
/// (`generate` is `wit_bindgen::generate!`, which reads the WIT files it is pointed at.)
const AS_MACRO: [&str; 4] = ["include", "env", "asm", "generate"];

/// Every forbidden construct in `text`, as whitespace-normalized token strings, sorted.
fn constructs(text: &str) -> Vec<String> {
    let tokens = tokens(text);
    let text_of = |i: usize| tokens.get(i).map_or("", |t: &(usize, &str)| t.1);
    let mut found = Vec::new();
    for i in 0..tokens.len() {
        let (token, prev, next) = (
            text_of(i),
            i.checked_sub(1).map_or("", text_of),
            text_of(i + 1),
        );
        let attribute = token == "#" && next == "[";
        let forbidden = ALWAYS.contains(&token)
            || (AS_MACRO.contains(&token) && (next == "!" || next == "as" || prev == ":"))
            || (token == "#" && next == "!")
            || (attribute && matches!(text_of(i + 2), "path" | "$"))
            || (token == "$" && prev == ":")
            || (prev == "$" && next == "!" && is_word(token));
        if forbidden {
            found.push(context(&tokens, i));
        }
    }
    found.sort();
    found
}

/// The construct starting at token `start`: up to the end of its first bracketed group, a
/// `;` or `,`, or the end of its line, at most 200 tokens.
fn context(tokens: &[(usize, &str)], start: usize) -> String {
    let mut depth = 0usize;
    let mut end = start;
    let line = tokens[start].0;
    while end < tokens.len() && end - start < 200 {
        let (token_line, token) = tokens[end];
        if depth == 0 && end > start && (token_line != line || token == ";" || token == ",") {
            break;
        }
        end += 1;
        match token {
            "(" | "[" | "{" => depth += 1,
            ")" | "]" | "}" if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            _ => {}
        }
    }
    tokens[start..end]
        .iter()
        .map(|t| t.1)
        .collect::<Vec<_>>()
        .join(" ")
}

fn is_word(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// `(line, token)` for every word (letters, digits, `_`) and every other non-space character.
fn tokens(text: &str) -> Vec<(usize, &str)> {
    let mut tokens = Vec::new();
    for (line, content) in text.lines().enumerate() {
        let mut chars = content.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c.is_whitespace() {
                continue;
            }
            let mut end = at + c.len_utf8();
            if c.is_alphanumeric() || c == '_' {
                while let Some(&(next, n)) = chars.peek() {
                    if !(n.is_alphanumeric() || n == '_') {
                        break;
                    }
                    end = next + n.len_utf8();
                    chars.next();
                }
            }
            tokens.push((line, &content[at..end]));
        }
    }
    tokens
}

#[cfg(test)]
#[path = "edits_tests.rs"]
mod tests;
