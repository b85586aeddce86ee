//! Prometheus metrics on their own listener: off by default, never on the public
//! port, and a scrape parses as the text exposition format with the series an
//! operator alerts on.

use crate::both_backends;
use crate::helpers::*;
use reqwest::StatusCode;
use std::collections::HashMap;

/// One sample: metric name, its labels, its value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// Parses the text exposition format (version 0.0.4): `# HELP` / `# TYPE` comments,
/// then `name{label="value",…} number` lines. Panics on a line that is neither, so a
/// malformed scrape fails the test.
fn parse(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let kind = comment.split_whitespace().next().unwrap_or_default();
            assert!(matches!(kind, "HELP" | "TYPE"), "bad comment: {line}");
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("no value: {line}"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
        };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => {
                let body = rest
                    .strip_suffix('}')
                    .unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let labels = body
                    .split("\",")
                    .filter(|p| !p.is_empty())
                    .map(|pair| {
                        let (k, v) = pair
                            .split_once("=\"")
                            .unwrap_or_else(|| panic!("bad label: {line}"));
                        (k.to_owned(), v.trim_end_matches('"').to_owned())
                    })
                    .collect();
                (name, labels)
            }
            None => (series, HashMap::new()),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name: {line}"
        );
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    samples
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|s| s.value)
}

async fn scrape(app: &TestApp) -> Vec<Sample> {
    let address = app.metrics_address.as_ref().expect("metrics listener");
    let res = app
        .client
        .get(format!("{address}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    parse(&res.text().await.unwrap())
}

/// Requests are counted and timed by route template and status; the pool, the
/// throttle and the build are visible; the public port serves no metrics.
async fn a_scrape_shows_requests_by_route_the_pool_and_throttle_refusals(app: TestApp) {
    let admin = app.signup("Acme").await;
    let customer = format!("/api/v1/customers/{}", admin.customer_id);
    for _ in 0..3 {
        assert_eq!(
            app.get(&customer, &admin.token).await.status,
            StatusCode::OK
        );
    }
    assert_eq!(
        app.login(&admin.email, "wrong password").await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.login(&admin.email, "wrong password").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );

    let samples = scrape(&app).await;
    let route = [
        ("method", "GET"),
        ("route", "/api/v1/customers/{customer_id}"),
        ("status", "200"),
    ];
    assert!(
        value(&samples, "http_requests_total", &route).unwrap_or(0.0) >= 3.0,
        "{samples:?}"
    );
    let count = value(&samples, "http_request_duration_seconds_count", &route).unwrap_or(0.0);
    assert!(count >= 3.0, "latency histogram count {count}");
    assert!(
        value(
            &samples,
            "http_request_duration_seconds_bucket",
            &[("route", "/api/v1/customers/{customer_id}"), ("le", "+Inf")]
        )
        .is_some()
    );
    // No series carries a raw id: the route label is the template.
    assert!(!samples.iter().any(|s| {
        s.labels
            .get("route")
            .is_some_and(|r| r.contains(&admin.customer_id.to_string()))
    }));
    assert!(
        value(
            &samples,
            "http_requests_total",
            &[("route", "/api/v1/auth/login"), ("status", "429")]
        )
        .is_some()
    );
    assert!(
        value(
            &samples,
            "obera_auth_throttle_refusals_total",
            &[("call", "sign_in")]
        )
        .unwrap_or(0.0)
            >= 1.0
    );
    assert!(value(&samples, "http_requests_in_flight", &[]).is_some());
    assert_eq!(
        value(&samples, "obera_db_pool_max_connections", &[]),
        Some(5.0)
    );
    assert!(
        value(&samples, "obera_db_pool_connections", &[("state", "open")]).unwrap_or(0.0) >= 1.0
    );
    assert!(value(&samples, "obera_db_pool_connections", &[("state", "idle")]).is_some());
    assert_eq!(value(&samples, "obera_build_info", &[]), Some(1.0));

    let public = app
        .client
        .get(format!("{}/metrics", app.address))
        .send()
        .await
        .unwrap();
    assert!(
        !public.text().await.unwrap().contains("http_requests_total"),
        "the public port serves metrics"
    );
}
both_backends!(
    a_scrape_shows_requests_by_route_the_pool_and_throttle_refusals,
    |s| {
        s.metrics_bind = Some("127.0.0.1:0".to_owned());
        s.login_max_failures = 1;
    }
);

/// Queue depth by state and the lag of the oldest ready job, per queue.
async fn a_scrape_shows_the_job_queue(app: TestApp) {
    let later = obera_store::now() + chrono::Duration::days(1);
    let job = obera_store::NewJob::new(
        obera_store::WORKFLOW_RUN_QUEUE,
        None,
        &serde_json::json!({}),
        later,
    )
    .unwrap();
    app.db.enqueue(&job, obera_store::now()).await.unwrap();
    let text = app
        .client
        .get(format!("{}/metrics", app.metrics_address.as_ref().unwrap()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = parse(&text);
    let jobs = |state| {
        value(
            &samples,
            "obera_jobs",
            &[("queue", "workflow.run"), ("state", state)],
        )
    };
    assert_eq!(jobs("scheduled"), Some(1.0), "{text}");
    assert_eq!(jobs("ready"), Some(0.0));
    assert_eq!(jobs("leased"), Some(0.0));
    assert_eq!(jobs("dead"), Some(0.0));
    assert_eq!(
        value(
            &samples,
            "obera_job_lag_seconds",
            &[("queue", "workflow.run")]
        ),
        Some(0.0)
    );
}
both_backends!(a_scrape_shows_the_job_queue, |s| {
    s.metrics_bind = Some("127.0.0.1:0".to_owned());
});

/// Without `OBERA_METRICS_BIND` there is no metrics listener at all.
async fn metrics_are_off_by_default(app: TestApp) {
    assert!(app.metrics_address.is_none());
}
both_backends!(metrics_are_off_by_default);
