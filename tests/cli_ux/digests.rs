//! Digests other than SHA-256 where a digest is accepted: verify-bundle's artifact (an npm-style
//! attestation names its tarball by SHA-512 only).

use crate::common::{code, corpus, repo_root, sigaudit};
use crate::{errtext, path_str, python, tool};

#[test]
fn verify_bundle_takes_sha512_and_sha384_digests() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    tool(&python(), &[path_str(&repo_root().join("tests/support/make_npm_bundle.py")), path_str(d)], d);
    let read = |f: &str| std::fs::read_to_string(d.join(f)).unwrap();
    let (sha512, sha256) = (read("sha512.txt"), read("sha256.txt"));
    let p = |f: &str| path_str(&d.join(f)).to_string();
    let verify = |artifact: &str| {
        let o = sigaudit([
            "verify-bundle",
            "--bundle",
            &p("bundle.json"),
            "--key",
            &p("key.pub"),
            "--trusted-root",
            &p("trusted_root.json"),
            artifact,
        ]);
        (code(&o), errtext(&o))
    };
    assert_eq!(verify(&p("package.tgz")).0, 0, "the file: {}", verify(&p("package.tgz")).1);
    assert_eq!(verify(&format!("sha512:{sha512}")), (0, String::new()));
    // The statement names the tarball by SHA-512 only: its SHA-256 is not a subject.
    let (c, e) = verify(&format!("sha256:{sha256}"));
    assert_eq!(c, 1);
    assert!(e.contains("does not match any subject"), "{e}");
    let (c, _) = verify(&format!("sha512:{}", "ab".repeat(64)));
    assert_eq!(c, 1);
    // What sigstore-verify cannot match is said, as a usage error.
    let (c, e) = verify(&format!("sha384:{}", "ab".repeat(48)));
    assert_eq!(c, 2);
    assert!(e.contains("sha256 or sha512"), "{e}");
    let (c, e) = verify("sha512:abc");
    assert_eq!(c, 2);
    assert!(e.contains("128 hex digits"), "{e}");

    // A message signature is logged by the artifact's SHA-256: another digest cannot verify it.
    let case = corpus().join("sigstore/conformance/happy-path-v0.3/bundle.sigstore.json");
    let o = sigaudit([
        "verify-bundle",
        "--bundle",
        path_str(&case),
        "--certificate-identity",
        "x",
        "--certificate-oidc-issuer",
        "y",
        &format!("sha512:{sha512}"),
    ]);
    assert_eq!(code(&o), 2);
    assert!(errtext(&o).contains("records the artifact's SHA-256"), "{}", errtext(&o));
}

#[test]
fn image_references_take_sha384_and_sha512_digests() {
    use crate::common::proxy::{Action, Proxy};
    use crate::common::{http, stdout_json, Registry};
    use sha2::Digest as _;
    let reg = Registry::distribution(100);
    reg.seed(false);
    let accept = [("Accept", "application/vnd.oci.image.manifest.v1+json")];
    let (status, manifest) = http(&reg.addr, "GET", "/v2/apps/web/manifests/v1", &accept, b"");
    assert_eq!(status, 200);
    let d384 = format!("sha384:{}", hex::encode(sha2::Sha384::digest(&manifest)));
    let d512 = format!("sha512:{}", hex::encode(sha2::Sha512::digest(&manifest)));
    // Neither test registry serves other digests than sha256: this proxy answers for them as a
    // registry that does (zot, for one), with the manifest and its digest in the algorithm asked.
    let (a, b) = (d384.clone(), d512.clone());
    let rule = std::sync::Arc::new(move |_m: &str, p: &str, _n: u64| {
        for d in [&a, &b] {
            if p == format!("/v2/apps/web/manifests/{d}") {
                let headers = vec![
                    ("Content-Type".to_string(), "application/vnd.oci.image.manifest.v1+json".to_string()),
                    ("Docker-Content-Digest".to_string(), d.to_string()),
                ];
                return Action::Respond(200, headers, manifest.clone());
            }
        }
        Action::Forward
    });
    let proxy = Proxy::start(&reg.addr, rule);
    let o = sigaudit([
        "image",
        &format!("{}/apps/web@{d384}", proxy.addr),
        &format!("{}/apps/web@{d512}", proxy.addr),
        "--plain-http",
        "-o",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    let report = stdout_json(&o);
    let images = report["images"].as_array().unwrap();
    let mut digests: Vec<&str> = images.iter().map(|i| i["digest"].as_str().unwrap()).collect();
    digests.sort();
    assert_eq!(digests, [d384.as_str(), d512.as_str()]);
    // A digest is not a tag.
    assert!(images.iter().all(|i| i["tags"].as_array().unwrap().is_empty()), "{report:#}");
}
