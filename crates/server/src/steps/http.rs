//! The `http` step: a request whose URL, headers and body are templates over the run's
//! data, sent through the outbound guard ([`super::outbound`]), with a timeout, a cap
//! on the response size, and the step's stable `Idempotency-Key`, so a receiver that
//! honours it applies the call once even when a crashed run sends it again.
//!
//! Output: `{ status, headers, body }`, where `body` is the parsed JSON when the
//! response says it is JSON, else the text. A status of 400 or more fails the step;
//! the failure carries the status (and `Retry-After`) so the engine can tell a 503
//! worth retrying from a 404 that is not. The attempt's input is the rendered request.
//!
//! A step that names a credential gets it from the run's customer when it runs, after
//! the outbound guard let the call through ([`crate::credentials::CredentialResolver`]);
//! the secret goes in the request and nowhere else: the recorded input shows
//! `[redacted:<name>]` for its header, and the output and error are redacted
//! ([`super::redact`]) before the runner records them.

use super::http_access::{authorization, trusted};
use super::outbound::{AllowList, GuardedResolver};
use super::redact::Redactor;
use super::render;
use super::{Attempt, StepFailure};
use crate::credentials::CredentialResolver;
use futures_util::StreamExt;
use obera_engine::{Bindings, Evaluator, FailureKind};
use obera_store::{Db, TenantScope};
use obera_types::{CredentialRef, HttpMethod, HttpStep};
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// When the step names no timeout.
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// When the step names no response cap: 1 MiB.
const DEFAULT_MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Sends `http` steps; one per process (it holds the connection pools).
pub struct HttpCaller {
    /// For hosts on no allow-list: only public addresses.
    client: reqwest::Client,
    /// For allow-listed hosts: any address but link-local ones.
    trusted: reqwest::Client,
    allow: AllowList,
    db: Db,
    pub(super) credentials: CredentialResolver,
}

impl HttpCaller {
    pub fn new(allow: AllowList, db: Db, credentials: CredentialResolver) -> anyhow::Result<Self> {
        let client = |trust_every_name| {
            reqwest::Client::builder()
                .dns_resolver(Arc::new(GuardedResolver {
                    allow: allow.clone(),
                    trust_every_name,
                }))
                .redirect(reqwest::redirect::Policy::none())
                .user_agent(concat!("obera-workflows/", env!("CARGO_PKG_VERSION")))
                .build()
        };
        Ok(Self {
            client: client(false)?,
            trusted: client(true)?,
            allow,
            db,
            credentials,
        })
    }

    /// Renders and sends the step's request in the run's `scope`, with the secrets
    /// it used redacted from what it returns.
    pub async fn call(
        &self,
        step: &HttpStep,
        idempotency_key: Uuid,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
        scope: &TenantScope,
    ) -> Attempt {
        match Outbound::for_step(step, evaluator, bindings) {
            Ok(request) => self.deliver(request, idempotency_key, scope).await,
            Err(failure) => Attempt {
                input: Value::Null,
                result: Err(failure),
            },
        }
    }

    /// Sends a rendered request in the run's `scope` (an `http` step's, or a signed
    /// `notify` webhook), with the secrets it used redacted from what it returns.
    pub async fn deliver(
        &self,
        request: Outbound,
        idempotency_key: Uuid,
        scope: &TenantScope,
    ) -> Attempt {
        let mut input = request.describe();
        let credential = request.credential.clone();
        let (mut redactor, mut sent_in) = (Redactor::default(), None);
        let result = self
            .send(request, idempotency_key, scope, &mut redactor, &mut sent_in)
            .await;
        if let (Some(header), Some(name)) = (sent_in, &credential) {
            input["headers"][header.as_str()] = Value::String(format!("[redacted:{name}]"));
        }
        redactor.value(&mut input);
        let result = match result {
            Ok(mut output) => {
                redactor.value(&mut output);
                Ok(output)
            }
            Err(mut failure) => {
                failure.message = redactor.text(&failure.message);
                Err(failure)
            }
        };
        Attempt { input, result }
    }

