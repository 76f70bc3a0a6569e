//! SARIF 2.1.0: one run, one result per finding. A finding is an image (file) whose status is not
//! `verified`, with the rule of its status (`sigaudit/status/invalid`…), and every entry of
//! `errors`, with the rule of its code (`sigaudit/error/manifest-not-found`…). The driver's rules
//! are every status rule and every error code's rule (the documented codes, then any other code
//! the report holds), in a fixed order. A cluster report adds, after the errors, a result per
//! container whose running image is not `verified`, with the rule of that status.

use super::{failing, target, Item, Report, STATUSES};
use crate::report::workload::WorkloadReport;
use crate::report::{ErrorReport, Status, Verification};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use std::io::{self, Write};

pub const SCHEMA_URI: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The error codes of docs/REPORT.md, with what each means.
const ERROR_CODES: &[(&str, &str)] = &[
    ("catalog-error", "A catalog page could not be read."),
    ("repository-not-found", "A repository named by --repos-file answers 404 to its tag list."),
    ("tag-list-error", "A tag list could not be read."),
    ("manifest-not-found", "A listed tag's manifest is gone (404), or a named image does not exist."),
    ("manifest-error", "A manifest (a listed tag's, a nested index's) could not be read."),
    ("discovery-error", "A signature lookup that a listing announced failed, or the referrers API failed."),
    ("digest-mismatch", "The registry announced one digest for a tag and served bytes with another."),
    ("file-error", "A file could not be read."),
    ("deadline-exceeded", "The --deadline passed: what was examined before it is reported, the rest was not."),
    ("registry-unreachable", "One of several registries did not answer its first request."),
    ("image-id-unreadable", "sigaudit cluster: a running container's imageID names no image that can be looked up."),
    ("pod-unreadable", "sigaudit cluster: an item of the pod list is no readable pod; the other pods were audited."),
    ("shard-missing", "sigaudit merge: a shard of a sharded scan was not given."),
    ("report-truncated", "sigaudit merge: an NDJSON input ends before its closing line."),
    ("report-unreadable", "sigaudit merge: an input holds no report."),
    ("report-incomplete", "sigaudit merge: an input says it is incomplete without listing why."),
    ("shard-mismatch", "sigaudit merge: an input holds repositories its shard does not own."),
    ("report-inconsistent", "sigaudit merge: an input's summary does not match what it lists."),
    ("settings-differ", "sigaudit merge: shards of one scan ran with settings that bear on verdicts."),
];

fn status_description(status: Status) -> &'static str {
    match status {
        Status::Verified => "A signature holds, is bound to this digest, and its signer is trusted.",
        Status::Untrusted => {
            "The best signature holds and is bound to this digest, but no trust material given covers its signer."
        }
        Status::Unverified => {
            "The best signature is bound to this digest, but nothing was given to check its bytes against (a key-only signature, no key)."
        }
        Status::Invalid => {
            "Every signature fails: a bad signature, one that signs another digest (replayed), a malformed envelope or a broken rule."
        }
        Status::Unsupported => "The signatures use a format or algorithm sigaudit does not check.",
        Status::Error => "The signatures could not be checked: a lookup or a fetch failed.",
        Status::Unsigned => "No signature was found.",
    }
}

fn status_rule(status: Status) -> String {
    format!("sigaudit/status/{}", status.as_str())
}

fn error_rule(code: &str) -> String {
    format!("sigaudit/error/{}", rule_word(code))
}

/// A code as a rule id segment: lowercase letters, digits and `-` (a merged report's codes come
/// from files, which may hold anything).
fn rule_word(code: &str) -> String {
    let w: String =
        code.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    if w.is_empty() {
        "unknown".into()
    } else {
        w
    }
}

