//! Every rule of `edits`: each refusal leaves the files on disk as they were.

use super::*;
use crate::heal::source::SourceOrigin;

const LIB: &str = "pub fn version() -> &'static str {\n    env!(\"CARGO_PKG_VERSION\")\n}\n\npub fn field() -> &'static str {\n    \"choices\"\n}\n";
const SDK: &str = "pub fn sdk() -> u32 {\n    1\n}\n";

struct Fixture {
    _dir: tempfile::TempDir,
    tree: SourceTree,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for (file, text) in [
            ("Cargo.toml", "[workspace]\n"),
            ("adapters/x/Cargo.toml", "[package]\n"),
            ("adapters/x/build.rs", "fn main() {}\n"),
            ("adapters/x/src/lib.rs", LIB),
            ("adapters/x/src/notes.txt", "notes\n"),
            ("guest-sdk/src/lib.rs", SDK),
            ("secret.rs", "// secret\n"),
        ] {
            std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            std::fs::write(root.join(file), text).unwrap();
        }
        let tree = SourceTree {
            root,
            crate_dir: PathBuf::from("adapters/x"),
            origin: SourceOrigin::Builtin,
        };
        Fixture { _dir: dir, tree }
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.tree.root.join(file)).unwrap()
    }

    /// Applies `edits`, expects a refusal, and checks nothing was written.
    fn refuse(&self, edits: &[Edit]) -> EditError {
        let err = apply(edits, &self.tree).unwrap_err();
        assert!(check(edits, &self.tree).is_err());
        assert_eq!(self.read("adapters/x/src/lib.rs"), LIB);
        assert_eq!(self.read("guest-sdk/src/lib.rs"), SDK);
        err
    }
}

fn edit(file: &str, search: &str, replace: &str) -> Edit {
    Edit {
        file: file.into(),
        search: search.into(),
        replace: replace.into(),
    }
}

const LIB_RS: &str = "adapters/x/src/lib.rs";

#[test]
fn edits_apply_in_order_and_yield_a_unified_diff() {
    let f = Fixture::new();
    let edits = [
        edit(LIB_RS, "\"choices\"", "\"output\""),
        edit(LIB_RS, "\"output\"", "\"outputs\""),
        edit("./guest-sdk/src/lib.rs", "    1\n", "    2\n"),
    ];
    check(&edits, &f.tree).unwrap();
    let diff = apply(&edits, &f.tree).unwrap();
    assert!(f.read(LIB_RS).contains("\"outputs\""));
    assert!(f.read("guest-sdk/src/lib.rs").contains("    2\n"));
    assert!(
        diff.contains("--- a/adapters/x/src/lib.rs\n+++ b/adapters/x/src/lib.rs\n"),
        "{diff}"
    );
    assert!(
        diff.contains("-    \"choices\"\n+    \"outputs\"\n"),
        "{diff}"
    );
    assert!(diff.contains("--- a/./guest-sdk/src/lib.rs"), "{diff}");
    // The pre-existing env! does not refuse an edit beside it.
    assert!(f.read(LIB_RS).contains("env!(\"CARGO_PKG_VERSION\")"));
}

#[test]
fn no_edits_too_many_or_too_large_are_refused() {
    let f = Fixture::new();
    assert!(matches!(f.refuse(&[]), EditError::Empty));
    let many = vec![edit(LIB_RS, "choices", "choices"); MAX_EDITS + 1];
    assert!(matches!(f.refuse(&many), EditError::TooMany { count: 65 }));
    let big = [edit(LIB_RS, "choices", &"x".repeat(MAX_REPLACE_BYTES + 1))];
    assert!(matches!(f.refuse(&big), EditError::TooLarge { .. }));
}

