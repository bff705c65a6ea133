//! `schedule/`: scheduled retraining — a Kubernetes `CronJob` and a systemd service with its timer,
//! each running `mirador retrain` on the new data's location every week and promoting to the stage
//! the server follows only through the gate (a server whose route follows that stage then rolls
//! the new version out with its strategy). And their check, for `bundle verify`.

use std::path::Path;

use serde_json::json;

use super::yaml::{read_yaml, to_yaml};
use crate::core::error::Result;

/// When the retrain runs: Mondays at 03:00 (cron, and systemd's calendar form).
pub const CRON: &str = "0 3 * * 1";
/// The same, for systemd.
pub const ON_CALENDAR: &str = "Mon *-*-* 03:00:00";

/// The training command a schedule runs unless `bundle create --retrain-command` names yours: a
/// placeholder for your own training code, which `bundle verify` points out.
pub const PLACEHOLDER_COMMAND: &str = "python3 /opt/mirador/train.py --data {data} --out {output}";

/// What the schedule runs: the training command and the image the `CronJob` runs it in.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule<'a> {
    /// The registered model's name.
    pub name: &'a str,
    /// The holdout's label column.
    pub target: &'a str,
    /// The training command template (`{data}`, `{output}`, … as for `mirador retrain`).
    pub command: &'a str,
    /// The image with `mirador` and the training code's dependencies.
    pub image: &'a str,
}

/// `mirador retrain`'s arguments with the folders of `root` (registry, data).
fn retrain_args(s: &Schedule<'_>, root: &str) -> Vec<String> {
    let (name, target) = (s.name, s.target);
    [
        "--registry",
        &format!("{root}/registry"),
        "--name",
        name,
        "--command",
        s.command,
        "--data",
        &format!("{root}/data/new.csv"),
        "--holdout",
        &format!("{root}/data/holdout.csv"),
        "--target",
        target,
        "--promote-to",
        "production",
        "--timeout",
        "2h",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect()
}

/// The `CronJob` running `mirador retrain` in the schedule's image weekly (registry and data on
/// volumes).
pub fn cronjob_yaml(s: &Schedule<'_>) -> Result<String> {
    let n = s.name.replace('_', "-").to_lowercase();
    let doc = json!({
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": format!("{n}-retrain"), "labels": {"app.kubernetes.io/part-of": "mirador"}},
        "spec": {
            "schedule": CRON,
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": 3,
            "failedJobsHistoryLimit": 5,
            "jobTemplate": {"spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{
                    "name": "retrain",
                    "image": s.image,
                    "command": ["mirador", "retrain"],
                    "args": retrain_args(s, "/mnt"),
                    "volumeMounts": [
                        {"name": "registry", "mountPath": "/mnt/registry"},
                        {"name": "data", "mountPath": "/mnt/data", "readOnly": true},
                    ],
                }],
                "volumes": [
                    {"name": "registry", "persistentVolumeClaim": {"claimName": "mirador-registry"}},
                    {"name": "data", "persistentVolumeClaim": {"claimName": "mirador-data"}},
                ],
            }}}},
        },
    });
    to_yaml(&doc)
}

/// The systemd service (one run) and timer (weekly) running `mirador retrain` on this machine.
pub fn systemd_units(s: &Schedule<'_>) -> (String, String) {
    let name = s.name;
    let args: Vec<String> = retrain_args(s, "/var/lib/mirador").iter().map(|a| systemd_quote(a)).collect();
    let service = format!(
        "[Unit]\nDescription=Retrain {name} on new data; promote it only through the gate\n\
         After=network-online.target\n\n[Service]\nType=oneshot\nUser=mirador\n\
         WorkingDirectory=/var/lib/mirador\nExecStart=/usr/local/bin/mirador retrain {}\n",
        args.join(" ")
    );
    let timer = format!(
        "[Unit]\nDescription=Retrain {name} weekly\n\n[Timer]\nOnCalendar={ON_CALENDAR}\nPersistent=true\n\
         Unit=mirador-retrain.service\n\n[Install]\nWantedBy=timers.target\n"
    );
    (service, timer)
}

/// One `ExecStart=` word: double-quoted when it holds a space or a quote (`\` and `"` escaped),
/// with systemd's specifier `%` and variable `$` doubled so they reach the command as written.
fn systemd_quote(arg: &str) -> String {
    let escaped = arg.replace('%', "%%").replace('$', "$$");
    if escaped.is_empty() || escaped.contains([' ', '"', '\'', '\\', '\t']) {
        format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        escaped
    }
}

/// The keys of a systemd unit file's `section`.
fn unit_keys<'t>(text: &'t str, section: &str) -> Vec<(&'t str, &'t str)> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == format!("[{section}]");
        } else if inside && let Some((k, v)) = line.split_once('=') {
            out.push((k.trim(), v.trim()));
        }
    }
    out
}

/// Whether `spec` is a five-field cron schedule.
fn is_cron(spec: &str) -> bool {
    let fields: Vec<&str> = spec.split_whitespace().collect();
    fields.len() == 5 && fields.iter().all(|f| f.chars().all(|c| c.is_ascii_digit() || "*/,-".contains(c)))
}

