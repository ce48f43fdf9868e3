//! Blocking outbound HTTP over `wasi:http`, the only way out of an adapter.
//!
//! Requests go below the operator's base URL ([`CallContext::base_url`]). The host decides
//! which hosts are reachable and adds the provider's credential, so adapters never set
//! `Authorization`: [`Request::send`] refuses to. Transport failures become `connection` or
//! `timeout` errors carrying the `wasi:http` error code; a non-success status becomes the
//! classified error from [`status`](crate::status) via [`Response::error_for_status`].

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingBody, IncomingResponse, InputStream,
    OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

pub use wasip2::http::types::Method;

use crate::{AdapterError, CallContext};

/// How many bytes one body read asks for.
const READ_CHUNK: u64 = 64 * 1024;
/// `blocking-write-and-flush` accepts at most 4096 bytes per call.
const WRITE_CHUNK: usize = 4096;

/// Where a request goes: scheme, authority and path-with-query, split the way `wasi:http`
/// wants them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `http` or `https` (anything else is passed through as-is).
    pub scheme: String,
    /// `host[:port]`.
    pub authority: String,
    /// The path and query, starting with `/`.
    pub path_with_query: String,
}

impl Target {
    /// `base` (the operator's base URL, possibly with a path and query) joined with `path`
    /// (e.g. `/chat/completions`): `http://h:1/v1?k=v` + `/models` → `/v1/models?k=v`.
    pub fn join(base: &str, path: &str) -> Result<Target, AdapterError> {
        let (scheme, rest) = base.split_once("://").ok_or_else(|| {
            AdapterError::invalid_request(format!(
                "base URL `{base}` has no scheme (http:// or https://)"
            ))
        })?;
        let rest = rest.split('#').next().unwrap_or_default();
        let end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        if authority.is_empty() {
            return Err(AdapterError::invalid_request(format!(
                "base URL `{base}` has no host"
            )));
        }
        if authority.contains('@') {
            return Err(AdapterError::invalid_request(format!(
                "base URL `{base}` contains credentials; the host adds the provider's credential"
            )));
        }
        let (base_path, base_query) = match tail.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (tail, None),
        };
        let (extra_path, extra_query) = match path.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path, None),
        };
        let mut path_with_query = base_path.trim_end_matches('/').to_string();
        if !extra_path.is_empty() && !extra_path.starts_with('/') {
            path_with_query.push('/');
        }
        path_with_query.push_str(extra_path);
        if path_with_query.is_empty() {
            path_with_query.push('/');
        }
        let queries: Vec<&str> = [base_query, extra_query]
            .into_iter()
            .flatten()
            .filter(|q| !q.is_empty())
            .collect();
        if !queries.is_empty() {
            path_with_query.push('?');
            path_with_query.push_str(&queries.join("&"));
        }
        Ok(Target {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.to_string(),
            path_with_query,
        })
    }

    /// The target as a URL, for error messages.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme, self.authority, self.path_with_query
        )
    }
}

/// Anything that yields a body chunk by chunk: a live response [`Body`], or recorded bytes in
/// tests. Streaming parsers read through this so they can be tested without a network.
pub trait ChunkSource {
    /// The next bytes, `Ok(None)` at the end of the body.
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError>;
}

/// An outgoing request, built and then sent with [`Request::send`].
#[derive(Debug)]
pub struct Request {
    method: Method,
    base_url: String,
    path: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    body_error: Option<String>,
    connect_timeout_ms: Option<u64>,
    first_byte_timeout_ms: Option<u64>,
    between_bytes_timeout_ms: Option<u64>,
}

impl Request {
    /// A request with `method` to `path` below the call's base URL.
    pub fn new(method: Method, ctx: &CallContext, path: &str) -> Self {
        Request {
            method,
            base_url: ctx.base_url.clone(),
            path: path.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
            body_error: None,
            connect_timeout_ms: None,
            first_byte_timeout_ms: None,
            between_bytes_timeout_ms: None,
        }
    }

    /// A `GET` of `path` below the base URL.
    pub fn get(ctx: &CallContext, path: &str) -> Self {
        Self::new(Method::Get, ctx, path)
    }

