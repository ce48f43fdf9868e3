// aratta-adapter/openai: the OpenAI Chat Completions wire format for adapters of
// OpenAI-compatible servers (Ollama, vLLM, llama.cpp), in the shape of the Rust SDK's
// `openai` module: SCRI → request bodies, answers → SCRI, streamed chunks → stream events, and
// the operations themselves (`chat`, `chatStream`, `embed`, `models`, `healthCheck`) given a
// dialect. Parsing is lenient where servers legitimately differ and strict where an answer
// would otherwise be silently wrong (no `choices`, a stream that ends without finishing).
//
// Not ported from the Rust module: cited sources (`citations`, `annotations`) and the
// Responses API, which local servers do not use.

import { AdapterError, SseParser, detail, errorForStatus, providerMessage, send, MAX_ERROR_BODY } from "./aratta-adapter.js";

/** OpenAI's own API. */
export const OPENAI = { developerRole: true, maxCompletionTokens: true, topK: false, namedToolChoiceAsRequired: false };

/** Local servers: `system` for developer, `max_tokens`, `top_k`, a named tool choice as `required`. */
export const LOCAL = { developerRole: false, maxCompletionTokens: false, topK: true, namedToolChoiceAsRequired: true };

const EMPTY_SCHEMA = '{"type":"object","properties":{}}';

// ---------------------------------------------------------------------------------------------
// JSON text with verbatim parts (tool schemas keep their key order and spelling).

/** JSON text that is inserted as it is. */
class Raw {
  constructor(text) {
    this.text = text;
  }
}

function rawJson(text, what) {
  try {
    JSON.parse(text);
  } catch (e) {
    throw AdapterError.invalidRequest(`${what} is not JSON: ${e.message}`);
  }
  return new Raw(text);
}

/** Serialize `value`, writing `Raw` parts verbatim and leaving out `undefined` fields. */
export function toJson(value) {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
  }
  if (typeof value === "bigint") return value.toString();
  return JSON.stringify(value);
}

/** An f32 as its shortest decimal (0.7, not 0.699999988079071), as the Rust SDK sends it. */
export function decimal(x) {
  if (x === undefined) return undefined;
  const f = Math.fround(x);
  for (let digits = 1; digits <= 9; digits++) {
    const shortest = Number(f.toPrecision(digits));
    if (Math.fround(shortest) === f) return shortest;
  }
  return f;
}

// ---------------------------------------------------------------------------------------------
// SCRI → OpenAI

/** Tools as OpenAI tool definitions (values for {@link toJson}). */
function toolDefinitions(tools) {
  return tools.map((tool) => ({
    type: "function",
    function: {
      name: tool.name,
      description: tool.description,
      parameters: rawJson(tool.parameters, `tool \`${tool.name}\` has parameters that`),
    },
  }));
}

/** SCRI tools as the JSON text of an OpenAI `tools` array. */
export function toolsJson(tools) {
  return toJson(toolDefinitions(tools));
}

/** SCRI tools from an OpenAI `tools` array (also bare `{name, parameters}` objects). */
export function parseTools(native) {
  let items;
  try {
    items = JSON.parse(native);
  } catch (e) {
    throw AdapterError.schemaMismatch("tool-schema-change", "", `the tools are not a JSON array: ${e.message}`, native);
  }
  if (!Array.isArray(items)) {
    throw AdapterError.schemaMismatch("tool-schema-change", "", "the tools are not a JSON array", native);
  }
  return items.map((item, i) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      throw AdapterError.schemaMismatch("tool-schema-change", `[${i}]`, `tool ${i} is not a function tool object`, native);
    }
    let fn;
    let prefix;
    if ((item.type === undefined || item.type === "function") && item.function) {
      [fn, prefix] = [item.function, `[${i}].function`];
    } else if (item.type === undefined) {
      [fn, prefix] = [item, `[${i}]`];
    } else {
      throw AdapterError.schemaMismatch(
        "tool-schema-change",
        `[${i}].type`,
        `tool ${i} has type \`${item.type}\`; only \`function\` tools map to SCRI`,
        native,
      );
    }
    if (typeof fn.name !== "string") throw AdapterError.missingField(`${prefix}.name`, native);
    const params = fn.parameters;
    return {
      name: fn.name,
      description: typeof fn.description === "string" ? fn.description : undefined,
      parameters: params === undefined || params === null ? EMPTY_SCHEMA : JSON.stringify(params),
    };
  });
}

