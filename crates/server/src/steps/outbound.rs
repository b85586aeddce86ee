//! The outbound guard: workflow HTTP calls may not reach the server's own network.
//!
//! A workflow author chooses the URL, so without a guard a step could read cloud
//! metadata (`169.254.169.254`), the database on loopback, or anything on the private
//! network the server sits in (SSRF). The guard refuses every address that is not
//! public — loopback, private, link-local (metadata included), carrier-grade NAT,
//! unspecified, broadcast, multicast, documentation and IPv6 unique-local — checked on
//! the addresses a name resolves to, inside the HTTP client's own resolver, so the
//! connection goes to exactly the addresses that were checked (no second lookup for a
//! DNS-rebinding answer to slip into). IP literals in URLs never reach a resolver and
//! are checked before the request. Redirects are not followed.
//!
//! Hosts the MSP operator allow-lists (`OBERA_OUTBOUND_ALLOW_HOSTS`, e.g. an
//! on-premises PSA or a test receiver on `127.0.0.1`) are exempt, and so are the hosts
//! on the running customer's own allow-list (checked by the caller, which then uses a
//! client whose resolver trusts every name). Link-local addresses, where cloud
//! metadata lives, stay refused for every host, allow-listed or not.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Hosts (names or IP literals, lower-case) exempt from the guard.
#[derive(Debug, Clone, Default)]
pub struct AllowList(Arc<HashSet<String>>);

impl AllowList {
    /// Parses a comma-separated list of hosts.
    pub fn parse(list: &str) -> Self {
        Self(Arc::new(
            list.split(',')
                .map(|h| {
                    h.trim()
                        .trim_start_matches('[')
                        .trim_end_matches(']')
                        .to_lowercase()
                })
                .filter(|h| !h.is_empty())
                .collect(),
        ))
    }

    pub fn allows(&self, host: &str) -> bool {
        self.0.contains(
            &host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_lowercase(),
        )
    }
}

/// Why an address may not be called, or `None` when it is public.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_private() {
        Some("a private-network address")
    } else if ip.is_link_local() {
        Some("a link-local address (cloud metadata lives there)")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a carrier-grade NAT address")
    } else if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("a broadcast, multicast or reserved address")
    } else if ip.is_documentation() {
        Some("a documentation address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_unspecified() {
        Some("an unspecified address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a unique-local (private) address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if first == 0x2001 && ip.segments()[1] == 0x0db8 {
        Some("a documentation address")
    } else {
        None
    }
}

/// Why an address may not be called even by an allow-listed host, or `None`.
pub fn never_allowed(ip: IpAddr) -> Option<&'static str> {
    obera_types::credentials::is_link_local(ip)
        .then_some("a link-local address (cloud metadata lives there), which no allow-list opens")
}

/// The refusal of `host` at `ip`, for the step's error.
pub fn refusal(host: &str, ip: IpAddr, why: &str) -> String {
    format!(
        "refused to call {host} ({ip}): it is {why}; a customer admin may allow the host on the customer's outbound allow-list"
    )
}

/// The guard's refusal of a name at resolution, told apart from other connection
/// failures so a refused step is not retried.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The HTTP client's resolver: system DNS, then only the public answers (for an
/// allow-listed host, all but link-local ones). A name with no such address fails to
/// resolve.
pub struct GuardedResolver {
    pub allow: AllowList,
    /// Every name counts as allow-listed: the client of calls whose host the caller
    /// found on the customer's allow-list.
    pub trust_every_name: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let allowed = self.trust_every_name || self.allow.allows(&host);
        let check: fn(IpAddr) -> Option<&'static str> =
            if allowed { never_allowed } else { forbidden };
        Box::pin(async move {
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut refused = None;
            let public: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| match check(addr.ip()) {
                    Some(why) => {
                        refused.get_or_insert_with(|| refusal(&host, addr.ip(), why));
                        false
                    }
                    None => true,
                })
                .collect();
            if public.is_empty() {
                return Err(match refused {
                    Some(why) => Box::new(Refused(why)) as Box<dyn std::error::Error + Send + Sync>,
                    None => format!("{host} has no address").into(),
                });
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_refused_and_public_ones_pass() {
        for ip in [
            "127.0.0.1",
            "127.5.5.5",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
        ] {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                panic!("not an address: {ip}")
            };
            assert!(forbidden(ip).is_some(), "{ip} was allowed");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                panic!("not an address: {ip}")
            };
            assert_eq!(forbidden(ip), None, "{ip} was refused");
        }
    }

    #[test]
    fn link_local_addresses_are_never_allowed() {
        for ip in [
            "169.254.169.254",
            "fe80::1",
            "fd00:ec2::254",
            "::ffff:169.254.1.1",
        ] {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                panic!("not an address: {ip}")
            };
            assert!(never_allowed(ip).is_some(), "{ip} could be allowed");
        }
        for ip in ["127.0.0.1", "10.0.0.1", "fd12::1", "::1"] {
            let Ok(ip) = ip.parse::<IpAddr>() else {
                panic!("not an address: {ip}")
            };
            assert_eq!(never_allowed(ip), None, "{ip} can never be allowed");
        }
    }

    #[test]
    fn the_allow_list_matches_hosts_case_blind() {
        let allow = AllowList::parse(" PSA.internal.example , 127.0.0.1,[::1]");
        assert!(allow.allows("psa.internal.example"));
        assert!(allow.allows("127.0.0.1"));
        assert!(allow.allows("[::1]"));
        assert!(!allow.allows("10.0.0.1"));
    }
}
