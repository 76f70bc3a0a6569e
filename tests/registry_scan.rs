//! Whole-registry scans against a real CNCF distribution registry (Debian's docker-registry 2.8,
//! no referrers API: the referrers tag schema is used), seeded with signed, unsigned, replayed
//! and corrupted images by scripts/seed_registry.py.

mod common;

use common::{code, comparable, sigaudit, stdout_json, Registry};
use serde_json::Value;
use std::path::Path;

fn scan_json(reg: &Registry, extra: &[&str]) -> (Value, std::process::Output) {
    let mut args =
        vec!["registry".to_string(), reg.addr.clone(), "--plain-http".into(), "--output".into(), "json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = sigaudit(&args);
    (stdout_json(&o), o)
}

#[test]
fn json_lists_every_image_once_with_its_digest_and_status_and_nothing_else() {
    let reg = Registry::distribution(3);
    let seeded = reg.seed(false);
    let (report, o) = scan_json(&reg, &[]);
    assert_eq!(code(&o), 0, "stderr: {}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["schema"], "sigaudit.report/v1");
    assert_eq!(report["scan"]["complete"], true, "errors: {}", report["errors"]);

    common::assert_images_match(&report, &seeded.expected);
    let expected = seeded.expected["images"].as_array().unwrap();
    // Orphans (and the one whose subject lives in another repository), notes, and the summary
    // that counts it all.
    common::assert_orphans_and_notes_match(&report, &seeded.expected);
    let s = &report["summary"];
    assert_eq!(s["repositories"], seeded.expected["repositories"].as_array().unwrap().len());
    assert_eq!(s["images"], expected.len());
    let count = |st: &str| expected.iter().filter(|e| e["status"] == st).count();
    for st in ["untrusted", "unverified", "invalid", "unsigned", "verified"] {
        assert_eq!(s[st], count(st), "summary {st}");
    }
}

#[test]
fn notary_signer_identity_and_thumbprints_come_from_the_envelope() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let (report, _) = scan_json(&reg, &[]);
    let alpine =
        report["images"].as_array().unwrap().iter().find(|i| i["repository"] == "notary/alpine").unwrap().clone();
    let jws = alpine["signatures"].as_array().unwrap().iter().find(|s| s["envelope"] == "jws").unwrap();
    assert_eq!(jws["discovery"], "referrers-tag");
    assert!(jws["signer"]["sha256"].as_str().unwrap().starts_with("9f5f5aec"));
    assert_eq!(jws["signer"]["issuer"], "CN=alpine, O=Notary, L=Seattle, ST=WA, C=US");
    assert_eq!(jws["chain"][0]["sha256"], jws["signer"]["sha256"]);
    assert_eq!(jws["algorithm"], "PS256");
    assert!(jws["signedAt"].as_str().unwrap().starts_with("2023-"), "{jws:#}");
    // The manifest's thumbprint annotation was right: no mismatch reported.
    assert!(!jws["verification"]["reasons"].to_string().contains("thumbprint"));
    let cose = alpine["signatures"].as_array().unwrap().iter().find(|s| s["envelope"] == "cose").unwrap();
    assert_eq!(cose["signer"]["sha256"], jws["signer"]["sha256"]);
}

#[test]
fn catalog_paging_reaches_every_repository_at_the_registry_limit() {
    // maxentries 2: the registry refuses our first page size (400 PAGINATION_NUMBER_INVALID).
    let reg = Registry::distribution(2);
    let seeded = reg.seed(false);
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "-o", "json", "--stats"]);
    let report = stdout_json(&o);
    let mut repos: Vec<&str> =
        report["images"].as_array().unwrap().iter().map(|i| i["repository"].as_str().unwrap()).collect();
    repos.dedup();
    // Every repository that holds an image (the others hold only signatures, or no tags).
    let mut want: Vec<&str> =
        seeded.expected["images"].as_array().unwrap().iter().map(|i| i["repository"].as_str().unwrap()).collect();
    want.sort();
    want.dedup();
    assert_eq!(repos, want);
    assert_eq!(report["summary"]["repositories"], seeded.expected["repositories"].as_array().unwrap().len());
    let stderr = String::from_utf8_lossy(&o.stderr);
    let pages: usize = stderr.split("catalog ").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
    assert!(pages > want.len() / 2, "catalog requests: {pages} ({stderr})");
}