function imagePart(image) {
  const src = image.source;
  const url = src.tag === "url" ? src.val : `data:${src.val.mediaType};base64,${src.val.data}`;
  return { type: "image_url", image_url: { url, detail: image.detail } };
}

function roleName(role, dialect) {
  if (role === "developer") return dialect.developerRole ? "developer" : "system";
  return role;
}

function toolMessage(result) {
  let text = result.content
    .filter((p) => p.tag === "text")
    .map((p) => p.val)
    .join("\n");
  // Chat Completions has no error flag; say it in the text so the model knows.
  if (result.isError) text = `Error: ${text}`;
  return { role: "tool", content: text, tool_call_id: result.toolCallId };
}

/**
 * SCRI messages as OpenAI messages. Each tool result becomes its own `tool` message, placed
 * before the rest of its message; images a tool returned follow as a user message; reasoning
 * is not sent back (Chat Completions has no input field for it).
 */
export function messages(list, dialect) {
  const out = [];
  for (const message of list) {
    const role = roleName(message.role, dialect);
    const content = message.content;
    if (content.tag === "text") {
      if (message.role === "tool") {
        throw AdapterError.invalidRequest(
          `a tool message needs tool-result blocks (to name the call it answers), got text ${JSON.stringify([...content.val].slice(0, 40).join(""))}`,
        );
      }
      out.push({ role, content: content.val, name: message.name });
      continue;
    }
    const parts = [];
    const calls = [];
    const resultImages = [];
    for (const block of content.val) {
      switch (block.tag) {
        case "text":
          parts.push({ type: "text", text: block.val });
          break;
        case "image":
          parts.push(imagePart(block.val));
          break;
        case "tool-use":
          calls.push({ id: block.val.id, type: "function", function: { name: block.val.name, arguments: block.val.arguments } });
          break;
        case "tool-result":
          out.push(toolMessage(block.val));
          for (const p of block.val.content) if (p.tag === "image") resultImages.push(imagePart(p.val));
          break;
        default: // reasoning
      }
    }
    if (resultImages.length > 0) out.push({ role: "user", content: resultImages });
    if (calls.length > 0 && message.role !== "assistant") {
      throw AdapterError.invalidRequest("only assistant messages can carry tool-use blocks");
    }
    if (parts.length === 0 && calls.length === 0) continue;
    let text;
    if (parts.length === 1 && parts[0].type === "text") text = parts[0].text;
    else if (parts.length > 0) text = parts;
    out.push({ role, content: text, name: message.name, tool_calls: calls.length > 0 ? calls : undefined });
  }
  return out;
}

function responseFormat(format) {
  if (format === undefined || format.tag === "text") return undefined;
  if (format.tag === "json-object") return { type: "json_object" };
  const s = format.val;
  return {
    type: "json_schema",
    json_schema: { name: s.name, description: s.description, schema: rawJson(s.schema, "response_format schema"), strict: s.strict },
  };
}

function toolChoice(choice) {
  if (choice === undefined) return undefined;
  if (choice.tag === "tool") return { type: "function", function: { name: choice.val } };
  return choice.tag;
}

/** The JSON text of `POST /chat/completions` for a SCRI `request`; `extra` is merged in last. */
export function chatBody(request, dialect, stream) {
  const s = request.sampling;
  let tools = toolDefinitions(request.tools);
  let choice = toolChoice(request.toolChoice);
  if (dialect.namedToolChoiceAsRequired && request.toolChoice?.tag === "tool") {
    const name = request.toolChoice.val;
    if (!tools.some((t) => t.function.name === name)) {
      throw AdapterError.invalidRequest(`tool_choice names \`${name}\`, which is not among the request's tools`);
    }
    tools = tools.filter((t) => t.function.name === name);
    choice = "required";
  }
  const body = {
    model: request.model,
    messages: messages(request.messages, dialect),
    tools: tools.length > 0 ? tools : undefined,
    tool_choice: choice,
    parallel_tool_calls: request.parallelToolCalls,
    response_format: responseFormat(request.responseFormat),
    temperature: decimal(s.temperature),
    top_p: decimal(s.topP),
    top_k: dialect.topK ? s.topK : undefined,
    max_tokens: dialect.maxCompletionTokens ? undefined : s.maxTokens,
    max_completion_tokens: dialect.maxCompletionTokens ? s.maxTokens : undefined,
    stop: s.stop.length > 0 ? s.stop : undefined,
    seed: s.seed,
    presence_penalty: decimal(s.presencePenalty),
    frequency_penalty: decimal(s.frequencyPenalty),
    reasoning_effort: request.reasoning?.effort,
    user: request.user,
    stream: stream ? true : undefined,
    stream_options: stream ? { include_usage: true } : undefined,
  };
  mergeExtra(body, request.extra);
  return toJson(body);
}

