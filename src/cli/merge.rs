//! `sigaudit merge REPORT…`: read the reports, merge them (the library's `report::merge`), and
//! write the merged report through the same writer and exit-code rules as a scan.

use super::args::{MergeArgs, ReportArgs};
use super::run::{self, ExitStatus, ReportSettings, ReportSetup};
use anyhow::{Context, Result};
use sigaudit::report::merge::{self, Input};
use std::io::Read;
use std::path::PathBuf;

/// The largest report merge reads (a JSON report of a million images is about 1.5 GiB).
const MAX_REPORT_BYTES: u64 = 4 << 30;

pub async fn run(a: MergeArgs) -> Result<ExitStatus> {
    let report = ReportSettings::from_args(&ReportArgs {
        output: a.output.clone(),
        fail_on: a.fail_on.clone(),
        at: None,
        warn_expiring: None,
        only: a.only.clone(),
        deadline: None,
        progress: super::args::Progress::Never,
        baseline: None,
        fail_on_new: Vec::new(),
        waivers: None,
    })?;
    let sources = if a.reports.is_empty() { vec![PathBuf::from("-")] } else { a.reports.clone() };
    let mut inputs: Vec<Input> = Vec::new();
    let mut unreadable = Vec::new();
    for path in &sources {
        let name = path.display().to_string();
        // A file that cannot be opened is a mistake on the command line; one that opens but
        // holds no report is a shard that failed, which the merged report records.
        // Bounded: a report larger than this (or /dev/zero) is not read whole into memory.
        let mut bytes = Vec::new();
        let read = if name == "-" {
            std::io::stdin()
                .take(MAX_REPORT_BYTES + 1)
                .read_to_end(&mut bytes)
                .context("reading a report from standard input")?
        } else {
            let file = std::fs::File::open(path).with_context(|| format!("report {name}"))?;
            file.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes).with_context(|| format!("report {name}"))?
        };
        if read as u64 > MAX_REPORT_BYTES {
            let reason = format!("larger than {} GiB: not read", MAX_REPORT_BYTES >> 30);
            tracing::warn!("{name}: {reason}");
            unreadable.push((name, reason));
            continue;
        }
        let read = match std::str::from_utf8(&bytes) {
            Ok(text) => merge::read(&name, text),
            Err(e) => Err(format!("not UTF-8 ({e}): not a report sigaudit wrote")),
        };
        match read {
            Ok(input) => inputs.push(input),
            Err(reason) => {
                tracing::warn!("{name}: {reason}");
                unreadable.push((name, reason));
            }
        }
    }
    let merged = merge::merge(inputs, unreadable)?;
    let setup = ReportSetup {
        report: &report,
        kind: "registry",
        target: serde_json::Value::Null,
        name: sigscan_name(&merged.scan.target),
        settings: serde_json::Map::new(),
        hint: None,
        shard: None,
        listing: None,
        merged: Some(merged.scan),
        requests: None,
        stop: None,
    };
    let events = merged.events;
    let outcome = run::with_writer(setup, |tx| async move {
        for e in events {
            if tx.send(e).await.is_err() {
                break;
            }
        }
    })
    .await?;
    Ok(run::exit_status(&report.fail_on, report.fail_on_expiring, &outcome))
}

/// SigScan JSON's `name`: the registries of the merged targets.
fn sigscan_name(target: &serde_json::Value) -> String {
    let one = |t: &str| {
        let t = t.split_once("://").map_or(t, |(_, rest)| rest);
        t.trim_end_matches('/').to_string()
    };
    match target {
        serde_json::Value::String(s) => one(s),
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).map(one).collect::<Vec<_>>().join(","),
        _ => String::new(),
    }
}
