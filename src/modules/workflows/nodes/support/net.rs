//! The public-only HTTP client every URL a graph names goes through (HTTP Request, and LLM
//! and AI Agent nodes with a base URL of their own), and HTTP errors as node errors.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use crate::modules::workflows::{nodes::NodeError, runtime::Runner};

/// The shared HTTP client of HTTP Request and LLM nodes. Without `allow_private`, every name is
/// resolved by [`PublicOnlyResolver`] when the connection is made, and redirects are followed
/// only to hosts that are not private IP literals or `localhost` (IP literals never reach a
/// resolver; [`check_url`] refuses them before the first request).
pub fn http_client(allow_private: bool) -> reqwest::Client {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("zygo-workflows/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10));
    let builder = if allow_private {
        builder.redirect(reqwest::redirect::Policy::limited(5))
    } else {
        // No proxy from the environment: a proxy would resolve the name itself, out of the
        // resolver's reach.
        builder.no_proxy().dns_resolver(Arc::new(PublicOnlyResolver)).redirect(
            reqwest::redirect::Policy::custom(|attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("too many redirects");
                }
                let blocked = match attempt.url().host() {
                    Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
                    Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
                    Some(url::Host::Domain(d)) => d == "localhost" || d.ends_with(".localhost"),
                    None => true,
                };
                if blocked {
                    attempt.error("redirect to a private address refused")
                } else {
                    attempt.follow()
                }
            }),
        )
    };
    builder.build().expect("HTTP client builds")
}

/// Name resolution for HTTP nodes that may reach only public hosts: resolves as the system
/// does, then refuses a name with any internal address. The connection goes to exactly the
/// addresses checked here, so neither a name that answers a public address to [`check_url`]
/// and an internal one a moment later (DNS rebinding), nor a redirect to a name pointing
/// inside, reaches an internal service.
pub(crate) struct PublicOnlyResolver;

/// The public-only resolver, for other clients that send to addresses tenants choose
/// (outbound webhooks).
pub(crate) fn public_only_resolver() -> Arc<PublicOnlyResolver> {
    Arc::new(PublicOnlyResolver)
}

impl reqwest::dns::Resolve for PublicOnlyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(format!("{host} resolves to a private or internal address").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `ip` is a globally routable address: not loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), "this network", benchmarking, reserved, multicast or
/// broadcast — and, for IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64),
/// whether that address is.
pub(crate) fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || a >= 240
                || a == 100 && (b & 0xc0) == 64
                || a == 198 && (b & 0xfe) == 18
                || a == 192 && b == 0 && c == 0)
        }
        IpAddr::V6(v6) => {
            let seg = v6.segments();
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let v4_in = |hi: u16, lo: u16| {
                let [a, b] = [hi.to_be_bytes(), lo.to_be_bytes()];
                IpAddr::V4([a[0], a[1], b[0], b[1]].into())
            };
            // Forms that carry an IPv4 address: NAT64 (64:ff9b::/96), IPv4-translated
            // (::ffff:0:a.b.c.d), the deprecated IPv4-compatible form (::a.b.c.d), and 6to4
            // (2002:aabb:ccdd::/48).
            if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
                || seg[..6] == [0, 0, 0, 0, 0xffff, 0]
                || (seg[..6] == [0; 6] && !v6.is_loopback())
            {
                return is_public(v4_in(seg[6], seg[7]));
            }
            if seg[0] == 0x2002 {
                return is_public(v4_in(seg[1], seg[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg[0] & 0xfe00) == 0xfc00 // unique local
                || (seg[0] & 0xffc0) == 0xfe80 // link-local
                || (seg[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
                || (seg[0] == 0x64 && seg[1] == 0xff9b && seg[2] == 1)) // local-use NAT64
        }
    }
}

/// Parses `raw` as an http(s) URL and, unless private addresses are allowed, refuses one
/// whose host resolves to a loopback, private, link-local or otherwise internal address.
pub(crate) async fn check_url(runner: &Runner, raw: &str) -> Result<reqwest::Url, NodeError> {
    let url = reqwest::Url::parse(raw).map_err(|e| NodeError::new("config", format!("config.url: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(NodeError::new("config", "config.url: only http and https URLs"));
    }
    if runner.app.config.workflows.http_allow_private {
        return Ok(url);
    }
    let host = url.host_str().ok_or_else(|| NodeError::new("config", "config.url: no host"))?.to_string();
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<_> = tokio::net::lookup_host((host.trim_matches(|c| c == '[' || c == ']'), port))
        .await
        .map_err(|e| NodeError::new("network", format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() || addrs.iter().any(|a| !is_public(a.ip())) {
        return Err(NodeError::new(
            "config",
            format!("{host} is a private or internal address; HTTP nodes reach only public hosts"),
        ));
    }
    Ok(url)
}

pub(crate) fn status_error(status: reqwest::StatusCode, what: &str, body: &str) -> NodeError {
    let kind = match status.as_u16() {
        429 => "http_429",
        400..=499 => "http_4xx",
        _ => "http_5xx",
    };
    let body: String = body.chars().take(300).collect();
    NodeError::new(kind, format!("{what} answered HTTP {}: {body}", status.as_u16()))
}

pub(crate) fn send_error(e: reqwest::Error) -> NodeError {
    // reqwest's own message names only the URL; the cause (refused address, TLS, reset) is in
    // the source chain.
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    NodeError::new(if e.is_timeout() { "timeout" } else { "network" }, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_globally_routable_addresses_are_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.1.2.3",
            "198.18.0.1",
            "192.0.0.8",
            "240.0.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::10.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "::ffff:0:7f00:1",
            "2002:a00:1::1",
            "fec0::1",
            "64:ff9b:1::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip} is internal");
        }
        for ip in [
            "1.1.1.1",
            "93.184.216.34",
            "2606:4700:4700::1111",
            "64:ff9b::101:101",
            "::ffff:8.8.8.8",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip} is public");
        }
    }

    /// The check happens when the connection is made, not only before the request: a client
    /// for public hosts cannot connect to a name that resolves to loopback, even if nothing
    /// checked the URL first (a redirect, or a name re-resolved after `check_url`).
    #[tokio::test]
    async fn a_public_only_client_does_not_connect_to_a_name_resolving_inside() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let _ = sock.read(&mut [0u8; 4096]).await;
                let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        });
        let url = format!("http://localhost:{port}/");
        let open = http_client(true).get(&url).send().await.expect("the open client connects");
        assert_eq!(open.status(), 200);
        let err = http_client(false).get(&url).send().await.expect_err("refused at resolution");
        let message = send_error(err).message;
        assert!(message.contains("localhost resolves to a private or internal address"), "{message}");
    }
}
