//! The real notation envelopes of testdata/notation (see testdata/PROVENANCE.md), checked without trust
//! material: integrity and binding against the manifest they sign.

use sigaudit::oci::Digest;
use sigaudit::report::Verdict;
use sigaudit::signature::{notation::check_envelope, Subject};
use sigaudit::trust::Trust;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn corpus() -> PathBuf {
    match std::env::var_os("SIGAUDIT_CORPUS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata"),
    }
}

fn alpine_v2() -> Subject {
    let layout = corpus().join("notation/oci-layout");
    let digest = Digest::parse("sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0").unwrap();
    let bytes = std::fs::read(layout.join("blobs/sha256").join(digest.hex())).unwrap();
    assert!(digest.matches(&bytes));
    Subject { digest, media_type: sigaudit::oci::OCI_MANIFEST.into(), size: bytes.len() as u64 }
}

fn check(file: &str, media_type: &str, subject: &Subject) -> sigaudit::signature::Checked {
    let bytes = std::fs::read(corpus().join("notation/envelopes").join(file)).unwrap();
    check_envelope(media_type, &bytes, &BTreeMap::new(), subject, "example.test/repo", &Trust::default(), 1_800_000_000)
}

#[test]
fn alpine_jws_and_cose_are_valid_for_their_manifest() {
    let subject = alpine_v2();
    for (file, mt) in [("alpine-v2.jws.sig", sigaudit::oci::JOSE), ("alpine-v2.cose.sig", sigaudit::oci::COSE)] {
        let c = check(file, mt, &subject);
        assert_eq!(c.verdict, Verdict::Untrusted, "{file}: {:?}", c.reasons);
        let signer = c.signer.unwrap();
        assert_eq!(signer.subject.as_deref(), Some("CN=alpine, O=Notary, L=Seattle, ST=WA, C=US"));
        assert!(signer.sha256.unwrap().starts_with("9f5f5aec"));
    }
}

#[test]
fn alpine_envelopes_replayed_on_another_manifest_are_invalid() {
    let mut other = alpine_v2();
    other.digest = Digest::sha256_of(b"another manifest");
    for (file, mt) in [("alpine-v2.jws.sig", sigaudit::oci::JOSE), ("alpine-v2.cose.sig", sigaudit::oci::COSE)] {
        let c = check(file, mt, &other);
        assert_eq!(c.verdict, Verdict::Invalid, "{file}");
        assert!(c.reasons.iter().any(|r| r.contains("replayed")), "{:?}", c.reasons);
    }
}

#[test]
fn size_and_media_type_are_part_of_the_binding() {
    let mut s = alpine_v2();
    s.size += 1;
    assert_eq!(check("alpine-v2.jws.sig", sigaudit::oci::JOSE, &s).verdict, Verdict::Invalid);
    let mut s = alpine_v2();
    s.media_type = sigaudit::oci::DOCKER_MANIFEST.into();
    assert_eq!(check("alpine-v2.cose.sig", sigaudit::oci::COSE, &s).verdict, Verdict::Invalid);
}

#[test]
fn a_flipped_signature_byte_is_invalid() {
    let subject = alpine_v2();
    let mut bytes = std::fs::read(corpus().join("notation/envelopes/alpine-v2.cose.sig")).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01; // inside the trailing signature bstr
    let c = check_envelope(
        sigaudit::oci::COSE,
        &bytes,
        &BTreeMap::new(),
        &subject,
        "example.test/repo",
        &Trust::default(),
        0,
    );
    assert_eq!(c.verdict, Verdict::Invalid, "{:?}", c.reasons);
}

#[test]
fn notation_suite_padded_payload_vector_fails() {
    // ca_invalid_sig_env.json differs from ca_valid_sig_env.json only by a '=' after the payload.
    let dir = corpus().join("notation/suite/notation-go");
    let find = |name: &str| -> PathBuf {
        walk(&dir).into_iter().find(|p| p.file_name().unwrap() == name).unwrap_or_else(|| panic!("{name} in suite"))
    };
    let valid = std::fs::read(find("ca_valid_sig_env.json")).unwrap();
    let invalid = std::fs::read(find("ca_invalid_sig_env.json")).unwrap();
    // Bind each to the descriptor its own payload names, so only integrity is in question.
    let subject = subject_named_by_jws(&valid);
    let ok = check_envelope(
        sigaudit::oci::JOSE,
        &valid,
        &BTreeMap::new(),
        &subject,
        "example.test/repo",
        &Trust::default(),
        1_700_000_000,
    );
    assert_ne!(ok.verdict, Verdict::Invalid, "{:?}", ok.reasons);
    let bad = check_envelope(
        sigaudit::oci::JOSE,
        &invalid,
        &BTreeMap::new(),
        &subject,
        "example.test/repo",
        &Trust::default(),
        1_700_000_000,
    );
    assert_eq!(bad.verdict, Verdict::Invalid, "{:?}", bad.reasons);
}

fn subject_named_by_jws(bytes: &[u8]) -> Subject {
    use base64::Engine;
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(v["payload"].as_str().unwrap()).unwrap();
    let p: serde_json::Value = serde_json::from_slice(&p).unwrap();
    let t = &p["targetArtifact"];
    Subject {
        digest: Digest::parse(t["digest"].as_str().unwrap()).unwrap(),
        media_type: t["mediaType"].as_str().unwrap().into(),
        size: t["size"].as_u64().unwrap(),
    }
}

fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
