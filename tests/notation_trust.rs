//! notation's trust policy and trust store, checked against the verdicts the corpus documents
//! (testdata/PROVENANCE.md, notation section): notation's 43 e2e policy documents,
//! the mock envelopes under each level, and the real GlobalSign RFC 3161 timestamps (an expired
//! signing certificate trusted because an authentic timestamp proves it signed in time).

use base64::Engine;
use sigaudit::notation_trust::{validate_policy, NotationTrust};
use sigaudit::oci::Digest;
use sigaudit::report::Verdict;
use sigaudit::signature::{notation::check_envelope, Checked, Subject};
use sigaudit::trust::Trust;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn corpus() -> PathBuf {
    match std::env::var_os("SIGAUDIT_CORPUS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata"),
    }
}

fn suite() -> PathBuf {
    corpus().join("notation/suite")
}

/// notation-go's test trust store (x509/ca/valid-trust-store, signingAuthority/…, tsa/…).
fn store() -> PathBuf {
    suite().join("notation-go/truststore")
}

/// 2026-11-22: the verdicts below are documented for "now".
const NOW: i64 = 1_795_824_000;

fn policy(scope: &str, level: &str, stores: &[&str], identities: &[&str], extra: &str) -> String {
    format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"p","registryScopes":["{scope}"],
        "signatureVerification":{{"level":"{level}"{extra}}},
        "trustStores":{},"trustedIdentities":{}}}]}}"#,
        serde_json::to_string(stores).unwrap(),
        serde_json::to_string(identities).unwrap()
    )
}

fn trust(policy: &str, store: &Path) -> Trust {
    let t = NotationTrust::load(policy, "test policy", store).unwrap_or_else(|e| panic!("{e}"));
    Trust { notation: Some(std::sync::Arc::new(t)), now: NOW, ..Trust::default() }
}

/// The descriptor an envelope's payload names, as the subject (the manifests are not in the corpus).
fn named_subject(bytes: &[u8]) -> Subject {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload: serde_json::Value = if bytes.first() == Some(&b'{') {
        let env: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        serde_json::from_slice(&b64.decode(env["payload"].as_str().unwrap().trim_end_matches('=')).unwrap()).unwrap()
    } else {
        // COSE_Sign1: the payload is the one JSON object inside.
        let start = bytes.windows(17).position(|w| w == b"{\"targetArtifact\"").unwrap();
        let mut de = serde_json::Deserializer::from_slice(&bytes[start..]).into_iter::<serde_json::Value>();
        de.next().unwrap().unwrap()
    };
    let t = &payload["targetArtifact"];
    Subject {
        digest: Digest::parse(t["digest"].as_str().unwrap()).unwrap(),
        media_type: t["mediaType"].as_str().unwrap().into(),
        size: t["size"].as_u64().unwrap(),
    }
}

fn check(path: &Path, scope: &str, trust: &Trust) -> Checked {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_bytes(&bytes, scope, trust, path)
}

fn check_bytes(bytes: &[u8], scope: &str, trust: &Trust, what: &Path) -> Checked {
    let media_type = if bytes.first() == Some(&b'{') { sigaudit::oci::JOSE } else { sigaudit::oci::COSE };
    let c = check_envelope(media_type, bytes, &BTreeMap::new(), &named_subject(bytes), scope, trust, NOW);
    eprintln!("{}: {:?} {:?}", what.display(), c.verdict, c.reasons);
    c
}

fn mock(name: &str) -> PathBuf {
    suite().join("notation-go/mock").join(name)
}

const ACME: &str = "registry.acme-rockets.io/software/net-monitor";
const ROOT_ID: &str = "x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US";

