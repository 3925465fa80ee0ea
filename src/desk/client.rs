//! The address of the client behind a request, for rate limits and the audit log.
//!
//! `X-Forwarded-For` is a list anyone can write: a client may send its own, and each proxy
//! appends the address it got the request from. So it is believed only from a peer the office
//! named as its proxy, and read from the right: each trusted hop vouches for the entry to its
//! left, and the first entry that is not a trusted proxy is the client. Entries further left were
//! written by the client itself and are ignored, which is what defeats a spoofed header.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

/// A proxy (a single address or a network, "10.0.0.1", "10.0.0.0/8", "fd00::/8") whose
/// `X-Forwarded-For` is believed. Parsed from `web.trusted_proxies` in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub struct TrustedProxy {
    /// The network address, host bits cleared; IPv4-mapped IPv6 is stored as IPv4.
    network: IpAddr,
    prefix: u8,
}

/// `web.trusted_proxies` entry that is neither an address nor a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or network (e.g. 10.0.0.1, 10.0.0.0/8, fd00::/8)")]
pub struct BadProxy(pub String);

impl TrustedProxy {
    /// Whether `addr` is this proxy or inside this network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.network, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                mask_v4(u32::from(a), self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                mask_v6(u128::from(a), self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

impl FromStr for TrustedProxy {
    type Err = BadProxy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadProxy(s.to_string());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let addr = addr.parse::<IpAddr>().map_err(|_| bad())?;
        let network = match addr.to_canonical() {
            IpAddr::V4(a) => {
                // A mapped address's prefix counts the 96 bits of `::ffff:` too.
                let prefix = match (addr, prefix) {
                    (_, None) => 32,
                    (IpAddr::V6(_), Some(p)) => p.checked_sub(96).ok_or_else(bad)?,
                    (IpAddr::V4(_), Some(p)) => p,
                };
                if prefix > 32 {
                    return Err(bad());
                }
                let net = IpAddr::from(mask_v4(u32::from(a), prefix).to_be_bytes());
                return Ok(TrustedProxy {
                    network: net,
                    prefix,
                });
            }
            IpAddr::V6(a) => {
                let prefix = prefix.unwrap_or(128);
                if prefix > 128 {
                    return Err(bad());
                }
                IpAddr::from(mask_v6(u128::from(a), prefix).to_be_bytes())
            }
        };
        Ok(TrustedProxy {
            network,
            prefix: prefix.unwrap_or(128),
        })
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = BadProxy;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn mask_v4(a: u32, prefix: u8) -> u32 {
    a & u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(a: u128, prefix: u8) -> u128 {
    a & u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// The client's address: `peer` (the TCP peer) unless it is a trusted proxy, else the first
/// untrusted entry of `forwarded_for` read from the right. A malformed entry ends the walk: the
/// last address read (a trusted hop's own claim) is taken, or `peer` if none was read. Several
/// `X-Forwarded-For` headers must be passed joined by commas, in order.
pub fn client_addr(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[TrustedProxy]) -> IpAddr {
    let is_trusted = |a: IpAddr| trusted.iter().any(|t| t.contains(a));
    let peer = peer.to_canonical();
    let Some(list) = forwarded_for.filter(|_| is_trusted(peer)) else {
        return peer;
    };
    let mut addr = peer;
    for entry in list.rsplit(',') {
        let Some(claimed) = parse_entry(entry) else {
            break;
        };
        addr = claimed;
        if !is_trusted(claimed) {
            break;
        }
    }
    addr
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`1.2.3.4:80`,
/// `[2001:db8::1]:443`) or brackets. Anything else ("unknown", obfuscated names) is `None`.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(a) = entry.parse::<IpAddr>() {
        return Some(a.to_canonical());
    }
    if let Ok(s) = entry.parse::<SocketAddr>() {
        return Some(s.ip().to_canonical());
    }
    let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(|a| a.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn proxies_parse_as_addresses_and_networks() {
        let p: TrustedProxy = "10.1.2.3/8".parse().unwrap();
        assert_eq!(p.to_string(), "10.0.0.0/8");
        assert!(p.contains(ip("10.200.0.1")));
        assert!(!p.contains(ip("11.0.0.1")));
        assert!(p.contains(ip("::ffff:10.0.0.9")), "IPv4-mapped peer");
        let single: TrustedProxy = "192.168.1.10".parse().unwrap();
        assert!(single.contains(ip("192.168.1.10")));
        assert!(!single.contains(ip("192.168.1.11")));
        let v6: TrustedProxy = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12:3456::1")));
        assert!(!v6.contains(ip("2001:db8::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: TrustedProxy = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.7")));
        let mapped: TrustedProxy = "::ffff:10.0.0.0/104".parse().unwrap();
        assert_eq!(mapped.to_string(), "10.0.0.0/8");
        for bad in [
            "10.0.0.0/33",
            "fd00::/129",
            "proxy.local",
            "10.0.0.0/",
            "",
            "::ffff:1.2.3.4/95",
        ] {
            assert!(bad.parse::<TrustedProxy>().is_err(), "{bad}");
        }
    }

    #[test]
    fn proxies_deserialize_from_config_strings() {
        #[derive(serde::Deserialize)]
        struct Web {
            trusted_proxies: Vec<TrustedProxy>,
        }
        let web: Web = toml::from_str(r#"trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]"#).unwrap();
        assert_eq!(web.trusted_proxies.len(), 2);
        let bad = toml::from_str::<Web>(r#"trusted_proxies = ["localhost"]"#);
        assert!(bad.is_err());
    }

    #[test]
    fn client_talking_directly_cannot_claim_another_address() {
        let trusted = proxies(&["10.0.0.1"]);
        let got = client_addr(ip("203.0.113.7"), Some("198.51.100.1"), &trusted);
        assert_eq!(got, ip("203.0.113.7"));
        assert_eq!(
            client_addr(ip("203.0.113.7"), Some("198.51.100.1"), &[]),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn client_behind_the_office_proxy_is_seen_by_its_real_address() {
        let trusted = proxies(&["10.0.0.1"]);
        let got = client_addr(ip("10.0.0.1"), Some("203.0.113.7"), &trusted);
        assert_eq!(got, ip("203.0.113.7"));
        assert_eq!(client_addr(ip("10.0.0.1"), None, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn fake_entries_a_client_prepends_are_ignored() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The client sent "X-Forwarded-For: 1.1.1.1, 10.9.9.9" hoping to be someone else or a
        // proxy; the office's two proxies appended the client and the first proxy.
        let header = "1.1.1.1, 10.9.9.9, 203.0.113.7, 10.0.0.2";
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some(header), &trusted),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn malformed_entries_stop_the_walk() {
        let trusted = proxies(&["10.0.0.0/8"]);
        // The first proxy wrote garbage: its own claim is the last one that can be read.
        assert_eq!(
            client_addr(
                ip("10.0.0.1"),
                Some("203.0.113.7, unknown, 10.0.0.2"),
                &trusted
            ),
            ip("10.0.0.2")
        );
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("203.0.113.7, <script>"), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some(""), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn entries_with_ports_brackets_and_ipv6_are_read() {
        let trusted = proxies(&["fd00::/8", "10.0.0.0/8"]);
        let cases = [
            ("203.0.113.7:51234", "203.0.113.7"),
            ("[2001:db8::7]:443", "2001:db8::7"),
            ("[2001:db8::7]", "2001:db8::7"),
            (" 2001:db8::7 ", "2001:db8::7"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
        ];
        for (header, want) in cases {
            assert_eq!(
                client_addr(ip("fd00::1"), Some(header), &trusted),
                ip(want),
                "{header}"
            );
        }
        assert_eq!(
            client_addr(ip("::ffff:10.0.0.1"), Some("203.0.113.7"), &trusted),
            ip("203.0.113.7"),
            "IPv4 proxy seen through a dual-stack socket"
        );
    }

    #[test]
    fn a_request_from_inside_the_proxy_network_is_the_leftmost_hop() {
        let trusted = proxies(&["10.0.0.0/8"]);
        assert_eq!(
            client_addr(ip("10.0.0.1"), Some("10.0.0.3, 10.0.0.2"), &trusted),
            ip("10.0.0.3")
        );
    }
}
