//! A finished heal cycle as a trace: a span for the cycle from trigger to decision, and under
//! it a span per phase (diagnose, research, fix, build, verify, decide) at the times the
//! cycle recorded, with what each produced in brief: the model called, the URLs research
//! cited, the component built, the decision. Prompts and model answers stay in the cycle's
//! record (`GET /api/v1/heal/cycles/{id}`), not on spans.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::trace::{SpanKind, Status, TraceContextExt, Tracer};
use opentelemetry::{Array, Context, KeyValue, StringValue, Value};

use super::cycle::{Cycle, CycleStatus, Phase};
use crate::traces::Traces;

fn at(ms: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms)
}

/// Export `cycle` (ended) as a trace of its phases.
pub(super) fn export(traces: &Traces, cycle: &Cycle) {
    let tracer = traces.tracer();
    let end_ms = cycle.finished_at_ms.unwrap_or(cycle.started_at_ms);
    let mut attributes = vec![
        KeyValue::new("aratta.heal.cycle.id", cycle.id.clone()),
        KeyValue::new("aratta.heal.adapter", cycle.adapter.clone()),
        KeyValue::new("aratta.heal.adapter.version", cycle.adapter_version.clone()),
        KeyValue::new("aratta.provider", cycle.provider.clone()),
        KeyValue::new("aratta.heal.class", cycle.class.clone()),
        KeyValue::new("aratta.heal.started_by", cycle.started_by.clone()),
        KeyValue::new("aratta.heal.outcome", cycle.status.as_str()),
        KeyValue::new("aratta.heal.summary", cycle.summary.clone()),
    ];
    if let Some(decision) = &cycle.decision {
        attributes.push(KeyValue::new(
            "aratta.heal.decision",
            decision.action.clone(),
        ));
        if let Some(id) = &decision.approval_id {
            attributes.push(KeyValue::new("aratta.heal.approval_id", id.clone()));
        }
    }
    let root = tracer
        .span_builder(format!("heal {}", cycle.adapter))
        .with_kind(SpanKind::Internal)
        .with_start_time(at(cycle.started_at_ms))
        .with_attributes(attributes)
        .start_with_context(tracer, &Context::new());
    let cx = Context::new().with_span(root);
    for phase in &cycle.phases {
        let span = tracer
            .span_builder(format!("heal.{}", phase.name))
            .with_kind(SpanKind::Internal)
            .with_start_time(at(phase.started_at_ms))
            .with_attributes(phase_attributes(cycle, phase))
            .start_with_context(tracer, &cx);
        let phase_cx = Context::new().with_span(span);
        if phase.outcome == "failed" {
            phase_cx
                .span()
                .set_status(Status::error(format!("{} failed", phase.name)));
        }
        phase_cx
            .span()
            .end_with_timestamp(at(phase.started_at_ms + phase.duration_ms));
    }
    if matches!(cycle.status, CycleStatus::Failed | CycleStatus::Interrupted) {
        cx.span().set_status(Status::error(cycle.summary.clone()));
    }
    cx.span().end_with_timestamp(at(end_ms));
}

/// What a phase's span says about it.
fn phase_attributes(cycle: &Cycle, phase: &Phase) -> Vec<KeyValue> {
    let mut attributes = vec![KeyValue::new(
        "aratta.heal.phase.outcome",
        phase.outcome.clone(),
    )];
    if let Some(model) = &phase.model {
        attributes.push(KeyValue::new("gen_ai.request.model", model.clone()));
    }
    if let Some(bytes) = phase.input_bytes {
        attributes.push(KeyValue::new(
            "aratta.heal.phase.input_bytes",
            i64::try_from(bytes).unwrap_or(i64::MAX),
        ));
    }
    match phase.name.as_str() {
        "diagnose" => {
            if let Some(d) = &cycle.diagnosis {
                attributes.push(KeyValue::new(
                    "aratta.heal.diagnosis",
                    d.classification.clone(),
                ));
            }
        }
        "research" => {
            if let Some(r) = &cycle.research {
                let urls: Vec<StringValue> = r.urls.iter().cloned().map(Into::into).collect();
                attributes.push(KeyValue::new(
                    "aratta.heal.research.urls",
                    Value::Array(Array::String(urls)),
                ));
                if let Some(provider) = &r.provider {
                    attributes.push(KeyValue::new(
                        "aratta.heal.research.provider",
                        provider.clone(),
                    ));
                }
            }
        }
        "fix" => {
            if let Some(f) = &cycle.fix {
                attributes.push(KeyValue::new("aratta.heal.fix.confidence", f.confidence));
                attributes.push(KeyValue::new("aratta.heal.fix.edits", f.edits.len() as i64));
            }
        }
        "build" => {
            if let Some(sha) = cycle.build.as_ref().and_then(|b| b.sha256.clone()) {
                attributes.push(KeyValue::new("aratta.heal.build.sha256", sha));
            }
        }
        "verify" => {
            if let Some(v) = &cycle.verification {
                attributes.push(KeyValue::new("aratta.heal.verify.fixed", v.fixed));
            }
        }
        _ => {}
    }
    attributes
}