#[test]
fn mock_envelopes_under_each_level() {
    let stores = ["ca:valid-trust-store", "signingAuthority:valid-trust-store"];
    let strict = trust(&policy(ACME, "strict", &stores, &[ROOT_ID], ""), &store());
    for f in ["ca_valid_sig_env.json", "sa_valid_sig_env.json"] {
        let c = check(&mock(f), ACME, &strict);
        assert_eq!(c.verdict, Verdict::Verified, "{f}: {:?}", c.reasons);
        assert!(c.reasons.iter().any(|r| r.contains("Notation Test Root")), "{:?}", c.reasons);
    }
    for f in ["ca_invalid_sig_env.json", "sa_invalid_sig_env.json"] {
        assert_eq!(check(&mock(f), ACME, &strict).verdict, Verdict::Invalid, "{f}");
    }
    // Expired signatures: strict fails; permissive and audit log it, and notation then passes
    // them, but this report's `verified` means every check held: a logged failure is untrusted.
    for f in ["ca_expired_sig_env.json", "sa_expired_sig_env.json"] {
        let c = check(&mock(f), ACME, &strict);
        assert_eq!(c.verdict, Verdict::Invalid, "{f}");
        assert!(c.reasons.iter().any(|r| r.contains("expiry failed")), "{:?}", c.reasons);
        for level in ["permissive", "audit"] {
            let t = trust(&policy(ACME, level, &stores, &[ROOT_ID], ""), &store());
            let c = check(&mock(f), ACME, &t);
            assert_eq!(c.verdict, Verdict::Untrusted, "{f} {level}");
            assert!(c.reasons.iter().any(|r| r.contains("expiry failed (logged")), "{:?}", c.reasons);
        }
        // An override turns it back on.
        let t =
            trust(&policy(ACME, "permissive", &stores, &[ROOT_ID], r#","override":{"expiry":"enforce"}"#), &store());
        assert_eq!(check(&mock(f), ACME, &t).verdict, Verdict::Invalid);
    }
    // The trust store type follows the signing scheme: a signingAuthority envelope is not
    // trusted through a ca: store, nor a notary.x509 one through signingAuthority:.
    let ca_only = trust(&policy(ACME, "strict", &["ca:valid-trust-store"], &[ROOT_ID], ""), &store());
    assert_eq!(check(&mock("sa_valid_sig_env.json"), ACME, &ca_only).verdict, Verdict::Untrusted);
    let sa_only = trust(&policy(ACME, "strict", &["signingAuthority:valid-trust-store"], &[ROOT_ID], ""), &store());
    assert_eq!(check(&mock("ca_valid_sig_env.json"), ACME, &sa_only).verdict, Verdict::Untrusted);
    // Audit logs authenticity failures: notation passes them; here an untrusted signer stays
    // untrusted, with notation's level and reason.
    let audit = trust(&policy(ACME, "audit", &["signingAuthority:valid-trust-store"], &[ROOT_ID], ""), &store());
    let c = check(&mock("ca_valid_sig_env.json"), ACME, &audit);
    assert_eq!(c.verdict, Verdict::Untrusted);
    assert!(
        c.reasons.iter().any(|r| r.contains("authenticity failed (logged by") && r.contains("Audit")),
        "{:?}",
        c.reasons
    );
    // With every check holding, audit is as good as strict.
    let audit_ok = trust(&policy(ACME, "audit", &stores, &[ROOT_ID], ""), &store());
    assert_eq!(check(&mock("ca_valid_sig_env.json"), ACME, &audit_ok).verdict, Verdict::Verified);
    // Trusted identities: a subset of the leaf subject matches; another country does not.
    let subset = trust(&policy(ACME, "strict", &stores, &["x509.subject:C=US,ST=WA,O=Notary"], ""), &store());
    assert_eq!(check(&mock("ca_valid_sig_env.json"), ACME, &subset).verdict, Verdict::Verified);
    let usb = trust(&policy(ACME, "strict", &stores, &["x509.subject:C=USB,ST=WA,O=Notary"], ""), &store());
    let c = check(&mock("ca_valid_sig_env.json"), ACME, &usb);
    assert_eq!(c.verdict, Verdict::Untrusted);
    assert!(c.reasons.iter().any(|r| r.contains("does not match the trusted identities")), "{:?}", c.reasons);
    // Scope: another repository has no applicable statement; skip verifies nothing.
    let c = check(&mock("ca_valid_sig_env.json"), "registry.acme-rockets.io/other", &strict);
    assert_eq!(c.verdict, Verdict::Untrusted);
    assert!(c.reasons[0].contains("no statement"), "{:?}", c.reasons);
    let skip = r#"{"version":"1.0","trustPolicies":[{"name":"s","registryScopes":["*"],"signatureVerification":{"level":"skip"}}]}"#;
    assert_eq!(check(&mock("ca_valid_sig_env.json"), ACME, &trust(skip, &store())).verdict, Verdict::Untrusted);
    // A signature that needs a verification plugin is not called valid.
    assert_eq!(check(&mock("ca_plugin_sig_env.json"), ACME, &strict).verdict, Verdict::Unsupported);
}

fn sig_env(name: &str) -> PathBuf {
    corpus().join("notation/envelopes").join(name)
}

const TS_STORES: [&str; 2] = ["ca:valid-trust-store", "tsa:test-timestamp"];
const SCOPE: &str = "example.test/app";

#[test]
fn rfc3161_timestamps_from_globalsign() {
    let always = trust(&policy("*", "strict", &TS_STORES, &["*"], r#","verifyTimestamp":"always""#), &store());
    for f in ["jwsWithTimestamp.sig", "coseWithTimestamp.sig"] {
        let c = check(&sig_env(f), SCOPE, &always);
        assert_eq!(c.verdict, Verdict::Verified, "{f}: {:?}", c.reasons);
        let ts = c.timestamp.expect("timestamp reported");
        assert!(ts.verified);
        assert!(ts.authority.unwrap().contains("Globalsign TSA"));
        assert!(ts.time.starts_with("2024-06-18T06:"), "{}", ts.time);
    }
    // The same token against the wrong TSA root is not authentic.
    let mismatch = trust(
        &policy(
            "*",
            "strict",
            &["ca:valid-trust-store", "tsa:test-mismatch"],
            &["*"],
            r#","verifyTimestamp":"always""#,
        ),
        &store(),
    );
    let c = check(&sig_env("jwsWithTimestamp.sig"), SCOPE, &mismatch);
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons.iter().any(|r| r.contains("timestamp authority not trusted")), "{:?}", c.reasons);
    // Timestamps outside the signing certificate's validity.
    for f in ["timestampBeforeNotBefore.sig", "timestampAfterNotAfter.sig"] {
        let c = check(&sig_env(f), SCOPE, &always);
        assert_eq!(c.verdict, Verdict::Invalid, "{f}");
        assert!(c.reasons.iter().any(|r| r.contains("outside the validity")), "{:?}", c.reasons);
    }
    // No timestamp: required with a tsa: store and verifyTimestamp always; else the chain is
    // simply valid now.
    let c = check(&sig_env("withoutTimestamp.sig"), SCOPE, &always);
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons.iter().any(|r| r.contains("no timestamp countersignature")), "{:?}", c.reasons);
    let no_tsa = trust(&policy("*", "strict", &["ca:valid-trust-store"], &["*"], ""), &store());
    assert_eq!(check(&sig_env("withoutTimestamp.sig"), SCOPE, &no_tsa).verdict, Verdict::Verified);
}

#[test]
fn an_expired_certificate_is_trusted_when_an_authentic_timestamp_proves_it_signed_in_time() {
    // Trust the 10-minute testTSA signing certificate itself (its x5c[0]), in a store of our own.
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sig_env("jwsExpiredWithTimestamp.sig")).unwrap()).unwrap();
    let leaf = base64::engine::general_purpose::STANDARD.decode(env["header"]["x5c"][0].as_str().unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("x509/ca/testtsa");
    let tsa = dir.path().join("x509/tsa/globalsign");
    std::fs::create_dir_all(&ca).unwrap();
    std::fs::create_dir_all(&tsa).unwrap();
    std::fs::write(ca.join("testTSA.der"), &leaf).unwrap();
    std::fs::copy(store().join("x509/tsa/test-timestamp/globalsignRoot.cer"), tsa.join("root.cer")).unwrap();
    let with_tsa = trust(&policy("*", "strict", &["ca:testtsa", "tsa:globalsign"], &["*"], ""), dir.path());
    let without = trust(&policy("*", "strict", &["ca:testtsa"], &["*"], ""), dir.path());
    for f in ["jwsExpiredWithTimestamp.sig", "coseExpiredWithTimestamp.sig"] {
        let c = check(&sig_env(f), SCOPE, &with_tsa);
        assert_eq!(c.verdict, Verdict::Verified, "{f}: {:?}", c.reasons);
        assert!(c.timestamp.unwrap().time.starts_with("2024-06-18T07:21:"));
        // Without a tsa: store the chain must be valid now, and it expired in 2024.
        let c = check(&sig_env(f), SCOPE, &without);
        assert_eq!(c.verdict, Verdict::Invalid, "{f}");
        assert!(c.reasons.iter().any(|r| r.contains("authentic timestamp failed")), "{:?}", c.reasons);
    }
    // afterCertExpiry: the expired chain makes the token count.
    let after = trust(
        &policy("*", "strict", &["ca:testtsa", "tsa:globalsign"], &["*"], r#","verifyTimestamp":"afterCertExpiry""#),
        dir.path(),
    );
    assert_eq!(check(&sig_env("jwsExpiredWithTimestamp.sig"), SCOPE, &after).verdict, Verdict::Verified);
}

#[test]
fn without_a_notation_policy_ca_roots_and_tsa_roots_date_an_expired_signature() {
    // The pinned testTSA signing certificate (expired 2024-06-18) as --ca-roots; GlobalSign's
    // root as --tsa-roots: the RFC 3161 token's authority (EKU timeStamping, critical) chains
    // to it, so the chain is judged at the token's time. Without the timestamp anchor, the token
    // does not count and the expired chain is untrusted now.
    let env: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sig_env("jwsExpiredWithTimestamp.sig")).unwrap()).unwrap();
    let leaf = base64::engine::general_purpose::STANDARD.decode(env["header"]["x5c"][0].as_str().unwrap()).unwrap();
    let root = std::fs::read(store().join("x509/tsa/test-timestamp/globalsignRoot.cer")).unwrap();
    let mut with_tsa = Trust { now: NOW, ..Trust::default() };
    with_tsa.add_ca_roots_pem(&leaf, "testTSA").unwrap();
    let without = with_tsa.clone();
    with_tsa.add_tsa_roots(&root, "globalsign").unwrap();
    for f in ["jwsExpiredWithTimestamp.sig", "coseExpiredWithTimestamp.sig"] {
        let c = check(&sig_env(f), SCOPE, &with_tsa);
        assert_eq!(c.verdict, Verdict::Verified, "{f}: {:?}", c.reasons);
        assert!(c.timestamp.unwrap().verified);
        assert!(c.reasons.iter().any(|r| r.contains("its authority chains to CN=GlobalSign")), "{:?}", c.reasons);
        let c = check(&sig_env(f), SCOPE, &without);
        assert_eq!(c.verdict, Verdict::Untrusted, "{f}: {:?}", c.reasons);
        assert!(c.reasons.iter().any(|r| r.contains("does not count")), "{:?}", c.reasons);
    }
    // The signing certificate as a timestamp anchor proves nothing: it is not a TSA.
    let mut wrong = without.clone();
    wrong.add_tsa_roots(&leaf, "testTSA").unwrap();
    let c = check(&sig_env("jwsExpiredWithTimestamp.sig"), SCOPE, &wrong);
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
}

