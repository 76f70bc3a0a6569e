//! `--waivers FILE`: exceptions accepted on purpose, each with a reason, an owner and an expiry.
//!
//! A waiver never changes a verdict: the item keeps its status and gains `waived` (which waiver,
//! why, whose, until when), and `--fail-on` does not count it until the waiver expires. What a
//! waiver matches is narrow by construction: every selector given must match (`registry`,
//! `repository`, `tag`, `digest` for images; `path`, `digest` for files), and then the item's
//! status must be one of `status`, or one of its signatures must carry a reason code of `code`.
//! A waiver without a selector, without `status` or `code`, or without a reason, owner and
//! expiry is refused, and so is any key this file does not know: a typo must not widen or keep
//! alive an exception.
//!
//! ```toml
//! [[waiver]]
//! repository = "vendor/*"
//! status = ["unsigned"]
//! reason = "signed upstream; mirrored as is"
//! owner = "secops@example.com"
//! expires = 2027-03-01
//! ```

use super::{FileReport, ImageReport, Status};
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};

/// The waiver that accepts an item, as the item carries it in the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Waived {
    pub reason: String,
    pub owner: String,
    /// As the waivers file gives it: a date (`2027-03-01`) or a time with its offset.
    pub expires: String,
    /// The waiver's position among the file's `[[waiver]]` entries, from 0.
    pub index: usize,
    /// `--warn-expiring`: the waiver ends within that time (the item then counts again).
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub expiring_soon: bool,
}

/// One waiver as the report's `waivers` section lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WaiverEntry {
    pub index: usize,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub status: Vec<Status>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub code: Vec<String>,
    pub reason: String,
    pub owner: String,
    pub expires: String,
    /// Items it matched. For an expired waiver: the items it would still cover, were it renewed.
    pub matched: u64,
}

impl WaiverEntry {
    /// `#2 repository vendor/*, status unsigned`: which waiver, by what it selects.
    pub fn label(&self) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("registry", &self.registry),
            ("repository", &self.repository),
            ("tag", &self.tag),
            ("digest", &self.digest),
            ("path", &self.path),
        ] {
            if let Some(v) = v {
                parts.push(format!("{k} {v}"));
            }
        }
        if !self.status.is_empty() {
            let s: Vec<&str> = self.status.iter().map(|s| s.as_str()).collect();
            parts.push(format!("status {}", s.join("|")));
        }
        if !self.code.is_empty() {
            parts.push(format!("code {}", self.code.join("|")));
        }
        format!("#{} {}", self.index, parts.join(", "))
    }
}

/// The report's `waivers` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct WaiversReport {
    /// The waivers file, as given.
    pub file: String,
    /// `[[waiver]]` entries in it.
    pub waivers: u64,
    /// Items (images or files) a waiver accepted.
    pub applied: u64,
    /// Waivers whose expiry is at or before the scan's time (`--at`, else now): they apply to
    /// nothing.
    pub expired: Vec<WaiverEntry>,
    /// Waivers in force that matched no item.
    pub unused: Vec<WaiverEntry>,
}

/// A `[[waiver]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    registry: Option<String>,
    repository: Option<String>,
    tag: Option<String>,
    digest: Option<String>,
    path: Option<String>,
    status: Option<Vec<String>>,
    code: Option<Vec<String>>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<toml::value::Datetime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WaiversFile {
    #[serde(default)]
    waiver: Vec<Raw>,
}

#[derive(Debug)]
struct Compiled {
    entry: WaiverEntry,
    repository: Option<GlobMatcher>,
    tag: Option<GlobMatcher>,
    path: Option<GlobMatcher>,
    expired: bool,
    /// Its expiry (Unix seconds).
    at: i64,
}

/// What a waiver is matched against: an image or a file of a report.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub registry: Option<String>,
    pub repository: Option<String>,
    pub tags: Vec<String>,
    /// An image's digest; a file's SHA-256 as `sha256:<hex>`.
    pub digest: Option<String>,
    pub path: Option<String>,
    pub status: Status,
    /// The reason codes of its signatures (`verification.reasonCodes`).
    pub codes: Vec<String>,
}

