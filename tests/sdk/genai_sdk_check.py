"""Drive an Aratta gateway with the official Google Gen AI Python SDK and check what comes back.

Usage: genai_sdk_check.py BASE_URL EXPECTATIONS_JSON

BASE_URL is the gateway's root (http://127.0.0.1:PORT), what a user passes as
http_options.base_url; the SDK adds /v1beta/models/{model}:{method}. EXPECTATIONS_JSON is written
by tests/e2e/python_sdk.rs from the mock upstreams' fixtures. Exits non-zero on the first mismatch.
"""

import json
import math
import sys
import time

from google import genai
from google.genai import errors, types
from google.genai import version as genai_version

SDK, VERSION = "google-genai", genai_version.__version__

WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Current weather for a city",
            parameters=types.Schema(
                type="OBJECT",
                properties={"location": types.Schema(type="STRING")},
                required=["location"],
            ),
        )
    ]
)
NO_AFC = types.AutomaticFunctionCallingConfig(disable=True)


def check(condition, what, got):
    if not condition:
        raise AssertionError(f"{what}: got {got!r}")


def text_of(response):
    parts = response.candidates[0].content.parts or []
    return "".join(p.text or "" for p in parts if not p.thought)


def chat(client, e):
    response = client.models.generate_content(
        model=e["local_model"],
        contents="Hello",
        config=types.GenerateContentConfig(
            system_instruction="Be brief.", temperature=0.2, max_output_tokens=64
        ),
    )
    headers = response.sdk_http_response.headers
    check(headers.get("x-aratta-provider") == "local", "x-aratta-provider", headers)
    check(text_of(response) == e["local_text"], "text", response)
    check(response.candidates[0].finish_reason == types.FinishReason.STOP, "finish", response)
    usage = response.usage_metadata
    check(usage.prompt_token_count == e["local_prompt_tokens"], "prompt tokens", usage)
    check(usage.cached_content_token_count == e["local_cached_tokens"], "cached tokens", usage)
    # An Anthropic upstream behind the Gemini SDK.
    response = client.models.generate_content(model="anthropic:plain", contents="Hello")
    check(text_of(response) == e["anthropic_text"], "anthropic text", response)


def stream(client, e):
    for model, expected in (("google:plain", e["google_stream_text"]), (e["local_model"], e["local_text"])):
        text, finish, usage = "", None, None
        for chunk in client.models.generate_content_stream(model=model, contents="Hello"):
            candidate = chunk.candidates[0]
            for part in (candidate.content.parts if candidate.content else None) or []:
                if part.text and not part.thought:
                    text += part.text
            finish = candidate.finish_reason or finish
            usage = chunk.usage_metadata or usage
        check(text == expected, f"{model} streamed text", text)
        check(finish == types.FinishReason.STOP, f"{model} finish", finish)
        check(usage is not None and usage.prompt_token_count > 0, f"{model} usage", usage)


def tools(client, e):
    config = types.GenerateContentConfig(tools=[WEATHER], automatic_function_calling=NO_AFC)
    question = types.Content(role="user", parts=[types.Part(text="What is the weather in Paris?")])
    response = client.models.generate_content(
        model=e["tool_model"], contents=[question], config=config
    )
    call = response.function_calls[0]
    check(call.name == "get_weather", "call name", call)
    check(call.args == e["tool_arguments"], "call args", call.args)
    check(call.id == e["tool_call_id"], "call id", call.id)
    answer = types.Content(
        role="user",
        parts=[
            types.Part(
                function_response=types.FunctionResponse(
                    id=call.id, name=call.name, response={"output": "18C and sunny"}
                )
            )
        ],
    )
    follow = client.models.generate_content(
        model=e["local_model"],
        contents=[question, response.candidates[0].content, answer],
        config=config,
    )
    check(text_of(follow) == e["local_text"], "answer after the function response", follow)
    # A call streamed in pieces by an Anthropic upstream comes out whole, as Gemini streams calls.
    calls = []
    for chunk in client.models.generate_content_stream(
        model="anthropic:stream-tools", contents=[question], config=config
    ):
        calls.extend(chunk.function_calls or [])
    check(len(calls) == 1, "one streamed call", calls)
    check(calls[0].args == e["anthropic_tool_arguments"], "streamed call args", calls)


def embeddings(client, e):
    response = client.models.embed_content(
        model=e["embedding_model"], contents=list(e["embeddings"].keys())
    )
    got = [emb.values for emb in response.embeddings]
    want = list(e["embeddings"].values())
    close = len(got) == len(want) and all(
        len(g) == len(w) and all(math.isclose(a, b, rel_tol=1e-6) for a, b in zip(g, w))
        for g, w in zip(got, want)
    )
    check(close, "embeddings", got)


def failures(client, _e):
    try:
        client.models.generate_content(model="nope:missing", contents="x")
        raise AssertionError("an unknown model must fail")
    except errors.ClientError as err:
        check(err.code == 404 and err.status == "NOT_FOUND", "unknown model", err)
    try:
        client.models.generate_content(
            model="local:llama3.2",
            contents="x",
            config=types.GenerateContentConfig(candidate_count=2),
        )
        raise AssertionError("two candidates must be refused")
    except errors.ClientError as err:
        check(err.code == 400 and err.status == "INVALID_ARGUMENT", "bad request", err)
        check("candidateCount" in err.message, "message names the field", err.message)
    try:
        client.models.generate_content(model="anthropic:e429", contents="x")
        raise AssertionError("a rate-limited upstream must fail")
    except errors.ClientError as err:
        check(err.code == 429 and err.status == "RESOURCE_EXHAUSTED", "rate limit", err)


def models(client, _e):
    names = [m.name for m in client.models.list(config={"page_size": 2})]
    check("models/local:llama3.2:latest" in names, "local model listed", names)
    check(any(n.startswith("models/google:") for n in names), "google models listed", names)
    one = client.models.get(model="local:llama3.2:latest")
    check(one.name == "models/local:llama3.2:latest", "get model", one)


def main():
    base_url, expectations = sys.argv[1], sys.argv[2]
    with open(expectations) as f:
        e = json.load(f)
    client = genai.Client(api_key="unused", http_options=types.HttpOptions(base_url=base_url))
    for step in (chat, stream, tools, embeddings, failures, models):
        started = time.monotonic()
        step(client, e)
        print(f"ok {step.__name__} ({time.monotonic() - started:.2f} s)")
    print(f"{SDK} {VERSION}: all checks passed")


if __name__ == "__main__":
    main()
