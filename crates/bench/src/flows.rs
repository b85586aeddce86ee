//! The workflow-engine scenarios of issue 12 on each backend, each beside a baseline
//! measured in the same run:
//!
//! - W1 a 40-step no-op workflow end to end (`POST …/runs`, then the run read until
//!   it is finished), one client, vs the P4 constant handler at one client.
//! - W2 webhook ingest (an `async` trigger: verify, persist, 202) on a server that
//!   executes no runs, vs the bare insert of a delivery row by raw sqlx.
//! - W3 one-step runs per second started by `sync` webhooks (each answer is a
//!   finished run) vs the queue's own SQL run by pgbench (PostgreSQL).
//!
//! Every delivery is signed (HMAC-SHA256 of the body, hex, `x-signature`) and carries
//! a fresh `Idempotency-Key`, so replay protection never answers one without a run.

use crate::http::{call, request, with_header};
use crate::loadgen::{Mode, Pin};
use crate::pgbench::QueueTarget;
use crate::probe::{Load, Probe, compare};
use crate::report::Report;
use crate::server::Process;
use crate::store::{DeliveryTarget, Owner};
use crate::suite::{DEFAULT_LOG, Launch, Plan, REQUEST_ROLE, with_user};
use anyhow::Context;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use std::net::SocketAddr;
use std::path::Path;
use uuid::Uuid;

/// Steps of the W1 workflow.
pub const STEPS: usize = 40;
/// How often W1 reads a run while it goes.
const POLL_MS: u64 = 5;
/// The header the triggers' `hmac_sha256` preset reads the signature from.
const SIGNATURE_HEADER: &str = "x-signature";
/// The body every delivery sends.
pub const DELIVERY_BODY: &str = r#"{"n":21}"#;

/// A webhook trigger as its creation answered it.
pub struct Hook {
    pub trigger: Uuid,
    /// `/hooks/<token>`.
    pub path: String,
    pub secret: String,
}

/// The tenant and workflows the scenarios drive.
pub struct Flows {
    pub customer: Uuid,
    pub admin_jwt: String,
    /// The 40-step no-op workflow.
    pub long: Uuid,
    /// The one-step workflow and its two triggers.
    pub short: Uuid,
    pub sync_hook: Hook,
    pub async_hook: Hook,
    /// A finished run of the one-step workflow (the baselines' rows point at it).
    pub first_run: Uuid,
}

/// Which scenarios of this module the plan asks for.
pub fn wanted(plan: &Plan<'_>) -> bool {
    ["w1", "w2", "w3", "peers"].iter().any(|n| plan.wants(n))
}

/// Signs up a tenant, creates and publishes both workflows, adds the triggers, and
/// checks one signed delivery runs to success.
pub async fn prepare(api: SocketAddr) -> anyhow::Result<Flows> {
    let signup = call(
        api,
        "POST",
        "/api/v1/auth/signup",
        None,
        Some(&json!({
            "company_name": "Workflow Tenant Ltd",
            "full_name": "Bench Builder",
            "email": format!("builder-{}@bench.example", Uuid::new_v4().simple()),
            "password": "correct horse battery staple",
        })),
    )
    .await?;
    let jwt = signup["access_token"]
        .as_str()
        .context("signup returned no access token")?
        .to_owned();
    let customer: Uuid = serde_json::from_value(signup["me"]["membership"]["customer_id"].clone())
        .context("signup returned no customer")?;
    let base = format!("/api/v1/customers/{customer}/workflows");
    let create = async |name: &str, steps: Value| -> anyhow::Result<Uuid> {
        let body = json!({ "name": name, "definition": { "steps": steps } });
        let made = call(api, "POST", &base, Some(&jwt), Some(&body)).await?;
        let id: Uuid = serde_json::from_value(made["id"].clone()).context("no workflow id")?;
        let path = format!("{base}/{id}/publish");
        call(
            api,
            "POST",
            &path,
            Some(&jwt),
            Some(&json!({ "version": 1 })),
        )
        .await?;
        Ok(id)
    };
    let long = create("Forty no-op steps", no_op_chain(STEPS)).await?;
    let short = create(
        "One step",
        json!([{ "key": "echo", "name": "Echo", "config": { "type": "transform", "expression": "trigger.body.n" } }]),
    )
    .await?;
    let hook = async |name: &str, mode: &str| -> anyhow::Result<Hook> {
        let body = json!({ "name": name, "config": { "kind": "webhook", "mode": mode,
            "verification": { "preset": "hmac_sha256", "header": SIGNATURE_HEADER, "encoding": "hex" } } });
        let path = format!("{base}/{short}/triggers");
        let made = call(api, "POST", &path, Some(&jwt), Some(&body)).await?;
        Ok(Hook {
            trigger: serde_json::from_value(made["trigger"]["id"].clone())
                .context("no trigger id")?,
            path: made["url"].as_str().context("no hook URL")?.to_owned(),
            secret: made["secret"]
                .as_str()
                .context("no hook secret")?
                .to_owned(),
        })
    };
    let sync_hook = hook("bench sync", "sync").await?;
    let async_hook = hook("bench async", "async").await?;
    let first = crate::http::Conn::connect(api)
        .await?
        .send(&with_header(
            delivery(&sync_hook).as_bytes(),
            "idempotency-key",
            "first",
        ))
        .await?;
    anyhow::ensure!(
        first.status == 200,
        "the first sync delivery answered {}: {}",
        first.status,
        String::from_utf8_lossy(&first.body)
    );
    let receipt: Value = serde_json::from_slice(&first.body)?;
    anyhow::ensure!(
        receipt["status"] == "succeeded",
        "the first delivery's run did not succeed: {receipt}"
    );
    Ok(Flows {
        customer,
        admin_jwt: jwt,
        long,
        short,
        sync_hook,
        async_hook,
        first_run: serde_json::from_value(receipt["execution_id"].clone())?,
    })
}

