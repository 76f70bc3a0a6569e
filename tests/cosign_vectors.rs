//! Real cosign output from testdata/cosign (see testdata/PROVENANCE.md): legacy
//! `.sig` layers as containers/image stored them, sigstore-rs vectors (P-256, SUSE OBS RSA-2048,
//! 2021 keyless), and real Sigstore bundles (cosign v3 image signature, cosign attestation).

use sigaudit::crypto::PublicKey;
use sigaudit::oci::Digest;
use sigaudit::report::{ReasonCode, SignatureKind, Verdict};
use sigaudit::signature::{bundle::check_bundle, cosign::check_simplesigning, Checked, Subject};
use sigaudit::trust::Trust;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn cosign_dir() -> PathBuf {
    match std::env::var_os("SIGAUDIT_CORPUS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata"),
    }
    .join("cosign")
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(cosign_dir().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn trust_with(keys: &[&str]) -> Trust {
    let mut t = Trust::default();
    for k in keys {
        t.add_key_pem(&read(&format!("containers-image/keys/{k}")), k).unwrap();
    }
    t
}

/// A containers/image `dir:` copy: the manifest (the subject) and its `.sig` layers.
struct DirImage {
    subject: Subject,
    layers: Vec<(String, Vec<u8>, BTreeMap<String, String>)>,
}

fn dir_image(name: &str) -> DirImage {
    use base64::Engine;
    let manifest = read(&format!("containers-image/{name}/manifest.json"));
    // v2s1 manifests carry no mediaType.
    let media_type = serde_json::from_slice::<serde_json::Value>(&manifest).unwrap()["mediaType"]
        .as_str()
        .unwrap_or("application/vnd.docker.distribution.manifest.v1+prettyjws")
        .to_string();
    let subject = Subject { digest: Digest::sha256_of(&manifest), media_type, size: manifest.len() as u64 };
    let mut layers = Vec::new();
    for n in 1..=2 {
        let path = cosign_dir().join(format!("containers-image/{name}/signature-{n}"));
        let Ok(raw) = std::fs::read(path) else { break };
        let json = raw.strip_prefix(b"\x00sigstore-json\n").expect("c/image signature prefix");
        let v: serde_json::Value = serde_json::from_slice(json).unwrap();
        let payload = base64::engine::general_purpose::STANDARD.decode(v["payload"].as_str().unwrap()).unwrap();
        let ann: BTreeMap<String, String> = serde_json::from_value(v["annotations"].clone()).unwrap();
        layers.push((v["mimeType"].as_str().unwrap().to_string(), payload, ann));
    }
    DirImage { subject, layers }
}

fn check(name: &str, n: usize, trust: &Trust) -> Checked {
    let img = dir_image(name);
    let (mime, payload, ann) = &img.layers[n];
    assert_eq!(mime, sigaudit::oci::COSIGN_SIMPLESIGNING);
    check_simplesigning(ann, payload, &img.subject, trust)
}

#[test]
fn key_only_signature_is_unverified_then_verified_or_invalid_by_key() {
    assert_eq!(check("dir-img-cosign-valid", 0, &Trust::default()).verdict, Verdict::Unverified);
    let ok = check("dir-img-cosign-valid", 0, &trust_with(&["cosign.pub"]));
    assert_eq!(ok.verdict, Verdict::Verified, "{:?}", ok.reasons);
    assert_eq!(ok.docker_reference.as_deref(), Some("192.168.64.2:5000/cosign-signed-single-sample"));
    assert_eq!(check("dir-img-cosign-valid", 0, &trust_with(&["cosign2.pub"])).verdict, Verdict::Invalid);
    // Both keys given: the right one verifies.
    assert_eq!(
        check("dir-img-cosign-valid-2", 1, &trust_with(&["cosign2.pub", "cosign.pub"])).verdict,
        Verdict::Verified
    );
    // Signed by containers/image (optional.creator/timestamp), same key.
    assert_eq!(check("dir-img-cosign-valid-with-tag", 0, &trust_with(&["cosign.pub"])).verdict, Verdict::Verified);
}

#[test]
fn key_with_rekor_bundle_names_the_key_it_records() {
    let c = check("dir-img-cosign-key-rekor-valid", 0, &Trust::default());
    assert_eq!(c.verdict, Verdict::Unverified);
    let signer = c.signer.unwrap();
    assert_eq!(signer.key_algorithm.as_deref(), Some("ecdsa-p256"));
    let key_id = signer.key_id.unwrap();
    let t = trust_with(&["cosign2.pub"]);
    assert_eq!(t.keys[0].key_id, key_id, "the Rekor entry's key is cosign2.pub");
    assert_eq!(check("dir-img-cosign-key-rekor-valid", 0, &t).verdict, Verdict::Verified);
    // With the public-good root its SET is verified too and dates the signature; under the
    // staging root the log is unknown, and a SET that cannot be verified is not ignored.
    let mut t = with_trusted_root("public-good.trusted_root.json");
    t.add_key_pem(&read("containers-image/keys/cosign2.pub"), "cosign2.pub").unwrap();
    let c = check("dir-img-cosign-key-rekor-valid", 0, &t);
    assert_eq!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("log index 11608800")), "{:?}", c.reasons);
    assert_eq!(c.signed_at.as_deref(), Some("2023-01-20T21:57:39Z"));
    let mut t = with_trusted_root("staging.trusted_root.json");
    t.add_key_pem(&read("containers-image/keys/cosign2.pub"), "cosign2.pub").unwrap();
    let c = check("dir-img-cosign-key-rekor-valid", 0, &t);
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert!(c.reasons[0].contains("not in the trusted root"), "{:?}", c.reasons);
}