#[test]
fn bad_timestamp_tokens_are_rejected() {
    // notation-go's countersignature negatives, put into the untimestamped envelope.
    let always = trust(&policy("*", "strict", &TS_STORES, &["*"], r#","verifyTimestamp":"always""#), &store());
    let base: serde_json::Value =
        serde_json::from_slice(&std::fs::read(sig_env("withoutTimestamp.sig")).unwrap()).unwrap();
    let dir = suite().join("notation-go/timestamp/countersignature");
    for (file, why) in [
        ("TimeStampToken.p7s", "imprint does not match"),
        ("TimeStampTokenWithInvalidTSTInfo.p7s", "timestamp countersignature"),
        ("TimeStampTokenWithInvalideContentType.p7s", "content type"),
        // For another signature too, so its imprint fails first.
        ("TimeStampTokenWithoutCertificate.p7s", "timestamp countersignature"),
    ] {
        let token = std::fs::read(dir.join(file)).unwrap();
        let mut env = base.clone();
        env["header"]["io.cncf.notary.timestampSignature"] =
            base64::engine::general_purpose::STANDARD.encode(token).into();
        let bytes = serde_json::to_vec(&env).unwrap();
        let c = check_bytes(&bytes, SCOPE, &always, Path::new(file));
        assert_eq!(c.verdict, Verdict::Invalid, "{file}");
        assert!(c.reasons.iter().any(|r| r.contains(why)), "{file}: {:?}", c.reasons);
        assert!(!c.timestamp.unwrap().verified);
    }
}

#[test]
fn notation_e2e_trust_policies_validate_as_notation_says() {
    let dir = suite().join("notation-cli/config/trustpolicies");
    let valid = [
        "trustpolicy.json",
        "any_registry_scope_trust_policy.json",
        "permissive_trustpolicy.json",
        "audit_trustpolicy.json",
        "quickstart_trustpolicy.json",
        "generate_test_trustpolicy.json",
        "timestamp_trustpolicy.json",
        "timestamp_after_cert_expiry_trustpolicy.json",
        "valid_trusted_identity_trustpolicy.json",
        "multiple_trusted_identity_trustpolicy.json",
        "multiple_trust_store_trustpolicy.json",
        "multiple_registry_scope_trustpolicy.json",
        "registry_scope_trustpolicy.json",
        "multi_statements_with_wildcard_registry_scope_trustpolicy.json",
        "override_strict_trustpolicy.json",
        "override_permissive_trustpolicy.json",
        "override_audit_trustpolicy.json",
        "skip_trustpolicy.json",
        "overlapped_trust_store_trustpolicy.json",
        "invalid_registry_scope_trustpolicy.json",
        "invalid_trust_store_trustpolicy.json",
        "invalid_trusted_identity_trustpolicy.json",
    ];
    let invalid = [
        ("empty_registry_scope_trustpolicy.json", "zero registry scopes"),
        ("empty_trusted_identity_trustpolicy.json", "empty trusted identity"),
        ("unset_trust_store_trustpolicy.json", "both must be specified"),
        ("unset_trusted_identity_trustpolicy.json", "both must be specified"),
        ("malformed_trust_store_trustpolicy.json", "malformed trust store"),
        ("wildcard_trust_store_trustpolicy.json", "malformed trust store value \"*\""),
        ("malformed_trusted_identity_trustpolicy.json", ""),
        ("missing_country_trusted_identity_trustpolicy.json", "mandatory attribute C"),
        ("missing_state_trusted_identity_trustpolicy.json", "mandatory attribute ST"),
        ("missing_organization_trusted_identity_trustpolicy.json", "mandatory attribute O"),
        ("overlapped_trusted_identity_trustpolicy.json", "overlapping"),
        ("wildcard_plus_other_trusted_identity_trustpolicy.json", "cannot be combined"),
        ("wildcard_plus_other_registry_scope_trustpolicy.json", "cannot be combined"),
        ("overlapped_registry_scope_trustpolicy.json", "multiple trust policy statements"),
        ("multi_statements_with_the_same_registry_scope_trustpolicy.json", "multiple trust policy statements"),
        ("multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json", "\"*\" is present in multiple"),
        ("multi_statements_with_the_same_name_trustpolicy.json", "same name"),
        ("override_integrity_for_permissive_trustpolicy.json", "can not be overridden"),
        ("malformed_registry_scope_trustpolicy.json", "not a valid repository"),
        ("invalid_format_trustpolicy.json", "not JSON"),
        ("blob_trust_policy.json", ""),
    ];
    let mut seen = 0;
    for f in valid {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        assert!(validate_policy(&text).is_ok(), "{f}: {:?}", validate_policy(&text).err());
        seen += 1;
    }
    for (f, why) in invalid {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let e = validate_policy(&text).expect_err(f);
        assert!(e.contains(why), "{f}: {e}");
        seen += 1;
    }
    assert_eq!(seen, std::fs::read_dir(&dir).unwrap().count(), "every policy document is classified");

    // Valid documents that fail later, as in notation.
    let text = std::fs::read_to_string(dir.join("invalid_trust_store_trustpolicy.json")).unwrap();
    let e = NotationTrust::load(&text, "p", &store()).unwrap_err().to_string();
    assert!(e.contains("does not exist"), "{e}");
    let text = std::fs::read_to_string(dir.join("registry_scope_trustpolicy.json")).unwrap();
    let st = validate_policy(&text).unwrap();
    assert_eq!(st[0].scopes, ["localhost:5000/test-repo"]);
}

#[test]
fn trust_stores_hold_only_ca_or_self_signed_certificates() {
    let p = policy("*", "strict", &["ca:trust-store-with-leaf-certs"], &["*"], "");
    let e = NotationTrust::load(&p, "p", &store()).unwrap_err().to_string();
    assert!(e.contains("is not a CA certificate or self-signed"), "{e}");
    // A symlink inside a store is refused.
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path().join("x509/ca/links");
    std::fs::create_dir_all(&s).unwrap();
    std::os::unix::fs::symlink(store().join("x509/ca/valid-trust-store/NotationTestRoot.pem"), s.join("root.pem"))
        .unwrap();
    let p = policy("*", "strict", &["ca:links"], &["*"], "");
    let e = NotationTrust::load(&p, "p", dir.path()).unwrap_err().to_string();
    assert!(e.contains("symlinks"), "{e}");
}
