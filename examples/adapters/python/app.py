"""An Aratta adapter for local OpenAI-compatible servers (Ollama, vLLM, llama.cpp's
``llama-server``), in Python: the counterpart of the Rust ``local`` adapter (adapters/local).

Each export of the ``provider`` interface (wit/provider.wit) is a method of ``Provider``;
the wire format lives in ``aratta_adapter.openai``, so this file only picks the dialect these
servers understand. Failures are raised as ``componentize_py_types.Err(AdapterError)``.
"""

from typing import List

from wit_world import exports
from wit_world.exports.provider import AdapterInfo, AuthScheme_None_, CallContext, HealthReport
from wit_world.imports.chat import ChatRequest, ChatResponse, Message, Tool
from wit_world.imports.embeddings import EmbeddingRequest, EmbeddingResponse
from wit_world.imports.models import ModelInfo

from aratta_adapter import events, openai
from aratta_adapter.openai import request

#: Ollama's OpenAI-compatible endpoint, the most common local server.
DEFAULT_BASE_URL = "http://127.0.0.1:11434/v1"

#: Local servers know `system` rather than `developer`, read `max_tokens` (Ollama), sample
#: with `top_k` (vLLM, llama.cpp) and ignore a named tool choice (llama.cpp, Ollama).
DIALECT = openai.LOCAL


class Provider(exports.Provider):
    def describe(self) -> AdapterInfo:
        return AdapterInfo(
            name="local",
            version="0.1.0",
            description="Local OpenAI-compatible servers (Ollama, vLLM, llama.cpp), in Python",
            default_base_url=DEFAULT_BASE_URL,
            extra_hosts=[],
            # Local servers need no key; the host may still add an optional bearer key.
            auth=AuthScheme_None_(),
        )

    def chat(self, ctx: CallContext, req: ChatRequest) -> ChatResponse:
        return openai.chat(ctx, req, DIALECT)

    def chat_stream(self, ctx: CallContext, req: ChatRequest) -> events.EventStream:
        return openai.chat_stream(ctx, req, DIALECT)

    def embed(self, ctx: CallContext, req: EmbeddingRequest) -> EmbeddingResponse:
        return openai.embed(ctx, req)

    def convert_messages(self, messages: List[Message]) -> str:
        return request.dumps(openai.messages(messages, DIALECT))

    def convert_tools(self, tools: List[Tool]) -> str:
        return request.dumps(openai.tools_to_openai(tools))

    def parse_tools(self, native: str) -> List[Tool]:
        return openai.tools_from_openai(native)

    def get_models(self, ctx: CallContext) -> List[ModelInfo]:
        return openai.get_models(ctx)

    def health_check(self, ctx: CallContext) -> HealthReport:
        return openai.health_check(ctx)
