//! A misbehaving adapter, used only by Aratta's sandbox tests.
//!
//! It describes itself as `misbehaving` with the credential in the `x-test-key` header, and its
//! `chat` misbehaves according to the request's model:
//!
//! | model            | what it does                                                            |
//! |------------------|-------------------------------------------------------------------------|
//! | `panic`          | panics                                                                  |
//! | `spin`           | loops forever (the host's CPU budget must stop it)                      |
//! | `alloc`          | allocates until the memory limit stops it                               |
//! | `exfiltrate`     | GETs the URL in `extra` (`{"url": "...", "headers": [["name", "value"]], "follow": true}`) with raw `wasi:http`, setting those headers and following one redirect when asked; answers with the error it got or the body if it got through |
//! | `echo-headers`   | GETs `{base_url}/echo` and answers with that body plus the environment it can see |
//! | `flood-resources`| creates `wasi:http` fields with a 1 KiB header each and keeps them all, without end |
//! | `flood-headers`  | appends 1 KiB headers to one fields until the host refuses (a trap), or says after how many bytes it got an error |
//! | `sleep`          | blocks in a WASI sleep for an hour (the host's wall-clock deadline must stop it) |
//! | `sleep-stream`   | (`chat-stream` only) opens the stream, sends `start`, then sleeps in the next event |
//! | `deep-args`      | (`chat` only) answers a tool call whose arguments nest 10,000 deep |
//! | `huge-text`      | (`chat` only) answers 40 MB of text                                      |
//! | `start`          | (`request-at-start` only) answers what its start function's requests got |
//! | anything else    | answers `ok`                                                            |
//!
//! `chat-stream` does the same, then replays the answer as stream events.
//!
//! `get-models` answers one model, `ok`, unless the provider's base URL ends in `/sleep`: then
//! it sleeps for an hour.
//!
//! Features build variants that declare something else in `describe`, or (`sleep-in-describe`)
//! sleep there for an hour, or (`request-at-start`) make requests when instantiated, reported
//! in `describe`'s description and by the `start` model (see `Cargo.toml` and `at_start.rs`).

use aratta_guest::http::Request;
use aratta_guest::{
    Adapter, AdapterError, AdapterInfo, AuthScheme, BoxEventStream, CallContext, ChatRequest,
    ChatResponse, ContentBlock, ToolCall, EventStream, FinishReason, ModelCapabilities, ModelInfo,
    StreamEvent, StreamStart, VecEventStream,
};

#[cfg(feature = "request-at-start")]
mod at_start;

struct Misbehaving;

impl Adapter for Misbehaving {
    fn describe() -> AdapterInfo {
        #[cfg(feature = "sleep-in-describe")]
        sleep(3_600);
        let default_base_url = if cfg!(feature = "declare-loopback") {
            "http://127.0.0.1:47913/v1"
        } else if cfg!(feature = "local-declaration") {
            "http://127.0.0.1:11434/v1"
        } else {
            "http://127.0.0.1:9/v1"
        };
        let (name, auth) = if cfg!(feature = "as-local") {
            ("local", AuthScheme::None)
        } else {
            ("misbehaving", AuthScheme::Header("x-test-key".into()))
        };
        AdapterInfo {
            name: name.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: description(),
            default_base_url: default_base_url.into(),
            extra_hosts: vec![],
            auth,
        }
    }

    fn chat(ctx: CallContext, request: ChatRequest) -> Result<ChatResponse, AdapterError> {
        let content = match request.model.as_str() {
            // Tool arguments nested 10,000 deep: more than any JSON reader should recurse into.
            "deep-args" => ContentBlock::ToolUse(ToolCall {
                id: "call_deep".into(),
                name: "deep".into(),
                arguments: format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
                signature: None,
            }),
            // 40 MB of text in one answer: most of the adapter's 64 MiB memory.
            "huge-text" => ContentBlock::Text("a".repeat(40 << 20)),
            _ => ContentBlock::Text(misbehave(&ctx, &request)?),
        };
        Ok(ChatResponse {
            id: format!("misbehaving-{}", ctx.request_id),
            model: request.model,
            content: vec![content],
            finish_reason: FinishReason::Stop,
            usage: None,
        })
    }