#[test]
fn keys_verify_key_only_signatures_and_fail_on_sets_the_exit_code() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let key = seeded.dir.join("cosign.pub");
    let (report, o) = scan_json(&reg, &["--include", "apps/web", "--key", key.to_str().unwrap()]);
    assert_eq!(code(&o), 0);
    assert_eq!(report["images"].as_array().unwrap().len(), 1);
    let web = &report["images"][0];
    assert_eq!(web["status"], "verified", "{web:#}");
    assert!(web["signatures"][0]["signer"]["keyId"].as_str().unwrap().len() == 64);
    assert_eq!(common::reason_codes(web), ["verified-key"], "{web:#}");

    let other = seeded.dir.join("other.pub");
    let (report, _) = scan_json(&reg, &["--include", "apps/web", "--key", other.to_str().unwrap()]);
    assert_eq!(report["images"][0]["status"], "invalid");
    assert_eq!(common::reason_codes(&report["images"][0]), ["key-mismatch"], "{:#}", report["images"][0]);

    let (_, o) = scan_json(&reg, &["--fail-on", "invalid"]);
    assert_eq!(code(&o), 1, "an invalid image exists: --fail-on invalid exits 1");
    let (_, o) = scan_json(&reg, &["--include", "apps/api", "--fail-on", "invalid,unsigned"]);
    assert_eq!(code(&o), 0, "apps/api is untrusted only");
    let (_, o) = scan_json(&reg, &["--include", "apps/api", "--fail-on", "untrusted"]);
    assert_eq!(code(&o), 1);
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "--fail-on", "bogus"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown status"));
}

#[test]
fn namespace_include_exclude_and_repos_file_select_repositories() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let repos_of = |r: &Value| -> Vec<String> {
        let mut v: Vec<String> =
            r["images"].as_array().unwrap().iter().map(|i| i["repository"].as_str().unwrap().to_string()).collect();
        v.dedup();
        v
    };
    let o = sigaudit(["registry", &format!("{}/notary", reg.addr), "--plain-http", "-o", "json"]);
    assert!(repos_of(&stdout_json(&o)).iter().all(|r| r.starts_with("notary/")));
    assert_eq!(repos_of(&stdout_json(&o)).len(), 4);

    let (r, _) = scan_json(&reg, &["--include", "apps/*", "--exclude", "apps/w*"]);
    assert_eq!(repos_of(&r), ["apps/api", "apps/batch", "apps/cross", "apps/digest-tags", "apps/unsigned"]);

    let list = seeded.dir.join("repos.txt");
    std::fs::write(&list, "# repositories\ndeep/a/b/c/d\nplatform/multi\n").unwrap();
    let (r, _) = scan_json(&reg, &["--repos-file", list.to_str().unwrap()]);
    assert_eq!(repos_of(&r), ["deep/a/b/c/d", "platform/multi"]);
    assert_eq!(r["summary"]["repositories"], 2);
}

#[test]
fn ndjson_streams_one_image_per_line_then_the_summary() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "-o", "ndjson"]);
    assert_eq!(code(&o), 0);
    let lines: Vec<Value> =
        String::from_utf8(o.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let (last, images) = lines.split_last().unwrap();
    assert_eq!(images.len(), seeded.expected["images"].as_array().unwrap().len());
    for i in images {
        assert_eq!(i["schema"], "sigaudit.report/v1");
        assert!(i["digest"].as_str().unwrap().starts_with("sha256:"));
    }
    assert_eq!(last["summary"]["images"], images.len());
    assert!(last["errors"].as_array().unwrap().is_empty());
    common::assert_orphans_and_notes_match(last, &seeded.expected);
}

#[test]
fn sigscan_json_keeps_the_sigscan_shape() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let o = sigaudit([
        "registry",
        &reg.addr,
        "--plain-http",
        "-o",
        "sigscan-json",
        "--include",
        "apps/web",
        "--include",
        "notary/alpine",
    ]);
    let v = stdout_json(&o);
    assert_eq!(v["name"], reg.addr);
    let entries = v["registry"]["signatures"].as_array().unwrap();
    // apps/web: 2 tags x 1 signature; notary/alpine: 1 tag x 2 signatures.
    assert_eq!(entries.len(), 4, "{v:#}");
    for e in entries {
        for k in ["path", "digest", "thumbprints", "subjectname"] {
            assert!(e[k].is_string(), "{k} in {e}");
        }
    }
    let web = entries.iter().find(|e| e["path"] == "apps/web:latest").unwrap();
    assert_eq!(web["subjectname"], "Unknown KeyPair");
    let alpine = entries.iter().find(|e| e["path"] == "notary/alpine:v2").unwrap();
    assert_eq!(alpine["subjectname"], "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US");
    assert!(alpine["thumbprints"].as_str().unwrap().starts_with("\"9f5f5aec"));
}

