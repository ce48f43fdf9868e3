//! What makes an API a dialect of Aratta's, and the one chat handler every dialect shares.
//!
//! A dialect (SCRI, OpenAI's chat completions, Anthropic's messages, Gemini's
//! generateContent) supplies four things: how a body decodes to a SCRI request, how a SCRI
//! answer encodes, how SCRI stream events become its server-sent events, and its error body.
//! [`chat`] does the rest once for all of them: the gateway's defaults, the call bounded by the
//! request's deadline, the lineage headers, JSON or a stream, and failures in the dialect's
//! shape with `Retry-After` when the provider gave one. Adding a dialect is an impl of
//! [`Dialect`] and a route that calls [`chat`].

use std::convert::Infallible;

use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{HeaderValue, StatusCode};

use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::{ApiErrorBody, ChatRequest, ChatResponse, StreamEvent};

use super::lineage::lineage_headers;
use super::with_timeout;

/// What a route's path says about a chat request: Gemini names the model and whether to
/// stream there; the other dialects say it in the body.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathArgs<'a> {
    /// The model named by the path.
    pub model: Option<&'a str>,
    /// Whether the path asks for a stream.
    pub stream: bool,
}

/// A request a dialect refuses before it reaches the gateway, answered in the dialect's
/// error shape. Boxed where it is returned: it is large and rare.
#[derive(Debug)]
pub struct Refusal {
    /// The HTTP status.
    pub status: StatusCode,
    /// What is wrong, and with which field.
    pub error: ApiErrorBody,
}

impl Refusal {
    /// A boxed refusal, as [`Dialect::decode`] returns it.
    pub fn boxed(status: StatusCode, error: ApiErrorBody) -> Box<Self> {
        Box::new(Refusal { status, error })
    }
}

/// One API's wire format around SCRI.
pub trait Dialect {
    /// What decoding learned that the encoders need (OpenAI's `stream_options`).
    type Options: Send + 'static;
    /// Turns SCRI stream events into this dialect's server-sent events.
    type Encoder: StreamEncoder;

    /// The SCRI request a body stands for, or why it is refused (answered in [`Dialect::error`]'s
    /// shape).
    fn decode(
        body: &[u8],
        path: PathArgs<'_>,
    ) -> Result<(ChatRequest, Self::Options), Box<Refusal>>;

    /// A whole answer as this dialect's JSON body.
    fn encode(answer: &ChatResponse, options: &Self::Options) -> impl serde::Serialize;

    /// The encoder for one stream, `request_id` being the gateway's (`req_…`).
    fn encoder(request_id: &str, model: String, options: Self::Options) -> Self::Encoder;

    /// An error body in this dialect's shape.
    fn error(status: StatusCode, error: &ApiErrorBody) -> Response;
}

/// Encodes one stream's SCRI events.
pub trait StreamEncoder: Send + 'static {
    /// The server-sent events `event` becomes: none, one or several (a terminal event may add
    /// a trailer, as OpenAI's `[DONE]`).
    fn push(&mut self, event: &StreamEvent) -> Vec<Event>;
}

/// A gateway failure in dialect `D`'s shape, with `Retry-After` when the provider gave one.
pub fn failure<D: Dialect>(e: &GatewayError) -> Response {
    let mut response = D::error(e.status(), &e.to_api_error());
    if let Some(seconds) = e.retry_after_seconds() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// Answer a chat request in dialect `D`: decode, default, call the gateway within the
/// request's deadline, and encode the answer (JSON, or server-sent events when it streams).
pub async fn chat<D: Dialect>(gw: &Gateway, body: &[u8], path: PathArgs<'_>) -> Response {
    let (mut request, options) = match D::decode(body, path) {
        Ok(decoded) => decoded,
        Err(refusal) => return D::error(refusal.status, &refusal.error),
    };
    if let Err(e) = gw.prepare_chat(&mut request) {
        return failure::<D>(&e);
    }
    let id = request_id();
    if !request.stream {
        return match with_timeout(gw, gw.chat(&request, &id)).await {
            Ok(answer) => (
                lineage_headers(&answer.lineage),
                axum::Json(D::encode(&answer, &options)),
            )
                .into_response(),
            Err(super::Failure(e)) => failure::<D>(&e),
        };
    }
    let open = match with_timeout(gw, gw.chat_stream(&request, &id)).await {
        Ok(open) => open,
        Err(super::Failure(e)) => return failure::<D>(&e),
    };
    let headers = lineage_headers(open.lineage());
    let mut encoder = D::encoder(&id, open.lineage().model.clone(), options);
    let events = open.flat_map(move |event| {
        futures::stream::iter(encoder.push(&event).into_iter().map(Ok::<_, Infallible>))
    });
    (headers, Sse::new(events)).into_response()
}