pub(super) fn check_schedule(dir: &Path) -> std::result::Result<String, String> {
    let doc = read_yaml(dir, "schedule/retrain-cronjob.yaml")?;
    if doc["apiVersion"].as_str() != Some("batch/v1") || doc["kind"].as_str() != Some("CronJob") {
        return Err("schedule/retrain-cronjob.yaml is not a batch/v1 CronJob".into());
    }
    let schedule = doc["spec"]["schedule"].as_str().ok_or("the CronJob has no schedule")?;
    if !is_cron(schedule) {
        return Err(format!("the CronJob's schedule '{schedule}' is not a five-field cron expression"));
    }
    if doc["spec"]["concurrencyPolicy"].as_str() != Some("Forbid") {
        return Err("the CronJob must not run two retrains at once (concurrencyPolicy: Forbid)".into());
    }
    let container = &doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0];
    let command: Vec<&str> = container["command"].as_vec().into_iter().flatten().filter_map(|c| c.as_str()).collect();
    let args: Vec<&str> = container["args"].as_vec().into_iter().flatten().filter_map(|c| c.as_str()).collect();
    if command != ["mirador", "retrain"] {
        return Err(format!("the CronJob runs {command:?}, not mirador retrain"));
    }
    for flag in ["--registry", "--name", "--command", "--data", "--holdout", "--target", "--promote-to"] {
        if !args.contains(&flag) {
            return Err(format!("the CronJob's mirador retrain lacks {flag}"));
        }
    }
    let read = |file: &str| std::fs::read_to_string(dir.join(file)).map_err(|e| format!("cannot read {file}: {e}"));
    let service = read("schedule/mirador-retrain.service")?;
    let keys = unit_keys(&service, "Service");
    let exec = keys.iter().find(|(k, _)| *k == "ExecStart").map(|(_, v)| *v).ok_or("the service has no ExecStart")?;
    if !exec.contains("mirador retrain") || !exec.contains("--promote-to") {
        return Err(format!("the service's ExecStart does not run mirador retrain with a stage: {exec}"));
    }
    if !keys.contains(&("Type", "oneshot")) {
        return Err("the retrain service must be Type=oneshot".into());
    }
    let timer = read("schedule/mirador-retrain.timer")?;
    let keys = unit_keys(&timer, "Timer");
    let calendar =
        keys.iter().find(|(k, _)| *k == "OnCalendar").map(|(_, v)| *v).ok_or("the timer has no OnCalendar")?;
    if !keys.contains(&("Unit", "mirador-retrain.service")) {
        return Err("the timer does not start mirador-retrain.service".into());
    }
    let command = args.iter().position(|a| *a == "--command").and_then(|i| args.get(i + 1)).copied().unwrap_or("");
    crate::core::command_template::check_command(command).map_err(|e| format!("the CronJob's {e}"))?;
    let training = if command == PLACEHOLDER_COMMAND {
        "the placeholder training command: replace it with yours (bundle create --retrain-command)".to_string()
    } else {
        format!("training: {command}")
    };
    Ok(format!("CronJob '{schedule}', systemd timer '{calendar}'; {training}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_checks_and_a_broken_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("schedule")).unwrap();
        let write = |file: &str, text: &str| std::fs::write(dir.path().join(file), text).unwrap();
        let placeholder = Schedule { name: "churn_v1", target: "churned", command: PLACEHOLDER_COMMAND, image: "img" };
        let cron = cronjob_yaml(&placeholder).unwrap();
        let (service, timer) = systemd_units(&placeholder);
        write("schedule/retrain-cronjob.yaml", &cron);
        write("schedule/mirador-retrain.service", &service);
        write("schedule/mirador-retrain.timer", &timer);
        let summary = check_schedule(dir.path()).unwrap();
        assert!(summary.starts_with(&format!("CronJob '{CRON}', systemd timer '{ON_CALENDAR}'")), "{summary}");
        assert!(summary.contains("placeholder training command"), "{summary}");
        assert!(
            service.contains(r#"--command "python3 /opt/mirador/train.py --data {data} --out {output}""#),
            "{service}"
        );
        // A command of one's own, with quotes and a systemd specifier, reaches both as written.
        let own = "python3 /srv/train.py --note 'it is 100%' --data {data} --out {output}";
        let mine = Schedule { command: own, image: "registry.example/train:1", ..placeholder };
        let cron = cronjob_yaml(&mine).unwrap();
        let (service, _) = systemd_units(&mine);
        write("schedule/retrain-cronjob.yaml", &cron);
        write("schedule/mirador-retrain.service", &service);
        assert_eq!(check_schedule(dir.path()).unwrap().split("; ").nth(1), Some(format!("training: {own}").as_str()));
        assert!(cron.contains("registry.example/train:1"), "{cron}");
        let exec = unit_keys(&service, "Service").into_iter().find(|(k, _)| *k == "ExecStart").unwrap().1;
        let words = shlex::split(&exec.replace("%%", "%")).unwrap();
        let at = words.iter().position(|w| w == "--command").unwrap();
        assert_eq!(words[at + 1], own, "{exec}");
        write(
            "schedule/retrain-cronjob.yaml",
            &cronjob_yaml(&Schedule { command: "train {data} {outptu}", ..mine }).unwrap(),
        );
        assert!(check_schedule(dir.path()).unwrap_err().contains("{outptu}"));
        write("schedule/retrain-cronjob.yaml", &cron);
        write("schedule/retrain-cronjob.yaml", &cron.replace(CRON, "every monday"));
        assert!(check_schedule(dir.path()).unwrap_err().contains("cron"));
        write("schedule/retrain-cronjob.yaml", &cron);
        write("schedule/mirador-retrain.timer", &timer.replace("Unit=mirador-retrain.service", ""));
        assert!(check_schedule(dir.path()).unwrap_err().contains("does not start"));
    }
}