#[test]
fn table_is_readable_at_120_columns() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let o = common::sigaudit_cmd(["registry", &reg.addr, "--plain-http"]).env("COLUMNS", "120").output().unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    for line in out.lines() {
        assert!(line.chars().count() <= 120, "line longer than 120 columns: {line:?}");
    }
    for needle in [
        "REPOSITORY",
        "apps/web",
        "latest, v1",
        "unverified",
        "notation jws:",
        "alpine",
        "(their image is not in their repository)",
        "of apps/cross",
        "platforms: 1/2",
        "[empty-repository] apps/untagged-only",
    ] {
        assert!(out.contains(needle), "{needle:?} missing from:\n{out}");
    }
    let lines: Vec<&str> = out.lines().collect();
    let (summary, status) = (lines[lines.len() - 2], lines[lines.len() - 1]);
    assert!(summary.starts_with("24 repositories, 27 tags, 25 images, 25 signatures; signed 76%"), "{summary}");
    assert_eq!(status, "Status: 0 verified, 12 untrusted, 1 unverified, 6 invalid, 6 unsigned. 2 orphaned.");
    assert!(!out.contains('\u{1b}'), "NO_COLOR: no escape sequences");
}

#[test]
fn image_command_checks_named_references_and_merges_tags() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let web = seeded.expected["images"].as_array().unwrap().iter().find(|i| i["repository"] == "apps/web").unwrap();
    let alpine = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";
    let o = sigaudit([
        "image",
        &format!("{}/apps/web:v1", reg.addr),
        &format!("{}/apps/web:latest", reg.addr),
        &format!("{}/notary/alpine@{alpine}", reg.addr),
        &format!("{}/apps/unsigned:v1", reg.addr),
        "--plain-http",
        "-o",
        "json",
    ]);
    let r = stdout_json(&o);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let imgs = r["images"].as_array().unwrap();
    assert_eq!(imgs.len(), 3, "{r:#}");
    let w = imgs.iter().find(|i| i["repository"] == "apps/web").unwrap();
    assert_eq!(w["digest"], web["digest"]);
    assert_eq!(w["tags"], serde_json::json!(["latest", "v1"]));
    assert_eq!(w["status"], "unverified");
    let a = imgs.iter().find(|i| i["repository"] == "notary/alpine").unwrap();
    assert_eq!(a["status"], "untrusted");
    assert_eq!(a["signatures"].as_array().unwrap().len(), 2);
    assert_eq!(imgs.iter().find(|i| i["repository"] == "apps/unsigned").unwrap()["status"], "unsigned");

    let o = sigaudit(["image", &format!("{}/apps/nothere:v1", reg.addr), "--plain-http", "-o", "json"]);
    assert_eq!(code(&o), 3, "a missing image makes the scan incomplete");
    assert_eq!(stdout_json(&o)["errors"][0]["code"], "manifest-not-found");
}

#[test]
fn unreachable_registry_is_a_clear_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let o = sigaudit(["registry", &format!("127.0.0.1:{port}"), "--plain-http", "--retries", "0"]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("does not answer"), "{err}");
}

#[test]
fn keys_and_ca_roots_turn_good_signatures_verified_and_leave_bad_ones_invalid() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let arg = |f: &str| seeded.dir.join(f).display().to_string();
    let (key, signer, alpine, root) =
        (arg("cosign.pub"), arg("signer.crt"), arg("alpine.crt"), arg("trusted_root.json"));
    let (short, e2e) = (
        arg("short-lived.crt"),
        common::corpus().join("notation/suite/notation-cli/config/localkeys/e2e.crt").display().to_string(),
    );
    // Every signer's anchor; the seeder's own transparency log and TSA are in its trusted_root.json.
    let (report, o) = scan_json(
        &reg,
        &[
            "--key",
            &key,
            "--ca-roots",
            &signer,
            "--ca-roots",
            &alpine,
            "--ca-roots",
            &short,
            "--ca-roots",
            &e2e,
            "--trusted-root",
            &root,
            "--fail-on",
            "invalid",
        ],
    );
    assert_eq!(code(&o), 1, "replayed and tampered signatures remain: --fail-on invalid exits 1");
    assert!(common::assert_reason_codes(&report) > 20);
    for image in report["images"].as_array().unwrap() {
        let want = seeded.expected["images"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["repository"] == image["repository"] && e["digest"] == image["digest"])
            .unwrap();
        // With every anchor given, every good signature is verified; the rest stay invalid.
        let expected = match (want["withTrust"].as_str(), want["status"].as_str().unwrap()) {
            (Some(with_trust), _) => with_trust,
            (None, "untrusted" | "unverified") => "verified",
            (None, other) => other,
        };
        assert_eq!(image["status"], expected, "{}: {:#}", image["repository"], image["signatures"]);
        for s in image["signatures"].as_array().unwrap() {
            let v = &s["verification"];
            let codes = v["reasonCodes"].to_string();
            if v["status"] == "verified" {
                let r = v["reasons"].to_string();
                assert!(r.contains("trust anchor") || r.contains("verified with key"), "{r}");
                // What verified it has a code too: the anchor, the key, the bundle, the log.
                assert!(
                    ["chain-anchored", "identity-matched", "verified-key", "bundle-verified"]
                        .iter()
                        .any(|c| codes.contains(&format!("\"{c}\""))),
                    "{codes}: {r}"
                );
                if image["repository"].as_str().unwrap().starts_with("logged/") {
                    assert!(r.contains("Rekor SET verified"), "{r}");
                    assert!(codes.contains("\"rekor-set-verified\""), "{codes}");
                }
            }
            if image["repository"] == "logged/wrong-entry" {
                assert!(v["reasons"].to_string().contains("records another envelope"), "{}", v["reasons"]);
                assert_eq!(v["reasonCodes"], serde_json::json!(["rekor-invalid"]), "{v:#}");
            }
            if image["repository"] == "apps/worker" {
                assert_eq!(v["reasonCodes"], serde_json::json!(["payload-digest-mismatch"]), "replayed: {v:#}");
            }
        }
    }
    let statuses: Vec<&str> =
        report["images"].as_array().unwrap().iter().map(|i| i["status"].as_str().unwrap()).collect();
    assert!(!statuses.contains(&"untrusted") && !statuses.contains(&"unverified"), "{statuses:?}");
}

