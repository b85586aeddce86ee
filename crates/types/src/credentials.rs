//! Credentials and the outbound allow-list: what a customer's workflows may use and
//! reach.
//!
//! A credential is a named secret of one customer (a bearer token, a username and
//! password, an API-key header, a webhook signing secret). Steps name it
//! ([`CredentialRef`]); the server resolves it only when the step runs. The API takes
//! secrets in and never gives them back: [`Credential`] is metadata only.

use crate::enums::text_enum;
use crate::validated::validated_string;
use crate::workflows::step::tagged_union;
use crate::{CredentialId, CredentialRef, CustomerId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The most characters a secret value may have.
pub const MAX_SECRET_LEN: usize = 4096;
/// The fewest: a shorter value could not be told apart from ordinary text when it is
/// redacted from run records.
pub const MIN_SECRET_LEN: usize = 8;
/// The most characters of a credential's description.
pub const MAX_DESCRIPTION_LEN: usize = 1000;
/// The most hosts on a customer's outbound allow-list.
pub const MAX_ALLOWED_HOSTS: usize = 100;

text_enum!(
    /// How a credential is used: `bearer_token` is sent as `Authorization: Bearer …`,
    /// `basic` as `Authorization: Basic …`, `header` under a header name of your
    /// choice, and `signing_secret` signs outbound webhooks and is never sent.
    CredentialKind {
        BearerToken => "bearer_token",
        Basic => "basic",
        Header => "header",
        SigningSecret => "signing_secret",
    }
);

/// A secret value: 8 to 4096 characters, no control characters (it may be sent in a
/// header). Write-only: no API answer contains one, and `Debug` does not print it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, format = Password))]
pub struct SecretValue(String);

impl SecretValue {
    /// The secret itself, for the server to seal or send.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([hidden])")
    }
}

impl TryFrom<String> for SecretValue {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        // The messages never repeat the value: they may be logged or shown.
        let len = value.chars().count();
        if len < MIN_SECRET_LEN {
            Err(format!("must be at least {MIN_SECRET_LEN} characters"))
        } else if len > MAX_SECRET_LEN {
            Err(format!("must be at most {MAX_SECRET_LEN} characters"))
        } else if value.chars().any(char::is_control) {
            Err("must not contain control characters (line breaks, tabs)".to_owned())
        } else {
            Ok(Self(value))
        }
    }
}

impl From<SecretValue> for String {
    fn from(value: SecretValue) -> String {
        value.0
    }
}

validated_string!(
    /// The user name of a `basic` credential: 1 to 256 characters, no `:` and no
    /// control characters.
    BasicUsername,
    "text",
    check_basic_username
);

fn check_basic_username(value: String) -> Result<String, String> {
    let len = value.chars().count();
    if len == 0 || len > 256 {
        Err("must be 1 to 256 characters".to_owned())
    } else if value.contains(':') || value.chars().any(char::is_control) {
        Err("must not contain `:` or control characters".to_owned())
    } else {
        Ok(value)
    }
}

validated_string!(
    /// The header a `header` credential is sent in (e.g. `x-api-key`), lower-cased: an
    /// HTTP token of at most 64 characters, not one the server sets itself (`host`,
    /// `content-length`, `transfer-encoding`, `connection`, `idempotency-key`).
    CredentialHeaderName,
    "text",
    check_header_name
);

/// Headers the server writes for every request; a credential may not replace them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "idempotency-key",
];

fn check_header_name(value: String) -> Result<String, String> {
    let v = value.to_ascii_lowercase();
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if v.is_empty() || v.len() > 64 || !v.bytes().all(token) {
        Err(format!("`{value}` is not a header name"))
    } else if RESERVED_HEADERS.contains(&v.as_str()) {
        Err(format!(
            "`{v}` is set by the server and cannot carry a credential"
        ))
    } else {
        Ok(v)
    }
}

/// A bearer token, sent as `Authorization: Bearer <token>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BearerTokenSecret {
    pub token: SecretValue,
}

/// A user name and password, sent as `Authorization: Basic <base64(username:password)>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BasicSecret {
    pub username: BasicUsername,
    pub password: SecretValue,
}

/// A value sent under a header of your choice, e.g. `x-api-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HeaderSecret {
    pub header_name: CredentialHeaderName,
    pub value: SecretValue,
}

/// The secret that signs outbound webhooks (`notify` steps); never sent itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SigningSecret {
    pub secret: SecretValue,
}

tagged_union!(
    /// A credential's secret, told apart by `kind`.
    CredentialSecret, tag = "kind", {
        /// Sent as `Authorization: Bearer <token>`.
        BearerToken => "bearer_token" (BearerTokenSecret),
        /// Sent as `Authorization: Basic …`.
        Basic => "basic" (BasicSecret),
        /// Sent under `header_name`.
        Header => "header" (HeaderSecret),
        /// Signs webhooks; never sent.
        SigningSecret => "signing_secret" (SigningSecret),
    }
);

impl CredentialSecret {
    /// The kind of credential this secret makes.
    pub fn kind(&self) -> CredentialKind {
        match self {
            CredentialSecret::BearerToken(_) => CredentialKind::BearerToken,
            CredentialSecret::Basic(_) => CredentialKind::Basic,
            CredentialSecret::Header(_) => CredentialKind::Header,
            CredentialSecret::SigningSecret(_) => CredentialKind::SigningSecret,
        }
    }

    /// The header a `header` credential is sent in (shown with the metadata).
    pub fn header_name(&self) -> Option<&CredentialHeaderName> {
        match self {
            CredentialSecret::Header(h) => Some(&h.header_name),
            _ => None,
        }
    }
}

