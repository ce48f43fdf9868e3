//! Python virtual environments under `target/`, each installed from a pinned requirements file
//! in one pip run, once per test process, and again only when the file changes. A test that
//! needs one fails (never skips) when python3 or the install is missing, saying what to install.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use crate::bins;
use crate::mock::sha256_hex;

fn run(command: &mut Command, what: &str) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("cannot {what}: {e}"));
    assert!(
        output.status.success(),
        "cannot {what} ({}):\n{}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `target/<name>` with `requirements` installed; returns the venv's directory. Calls for the
/// same venv in one process wait for each other.
pub fn install(name: &str, requirements: &Path) -> PathBuf {
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let version = Command::new("python3").arg("--version").output();
    match version {
        Ok(out) if out.status.success() => {}
        other => panic!(
            "python3 (with the venv module) is required to install {} and was not found or failed: {other:?}",
            requirements.display()
        ),
    }
    let venv = bins::target_dir().join(name);
    let python = venv.join("bin/python");
    if !python.is_file() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "create the venv",
        );
    }
    let wanted = sha256_hex(&std::fs::read_to_string(requirements).expect("the requirements file"));
    let stamp = venv.join(".requirements.sha256");
    if std::fs::read_to_string(&stamp).ok().as_deref() != Some(wanted.as_str()) {
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "-q",
                    "-r",
                ])
                .arg(requirements),
            &format!("pip-install {}", requirements.display()),
        );
        std::fs::write(&stamp, &wanted).expect("write the venv stamp");
    }
    venv
}

/// The pinned componentize-py (`tests/sandbox/requirements.txt`, in `target/sandbox-venv`),
/// which builds the agent sandbox's component; pass it to a gateway as `ARATTA_COMPONENTIZE_PY`.
pub fn componentize_py() -> PathBuf {
    static TOOL: OnceLock<PathBuf> = OnceLock::new();
    TOOL.get_or_init(|| {
        let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("sandbox/requirements.txt");
        let tool = install("sandbox-venv", &requirements).join("bin/componentize-py");
        assert!(
            tool.is_file(),
            "{} is missing after installing {}: install componentize-py==0.25.1",
            tool.display(),
            requirements.display()
        );
        tool
    })
    .clone()
}