/// The reason codes of a signature's verification, read from its JSON (`reasonCodes`, beside
/// `reasons`), so that they are found whichever build wrote them.
fn codes_of(verification: &serde_json::Value, out: &mut Vec<String>) {
    let codes = verification.get("reasonCodes").and_then(|c| c.as_array());
    for c in codes.into_iter().flatten().filter_map(|c| c.as_str()) {
        if !out.iter().any(|x| x == c) {
            out.push(c.to_string());
        }
    }
}

/// The reason codes of the signatures that decide `status`: those whose verdict is that status.
/// A code carried only by another signature (a junk replayed layer beside an untrusted signer)
/// says nothing about why the item has its status, and must not waive it.
fn deciding_codes<'a>(verifications: impl Iterator<Item = &'a super::Verification>, status: Status) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in verifications.filter(|v| v.status.as_str() == status.as_str()) {
        for c in &v.reason_codes {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
    }
    out
}

impl Candidate {
    pub fn image(i: &ImageReport) -> Candidate {
        Candidate {
            registry: i.registry.clone(),
            repository: Some(i.repository.clone()),
            tags: i.tags.clone(),
            digest: Some(i.digest.clone()),
            path: None,
            status: i.status,
            codes: deciding_codes(i.signatures.iter().map(|s| &s.verification), i.status),
        }
    }

    pub fn file(f: &FileReport) -> Candidate {
        Candidate {
            registry: None,
            repository: None,
            tags: Vec::new(),
            digest: Some(format!("sha256:{}", f.sha256)),
            path: Some(f.path.clone()),
            status: f.status,
            codes: deciding_codes(f.signatures.iter().map(|s| &s.verification), f.status),
        }
    }

    /// An image or file object of a report's JSON (`images[]`, `files[]`, an NDJSON line).
    pub fn from_json(v: &serde_json::Value) -> Option<Candidate> {
        let text = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let status: Status = serde_json::from_value(v.get("status")?.clone()).ok()?;
        let mut codes = Vec::new();
        for s in v.get("signatures").and_then(|s| s.as_array()).into_iter().flatten() {
            if let Some(ver) =
                s.get("verification").filter(|ver| ver.get("status").and_then(|x| x.as_str()) == Some(status.as_str()))
            {
                codes_of(ver, &mut codes);
            }
        }
        let tags = v
            .get("tags")
            .and_then(|t| t.as_array())
            .map(|t| t.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        let (digest, path) = match text("path") {
            Some(p) => (text("sha256").map(|h| format!("sha256:{h}")), Some(p)),
            None => (text("digest"), None),
        };
        Some(Candidate {
            registry: text("registry"),
            repository: text("repository"),
            tags,
            digest,
            path,
            status,
            codes,
        })
    }
}

/// The waivers of one file, judged at one time, with what each matched so far.
#[derive(Debug)]
pub struct Waivers {
    file: String,
    list: Vec<Compiled>,
    applied: u64,
    /// `--warn-expiring`: (now, period): a waiver ending before now + period is flagged.
    warn: Option<(i64, i64)>,
}

fn glob(what: &str, index: usize, pattern: &str) -> Result<GlobMatcher, String> {
    // `*` stays within one path segment, `**` crosses them: `vendor/*` is vendor's own
    // repositories, `vendor/**` everything below it. A character class (`[!x]`) would match a
    // `/` too and reach into other segments: refused, so a waiver covers what it reads as.
    if pattern.contains('[') {
        return Err(format!(
            "waiver #{index}: {what} {pattern:?}: character classes ([…]) are not accepted in waivers (they can match a `/`); use *, ** and ?"
        ));
    }
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("waiver #{index}: {what} {pattern:?}: {e}"))
}

/// Unix seconds of a waiver's expiry: a date is its first instant in UTC (the waiver holds
/// until that day begins); a time needs its offset.
fn expiry(index: usize, d: &toml::value::Datetime) -> Result<i64, String> {
    let bad = |why: &str| format!("waiver #{index}: expires = {d}: {why}");
    let date = d.date.ok_or_else(|| bad("give a date (2027-03-01) or a time with its offset"))?;
    let day = chrono::NaiveDate::from_ymd_opt(i32::from(date.year), u32::from(date.month), u32::from(date.day))
        .ok_or_else(|| bad("not a date"))?;
    let at = match (d.time, d.offset) {
        (None, _) => day.and_hms_opt(0, 0, 0).ok_or_else(|| bad("not a date"))?.and_utc().timestamp(),
        (Some(_), None) => return Err(bad("a time needs its offset (Z, +01:00…), or give a date")),
        (Some(t), Some(offset)) => {
            let local = day
                .and_hms_opt(u32::from(t.hour), u32::from(t.minute), u32::from(t.second))
                .ok_or_else(|| bad("not a time"))?
                .and_utc()
                .timestamp();
            let minutes = match offset {
                toml::value::Offset::Z => 0,
                toml::value::Offset::Custom { minutes } => i64::from(minutes),
            };
            local - minutes * 60
        }
    };
    Ok(at)
}