    fn chat_stream(ctx: CallContext, request: ChatRequest) -> Result<BoxEventStream, AdapterError> {
        if request.model == "sleep-stream" {
            return Ok(Box::new(SleepyStream {
                start: Some(StreamStart {
                    id: format!("misbehaving-{}", ctx.request_id),
                    model: request.model,
                }),
            }));
        }
        let text = misbehave(&ctx, &request)?;
        Ok(Box::new(VecEventStream::new(vec![
            StreamEvent::Start(StreamStart {
                id: format!("misbehaving-{}", ctx.request_id),
                model: request.model,
            }),
            StreamEvent::TextDelta(text),
            StreamEvent::Stop(FinishReason::Stop),
        ])))
    }

    fn get_models(ctx: CallContext) -> Result<Vec<ModelInfo>, AdapterError> {
        if ctx.base_url.ends_with("/sleep") {
            sleep_an_hour();
        }
        Ok(vec![ModelInfo {
            id: "ok".into(),
            owned_by: None,
            created: None,
            capabilities: ModelCapabilities {
                context_window: None,
                max_output_tokens: None,
                tools: false,
                vision: false,
                streaming: true,
                embeddings: false,
                reasoning: false,
            },
        }])
    }
}

aratta_guest::export_adapter!(Misbehaving);

/// What `describe` says about the adapter: with `request-at-start`, what the start function's
/// requests got when this instance was made.
fn description() -> String {
    let description = "Test adapter that attacks the sandbox";
    #[cfg(feature = "request-at-start")]
    let description = format!("{description}; at start: {}", at_start::outcome());
    description.into()
}

/// A stream that starts, then sleeps in its next event.
struct SleepyStream {
    start: Option<StreamStart>,
}

impl EventStream for SleepyStream {
    fn next(&mut self) -> Option<StreamEvent> {
        match self.start.take() {
            Some(start) => Some(StreamEvent::Start(start)),
            None => sleep_an_hour(),
        }
    }
}

/// Blocks in `wasi:clocks` for `seconds`: a host call that waits, burning no fuel.
fn sleep(seconds: u64) {
    wasip2::clocks::monotonic_clock::subscribe_duration(seconds * 1_000_000_000).block();
}

/// Sleeps for an hour, then panics: nobody stopped it.
fn sleep_an_hour() -> ! {
    sleep(3_600);
    panic!("misbehaving adapter: slept for an hour and nobody stopped it");
}

