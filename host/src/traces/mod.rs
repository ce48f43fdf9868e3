//! OpenTelemetry traces over OTLP/HTTP, following the GenAI semantic conventions: one server
//! span per inference request, a client span per provider attempt under it (retries,
//! breaker skips and fallbacks each visible), and each heal cycle as a trace of its phases.
//! Off unless `[traces] endpoint` is set; when off, nothing here runs and requests carry no
//! trace state. A caller's W3C `traceparent` makes the request span its child.

mod request;
mod transport;

use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{Sampler, SdkTracer, SdkTracerProvider};

pub use request::{Attempt, RequestTrace};
pub use transport::SendError;

use crate::config::TracesConfig;

/// How long one export may take, and how long shutdown waits for the last batch.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why traces could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TracesError {
    /// The exporter refused its configuration.
    #[error("cannot export traces to {endpoint}: {source}")]
    Exporter {
        /// The traces URL.
        endpoint: String,
        /// What the exporter said.
        #[source]
        source: opentelemetry_otlp::ExporterBuildError,
    },
}

/// The tracer every span is made with, and the provider that batches and exports them.
#[derive(Debug)]
pub struct Traces {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
    endpoint: String,
}

impl Traces {
    /// Start exporting to `config.endpoint` from `runtime`, or `None` when no endpoint is set.
    pub fn start(
        config: &TracesConfig,
        runtime: tokio::runtime::Handle,
    ) -> Result<Option<Traces>, TracesError> {
        let Some(endpoint) = config.endpoint.as_deref() else {
            return Ok(None);
        };
        let endpoint = traces_url(endpoint);
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint.clone())
            .with_timeout(EXPORT_TIMEOUT)
            .with_http_client(transport::Transport::new(runtime, EXPORT_TIMEOUT))
            .build()
            .map_err(|source| TracesError::Exporter {
                endpoint: endpoint.clone(),
                source,
            })?;
        let resource = Resource::builder()
            .with_service_name(config.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_sampler(Sampler::ParentBased(Box::new(Sampler::TraceIdRatioBased(
                config.sample_ratio,
            ))))
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("aratta");
        Ok(Some(Traces {
            provider,
            tracer,
            endpoint,
        }))
    }

    /// Where spans are sent.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Export what is buffered and stop; spans ended after this are dropped. Blocks (up to
    /// the export timeout), so call it off the async runtime's worker threads.
    pub fn shutdown(&self) {
        if let Err(e) = self.provider.shutdown_with_timeout(EXPORT_TIMEOUT) {
            tracing::warn!(endpoint = %self.endpoint, error = %e, "the last spans may not have reached the collector");
        }
    }

    /// The tracer, for subsystems that shape their own spans (heal cycles).
    pub fn tracer(&self) -> &SdkTracer {
        &self.tracer
    }
}

/// The traces URL for a configured endpoint: a bare base gets the OTLP path `/v1/traces`.
fn traces_url(endpoint: &str) -> String {
    match url::Url::parse(endpoint) {
        Ok(url) if url.path().is_empty() || url.path() == "/" => {
            format!("{}/v1/traces", endpoint.trim_end_matches('/'))
        }
        _ => endpoint.to_owned(),
    }
}

/// `gen_ai.provider.name` for an adapter: the conventions' well-known value where there is
/// one, else the adapter's own name.
pub(crate) fn provider_system(adapter: &str) -> String {
    match adapter {
        "google" => "gcp.gemini".into(),
        "xai" => "x_ai".into(),
        other => other.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_endpoint_gets_the_otlp_traces_path_and_a_full_one_is_kept() {
        assert_eq!(
            traces_url("http://localhost:4318"),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            traces_url("http://localhost:4318/"),
            "http://localhost:4318/v1/traces"
        );
        assert_eq!(
            traces_url("https://otel.example/api/v1/traces"),
            "https://otel.example/api/v1/traces"
        );
    }

    #[test]
    fn provider_names_follow_the_conventions_well_known_values() {
        assert_eq!(provider_system("openai"), "openai");
        assert_eq!(provider_system("anthropic"), "anthropic");
        assert_eq!(provider_system("google"), "gcp.gemini");
        assert_eq!(provider_system("xai"), "x_ai");
        assert_eq!(provider_system("local"), "local");
    }
}
