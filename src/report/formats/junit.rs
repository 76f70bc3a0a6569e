//! JUnit XML (the Ant/Surefire shape CI dashboards read; valid against Jenkins xUnit's
//! junit-10.xsd): one `<testsuite>` per registry (filesystem scans: one), one `<testcase>` per
//! image or file. An item whose status is a failing one (`--fail-on` as the scan ran with it,
//! else `invalid` and `error`) fails: `<error>` for status `error` (it could not be checked),
//! `<failure>` for the others. A last suite, `scan`, has one test case, `complete`, that errs
//! when the scan was incomplete, listing every entry of `errors`. A cluster report has, before
//! it, a `workloads` suite: one test case per container, failing as the image it runs would.

use super::{failing, seconds_between, target, Item, Report};
use crate::report::workload::WorkloadReport;
use crate::report::Status;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let fails = failing(report);
    let scan = &report.scan;
    let time = scan.finished_at.as_deref().and_then(|f| seconds_between(&scan.started_at, f)).unwrap_or(0.0).max(0.0);
    let time = format!("{time:.3}");

    // Suites: by registry for images (in the report's order), one for files.
    let mut suites: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for item in Item::all(report) {
        let name = match item {
            Item::Image(i) => format!("registry {}", i.registry.as_deref().unwrap_or("(unnamed)")),
            Item::File(_) => "filesystem".to_string(),
        };
        suites.entry(name).or_default().push(item);
    }

    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (mut tests, mut failures, mut errors) = (0usize, 0usize, 0usize);
    let mut body = String::new();
    // One <testsuite> of `n` cases with its failure, error and skipped counts, added to the totals.
    let mut suite = |name: &str, n: usize, cases: &str, (f, e, k): (usize, usize, usize)| {
        let _ = writeln!(
            body,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{f}\" errors=\"{e}\" skipped=\"{k}\" timestamp=\"{}\" time=\"{time}\">",
            attr(name),
            attr(&scan.started_at),
        );
        body.push_str(&properties(report, &fails));
        body.push_str(cases);
        body.push_str("  </testsuite>\n");
        tests += n;
        failures += f;
        errors += e;
    };
    for (name, items) in &suites {
        let mut cases = String::new();
        let (mut f, mut e, mut k) = (0, 0, 0);
        for item in items {
            let status = item.status();
            let (classname, case) = match item {
                Item::Image(i) => (i.repository.clone(), super::image_name(i)),
                Item::File(file) => match file.path.rsplit_once('/') {
                    Some((dir, base)) if !base.is_empty() => (dir.to_string(), base.to_string()),
                    _ => (String::new(), file.path.clone()),
                },
            };
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
                attr(&classname),
                attr(&case)
            );
            let detail = details(item);
            if let Some(w) = item.waived().filter(|_| fails.contains(&status)) {
                // Accepted for now: skipped, with the waiver, not a failure (`--fail-on` agrees).
                k += 1;
                let message = format!(
                    "{} {} is {}, waived: {} ({}, until {})",
                    item.kind(),
                    item.full_name(),
                    status.as_str(),
                    w.reason,
                    w.owner,
                    w.expires
                );
                let _ = writeln!(cases, "      <skipped message=\"{}\">{}</skipped>", attr(&message), text(&detail));
            } else if fails.contains(&status) {
                let element = if status == Status::Error { "error" } else { "failure" };
                if status == Status::Error {
                    e += 1;
                } else {
                    f += 1;
                }
                let message = format!("{} {} is {}", item.kind(), item.full_name(), status.as_str());
                let _ = writeln!(
                    cases,
                    "      <{element} type=\"{}\" message=\"{}\">{}</{element}>",
                    status.as_str(),
                    attr(&message),
                    text(&detail)
                );
            } else {
                let _ =
                    writeln!(cases, "      <system-out>status: {}\n{}</system-out>", status.as_str(), text(&detail));
            }
            cases.push_str("    </testcase>\n");
        }
        suite(name, items.len(), &cases, (f, e, k));
    }

    // `sigaudit cluster`: one test case per container, failing as its image would.
    if let Some(workloads) = &report.workloads {
        let (cases, f, e, k) = workload_cases(workloads, &fails);
        suite("workloads", workloads.len(), &cases, (f, e, k));
    }

    // The scan's own completeness.
    let incomplete = !scan.complete;
    let _ = writeln!(
        body,
        "  <testsuite name=\"scan\" tests=\"1\" failures=\"0\" errors=\"{}\" skipped=\"0\" timestamp=\"{}\" time=\"{time}\">",
        u8::from(incomplete),
        attr(&scan.started_at),
    );
    let _ = writeln!(body, "    <testcase classname=\"scan\" name=\"complete\" time=\"{time}\">");
    if incomplete {
        let mut listed = String::new();
        for e in &report.errors {
            let place = [e.registry.as_deref(), e.repository.as_deref(), e.reference.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(listed, "{} {place}: {}", e.code, e.message);
        }
        let message = format!("the scan is incomplete: {} error(s)", report.errors.len());
        let _ =
            writeln!(body, "      <error type=\"incomplete\" message=\"{}\">{}</error>", attr(&message), text(&listed));
        errors += 1;
    }
    body.push_str("    </testcase>\n  </testsuite>\n");
    tests += 1;

    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time}\">",
        attr(&format!("sigaudit {} {}", scan.kind, target(report))),
    );
    xml.push_str(&body);
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

