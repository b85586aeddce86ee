//! The SDK smoke test: generate a Python client from `openapi/openapi.json` with
//! `openapi-python-client` (from PyPI), start the real server on a temporary SQLite
//! database, and drive signup → login → list users through the generated client.
//! Then schemathesis (PyPI) fuzzes every operation, signed in, and fails on any
//! status the spec does not list for it, so generated SDKs can type every answer.

use crate::shell::{cargo, project_root, run, target_dir};
use anyhow::{Context, bail};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const GENERATOR: &str = "openapi-python-client==0.29.1";
const VALIDATOR: &str = "openapi-spec-validator==0.9.0";
const FUZZER: &str = "schemathesis==4.32.5";
/// Fixed so a failure reproduces; the cases differ per operation anyway.
const FUZZ_SEED: &str = "20261203";

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Generates the SDK and runs `tests/sdk/smoke.py` against a live server.
pub fn smoke_test() -> anyhow::Result<()> {
    let root = project_root();
    let have = |module: &str| {
        Command::new("python3")
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !have("openapi_python_client") || !have("openapi_spec_validator") || !have("schemathesis") {
        run(Command::new("python3").args([
            "-m", "pip", "install", "--quiet", GENERATOR, VALIDATOR, FUZZER,
        ]))?;
    }
    run(Command::new("python3")
        .args(["-m", "openapi_spec_validator"])
        .arg(root.join("openapi/openapi.json")))?;
    let work = std::env::temp_dir().join(format!("obera-sdk-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    run(Command::new("python3")
        .args([
            "-m",
            "openapi_python_client",
            "generate",
            "--meta",
            "none",
            "--output-path",
        ])
        .arg(work.join("obera_client"))
        .arg("--path")
        .arg(root.join("openapi/openapi.json")))?;
    // Byte-compiling every generated module proves the SDK is valid Python.
    run(Command::new("python3")
        .args(["-m", "compileall", "-q"])
        .arg(work.join("obera_client")))?;

    run(cargo().args(["build", "-p", "obera-server", "--bin", "obera"]))?;
    let port = free_port()?;
    let server = Command::new(target_dir().join("debug/obera"))
        .arg("serve")
        .current_dir(&work)
        .env("OBERA_BIND", format!("127.0.0.1:{port}"))
        .env(
            "OBERA_DATABASE_URL",
            format!("sqlite://{}/sdk.db", work.display()),
        )
        .env("OBERA_JWT_KEY_FILE", work.join("jwt.key"))
        .env("OBERA_SEED_DEMO", "never")
        // The fuzzer signs in and guesses a lot; throttling would hide the other statuses.
        .env("OBERA_LOGIN_MAX_FAILURES", "1000000")
        .env("OBERA_AUTH_MAX_PER_ADDRESS", "1000000")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("start obera")?;
    let _server = KillOnDrop(server);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            bail!("the server did not start within 60 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    run(Command::new("python3")
        .arg(root.join("tests/sdk/smoke.py"))
        .arg(&base)
        .env("PYTHONPATH", &work))?;
    status_conformance(&base, &work)?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// Fuzzes every operation of the served spec as a signed-in customer admin and fails
/// on any answer whose status the operation does not document.
fn status_conformance(base: &str, work: &std::path::Path) -> anyhow::Result<()> {
    let token = Command::new("python3")
        .arg(project_root().join("tests/sdk/sign_up.py"))
        .arg(base)
        .output()
        .context("sign up for the fuzzer")?;
    if !token.status.success() {
        bail!(
            "sign-up for the fuzzer failed: {}",
            String::from_utf8_lossy(&token.stderr)
        );
    }
    let token = String::from_utf8(token.stdout)?.trim().to_owned();
    // Run in the temporary folder: schemathesis keeps a cache in `.schemathesis/`
    // of its working directory.
    run(Command::new("python3")
        .current_dir(work)
        .args(["-m", "schemathesis.cli", "run"])
        .arg(format!("{base}/openapi.json"))
        .args([
            "--checks",
            "status_code_conformance",
            "--max-examples",
            "25",
        ])
        .args(["--phases", "examples,coverage,fuzzing", "--seed", FUZZ_SEED])
        .arg("--header")
        .arg(format!("Authorization: Bearer {token}")))
}
