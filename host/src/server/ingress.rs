//! The layer every request passes first: who may ask ([`guard`](super::guard)), the client
//! key of an inference request ([`ClientAuth`]: the [`Caller`] it runs as), a slot among
//! `[server] max_concurrent_requests`, the body read under its own deadline and size limit,
//! and the request deadline (`request_timeout_seconds`, counted from here, so reading the body
//! and waiting for a slot count against it). A refusal is answered in the shape of the API the
//! route speaks (OpenAI/SCRI, Anthropic or Gemini), so each SDK shows the message.
//!
//! The body is read here rather than by the handler, so a trickled body ends in a 408 and an
//! oversized one in a 413 in that shape; the handler then takes the same bytes without a copy.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::config::ServerConfig;
use crate::dialects::{DEADLINE, Shape};
use crate::keys::{CALLER, Caller, ClientAuth, Route};
use crate::scri::ApiErrorBody;

use super::guard::{Guard, Refusal, check_content_type};

/// The ingress rules and limits for one bound server.
pub struct Ingress {
    guard: Guard,
    auth: Arc<ClientAuth>,
    slots: Arc<Semaphore>,
    request_timeout: Duration,
    body_timeout: Duration,
    max_body: u64,
    traced: bool,
}

impl Ingress {
    /// The layer's state for a server bound to `bound` with the `[server]` settings, checking
    /// client keys by `auth`; `traced`: requests are traced, so a caller's `traceparent` is
    /// kept for the request's span.
    pub fn new(
        bound: std::net::SocketAddr,
        server: &ServerConfig,
        auth: Arc<ClientAuth>,
        traced: bool,
    ) -> Self {
        Ingress {
            traced,
            guard: Guard::new(bound, server),
            auth,
            slots: Arc::new(Semaphore::new(server.max_concurrent_requests)),
            request_timeout: server.request_timeout(),
            body_timeout: server.body_read_timeout(),
            max_body: server.max_body_bytes,
        }
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn admit(State(ingress): State<Arc<Ingress>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let deadline = started + ingress.request_timeout;
    let (parts, body) = request.into_parts();
    let shape = || Shape::of(&parts.method, &parts.uri, &parts.headers);
    if let Err(refusal) = ingress
        .guard
        .check(&parts.headers, &parts.uri)
        .and_then(|()| check_content_type(&parts.method, &parts.uri, &parts.headers))
    {
        tracing::warn!(method = %parts.method, path = %parts.uri.path(), reason = %refusal, "request refused");
        return refuse(shape(), &refusal);
    }
    let mut caller = match Route::of(&parts.method, parts.uri.path()) {
        None => Caller::default(),
        Some(route) => {
            match ingress.auth.admit(
                route,
                &parts.headers,
                &parts.uri,
                crate::clock::unix_seconds(),
            ) {
                Ok(caller) => caller,
                Err(denied) => {
                    tracing::warn!(method = %parts.method, path = %parts.uri.path(), reason = %denied, "request refused");
                    let mut refused = answer(
                        shape(),
                        denied.status(),
                        denied.kind(),
                        denied.code(),
                        denied.to_string(),
                    );
                    if denied.status() == StatusCode::SERVICE_UNAVAILABLE {
                        refused
                            .headers_mut()
                            .insert(header::RETRY_AFTER, HeaderValue::from(5));
                    }
                    return refused;
                }
            }
        }
    };
    if ingress.traced {
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        caller.traceparent = header("traceparent");
        caller.tracestate = caller.traceparent.as_ref().and(header("tracestate"));
    }
    // The key's own limits: requests and tokens per minute, requests at once, its budget.
    let admitted = match caller.key.as_deref() {
        None => None,
        Some(key) => match ingress
            .auth
            .limits()
            .admit(key, crate::clock::unix_millis())
        {
            Ok(admitted) => Some(admitted),
            Err(limited) => {
                tracing::warn!(key = %key.id, reason = %limited, "request refused by the key's limits");
                let mut refused = answer(
                    shape(),
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_error",
                    limited.code(),
                    limited.to_string(),
                );
                if let Some(seconds) = limited.retry_after() {
                    refused
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
                return refused;
            }
        },
    };
    let Ok(Ok(slot)) =
        tokio::time::timeout_at(deadline, ingress.slots.clone().acquire_owned()).await
    else {
        let mut answer = answer(
            shape(),
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded_error",
            "too_many_requests",
            format!(
                "the server is at [server] max_concurrent_requests and no slot freed within {} s; retry",
                ingress.request_timeout.as_secs()
            ),
        );
        answer
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(1));
        return answer;
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > ingress.max_body) {
        return too_large(shape(), ingress.max_body);
    }
    let limit = usize::try_from(ingress.max_body).unwrap_or(usize::MAX);
    let read_by = deadline.min(started + ingress.body_timeout);
    let bytes = match tokio::time::timeout_at(read_by, Limited::new(body, limit).collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) if e.is::<LengthLimitError>() => return too_large(shape(), ingress.max_body),
        Ok(Err(e)) => {
            return close(answer(
                shape(),
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "body_unreadable",
                format!("the request body could not be read: {e}"),
            ));
        }
        Err(_) => {
            let seconds = read_by.duration_since(started).as_secs();
            tracing::warn!(method = %parts.method, path = %parts.uri.path(), seconds, "request body not received in time");
            return close(answer(
                shape(),
                StatusCode::REQUEST_TIMEOUT,
                "timeout_error",
                "body_read_timeout",
                format!(
                    "the request body did not arrive within {seconds} s ([server] body_read_timeout_seconds, within request_timeout_seconds)"
                ),
            ));
        }
    };
    let request = Request::from_parts(parts, Body::from(bytes));
    let response = DEADLINE
        .scope(deadline, CALLER.scope(caller, next.run(request)))
        .await;
    // The slots (the server's, and the key's when it limits requests at once) are held until
    // the answer's body (a stream) ends or the client goes away.
    response.map(|body| {
        Body::new(body.map_frame(move |frame| {
            let _held = (&slot, &admitted);
            frame
        }))
    })
}

fn refuse(shape: Shape, refusal: &Refusal) -> Response {
    let kind = match refusal {
        Refusal::ContentType { .. } => "invalid_request_error",
        _ => "permission_error",
    };
    answer(
        shape,
        refusal.status(),
        kind,
        refusal.code(),
        refusal.to_string(),
    )
}

fn too_large(shape: Shape, max: u64) -> Response {
    close(answer(
        shape,
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request_error",
        "body_too_large",
        format!("the request body is larger than [server] max_body_bytes ({max} bytes)"),
    ))
}

/// The connection cannot be reused: the rest of the body was never read.
fn close(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

fn answer(shape: Shape, status: StatusCode, kind: &str, code: &str, message: String) -> Response {
    let body = ApiErrorBody {
        message,
        kind: kind.to_owned(),
        param: None,
        code: Some(code.to_owned()),
        provider: None,
        upstream_status: None,
    };
    shape.error(status, &body)
}
