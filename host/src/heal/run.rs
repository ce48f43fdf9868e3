//! One heal cycle, phase by phase (see the module doc of `crate::heal`). Each phase is
//! recorded as it ends and the record saved, so `GET /api/v1/heal/{id}` follows a cycle live.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::HealWorker;
use super::ask::{self, AskError};
use super::builder::{self, BuildFailure};
use super::cycle::{
    BuildRecord, Cycle, CycleStatus, Decision, Diagnosis, Findings, Fix, MAX_KEPT_TEXT, Phase,
    Replay, bounded,
};
use super::edits;
use super::prompts::{self, Subject};
use super::replay::{self, Operation};
use super::research;
use super::source::{self, SourceTree};
use crate::clock::unix_millis;
use crate::reload::HealProposal;
use crate::resilience::samples::{ErrorClass, ErrorSample};
use crate::runtime::{Adapter, AdapterSource};

/// Confidence is capped here when no research could be done.
const NO_RESEARCH_CAP: f64 = 0.5;

/// How a phase ended, for its record.
struct Ended {
    outcome: &'static str,
    model: Option<String>,
    input_bytes: Option<usize>,
    output: String,
}

impl Ended {
    /// A phase that called no model.
    fn plain(outcome: &'static str, output: String) -> Ended {
        Ended {
            outcome,
            model: None,
            input_bytes: None,
            output,
        }
    }
}

impl HealWorker {
    /// Run `cycle` to its end; its status and summary say how it ended.
    pub(super) async fn run(&self, cycle: &mut Cycle, samples: &[ErrorSample]) {
        let (status, summary) = match self.phases(cycle, samples).await {
            Ok((status, summary)) => (status, summary),
            Err(why) => (CycleStatus::Failed, why),
        };
        cycle.status = status;
        cycle.summary = summary;
    }

    fn record(&self, cycle: &mut Cycle, name: &str, started: (u64, Instant), ended: Ended) {
        let duration = started.1.elapsed();
        self.gateway
            .metrics
            .heal_duration
            .with_label_values(&[name])
            .observe(duration.as_secs_f64());
        cycle.phases.push(Phase {
            name: name.to_owned(),
            outcome: ended.outcome.to_owned(),
            model: ended.model,
            started_at_ms: started.0,
            duration_ms: duration.as_millis() as u64,
            input_bytes: ended.input_bytes,
            output: bounded(&ended.output, MAX_KEPT_TEXT),
        });
        self.save(cycle);
    }

