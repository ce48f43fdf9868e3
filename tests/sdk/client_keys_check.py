"""Client keys through the official OpenAI, Anthropic and Google Gen AI Python SDKs.

Usage: client_keys_check.py ROOT_URL KEYS_JSON

ROOT_URL is the gateway's root (http://127.0.0.1:PORT), on a server that requires client keys.
KEYS_JSON is written by the Rust test (tests/e2e/python_sdk.rs): `good` (any model), `limited`
(only `model`), `revoked`, and `model` / `other_model`. Each SDK sends a key where it always
does (Authorization: Bearer, x-api-key, x-goog-api-key); each must answer with the good key and
raise its own authentication or permission error, with Aratta's message, otherwise. Exits
non-zero on the first mismatch.
"""

import json
import sys

import anthropic
import openai
from google import genai
from google.genai import errors, types


def check(condition, what, got):
    if not condition:
        raise AssertionError(f"{what}: got {got!r}")


def expect(error_class, call, needle, what):
    try:
        call()
    except error_class as err:
        check(needle in str(err), f"{what}: message", str(err))
        return err
    raise AssertionError(f"{what}: no {error_class.__name__} raised")


def with_openai(root, k):
    def client(key):
        return openai.OpenAI(base_url=root + "/v1", api_key=key, max_retries=0, timeout=30)

    def chat(key, model=k["model"]):
        return client(key).chat.completions.create(
            model=model, messages=[{"role": "user", "content": "Hello"}]
        )

    check(chat(k["good"]).choices[0].message.content, "openai: answer", None)
    check(chat(k["limited"]).choices[0].message.content, "openai: limited key's model", None)
    err = expect(openai.AuthenticationError, lambda: chat("unused"), "not an Aratta client key", "openai: placeholder")
    check(err.status_code == 401 and err.code == "invalid_api_key", "openai: 401 code", err.body)
    err = expect(openai.AuthenticationError, lambda: chat(k["revoked"]), "revoked", "openai: revoked")
    check(err.code == "client_key_revoked", "openai: revoked code", err.body)
    expect(openai.PermissionDeniedError, lambda: chat(k["limited"], k["other_model"]), k["other_model"], "openai: model")
    print("ok openai")


def with_anthropic(root, k):
    def chat(key, model=k["model"]):
        client = anthropic.Anthropic(base_url=root, api_key=key, max_retries=0, timeout=30)
        return client.messages.create(
            model=model, max_tokens=32, messages=[{"role": "user", "content": "Hello"}]
        )

    check(chat(k["good"]).content[0].text, "anthropic: answer", None)
    err = expect(anthropic.AuthenticationError, lambda: chat("unused"), "not an Aratta client key", "anthropic: placeholder")
    check(err.body["error"]["type"] == "authentication_error", "anthropic: error type", err.body)
    expect(anthropic.AuthenticationError, lambda: chat(k["revoked"]), "revoked", "anthropic: revoked")
    err = expect(anthropic.PermissionDeniedError, lambda: chat(k["limited"], k["other_model"]), k["other_model"], "anthropic: model")
    check(err.body["error"]["type"] == "permission_error", "anthropic: 403 type", err.body)
    print("ok anthropic")


def with_genai(root, k):
    def chat(key, model=k["model"]):
        client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=root))
        return client.models.generate_content(model=model, contents="Hello")

    check(chat(k["good"]).text, "genai: answer", None)
    err = expect(errors.ClientError, lambda: chat("unused"), "not an Aratta client key", "genai: placeholder")
    check(err.code == 401 and err.status == "UNAUTHENTICATED", "genai: 401", err)
    err = expect(errors.ClientError, lambda: chat(k["revoked"]), "revoked", "genai: revoked")
    check(err.code == 401, "genai: revoked 401", err)
    err = expect(errors.ClientError, lambda: chat(k["limited"], k["other_model"]), k["other_model"], "genai: model")
    check(err.code == 403 and err.status == "PERMISSION_DENIED", "genai: 403", err)
    print("ok genai")


def main():
    root, keys = sys.argv[1], sys.argv[2]
    with open(keys) as f:
        k = json.load(f)
    with_openai(root, k)
    with_anthropic(root, k)
    with_genai(root, k)
    print("client keys: all checks passed")


if __name__ == "__main__":
    main()
