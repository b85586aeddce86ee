//! Transport: URLs, headers, problem JSON, and the silent refresh on 401.

use super::session;
use futures::FutureExt;
use futures::future::{LocalBoxFuture, Shared};
use gloo_net::http::{Method, RequestBuilder, Response};
use obera_types::{ErrorCode, FieldError, Problem, RefreshRequest, Session};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::cell::RefCell;
use std::fmt;

/// Why an API call failed. A server-side failure carries the problem document.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// The server answered with an RFC 9457 problem.
    Problem(Problem),
    /// The server answered with an error status but no problem document (e.g. a proxy).
    Http(u16),
    /// The request never got an answer (offline, DNS, CORS).
    Network(String),
    /// The answer was not the JSON we expected.
    Decode(String),
}

impl ClientError {
    /// The stable error code, when the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Problem(p) => Some(p.code),
            _ => None,
        }
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Problem(p) => Some(p.status),
            ClientError::Http(s) => Some(*s),
            _ => None,
        }
    }

    /// Per-field validation messages from the server.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            ClientError::Problem(p) => &p.errors,
            _ => &[],
        }
    }

    /// The server's message for one field, if any.
    pub fn field(&self, name: &str) -> Option<String> {
        self.field_errors()
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            ClientError::Problem(p) if p.code == ErrorCode::Forbidden => {
                if p.detail.is_empty() {
                    "You are not allowed to do this".to_owned()
                } else {
                    p.detail.clone()
                }
            }
            ClientError::Problem(p) if !p.detail.is_empty() => p.detail.clone(),
            ClientError::Problem(p) => p.title.clone(),
            ClientError::Http(s) => format!("The server answered with status {s}"),
            ClientError::Network(_) => {
                "Could not reach the server; check your connection".to_owned()
            }
            ClientError::Decode(_) => {
                "The server sent an answer this app does not understand".to_owned()
            }
        }
    }

    fn unauthenticated() -> Self {
        ClientError::Problem(Problem {
            type_uri: "about:blank".to_owned(),
            title: "Unauthenticated".to_owned(),
            status: 401,
            detail: "Please sign in again".to_owned(),
            code: ErrorCode::Unauthenticated,
            request_id: None,
            errors: Vec::new(),
        })
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ClientError {}

/// Whether a call carries the access token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    Anonymous,
    Bearer,
}

/// The API origin: `<meta name="obera-api-base" content="https://api.example.com">`,
/// or the page's own origin when absent or empty.
fn base_url() -> String {
    thread_local! {
        static BASE: String = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("meta[name=obera-api-base]").ok().flatten())
            .and_then(|m| m.get_attribute("content"))
            .map(|s| s.trim_end_matches('/').to_owned())
            .unwrap_or_default();
    }
    BASE.with(Clone::clone)
}

/// Whether the API is on the page's own origin: then the refresh token travels only in
/// the server's `HttpOnly` cookie, which a cross-origin API would not receive.
pub fn cookie_delivery() -> bool {
    let base = base_url();
    base.is_empty() || web_sys::window().and_then(|w| w.location().origin().ok()) == Some(base)
}

/// Percent-encodes a query or path component.
pub fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}

async fn send_raw(
    method: Method,
    path: &str,
    body: Option<&str>,
    token: Option<&str>,
) -> Result<Response, ClientError> {
    let mut builder = RequestBuilder::new(&format!("{}/api/v1{path}", base_url()))
        .method(method)
        .header("Accept", "application/json");
    if cookie_delivery() {
        builder = builder.header("X-Obera-Refresh-Delivery", "cookie");
    }
    if let Some(token) = token {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(json) => builder
            .header("Content-Type", "application/json")
            .body(json.to_owned()),
        None => builder.build(),
    }
    .map_err(|e| ClientError::Network(e.to_string()))?;
    request
        .send()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))
}

/// Reads a response body: `Ok(text)` for 2xx (`"null"` when empty), the problem otherwise.
/// Not generic, so the async code exists once in the binary; callers parse the text.
async fn read_body(resp: Response) -> Result<String, ClientError> {
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ClientError::Network(e.to_string()))?;
    if (200..300).contains(&status) {
        Ok(if text.trim().is_empty() {
            "null".to_owned()
        } else {
            text
        })
    } else {
        match serde_json::from_str::<Problem>(&text) {
            Ok(problem) => Err(ClientError::Problem(problem)),
            Err(_) => Err(ClientError::Http(status)),
        }
    }
}

fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ClientError> {
    serde_json::from_str(text).map_err(|e| ClientError::Decode(e.to_string()))
}

type SharedRefresh = Shared<LocalBoxFuture<'static, Result<(), ClientError>>>;

thread_local! {
    /// The refresh in flight, shared by every request that hit a 401 meanwhile:
    /// refresh tokens are single-use, so two parallel refreshes would look like reuse.
    static REFRESHING: RefCell<Option<SharedRefresh>> =
        const { RefCell::new(None) };
}