    /// Sends the rendered request; `redactor` learns the secrets it used and
    /// `sent_in` the header the credential went in.
    async fn send(
        &self,
        rendered: Outbound,
        idempotency_key: Uuid,
        scope: &TenantScope,
        redactor: &mut Redactor,
        sent_in: &mut Option<reqwest::header::HeaderName>,
    ) -> Result<Value, StepFailure> {
        let url = reqwest::Url::parse(&rendered.url)
            .map_err(|e| StepFailure::invalid(format!("url `{}`: {e}", rendered.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(StepFailure::invalid(format!(
                "url `{url}`: only http and https can be called"
            )));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        let port = url.port_or_known_default().unwrap_or_default();
        let client = if trusted(&self.db, scope, &self.allow, &host, port).await? {
            &self.trusted
        } else {
            &self.client
        };
        // Resolved only for a call the guard lets through, and only now.
        let credential = match &rendered.credential {
            None => None,
            Some(name) => {
                let secret = self.credentials.resolve(scope, name).await?;
                redactor.add(name, &secret);
                Some(authorization(name, &secret).map_err(StepFailure::denied)?)
            }
        };
        let mut request = client
            .request(method(rendered.method), url)
            .timeout(rendered.timeout)
            .header("idempotency-key", idempotency_key.to_string());
        for (name, value) in &rendered.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        if let Some(bytes) = rendered.body_bytes() {
            let typed = rendered
                .headers
                .iter()
                .any(|(name, _)| name.eq_ignore_ascii_case("content-type"));
            if !typed && !matches!(rendered.body, Some(Value::String(_))) {
                request = request.header(reqwest::header::CONTENT_TYPE, "application/json");
            }
            request = request.body(bytes);
        }
        let mut request = request
            .build()
            .map_err(|e| StepFailure::invalid(format!("the request cannot be built: {e}")))?;
        if let Some((name, value)) = credential {
            // The credential's header replaces one of the same name from the step.
            *sent_in = Some(name.clone());
            request.headers_mut().insert(name, value);
        }
        let response = client.execute(request).await.map_err(transport)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
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
        let bytes = read_capped(response, rendered.max_response_bytes).await?;
        if status.as_u16() >= 400 {
            let text = String::from_utf8_lossy(&bytes);
            let snippet: String = text.chars().take(200).collect();
            return Err(StepFailure {
                kind: FailureKind::HttpStatus {
                    status: status.as_u16(),
                    retry_after,
                },
                message: format!("HTTP {status}: {snippet}"),
            });
        }
        let body = if is_json {
            serde_json::from_slice(&bytes).map_err(|e| {
                StepFailure::invalid(format!("the response says it is JSON but is not: {e}"))
            })?
        } else {
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        };
        Ok(serde_json::json!({ "status": status.as_u16(), "headers": headers, "body": body }))
    }
}

/// A request rendered and ready to go through the guard: an `http` step's with its
/// templates rendered, or a signed `notify` webhook.
pub struct Outbound {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Text is sent as it is; any other JSON value serialised, as `application/json`
    /// unless a header says otherwise.
    pub body: Option<Value>,
    /// The credential whose header the request carries.
    pub credential: Option<CredentialRef>,
    pub timeout: Duration,
    pub max_response_bytes: usize,
}

impl Outbound {
    /// The bytes the body is sent as (and a signature is computed over).
    pub fn body_bytes(&self) -> Option<Vec<u8>> {
        match self.body.as_ref()? {
            Value::String(text) => Some(text.clone().into_bytes()),
            json => serde_json::to_vec(json).ok(),
        }
    }

    fn for_step(
        step: &HttpStep,
        evaluator: &Evaluator,
        bindings: &mut Bindings,
    ) -> Result<Self, StepFailure> {
        let url = render::text(evaluator, bindings, &step.url, "url")?;
        let mut headers = Vec::with_capacity(step.headers.len());
        for header in &step.headers {
            let value = render::text(evaluator, bindings, &header.value, &header.name)?;
            headers.push((header.name.clone(), value));
        }
        let body = match &step.body {
            None => None,
            Some(body) => Some(render::value(evaluator, bindings, body, "body")?),
        };
        Ok(Self {
            url,
            headers,
            body,
            method: step.method,
            credential: step.credential.clone(),
            timeout: step
                .timeout_ms
                .map_or(DEFAULT_TIMEOUT, |ms| Duration::from_millis(u64::from(ms))),
            max_response_bytes: step
                .max_response_bytes
                .map_or(DEFAULT_MAX_RESPONSE_BYTES, |n| n as usize),
        })
    }

    /// The request as the attempt's recorded input.
    fn describe(&self) -> Value {
        let headers: Map<String, Value> = self
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        serde_json::json!({
            "method": self.method.as_str(),
            "url": self.url,
            "headers": headers,
            "body": self.body,
        })
    }
}

/// A `Retry-After` given in seconds (the HTTP-date form is rare from APIs and ignored).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
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
async fn read_capped(response: reqwest::Response, cap: usize) -> Result<Vec<u8>, StepFailure> {
    let mut out = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(transport)?;
        if out.len() + chunk.len() > cap {
            return Err(StepFailure::invalid(format!(
                "the response is larger than {cap} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A transport error with its cause chain (where the guard's refusal is): a timeout,
/// a refusal by the guard at DNS resolution, or a connection failure.
fn transport(e: reqwest::Error) -> StepFailure {
    let mut text = if e.is_timeout() {
        "the request timed out".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut denied = false;
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        denied |= cause.is::<super::outbound::Refused>();
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    let kind = if e.is_timeout() {
        FailureKind::Timeout
    } else if denied {
        FailureKind::Denied
    } else {
        FailureKind::Transport
    };
    StepFailure {
        kind,
        message: text,
    }
}
