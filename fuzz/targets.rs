//! What each fuzz target does with its input, shared by the cargo-fuzz targets
//! (fuzz/fuzz_targets/) and by tests/fuzz_corpus.rs, which replays the minimised corpus kept in
//! fuzz/corpus/ (and any crash reproducer in fuzz/regressions/) under `cargo test`.
#![allow(dead_code)]

use sigaudit::oci::Digest;
use sigaudit::signature::rekor::{self, Logged};
use sigaudit::signature::Subject;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// What a target does with one input.
pub type Target = fn(&[u8]);

/// Every target by name, as `cargo fuzz list` and the corpus directories name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("cms", cms),
    ("cosign_layer", cosign_layer),
    ("manifests", manifests),
    ("notation_cose", notation_cose),
    ("notation_jws", notation_jws),
    ("path_validation", path_validation),
    ("signed_file", signed_file),
    ("sigstore_bundle", sigstore_bundle),
    ("trust_evidence", trust_evidence),
    ("x509_identity", x509_identity),
];

/// A fixed subject descriptor; the targets use no trust material unless they say so.
fn subject() -> Subject {
    Subject {
        digest: Digest::parse("sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0").unwrap(),
        media_type: sigaudit::oci::OCI_MANIFEST.into(),
        size: 481,
    }
}

/// Lenient CMS parsing, signer checks and countersignatures on arbitrary DER.
pub fn cms(data: &[u8]) {
    if let Ok(sd) = sigaudit::cms::parse_content_info(data) {
        for si in &sd.signers {
            let _ = si.verify(&sd.certificates, data, Some(&sd.content_type));
            let _ = sigaudit::cms::countersignatures(si, &sd.certificates);
        }
    }
}

/// Input: annotations JSON, a NUL byte, then the layer blob.
pub fn cosign_layer(data: &[u8]) {
    let (ann, blob) = match data.iter().position(|b| *b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"{}"[..], data),
    };
    let Ok(ann) = serde_json::from_slice::<BTreeMap<String, String>>(ann) else { return };
    let trust = sigaudit::trust::Trust::default();
    let _ = sigaudit::signature::cosign::check_simplesigning(&ann, blob, &subject(), &trust);
    let _ = sigaudit::signature::cosign::check_attestation(&ann, blob, &subject(), &trust);
}

/// Everything the crawler reads from a registry before any signature check.
pub fn manifests(data: &[u8]) {
    let _ = serde_json::from_slice::<oci_client::manifest::OciImageManifest>(data);
    let _ = serde_json::from_slice::<oci_client::manifest::OciImageIndex>(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = sigaudit::oci::TagKind::of(s);
        let _ = sigaudit::oci::Digest::parse(s);
        let _ = sigaudit::registry::next_link([s]);
        let _ = sigaudit::registry::Challenge::parse(s);
    }
    let _ = sigaudit::oci::classify(data);
    let _ = sigaudit::oci::index_entries(data);
}

fn notation(media_type: &str, data: &[u8]) {
    let trust = sigaudit::trust::Trust::default();
    let _ = sigaudit::signature::notation::check_envelope(
        media_type,
        data,
        &Default::default(),
        &subject(),
        "example.test/repo",
        &trust,
        1_800_000_000,
    );
}

pub fn notation_cose(data: &[u8]) {
    notation(sigaudit::oci::COSE, data)
}

pub fn notation_jws(data: &[u8]) {
    notation(sigaudit::oci::JOSE, data)
}

