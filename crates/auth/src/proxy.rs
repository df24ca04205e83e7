//! The client address of a request: the TCP peer, unless the peer is a configured trusted
//! proxy (`server.trusted_proxies`), in which case `X-Forwarded-For` names it. Without trusted
//! proxies the header is ignored: anyone can send it.

use std::net::{IpAddr, SocketAddr};

use crate::AuthError;

/// Addresses and networks (`10.0.0.0/8`, `::1`) of the proxies in front of the server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    networks: Vec<(IpAddr, u8)>,
}

fn parse_ip(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    // `1.2.3.4:5678` or `[2001:db8::1]:443`, as some proxies write it.
    text.parse::<SocketAddr>()
        .ok()
        .map(|a| a.ip().to_canonical())
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let m = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4((bits & m).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let m = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6((bits & m).into())
        }
    }
}

impl TrustedProxies {
    /// Parses `addr` or `addr/prefix` entries.
    pub fn new(entries: &[String]) -> Result<TrustedProxies, AuthError> {
        let mut networks = Vec::with_capacity(entries.len());
        for entry in entries {
            let invalid = || AuthError::InvalidProxy(entry.clone());
            let (addr, prefix) = match entry.trim().split_once('/') {
                Some((a, p)) => (a, Some(p.trim().parse::<u8>().map_err(|_| invalid())?)),
                None => (entry.trim(), None),
            };
            let ip: IpAddr = addr
                .trim()
                .parse::<IpAddr>()
                .map_err(|_| invalid())?
                .to_canonical();
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(max);
            if prefix > max {
                return Err(invalid());
            }
            networks.push((mask(ip, prefix), prefix));
        }
        Ok(TrustedProxies { networks })
    }

    pub fn is_empty(&self) -> bool {
        self.networks.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks
            .iter()
            .any(|&(net, prefix)| net.is_ipv4() == ip.is_ipv4() && mask(ip, prefix) == net)
    }

    /// The client of a request from `peer`: the peer itself, or, while the hop is a trusted
    /// proxy, the address it says it forwarded for (`X-Forwarded-For`, read from the right;
    /// the first address that is not a trusted proxy is the client). An entry that is not an
    /// address stops the walk at the proxy that wrote it.
    pub fn client_address(&self, peer: IpAddr, headers: &http::HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if self.is_empty() || !self.contains(client) {
            return client;
        }
        let values: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        for hop in values.iter().flat_map(|v| v.split(',')).rev() {
            if !self.contains(client) {
                break;
            }
            match parse_ip(hop) {
                Some(ip) => client = ip,
                None => break,
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    fn forwarded(values: &[&str]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn networks_parse_and_match() {
        let p = proxies(&["10.0.0.0/8", "192.0.2.7", "fd00::/8", "::1"]);
        assert!(p.contains(ip("10.200.3.4")));
        assert!(!p.contains(ip("11.0.0.1")));
        assert!(p.contains(ip("192.0.2.7")));
        assert!(!p.contains(ip("192.0.2.8")));
        assert!(p.contains(ip("fd12::1")));
        assert!(p.contains(ip("::1")));
        assert!(!p.contains(ip("2001:db8::1")));
        assert!(p.contains(ip("::ffff:10.1.1.1")));
        assert!(proxies(&["0.0.0.0/0"]).contains(ip("203.0.113.5")));
        for bad in ["10.0.0.0/33", "::/129", "proxy.example", "10.0.0.1/x", ""] {
            assert!(TrustedProxies::new(&[bad.to_string()]).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_counts_only_from_trusted_proxies() {
        let h = forwarded(&["203.0.113.9"]);
        // No trusted proxies, or a peer that is not one: the header is anyone's to forge.
        assert_eq!(
            TrustedProxies::default().client_address(ip("127.0.0.1"), &h),
            ip("127.0.0.1")
        );
        let p = proxies(&["10.0.0.0/8"]);
        assert_eq!(p.client_address(ip("198.51.100.1"), &h), ip("198.51.100.1"));
        assert_eq!(p.client_address(ip("10.0.0.5"), &h), ip("203.0.113.9"));
        // No header: the proxy itself.
        let none = http::HeaderMap::new();
        assert_eq!(p.client_address(ip("10.0.0.5"), &none), ip("10.0.0.5"));
    }

    #[test]
    fn forwarded_for_is_read_from_the_right_through_trusted_hops() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.5");
        // The client put a forged address first; the first untrusted from the right wins.
        let h = forwarded(&["1.1.1.1, 203.0.113.9, 10.1.1.1"]);
        assert_eq!(p.client_address(peer, &h), ip("203.0.113.9"));
        // Several header lines are one list.
        let h = forwarded(&["1.1.1.1, 203.0.113.9", "10.1.1.1"]);
        assert_eq!(p.client_address(peer, &h), ip("203.0.113.9"));
        // Ports and brackets as some proxies write them.
        let h = forwarded(&["[2001:db8::7]:4711"]);
        assert_eq!(p.client_address(peer, &h), ip("2001:db8::7"));
        let h = forwarded(&["203.0.113.9:80"]);
        assert_eq!(p.client_address(peer, &h), ip("203.0.113.9"));
        // Garbage stops at the last proxy that wrote something sensible.
        let h = forwarded(&["203.0.113.9, unknown, 10.1.1.1"]);
        assert_eq!(p.client_address(peer, &h), ip("10.1.1.1"));
        // All hops trusted: the leftmost.
        let h = forwarded(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(p.client_address(peer, &h), ip("10.9.9.9"));
    }
}
