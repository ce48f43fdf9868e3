"""SCRI requests as OpenAI Chat Completions and Embeddings request bodies (the Python twin of
``guest-sdk/src/openai/request.rs`` and ``tools.rs``)."""

import json
import struct
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from wit_world.imports import chat
from wit_world.imports.errors import MismatchKind

from .. import errors


@dataclass(frozen=True)
class Dialect:
    """What differs between OpenAI-compatible servers on the request side."""

    #: Send SCRI's ``developer`` role as ``developer`` (OpenAI) rather than ``system``.
    developer_role: bool = True
    #: Send the token limit as ``max_completion_tokens`` rather than ``max_tokens``.
    max_completion_tokens: bool = True
    #: Send ``top_k`` (vLLM, llama.cpp; OpenAI rejects it).
    top_k: bool = False
    #: Express a named tool choice as ``"required"`` with only that tool offered (llama.cpp
    #: turns the object form into ``auto``; Ollama ignores ``tool_choice``).
    named_tool_choice_as_required: bool = False


#: Local servers: Ollama, vLLM, llama.cpp (the Rust ``local`` adapter's dialect).
LOCAL = Dialect(
    developer_role=False, max_completion_tokens=False, top_k=True, named_tool_choice_as_required=True
)

#: The schema of a native tool without ``parameters``: an object with no properties.
_EMPTY_SCHEMA = '{"type":"object","properties":{}}'


def dumps(value: Any) -> str:
    """Compact JSON text, the form SCRI carries JSON in."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def f32_decimal(x: float) -> float:
    """The shortest decimal that reads back as the same ``f32``: SCRI carries sampling values as
    ``f32``, and ``0.7`` arrives as ``0.699999988079071``."""
    single = struct.unpack("f", struct.pack("f", x))[0]
    for digits in range(1, 10):
        candidate = float(f"{x:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == single:
            return candidate
    return x


def tools_to_openai(tools: List[chat.Tool]) -> List[Dict[str, Any]]:
    """SCRI tools as OpenAI tool definitions; parameters that are not JSON are the caller's
    mistake (``invalid-request``)."""
    out = []
    for tool in tools:
        try:
            parameters = json.loads(tool.parameters)
        except ValueError as e:
            errors.fail(errors.invalid_request(f"tool `{tool.name}` has parameters that are not JSON: {e}"))
        function: Dict[str, Any] = {"name": tool.name}
        if tool.description is not None:
            function["description"] = tool.description
        function["parameters"] = parameters
        out.append({"type": "function", "function": function})
    return out


def tools_from_openai(native: str) -> List[chat.Tool]:
    """SCRI tools from an OpenAI ``tools`` array (bare function objects are accepted too). A
    tool of another ``type`` is a ``tool-schema-change``."""
    body = native.encode()
    try:
        items = json.loads(native)
    except ValueError as e:
        items = e
    if not isinstance(items, list):
        errors.fail(errors.schema_mismatch(
            MismatchKind.TOOL_SCHEMA_CHANGE, "", f"the tools are not a JSON array: {items}", body
        ))
    tools = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            errors.fail(errors.schema_mismatch(
                MismatchKind.TOOL_SCHEMA_CHANGE, f"[{i}]", f"tool {i} is not a function tool object", body
            ))
        kind = item.get("type")
        if kind not in (None, "function"):
            errors.fail(errors.schema_mismatch(
                MismatchKind.TOOL_SCHEMA_CHANGE, f"[{i}].type",
                f"tool {i} has type `{kind}`; only `function` tools map to SCRI", body,
            ))
        function, prefix = (item["function"], f"[{i}].function") if isinstance(item.get("function"), dict) else (item, f"[{i}]")
        name = function.get("name")
        if not isinstance(name, str):
            errors.fail(errors.missing_field(f"{prefix}.name", body))
        parameters = function.get("parameters")
        tools.append(chat.Tool(
            name,
            function.get("description"),
            _EMPTY_SCHEMA if parameters is None else dumps(parameters),
        ))
    return tools


def messages(messages: List[chat.Message], dialect: Dialect) -> List[Dict[str, Any]]:
    """SCRI messages as OpenAI messages. Each tool result becomes its own ``tool`` message,
    placed before the rest of the message it came in; reasoning blocks are not sent back."""
    out: List[Dict[str, Any]] = []
    for message in messages:
        _convert(message, dialect, out)
    return out


def _role(role: chat.Role, dialect: Dialect) -> str:
    if role == chat.Role.DEVELOPER:
        return "developer" if dialect.developer_role else "system"
    return role.name.lower()


def _plain(role: str, content: Any, name: Optional[str]) -> Dict[str, Any]:
    message: Dict[str, Any] = {"role": role}
    if content is not None:
        message["content"] = content
    if name is not None:
        message["name"] = name
    return message


def _image_part(image: chat.Image) -> Dict[str, Any]:
    source = image.source
    if isinstance(source, chat.ImageSource_Url):
        url = source.value
    else:
        url = f"data:{source.value.media_type};base64,{source.value.data}"
    image_url: Dict[str, Any] = {"url": url}
    if image.detail is not None:
        image_url["detail"] = image.detail
    return {"type": "image_url", "image_url": image_url}


def _tool_message(result: chat.ToolResult) -> Dict[str, Any]:
    text = "\n".join(p.value for p in result.content if isinstance(p, chat.ToolResultPart_Text))
    if result.is_error:
        text = f"Error: {text}"  # Chat Completions has no error flag; the model reads it.
    return {"role": "tool", "content": text, "tool_call_id": result.tool_call_id}


def _convert(message: chat.Message, dialect: Dialect, out: List[Dict[str, Any]]) -> None:
    role = _role(message.role, dialect)
    content = message.content
    if isinstance(content, chat.MessageContent_Text):
        if message.role == chat.Role.TOOL:
            errors.fail(errors.invalid_request(
                "a tool message needs tool-result blocks (to name the call it answers), "
                f"got text {content.value[:40]!r}"
            ))
        out.append(_plain(role, content.value, message.name))
        return
    parts: List[Dict[str, Any]] = []
    calls: List[Dict[str, Any]] = []
    result_images: List[Dict[str, Any]] = []
    for block in content.value:
        if isinstance(block, chat.ContentBlock_Text):
            parts.append({"type": "text", "text": block.value})
        elif isinstance(block, chat.ContentBlock_Image):
            parts.append(_image_part(block.value))
        elif isinstance(block, chat.ContentBlock_ToolUse):
            call = block.value
            calls.append({
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            })
        elif isinstance(block, chat.ContentBlock_ToolResult):
            out.append(_tool_message(block.value))
            result_images += [
                _image_part(p.value) for p in block.value.content
                if isinstance(p, chat.ToolResultPart_Image)
            ]
    # Tool messages take only text; images a tool returned follow as a user message.
    if result_images:
        out.append(_plain("user", result_images, None))
    if calls and message.role != chat.Role.ASSISTANT:
        errors.fail(errors.invalid_request("only assistant messages can carry tool-use blocks"))
    if not parts and not calls:
        return  # Only tool results (already sent) or reasoning.
    if len(parts) == 1 and parts[0]["type"] == "text":
        text: Any = parts[0]["text"]
    else:
        text = parts or None
    converted = _plain(role, text, message.name)
    if calls:
        converted["tool_calls"] = calls
    out.append(converted)


def _response_format(format: Optional[chat.ResponseFormat]) -> Optional[Dict[str, Any]]:
    if isinstance(format, chat.ResponseFormat_JsonObject):
        return {"type": "json_object"}
    if isinstance(format, chat.ResponseFormat_JsonSchema):
        schema = format.value
        try:
            parsed = json.loads(schema.schema)
        except ValueError as e:
            errors.fail(errors.invalid_request(f"response_format schema is not JSON: {e}"))
        inner: Dict[str, Any] = {"name": schema.name}
        if schema.description is not None:
            inner["description"] = schema.description
        inner["schema"] = parsed
        if schema.strict is not None:
            inner["strict"] = schema.strict
        return {"type": "json_schema", "json_schema": inner}
    return None


def _tool_choice(request: chat.ChatRequest, tools: List[Dict[str, Any]], dialect: Dialect) -> Any:
    choice = request.tool_choice
    if isinstance(choice, chat.ToolChoice_Tool):
        if dialect.named_tool_choice_as_required:
            offered = [t for t in tools if t["function"]["name"] == choice.value]
            if not offered:
                errors.fail(errors.invalid_request(
                    f"tool_choice names `{choice.value}`, which is not among the request's tools"
                ))
            tools[:] = offered
            return "required"
        return {"type": "function", "function": {"name": choice.value}}
    return {
        chat.ToolChoice_Auto: "auto", chat.ToolChoice_None_: "none", chat.ToolChoice_Required: "required"
    }.get(type(choice))


def merge_extra(body: Dict[str, Any], extra: Optional[str]) -> Dict[str, Any]:
    """Merge the request's ``extra`` JSON object into ``body`` key by key (``extra`` wins)."""
    if extra is None or not extra.strip():
        return body
    try:
        fields = json.loads(extra)
    except ValueError as e:
        fields = e
    if not isinstance(fields, dict):
        errors.fail(errors.invalid_request(f"`extra` must be a JSON object: {fields}"))
    body.update(fields)
    return body


