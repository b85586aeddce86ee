//! Which address a request came from when it may have passed through reverse
//! proxies (`OBERA_TRUSTED_PROXIES` and `X-Forwarded-For`).
//!
//! Every proxy appends the address it received the request from, so the right-hand
//! end of the list is written by our own proxies and the left-hand end by whoever
//! sent the request, possibly forged. The client is therefore the right-most entry
//! that is not one of our proxies, and the header is read at all only when the TCP
//! peer is one of them; otherwise anyone could name any address and get a fresh
//! throttle budget per request.

use std::net::IpAddr;

/// An address range: one address, or CIDR notation such as `10.0.0.0/8`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    base: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Option<Network> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let base = addr.parse::<IpAddr>().ok()?.to_canonical();
        let width = if base.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => width,
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                p.parse::<u8>().ok().filter(|p| *p <= width)?
            }
            Some(_) => return None,
        };
        Some(Network { base, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        match (self.base, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => same_prefix(
                u128::from(u32::from(net)),
                u128::from(u32::from(ip)),
                32,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(u128::from(net), u128::from(ip), 128, self.prefix)
            }
            _ => false,
        }
    }
}

/// True when the first `prefix` of `width` bits of `a` and `b` agree.
fn same_prefix(a: u128, b: u128, width: u8, prefix: u8) -> bool {
    let host_bits = u32::from(width - prefix);
    a.checked_shr(host_bits).unwrap_or(0) == b.checked_shr(host_bits).unwrap_or(0)
}

/// The reverse proxies whose `X-Forwarded-For` is believed. Empty (the default)
/// means the TCP peer is always the client.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<Network>);

/// `OBERA_TRUSTED_PROXIES` holds something that is not an address or range.
#[derive(Debug, thiserror::Error)]
#[error(
    "OBERA_TRUSTED_PROXIES: `{0}` is neither an IP address nor a CIDR range such as 10.0.0.0/8"
)]
pub struct BadProxyList(String);

impl TrustedProxies {
    /// Parses a comma-separated list of IP addresses and CIDR ranges.
    pub fn parse(list: &str) -> Result<Self, BadProxyList> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Network::parse(s).ok_or_else(|| BadProxyList(s.to_owned())))
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    /// True when `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address, given the TCP peer and the request's `X-Forwarded-For`
    /// lines in order. The header counts only when the peer is a trusted proxy; then
    /// the entries are walked from the right past trusted proxies to the first that is
    /// not one. A malformed header (not text, an empty or unparsable entry reached
    /// on that walk) yields the peer, as does a missing one; a chain made only of
    /// trusted proxies yields its left-most entry, the origin as they reported it.
    pub fn client_address(&self, peer: IpAddr, forwarded_for: &[&[u8]]) -> IpAddr {
        let peer = peer.to_canonical();
        if forwarded_for.is_empty() || !self.contains(peer) {
            return peer;
        }
        let mut entries = Vec::new();
        for line in forwarded_for {
            let Ok(text) = std::str::from_utf8(line) else {
                return peer;
            };
            entries.extend(text.split(',').map(|e| e.trim_matches([' ', '\t'])));
        }
        let mut origin = peer;
        for entry in entries.iter().rev() {
            let Some(ip) = parse_entry(entry) else {
                return peer;
            };
            if !self.contains(ip) {
                return ip;
            }
            origin = ip;
        }
        origin
    }
}

