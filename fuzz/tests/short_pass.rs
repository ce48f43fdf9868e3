//! The short pass CI runs (`cargo test --release`): every target, its whole seed corpus and
//! then a fixed number of mutated inputs from a fixed seed, so a failure here fails the same
//! way on every machine. `ARATTA_FUZZ_SEED` and `ARATTA_FUZZ_INPUTS` change the seed and the
//! count (to look further without editing). On a failure the test prints the seed, the
//! message, the input and the file it was written to (`target/fuzz-crashes/<target>/`):
//! replay it with `cargo run --release -p aratta-fuzz --bin fuzz -- <target> --replay FILE`,
//! fix the parser, and add the file to `fuzz/corpus/<target>/`.

use aratta_fuzz::runner::{self, Budget};
use aratta_fuzz::{TARGETS, corpus};

/// Mutated inputs per target: about a second each in a release build.
const INPUTS: u64 = 5_000;
const SEED: u64 = 0x0a7a_77a0;

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn short_pass(name: &str) {
    let target = aratta_fuzz::target(name).expect("a listed target");
    let seed = env_u64("ARATTA_FUZZ_SEED").unwrap_or(SEED);
    let seeds = corpus::load(name).len() as u64;
    let inputs = seeds + env_u64("ARATTA_FUZZ_INPUTS").unwrap_or(INPUTS);
    let report = runner::run(target, seed, Budget::Inputs(inputs), &corpus::crash_dir());
    assert_eq!(report.inputs, inputs);
    assert!(
        report.crashes.is_empty(),
        "{} of {} inputs failed{}",
        report.failures,
        report.inputs,
        report.describe_crashes()
    );
}

macro_rules! short_passes {
    ($($name:ident),* $(,)?) => {
        $(#[test] fn $name() { short_pass(stringify!($name)); })*

        /// Every target has a test above and a seed corpus, and every corpus a target.
        #[test]
        fn every_target_is_tested_and_seeded() {
            let tested = [$(stringify!($name)),*];
            for target in TARGETS {
                assert!(tested.contains(&target.name), "no short pass for {}", target.name);
                assert!(!corpus::load(target.name).is_empty(), "no seeds for {}", target.name);
            }
            let dirs = std::fs::read_dir(corpus::dir("")).expect("fuzz/corpus exists");
            for dir in dirs {
                let name = dir.expect("a corpus entry").file_name();
                let name = name.to_string_lossy();
                assert!(aratta_fuzz::target(&name).is_some(), "corpus/{name} has no target");
            }
        }
    };
}

short_passes!(
    openai_chat,
    openai_embeddings,
    anthropic_messages,
    gemini_generate,
    gemini_embed,
    gemini_model_path,
    models_query,
    scri_chat,
    scri_embed,
    agent_run,
    tool_defs,
    adapter_bodies,
    key_spec,
    openai_stream,
    anthropic_stream,
    gemini_stream,
    scri_stream,
    responses,
);

/// The harness can fail: a target whose parser panics is reported as a crash with its input.
#[test]
fn a_panicking_target_is_caught_and_reported() {
    static PANICS: aratta_fuzz::Target = aratta_fuzz::Target {
        name: "panics_on_brace",
        about: "test",
        dict: &[],
        check: |input| {
            assert!(!input.contains(&b'{'), "a brace");
            Ok(())
        },
    };
    let dir = tempfile_dir();
    let report = runner::run(&PANICS, 7, Budget::Inputs(200), &dir);
    assert!(report.failures > 0, "the generator never wrote a brace");
    let crash = &report.crashes[0];
    assert!(crash.message.contains("a brace"), "{}", crash.message);
    let saved = crash.saved.as_ref().expect("the input was written");
    assert_eq!(std::fs::read(saved).unwrap(), crash.input);
    assert!(
        runner::check(&PANICS, &crash.input).is_err(),
        "the saved input replays"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("aratta-fuzz-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
