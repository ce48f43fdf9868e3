"""Blocking outbound HTTP over ``wasi:http/outgoing-handler``, the only way out of an adapter.

Requests go below the operator's base URL (``CallContext.base_url``). The host decides which
hosts are reachable and adds the provider's credential, so adapters never set ``authorization``
(:meth:`Request.send` refuses to). Transport failures raise ``connection`` or ``timeout`` errors
naming the ``wasi:http`` error code; :meth:`Response.error_for_status` turns a non-success status
into the classified error of :func:`aratta_adapter.errors.error_for_status`.
"""

import json
from typing import Any, Iterator, List, Optional, Tuple

from componentize_py_types import Err, Ok
from wit_world.imports import outgoing_handler, streams, types
from wit_world.imports.errors import AdapterError

from . import errors

#: How many bytes one body read asks for.
READ_CHUNK = 64 * 1024
#: ``blocking-write-and-flush`` accepts at most 4096 bytes per call.
WRITE_CHUNK = 4096

_TIMEOUT_CODES = (
    types.ErrorCode_DnsTimeout,
    types.ErrorCode_ConnectionTimeout,
    types.ErrorCode_ConnectionReadTimeout,
    types.ErrorCode_ConnectionWriteTimeout,
    types.ErrorCode_HttpResponseTimeout,
)


def join(base_url: str, path: str) -> Tuple[str, str, str]:
    """``base_url`` joined with ``path`` as (scheme, authority, path-with-query), the parts
    ``wasi:http`` takes: ``http://h:1/v1?k=v`` + ``/models`` gives ``/v1/models?k=v``."""
    scheme, sep, rest = base_url.partition("://")
    if not sep:
        errors.fail(errors.invalid_request(f"base URL `{base_url}` has no scheme (http:// or https://)"))
    rest = rest.split("#", 1)[0]
    cut = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    authority, tail = rest[:cut], rest[cut:]
    if not authority:
        errors.fail(errors.invalid_request(f"base URL `{base_url}` has no host"))
    if "@" in authority:
        errors.fail(errors.invalid_request(
            f"base URL `{base_url}` contains credentials; the host adds the provider's credential"
        ))
    base_path, _, base_query = tail.partition("?")
    extra_path, _, extra_query = path.partition("?")
    full = base_path.rstrip("/")
    if extra_path and not extra_path.startswith("/"):
        full += "/"
    full = (full + extra_path) or "/"
    queries = [q for q in (base_query, extra_query) if q]
    if queries:
        full += "?" + "&".join(queries)
    return scheme.lower(), authority, full


def transport_error(code: Any, url: str) -> AdapterError:
    """The ``connection`` or ``timeout`` error for a ``wasi:http`` error code reaching ``url``."""
    name = type(code).__name__.removeprefix("ErrorCode_")
    if isinstance(code, types.ErrorCode_HttpRequestDenied):
        return errors.connection(
            f"the host denied the request to {url}: its host is not allowed for this provider "
            "(HttpRequestDenied)"
        )
    if isinstance(code, _TIMEOUT_CODES):
        return errors.timeout(f"{url} timed out ({name})")
    return errors.connection(f"could not reach {url} ({name})")


