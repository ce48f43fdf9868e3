"""Typed failures for the host: the ``adapter-error`` cases of ``wit/errors.wit``, built the same
way the Rust guest SDK builds them (``guest-sdk/src/error.rs`` and ``status.rs``).

Every helper returns an ``AdapterError`` value. Raise it from an export as
``componentize_py_types.Err(error)`` (or let :func:`fail` do it), or end a stream with it as a
``StreamEvent_Error``. The host acts on the case: it retries ``rate-limited``, ``timeout``,
``overloaded`` and ``connection``, never ``invalid-request``, and keeps the provider's raw status
and body for the health monitor and the heal worker.
"""

import json
from typing import NoReturn, Optional

from componentize_py_types import Err
from wit_world.imports.errors import (
    AdapterError,
    AdapterError_Connection,
    AdapterError_InvalidRequest,
    AdapterError_Other,
    AdapterError_Overloaded,
    AdapterError_RateLimited,
    AdapterError_SchemaMismatch,
    AdapterError_Timeout,
    AdapterError_Unauthorized,
    AdapterError_Unsupported,
    AdapterError_Upstream,
    ErrorDetail,
    MismatchKind,
    RateLimit,
    SchemaMismatch,
)

#: How much of a provider's body an error keeps: enough for the heal worker to see what drifted,
#: small enough that an HTML error page does not flood the host's logs.
MAX_ERROR_BODY = 8 * 1024


def fail(error: AdapterError) -> NoReturn:
    """Raise ``error`` the way componentize-py returns the ``err`` case of a WIT ``result``."""
    raise Err(error)


def truncate_body(body: bytes) -> str:
    """``body`` decoded leniently and cut to at most :data:`MAX_ERROR_BODY` bytes of UTF-8."""
    if len(body) <= MAX_ERROR_BODY:
        return body.decode("utf-8", "replace")
    cut = body[:MAX_ERROR_BODY].decode("utf-8", "ignore")
    return cut + "…[truncated]"


def detail(message: str, status: Optional[int] = None, body: Optional[bytes] = None) -> ErrorDetail:
    """An ``error-detail``: the adapter's one-line message, and the provider's status and body."""
    return ErrorDetail(message, status, None if body is None else truncate_body(body))


def unsupported(operation: str) -> AdapterError:
    """The adapter or provider does not offer ``operation`` (e.g. ``embed``)."""
    return AdapterError_Unsupported(detail(f"this adapter does not support `{operation}`"))


def connection(message: str) -> AdapterError:
    """The provider could not be reached (refused, reset, DNS, TLS, denied by the host)."""
    return AdapterError_Connection(detail(message))


def timeout(message: str) -> AdapterError:
    """No complete answer arrived in time."""
    return AdapterError_Timeout(detail(message))


def invalid_request(message: str) -> AdapterError:
    """The caller's request cannot be expressed for this provider; never retried."""
    return AdapterError_InvalidRequest(detail(message))


def other(message: str) -> AdapterError:
    """A failure that fits no other case."""
    return AdapterError_Other(detail(message))


def schema_mismatch(kind: MismatchKind, path: str, message: str, body: bytes) -> AdapterError:
    """The provider's answer drifted: ``path`` is a JSON path into ``body``."""
    return AdapterError_SchemaMismatch(SchemaMismatch(kind, path, detail(message, body=body)))


def missing_field(path: str, body: bytes) -> AdapterError:
    """A field the adapter relies on is absent: the most common drift."""
    return schema_mismatch(
        MismatchKind.MISSING_FIELD, path, f"the provider's response has no `{path}`", body
    )


def stream_format(path: str, message: str, body: bytes) -> AdapterError:
    """The stream's framing or events are not what the adapter expects."""
    return schema_mismatch(MismatchKind.STREAM_FORMAT_CHANGE, path, message, body)


def retry_after_ms(retry_after: Optional[str], retry_after_ms: Optional[str]) -> Optional[int]:
    """The provider's advice on when to retry, in milliseconds: ``retry-after-ms`` (preferred)
    or ``retry-after`` in seconds. HTTP dates are ignored (an adapter has no clock)."""
    for value, scale in ((retry_after_ms, 1.0), (retry_after, 1000.0)):
        try:
            number = float((value or "").strip())
        except ValueError:
            continue
        if number >= 0 and number != float("inf"):
            return int(-(-number * scale // 1))
    return None


def provider_message(body: bytes) -> Optional[str]:
    """The provider's own explanation from the usual JSON error shapes (``{"error":{"message"}}``,
    ``{"error":"…"}``, ``{"message":…}``, ``{"detail":…}``), at most 300 characters."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(value, dict):
        return None
    error = value.get("error")
    message = None
    if isinstance(error, str):
        message = error
    elif isinstance(error, dict) and isinstance(error.get("message"), str):
        message = error["message"]
    for key in ("message", "detail"):
        if message is None and isinstance(value.get(key), str):
            message = value[key]
    return None if message is None else message[:300]


def error_for_status(status: int, retry_ms: Optional[int], body: bytes) -> AdapterError:
    """The error for a non-success ``status``: 429 rate-limited (with ``retry_ms``); 401/403
    unauthorized; 400/404/413/422 invalid-request; 408/504 timeout; 503/529 overloaded;
    anything else upstream. The status and body are always kept."""
    said = provider_message(body)
    message = f"HTTP {status} from the provider" + (f": {said}" if said else "")
    d = detail(message, status, body)
    if status == 429:
        return AdapterError_RateLimited(RateLimit(retry_ms, d))
    if status in (401, 403):
        return AdapterError_Unauthorized(d)
    if status in (400, 404, 413, 422):
        return AdapterError_InvalidRequest(d)
    if status in (408, 504):
        return AdapterError_Timeout(d)
    if status in (503, 529):
        return AdapterError_Overloaded(d)
    return AdapterError_Upstream(d)


def upstream(message: str, body: bytes) -> AdapterError:
    """A provider-side failure with no HTTP status to classify it by."""
    return AdapterError_Upstream(detail(message, body=body))
