// aratta-adapter: what a JavaScript adapter for Aratta imports, built with
// `aratta adapter build` (jco componentize) against the world `aratta:scri/adapter@0.2.0`.
//
// - `send` / `Response`: blocking outbound HTTP over `wasi:http/outgoing-handler`. A
//   componentize-js export is a synchronous component function, so this waits with
//   `pollable.block()` instead of using `fetch`.
// - `SseParser`: an incremental Server-Sent Events parser (WHATWG rules, plus non-standard
//   fields such as llama.cpp's `error:` kept in `fields`).
// - `AdapterError`, `errorForStatus`, `retryAfterMs`, `providerMessage`: failures as the WIT
//   `adapter-error` variant the host acts on (retry, fall back, breaker), keeping the raw status
//   and body. Mirrors the Rust SDK's `status.rs` and `error.rs`.
//
// OpenAI Chat Completions helpers live in `aratta-adapter/openai.js`.

import { handle } from "wasi:http/outgoing-handler@0.2.12";
import { Fields, OutgoingBody, OutgoingRequest } from "wasi:http/types@0.2.12";

/** How much of a provider's body an error keeps (bytes of UTF-8), as the Rust SDK. */
export const MAX_ERROR_BODY = 8 * 1024;
const READ_CHUNK = 64n * 1024n;
/** `blocking-write-and-flush` accepts at most 4096 bytes per call. */
const WRITE_CHUNK = 4096;

const encoder = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Errors

/**
 * A typed failure. `throw new AdapterError(...)` from an export returning `result<_, adapter-error>`
 * and the host receives `variant` (`{ tag, val }`).
 */
export class AdapterError extends Error {
  /** @param {string} tag a case of `adapter-error` (`rate-limited`, `unauthorized`, ...) */
  constructor(tag, val) {
    super(`${tag}: ${(val.detail ?? val).message}`);
    this.tag = tag;
    this.val = val;
  }
  /** The `error-detail` every case carries. */
  get detail() {
    return this.val.detail ?? this.val;
  }
  /** The WIT value: `{ tag, val }`. */
  get variant() {
    return { tag: this.tag, val: this.val };
  }
  static unsupported(operation) {
    return new AdapterError("unsupported", detail(`this adapter does not support \`${operation}\``));
  }
  static connection(message) {
    return new AdapterError("connection", detail(message));
  }
  static timeout(message) {
    return new AdapterError("timeout", detail(message));
  }
  static invalidRequest(message) {
    return new AdapterError("invalid-request", detail(message));
  }
  static other(message) {
    return new AdapterError("other", detail(message));
  }
  /** The provider's answer drifted: `kind` is a `mismatch-kind`, `path` a JSON path into `body`. */
  static schemaMismatch(kind, path, message, body) {
    return new AdapterError("schema-mismatch", { kind, path, detail: detail(message, undefined, body) });
  }
  static missingField(path, body) {
    return AdapterError.schemaMismatch("missing-field", path, `the provider's response has no \`${path}\``, body);
  }
  static streamFormat(path, message, body) {
    return AdapterError.schemaMismatch("stream-format-change", path, message, body);
  }
}

/** An `error-detail`; `body` (string or bytes) is truncated to {@link MAX_ERROR_BODY}. */
export function detail(message, status, body) {
  return {
    message,
    status,
    body: body === undefined ? undefined : truncateBody(body),
  };
}

/** `body` as text of at most MAX_ERROR_BODY bytes, cut on a character boundary. */
export function truncateBody(body) {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  if (bytes.length <= MAX_ERROR_BODY) {
    return typeof body === "string" ? body : new TextDecoder().decode(bytes);
  }
  let end = MAX_ERROR_BODY;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end -= 1; // a UTF-8 continuation byte
  return new TextDecoder().decode(bytes.subarray(0, end)) + "…[truncated]";
}

/**
 * Run `fn`, turning anything it throws into the WIT error value the host expects. Wrap every
 * export that returns `result<_, adapter-error>` with it (`exportProvider` does).
 */
export function toWitError(error) {
  if (error instanceof AdapterError) return error.variant;
  return { tag: "other", val: detail(`the adapter failed: ${error?.stack ?? error}`) };
}

/**
 * The provider's advice on when to retry, in ms: `retry-after-ms` (preferred) or `retry-after`
 * in seconds. HTTP dates are ignored (providers rate-limiting LLM calls send seconds).
 */
