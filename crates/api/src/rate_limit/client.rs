//! Which address a request comes from, for per-address budgets.
//!
//! `X-Forwarded-For` is believed only when the direct peer is a configured trusted proxy
//! (`TRUSTED_PROXIES`); then the header is read from the right, skipping trusted proxies, and
//! the first address that is not one of them is the client. Anything left of it was written by
//! the client and may be forged. IPv6 clients are counted per /64, the block one subscriber
//! usually holds, so rotating addresses inside it does not buy a fresh budget.

use actix_web::{http::header::HeaderMap, HttpRequest};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr};

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address as this request sees it (`None` without a TCP peer).
pub fn client_addr(req: &HttpRequest, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    Some(resolve(peer, req.headers(), trusted))
}

/// The subject a per-address budget is kept under: the address, or its /64 for IPv6.
pub fn address_subject(addr: Option<IpAddr>) -> String {
    match addr.map(canonical) {
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let segments = v6.segments();
            let net = Ipv6Addr::new(
                segments[0],
                segments[1],
                segments[2],
                segments[3],
                0,
                0,
                0,
                0,
            );
            format!("ip:{net}/64")
        }
        None => "ip:unknown".into(),
    }
}

pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if !is_trusted(peer, trusted) {
        return peer;
    }
    // Several X-Forwarded-For headers are one list, in order.
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        match parse_hop(hop) {
            Some(addr) => {
                client = addr;
                if !is_trusted(addr, trusted) {
                    return addr;
                }
            }
            // Garbage where a trusted proxy should have written an address: stop at the last
            // address a trusted hop vouched for.
            None => return client,
        }
    }
    client
}

fn is_trusted(addr: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&addr))
}

/// `::ffff:1.2.3.4` is `1.2.3.4`, so one client is not two budgets.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    }
}

/// An address as proxies write it: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(addr) = hop.parse::<IpAddr>() {
        return Some(canonical(addr));
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|s| canonical(s.ip()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                HeaderName::from_static(X_FORWARDED_FOR),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_cannot_choose_its_address() {
        let got = resolve(
            ip("203.0.113.9"),
            &headers(&["1.1.1.1"]),
            &nets(&["10.0.0.0/8"]),
        );
        assert_eq!(got, ip("203.0.113.9"));
        let got = resolve(ip("203.0.113.9"), &headers(&["1.1.1.1"]), &[]);
        assert_eq!(got, ip("203.0.113.9"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client forged "6.6.6.6"; the edge proxy appended the real address, an inner
        // proxy appended the edge's.
        let h = headers(&["6.6.6.6, 198.51.100.7, 10.0.0.2"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
        // Split over several headers, same answer.
        let h = headers(&["6.6.6.6", "198.51.100.7, 10.0.0.2"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn a_trusted_peer_without_the_header_is_the_client() {
        assert_eq!(
            resolve(ip("10.1.2.3"), &HeaderMap::new(), &nets(&["10.0.0.0/8"])),
            ip("10.1.2.3")
        );
    }

    #[test]
    fn garbage_stops_the_walk_at_the_last_vouched_address() {
        let trusted = nets(&["10.0.0.0/8"]);
        let h = headers(&["not-an-ip, 10.0.0.5"]);
        assert_eq!(resolve(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.5"));
    }

    #[test]
    fn ports_brackets_and_mapped_addresses_are_understood() {
        let trusted = nets(&["127.0.0.1/32"]);
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers(&["[2001:db8::1]:443"]), &trusted),
            ip("2001:db8::1")
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), &headers(&["192.0.2.1:5678"]), &trusted),
            ip("192.0.2.1")
        );
        assert_eq!(
            resolve(ip("::ffff:127.0.0.1"), &headers(&["192.0.2.1"]), &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn ipv6_clients_share_a_budget_per_64() {
        let a = address_subject(Some(ip("2001:db8:1:2:aaaa::1")));
        let b = address_subject(Some(ip("2001:db8:1:2:bbbb::9")));
        let c = address_subject(Some(ip("2001:db8:1:3::1")));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(address_subject(Some(ip("192.0.2.1"))), "ip:192.0.2.1");
        assert_eq!(
            address_subject(Some(ip("::ffff:192.0.2.1"))),
            "ip:192.0.2.1"
        );
    }
}