impl Waivers {
    /// Read a waivers file (`file` names it in messages and in the report) and judge each
    /// waiver's expiry at `now` (Unix seconds). Every waiver must hold a selector, a status or a
    /// code, a reason, an owner and an expiry; unknown keys are refused.
    pub fn parse(file: &str, text: &str, now: i64) -> Result<Waivers, String> {
        let parsed: WaiversFile = toml::from_str(text).map_err(|e| format!("{file}: {e}"))?;
        let mut list = Vec::new();
        for (index, raw) in parsed.waiver.into_iter().enumerate() {
            let need = |v: Option<String>, key: &str, why: &str| -> Result<String, String> {
                v.filter(|s| !s.trim().is_empty()).ok_or_else(|| format!("{file}: waiver #{index} has no {key}: {why}"))
            };
            let reason = need(raw.reason, "reason", "say why the exception is accepted")?;
            let owner = need(raw.owner, "owner", "name who answers for it")?;
            let expires_at = raw.expires.as_ref().ok_or_else(|| {
                format!("{file}: waiver #{index} has no expires: every waiver must end (expires = 2027-03-01)")
            })?;
            let at = expiry(index, expires_at).map_err(|e| format!("{file}: {e}"))?;
            if let Some(r) = raw.registry.as_ref().filter(|r| r.contains("://") || r.contains('/') || r.is_empty()) {
                return Err(format!(
                    "{file}: waiver #{index}: registry {r:?} is not HOST[:PORT] as reports name it (no scheme, no path)"
                ));
            }
            let image_keys = raw.registry.is_some() || raw.repository.is_some() || raw.tag.is_some();
            if raw.path.is_some() && image_keys {
                return Err(format!(
                    "{file}: waiver #{index} names a path and an image (registry, repository, tag): it could match nothing"
                ));
            }
            if !image_keys && raw.path.is_none() && raw.digest.is_none() {
                return Err(format!(
                    "{file}: waiver #{index} selects nothing: give repository, tag, digest, registry (images) or path (files)"
                ));
            }
            let mut status = Vec::new();
            for w in raw.status.unwrap_or_default() {
                let s = Status::parse(w.trim()).ok_or_else(|| {
                    format!("{file}: waiver #{index}: unknown status {w:?} (invalid, unverified, untrusted, unsigned, unsupported, error)")
                })?;
                if s == Status::Verified {
                    return Err(format!("{file}: waiver #{index}: a verified item needs no waiver"));
                }
                status.push(s);
            }
            let code: Vec<String> = raw.code.unwrap_or_default();
            if let Some(c) = code.iter().find(|c| super::ReasonCode::parse(c).is_none()) {
                return Err(format!("{file}: waiver #{index}: code {c:?} is not a reason code (docs/REPORT.md, \"Reason codes\", lists them)"));
            }
            if status.is_empty() && code.is_empty() {
                return Err(format!(
                    "{file}: waiver #{index} waives no status and no code: give status = [\"unsigned\"…] or code = [\"…\"]"
                ));
            }
            let compile = |what: &str, p: &Option<String>| p.as_deref().map(|p| glob(what, index, p)).transpose();
            let (repository, tag, path) = (
                compile("repository", &raw.repository).map_err(|e| format!("{file}: {e}"))?,
                compile("tag", &raw.tag).map_err(|e| format!("{file}: {e}"))?,
                compile("path", &raw.path).map_err(|e| format!("{file}: {e}"))?,
            );
            list.push(Compiled {
                entry: WaiverEntry {
                    index,
                    registry: raw.registry,
                    repository: raw.repository,
                    tag: raw.tag,
                    digest: raw.digest,
                    path: raw.path,
                    status,
                    code,
                    reason,
                    owner,
                    expires: expires_at.to_string(),
                    matched: 0,
                },
                repository,
                tag,
                path,
                expired: at <= now,
                at,
            });
        }
        Ok(Waivers { file: file.to_string(), list, applied: 0, warn: None })
    }

