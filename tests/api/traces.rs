//! Trace export: with `OBERA_OTLP_ENDPOINT` set, a request's spans (request,
//! handler, store call) reach an OTLP/HTTP collector as one trace, continuing the
//! caller's W3C `traceparent`, named by route template, and carrying no secret.
//!
//! The collector is [`HttpSink`]; the subscriber is global, which holds because
//! nextest runs each test in its own process.

use crate::helpers::*;
use crate::http_sink::HttpSink;
use obera_server::config::Settings;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// The caller's trace and span, as a gateway in front of Obera would send them.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN_ID: &str = "00f067aa0ba902b7";

/// Every span in the OTLP/JSON export requests, flattened, with its resource.
fn spans(bodies: &[Value]) -> Vec<(Value, Value)> {
    let mut out = Vec::new();
    for body in bodies {
        for resource_spans in body["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource_spans["scopeSpans"]
                .as_array()
                .into_iter()
                .flatten()
            {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    out.push((resource_spans["resource"].clone(), span.clone()));
                }
            }
        }
    }
    out
}

/// The string (or integer, as text) value of attribute `key` on an OTLP object.
fn attribute(object: &Value, key: &str) -> Option<String> {
    let attr = object["attributes"]
        .as_array()?
        .iter()
        .find(|a| a["key"] == key)?;
    let value = &attr["value"];
    value["stringValue"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| value["intValue"].as_str().map(str::to_owned))
        .or_else(|| value["intValue"].as_i64().map(|i| i.to_string()))
}

/// Signs up and reads the new customer with a `traceparent`; the admin.
async fn read_a_customer_under_the_callers_trace(app: &TestApp) -> Member {
    let admin = app.signup("Traced").await;
    let reply = app
        .client
        .get(format!(
            "{}/api/v1/customers/{}",
            app.address, admin.customer_id
        ))
        .bearer_auth(&admin.token)
        .header("traceparent", format!("00-{TRACE_ID}-{PARENT_SPAN_ID}-01"))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    admin
}

/// Starts the exporter towards a fresh sink (outside the async runtime, as `main`
/// does), runs the scenario, shuts the exporter down so every batch is sent, and
/// checks what the sink received.
async fn exported(kind: Kind) {
    let sink = HttpSink::start().await;
    let endpoint = sink.url.clone();
    let telemetry = tokio::task::spawn_blocking(move || {
        let settings = Settings {
            otlp_endpoint: Some(endpoint),
            ..Settings::default()
        };
        obera_server::telemetry::init(&settings).unwrap()
    })
    .await
    .unwrap();
    let Some(app) = try_spawn(kind, |_| {}).await else {
        return;
    };
    let admin = read_a_customer_under_the_callers_trace(&app).await;
    tokio::task::spawn_blocking(move || drop(telemetry))
        .await
        .unwrap();

    let received = sink
        .wait_for(Duration::from_secs(10), |r| !r.is_empty())
        .await;
    assert!(
        received
            .iter()
            .all(|r| r.method == "POST" && r.path == "/v1/traces"),
        "{received:?}"
    );
    assert!(
        received
            .iter()
            .all(|r| r.header("content-type") == Some("application/json")),
        "OTLP/HTTP JSON"
    );
    let text: String = received
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    // The sign-up's password, its tokens, and the bearer header never reach it.
    for secret in [
        "correct horse battery",
        &admin.token,
        &admin.refresh_token,
        "Bearer ",
    ] {
        assert!(!text.contains(secret), "the export carries {secret:?}");
    }
    let bodies: Vec<Value> = received
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    let spans = spans(&bodies);

    let (resource, request) = spans
        .iter()
        .find(|(_, s)| s["name"] == "GET /api/v1/customers/{customer_id}")
        .unwrap_or_else(|| panic!("no request span named by its route: {text}"));
    assert_eq!(
        attribute(resource, "service.name").as_deref(),
        Some("obera")
    );
    assert_eq!(
        request["traceId"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some(TRACE_ID),
        "continues the caller's trace"
    );
    assert_eq!(
        request["parentSpanId"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some(PARENT_SPAN_ID)
    );
    assert_eq!(
        attribute(request, "http.route").as_deref(),
        Some("/api/v1/customers/{customer_id}")
    );
    assert_eq!(
        attribute(request, "http.response.status_code").as_deref(),
        Some("200")
    );

    // Below the request: the handler, and the store call under it, in the same trace.
    let in_trace: Vec<&Value> = spans
        .iter()
        .map(|(_, s)| s)
        .filter(|s| s["traceId"] == request["traceId"])
        .collect();
    let children_of = |parent: &Value| -> Vec<&Value> {
        in_trace
            .iter()
            .copied()
            .filter(|s| s["parentSpanId"] == parent["spanId"])
            .collect()
    };
    let handler = children_of(request)
        .into_iter()
        .find(|s| s["name"] == "get_customer")
        .unwrap_or_else(|| panic!("no handler span under the request: {in_trace:?}"));
    let store = children_of(handler)
        .into_iter()
        .find(|s| s["name"] == "get_customer")
        .unwrap_or_else(|| panic!("no store span under the handler: {in_trace:?}"));
    assert_eq!(
        attribute(store, "customer_id"),
        Some(admin.customer_id.to_string()),
        "the store span names the tenant it read"
    );
}

/// One test per backend, like `both_backends!`, which cannot be used here: the
/// exporter must exist before the server starts.
mod a_requests_spans_reach_an_otlp_collector_as_one_trace_without_secrets {
    use super::*;

    #[tokio::test]
    async fn sqlite() {
        exported(Kind::Sqlite).await
    }

    #[tokio::test]
    async fn postgres() {
        exported(Kind::Postgres).await
    }
}
