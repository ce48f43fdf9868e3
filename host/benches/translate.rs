//! Translation time inside each built-in adapter: a typical tool-using conversation (system
//! prompt, user turn, assistant tool call, tool result, two tools) converted to the provider's
//! native messages and tools by the component itself (`convert-messages` + `convert-tools`),
//! each in a fresh sandboxed instance exactly as a request would be. No network.
//!
//! `cargo bench --bench translate`. Reports the median and p90 per adapter, and the ratio to
//! the cheapest adapter in the same run.

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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("translate benchmark: run it with `cargo bench --bench translate`");
        return;
    }
    let limits = SandboxLimits {
        memory_bytes: 64 << 20,
        fuel: 5_000_000_000,
        max_instances: 16,
    };
    let runtime =
        Runtime::new(limits, None, Outbound::new(Duration::from_secs(1))).expect("runtime");
    let empty = std::env::temp_dir().join("aratta-translate-bench-no-adapters");
    runtime.load_all(&empty).await;
    let (messages, tools) = conversation();
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
        }
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let t0 = Instant::now();
            env.convert_messages(&messages)
                .await
                .expect("convert-messages");
            env.convert_tools(&tools).await.expect("convert-tools");
            times.push(t0.elapsed());
        }
        times.sort();
        rows.push((
            name.clone(),
            percentile(&times, 0.5),
            percentile(&times, 0.9),
        ));
    }
    let fastest = rows
        .iter()
        .map(|r| r.1)
        .min()
        .unwrap_or_default()
        .max(Duration::from_nanos(1));
    println!(
        "\ntranslation inside the component (convert-messages + convert-tools, fresh instance each), {ROUNDS} rounds"
    );
    println!(
        "{:<10} {:>10} {:>10} {:>8}",
        "adapter", "median", "p90", "ratio"
    );
    for (name, p50, p90) in rows {
        println!(
            "{:<10} {:>8.1}µs {:>8.1}µs {:>7.2}x",
            name,
            p50.as_secs_f64() * 1e6,
            p90.as_secs_f64() * 1e6,
            p50.as_secs_f64() / fastest.as_secs_f64()
        );
    }
}
