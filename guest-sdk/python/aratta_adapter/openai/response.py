"""OpenAI responses as SCRI: complete chat answers, usage, finish reasons, embeddings and model
lists (the Python twin of ``guest-sdk/src/openai/response.rs``). Parsing is lenient where
servers legitimately differ and strict where an answer would otherwise be silently wrong: a
missing required field is a ``schema-mismatch`` with a JSON path and the raw body."""

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from wit_world.imports import chat, embeddings, models
from wit_world.imports.errors import AdapterError, MismatchKind

from .. import errors


@dataclass
class Fallbacks:
    """Values used when the server omits them: a response id, the model, and a scope that
    makes generated tool-call ids unique across the turns of a conversation."""

    id: str
    model: str
    scope: str

    @classmethod
    def of(cls, ctx: Any, model: str) -> "Fallbacks":
        """Fallbacks for a call: ids derive from the host's request id."""
        scope = "".join(c for c in ctx.request_id if c.isascii() and c.isalnum())[-12:]
        rid = ctx.request_id
        return cls(f"chatcmpl-{rid}" if rid else "chatcmpl-aratta", model, scope)

    def call_id(self, n: int) -> str:
        """``call_<scope>_<n>`` for the ``n``th tool call of an answer that came without ids."""
        return f"call_{self.scope}_{n}" if self.scope else f"call_{n}"


def parse(body: bytes) -> Dict[str, Any]:
    """``body`` as a JSON object, or a ``schema-mismatch`` saying it is not one."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        errors.fail(errors.schema_mismatch(
            MismatchKind.MISSING_FIELD, "", f"the provider's response is not JSON: {e}", body
        ))
    if not isinstance(value, dict):
        errors.fail(errors.schema_mismatch(
            MismatchKind.MISSING_FIELD, "", "the provider's response is not a JSON object", body
        ))
    return value


def finish_reason(raw: Optional[str], had_tool_calls: bool) -> chat.FinishReason:
    """A SCRI finish reason; ``stop`` after tool calls is ``tool-calls`` (Ollama and vLLM say
    ``stop`` there), and no reason at all is ``unknown("")``."""
    if raw in ("stop", "end_turn", "eos"):
        return chat.FinishReason_ToolCalls() if had_tool_calls and raw != "eos" else chat.FinishReason_Stop()
    if raw in ("length", "max_tokens"):
        return chat.FinishReason_Length()
    if raw in ("tool_calls", "function_call") or (raw is None and had_tool_calls):
        return chat.FinishReason_ToolCalls()
    if raw == "content_filter":
        return chat.FinishReason_ContentFilter()
    return chat.FinishReason_Unknown(raw or "")


def _count(n: Any) -> Optional[int]:
    return min(n, 0xFFFFFFFF) if isinstance(n, int) and n >= 0 else None


def usage(wire: Any, timings: Any = None) -> Optional[chat.Usage]:
    """SCRI usage from OpenAI's ``usage`` (input with cached tokens, output with reasoning ones,
    as OpenAI counts; xAI's other counting is recognized by its totals and added back), else
    from llama.cpp's ``timings``."""
    if isinstance(wire, dict):
        prompt, completion, total = (wire.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens"))
        cached = (wire.get("prompt_tokens_details") or {}).get("cached_tokens")
        reasoning = (wire.get("completion_tokens_details") or {}).get("reasoning_tokens")
        ints = lambda *xs: all(isinstance(x, int) for x in xs)  # noqa: E731
        input_ = prompt + cached if ints(prompt, cached) and cached > prompt else prompt
        output = completion
        if ints(completion, reasoning, total, input_) and reasoning > 0 and total == input_ + completion + reasoning:
            output = completion + reasoning
        return chat.Usage(_count(input_), _count(output), _count(cached), None, _count(reasoning))
    if isinstance(timings, dict):
        prompt, cache = timings.get("prompt_n"), timings.get("cache_n")
        input_ = None if prompt is None and cache is None else (prompt or 0) + (cache or 0)
        return chat.Usage(_count(input_), _count(timings.get("predicted_n")), _count(cache), None, None)
    return None


def arguments_text(arguments: Any) -> str:
    """Tool-call arguments as JSON text: strings pass through, objects (some Ollama versions)
    are serialized, empty or missing arguments are ``{}``."""
    if isinstance(arguments, str):
        return arguments if arguments.strip() else "{}"
    if arguments is None:
        return "{}"
    return json.dumps(arguments, ensure_ascii=False, separators=(",", ":"))


def reasoning_text(message: Dict[str, Any]) -> Optional[str]:
    """Reasoning text from ``reasoning_content`` or ``reasoning``, whichever is a non-empty string."""
    for key in ("reasoning_content", "reasoning"):
        value = message.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def embedded_error(chunk: Dict[str, Any], raw: bytes) -> Optional[AdapterError]:
    """An error the provider reported inside a 2xx body or stream (``{"error":…}``, or vLLM's
    older ``{"object":"error",…}``), classified by its ``code`` when that is an HTTP status."""
    err = chunk.get("error")
    if err is None and chunk.get("object") == "error":
        err = chunk
    if err is None:
        return None
    code = err.get("code") if isinstance(err, dict) else None
    if isinstance(code, str) and code.isdigit():
        code = int(code)
    if isinstance(code, int) and 400 <= code < 600:
        return errors.error_for_status(code, None, raw)
    said = errors.provider_message(raw) or json.dumps(err)
    return errors.upstream(f"the provider reported an error: {said}", raw)


def _content_text(content: Any) -> Optional[str]:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return None


def chat_response(body: bytes, fallbacks: Fallbacks) -> chat.ChatResponse:
    """A complete ``chat.completion`` body as a SCRI response."""
    completion = parse(body)
    error = embedded_error(completion, body)
    if error is not None:
        errors.fail(error)
    choices = completion.get("choices")
    if not isinstance(choices, list):
        errors.fail(errors.missing_field("choices", body))
    if not choices:
        errors.fail(errors.missing_field("choices[0]", body))
    choice = choices[0]
    message = choice.get("message") if isinstance(choice, dict) else None
    if not isinstance(message, dict):
        errors.fail(errors.missing_field("choices[0].message", body))
    content: List[chat.ContentBlock] = []
    reasoning = reasoning_text(message)
    if reasoning is not None:
        content.append(chat.ContentBlock_Reasoning(chat.Reasoning(reasoning, None, None, None)))
    calls = message.get("tool_calls") or []
    refusal = message.get("refusal")
    if "content" not in message and not calls and refusal is None:
        errors.fail(errors.missing_field("choices[0].message.content", body))
    text = _content_text(message.get("content"))
    if text:
        content.append(chat.ContentBlock_Text(text))
    elif text is None and message.get("content") is not None:
        errors.fail(errors.schema_mismatch(
            MismatchKind.MISSING_FIELD, "choices[0].message.content",
            "message content is neither text nor an array of parts", body,
        ))
    if isinstance(refusal, str) and refusal:
        content.append(chat.ContentBlock_Text(refusal))
    for i, call in enumerate(calls):
        function = call.get("function") or {}
        name = function.get("name")
        if not isinstance(name, str) or not name:
            errors.fail(errors.missing_field(f"choices[0].message.tool_calls[{i}].function.name", body))
        content.append(chat.ContentBlock_ToolUse(chat.ToolCall(
            call.get("id") or fallbacks.call_id(i), name, arguments_text(function.get("arguments")), None
        )))
    return chat.ChatResponse(
        completion.get("id") or fallbacks.id,
        completion.get("model") or fallbacks.model,
        content,
        finish_reason(choice.get("finish_reason"), bool(calls)),
        usage(completion.get("usage"), completion.get("timings")),
    )


def _vector(value: Any) -> Optional[List[float]]:
    if isinstance(value, list) and all(isinstance(v, (int, float)) for v in value):
        return [float(v) for v in value]
    if isinstance(value, str):  # base64 of little-endian f32, when a server ignores encoding_format
        try:
            raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=b"-_" if "-" in value or "_" in value else None)
        except ValueError:
            return None
        if len(raw) % 4 == 0:
            return list(struct.unpack(f"<{len(raw) // 4}f", raw))
    return None


