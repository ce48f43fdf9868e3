"""An incremental Server-Sent Events parser, following the WHATWG event-stream rules: ``data:``
lines joined with ``\\n``, ``event:``, ``id:``, ``retry:``, ``:`` comments, CRLF/LF/CR line
endings, events split across chunks and a leading BOM. Feed it bytes as they arrive with
:meth:`SseParser.push`; it returns each event once its blank line has arrived.

One deliberate extension (as in the Rust SDK's ``sse.rs``): fields the spec ignores are kept in
:attr:`SseEvent.fields`, and an event made only of them is still dispatched, because llama.cpp
reports mid-stream failures as a non-standard ``error: {...}`` line.
"""

import re
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

_LINE_END = re.compile(rb"\r\n|\r|\n")


@dataclass
class SseEvent:
    """One dispatched event."""

    #: The ``event:`` type, ``message`` when the event named none.
    event: str
    #: The ``data:`` lines joined with ``\\n``.
    data: str
    #: The last event id seen so far in the stream.
    id: str = ""
    #: A ``retry:`` time in milliseconds, when this event carried one.
    retry: Optional[int] = None
    #: Non-standard fields (name, value) in arrival order, e.g. llama.cpp's ``error``.
    fields: List[Tuple[str, str]] = field(default_factory=list)


class SseParser:
    """The parser's state between chunks."""

    def __init__(self) -> None:
        self._line = bytearray()
        self._after_cr = False
        self._first_line = True
        self._data: List[str] = []
        self._event = ""
        self._last_id = ""
        self._retry: Optional[int] = None
        self._fields: List[Tuple[str, str]] = []

    def push(self, chunk: bytes) -> List[SseEvent]:
        """Feed the next bytes; returns the events they completed."""
        out: List[SseEvent] = []
        data = bytes(chunk)
        if self._after_cr:
            # A CRLF split across chunks: the LF belongs to the CR already handled.
            self._after_cr = False
            if data[:1] == b"\n":
                data = data[1:]
        start = 0
        for end in _LINE_END.finditer(data):
            self._line += data[start : end.start()]
            line = bytes(self._line)
            self._line.clear()
            self._process_line(line, out)
            start = end.end()
            self._after_cr = end.group() == b"\r" and start == len(data)
        self._line += data[start:]
        return out

    def has_partial_event(self) -> bool:
        """Whether the stream stopped in the middle of an event (the spec discards it)."""
        return bool(self._line or self._data or self._fields or self._event)

    def _process_line(self, raw: bytes, out: List[SseEvent]) -> None:
        line = raw.decode("utf-8", "replace")
        if self._first_line:
            self._first_line = False
            line = line.removeprefix("\ufeff")
        if not line:
            self._dispatch(out)
            return
        if line.startswith(":"):
            return  # A comment, often a keep-alive.
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            if "\0" not in value:
                self._last_id = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
        else:
            self._fields.append((name, value))

    def _dispatch(self, out: List[SseEvent]) -> None:
        event, self._event = self._event, ""
        retry, self._retry = self._retry, None
        if not self._data and not self._fields:
            return
        out.append(
            SseEvent(
                event=event or "message",
                data="\n".join(self._data),
                id=self._last_id,
                retry=retry,
                fields=self._fields,
            )
        )
        self._data = []
        self._fields = []