/** Merge the request's `extra` JSON object into `body`, key by key (extra wins). */
function mergeExtra(body, extra) {
  if (extra === undefined || extra.trim() === "") return;
  let fields;
  try {
    fields = JSON.parse(extra);
  } catch (e) {
    throw AdapterError.invalidRequest(`\`extra\` must be a JSON object: ${e.message}`);
  }
  if (fields === null || typeof fields !== "object" || Array.isArray(fields)) {
    throw AdapterError.invalidRequest("`extra` must be a JSON object");
  }
  Object.assign(body, fields);
}

// ---------------------------------------------------------------------------------------------
// OpenAI → SCRI

/** Values used when the server omits them, derived from the host's request id. */
export function fallbacks(ctx, model) {
  const scope = ctx.requestId.replace(/[^a-zA-Z0-9]/g, "").slice(-12);
  return {
    id: ctx.requestId === "" ? "chatcmpl-aratta" : `chatcmpl-${ctx.requestId}`,
    model,
    callId: (n) => (scope === "" ? `call_${n}` : `call_${scope}_${n}`),
  };
}

function parseBody(text) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw AdapterError.schemaMismatch("missing-field", "", `the provider's response is not JSON: ${e.message}`, text);
  }
}

/** A SCRI finish reason; `stop` after tool calls (Ollama, vLLM) is `tool-calls`. */
export function finishReason(raw, hadToolCalls) {
  switch (raw) {
    case "stop":
    case "end_turn":
      return { tag: hadToolCalls ? "tool-calls" : "stop" };
    case "eos":
      return { tag: "stop" };
    case "length":
    case "max_tokens":
      return { tag: "length" };
    case "tool_calls":
    case "function_call":
      return { tag: "tool-calls" };
    case "content_filter":
      return { tag: "content-filter" };
    case undefined:
    case null:
      return hadToolCalls ? { tag: "tool-calls" } : { tag: "unknown", val: "" };
    default:
      return { tag: "unknown", val: String(raw) };
  }
}

const count = (n) => (typeof n === "number" && n >= 0 ? Math.min(n, 0xffffffff) : undefined);

/** SCRI usage from OpenAI's `usage`, else llama.cpp's `timings`. */
export function usage(u, timings) {
  if (u !== undefined && u !== null && typeof u === "object") {
    const cached = u.prompt_tokens_details?.cached_tokens ?? undefined;
    const reasoning = u.completion_tokens_details?.reasoning_tokens ?? undefined;
    const p = u.prompt_tokens ?? undefined;
    const input = p !== undefined && cached !== undefined && cached > p ? p + cached : p;
    let output = u.completion_tokens ?? undefined;
    const total = u.total_tokens;
    // xAI leaves reasoning out of completion_tokens; its total says so.
    if (output !== undefined && reasoning > 0 && input !== undefined && total === input + output + reasoning) output += reasoning;
    return {
      inputTokens: count(input),
      outputTokens: count(output),
      cacheReadTokens: count(cached),
      cacheWriteTokens: undefined,
      reasoningTokens: count(reasoning),
    };
  }
  if (timings === undefined || timings === null) return undefined;
  const p = timings.prompt_n;
  const c = timings.cache_n;
  return {
    inputTokens: p === undefined && c === undefined ? undefined : count((p ?? 0) + (c ?? 0)),
    outputTokens: count(timings.predicted_n),
    cacheReadTokens: count(c),
    cacheWriteTokens: undefined,
    reasoningTokens: undefined,
  };
}

