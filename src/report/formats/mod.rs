//! Report formats for auditors and tools, rendered from a finished [`Report`] (the one `-o json`
//! prints): CSV for spreadsheets, SARIF 2.1.0 for code-scanning dashboards, JUnit XML for CI,
//! a Prometheus textfile-collector file, and one self-contained HTML page. Each is a pure
//! function of the report; docs/REPORT.md documents every column, rule id and metric.
//!
//! Everything a registry, a certificate or a file system chose (repository names, tags, paths,
//! signer names, reasons quoting payloads) is hostile: each format escapes it in its own syntax,
//! and characters no format can carry (C0/C1 controls but tab, newline and carriage return;
//! U+FFFE, U+FFFF) are replaced by U+FFFD first, where the format cannot carry them.

mod csv;
mod html;
mod junit;
mod prometheus;
mod sarif;

use super::{FileReport, ImageReport, Report, Signer, Status, Verdict};
use std::borrow::Cow;
use std::io::{self, Write};

/// A report format beyond the built-in table/JSON/NDJSON/SigScan ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Extra {
    Csv,
    Sarif,
    Junit,
    Prometheus,
    Html,
}

impl Extra {
    pub const ALL: [Extra; 5] = [Extra::Csv, Extra::Sarif, Extra::Junit, Extra::Prometheus, Extra::Html];

    /// The name `-o` takes.
    pub fn name(self) -> &'static str {
        match self {
            Extra::Csv => "csv",
            Extra::Sarif => "sarif",
            Extra::Junit => "junit",
            Extra::Prometheus => "prometheus",
            Extra::Html => "html",
        }
    }

    pub fn parse(name: &str) -> Option<Extra> {
        Extra::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The usual file name extension.
    pub fn extension(self) -> &'static str {
        match self {
            Extra::Csv => "csv",
            Extra::Sarif => "sarif",
            Extra::Junit => "xml",
            Extra::Prometheus => "prom",
            Extra::Html => "html",
        }
    }
}

/// Write `report` in `format` to `out`.
pub fn render(format: Extra, report: &Report, out: &mut dyn Write) -> io::Result<()> {
    render_replacing(format, report, None, out)
}

/// As [`render`], for a file that replaces `previous` (its content before this run): Prometheus
/// carries the last complete scan's time from it when this scan is incomplete.
pub fn render_replacing(format: Extra, report: &Report, previous: Option<&str>, out: &mut dyn Write) -> io::Result<()> {
    match format {
        Extra::Prometheus => prometheus::render_carrying(report, previous, out),
        Extra::Csv => csv::render(report, out),
        Extra::Sarif => sarif::render(report, out),
        Extra::Junit => junit::render(report, out),
        Extra::Html => html::render(report, out),
    }
}

/// Every status, in the report's order (best first).
const STATUSES: [Status; 7] = Status::ALL;

/// One image or file of a report.
#[derive(Clone, Copy)]
enum Item<'a> {
    Image(&'a ImageReport),
    File(&'a FileReport),
}

/// One signature of an item, whichever kind: the item's own, or (images) a platform manifest's.
struct Sig<'a> {
    verdict: Verdict,
    reasons: &'a [String],
    /// The reasons' codes, index-aligned (empty in reports from before codes).
    codes: &'a [String],
    signer: Option<&'a Signer>,
    /// `cosign simplesigning signature (tag)`, `authenticode 0`…
    what: String,
    /// The platform manifest it signs (`linux/amd64 sha256:…`), for platform signatures.
    platform: Option<String>,
}

impl<'a> Item<'a> {
    fn all(report: &'a Report) -> Vec<Item<'a>> {
        let images = report.images.iter().flatten().map(Item::Image);
        images.chain(report.files.iter().flatten().map(Item::File)).collect()
    }

    fn status(&self) -> Status {
        match self {
            Item::Image(i) => i.status,
            Item::File(f) => f.status,
        }
    }

    /// The waiver that accepts this item, if one does (`--waivers`).
    fn waived(&self) -> Option<&'a crate::report::waivers::Waived> {
        match self {
            Item::Image(i) => i.waived.as_ref(),
            Item::File(f) => f.waived.as_ref(),
        }
    }

