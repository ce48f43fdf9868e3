//! Translation time inside each built-in adapter: a typical tool-using conversation (system
//! prompt, user turn, assistant tool call, tool result, two tools) converted to the provider's
//! native messages and tools by the component itself (`convert-messages` + `convert-tools`),
//! each in a fresh sandboxed instance exactly as a request would be (made ahead of time, as an
//! idle `aratta serve` worker makes it; the teardown and the next instance happen between
//! calls, untimed). No network.
//!
//! The baseline, in the same process and the same instances' lifecycle, is the smallest request
//! (one user message, no tools): what a call costs before there is anything to translate. The
//! difference between the two medians is the translation itself.
//!
//! `cargo bench --bench translate`. Reports per adapter the median and p90 of the tool-using
//! request, the baseline's median, the difference, and the ratio to the baseline.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aratta_host::runtime::bindings::chat as wit;
use aratta_host::runtime::outbound::{Grant, Outbound};
use aratta_host::runtime::{Runtime, SandboxLimits};

const ROUNDS: usize = 2_000;

fn conversation() -> (Vec<wit::Message>, Vec<wit::Tool>) {
    let text = |role, t: &str| wit::Message {
        role,
        content: wit::MessageContent::Text(t.into()),
        name: None,
    };
    let messages = vec![
        text(wit::Role::System, "You are a concise travel assistant."),
        text(
            wit::Role::User,
            "What's the weather in Paris, and what should I wear?",
        ),
        wit::Message {
            role: wit::Role::Assistant,
            content: wit::MessageContent::Blocks(vec![wit::ContentBlock::ToolUse(wit::ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris","unit":"celsius"}"#.into(),
                signature: None,
            })]),
            name: None,
        },
        wit::Message {
            role: wit::Role::Tool,
            content: wit::MessageContent::Blocks(vec![wit::ContentBlock::ToolResult(
                wit::ToolResult {
                    tool_call_id: "call_1".into(),
                    name: Some("get_weather".into()),
                    content: vec![wit::ToolResultPart::Text(
                        r#"{"temp":14,"sky":"light rain"}"#.into(),
                    )],
                    is_error: false,
                },
            )]),
            name: None,
        },
    ];
    let tools = vec![
        wit::Tool {
            name: "get_weather".into(),
            description: Some("Current weather for a city".into()),
            parameters: r#"{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["city"]}"#.into(),
        },
        wit::Tool {
            name: "search_flights".into(),
            description: Some("Flights between two airports on a date".into()),
            parameters: r#"{"type":"object","properties":{"from":{"type":"string"},"to":{"type":"string"},"date":{"type":"string","format":"date"},"passengers":{"type":"array","items":{"type":"object","properties":{"age":{"type":"integer"}}}}},"required":["from","to","date"]}"#.into(),
        },
    ];
    (messages, tools)
}

/// The smallest request: one user message, no tools.
fn minimal() -> Vec<wit::Message> {
    vec![wit::Message {
        role: wit::Role::User,
        content: wit::MessageContent::Text("hi".into()),
        name: None,
    }]
}

/// Lets the runtime finish what a call leaves behind (its store's teardown, the next spare
/// instance), outside the timed region, as an idle server worker does between requests.
async fn settle() {
    for _ in 0..8 {
        tokio::task::yield_now().await;
    }
}

/// `ROUNDS` timings of `convert-messages` + `convert-tools`, sorted.
async fn time(
    env: &aratta_host::runtime::CallEnv,
    messages: &[wit::Message],
    tools: &[wit::Tool],
) -> Vec<Duration> {
    let mut times = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t0 = Instant::now();
        env.convert_messages(messages)
            .await
            .expect("convert-messages");
        let converting_messages = t0.elapsed();
        settle().await;
        let t1 = Instant::now();
        env.convert_tools(tools).await.expect("convert-tools");
        times.push(converting_messages + t1.elapsed());
        settle().await;
    }
    times.sort();
    times
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// One thread, as each of `aratta serve`'s workers runs.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("translate benchmark: run it with `cargo bench --bench translate`");
        return;
    }
    let limits = SandboxLimits {
        memory_bytes: 64 << 20,
        fuel: 5_000_000_000,
        max_instances: 1000,
    };
    let runtime =
        Runtime::new(limits, None, Outbound::new(Duration::from_secs(1))).expect("runtime");
    let empty = std::env::temp_dir().join("aratta-translate-bench-no-adapters");
    runtime.load_all(&empty).await;
    let (messages, tools) = conversation();
    let small = minimal();
    let mut rows = Vec::new();
    for (name, adapter) in runtime.adapters().iter() {
        let grant = Arc::new(Grant {
            provider: name.clone(),
            origins: Vec::new(),
            credential: None,
            timeout: Duration::from_secs(1),
        });
        let env = runtime.call_env(adapter.clone(), grant);
        for _ in 0..50 {
            env.convert_messages(&messages)
                .await
                .expect("convert-messages");
            settle().await;
        }
        // Interleaved halves, so drift in the machine's speed touches both alike.
        let mut full = Vec::with_capacity(ROUNDS * 2);
        let mut base = Vec::with_capacity(ROUNDS * 2);
        for _ in 0..2 {
            full.extend(time(&env, &messages, &tools).await);
            base.extend(time(&env, &small, &[]).await);
        }
        full.sort();
        base.sort();
        rows.push((
            name.clone(),
            percentile(&full, 0.5),
            percentile(&full, 0.9),
            percentile(&base, 0.5),
        ));
    }
    println!(
        "\ntranslation inside the component: a tool-using request (system, user, tool call, tool \
         result, two tools) vs the smallest one (one user message), convert-messages + \
         convert-tools, fresh (pre-made) instance each, {} rounds each",
        ROUNDS * 2
    );
    println!(
        "{:<10} {:>10} {:>10} {:>10} {:>12} {:>7}",
        "adapter", "median", "p90", "baseline", "translation", "ratio"
    );
    for (name, p50, p90, base) in rows {
        let us = |d: Duration| d.as_secs_f64() * 1e6;
        println!(
            "{:<10} {:>8.1}µs {:>8.1}µs {:>8.1}µs {:>10.1}µs {:>6.2}x",
            name,
            us(p50),
            us(p90),
            us(base),
            us(p50) - us(base),
            p50.as_secs_f64() / base.as_secs_f64().max(1e-9)
        );
    }
}