    fn matches(w: &Compiled, c: &Candidate) -> bool {
        let e = &w.entry;
        let selected = e.registry.as_ref().is_none_or(|r| c.registry.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(r)))
            && w.repository.as_ref().is_none_or(|g| c.repository.as_ref().is_some_and(|r| g.is_match(r)))
            // Every tag of the image: a tag waiver must not cover the same digest under a tag it
            // does not name (an unsigned image pushed as `legacy-1` and `v1` is not waived).
            && w.tag.as_ref().is_none_or(|g| !c.tags.is_empty() && c.tags.iter().all(|t| g.is_match(t)))
            && e.digest.as_ref().is_none_or(|d| c.digest.as_ref().is_some_and(|x| x.eq_ignore_ascii_case(d)))
            && w.path.as_ref().is_none_or(|g| c.path.as_ref().is_some_and(|p| g.is_match(p)))
            // An image waiver never matches a file, nor a file waiver an image.
            && (e.path.is_none() || c.path.is_some())
            && (e.registry.is_none() && e.repository.is_none() && e.tag.is_none() || c.path.is_none());
        selected && (e.status.contains(&c.status) || e.code.iter().any(|x| c.codes.contains(x)))
    }

    /// The first waiver in force that matches `c`; every waiver that matches counts it (an
    /// expired one too, for the report).
    pub fn judge(&mut self, c: &Candidate) -> Option<Waived> {
        let mut first = None;
        for w in &mut self.list {
            if Self::matches(w, c) {
                w.entry.matched += 1;
                if first.is_none() && !w.expired {
                    first = Some(Waived {
                        reason: w.entry.reason.clone(),
                        owner: w.entry.owner.clone(),
                        expires: w.entry.expires.clone(),
                        index: w.entry.index,
                        expiring_soon: self.warn.is_some_and(|(now, period)| w.at <= now.saturating_add(period)),
                    });
                }
            }
        }
        self.applied += u64::from(first.is_some());
        first
    }

    /// `--warn-expiring`: flag the waivers that end within `period` (seconds) from `now`.
    pub fn warn_expiring(&mut self, now: i64, period: i64) {
        self.warn = Some((now, period));
    }

    pub fn apply_image(&mut self, i: &mut ImageReport) {
        let c = Candidate::image(i);
        i.waived = self.judge(&c);
    }

    pub fn apply_file(&mut self, f: &mut FileReport) {
        let c = Candidate::file(f);
        f.waived = self.judge(&c);
    }

    pub fn report(&self) -> WaiversReport {
        WaiversReport {
            file: self.file.clone(),
            waivers: self.list.len() as u64,
            applied: self.applied,
            expired: self.list.iter().filter(|w| w.expired).map(|w| w.entry.clone()).collect(),
            unused: self.list.iter().filter(|w| !w.expired && w.entry.matched == 0).map(|w| w.entry.clone()).collect(),
        }
    }
}