    /// The phases; `Err` is a failed cycle's summary.
    async fn phases(
        &self,
        cycle: &mut Cycle,
        samples: &[ErrorSample],
    ) -> Result<(CycleStatus, String), String> {
        let serving = self
            .gateway
            .runtime
            .adapter(&cycle.adapter)
            .ok_or_else(|| format!("adapter {} is no longer loaded", cycle.adapter))?;
        let model = self
            .settings
            .model(&self.gateway.config.behaviour)
            .ok_or("no heal model: set [healing] heal_model")?
            .to_owned();
        self.check_model_route(&model, &cycle.adapter)?;
        let last = samples
            .last()
            .ok_or("the trigger carries no error sample")?;
        let operation = Operation {
            route: last.request.route.clone(),
            provider: cycle.provider.clone(),
            model: last.request.model.clone(),
        };
        // A repeated refusal is drift only if the adapter's own minimal request is refused too.
        if cycle.class == ErrorClass::InvalidRequest.as_str() {
            let started = (unix_millis(), Instant::now());
            let timeout = Duration::from_secs(self.gateway.config.reload.verify_timeout_seconds);
            let probe = replay::call(&self.gateway, &serving, &operation, timeout).await;
            let (outcome, output) = match &probe {
                Ok(detail) => ("ok", format!("a minimal request succeeds ({detail})")),
                Err(e) => ("failed", format!("a minimal request is refused too: {e}")),
            };
            self.record(
                cycle,
                "confirm",
                started,
                Ended::plain(outcome, output.clone()),
            );
            if probe.is_ok() {
                return Ok((
                    CycleStatus::Skipped,
                    format!("not drift: {output}, so the refusals came from what callers sent"),
                ));
            }
        }
        // Where the source is; without it, the cycle still diagnoses and proposes.
        let tree = source::locate(&self.home, &cycle.adapter);
        let files = match &tree {
            Ok(tree) => {
                prompts::sources(&tree.root, &tree.rust_files(), &prompts::keywords(samples))
            }
            Err(e) => format!("(no source: {e})\n"),
        };
        let (adapter, version, provider, class) = (
            cycle.adapter.clone(),
            cycle.adapter_version.clone(),
            cycle.provider.clone(),
            cycle.class.clone(),
        );
        let subject = Subject {
            adapter: &adapter,
            version: &version,
            provider: &provider,
            operation: &operation.route,
            class: &class,
            samples,
        };

        // 1. Diagnose.
        let diagnosis = self.diagnose(cycle, &model, &subject, &files).await?;

        // 2. Research.
        cycle.summary = "researching".into();
        let started = (unix_millis(), Instant::now());
        let context = format!(
            "The {} API (provider `{}`) changed: {}",
            cycle.adapter, cycle.provider, diagnosis.summary
        );
        let findings = research::research(
            &self.gateway,
            &self.settings.research_order,
            &cycle.adapter,
            &diagnosis.search_queries,
            &context,
        )
        .await;
        let (outcome, output) = match &findings.provider {
            Some(p) => (
                "ok",
                format!("{p}: {} URLs\n{}", findings.urls.len(), findings.text),
            ),
            None => (
                "skipped",
                format!(
                    "no research provider was usable; going on without research (confidence capped at {NO_RESEARCH_CAP}): {}",
                    findings.attempts.join("; ")
                ),
            ),
        };
        self.record(
            cycle,
            "research",
            started,
            Ended {
                outcome,
                model: findings.provider.clone(),
                input_bytes: None,
                output,
            },
        );
        cycle.research = Some(findings.clone());

        // 3. Fix, 4. build, each failure fed back once.
        let tree = match tree {
            Ok(tree) => tree,
            Err(e) => {
                let fix = self
                    .fix(cycle, &model, &subject, &diagnosis, &findings, &files, None)
                    .await?;
                return self
                    .queue_unbuilt(cycle, &fix, &diagnosis, &findings, &e.to_string())
                    .await;
            }
        };
        let mut feedback: Option<String> = None;
        let mut fed_back = (false, false);
        let built = loop {
            let fix = self
                .fix(
                    cycle,
                    &model,
                    &subject,
                    &diagnosis,
                    &findings,
                    &files,
                    feedback.as_deref(),
                )
                .await?;
            if let Err(e) = edits::check(&fix.edits, &tree) {
                if e.is_forbidden() {
                    return Err(format!("refused: the fix breaks a safety rule: {e}"));
                }
                if fed_back.0 {
                    return Err(format!("the fix's edits do not apply, twice: {e}"));
                }
                fed_back.0 = true;
                feedback = Some(format!("Its edits do not apply: {e}"));
                continue;
            }
            match self.build(cycle, &tree, &fix).await {
                Ok(built) => break (fix, built),
                Err(BuildFailure::Compile { log_tail }) if !fed_back.1 => {
                    fed_back.1 = true;
                    feedback = Some(format!(
                        "It does not compile. The compiler said:\n{}",
                        bounded(&log_tail, 8 * 1024)
                    ));
                }
                Err(BuildFailure::Edits(e)) if e.is_forbidden() => {
                    return Err(format!("refused: the fix breaks a safety rule: {e}"));
                }
                Err(e @ (BuildFailure::Toolchain(_) | BuildFailure::TimedOut { .. })) => {
                    let why = e.to_string();
                    return self
                        .queue_unbuilt(cycle, &fix, &diagnosis, &findings, &why)
                        .await;
                }
                Err(e) => return Err(format!("the fix did not build: {e}")),
            }
        };
        let (fix, built) = built;

        // 5. Verify.
        cycle.summary = "verifying".into();
        let started = (unix_millis(), Instant::now());
        let path = self
            .home
            .heal_dir()
            .join("builds")
            .join(format!("{}-{}.wasm", cycle.adapter, cycle.id));
        let candidate = self.load(&path, built).await;
        let timeout = Duration::from_secs(self.gateway.config.reload.verify_timeout_seconds);
        let replayed = match &candidate {
            Ok(candidate) => {
                let now_serving = replay::call(&self.gateway, &serving, &operation, timeout).await;
                let through = replay::call(&self.gateway, candidate, &operation, timeout).await;
                let fixed = now_serving.is_err() && through.is_ok();
                Some(Replay {
                    operation: operation.route.clone(),
                    provider: operation.provider.clone(),
                    model: operation.model.clone(),
                    serving: flat(&now_serving),
                    candidate: flat(&through),
                    fixed,
                })
            }
            Err(_) => None,
        };
        let (outcome, output) = match (&candidate, &replayed) {
            (Err(e), _) => ("failed", e.clone()),
            (_, Some(r)) => (
                if r.fixed { "ok" } else { "failed" },
                format!(
                    "{} {}:{}: serving version: {}; candidate: {}",
                    r.operation, r.provider, r.model, r.serving, r.candidate
                ),
            ),
            _ => ("failed", String::new()),
        };
        self.record(
            cycle,
            "verify",
            started,
            Ended::plain(outcome, output.clone()),
        );
        cycle.verification = replayed.clone();
        let (candidate, replayed) = match (candidate, replayed) {
            (Ok(c), Some(r)) => (c, r),
            (Err(e), _) => return Err(format!("the built component does not load: {e}")),
            _ => unreachable!("a loaded candidate is always replayed"),
        };
        if !replayed.fixed {
            let why = if replayed.serving.starts_with("ok:") {
                "the serving version no longer fails this call, so there is nothing to fix"
                    .to_owned()
            } else {
                format!(
                    "the candidate does not fix the failure: {}",
                    replayed.candidate
                )
            };
            self.decided(cycle, "refused", &why, None);
            return Err(format!("refused: {why}"));
        }

        // 6. Decide.
        let confidence = self.confidence(&fix, &findings);
        let proposal = HealProposal {
            cycle_id: cycle.id.clone(),
            diagnosis: diagnosis.summary.clone(),
            sources: findings.urls.clone(),
            diff: cycle.diff.clone().unwrap_or_default(),
            confidence,
            verification: output,
            not_built: None,
        };
        if self.settings.auto_apply && confidence >= self.settings.auto_apply_confidence {
            let started = (unix_millis(), Instant::now());
            let swap = self
                .reload
                .install_built(candidate.bytes.clone(), &path)
                .await;
            let (outcome, detail) = match &swap {
                Ok(s) => (
                    "ok",
                    format!(
                        "swapped in {}: {}",
                        s.current.sha256, s.current.verification
                    ),
                ),
                Err(e) => ("failed", e.to_string()),
            };
            self.record(
                cycle,
                "decide",
                started,
                Ended::plain(outcome, detail.clone()),
            );
            return match swap {
                Ok(_) => {
                    let why = format!(
                        "verified and confidence {confidence:.2} ≥ auto_apply_confidence {:.2}",
                        self.settings.auto_apply_confidence
                    );
                    self.decided(cycle, "swapped", &why, None);
                    Ok((
                        CycleStatus::Swapped,
                        format!("healed: {} ({why})", fix.summary),
                    ))
                }
                Err(e) => {
                    self.decided(cycle, "refused", &e.to_string(), None);
                    Err(format!("the reload manager refused the fix: {e}"))
                }
            };
        }
        let why = if self.settings.auto_apply {
            format!(
                "confidence {confidence:.2} is below auto_apply_confidence {:.2}",
                self.settings.auto_apply_confidence
            )
        } else {
            "auto_apply is off".to_owned()
        };
        let started = (unix_millis(), Instant::now());
        let queued = self
            .reload
            .propose_with(
                candidate.bytes.clone(),
                &format!("heal cycle {}: {}", cycle.id, fix.summary),
                "heal",
                Some(proposal),
            )
            .await;
        let (outcome, detail) = match &queued {
            Ok(a) => ("ok", format!("queued as approval {} ({why})", a.id)),
            Err(e) => ("failed", e.to_string()),
        };
        self.record(cycle, "decide", started, Ended::plain(outcome, detail));
        match queued {
            Ok(approval) => {
                self.decided(cycle, "queued", &why, Some(approval.id.clone()));
                Ok((
                    CycleStatus::Queued,
                    format!(
                        "verified fix waits for approval {}: {} ({why})",
                        approval.id, fix.summary
                    ),
                ))
            }
            Err(e) => Err(format!("the fix could not be queued: {e}")),
        }
    }