#[test]
fn notation_trust_policy_and_store_decide_notary_signatures_by_repository() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    // A notation trust store as notation lays it out: e2e's signer (notation's e2e tests) and the
    // alpine signer (notation-go's), each a ca: store.
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("truststore");
    for (name, cert) in [
        ("e2e", common::corpus().join("notation/suite/notation-cli/config/localkeys/e2e.crt")),
        ("alpine", seeded.dir.join("alpine.crt")),
    ] {
        let d = store.join("x509/ca").join(name);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::copy(&cert, d.join(format!("{name}.crt"))).unwrap();
    }
    // Everything under `*` trusts both; notary/alpine has its own statement trusting e2e only.
    let policy = dir.path().join("trustpolicy.json");
    let alpine_scope = format!("{}/notary/alpine", reg.addr);
    std::fs::write(
        &policy,
        serde_json::json!({"version": "1.0", "trustPolicies": [
            {"name": "all", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
             "trustStores": ["ca:e2e", "ca:alpine"], "trustedIdentities": ["*"]},
            {"name": "alpine", "registryScopes": [alpine_scope], "signatureVerification": {"level": "strict"},
             "trustStores": ["ca:e2e"], "trustedIdentities": ["x509.subject:C=US,ST=WA,O=Notary"]}]})
        .to_string(),
    )
    .unwrap();
    let (p, s) = (policy.display().to_string(), store.display().to_string());
    let (report, o) = scan_json(&reg, &["--notation-trust-policy", &p, "--notation-trust-store", &s]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    common::assert_reason_codes(&report);
    let image = |repo: &str| report["images"].as_array().unwrap().iter().find(|i| i["repository"] == repo).unwrap();
    let status = |repo: &str| {
        let i = image(repo);
        (i["status"].as_str().unwrap().to_string(), i["signatures"][0]["verification"]["reasons"].to_string())
    };
    let (st, why) = status("notary/e2e-valid-signature");
    assert_eq!(st, "verified", "{why}");
    assert!(why.contains("statement \\\"all\\\"") && why.contains("CN=e2e"), "{why}");
    assert!(common::reason_codes(image("notary/e2e-valid-signature")).contains(&"chain-anchored".into()), "{why}");
    let (st, why) = status("notary/alpine");
    assert_eq!(st, "untrusted", "{why}");
    assert!(why.contains("statement \\\"alpine\\\""), "{why}");
    assert!(common::reason_codes(image("notary/alpine")).contains(&"notation-not-in-trust-store".into()), "{why}");
    assert_eq!(status("notary/replayed").0, "invalid");
    assert_eq!(common::reason_codes(image("notary/replayed")), ["payload-digest-mismatch"]);
    assert_eq!(status("notary/e2e-invalid-signature").0, "invalid");

    // Without the narrower statement the alpine envelopes verify; a policy naming a store that
    // does not exist is a configuration error (exit 2).
    std::fs::write(
        &policy,
        serde_json::json!({"version": "1.0", "trustPolicies": [
            {"name": "all", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
             "trustStores": ["ca:e2e", "ca:alpine"], "trustedIdentities": ["*"]}]})
        .to_string(),
    )
    .unwrap();
    let (report, _) = scan_json(&reg, &["--notation-trust-policy", &p, "--notation-trust-store", &s]);
    let alpine = report["images"].as_array().unwrap().iter().find(|i| i["repository"] == "notary/alpine").unwrap();
    assert_eq!(alpine["status"], "verified", "{:#}", alpine["signatures"]);
    assert_eq!(alpine["signatures"].as_array().unwrap().len(), 2, "JWS and COSE");
    std::fs::remove_dir_all(store.join("x509/ca/alpine")).unwrap();
    let o =
        sigaudit(["registry", &reg.addr, "--plain-http", "--notation-trust-policy", &p, "--notation-trust-store", &s]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("does not exist"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn a_config_file_gives_the_same_scan_as_the_flags() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let arg = |f: &str| seeded.dir.join(f).display().to_string();
    let (by_flags, o1) = scan_json(
        &reg,
        &[
            "--key",
            &arg("cosign.pub"),
            "--ca-roots",
            &arg("signer.crt"),
            "--ca-roots",
            &arg("alpine.crt"),
            "--fail-on",
            "invalid",
        ],
    );
    assert_eq!(code(&o1), 1);
    // Paths relative to the file; output and fail-on from the file too.
    let config = seeded.dir.join("sigaudit.toml");
    std::fs::write(
        &config,
        format!(
            "key = [\"cosign.pub\"]\nca-roots = [{:?}]\nfail-on = [\"invalid\"]\noutput = \"json\"\nconcurrency = 4\n",
            arg("signer.crt")
        ),
    )
    .unwrap();
    let c = config.display().to_string();
    let o2 = sigaudit(["registry", &reg.addr, "--plain-http", "--config", &c, "--ca-roots", &arg("alpine.crt")]);
    assert_eq!(code(&o2), 1, "{}", String::from_utf8_lossy(&o2.stderr));
    assert_eq!(comparable(&stdout_json(&o2)), comparable(&by_flags));
    // The command line wins over the file: a table instead of JSON.
    let o3 = sigaudit(["registry", &reg.addr, "--plain-http", "--config", &c, "-o", "table"]);
    assert!(serde_json::from_slice::<Value>(&o3.stdout).is_err());
    assert!(String::from_utf8_lossy(&o3.stdout).contains("apps/web"));
    // An unknown key is a configuration error.
    std::fs::write(&config, "kee = [\"cosign.pub\"]\n").unwrap();
    let o4 = sigaudit(["registry", &reg.addr, "--plain-http", "--config", &c]);
    assert_eq!(code(&o4), 2);
    assert!(String::from_utf8_lossy(&o4.stderr).contains("unknown field"), "{}", String::from_utf8_lossy(&o4.stderr));
    // `keys` is the [[keys]] table (keys with lives): a list of files there is an error that says so.
    std::fs::write(&config, "keys = [\"cosign.pub\"]\n").unwrap();
    let o5 = sigaudit(["registry", &reg.addr, "--plain-http", "--config", &c]);
    assert_eq!(code(&o5), 2);
    assert!(String::from_utf8_lossy(&o5.stderr).contains("key = ["), "{}", String::from_utf8_lossy(&o5.stderr));
}

#[test]
fn an_rfc3161_timestamp_dates_a_cosign_signature_whose_certificate_has_expired() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let arg = |f: &str| seeded.dir.join(f).display().to_string();
    let (root, short) = (arg("trusted_root.json"), arg("short-lived.crt"));
    let scan = |image: &str, extra: &[&str]| {
        let mut a = vec![
            "image".to_string(),
            format!("{}/{image}:v1", reg.addr),
            "--plain-http".into(),
            "-o".into(),
            "json".into(),
        ];
        a.extend(extra.iter().map(|s| s.to_string()));
        let o = sigaudit(&a);
        let sig = stdout_json(&o)["images"][0]["signatures"][0].clone();
        (sig["verification"]["status"].as_str().unwrap().to_string(), sig)
    };
    // The seeder's TSA in its trusted root, the short-lived signer as anchor: verified now...
    let (status, sig) = scan("stamped/app", &["--trusted-root", &root, "--ca-roots", &short]);
    assert_eq!(status, "verified", "{sig:#}");
    assert_eq!(sig["timestamp"]["verified"], true);
    assert_eq!(sig["verification"]["reasonCodes"], serde_json::json!(["timestamp-verified", "chain-anchored"]));
    assert_eq!(sig["timestamp"]["authority"], "CN=sigaudit test TSA, O=sigaudit tests, C=US");
    // ...and in 2030, when the certificate has long expired: the timestamp proves it signed in time.
    let (status, sig) =
        scan("stamped/app", &["--trusted-root", &root, "--ca-roots", &short, "--at", "2030-01-01T00:00:00Z"]);
    assert_eq!(status, "verified", "{sig:#}");
    // Without the timestamp authority (public-good root), the token proves nothing.
    let (status, sig) = scan("stamped/app", &["--ca-roots", &short, "--at", "2030-01-01T00:00:00Z"]);
    assert_eq!(status, "untrusted", "{sig:#}");
    assert!(sig["verification"]["reasons"].to_string().contains("timestamp authority not trusted"), "{sig:#}");
    assert_eq!(sig["verification"]["reasonCodes"], serde_json::json!(["timestamp-untrusted"]), "{sig:#}");
    // A token over another signature is invalid.
    let (status, sig) = scan("stamped/wrong", &["--trusted-root", &root, "--ca-roots", &short]);
    assert_eq!(status, "invalid", "{sig:#}");
    assert!(sig["verification"]["reasons"].to_string().contains("imprint does not match"), "{sig:#}");
    assert_eq!(sig["verification"]["reasonCodes"], serde_json::json!(["timestamp-invalid"]), "{sig:#}");
}

fn image_of<'a>(report: &'a Value, repo: &str) -> &'a Value {
    let images = report["images"].as_array().unwrap();
    let found: Vec<&Value> = images.iter().filter(|i| i["repository"] == repo).collect();
    assert_eq!(found.len(), 1, "{repo}: {:#}", report["images"]);
    found[0]
}