#[test]
fn keyless_fulcio_signature_carries_its_identity() {
    let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &Trust::default());
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    let s = c.signer.unwrap();
    assert_eq!(s.san, vec!["email:mitr@redhat.com".to_string()]);
    assert_eq!(s.oidc_issuer.as_deref(), Some("https://github.com/login/oauth"));
    assert_eq!(s.issuer.as_deref(), Some("CN=sigstore-intermediate, O=sigstore.dev"));
    assert_eq!(s.not_before.as_deref(), Some("2023-01-20T20:51:31Z"));
    assert_eq!(c.chain.len(), 3, "leaf, intermediate, root");
    assert!(c.reasons.iter().any(|r| r.contains("Rekor")));
}

#[test]
fn custom_pki_rsa_signature_with_wrapped_base64_verifies() {
    let c = check("dir-img-cosign-pki-valid", 0, &Trust::default());
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    let s = c.signer.unwrap();
    assert_eq!(s.key_algorithm.as_deref(), Some("rsa-4096"));
    assert!(
        s.san.contains(&"email:qiwan@redhat.com".to_string()) && s.san.contains(&"dns:myhost.example.com".to_string())
    );
}

#[test]
fn signatures_next_to_another_manifest_are_invalid() {
    for dir in ["dir-img-cosign-manifest-digest-error", "dir-img-cosign-modified-manifest"] {
        let c = check(dir, 0, &trust_with(&["cosign.pub"]));
        assert_eq!(c.verdict, Verdict::Invalid, "{dir}");
        assert!(c.reasons[0].contains("replayed"), "{:?}", c.reasons);
        assert_eq!(c.reasons[0].code, ReasonCode::PayloadDigestMismatch, "{dir}");
    }
    let mixed = trust_with(&["cosign.pub", "cosign2.pub"]);
    assert_eq!(check("dir-img-cosign-mixed", 0, &mixed).verdict, Verdict::Invalid);
    assert_eq!(check("dir-img-cosign-mixed", 1, &mixed).verdict, Verdict::Verified);
    // Not a signature layer at all.
    assert_ne!(dir_image("dir-img-cosign-other-attachment").layers[0].0, sigaudit::oci::COSIGN_SIMPLESIGNING);
}

