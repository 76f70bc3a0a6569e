//! `sigaudit verify-bundle` against the Sigstore client conformance suite
//! (testdata/sigstore/conformance, sigstore-conformance @a73de497, see testdata/PROVENANCE.md):
//! every one of its 70 cases, each as a file and as a digest; a `_fail` case must exit 1, any other 0.
//! Plus real bundles from cosign, sigstore-rs and sigstore-rust with the identities their
//! provenance documents, and the identity flags turning a good bundle down.

mod common;

use common::{code, corpus, sigaudit};
use std::path::{Path, PathBuf};

const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

fn sha256_arg(path: &Path) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex_lower(&sha2::Sha256::digest(std::fs::read(path).unwrap())))
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The verify-bundle arguments of one conformance case (defaults from the suite's README).
fn case_args(dir: &Path) -> Vec<String> {
    let mut args = vec!["verify-bundle".to_string(), "--bundle".into(), s(&dir.join("bundle.sigstore.json"))];
    if dir.join("key.pub").exists() {
        args.extend(["--key".into(), s(&dir.join("key.pub"))]);
    } else {
        let read = |f: &str, default: &str| {
            std::fs::read_to_string(dir.join(f)).map(|v| v.trim().to_string()).unwrap_or_else(|_| default.to_string())
        };
        args.extend(["--certificate-identity".into(), read("identity", IDENTITY)]);
        args.extend(["--certificate-oidc-issuer".into(), read("issuer", ISSUER)]);
    }
    // Without a trusted_root.json the case uses the public-good root: here the one built in.
    if dir.join("trusted_root.json").exists() {
        args.extend(["--trusted-root".into(), s(&dir.join("trusted_root.json"))]);
    }
    args
}

#[test]
fn conformance_suite_every_case_as_file_and_as_digest() {
    let root = corpus().join("sigstore/conformance");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 70, "the suite has 70 cases");
    let mut wrong = Vec::new();
    let (mut passing, mut failing) = (0, 0);
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let should_fail = name.ends_with("_fail");
        if should_fail {
            failing += 1;
        } else {
            passing += 1;
        }
        let artifact = if dir.join("artifact").exists() { dir.join("artifact") } else { root.join("a.txt") };
        for subject in [s(&artifact), sha256_arg(&artifact)] {
            let mut args = case_args(dir);
            args.push(subject.clone());
            let out = sigaudit(&args);
            let want = if should_fail { 1 } else { 0 };
            if code(&out) != want {
                wrong.push(format!(
                    "{name} ({subject}): exit {} (want {want}): {}",
                    code(&out),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of 140 runs wrong:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!((passing, failing), (21, 49), "cases that must verify / must fail");
}

fn cosign(rel: &str) -> PathBuf {
    corpus().join("cosign").join(rel)
}

#[test]
fn real_bundles_verify_with_their_documented_identity_and_not_otherwise() {
    let kubewarden = s(&cosign("sigstore-rs/bundle_v03-cosign-v3-image-signature.sigstore.json"));
    let kw_id = "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
    let kw_digest = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
    let run = |extra: &[&str]| {
        let mut a = vec!["verify-bundle", "--bundle", &kubewarden, "--json"];
        a.extend_from_slice(extra);
        sigaudit(&a)
    };
    let ok = run(&["--certificate-identity", kw_id, "--certificate-oidc-issuer", ISSUER, kw_digest]);
    assert_eq!(code(&ok), 0, "{}", String::from_utf8_lossy(&ok.stderr));
    let v = common::stdout_json(&ok);
    assert_eq!(v["verified"], true);
    assert_eq!(v["identity"], kw_id);
    assert_eq!(v["issuer"], ISSUER);
    assert_eq!(v["tlog_verified"], true);
    assert!(!v["verified_times"].as_array().unwrap().is_empty(), "{v}");

    // A regular expression, unanchored like cosign's, matches too.
    let re = run(&[
        "--certificate-identity-regexp",
        r"^https://github\.com/kubewarden/.*@refs/tags/v1\.",
        "--certificate-oidc-issuer",
        ISSUER,
        kw_digest,
    ]);
    assert_eq!(code(&re), 0, "{}", String::from_utf8_lossy(&re.stderr));

    // Someone else's identity, issuer or image: not verified, with the reason.
    for (extra, why) in [
        (vec!["--certificate-identity", IDENTITY, "--certificate-oidc-issuer", ISSUER, kw_digest], "identity"),
        (
            vec![
                "--certificate-identity-regexp",
                "^https://github.com/evil/",
                "--certificate-oidc-issuer",
                ISSUER,
                kw_digest,
            ],
            "does not match",
        ),
        (
            vec![
                "--certificate-identity",
                kw_id,
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
                kw_digest,
            ],
            "issuer",
        ),
        (
            vec![
                "--certificate-identity",
                kw_id,
                "--certificate-oidc-issuer",
                ISSUER,
                "sha256:0000000000000000000000000000000000000000000000000000000000000000",
            ],
            "",
        ),
    ] {
        let out = run(&extra);
        assert_eq!(code(&out), 1, "{extra:?} must not verify");
        let v = common::stdout_json(&out);
        assert_eq!(v["verified"], false);
        assert!(v["reason"].as_str().unwrap().to_lowercase().contains(why), "{extra:?}: {v}");
    }

    // A cosign attestation (in-toto v0.1 statement) and a cosign v3 sign-blob bundle.
    let att = s(&corpus().join("sigstore/oci-attestation.sigstore.json"));
    let out = sigaudit([
        "verify-bundle",
        "--bundle",
        &att,
        "--certificate-identity",
        "cody@soyland.com",
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
        "sha256:732112270d7e59418a8c080b134b24cabd67d250d0d0147a97ed95ba5c280aa4",
    ]);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    let blob = s(&cosign("sigstore-rust/cosign-v3-blob.sigstore.json"));
    let blob_file = s(&cosign("sigstore-rust/cosign-v3-blob.txt"));
    let id = [
        "--certificate-identity",
        "w.vollprecht@gmail.com",
        "--certificate-oidc-issuer",
        "https://github.com/login/oauth",
    ];
    let mut a = vec!["verify-bundle", "--bundle", &blob];
    a.extend_from_slice(&id);
    a.push(&blob_file);
    let out = sigaudit(&a);
    assert_eq!(code(&out), 0, "{}", String::from_utf8_lossy(&out.stderr));
    // Another file under the same bundle fails.
    a.pop();
    a.push(&kubewarden);
    assert_eq!(code(&sigaudit(&a)), 1);

    // A DSSE envelope with two signatures is rejected (sigstore-go fixture).
    let two = s(&cosign("sigstore-go/dsse-2sigs.sigstore.json"));
    let out = sigaudit([
        "verify-bundle",
        "--bundle",
        &two,
        "--certificate-identity-regexp",
        ".",
        "--certificate-oidc-issuer",
        ISSUER,
        &blob_file,
    ]);
    assert_eq!(code(&out), 1);
}

#[test]
fn verify_bundle_usage_errors_exit_2() {
    let kubewarden = s(&cosign("sigstore-rs/bundle_v03-cosign-v3-image-signature.sigstore.json"));
    // No signer policy at all: a keyless bundle would verify for anyone, so this is refused.
    let out = sigaudit(["verify-bundle", "--bundle", &kubewarden, "sha256:00"]);
    assert_eq!(code(&out), 2, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--certificate-oidc-issuer"));
    // Identity without issuer.
    assert_eq!(code(&sigaudit(["verify-bundle", "--bundle", &kubewarden, "--certificate-identity", "x", "a"])), 2);
    // A bad regular expression, a malformed digest, a missing artifact.
    let base = ["verify-bundle", "--bundle", &kubewarden, "--certificate-oidc-issuer", ISSUER];
    for extra in [
        vec!["--certificate-identity-regexp", "(", "sha256:00"],
        vec!["--certificate-identity", "x", "sha256:abc"],
        vec!["--certificate-identity", "x", "/nonexistent/file"],
    ] {
        let mut a = base.to_vec();
        a.extend_from_slice(&extra);
        let out = sigaudit(&a);
        assert_eq!(code(&out), 2, "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}
