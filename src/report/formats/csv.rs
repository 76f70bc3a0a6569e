//! CSV (RFC 4180: comma-separated, CRLF line ends, a field holding a comma, a quote, CR or LF is
//! quoted and its quotes doubled), UTF-8 without a byte-order mark: one row per signature, with
//! the image's (file's) columns repeated on each; an image or file with no signature of its own
//! gets one row with the signature columns empty. Platform manifests' signatures of an index are
//! rows of the index, with the platform columns filled.
//!
//! A field that begins with `=`, `+`, `-`, `@`, a tab or a carriage return is written with an
//! apostrophe in front, so that a spreadsheet shows it as text instead of evaluating it as a
//! formula (such text comes from registries, payloads and certificates): drop one leading `'` of
//! such a field to get the value back.

use super::{clean, ser_word, Report};
use crate::report::workload::WorkloadReport;
use crate::report::{FileReport, FileSignatureReport, ImageReport, PlatformReport, SignatureReport, Signer};
use std::io::{self, Write};

/// Columns of a registry (or image) report.
pub const IMAGE_COLUMNS: &[&str] = &[
    "registry",
    "repository",
    "tags",
    "digest",
    "mediaType",
    "status",
    "platform",
    "platformDigest",
    "platformStatus",
    "signatureFormat",
    "envelope",
    "kind",
    "discovery",
    "manifestDigest",
    "verdict",
    "signer",
    "signerIssuer",
    "signerSerial",
    "signerSha256",
    "signerSan",
    "oidcIssuer",
    "keyId",
    "keyAlgorithm",
    "signedAt",
    "timestampTime",
    "timestampAuthority",
    "timestampVerified",
    "algorithm",
    "predicateType",
    "dockerReference",
    "discoveryErrors",
    "reasons",
    "reasonCodes",
    "waived",
    "keyName",
];

/// Columns added after [`IMAGE_COLUMNS`] in a cluster report (`sigaudit cluster`): one row per
/// container of `workloads`, after the image rows, with the image columns `registry`,
/// `repository`, `digest` and `status` of what it runs and the signature columns empty.
pub const WORKLOAD_COLUMNS: &[&str] = &[
    "namespace",
    "workloadKind",
    "workload",
    "controlledBy",
    "pod",
    "container",
    "containerType",
    "specImage",
    "imageId",
    "state",
    "drift",
    "tagDigest",
    "containerWaived",
    "notes",
];

/// Columns of a filesystem report.
pub const FILE_COLUMNS: &[&str] = &[
    "path",
    "type",
    "sha256",
    "size",
    "status",
    "signatureFormat",
    "index",
    "digestAlgorithm",
    "verdict",
    "signer",
    "signerIssuer",
    "signerSerial",
    "signerSha256",
    "signerSan",
    "keyAlgorithm",
    "signedAt",
    "countersigner",
    "countersignerKind",
    "timestampTime",
    "timestampAuthority",
    "timestampVerified",
    "notes",
    "reasons",
    "reasonCodes",
    "waived",
    "keyId",
];

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    if let Some(files) = &report.files {
        row(out, FILE_COLUMNS.iter().map(|c| c.to_string()))?;
        for f in files {
            if f.signatures.is_empty() {
                row(out, file_row(f, None))?;
            }
            for s in &f.signatures {
                row(out, file_row(f, Some(s)))?;
            }
        }
        return Ok(());
    }
    // A cluster report's rows have the workload columns too (empty on image rows).
    let workloads = report.workloads.as_deref();
    let pad = |mut r: Vec<String>| {
        if workloads.is_some() {
            r.extend(std::iter::repeat_n(String::new(), WORKLOAD_COLUMNS.len()));
        }
        r
    };
    let extra = workloads.map_or(&[][..], |_| WORKLOAD_COLUMNS);
    row(out, IMAGE_COLUMNS.iter().chain(extra).map(|c| c.to_string()))?;
    for i in report.images.iter().flatten() {
        if i.signatures.is_empty() {
            row(out, pad(image_row(i, None, None)))?;
        }
        for s in &i.signatures {
            row(out, pad(image_row(i, None, Some(s))))?;
        }
        for p in &i.platforms {
            for s in &p.signatures {
                row(out, pad(image_row(i, Some(p), Some(s))))?;
            }
        }
    }
    for w in workloads.into_iter().flatten() {
        row(out, workload_row(w))?;
    }
    Ok(())
}

/// One container of a cluster report: what it runs in the image columns, the rest empty.
fn workload_row(w: &WorkloadReport) -> Vec<String> {
    let opt = |v: Option<&String>| v.cloned().unwrap_or_default();
    let mut r = vec![String::new(); IMAGE_COLUMNS.len()];
    let at = |name: &str| IMAGE_COLUMNS.iter().position(|c| *c == name).expect("an image column");
    r[at("registry")] = opt(w.registry.as_ref());
    r[at("repository")] = opt(w.repository.as_ref());
    r[at("digest")] = opt(w.digest.as_ref());
    r[at("status")] = w.status.map(|s| s.as_str().to_string()).unwrap_or_default();
    r.extend([
        w.namespace.clone(),
        w.owner.kind.clone(),
        w.owner.name.clone(),
        opt(w.controlled_by.as_ref()),
        w.pod.clone(),
        w.container.clone(),
        ser_word(&w.container_type),
        w.image.clone(),
        opt(w.image_id.as_ref()),
        w.state.clone(),
        w.drift.map(|d| d.to_string()).unwrap_or_default(),
        opt(w.tag_digest.as_ref()),
        w.waived.to_string(),
        w.notes.join("; "),
    ]);
    debug_assert_eq!(r.len(), IMAGE_COLUMNS.len() + WORKLOAD_COLUMNS.len());
    r
}

