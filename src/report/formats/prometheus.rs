//! A Prometheus textfile-collector file (text exposition format 0.0.4): gauges only, each family
//! with its HELP and TYPE, every sample labelled with the scan's `kind` and `target` so that the
//! files of several scans (one per target) can sit in one collector directory. Status counts
//! list every status, zeros included, so a status that empties still has a series.
//!
//! `sigaudit_last_complete_scan_timestamp_seconds` is this scan's `finishedAt` when the scan is
//! complete. When it is not, the value is carried from the file this one replaces (`-o
//! prometheus=PATH` reads it first), so `time() - sigaudit_last_complete_scan_timestamp_seconds`
//! keeps growing across incomplete nights; with no earlier file it is absent.

use super::{parse_time, seconds_between, target, Item, Report, STATUSES};
use crate::report::workload::{WorkloadReport, WorkloadSummary};
use crate::report::Status;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The value of `sigaudit_last_complete_scan_timestamp_seconds` in an earlier file, if any.
fn last_complete(previous: &str) -> Option<f64> {
    previous
        .lines()
        .filter(|l| l.starts_with(LAST_COMPLETE) && l[LAST_COMPLETE.len()..].starts_with(['{', ' ']))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.trim().parse::<f64>().ok()))
        .find(|v| v.is_finite())
}

const LAST_COMPLETE: &str = "sigaudit_last_complete_scan_timestamp_seconds";

/// As [`render`], carrying the last complete scan's time from `previous` (the file being
/// replaced) when this scan is incomplete.
pub fn render_carrying(report: &Report, previous: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    let scan = &report.scan;
    let base = vec![("kind", scan.kind.clone()), ("target", target(report))];
    let mut m = Metrics { text: String::new(), base };
    let items = Item::all(report);
    let s = &report.summary;

    m.family("sigaudit_scan_info", "The scan this file describes: sigaudit version and report schema; always 1.");
    m.sample("sigaudit_scan_info", &[("version", &report.tool.version), ("schema", &report.schema)], 1.0);

    m.family("sigaudit_items", "Images (registry scans) or files (filesystem scans) scanned, whatever their status.");
    m.sample("sigaudit_items", &[], s.items() as f64);

    m.family("sigaudit_items_by_status", "Images or files scanned, by status.");
    for status in STATUSES {
        m.sample("sigaudit_items_by_status", &[("status", status.as_str())], s.count(status) as f64);
    }

    m.family(
        "sigaudit_items_waived_by_status",
        "Images or files of each status that a waiver accepts (--waivers); --fail-on ignores them.",
    );
    for status in STATUSES.into_iter().filter(|s| *s != Status::Verified) {
        let waived = s.waived.get(&status).copied().unwrap_or(0);
        m.sample("sigaudit_items_waived_by_status", &[("status", status.as_str())], waived as f64);
    }

    if report.images.is_some() {
        // (registry, namespace) -> counts by status, from the images listed.
        let mut groups: BTreeMap<(String, String), BTreeMap<Status, u64>> = BTreeMap::new();
        for item in &items {
            let (registry, ns) = item.group();
            let g = groups.entry((registry.unwrap_or("").to_string(), ns.to_string())).or_default();
            *g.entry(item.status()).or_default() += 1;
        }
        m.family(
            "sigaudit_namespace_items_by_status",
            "Images listed in the report, by registry, namespace (the repository's first path segment) and status.",
        );
        for ((registry, ns), counts) in &groups {
            for status in STATUSES {
                let n = counts.get(&status).copied().unwrap_or(0);
                m.sample(
                    "sigaudit_namespace_items_by_status",
                    &[("registry", registry), ("namespace", ns), ("status", status.as_str())],
                    n as f64,
                );
            }
        }
    }

    if let Some(w) = &s.workloads {
        workload_metrics(&mut m, w, report.workloads.as_deref().unwrap_or_default());
    }

    m.family("sigaudit_signatures", "Signatures found (those of an index's platform manifests included).");
    m.sample("sigaudit_signatures", &[], s.signatures as f64);

    m.family("sigaudit_errors", "Entries of the report's errors: what could not be examined.");
    m.sample("sigaudit_errors", &[], s.errors as f64);

    m.family(
        "sigaudit_coverage_ratio",
        "Share of images or files signed (at least one signature found) and verified, 0 to 1.",
    );
    m.sample("sigaudit_coverage_ratio", &[("coverage", "signed")], s.coverage.signed);
    m.sample("sigaudit_coverage_ratio", &[("coverage", "verified")], s.coverage.verified);

    m.family("sigaudit_scan_complete", "1 when everything was examined, 0 when the scan is incomplete (see errors).");
    m.sample("sigaudit_scan_complete", &[], if scan.complete { 1.0 } else { 0.0 });

    if let Some(finished) = &scan.finished_at {
        if let Some(d) = seconds_between(&scan.started_at, finished) {
            m.family("sigaudit_scan_duration_seconds", "How long the scan took: finishedAt minus startedAt.");
            m.sample("sigaudit_scan_duration_seconds", &[], d.max(0.0));
        }
        if let Some(t) = parse_time(finished) {
            let t = t.timestamp_millis() as f64 / 1000.0;
            m.family("sigaudit_scan_timestamp_seconds", "When the scan finished (Unix time), complete or not.");
            m.sample("sigaudit_scan_timestamp_seconds", &[], t);
            let last = if scan.complete { Some(t) } else { previous.and_then(last_complete) };
            if let Some(last) = last {
                m.family(
                    LAST_COMPLETE,
                    "When the last complete scan finished (Unix time): this one, or, when this one is incomplete, the one the replaced file recorded.",
                );
                m.sample(LAST_COMPLETE, &[], last);
            }
        }
    }
    out.write_all(m.text.as_bytes())
}

