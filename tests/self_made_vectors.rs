//! Algorithms the real corpus lacks, with vectors made by scripts/make_vectors.py (Python's
//! `cryptography`, independent of sigaudit): Notary JWS ES256/ES384/ES512 and cosign Ed25519.

use base64::Engine;
use sigaudit::oci::Digest;
use sigaudit::report::Verdict;
use sigaudit::signature::{cosign::check_simplesigning, notation::check_envelope, Subject};
use sigaudit::trust::Trust;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn make(dir: &Path) -> serde_json::Value {
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/make_vectors.py"))
        .arg(dir)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e} (apt-get install python3-cryptography)"));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&std::fs::read(dir.join("vectors.json")).unwrap()).unwrap()
}

fn subject(v: &serde_json::Value) -> Subject {
    let t = &v["target"];
    Subject {
        digest: Digest::parse(t["digest"].as_str().unwrap()).unwrap(),
        media_type: t["mediaType"].as_str().unwrap().into(),
        size: t["size"].as_u64().unwrap(),
    }
}

#[test]
fn notary_jws_ecdsa_envelopes_verify_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let v = make(dir.path());
    let subject = subject(&v);
    for alg in ["ES256", "ES384", "ES512"] {
        let bytes = std::fs::read(dir.path().join(v["jws"][alg].as_str().unwrap())).unwrap();
        let c = check_envelope(
            sigaudit::oci::JOSE,
            &bytes,
            &BTreeMap::new(),
            &subject,
            "example.test/repo",
            &Trust::default(),
            1_800_000_000,
        );
        assert_eq!(c.verdict, Verdict::Untrusted, "{alg}: {:?}", c.reasons);
        assert_eq!(c.algorithm.as_deref(), Some(alg));

        // Flip one bit of the signature: invalid.
        let mut env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        let mut sig =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(env["signature"].as_str().unwrap()).unwrap();
        sig[5] ^= 0x01;
        env["signature"] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&sig).into();
        let c = check_envelope(
            sigaudit::oci::JOSE,
            &serde_json::to_vec(&env).unwrap(),
            &BTreeMap::new(),
            &subject,
            "example.test/repo",
            &Trust::default(),
            0,
        );
        assert_eq!(c.verdict, Verdict::Invalid, "{alg} tampered");
    }
    // An ES256 envelope claiming ES384: alg must follow the key.
    let bytes = std::fs::read(dir.path().join("ES256.jws")).unwrap();
    let mut env: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let p = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(env["protected"].as_str().unwrap()).unwrap();
    let p = String::from_utf8(p).unwrap().replace("ES256", "ES384");
    env["protected"] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(p).into();
    let c = check_envelope(
        sigaudit::oci::JOSE,
        &serde_json::to_vec(&env).unwrap(),
        &BTreeMap::new(),
        &subject,
        "example.test/repo",
        &Trust::default(),
        0,
    );
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons[0].contains("implies ES256"), "{:?}", c.reasons);
}

#[test]
fn cosign_ed25519_key_signature_verifies_with_its_key_only() {
    let dir = tempfile::tempdir().unwrap();
    let v = make(dir.path());
    let payload = std::fs::read(dir.path().join("ed25519.payload")).unwrap();
    let sig = std::fs::read_to_string(dir.path().join("ed25519.sig")).unwrap();
    let ann = BTreeMap::from([(sigaudit::signature::cosign::ANN_SIGNATURE.to_string(), sig)]);
    let mut trust = Trust::default();
    trust.add_key_pem(&std::fs::read(dir.path().join("ed25519.pub")).unwrap(), "ed25519.pub").unwrap();
    let c = check_simplesigning(&ann, &payload, &subject(&v), &trust);
    assert_eq!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    assert_eq!(c.signer.unwrap().key_algorithm.as_deref(), Some("ed25519"));
    // Change the docker-reference inside the still-valid JSON: only the signature can catch it.
    let tampered = String::from_utf8(payload).unwrap().replace("127.0.0.1/x", "127.0.0.1/y").into_bytes();
    let c = check_simplesigning(&ann, &tampered, &subject(&v), &trust);
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons[0].contains("any of the 1 given key"), "{:?}", c.reasons);
}
