//! The adapters' only way out: outbound HTTP, checked against the hosts the operator granted,
//! with the credential added by the host, sent through one pooled client.
//!
//! A grant is a set of `scheme://host:port` origins, all from the operator's config or the
//! host's table of known providers (`gateway::known`), never from the adapter's own
//! description. The forms accepted in config:
//!
//! | config value                         | grants            | gets the credential |
//! |--------------------------------------|-------------------|---------------------|
//! | `base_url = "https://a.b/v1"`        | `https://a.b:443` | yes                 |
//! | `allowed_hosts = ["c.d"]`            | `https://c.d:443` | no                  |
//! | `allowed_hosts = ["c.d:8443"]`       | `https://c.d:8443`| no                  |
//! | `credential_hosts = ["c.d"]` (and in `allowed_hosts`) | | yes                |
//!
//! An empty grant denies everything. A denied request reaches the adapter as the ordinary
//! wasi-http error `HttpRequestDenied` (not a trap) and is logged here with the reason. A URI
//! with user info (`http://user@host/`) is denied: it names a host and a login at once.
//!
//! Headers the host owns, whatever the adapter set:
//! - `Authorization`, `Proxy-Authorization` and the provider's own credential header (e.g.
//!   `x-api-key`) are forbidden to the adapter (wasi-http answers `forbidden` when it sets
//!   one) and removed again before sending; the host then adds the credential, only for the
//!   base URL's origin and the operator's `credential_hosts`.
//! - `Host` is forbidden too and removed before sending; hyper writes it from the checked URI,
//!   so a request cannot name one granted host in the URI and another virtual host in `Host`.
//! - Hop-by-hop headers (`Connection`, `Keep-Alive`, `Transfer-Encoding`, `Upgrade`, ...) are
//!   wasi-http's default forbidden set.
//! - `Cookie` passes: the host keeps no cookies, so an adapter-made cookie carries nothing of
//!   the operator's.
//!
//! Where a connection lands is checked after name resolution, on every new connection: see
//! [`super::egress`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response};
use http_body_util::BodyExt;
use hyper::body::{Body, Frame};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use wasmtime_wasi_http::{
    DEFAULT_FORBIDDEN_HEADERS, Error as HttpError, ForbiddenHeaderFilter, RequestOptions, WasiBody,
    WasiHttpHooks,
};

use super::egress::{self, GuardedConnector};

/// One origin an adapter may reach.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-cased host name or IP literal.
    pub host: String,
    /// Explicit or default port.
    pub port: u16,
}

impl Origin {
    /// Parse `https://host[:port][/path]` or a bare `host[:port]` (https assumed).
    pub fn parse(text: &str) -> Option<Origin> {
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("https://{text}")
        };
        let url = url::Url::parse(&with_scheme).ok()?;
        Some(Origin {
            scheme: url.scheme().to_owned(),
            host: url
                .host_str()?
                .trim_matches(['[', ']'])
                .to_ascii_lowercase(),
            port: url.port_or_known_default()?,
        })
    }

    /// The origin a request URI names.
    pub fn of_uri(uri: &http::Uri) -> Option<Origin> {
        let scheme = uri.scheme_str()?.to_ascii_lowercase();
        let default = if scheme == "https" { 443 } else { 80 };
        Some(Origin {
            host: uri.host()?.trim_matches(['[', ']']).to_ascii_lowercase(),
            port: uri.port_u16().unwrap_or(default),
            scheme,
        })
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
    }
}

/// What one provider's adapter may do on the network.
#[derive(Debug, PartialEq, Eq)]
pub struct Grant {
    /// The provider this grant belongs to (for logs).
    pub provider: String,
    /// Origins the adapter may reach.
    pub origins: Vec<Origin>,
    /// The provider's credential and where it may go.
    pub credential: Option<Credential>,
    /// Time allowed until response headers, and between body chunks.
    pub timeout: Duration,
}

