"""The ``chat-events`` resource over a Python iterator of ``StreamEvent`` values.

:class:`EventStream` enforces the WIT's streaming rule: a stream ends with exactly one ``stop``
or ``error``. Nothing is returned after one; an iterator that ends without one, or raises,
ends with an ``error`` event instead. :func:`peek` reads up to the first content event, so an
error before any content is raised from ``chat-stream`` itself, where the host can still fall
back to another provider.
"""

import itertools
from typing import Iterable, Iterator, List, Optional

from componentize_py_types import Err
from wit_world.exports.provider import ChatEvents
from wit_world.imports.chat import (
    StreamEvent,
    StreamEvent_Error,
    StreamEvent_Start,
    StreamEvent_Stop,
)

from . import errors


class EventStream(ChatEvents):
    """The events of one streamed answer, as the host pulls them with ``next``."""

    def __init__(self, events: Iterable[StreamEvent]) -> None:
        self._events: Iterator[StreamEvent] = iter(events)
        self._done = False

    def next(self) -> Optional[StreamEvent]:
        if self._done:
            return None
        try:
            event = next(self._events)
        except StopIteration:
            event = StreamEvent_Error(errors.stream_format(
                "", "the stream ended without a stop or error event", b""
            ))
        except Err as e:
            event = StreamEvent_Error(e.value)
        if isinstance(event, (StreamEvent_Stop, StreamEvent_Error)):
            self._done = True
        return event


def peek(events: Iterable[StreamEvent]) -> EventStream:
    """An :class:`EventStream` over ``events`` whose leading ``start`` and first content event
    were already read: an ``error`` among them is raised here as ``Err``."""
    it = iter(events)
    seen: List[StreamEvent] = []
    for event in it:
        if isinstance(event, StreamEvent_Error):
            raise Err(event.value)
        seen.append(event)
        if not isinstance(event, StreamEvent_Start):
            break
    return EventStream(itertools.chain(seen, it))