    /// `image` or `file`.
    fn kind(&self) -> &'static str {
        match self {
            Item::Image(_) => "image",
            Item::File(_) => "file",
        }
    }

    /// `repository:tag,tag@digest` (`repository@digest` untagged), or the path.
    fn name(&self) -> String {
        match self {
            Item::Image(i) => image_name(i),
            Item::File(f) => f.path.clone(),
        }
    }

    /// The name with the registry in front, for images.
    fn full_name(&self) -> String {
        match self {
            Item::Image(i) => match &i.registry {
                Some(r) => format!("{r}/{}", image_name(i)),
                None => image_name(i),
            },
            Item::File(f) => f.path.clone(),
        }
    }

    /// Registry scans: the repository's first path segment; filesystem scans: the file type.
    fn group(&self) -> (Option<&'a str>, &'a str) {
        match self {
            Item::Image(i) => (i.registry.as_deref(), namespace(&i.repository)),
            Item::File(f) => (None, f.file_type.as_str()),
        }
    }

    /// The item's own signatures, then (images) those of its platform manifests.
    fn signatures(&self) -> Vec<Sig<'a>> {
        match self {
            Item::Image(i) => {
                let own = i.signatures.iter().map(|s| (s, None));
                let platforms = i.platforms.iter().flat_map(|p| {
                    let label = match &p.platform {
                        Some(pl) => format!("{pl} {}", p.digest),
                        None => p.digest.clone(),
                    };
                    p.signatures.iter().map(move |s| (s, Some(label.clone())))
                });
                own.chain(platforms)
                    .map(|(s, platform)| Sig {
                        verdict: s.verification.status,
                        reasons: &s.verification.reasons,
                        codes: &s.verification.reason_codes,
                        signer: s.signer.as_ref(),
                        what: format!(
                            "{} {} {} ({})",
                            ser_word(&s.format),
                            ser_word(&s.envelope),
                            ser_word(&s.kind),
                            ser_word(&s.discovery)
                        ),
                        platform,
                    })
                    .collect()
            }
            Item::File(f) => f
                .signatures
                .iter()
                .map(|s| Sig {
                    verdict: s.verification.status,
                    reasons: &s.verification.reasons,
                    codes: &s.verification.reason_codes,
                    signer: s.signer.as_ref(),
                    what: format!("{} {}", s.format, s.index),
                    platform: None,
                })
                .collect(),
        }
    }

    /// Lookups that failed for this item (images).
    fn discovery_errors(&self) -> &'a [String] {
        match self {
            Item::Image(i) => &i.discovery_errors,
            Item::File(_) => &[],
        }
    }
}

fn image_name(i: &ImageReport) -> String {
    if i.tags.is_empty() {
        format!("{}@{}", i.repository, i.digest)
    } else {
        format!("{}:{}@{}", i.repository, i.tags.join(","), i.digest)
    }
}

/// The repository's first path segment (`team` of `team/app/api`; a one-segment name is its own).
fn namespace(repository: &str) -> &str {
    repository.split('/').next().unwrap_or(repository)
}

/// The word serde writes for a unit enum variant (`sigstore-bundle`, `referrers-tag`).
fn ser_word<T: serde::Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// A signer's most telling name, or a word saying there is none.
fn signer_name(signer: Option<&Signer>) -> String {
    signer.map(Signer::display_name).filter(|n| !n.is_empty()).unwrap_or_else(|| "(no signer identity)".into())
}

/// The scan's target, one line (several targets comma-separated).
fn target(report: &Report) -> String {
    match &report.scan.target {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))
            .collect::<Vec<_>>()
            .join(","),
        other => other.to_string(),
    }
}

/// The statuses that fail the scan: `--fail-on` as the scan ran with it (`scan.settings`), else
/// `invalid` and `error` (what `--only failing` lists without it).
fn failing(report: &Report) -> Vec<Status> {
    let given = report.scan.settings.as_ref().and_then(|s| s.get("fail-on"));
    let mut statuses: Vec<Status> = match given {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str())
            .flat_map(|s| s.split(','))
            .filter_map(|s| Status::parse(s.trim()))
            .collect(),
        Some(serde_json::Value::String(s)) => s.split(',').filter_map(|s| Status::parse(s.trim())).collect(),
        _ => Vec::new(),
    };
    if statuses.is_empty() {
        statuses = vec![Status::Invalid, Status::Error];
    }
    statuses.sort();
    statuses.dedup();
    statuses
}

/// Seconds between two RFC 3339 times (`finishedAt − startedAt`), when both parse.
fn seconds_between(start: &str, end: &str) -> Option<f64> {
    let (s, e) = (parse_time(start)?, parse_time(end)?);
    Some((e - s).num_milliseconds() as f64 / 1000.0)
}

fn parse_time(t: &str) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(t).ok()
}

/// Whether a character can stand in XML 1.0 (and so in HTML without a parse error).
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// `s` with every character XML 1.0 cannot carry (and DEL and the C1 controls, which HTML
/// flags) replaced by U+FFFD.
/// Markup escaping shared by JUnit (XML) and HTML, after [`clean`]: `&`, `<`, `>` always; with
/// `quotes`, `"` and `'`; with `breaks`, tab and LF as references (attribute-value normalization
/// would turn them into spaces); CR always as a reference except in HTML (`html`), where a text
/// CR is harmless and XML parsers would turn a raw one into LF.
fn markup(s: &str, quotes: bool, breaks: bool, html: bool) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in clean(s).chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' if quotes => o.push_str("&quot;"),
            '\'' if quotes && html => o.push_str("&#39;"),
            '\'' if quotes => o.push_str("&apos;"),
            '\t' if breaks => o.push_str("&#9;"),
            '\n' if breaks => o.push_str("&#10;"),
            '\r' if !html => o.push_str("&#13;"),
            c => o.push(c),
        }
    }
    o
}

fn clean(s: &str) -> Cow<'_, str> {
    if s.chars().all(xml_char) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().map(|c| if xml_char(c) { c } else { '\u{fffd}' }).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_namespaces() {
        assert_eq!(namespace("team/app/api"), "team");
        assert_eq!(namespace("alpine"), "alpine");
        assert_eq!(clean("a\u{1}b\u{7f}c\u{85}\u{ffff}\tok\n"), "a\u{fffd}b\u{fffd}c\u{fffd}\u{fffd}\tok\n");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        assert_eq!(seconds_between("2026-01-01T00:00:00Z", "2026-01-01T00:01:30.5Z"), Some(90.5));
        for f in Extra::ALL {
            assert_eq!(Extra::parse(f.name()), Some(f));
        }
    }
}