fn key_vector(dir: &str, key: &str) -> (PublicKey, Vec<u8>, Vec<u8>) {
    let k = PublicKey::from_pem(&read(&format!("sigstore-rs/{dir}/{key}"))).unwrap();
    let payload = read(&format!("sigstore-rs/{dir}/payload.json"));
    let sig = sigaudit::crypto::b64_std_lenient(
        &String::from_utf8(read(&format!("sigstore-rs/{dir}/signature.b64"))).unwrap(),
    )
    .unwrap();
    (k, payload, sig)
}

#[test]
fn sigstore_rs_vectors_p256_and_obs_rsa() {
    let (k, payload, sig) = key_vector("busybox-key-p256", "cosign.pub");
    k.verify_cosign(&payload, &sig).unwrap();
    let (wrong, _, _) = key_vector("busybox-key-p256", "wrong-key.pub");
    assert!(wrong.verify_cosign(&payload, &sig).is_err());
    let (rsa, payload, sig) = key_vector("suse-obs-rsa2048", "key.pub");
    assert_eq!(rsa.algorithm_name(), "rsa-2048");
    rsa.verify_cosign(&payload, &sig).unwrap();
    let mut tampered = payload.clone();
    tampered[10] ^= 1;
    assert!(rsa.verify_cosign(&tampered, &sig).is_err());
}

#[test]
fn keyless_2021_certificate_has_no_issuer_extension() {
    let cert =
        sigaudit::x509::Cert::from_pem_chain(&read("sigstore-rs/keyless-2021-fulcio-v1/cert.pem")).unwrap().remove(0);
    let payload = read("sigstore-rs/keyless-2021-fulcio-v1/payload.json");
    let sig = sigaudit::crypto::b64_std_lenient(
        &String::from_utf8(read("sigstore-rs/keyless-2021-fulcio-v1/signature.b64")).unwrap(),
    )
    .unwrap();
    cert.public_key().unwrap().verify_cosign(&payload, &sig).unwrap();
    let s = cert.signer();
    assert_eq!(s.san, vec!["email:flavio@castelli.me".to_string()]);
    assert_eq!(s.oidc_issuer, None);

    // As a registry layer: its 2021 `rekord` SET verifies with the production Rekor key, and the
    // certificate chains to the 2021 Fulcio root at the integrated time (sigstore-verify cannot
    // parse rekord entries; this path is ours).
    let ann = BTreeMap::from([
        (
            sigaudit::signature::cosign::ANN_SIGNATURE.to_string(),
            String::from_utf8(read("sigstore-rs/keyless-2021-fulcio-v1/signature.b64")).unwrap(),
        ),
        (
            sigaudit::signature::cosign::ANN_CERTIFICATE.to_string(),
            String::from_utf8(read("sigstore-rs/keyless-2021-fulcio-v1/cert.pem")).unwrap(),
        ),
        (
            sigaudit::signature::cosign::ANN_BUNDLE.to_string(),
            String::from_utf8(read("sigstore-rs/keyless-2021-fulcio-v1/bundle.json")).unwrap(),
        ),
    ]);
    let p: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let digest = p["critical"]["image"]["docker-manifest-digest"].as_str().unwrap();
    let subject = bundle_subject(digest.strip_prefix("sha256:").unwrap());
    let mut t = with_identity("flavio@castelli.me", "unused");
    std::sync::Arc::get_mut(t.sigstore.as_mut().unwrap()).unwrap().signer.issuer = None;
    // Its SET verifies and dates it; but it predates certificate transparency for Fulcio and
    // carries no SCT, which cosign 2 and sigstore-go require: untrusted, and the reasons say why.
    let c = check_simplesigning(&ann, &payload, &subject, &t);
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("log index 783607")), "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("carries no SCT")), "{:?}", c.reasons);
    assert_eq!(c.signed_at.as_deref(), Some("2021-10-20T07:25:17Z"));
}

