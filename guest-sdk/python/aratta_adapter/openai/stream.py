"""Streamed Chat Completions as SCRI stream events (the Python twin of
``guest-sdk/src/openai/stream.rs``).

:class:`StreamDecoder` turns ``chat.completion.chunk`` events into ``start``, ``text-delta``,
``reasoning-delta``, ``tool-call-start``, ``tool-call-delta``, ``usage`` and ``stop``. It holds
``stop`` back until ``[DONE]`` (or the end of the body after a finish reason), so the usage chunk
OpenAI sends after the finish reason is not lost. A body that ends with neither is an ``error``
event (truncated), never a silent success. :func:`sse_events` drives it from a response body,
reading only as much as the next event needs.
"""

import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, List, Optional

from componentize_py_types import Err
from wit_world.imports import chat
from wit_world.imports.errors import AdapterError

from .. import errors
from ..sse import SseEvent, SseParser
from .response import Fallbacks, arguments_text, embedded_error, finish_reason, reasoning_text, usage


@dataclass
class _Call:
    """One tool call as the stream builds it."""

    raw_index: int
    server_id: Optional[str]
    name: Optional[str] = None
    args: str = ""
    #: The SCRI index, once ``tool-call-start`` was emitted.
    started: Optional[int] = None

    def args_complete(self) -> bool:
        if not self.args.strip():
            return False
        try:
            json.loads(self.args)
        except ValueError:
            return False
        return True


class StreamDecoder:
    """The chunk-to-event state machine for one answer."""

    def __init__(self, fallbacks: Fallbacks) -> None:
        self.fallbacks = fallbacks
        self.started = False
        self.finish: Optional[str] = None
        self.usage: Optional[chat.Usage] = None
        self.real_usage = False
        self.calls: List[_Call] = []
        self.next_call = 0
        #: Whether a terminal event (``stop`` or ``error``) was emitted.
        self.done = False

    def on_event(self, event: SseEvent) -> List[chat.StreamEvent]:
        """The SCRI events for one SSE event."""
        if self.done:
            return []
        for name, value in event.fields:
            if name == "error":  # llama.cpp (2025) reports mid-stream failures this way.
                return self._fail(_error_payload(value))
        if event.event == "error":
            return self._fail(_error_payload(event.data))
        data = event.data.strip()
        if data == "[DONE]":
            return self._complete()
        if not data:
            return []
        raw = data.encode()
        try:
            chunk = json.loads(data)
        except ValueError as e:
            chunk = e
        if not isinstance(chunk, dict):
            return self._fail(errors.stream_format("", f"a stream chunk is not a JSON object: {chunk}", raw))
        return self._on_chunk(chunk, raw)

    def on_eof(self, saw_events: bool, head: bytes) -> List[chat.StreamEvent]:
        """The body ended; ``head`` is its start, kept for the error detail."""
        if self.done:
            return []
        if self.finish is not None:
            return self._complete()
        if not saw_events:
            said = errors.provider_message(head)
            message = (f"the response is not an event stream; the provider said: {said}" if said
                       else "the response ended without a single server-sent event")
            return self._fail(errors.stream_format("", message, head))
        return self._fail(errors.AdapterError_Connection(errors.detail(
            "the stream was truncated: it ended without `[DONE]` or a finish reason", body=head
        )))

    def _fail(self, error: AdapterError) -> List[chat.StreamEvent]:
        self.done = True
        return [chat.StreamEvent_Error(error)]

    def _complete(self) -> List[chat.StreamEvent]:
        for call in self.calls:
            if call.name is None:
                return self._fail(errors.stream_format(
                    f"choices[0].delta.tool_calls[{call.raw_index}].function.name",
                    "a streamed tool call never named its tool", call.args.encode(),
                ))
        if not self.started:
            return self._fail(errors.stream_format("", "the stream ended before its first chunk", b""))
        out: List[chat.StreamEvent] = [
            chat.StreamEvent_ToolCallDelta(chat.ToolCallDelta(call.started, "{}"))
            for call in self.calls if call.started is not None and not call.args.strip()
        ]
        if self.usage is not None:
            out.append(chat.StreamEvent_Usage(self.usage))
        out.append(chat.StreamEvent_Stop(finish_reason(self.finish, bool(self.calls))))
        self.done = True
        return out

    def _on_chunk(self, chunk: dict, raw: bytes) -> List[chat.StreamEvent]:
        error = embedded_error(chunk, raw)
        if error is not None:
            return self._fail(error)
        out: List[chat.StreamEvent] = []
        if not self.started:
            self.started = True
            out.append(chat.StreamEvent_Start(chat.StreamStart(
                chunk.get("id") or self.fallbacks.id, chunk.get("model") or self.fallbacks.model
            )))
        # Usage may come in every chunk (vLLM), with the last choice (older llama.cpp) or in a
        # final chunk without choices (OpenAI): keep the latest. llama.cpp's `timings` stand
        # in only while no real `usage` has arrived.
        if isinstance(chunk.get("usage"), dict):
            self.usage, self.real_usage = usage(chunk["usage"]), True
        elif not self.real_usage and isinstance(chunk.get("timings"), dict):
            self.usage = usage(None, chunk["timings"])
        choice = next((c for c in chunk.get("choices") or [] if isinstance(c, dict) and (c.get("index") or 0) == 0), None)
        if choice is None:
            return out
        delta = choice.get("delta") or choice.get("message")
        if isinstance(delta, dict):
            reasoning = reasoning_text(delta)
            if reasoning is not None:
                out.append(chat.StreamEvent_ReasoningDelta(chat.ReasoningDelta(reasoning, None, None, None)))
            for text in (delta.get("content"), delta.get("refusal")):
                if isinstance(text, str) and text:
                    out.append(chat.StreamEvent_TextDelta(text))
            for pos, call in enumerate(delta.get("tool_calls") or []):
                if isinstance(call, dict):
                    out += self._on_tool_call(pos, call)
        if choice.get("finish_reason"):
            self.finish = choice["finish_reason"]
        return out

    def _on_tool_call(self, pos: int, call: dict) -> List[chat.StreamEvent]:
        raw_index = call.get("index", pos)
        id_ = call.get("id") or None
        function = call.get("function") or {}
        name = function.get("name") or None
        arguments = function.get("arguments")
        args = "" if arguments is None else arguments if isinstance(arguments, str) else arguments_text(arguments)
        open_ = next((c for c in reversed(self.calls) if c.raw_index == raw_index), None)
        # A second call can reuse an index (Ollama sends 0 for every call; vLLM can too): a named
        # piece with another id, or with no id after complete arguments, is a new call.
        if open_ is None:
            is_new = True
        elif name is not None and id_ is not None:
            is_new = open_.server_id != id_ if open_.server_id is not None else open_.args_complete()
        elif name is not None:
            is_new = open_.name is not None and open_.args_complete()
        else:
            is_new = False
        if is_new:
            open_ = _Call(raw_index, id_)
            self.calls.append(open_)
        if open_.name is None:
            open_.name = name
        open_.args += args
        if open_.started is not None:
            return [chat.StreamEvent_ToolCallDelta(chat.ToolCallDelta(open_.started, args))] if args else []
        if open_.name is None:
            return []
        index = open_.started = self.next_call
        self.next_call += 1
        out: List[chat.StreamEvent] = [chat.StreamEvent_ToolCallStart(chat.ToolCallStart(
            index, open_.server_id or self.fallbacks.call_id(index), open_.name, None
        ))]
        if open_.args:  # Arguments that came before the name, or whole in this piece.
            out.append(chat.StreamEvent_ToolCallDelta(chat.ToolCallDelta(index, open_.args)))
        return out