class Request:
    """An outgoing request, built with the chained setters and sent with :meth:`send`."""

    def __init__(self, method: str, ctx: Any, path: str) -> None:
        self.method = method.upper()
        self.base_url = ctx.base_url
        self.path = path
        self.headers: List[Tuple[str, bytes]] = []
        self.body = b""

    @classmethod
    def get(cls, ctx: Any, path: str) -> "Request":
        """A ``GET`` of ``path`` below the base URL."""
        return cls("GET", ctx, path)

    @classmethod
    def post(cls, ctx: Any, path: str) -> "Request":
        """A ``POST`` to ``path`` below the base URL."""
        return cls("POST", ctx, path)

    def header(self, name: str, value: str) -> "Request":
        """Add a header; ``authorization`` is refused at send time (the host owns the key)."""
        self.headers.append((name.lower(), value.encode()))
        return self

    def json(self, body: Any) -> "Request":
        """Send ``body`` serialized as JSON (or JSON text as it is)."""
        text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
        self.body = text.encode()
        return self.header("content-type", "application/json")

    def send(self) -> "Response":
        """Send the request and wait for the response head; the body is read later."""
        if any(name == "authorization" for name, _ in self.headers):
            errors.fail(errors.other(
                "adapters must not set `authorization`: the host adds the provider's credential"
            ))
        scheme, authority, path = join(self.base_url, self.path)
        url = f"{scheme}://{authority}{path}"
        headers = list(self.headers)
        if self.body or self.method != "GET":
            # A known length: some servers do not accept a chunked request body.
            headers.append(("content-length", str(len(self.body)).encode()))
        try:
            fields = types.Fields.from_list(headers)
        except Err as e:
            errors.fail(errors.other(f"invalid request header: {e.value}"))
        request = types.OutgoingRequest(fields)
        method = getattr(types, "Method_" + self.method.capitalize(), None)
        request.set_method(method() if method else types.Method_Other(self.method))
        request.set_scheme(
            types.Scheme_Http() if scheme == "http"
            else types.Scheme_Https() if scheme == "https"
            else types.Scheme_Other(scheme)
        )
        request.set_authority(authority)
        request.set_path_with_query(path)
        outgoing = request.body()
        try:
            future = outgoing_handler.handle(request, None)
        except Err as e:
            errors.fail(transport_error(e.value, url))
        write_failed = _write_body(outgoing, self.body)
        # A request the host denies can show first as a closed body stream: the response
        # future holds the real reason, so it is read before the write error is reported.
        with future:
            while (got := future.get()) is None:
                with future.subscribe() as ready:
                    ready.block()
        if isinstance(got, Ok):
            if isinstance(got.value, Ok):
                return Response(got.value.value, url)
            errors.fail(transport_error(got.value.value, url))
        if write_failed:
            errors.fail(errors.connection(f"sending the request body to {url} failed: {write_failed}"))
        errors.fail(errors.connection(f"{url}: the response never arrived"))


def _write_body(outgoing: Any, body: bytes) -> Optional[str]:
    """Write and finish the request body; why it failed, or ``None``."""
    failed = None
    try:
        with outgoing.write() as stream:
            for at in range(0, len(body), WRITE_CHUNK):
                stream.blocking_write_and_flush(body[at : at + WRITE_CHUNK])
    except Err as e:
        failed = _stream_error_text(e.value)
    try:
        types.OutgoingBody.finish(outgoing, None)
    except Err as e:
        failed = failed or type(e.value).__name__.removeprefix("ErrorCode_")
    return failed


def _stream_error_text(error: Any) -> str:
    if isinstance(error, streams.StreamError_Closed):
        return "the stream was closed"
    code = types.http_error_code(error.value)
    if code is not None:
        return type(code).__name__.removeprefix("ErrorCode_")
    return error.value.to_debug_string()


class Response:
    """A response whose head has arrived; read the body with :meth:`bytes` or :meth:`chunks`."""

    def __init__(self, response: Any, url: str) -> None:
        self._response = response
        self.url = url
        self.status: int = response.status()
        with response.headers() as headers:
            self.headers: List[Tuple[str, bytes]] = headers.entries()
        self._body = response.consume()
        self._stream = self._body.stream()

    def header(self, name: str) -> Optional[str]:
        """The first value of header ``name`` (case-insensitive), when it is UTF-8."""
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                try:
                    return value.decode()
                except UnicodeDecodeError:
                    return None
        return None

    def error_for_status(self) -> "Response":
        """This response when 2xx; otherwise raise its classified error (status and body kept)."""
        if 200 <= self.status < 300:
            return self
        try:
            body = self.bytes()
        except Err:
            body = b""
        retry = errors.retry_after_ms(self.header("retry-after"), self.header("retry-after-ms"))
        errors.fail(errors.error_for_status(self.status, retry, body))

    def chunks(self) -> Iterator[bytes]:
        """The body's bytes as they arrive; raises ``connection``/``timeout`` if it is cut."""
        while self._stream is not None:
            try:
                chunk = self._stream.blocking_read(READ_CHUNK)
            except Err as e:
                self.close()
                if isinstance(e.value, streams.StreamError_Closed):
                    return
                code = types.http_error_code(e.value.value)
                if code is not None:
                    errors.fail(transport_error(code, self.url))
                errors.fail(errors.connection(
                    f"reading the response from {self.url} failed: {e.value.value.to_debug_string()}"
                ))
            if chunk:
                yield chunk

    def bytes(self) -> bytes:
        """The whole body."""
        return b"".join(self.chunks())

    def close(self) -> None:
        """Release the body stream, the body and the response, children first (the order
        ``wasi:http`` requires)."""
        if self._stream is not None:
            self._stream.__exit__(None, None, None)
            self._stream = None
            types.IncomingBody.finish(self._body).__exit__(None, None, None)
            self._response.__exit__(None, None, None)
