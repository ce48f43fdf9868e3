//! Where heal triggers are announced: pluggable alert sinks. A sink never blocks the request
//! that fired the trigger: the log sink writes one line, the webhook sink hands the POST to a
//! task of its own and logs (never raises) a failure.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::monitor::HealTrigger;

/// Something told about every heal trigger.
pub trait AlertSink: Send + Sync {
    /// Announce `trigger`. Must return at once: it runs on the request path.
    fn deliver(&self, trigger: &Arc<HealTrigger>);
}

/// Writes one warning line per trigger to the gateway's log.
pub struct LogSink;

impl AlertSink for LogSink {
    fn deliver(&self, t: &Arc<HealTrigger>) {
        let last = t.samples.last();
        tracing::warn!(
            trigger = %t.id,
            provider = %t.provider,
            adapter = %t.adapter,
            adapter_version = %t.adapter_version,
            class = t.class.as_str(),
            errors = t.errors_in_window,
            window_seconds = t.window_seconds,
            last_status = ?last.and_then(|s| s.status),
            last_error = last.map(|s| s.message.as_str()).unwrap_or_default(),
            "heal trigger: the adapter keeps failing the same way; see GET /api/v1/health/triggers"
        );
    }
}

type WebhookClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// POSTs every trigger as JSON to a configured URL (`[healing] alert_webhook_url`).
///
/// Each delivery runs in a task of its own on the caller's runtime, bounded by a timeout. The
/// client keeps no idle connections: triggers are rare, and the server's worker runtimes must
/// not share a pooled connection driven by another thread.
pub struct WebhookSink {
    url: http::Uri,
    timeout: Duration,
    client: WebhookClient,
}

/// Why a webhook URL cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("alert webhook URL {url:?} is not usable: {reason}")]
pub struct WebhookUrlError {
    /// The URL given.
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

impl WebhookSink {
    /// A sink posting to `url`, giving up on a delivery after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, WebhookUrlError> {
        let fail = |reason: &str| WebhookUrlError {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url.parse().map_err(|_| fail("not a URL"))?;
        match uri.scheme_str() {
            Some("http" | "https") => {}
            _ => return Err(fail("use an http:// or https:// URL")),
        }
        if uri.host().is_none() {
            return Err(fail("it names no host"));
        }
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(0)
            .build(connector);
        Ok(WebhookSink {
            url: uri,
            timeout,
            client,
        })
    }
}

impl WebhookSink {
    /// POST `body` (JSON) in a task of its own; `what` and `id` name it in the log lines.
    pub fn post(&self, what: &'static str, id: &str, body: Vec<u8>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                what,
                id,
                "alert webhook skipped: no async runtime to post from"
            );
            return;
        };
        let request = http::Request::post(self.url.clone())
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::USER_AGENT, "aratta-health-monitor")
            .body(Full::new(Bytes::from(body)));
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(what, id, error = %e, "alert webhook skipped: bad request");
                return;
            }
        };
        let client = self.client.clone();
        let timeout = self.timeout;
        let id = id.to_owned();
        let url = self.url.to_string();
        drop(runtime.spawn(async move {
            let sent = tokio::time::timeout(timeout, async {
                let response = client.request(request).await?;
                let status = response.status();
                // Read the (small) answer so the connection closes cleanly.
                let _ = response.into_body().collect().await;
                Ok::<_, hyper_util::client::legacy::Error>(status)
            })
            .await;
            match sent {
                Ok(Ok(status)) if status.is_success() => {
                    tracing::info!(what, id, %url, %status, "alert webhook delivered")
                }
                Ok(Ok(status)) => {
                    tracing::warn!(what, id, %url, %status, "alert webhook refused the delivery")
                }
                Ok(Err(e)) => {
                    tracing::warn!(what, id, %url, error = %e, "alert webhook failed")
                }
                Err(_) => {
                    tracing::warn!(what, id, %url, timeout_ms = timeout.as_millis() as u64, "alert webhook timed out")
                }
            }
        }));
    }
}

impl AlertSink for WebhookSink {
    fn deliver(&self, trigger: &Arc<HealTrigger>) {
        match serde_json::to_vec(&**trigger) {
            Ok(body) => self.post("heal_trigger", &trigger.id, body),
            Err(e) => {
                tracing::warn!(trigger = %trigger.id, error = %e, "alert webhook skipped: the trigger did not serialize");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_checked() {
        let t = Duration::from_secs(1);
        assert!(WebhookSink::new("http://127.0.0.1:9/hook", t).is_ok());
        assert!(WebhookSink::new("https://alerts.example.com/x", t).is_ok());
        let e = WebhookSink::new("ftp://x/y", t).err().unwrap();
        assert!(e.to_string().contains("http://"), "{e}");
        assert!(WebhookSink::new("not a url", t).is_err());
        assert!(WebhookSink::new("/relative", t).is_err());
    }
}
