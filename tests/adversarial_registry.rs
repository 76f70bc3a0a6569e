//! Adversarial registry signatures (issue 10, classes 1, 3, 4, 5 and 8): forged, mis-chained,
//! relocated and ambiguous signatures made by scripts/seed_adversarial.py with Python's
//! `cryptography`, pushed to a loopback CNCF distribution registry, scanned by the built binary,
//! and each verdict set beside the independent one:
//! - certificate paths: `openssl verify -x509_strict -purpose any -attime …` (OpenSSL 3.0 has no
//!   code-signing purpose, so the leaf's and the CAs' extendedKeyUsage are read with
//!   `openssl x509 -ext extendedKeyUsage`) and `cryptography`'s `verify_directly_issued_by`;
//! - signature bytes: `cryptography`, recorded by the seeder;
//! - signed JSON: Go's own encoding/json (tests/support/gojson, built here with the standard
//!   library only) decoding into the structs cosign, DSSE, in-toto and notation decode into.
//!
//! Every test fails when we say `verified` where the independent verdict refuses, or refuse
//! where it accepts; and pins the verdict the README's rules give (`invalid` for a signature that
//! does not hold, `untrusted` for one whose signer the trust material does not vouch for). Each
//! test prints its table (`cargo test --test adversarial_registry -- --nocapture`).

mod common;

use common::{repo_root, sigaudit, stdout_json, Registry};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The time every scan and every `openssl verify` judges certificates at (the seeder's AT).
const AT_EPOCH: &str = "1893456000";

fn seed(reg: &Registry, class: u8) -> Vec<Value> {
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let out = reg.dir.path().join(format!("adversarial-{class}"));
    let o = Command::new(&python)
        .arg(repo_root().join("scripts/seed_adversarial.py"))
        .args(["--registry", &reg.addr, "--class", &class.to_string(), "--out"])
        .arg(&out)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e} (apt-get install python3-cryptography)"));
    assert!(o.status.success(), "seeding class {class} failed:\n{}", String::from_utf8_lossy(&o.stderr));
    let cases: Value = serde_json::from_slice(&std::fs::read(out.join("cases.json")).unwrap()).unwrap();
    cases.as_array().unwrap().clone()
}