/// The credential header the host adds, and the origins it is added for: the base URL's, and
/// the operator's `credential_hosts`; never the rest of the grant.
#[derive(Debug, PartialEq, Eq)]
pub struct Credential {
    /// The header carrying it (`authorization`, or the provider's own like `x-api-key`).
    pub header: HeaderName,
    /// Its value, marked sensitive.
    pub value: HeaderValue,
    /// The origins that receive it.
    pub origins: Vec<Origin>,
}

impl Grant {
    /// A grant that reaches nothing and holds no credential: for calls that must not do I/O.
    pub fn none(provider: &str) -> Self {
        Grant {
            provider: provider.to_owned(),
            origins: Vec::new(),
            credential: None,
            timeout: Duration::from_secs(1),
        }
    }

    fn allows(&self, origin: &Origin) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// The credential header for a request to `origin`, if it gets one.
    fn credential_for(&self, origin: &Origin) -> Option<(&HeaderName, &HeaderValue)> {
        self.credential
            .as_ref()
            .filter(|c| c.origins.contains(origin))
            .map(|c| (&c.header, &c.value))
    }
}

/// Headers an adapter may not set: wasi-http's default set (hop-by-hop, `Host`,
/// `Proxy-Authorization`), `Authorization`, and the provider's credential header.
fn forbidden_header(name: &HeaderName, credential: Option<&HeaderName>) -> bool {
    *name == http::header::AUTHORIZATION
        || DEFAULT_FORBIDDEN_HEADERS.contains(name)
        || credential == Some(name)
}

/// The body type sent upstream.
type UpstreamBody = WasiBody;

type UpstreamClient = Client<hyper_rustls::HttpsConnector<GuardedConnector>, UpstreamBody>;

/// The HTTP client all adapters share: keep-alive pool, TLS (webpki roots), HTTP/2 via ALPN.
///
/// On the server's single-threaded workers (see `server::workers`) each worker thread has a
/// pool of its own, so an upstream connection is driven by the thread whose requests use it;
/// a pool shared by all workers would hand a worker's request to a connection task living on
/// another thread. Elsewhere (a multi-threaded runtime, the CLI) the shared pool serves.
#[derive(Clone)]
pub struct Outbound {
    shared: UpstreamClient,
    connector: hyper_rustls::HttpsConnector<GuardedConnector>,
    /// The TCP connector under TLS, kept to add the operator's origins to it.
    guard: GuardedConnector,
    /// Tells this client's per-thread pools from those of another `Outbound`.
    id: u64,
}

thread_local! {
    /// This thread's pools, by `Outbound::id`.
    static THREAD_POOLS: std::cell::RefCell<Vec<(u64, UpstreamClient)>> =
        const { std::cell::RefCell::new(Vec::new()) };
}

