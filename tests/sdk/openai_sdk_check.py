"""Drive an Aratta gateway with the official OpenAI Python SDK and check what comes back.

Usage: openai_sdk_check.py BASE_URL EXPECTATIONS_JSON

BASE_URL is the gateway's OpenAI-compatible root (http://127.0.0.1:PORT/v1). EXPECTATIONS_JSON is
written by the Rust test (tests/e2e/python_sdk.rs) from the mock upstream's fixtures: the models
to ask for and what the SDK must parse out of each answer. Exits non-zero on the first mismatch.
"""

import array
import json
import sys

import openai
from openai import OpenAI

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
        },
    },
}


def check(condition, what, got):
    if not condition:
        raise AssertionError(f"{what}: got {got!r}")


def chat(client, expected):
    raw = client.chat.completions.with_raw_response.create(
        model=expected["chat_model"],
        messages=[{"role": "user", "content": "Hello"}],
        temperature=0.2,
        max_tokens=64,
    )
    if expected.get("provider"):
        provider = raw.headers.get("x-aratta-provider")
        check(provider == expected["provider"], "x-aratta-provider", dict(raw.headers))
    completion = raw.parse()
    check(completion.object == "chat.completion", "object", completion.object)
    choice = completion.choices[0]
    check(choice.message.content == expected["text"], "chat content", choice.message.content)
    check(choice.finish_reason == "stop", "finish_reason", choice.finish_reason)
    check(completion.usage.prompt_tokens == expected["prompt_tokens"], "usage", completion.usage)
    cached = completion.usage.prompt_tokens_details.cached_tokens
    check(cached == expected["cached_tokens"], "cached_tokens", completion.usage)


def stream(client, expected):
    text, finish, usage = "", None, None
    events = client.chat.completions.create(
        model=expected["chat_model"],
        messages=[{"role": "user", "content": "Hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    for chunk in events:
        check(chunk.object == "chat.completion.chunk", "chunk object", chunk)
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage is not None:
            usage = chunk.usage
    check(text == expected["text"], "streamed text", text)
    check(finish == "stop", "streamed finish_reason", finish)
    check(usage is not None and usage.prompt_tokens == expected["prompt_tokens"], "stream usage", usage)


def tool_call(client, expected):
    completion = client.chat.completions.create(
        model=expected["tool_model"],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
        tool_choice="auto",
    )
    choice = completion.choices[0]
    check(choice.finish_reason == "tool_calls", "tool finish_reason", choice.finish_reason)
    calls = choice.message.tool_calls or []
    check(len(calls) == 1, "one tool call", calls)
    check(calls[0].id == expected["tool_call_id"], "tool call id", calls[0].id)
    check(calls[0].function.name == "get_weather", "tool name", calls[0].function.name)
    arguments = json.loads(calls[0].function.arguments)
    check(arguments == expected["tool_arguments"], "tool arguments", arguments)

    # The same call streamed: the SDK's helper accumulates the deltas.
    with client.chat.completions.stream(
        model=expected["tool_model"],
        messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[WEATHER_TOOL],
    ) as events:
        final = events.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    check(len(calls) == 1, "one streamed tool call", calls)
    arguments = json.loads(calls[0].function.arguments)
    check(arguments == expected["tool_arguments"], "streamed tool arguments", arguments)


def as_f32(vector):
    """The vector rounded to float32: embeddings are float32, and a JSON float may be written
    with just enough digits to round-trip as one (e.g. -0.10449219 for -0.1044921875)."""
    return array.array("f", vector).tolist()


def embeddings(client, expected):
    inputs = list(expected["embeddings"].keys())
    # The SDK asks for base64 by default and decodes it; float is asked for explicitly.
    for options in ({}, {"encoding_format": "float"}):
        result = client.embeddings.create(model=expected["embedding_model"], input=inputs, **options)
        check(len(result.data) == len(inputs), "one vector per input", result.data)
        for item, text in zip(sorted(result.data, key=lambda d: d.index), inputs):
            want = as_f32(expected["embeddings"][text])
            check(as_f32(item.embedding) == want, f"vector for {text!r} ({options})", item.embedding)


def main():
    base_url, expectations = sys.argv[1], sys.argv[2]
    with open(expectations, encoding="utf-8") as f:
        expected = json.load(f)
    client = OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30)
    for step in (chat, stream, tool_call, embeddings):
        step(client, expected)
        print(f"ok: {step.__name__}")
    print(f"openai {openai.__version__}: all checks passed")


if __name__ == "__main__":
    main()
