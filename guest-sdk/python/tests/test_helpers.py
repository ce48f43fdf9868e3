"""Tests of the helpers' pure parts: SSE framing, status mapping, and the OpenAI wire format.
Run from the repository root: ``python3 -m unittest discover -s guest-sdk/python/tests``."""

import json
import unittest

import bindings  # noqa: F401  (puts wit_world and aratta_adapter on sys.path)
from componentize_py_types import Err
from wit_world.imports import chat, errors as wit
from aratta_adapter import errors
from aratta_adapter.events import EventStream, peek
from aratta_adapter.openai import request, response, stream
from aratta_adapter.sse import SseParser


def events_of(*chunks: bytes):
    fallbacks = response.Fallbacks("chatcmpl-x", "m", "req1")
    return list(stream.sse_events(iter(chunks), fallbacks))


def kinds(events):
    return [type(e).__name__.removeprefix("StreamEvent_") for e in events]


class Sse(unittest.TestCase):
    def test_events_split_across_chunks_and_line_endings(self):
        parser = SseParser()
        got = parser.push(b"\xef\xbb\xbfdata: a\r")
        got += parser.push(b"\ndata: b\r\n\r\n: keep-alive\n\nevent: x\ndata: c\n")
        self.assertEqual([(e.event, e.data) for e in got], [("message", "a\nb")])
        self.assertTrue(parser.has_partial_event())
        got = parser.push(b"\n")
        self.assertEqual([(e.event, e.data) for e in got], [("x", "c")])

    def test_unknown_fields_are_kept(self):
        got = SseParser().push(b'error: {"message":"boom"}\n\n')
        self.assertEqual(got[0].fields, [("error", '{"message":"boom"}')])


