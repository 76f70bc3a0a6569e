//! Adversarial signed files (issue 10, classes 1, 2, 6, 7, 9 and 10 as they reach files): forged,
//! mis-chained, relocated and weak signatures made by independent tools (Python `cryptography`,
//! osslsigncode, jarsigner, zipfile and byte edits) by scripts/make_adversarial_fs.sh, each judged
//! there by an independent verifier (osslsigncode verify, jarsigner -verify -strict, openssl verify
//! -x509_strict, openssl cms -verify). expected.json holds, per file, our status, a phrase our
//! reasons must contain, the tools' verdicts and, where we deliberately differ from the tool, why.
//!
//! The test fails when we say `verified` where the independent tool refuses, or refuse where it
//! accepts, unless that difference is recorded with its reason; and when our status or reason is
//! not the expected one. scripts/check_adversarial_fs.py runs any build (an old one too) over the
//! same fixtures.

mod common;

use common::{code, sigaudit, stdout_json};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn files_by_path(report: &Value, root: &Path) -> BTreeMap<String, Value> {
    let root = root.display().to_string();
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (p.strip_prefix(&root).unwrap_or(p).trim_start_matches('/').to_string(), f.clone())
        })
        .collect()
}

/// The reason code each fixture's verdict must carry: that of the reason that decides it (what
/// verified it, for the controls), so that a waiver or a filter on the code matches exactly these
/// files. A new fixture needs its line here.
const CODES: &[(&str, &str)] = &[
    ("jar/cms-contenttype-mismatch.jar", "content-type-mismatch"),
    ("jar/control-cms-rebuilt.jar", "chain-anchored"),
    ("jar/control-good.jar", "chain-anchored"),
    ("jar/control-sha1-trusted-ts-2018.jar", "weak-sha1-timestamped"),
    ("jar/names-duplicate-entry.jar", "jar-ambiguous"),
    ("jar/names-manifest-case-variant-after.jar", "jar-ambiguous"),
    ("jar/names-manifest-case-variant.jar", "jar-ambiguous"),
    ("jar/names-sf-case-variant.jar", "jar-ambiguous"),
    ("jar/ts-other-root-expired-signer.jar", "cert-expired-timestamp-untrusted"),
    ("jar/weak-entry-digest-name-case-modified.jar", "jar-entry-modified"),
    ("jar/weak-entry-digest-sha3-only-modified.jar", "unsupported-algorithm"),
    ("jar/weak-md5-digests.jar", "weak-md5"),
    ("jar/weak-section-sha1-right-sha256-wrong.jar", "jar-entry-modified"),
    ("jar/weak-section-sha256-right-sha1-wrong.jar", "jar-entry-modified"),
    ("jar/weak-sha1-no-timestamp.jar", "weak-sha1"),
    ("jar/weak-sha1-trusted-ts-now.jar", "weak-sha1"),
    ("jar/weak-sha1-untrusted-ts-2018.jar", "weak-sha1"),
    ("pe/cms-contenttype-not-indirect-data.exe", "content-type-mismatch"),
    ("pe/control-cms-resigned.exe", "chain-anchored"),
    ("pe/control-expired-signer-trusted-ts.exe", "cert-expired-timestamped"),
    ("pe/control-good.exe", "chain-anchored"),
    ("pe/control-trusted-ts-sets-time.exe", "chain-anchored"),
    ("pe/layout-section-97-inside-table.exe", "pe-malformed"),
    ("pe/layout-table-before-last-section.exe", "pe-malformed"),
    ("pe/layout-table-misaligned.exe", "pe-malformed"),
    ("pe/layout-table-over-last-section.exe", "pe-malformed"),
    ("pe/pki-backtrack-same-key-dead-end.exe", "chain-anchored"),
    ("pe/pki-backtrack-same-key-expired-first.exe", "chain-anchored"),
    ("pe/pki-backtrack-same-name-other-key.exe", "chain-anchored"),
    ("pe/pki-ca-without-keycertsign.exe", "chain-key-usage"),
    ("pe/pki-ecdsa-oid-over-rsa-signature.exe", "chain-signature"),
    ("pe/pki-intermediate-eku-excludes-codesigning.exe", "chain-eku"),
    ("pe/pki-issuer-end-entity.exe", "chain-ca-flag"),
    ("pe/pki-issuer-no-basic-constraints.exe", "chain-ca-flag"),
    ("pe/pki-issuer-tls-server.exe", "chain-ca-flag"),
    ("pe/pki-leaf-tls-eku.exe", "chain-eku"),
    ("pe/pki-pathlen-exceeded.exe", "chain-path-len"),
    ("pe/ts-corrupted-pkcs9-countersignature.exe", "timestamp-invalid"),
    ("pe/ts-corrupted-rfc3161-token.exe", "timestamp-invalid"),
    ("pe/ts-eku-not-critical-expired-signer.exe", "cert-expired-timestamped"),
    ("pe/ts-no-eku-expired-signer.exe", "cert-expired-timestamp-untrusted"),
    ("pe/ts-other-root-expired-signer.exe", "cert-expired-timestamp-untrusted"),
    ("pe/ts-other-root-valid-signer.exe", "timestamp-untrusted"),
    ("pe/ts-pkcs9-no-eku-expired-signer.exe", "cert-expired-timestamp-untrusted"),
    ("pe/ts-untrusted-does-not-set-time.exe", "chain-expired"),
    ("pe/weak-md5-certificate-signature.exe", "chain-signature"),
    ("pe/weak-md5-image-hash.exe", "weak-md5"),
    ("pe/weak-sha1-outranks-invalid-sha256.exe", "image-hash-mismatch"),
    ("pe/weak-sha1-outranks-untrusted-sha256.exe", "chain-no-anchor"),
];