/// Certification path validation over a hostile bag of certificates: one byte picking the
/// purpose, one byte marking which certificates are anchors, four bytes of judging time, then DER
/// certificates back to back. Validation must never panic and must stay within its budget.
pub fn path_validation(data: &[u8]) {
    use sigaudit::pki::path;
    use sigaudit::x509::Cert;
    let [purpose, mask, t0, t1, t2, t3, rest @ ..] = data else { return };
    let purpose = match purpose % 3 {
        0 => &path::CODE_SIGNING,
        1 => &path::TIMESTAMPING,
        _ => &path::JAR_SIGNING,
    };
    let at = 1_000_000_000 + i64::from(u32::from_be_bytes([*t0, *t1, *t2, *t3]) % 2_000_000_000);
    let mut certs = Vec::new();
    // TLVs that read as CRLs check the path's revocation (src/pki/crl.rs, revocation.rs).
    let mut rev = sigaudit::pki::revocation::Revocation { now: at, ..Default::default() };
    let mut rest = rest;
    while let Ok((tlv, r)) = sigaudit::der::read(rest) {
        if let Ok(c) = Cert::from_der(tlv.raw.to_vec()) {
            certs.push(c);
        } else if let Ok(crl) = sigaudit::pki::crl::Crl::from_der(tlv.raw.to_vec(), "fuzz") {
            rev.crls.push(crl);
        }
        rest = r;
        if certs.len() >= 12 {
            break;
        }
    }
    if certs.is_empty() {
        return;
    }
    let anchors: Vec<Cert> =
        certs.iter().enumerate().filter(|(i, _)| mask & (1 << (i % 8)) != 0).map(|(_, c)| c.clone()).collect();
    let _ = path::validate_chain(&certs, &anchors, purpose, at, &rev);
    for c in &certs {
        let _ = c.verify_signed_by(c);
        let _ = c.defects();
    }
}

/// Detection, PE Authenticode and JAR/APK verification on arbitrary bytes.
pub fn signed_file(data: &[u8]) {
    let trust = sigaudit::trust::Trust { now: 1_800_000_000, ..Default::default() };
    let _ = sigaudit::fs::check_bytes("fuzz", data, &trust);
}

pub fn sigstore_bundle(data: &[u8]) {
    let trust = sigaudit::trust::Trust::default();
    let _ = sigaudit::signature::bundle::check_bundle(data, &subject(), &trust);
}

struct Material {
    trust: sigaudit::trust::Trust,
    roots: sigaudit::sigstore::SigstoreTrust,
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let mut trust = sigaudit::trust::Trust::default();
        trust.add_trusted_root(sigaudit::sigstore::PUBLIC_GOOD_ROOT.as_bytes()).unwrap();
        Material { trust, roots: sigaudit::sigstore::SigstoreTrust::public_good() }
    })
}

/// Evidence a hostile registry controls, checked against real trust material: Rekor bundle
/// annotations (SET and entry bodies), RFC 3161 timestamp annotations, and Sigstore bundles by the
/// Sigstore rules. The first byte picks the parser.
pub fn trust_evidence(data: &[u8]) {
    let Some((&which, rest)) = data.split_first() else { return };
    let m = material();
    let text = String::from_utf8_lossy(rest);
    match which % 4 {
        0 => {
            let _ = rekor::verify_set(&text, Logged::Payload { payload: b"p", sig: b"s" }, b"k", &m.trust.logs);
        }
        1 => {
            let logged = Logged::Envelope { envelope: b"{}", payload: b"p", sig: b"s" };
            let _ = rekor::verify_set(&text, logged, b"k", &m.trust.logs);
        }
        2 => {
            let _ = rekor::verify_timestamp_annotation(&text, b"signature", &m.trust.tsas, &m.trust.revocation);
        }
        _ => {
            let policy = sigaudit::sigstore::SignerPolicy::default();
            let _ = sigaudit::sigstore::verify_bundle(
                rest,
                sigaudit::sigstore::Subject::Sha256([7; 32]),
                &policy,
                &m.roots,
            );
        }
    }
}

pub fn x509_identity(data: &[u8]) {
    if let Ok(cert) = sigaudit::x509::Cert::from_der(data.to_vec()) {
        let _ = cert.signer();
        let _ = cert.public_key();
        let _ = cert.chain_entry();
    }
    let _ = sigaudit::x509::Cert::from_pem_chain(data);
    let _ = sigaudit::crypto::PublicKey::from_spki_der(data);
}