fn bundle_subject(hex: &str) -> Subject {
    Subject {
        digest: Digest::parse(&format!("sha256:{hex}")).unwrap(),
        media_type: sigaudit::oci::OCI_MANIFEST.into(),
        size: 0,
    }
}

#[test]
fn cosign_v3_image_bundle_names_its_github_actions_signer() {
    let bytes = read("sigstore-rs/bundle_v03-cosign-v3-image-signature.sigstore.json");
    let subject = bundle_subject("c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172");
    let c = check_bundle(&bytes, &subject, &Trust::default());
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert_eq!(c.kind, SignatureKind::Signature);
    let s = c.signer.unwrap();
    assert_eq!(s.oidc_issuer.as_deref(), Some("https://token.actions.githubusercontent.com"));
    assert_eq!(
        s.san,
        vec!["uri:https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0"
            .to_string()]
    );
    assert_eq!(
        s.extensions.get("sourceRepositoryUri").map(String::as_str),
        Some("https://github.com/kubewarden/kubewarden-controller")
    );
    assert_eq!(s.extensions.get("runnerEnvironment").map(String::as_str), Some("github-hosted"));
    assert_eq!(s.extensions.get("githubWorkflowRef").map(String::as_str), Some("refs/tags/v1.34.0"));

    let other = bundle_subject(&"ab".repeat(32));
    let c = check_bundle(&bytes, &other, &Trust::default());
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons[0].contains("replayed"));
    assert_eq!(c.reasons[0].code, ReasonCode::PayloadDigestMismatch);

    // Against the public-good root: with the release workflow as the allowed identity it is
    // verified (tlog, SCT and time checked); any other identity leaves it untrusted.
    let kw = "^https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/";
    let c = check_bundle(&bytes, &subject, &with_identity(&format!("re:{kw}"), GITHUB));
    assert_eq!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("transparency log inclusion verified")), "{:?}", c.reasons);
    assert_eq!(c.signed_at.as_deref().map(|t| &t[..10]), Some("2026-04-09"));
    let c = check_bundle(&bytes, &subject, &with_identity("mitr@redhat.com", GITHUB));
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    // Under the staging root nothing of it is known: untrusted, not invalid.
    let mut staging = with_identity(&format!("re:{kw}"), GITHUB);
    let mut roots = sigaudit::sigstore::SigstoreTrust::empty();
    roots.add_json(std::str::from_utf8(&read("trusted-roots/staging.trusted_root.json")).unwrap(), "staging").unwrap();
    let signer = staging.sigstore.as_ref().unwrap().signer.clone();
    staging.sigstore = Some(std::sync::Arc::new(sigaudit::trust::SigstorePolicy { roots, signer }));
    let c = check_bundle(&bytes, &subject, &staging);
    assert_ne!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    assert_eq!(c.verdict, Verdict::Untrusted, "an unknown log or CA is untrusted, not invalid: {:?}", c.reasons);
}

const GITHUB: &str = "https://token.actions.githubusercontent.com";

#[test]
fn cosign_attestation_bundle_is_an_attestation() {
    let bytes = read("cosign-testdata/oci-attestation.sigstore.json");
    let subject = bundle_subject("732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4");
    let c = check_bundle(&bytes, &subject, &Trust::default());
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert_eq!(c.kind, SignatureKind::Attestation);
    assert_eq!(c.predicate_type.as_deref(), Some("https://cosign.sigstore.dev/attestation/v1"));
    assert_eq!(c.signer.unwrap().san, vec!["email:cody@soyland.com".to_string()]);
    let c = check_bundle(&bytes, &subject, &with_identity("cody@soyland.com", "https://github.com/login/oauth"));
    assert_eq!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    assert_eq!(c.kind, SignatureKind::Attestation);
}