/** Tool-call arguments as JSON text: strings pass through, objects are serialized, empty is `{}`. */
function argumentsText(args) {
  if (typeof args === "string") return args.trim() === "" ? "{}" : args;
  if (args === undefined || args === null) return "{}";
  return JSON.stringify(args);
}

function reasoningText(m) {
  if (typeof m.reasoning_content === "string" && m.reasoning_content !== "") return m.reasoning_content;
  if (typeof m.reasoning === "string" && m.reasoning !== "") return m.reasoning;
  return undefined;
}

function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (typeof p?.text === "string" ? p.text : "")).join("");
  return undefined;
}

/** An error the provider reported inside a 2xx body or stream, classified by its `code`. */
function embeddedError(value, raw) {
  let err;
  if (value?.error !== undefined && value.error !== null) err = value.error;
  else if (value?.object === "error") err = value;
  else return undefined;
  const code = Number(typeof err === "object" ? err.code : undefined);
  if (Number.isInteger(code) && code >= 400 && code < 600) return errorForStatus(code, undefined, raw);
  const said = providerMessage(raw) ?? JSON.stringify(err);
  return new AdapterError("upstream", detail(`the provider reported an error: ${said}`, undefined, raw));
}

/** A complete `chat.completion` body as a SCRI `chat-response`. */
export function chatResponse(text, fb) {
  const completion = parseBody(text);
  const embedded = embeddedError(completion, text);
  if (embedded) throw embedded;
  if (!Array.isArray(completion.choices)) throw AdapterError.missingField("choices", text);
  const choice = completion.choices[0];
  if (choice === undefined) throw AdapterError.missingField("choices[0]", text);
  const message = choice.message;
  if (message === undefined || message === null) throw AdapterError.missingField("choices[0].message", text);
  const content = [];
  const reasoning = reasoningText(message);
  if (reasoning !== undefined) content.push({ tag: "reasoning", val: { text: reasoning } });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  if (!("content" in message) && calls.length === 0 && message.refusal === undefined) {
    throw AdapterError.missingField("choices[0].message.content", text);
  }
  if (message.content !== undefined && message.content !== null) {
    const t = contentText(message.content);
    if (t === undefined) {
      throw AdapterError.schemaMismatch(
        "missing-field",
        "choices[0].message.content",
        "message content is neither text nor an array of parts",
        text,
      );
    }
    if (t !== "") content.push({ tag: "text", val: t });
  }
  if (typeof message.refusal === "string" && message.refusal !== "") content.push({ tag: "text", val: message.refusal });
  calls.forEach((call, i) => {
    const name = call?.function?.name;
    if (typeof name !== "string" || name === "") {
      throw AdapterError.missingField(`choices[0].message.tool_calls[${i}].function.name`, text);
    }
    content.push({
      tag: "tool-use",
      val: { id: call.id || fb.callId(i), name, arguments: argumentsText(call.function.arguments) },
    });
  });
  return {
    id: completion.id || fb.id,
    model: completion.model || fb.model,
    content,
    finishReason: finishReason(choice.finish_reason, calls.length > 0),
    usage: usage(completion.usage, completion.timings),
  };
}

/** An `/embeddings` body with exactly `expected` vectors, in input order. */
export function embeddingResponse(text, expected, fallbackModel) {
  const response = parseBody(text);
  if (!Array.isArray(response.data)) throw AdapterError.missingField("data", text);
  const slots = new Array(expected).fill(undefined);
  response.data.forEach((item, i) => {
    const path = `data[${i}].embedding`;
    const index = item?.index ?? i;
    const e = item?.embedding;
    if (!Array.isArray(e)) throw AdapterError.missingField(path, text);
    if (!e.every((v) => typeof v === "number")) {
      throw AdapterError.schemaMismatch("missing-field", path, "the embedding is not a flat list of numbers (llama.cpp returns one vector per token when started without pooling; use --pooling mean)", text);
    }
    if (index >= expected) {
      throw AdapterError.schemaMismatch("missing-field", `data[${i}].index`, `index ${index} is out of range for ${expected} inputs`, text);
    }
    slots[index] = Float32Array.from(e);
  });
  slots.forEach((slot, i) => {
    if (slot === undefined) throw AdapterError.missingField(`data[${i}]`, text);
  });
  const u = response.usage;
  return {
    model: response.model || fallbackModel,
    embeddings: slots,
    usage: u ? { inputTokens: count(u.prompt_tokens) } : undefined,
  };
}