export function retryAfterMs(retryAfter, retryAfterMsHeader) {
  const num = (v) => (v === undefined || v === null || v.trim() === "" ? NaN : Number(v.trim()));
  const ms = num(retryAfterMsHeader);
  if (Number.isFinite(ms) && ms >= 0) return BigInt(Math.ceil(ms));
  const secs = num(retryAfter);
  if (Number.isFinite(secs) && secs >= 0) return BigInt(Math.ceil(secs * 1000));
  return undefined;
}

/** The provider's one-line explanation from the usual JSON error shapes, else `undefined`. */
export function providerMessage(body) {
  let value;
  try {
    value = JSON.parse(typeof body === "string" ? body : new TextDecoder().decode(body));
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  const err = value.error;
  let message;
  if (typeof err === "string") message = err;
  else if (err && typeof err.message === "string") message = err.message;
  if (message === undefined && typeof value.message === "string") message = value.message;
  if (message === undefined && typeof value.detail === "string") message = value.detail;
  return message === undefined ? undefined : [...message].slice(0, 300).join("");
}

/**
 * The error for a non-success `status` with `body`. 429 → rate-limited; 401/403 → unauthorized;
 * 400/404/413/422 → invalid-request; 408/504 → timeout; 503/529 → overloaded; anything else →
 * upstream (the status is always in the detail).
 */
export function errorForStatus(status, retryAfter, body) {
  const said = providerMessage(body);
  const message = said === undefined ? `HTTP ${status} from the provider` : `HTTP ${status} from the provider: ${said}`;
  const d = detail(message, status, body);
  switch (status) {
    case 429:
      return new AdapterError("rate-limited", { retryAfterMs: retryAfter, detail: d });
    case 401:
    case 403:
      return new AdapterError("unauthorized", d);
    case 400:
    case 404:
    case 413:
    case 422:
      return new AdapterError("invalid-request", d);
    case 408:
    case 504:
      return new AdapterError("timeout", d);
    case 503:
    case 529:
      return new AdapterError("overloaded", d);
    default:
      return new AdapterError("upstream", d);
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP

function dispose(resource) {
  const drop = resource?.[Symbol.dispose];
  if (typeof drop === "function") drop.call(resource);
}

/** The payload of an error an import threw (componentize-js throws the `err` value itself). */
function payloadOf(e) {
  return e !== null && typeof e === "object" && "payload" in e ? e.payload : e;
}

function describeCode(code) {
  if (code === undefined || code === null) return "unknown";
  if (typeof code !== "object") return String(code);
  const val = code.val;
  if (val === undefined) return code.tag;
  return `${code.tag}(${typeof val === "object" ? JSON.stringify(val, (_, v) => (typeof v === "bigint" ? Number(v) : v)) : val})`;
}

/** A `wasi:http` error code as the adapter error the host acts on. */
function transportError(code, url) {
  const tag = code?.tag ?? "";
  const what = `${url}: ${describeCode(code)}`;
  if (tag.includes("timeout")) return AdapterError.timeout(`the request timed out: ${what}`);
  if (tag === "HTTP-request-denied" || tag === "http-request-denied") {
    return AdapterError.connection(`the host denied the request (the operator has not granted this host): ${what}`);
  }
  return AdapterError.connection(`the request failed: ${what}`);
}

/** `base` joined with `path`, split into scheme, authority and path-with-query. */
export function target(base, path) {
  const match = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]+)([^#]*)$/.exec(base.trim());
  if (!match) throw AdapterError.invalidRequest(`the base URL \`${base}\` is not an absolute http(s) URL`);
  const [, scheme, authority, basePath] = match;
  const joined = `${basePath.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
  return { scheme: scheme.toLowerCase(), authority, pathWithQuery: joined, url: `${scheme}://${authority}${joined}` };
}

/**
 * Send a request below the call's base URL and wait for the response head.
 * `options`: `{ method = "GET", headers = {}, body }` where `body` is a string, bytes, or an
 * object sent as JSON. `authorization` is refused: the host adds the provider's credential.
 * @returns {Response}
 */
export function send(ctx, path, options = {}) {
  const method = (options.method ?? "GET").toLowerCase();
  const headers = Object.entries(options.headers ?? {}).map(([n, v]) => [n.toLowerCase(), String(v)]);
  let body = options.body;
  if (body !== undefined && typeof body !== "string" && !(body instanceof Uint8Array)) {
    body = JSON.stringify(body);
    if (!headers.some(([n]) => n === "content-type")) headers.push(["content-type", "application/json"]);
  }
  const bytes = body === undefined ? new Uint8Array(0) : typeof body === "string" ? encoder.encode(body) : body;
  if (headers.some(([n]) => n === "authorization")) {
    throw AdapterError.other("adapters must not set `authorization`: the host adds the provider's credential");
  }
  if (bytes.length > 0 || method !== "get") headers.push(["content-length", String(bytes.length)]);
  const t = target(ctx.baseUrl, path);

  let fields;
  try {
    fields = Fields.fromList(headers.map(([n, v]) => [n, encoder.encode(v)]));
  } catch (e) {
    throw AdapterError.other(`invalid request header: ${describeCode(payloadOf(e))}`);
  }
  const request = new OutgoingRequest(fields);
  const invalid = (what) => AdapterError.invalidRequest(`invalid ${what} in \`${t.url}\``);
  const attempt = (what, fn) => {
    try {
      fn();
    } catch {
      throw invalid(what);
    }
  };
  attempt("method", () => request.setMethod({ tag: method }));
  const scheme = t.scheme === "http" ? { tag: "HTTP" } : t.scheme === "https" ? { tag: "HTTPS" } : { tag: "other", val: t.scheme };
  attempt("scheme", () => request.setScheme(scheme));
  attempt("authority", () => request.setAuthority(t.authority));
  attempt("path", () => request.setPathWithQuery(t.pathWithQuery));
  const outgoing = request.body();

  let future;
  try {
    future = handle(request, undefined);
  } catch (e) {
    throw transportError(payloadOf(e), t.url);
  }
  let writeError;
  try {
    const stream = outgoing.write();
    for (let at = 0; at < bytes.length; at += WRITE_CHUNK) {
      stream.blockingWriteAndFlush(bytes.subarray(at, at + WRITE_CHUNK));
    }
    dispose(stream);
    OutgoingBody.finish(outgoing, undefined);
  } catch (e) {
    writeError = e;
  }
  // A request the host denies can show up first as a closed body stream: the response future
  // holds the real reason, so it is read before the write error is reported.
  const pollable = future.subscribe();
  pollable.block();
  dispose(pollable);
  const outcome = future.get();
  dispose(future);
  if (outcome === undefined || outcome.tag === "err") {
    throw AdapterError.connection(`${t.url}: the response never arrived`);
  }
  const inner = outcome.val;
  if (inner.tag === "err") throw transportError(inner.val, t.url);
  if (writeError !== undefined) {
    throw AdapterError.connection(`sending the request body to ${t.url} failed: ${describeCode(payloadOf(writeError))}`);
  }
  return new Response(inner.val, t.url);
}

/** A response whose head has arrived; the body is read on demand. */
export class Response {
  constructor(incoming, url) {
    this.url = url;
    this.status = incoming.status();
    const fields = incoming.headers();
    this.headers = new Map();
    const decoder = new TextDecoder();
    for (const [name, value] of fields.entries()) {
      if (!this.headers.has(name)) this.headers.set(name.toLowerCase(), decoder.decode(value));
    }
    dispose(fields);
    this._incoming = incoming;
    this._body = incoming.consume();
    this._stream = this._body.stream();
  }

  /** The first value of header `name`. */
  header(name) {
    return this.headers.get(name.toLowerCase());
  }

  /** The next chunk of the body, `undefined` at its end. */
  readChunk() {
    if (this._stream === undefined) return undefined;
    try {
      const chunk = this._stream.blockingRead(READ_CHUNK);
      return chunk;
    } catch (e) {
      const err = payloadOf(e);
      this.close();
      if (err?.tag === "closed") return undefined;
      throw AdapterError.connection(`reading the response from ${this.url} failed: ${describeCode(err?.val ?? err)}`);
    }
  }

  /** The whole body as bytes. */
  bytes() {
    const chunks = [];
    let size = 0;
    for (let chunk; (chunk = this.readChunk()) !== undefined; ) {
      chunks.push(chunk);
      size += chunk.length;
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  /** The whole body as text (UTF-8, lossy). */
  text() {
    return new TextDecoder().decode(this.bytes());
  }

  /** Throw the classified {@link AdapterError} unless the status is 2xx; returns `this`. */
  errorForStatus() {
    if (this.status >= 200 && this.status < 300) return this;
    const body = this.bytes();
    throw errorForStatus(this.status, retryAfterMs(this.header("retry-after"), this.header("retry-after-ms")), body);
  }

  /** Release the body stream and the response. */
  close() {
    if (this._stream === undefined) return;
    dispose(this._stream);
    this._stream = undefined;
    dispose(this._body);
    dispose(this._incoming);
  }
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events

/**
 * An incremental SSE parser (WHATWG event-stream rules: `data:` lines joined with `\n`,
 * `event:`, `id:`, `retry:`, comments, CRLF/LF/CR endings, a leading BOM, events split across
 * chunks). Fields the spec ignores are kept in `fields` and an event made only of them is still
 * dispatched: llama.cpp reports mid-stream failures as a bare `error: {...}` line.
 */
export class SseParser {
  constructor() {
    this._decoder = new TextDecoder("utf-8", { fatal: false });
    this._line = "";
    this._afterCr = false;
    this._first = true;
    this._data = "";
    this._hasData = false;
    this._event = "";
    this._lastId = "";
    this._retry = undefined;
    this._fields = [];
  }

  /**
   * Feed the next bytes (or text); returns the events completed by them:
   * `{ event, data, id, retry, fields: [[name, value]] }`.
   */
  push(chunk) {
    let text = typeof chunk === "string" ? chunk : this._decoder.decode(chunk, { stream: true });
    const out = [];
    if (this._afterCr) {
      this._afterCr = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this._line += text.slice(start, i);
      this._processLine(this._line, out);
      this._line = "";
      if (c === 13) {
        if (i + 1 === text.length) this._afterCr = true;
        else if (text.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
    }
    this._line += text.slice(start);
    return out;
  }

  /** Whether the stream stopped in the middle of an event (the spec discards it). */
  hasPartialEvent() {
    return this._line !== "" || this._hasData || this._fields.length > 0 || this._event !== "";
  }

  _processLine(raw, out) {
    let line = raw;
    if (this._first) {
      this._first = false;
      if (line.startsWith("\ufeff")) line = line.slice(1);
    }
    if (line === "") return this._dispatch(out);
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    switch (name) {
      case "event":
        this._event = value;
        break;
      case "data":
        this._data = this._hasData ? `${this._data}\n${value}` : value;
        this._hasData = true;
        break;
      case "id":
        if (!value.includes("\0")) this._lastId = value;
        break;
      case "retry":
        if (/^[0-9]+$/.test(value)) this._retry = Number(value);
        break;
      default:
        this._fields.push([name, value]);
    }
  }

  _dispatch(out) {
    const event = this._event;
    const retry = this._retry;
    this._event = "";
    this._retry = undefined;
    if (!this._hasData && this._fields.length === 0) return;
    out.push({ event: event || "message", data: this._data, id: this._lastId, retry, fields: this._fields });
    this._data = "";
    this._hasData = false;
    this._fields = [];
  }
}

// ---------------------------------------------------------------------------------------------
// Exporting

/**
 * The `provider` export for `adapter`, an object with the WIT functions in camelCase
 * (`describe`, `chat`, `chatStream`, `embed`, `convertMessages`, `convertTools`, `parseTools`,
 * `getModels`, `healthCheck`). `chatStream` returns an iterator (or array) of `stream-event`
 * values; it is wrapped in the `chat-events` resource here. Missing operations answer
 * `unsupported`; anything thrown becomes an `adapter-error` (non-`AdapterError`s as `other`).
 */
export function exportProvider(adapter) {
  const guarded = (name) => (...args) => {
    if (typeof adapter[name] !== "function") throw { tag: "unsupported", val: detail(`this adapter does not support \`${name}\``) };
    try {
      return adapter[name](...args);
    } catch (e) {
      throw toWitError(e);
    }
  };
  class ChatEvents {
    constructor(events) {
      this._events = events[Symbol.iterator]();
      this._done = false;
    }
    next() {
      if (this._done) return undefined;
      let step;
      try {
        step = this._events.next();
      } catch (e) {
        this._done = true;
        return { tag: "error", val: toWitError(e) };
      }
      if (step.done) {
        this._done = true;
        return undefined;
      }
      if (step.value.tag === "stop" || step.value.tag === "error") this._done = true;
      return step.value;
    }
  }
  const chatStream = guarded("chatStream");
  return {
    ChatEvents,
    describe: () => adapter.describe(),
    chat: guarded("chat"),
    chatStream: (ctx, request) => new ChatEvents(chatStream(ctx, request)),
    embed: guarded("embed"),
    convertMessages: guarded("convertMessages"),
    convertTools: guarded("convertTools"),
    parseTools: guarded("parseTools"),
    getModels: guarded("getModels"),
    healthCheck: guarded("healthCheck"),
  };
}
