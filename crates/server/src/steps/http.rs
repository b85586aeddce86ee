//! The `http` step: a request whose URL, headers and body are templates over the run's
//! data, sent through the outbound guard ([`super::outbound`]), with a timeout, a cap
//! on the response size, and the step's stable `Idempotency-Key`, so a receiver that
//! honours it applies the call once even when a crashed run sends it again.
//!
//! Output: `{ status, headers, body }`, where `body` is the parsed JSON when the
//! response says it is JSON, else the text. A status of 400 or more fails the step.

use super::outbound::{AllowList, GuardedResolver, forbidden, refusal};
use futures_util::StreamExt;
use obera_engine::{Bindings, CompiledTemplate, Evaluator};
use obera_types::{HttpMethod, HttpStep, Template};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// When the step names no timeout.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// When the step names no response cap: 1 MiB.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Sends `http` steps; one per process (it holds the connection pool).
pub struct HttpCaller {
    client: reqwest::Client,
    allow: AllowList,
}

impl HttpCaller {
    pub fn new(allow: AllowList) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow: allow.clone(),
            }))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("obera-workflows/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client, allow })
    }

    /// Sends the step's request; the step's output, or why it failed.
    pub async fn call(
        &self,
        step: &HttpStep,
        idempotency_key: Uuid,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
    ) -> Result<Value, String> {
        let url = render(evaluator, bindings, &step.url, "url")?;
        let url = reqwest::Url::parse(&url).map_err(|e| format!("url `{url}`: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("url `{url}`: only http and https can be called"));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        if !self.allow.allows(&host) {
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse()
                && let Some(why) = forbidden(ip)
            {
                return Err(refusal(&host, ip, why));
            }
        }
        let mut request = self
            .client
            .request(method(step.method), url)
            .timeout(
                step.timeout_ms
                    .map_or(DEFAULT_TIMEOUT, |ms| Duration::from_millis(u64::from(ms))),
            )
            .header("idempotency-key", idempotency_key.to_string());
        for header in &step.headers {
            let value = render(evaluator, bindings, &header.value, &header.name)?;
            request = request.header(header.name.as_str(), value);
        }
        if let Some(body) = &step.body {
            let compiled =
                CompiledTemplate::compile(evaluator, body).map_err(|e| format!("body: {e}"))?;
            request = match compiled
                .render(evaluator, bindings)
                .map_err(|e| format!("body: {e}"))?
            {
                Value::String(text) => request.body(text),
                json => request.json(&json),
            };
        }
        let response = request.send().await.map_err(describe)?;
        let status = response.status();
        let headers: Map<String, Value> = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned()),
                )
            })
            .collect();
        let is_json = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("json"));
        let cap = step
            .max_response_bytes
            .map_or(DEFAULT_MAX_RESPONSE_BYTES, |n| n as usize);
        let bytes = read_capped(response, cap).await?;
        let body = if is_json {
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("the response says it is JSON but is not: {e}"))?
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };
        if status.as_u16() >= 400 {
            let text = String::from_utf8_lossy(&bytes);
            let snippet: String = text.chars().take(200).collect();
            return Err(format!("HTTP {status}: {snippet}"));
        }
        Ok(serde_json::json!({ "status": status.as_u16(), "headers": headers, "body": body }))
    }
}

fn render(
    evaluator: &Evaluator,
    bindings: &mut Bindings,
    template: &Template,
    what: &str,
) -> Result<String, String> {
    CompiledTemplate::compile(evaluator, template)
        .map_err(|e| format!("{what}: {e}"))?
        .render_text(evaluator, bindings)
        .map_err(|e| format!("{what}: {e}"))
}

fn method(m: HttpMethod) -> reqwest::Method {
    match m {
        HttpMethod::Get => reqwest::Method::GET,
        HttpMethod::Post => reqwest::Method::POST,
        HttpMethod::Put => reqwest::Method::PUT,
        HttpMethod::Patch => reqwest::Method::PATCH,
        HttpMethod::Delete => reqwest::Method::DELETE,
        HttpMethod::Head => reqwest::Method::HEAD,
        HttpMethod::Options => reqwest::Method::OPTIONS,
    }
}

/// The body, refusing (without buffering it) one larger than `cap` bytes.
async fn read_capped(response: reqwest::Response, cap: usize) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(describe)?;
        if out.len() + chunk.len() > cap {
            return Err(format!("the response is larger than {cap} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A transport error with its cause chain (where the guard's refusal is).
fn describe(e: reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