/// `n` transform steps in a line, each computing a constant.
fn no_op_chain(n: usize) -> Value {
    let steps: Vec<Value> = (1..=n)
        .map(|i| {
            let mut step = json!({ "key": format!("s{i}"), "name": format!("Step {i}"),
                "config": { "type": "transform", "expression": "1" } });
            if i < n {
                step["next"] = json!([{ "to": format!("s{}", i + 1) }]);
            }
            step
        })
        .collect();
    Value::Array(steps)
}

/// HMAC-SHA256 of `body` with the secret's text as key, hex: the `hmac_sha256` preset.
pub fn sign(secret: &str, body: &str) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// One signed delivery to `hook` (the load generator adds the delivery id).
pub fn delivery(hook: &Hook) -> String {
    let req = request("POST", &hook.path, None, Some(DELIVERY_BODY));
    let signed = with_header(&req, SIGNATURE_HEADER, &sign(&hook.secret, DELIVERY_BODY));
    String::from_utf8_lossy(&signed).into_owned()
}

/// A probe sending signed deliveries, each with a fresh `Idempotency-Key`.
pub fn deliveries(addr: SocketAddr, hook: &Hook, expect_status: u16) -> Probe<'static> {
    Probe::Http {
        addr,
        requests: vec![delivery(hook)],
        expect_status,
        pin: Pin(None),
        mode: Mode::Deliveries {
            header: "Idempotency-Key".to_owned(),
        },
    }
}

/// W1: the 40-step workflow end to end, one run at a time, beside the constant handler.
pub async fn end_to_end(
    plan: &Plan<'_>,
    report: &mut Report,
    name: &str,
    server: &Process,
    flows: &Flows,
) -> anyhow::Result<()> {
    eprintln!("[{name}] W1 {STEPS}-step no-op workflow end to end…");
    let noop = Process::noop(Pin(None))?;
    let start = request(
        "POST",
        &format!(
            "/api/v1/customers/{}/workflows/{}/runs",
            flows.customer, flows.long
        ),
        Some(&flows.admin_jwt),
        Some(r#"{"input":{}}"#),
    );
    let runs = Probe::Http {
        addr: server.addr,
        requests: vec![String::from_utf8_lossy(&start).into_owned()],
        expect_status: 201,
        pin: Pin(None),
        mode: Mode::RunToEnd {
            prefix: format!("/api/v1/customers/{}/workflow-runs/", flows.customer),
            bearer: flows.admin_jwt.clone(),
            poll_ms: POLL_MS,
        },
    };
    let constant = Probe::Http {
        addr: noop.addr,
        requests: vec![String::from_utf8_lossy(&request("GET", "/", None, None)).into_owned()],
        expect_status: 200,
        pin: Pin(None),
        mode: Mode::Plain,
    };
    let load = Load {
        clients: 1,
        ..plan.load
    };
    let r = compare(&[&runs, &constant], load).await?;
    report.add(
        &format!("{name}.w1.run"),
        &format!("W1 {STEPS}-step no-op run, POST then GET every {POLL_MS} ms until finished"),
        &r[0],
    );
    report.add(
        &format!("{name}.w1.constant"),
        "W1 baseline: constant actix handler, 1 client",
        &r[1],
    );
    report.check(
        "W1.p50_ms",
        name,
        r[0].p50_ms.unwrap_or(f64::INFINITY),
        format!(
            "1 client; p99 {} ms; constant handler p50 {} ms",
            fmt_ms(r[0].p99_ms),
            fmt_ms(r[1].p50_ms)
        ),
    );
    Ok(())
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "–".to_owned(), |v| format!("{v:.2}"))
}

