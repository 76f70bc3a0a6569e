//! AWS Signer signatures (Notary Project JWS envelopes that name the verification plugin
//! `com.amazonaws.signer.notation.plugin`) on a docker-registry on 127.0.0.1, seeded by
//! scripts/seed_aws_signer.py: Python's `cryptography` signs them in AWS Signer's exact shape under
//! a STAND-IN chain of AWS Signer's names (AWS's keys are not available; the script says so).
//!
//! sigaudit does what notation core does without the plugin (integrity, the chain to the
//! `signingAuthority` store at the authentic signing time, expiry) and the plugin's
//! trusted-identity check (the signed signing-profile ARN against the policy's ARN identities),
//! names the signing profile as the signer, and says the plugin's revocation check was not run
//! (`plugin-checks-not-run`): not `verified` unless the policy skips revocation.
//! Beside each verdict: tests/support/verify_notary_jws.py (`cryptography`) on the signature and
//! `openssl verify -attime` on the chain.

mod common;

use common::{sigaudit, stdout_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Seeded {
    reg: common::Registry,
    out: PathBuf,
    meta: Value,
}

fn python() -> String {
    std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

fn seed() -> Seeded {
    let reg = common::Registry::distribution(100);
    let out = reg.dir.path().join("aws");
    let o = Command::new(python())
        .arg(common::repo_root().join("scripts/seed_aws_signer.py"))
        .args(["--registry", &reg.addr, "--out"])
        .arg(&out)
        .output()
        .expect("python3 (apt-get install python3-cryptography)");
    assert!(o.status.success(), "seed_aws_signer.py: {}", String::from_utf8_lossy(&o.stderr));
    let meta = serde_json::from_slice(&o.stdout).unwrap();
    Seeded { reg, out, meta }
}

/// verify_notary_jws.py on the envelope pushed for `repo`.
fn independent(s: &Seeded, repo: &str) -> Value {
    let o = Command::new(python())
        .arg(common::repo_root().join("tests/support/verify_notary_jws.py"))
        .arg(s.out.join(format!("{}.jws", repo.replace('/', "_"))))
        .output()
        .expect("python3 with cryptography");
    assert!(o.status.success(), "verify_notary_jws.py: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// `openssl verify -attime` (the authentic signing time, 2026-01-10T10:00:00Z) of `repo`'s chain to `root`.
fn openssl_chain_ok(s: &Seeded, repo: &str, root: &Path) -> bool {
    let stem = s.out.join(repo.replace('/', "_"));
    let o = Command::new("openssl")
        .args(["verify", "-attime", "1768039200", "-CAfile"])
        .arg(root)
        .arg("-untrusted")
        .arg(format!("{}.chain.pem", stem.display()))
        .arg(format!("{}.leaf.pem", stem.display()))
        .output()
        .expect("openssl (./scripts/setup.sh installs it)");
    o.status.success()
}

fn policy(dir: &Path, name: &str, identities: &[&str], override_revocation: bool) -> PathBuf {
    let mut sv = serde_json::json!({"level": "strict"});
    if override_revocation {
        sv["override"] = serde_json::json!({"revocation": "skip"});
    }
    let p = serde_json::json!({"version": "1.0", "trustPolicies": [{
        "name": "aws-signer-tp", "registryScopes": ["*"], "signatureVerification": sv,
        "trustStores": ["signingAuthority:aws-signer-ts"], "trustedIdentities": identities}]});
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(&p).unwrap()).unwrap();
    path
}

/// Each image: (status, reason codes, signer, reasons' text).
fn scan(s: &Seeded, policy: &Path) -> std::collections::BTreeMap<String, (String, Vec<String>, Value, String)> {
    let target = format!("{}/aws", s.reg.addr);
    let o = sigaudit([
        "registry",
        &target,
        "--plain-http",
        "-o",
        "json",
        "--notation-trust-policy",
        policy.to_str().unwrap(),
        "--notation-trust-store",
        s.out.to_str().unwrap(),
    ]);
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let sig = &i["signatures"][0];
            let value = (
                i["status"].as_str().unwrap().to_string(),
                common::reason_codes(i),
                sig["signer"].clone(),
                sig["verification"]["reasons"].to_string(),
            );
            (i["repository"].as_str().unwrap().to_string(), value)
        })
        .collect()
}

#[test]
fn aws_signer_signatures_name_the_signing_profile_and_never_claim_the_plugins_revocation_check() {
    let s = seed();
    let (profile, version, other) = (
        s.meta["profile"].as_str().unwrap(),
        s.meta["profileVersion"].as_str().unwrap(),
        s.meta["otherVersion"].as_str().unwrap(),
    );
    let root = s.out.join("x509/signingAuthority/aws-signer-ts/root.crt");
    let attacker_root = s.out.join("attacker-root.crt");

    // The independent verdicts.
    let app = independent(&s, "aws/app");
    assert_eq!(app["signatureValid"], true);
    assert_eq!(app["protected"]["io.cncf.notary.verificationPlugin"], "com.amazonaws.signer.notation.plugin");
    assert_eq!(app["protected"]["com.amazonaws.signer.signingProfileVersion"], version);
    assert_eq!(app["targetDigest"], s.meta["images"]["aws/app"]["digest"]);
    assert!(openssl_chain_ok(&s, "aws/app", &root), "openssl verify: the chain ends at the store's root");
    let forged = independent(&s, "aws/forged-arn");
    assert_eq!(forged["signatureValid"], false, "the rewritten ARN breaks the signature");
    assert_eq!(forged["protected"]["com.amazonaws.signer.signingProfileVersion"], version);
    let unsigned = independent(&s, "aws/unsigned-arn");
    assert_eq!(unsigned["signatureValid"], true);
    assert_eq!(unsigned["protected"]["com.amazonaws.signer.signingProfileVersion"], other, "signed: another profile");
    assert_eq!(unsigned["unprotected"]["com.amazonaws.signer.signingProfileVersion"], version, "unsigned claim");
    let wrong = independent(&s, "aws/wrong-root");
    assert_eq!(wrong["signatureValid"], true, "the attacker's chain signs correctly");
    assert!(!openssl_chain_ok(&s, "aws/wrong-root", &root), "openssl verify: not under the store's root");
    assert!(openssl_chain_ok(&s, "aws/wrong-root", &attacker_root), "openssl verify: under the attacker's");
    let mallory = independent(&s, "aws/not-aws-leaf");
    assert_eq!(mallory["signatureValid"], true);
    assert_eq!(mallory["protected"]["com.amazonaws.signer.signingProfileVersion"], version, "claims the profile");
    assert!(openssl_chain_ok(&s, "aws/not-aws-leaf", &root), "openssl verify: under the store's root");
    let replayed = independent(&s, "aws/replayed");
    assert_eq!(replayed["signatureValid"], true);
    assert_ne!(replayed["targetDigest"], s.meta["images"]["aws/replayed"]["digest"], "it signs aws/app");

    // Strict policy, the signing profile's ARN as trusted identity: all notation core checks
    // and the plugin's identity check hold, its revocation check is not run: untrusted.
    let strict = policy(&s.out, "strict.json", &[profile], false);
    let got = scan(&s, &strict);
    let (status, codes, signer, text) = &got["aws/app"];
    assert_eq!(status, "untrusted", "{text}");
    assert_eq!(codes.last().unwrap(), "plugin-checks-not-run", "{codes:?}");
    assert!(codes.contains(&"chain-anchored".to_string()), "{codes:?}");
    assert!(text.contains("com.amazonaws.signer.notation.plugin") && text.contains("revocation"), "{text}");
    assert_eq!(signer["signingProfile"], version, "the signer is the signing profile: {signer}");
    assert_eq!(signer["signingJob"], s.meta["job"]);
    assert_eq!(signer["subject"], "CN=AWS Signer, OU=AWS Cryptography, O=AWS, L=Seattle, ST=WA, C=US");

    let (status, codes, _, text) = &got["aws/forged-arn"];
    assert_eq!((status.as_str(), codes.last().unwrap().as_str()), ("invalid", "bad-signature"), "{text}");
    let (status, codes, signer, text) = &got["aws/unsigned-arn"];
    assert_eq!(status, "untrusted", "{text}");
    assert!(codes.contains(&"identity-mismatch".to_string()), "{codes:?}");
    assert!(text.contains(other) && !text.contains(&format!("profile {version}")), "{text}");
    assert_eq!(signer["signingProfile"], other, "the signed ARN, never the unprotected one");
    let (status, codes, _, text) = &got["aws/wrong-root"];
    assert_eq!(status, "untrusted", "{text}");
    assert!(codes.contains(&"notation-not-in-trust-store".to_string()), "{codes:?}");
    let (status, codes, _, text) = &got["aws/replayed"];
    assert_eq!((status.as_str(), codes.last().unwrap().as_str()), ("invalid", "payload-digest-mismatch"), "{text}");

    // A policy that skips revocation leaves the plugin nothing this scan did not check.
    let skip = policy(&s.out, "skip-revocation.json", &[version], true);
    let got = scan(&s, &skip);
    let (status, codes, signer, text) = &got["aws/app"];
    assert_eq!(status, "verified", "{text}");
    assert_eq!(codes.last().unwrap(), "plugin-checks-not-run", "said even so: {codes:?}");
    assert_eq!(signer["signingProfile"], version);
    assert_eq!(got["aws/unsigned-arn"].0, "untrusted");
    assert_eq!(got["aws/wrong-root"].0, "untrusted");
    assert_eq!(got["aws/forged-arn"].0, "invalid");
    assert_eq!(got["aws/replayed"].0, "invalid");
    // Stricter than the plugin: an ARN stated by a leaf AWS Signer did not issue proves nothing.
    let (status, codes, _, text) = &got["aws/not-aws-leaf"];
    assert_eq!(status, "untrusted", "{text}");
    assert!(codes.contains(&"identity-mismatch".to_string()) && text.contains("CN=Mallory"), "{codes:?} {text}");

    // No notation policy: --ca-roots anchors the chain (at --at, inside the three-day leaf), but
    // nothing names trusted signing profiles and the plugin is not run.
    let target = format!("{}/aws", s.reg.addr);
    let o = sigaudit([
        "registry",
        &target,
        "--plain-http",
        "-o",
        "json",
        "--ca-roots",
        root.to_str().unwrap(),
        "--at",
        "2026-01-11T00:00:00Z",
    ]);
    let report = stdout_json(&o);
    let app = report["images"].as_array().unwrap().iter().find(|i| i["repository"] == "aws/app").unwrap();
    let codes = common::reason_codes(app);
    assert_eq!(app["status"], "untrusted", "{app}");
    assert!(codes.contains(&"chain-anchored".to_string()), "{codes:?}");
    assert_eq!(codes.last().unwrap(), "plugin-checks-not-run", "{codes:?}");

    // Another profile, a wildcard (which the plugin refuses), or only x509.subject identities:
    // the identity check fails.
    for (name, ids) in [
        ("other.json", vec![other.rsplit_once('/').unwrap().0]),
        ("wildcard.json", vec!["*"]),
        ("subject.json", vec!["x509.subject: C=US, ST=WA, L=Seattle, O=AWS, OU=AWS Cryptography, CN=AWS Signer"]),
    ] {
        let got = scan(&s, &policy(&s.out, name, &ids, true));
        let (status, codes, _, text) = &got["aws/app"];
        assert_eq!(status, "untrusted", "{name}: {text}");
        assert!(codes.contains(&"identity-mismatch".to_string()), "{name}: {codes:?}");
    }
}