/// One `X-Forwarded-For` entry: an address, `v4:port`, `[v6]` or `[v6]:port`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    let (host, port) = match entry.strip_prefix('[') {
        Some(rest) => {
            let (host, after) = rest.split_once(']')?;
            (
                host,
                after
                    .strip_prefix(':')
                    .or(after.is_empty().then_some("0"))?,
            )
        }
        None => entry.split_once(':')?,
    };
    port.parse::<u16>().ok()?;
    host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &str) -> TrustedProxies {
        TrustedProxies::parse(list).unwrap()
    }

    #[test]
    fn with_no_trusted_proxies_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("127.0.0.1"), &[b"203.0.113.7"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn an_untrusted_peer_cannot_name_its_own_address() {
        let p = proxies("10.0.0.1");
        assert_eq!(
            p.client_address(ip("198.51.100.9"), &[b"203.0.113.7"]),
            ip("198.51.100.9")
        );
    }

    #[test]
    fn a_trusted_peer_gives_the_right_most_entry_that_is_not_a_proxy() {
        let p = proxies("10.0.0.0/8, 192.168.1.1");
        assert_eq!(
            p.client_address(ip("10.0.0.1"), &[b"1.1.1.1, 203.0.113.7, 10.2.3.4"]),
            ip("203.0.113.7")
        );
        // Several header lines form one list, in order.
        assert_eq!(
            p.client_address(ip("192.168.1.1"), &[b"1.1.1.1", b"203.0.113.7 ,10.9.9.9"]),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn forged_left_hand_entries_do_not_change_the_client() {
        let p = proxies("10.0.0.1");
        assert_eq!(
            p.client_address(ip("10.0.0.1"), &[b"10.0.0.1, 203.0.113.7"]),
            ip("203.0.113.7")
        );
        assert_eq!(
            p.client_address(ip("10.0.0.1"), &[b"garbage, 203.0.113.7"]),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn malformed_headers_fall_back_to_the_peer() {
        let p = proxies("10.0.0.1");
        let peer = ip("10.0.0.1");
        for bad in [
            &b"not-an-ip"[..],
            b"203.0.113.7, unknown",
            b"203.0.113.7,,10.0.0.1",
            b"",
            b"203.0.113.7:notaport",
            b"[2001:db8::1",
            b"300.1.1.1",
            b"\xff\xfe",
        ] {
            assert_eq!(p.client_address(peer, &[bad]), peer, "{bad:?}");
        }
        assert_eq!(p.client_address(peer, &[]), peer);
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let p = proxies("10.0.0.1, 2001:db8::/32");
        assert_eq!(
            p.client_address(ip("::ffff:10.0.0.1"), &[b"203.0.113.7:4711"]),
            ip("203.0.113.7")
        );
        assert_eq!(
            p.client_address(
                ip("2001:db8::5"),
                &[b"[2001:db8:ffff::1]:443, [2001:db8::9]"]
            ),
            ip("2001:db8:ffff::1").to_canonical()
        );
        assert_eq!(
            p.client_address(ip("10.0.0.1"), &[b"::ffff:198.51.100.2"]),
            ip("198.51.100.2")
        );
    }

    #[test]
    fn a_chain_of_only_proxies_gives_its_left_most_entry() {
        let p = proxies("10.0.0.0/8");
        assert_eq!(
            p.client_address(ip("10.0.0.1"), &[b"10.1.1.1, 10.2.2.2"]),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn ranges_match_on_their_prefix_only() {
        let p = proxies("192.168.0.0/16,fd00::/8,0.0.0.0/0");
        assert!(p.contains(ip("192.168.255.1")));
        assert!(p.contains(ip("8.8.8.8")), "/0 covers every IPv4 address");
        assert!(p.contains(ip("fdab::1")));
        assert!(!p.contains(ip("fe80::1")));
        let q = proxies("192.168.0.0/16");
        assert!(!q.contains(ip("192.169.0.1")));
        assert!(!q.contains(ip("::1")));
    }

    #[test]
    fn a_bad_proxy_list_is_refused_with_the_offending_entry() {
        for bad in ["10.0.0.0/33", "10.0.0.0/", "nope", "10.0.0.0/+8", "::/129"] {
            let err = TrustedProxies::parse(&format!("127.0.0.1, {bad}")).unwrap_err();
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert!(TrustedProxies::parse("").unwrap().0.is_empty());
    }
}