    /// A `POST` to `path` below the base URL.
    pub fn post(ctx: &CallContext, path: &str) -> Self {
        Self::new(Method::Post, ctx, path)
    }

    /// Add a header. `Authorization` is refused at send time: the host owns the credential.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
        self
    }

    /// Send `body` serialized as JSON, with `content-type: application/json`.
    pub fn json<T: serde::Serialize + ?Sized>(mut self, body: &T) -> Self {
        match serde_json::to_vec(body) {
            Ok(bytes) => self.body = bytes,
            Err(e) => self.body_error = Some(e.to_string()),
        }
        self.header("content-type", "application/json")
    }

    /// Send raw bytes with the given content type.
    pub fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.body = bytes;
        self.header("content-type", content_type)
    }

    /// Give up when no connection is made within `ms` (otherwise the host's default applies).
    pub fn connect_timeout_ms(mut self, ms: u64) -> Self {
        self.connect_timeout_ms = Some(ms);
        self
    }

    /// Give up when the response's first byte takes longer than `ms`.
    pub fn first_byte_timeout_ms(mut self, ms: u64) -> Self {
        self.first_byte_timeout_ms = Some(ms);
        self
    }

    /// Give up when the body stalls for longer than `ms` between two chunks.
    pub fn between_bytes_timeout_ms(mut self, ms: u64) -> Self {
        self.between_bytes_timeout_ms = Some(ms);
        self
    }

    /// Where this request goes.
    pub fn target(&self) -> Result<Target, AdapterError> {
        Target::join(&self.base_url, &self.path)
    }

    /// Send the request and wait for the response head. The body is read later, through the
    /// returned [`Response`].
    pub fn send(self) -> Result<Response, AdapterError> {
        if let Some(e) = &self.body_error {
            return Err(AdapterError::other(format!(
                "could not serialize the request body: {e}"
            )));
        }
        if self.headers.iter().any(|(n, _)| n == "authorization") {
            return Err(AdapterError::other(
                "adapters must not set `authorization`: the host adds the provider's credential",
            ));
        }
        let target = self.target()?;
        let url = target.url();
        let headers = Fields::from_list(&self.headers)
            .map_err(|e| AdapterError::other(format!("invalid request header: {e:?}")))?;
        let request = OutgoingRequest::new(headers);
        let scheme = match target.scheme.as_str() {
            "http" => Scheme::Http,
            "https" => Scheme::Https,
            other => Scheme::Other(other.to_string()),
        };
        let invalid =
            |what: &str| AdapterError::invalid_request(format!("invalid {what} in `{url}`"));
        request
            .set_method(&self.method)
            .map_err(|_| invalid("method"))?;
        request
            .set_scheme(Some(&scheme))
            .map_err(|_| invalid("scheme"))?;
        request
            .set_authority(Some(&target.authority))
            .map_err(|_| invalid("authority"))?;
        request
            .set_path_with_query(Some(&target.path_with_query))
            .map_err(|_| invalid("path"))?;
        let options = self.options();
        let outgoing_body = request
            .body()
            .map_err(|_| AdapterError::other("the request body was already taken"))?;
        let future = outgoing_handler::handle(request, options)
            .map_err(|code| transport_error(&code, &url))?;
        let written = write_body(outgoing_body, &self.body);
        // A request the host denies can show up first as a closed body stream: the response
        // future holds the real reason, so it is read before the write error is reported.
        match (wait_for_response(&future), written) {
            (Ok(response), _) => Ok(Response::new(response, url)),
            (Err(Some(code)), _) => Err(transport_error(&code, &url)),
            (Err(None), Err(write)) => Err(AdapterError::connection(format!(
                "sending the request body to {url} failed: {write}"
            ))),
            (Err(None), Ok(())) => Err(AdapterError::connection(format!(
                "{url}: the response never arrived"
            ))),
        }
    }

    fn options(&self) -> Option<RequestOptions> {
        let timeouts = [
            self.connect_timeout_ms,
            self.first_byte_timeout_ms,
            self.between_bytes_timeout_ms,
        ];
        if timeouts.iter().all(Option::is_none) {
            return None;
        }
        let ns = |ms: Option<u64>| ms.map(|ms| ms.saturating_mul(1_000_000));
        let options = RequestOptions::new();
        // A host that does not support a timeout keeps its own; that is not an error.
        let _ = options.set_connect_timeout(ns(self.connect_timeout_ms));
        let _ = options.set_first_byte_timeout(ns(self.first_byte_timeout_ms));
        let _ = options.set_between_bytes_timeout(ns(self.between_bytes_timeout_ms));
        Some(options)
    }
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), String> {
    let result = (|| {
        let stream = body
            .write()
            .map_err(|_| "the body stream was already taken".to_string())?;
        for chunk in bytes.chunks(WRITE_CHUNK) {
            stream
                .blocking_write_and_flush(chunk)
                .map_err(|e| stream_error_text(&e))?;
        }
        Ok(())
    })();
    // The stream (dropped above) must go before the body is finished.
    let finished = OutgoingBody::finish(body, None).map_err(|code| code_text(&code));
    result.and(finished)
}