#[test]
fn an_index_is_judged_by_its_own_signatures_and_lists_its_platforms_under_it() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let anchor = seeded.dir.join("signer.crt").display().to_string();
    let (report, o) = scan_json(&reg, &["--include", "platform/*", "--ca-roots", &anchor]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    // Platform images signed one by one, an index pushed over them and not signed: the tag
    // resolves to the index, which nothing signs. Its verified amd64 image does not lend it a verdict.
    let partial = image_of(&report, "platform/partial");
    assert_eq!(partial["status"], "unsigned", "{partial:#}");
    assert_eq!(partial["signatures"], serde_json::json!([]));
    assert_eq!(partial["platformSummary"], serde_json::json!({"platforms": 2, "signed": 1, "verified": 1}));
    let p = partial["platforms"].as_array().unwrap();
    assert_eq!((&p[0]["platform"], &p[0]["status"]), (&"linux/amd64".into(), &"verified".into()), "{p:#?}");
    assert_eq!((&p[1]["platform"], &p[1]["status"]), (&"linux/arm64".into(), &"unsigned".into()), "{p:#?}");
    assert_eq!(p[0]["signatures"][0]["subjectDigest"], p[0]["digest"]);

    // Signed at the top (as cosign --recursive does): verified, whatever its arm64 image is.
    let multi = image_of(&report, "platform/multi");
    assert_eq!(multi["status"], "verified", "{multi:#}");
    assert_eq!(multi["signatures"].as_array().unwrap().len(), 1);
    assert_eq!(multi["platformSummary"], serde_json::json!({"platforms": 2, "signed": 1, "verified": 1}));

    // A nested index folds into the top one; its signed grandchild is no untagged image of its own.
    let nested = image_of(&report, "platform/nested");
    assert_eq!(nested["status"], "unsigned");
    let p = nested["platforms"].as_array().unwrap();
    assert_eq!(p.len(), 4, "{p:#?}");
    assert_eq!(p[0]["mediaType"], "application/vnd.oci.image.index.v1+json");
    let amd64 = p.iter().find(|m| m["platform"] == "linux/amd64").unwrap();
    assert_eq!(amd64["index"], p[0]["digest"], "{amd64:#}");
    assert_eq!(amd64["status"], "verified");
    assert_eq!(nested["platformSummary"], serde_json::json!({"platforms": 3, "signed": 1, "verified": 1}));
    assert_eq!(report["images"].as_array().unwrap().len(), 3, "no platform image is an image of its own");

    let s = &report["summary"];
    assert_eq!((&s["verified"], &s["unsigned"]), (&1.into(), &2.into()), "{s:#}");
    assert_eq!(s["coverage"], serde_json::json!({"signed": 0.333, "verified": 0.333}));
    assert_eq!(s["platforms"], serde_json::json!({"platforms": 7, "signed": 3, "verified": 3}));
    assert_eq!(s["signatures"], 4, "one of the index, three of platform images");

    // `image` applies the same rule through the same code.
    let refs: Vec<String> =
        ["partial", "multi", "nested"].iter().map(|r| format!("{}/platform/{r}:v1", reg.addr)).collect();
    let mut args: Vec<&str> = vec!["image", "--plain-http", "-o", "json", "--ca-roots", &anchor];
    args.extend(refs.iter().map(String::as_str));
    let named = stdout_json(&sigaudit(&args));
    for repo in ["platform/partial", "platform/multi", "platform/nested"] {
        assert_eq!(image_of(&named, repo), image_of(&report, repo), "{repo}");
    }
}

