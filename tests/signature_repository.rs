//! Signatures kept in a signature repository (cosign's `COSIGN_REPOSITORY`), against Debian's
//! docker-registry (CNCF distribution 2.8) seeded by scripts/seed_registry.py. The signature
//! repositories are built by Debian's **skopeo**, which copies the seeder's cosign `.sig` tags
//! (OCI image manifests) byte for byte (`--preserve-digests`) into another repository, and copies
//! images without their signatures (Debian's skopeo copies no cosign attachments unless
//! registries.d asks it to). Debian's skopeo is built without sigstore verification, so the
//! independent verdict on each moved signature is Python `cryptography`'s
//! (tests/support/cosign_sig_check.py: the ECDSA signature over the stored payload, and the digest
//! the payload names), set beside ours.

mod common;

use common::{code, sigaudit, stdout_json, Registry};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn skopeo_copy(registries_d: &Path, from: &str, to: &str) {
    let found = Command::new("sh").arg("-c").arg("command -v skopeo").output().map(|o| o.status.success());
    assert!(found.unwrap_or(false), "skopeo is missing: apt-get install skopeo (./scripts/setup.sh installs it)");
    let mut c = Command::new("skopeo");
    c.arg("--registries.d").arg(registries_d).args([
        "copy",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        "--preserve-digests",
        &format!("docker://{from}"),
        &format!("docker://{to}"),
    ]);
    common::isolate(&mut c);
    let o = c.output().unwrap();
    assert!(o.status.success(), "skopeo copy {from} {to}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Python `cryptography`'s verdict on the cosign `.sig` tag `repo:tag`: (signature valid, digest
/// the payload names), one per layer.
fn independent(registry: &str, repo: &str, tag: &str, key: &Path) -> Vec<(bool, String)> {
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let script = common::repo_root().join("tests/support/cosign_sig_check.py");
    let o = Command::new(&python).arg(script).args([registry, repo, tag]).arg(key).output().unwrap();
    assert!(
        o.status.success(),
        "cosign_sig_check.py: {} (apt-get install python3-cryptography)",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|l| (l["valid"].as_bool().unwrap(), l["digest"].as_str().unwrap().to_string()))
        .collect()
}

fn sig_tag(digest: &str) -> String {
    format!("sha256-{}.sig", digest.strip_prefix("sha256:").unwrap())
}

fn codes(sig: &Value) -> Vec<String> {
    sig["verification"]["reasonCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()
}

fn image<'a>(report: &'a Value, repo: &str) -> &'a Value {
    let images = report["images"].as_array().unwrap();
    images.iter().find(|i| i["repository"] == repo).unwrap_or_else(|| panic!("{repo} not reported: {report:#}"))
}

fn run(args: &[&str]) -> (Value, std::process::Output) {
    let o = sigaudit(args);
    (stdout_json(&o), o)
}

#[test]
fn signatures_in_a_signature_repository_bind_to_the_images_they_name() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let r = reg.addr.clone();
    let key = seeded.dir.join("cosign.pub");
    let key = key.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();
    let rd = work.path().join("registries.d");
    std::fs::create_dir_all(&rd).unwrap();

    // upstream/web: the seeder's key-signed apps/web:v1, copied without its signature; the
    // signature copied to sigstore/sigs. upstream/unsigned: an unsigned image, under whose digest
    // tag apps/web's signature is replayed in sigstore/sigs.
    let web = seeded.digest("apps/web", "v1");
    let unsigned = seeded.digest("apps/unsigned", "v1");
    let api = seeded.digest("apps/api", "v1");
    skopeo_copy(&rd, &format!("{r}/apps/web:v1"), &format!("{r}/upstream/web:v1"));
    skopeo_copy(&rd, &format!("{r}/apps/unsigned:v1"), &format!("{r}/upstream/unsigned:v1"));
    assert_eq!(reg.tag_digest("upstream/web", "v1"), web, "skopeo kept the digest");
    let tags = |repo: &str| -> Vec<String> {
        let (_, body) = common::http(&r, "GET", &format!("/v2/{repo}/tags/list"), &[], b"");
        let v: Value = serde_json::from_slice(&body).unwrap();
        v["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect()
    };
    assert_eq!(tags("upstream/web"), ["v1"], "the image was copied without its signature");
    let web_sig = sig_tag(&web);
    skopeo_copy(&rd, &format!("{r}/apps/web:{web_sig}"), &format!("{r}/sigstore/sigs:{web_sig}"));
    skopeo_copy(&rd, &format!("{r}/apps/web:{web_sig}"), &format!("{r}/sigstore/sigs:{}", sig_tag(&unsigned)));
    // Orphans of the signature repository: apps/api's signature (its image lives in apps/api, not
    // among the images mapped there), and the seeder's orphan of apps/web (its image is gone).
    skopeo_copy(&rd, &format!("{r}/apps/api:{}", sig_tag(&api)), &format!("{r}/sigstore/sigs:{}", sig_tag(&api)));
    let gone = "sha256:59f386abd369db6adab326c788b56a828c97704fc3b6cd101571b81c07e1ac01";
    skopeo_copy(&rd, &format!("{r}/apps/web:{}", sig_tag(gone)), &format!("{r}/sigstore/sigs:{}", sig_tag(gone)));

    // The independent verdicts: the moved signature verifies and names upstream/web's digest;
    // the replayed one verifies too, and names another digest than the tag it sits under.
    assert_eq!(independent(&r, "sigstore/sigs", &web_sig, Path::new(key)), [(true, web.clone())]);
    let replayed = independent(&r, "sigstore/sigs", &sig_tag(&unsigned), Path::new(key));
    assert_eq!(replayed, [(true, web.clone())]);
    assert_ne!(replayed[0].1, unsigned, "the replayed payload names another image");

    // Not told where the signatures are: unsigned (the README says to give --signature-repository).
    let upstream_web = format!("{r}/upstream/web:v1");
    let (report, o) = run(&["image", "--plain-http", "-o", "json", "--key", key, &upstream_web]);
    assert_eq!(code(&o), 0);
    assert_eq!(report["images"][0]["status"], "unsigned", "{report:#}");

    // Told: verified, from the signature repository; the replayed signature is invalid.
    let sigrepo = format!("{r}/sigstore/sigs");
    let upstream_unsigned = format!("{r}/upstream/unsigned:v1");
    let (report, o) = run(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--key",
        key,
        "--signature-repository",
        &sigrepo,
        &upstream_web,
        &upstream_unsigned,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let found = image(&report, "upstream/web");
    assert_eq!(found["status"], "verified", "{found:#}");
    assert_eq!(codes(&found["signatures"][0]), ["verified-key"]);
    assert_eq!(found["signatures"][0]["location"], sigrepo.as_str());
    let bad = image(&report, "upstream/unsigned");
    assert_eq!(bad["status"], "invalid", "{bad:#}");
    assert_eq!(codes(&bad["signatures"][0]), ["payload-digest-mismatch"]);
    // cosign's semantics: only the signature repository is looked at. apps/web's own signature
    // beside it is not seen unless asked for.
    let apps_web = format!("{r}/apps/web:v1");
    let (report, _) = run(&["image", "--plain-http", "-o", "json", "--signature-repository", &sigrepo, &apps_web]);
    assert_eq!(report["images"][0]["signatures"].as_array().unwrap().len(), 1);
    let (report, _) = run(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--signature-repository",
        &sigrepo,
        "--signatures-beside-image",
        &apps_web,
    ]);
    let sigs = report["images"][0]["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2, "{report:#}");
    assert!(sigs.iter().any(|s| s.get("location").is_none()) && sigs.iter().any(|s| s["location"] == sigrepo.as_str()));

    // A registry scan with the mapping in the config file: the mapped images bind to their
    // signatures; what no scanned image claimed is an orphan of the signature repository.
    let config = work.path().join("sigaudit.toml");
    std::fs::write(&config, format!("key = [{key:?}]\n\n[signature-repositories]\n\"{r}/upstream\" = \"{sigrepo}\"\n"))
        .unwrap();
    let (report, o) = run(&[
        "--config",
        config.to_str().unwrap(),
        "registry",
        &r,
        "--plain-http",
        "-o",
        "json",
        "--include",
        "upstream/*",
        "--include",
        "sigstore/*",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(image(&report, "upstream/web")["status"], "verified", "{report:#}");
    assert_eq!(image(&report, "upstream/unsigned")["status"], "invalid");
    let mut orphans: Vec<(String, String, Option<String>)> = report["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["repository"].as_str().unwrap().to_string(),
                o["subject"].as_str().unwrap().to_string(),
                o.get("subjectRepository").map(|s| s.as_str().unwrap().to_string()),
            )
        })
        .collect();
    orphans.sort();
    let mut want = vec![
        ("sigstore/sigs".to_string(), api.clone(), Some("apps/api".to_string())),
        ("sigstore/sigs".to_string(), gone.to_string(), None),
    ];
    want.sort();
    assert_eq!(orphans, want, "{:#}", report["orphans"]);
    assert_eq!(
        report["scan"]["settings"]["signature-repository"],
        serde_json::json!([format!("{r}/upstream={sigrepo}")])
    );

    // The key as a containers policy.json's sigstoreSigned requirement for the upstream/ scope
    // only: it verifies there, and not apps/web, signed by the same key, in another scope. The
    // requirement's signedIdentity is applied to the payload's docker-reference per reference, as
    // containers/image applies it: the seeder signed apps/web (the payload names
    // `{r}/apps/web`), so `matchRepository` refuses upstream/web:v1 (the image is `untrusted`, the
    // reference named) and `exactRepository` of apps/web accepts it. (Debian's skopeo has no
    // sigstore support to ask; the signature itself is Python `cryptography`'s `valid` above.)
    let mapping = format!("{r}/upstream={sigrepo}");
    let scan_under = |name: &str, docker: Value| {
        let policy = work.path().join(name);
        let json = serde_json::json!({"default": [{"type": "reject"}], "transports": {"docker": docker}});
        std::fs::write(&policy, serde_json::to_vec(&json).unwrap()).unwrap();
        let (report, o) = run(&[
            "registry",
            &r,
            "--plain-http",
            "-o",
            "json",
            "--include",
            "upstream/web",
            "--include",
            "apps/web",
            "--signature-repository",
            &mapping,
            "--containers-policy",
            policy.to_str().unwrap(),
        ]);
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        report
    };
    let sigstore =
        |identity: Value| serde_json::json!({"type": "sigstoreSigned", "keyPath": key, "signedIdentity": identity});
    let apps_web = serde_json::json!({"type": "exactRepository", "dockerRepository": format!("{r}/apps/web")});
    let report = scan_under(
        "policy.json",
        serde_json::json!({format!("{r}/upstream"): [sigstore(serde_json::json!({"type": "matchRepository"}))]}),
    );
    let scoped = image(&report, "upstream/web");
    assert_eq!(
        (
            &scoped["status"],
            &scoped["signatures"][0]["verification"]["status"],
            &scoped["containersPolicy"]["unsatisfied"]
        ),
        (
            &serde_json::json!("untrusted"),
            &serde_json::json!("verified"),
            &serde_json::json!([format!("{r}/upstream/web:v1")])
        ),
        "{scoped:#}"
    );
    assert!(
        scoped["signatures"][0]["verification"]["reasons"][0].as_str().unwrap().contains("policy.json"),
        "{scoped:#}"
    );
    let outside = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["repository"] == "apps/web" && i["tags"][0] == "latest")
        .unwrap();
    assert_eq!(outside["status"], "unverified", "{outside:#}");
    let report =
        scan_under("exactrepo.json", serde_json::json!({format!("{r}/upstream"): [sigstore(apps_web.clone())]}));
    let scoped = image(&report, "upstream/web");
    assert_eq!(
        (&scoped["status"], &scoped["containersPolicy"]["unsatisfied"]),
        (&serde_json::json!("verified"), &serde_json::json!([])),
        "{scoped:#}"
    );
    // The key given for the tag's own scope only (`HOST/REPO:TAG` beats `HOST/REPO`, which
    // rejects): it judges upstream/web:v1's signatures, and the tag's scope holds.
    let report = scan_under(
        "tagscope.json",
        serde_json::json!({format!("{r}/upstream"): [{"type": "reject"}],
                           format!("{r}/upstream/web:v1"): [sigstore(apps_web)]}),
    );
    let scoped = image(&report, "upstream/web");
    assert_eq!(
        (&scoped["status"], &scoped["containersPolicy"]["references"][0]["scope"]),
        (&serde_json::json!("verified"), &serde_json::json!(format!("docker \"{r}/upstream/web:v1\""))),
        "{scoped:#}"
    );

    // A signature repository in another registry.
    let other = Registry::distribution(100);
    let elsewhere = format!("{}/mirror/signatures", other.addr);
    skopeo_copy(&rd, &format!("{r}/apps/web:{web_sig}"), &format!("{elsewhere}:{web_sig}"));
    let (report, o) = run(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--key",
        key,
        "--signature-repository",
        &elsewhere,
        &upstream_web,
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["images"][0]["status"], "verified", "{report:#}");
    assert_eq!(report["images"][0]["signatures"][0]["location"], elsewhere.as_str());
    // One that does not answer: an error, never unsigned.
    drop(other);
    let (report, o) = run(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--key",
        key,
        "--signature-repository",
        &elsewhere,
        &upstream_web,
    ]);
    assert_eq!(code(&o), 3);
    assert_eq!(report["images"][0]["status"], "error", "{report:#}");
}

/// A plain HTTP GET of `path` on the registry at `addr`: the status and the body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

#[test]
fn a_signature_repository_that_does_not_exist_is_an_error_never_unsigned() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let r = reg.addr.clone();
    let key = seeded.dir.join("cosign.pub");
    let key = key.to_str().unwrap();
    let web = reg.tag_digest("apps/web", "v1");
    let sig = sig_tag(&web);
    // What the registry answers: the tag list of a repository it does not know is 404
    // NAME_UNKNOWN (distribution spec), but a manifest probe there is 404 MANIFEST_UNKNOWN, the
    // very answer an existing repository gives for a signature it does not hold. So a probe's
    // 404 cannot tell "no signature" from "no repository": the tag list is asked first.
    let (status, body) = http_get(&r, "/v2/nosuch/sigs/tags/list");
    assert!(status == 404 && body.contains("NAME_UNKNOWN"), "{status} {body}");
    let (status, body) = http_get(&r, &format!("/v2/nosuch/sigs/manifests/{sig}"));
    assert!(status == 404 && body.contains("MANIFEST_UNKNOWN"), "{status} {body}");
    let (status, body) = http_get(&r, &format!("/v2/apps/api/manifests/{sig}"));
    assert!(status == 404 && body.contains("MANIFEST_UNKNOWN"), "{status} {body}");

    let image = format!("{r}/apps/web:v1");
    let missing = format!("{r}/nosuch/sigs");
    let (report, o) =
        run(&["image", "--plain-http", "-o", "json", "--key", key, "--signature-repository", &missing, &image]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let i = &report["images"][0];
    assert_eq!(i["status"], "error", "{report:#}");
    assert!(i["discoveryErrors"][0].as_str().unwrap().contains("nosuch/sigs does not exist"), "{report:#}");
    // A registry scan: the same, for every image the signature repository is for.
    let (report, o) = run(&[
        "registry",
        &r,
        "--plain-http",
        "-o",
        "json",
        "--include",
        "apps/web",
        "--key",
        key,
        "--signature-repository",
        &missing,
    ]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let statuses: Vec<&str> =
        report["images"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert!(!statuses.is_empty() && statuses.iter().all(|s| *s == "error"), "{report:#}");
    // A signature repository that exists and holds nothing for the image: looked at, none there.
    let existing = format!("{r}/apps/api");
    let (report, o) =
        run(&["image", "--plain-http", "-o", "json", "--key", key, "--signature-repository", &existing, &image]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["images"][0]["status"], "unsigned", "{report:#}");
}
