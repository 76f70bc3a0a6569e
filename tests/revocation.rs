//! Revocation (`--crl`, `--revocation require`): a throw-away PKI run by `openssl ca`
//! (scripts/make_revocation_fixtures.sh: `-revoke … -crl_reason keyCompromise`, `-gencrl`), PE
//! files signed by its certificates with osslsigncode (some RFC 3161 timestamped, by an `openssl
//! ts` TSA on 127.0.0.1, before the revocations), and cosign-signed images on a docker-registry on
//! 127.0.0.1 (scripts/seed_revocation.py). Every fs verdict is set beside `openssl verify
//! -crl_check_all` and `osslsigncode verify -CRLfile` on the same certificates, files and CRLs.

mod common;

use common::{sigaudit, stdout_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The fixtures, made once per test binary.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(common::repo_root().join("scripts/make_revocation_fixtures.sh"))
            .arg(dir.path())
            .output()
            .expect("run scripts/make_revocation_fixtures.sh");
        assert!(o.status.success(), "make_revocation_fixtures.sh: {}", String::from_utf8_lossy(&o.stderr));
        dir
    })
    .path()
}

fn pki(name: &str) -> PathBuf {
    fixtures().join("pki").join(name)
}

/// A PEM file holding the given CRLs one after another (as osslsigncode's -CRLfile takes them).
fn crl_bundle(names: &[&str]) -> PathBuf {
    let path = fixtures().join(format!("bundle-{}.pem", names.join("+")));
    let mut all = Vec::new();
    for n in names {
        all.extend(std::fs::read(pki(n)).unwrap());
    }
    std::fs::write(&path, all).unwrap();
    path
}

