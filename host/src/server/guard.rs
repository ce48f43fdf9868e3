//! Who may ask: the rules that keep a web page in the user's browser from driving the gateway.
//! A page on any site can make the browser send a `text/plain` POST to `127.0.0.1:8640`
//! (cross-site request forgery), and a page whose name re-resolves to `127.0.0.1` (DNS
//! rebinding) can even read the answers. Browsers always name the page's origin in `Origin` on
//! cross-site requests and on every POST, and always send the name they connected to in
//! `Host`; SDKs, `curl` and other programs send no `Origin`. So:
//!
//! | header | accepted |
//! |--------|----------|
//! | `Host` (or HTTP/2's `:authority`) | an address of the listen address at its port: bound to loopback, `127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT` (any loopback IP); bound to another IP, that IP; bound to `0.0.0.0`/`::`, any IP and `localhost`; plus `[server] allowed_host_names` (`name` at any port, `name:port` at that one). Absent (HTTP/1.0): accepted, no browser omits it |
//! | `Origin` | absent; or `http://` / `https://` naming the host and port the request went to (as `Host` names them; the loopback names count as one host), which the `Host` rule accepts. `null` (sandboxed frames, `file:` pages) is refused |
//! | `Content-Type` | on `POST`/`DELETE` to the admin, agent and tool-registry routes, when there is a body or a type: `application/json` (parameters allowed); `POST /api/v1/approvals` takes `application/wasm` or `application/octet-stream`. Browsers can only send `text/plain`, form and multipart types without asking first (a CORS preflight, which Aratta never grants) |
//!
//! An IP address in `Host` cannot be a rebinding attack (the attacker's page would be the IP
//! itself), which is why any IP is accepted when bound to every interface; names are the risk,
//! so only `localhost` and the listed ones pass.

use std::net::{IpAddr, SocketAddr};

use http::uri::Authority;
use http::{HeaderMap, Method, Uri, header};

use crate::config::ServerConfig;

/// Why a request was refused; the message names the header and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// `Host` names something other than this server.
    #[error(
        "the Host header `{host}` does not name this server; use {expected} (a name the server is reached by through a proxy or on the network goes in [server] allowed_host_names)"
    )]
    Host {
        /// The header's value.
        host: String,
        /// What would be accepted.
        expected: String,
    },
    /// `Origin` names another site.
    #[error(
        "the Origin header `{origin}` is another site; requests from web pages are accepted only from this server's own origin ({expected}), so a page cannot drive the gateway from a browser"
    )]
    Origin {
        /// The header's value.
        origin: String,
        /// What would be accepted.
        expected: String,
    },
    /// The body's `Content-Type` is not the one the route takes.
    #[error(
        "the Content-Type header {given} is not accepted here; {route} takes `{expected}` (send `-H 'content-type: {expected}'` with curl)"
    )]
    ContentType {
        /// The header's value, quoted, or `is missing`.
        given: String,
        /// The route.
        route: String,
        /// The type it takes.
        expected: &'static str,
    },
}

impl Refusal {
    /// The HTTP status: 415 for a content type, else 403.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Refusal::ContentType { .. } => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => http::StatusCode::FORBIDDEN,
        }
    }

    /// A machine-readable code for the error body.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Host { .. } => "host_not_allowed",
            Refusal::Origin { .. } => "origin_not_allowed",
            Refusal::ContentType { .. } => "unsupported_media_type",
        }
    }
}

/// The `Host` and `Origin` rules for a server bound to one address.
#[derive(Debug, Clone)]
pub struct Guard {
    bind: IpAddr,
    port: u16,
    names: Vec<(String, Option<u16>)>,
}

impl Guard {
    /// The rules for a server listening on `bound` with `server`'s `allowed_host_names`
    /// (already validated; an entry that does not parse is skipped).
    pub fn new(bound: SocketAddr, server: &ServerConfig) -> Self {
        Guard {
            bind: bound.ip(),
            port: bound.port(),
            names: server
                .allowed_host_names
                .iter()
                .filter_map(|n| ServerConfig::parse_host_name(n).ok())
                .collect(),
        }
    }

    /// Check `Host` and `Origin`.
    pub fn check(&self, headers: &HeaderMap, uri: &Uri) -> Result<(), Refusal> {
        let host = match headers.get(header::HOST) {
            Some(value) => Some(self.host(value.as_bytes())?),
            None => uri
                .authority()
                .map(|a| self.host(a.as_str().as_bytes()))
                .transpose()?,
        };
        if let Some(origin) = headers.get(header::ORIGIN) {
            self.origin(origin.as_bytes(), host.as_ref())?;
        }
        Ok(())
    }

    /// The accepted `Host` as (host, explicit port).
    fn host(&self, value: &[u8]) -> Result<(String, Option<u16>), Refusal> {
        let refuse = || Refusal::Host {
            host: String::from_utf8_lossy(value).into_owned(),
            expected: self.expected(),
        };
        let authority = Authority::try_from(value).map_err(|_| refuse())?;
        if authority.as_str().contains('@') {
            return Err(refuse());
        }
        let host = authority.host().to_ascii_lowercase();
        let port = authority.port_u16();
        if self.allowed(&host, port) {
            Ok((host, port))
        } else {
            Err(refuse())
        }
    }

