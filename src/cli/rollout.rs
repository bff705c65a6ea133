//! `mirador replay`: a canary or shadow rollout played offline on recorded traffic, with its verdict
//! (exit code 3 when it would abort); `mirador rollout`: a running server's routes, promoted,
//! aborted or weighed by hand through its `/admin` endpoint.

use std::fmt::Write;
use std::process::ExitCode;

use super::args::{EXIT_CHECK_FAILED, ReplayArgs, RolloutAction, RolloutArgs};
use super::render::emit;
use crate::core::rollout::replay::{ReplayReport, Verdict};
use crate::core::rollout::strategy::format_duration;
use crate::core::rollout::{Gate, Phase, ReplayRequest, Strategy, replay};
use crate::core::serving::config::ModelSpec;
use crate::core::serving::source::ServedModel;
use crate::core::{CancelToken, Error, Result};

/// Run `mirador replay`.
pub fn run(args: ReplayArgs, cancel: &CancelToken) -> Result<ExitCode> {
    let load = |r: &str| ServedModel::load(&ModelSpec { source: r.to_string(), name: None }, &args.registry);
    let (champion, challenger) = (load(&args.champion)?, load(&args.challenger)?);
    let request = ReplayRequest {
        data: args.data.clone(),
        time_column: args.time_col.clone(),
        strategy: Strategy::parse(&args.strategy)?,
        gate: Gate::parse(&args.gate, args.failure_limit, args.min_rows)?,
        target: args.target.clone(),
        sticky_key: args.sticky_key.clone(),
        route: args.route.clone().unwrap_or_else(|| champion.name.clone()),
    };
    let mut report = replay(&champion.model, &challenger.model, &request, cancel)?;
    report.champion = format!("{} ({})", champion.name, champion.version);
    report.challenger = format!("{} ({})", challenger.name, challenger.version);
    emit(args.json, &report, render)?;
    Ok(if report.would_abort() { ExitCode::from(EXIT_CHECK_FAILED) } else { ExitCode::SUCCESS })
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{:.1}%", v * 100.0))
}

/// The report as text.
pub fn render(r: &ReplayReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "replay of {}: {} → {} on {} rows", r.strategy, r.champion, r.challenger, r.rows);
    if !r.gate.rules.is_empty() {
        let _ = writeln!(
            s,
            "gate: {} (failure limit {}, {} rows per measurement)",
            r.gate.text(),
            r.gate.failure_limit,
            r.gate.min_rows
        );
    }
    let _ = writeln!(
        s,
        "\n  {:<26} {:>7} {:>8} {:>9}  {:<12} {:>4}  reason",
        "window end", "weight", "rows", "challenger", "measurement", "fail"
    );
    for w in &r.windows {
        let m = &w.measurement;
        let phase = match m.phase {
            Phase::Successful => "✔ successful",
            Phase::Failed => "✖ failed",
            Phase::Inconclusive => "… inconclusive",
        };
        let _ = writeln!(
            s,
            "  {:<26} {:>7} {:>8} {:>9}  {:<12} {:>4}  {}",
            w.end,
            pct(Some(w.weight)),
            w.rows,
            w.challenger_rows,
            phase,
            m.failures,
            m.reason
        );
    }
    let _ = writeln!(s);
    match &r.verdict {
        Verdict::WouldPromote { at } => {
            let _ = writeln!(s, "✔ would promote at {at}");
        }
        Verdict::WouldAbort { at, reason } => {
            let _ = writeln!(s, "✖ would abort at {at} because {reason}");
        }
        Verdict::WouldPass { at } => {
            let _ = writeln!(s, "✔ the shadow test would pass at {at} (promotion is your call)");
        }
        Verdict::Undecided { reason } => {
            let _ = writeln!(s, "• undecided: {reason}");
        }
    }
    let keys = r.exposure.distinct_keys.map(|k| format!(", {k} distinct keys")).unwrap_or_default();
    let _ = writeln!(s, "  challenger exposure: {} rows{keys}", r.exposure.rows);
    if let (Some(p), Some(b)) = (r.time_to_promote_secs, r.time_to_rollback_secs) {
        let _ = writeln!(
            s,
            "  live, these settings take at least {} to promote, {} to roll back",
            format_duration(p),
            format_duration(b)
        );
    }
    let a = &r.agreement;
    let kappa = a.kappa.map_or("—".into(), |k| format!("{k:.3}"));
    let _ = writeln!(
        s,
        "\nboth models on all {} rows: agreement {}, churn {}, κ {kappa}",
        a.rows,
        pct(a.agreement),
        pct(a.churn)
    );
    for f in &a.flips {
        let _ = writeln!(s, "  {} → {}: {} rows", f.champion, f.challenger, f.rows);
    }
    for d in &r.arms {
        let f = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.4}"));
        let ci = d.interval.map(|(l, h)| format!(" [{l:+.4}, {h:+.4}]")).unwrap_or_default();
        let change = d.change.map_or("—".into(), |c| format!("{c:+.4}"));
        let _ = writeln!(
            s,
            "  {:<14} champion {}  challenger {}  change {change}{ci}",
            d.metric,
            f(d.champion),
            f(d.challenger)
        );
    }
    if !r.not_measured.is_empty() {
        let _ = writeln!(s, "\nnot measured offline: {}", r.not_measured.join("; "));
    }
    for c in &r.caveats {
        let _ = writeln!(s, "note: {c}");
    }
    s
}