#[test]
fn adversarial_files_get_the_verdicts_the_independent_tools_justify() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("adv");
    let o = Command::new(common::repo_root().join("scripts/make_adversarial_fs.sh")).arg(&tree).output().unwrap();
    assert!(o.status.success(), "make_adversarial_fs.sh: {}", String::from_utf8_lossy(&o.stderr));
    let expected: BTreeMap<String, Value> =
        serde_json::from_slice(&std::fs::read(tree.join("expected.json")).unwrap()).unwrap();

    // Every class of the assignment has fixtures, and every expectation is consistent with the
    // independent verdict or says why it is not.
    for class in [1, 2, 6, 7, 9, 10] {
        assert!(expected.values().any(|e| e["class"] == class), "no fixture of class {class}");
    }
    for (path, e) in &expected {
        let agrees = (e["status"] == "verified") == (e["independent"] == "accepts");
        assert!(agrees || e["differs"].is_string(), "{path}: expectation differs from the tool without a reason");
    }

    let root = tree.join("pki/root.crt");
    let o = sigaudit([
        "fs",
        tree.join("pe").to_str().unwrap(),
        tree.join("jar").to_str().unwrap(),
        "-o",
        "json",
        "--ca-roots",
        root.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    let got = files_by_path(&report, &tree);
    assert_eq!(got.len(), expected.len(), "{:#?}", got.keys().collect::<Vec<_>>());

    let mut failures = Vec::new();
    for (path, e) in &expected {
        let Some(f) = got.get(path) else {
            failures.push(format!("{path}: not reported"));
            continue;
        };
        let status = f["status"].as_str().unwrap_or_default();
        let (want, tool) = (e["status"].as_str().unwrap(), e["independent"].as_str().unwrap());
        let rule = e["rule"].as_str().unwrap_or_default();
        let differs = e["differs"].is_string();
        let before = failures.len();
        if status == "verified" && tool == "refuses" && !differs {
            failures
                .push(format!("{path}: ATTACK GOT THROUGH: we say verified, the independent tool refuses ({rule})"));
        } else if status != "verified" && tool == "accepts" && !differs {
            failures.push(format!("{path}: we say {status}, the independent tool accepts ({rule})"));
        } else if status != want {
            let through = if status == "verified" { "ATTACK GOT THROUGH: " } else { "" };
            failures.push(format!("{path}: {through}we say {status}, expected {want} ({rule})"));
        }
        // The right status for the right reason (reported once per fixture).
        let reasons: Vec<&Value> = f["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["verification"]["reasons"].as_array().unwrap())
            .chain(f["notes"].as_array().into_iter().flatten())
            .collect();
        let phrase = e["reason"].as_str().unwrap();
        if failures.len() == before && !reasons.iter().any(|r| r.as_str().unwrap_or_default().contains(phrase)) {
            failures.push(format!("{path}: {status} as expected, but no reason says \"{phrase}\": {reasons:?}"));
        }
        // ...and the right code for it.
        let codes = common::reason_codes(f);
        match CODES.iter().find(|(p, _)| p == path) {
            None => failures.push(format!("{path}: no expected reason code in CODES; ours: {codes:?}")),
            Some((_, want)) if !codes.iter().any(|c| c == want) => {
                failures.push(format!("{path}: reason codes {codes:?} lack {want}: {reasons:?}"))
            }
            Some(_) => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} adversarial fixtures wrong:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