/// `Err(Some(code))` when the transport reported why; `Err(None)` when it did not.
fn wait_for_response(
    future: &FutureIncomingResponse,
) -> Result<IncomingResponse, Option<ErrorCode>> {
    loop {
        match future.get() {
            Some(Ok(Ok(response))) => return Ok(response),
            Some(Ok(Err(code))) => return Err(Some(code)),
            Some(Err(())) => return Err(None),
            None => future.subscribe().block(),
        }
    }
}

/// The `connection` or `timeout` error for a `wasi:http` failure reaching `url`.
pub fn transport_error(code: &ErrorCode, url: &str) -> AdapterError {
    match code {
        ErrorCode::HttpRequestDenied => AdapterError::connection(format!(
            "the host denied the request to {url}: its host is not allowed for this provider \
             (HttpRequestDenied)"
        )),
        ErrorCode::DnsTimeout
        | ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout
        | ErrorCode::HttpResponseTimeout => {
            AdapterError::timeout(format!("{url} timed out ({})", code_text(code)))
        }
        _ => AdapterError::connection(format!("could not reach {url} ({})", code_text(code))),
    }
}

fn code_text(code: &ErrorCode) -> String {
    let text = format!("{code:?}");
    text.strip_prefix("ErrorCode::")
        .unwrap_or(&text)
        .to_string()
}

fn stream_error_text(e: &StreamError) -> String {
    match e {
        StreamError::Closed => "the stream was closed".to_string(),
        StreamError::LastOperationFailed(err) => match wasip2::http::types::http_error_code(err) {
            Some(code) => code_text(&code),
            None => err.to_debug_string(),
        },
    }
}

/// A response whose head has arrived; the body is read on demand.
#[derive(Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    url: String,
    body: Body,
}

impl Response {
    fn new(response: IncomingResponse, url: String) -> Self {
        let status = response.status();
        let headers = response.headers().entries();
        let body = Body::open(response, url.clone());
        Response {
            status,
            headers,
            url,
            body,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of header `name` (case-insensitive), when it is valid UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
    }

    /// The URL the request went to, for error messages.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The response unchanged when 2xx; otherwise its body is read and classified into the
    /// matching [`AdapterError`] (rate-limited with `retry-after`, unauthorized, ...).
    pub fn error_for_status(mut self) -> Result<Self, AdapterError> {
        if self.is_success() {
            return Ok(self);
        }
        let body = self.body.read_to_end().unwrap_or_default();
        let retry = crate::status::retry_after_ms(
            self.header("retry-after"),
            self.header("retry-after-ms"),
        );
        Err(crate::status::error_for_status(self.status, retry, &body))
    }

    /// Read the whole body.
    pub fn bytes(mut self) -> Result<Vec<u8>, AdapterError> {
        self.body.read_to_end()
    }

    /// The body, for reading it incrementally (e.g. Server-Sent Events).
    pub fn into_body(self) -> Body {
        self.body
    }
}

/// A response body being read. Field order is drop order: the stream goes before the body,
/// the body before the response it came from.
#[derive(Debug)]
pub struct Body {
    stream: Option<InputStream>,
    body: Option<IncomingBody>,
    response: Option<IncomingResponse>,
    url: String,
}

impl Body {
    fn open(response: IncomingResponse, url: String) -> Self {
        let body = response.consume().ok();
        let stream = body.as_ref().and_then(|b| b.stream().ok());
        Body {
            stream,
            body,
            response: Some(response),
            url,
        }
    }

