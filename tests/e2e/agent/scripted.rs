//! A scripted model upstream for the agent tests: it answers each chat request with the next
//! turn of a script — tool calls or a final text — in a provider's real wire format (OpenAI
//! Chat Completions or Anthropic Messages, non-streaming), and records every request body so a
//! test can check what the agent sent back (tool results, errors).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

/// The wire format the mock speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wire {
    /// OpenAI Chat Completions (`local`, `openai`, `xai` adapters).
    OpenAi,
    /// Anthropic Messages (`anthropic` adapter).
    Anthropic,
}

/// One model turn.
#[derive(Clone, Debug)]
pub enum Turn {
    /// Some text, then these tool calls `(name, arguments)`.
    Calls(Option<&'static str>, Vec<(&'static str, Value)>),
    /// The final answer.
    Answer(&'static str),
}

struct Shared {
    wire: Wire,
    turns: Mutex<VecDeque<Turn>>,
    /// Answered when the script is used up (a looping model repeats its last turn).
    repeat: Option<Turn>,
    bodies: Mutex<Vec<Value>>,
    count: Mutex<u32>,
}

/// A running scripted upstream.
pub struct Scripted {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl Scripted {
    /// Serve `turns` in order in `wire` format; with `repeat`, answer it forever after.
    pub async fn start(wire: Wire, turns: Vec<Turn>, repeat: Option<Turn>) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            wire,
            turns: Mutex::new(turns.into()),
            repeat,
            bodies: Mutex::new(Vec::new()),
            count: Mutex::new(0),
        });
        let serving = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let shared = serving.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| answer(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Scripted { addr, shared }
    }

    /// The provider `base_url` for this wire (OpenAI-compatible ones include `/v1`).
    pub fn base_url(&self) -> String {
        match self.shared.wire {
            Wire::OpenAi => format!("http://{}/v1", self.addr),
            Wire::Anthropic => format!("http://{}", self.addr),
        }
    }

    /// Every chat request body received, in order.
    pub fn bodies(&self) -> Vec<Value> {
        self.shared.bodies.lock().unwrap().clone()
    }
}

async fn answer(
    shared: Arc<Shared>,
    req: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let chat_path = match shared.wire {
        Wire::OpenAi => "/v1/chat/completions",
        Wire::Anthropic => "/v1/messages",
    };
    if path != chat_path {
        return Ok(json_response(
            404,
            json!({"error": {"message": format!("no route {path}")}}),
        ));
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.bodies.lock().unwrap().push(body.clone());
    let n = {
        let mut count = shared.count.lock().unwrap();
        *count += 1;
        *count
    };
    let turn = shared
        .turns
        .lock()
        .unwrap()
        .pop_front()
        .or_else(|| shared.repeat.clone())
        .unwrap_or(Turn::Answer("(script exhausted)"));
    let model = body["model"].as_str().unwrap_or("m").to_string();
    let reply = match shared.wire {
        Wire::OpenAi => openai(n, &model, &turn),
        Wire::Anthropic => anthropic(n, &model, &turn),
    };
    Ok(json_response(200, reply))
}

fn openai(n: u32, model: &str, turn: &Turn) -> Value {
    let (message, finish) = match turn {
        Turn::Answer(text) => (json!({"role": "assistant", "content": text}), "stop"),
        Turn::Calls(text, calls) => {
            let tool_calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(i, (name, args))| {
                    json!({"id": format!("call_{n}_{i}"), "type": "function",
                           "function": {"name": name, "arguments": args.to_string()}})
                })
                .collect();
            (
                json!({"role": "assistant", "content": text, "tool_calls": tool_calls}),
                "tool_calls",
            )
        }
    };
    json!({
        "id": format!("chatcmpl-{n}"), "object": "chat.completion", "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 5, "total_tokens": 25}
    })
}

fn anthropic(n: u32, model: &str, turn: &Turn) -> Value {
    let (content, stop) = match turn {
        Turn::Answer(text) => (vec![json!({"type": "text", "text": text})], "end_turn"),
        Turn::Calls(text, calls) => {
            let mut blocks: Vec<Value> = text
                .iter()
                .map(|t| json!({"type": "text", "text": t}))
                .collect();
            blocks.extend(calls.iter().enumerate().map(|(i, (name, args))| {
                json!({"type": "tool_use", "id": format!("toolu_{n}_{i}"), "name": name, "input": args})
            }));
            (blocks, "tool_use")
        }
    };
    json!({
        "id": format!("msg_{n}"), "type": "message", "role": "assistant", "model": model,
        "content": content, "stop_reason": stop, "stop_sequence": null,
        "usage": {"input_tokens": 20, "output_tokens": 5}
    })
}

fn json_response(status: u16, body: Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}