def _error_payload(payload: str) -> AdapterError:
    """The error for a payload a server sent as its stream's error: the error object itself
    (llama.cpp) or wrapped in ``{"error":…}``."""
    try:
        value = json.loads(payload)
    except ValueError:
        value = None
    if isinstance(value, dict):
        found = embedded_error(value if "error" in value else {"error": value}, payload.encode())
        if found is not None:
            return found
    return errors.upstream("the provider reported an error in the stream", payload.encode())


def response_events(response: chat.ChatResponse) -> List[chat.StreamEvent]:
    """The events of a complete answer, for servers that answer a streaming request with one
    JSON body."""
    events: List[chat.StreamEvent] = [chat.StreamEvent_Start(chat.StreamStart(response.id, response.model))]
    index = 0
    for block in response.content:
        if isinstance(block, chat.ContentBlock_Text):
            events.append(chat.StreamEvent_TextDelta(block.value))
        elif isinstance(block, chat.ContentBlock_Reasoning):
            r = block.value
            events.append(chat.StreamEvent_ReasoningDelta(chat.ReasoningDelta(r.text, r.signature, r.redacted, r.format)))
        elif isinstance(block, chat.ContentBlock_ToolUse):
            call = block.value
            events.append(chat.StreamEvent_ToolCallStart(chat.ToolCallStart(index, call.id, call.name, call.signature)))
            events.append(chat.StreamEvent_ToolCallDelta(chat.ToolCallDelta(index, call.arguments)))
            index += 1
    if response.usage is not None:
        events.append(chat.StreamEvent_Usage(response.usage))
    events.append(chat.StreamEvent_Stop(response.finish_reason))
    return events


def sse_events(chunks: Iterable[bytes], fallbacks: Fallbacks) -> Iterator[chat.StreamEvent]:
    """The SCRI events of a ``text/event-stream`` body read chunk by chunk; stops reading once
    the decoder has emitted ``stop`` or ``error``. A transport failure becomes an ``error``."""
    parser, decoder = SseParser(), StreamDecoder(fallbacks)
    head = bytearray()
    saw_events = False
    body = iter(chunks)
    while not decoder.done:
        try:
            chunk = next(body)
        except StopIteration:
            yield from decoder.on_eof(saw_events, bytes(head))
            return
        except Err as e:
            yield chat.StreamEvent_Error(e.value)
            return
        if len(head) < errors.MAX_ERROR_BODY:
            head += chunk[: errors.MAX_ERROR_BODY - len(head)]
        for event in parser.push(chunk):
            saw_events = True
            yield from decoder.on_event(event)
