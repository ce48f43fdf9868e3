"""The OpenAI Chat Completions wire format for OpenAI-compatible servers (OpenAI itself, and
local ones: Ollama, vLLM, llama.cpp): the operations an adapter's exports call, given a
:class:`Dialect` for what differs between servers.

- :mod:`.request`: SCRI to OpenAI (messages, tools, the request body) and tools back again;
- :mod:`.response`: OpenAI to SCRI for complete answers, embeddings and model lists;
- :mod:`.stream`: streamed chunks to SCRI stream events.
"""

from typing import Any, List

from wit_world.exports.provider import HealthReport
from wit_world.imports import chat as scri
from wit_world.imports import embeddings, models

from ..events import EventStream, peek
from ..http import Request
from .request import LOCAL, Dialect, chat_body, embeddings_body, messages, tools_from_openai, tools_to_openai
from .response import Fallbacks, chat_response, embedding_response, model_list
from .stream import response_events, sse_events

__all__ = [
    "LOCAL", "Dialect", "Fallbacks", "chat", "chat_stream", "embed", "get_models", "health_check",
    "messages", "tools_from_openai", "tools_to_openai",
]


def chat(ctx: Any, request: scri.ChatRequest, dialect: Dialect) -> scri.ChatResponse:
    """``POST {base}/chat/completions`` and the answer as SCRI."""
    body = (
        Request.post(ctx, "/chat/completions")
        .header("accept", "application/json")
        .json(chat_body(request, dialect, stream=False))
        .send()
        .error_for_status()
        .bytes()
    )
    return chat_response(body, Fallbacks.of(ctx, request.model))


def chat_stream(ctx: Any, request: scri.ChatRequest, dialect: Dialect) -> EventStream:
    """``POST {base}/chat/completions`` with ``stream: true`` and usage in the final chunk.
    Errors before the body (refused connection, 4xx/5xx) and an error event before any content
    are raised here, so the host can fall back. A server that answers with one JSON body
    instead of events is replayed as events."""
    response = (
        Request.post(ctx, "/chat/completions")
        .header("accept", "text/event-stream")
        .json(chat_body(request, dialect, stream=True))
        .send()
        .error_for_status()
    )
    fallbacks = Fallbacks.of(ctx, request.model)
    if (response.header("content-type") or "").lstrip().startswith("application/json"):
        return EventStream(response_events(chat_response(response.bytes(), fallbacks)))
    return peek(sse_events(response.chunks(), fallbacks))


def embed(ctx: Any, request: embeddings.EmbeddingRequest) -> embeddings.EmbeddingResponse:
    """``POST {base}/embeddings`` and the vectors in input order."""
    if not request.inputs:
        return embeddings.EmbeddingResponse(request.model, [], None)
    body = (
        Request.post(ctx, "/embeddings")
        .header("accept", "application/json")
        .json(embeddings_body(request))
        .send()
        .error_for_status()
        .bytes()
    )
    return embedding_response(body, len(request.inputs), request.model)


def get_models(ctx: Any) -> List[models.ModelInfo]:
    """``GET {base}/models``."""
    body = Request.get(ctx, "/models").header("accept", "application/json").send().error_for_status().bytes()
    return model_list(body)


def health_check(ctx: Any) -> HealthReport:
    """A health check through ``GET {base}/models``: reachable, key accepted, how many models."""
    listed = get_models(ctx)
    return HealthReport(len(listed), None if listed else "the server lists no models")
