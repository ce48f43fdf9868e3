//! Where an adapter's connections may land, checked after name resolution and on every new
//! connection: a granted name that resolves to loopback, link-local (cloud metadata at
//! 169.254.169.254), private or otherwise non-public space is refused, so an `allowed_hosts`
//! entry cannot be pointed (or DNS-rebound) at the machine or its network.
//!
//! | refused                     | IPv4                                   | IPv6                  |
//! |-----------------------------|----------------------------------------|-----------------------|
//! | unspecified / "this" network| `0.0.0.0/8`                            | `::`                  |
//! | loopback                    | `127.0.0.0/8`                          | `::1`                 |
//! | private                     | `10/8`, `172.16/12`, `192.168/16`      | `fc00::/7`            |
//! | link-local                  | `169.254/16`                           | `fe80::/10`           |
//! | shared (CGNAT)              | `100.64/10`                            |                       |
//! | multicast, broadcast        | `224/4`, `255.255.255.255`             | `ff00::/8`            |
//! | reserved, protocol, bench   | `240/4`, `192.0.0/24`, `198.18/15`     | `fec0::/10` (site)    |
//!
//! An IPv6 address that embeds an IPv4 one (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
//! NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) is judged by the IPv4 address it carries.
//!
//! The exception: the origins the operator's own `base_url`s name (or the host's table of
//! known providers, e.g. a local Ollama at `http://127.0.0.1:11434/v1`) connect wherever they
//! resolve. The operator wrote those; an adapter cannot add to them. A refused connection
//! never opens a socket: names are filtered inside the resolver hyper-util's connector calls,
//! and IP literals before it is called.

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::{GaiResolver, Name};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tower_service::Service;

use super::outbound::Origin;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A connection refused because of where it would land.
#[derive(Debug, thiserror::Error)]
#[error(
    "{host} resolves to {address}, a {reason} address; only the origins a provider's base_url names may reach such addresses"
)]
pub struct BlockedAddress {
    /// The host the request named.
    pub host: String,
    /// The address it resolved to (the first refused one).
    pub address: IpAddr,
    /// What kind of address it is.
    pub reason: &'static str,
}

/// Why `ip` may not be reached from an adapter, or `None` for a public address.
pub fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => refused_v4(v4),
            None => refused_v6(v6),
        },
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        (224..=239, _, _) => "multicast",
        (255, 255, 255) if ip.is_broadcast() => "broadcast",
        (240..=255, _, _) => "reserved",
        (192, 0, 0) => "IETF protocol",
        (198, 18..=19, _) => "benchmarking",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    Some(if ip.is_unspecified() {
        "unspecified"
    } else if ip.is_loopback() {
        "loopback"
    } else if first & 0xfe00 == 0xfc00 {
        "private (unique local)"
    } else if first & 0xffc0 == 0xfe80 {
        "link-local"
    } else if first & 0xffc0 == 0xfec0 {
        "site-local"
    } else if first & 0xff00 == 0xff00 {
        "multicast"
    } else {
        return None;
    })
}

/// The IPv4 address an IPv6 one carries: mapped, compatible, NAT64 or 6to4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        // `::` and `::1` are IPv6's own unspecified and loopback addresses.
        [0, 0, 0, 0, 0, 0, 0, 0 | 1] => None,
        [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// hyper-util's resolver with the refused addresses filtered out; a name left with none
/// fails with [`BlockedAddress`], so no socket is opened.
#[derive(Clone)]
pub struct PublicOnly(GaiResolver);

impl Service<Name> for PublicOnly {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.0.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let host = name.as_str().to_owned();
        let lookup = self.0.call(name);
        Box::pin(async move {
            let mut refused = None;
            let public: Vec<SocketAddr> = lookup
                .await?
                .filter(|a| match refused_kind(a.ip()) {
                    Some(reason) => {
                        refused.get_or_insert((a.ip(), reason));
                        false
                    }
                    None => true,
                })
                .collect();
            match refused {
                Some((address, reason)) if public.is_empty() => Err(Box::new(BlockedAddress {
                    host,
                    address,
                    reason,
                }) as BoxError),
                _ => Ok(public.into_iter()),
            }
        })
    }
}

/// The TCP connector under TLS: origins the operator named connect anywhere, every other
/// origin only to public addresses (see the module doc).
#[derive(Clone)]
pub struct GuardedConnector {
    public: HttpConnector<PublicOnly>,
    trusted: HttpConnector,
    operator_origins: Arc<RwLock<Vec<Origin>>>,
}

