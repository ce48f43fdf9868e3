//! A mock OpenTelemetry collector: serves OTLP/HTTP `POST /v1/traces` as a collector does
//! (protobuf `ExportTraceServiceRequest` in, an empty `ExportTraceServiceResponse` out),
//! decodes each batch with the protocol's generated messages and keeps every span, flattened
//! for assertions.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// One exported span.
#[derive(Clone, Debug)]
pub struct Span {
    /// Its trace, hex.
    pub trace_id: String,
    /// Its own id, hex.
    pub span_id: String,
    /// Its parent's id, hex (empty for a root).
    pub parent_span_id: String,
    /// Its name.
    pub name: String,
    /// `SPAN_KIND_SERVER`, `SPAN_KIND_CLIENT`, ...
    pub kind: String,
    /// Its attributes as JSON values (strings, integers, floats, booleans, arrays).
    pub attributes: BTreeMap<String, Value>,
    /// `STATUS_CODE_UNSET`, `STATUS_CODE_OK` or `STATUS_CODE_ERROR`.
    pub status: String,
    /// The status message.
    pub status_message: String,
    /// Start, in nanoseconds since the Unix epoch.
    pub start_ns: u64,
    /// End, likewise.
    pub end_ns: u64,
    /// The attributes of the resource that sent it (`service.name`, ...).
    pub resource: BTreeMap<String, Value>,
}

impl Span {
    /// Attribute `key`, or `Null`.
    pub fn attr(&self, key: &str) -> &Value {
        self.attributes.get(key).unwrap_or(&Value::Null)
    }
}

/// An export request's path and headers (lowercase names).
pub type Export = (String, Vec<(String, String)>);

/// A running collector.
pub struct Collector {
    addr: SocketAddr,
    spans: Arc<Mutex<Vec<Span>>>,
    requests: Arc<Mutex<Vec<Export>>>,
}

impl Collector {
    /// Bind `127.0.0.1:0` and serve.
    pub async fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
        let requests: Arc<Mutex<Vec<Export>>> = Arc::default();
        let (kept, seen) = (spans.clone(), requests.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (kept, seen) = (kept.clone(), seen.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| {
                        let (kept, seen) = (kept.clone(), seen.clone());
                        async move { Ok::<_, Infallible>(answer(req, &kept, &seen).await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Collector {
            addr,
            spans,
            requests,
        }
    }

    /// The base endpoint, as `[traces] endpoint` takes it.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<Span> {
        self.spans.lock().unwrap().clone()
    }

    /// Each export request's path and headers (lowercase names).
    pub fn requests(&self) -> Vec<Export> {
        self.requests.lock().unwrap().clone()
    }

    /// Waits (up to `timeout`) until `done` holds for the spans received; returns them.
    pub async fn wait_for(&self, timeout: Duration, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let spans = self.spans();
            if done(&spans) || tokio::time::Instant::now() >= deadline {
                return spans;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn answer(
    req: Request<hyper::body::Incoming>,
    kept: &Mutex<Vec<Span>>,
    seen: &Mutex<Vec<Export>>,
) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let headers = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect::<Vec<_>>();
    let protobuf = headers
        .iter()
        .any(|(n, v)| n == "content-type" && v == "application/x-protobuf");
    seen.lock().unwrap().push((path.clone(), headers));
    let body = req.into_body().collect().await.map(|b| b.to_bytes());
    let reply = |status: u16, content_type: &str, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    if path != "/v1/traces" || !protobuf {
        return reply(404, "text/plain", b"only protobuf at /v1/traces".to_vec());
    }
    let decoded = body
        .ok()
        .and_then(|b| ExportTraceServiceRequest::decode(b).ok());
    let Some(request) = decoded else {
        return reply(
            400,
            "text/plain",
            b"not an ExportTraceServiceRequest".to_vec(),
        );
    };
    let mut spans = kept.lock().unwrap();
    for resource_spans in request.resource_spans {
        let resource = resource_spans
            .resource
            .map(|r| attributes(&r.attributes))
            .unwrap_or_default();
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                let status = span.status.unwrap_or_default();
                spans.push(Span {
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    name: span.name,
                    kind: opentelemetry_proto::tonic::trace::v1::span::SpanKind::try_from(
                        span.kind,
                    )
                    .map(|k| k.as_str_name().to_owned())
                    .unwrap_or_default(),
                    attributes: attributes(&span.attributes),
                    status: opentelemetry_proto::tonic::trace::v1::status::StatusCode::try_from(
                        status.code,
                    )
                    .map(|c| c.as_str_name().to_owned())
                    .unwrap_or_default(),
                    status_message: status.message,
                    start_ns: span.start_time_unix_nano,
                    end_ns: span.end_time_unix_nano,
                    resource: resource.clone(),
                });
            }
        }
    }
    let response = ExportTraceServiceResponse::default().encode_to_vec();
    reply(200, "application/x-protobuf", response)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attributes(kvs: &[KeyValue]) -> BTreeMap<String, Value> {
    kvs.iter()
        .map(|kv| (kv.key.clone(), kv.value.as_ref().map_or(Value::Null, value)))
        .collect()
}

fn value(v: &AnyValue) -> Value {
    match &v.value {
        Some(any_value::Value::StringValue(s)) => json!(s),
        Some(any_value::Value::BoolValue(b)) => json!(b),
        Some(any_value::Value::IntValue(i)) => json!(i),
        Some(any_value::Value::DoubleValue(d)) => json!(d),
        Some(any_value::Value::ArrayValue(a)) => Value::Array(a.values.iter().map(value).collect()),
        _ => Value::Null,
    }
}