/// Our verdict on one PE: its signature's status and reason codes, and the reasons' text.
fn scan_pe(file: &str, crls: &[&str], extra: &[&str]) -> (String, Vec<String>, String) {
    let pe = fixtures().join("pe").join(file);
    let mut args: Vec<String> = vec!["fs".into(), pe.display().to_string(), "-o".into(), "json".into()];
    args.extend(["--ca-roots".into(), pki("root.crt").display().to_string()]);
    for c in crls {
        args.extend(["--crl".into(), pki(c).display().to_string()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = sigaudit(&args);
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    let v = &report["files"][0]["signatures"][0]["verification"];
    let codes = v["reasonCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    (v["status"].as_str().unwrap().to_string(), codes, v["reasons"].to_string())
}

/// `openssl verify -crl_check_all` on `leaf` through `ca` to the root, with these CRLs: Ok or its
/// error line.
fn openssl_verify(leaf: &str, ca: &str, crls: &[&str]) -> Result<(), String> {
    let mut c = Command::new("openssl");
    c.args(["verify", "-crl_check_all", "-purpose", "any", "-CAfile"]).arg(pki("root.crt"));
    c.arg("-untrusted").arg(pki(ca));
    for crl in crls {
        c.arg("-CRLfile").arg(pki(crl));
    }
    let o = c.arg(pki(leaf)).output().expect("openssl (./scripts/setup.sh installs it)");
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    if o.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

/// `osslsigncode verify -CRLfile` on a PE (the CRLs in one PEM file): Ok or its output.
fn osslsigncode_verify(file: &str, crls: &[&str]) -> Result<(), String> {
    let o = Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(pki("root.crt"))
        .arg("-TSA-CAfile")
        .arg(pki("root.crt"))
        .arg("-CRLfile")
        .arg(crl_bundle(crls))
        .arg("-TSA-CRLfile")
        .arg(pki("root.crl"))
        .arg("-in")
        .arg(fixtures().join("pe").join(file))
        .output()
        .expect("osslsigncode (./scripts/setup.sh installs it)");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    if o.status.success() {
        Ok(())
    } else {
        Err(text)
    }
}

#[test]
fn a_good_signer_checked_against_current_crls_is_verified_as_openssl_and_osslsigncode_say() {
    let (status, codes, _) = scan_pe("good.exe", &["ica.crl", "root.crl"], &[]);
    assert_eq!(status, "verified");
    assert_eq!(codes, ["chain-anchored", "revocation-good", "revocation-good"], "leaf and issuing CA both checked");
    openssl_verify("good.crt", "ica.crt", &["ica.crl", "root.crl"]).expect("openssl verify accepts the good leaf");
    osslsigncode_verify("good.exe", &["ica.crl", "root.crl"]).expect("osslsigncode accepts good.exe");
    // The same CRL as DER, and both CRLs in one PEM file.
    let (status, codes, _) = scan_pe("good.exe", &["ica.crl.der", "root.crl"], &[]);
    assert_eq!((status.as_str(), codes.len()), ("verified", 3), "{codes:?}");
    let bundle = crl_bundle(&["ica.crl", "root.crl"]);
    let (status, codes, _) = scan_pe("good.exe", &[bundle.to_str().unwrap()], &[]);
    assert_eq!((status.as_str(), codes.len()), ("verified", 3), "{codes:?}");
}

#[test]
fn a_signer_revoked_for_key_compromise_is_invalid_even_timestamped_before_it() {
    for file in ["kc.exe", "kc-ts.exe"] {
        let (status, codes, reasons) = scan_pe(file, &["ica.crl", "root.crl"], &[]);
        assert_eq!(status, "invalid", "{file}: {reasons}");
        assert!(codes.contains(&"cert-revoked".to_string()), "{file}: {codes:?}");
        assert!(reasons.contains("keyCompromise") && reasons.contains("revoked on 20"), "{file}: {reasons}");
        let e = osslsigncode_verify(file, &["ica.crl", "root.crl"]).expect_err("osslsigncode rejects it");
        assert!(e.contains("certificate revoked"), "{file}: {e}");
    }
    // The timestamp is verified (it is not what fails), and predates the revocation.
    let (_, codes, _) = scan_pe("kc-ts.exe", &["ica.crl", "root.crl"], &[]);
    assert_eq!(codes[0], "timestamp-verified");
    let e = openssl_verify("kc.crt", "ica.crt", &["ica.crl", "root.crl"]).expect_err("openssl rejects kc.crt");
    assert!(e.contains("certificate revoked"), "{e}");
}

#[test]
fn a_superseded_signer_counts_only_for_signatures_timestamped_before_the_revocation() {
    let (status, codes, reasons) = scan_pe("sup.exe", &["ica.crl", "root.crl"], &[]);
    assert_eq!(status, "invalid", "no timestamp: judged now, after the revocation: {reasons}");
    assert_eq!(codes, ["cert-revoked"]);
    assert!(reasons.contains("superseded"), "{reasons}");
    let e = osslsigncode_verify("sup.exe", &["ica.crl", "root.crl"]).expect_err("osslsigncode rejects sup.exe");
    assert!(e.contains("certificate revoked"), "{e}");

    let (status, codes, reasons) = scan_pe("sup-ts.exe", &["ica.crl", "root.crl"], &[]);
    assert_eq!(status, "verified", "{reasons}");
    assert_eq!(codes, ["timestamp-verified", "chain-anchored", "revoked-after-signing", "revocation-good"]);
    // Where we differ: osslsigncode (OpenSSL's CRL check) refuses any revoked signer whatever the
    // timestamp; Authenticode as Windows applies it, and RFC 5280's revocation date, let a
    // signature timestamped before a revocation for a reason other than a key compromise stand.
    let e = osslsigncode_verify("sup-ts.exe", &["ica.crl", "root.crl"]).expect_err("osslsigncode: revoked");
    assert!(e.contains("certificate revoked"), "{e}");
}

#[test]
fn a_signer_under_a_revoked_intermediate_is_invalid() {
    let (status, codes, reasons) = scan_pe("under2.exe", &["ica2.crl", "root.crl"], &[]);
    assert_eq!(status, "invalid", "{reasons}");
    assert_eq!(codes, ["cert-revoked"]);
    assert!(reasons.contains("Compromised CA") && reasons.contains("cACompromise"), "{reasons}");
    let e = openssl_verify("under2.crt", "ica2.crt", &["ica2.crl", "root.crl"]).expect_err("openssl rejects it");
    assert!(e.contains("at 1 depth") && e.contains("certificate revoked"), "{e}");
}

/// An expired CRL, a CRL with the issuing CA's name signed by another key, a CRL with a critical
/// extension we do not process, no CRL for the issuing CA: the status is unknown, never good. By
/// default a note (the verdict stands: openssl verify fails instead, as its -crl_check_all asks
/// for a good CRL of every level); with `--revocation require`, `untrusted`.
#[test]
fn an_unknown_revocation_status_is_a_note_or_with_require_untrusted() {
    for (leaf, crl, openssl_says, we_say) in [
        ("good", "ica-expired.crl", "CRL has expired", "expired"),
        ("good", "ica-forged.crl", "verification failed", "is not signed by"),
        ("kc", "ica-forged.crl", "verification failed", "is not signed by"),
        ("good", "ica-critical.crl", "unhandled critical CRL extension", "critical CRL extension"),
        ("good", "root.crl", "unable to get certificate CRL", "no CRL of its issuer"),
    ] {
        let what = format!("{leaf}.exe with {crl}");
        let mut crls = vec![crl];
        if crl != "root.crl" {
            crls.push("root.crl");
        }
        let (status, codes, reasons) = scan_pe(&format!("{leaf}.exe"), &crls, &[]);
        assert_eq!(status, "verified", "{what}: {reasons}");
        assert_eq!(codes, ["chain-anchored", "revocation-unknown", "revocation-good"], "{what}");
        assert!(reasons.contains(we_say), "{what}: {reasons}");
        assert!(!codes.contains(&"cert-revoked".to_string()));

        let (status, codes, reasons) = scan_pe(&format!("{leaf}.exe"), &crls, &["--revocation", "require"]);
        assert_eq!(status, "untrusted", "{what} --revocation require: {reasons}");
        assert_eq!(codes, ["revocation-unknown"], "{what}");
        assert!(reasons.contains("--revocation require"), "{what}: {reasons}");

        let e = openssl_verify(&format!("{leaf}.crt"), "ica.crt", &crls).expect_err("openssl verify fails");
        assert!(e.contains(openssl_says), "{what}: {e}");
    }
}

/// `--at` pins the evaluation time: forty days on, the CRLs (30 days) have expired. A revocation
/// an authentic CRL lists still counts; "not revoked" does not (unknown), as `openssl verify
/// -attime` finds the CRL expired.
#[test]
fn at_a_time_after_the_crls_next_update_revocations_stand_and_good_becomes_unknown() {
    let later = chrono::Utc::now() + chrono::Duration::days(40);
    let at = later.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, codes, reasons) = scan_pe("kc.exe", &["ica.crl", "root.crl"], &["--at", &at]);
    assert_eq!((status.as_str(), codes.as_slice()), ("invalid", &["cert-revoked".to_string()][..]), "{reasons}");
    let (status, codes, reasons) = scan_pe("good.exe", &["ica.crl", "root.crl"], &["--at", &at]);
    assert_eq!(status, "verified", "{reasons}");
    assert_eq!(codes, ["chain-anchored", "revocation-unknown", "revocation-unknown"]);
    assert!(reasons.contains("expired (nextUpdate"), "{reasons}");
    let o = Command::new("openssl")
        .args(["verify", "-crl_check_all", "-attime", &later.timestamp().to_string(), "-CAfile"])
        .arg(pki("root.crt"))
        .arg("-untrusted")
        .arg(pki("ica.crt"))
        .args(["-CRLfile"])
        .arg(pki("ica.crl"))
        .arg("-CRLfile")
        .arg(pki("root.crl"))
        .arg(pki("good.crt"))
        .output()
        .unwrap();
    assert!(!o.status.success() && String::from_utf8_lossy(&o.stderr).contains("CRL has expired"));
}

/// Every truncation and a flipped byte at every position of a real CRL: read or refused, never a
/// panic; a flipped byte inside the signed part never passes the signature check.
#[test]
fn damaged_crls_are_refused_without_a_panic() {
    use sigaudit::pki::crl::Crl;
    let der = std::fs::read(pki("ica.crl.der")).unwrap();
    let issuer = sigaudit::x509::Cert::from_pem_chain(&std::fs::read(pki("ica.crt")).unwrap()).unwrap().remove(0);
    let now = chrono::Utc::now().timestamp();
    assert!(Crl::from_der(der.clone(), "ica").unwrap().authentic_for(&issuer, now).is_ok());
    for n in 0..der.len() {
        assert!(Crl::from_der(der[..n].to_vec(), "cut").is_err(), "a CRL cut at {n} bytes was read");
        let mut bad = der.clone();
        bad[n] ^= 0x01;
        if let Ok(c) = Crl::from_der(bad, "flipped") {
            // The signature covers everything but the outer header and the signature itself.
            if n > 4 && n < der.len() - 80 {
                assert!(c.authentic_for(&issuer, now).is_err(), "byte {n} flipped and still authentic");
            }
        }
    }
}

#[test]
fn a_crl_file_that_is_no_crl_is_a_usage_error() {
    let o = sigaudit(["fs", pki("good.crt").to_str().unwrap(), "--crl", pki("good.crt").to_str().unwrap()]);
    assert_eq!(common::code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--crl"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Cosign signatures in a registry, by certificates of the same PKI (a private CA given with
/// --ca-roots): the revoked ones are invalid, the good one verified; and cosign itself? It has
/// no CRL check for such certificates, so openssl verify is the independent verdict here.
#[test]
fn cosign_signatures_by_revoked_certificates_are_invalid_in_a_registry_scan() {
    let reg = common::Registry::distribution(100);
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(&python)
        .arg(common::repo_root().join("scripts/seed_revocation.py"))
        .args(["--registry", &reg.addr, "--pki"])
        .arg(fixtures().join("pki"))
        .output()
        .expect("python3 (apt-get install python3-cryptography)");
    assert!(o.status.success(), "seed_revocation.py: {}", String::from_utf8_lossy(&o.stderr));
    let scan = |extra: &[&str]| -> Value {
        let mut args = vec!["registry".to_string(), format!("{}/revocation", reg.addr), "--plain-http".into()];
        args.extend(["-o".into(), "json".into(), "--ca-roots".into(), pki("root.crt").display().to_string()]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let report = stdout_json(&sigaudit(&args));
        common::assert_reason_codes(&report);
        report
    };
    let status = |report: &Value, repo: &str| -> (String, Vec<String>) {
        let image = report["images"].as_array().unwrap().iter().find(|i| i["repository"] == repo).unwrap();
        (image["status"].as_str().unwrap().to_string(), common::reason_codes(image))
    };
    let (ica, ica2, root) = (pki("ica.crl"), pki("ica2.crl"), pki("root.crl"));
    let (ica, ica2, root) = (ica.to_str().unwrap(), ica2.to_str().unwrap(), root.to_str().unwrap());
    let report = scan(&["--crl", ica, "--crl", root, "--crl", ica2]);
    let (s, codes) = status(&report, "revocation/good");
    assert_eq!(s, "verified", "{codes:?}");
    assert!(codes.contains(&"revocation-good".to_string()), "{codes:?}");
    for repo in ["revocation/kc", "revocation/sup", "revocation/under2"] {
        let (s, codes) = status(&report, repo);
        assert_eq!((s.as_str(), codes.as_slice()), ("invalid", &["cert-revoked".to_string()][..]), "{repo}");
    }
    openssl_verify("good.crt", "ica.crt", &["ica.crl", "root.crl"]).expect("openssl accepts good.crt");
    for (leaf, ca, crl) in
        [("kc", "ica.crt", "ica.crl"), ("sup", "ica.crt", "ica.crl"), ("under2", "ica2.crt", "ica2.crl")]
    {
        let e = openssl_verify(&format!("{leaf}.crt"), ca, &[crl, "root.crl"]).expect_err("openssl rejects it");
        assert!(e.contains("certificate revoked"), "{leaf}: {e}");
    }

    // Without the CRLs nothing is checked and the revoked signers pass (as before this check).
    let report = scan(&[]);
    assert_eq!(status(&report, "revocation/kc").0, "verified");
    // Only the root's CRL: the leaves' status is unknown; with --revocation require, untrusted.
    let root_only = ["--crl", root];
    let report = scan(&root_only);
    let (s, codes) = status(&report, "revocation/kc");
    assert_eq!(s, "verified");
    assert!(codes.contains(&"revocation-unknown".to_string()), "{codes:?}");
    let report = scan(&[&root_only[..], &["--revocation", "require"][..]].concat());
    assert_eq!(status(&report, "revocation/kc"), ("untrusted".to_string(), vec!["revocation-unknown".to_string()]));
    // The CA revocation still shows through the root's CRL.
    assert_eq!(status(&report, "revocation/under2").0, "invalid");
}

/// Notary Project signatures (JWS envelopes signed with the PKI's keys by scripts/notary_jws.py)
/// under a notation trust policy whose store holds the root: the policy's `revocation` check uses
/// the CRLs; a revoked signer fails it (`invalid`), an unknown status fails it too, as notation
/// says, enforced under `strict` and logged under `permissive`; without CRLs it is not checked.
#[test]
fn notation_policies_judge_revocation_by_their_level() {
    use sigaudit::notation_trust::NotationTrust;
    use sigaudit::pki::{crl::Crl, revocation::Revocation};
    use sigaudit::report::Verdict;
    use sigaudit::signature::{notation::check_envelope, Subject};

    let dir = fixtures().join("notation");
    let store = dir.join("store/x509/ca/revtest");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(pki("root.crt"), store.join("root.crt")).unwrap();
    let subject = Subject {
        digest: sigaudit::oci::Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap(),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        size: 1234,
    };
    let envelope = |leaf: &str| -> Vec<u8> { notary_envelope(&dir, leaf, &subject, None) };
    let now = chrono::Utc::now().timestamp();
    let judge = |leaf: &str, level: &str, crls: &[&str]| -> (Verdict, Vec<String>) {
        let policy = format!(
            r#"{{"version":"1.0","trustPolicies":[{{"name":"p","registryScopes":["*"],
            "signatureVerification":{{"level":"{level}"}},"trustStores":["ca:revtest"],"trustedIdentities":["*"]}}]}}"#
        );
        let nt = NotationTrust::load(&policy, "test policy", &dir.join("store")).unwrap();
        let mut rev = Revocation { now, ..Revocation::default() };
        for c in crls {
            rev.crls.extend(Crl::read_all(&std::fs::read(pki(c)).unwrap(), c).unwrap());
        }
        let trust = sigaudit::trust::Trust {
            notation: Some(std::sync::Arc::new(nt)),
            now,
            revocation: rev,
            ..Default::default()
        };
        let bytes = envelope(leaf);
        let c = check_envelope(sigaudit::oci::JOSE, &bytes, &Default::default(), &subject, "r/x", &trust, now);
        (c.verdict, c.reasons.iter().map(|r| r.code.as_str().to_string()).collect())
    };
    let both = ["ica.crl", "root.crl"];
    let (v, codes) = judge("good", "strict", &both);
    assert_eq!(v, Verdict::Verified, "{codes:?}");
    assert!(codes.iter().filter(|c| *c == "revocation-good").count() == 2, "{codes:?}");
    let (v, codes) = judge("kc", "strict", &both);
    assert_eq!(v, Verdict::Invalid, "{codes:?}");
    assert!(codes.contains(&"cert-revoked".to_string()), "{codes:?}");
    // permissive logs revocation: the failure is reported, the signature not verified.
    let (v, codes) = judge("kc", "permissive", &both);
    assert_eq!(v, Verdict::Untrusted, "{codes:?}");
    assert!(codes.contains(&"cert-revoked".to_string()), "{codes:?}");
    // Unknown (no CRL of the issuing CA): notation fails the check under strict.
    let (v, codes) = judge("good", "strict", &["root.crl"]);
    assert_eq!(v, Verdict::Untrusted, "{codes:?}");
    assert!(codes.contains(&"revocation-unknown".to_string()), "{codes:?}");
    // No CRLs at all: not checked, and said so.
    let (v, codes) = judge("kc", "strict", &[]);
    assert_eq!(v, Verdict::Verified, "{codes:?}");
    assert!(codes.contains(&"revocation-not-checked".to_string()), "{codes:?}");
}

/// A JWS envelope over `subject` by the PKI's `leaf` (chain: leaf, issuing CA, root), made by
/// scripts/notary_jws.py, with an expiry if given.
fn notary_envelope(dir: &Path, leaf: &str, subject: &sigaudit::signature::Subject, expiry: Option<&str>) -> Vec<u8> {
    let out = dir.join(format!("{leaf}-{}.jws", expiry.unwrap_or("none").replace(':', "")));
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let mut c = Command::new(python);
    c.arg(common::repo_root().join("scripts/notary_jws.py"))
        .args([pki(&format!("{leaf}.key")), pki(&format!("{leaf}.crt")), pki("ica.crt"), pki("root.crt")])
        .args(["--digest", subject.digest.as_str(), "--size", &subject.size.to_string(), "--out"])
        .arg(&out);
    if let Some(e) = expiry {
        c.args(["--expiry", e]);
    }
    let o = c.output().unwrap();
    assert!(o.status.success(), "notary_jws.py: {}", String::from_utf8_lossy(&o.stderr));
    std::fs::read(out).unwrap()
}

/// `--warn-expiring`: a signer certificate that ends within the period, with no timestamp to date
/// the signature, is flagged (`expiring-soon`, `summary.expiring`, `--fail-on expiring` exits 1);
/// a timestamped one is not (the timestamp keeps it verifying); a Notary signature whose expiry
/// falls within the period is flagged. The leaves end ten years after the fixtures were made.
#[test]
fn signatures_about_to_stop_verifying_are_flagged_ahead_of_time() {
    let end = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-enddate", "-dateopt", "iso_8601", "-in"])
        .arg(pki("good.crt"))
        .output()
        .unwrap();
    let end = String::from_utf8_lossy(&end.stdout).trim().trim_start_matches("notAfter=").to_string();
    let end = chrono::NaiveDateTime::parse_from_str(&end, "%Y-%m-%d %H:%M:%SZ").unwrap().and_utc();
    let at = (end - chrono::Duration::days(20)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let scan = |warn: &str, fail_on: &[&str]| -> (Value, i32) {
        let pe = fixtures().join("pe");
        let mut args = vec!["fs".to_string(), pe.join("good.exe").display().to_string()];
        args.push(pe.join("kc-ts.exe").display().to_string());
        args.extend(["-o", "json", "--ca-roots", pki("root.crt").to_str().unwrap(), "--at", &at].map(String::from));
        args.extend(["--warn-expiring".to_string(), warn.to_string()]);
        args.extend(fail_on.iter().map(|s| s.to_string()));
        let o = sigaudit(&args);
        (stdout_json(&o), common::code(&o))
    };
    let (report, code) = scan("30d", &[]);
    common::assert_reason_codes(&report);
    assert_eq!(report["summary"]["expiring"], 1, "{:#}", report["summary"]);
    assert_eq!(code, 0, "flagged, not failed, without --fail-on expiring");
    for f in report["files"].as_array().unwrap() {
        let codes = common::reason_codes(f);
        let good = f["path"].as_str().unwrap().ends_with("good.exe");
        assert_eq!(f["status"], "verified");
        assert_eq!(codes.contains(&"expiring-soon".to_string()), good, "{}: {codes:?}", f["path"]);
    }
    let (report, code) = scan("10d", &["--fail-on", "expiring"]);
    assert!(report["summary"].get("expiring").is_none(), "20 days left, 10 days warned: nothing");
    assert_eq!(code, 0);
    let (_, code) = scan("30d", &["--fail-on", "expiring"]);
    assert_eq!(code, 1, "--fail-on expiring");

    // A waiver ending in ten days (good.exe is untrusted against another root, and waived).
    let other_root = pki("forged/ica.crt");
    let ends = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let waivers = fixtures().join("waivers.toml");
    std::fs::write(
        &waivers,
        format!("[[waiver]]\npath = \"**/good.exe\"\nstatus = [\"untrusted\"]\nreason = \"r\"\nowner = \"o\"\nexpires = {ends}\n"),
    )
    .unwrap();
    for (warn, flagged) in [("30d", true), ("5d", false)] {
        let o = sigaudit([
            "fs",
            fixtures().join("pe/good.exe").to_str().unwrap(),
            "-o",
            "json",
            "--ca-roots",
            other_root.to_str().unwrap(),
            "--waivers",
            waivers.to_str().unwrap(),
            "--warn-expiring",
            warn,
        ]);
        let report = stdout_json(&o);
        let f = &report["files"][0];
        assert_eq!((f["status"].as_str(), f["waived"]["index"].as_u64()), (Some("untrusted"), Some(0)), "{f:#}");
        assert_eq!(f["waived"]["expiringSoon"].as_bool().unwrap_or(false), flagged, "{warn}: {f:#}");
        assert_eq!(report["summary"]["expiring"].as_u64().unwrap_or(0), u64::from(flagged), "{warn}");
    }

    // A Notary signature expiring in ten days (no trust policy: --ca-roots judges its chain).
    let subject = sigaudit::signature::Subject {
        digest: sigaudit::oci::Digest::parse(&format!("sha256:{}", "cd".repeat(32))).unwrap(),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        size: 99,
    };
    let now = chrono::Utc::now();
    let expiry = (now + chrono::Duration::days(10)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let dir = fixtures().join("notation");
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = notary_envelope(&dir, "good", &subject, Some(&expiry));
    let mut trust = sigaudit::trust::Trust { now: now.timestamp(), ..Default::default() };
    trust.add_ca_roots_pem(&std::fs::read(pki("root.crt")).unwrap(), "root.crt").unwrap();
    let check = |trust: &sigaudit::trust::Trust| {
        let c = sigaudit::signature::notation::check_envelope(
            sigaudit::oci::JOSE,
            &bytes,
            &Default::default(),
            &subject,
            "r/x",
            trust,
            now.timestamp(),
        );
        (c.verdict, c.reasons.iter().map(|r| r.code.as_str().to_string()).collect::<Vec<_>>())
    };
    let (v, codes) = check(&trust);
    assert_eq!(v, sigaudit::report::Verdict::Verified, "{codes:?}");
    assert!(!codes.contains(&"expiring-soon".to_string()), "no --warn-expiring: {codes:?}");
    trust.warn_expiring = Some(30 * 86_400);
    let (v, codes) = check(&trust);
    assert_eq!(v, sigaudit::report::Verdict::Verified, "{codes:?}");
    assert_eq!(codes.last().unwrap(), "expiring-soon", "{codes:?}");
}