/// The rules one signature's verification breaks: the rule of its verdict, and a rule per reason
/// code that is not informational (`sigaudit/reason/chain-no-anchor`, …).
pub fn rule_ids(verification: &Verification) -> Vec<String> {
    if verification.status == crate::report::Verdict::Verified {
        return Vec::new();
    }
    let mut ids = vec![format!("sigaudit/status/{}", verification.status.as_str())];
    for code in &verification.reason_codes {
        let informational = crate::report::ReasonCode::parse(code)
            .is_some_and(|c| matches!(c.typical_verdict(), "informational" | "verified"));
        let id = format!("sigaudit/reason/{}", rule_word(code));
        if !informational && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

fn level(status: Status) -> &'static str {
    match status {
        Status::Invalid | Status::Error => "error",
        Status::Verified => "none",
        _ => "warning",
    }
}

struct Rules {
    list: Vec<Value>,
    ids: Vec<String>,
}

impl Rules {
    fn add(&mut self, id: String, name: String, short: String, full: &str, level: &str) {
        if self.ids.contains(&id) {
            return;
        }
        self.list.push(json!({
            "id": id,
            "name": name,
            "shortDescription": {"text": short},
            "fullDescription": {"text": full},
            "defaultConfiguration": {"level": level},
            "properties": {"tags": ["security", "supply-chain", "signatures"]},
        }));
        self.ids.push(id);
    }

    fn index(&self, id: &str) -> Option<usize> {
        self.ids.iter().position(|i| i == id)
    }
}

fn pascal(word: &str) -> String {
    word.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut rules = Rules { list: Vec::new(), ids: Vec::new() };
    for status in STATUSES.into_iter().filter(|s| *s != Status::Verified) {
        rules.add(
            status_rule(status),
            format!("Status{}", pascal(status.as_str())),
            format!("Image or file {}", status.as_str()),
            status_description(status),
            level(status),
        );
    }
    for (code, text) in ERROR_CODES {
        rules.add(error_rule(code), format!("Error{}", pascal(code)), format!("Error: {code}"), text, "error");
    }
    for e in &report.errors {
        let code = &e.code;
        rules.add(
            error_rule(code),
            format!("Error{}", pascal(&rule_word(code))),
            format!("Error: {}", rule_word(code)),
            "An error code this version of sigaudit does not document.",
            "error",
        );
    }

    // Whatever else a signature's verification breaks (see rule_ids) is declared too.
    for item in Item::all(report) {
        for s in item.signatures() {
            for id in rule_ids(&verification_of(&s)) {
                let word = id.rsplit('/').next().unwrap_or(&id).to_string();
                let text = match crate::report::ReasonCode::parse(&word) {
                    Some(code) if id.starts_with("sigaudit/reason/") => code.meaning().to_string(),
                    _ => format!("A signature verdict: {word}."),
                };
                rules.add(id.clone(), pascal(&id), word, &text, "warning");
            }
        }
    }

    let fails = failing(report);
    let mut results = Vec::new();
    for item in Item::all(report) {
        if item.status() == Status::Verified {
            continue;
        }
        results.push(item_result(&item, &rules, &fails));
    }
    for e in &report.errors {
        results.push(error_result(e, &rules));
    }
    // `sigaudit cluster`: every container whose running image is not verified (those whose
    // digest is not known have no status, and no result).
    for w in report.workloads.iter().flatten() {
        match w.status {
            Some(status) if status != Status::Verified => {
                results.push(workload_result(report, w, status, &rules, &fails))
            }
            _ => {}
        }
    }

    let scan = &report.scan;
    let mut invocation = json!({
        "executionSuccessful": scan.complete,
        "startTimeUtc": scan.started_at,
    });
    if let Some(f) = &scan.finished_at {
        invocation["endTimeUtc"] = json!(f);
    }
    let sarif = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "rules": rules.list,
            }},
            "invocations": [invocation],
            "results": results,
            "properties": {
                "schema": report.schema,
                "scanKind": scan.kind,
                "target": target(report),
                "complete": scan.complete,
                "failOn": fails.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                "summary": report.summary,
            },
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &sarif)?;
    out.write_all(b"\n")
}

