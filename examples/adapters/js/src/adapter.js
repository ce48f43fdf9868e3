// An Aratta adapter for OpenAI-compatible servers (Ollama, vLLM, llama.cpp's llama-server),
// written in JavaScript. Build it with `aratta adapter build .`; see docs/adapters/js.md.
//
// `aratta-adapter` is the helper module the build provides (a copy in node_modules wins):
// HTTP over wasi:http, SSE, error mapping, and the OpenAI Chat Completions wire format.

import { exportProvider } from "aratta-adapter";
import * as openai from "aratta-adapter/openai";

/** What local servers understand: `system` for developer messages, `max_tokens`, `top_k`. */
const DIALECT = openai.LOCAL;

export const provider = exportProvider({
  describe: () => ({
    name: "openai-compatible-js",
    version: "0.1.0",
    description: "OpenAI-compatible servers (Ollama, vLLM, llama.cpp), in JavaScript",
    defaultBaseUrl: "http://127.0.0.1:11434/v1",
    extraHosts: [],
    // Local servers need no key; the host may still add an optional bearer key.
    auth: { tag: "none" },
  }),
  chat: (ctx, request) => openai.chat(ctx, request, DIALECT),
  chatStream: (ctx, request) => openai.chatStream(ctx, request, DIALECT),
  embed: (ctx, request) => openai.embed(ctx, request),
  convertMessages: (messages) => JSON.stringify(openai.messages(messages, DIALECT)),
  convertTools: (tools) => openai.toolsJson(tools),
  parseTools: (native) => openai.parseTools(native),
  getModels: (ctx) => openai.models(ctx),
  healthCheck: (ctx) => openai.healthCheck(ctx),
});