#[test]
fn registry_and_image_commands_agree_on_every_image() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let (report, o) = scan_json(&reg, &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let images = report["images"].as_array().unwrap();
    let mut refs = Vec::new();
    for i in images {
        let repo = i["repository"].as_str().unwrap();
        refs.push(format!("{}/{repo}@{}", reg.addr, i["digest"].as_str().unwrap()));
        for t in i["tags"].as_array().unwrap() {
            refs.push(format!("{}/{repo}:{}", reg.addr, t.as_str().unwrap()));
        }
    }
    let mut args = vec!["image".to_string(), "--plain-http".into(), "-o".into(), "json".into()];
    args.extend(refs);
    let o = sigaudit(&args);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let named = stdout_json(&o);
    assert_eq!(named["images"].as_array().unwrap().len(), images.len());
    for (a, b) in images.iter().zip(named["images"].as_array().unwrap()) {
        assert_eq!(a, b, "registry and image disagree on {} {}", a["repository"], a["digest"]);
    }
}

#[test]
fn a_listed_signature_whose_manifest_is_gone_is_an_error_never_unsigned() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let web = seeded.digest("apps/web", "v1");
    let tag = format!("{}.sig", web.replace(':', "-"));
    // The .sig tag stays listed; its manifest revision is gone (garbage collection, partial replication).
    reg.remove_manifest_revision("apps/web", &reg.tag_digest("apps/web", &tag));
    let (report, o) = scan_json(&reg, &["--include", "apps/web"]);
    assert_eq!(code(&o), 3, "the scan is incomplete");
    assert_eq!(report["scan"]["complete"], false);
    let image = image_of(&report, "apps/web");
    assert_eq!(image["status"], "error", "{image:#}");
    assert!(image["discoveryErrors"][0].as_str().unwrap().contains(&tag), "{image:#}");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = &errors[0];
    assert_eq!((&e["repository"], &e["reference"]), (&"apps/web".into(), &web.clone().into()));
    let message = e["message"].as_str().unwrap();
    assert!(message.contains(&tag) && message.contains("HTTP 404 (MANIFEST_UNKNOWN"), "{message}");
    let (_, o) = scan_json(&reg, &["--include", "apps/web", "--fail-on", "error"]);
    assert_eq!(code(&o), 1, "--fail-on error");

    // `image` guesses the .sig tag, and its 404 alone would read as "none": the tag list, asked
    // from just before the tag (`?last=`), says it is listed, so `image` agrees with `registry`.
    let (v1, latest) = (format!("{}/apps/web:v1", reg.addr), format!("{}/apps/web:latest", reg.addr));
    let o = sigaudit(["image", "--plain-http", "-o", "json", &v1, &latest]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let by_name = stdout_json(&o);
    assert_eq!(image_of(&by_name, "apps/web"), image, "registry and image disagree");
    assert_eq!(by_name["errors"], report["errors"]);
    assert_eq!(by_name["scan"]["complete"], false);
}

