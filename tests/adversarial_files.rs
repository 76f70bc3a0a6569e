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
    let got = files_by_path(&stdout_json(&o), &tree);
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
    }
    assert!(
        failures.is_empty(),
        "{} of {} adversarial fixtures wrong:\n{}",
        failures.len(),
        expected.len(),
        failures.join("\n")
    );
}
