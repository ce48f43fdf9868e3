//! HTTP tools: a tool whose implementation is a URL the operator configured. A call POSTs the
//! model's arguments as JSON and the response body (bounded) becomes the tool result; a non-2xx
//! status is a tool error carrying the status and body.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Largest response body kept as a tool result.
pub const MAX_RESPONSE_BYTES: usize = 256 << 10;

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for HTTP tools (HTTP and HTTPS, webpki roots), shared by every call.
#[derive(Clone)]
pub struct HttpTools {
    client: HttpsClient,
}

impl Default for HttpTools {
    fn default() -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }
}

impl HttpTools {
    /// POST `arguments` to `url`; the body on 2xx, else an error naming the status.
    pub async fn call(&self, url: &str, arguments: &Value) -> Result<String, String> {
        let body = serde_json::to_vec(arguments).map_err(|e| e.to_string())?;
        let request = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json, text/plain")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| format!("bad tool URL {url}: {e}"))?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| format!("POST {url} failed: {e}"))?;
        let status = response.status();
        let bytes = Limited::new(response.into_body(), MAX_RESPONSE_BYTES)
            .collect()
            .await
            .map_err(|e| format!("reading the answer of {url} failed: {e}"))?
            .to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if status.is_success() {
            Ok(text)
        } else {
            Err(format!("{url} answered HTTP {}: {text}", status.as_u16()))
        }
    }
}