impl Outbound {
    /// Build the pooled client. `TCP_NODELAY` is on: wasi-http writes headers and body
    /// separately, and Nagle's algorithm turned that into 40 ms stalls. Every connection goes
    /// through the egress guard ([`egress`]).
    pub fn new(connect_timeout: Duration) -> Self {
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let guard = GuardedConnector::new(connect_timeout);
        let http = guard.clone();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        Self {
            shared: pool(connector.clone()),
            connector,
            guard,
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

    /// Let `origins` (the providers' base URLs, from the operator's config or the host's table
    /// of known providers) connect to any address, loopback and private included.
    pub fn trust_operator_origins(&self, origins: impl IntoIterator<Item = Origin>) {
        self.guard.trust(origins);
    }

    /// The pool to send through from the current thread.
    fn client(&self) -> UpstreamClient {
        let single_threaded = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::CurrentThread);
        if !single_threaded {
            return self.shared.clone();
        }
        THREAD_POOLS.with_borrow_mut(|pools| {
            if let Some((_, client)) = pools.iter().find(|(id, _)| *id == self.id) {
                return client.clone();
            }
            let client = pool(self.connector.clone());
            pools.push((self.id, client.clone()));
            client
        })
    }
}

fn pool(connector: hyper_rustls::HttpsConnector<GuardedConnector>) -> UpstreamClient {
    Client::builder(TokioExecutor::new())
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(512)
        .build(connector)
}

/// The wasi-http hooks of one adapter call: enforce the grant, add the credential, send
/// through the shared client with timeouts.
pub struct Hooks {
    /// What the calling adapter may reach.
    pub grant: Arc<Grant>,
    /// The shared client.
    pub outbound: Outbound,
    /// The adapter's name, for logs.
    pub adapter: Arc<str>,
}

type SendResult = Result<
    (
        Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
>;

tokio::task_local! {
    /// Set by the gateway around an adapter call: the status of the last upstream response the
    /// call received, so an adapter error that carries no status (a schema mismatch found in a
    /// 200 body) still reaches the health monitor with the provider's status.
    pub static UPSTREAM_STATUS: Arc<std::sync::atomic::AtomicU16>;
}

/// The most an adapter writes to an outgoing body in one call; with one chunk buffered, an
/// unsent body holds at most two in host memory (wasi-http's default is 1 MiB).
pub const BODY_CHUNK_BYTES: usize = 64 * 1024;

impl WasiHttpHooks for Hooks {
    fn p2_outgoing_body_chunk_size(&mut self) -> usize {
        BODY_CHUNK_BYTES
    }

    fn forbidden_header_filter(&mut self) -> ForbiddenHeaderFilter {
        let credential = self.grant.credential.as_ref().map(|c| c.header.clone());
        Arc::new(move |name| forbidden_header(name, credential.as_ref()))
    }

    fn send_request(
        &mut self,
        mut request: Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let has_user_info = request
            .uri()
            .authority()
            .is_some_and(|a| a.as_str().contains('@'));
        let origin = Origin::of_uri(request.uri()).filter(|_| !has_user_info);
        let Some(origin) = origin.filter(|o| self.grant.allows(o)) else {
            tracing::warn!(
                adapter = %self.adapter,
                provider = %self.grant.provider,
                target = %request.uri(),
                granted = ?self.grant.origins.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "denied outbound request: {}",
                if has_user_info { "the URI carries user info" } else { "host not granted to this provider" }
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        };
        let credential_header = self.grant.credential.as_ref().map(|c| &c.header);
        let headers = request.headers_mut();
        let owned: Vec<HeaderName> = headers
            .keys()
            .filter(|n| forbidden_header(n, credential_header))
            .cloned()
            .collect();
        for name in owned {
            headers.remove(name);
        }
        if let Some((name, value)) = self.grant.credential_for(&origin) {
            headers.insert(name.clone(), value.clone());
        }
        let client = self.outbound.client();
        let timeout = self.grant.timeout;
        let observed = UPSTREAM_STATUS.try_with(Arc::clone).ok();
        let (adapter, provider) = (self.adapter.clone(), self.grant.provider.clone());
        Box::new(async move {
            let response = match tokio::time::timeout(timeout, client.request(request)).await {
                Err(_) => return Err(HttpError::HttpResponseTimeout),
                Ok(Err(e)) => {
                    if let Some(blocked) = egress::blocked_in(&e) {
                        tracing::warn!(%adapter, %provider, target = %origin, address = %blocked.address, "denied outbound connection: {blocked}");
                        return Err(HttpError::HttpRequestDenied);
                    }
                    return Err(classify(&e));
                }
                Ok(Ok(response)) => response,
            };
            if let Some(observed) = observed {
                let status = response.status().as_u16();
                observed.store(status, std::sync::atomic::Ordering::Relaxed);
            }
            let response = response.map(|body| IdleTimeout::new(body, timeout).boxed_unsync());
            Ok((
                response,
                Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

fn classify(e: &hyper_util::client::legacy::Error) -> HttpError {
    use std::error::Error as _;
    if e.is_connect() {
        let text = format!("{:?}", e.source());
        if text.contains("timed out") {
            return HttpError::ConnectionTimeout;
        }
        if text.contains("dns error") || text.contains("failed to lookup") {
            return HttpError::DnsError {
                rcode: Some(text),
                info_code: None,
            };
        }
        return HttpError::ConnectionRefused;
    }
    match e.source().and_then(|s| s.downcast_ref::<hyper::Error>()) {
        Some(h) if h.is_incomplete_message() => HttpError::HttpResponseIncomplete,
        Some(_) => HttpError::HttpProtocolError,
        None => HttpError::InternalError(Some(e.to_string())),
    }
}

/// A response body that fails when the upstream goes quiet for longer than `limit`, so a
/// stalled stream ends with a timeout instead of hanging the request.
struct IdleTimeout {
    inner: hyper::body::Incoming,
    limit: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl IdleTimeout {
    fn new(inner: hyper::body::Incoming, limit: Duration) -> Self {
        Self {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
        }
    }
}

impl Body for IdleTimeout {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                let next = tokio::time::Instant::now() + this.limit;
                this.deadline.as_mut().reset(next);
                Poll::Ready(frame.map(|f| f.map_err(HttpError::from)))
            }
            Poll::Pending => match this.deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(Err(HttpError::ConnectionReadTimeout))),
                Poll::Pending => Poll::Pending,
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_normalise_scheme_host_and_default_port() {
        let o = Origin::parse("https://API.OpenAI.com/v1").unwrap();
        assert_eq!(o.to_string(), "https://api.openai.com:443");
        assert_eq!(
            Origin::parse("127.0.0.1:11434").unwrap().to_string(),
            "https://127.0.0.1:11434"
        );
        assert_eq!(
            Origin::parse("http://localhost:8080/v1")
                .unwrap()
                .to_string(),
            "http://localhost:8080"
        );
        assert!(Origin::parse("http://").is_none());
    }

    #[test]
    fn a_grant_matches_scheme_host_and_port_exactly() {
        let grant = Grant {
            origins: vec![Origin::parse("http://127.0.0.1:11434/v1").unwrap()],
            ..Grant::none("local")
        };
        let uri = |s: &str| Origin::of_uri(&s.parse::<http::Uri>().unwrap()).unwrap();
        assert!(grant.allows(&uri("http://127.0.0.1:11434/v1/chat/completions")));
        assert!(!grant.allows(&uri("http://127.0.0.1:11435/v1/chat/completions")));
        assert!(!grant.allows(&uri("https://127.0.0.1:11434/v1")));
        assert!(!grant.allows(&uri("http://169.254.169.254/latest/meta-data")));
    }

    #[test]
    fn the_credential_goes_to_its_origins_only() {
        let base = Origin::parse("https://api.example.com/v1").unwrap();
        let other = Origin::parse("files.example.com").unwrap();
        let grant = Grant {
            origins: vec![base.clone(), other.clone()],
            credential: Some(Credential {
                header: HeaderName::from_static("x-api-key"),
                value: HeaderValue::from_static("k"),
                origins: vec![base.clone()],
            }),
            ..Grant::none("p")
        };
        assert!(grant.credential_for(&base).is_some());
        assert!(grant.allows(&other) && grant.credential_for(&other).is_none());
    }

    #[test]
    fn credential_and_hop_headers_are_the_hosts() {
        let key = HeaderName::from_static("x-api-key");
        for name in [
            "authorization",
            "proxy-authorization",
            "host",
            "x-api-key",
            "connection",
        ] {
            let name = HeaderName::from_static(name);
            assert!(forbidden_header(&name, Some(&key)), "{name}");
        }
        for name in ["content-type", "cookie", "anthropic-version"] {
            assert!(
                !forbidden_header(&HeaderName::from_static(name), Some(&key)),
                "{name}"
            );
        }
    }

    #[test]
    fn ipv6_origins_compare_without_brackets() {
        let parsed = Origin::parse("http://[::1]:8080/v1").unwrap();
        let uri = Origin::of_uri(&"http://[::1]:8080/x".parse::<http::Uri>().unwrap()).unwrap();
        assert_eq!(parsed, uri);
    }
}
