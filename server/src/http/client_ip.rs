//! The client's address for the per-IP limits (login, connections, SSE):
//! the TCP peer, unless the peer is a trusted reverse proxy
//! (`HIBIKI_TRUSTED_PROXIES`); then the address the proxies recorded in the
//! one header they are configured to write (`HIBIKI_FORWARDED_HEADER`:
//! `X-Forwarded-For` by default, or RFC 7239 `Forwarded: for=`).
//!
//! That header is a list that every proxy appends to, and a client can send
//! any list it likes. So the list is read from the right: each entry that is
//! itself a trusted proxy is a hop to skip, and the first untrusted one is
//! the client (anything left of it was written by that client and is
//! ignored). Only one header is read: a proxy that writes one passes the
//! other through from the client untouched, so reading both would let a
//! client choose its own address. From an untrusted peer both are ignored.

use crate::state::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// Which header trusted proxies write the client's address into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, …` (nginx, HAProxy, Caddy, Traefik).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client, for=proxy1, …`.
    Forwarded,
}

/// The client's address, as above. Every per-IP limit keys on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // `serve` inserts the peer for every request; a request without it
        // (a router driven in-process) counts as the unspecified address.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([0, 0, 0, 0]), |ConnectInfo(p)| p.ip());
        let config = &state.config;
        Ok(Self(client_ip(
            peer,
            &parts.headers,
            &config.trusted_proxies,
            config.forwarded_header,
        )))
    }
}

/// The client's address for a request from `peer` with `headers`.
pub fn client_ip(
    peer: IpAddr,
    headers: &HeaderMap,
    trusted: &[IpNet],
    header: ForwardedHeader,
) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = match header {
        ForwardedHeader::XForwardedFor => x_forwarded_for(headers),
        ForwardedHeader::Forwarded => forwarded_for(headers),
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        // An entry we cannot read ends the walk: the last address we could
        // trust is the best we know (a proxy wrote garbage, or an
        // obfuscated `for=_hidden` identifier).
        let Some(ip) = hop.map(canonical) else { break };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

/// The `for=` of every `Forwarded` element, in order (`None` where it is
/// missing or not an address).
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, v)| parse_node(v.trim().trim_matches('"')))
        })
        .collect()
}

/// Every `X-Forwarded-For` entry, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`,
/// `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:4711`.
fn parse_node(s: &str) -> Option<IpAddr> {
    s.parse::<IpAddr>()
        .ok()
        .or_else(|| s.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            s.strip_prefix('[')
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|r| r.parse().ok())
        })
}

/// An IPv4 address seen through a dual-stack socket (`::ffff:192.0.2.1`) is
/// that IPv4 address, so one client has one budget however it arrives.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// Parses one `HIBIKI_TRUSTED_PROXIES` entry: an address (`10.0.0.1`,
/// `::1`) or a network in CIDR form (`10.0.0.0/8`, `fd00::/8`).
pub fn parse_trusted_proxy(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("'{s}' is not an IP address or CIDR network"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use ForwardedHeader::{Forwarded, XForwardedFor};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|s| parse_trusted_proxy(s).unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn untrusted_peers_are_taken_as_they_are() {
        let h = headers(&[
            ("x-forwarded-for", "203.0.113.9"),
            ("forwarded", "for=1.2.3.4"),
        ]);
        let peer = ip("198.51.100.7");
        for header in [XForwardedFor, Forwarded] {
            assert_eq!(client_ip(peer, &h, &[], header), peer);
            assert_eq!(client_ip(peer, &h, &nets(&["10.0.0.0/8"]), header), peer);
        }
    }

    #[test]
    fn from_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.5"]);
        let peer = ip("10.1.2.3");
        let xff = |v: &'static str| headers(&[("x-forwarded-for", v)]);
        let at = |h: &HeaderMap| client_ip(peer, h, &trusted, XForwardedFor);
        // The client forged the first entry; the proxies appended the rest.
        assert_eq!(
            at(&xff("6.6.6.6, 203.0.113.9, 192.168.1.5")),
            ip("203.0.113.9")
        );
        // Several header lines are one list; ports are dropped.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9:5555"),
        ]);
        assert_eq!(at(&h), ip("203.0.113.9"));
        // No header: the proxy itself.
        assert_eq!(at(&HeaderMap::new()), peer);
        // Every hop trusted: the left-most.
        assert_eq!(at(&xff("10.9.9.9, 192.168.1.5")), ip("10.9.9.9"));
        // Garbage stops the walk at the last hop we could trust.
        assert_eq!(at(&xff("not-an-ip, 192.168.1.5")), ip("192.168.1.5"));
        // A forged `Forwarded` is not read when the proxy writes X-Forwarded-For.
        let h = headers(&[
            ("forwarded", "for=6.6.6.6"),
            ("x-forwarded-for", "203.0.113.9"),
        ]);
        assert_eq!(at(&h), ip("203.0.113.9"));
    }

    #[test]
    fn forwarded_for_is_read_when_configured() {
        let trusted = nets(&["127.0.0.1", "::1"]);
        let h = headers(&[
            (
                "forwarded",
                "for=6.6.6.6, For=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.1",
            ),
            ("x-forwarded-for", "198.51.100.1"),
        ]);
        assert_eq!(
            client_ip(ip("::1"), &h, &trusted, Forwarded),
            ip("2001:db8:cafe::17")
        );
        let h = headers(&[("forwarded", "for=_hidden, for=127.0.0.1")]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &h, &trusted, Forwarded),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn mapped_ipv4_is_ipv4() {
        let trusted = nets(&["127.0.0.0/8"]);
        let h = headers(&[("x-forwarded-for", "::ffff:203.0.113.9")]);
        assert_eq!(
            client_ip(ip("::ffff:127.0.0.1"), &h, &trusted, XForwardedFor),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxy_entries_parse() {
        assert_eq!(nets(&[" 10.0.0.1 "])[0].to_string(), "10.0.0.1/32");
        assert_eq!(nets(&["10.1.2.3/8"])[0].to_string(), "10.0.0.0/8");
        assert_eq!(nets(&["fd00::/8"])[0].to_string(), "fd00::/8");
        for bad in ["", "10.0.0.0/33", "example.com", "10.0.0.1/x"] {
            assert!(parse_trusted_proxy(bad).is_err(), "{bad}");
        }
    }
}