/// Our verdict on the case's image (it carries exactly one signature) and its reasons; the
/// reason codes are recorded for [`Table::check`] (every reason has a known one).
fn ours(reg: &Registry, case: &Value) -> (String, String) {
    let mut args = vec![
        "image".to_string(),
        format!("{}/{}:v1", reg.addr, case["repository"].as_str().unwrap()),
        "--plain-http".into(),
        "-o".into(),
        "json".into(),
    ];
    args.extend(case["args"].as_array().unwrap().iter().map(|a| a.as_str().unwrap().to_string()));
    let o = sigaudit(&args);
    let report = stdout_json(&o);
    let image = &report["images"][0];
    assert_eq!(image["digest"], case["digest"], "{}: {report:#}", case["id"]);
    let sigs = image["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 1, "{}: {:#}", case["id"], image["signatures"]);
    common::assert_reason_codes(&report);
    let v = &sigs[0]["verification"];
    let codes: Vec<String> =
        v["reasonCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    CODES.with(|c| c.borrow_mut().insert(case["id"].as_str().unwrap().to_string(), codes));
    (v["status"].as_str().unwrap().to_string(), v["reasons"].to_string())
}

thread_local! {
    /// The reason codes [`ours`] saw, by case id.
    static CODES: std::cell::RefCell<std::collections::BTreeMap<String, Vec<String>>> = Default::default();
}

/// The code each case's reasons must include: that of the reason that decides the verdict (what
/// verified it, for the controls), so that a waiver or a filter on the code matches exactly
/// these failures. A new case needs its line here.
const EXPECTED_CODES: &[(&str, &str)] = &[
    ("c1-good-cosign", "chain-anchored"),
    ("c1-good-notary", "chain-anchored"),
    ("c1-inter-not-ca-cosign", "chain-ca-flag"),
    ("c1-inter-not-ca-notary", "cert-profile"),
    ("c1-inter-tls-server-cosign", "chain-ca-flag"),
    ("c1-inter-tls-server-notary", "cert-profile"),
    ("c1-inter-no-keycertsign-cosign", "chain-key-usage"),
    ("c1-inter-no-keycertsign-notary", "cert-profile"),
    ("c1-root-pathlen0-cosign", "chain-path-len"),
    ("c1-root-pathlen0-notary", "cert-profile"),
    ("c1-inter-eku-server-cosign", "chain-eku"),
    ("c1-inter-eku-server-notary", "chain-eku"),
    ("c1-leaf-eku-server-cosign", "chain-eku"),
    ("c1-leaf-eku-server-notary", "cert-profile"),
    ("c1-leaf-no-eku-cosign", "chain-eku"),
    ("c1-leaf-no-eku-notary", "chain-eku"),
    ("c1-rsa-good-cosign", "chain-anchored"),
    ("c1-rsa-good-notary", "chain-anchored"),
    ("c1-sigalg-ecdsa-oid-rsa-sig-cosign", "chain-signature"),
    ("c1-sigalg-ecdsa-oid-rsa-sig-notary", "cert-profile"),
    ("c1-pkcs1-no-digestinfo-cosign", "chain-signature"),
    ("c1-pkcs1-no-digestinfo-notary", "cert-profile"),
    ("c3-good", "chain-anchored"),
    ("c3-bogus", "bad-signature"),
    ("c3-other-digest", "bad-signature"),
    ("c3-garbage", "bad-signature"),
    ("c3-key-bogus", "key-mismatch"),
    ("c4-issuer-only", "issuer-only-policy"),
    ("c4-no-policy", "no-identity-policy"),
    ("c4-identity", "identity-matched"),
    ("c4-identity-regexp", "identity-matched"),
    ("c4-identity-wrong", "identity-mismatch"),
    ("c4-issuer-wrong", "identity-mismatch"),
    ("c4-identity-unlogged", "no-verified-signing-time"),
    ("c5-control-strict", "chain-anchored"),
    ("c5-authenticity-strict", "notation-not-in-trust-store"),
    ("c5-expiry-strict", "signature-expired"),
    ("c5-timestamp-strict", "cert-expired-no-timestamp"),
    ("c5-control-permissive", "chain-anchored"),
    ("c5-authenticity-permissive", "notation-not-in-trust-store"),
    ("c5-expiry-permissive", "signature-expired"),
    ("c5-timestamp-permissive", "cert-expired-no-timestamp"),
    ("c5-control-audit", "chain-anchored"),
    ("c5-authenticity-audit", "notation-not-in-trust-store"),
    ("c5-expiry-audit", "signature-expired"),
    ("c5-timestamp-audit", "cert-expired-no-timestamp"),
    ("c8-ss-plain", "verified-key"),
    ("c8-ss-exact-dup", "payload-malformed"),
    ("c8-ss-case-dup", "payload-malformed"),
    ("c8-ss-critical-case-dup", "payload-malformed"),
    ("c8-ss-long-s-dup", "payload-malformed"),
    ("c8-ss-kelvin-dup", "payload-malformed"),
    ("c8-ss-case-only", "verified-key"),
    ("c8-ss-long-s-only", "verified-key"),
    ("c8-att-plain", "verified-key"),
    ("c8-att-subject-long-s", "payload-malformed"),
    ("c8-att-digest-case", "payload-malformed"),
    ("c8-att-payload-case", "malformed-signature"),
    ("c8-att-keyid-kelvin", "malformed-signature"),
    ("c8-nv-plain", "chain-anchored"),
    ("c8-nv-target-case", "payload-malformed"),
    ("c8-nv-digest-long-s", "payload-malformed"),
    ("c8-nv-jws-payload-case", "malformed-signature"),
    ("c8-nv-protected-cty-case", "malformed-signature"),
    ("c8-ss-st-ligature-only", "payload-malformed"),
    ("c8-ss-dotless-i-only", "payload-malformed"),
    ("c8-att-digest-st-ligature", "payload-digest-mismatch"),
    ("c8-att-digest-upper-hex", "payload-digest-mismatch"),
    ("c8-nv-digest-dotless-i", "payload-malformed"),
    ("c8-nv-protected-expiry-case", "notary-header"),
];

fn openssl() -> &'static str {
    assert!(Path::new("/usr/bin/openssl").exists(), "openssl is missing (./scripts/setup.sh installs it)");
    "/usr/bin/openssl"
}

/// The extendedKeyUsage names `openssl x509 -ext extendedKeyUsage` prints, or None without one.
fn openssl_eku(cert: &str) -> Option<Vec<String>> {
    let o = Command::new(openssl()).args(["x509", "-noout", "-ext", "extendedKeyUsage", "-in", cert]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let mut lines = text.lines();
    match lines.next() {
        Some(l) if l.contains("Extended Key Usage") => {
            Some(lines.flat_map(|l| l.split(',')).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
        }
        _ => None,
    }
}

/// The independent verdict on a certification path for code signing: `openssl verify
/// -x509_strict` at the scan's time, the leaf's EKU naming Code Signing, and no CA's EKU that
/// excludes it (OpenSSL 3.0's `-purpose` has no code signing, so the EKUs are read apart).
fn openssl_chain(chain: &Value, code_signing: bool) -> (bool, String) {
    let s = |k: &str| chain[k].as_str().map(str::to_string);
    let (leaf, root) = (s("leaf").unwrap(), s("root").unwrap());
    // The time the chain is judged at: the case's (a Rekor integrated time), else the scan's.
    let attime = chain["attime"].as_i64().map_or(AT_EPOCH.to_string(), |t| t.to_string());
    let mut cmd = Command::new(openssl());
    cmd.args(["verify", "-x509_strict", "-purpose", "any", "-attime", &attime, "-CAfile", &root]);
    if let Some(u) = s("untrusted") {
        cmd.args(["-untrusted", &u]);
    }
    let o = cmd.arg(&leaf).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    if !o.status.success() {
        let why = text.lines().find(|l| l.starts_with("error ")).unwrap_or("verification failed").to_string();
        return (false, format!("openssl verify: {why}"));
    }
    if code_signing {
        match openssl_eku(&leaf) {
            Some(e) if e.iter().any(|x| x == "Code Signing") => {}
            Some(e) => return (false, format!("openssl verify OK; leaf EKU {e:?} lacks Code Signing")),
            None => return (false, "openssl verify OK; leaf has no EKU, so no Code Signing".into()),
        }
        for ca in chain["intermediates"].as_array().unwrap() {
            if let Some(e) = openssl_eku(ca.as_str().unwrap()) {
                if !e.iter().any(|x| x == "Code Signing") {
                    return (false, format!("openssl verify OK; a CA's EKU {e:?} excludes Code Signing"));
                }
            }
        }
        return (true, "openssl verify OK; EKU Code Signing".into());
    }
    (true, "openssl verify OK".into())
}

/// One row of a test's table; `failures` collects every row where we and the rules disagree.
struct Table {
    rows: Vec<String>,
    failures: Vec<String>,
}

impl Table {
    fn new(header: &str) -> Table {
        Table { rows: vec![header.to_string()], failures: Vec::new() }
    }

    /// Record a case: we must say `verified` exactly when the independent verdict accepts, and
    /// give the verdict the rules expect.
    fn check(&mut self, case: &Value, independent_accepts: bool, independent: &str, got: &str, reasons: &str) {
        let id = case["id"].as_str().unwrap();
        let expect = case["expect"].as_str().unwrap();
        let codes = CODES.with(|c| c.borrow().get(id).cloned().unwrap_or_default());
        self.rows.push(format!(
            "{id} | {} | independent: {} ({independent}) | ours: {got} {codes:?} | expected: {expect}",
            case["how"].as_str().unwrap(),
            if independent_accepts { "accept" } else { "refuse" },
        ));
        match EXPECTED_CODES.iter().find(|(c, _)| *c == id) {
            Some((_, want)) if !codes.iter().any(|c| c == want) => {
                self.failures.push(format!("{id}: reason codes {codes:?} lack {want}; reasons {reasons}"))
            }
            Some(_) => {}
            None => self.failures.push(format!("{id}: no expected reason code (EXPECTED_CODES); ours: {codes:?}")),
        }
        if (got == "verified") != independent_accepts {
            self.failures.push(format!(
                "{id}: we say {got}, the independent verdict {} ({independent}); reasons {reasons}",
                if independent_accepts { "accepts" } else { "refuses" }
            ));
        } else if got != expect {
            self.failures.push(format!("{id}: we say {got}, the rules give {expect}; reasons {reasons}"));
        }
    }

    fn finish(self) {
        eprintln!("{}", self.rows.join("\n"));
        assert!(self.failures.is_empty(), "{} disagreement(s):\n{}", self.failures.len(), self.failures.join("\n"));
    }
}

/// Class 1, as it reaches cosign and Notary signatures through --ca-roots: issuers that are not
/// CAs, CAs without keyCertSign, pathLen exceeded, EKUs that exclude code signing, and signature
/// algorithm identifiers the signature does not fit.
#[test]
fn class1_certification_paths_through_ca_roots() {
    let reg = Registry::distribution(100);
    let cases = seed(&reg, 1);
    assert_eq!(cases.len(), 22);
    let mut t = Table::new("case | how | independent | ours | expected");
    for case in &cases {
        let ind = &case["independent"];
        let (mut accepts, mut why) = openssl_chain(&ind["chain"], true);
        let links: Vec<&str> =
            ind["cryptography_links"].as_array().unwrap().iter().map(|l| l.as_str().unwrap()).collect();
        if let Some(bad) = links.iter().find(|l| **l != "ok") {
            accepts = false;
            why.push_str(&format!("; cryptography: {bad}"));
        }
        let (got, reasons) = ours(&reg, case);
        t.check(case, accepts, &why, &got, &reasons);
    }
    t.finish();
}

/// Class 3: a Sigstore message-signature bundle's signature over the image digest is checked
/// with the certificate's (or --key's) key before any trust decision: a private-CA certificate
/// with a bogus signature and no log entry is never `verified` through --ca-roots.
#[test]
fn class3_message_signature_bundles_are_checked_before_trust() {
    let reg = Registry::distribution(100);
    let cases = seed(&reg, 3);
    assert_eq!(cases.len(), 5);
    let mut t = Table::new("case | how | independent | ours | expected");
    for case in &cases {
        let ind = &case["independent"];
        let sig = ind["cryptography_signature"].as_str().unwrap();
        let (mut accepts, mut why) = (sig == "ok", format!("cryptography: signature {sig}"));
        if ind["chain"].is_object() {
            let (chain_ok, chain_why) = openssl_chain(&ind["chain"], true);
            accepts &= chain_ok;
            why.push_str(&format!("; {chain_why}"));
        }
        let (got, reasons) = ours(&reg, case);
        if got == "invalid" && !reasons.contains("does not verify") {
            t.failures.push(format!("{}: invalid, but not for its signature: {reasons}", case["id"]));
        }
        t.check(case, accepts, &why, &got, &reasons);
    }
    t.finish();
}

/// Class 4: a keyless (Fulcio) certificate with a verified SCT, dated by a verified Rekor SET, is
/// `verified` only under an identity policy (--certificate-identity[-regexp]); an OIDC issuer
/// alone is `untrusted`, and says why. Without the log entry nothing dates the short-lived
/// certificate (cosign 2 refuses it too), whatever the policy.
#[test]
fn class4_an_oidc_issuer_alone_is_not_an_identity_policy() {
    let reg = Registry::distribution(100);
    let cases = seed(&reg, 4);
    assert_eq!(cases.len(), 7);
    let mut t = Table::new("case | how | independent | ours | expected");
    for case in &cases {
        let ind = &case["independent"];
        let (sig, sct, rule) = (
            ind["cryptography_signature"].as_str().unwrap(),
            ind["cryptography_sct"].as_str().unwrap(),
            ind["cosign2_identity_rule"].as_str().unwrap(),
        );
        let (chain_ok, chain_why) = openssl_chain(&ind["chain"], true);
        let accepts = sig == "ok" && sct == "ok" && chain_ok && rule == "ok";
        let why = format!("cryptography: signature {sig}, SCT {sct}; {chain_why}; cosign 2 identity rule: {rule}");
        let (got, reasons) = ours(&reg, case);
        if case["id"] == "c4-issuer-only" && !reasons.contains("an OIDC issuer alone is not an identity policy") {
            t.failures.push(format!("c4-issuer-only: the reasons do not say the issuer alone is no policy: {reasons}"));
        }
        if case["id"] == "c4-identity-unlogged" && !reasons.contains("no verified Rekor entry") {
            t.failures.push(format!("c4-identity-unlogged: the reasons do not say nothing dates it: {reasons}"));
        }
        t.check(case, accepts, &why, &got, &reasons);
    }
    t.finish();
}

/// Class 5: notation's `permissive` and `audit` levels log failures and notation then passes
/// the signature; here a logged authenticity, expiry or authentic-timestamp failure is
/// `untrusted`, with the level and the reason, never `verified`.
#[test]
fn class5_failures_notation_only_logs_are_untrusted() {
    let reg = Registry::distribution(100);
    let cases = seed(&reg, 5);
    assert_eq!(cases.len(), 12);
    let mut t = Table::new("case | how | independent (notation's documented outcome) | ours | expected");
    for case in &cases {
        let ind = &case["independent"];
        let sig = ind["cryptography_signature"].as_str().unwrap();
        let (chain_ok, chain_why) = openssl_chain(&ind["chain"], false);
        // The envelope's io.cncf.notary.expiry against the scan's time (RFC 3339, UTC, so
        // lexical order is time order).
        let expired = ind["expiry"].as_str().is_some_and(|e| e <= "2030-01-01T00:00:00Z");
        let accepts = sig == "ok" && chain_ok && !expired;
        let notation = ind["notation_documented"].as_str().unwrap();
        let why = format!(
            "cryptography: signature {sig}; {chain_why} against the policy's store{}; notation: {notation}",
            if expired { "; io.cncf.notary.expiry has passed" } else { "" }
        );
        let (got, reasons) = ours(&reg, case);
        if notation.contains("logged") {
            let level = case["id"].as_str().unwrap().rsplit('-').next().unwrap();
            let level = format!("({}{})", level[..1].to_uppercase(), &level[1..]);
            if !(reasons.contains("(logged by") && reasons.contains(&level)) {
                t.failures.push(format!("{}: the reasons do not name the level {level}: {reasons}", case["id"]));
            }
        }
        t.check(case, accepts, &why, &got, &reasons);
    }
    t.finish();
}

/// Build tests/support/gojson with the Go toolchain (standard library only, no network).
fn go_decoder(dir: &Path) -> PathBuf {
    let go = ["/usr/bin/go", "/usr/lib/go/bin/go"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or_else(|| panic!("go is missing: apt-get install golang-go (./scripts/setup.sh installs it)"));
    let bin = dir.join("gojson");
    let o = Command::new(go)
        .args(["build", "-o"])
        .arg(&bin)
        .arg(".")
        .current_dir(repo_root().join("tests/support/gojson"))
        .env("GOCACHE", dir.join("gocache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GOFLAGS", "-mod=mod")
        .env("GOPROXY", "off")
        .env("GOSUMDB", "off")
        .env("GOTOOLCHAIN", "local")
        .env("CGO_ENABLED", "0")
        .output()
        .unwrap();
    assert!(o.status.success(), "go build: {}", String::from_utf8_lossy(&o.stderr));
    bin
}

/// What plain serde_json (exact keys; the last of exact duplicates) reads as the bound digests.
fn serde_reading(kind: &str, bytes: &[u8]) -> Vec<String> {
    use base64::Engine;
    let Ok(v) = serde_json::from_slice::<Value>(bytes) else { return vec![] };
    match kind {
        "simplesigning" => v
            .pointer("/critical/image/docker-manifest-digest")
            .and_then(Value::as_str)
            .into_iter()
            .map(str::to_string)
            .collect(),
        "dsse" => {
            let payload = v["payload"].as_str().and_then(|p| base64::engine::general_purpose::STANDARD.decode(p).ok());
            let s: Value = payload.and_then(|p| serde_json::from_slice(&p).ok()).unwrap_or(Value::Null);
            s["subject"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x["digest"]["sha256"].as_str().map(|d| format!("sha256:{d}")))
                .collect()
        }
        _ => {
            let payload =
                v["payload"].as_str().and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p).ok());
            let p: Value = payload.and_then(|p| serde_json::from_slice(&p).ok()).unwrap_or(Value::Null);
            p.pointer("/targetArtifact/digest").and_then(Value::as_str).into_iter().map(str::to_string).collect()
        }
    }
}

/// Judge class 8's cases that `select` picks against Go's reading; returns the number of
/// payloads Go and plain serde bind to different digests.
fn class8(select: impl Fn(&str) -> bool, expect_cases: usize) -> usize {
    let reg = Registry::distribution(100);
    let cases: Vec<Value> = seed(&reg, 8).into_iter().filter(|c| select(c["id"].as_str().unwrap())).collect();
    assert_eq!(cases.len(), expect_cases);
    let tmp = tempfile::tempdir().unwrap();
    let gojson = go_decoder(tmp.path());
    let mut t = Table::new("case | how | independent (Go encoding/json binds) | ours | expected");
    let mut differentials = 0;
    for case in &cases {
        let ind = &case["independent"];
        let (kind, file) = (ind["kind"].as_str().unwrap(), ind["payload_file"].as_str().unwrap());
        let o = Command::new(&gojson).args([kind, file]).output().unwrap();
        assert!(o.status.success(), "gojson: {}", String::from_utf8_lossy(&o.stderr));
        let go: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(go["error"].is_null(), "{}: Go cannot decode it: {go}", case["id"]);
        let go_digests: Vec<String> =
            go["digests"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string()).collect();
        let serde_digests = serde_reading(kind, &std::fs::read(file).unwrap());
        let this = case["digest"].as_str().unwrap();
        let go_binds_this = go_digests == [this];
        // notation refuses a protected header whose content type is not its payload type, and a
        // signature whose expiry (as its struct reads it) has passed at the scan's time.
        let cty_ok = kind != "notary" || go["cty"] == "application/vnd.cncf.notary.payload.v1+json";
        let expired = go["expiry"].as_str().is_some_and(|e| e <= "2030-01-01T00:00:00Z");
        let duplicate = ind["duplicate"].as_bool().unwrap();
        // Plain serde reads nothing where only a folded spelling is present (cosign's spec spells
        // `Docker-manifest-digest`): that is a difference of reach, not of binding.
        let serde_differs = !serde_digests.is_empty() && serde_digests != go_digests;
        if serde_differs {
            differentials += 1;
        }
        // Independent: the Go verifier accepts when it binds this image (the signature is sound
        // by construction: the seeder signed the exact bytes). Rule: any duplicate, or a payload
        // Go and serde read differently, is refused whatever Go binds.
        let accepts = go_binds_this && cty_ok && !expired && !duplicate && !serde_differs;
        let why = format!(
            "Go binds {}{}{}; serde reads {}{}",
            if go_binds_this { "this image".to_string() } else { format!("{go_digests:?}") },
            if cty_ok { String::new() } else { format!(", cty {}", go["cty"]) },
            if expired { format!(", expiry {} (passed)", go["expiry"]) } else { String::new() },
            if serde_digests.is_empty() {
                "nothing".to_string()
            } else if serde_digests == [this] {
                "this image".to_string()
            } else {
                format!("{serde_digests:?}")
            },
            if duplicate { "; keys fold together" } else { "" }
        );
        let (got, reasons) = ours(&reg, case);
        t.check(case, accepts, &why, &got, &reasons);
    }
    t.rows.push(format!("{differentials} payload(s) that Go and serde bind to different digests"));
    t.finish();
    differentials
}

/// Cases whose keys Go does not fold to a field name although their full upper case does
/// (U+FB06 ligature st, U+0131 dotless i), a protected-header case variant Go's struct reads, and
/// an in-toto subject digest in upper-case hex (cosign compares it exactly).
fn go_reads_otherwise(id: &str) -> bool {
    ["ligature", "dotless-i", "protected-expiry", "upper-hex"].iter().any(|k| id.contains(k))
}

/// Class 8: signed JSON (cosign simple-signing payloads, DSSE envelopes and in-toto statements,
/// Notary JWS and payloads) with keys that Go's encoding/json folds together — duplicates, case
/// variants, `ſ`/`s` and the Kelvin sign/`k` — is `invalid`: we never bind a signature to another
/// digest than cosign or notation would. Payloads that Go reads one way and serde another are
/// invalid; a payload without duplicates whose Go reading names this image verifies.
#[test]
fn class8_signed_json_is_read_as_go_reads_it_or_refused() {
    let differentials = class8(|id| !go_reads_otherwise(id), 18);
    assert!(differentials >= 5, "the fixtures no longer show Go and serde disagreeing");
}

/// Class 8, the other direction: a key that Go does NOT fold to a field name must not be bound
/// to it either. `json::fold` (upper then lower case, full mappings) folds U+FB06 `ﬆ` to "st" and
/// U+0131 `ı` to "i", which Go's encoding/json (simple folding) does not: a payload naming the
/// image only under `docker-manifeﬆ-digest`, `crıtical` or `dıgest` binds nothing in cosign or
/// notation, and must not verify here. Likewise a protected header whose only expiry is spelt
/// `io.cncf.notary.Expiry`: notation's struct reads it, and the signature has expired. And an
/// in-toto subject digest in upper-case hex, which cosign's IntotoSubjectClaimVerifier compares
/// with `"sha256:" + hex` exactly, so it names no image there.
#[test]
fn class8_what_go_does_not_match_binds_nothing() {
    class8(go_reads_otherwise, 6);
}