fn item_result(item: &Item, rules: &Rules, fails: &[Status]) -> Value {
    let status = item.status();
    let rule = status_rule(status);
    let sigs = item.signatures();
    let mut message = format!("{} {} is {}", item.kind(), item.full_name(), status.as_str());
    let mut related: BTreeSet<String> = BTreeSet::new();
    let mut signatures = Vec::new();
    for s in &sigs {
        let reasons = s.reasons.join("; ");
        message.push_str(&format!(
            "\n- {}{} by {}: {}{}",
            s.what,
            s.platform.as_deref().map(|p| format!(" of platform {p}")).unwrap_or_default(),
            super::signer_name(s.signer),
            s.verdict.as_str(),
            if reasons.is_empty() { String::new() } else { format!(": {reasons}") }
        ));
        let mut signature = json!({
            "signature": s.what,
            "platform": s.platform,
            "signer": s.signer.map(|x| x.display_name()),
            "verdict": s.verdict.as_str(),
            "reasons": s.reasons,
        });
        // The key that verified it: its fingerprint and the config's name for it.
        for (field, value) in [
            ("keyId", s.signer.and_then(|x| x.key_id.as_ref())),
            ("keyName", s.signer.and_then(|x| x.key_name.as_ref())),
        ] {
            if let Some(v) = value {
                signature[field] = json!(v);
            }
        }
        signatures.push(signature);
        related.extend(rule_ids(&verification_of(s)));
    }
    for e in item.discovery_errors() {
        message.push_str(&format!("\n- lookup failed: {e}"));
    }
    let mut props = Map::new();
    props.insert("status".into(), json!(status.as_str()));
    props.insert("failing".into(), json!(fails.contains(&status)));
    props.insert("rules".into(), json!(related.into_iter().collect::<Vec<_>>()));
    props.insert("signatures".into(), Value::Array(signatures));
    let (location, fingerprint) = match item {
        Item::Image(i) => {
            props.insert("registry".into(), json!(i.registry));
            props.insert("repository".into(), json!(i.repository));
            props.insert("imageTags".into(), json!(i.tags));
            props.insert("digest".into(), json!(i.digest));
            let fq = match &i.registry {
                Some(r) => format!("{r}/{}@{}", i.repository, i.digest),
                None => format!("{}@{}", i.repository, i.digest),
            };
            let loc = json!({"logicalLocations": [{
                "name": super::image_name(i),
                "fullyQualifiedName": fq,
                "kind": "resource",
            }]});
            (loc, fq)
        }
        Item::File(f) => {
            props.insert("path".into(), json!(f.path));
            props.insert("sha256".into(), json!(f.sha256));
            props.insert("type".into(), json!(f.file_type));
            let loc = json!({"physicalLocation": {"artifactLocation": {"uri": file_uri(&f.path)}}});
            (loc, format!("{}#{}", f.path, f.sha256))
        }
    };
    let mut result = json!({
        "ruleId": rule,
        "ruleIndex": rules.index(&rule),
        "level": level(status),
        "kind": "fail",
        "message": {"text": message},
        "locations": [location],
        "partialFingerprints": {"sigaudit/item/v1": fingerprint},
        "properties": Value::Object(props),
    });
    // A waived item keeps its result, suppressed by the waiver (SARIF viewers hide or mark it).
    if let Some(w) = item.waived() {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": w.reason,
            "properties": {"owner": w.owner, "expires": w.expires, "waiver": w.index},
        }]);
        result["properties"]["failing"] = json!(false);
        result["properties"]["waived"] = json!(true);
    }
    result
}