#[test]
fn a_signature_layer_the_registry_cannot_serve_makes_the_scan_incomplete() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let deep = seeded.digest("deep/a/b/c/d", "v1");
    let tag = format!("{}.sig", deep.replace(':', "-"));
    let accept = [("Accept", "application/vnd.oci.image.manifest.v1+json")];
    let (st, manifest) = common::http(&reg.addr, "GET", &format!("/v2/deep/a/b/c/d/manifests/{tag}"), &accept, b"");
    assert_eq!(st, 200);
    let layer =
        serde_json::from_slice::<Value>(&manifest).unwrap()["layers"][0]["digest"].as_str().unwrap().to_string();
    reg.remove_blob(&layer);
    let (report, o) = scan_json(&reg, &["--include", "deep/**"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["scan"]["complete"], false);
    let image = image_of(&report, "deep/a/b/c/d");
    assert_eq!(image["status"], "error");
    assert_eq!(image["signatures"][0]["verification"]["status"], "error");
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((&errors[0]["repository"], &errors[0]["reference"]), (&"deep/a/b/c/d".into(), &deep.into()));
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains(&layer) && message.contains("HTTP 404 (BLOB_UNKNOWN"), "{message}");
}

#[test]
fn tags_whose_manifest_is_gone_are_counted_and_reported() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    reg.remove_manifest_revision("apps/unsigned", &seeded.digest("apps/unsigned", "v1"));
    let (report, o) = scan_json(&reg, &["--include", "apps/unsigned"]);
    assert_eq!(code(&o), 3);
    assert_eq!(report["images"], serde_json::json!([]));
    assert_eq!(report["summary"]["tags"], 1, "the listed tag counts, though its manifest is gone");
    let e = &report["errors"][0];
    assert_eq!((&e["reference"], &e["code"]), (&"v1".into(), &"manifest-not-found".into()), "{e:#}");
}