/** A `/models` body as SCRI model infos. */
export function modelList(text) {
  const list = parseBody(text);
  if (!("data" in list)) throw AdapterError.missingField("data", text);
  if (list.data === null) return [];
  if (!Array.isArray(list.data)) throw AdapterError.schemaMismatch("missing-field", "data", "`data` is not a list", text);
  return list.data.map((entry, i) => {
    if (typeof entry?.id !== "string") {
      throw AdapterError.schemaMismatch("missing-field", `data[${i}]`, `model entry ${i}: missing field \`id\``, text);
    }
    const context = entry.max_model_len ?? entry.meta?.n_ctx_train;
    return {
      id: entry.id,
      ownedBy: entry.owned_by || undefined,
      created: entry.created > 0 ? BigInt(entry.created) : undefined,
      capabilities: {
        contextWindow: count(context),
        maxOutputTokens: undefined,
        tools: false,
        vision: false,
        streaming: true,
        embeddings: false,
        reasoning: false,
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Streams

/** The events of a complete answer, for servers that answer a streaming request with JSON. */
export function responseEvents(response) {
  const events = [{ tag: "start", val: { id: response.id, model: response.model } }];
  let index = 0;
  for (const block of response.content) {
    if (block.tag === "text") events.push({ tag: "text-delta", val: block.val });
    if (block.tag === "reasoning") events.push({ tag: "reasoning-delta", val: { text: block.val.text } });
    if (block.tag === "tool-use") {
      events.push({ tag: "tool-call-start", val: { index, id: block.val.id, name: block.val.name } });
      events.push({ tag: "tool-call-delta", val: { index, arguments: block.val.arguments } });
      index += 1;
    }
  }
  if (response.usage) events.push({ tag: "usage", val: response.usage });
  events.push({ tag: "stop", val: response.finishReason });
  return events;
}

function argsComplete(call) {
  if (call.args.trim() === "") return false;
  try {
    JSON.parse(call.args);
    return true;
  } catch {
    return false;
  }
}

/**
 * Streamed `chat.completion.chunk`s → SCRI stream events. `stop` is held back until `[DONE]`
 * (or the end of the body after a finish reason) so a trailing usage chunk is not lost; a body
 * that ends with neither is an `error` event, never a silent success.
 */
export class StreamDecoder {
  constructor(fb) {
    this.fb = fb;
    this.started = false;
    this.finish = undefined;
    this.usage = undefined;
    this.realUsage = false;
    this.calls = [];
    this.nextCall = 0;
    this.done = false;
  }

  /** Handle one SSE event, pushing SCRI events onto `out`. */
  onEvent(event, out) {
    if (this.done) return;
    const field = event.fields.find(([name]) => name === "error");
    if (field) return this.fail(errorPayload(field[1]), out);
    if (event.event === "error") return this.fail(errorPayload(event.data), out);
    const data = event.data.trim();
    if (data === "[DONE]") return this.complete(out);
    if (data === "") return;
    let chunk;
    try {
      chunk = JSON.parse(data);
    } catch (e) {
      return this.fail(AdapterError.streamFormat("", `a stream chunk is not JSON: ${e.message}`, data), out);
    }
    this.onChunk(chunk, data, out);
  }

  /** The body ended; `head` is its start, kept for the error detail. */
  onEof(sawEvents, head, out) {
    if (this.done) return;
    if (this.finish !== undefined) return this.complete(out);
    if (!sawEvents) {
      const said = providerMessage(head);
      const message = said === undefined ? "the response ended without a single server-sent event" : `the response is not an event stream; the provider said: ${said}`;
      return this.fail(AdapterError.streamFormat("", message, head), out);
    }
    this.fail(
      new AdapterError("connection", detail("the stream was truncated: it ended without `[DONE]` or a finish reason", undefined, head)),
      out,
    );
  }

  fail(error, out) {
    out.push({ tag: "error", val: error.variant });
    this.done = true;
  }

  complete(out) {
    const unnamed = this.calls.find((c) => c.name === undefined);
    if (unnamed) {
      const path = `choices[0].delta.tool_calls[${unnamed.rawIndex}].function.name`;
      return this.fail(AdapterError.streamFormat(path, "a streamed tool call never named its tool", unnamed.args), out);
    }
    if (!this.started) return this.fail(AdapterError.streamFormat("", "the stream ended before its first chunk", ""), out);
    for (const call of this.calls) {
      if (call.started !== undefined && call.args.trim() === "") {
        out.push({ tag: "tool-call-delta", val: { index: call.started, arguments: "{}" } });
      }
    }
    if (this.usage) out.push({ tag: "usage", val: this.usage });
    out.push({ tag: "stop", val: finishReason(this.finish, this.calls.length > 0) });
    this.done = true;
  }

  onChunk(chunk, raw, out) {
    const embedded = embeddedError(chunk, raw);
    if (embedded) return this.fail(embedded, out);
    if (!this.started) {
      this.started = true;
      out.push({ tag: "start", val: { id: chunk.id || this.fb.id, model: chunk.model || this.fb.model } });
    }
    // Usage may come in every chunk (vLLM), with the last choice (llama.cpp) or in a final
    // chunk with no choices (OpenAI): keep the latest. `timings` stand in until real usage.
    if (chunk.usage) {
      this.usage = usage(chunk.usage);
      this.realUsage = true;
    } else if (!this.realUsage && chunk.timings) {
      this.usage = usage(undefined, chunk.timings);
    }
    const choice = (chunk.choices ?? []).find((c) => (c?.index ?? 0) === 0);
    if (!choice) return;
    const delta = choice.delta ?? choice.message;
    if (delta) {
      const reasoning = reasoningText(delta);
      if (reasoning !== undefined) out.push({ tag: "reasoning-delta", val: { text: reasoning } });
      if (typeof delta.content === "string" && delta.content !== "") out.push({ tag: "text-delta", val: delta.content });
      if (typeof delta.refusal === "string" && delta.refusal !== "") out.push({ tag: "text-delta", val: delta.refusal });
      (delta.tool_calls ?? []).forEach((call, pos) => this.onToolCall(pos, call, out));
    }
    if (typeof choice.finish_reason === "string" && choice.finish_reason !== "") this.finish = choice.finish_reason;
  }

  onToolCall(pos, call, out) {
    const rawIndex = call.index ?? pos;
    const id = call.id || undefined;
    const fn = call.function ?? {};
    const name = fn.name || undefined;
    const args = fn.arguments === undefined || fn.arguments === null ? "" : typeof fn.arguments === "string" ? fn.arguments : JSON.stringify(fn.arguments);
    let openAt = -1;
    for (let i = this.calls.length - 1; i >= 0; i--) {
      if (this.calls[i].rawIndex === rawIndex) {
        openAt = i;
        break;
      }
    }
    const open = this.calls[openAt];
    // A second call can reuse an index (Ollama sends 0 for every call): a named piece with a
    // different id, or with no id after complete arguments, is a new call.
    let isNew = open === undefined;
    if (open !== undefined && name !== undefined) {
      if (id !== undefined) isNew = open.serverId !== undefined ? open.serverId !== id : argsComplete(open);
      else isNew = open.name !== undefined && argsComplete(open);
    }
    let slot = open;
    if (isNew) {
      slot = { rawIndex, serverId: id, name: undefined, args: "", started: undefined };
      this.calls.push(slot);
    }
    if (slot.name === undefined) slot.name = name;
    slot.args += args;
    if (slot.started !== undefined) {
      if (args !== "") out.push({ tag: "tool-call-delta", val: { index: slot.started, arguments: args } });
    } else if (slot.name !== undefined) {
      const index = this.nextCall++;
      slot.started = index;
      out.push({ tag: "tool-call-start", val: { index, id: slot.serverId ?? this.fb.callId(index), name: slot.name } });
      if (slot.args !== "") out.push({ tag: "tool-call-delta", val: { index, arguments: slot.args } });
    }
  }
}

/** The error for a payload a server sent as its stream's error. */
function errorPayload(payload) {
  let value;
  try {
    value = JSON.parse(payload);
  } catch {
    value = undefined;
  }
  // The payload is the error object itself (llama.cpp) or wraps it (`{"error":{…}}`).
  const error = value?.error !== undefined ? embeddedError(value, payload) : value !== undefined ? embeddedError({ error: value }, payload) : undefined;
  return error ?? new AdapterError("upstream", detail("the provider reported an error in the stream", undefined, payload));
}

/** SCRI events read from an SSE `response` body on demand (a generator). */
export function* sseEvents(response, fb) {
  const parser = new SseParser();
  const decoder = new StreamDecoder(fb);
  const head = [];
  let headLength = 0;
  let sawEvents = false;
  const out = [];
  while (!decoder.done) {
    let chunk;
    try {
      chunk = response.readChunk();
    } catch (e) {
      if (!(e instanceof AdapterError)) throw e;
      out.push({ tag: "error", val: e.variant });
      decoder.done = true;
    }
    if (chunk === undefined && !decoder.done) {
      decoder.onEof(sawEvents, new TextDecoder().decode(concat(head)), out);
    } else if (chunk !== undefined) {
      if (headLength < MAX_ERROR_BODY) {
        head.push(chunk.subarray(0, MAX_ERROR_BODY - headLength));
        headLength += head[head.length - 1].length;
      }
      for (const event of parser.push(chunk)) {
        sawEvents = true;
        decoder.onEvent(event, out);
      }
    }
    yield* out.splice(0);
  }
  response.close();
}

function concat(chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Operations

/** `POST {base}/chat/completions` and the answer as SCRI. */
export function chat(ctx, request, dialect) {
  const body = chatBody(request, dialect, false);
  const text = send(ctx, "/chat/completions", {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body,
  })
    .errorForStatus()
    .text();
  return chatResponse(text, fallbacks(ctx, request.model));
}

/**
 * `POST {base}/chat/completions` with `stream: true`: the SCRI events, as an array whose first
 * events are already read. Errors before the answer's first content are thrown, so the host
 * can fall back; a server answering with one JSON body is replayed as events.
 */
export function chatStream(ctx, request, dialect) {
  const body = chatBody(request, dialect, true);
  const response = send(ctx, "/chat/completions", {
    method: "POST",
    headers: { accept: "text/event-stream", "content-type": "application/json" },
    body,
  }).errorForStatus();
  const fb = fallbacks(ctx, request.model);
  if ((response.header("content-type") ?? "").trimStart().startsWith("application/json")) {
    return responseEvents(chatResponse(response.text(), fb));
  }
  // Read up to the answer's first content now: an error before it (llama.cpp's context
  // overflow comes right after the role chunk) is thrown here, where the host can fall back.
  const events = sseEvents(response, fb);
  const first = [];
  for (;;) {
    const step = events.next();
    if (step.done) return first;
    if (step.value.tag === "error") throw new AdapterError(step.value.val.tag, step.value.val.val);
    first.push(step.value);
    if (step.value.tag !== "start") break;
  }
  return (function* () {
    yield* first;
    yield* events;
  })();
}

/** `POST {base}/embeddings` and the vectors in input order. */
export function embed(ctx, request) {
  if (request.inputs.length === 0) return { model: request.model, embeddings: [], usage: undefined };
  const body = { model: request.model, input: request.inputs, dimensions: request.dimensions, encoding_format: "float" };
  mergeExtra(body, request.extra);
  const text = send(ctx, "/embeddings", {
    method: "POST",
    headers: { accept: "application/json", "content-type": "application/json" },
    body: toJson(body),
  })
    .errorForStatus()
    .text();
  return embeddingResponse(text, request.inputs.length, request.model);
}

/** `GET {base}/models`. */
export function models(ctx) {
  const text = send(ctx, "/models", { headers: { accept: "application/json" } })
    .errorForStatus()
    .text();
  return modelList(text);
}

/** A health check through `GET {base}/models`. */
export function healthCheck(ctx) {
  const list = models(ctx);
  return { modelCount: list.length, detail: list.length === 0 ? "the server lists no models" : undefined };
}