/// One container of a cluster report running an image of `status`: the rule of that status, a
/// logical location `NAMESPACE/KIND/NAME/POD/CONTAINER`, suppressed when the image is waived.
fn workload_result(report: &Report, w: &WorkloadReport, status: Status, rules: &Rules, fails: &[Status]) -> Value {
    let rule = status_rule(status);
    let runs = match (&w.registry, &w.repository, &w.digest) {
        (Some(reg), Some(repo), Some(d)) => format!("{reg}/{repo}@{d}"),
        _ => w.image.clone(),
    };
    let name = format!("{}/{}", w.pod, w.container);
    let fq = format!("{}/{}/{}/{name}", w.namespace, w.owner.kind, w.owner.name);
    let mut message = format!(
        "container {name} of {} {} in namespace {} runs {runs} ({}), which is {}",
        w.owner.kind,
        w.owner.name,
        w.namespace,
        w.image,
        status.as_str()
    );
    for n in &w.notes {
        message.push_str(&format!("\n- {n}"));
    }
    let mut result = json!({
        "ruleId": rule,
        "ruleIndex": rules.index(&rule),
        "level": level(status),
        "kind": "fail",
        "message": {"text": message},
        "locations": [{"logicalLocations": [{"name": name, "fullyQualifiedName": fq, "kind": "resource"}]}],
        "partialFingerprints": {"sigaudit/container/v1": format!("{fq}#{runs}")},
        "properties": {
            "status": status.as_str(),
            "failing": fails.contains(&status) && !w.waived,
            "namespace": w.namespace,
            "workloadKind": w.owner.kind,
            "workload": w.owner.name,
            "pod": w.pod,
            "container": w.container,
            "containerType": super::ser_word(&w.container_type),
            "image": w.image,
            "registry": w.registry,
            "repository": w.repository,
            "digest": w.digest,
            "drift": w.drift,
        },
    });
    // The waiver of the image it runs, as on the image's own result.
    let waiver = report.images.iter().flatten().find_map(|i| {
        let same = i.registry == w.registry
            && Some(&i.repository) == w.repository.as_ref()
            && Some(&i.digest) == w.digest.as_ref();
        same.then_some(i.waived.as_ref()).flatten()
    });
    if let (true, Some(wv)) = (w.waived, waiver) {
        result["suppressions"] = json!([{
            "kind": "external",
            "status": "accepted",
            "justification": wv.reason,
            "properties": {"owner": wv.owner, "expires": wv.expires, "waiver": wv.index},
        }]);
        result["properties"]["waived"] = json!(true);
    }
    result
}

/// The verification a [`super::Sig`] was made from, for [`rule_ids`].
fn verification_of(s: &super::Sig) -> Verification {
    Verification { status: s.verdict, reasons: s.reasons.to_vec(), reason_codes: s.codes.to_vec() }
}

fn error_result(e: &ErrorReport, rules: &Rules) -> Value {
    let rule = error_rule(&e.code);
    let mut where_ = String::new();
    if let Some(r) = &e.registry {
        where_.push_str(r);
        where_.push('/');
    }
    if let Some(r) = &e.repository {
        where_.push_str(r);
    }
    if let Some(r) = &e.reference {
        where_.push_str(if r.contains(':') { "@" } else { ":" });
        where_.push_str(r);
    }
    let message = if where_.is_empty() {
        format!("{}: {}", e.code, e.message)
    } else {
        format!("{} ({where_}): {}", e.code, e.message)
    };
    let mut result = json!({
        "ruleId": rule,
        "ruleIndex": rules.index(&rule),
        "level": "error",
        "kind": "fail",
        "message": {"text": message},
        "partialFingerprints": {"sigaudit/error/v1": format!("{}|{where_}", e.code)},
        "properties": {
            "code": e.code,
            "registry": e.registry,
            "repository": e.repository,
            "reference": e.reference,
        },
    });
    if !where_.is_empty() {
        result["locations"] = json!([{"logicalLocations": [{
            "fullyQualifiedName": where_,
            "kind": "resource",
        }]}]);
    }
    result
}

/// A file path as a URI reference: absolute paths as `file:///…`, relative ones relative;
/// every byte but unreserved characters and `/` percent-encoded.
fn file_uri(path: &str) -> String {
    let mut s = String::new();
    if path.starts_with('/') {
        s.push_str("file://");
    }
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_rule_words() {
        assert_eq!(file_uri("/a b/c#d.exe"), "file:///a%20b/c%23d.exe");
        assert_eq!(file_uri("rel/x"), "rel/x");
        assert_eq!(rule_word("manifest-not-found"), "manifest-not-found");
        assert_eq!(rule_word("<x>\"y"), "-x--y");
        assert_eq!(pascal("manifest-not-found"), "ManifestNotFound");
    }
}