pub(super) async fn refresh_once() -> Result<(), ClientError> {
    let fut = REFRESHING.with(|slot| {
        let mut slot = slot.borrow_mut();
        if let Some(fut) = slot.as_ref() {
            return fut.clone();
        }
        let fut = async {
            let result = do_refresh().await;
            REFRESHING.with(|slot| *slot.borrow_mut() = None);
            result
        }
        .boxed_local()
        .shared();
        *slot = Some(fut.clone());
        fut
    });
    fut.await
}

async fn do_refresh() -> Result<(), ClientError> {
    // In cookie mode the browser sends the token; the body stays empty.
    let refresh_token = session::refresh_token();
    if refresh_token.is_none() && !cookie_delivery() {
        return Err(ClientError::unauthenticated());
    }
    let body = serde_json::to_string(&RefreshRequest { refresh_token })
        .map_err(|e| ClientError::Decode(e.to_string()))?;
    let resp = send_raw(Method::POST, "/auth/refresh", Some(&body), None).await?;
    match read_body(resp)
        .await
        .and_then(|text| parse::<Session>(&text))
    {
        Ok(new_session) => {
            session::store(&new_session);
            Ok(())
        }
        Err(err) => {
            // A network failure keeps the session for a later retry; anything else ends it.
            if !matches!(err, ClientError::Network(_)) {
                session::clear();
            }
            Err(err)
        }
    }
}

/// Restores the session after a page load through the refresh cookie; without one
/// (signed out, or the API on another origin) the app starts signed out.
pub async fn restore() {
    if cookie_delivery() {
        let _ = refresh_once().await;
    }
}

/// Sends one request and returns the body text. With `Auth::Bearer`, a 401
/// triggers one silent refresh (shared with concurrent callers) and one retry.
async fn call_text(
    method: Method,
    path: &str,
    body: Option<String>,
    auth: Auth,
) -> Result<String, ClientError> {
    let token = match auth {
        Auth::Bearer => session::access_token(),
        Auth::Anonymous => None,
    };
    let resp = send_raw(method.clone(), path, body.as_deref(), token.as_deref()).await?;
    if auth == Auth::Bearer && resp.status() == 401 {
        let current = session::access_token();
        // Another request may already have refreshed while this one was in flight.
        if current.is_none() || current == token {
            refresh_once().await?;
        }
        let Some(fresh) = session::access_token() else {
            return Err(ClientError::unauthenticated());
        };
        let retry = send_raw(method, path, body.as_deref(), Some(&fresh)).await?;
        if retry.status() == 401 {
            session::clear();
        }
        return read_body(retry).await;
    }
    read_body(resp).await
}

/// Sends one request and parses the answer as `T` (see `call_text`).
pub async fn call<T: DeserializeOwned>(
    method: Method,
    path: &str,
    body: Option<String>,
    auth: Auth,
) -> Result<T, ClientError> {
    parse(&call_text(method, path, body, auth).await?)
}

/// Serialises a request body.
pub fn json<B: Serialize>(body: &B) -> Result<Option<String>, ClientError> {
    serde_json::to_string(body)
        .map(Some)
        .map_err(|e| ClientError::Decode(e.to_string()))
}

// The verbs every resource module uses, signed in (`Auth::Bearer`).

/// `GET path`.
pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ClientError> {
    call(Method::GET, path, None, Auth::Bearer).await
}

/// Defines the verbs that send a JSON body.
macro_rules! with_body {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)+) => {$(
        $(#[$doc])*
        pub async fn $name<T: DeserializeOwned, B: Serialize>(path: &str, body: &B) -> Result<T, ClientError> {
            call(Method::$method, path, json(body)?, Auth::Bearer).await
        }
    )+};
}

with_body! {
    /// `POST path` with a JSON body.
    post => POST;
    /// `PATCH path` with a JSON body.
    patch => PATCH;
    /// `PUT path` with a JSON body.
    put => PUT;
}

/// `POST path` with no body, for actions named by the path (`…/suspend`).
pub async fn post_empty<T: DeserializeOwned>(path: &str) -> Result<T, ClientError> {
    call(Method::POST, path, None, Auth::Bearer).await
}

/// `DELETE path`.
pub async fn delete(path: &str) -> Result<(), ClientError> {
    call(Method::DELETE, path, None, Auth::Bearer).await
}

/// A query string (`?a=1&b=2`) of the pairs that have a non-empty value.
pub fn query(pairs: &[(&str, Option<String>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", encode(v)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// The query of one page of a keyset-paginated list.
pub fn page_query(limit: u32, cursor: Option<String>) -> Vec<(&'static str, Option<String>)> {
    vec![("limit", Some(limit.to_string())), ("cursor", cursor)]
}