#[test]
fn othername_san_and_two_signature_dsse_bundles() {
    let bytes = read("sigstore-go/othername.sigstore.json");
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(v["verificationMaterial"]["certificate"]["rawBytes"].as_str().unwrap())
        .unwrap();
    let s = sigaudit::x509::Cert::from_der(der).unwrap().signer();
    assert_eq!(s.san, vec!["othername:1.3.6.1.4.1.57264.1.7:foo!oidc.local".to_string()]);
    assert_eq!(s.oidc_issuer.as_deref(), Some("http://oidc.local:8080"));

    let two = read("sigstore-go/dsse-2sigs.sigstore.json");
    let v: serde_json::Value = serde_json::from_slice(&two).unwrap();
    let payload =
        base64::engine::general_purpose::STANDARD.decode(v["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let hex =
        statement["subject"][0]["digest"]["sha256"].as_str().map(str::to_string).unwrap_or_else(|| "00".repeat(32));
    let c = check_bundle(&two, &bundle_subject(&hex), &Trust::default());
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons[0].contains("exactly one"), "{:?}", c.reasons);
}

#[test]
fn certificate_chains_longer_than_ten_are_refused() {
    let img = dir_image("dir-img-cosign-fulcio-rekor-valid");
    let (_, payload, ann) = &img.layers[0];
    let mut ann = ann.clone();
    let chain = ann[sigaudit::signature::cosign::ANN_CHAIN].clone();
    let long = [chain.trim_end(); 6].join("\n"); // 12 certificates + the leaf
    ann.insert(sigaudit::signature::cosign::ANN_CHAIN.into(), long);
    let c = check_simplesigning(&ann, payload, &img.subject, &Trust::default());
    assert_eq!(c.verdict, Verdict::Invalid);
    assert!(c.reasons[0].contains("exceeds the limit of 10"), "{:?}", c.reasons);
}

fn with_trusted_root(root: &str) -> Trust {
    trust_from_root(&read(&format!("trusted-roots/{root}")))
}

fn trust_from_root(json: &[u8]) -> Trust {
    let mut t = Trust { now: 1_795_000_000, ..Trust::default() }; // 2026-11: Fulcio leaves long expired
    t.add_trusted_root(json).unwrap();
    t
}

/// mitr@redhat.com's identity policy over the public-good root as `edit` changes it.
fn mitr_with_edited_root(edit: impl FnOnce(&mut serde_json::Value)) -> Trust {
    let mut root: serde_json::Value =
        serde_json::from_slice(&read("trusted-roots/public-good.trusted_root.json")).unwrap();
    edit(&mut root);
    Trust {
        sigstore: with_identity("mitr@redhat.com", "https://github.com/login/oauth").sigstore,
        ..trust_from_root(&serde_json::to_vec(&root).unwrap())
    }
}

#[test]
fn rekor_set_dates_a_keyless_signature_so_its_fulcio_chain_verifies() {
    // Without the trusted root the 10-minute Fulcio certificate is judged now: not trusted.
    let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &Trust::default());
    assert_eq!(c.verdict, Verdict::Untrusted);
    // With it, the chain holds at the integrated time; but a Fulcio certificate proves nothing
    // about who signed until an identity constraint says who may.
    let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &with_trusted_root("public-good.trusted_root.json"));
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("any Sigstore user could have")), "{:?}", c.reasons);
    let c = check(
        "dir-img-cosign-fulcio-rekor-valid",
        0,
        &with_identity("mitr@redhat.com", "https://github.com/login/oauth"),
    );
    assert_eq!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    assert_eq!(c.signed_at.as_deref(), Some("2023-01-20T20:51:33Z"));
    assert!(c.reasons.iter().any(|r| r.contains("log index 11605770")), "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("CN=sigstore")), "{:?}", c.reasons);
    // Its embedded SCT (ctfe.sigstore.dev/2022) verifies over the rebuilt precertificate.
    assert!(c.reasons.iter().any(|r| r.contains("SCT of CT log dd3d306ac6c71132")), "{:?}", c.reasons);
    // A root without that CT log: the SCT cannot be judged.
    let t = mitr_with_edited_root(|root| root["ctlogs"] = serde_json::json!([]));
    let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &t);
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert!(c.reasons.iter().any(|r| r.contains("which the trusted root does not hold")), "{:?}", c.reasons);
    // A regular expression on the identity; the wrong identity or issuer is untrusted.
    let c = check(
        "dir-img-cosign-fulcio-rekor-valid",
        0,
        &with_identity("re:@redhat\\.com$", "https://github.com/login/oauth"),
    );
    assert_eq!(c.verdict, Verdict::Verified, "{:?}", c.reasons);
    for (id, issuer) in
        [("someone@redhat.com", "https://github.com/login/oauth"), ("mitr@redhat.com", "https://accounts.google.com")]
    {
        let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &with_identity(id, issuer));
        assert_eq!(c.verdict, Verdict::Untrusted, "{id} {issuer}: {:?}", c.reasons);
        assert!(c.reasons.iter().any(|r| r.contains("does not match") || r.contains("is not")), "{:?}", c.reasons);
    }
}

