//! Request facts that audit events carry: client address and user agent.

use actix_web::HttpRequest;
use obera_store::AuditEvent;

/// Adds the caller's IP address and user agent to `event`.
pub fn with_request(mut event: AuditEvent, req: &HttpRequest) -> AuditEvent {
    event.ip_address = client_ip(req);
    event.user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect());
    event
}

/// The peer address. Forwarded headers are not trusted: behind a proxy, configure
/// it to connect from a known address (a later issue adds trusted-proxy settings).
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    req.peer_addr().map(|a| a.ip().to_string())
}
