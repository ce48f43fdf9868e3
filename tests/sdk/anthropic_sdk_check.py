"""Drive an Aratta gateway with the official Anthropic Python SDK and check what comes back.

Usage: anthropic_sdk_check.py BASE_URL EXPECTATIONS_JSON

BASE_URL is the gateway's root (http://127.0.0.1:PORT), exactly what a user passes as the SDK's
base_url. EXPECTATIONS_JSON is written by tests/e2e/python_sdk.rs from the mock upstreams'
fixtures: the models to ask for (behind them: an OpenAI-format, an Anthropic and a Gemini
upstream) and what the SDK must parse out of each answer. Exits non-zero on the first mismatch.
"""

import json
import sys
import time

import anthropic
from anthropic import Anthropic

SDK, VERSION = "anthropic", anthropic.__version__

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}
HELLO = [{"role": "user", "content": "Hello"}]


def check(condition, what, got):
    if not condition:
        raise AssertionError(f"{what}: got {got!r}")


def text_of(message):
    return "".join(b.text for b in message.content if b.type == "text")


def chat(client, e):
    raw = client.messages.with_raw_response.create(
        model=e["local_model"],
        max_tokens=64,
        system="Be brief.",
        messages=HELLO,
        metadata={"user_id": "user-1"},
    )
    check(raw.headers.get("x-aratta-provider") == "local", "x-aratta-provider", dict(raw.headers))
    message = raw.parse()
    check(message.type == "message" and message.role == "assistant", "message", message)
    check(text_of(message) == e["local_text"], "text", message.content)
    check(message.stop_reason == "end_turn", "stop_reason", message.stop_reason)
    usage = message.usage
    total_in = usage.input_tokens + (usage.cache_read_input_tokens or 0)
    check(total_in == e["local_prompt_tokens"], "input tokens", usage)
    check(usage.cache_read_input_tokens == e["local_cached_tokens"], "cache_read_input_tokens", usage)
    # A Gemini upstream behind the Anthropic SDK: text, and Gemini's cached tokens.
    message = client.messages.create(model="google:plain", max_tokens=64, messages=HELLO)
    check(text_of(message) == e["google_text"], "google text", message.content)
    check(message.usage.cache_read_input_tokens == e["google_cached_tokens"], "google cache", message.usage)


def stream(client, e):
    # Raw events through an Anthropic upstream: Anthropic's exact event order.
    kinds, text = [], ""
    for event in client.messages.create(
        model="anthropic:plain", max_tokens=64, messages=HELLO, stream=True
    ):
        kinds.append(event.type)
        if event.type == "content_block_delta" and event.delta.type == "text_delta":
            text += event.delta.text
    check(kinds[0] == "message_start" and kinds[-1] == "message_stop", "event order", kinds)
    check(kinds[-2] == "message_delta", "message_delta before message_stop", kinds)
    check("content_block_start" in kinds and "content_block_stop" in kinds, "block events", kinds)
    check(text == e["anthropic_stream_text"], "streamed text", text)
    # The SDK's stream helper through an OpenAI-format upstream.
    with client.messages.stream(model=e["local_model"], max_tokens=64, messages=HELLO) as s:
        streamed = "".join(s.text_stream)
        final = s.get_final_message()
    check(streamed == e["local_text"], "text_stream", streamed)
    check(text_of(final) == e["local_text"], "final text", final.content)
    check(final.stop_reason == "end_turn", "final stop_reason", final.stop_reason)
    check(final.usage.output_tokens > 0, "final usage", final.usage)


def tools(client, e):
    question = [{"role": "user", "content": "What is the weather in Paris?"}]
    message = client.messages.create(
        model=e["tool_model"],
        max_tokens=64,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "auto"},
        messages=question,
    )
    check(message.stop_reason == "tool_use", "tool stop_reason", message.stop_reason)
    use = next(b for b in message.content if b.type == "tool_use")
    check(use.name == "get_weather", "tool name", use)
    check(use.input == e["tool_arguments"], "tool input", use.input)
    check(use.id == e["tool_call_id"], "tool id", use.id)
    follow = client.messages.create(
        model=e["local_model"],
        max_tokens=64,
        tools=[WEATHER_TOOL],
        messages=question
        + [
            {"role": "assistant", "content": message.content},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": "18C and sunny"}
                ],
            },
        ],
    )
    check(text_of(follow) == e["local_text"], "answer after the tool result", follow.content)
    # A streamed tool call from an Anthropic upstream, assembled by the SDK.
    with client.messages.stream(
        model="anthropic:stream-tools", max_tokens=64, tools=[WEATHER_TOOL], messages=question
    ) as s:
        final = s.get_final_message()
    use = next(b for b in final.content if b.type == "tool_use")
    check(use.input == e["anthropic_tool_arguments"], "streamed tool input", use.input)
    check(final.stop_reason == "tool_use", "streamed tool stop_reason", final.stop_reason)


def errors(client, _e):
    try:
        client.messages.create(model="nope:missing", max_tokens=8, messages=HELLO)
        raise AssertionError("an unknown model must fail")
    except anthropic.NotFoundError as err:
        check(err.status_code == 404, "status", err.status_code)
        check(err.body["type"] == "error", "error body", err.body)
        check(err.body["error"]["type"] == "not_found_error", "error type", err.body)
    try:
        client.messages.create(
            model="local:llama3.2",
            max_tokens=8,
            messages=HELLO,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
        )
        raise AssertionError("a server tool must be refused")
    except anthropic.BadRequestError as err:
        check(err.body["error"]["type"] == "invalid_request_error", "error type", err.body)
        check("tools[0].type" in err.body["error"]["message"], "message names the field", err.body)
    try:
        client.with_options(max_retries=0).messages.create(
            model="anthropic:e429", max_tokens=8, messages=HELLO
        )
        raise AssertionError("a rate-limited upstream must fail")
    except anthropic.RateLimitError as err:
        check(err.body["error"]["type"] == "rate_limit_error", "error type", err.body)


def models(client, _e):
    everything = [m.id for m in client.models.list()]
    check(any(i.startswith("local:") for i in everything), "local models", everything)
    check(any(i.startswith("anthropic:") for i in everything), "anthropic models", everything)
    paged = [m.id for m in client.models.list(limit=2)]
    check(paged == everything, "paging by two gives the same list", paged)
    first = client.models.list(limit=1)
    check(first.data[0].type == "model" and first.has_more, "first page", first)


def main():
    base_url, expectations = sys.argv[1], sys.argv[2]
    with open(expectations) as f:
        e = json.load(f)
    client = Anthropic(base_url=base_url, api_key="unused", max_retries=0, timeout=60)
    for step in (chat, stream, tools, errors, models):
        started = time.monotonic()
        step(client, e)
        print(f"ok {step.__name__} ({time.monotonic() - started:.2f} s)")
    print(f"{SDK} {VERSION}: all checks passed")


if __name__ == "__main__":
    main()
