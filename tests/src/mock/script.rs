//! What the mock upstream does with each request: a [`Behaviour`] chosen by a [`Script`].
//!
//! The choice, in order: the next queued behaviour (chat and embedding requests only, so a health
//! probe of `/v1/models` never eats a queued answer), then the behaviour registered for the request's
//! `model`, then the script's default.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// How the mock answers one request. Every behaviour answers on any route; "normal" means the
/// route's ordinary answer (a chat completion, an embedding list, the model list).
#[derive(Clone, Debug, PartialEq)]
pub enum Behaviour {
    /// The route's ordinary answer. Chat: a text answer, streamed when the request says `stream`.
    Normal,
    /// Chat: one tool call. Streamed OpenAI/vLLM style: id and name first, then argument fragments.
    ToolCall,
    /// Chat: two tool calls in one turn (indexes 0 and 1), streamed OpenAI style.
    ParallelToolCalls,
    /// Chat: one tool call, streamed Ollama style: the whole call in one chunk.
    OllamaToolCall,
    /// Chat: one tool call without an `id` (llama.cpp), streamed or not.
    ToolCallWithoutId,
    /// Chat: reasoning in the `reasoning` field (vLLM, Ollama), then the answer.
    Reasoning,
    /// An HTTP error with the real OpenAI error body for that status (400, 401, 404, 429, 500 or
    /// 503; other statuses reuse the 500 body). 429 carries `retry-after: 20`.
    Error(u16),
    /// Wait this long before answering normally (longer than a gateway's timeout, typically).
    Delay(Duration),
    /// Chat: start answering, then drop the connection mid-way: half the stream with no
    /// `finish_reason` and no `[DONE]`, or half a JSON body when not streaming.
    CutMidway,
    /// Chat, streamed: half the stream, then a clean end of the HTTP body without `finish_reason`
    /// or `[DONE]` (a server that gave up without saying so).
    EndEarly,
    /// `200 OK` with an HTML page instead of JSON.
    Garbage,
    /// `200 OK` with a `chat.completion` that has no `choices`.
    MissingChoices,
}

/// Which behaviour answers which request. Build one with [`Script::new`] and the `with_*`
/// methods; the default behaviour is [`Behaviour::Normal`].
#[derive(Clone, Debug)]
pub struct Script {
    pub(crate) default: Behaviour,
    pub(crate) by_model: HashMap<String, Behaviour>,
    pub(crate) queue: VecDeque<Behaviour>,
    pub(crate) chunk_delay: Duration,
}

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}

impl Script {
    /// A script that answers every request normally.
    pub fn new() -> Self {
        Script {
            default: Behaviour::Normal,
            by_model: HashMap::new(),
            queue: VecDeque::new(),
            chunk_delay: Duration::from_millis(1),
        }
    }

    /// A script whose default is `behaviour` (it applies to every route, `/v1/models` included).
    pub fn always(behaviour: Behaviour) -> Self {
        Self::new().with_default(behaviour)
    }

    /// Sets the behaviour for requests that match no queued item and no model rule.
    pub fn with_default(mut self, behaviour: Behaviour) -> Self {
        self.default = behaviour;
        self
    }

    /// Answers requests whose JSON `model` equals `model` with `behaviour`.
    pub fn with_model(mut self, model: &str, behaviour: Behaviour) -> Self {
        self.by_model.insert(model.to_string(), behaviour);
        self
    }

    /// Queues behaviours for the next chat or embedding requests, one each, in order.
    pub fn with_queue(mut self, behaviours: impl IntoIterator<Item = Behaviour>) -> Self {
        self.queue.extend(behaviours);
        self
    }

    /// Sets the pause between two streamed events (default 1 ms, so events arrive as separate reads).
    pub fn with_chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Picks the behaviour for one request and consumes a queued item when one applies.
    pub(crate) fn choose(&mut self, takes_queue: bool, model: Option<&str>) -> Behaviour {
        if takes_queue && let Some(next) = self.queue.pop_front() {
            return next;
        }
        model
            .and_then(|m| self.by_model.get(m).cloned())
            .unwrap_or_else(|| self.default.clone())
    }
}