/// Run `mirador rollout`: one request to the server's `/admin`.
pub fn admin(args: &RolloutArgs) -> Result<ExitCode> {
    let (method, path, body) = match &args.action {
        RolloutAction::Status => ("GET", "/admin/routes".to_string(), String::new()),
        RolloutAction::Promote { route, reason } => (
            "POST",
            format!("/admin/routes/{route}"),
            serde_json::json!({"action": "promote", "reason": reason}).to_string(),
        ),
        RolloutAction::Abort { route, reason } => (
            "POST",
            format!("/admin/routes/{route}"),
            serde_json::json!({"action": "abort", "reason": reason}).to_string(),
        ),
        RolloutAction::Weight { route, percent } => {
            if !(percent.is_finite() && (0.0..=100.0).contains(percent)) {
                return Err(Error::Invalid(format!("the weight is a percentage from 0 to 100; got {percent}")));
            }
            let weight = percent / 100.0;
            (
                "POST",
                format!("/admin/routes/{route}"),
                serde_json::json!({"action": "weight", "weight": weight}).to_string(),
            )
        }
    };
    let (status, text) = http(&args.server, method, &path, &args.token, &body)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .map_err(|_| Error::Unavailable(format!("{} did not answer like mirador serve: {text}", args.server)))?;
    if status != 200 {
        let message = value["error"].as_str().unwrap_or(&text).to_string();
        return Err(if status == 403 { Error::Forbidden(message) } else { Error::Invalid(message) });
    }
    let routes = match value.get("routes") {
        Some(list) => list.as_array().cloned().unwrap_or_default(),
        None => vec![value.clone()],
    };
    if args.json {
        emit(true, &value, |_| String::new())?;
    } else {
        let mut s = String::new();
        for r in &routes {
            let waiting = r["challenger"].is_null() && r["strategy"].as_str().is_some_and(|s| s != "basic");
            let state = match (r["state"]["state"].as_str(), r["follows"].as_str()) {
                (Some(state), _) if !waiting => state.to_string(),
                (last, Some(stage)) if waiting => {
                    let last = last.map(|l| format!(" (last rollout {l})")).unwrap_or_default();
                    format!("waiting for {stage}'s next version{last}")
                }
                (state, Some(stage)) => format!("{}, following {stage}", state.unwrap_or("serving")),
                (state, None) => state.unwrap_or("serving").to_string(),
            };
            let challenger = r["challenger"].as_str().map(|c| format!(" ← challenger {c}")).unwrap_or_default();
            let _ = writeln!(
                s,
                "{}: {} — champion {}{challenger}, weight {:.0}%, {state}",
                r["name"].as_str().unwrap_or("?"),
                r["strategy"].as_str().unwrap_or("?"),
                r["champion"].as_str().unwrap_or("?"),
                r["weight"].as_f64().unwrap_or(0.0) * 100.0,
            );
            let events = r["events"].as_array().cloned().unwrap_or_default();
            for e in &events[events.len().saturating_sub(5)..] {
                let _ = writeln!(s, "  {}  {}", e["at"].as_str().unwrap_or(""), e["what"].as_str().unwrap_or(""));
            }
        }
        super::render::say(&s)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One request to the server's `/admin`; its status and body.
fn http(server: &str, method: &str, path: &str, token: &str, body: &str) -> Result<(u16, String)> {
    if !server.starts_with("http://") {
        return Err(Error::Invalid(format!(
            "'{server}' is not an http:// address (the admin endpoint is plain HTTP on loopback)"
        )));
    }
    let url = format!("{}{path}", server.trim_end_matches('/'));
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/json")];
    crate::core::http::send(&url, method, &headers, body, std::time::Duration::from_secs(30))
        .map_err(|e| Error::Unavailable(format!("cannot reach mirador serve at {server}: {e}")))
}