/// The test cases of `workloads` (`classname` `NAMESPACE/KIND/NAME`, `name` `POD/CONTAINER`)
/// and their failures, errors and skips: a container fails when the status of what it runs is
/// a failing one, is skipped when a waiver accepts that image, and passes when no digest is
/// known (it is never counted `unsigned`).
fn workload_cases(workloads: &[WorkloadReport], fails: &[Status]) -> (String, usize, usize, usize) {
    let (mut cases, mut f, mut e, mut k) = (String::new(), 0, 0, 0);
    for w in workloads {
        let classname = format!("{}/{}/{}", w.namespace, w.owner.kind, w.owner.name);
        let case = format!("{}/{}", w.pod, w.container);
        let _ =
            writeln!(cases, "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">", attr(&classname), attr(&case));
        let mut detail = format!("image: {}\nstate: {}\n", w.image, w.state);
        if let (Some(r), Some(d)) = (&w.repository, &w.digest) {
            let _ = writeln!(detail, "runs: {}/{r}@{d}", w.registry.as_deref().unwrap_or(""));
        }
        if let Some(true) = w.drift {
            let _ = writeln!(detail, "drift: the tag now names {}", w.tag_digest.as_deref().unwrap_or("nothing"));
        }
        for n in &w.notes {
            let _ = writeln!(detail, "note: {n}");
        }
        let what = format!("container {case} of {classname}");
        match w.status {
            Some(status) if fails.contains(&status) && w.waived => {
                k += 1;
                let message = format!("{what} runs an image that is {}, waived", status.as_str());
                let _ = writeln!(cases, "      <skipped message=\"{}\">{}</skipped>", attr(&message), text(&detail));
            }
            Some(status) if fails.contains(&status) => {
                let element = if status == Status::Error { "error" } else { "failure" };
                if status == Status::Error {
                    e += 1;
                } else {
                    f += 1;
                }
                let message = format!("{what} runs an image that is {}", status.as_str());
                let _ = writeln!(
                    cases,
                    "      <{element} type=\"{}\" message=\"{}\">{}</{element}>",
                    status.as_str(),
                    attr(&message),
                    text(&detail)
                );
            }
            status => {
                let said = status.map_or("digest not known", |s| s.as_str());
                let _ = writeln!(cases, "      <system-out>status: {said}\n{}</system-out>", text(&detail));
            }
        }
        cases.push_str("    </testcase>\n");
    }
    (cases, f, e, k)
}

fn properties(report: &Report, fails: &[Status]) -> String {
    let mut p = String::from("    <properties>\n");
    let mut prop = |name: &str, value: &str| {
        let _ = writeln!(p, "      <property name=\"{}\" value=\"{}\"/>", attr(name), attr(value));
    };
    prop("sigaudit.version", &report.tool.version);
    prop("scan.kind", &report.scan.kind);
    prop("scan.target", &target(report));
    prop("scan.startedAt", &report.scan.started_at);
    prop("scan.finishedAt", report.scan.finished_at.as_deref().unwrap_or(""));
    prop("scan.complete", if report.scan.complete { "true" } else { "false" });
    prop("fail-on", &fails.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","));
    p.push_str("    </properties>\n");
    p
}

/// What a test case says of its item: each signature with its verdict and reasons, failed lookups.
fn details(item: &Item) -> String {
    let mut d = String::new();
    for s in item.signatures() {
        let _ = writeln!(
            d,
            "{}{} by {}: {}",
            s.what,
            s.platform.as_deref().map(|p| format!(" of platform {p}")).unwrap_or_default(),
            super::signer_name(s.signer),
            s.verdict.as_str()
        );
        for r in s.reasons {
            let _ = writeln!(d, "  {r}");
        }
    }
    for e in item.discovery_errors() {
        let _ = writeln!(d, "lookup failed: {e}");
    }
    if d.is_empty() {
        d.push_str("no signature\n");
    }
    d
}

/// Text content: `&`, `<`, `>` escaped, and CR as a reference (XML parsers turn a raw CR into LF).
fn text(s: &str) -> String {
    super::markup(s, false, false, false)
}

/// An attribute value in double quotes: also `"` and `'` escaped, and tab, LF and CR as
/// references (attribute-value normalization turns raw ones into spaces).
fn attr(s: &str) -> String {
    super::markup(s, true, true, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes() {
        assert_eq!(attr("a<b>&\"c'\n\t\r\u{1}"), "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;&#13;\u{fffd}");
        assert_eq!(text("]]><x>\r\n"), "]]&gt;&lt;x&gt;&#13;\n");
    }
}