/// W3: one-step runs per second through sync webhooks, beside the queue's SQL run by
/// pgbench on PostgreSQL.
pub async fn runs_per_second(
    plan: &Plan<'_>,
    report: &mut Report,
    name: &str,
    server: &Process,
    flows: &Flows,
    owner: &Owner,
    queue_url: Option<&str>,
) -> anyhow::Result<()> {
    eprintln!("[{name}] W3 one-step runs per second via sync webhooks…");
    let load = plan.load;
    let hooks = deliveries(server.addr, &flows.sync_hook, 200);
    let Some(url) = queue_url else {
        let r = compare(&[&hooks], load).await?;
        report.add(
            &format!("{name}.w3.sync_hook"),
            "W3 one-step run per sync webhook delivery",
            &r[0],
        );
        report.check(
            "W3.runs_per_s",
            name,
            r[0].rps,
            format!(
                "{} clients, p50 {} ms; no pgbench on SQLite",
                load.clients,
                fmt_ms(r[0].p50_ms)
            ),
        );
        return Ok(());
    };
    let queue = Probe::QueueSql {
        owner,
        target: QueueTarget {
            url: with_user(url, REQUEST_ROLE),
            script_dir: plan.scratch.to_path_buf(),
            customer: flows.customer,
            execution: flows.first_run,
        },
    };
    let r = compare(&[&hooks, &queue], load).await?;
    report.add(
        &format!("{name}.w3.sync_hook"),
        "W3 one-step run per sync webhook delivery",
        &r[0],
    );
    report.add(
        &format!("{name}.w3.queue_pgbench"),
        "W3 baseline: the queue's SQL per one-step run (enqueue, claim SKIP LOCKED, record, complete), pgbench",
        &r[1],
    );
    report.check(
        "W3.runs_per_s",
        name,
        r[0].rps,
        format!(
            "{} clients, p50 {} ms; queue SQL by pgbench {:.0} runs/s ({:.2} of it)",
            load.clients,
            fmt_ms(r[0].p50_ms),
            r[1].rps,
            r[0].rps / r[1].rps
        ),
    );
    Ok(())
}

/// W2: webhook ingest on a server that runs no workflows (its queue fills up and is
/// never drained, so the figure is verify + persist + 202 alone), beside the bare
/// delivery-row insert. Starts its own server on `url`; none other may be running.
pub async fn ingest(
    plan: &Plan<'_>,
    report: &mut Report,
    name: &str,
    url: &str,
    dir: &Path,
    flows: &Flows,
    owner: &Owner,
) -> anyhow::Result<()> {
    eprintln!("[{name}] W2 webhook ingest (async, 202) vs delivery-row insert…");
    let server = plan.start(Launch {
        url,
        dir,
        pool_size: 10,
        pin: Pin(None),
        label: "ingest-only",
        rust_log: DEFAULT_LOG,
        workflow_concurrency: Some(0),
    })?;
    let hooks = deliveries(server.addr, &flows.async_hook, 202);
    let raw = Probe::DeliveryInsert {
        owner,
        target: DeliveryTarget {
            customer: flows.customer,
            trigger: flows.async_hook.trigger,
            execution: flows.first_run,
        },
    };
    let load = plan.load;
    let r = compare(&[&hooks, &raw], load).await?;
    report.add(
        &format!("{name}.w2.ingest"),
        "W2 signed async webhook delivery → 202 (run queued, not executed)",
        &r[0],
    );
    report.add(
        &format!("{name}.w2.raw_insert"),
        "W2 baseline: bare delivery-row insert, raw sqlx",
        &r[1],
    );
    report.check(
        "W2.ingest_rps",
        name,
        r[0].rps,
        format!(
            "{} clients; raw insert {:.0} rows/s ({:.2} of it)",
            load.clients,
            r[1].rps,
            r[0].rps / r[1].rps
        ),
    );
    report.check(
        "W2.p99_ms",
        name,
        r[0].p99_ms.unwrap_or(f64::INFINITY),
        format!("{} clients, p50 {} ms", load.clients, fmt_ms(r[0].p50_ms)),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_as_hmac_sha256_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            sign("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn no_op_chain_links_every_step_to_the_next() {
        let steps = no_op_chain(STEPS);
        let steps = steps.as_array().cloned().unwrap_or_default();
        assert_eq!(steps.len(), STEPS);
        assert_eq!(steps[0]["next"][0]["to"], "s2");
        assert_eq!(steps[STEPS - 2]["next"][0]["to"], format!("s{STEPS}"));
        assert!(steps[STEPS - 1].get("next").is_none());
    }

    #[test]
    fn a_delivery_carries_its_signature_and_body() {
        let hook = Hook {
            trigger: Uuid::nil(),
            path: "/hooks/abc".to_owned(),
            secret: "s3cret".to_owned(),
        };
        let req = delivery(&hook);
        assert!(req.starts_with("POST /hooks/abc HTTP/1.1\r\n"));
        assert!(req.contains(&format!(
            "{SIGNATURE_HEADER}: {}\r\n",
            sign("s3cret", DELIVERY_BODY)
        )));
        assert!(req.ends_with(&format!("\r\n\r\n{DELIVERY_BODY}")));
    }
}
