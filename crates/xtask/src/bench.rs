//! `cargo xtask bench [--compare] [scenario…]`: builds the release server and the
//! harness (`crates/bench`), runs it, and prints the SPA's .wasm size.
//!
//! A full run writes `docs/benchmarks.md` and `docs/benchmarks.json`. A partial run
//! (scenario or backend names: `p1 p2 p3 p4 memory sqlite postgres`) or `--compare`
//! writes to `target/obera-bench/` instead, so the recorded baseline only changes on
//! purpose; `--compare` fails when a goal is more than 10% worse than that baseline.

use crate::frontend;
use crate::shell::{cargo, project_root, run, target_dir, test_postgres_url};
use std::time::Instant;

pub fn bench(args: &[String]) -> anyhow::Result<()> {
    let compare = args.iter().any(|a| a == "--compare");
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let started = Instant::now();
    run(cargo().args([
        "build",
        "--release",
        "-p",
        "obera-server",
        "--bin",
        "obera",
        "-p",
        "obera-bench",
        "--bin",
        "obera-bench",
    ]))?;
    let build_secs = started.elapsed().as_secs_f64();
    let release = target_dir().join("release");
    let docs = project_root().join("docs");
    let (markdown, json) = if compare || !names.is_empty() {
        let out = target_dir().join("obera-bench");
        std::fs::create_dir_all(&out)?;
        (out.join("latest.md"), out.join("latest.json"))
    } else {
        std::fs::create_dir_all(&docs)?;
        (docs.join("benchmarks.md"), docs.join("benchmarks.json"))
    };
    let postgres = test_postgres_url();
    let mut command = String::from("cargo xtask bench");
    for a in args {
        command.push(' ');
        command.push_str(a);
    }
    let mut harness = std::process::Command::new(release.join("obera-bench"));
    harness
        .current_dir(project_root())
        .arg("run")
        .arg("--obera")
        .arg(release.join("obera"))
        .arg("--postgres")
        .arg(postgres)
        .arg("--markdown")
        .arg(&markdown)
        .arg("--json")
        .arg(&json)
        .arg("--command")
        .arg(&command)
        .arg("--build-secs")
        .arg(format!("{build_secs:.0}"))
        .args(names);
    if compare {
        harness.arg("--compare").arg(docs.join("benchmarks.json"));
    }
    run(&mut harness)?;
    frontend::build()?;
    let sizes = frontend::size_table()?;
    println!("{sizes}");
    // The SPA has no server-side figure; its download size is recorded beside the API's.
    let mut report = std::fs::read_to_string(&markdown)?;
    report.push_str(&format!(
        "\n## Web app size\n\nRelease build (`cargo xtask frontend`: opt-level z, LTO, wasm-opt -Oz, \
         Leptos `erase_components`); the gzip and brotli copies are what the server sends.\n\n{sizes}"
    ));
    std::fs::write(&markdown, report)?;
    Ok(())
}