def embedding_response(body: bytes, expected: int, fallback_model: str) -> embeddings.EmbeddingResponse:
    """An ``/embeddings`` body with exactly ``expected`` vectors, in input order."""
    response = parse(body)
    data = response.get("data")
    if not isinstance(data, list):
        errors.fail(errors.missing_field("data", body))
    slots: List[Optional[List[float]]] = [None] * expected
    for i, item in enumerate(data):
        vector = _vector(item.get("embedding")) if isinstance(item, dict) else None
        if vector is None:
            errors.fail(errors.missing_field(f"data[{i}].embedding", body))
        index = item.get("index", i)
        if not isinstance(index, int) or not 0 <= index < expected:
            errors.fail(errors.schema_mismatch(
                MismatchKind.MISSING_FIELD, f"data[{i}].index",
                f"index {index} is out of range for {expected} inputs", body,
            ))
        slots[index] = vector
    for i, slot in enumerate(slots):
        if slot is None:
            errors.fail(errors.missing_field(f"data[{i}]", body))
    wire = response.get("usage")
    used = chat.Usage(_count(wire.get("prompt_tokens")), None, None, None, None) if isinstance(wire, dict) else None
    return embeddings.EmbeddingResponse(response.get("model") or fallback_model, slots, used)


def model_list(body: bytes) -> List[models.ModelInfo]:
    """A ``/models`` body as SCRI models; context windows from vLLM's ``max_model_len`` or
    llama.cpp's ``meta.n_ctx_train``; Ollama's ``"data": null`` is an empty list."""
    listing = parse(body)
    if "data" not in listing:
        errors.fail(errors.missing_field("data", body))
    entries = listing["data"]
    if entries is None:
        return []
    if not isinstance(entries, list):
        errors.fail(errors.schema_mismatch(MismatchKind.MISSING_FIELD, "data", "`data` is not a list", body))
    out = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            errors.fail(errors.missing_field(f"data[{i}].id", body))
        context = entry.get("max_model_len") or (entry.get("meta") or {}).get("n_ctx_train")
        created = entry.get("created")
        out.append(models.ModelInfo(
            entry["id"],
            entry.get("owned_by") or None,
            created if isinstance(created, int) and created > 0 else None,
            models.ModelCapabilities(_count(context), None, False, False, True, False, False),
        ))
    return out
