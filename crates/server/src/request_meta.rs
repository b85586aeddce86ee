//! Request facts that audit events carry: client address and user agent.

use crate::state::AppState;
use actix_web::http::header::X_FORWARDED_FOR;
use actix_web::{HttpRequest, web};
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

/// The client's address: the TCP peer, or behind a trusted reverse proxy the
/// address it forwarded ([`crate::forwarded`]). Throttles and audit events both use
/// this, so a log line names the address that was throttled.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let forwarded_for: Vec<&[u8]> = req
        .headers()
        .get_all(X_FORWARDED_FOR)
        .map(|v| v.as_bytes())
        .collect();
    let client = match req.app_data::<web::Data<AppState>>() {
        Some(state) => state.proxies.client_address(peer, &forwarded_for),
        None => peer.to_canonical(),
    };
    Some(client.to_string())
}