fn image_row(i: &ImageReport, p: Option<&PlatformReport>, s: Option<&SignatureReport>) -> Vec<String> {
    let opt = |v: Option<&String>| v.cloned().unwrap_or_default();
    let signer = s.and_then(|s| s.signer.as_ref());
    let mut r = vec![
        opt(i.registry.as_ref()),
        i.repository.clone(),
        i.tags.join(" "),
        i.digest.clone(),
        i.media_type.clone(),
        i.status.as_str().into(),
        opt(p.and_then(|p| p.platform.as_ref())),
        p.map(|p| p.digest.clone()).unwrap_or_default(),
        p.map(|p| p.status.as_str().to_string()).unwrap_or_default(),
    ];
    match s {
        None => r.extend(std::iter::repeat_n(String::new(), 5)),
        Some(s) => r.extend([
            ser_word(&s.format),
            ser_word(&s.envelope),
            ser_word(&s.kind),
            ser_word(&s.discovery),
            s.manifest_digest.clone(),
        ]),
    }
    r.push(s.map(|s| s.verification.status.as_str().to_string()).unwrap_or_default());
    r.extend(signer_columns(signer, true));
    let ts = s.and_then(|s| s.timestamp.as_ref());
    r.extend([
        opt(s.and_then(|s| s.signed_at.as_ref())),
        opt(ts.map(|t| &t.time)),
        opt(ts.and_then(|t| t.authority.as_ref())),
        ts.map(|t| t.verified.to_string()).unwrap_or_default(),
        opt(s.and_then(|s| s.algorithm.as_ref())),
        opt(s.and_then(|s| s.predicate_type.as_ref())),
        opt(s.and_then(|s| s.docker_reference.as_ref())),
        p.map(|p| &p.discovery_errors).unwrap_or(&i.discovery_errors).join("; "),
        s.map(|s| s.verification.reasons.join("; ")).unwrap_or_default(),
        s.map(|s| s.verification.reason_codes.join(" ")).unwrap_or_default(),
        waived(i.waived.as_ref()),
        opt(signer.and_then(|s| s.key_name.as_ref())),
    ]);
    debug_assert_eq!(r.len(), IMAGE_COLUMNS.len());
    r
}

fn file_row(f: &FileReport, s: Option<&FileSignatureReport>) -> Vec<String> {
    let opt = |v: Option<&String>| v.cloned().unwrap_or_default();
    let mut r =
        vec![f.path.clone(), f.file_type.clone(), f.sha256.clone(), f.size.to_string(), f.status.as_str().into()];
    r.extend([
        s.map(|s| s.format.clone()).unwrap_or_default(),
        s.map(|s| s.index.clone()).unwrap_or_default(),
        opt(s.and_then(|s| s.digest_algorithm.as_ref())),
        s.map(|s| s.verification.status.as_str().to_string()).unwrap_or_default(),
    ]);
    r.extend(signer_columns(s.and_then(|s| s.signer.as_ref()), false));
    let cs = s.and_then(|s| s.countersigner.as_ref());
    let ts = s.and_then(|s| s.timestamp.as_ref());
    r.extend([
        opt(s.and_then(|s| s.signed_at.as_ref())),
        opt(cs.map(|c| &c.subject)),
        opt(cs.map(|c| &c.kind)),
        opt(ts.map(|t| &t.time)),
        opt(ts.and_then(|t| t.authority.as_ref())),
        ts.map(|t| t.verified.to_string()).unwrap_or_default(),
        f.notes.join("; "),
        s.map(|s| s.verification.reasons.join("; ")).unwrap_or_default(),
        s.map(|s| s.verification.reason_codes.join(" ")).unwrap_or_default(),
        waived(f.waived.as_ref()),
        opt(s.and_then(|s| s.signer.as_ref()).and_then(|s| s.key_id.as_ref())),
    ]);
    debug_assert_eq!(r.len(), FILE_COLUMNS.len());
    r
}

/// The `waived` column: the waiver's reason, owner and expiry, empty when none applies.
fn waived(w: Option<&crate::report::waivers::Waived>) -> String {
    w.map(|w| format!("{} ({}, until {})", w.reason, w.owner, w.expires)).unwrap_or_default()
}

/// `signer`, `signerIssuer`, `signerSerial`, `signerSha256`, `signerSan`, then for images
/// `oidcIssuer` and `keyId`, then `keyAlgorithm`.
fn signer_columns(signer: Option<&Signer>, image: bool) -> Vec<String> {
    let opt = |f: fn(&Signer) -> Option<&String>| signer.and_then(f).cloned().unwrap_or_default();
    let mut r = vec![
        signer.map(Signer::display_name).unwrap_or_default(),
        opt(|s| s.issuer.as_ref()),
        opt(|s| s.serial.as_ref()),
        opt(|s| s.sha256.as_ref()),
        signer.map(|s| s.san.join("; ")).unwrap_or_default(),
    ];
    if image {
        r.push(opt(|s| s.oidc_issuer.as_ref()));
        r.push(opt(|s| s.key_id.as_ref()));
    }
    r.push(opt(|s| s.key_algorithm.as_ref()));
    r
}

fn row(out: &mut dyn Write, fields: impl IntoIterator<Item = String>) -> io::Result<()> {
    let line: Vec<String> = fields.into_iter().map(|f| field(&f)).collect();
    out.write_all(line.join(",").as_bytes())?;
    out.write_all(b"\r\n")
}

/// One field, cleaned, defused against formula evaluation, quoted when RFC 4180 requires it.
pub(super) fn field(value: &str) -> String {
    let value = clean(value);
    let value =
        if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.into_owned() };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\"\r\nbye"), "\"say \"\"hi\"\"\r\nbye\"");
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("\u{0}"), "\u{fffd}");
    }
}
