//! APK signatures v1/v2/v3: the fixtures of testdata/apk/ (Debian's apksigner and zipalign, with
//! tampered, stripped and downgraded copies; scripts/make_apk_fixtures.sh) and the fs-suite's. For
//! each, `apksigner verify` gives its verdict next to sigaudit's: where apksigner says DOES NOT
//! VERIFY, sigaudit says `invalid` (or `unsigned` for an APK with no signature at all); where it
//! verifies, sigaudit says `untrusted` (self-signed, no anchor) — and `verified` once the signing
//! certificate is given with `--ca-roots` — except for an expired signing certificate, which
//! Android ignores and sigaudit's PE/JAR time rule does not (`apk-expired-cert.apk`).

mod common;

use common::{code, corpus, repo_root, sigaudit, stdout_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn apksigner(args: &[&str], apk: &Path) -> (bool, String) {
    let o = Command::new("apksigner")
        .args(args)
        .arg(apk)
        .output()
        .expect("apksigner is missing (./scripts/setup.sh installs Debian's apksigner)");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn scan(apk: &Path, roots: &[PathBuf]) -> Value {
    let mut args = vec!["fs".to_string(), apk.display().to_string(), "-o".into(), "json".into()];
    for r in roots {
        args.extend(["--ca-roots".into(), r.display().to_string()]);
    }
    let o = sigaudit(args);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let r = stdout_json(&o);
    common::assert_reason_codes(&r);
    r["files"][0].clone()
}

/// Every signature's (format, status, first reason code).
fn signatures(f: &Value) -> Vec<(String, String, String)> {
    f["signatures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["format"].as_str().unwrap().to_string(),
                s["verification"]["status"].as_str().unwrap().to_string(),
                s["verification"]["reasonCodes"][0].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

/// (file, --min-sdk-version, apksigner verifies, our status, (format, first reason code) per signature)
type Case<'a> = (&'a str, &'a str, bool, &'a str, &'a [(&'a str, &'a str)]);

#[test]
fn apks_get_the_verdict_apksigner_gives() {
    let dir = repo_root().join("testdata/apk");
    // (file, --min-sdk-version for apksigner (the manifests are placeholders), apksigner verifies,
    //  our status, the formats we report with their first reason code)
    let cases: &[Case] = &[
        ("unsigned.apk", "21", false, "unsigned", &[]),
        (
            "apk-v1v2v3-rsa.apk",
            "21",
            true,
            "untrusted",
            &[("jar", "self-signed"), ("apk-v2", "self-signed"), ("apk-v3", "self-signed")],
        ),
        ("apk-v2-only.apk", "24", true, "untrusted", &[("apk-v2", "self-signed")]),
        ("apk-v3-only.apk", "28", true, "untrusted", &[("apk-v3", "self-signed")]),
        ("apk-v2v3-ec.apk", "24", true, "untrusted", &[("apk-v2", "self-signed"), ("apk-v3", "self-signed")]),
        ("apk-v1v2-dsa.apk", "21", true, "untrusted", &[("jar", "self-signed"), ("apk-v2", "self-signed")]),
        ("apk-v1-only.apk", "21", true, "untrusted", &[("jar", "self-signed")]),
        (
            "apk-rotated.apk",
            "21",
            true,
            "untrusted",
            &[("jar", "self-signed"), ("apk-v2", "self-signed"), ("apk-v3", "self-signed")],
        ),
        (
            "apk-rotated-revoked.apk",
            "21",
            true,
            "untrusted",
            &[("jar", "self-signed"), ("apk-v2", "self-signed"), ("apk-v3", "self-signed")],
        ),
        // Minimum SDK 14: apksigner signs v1 with SHA-1. The JDK's rule refuses that v1 (as for a
        // JAR), but a SHA-1 signature never outranks nor fails the SHA-256 v2/v3 ones (the PE rule).
        (
            "apk-v1-sha1.apk",
            "14",
            true,
            "untrusted",
            &[("jar", "weak-sha1"), ("apk-v2", "self-signed"), ("apk-v3", "self-signed")],
        ),
        // Deliberately stricter than apksigner (Android ignores certificate validity): an expired
        // signing certificate with no timestamp is invalid, the PE/JAR rule.
        (
            "apk-expired-cert.apk",
            "24",
            true,
            "invalid",
            &[("apk-v2", "cert-expired-no-timestamp"), ("apk-v3", "cert-expired-no-timestamp")],
        ),
        // A byte of classes.dex flipped: the v1 entry (its CRC) and the v2/v3 digests fail.
        (
            "apk-tampered-entry.apk",
            "21",
            false,
            "invalid",
            &[("jar", "jar-malformed"), ("apk-v2", "apk-digest-mismatch"), ("apk-v3", "apk-digest-mismatch")],
        ),
        // A byte of the central directory flipped: v1 does not cover it and still holds, but never
        // outranks the failing v2/v3.
        (
            "apk-tampered-cd.apk",
            "21",
            false,
            "invalid",
            &[("jar", "apk-scheme-failed"), ("apk-v2", "apk-digest-mismatch"), ("apk-v3", "apk-digest-mismatch")],
        ),
        // A byte of the v2 signature flipped inside the APK Signing Block.
        (
            "apk-tampered-block.apk",
            "21",
            false,
            "invalid",
            &[("jar", "apk-scheme-failed"), ("apk-v2", "bad-signature"), ("apk-v3", "apk-scheme-failed")],
        ),
        // The downgrade: the whole signing block removed, the v1 signature intact.
        ("apk-downgrade-v1-only.apk", "21", false, "invalid", &[("jar", "apk-v2-stripped")]),
        // Only the v2 block cut out of the signing block: the v1 .SF names v2.
        ("apk-v2-removed.apk", "21", false, "invalid", &[("jar", "apk-v2-stripped"), ("apk-v3", "apk-scheme-failed")]),
        // v2+v3 without v1, the v3 block cut out: v2's stripping-protection attribute names v3.
        ("apk-v3-stripped.apk", "24", false, "invalid", &[("apk-v2", "apk-v3-stripped")]),
        // Another key in the v2 signer record, re-signing the signed data; the certificate kept.
        ("apk-wrong-key.apk", "24", false, "invalid", &[("apk-v2", "apk-signer-mismatch")]),
        // v3.1 has v3's format: the v3 signer copied into a v3.1 block (apksigner 31 ignores it).
        (
            "apk-v3-and-v31.apk",
            "24",
            true,
            "untrusted",
            &[("apk-v2", "self-signed"), ("apk-v3", "self-signed"), ("apk-v3.1", "self-signed")],
        ),
        // The v3 block renamed v3.1: v3 is missing, which v2's stripping protection and v3.1 say.
        (
            "apk-v31-without-v3.apk",
            "24",
            false,
            "invalid",
            &[("apk-v2", "apk-v3-stripped"), ("apk-v3.1", "apk-v3-stripped")],
        ),
    ];
    for (name, sdk, verifies, status, sigs) in cases {
        let apk = dir.join(name);
        let (ok, out) = apksigner(&["verify", "--min-sdk-version", sdk], &apk);
        assert_eq!(ok, *verifies, "apksigner verify {name}: {out}");
        let f = scan(&apk, &[]);
        assert_eq!(f["type"], "apk", "{name}");
        assert_eq!(f["status"], *status, "{name}: {f:#}");
        let got = signatures(&f);
        let want: Vec<(String, String)> = sigs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        let got_short: Vec<(String, String)> = got.iter().map(|(a, _, c)| (a.clone(), c.clone())).collect();
        assert_eq!(got_short, want, "{name}: {f:#}");
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&apk).unwrap()));
        assert_eq!(f["sha256"], sha);
        // apksigner's signer is ours (the v3 signer when there is one, as it prints it).
        if *verifies {
            let (_, certs) = apksigner(&["verify", "--print-certs", "--min-sdk-version", sdk], &apk);
            let dn = certs.lines().find_map(|l| l.strip_prefix("Signer #1 certificate DN: ")).unwrap();
            let digest = certs.lines().find_map(|l| l.strip_prefix("Signer #1 certificate SHA-256 digest: ")).unwrap();
            let last = f["signatures"].as_array().unwrap().last().unwrap().clone();
            assert_eq!(last["signer"]["sha256"], digest, "{name}");
            let ours = last["signer"]["subject"].as_str().unwrap();
            assert_eq!(common_dn(ours), common_dn(dn), "{name}");
        }
    }
}

/// A DN's attributes, order aside (apksigner prints Java's order, openssl's is reversed).
fn common_dn(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.split(", ").map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn the_v3_lineage_and_sdk_range_are_those_apksigner_prints() {
    for name in ["apk-rotated.apk", "apk-rotated-revoked.apk"] {
        let apk = repo_root().join("testdata/apk").join(name);
        let (ok, out) = apksigner(&["lineage", "--print-certs", "--in"], &apk);
        assert!(ok, "{out}");
        // apksigner: per signer its SHA-256 and five capabilities.
        let mut theirs: Vec<(String, Vec<String>)> = Vec::new();
        for l in out.lines() {
            if let Some(d) = l.split("certificate SHA-256 digest: ").nth(1) {
                theirs.push((d.trim().to_string(), Vec::new()));
            }
            for (label, flag) in [
                ("Has installed data capability", "installed-data"),
                ("Has shared UID capability", "shared-user-id"),
                ("Has permission capability", "permission"),
                ("Has rollback capability", "rollback"),
                ("Has auth capability", "auth"),
            ] {
                if l.starts_with(label) && l.trim_end().ends_with("true") {
                    theirs.last_mut().unwrap().1.push(flag.to_string());
                }
            }
        }
        assert_eq!(theirs.len(), 2, "{out}");
        let f = scan(&apk, &[]);
        let v3 = f["signatures"].as_array().unwrap().iter().find(|s| s["format"] == "apk-v3").unwrap().clone();
        let ours: Vec<(String, Vec<String>)> = v3["lineage"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let flags = n["flags"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
                (n["sha256"].as_str().unwrap().to_string(), flags)
            })
            .collect();
        assert_eq!(ours, theirs, "{name}");
        // The v3 signer is the lineage's last certificate; v1/v2 sign with the first.
        assert_eq!(v3["signer"]["sha256"], ours[1].0.as_str());
        assert_eq!(f["signatures"][1]["format"], "apk-v2");
        assert_eq!(f["signatures"][1]["signer"]["sha256"], ours[0].0.as_str());
        // apksigner signs v3 for SDK 24 and later (v2 covers the rest).
        assert_eq!((v3["minSdk"].as_u64(), v3["maxSdk"].as_u64()), (Some(24), Some(2147483647)));
    }
    let revoked = scan(&repo_root().join("testdata/apk/apk-rotated-revoked.apk"), &[]);
    assert_eq!(revoked["signatures"][2]["lineage"][0]["flags"], serde_json::json!(["installed-data", "auth"]));
}

#[test]
fn the_signing_certificate_as_anchor_makes_an_apk_verified_and_never_a_tampered_one() {
    let dir = repo_root().join("testdata/apk");
    let rsa = dir.join("apk-cert-rsa.pem");
    let f = scan(&dir.join("apk-v1v2v3-rsa.apk"), std::slice::from_ref(&rsa));
    assert_eq!(f["status"], "verified", "{f:#}");
    assert!(f["signatures"].as_array().unwrap().iter().all(|s| s["verification"]["status"] == "verified"));
    // The rotated APK: v1/v2 by the old key, v3 by the new one; both anchors needed. With the old
    // one only, v1/v2 hold and are trusted, but the v3 signer (the APK's signer on SDK 24 and
    // later) is not: the APK is not trusted (`apk-signer-untrusted` on the v1/v2 signatures).
    let f = scan(&dir.join("apk-rotated.apk"), std::slice::from_ref(&rsa));
    assert_eq!(
        signatures(&f).iter().map(|s| s.1.as_str()).collect::<Vec<_>>(),
        ["untrusted", "untrusted", "untrusted"]
    );
    for i in 0..2 {
        assert_eq!(f["signatures"][i]["verification"]["reasonCodes"][0], "apk-signer-untrusted", "{f:#}");
    }
    let f = scan(&dir.join("apk-rotated.apk"), &[rsa.clone(), dir.join("apk-cert-new.pem")]);
    assert_eq!(f["status"], "verified");
    for bad in ["apk-tampered-cd.apk", "apk-tampered-block.apk", "apk-downgrade-v1-only.apk", "apk-wrong-key.apk"] {
        let f = scan(&dir.join(bad), std::slice::from_ref(&rsa));
        assert_eq!(f["status"], "invalid", "{bad}: {f:#}");
    }
}

#[test]
fn the_fs_suite_apks_agree_with_apksigner() {
    let dir = corpus().join("fs-suite/apk");
    for (name, verifies, status) in [
        ("apk-v1v2v3-rsa.apk", true, "untrusted"),
        ("apk-v2v3-block-stripped.apk", false, "invalid"),
        ("unsigned-base.apk", false, "unsigned"),
    ] {
        let apk = dir.join(name);
        let (ok, out) = apksigner(&["verify", "--min-sdk-version", "21"], &apk);
        assert_eq!(ok, verifies, "{name}: {out}");
        let f = scan(&apk, &[]);
        assert_eq!(f["status"], status, "{name}: {f:#}");
    }
    // The test PKI's signer is issued by an intermediate the APK does not carry (only the leaf, as
    // apksigner embeds it): with the root alone no path holds, as jarsigner says for its v1.
    let f = scan(&dir.join("apk-v1v2v3-rsa.apk"), &[corpus().join("fs-suite/pki/test-root.pem")]);
    let sigs = signatures(&f);
    assert_eq!(sigs.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(), ["jar", "apk-v2", "apk-v3"]);
    assert!(sigs.iter().all(|s| s.1 == "untrusted" && s.2 == "chain-no-anchor"), "{sigs:?}");
}

#[test]
fn hostile_signing_blocks_are_invalid_never_a_panic() {
    let good = std::fs::read(repo_root().join("testdata/apk/apk-v2-only.apk")).unwrap();
    let e = good.windows(4).rposition(|w| w == b"PK\x05\x06").unwrap();
    let cd = u32::from_le_bytes(good[e + 16..e + 20].try_into().unwrap()) as usize;
    let size = u64::from_le_bytes(good[cd - 24..cd - 16].try_into().unwrap()) as usize;
    let start = cd - size - 8;
    let dir = tempfile::tempdir().unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // The two sizes differ.
    let mut b = good.clone();
    b[start] ^= 0x10;
    cases.push(("sizes.apk", b));
    // A size larger than the file.
    let mut b = good.clone();
    b[cd - 24..cd - 16].copy_from_slice(&u64::MAX.to_le_bytes());
    cases.push(("huge.apk", b));
    // The first pair's length runs past the block.
    let mut b = good.clone();
    b[start + 8..start + 16].copy_from_slice(&(size as u64 * 2).to_le_bytes());
    cases.push(("pair.apk", b));
    // The v2 signers sequence length runs past its pair.
    let mut b = good.clone();
    b[start + 20..start + 24].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    cases.push(("signers.apk", b));
    for (n, b) in &cases {
        std::fs::write(dir.path().join(n), b).unwrap();
    }
    let o = sigaudit(["fs", dir.path().to_str().unwrap(), "-o", "json"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    let r = stdout_json(&o);
    assert_eq!(r["files"].as_array().unwrap().len(), cases.len(), "{r:#}");
    for f in r["files"].as_array().unwrap() {
        assert_eq!(f["status"], "invalid", "{f:#}");
        assert!(common::reason_codes(f).contains(&"apk-block-malformed".to_string()), "{f:#}");
    }
    for (n, _) in &cases {
        let (ok, _) = apksigner(&["verify", "--min-sdk-version", "24"], &dir.path().join(n));
        assert!(!ok, "apksigner verifies {n}");
    }
}