#[test]
fn paths_must_be_relative_without_parent_dirs() {
    let f = Fixture::new();
    let absolute = f.tree.root.join(LIB_RS).display().to_string();
    for file in [absolute.as_str(), "/etc/passwd.rs", ""] {
        let err = f.refuse(&[edit(file, "choices", "x")]);
        assert!(
            matches!(err, EditError::Absolute { index: 0, .. }),
            "{file}: {err}"
        );
    }
    let err = f.refuse(&[
        edit(LIB_RS, "choices", "output"),
        edit("adapters/x/src/../../../secret.rs", "secret", "x"),
    ]);
    assert!(
        matches!(err, EditError::ParentDir { index: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().starts_with("edits[1]: "), "{err}");
}

#[test]
fn only_existing_rust_files_under_the_sources_are_editable() {
    let f = Fixture::new();
    for file in ["adapters/x/Cargo.toml", "adapters/x/src/notes.txt"] {
        assert!(matches!(
            f.refuse(&[edit(file, "a", "b")]),
            EditError::NotRust { .. }
        ));
    }
    for file in ["adapters/x/build.rs", "secret.rs", "guest-sdk/build.rs"] {
        let err = f.refuse(&[edit(file, "a", "b")]);
        assert!(
            matches!(err, EditError::NotEditable { .. }),
            "{file}: {err}"
        );
        assert!(
            err.to_string()
                .contains("`adapters/x/src/` or `guest-sdk/src/`"),
            "{err}"
        );
    }
    let err = f.refuse(&[edit("adapters/x/src/new.rs", "a", "b")]);
    assert!(matches!(err, EditError::Missing { .. }), "{err}");
}

#[test]
fn a_symbolic_link_out_of_the_sources_is_refused() {
    let f = Fixture::new();
    std::os::unix::fs::symlink(
        f.tree.root.join("secret.rs"),
        f.tree.root.join("adapters/x/src/link.rs"),
    )
    .unwrap();
    let err = f.refuse(&[edit("adapters/x/src/link.rs", "secret", "x")]);
    assert!(matches!(err, EditError::Escapes { .. }), "{err}");
    assert_eq!(f.read("secret.rs"), "// secret\n");
}

#[test]
fn search_must_occur_exactly_once() {
    let f = Fixture::new();
    assert!(matches!(
        f.refuse(&[edit(LIB_RS, "", "x")]),
        EditError::EmptySearch { .. }
    ));
    assert!(matches!(
        f.refuse(&[edit(LIB_RS, "absent", "x")]),
        EditError::NotFound { .. }
    ));
    let err = f.refuse(&[edit(LIB_RS, "pub fn", "fn")]);
    assert!(
        matches!(err, EditError::Ambiguous { count: 2, .. }),
        "{err}"
    );
    // A later edit sees the earlier one's result: the first removes what the second seeks.
    let err = f.refuse(&[
        edit(LIB_RS, "\"choices\"", "\"x\""),
        edit(LIB_RS, "choices", "y"),
    ]);
    assert!(matches!(err, EditError::NotFound { index: 1, .. }), "{err}");
}

#[test]
fn forbidden_constructs_cannot_be_added() {
    let f = Fixture::new();
    let added = [
        "include_str!(\"/etc/passwd\")",
        "include_bytes !(\"/etc/shadow\")",
        "include!(\"/tmp/x.rs\")",
        "env!(\"HOME\")",
        "env ! (\"HOME\")",
        "core::env!(\"HOME\")",
        "option_env!(\"HOME\")",
        "unsafe { std::mem::transmute(1u32) }",
        "{ extern \"C\" { fn f(); } 0 }",
        "{ core::arch::asm!(\"nop\"); 0 }",
        "{ #[path = \"/etc/passwd\"] mod m; 0 }",
        "{ # [ path = \"/etc/passwd\" ] mod m; 0 }",
        "{ #[cfg_attr(all(), path = \"/x\")] mod m; 0 }",
        "{ macro_rules! m { ($k:ident) => { $k!(\"/x\") } } m!(include) }",
        "{ use std::include as inc; inc!(\"/x\") }",
        "{ wit_bindgen::generate!({ path: \"/etc\", world: \"w\" }); 0 }",
        "{ use wit_bindgen::generate as g; 0 }",
    ];
    for replace in added {
        let err = f.refuse(&[edit(LIB_RS, "\"choices\"", replace)]);
        assert!(
            matches!(err, EditError::Forbidden { index: 0, .. }),
            "{replace}: {err}"
        );
    }
    // Changing the argument of an existing env! is adding a new one.
    let err = f.refuse(&[edit(LIB_RS, "CARGO_PKG_VERSION", "HOME")]);
    assert!(matches!(err, EditError::Forbidden { .. }), "{err}");
    let err = f.refuse(&[edit(
        "guest-sdk/src/lib.rs",
        "pub fn",
        "#![allow(unused)]\npub fn",
    )]);
    assert!(
        err.to_string().contains("adds `# ! [ allow ( unused ) ]`"),
        "{err}"
    );
    global_asm_and_extern_crate_too(&f);
}

fn global_asm_and_extern_crate_too(f: &Fixture) {
    for replace in [
        "\"x\"\n}\nglobal_asm!(\"\");\nfn g() {",
        "\"x\"\n}\nextern crate std as s;\nfn g() {",
    ] {
        let err = f.refuse(&[edit(LIB_RS, "\"choices\"\n}", replace)]);
        assert!(
            matches!(err, EditError::Forbidden { .. }),
            "{replace}: {err}"
        );
    }
}

#[test]
fn moving_an_existing_construct_and_editing_beside_it_is_allowed() {
    let f = Fixture::new();
    let edits = [edit(
        LIB_RS,
        "    env!(\"CARGO_PKG_VERSION\")\n",
        "    // the crate's version\n    env!( \"CARGO_PKG_VERSION\" )\n",
    )];
    apply(&edits, &f.tree).unwrap();
}