def chat_body(request: chat.ChatRequest, dialect: Dialect, stream: bool) -> Dict[str, Any]:
    """The body of ``POST /chat/completions`` for ``request``: ``stream`` asks for Server-Sent
    Events with a final usage chunk; ``extra`` is merged in last."""
    sampling = request.sampling
    tools = tools_to_openai(request.tools)
    tool_choice = _tool_choice(request, tools, dialect)
    body: Dict[str, Any] = {"model": request.model, "messages": messages(request.messages, dialect)}
    optional = {
        "tools": tools or None,
        "tool_choice": tool_choice,
        "parallel_tool_calls": request.parallel_tool_calls,
        "response_format": _response_format(request.response_format),
        "temperature": _decimal(sampling.temperature),
        "top_p": _decimal(sampling.top_p),
        "top_k": sampling.top_k if dialect.top_k else None,
        "max_tokens": None if dialect.max_completion_tokens else sampling.max_tokens,
        "max_completion_tokens": sampling.max_tokens if dialect.max_completion_tokens else None,
        "stop": sampling.stop or None,
        "seed": sampling.seed,
        "presence_penalty": _decimal(sampling.presence_penalty),
        "frequency_penalty": _decimal(sampling.frequency_penalty),
        "reasoning_effort": request.reasoning.effort if request.reasoning else None,
        "user": request.user,
        "stream": True if stream else None,
        "stream_options": {"include_usage": True} if stream else None,
    }
    body.update((k, v) for k, v in optional.items() if v is not None)
    return merge_extra(body, request.extra)


def _decimal(x: Optional[float]) -> Optional[float]:
    return None if x is None else f32_decimal(x)


def embeddings_body(request: Any) -> Dict[str, Any]:
    """The body of ``POST /embeddings``; ``encoding_format`` is always ``float``."""
    body: Dict[str, Any] = {"model": request.model, "input": list(request.inputs)}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
    body["encoding_format"] = "float"
    return merge_extra(body, request.extra)