    /// Read the rest of the body.
    pub fn read_to_end(&mut self) -> Result<Vec<u8>, AdapterError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.read_chunk()? {
            all.extend_from_slice(&chunk);
        }
        Ok(all)
    }

    fn close(&mut self) {
        self.stream = None;
        if let Some(body) = self.body.take() {
            drop(IncomingBody::finish(body));
        }
        self.response = None;
    }
}

impl ChunkSource for Body {
    fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, AdapterError> {
        loop {
            let Some(stream) = &self.stream else {
                return Ok(None);
            };
            match stream.blocking_read(READ_CHUNK) {
                Ok(bytes) if bytes.is_empty() => continue,
                Ok(bytes) => return Ok(Some(bytes)),
                Err(StreamError::Closed) => {
                    self.close();
                    return Ok(None);
                }
                Err(StreamError::LastOperationFailed(err)) => {
                    let code = wasip2::http::types::http_error_code(&err);
                    self.close();
                    return Err(match code {
                        Some(code) => transport_error(&code, &self.url),
                        None => AdapterError::connection(format!(
                            "reading the response from {} failed: {}",
                            self.url,
                            err.to_debug_string()
                        )),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn join(base: &str, path: &str) -> String {
        Target::join(base, path).unwrap().url()
    }

    #[test]
    fn joins_below_the_base_path() {
        assert_eq!(
            join("http://127.0.0.1:11434/v1", "/chat/completions"),
            "http://127.0.0.1:11434/v1/chat/completions"
        );
        assert_eq!(join("http://h/v1/", "/models"), "http://h/v1/models");
        assert_eq!(join("http://h/v1", "models"), "http://h/v1/models");
        assert_eq!(join("https://h", "/models"), "https://h/models");
        assert_eq!(join("https://h", ""), "https://h/");
    }

    #[test]
    fn keeps_queries_from_both_sides() {
        assert_eq!(
            join("https://h/openai?api-version=1", "/chat?x=2"),
            "https://h/openai/chat?api-version=1&x=2"
        );
        assert_eq!(join("https://h/v1?", "/m"), "https://h/v1/m");
    }

    #[test]
    fn splits_scheme_authority_and_path() {
        let t = Target::join("HTTP://Example.com:8080/v1#frag", "/models").unwrap();
        assert_eq!(t.scheme, "http");
        assert_eq!(t.authority, "Example.com:8080");
        assert_eq!(t.path_with_query, "/v1/models");
    }

    #[test]
    fn rejects_bad_base_urls() {
        assert!(Target::join("127.0.0.1:11434", "/m").is_err());
        assert!(Target::join("http:///v1", "/m").is_err());
        assert!(matches!(
            Target::join("https://user:key@h/v1", "/m"),
            Err(AdapterError::InvalidRequest(_))
        ));
    }

    #[test]
    fn denial_reads_as_a_clear_connection_error() {
        let err = transport_error(&ErrorCode::HttpRequestDenied, "http://h/v1");
        let AdapterError::Connection(d) = err else {
            panic!("wrong case")
        };
        assert!(d.message.contains("denied"), "{}", d.message);
        assert!(d.message.contains("HttpRequestDenied"));
    }

    #[test]
    fn timeouts_and_refusals_map_to_their_cases() {
        assert!(matches!(
            transport_error(&ErrorCode::ConnectionReadTimeout, "u"),
            AdapterError::Timeout(_)
        ));
        let AdapterError::Connection(d) = transport_error(&ErrorCode::ConnectionRefused, "u")
        else {
            panic!("wrong case")
        };
        assert!(d.message.contains("ConnectionRefused"));
    }
}
