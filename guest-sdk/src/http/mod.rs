//! Blocking outbound HTTP over `wasi:http`, the only way out of an adapter.
//!
//! Requests go below the operator's base URL ([`CallContext::base_url`]). The host decides
//! which hosts are reachable and adds the provider's credential, so adapters never set
//! `Authorization`: [`Request::send`] refuses to. Transport failures become `connection` or
//! `timeout` errors carrying the `wasi:http` error code; a non-success status becomes the
//! classified error from [`status`](crate::status) via [`Response::error_for_status`].

mod response;
mod target;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, FutureIncomingResponse, IncomingResponse, OutgoingBody, OutgoingRequest,
    RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

pub use response::{Body, Response};
pub use target::Target;
pub use wasip2::http::types::Method;

use crate::{AdapterError, CallContext};

/// How many bytes one body read asks for.
const READ_CHUNK: u64 = 64 * 1024;
/// `blocking-write-and-flush` accepts at most 4096 bytes per call.
const WRITE_CHUNK: usize = 4096;

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
        let mut header_list = self.headers.clone();
        if !self.body.is_empty() || !matches!(self.method, Method::Get) {
            // A known length lets every server read the body; some (Python's http.server,
            // older proxies) do not accept a chunked request body.
            header_list.push((
                "content-length".into(),
                self.body.len().to_string().into_bytes(),
            ));
        }
        let headers = Fields::from_list(&header_list)
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

#[cfg(test)]
mod tests {
    use super::*;

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