    fn origin(&self, value: &[u8], host: Option<&(String, Option<u16>)>) -> Result<(), Refusal> {
        let text = String::from_utf8_lossy(value);
        let refuse = || Refusal::Origin {
            origin: text.clone().into_owned(),
            expected: self.expected_origins(),
        };
        let (scheme, rest) = text.split_once("://").ok_or_else(refuse)?;
        let default_port = match scheme.to_ascii_lowercase().as_str() {
            "http" => 80,
            "https" => 443,
            _ => return Err(refuse()),
        };
        let authority = Authority::try_from(rest).map_err(|_| refuse())?;
        if authority.as_str().contains('@') || authority.as_str() != rest {
            return Err(refuse());
        }
        let origin_host = authority.host().to_ascii_lowercase();
        let origin_port = authority.port_u16().unwrap_or(default_port);
        if !self.allowed(&origin_host, Some(origin_port)) {
            return Err(refuse());
        }
        let Some((request_host, request_port)) = host else {
            return Ok(());
        };
        // The page must come from the host the request went to (loopback names count as one:
        // a page from http://localhost:PORT calling 127.0.0.1:PORT is this server's own), or
        // bound to every interface any IP would pass, a page from another machine included.
        let same_host = origin_host == *request_host
            || (is_loopback_name(&origin_host) && is_loopback_name(request_host));
        // And from the port the request came to: another port on the same host is another
        // server (another local service's page).
        if !same_host || request_port.unwrap_or(default_port) != origin_port {
            return Err(refuse());
        }
        Ok(())
    }

    /// Whether `host` at `port` (`None`: the scheme's default, 80 or 443) names this server.
    fn allowed(&self, host: &str, port: Option<u16>) -> bool {
        let covers_loopback = self.bind.is_loopback() || self.bind.is_unspecified();
        let at_bound_port = match port {
            Some(p) => p == self.port,
            None => self.port == 80,
        };
        let ip = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse::<IpAddr>();
        if let Ok(ip) = ip {
            let ours = self.bind.is_unspecified()
                || ip == self.bind
                || (covers_loopback && ip.is_loopback());
            return ours && at_bound_port;
        }
        if host == "localhost" && covers_loopback && at_bound_port {
            return true;
        }
        self.names.iter().any(|(name, listed_port)| {
            name == host
                && match (listed_port, port) {
                    (None, _) => true,
                    (Some(l), Some(p)) => *l == p,
                    (Some(l), None) => *l == 80 || *l == 443,
                }
        })
    }

    fn expected(&self) -> String {
        let port = self.port;
        let mut forms = match (self.bind.is_loopback(), self.bind.is_unspecified()) {
            (true, _) => vec![
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ],
            (_, true) => vec![
                format!("any IP address of this machine with :{port}"),
                format!("localhost:{port}"),
            ],
            _ => vec![SocketAddr::new(self.bind, port).to_string()],
        };
        forms.extend(self.names.iter().map(|(name, port)| match port {
            Some(p) => format!("{name}:{p}"),
            None => name.clone(),
        }));
        forms.join(", ")
    }

    fn expected_origins(&self) -> String {
        format!("http:// or https:// with {}", self.expected())
    }
}

/// `localhost` or a loopback IP (bracketed for IPv6).
fn is_loopback_name(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The content type a route's body must have, if the route is an admin, agent or
/// tool-registry one that takes a body.
fn body_type(method: &Method, path: &str) -> Option<&'static str> {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return None;
    }
    if path == "/api/v1/approvals" {
        return Some("application/wasm");
    }
    const JSON_ROUTES: [&str; 7] = [
        "/api/v1/agents/",
        "/api/v1/keys",
        "/api/v1/heal/",
        "/api/v1/breakers/",
        "/api/v1/tools",
        "/api/v1/adapters/",
        "/api/v1/approvals/",
    ];
    JSON_ROUTES
        .iter()
        .any(|prefix| path.starts_with(prefix))
        .then_some("application/json")
}

/// Check `Content-Type` on the admin, agent and tool-registry routes: a body (or a type
/// given for an empty one) must be JSON, or for a proposed adapter wasm bytes.
pub fn check_content_type(method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(expected) = body_type(method, uri.path()) else {
        return Ok(());
    };
    let given = headers.get(header::CONTENT_TYPE);
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let Some(given) = given else {
        if !has_body {
            return Ok(());
        }
        return Err(Refusal::ContentType {
            given: "is missing".into(),
            route: format!("{method} {}", uri.path()),
            expected,
        });
    };
    let essence = given
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let accepted = match expected {
        "application/wasm" => {
            essence == "application/wasm" || essence == "application/octet-stream"
        }
        _ => essence == expected,
    };
    if accepted {
        Ok(())
    } else {
        Err(Refusal::ContentType {
            given: format!("`{}`", String::from_utf8_lossy(given.as_bytes())),
            route: format!("{method} {}", uri.path()),
            expected,
        })
    }
}

#[cfg(test)]
#[path = "guard_tests.rs"]
mod tests;
