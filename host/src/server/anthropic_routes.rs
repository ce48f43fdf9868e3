//! Anthropic-compatible routes, so the official Anthropic SDKs work with `base_url` pointed
//! at Aratta: `POST /v1/messages` (JSON, or Anthropic's server-sent events with
//! `"stream": true`) and the Anthropic form of `GET /v1/models`. The client's `x-api-key` is
//! accepted and ignored: Aratta holds the provider keys. Lineage travels in `x-aratta-*`
//! headers, and every error is Anthropic's `{"type": "error", "error": {...}}`.
//!
//! **Which `/v1/models`.** OpenAI's and Anthropic's SDKs both call `GET /v1/models`. A request
//! with an `anthropic-version` header (every Anthropic SDK sends one; Anthropic's API requires
//! it), or with `x-api-key` and no `Authorization`, gets Anthropic's page; any other gets
//! OpenAI's list.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{HeaderValue, StatusCode, Uri};

use crate::anthropic_api::{self, EventEncoder, ModelsQuery};
use crate::gateway::{Gateway, GatewayError, request_id};
use crate::scri::ApiErrorBody;

use super::openai_routes::lineage_headers;
use super::with_timeout;

fn answer(status: StatusCode, err: &ApiErrorBody) -> Response {
    (status, Json(anthropic_api::error_body(err))).into_response()
}

/// A gateway failure in Anthropic's shape, with `Retry-After` when the provider gave one.
fn failure(e: GatewayError) -> Response {
    let mut response = answer(e.status(), &e.to_api_error());
    if let Some(seconds) = e.retry_after_seconds() {
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `POST /v1/messages`.
pub async fn messages(State(gw): State<Arc<Gateway>>, body: Bytes) -> Response {
    let mut request = match anthropic_api::messages_request(&body) {
        Ok(request) => request,
        Err(e) => return answer(StatusCode::BAD_REQUEST, &e.to_api_error()),
    };
    if let Err(e) = gw.prepare_chat(&mut request) {
        return failure(e);
    }
    let id = request_id();
    if !request.stream {
        return match with_timeout(&gw, gw.chat(&request, &id)).await {
            Ok(response) => (
                lineage_headers(&response.lineage),
                Json(anthropic_api::message(&response)),
            )
                .into_response(),
            Err(super::Failure(e)) => failure(e),
        };
    }
    let open = match with_timeout(&gw, gw.chat_stream(&request, &id)).await {
        Ok(open) => open,
        Err(super::Failure(e)) => return failure(e),
    };
    let headers = lineage_headers(open.lineage());
    let mut encoder =
        EventEncoder::new(id.trim_start_matches("req_"), open.lineage().model.clone());
    let events = open.flat_map(move |event| {
        let out = encoder.push(&event);
        futures::stream::iter(
            out.into_iter()
                .map(|(name, data)| Ok::<_, Infallible>(Event::default().event(name).data(data))),
        )
    });
    (headers, Sse::new(events)).into_response()
}

/// `GET /v1/models` for an Anthropic client: one page, by `after_id` / `before_id` / `limit`.
pub async fn models(gw: Arc<Gateway>, uri: &Uri) -> Response {
    let query = match Query::<ModelsQuery>::try_from_uri(uri) {
        Ok(Query(query)) => query,
        Err(e) => {
            let err = GatewayError::BadRequest {
                message: format!("the query is invalid: {e}"),
                param: None,
            };
            return failure(err);
        }
    };
    Json(anthropic_api::models_page(&gw.models().await, &query)).into_response()
}

/// `GET /v1/models/{model_id}` for an Anthropic client.
pub async fn model(gw: Arc<Gateway>, id: &str) -> Response {
    match anthropic_api::model(&gw.models().await, id) {
        Some(model) => Json(model).into_response(),
        None => failure(GatewayError::UnknownModel {
            message: format!("no model `{id}`; GET /v1/models lists them"),
        }),
    }
}
