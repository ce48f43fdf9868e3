//! A small HTTP client for commands that act on the running server through its API
//! (`aratta approvals ...`, `aratta adapter rollback`), so the CLI and the API cannot
//! disagree. The admin token comes from `ARATTA_ADMIN_TOKEN`, never from a flag, so it does
//! not end up in shell history or `ps`.

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use crate::config::Config;

/// Why a request to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The URL is not usable.
    #[error("{url:?} is not a server URL ({reason}); pass e.g. --url http://127.0.0.1:8640")]
    BadUrl {
        /// The URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// Nothing answered.
    #[error(
        "cannot reach the Aratta server at {url}: {reason}; is `aratta serve` running (--url names another)?"
    )]
    Unreachable {
        /// The URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// The server answered with an error.
    #[error("the server answered {status}: {message}")]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// The error's message.
        message: String,
    },
}

/// The running server's API.
pub struct ServerClient {
    base: String,
    token: Option<String>,
    http: Client<HttpConnector, Full<Bytes>>,
}

impl ServerClient {
    /// A client for `url`, else the server `config` describes (`0.0.0.0` is reached on
    /// loopback), with the admin token from the environment.
    pub fn new(url: Option<&str>, config: &Config) -> Self {
        let base = match url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => {
                let host = match config.server.host.as_str() {
                    "0.0.0.0" => "127.0.0.1".to_owned(),
                    "::" => "[::1]".to_owned(),
                    h if h.contains(':') => format!("[{h}]"),
                    h => h.to_owned(),
                };
                format!("http://{host}:{}", config.server.port)
            }
        };
        ServerClient {
            base,
            token: std::env::var("ARATTA_ADMIN_TOKEN")
                .ok()
                .filter(|t| !t.is_empty()),
            http: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// `method path` with `body` (sent as `content_type`); the JSON answer of a 2xx.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<serde_json::Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let mut request = Request::builder()
            .method(method)
            .uri(&url)
            .header(http::header::CONTENT_TYPE, content_type);
        if let Some(token) = &self.token {
            request = request.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| ClientError::BadUrl {
                url: url.clone(),
                reason: e.to_string(),
            })?;
        let unreachable = |reason: String| ClientError::Unreachable {
            url: self.base.clone(),
            reason,
        };
        let response = self
            .http
            .request(request)
            .await
            .map_err(|e| unreachable(chain(&e)))?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| unreachable(e.to_string()))?
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_else(|_| {
            serde_json::Value::String(String::from_utf8_lossy(&body).into_owned())
        });
        if status.is_success() {
            return Ok(json);
        }
        let message = json["error"]["message"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| json.to_string());
        Err(ClientError::Api { status, message })
    }
}

/// An error and its causes on one line: hyper's own message is only "client error (Connect)".
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}