/// The table's lines about waivers: how many items were waived, which waivers expired and which
/// matched nothing.
pub fn table_lines(r: &WaiversReport) -> Vec<String> {
    let mut out = vec![format!(
        "Waivers ({}): items waived: {}; of {} waivers, {} expired and {} unused.",
        r.file,
        r.applied,
        r.waivers,
        r.expired.len(),
        r.unused.len()
    )];
    for w in &r.expired {
        let still = if w.matched > 0 { format!("; items it would still cover: {}", w.matched) } else { String::new() };
        out.push(format!("  expired {} (owner {}, expired {}{still}): {}", w.label(), w.owner, w.expires, w.reason));
    }
    for w in &r.unused {
        out.push(format!("  unused {} (owner {}, until {}): matched nothing", w.label(), w.owner, w.expires));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_780_000_000; // 2026-05-28

    fn parse(text: &str) -> Result<Waivers, String> {
        Waivers::parse("w.toml", text, NOW)
    }

    fn image(repository: &str, tags: &[&str], status: Status) -> Candidate {
        Candidate {
            registry: Some("reg:5000".into()),
            repository: Some(repository.into()),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            digest: Some(format!("sha256:{}", "a".repeat(64))),
            path: None,
            status,
            codes: Vec::new(),
        }
    }

    const BASE: &str = "reason = \"r\"\nowner = \"o\"\nexpires = 2027-03-01\n";

    #[test]
    fn every_waiver_must_say_why_who_and_until_when() {
        for (missing, says) in [("reason", "no reason"), ("owner", "no owner"), ("expires", "no expires")] {
            let text: String = format!("[[waiver]]\nrepository = \"a\"\nstatus = [\"unsigned\"]\n{BASE}")
                .lines()
                .filter(|l| !l.starts_with(missing))
                .map(|l| format!("{l}\n"))
                .collect();
            let e = parse(&text).err().unwrap_or_else(|| panic!("accepted without {missing}"));
            assert!(e.contains(says), "{e}");
        }
        for (bad, says) in [
            ("repository = \"a\"\nstatus = [\"unsigned\"]\ncolour = 1\n", "unknown field"),
            ("status = [\"unsigned\"]\n", "selects nothing"),
            ("repository = \"a\"\n", "no status and no code"),
            ("repository = \"a\"\nstatus = [\"verified\"]\n", "needs no waiver"),
            ("repository = \"a\"\nstatus = [\"unsinged\"]\n", "unknown status"),
            ("repository = \"a\"\npath = \"/x\"\nstatus = [\"unsigned\"]\n", "could match nothing"),
            ("repository = \"a\"\ncode = [\"Not A Code\"]\n", "not a reason code"),
            ("repository = \"deep[!x]a/**\"\nstatus = [\"unsigned\"]\n", "character classes"),
        ] {
            let e = parse(&format!("[[waiver]]\n{bad}{BASE}")).err().unwrap_or_else(|| panic!("accepted {bad}"));
            assert!(e.contains(says), "{bad}: {e}");
        }
        assert!(parse("[[waivers]]\nrepository = \"a\"\n").unwrap_err().contains("unknown field"));
        let local = "[[waiver]]\nrepository = \"a\"\nstatus = [\"unsigned\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-03-01T10:00:00\n";
        assert!(parse(local).unwrap_err().contains("offset"));
    }

    #[test]
    fn selectors_all_match_and_the_first_waiver_in_force_applies() {
        let text = format!(
            "[[waiver]]\nrepository = \"vendor/*\"\nstatus = [\"unsigned\"]\nreason = \"old\"\nowner = \"o\"\nexpires = 2026-01-01\n\
             [[waiver]]\nrepository = \"vendor/*\"\ntag = \"1.*\"\nstatus = [\"unsigned\", \"invalid\"]\n{BASE}\
             [[waiver]]\nregistry = \"other:5000\"\nrepository = \"vendor/**\"\nstatus = [\"unsigned\"]\n{BASE}\
             [[waiver]]\npath = \"/opt/**/*.jar\"\nstatus = [\"unsigned\"]\n{BASE}"
        );
        let mut w = parse(&text).unwrap();
        let got = w.judge(&image("vendor/app", &["1.2", "1.2.3"], Status::Unsigned)).unwrap();
        assert_eq!((got.index, got.expires.as_str()), (1, "2027-03-01"));
        // A tag waiver covers an image only when it covers every tag of it: the same digest as
        // `latest` is not waived by `1.*`.
        assert!(w.judge(&image("vendor/app", &["1.2", "latest"], Status::Unsigned)).is_none());
        // `*` does not cross a `/`; the tag must match; the status must be waived.
        assert!(w.judge(&image("vendor/a/b", &["1.2"], Status::Unsigned)).is_none());
        assert!(w.judge(&image("vendor/app", &["2.0"], Status::Unsigned)).is_none());
        assert!(w.judge(&image("vendor/app", &["1.0"], Status::Untrusted)).is_none());
        // The registry is one more selector; a file waiver matches files only.
        assert!(w.judge(&image("vendor/app", &[], Status::Unsigned)).is_none());
        let file = Candidate {
            registry: None,
            repository: None,
            tags: Vec::new(),
            digest: Some("sha256:00".into()),
            path: Some("/opt/app/lib/x.jar".into()),
            status: Status::Unsigned,
            codes: Vec::new(),
        };
        assert_eq!(w.judge(&file).map(|x| x.index), Some(3));
        let r = w.report();
        assert_eq!((r.waivers, r.applied), (4, 2));
        // The expired one applies to nothing but says what it would still cover.
        assert_eq!(r.expired.iter().map(|e| (e.index, e.matched)).collect::<Vec<_>>(), [(0, 4)]);
        assert_eq!(r.unused.iter().map(|e| e.index).collect::<Vec<_>>(), [2]);
    }

    #[test]
    fn only_the_codes_of_the_signatures_that_decide_the_status_count() {
        // Untrusted because of its signer; a junk replayed layer beside it is invalid. A waiver
        // for replays must not launder the untrusted signer.
        let image = serde_json::json!({
            "registry": "r:5000", "repository": "apps/new", "tags": ["v1"], "digest": "sha256:01",
            "status": "untrusted",
            "signatures": [
                {"verification": {"status": "untrusted", "reasons": ["x"], "reasonCodes": ["chain-no-anchor"]}},
                {"verification": {"status": "invalid", "reasons": ["y"], "reasonCodes": ["payload-digest-mismatch"]}}
            ]
        });
        let c = Candidate::from_json(&image).unwrap();
        assert_eq!(c.codes, ["chain-no-anchor"]);
        let mut w =
            parse(&format!("[[waiver]]\nrepository = \"apps/*\"\ncode = [\"payload-digest-mismatch\"]\n{BASE}"))
                .unwrap();
        assert!(w.judge(&c).is_none());
        // A registry selector is HOST[:PORT], as reports name it.
        let e = parse(&format!(
            "[[waiver]]\nregistry = \"http://r:5000\"\nrepository = \"a\"\nstatus = [\"unsigned\"]\n{BASE}"
        ));
        assert!(e.unwrap_err().contains("not HOST[:PORT]"));
    }

    #[test]
    fn a_waiver_expires_at_the_start_of_its_day_or_at_its_time() {
        let at = |e: &str| {
            let d: toml::value::Datetime = e.parse().unwrap();
            expiry(0, &d).unwrap()
        };
        assert_eq!(at("2027-03-01"), 1_803_859_200);
        assert_eq!(at("2027-03-01T01:00:00+01:00"), 1_803_859_200);
        assert_eq!(at("2027-03-01T00:00:00Z"), 1_803_859_200);
        let text = format!("[[waiver]]\ndigest = \"sha256:AA\"\nstatus = [\"unsigned\"]\n{BASE}");
        assert!(!Waivers::parse("w", &text, 1_803_859_199).unwrap().list[0].expired);
        assert!(Waivers::parse("w", &text, 1_803_859_200).unwrap().list[0].expired);
    }

    /// Reason codes come from `verification.reasonCodes` (beside `reasons`), read from the JSON
    /// of a report, so waivers by code work on what any build wrote.
    #[test]
    fn a_code_waiver_matches_a_signature_reason_code() {
        let text = format!("[[waiver]]\nrepository = \"apps/*\"\ncode = [\"cert-expired-no-timestamp\"]\n{BASE}");
        let mut w = parse(&text).unwrap();
        let image = serde_json::json!({
            "registry": "reg:5000", "repository": "apps/old", "tags": ["v1"], "digest": "sha256:01",
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "status": "invalid",
            "signatures": [{"verification": {"status": "invalid",
                "reasons": ["no signature", "the certificate expired and no timestamp dates the signature"],
                "reasonCodes": ["payload-digest-mismatch", "cert-expired-no-timestamp"]}}]
        });
        let c = Candidate::from_json(&image).unwrap();
        assert_eq!(c.codes, ["payload-digest-mismatch", "cert-expired-no-timestamp"]);
        assert_eq!(w.judge(&c).map(|x| x.index), Some(0));
        let mut other = image.clone();
        other["signatures"][0]["verification"]["reasonCodes"] = serde_json::json!(["chain-no-anchor"]);
        assert!(w.judge(&Candidate::from_json(&other).unwrap()).is_none());
        // Without the field (a build before reason codes) nothing matches by code.
        other["signatures"][0]["verification"].as_object_mut().unwrap().remove("reasonCodes");
        assert!(w.judge(&Candidate::from_json(&other).unwrap()).is_none());
    }
}
