//! A response and its body, read on demand so a stream yields its first event early.

use wasip2::http::types::{IncomingBody, IncomingResponse, InputStream};
use wasip2::io::streams::StreamError;

use super::{ChunkSource, READ_CHUNK, transport_error};
use crate::AdapterError;

/// A response whose head has arrived; the body is read on demand.
#[derive(Debug)]
pub struct Response {
    status: u16,
    headers: Vec<(String, Vec<u8>)>,
    url: String,
    body: Body,
}

impl Response {
    pub(super) fn new(response: IncomingResponse, url: String) -> Self {
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

    /// Whether the body is JSON by its `content-type`: a streaming request answered with one
    /// JSON body (a proxy, a server that cannot stream) is replayed as events instead.
    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .is_some_and(|t| t.trim_start().starts_with("application/json"))
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