/// Does what the model asks and returns the answer text.
fn misbehave(ctx: &CallContext, request: &ChatRequest) -> Result<String, AdapterError> {
    match request.model.as_str() {
        "panic" => panic!("misbehaving adapter: panicking on purpose"),
        "spin" => spin(),
        "alloc" => allocate_forever(),
        "sleep" => sleep_an_hour(),
        "exfiltrate" => {
            let extra: serde_json::Value = request
                .extra
                .as_deref()
                .and_then(|e| serde_json::from_str(e).ok())
                .unwrap_or_default();
            let url = extra["url"].as_str().ok_or_else(|| {
                AdapterError::invalid_request("exfiltrate needs extra = {\"url\": \"...\"}")
            })?;
            let headers: Vec<(String, String)> = extra["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| Some((h[0].as_str()?.to_owned(), h[1].as_str()?.to_owned())))
                .collect();
            let first = raw_get(url, &headers);
            let result = match first {
                Ok((status, Some(location), _)) if extra["follow"] == true && status / 100 == 3 => {
                    raw_get(&location, &headers)
                        .map(|(s, _, body)| (s, None, format!("followed {status} to {location}: {body}")))
                        .map_err(|e| format!("followed {status} to {location}: {e}"))
                }
                other => other,
            };
            Ok(match result {
                Ok((status, _, body)) => format!("exfiltrate: got through: {status}: {body}"),
                Err(error) => format!("exfiltrate: request failed: {error}"),
            })
        }
        "echo-headers" => {
            let echo = Request::get(ctx, "/echo")
                .send()?
                .error_for_status()?
                .bytes()?;
            let echo: serde_json::Value = serde_json::from_slice(&echo)
                .map_err(|e| AdapterError::other(format!("echo answer is not JSON: {e}")))?;
            let env: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
            Ok(serde_json::json!({"echo": echo, "env": env}).to_string())
        }
        "flood-resources" => flood_resources(),
        "flood-headers" => Ok(flood_headers()),
        #[cfg(feature = "request-at-start")]
        "start" => Ok(at_start::outcome().to_owned()),
        _ => Ok("ok".into()),
    }
}

/// Creates header maps without end, each holding a 1 KiB header, and never drops one: host
/// memory, not the guest's, unless the host bounds its resource table.
fn flood_resources() -> ! {
    let value = vec![b'a'; 1024];
    let mut hoard = Vec::new();
    loop {
        let fields = wasip2::http::types::Fields::new();
        let _ = fields.append("x-flood", &value);
        hoard.push(std::hint::black_box(fields));
    }
}

/// Appends distinct 1 KiB headers to one header map until the host refuses one.
fn flood_headers() -> String {
    let fields = wasip2::http::types::Fields::new();
    let value = vec![b'a'; 1024];
    let mut bytes = 0usize;
    for i in 0..1_000_000u32 {
        match fields.append(&format!("x-flood-{i}"), &value) {
            Ok(()) => bytes += value.len(),
            Err(e) => return format!("flood-headers: refused after {bytes} bytes: {e:?}"),
        }
    }
    format!("flood-headers: never refused ({bytes} bytes)")
}

/// Burns CPU forever without being optimised away.
fn spin() -> ! {
    let mut x: u64 = 0;
    loop {
        x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
    }
}

/// Allocates and touches 1 MiB blocks until the allocator fails (which aborts: a trap).
fn allocate_forever() -> ! {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; 1 << 20];
        block[0] = hoard.len() as u8;
        hoard.push(std::hint::black_box(block));
    }
}

/// What a raw GET got: the status, its `location` header, and the body.
type RawAnswer = (u16, Option<String>, String);

/// A GET of `url` with raw `wasi:http` and `headers` set by the adapter itself, or the error
/// code the host returned (a header the host forbids is an error too).
fn raw_get(url: &str, headers: &[(String, String)]) -> Result<RawAnswer, String> {
    use wasip2::http::outgoing_handler;
    use wasip2::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

    let (scheme, rest) = url.split_once("://").ok_or("the URL has no scheme")?;
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
    let fields = Fields::new();
    for (name, value) in headers {
        fields
            .append(name, value.as_bytes())
            .map_err(|e| format!("setting header {name} refused: {e:?}"))?;
    }
    let request = OutgoingRequest::new(fields);
    request
        .set_method(&Method::Get)
        .map_err(|()| "bad method")?;
    let scheme = if scheme == "https" {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| "bad scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|()| "bad authority")?;
    request
        .set_path_with_query(Some(path))
        .map_err(|()| "bad path")?;
    let body = request.body().map_err(|()| "no request body")?;
    let future = outgoing_handler::handle(request, None).map_err(|code| format!("{code:?}"))?;
    // A denied request may fail here first; the response future says why.
    let _ = OutgoingBody::finish(body, None);
    let response = loop {
        match future.get() {
            Some(Ok(Ok(response))) => break response,
            Some(Ok(Err(code))) => return Err(format!("{code:?}")),
            Some(Err(())) => return Err("the response future failed".into()),
            None => future.subscribe().block(),
        }
    };
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .first()
        .map(|v| String::from_utf8_lossy(v).into_owned());
    let incoming = response.consume().map_err(|()| "no response body")?;
    let stream = incoming.stream().map_err(|()| "no body stream")?;
    let mut bytes = Vec::new();
    while let Ok(chunk) = stream.blocking_read(64 * 1024) {
        bytes.extend(chunk);
    }
    Ok((status, location, String::from_utf8_lossy(&bytes).into_owned()))
}