/// A credential, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credential {
    pub id: CredentialId,
    pub customer_id: CustomerId,
    /// What steps call it; unique within the customer.
    pub name: CredentialRef,
    pub kind: CredentialKind,
    /// The header a `header` credential is sent in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_name: Option<CredentialHeaderName>,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    /// When the secret was last set (created or replaced).
    pub updated_at: DateTime<Utc>,
    /// When a workflow step last used it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Store a new credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCredential {
    pub name: CredentialRef,
    /// Up to 1000 characters.
    #[serde(default)]
    pub description: String,
    pub secret: CredentialSecret,
}

/// Replace a credential's secret (rotation); the kind stays the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplaceCredentialSecret {
    pub secret: CredentialSecret,
}

validated_string!(
    /// A host a customer's http steps may reach even where it resolves to a private
    /// or loopback address: a host name or IP address, optionally with `:port`
    /// (IPv6 in brackets, e.g. `[fd12::1]:8443`), lower-cased. Without a port every
    /// port of the host is allowed. Link-local addresses (cloud metadata) can never be
    /// allowed.
    OutboundHost,
    "text",
    check_outbound_host
);

impl OutboundHost {
    /// The host part, without brackets.
    pub fn host(&self) -> &str {
        split_host(self.as_str()).0
    }

    /// The port, when the entry names one.
    pub fn port(&self) -> Option<u16> {
        split_host(self.as_str()).1
    }

    /// Whether this entry allows `host` (as a URL writes it, IPv6 with or without
    /// brackets) on `port`.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.host().eq_ignore_ascii_case(host) && self.port().is_none_or(|p| p == port)
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` into the host and the port; the input
/// is already validated.
fn split_host(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, after) = rest.split_once(']').unwrap_or((rest, ""));
        (host, after.strip_prefix(':').and_then(|p| p.parse().ok()))
    } else {
        match entry.split_once(':') {
            Some((host, port)) => (host, port.parse().ok()),
            None => (entry, None),
        }
    }
}

fn check_outbound_host(value: String) -> Result<String, String> {
    let v = value.trim().to_ascii_lowercase();
    let bad = || format!("`{value}` is not a host name or address, with an optional `:port`");
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad());
        }
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or_else(bad)?),
        };
        (host, port)
    } else {
        match v.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (v.as_str(), None),
        }
    };
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|p| p > 0)
    {
        return Err(format!("`{value}`: the port must be 1 to 65535"));
    }
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let is_v6 = v.starts_with('[');
    if !is_v6 && (host.len() > 253 || !host.split('.').all(label_ok)) {
        return Err(bad());
    }
    let ip = host.parse::<std::net::IpAddr>().ok();
    if ip.is_some_and(is_link_local) {
        return Err(format!(
            "`{value}` is a link-local address (cloud metadata lives there) and can never be allowed"
        ));
    }
    Ok(v)
}

/// Link-local addresses and the cloud metadata addresses, which no allow-list opens.
pub fn is_link_local(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.is_link_local(),
            None => {
                v6.segments()[0] & 0xffc0 == 0xfe80
                    || v6 == std::net::Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)
            }
        },
    }
}

/// A customer's outbound allow-list (read it, or replace it whole).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OutboundAllowList {
    /// At most 100 hosts; an empty list allows nothing beyond the public internet.
    pub hosts: Vec<OutboundHost>,
}

impl OutboundAllowList {
    /// Whether any entry allows `host` on `port`.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.hosts.iter().any(|h| h.allows(host, port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_never_printed_by_debug() {
        let secret = SecretValue::try_from("hunter2-hunter2".to_owned()).unwrap_or_else(|e| {
            panic!("{e}");
        });
        let body = CredentialSecret::BearerToken(BearerTokenSecret { token: secret });
        assert!(!format!("{body:?}").contains("hunter2"));
    }

    #[test]
    fn short_or_multi_line_secrets_are_refused_without_repeating_them() {
        for bad in ["short", "line one\nline two"] {
            let Err(message) = SecretValue::try_from(bad.to_owned()) else {
                panic!("{bad:?} was accepted");
            };
            assert!(!message.contains(bad), "{message}");
        }
    }

    #[test]
    fn allow_list_entries_match_host_and_port() {
        let entry = |s: &str| OutboundHost::try_from(s.to_owned());
        let psa = entry("PSA.internal.example:8443").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(psa.as_str(), "psa.internal.example:8443");
        assert!(psa.allows("psa.internal.example", 8443));
        assert!(!psa.allows("psa.internal.example", 443));
        let any_port = entry("127.0.0.1").unwrap_or_else(|e| panic!("{e}"));
        assert!(any_port.allows("127.0.0.1", 9));
        let v6 = entry("[fd12::1]:80").unwrap_or_else(|e| panic!("{e}"));
        assert!(v6.allows("[fd12::1]", 80));
        assert!(v6.allows("fd12::1", 80));
        for bad in [
            "",
            "a b",
            "host:0",
            "host:99999",
            "http://host",
            "[::1",
            "fd12::1",
            "169.254.169.254",
            "[fe80::1]",
            "[fd00:ec2::254]",
            "-bad.example",
        ] {
            assert!(entry(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn an_unknown_kind_or_a_missing_field_is_refused() {
        let parse = |json: &str| serde_json::from_str::<CredentialSecret>(json);
        assert!(parse(r#"{"kind": "bearer_token", "token": "abcdefgh12"}"#).is_ok());
        assert!(parse(r#"{"kind": "oauth", "token": "abcdefgh12"}"#).is_err());
        assert!(parse(r#"{"kind": "basic", "username": "svc"}"#).is_err());
        assert!(parse(r#"{"kind": "bearer_token", "token": "abcdefgh12", "x": 1}"#).is_err());
        assert!(
            parse(r#"{"kind": "header", "header_name": "Host", "value": "abcdefgh12"}"#).is_err()
        );
    }
}
