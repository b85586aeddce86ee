//! The server as separate processes, the way it is deployed: a run survives its
//! instance being killed (`SIGKILL`) mid-step and completes after a restart with each
//! step's side effect applied once (the receiver counts distinct idempotency keys);
//! two instances on one PostgreSQL database share a burst of runs, executing no step
//! twice and losing no run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../../../tests/api/databases.rs"]
#[allow(dead_code)]
mod databases;
#[path = "../../../tests/api/http_sink.rs"]
#[allow(dead_code)]
mod http_sink;

use databases::{Kind, fresh_database, temp_dir};
use http_sink::{Behaviour, HttpSink, Received};
use obera_types::{
    ExecutionStatus, PublishWorkflow, Session, SignupRequest, StartWorkflowRun, Workflow,
    WorkflowExecution, WorkflowExecutionPage,
};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One `obera serve` process.
struct Instance {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    origin: String,
    base: String,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where and on what an instance runs; every instance of a test shares it.
struct Deployment {
    dir: PathBuf,
    database_url: String,
    migrate_url: Option<String>,
    http: reqwest::Client,
}

impl Deployment {
    /// Starts an instance and waits until it answers.
    async fn start(&self) -> Instance {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_obera"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.dir)
            .current_dir(&self.dir)
            .env("OBERA_BIND", format!("127.0.0.1:{port}"))
            .env("OBERA_DATABASE_URL", &self.database_url)
            .env("OBERA_SEED_DEMO", "never")
            .env("OBERA_OUTBOUND_ALLOW_HOSTS", "127.0.0.1")
            .env("OBERA_WORKFLOW_LEASE_SECS", "2")
            .env("OBERA_AUTH_MAX_PER_ADDRESS", "1000")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(url) = &self.migrate_url {
            cmd.env("OBERA_MIGRATE_URL", url);
        }
        let origin = format!("http://127.0.0.1:{port}");
        let instance = Instance {
            child: cmd.spawn().unwrap(),
            base: format!("{origin}/api/v1"),
            origin,
        };
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let health = self
                .http
                .get(format!("{}/health", instance.origin))
                .send()
                .await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return instance;
            }
            assert!(Instant::now() < until, "the server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn post(&self, at: &Instance, path: &str, token: Option<&str>, body: &Value) -> Value {
        let mut request = self.http.post(format!("{}{path}", at.base)).json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let reply = request.send().await.unwrap();
        let status = reply.status();
        let text = reply.text().await.unwrap();
        assert!(status.is_success(), "POST {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        at: &Instance,
        path: &str,
        token: &str,
    ) -> T {
        let reply = self
            .http
            .get(format!("{}{path}", at.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert!(
            reply.status().is_success(),
            "GET {path}: {}",
            reply.status()
        );
        reply.json().await.unwrap()
    }

    /// Signs a customer up; its admin's token and the customer's base path.
    async fn customer(&self, at: &Instance) -> (String, String) {
        let signup = SignupRequest {
            company_name: "Crash Co".to_owned().try_into().unwrap(),
            full_name: "Ada Admin".to_owned().try_into().unwrap(),
            email: format!("ada-{}@crash.example.com", uuid::Uuid::new_v4().simple())
                .try_into()
                .unwrap(),
            password: "correct horse battery".to_owned().try_into().unwrap(),
        };
        let session: Session = serde_json::from_value(
            self.post(
                at,
                "/auth/signup",
                None,
                &serde_json::to_value(&signup).unwrap(),
            )
            .await,
        )
        .unwrap();
        let customer = session.me.membership.unwrap().customer_id;
        (session.access_token, format!("/customers/{customer}"))
    }

    /// Creates and publishes a workflow; its path.
    async fn published(
        &self,
        at: &Instance,
        token: &str,
        customer: &str,
        definition: Value,
    ) -> String {
        let flow: Workflow = serde_json::from_value(
            self.post(
                at,
                &format!("{customer}/workflows"),
                Some(token),
                &json!({ "name": "Durable", "definition": definition }),
            )
            .await,
        )
        .unwrap();
        let path = format!("{customer}/workflows/{}", flow.id);
        let publish = serde_json::to_value(PublishWorkflow { version: 1 }).unwrap();
        self.post(at, &format!("{path}/publish"), Some(token), &publish)
            .await;
        path
    }

    async fn start_run(&self, at: &Instance, token: &str, workflow: &str) -> WorkflowExecution {
        let body = serde_json::to_value(StartWorkflowRun::default()).unwrap();
        serde_json::from_value(
            self.post(at, &format!("{workflow}/runs"), Some(token), &body)
                .await,
        )
        .unwrap()
    }
}

async fn deployment(kind: Kind) -> Option<(Deployment, databases::Guard)> {
    let dir = temp_dir();
    let (database_url, migrate_url, guard) = fresh_database(kind, &dir).await?;
    std::fs::create_dir_all(&dir).unwrap();
    let deployment = Deployment {
        dir,
        database_url,
        migrate_url,
        http: reqwest::Client::new(),
    };
    Some((deployment, guard))
}

fn http_step(key: &str, url: &str, next: Option<&str>) -> Value {
    json!({ "key": key, "name": key,
            "config": { "type": "http", "method": "POST", "url": url, "body": "{{ run.id }}" },
            "next": next.map(|to| vec![json!({ "to": to })]).unwrap_or_default() })
}

fn requests_per_key(got: &[Received]) -> HashMap<String, usize> {
    let mut per_key = HashMap::new();
    for request in got {
        let key = request
            .header("idempotency-key")
            .unwrap_or_default()
            .to_owned();
        *per_key.entry(key).or_insert(0) += 1;
    }
    per_key
}

/// Six http steps in a row; the instance is killed while the third is in flight.
async fn a_killed_instance_s_run_completes_after_a_restart_with_each_effect_once(kind: Kind) {
    let Some((deployment, _guard)) = deployment(kind).await else {
        return;
    };
    let sink = HttpSink::behaving(Behaviour {
        delay: Duration::from_millis(1_500),
        ..Behaviour::default()
    })
    .await;
    let keys = ["one", "two", "three", "four", "five", "six"];
    let steps: Vec<Value> = keys
        .iter()
        .enumerate()
        .map(|(i, key)| http_step(key, &sink.url, keys.get(i + 1).copied()))
        .collect();
    let first = deployment.start().await;
    let (token, customer) = deployment.customer(&first).await;
    let workflow = deployment
        .published(&first, &token, &customer, json!({ "steps": steps }))
        .await;
    let run = deployment.start_run(&first, &token, &workflow).await;

    let got = sink
        .wait_for(Duration::from_secs(30), |got| got.len() >= 3)
        .await;
    assert_eq!(got.len(), 3, "the run did not reach its third step");
    let mut first = first;
    first.child.kill().unwrap(); // SIGKILL: no shutdown, no lease released.
    first.child.wait().unwrap();
    drop(first);

    let second = deployment.start().await;
    let path = format!("{customer}/workflow-runs/{}", run.id);
    let until = Instant::now() + Duration::from_secs(60);
    let done = loop {
        let now: WorkflowExecution = deployment.get(&second, &path, &token).await;
        if now.status.is_finished() {
            break now;
        }
        assert!(Instant::now() < until, "the run did not finish: {now:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_eq!(done.steps.len(), 6);
    let got = sink.received();
    let per_key = requests_per_key(&got);
    assert_eq!(per_key.len(), 6, "each step's effect once: {per_key:?}");
    // The step cut off by the kill was sent again, with the same key; no other was.
    assert_eq!(got.len(), 7, "{per_key:?}");
    let third_key = got[2].header("idempotency-key").unwrap();
    assert_eq!(per_key[third_key], 2);
    let third = &done
        .steps
        .iter()
        .find(|s| s.step_key.as_str() == "three")
        .unwrap();
    assert_eq!(
        third.attempts.len(),
        1,
        "the cut-off attempt left no record: {third:?}"
    );
}

#[tokio::test]
async fn crash_and_restart_sqlite() {
    a_killed_instance_s_run_completes_after_a_restart_with_each_effect_once(Kind::Sqlite).await;
}

#[tokio::test]
async fn crash_and_restart_postgres() {
    a_killed_instance_s_run_completes_after_a_restart_with_each_effect_once(Kind::Postgres).await;
}

/// Two instances on one PostgreSQL database; 1,000 runs started through both.
#[tokio::test]
async fn two_instances_share_a_burst_of_runs_without_repeating_a_step() {
    const RUNS: usize = 1_000;
    let Some((deployment, _guard)) = deployment(Kind::Postgres).await else {
        return;
    };
    let sink = HttpSink::start().await;
    let instances = [deployment.start().await, deployment.start().await];
    let (token, customer) = deployment.customer(&instances[0]).await;
    let workflow = deployment
        .published(
            &instances[0],
            &token,
            &customer,
            json!({ "steps": [http_step("call", &sink.url, None)] }),
        )
        .await;
    let started = Instant::now();
    let mut ids = Vec::with_capacity(RUNS);
    for batch in (0..RUNS).collect::<Vec<_>>().chunks(16) {
        let runs = batch
            .iter()
            .map(|i| deployment.start_run(&instances[i % 2], &token, &workflow));
        ids.extend(
            futures_util::future::join_all(runs)
                .await
                .into_iter()
                .map(|r| r.id),
        );
    }
    let got = sink
        .wait_for(Duration::from_secs(120), |got| got.len() >= RUNS)
        .await;
    // Let anything that would run twice have its chance.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got_after = sink.received();
    assert!(
        got.len() >= RUNS,
        "only {} of {RUNS} runs called",
        got.len()
    );
    let per_key = requests_per_key(&got_after);
    assert_eq!(per_key.len(), RUNS, "a run is missing");
    assert_eq!(got_after.len(), RUNS, "a step ran twice");

    let mut finished = 0;
    let mut cursor: Option<String> = None;
    loop {
        let query = cursor
            .as_ref()
            .map(|c| format!("&cursor={c}"))
            .unwrap_or_default();
        let page: WorkflowExecutionPage = deployment
            .get(
                &instances[1],
                &format!("{workflow}/runs?limit=100{query}"),
                &token,
            )
            .await;
        finished += page
            .items
            .iter()
            .filter(|r| r.status == ExecutionStatus::Succeeded)
            .count();
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(finished, RUNS);
    assert_eq!(ids.len(), RUNS);
    eprintln!(
        "{RUNS} runs through two instances in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}