/// The public-good root with a keyless identity constraint (`re:` marks a regular expression).
fn with_identity(identity: &str, issuer: &str) -> Trust {
    use sigaudit::sigstore::{Identity, SignerPolicy, SigstoreTrust};
    let mut t = with_trusted_root("public-good.trusted_root.json");
    let identity = match identity.strip_prefix("re:") {
        Some(re) => Identity::regex(re).unwrap(),
        None => Identity::Exact(identity.into()),
    };
    let signer = SignerPolicy { identity: Some(identity), issuer: Some(issuer.into()), ..Default::default() };
    t.sigstore =
        Some(std::sync::Arc::new(sigaudit::trust::SigstorePolicy { roots: SigstoreTrust::public_good(), signer }));
    t
}

#[test]
fn rekor_set_from_an_unknown_log_is_untrusted_and_for_another_signature_invalid() {
    // The staging root does not hold the production Rekor key: the SET cannot be judged.
    let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &with_trusted_root("staging.trusted_root.json"));
    assert_eq!(c.verdict, Verdict::Untrusted);
    assert!(c.reasons[0].contains("not in the trusted root"), "{:?}", c.reasons);
    // A genuine SET of the same log, but for another entry: the log signature holds, the body
    // records another payload, so it proves nothing about this signature.
    let img = dir_image("dir-img-cosign-fulcio-rekor-valid");
    let (_, payload, ann) = &img.layers[0];
    let mut ann = ann.clone();
    let other_set = String::from_utf8(read("containers-image/rekor-set-unit/rekor-set")).unwrap();
    ann.insert(sigaudit::signature::cosign::ANN_BUNDLE.into(), other_set.trim().to_string());
    let c = check_simplesigning(&ann, payload, &img.subject, &with_trusted_root("public-good.trusted_root.json"));
    assert_eq!(c.verdict, Verdict::Invalid, "{:?}", c.reasons);
    assert!(c.reasons[0].contains("records another payload"), "{:?}", c.reasons);
}

#[test]
fn a_fulcio_ca_outside_its_trusted_root_window_does_not_count() {
    // The public-good root with every CA's window closed before the signature was logged.
    let t = mitr_with_edited_root(|root| {
        for ca in root["certificateAuthorities"].as_array_mut().unwrap() {
            ca["validFor"]["end"] = "2022-01-01T00:00:00Z".into();
        }
    });
    let c = check("dir-img-cosign-fulcio-rekor-valid", 0, &t);
    assert_eq!(c.verdict, Verdict::Untrusted, "{:?}", c.reasons);
    assert!(
        c.reasons.iter().any(|r| r.contains("no Fulcio CA of the trusted root is valid at 2023-01-20")),
        "{:?}",
        c.reasons
    );
}
