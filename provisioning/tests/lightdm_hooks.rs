//! The LightDM hooks (`provisioning/lightdm/`) run for real against a fake `commune-agent`:
//! `test-hooks.sh` drives every hook through every answer the agent can give and exits
//! non-zero on any mismatch. No root, no desktop; CI cannot run LightDM itself, see
//! `docs/STAGING.md` for what is checked on a staging computer instead.
#![cfg(unix)]

use std::path::Path;
use std::process::Command;

#[test]
fn lightdm_hooks_behave_against_a_fake_agent() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("lightdm");
    let output = Command::new("sh")
        .arg("test-hooks.sh")
        .current_dir(&dir)
        .output()
        .expect("cannot run sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{}/test-hooks.sh failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        dir.display(),
        output.status
    );
    assert!(
        stdout.contains("cases passed"),
        "test-hooks.sh succeeded without reporting its cases:\n{stdout}"
    );
}