    /// The heal model must not be reached through the adapter being healed.
    fn check_model_route(&self, model: &str, adapter: &str) -> Result<(), String> {
        let targets = self
            .gateway
            .targets(model)
            .map_err(|e| format!("heal model {model}: {e}"))?;
        if let Some((p, _)) = targets.iter().find(|(p, _)| p.config.adapter == adapter) {
            return Err(format!(
                "heal model {model} would be answered by provider {} through adapter {adapter}, the one being healed; name a model served by another adapter in [healing] heal_model",
                p.name
            ));
        }
        Ok(())
    }

    async fn diagnose(
        &self,
        cycle: &mut Cycle,
        model: &str,
        subject: &Subject<'_>,
        files: &str,
    ) -> Result<Diagnosis, String> {
        let started = (unix_millis(), Instant::now());
        let answer = ask::structured::<Diagnosis>(
            &self.gateway,
            model,
            prompts::DIAGNOSIS,
            prompts::diagnosis_schema(),
            prompts::DIAGNOSE_SYSTEM,
            &prompts::diagnose(subject, files),
        )
        .await;
        match answer {
            Ok(mut a) => {
                a.value.search_queries.truncate(3);
                self.record(
                    cycle,
                    "diagnose",
                    started,
                    Ended {
                        outcome: "ok",
                        model: Some(a.answered_by),
                        input_bytes: Some(a.input_bytes),
                        output: a.raw,
                    },
                );
                cycle.diagnosis = Some(a.value.clone());
                self.save(cycle);
                Ok(a.value)
            }
            Err(e) => Err(self.model_failed(cycle, "diagnose", started, model, e)),
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn fix(
        &self,
        cycle: &mut Cycle,
        model: &str,
        subject: &Subject<'_>,
        diagnosis: &Diagnosis,
        findings: &Findings,
        files: &str,
        feedback: Option<&str>,
    ) -> Result<Fix, String> {
        cycle.summary = "writing a fix".into();
        let started = (unix_millis(), Instant::now());
        let answer = ask::structured::<Fix>(
            &self.gateway,
            model,
            prompts::FIX,
            prompts::fix_schema(),
            prompts::FIX_SYSTEM,
            &prompts::fix(subject, diagnosis, findings, files, feedback),
        )
        .await;
        match answer {
            Ok(a) => {
                self.record(
                    cycle,
                    "fix",
                    started,
                    Ended {
                        outcome: "ok",
                        model: Some(a.answered_by),
                        input_bytes: Some(a.input_bytes),
                        output: a.raw,
                    },
                );
                let mut fix = a.value;
                fix.confidence = fix.confidence.clamp(0.0, 1.0);
                cycle.fix = Some(fix.clone());
                self.save(cycle);
                Ok(fix)
            }
            Err(e) => Err(self.model_failed(cycle, "fix", started, model, e)),
        }
    }

    fn model_failed(
        &self,
        cycle: &mut Cycle,
        phase: &str,
        started: (u64, Instant),
        model: &str,
        e: AskError,
    ) -> String {
        let output = match e.raw() {
            Some(raw) => format!("{e}\n--- the model's last answer ---\n{raw}"),
            None => e.to_string(),
        };
        self.record(
            cycle,
            phase,
            started,
            Ended {
                outcome: "failed",
                model: Some(model.to_owned()),
                input_bytes: None,
                output,
            },
        );
        format!("{phase} failed: {e}")
    }

    async fn build(
        &self,
        cycle: &mut Cycle,
        tree: &SourceTree,
        fix: &Fix,
    ) -> Result<builder::Built, BuildFailure> {
        cycle.summary = "building".into();
        let started = (unix_millis(), Instant::now());
        let result = builder::build(
            tree,
            &fix.edits,
            &self.build_dir(),
            Duration::from_secs(self.settings.build_timeout_seconds),
        )
        .await;
        let (record, outcome, output) = match &result {
            Ok(built) => {
                cycle.diff = Some(built.diff.clone());
                (
                    BuildRecord {
                        ok: true,
                        duration_ms: built.duration.as_millis() as u64,
                        sha256: Some(crate::reload::sha256(&built.component)),
                        log_tail: bounded(&built.log_tail, MAX_KEPT_TEXT),
                    },
                    "ok",
                    built.log_tail.clone(),
                )
            }
            Err(e) => (
                BuildRecord {
                    ok: false,
                    duration_ms: started.1.elapsed().as_millis() as u64,
                    sha256: None,
                    log_tail: bounded(&e.to_string(), MAX_KEPT_TEXT),
                },
                "failed",
                e.to_string(),
            ),
        };
        cycle.build = Some(record);
        self.record(cycle, "build", started, Ended::plain(outcome, output));
        result
    }

    /// Keep the component at `path` and load it (compiled, checked, described) without
    /// installing it.
    async fn load(
        &self,
        path: &std::path::Path,
        built: builder::Built,
    ) -> Result<Arc<Adapter>, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        crate::fs::write_atomic(path, &built.component)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        self.gateway
            .runtime
            .load_bytes(
                &path.display().to_string(),
                Bytes::from(built.component),
                AdapterSource::File(path.to_owned()),
            )
            .await
            .map(Arc::new)
            .map_err(|e| e.to_string())
    }

    fn confidence(&self, fix: &Fix, findings: &Findings) -> f64 {
        if findings.provider.is_some() {
            fix.confidence
        } else {
            fix.confidence.min(NO_RESEARCH_CAP)
        }
    }

    fn decided(&self, cycle: &mut Cycle, action: &str, reason: &str, approval_id: Option<String>) {
        cycle.decision = Some(Decision {
            action: action.to_owned(),
            reason: reason.to_owned(),
            approval_id,
        });
        self.save(cycle);
    }

    /// No component could be built: queue the diagnosis, sources and edits for a human.
    async fn queue_unbuilt(
        &self,
        cycle: &mut Cycle,
        fix: &Fix,
        diagnosis: &Diagnosis,
        findings: &Findings,
        why: &str,
    ) -> Result<(CycleStatus, String), String> {
        let diff = fix
            .edits
            .iter()
            .map(|e| {
                format!(
                    "--- {0}\n+++ {0}\n- {1}\n+ {2}\n",
                    e.file, e.search, e.replace
                )
            })
            .collect::<String>();
        cycle.diff = Some(diff.clone());
        let proposal = HealProposal {
            cycle_id: cycle.id.clone(),
            diagnosis: diagnosis.summary.clone(),
            sources: findings.urls.clone(),
            diff,
            confidence: self.confidence(fix, findings),
            verification: "not verified: nothing was built".into(),
            not_built: Some(why.to_owned()),
        };
        let version = cycle.adapter_version.clone();
        let approval = self
            .reload
            .propose_unbuilt(
                &cycle.adapter,
                &version,
                &format!("heal cycle {}: {}", cycle.id, fix.summary),
                proposal,
            )
            .await
            .map_err(|e| format!("the proposal could not be queued: {e}"))?;
        let reason = format!("not built: {why}");
        self.decided(cycle, "queued", &reason, Some(approval.id.clone()));
        Ok((
            CycleStatus::Queued,
            format!(
                "proposal waits for a human as approval {} ({reason})",
                approval.id
            ),
        ))
    }
}

/// `ok: <detail>` or `failed: <error>`, for the record.
fn flat(result: &Result<String, String>) -> String {
    match result {
        Ok(detail) => format!("ok: {detail}"),
        Err(e) => format!("failed: {e}"),
    }
}