/// `sigaudit cluster`: the containers of `workloads`, by the status of what they run.
fn workload_metrics(m: &mut Metrics, s: &WorkloadSummary, workloads: &[WorkloadReport]) {
    m.family("sigaudit_workload_pods", "Pods whose containers the cluster report lists.");
    m.sample("sigaudit_workload_pods", &[], s.pods as f64);
    m.family(
        "sigaudit_workload_containers_by_status",
        "Containers (init and ephemeral included) by the status of the image they run; those whose digest is not known are not counted.",
    );
    for status in STATUSES {
        let n = s.by_status.get(&status).copied().unwrap_or(0);
        m.sample("sigaudit_workload_containers_by_status", &[("status", status.as_str())], n as f64);
    }
    m.family(
        "sigaudit_workload_containers_waived_by_status",
        "Containers whose running image a waiver accepts (--waivers), by status; --fail-on ignores them.",
    );
    for status in STATUSES.into_iter().filter(|s| *s != Status::Verified) {
        let n = s.waived.get(&status).copied().unwrap_or(0);
        m.sample("sigaudit_workload_containers_waived_by_status", &[("status", status.as_str())], n as f64);
    }
    m.family(
        "sigaudit_workload_containers_digest_unknown",
        "Containers whose running digest is not known yet (a pending pod): never counted unsigned.",
    );
    m.sample("sigaudit_workload_containers_digest_unknown", &[], s.digest_unknown as f64);
    m.family(
        "sigaudit_workload_containers_drifted",
        "Containers whose spec's tag now names another digest than the one running, or is gone.",
    );
    m.sample("sigaudit_workload_containers_drifted", &[], s.drifted as f64);
    let mut by_ns: BTreeMap<&str, BTreeMap<Status, u64>> = BTreeMap::new();
    for w in workloads {
        let counts = by_ns.entry(w.namespace.as_str()).or_default();
        if let Some(status) = w.status {
            *counts.entry(status).or_default() += 1;
        }
    }
    m.family(
        "sigaudit_namespace_workload_containers_by_status",
        "Containers listed in the report, by Kubernetes namespace and the status of the image they run.",
    );
    for (ns, counts) in &by_ns {
        for status in STATUSES {
            let n = counts.get(&status).copied().unwrap_or(0);
            m.sample(
                "sigaudit_namespace_workload_containers_by_status",
                &[("namespace", ns), ("status", status.as_str())],
                n as f64,
            );
        }
    }
}

struct Metrics {
    text: String,
    base: Vec<(&'static str, String)>,
}

impl Metrics {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(self.text, "# HELP {name} {}", help_text(help));
        let _ = writeln!(self.text, "# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        let all = self.base.iter().map(|(k, v)| (*k, v.as_str())).chain(labels.iter().copied());
        let labels: Vec<String> = all.map(|(k, v)| format!("{k}=\"{}\"", label_value(v))).collect();
        let _ = writeln!(self.text, "{name}{{{}}} {}", labels.join(","), number(value));
    }
}

/// A label value: `\`, `"` and newline escaped (the only escapes the format has).
pub(super) fn label_value(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '"' => o.push_str("\\\""),
            '\n' => o.push_str("\\n"),
            c => o.push(c),
        }
    }
    o
}

/// HELP text: `\` and newline escaped.
fn help_text(s: &str) -> String {
    s.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: integers without a fraction, others as Rust prints them (shortest round trip).
fn number(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_complete_scan_time_is_found() {
        let prev = "# HELP sigaudit_last_complete_scan_timestamp_seconds x\nsigaudit_last_complete_scan_timestamp_seconds{kind=\"registry\",target=\"r\"} 1767225600\n";
        assert_eq!(last_complete(prev), Some(1767225600.0));
        assert_eq!(last_complete("sigaudit_last_complete_scan_timestamp_seconds_x 5\n"), None);
        assert_eq!(last_complete("garbage"), None);
    }

    #[test]
    fn label_values_and_numbers() {
        assert_eq!(label_value("a\\b\"c\nd,e}"), "a\\\\b\\\"c\\nd,e}");
        assert_eq!(number(25.0), "25");
        assert_eq!(number(0.76), "0.76");
        assert_eq!(number(1767225600.5), "1767225600.5");
    }
}