class Status(unittest.TestCase):
    def test_statuses_map_to_cases(self):
        cases = {429: "RateLimited", 401: "Unauthorized", 403: "Unauthorized", 400: "InvalidRequest",
                 404: "InvalidRequest", 413: "InvalidRequest", 422: "InvalidRequest", 408: "Timeout",
                 504: "Timeout", 503: "Overloaded", 529: "Overloaded", 500: "Upstream", 418: "Upstream"}
        for status, case in cases.items():
            got = type(errors.error_for_status(status, None, b"")).__name__
            self.assertEqual(got, "AdapterError_" + case, status)

    def test_rate_limit_keeps_retry_status_and_body(self):
        body = b'{"error":{"message":"Rate limit reached"}}'
        err = errors.error_for_status(429, errors.retry_after_ms("2", None), body)
        self.assertEqual(err.value.retry_after_ms, 2000)
        self.assertEqual((err.value.detail.status, err.value.detail.body), (429, body.decode()))
        self.assertIn("Rate limit reached", err.value.detail.message)

    def test_retry_after(self):
        self.assertEqual(errors.retry_after_ms("2", "1500"), 1500)
        self.assertEqual(errors.retry_after_ms("0.5", None), 500)
        self.assertIsNone(errors.retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", None))
        self.assertIsNone(errors.retry_after_ms("-1", None))

    def test_long_bodies_are_cut(self):
        cut = errors.truncate_body("é".encode() * errors.MAX_ERROR_BODY)
        self.assertTrue(cut.endswith("…[truncated]"))


def user(text):
    return chat.Message(chat.Role.USER, chat.MessageContent_Text(text), None)


def request_of(**fields):
    base = dict(model="m", messages=[user("hi")], tools=[], tool_choice=None, parallel_tool_calls=None,
                response_format=None, sampling=chat.Sampling(None, None, None, None, [], None, None, None),
                reasoning=None, user=None, extra=None)
    base.update(fields)
    return chat.ChatRequest(**base)


WEATHER = chat.Tool("get_weather", "Weather for a city",
                    '{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}')


class Request(unittest.TestCase):
    def test_body_uses_the_local_dialect(self):
        sampling = chat.Sampling(0.699999988079071, None, 40, 64, [], None, None, None)
        body = request.chat_body(request_of(sampling=sampling, extra='{"keep_alive":"5m"}'), request.LOCAL, True)
        self.assertEqual(body["temperature"], 0.7)
        self.assertEqual((body["top_k"], body["max_tokens"]), (40, 64))
        self.assertNotIn("max_completion_tokens", body)
        self.assertEqual(body["stream_options"], {"include_usage": True})
        self.assertEqual(body["keep_alive"], "5m")

    def test_named_tool_choice_becomes_required_with_only_that_tool(self):
        other = chat.Tool("other", None, "{}")
        body = request.chat_body(request_of(tools=[WEATHER, other], tool_choice=chat.ToolChoice_Tool("get_weather")),
                                 request.LOCAL, False)
        self.assertEqual(body["tool_choice"], "required")
        self.assertEqual([t["function"]["name"] for t in body["tools"]], ["get_weather"])

    def test_tool_round_trip_messages(self):
        call = chat.ToolCall("call_1", "get_weather", '{"city":"Paris"}', None)
        result = chat.ToolResult("call_1", None, [chat.ToolResultPart_Text("18C")], False)
        converted = request.messages([
            chat.Message(chat.Role.DEVELOPER, chat.MessageContent_Text("be terse"), None),
            chat.Message(chat.Role.ASSISTANT, chat.MessageContent_Blocks([chat.ContentBlock_ToolUse(call)]), None),
            chat.Message(chat.Role.TOOL, chat.MessageContent_Blocks([chat.ContentBlock_ToolResult(result)]), None),
        ], request.LOCAL)
        self.assertEqual(converted, [
            {"role": "system", "content": "be terse"},
            {"role": "assistant", "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
            {"role": "tool", "content": "18C", "tool_call_id": "call_1"},
        ])

    def test_tools_round_trip_and_drift(self):
        native = request.dumps(request.tools_to_openai([WEATHER]))
        self.assertEqual(request.tools_from_openai(native), [WEATHER])
        with self.assertRaises(Err) as caught:
            request.tools_from_openai('[{"type":"code_interpreter"}]')
        self.assertEqual(caught.exception.value.value.kind, wit.MismatchKind.TOOL_SCHEMA_CHANGE)


class Response(unittest.TestCase):
    def test_tool_calls_without_ids_get_scoped_ones(self):
        body = json.dumps({"choices": [{"message": {"content": None, "tool_calls": [
            {"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]}, "finish_reason": "stop"}]})
        answer = response.chat_response(body.encode(), response.Fallbacks("id", "m", "req1"))
        call = answer.content[0].value
        self.assertEqual((call.id, call.arguments), ("call_req1_0", '{"city":"Paris"}'))
        self.assertIsInstance(answer.finish_reason, chat.FinishReason_ToolCalls)

    def test_missing_choices_is_a_schema_mismatch_with_a_path(self):
        with self.assertRaises(Err) as caught:
            response.chat_response(b'{"id":"x"}', response.Fallbacks("id", "m", ""))
        self.assertEqual(caught.exception.value.value.path, "choices")


class Stream(unittest.TestCase):
    def test_text_usage_and_one_stop_after_done(self):
        got = events_of(
            b'data: {"id":"c1","model":"m","choices":[{"delta":{"content":"Hel"}}]}\n\n',
            b'data: {"choices":[{"delta":{"content":"lo"},"finish_reason":"stop"}]}\n\n'
            b'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}\n\ndata: [DONE]\n\n',
        )
        self.assertEqual(kinds(got), ["Start", "TextDelta", "TextDelta", "Usage", "Stop"])
        self.assertEqual(got[-2].value.input_tokens, 3)

    def test_ollama_reused_indexes_are_two_calls(self):
        piece = lambda id_, city: ('data: {"choices":[{"delta":{"tool_calls":[{"index":0,"id":"%s","function":'  # noqa: E731
                                   '{"name":"get_weather","arguments":"{\\"city\\":\\"%s\\"}"}}]}}]}\n\n' % (id_, city)).encode()
        got = events_of(piece("a", "Paris"), piece("b", "Rome"),
                        b'data: {"choices":[{"delta":{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n')
        starts = [e.value for e in got if isinstance(e, chat.StreamEvent_ToolCallStart)]
        self.assertEqual([(s.index, s.id) for s in starts], [(0, "a"), (1, "b")])
        self.assertIsInstance(got[-1].value, chat.FinishReason_ToolCalls)

    def test_a_cut_stream_ends_with_one_error(self):
        got = events_of(b'data: {"choices":[{"delta":{"content":"Hel"}}]}\n\n')
        self.assertEqual(kinds(got), ["Start", "TextDelta", "Error"])
        self.assertIsInstance(got[-1].value, wit.AdapterError_Connection)

    def test_an_error_before_content_is_raised_by_peek(self):
        got = iter(events_of(b'data: {"error":{"message":"too long","code":400}}\n\n'))
        with self.assertRaises(Err) as caught:
            peek(got)
        self.assertIsInstance(caught.exception.value, wit.AdapterError_InvalidRequest)

    def test_event_stream_stops_after_the_terminal_event(self):
        events = EventStream(iter([chat.StreamEvent_Stop(chat.FinishReason_Stop()), chat.StreamEvent_TextDelta("x")]))
        self.assertIsInstance(events.next(), chat.StreamEvent_Stop)
        self.assertIsNone(events.next())
        unfinished = EventStream(iter([]))
        self.assertIsInstance(unfinished.next(), chat.StreamEvent_Error)


if __name__ == "__main__":
    unittest.main()
