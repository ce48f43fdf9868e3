//! Real heal builds of the built-in `local` adapter. They share `target/heal-test` (home,
//! scratch copies and cargo's target directory), so a rerun is incremental.

use super::*;
use crate::heal::source;
use crate::home::Home;

const LIMIT: Duration = Duration::from_secs(600);
const LIB_RS: &str = "adapters/local/src/lib.rs";
const DESCRIPTION: &str = "\"Local OpenAI-compatible servers: Ollama, vLLM, llama.cpp\"";

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/heal-test")
}

fn local_tree() -> SourceTree {
    source::locate(&Home::at(shared().join("home")), "local").unwrap()
}

/// The two builds of the same tree take turns: they share its scratch copy.
static SCRATCH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn edit(search: &str, replace: &str) -> Edit {
    Edit {
        file: LIB_RS.into(),
        search: search.into(),
        replace: replace.into(),
    }
}

#[tokio::test]
async fn a_string_edit_builds_a_new_component_that_loads() {
    let tree = local_tree();
    let edits = [edit(DESCRIPTION, "\"Healed local servers\"")];
    let _turn = SCRATCH.lock().await;
    let built = build(&tree, &edits, &shared(), LIMIT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "heal build of `local`: {:?}\n{}",
        built.duration, built.log_tail
    );
    let builtin = crate::runtime::builtin::ADAPTERS
        .iter()
        .find(|(name, _)| *name == "local")
        .unwrap()
        .1;
    assert_ne!(built.component, builtin);
    assert!(
        built
            .diff
            .contains("+        description: \"Healed local servers\","),
        "{}",
        built.diff
    );
    let file = built.scratch.join("candidate.wasm");
    std::fs::write(&file, &built.component).unwrap();
    let summary = crate::runtime::inspect_component(&file).await.unwrap();
    assert_eq!(
        (summary.name.as_str(), summary.description.as_str()),
        ("local", "Healed local servers")
    );
    // The source tree itself is untouched.
    assert!(
        std::fs::read_to_string(tree.root.join(LIB_RS))
            .unwrap()
            .contains(DESCRIPTION)
    );
}

#[tokio::test]
async fn an_edit_that_does_not_compile_fails_with_the_compiler_error() {
    let tree = local_tree();
    let edits = [edit(DESCRIPTION, "42")];
    let _turn = SCRATCH.lock().await;
    let outcome = build(&tree, &edits, &shared(), LIMIT).await;
    let Err(BuildFailure::Compile { log_tail }) = outcome else {
        panic!(
            "not a compile error: {:?}",
            outcome.map(|built| built.log_tail)
        );
    };
    assert!(
        log_tail.contains("error[E0308]: mismatched types"),
        "{log_tail}"
    );
    assert!(log_tail.contains("adapters/local/src/lib.rs"), "{log_tail}");
    assert!(log_tail.len() <= LOG_TAIL_BYTES);
}

#[tokio::test]
async fn refused_edits_build_nothing() {
    let tree = local_tree();
    let scratch = tempfile::tempdir().unwrap();
    let edits = [edit(DESCRIPTION, "env!(\"HOME\")")];
    let err = build(&tree, &edits, scratch.path(), LIMIT)
        .await
        .unwrap_err();
    assert!(
        matches!(err, BuildFailure::Edits(EditError::Forbidden { .. })),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_build_past_its_limit_is_killed() {
    let tree = local_tree();
    let scratch = tempfile::tempdir().unwrap();
    let edits = [edit(DESCRIPTION, "\"x\"")];
    let started = Instant::now();
    let err = build(&tree, &edits, scratch.path(), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(
        matches!(err, BuildFailure::TimedOut { seconds: 0, .. }),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn an_exported_tree_builds_to_a_component() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(shared().join("home"));
    let tree = source::export(&home, "local", &dir.path().join("local-adapter-source")).unwrap();
    let (component, _) = compile(&tree, &shared().join("target-export"), LIMIT)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("local.wasm");
    std::fs::write(&file, component).unwrap();
    let summary = crate::runtime::inspect_component(&file).await.unwrap();
    assert_eq!(summary.name, "local");
}

#[test]
fn host_build_variables_are_not_inherited() {
    for name in [
        "RUSTFLAGS",
        "CARGO_BUILD_TARGET",
        "CARGO_PROFILE_RELEASE_DEBUG",
        "CARGO_TARGET_DIR",
    ] {
        assert!(leaks_into_build(name), "{name}");
    }
    for name in ["PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME"] {
        assert!(!leaks_into_build(name), "{name}");
    }
}