impl GuardedConnector {
    /// Both connectors with the same socket settings (see `Outbound::new`).
    pub fn new(connect_timeout: Duration) -> Self {
        let mut public = HttpConnector::new_with_resolver(PublicOnly(GaiResolver::new()));
        let mut trusted = HttpConnector::new();
        configure(&mut public, connect_timeout);
        configure(&mut trusted, connect_timeout);
        Self {
            public,
            trusted,
            operator_origins: Arc::default(),
        }
    }

    /// Add origins the operator's config names as base URLs; they may resolve anywhere.
    pub fn trust(&self, origins: impl IntoIterator<Item = Origin>) {
        let mut trusted = self
            .operator_origins
            .write()
            .unwrap_or_else(|e| e.into_inner());
        for origin in origins {
            if !trusted.contains(&origin) {
                trusted.push(origin);
            }
        }
    }

    fn is_trusted(&self, origin: &Origin) -> bool {
        let trusted = self
            .operator_origins
            .read()
            .unwrap_or_else(|e| e.into_inner());
        trusted.contains(origin)
    }
}

fn configure<R>(connector: &mut HttpConnector<R>, connect_timeout: Duration) {
    connector.set_nodelay(true);
    connector.enforce_http(false);
    connector.set_connect_timeout(Some(connect_timeout));
    connector.set_keepalive(Some(Duration::from_secs(60)));
}

impl Service<http::Uri> for GuardedConnector {
    type Response = TokioIo<TcpStream>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.public.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        if Origin::of_uri(&uri).is_some_and(|o| self.is_trusted(&o)) {
            let connect = self.trusted.call(uri);
            return Box::pin(async move { connect.await.map_err(Into::into) });
        }
        let host = uri.host().unwrap_or_default().trim_matches(['[', ']']);
        if let Ok(address) = host.parse::<IpAddr>()
            && let Some(reason) = refused_kind(address)
        {
            let blocked = BlockedAddress {
                host: host.to_owned(),
                address,
                reason,
            };
            return Box::pin(async move { Err(Box::new(blocked) as BoxError) });
        }
        let connect = self.public.call(uri);
        Box::pin(async move { connect.await.map_err(Into::into) })
    }
}

/// The [`BlockedAddress`] somewhere in `error`'s source chain.
pub fn blocked_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a BlockedAddress> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(blocked) = e.downcast_ref::<BlockedAddress>() {
            return Some(blocked);
        }
        next = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Option<&'static str> {
        refused_kind(text.parse().unwrap())
    }

    #[test]
    fn non_public_addresses_are_refused_in_every_form() {
        for (address, expected) in [
            ("0.0.0.0", "unspecified"),
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.255", "shared (CGNAT)"),
            ("224.0.0.1", "multicast"),
            ("255.255.255.255", "broadcast"),
            ("240.0.0.1", "reserved"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("fe80::1", "link-local"),
            ("fc00::1", "private (unique local)"),
            ("fd12:3456::1", "private (unique local)"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "loopback"),
            ("::10.0.0.1", "private"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:a9fe:a9fe::1", "link-local"),
            ("2002:c0a8:0101::", "private"),
        ] {
            assert_eq!(kind(address), Some(expected), "{address}");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for address in [
            "1.1.1.1",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "169.253.1.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert_eq!(kind(address), None, "{address}");
        }
    }

    #[tokio::test]
    async fn a_name_resolving_only_to_loopback_is_refused_before_connecting() {
        let mut resolver = PublicOnly(GaiResolver::new());
        let error = resolver
            .call("localhost".parse().unwrap())
            .await
            .expect_err("localhost resolves to loopback only");
        let blocked = blocked_in(&*error).expect("a BlockedAddress");
        assert_eq!(blocked.reason, "loopback");
        assert_eq!(blocked.host, "localhost");
    }

    #[tokio::test]
    async fn an_operator_origin_connects_to_loopback_and_others_do_not() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut connector = GuardedConnector::new(Duration::from_secs(2));
        let uri: http::Uri = format!("http://127.0.0.1:{port}/v1").parse().unwrap();
        let error = connector
            .call(uri.clone())
            .await
            .expect_err("not trusted yet");
        assert_eq!(blocked_in(&*error).unwrap().reason, "loopback");
        let by_name: http::Uri = format!("http://localhost:{port}/").parse().unwrap();
        connector.trust(Origin::parse(&uri.to_string()));
        connector
            .call(uri)
            .await
            .expect("the operator's origin connects");
        let error = connector.call(by_name).await.expect_err("another origin");
        assert!(blocked_in(&*error).is_some(), "{error}");
    }
}
