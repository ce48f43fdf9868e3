//! How spans reach the collector: the OTLP exporter's HTTP client trait, served by the hyper
//! and rustls (ring, webpki roots) stack the host already uses for webhooks, so tracing adds
//! no second TLS library. The exporter runs on its own thread, outside any async runtime;
//! each send is spawned on the server's runtime and awaited from there.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use opentelemetry_http::{HttpClient, HttpError, Request, Response};

/// The most of a collector's answer read (it is a small protobuf or an error message).
const MAX_ANSWER: usize = 64 * 1024;

type CollectorClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Sends the exporter's requests on `runtime`, each bounded by `timeout`.
#[derive(Debug, Clone)]
pub(super) struct Transport {
    client: CollectorClient,
    runtime: tokio::runtime::Handle,
    timeout: Duration,
}

impl Transport {
    /// A client for the collector, sending from `runtime`.
    pub(super) fn new(runtime: tokio::runtime::Handle, timeout: Duration) -> Transport {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Transport {
            client: Client::builder(TokioExecutor::new()).build(connector),
            runtime,
            timeout,
        }
    }
}

/// Why a batch did not reach the collector.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No answer within the timeout.
    #[error("the collector did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection or request failed.
    #[error("cannot reach the collector: {0}")]
    Connect(#[from] hyper_util::client::legacy::Error),
    /// The answer could not be read.
    #[error("cannot read the collector's answer: {0}")]
    Body(String),
    /// The server's runtime stopped while sending.
    #[error("the server stopped while sending spans")]
    Stopped,
}

#[async_trait::async_trait]
impl HttpClient for Transport {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let (parts, body) = request.into_parts();
        let request = Request::from_parts(parts, Full::new(body));
        let client = self.client.clone();
        let timeout = self.timeout;
        let sent = self.runtime.spawn(async move {
            tokio::time::timeout(timeout, async move {
                let response = client.request(request).await?;
                let (parts, body) = response.into_parts();
                let body = Limited::new(body, MAX_ANSWER)
                    .collect()
                    .await
                    .map_err(|e| SendError::Body(e.to_string()))?
                    .to_bytes();
                Ok::<_, SendError>(Response::from_parts(parts, body))
            })
            .await
            .map_err(|_| SendError::Timeout(timeout))?
        });
        match sent.await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(Box::new(SendError::Stopped)),
        }
    }
}