#[test]
fn tags_shaped_like_signature_or_referrers_tags_on_images_are_ordinary_tags() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let (report, o) = scan_json(&reg, &["--include", "apps/digest-tags"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["scan"]["complete"], true, "{:#}", report["errors"]);
    assert_eq!(report["orphans"], serde_json::json!([]), "no false orphans");
    let want: Vec<&Value> = seeded.expected["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["repository"] == "apps/digest-tags")
        .collect();
    assert_eq!(want.len(), 3);
    common::assert_images_match(&report, &serde_json::json!({ "images": want }));
    assert_eq!(report["summary"]["tags"], 4);
}

#[test]
fn a_repository_without_tags_is_a_note_and_a_named_one_that_does_not_exist_an_error() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    // Pushed by digest only into a new repository: distribution lists it in the catalog and
    // answers its tag list with 404 NAME_UNKNOWN.
    let (report, o) = scan_json(&reg, &["--include", "apps/untagged-only"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["scan"]["complete"], true, "{:#}", report["errors"]);
    assert_eq!(report["notes"][0]["path"], "apps/untagged-only");
    assert_eq!(report["notes"][0]["code"], "empty-repository");
    assert_eq!((&report["summary"]["repositories"], &report["summary"]["notes"]), (&1.into(), &1.into()));

    let list = seeded.dir.join("missing.txt");
    std::fs::write(&list, "apps/no-such-repository\n").unwrap();
    let (report, o) = scan_json(&reg, &["--repos-file", list.to_str().unwrap()]);
    assert_eq!(code(&o), 3);
    assert_eq!(report["errors"][0]["code"], "repository-not-found");
}

#[test]
fn a_signature_kept_in_another_repository_is_no_orphan_of_a_deleted_image() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let cross = seeded.digest("apps/cross", "v1");
    // Only the signature's repository is scanned: the subject is still looked up where it lives.
    let (report, o) = scan_json(&reg, &["--include", "sigs/*", "--include", "apps/web"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let orphans = report["orphans"].as_array().unwrap();
    let kept = orphans.iter().find(|o| o["repository"] == "sigs/store").unwrap();
    assert_eq!((&kept["subject"], &kept["subjectRepository"]), (&cross.into(), &"apps/cross".into()));
    let gone = orphans.iter().find(|o| o["repository"] == "apps/web").unwrap();
    assert!(gone.get("subjectRepository").is_none(), "{gone:#}");
}

#[test]
fn log_lines_are_coloured_only_on_a_terminal_and_never_with_no_color() {
    let reg = Registry::distribution(100);
    let missing = format!("{}/apps/nothere:v1", reg.addr);
    // stderr to a pipe, no NO_COLOR: plain text.
    let o = common::sigaudit_cmd(["image", &missing, "--plain-http", "-o", "json"])
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("WARN") && !stderr.contains('\u{1b}'), "{stderr:?}");
    // On a terminal (util-linux `script` gives it one): coloured, unless NO_COLOR is set.
    let on_terminal = |no_color: Option<&str>| {
        let bin = std::env::var("SIGAUDIT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sigaudit").to_string());
        let mut c = std::process::Command::new("script");
        // The progress line (on by default on a terminal) moves the cursor; colour is the point here.
        c.args(["-qefc", &format!("{bin} image {missing} --plain-http -o json --progress never"), "/dev/null"]);
        common::isolate(&mut c);
        c.env_remove("NO_COLOR");
        if let Some(v) = no_color {
            c.env("NO_COLOR", v);
        }
        let o = c.output().expect("util-linux script (apt-get install bsdutils)");
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    let out = on_terminal(None);
    assert!(out.contains("WARN") && out.contains("\u{1b}["), "{out:?}");
    let out = on_terminal(Some("1"));
    assert!(out.contains("WARN") && !out.contains('\u{1b}'), "{out:?}");
    // no-color.org: NO_COLOR counts only when it is not empty, for log lines and tables alike.
    let out = on_terminal(Some(""));
    assert!(out.contains("WARN") && out.contains("\u{1b}["), "{out:?}");
    let table = |no_color: &str, progress: &str| {
        let bin = std::env::var("SIGAUDIT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sigaudit").to_string());
        let files = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fs");
        let mut c = std::process::Command::new("script");
        c.args(["-qefc", &format!("{bin} fs {} --progress {progress}", files.display()), "/dev/null"]);
        common::isolate(&mut c);
        c.env("NO_COLOR", no_color);
        String::from_utf8_lossy(&c.output().unwrap().stdout).to_string()
    };
    let (coloured, plain) = (table("", "never"), table("1", "never"));
    assert!(coloured.contains("putty.exe") && coloured.contains("\u{1b}["), "{coloured:?}");
    assert!(plain.contains("putty.exe") && !plain.contains('\u{1b}'), "{plain:?}");
    // With the progress line: it clears and redraws its line, but sets no colour (SGR `…m`).
    let with_progress = table("1", "auto");
    let sgr = regex::Regex::new("\u{1b}\\[[0-9;]*m").unwrap();
    assert!(with_progress.contains("putty.exe") && !sgr.is_match(&with_progress), "{with_progress:?}");
}
