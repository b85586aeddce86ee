//! Refresh-token delivery in an `HttpOnly` cookie, for the SPA served from the API's origin.
//!
//! A browser client opts in with `X-Obera-Refresh-Delivery: cookie` on the request that
//! issues, refreshes or ends a session. The refresh token then travels only in the cookie
//! `obera_refresh` (`HttpOnly; Secure; SameSite=Strict; Path=/api/v1/auth`, `Max-Age` the
//! refresh lifetime) and never in a response body, so script (an XSS) can neither read the
//! stored credential nor pick a rotated one out of a refresh answer. Without the header
//! (third-party clients, the generated SDK) the token stays in the body as before.
//!
//! CSRF: the cookie is used only by `POST /auth/refresh` and `POST /auth/logout`, and only
//! when the request carries the opt-in header *and* an `application/json` body. A
//! cross-site form can send neither (a custom header or a JSON content type makes the
//! request non-simple, so a foreign page would need a CORS preflight, which the server
//! never grants with credentials). `SameSite=Strict` keeps browsers from attaching the
//! cookie to cross-site requests in the first place, and the path keeps it off every
//! other API call; the header check also covers same-site, cross-origin pages (sibling
//! subdomains), which `SameSite` does not.
//!
//! Chromium and Firefox accept a `Secure` cookie from `http://localhost` and
//! `http://127.0.0.1` (loopback counts as a secure context), so local development over
//! plain HTTP works; any other plain-HTTP host drops the cookie, and a production
//! deployment must be served over HTTPS.

use crate::error::ApiError;
use actix_web::cookie::{Cookie, SameSite, time::Duration};
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use std::future::{Ready, ready};

/// The cookie's name.
pub const NAME: &str = "obera_refresh";
/// Only the auth routes under the API prefix (`/api/v1`, see `openapi::mount`) see it.
pub const PATH: &str = "/api/v1/auth";
/// The opt-in request header.
pub const HEADER: &str = "X-Obera-Refresh-Delivery";
/// How the header is described in the API reference.
pub const HEADER_DOC: &str = "`cookie`: deliver the refresh token only in the `HttpOnly; Secure; SameSite=Strict` cookie `obera_refresh` (path `/api/v1/auth`) and leave `refresh_token` out of the body; refresh and logout then read the cookie when the body has no token. For browser apps served from the API's origin. Absent or `body`: the token is in the body, as API clients expect.";

/// Where the refresh token travels for this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the response body (`Session.refresh_token`) and request bodies.
    Body,
    /// Only in the `HttpOnly` cookie.
    Cookie,
}

impl Delivery {
    fn parse(req: &HttpRequest) -> Result<Self, ApiError> {
        let Some(value) = req.headers().get(HEADER) else {
            return Ok(Delivery::Body);
        };
        match value.to_str().map(str::trim) {
            Ok(v) if v.eq_ignore_ascii_case("cookie") => Ok(Delivery::Cookie),
            Ok(v) if v.eq_ignore_ascii_case("body") => Ok(Delivery::Body),
            _ => Err(ApiError::BadRequest(format!(
                "{HEADER} must be `cookie` or `body`"
            ))),
        }
    }

    /// The refresh token from the cookie; only in cookie mode, so a request without the
    /// opt-in header can never spend it (see the module comment on CSRF).
    pub fn presented(self, req: &HttpRequest) -> Option<String> {
        match self {
            Delivery::Cookie => req
                .cookie(NAME)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty()),
            Delivery::Body => None,
        }
    }
}

impl FromRequest for Delivery {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Delivery::parse(req))
    }
}

fn build(value: String, max_age: Duration) -> Cookie<'static> {
    Cookie::build(NAME, value)
        .path(PATH)
        .secure(true)
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(max_age)
        .finish()
}

/// The cookie carrying `token`, living as long as the token.
pub fn carrying(token: String, ttl_days: i64) -> Cookie<'static> {
    build(token, Duration::days(ttl_days))
}

/// The cookie that makes the browser forget it (`Max-Age=0`).
pub fn cleared() -> Cookie<'static> {
    build(String::new(), Duration::ZERO)
}
