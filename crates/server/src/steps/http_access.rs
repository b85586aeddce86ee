//! What the running customer's own settings add to an `http` step: the credential it
//! names, sent as a header, and the hosts the customer's outbound allow-list opens.

use super::StepFailure;
use super::outbound::{AllowList, forbidden, never_allowed, refusal};
use crate::credentials::wrong_kind;
use crate::steps::redact::basic_token;
use obera_engine::FailureKind;
use obera_store::{Db, TenantScope};
use obera_types::{CredentialRef, CredentialSecret};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue};
use std::net::IpAddr;

/// The header a credential adds to the request, marked sensitive so no debug output
/// of the request prints it.
pub fn authorization(
    name: &CredentialRef,
    secret: &CredentialSecret,
) -> Result<(HeaderName, HeaderValue), String> {
    let (header, value) = match secret {
        CredentialSecret::BearerToken(b) => (AUTHORIZATION, format!("Bearer {}", b.token.expose())),
        CredentialSecret::Basic(b) => (
            AUTHORIZATION,
            format!(
                "Basic {}",
                basic_token(b.username.as_str(), b.password.expose())
            ),
        ),
        CredentialSecret::Header(h) => (
            HeaderName::from_bytes(h.header_name.as_str().as_bytes())
                .map_err(|_| format!("credential `{name}` names a header that cannot be sent"))?,
            h.value.expose().to_owned(),
        ),
        CredentialSecret::SigningSecret(_) => {
            return Err(wrong_kind(
                name,
                secret.kind(),
                "be sent by an http step (it signs webhooks in notify steps)",
            ));
        }
    };
    let mut value = HeaderValue::from_str(&value).map_err(|_| {
        format!("credential `{name}` holds a value that cannot be sent in a header")
    })?;
    value.set_sensitive(true);
    Ok((header, value))
}

/// Whether `host:port` is allow-listed, by the operator (`process`) or by the run's
/// customer, and so may resolve to private and loopback addresses. An IP literal is
/// checked here (it reaches no resolver): refused when it is internal and not
/// allow-listed, or link-local whatever the lists say.
pub async fn trusted(
    db: &Db,
    scope: &TenantScope,
    process: &AllowList,
    host: &str,
    port: u16,
) -> Result<bool, StepFailure> {
    let listed = process.allows(host)
        || db
            .outbound_allow_list(scope)
            .await
            .map_err(|e| StepFailure {
                kind: FailureKind::Transient,
                message: format!("the customer's outbound allow-list could not be read: {e}"),
            })?
            .allows(host, port);
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        let check = if listed {
            never_allowed(ip)
        } else {
            forbidden(ip)
        };
        if let Some(why) = check {
            return Err(StepFailure::denied(refusal(host, ip, why)));
        }
    }
    Ok(listed)
}
