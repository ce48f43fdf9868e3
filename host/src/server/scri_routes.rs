//! SCRI routes: `/api/v1/chat` (JSON or server-sent SCRI events), `/api/v1/embed`,
//! `/api/v1/models`, `/api/v1/health`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};

use crate::gateway::{Gateway, HealthReport, OpenStream, request_id};
use crate::runtime::InvokeError;
use crate::runtime::bindings::chat as wit;
use crate::scri::{self, ApiError, StreamEvent, convert};

use super::error::Failure;
use super::with_timeout;

/// Answer a chat request; with `"stream": true`, as server-sent SCRI events.
#[utoipa::path(post, path = "/api/v1/chat", request_body = scri::ChatRequest,
    responses(
        (status = 200, description = "The answer (or, when streaming, `text/event-stream` of StreamEvent)", body = scri::ChatResponse),
        (status = 400, description = "The request is invalid", body = ApiError),
        (status = 404, description = "Unknown model or alias", body = ApiError),
        (status = 502, description = "The provider or its adapter failed", body = ApiError),
    ))]
pub async fn chat(State(gw): State<Arc<Gateway>>, body: Bytes) -> Result<Response, Failure> {
    let mut request = super::bodies::scri_chat(&body)?;
    super::validate_chat(&gw, &mut request)?;
    let id = request_id();
    if request.stream {
        let open = with_timeout(&gw, gw.chat_stream(&request, &id)).await?;
        return Ok(Sse::new(scri_events(open)).into_response());
    }
    let response = with_timeout(&gw, gw.chat(&request, &id)).await?;
    Ok(Json(response).into_response())
}

/// SCRI events of an open stream; the `stop` event carries the lineage.
pub fn scri_events(open: OpenStream) -> impl Stream<Item = Result<Event, Infallible>> {
    event_stream(open).map(|event| {
        Ok(Event::default()
            .event(event.name())
            .data(serde_json::to_string(&event).expect("stream events serialise")))
    })
}

/// The SCRI events of an open stream, ending after `stop` or `error`. A stream that ends
/// any other way (truncated, adapter crash) gets a final `error` event.
pub fn event_stream(open: OpenStream) -> impl Stream<Item = StreamEvent> {
    struct Pump {
        pending: Option<Result<wit::StreamEvent, InvokeError>>,
        open: OpenStream,
        done: bool,
    }
    let pump = Pump {
        pending: Some(Ok(open.first.clone())),
        open,
        done: false,
    };
    futures::stream::unfold(pump, |mut pump| async move {
        if pump.done {
            return None;
        }
        let next = match pump.pending.take() {
            Some(item) => item,
            None => pump.open.rest.recv().await.unwrap_or_else(|| {
                Err(InvokeError::Truncated {
                    adapter: pump.open.lineage.adapter.clone(),
                })
            }),
        };
        pump.open.lineage.latency_us = pump.open.started.elapsed().as_micros() as u64;
        let event = match next {
            Ok(event) => to_scri(event, &pump.open.lineage),
            Err(error) => failure_event(pump.open.lineage.provider.clone(), error),
        };
        pump.done = matches!(event, StreamEvent::Stop { .. } | StreamEvent::Error { .. });
        Some((event, pump))
    })
}

fn failure_event(provider: String, error: InvokeError) -> StreamEvent {
    let error = crate::gateway::GatewayError::Invoke { provider, error };
    tracing::warn!(error = %error, "stream failed");
    StreamEvent::Error {
        error: error.to_api_error(),
    }
}

fn to_scri(event: wit::StreamEvent, lineage: &scri::Lineage) -> StreamEvent {
    match event {
        wit::StreamEvent::Start(s) => StreamEvent::Start {
            id: s.id,
            model: s.model,
        },
        wit::StreamEvent::TextDelta(text) => StreamEvent::TextDelta { text },
        wit::StreamEvent::ReasoningDelta(r) => StreamEvent::ReasoningDelta {
            text: r.text,
            signature: r.signature,
            redacted: r.redacted,
            format: r.format,
        },
        wit::StreamEvent::ToolCallStart(t) => StreamEvent::ToolCallStart {
            index: t.index,
            id: t.id,
            name: t.name,
            signature: t.signature,
        },
        wit::StreamEvent::ToolCallDelta(t) => StreamEvent::ToolCallDelta {
            index: t.index,
            arguments: t.arguments,
        },
        wit::StreamEvent::Usage(u) => StreamEvent::Usage {
            usage: convert::usage(u),
        },
        wit::StreamEvent::Stop(reason) => {
            let (finish_reason, finish_reason_raw) = convert::finish_reason(reason);
            StreamEvent::Stop {
                finish_reason,
                finish_reason_raw,
                lineage: lineage.clone(),
            }
        }
        wit::StreamEvent::Error(e) => {
            failure_event(lineage.provider.clone(), InvokeError::Adapter(e))
        }
    }
}

/// Embed texts.
#[utoipa::path(post, path = "/api/v1/embed", request_body = scri::EmbedRequest,
    responses((status = 200, body = scri::EmbedResponse), (status = 400, body = ApiError), (status = 502, body = ApiError)))]
pub async fn embed(
    State(gw): State<Arc<Gateway>>,
    body: Bytes,
) -> Result<Json<scri::EmbedResponse>, Failure> {
    let request = super::bodies::scri_embed(&body)?;
    if request.inputs.is_empty() {
        return Err(super::error::bad_request(
            "inputs: must hold at least one text",
            Some("inputs".into()),
        ));
    }
    let id = request_id();
    Ok(Json(with_timeout(&gw, gw.embed(&request, &id)).await?))
}

/// Every enabled provider's models, and the aliases.
#[utoipa::path(get, path = "/api/v1/models", responses((status = 200, body = scri::ModelList)))]
pub async fn models(State(gw): State<Arc<Gateway>>) -> Json<scri::ModelList> {
    Json(gw.models().await)
}

/// The state of every provider; 200 whenever the server is up.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, body = HealthReport)))]
pub async fn health(State(gw): State<Arc<Gateway>>) -> Json<HealthReport> {
    Json(gw.health().await)
}
