//! Key lifecycle on a docker-registry on 127.0.0.1: images signed with an old and a new cosign
//! key (scripts/seed_rotation.py, on scripts/seed_registry.py's Seeder), some logged in the
//! seeder's transparency log in June 2025 or January 2026; the config file's `[[keys]]` gives the
//! keys names, rotation windows and revocations, `--revoked-key` revokes from the command line,
//! and `--at` pins the evaluation time. `openssl dgst -verify` confirms, beside each verdict, that
//! the signature itself verifies with the key: what changes the verdict is the key's life. The
//! verified signing time may also be an RFC 3161 timestamp (`openssl ts -verify` checks it) or the
//! log entry of a key-based Sigstore bundle.

mod common;

use common::{sigaudit, stdout_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

struct Seeded {
    reg: common::Registry,
    out: PathBuf,
    images: Value,
}

fn seed() -> Seeded {
    let reg = common::Registry::distribution(100);
    let out = reg.dir.path().join("rotation");
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(&python)
        .arg(common::repo_root().join("scripts/seed_rotation.py"))
        .args(["--registry", &reg.addr, "--out"])
        .arg(&out)
        .output()
        .expect("python3 (apt-get install python3-cryptography)");
    assert!(o.status.success(), "seed_rotation.py: {}", String::from_utf8_lossy(&o.stderr));
    let images = serde_json::from_slice(&o.stdout).unwrap();
    Seeded { reg, out, images }
}

/// `openssl dgst -sha256 -verify KEY -signature SIG PAYLOAD` on the image's signature.
fn openssl_verifies(s: &Seeded, repo: &str, key: &str) -> bool {
    let stem = s.out.join(repo.replace('/', "_"));
    let o = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(s.out.join(format!("{key}.pub")))
        .arg("-signature")
        .arg(stem.with_extension("sig"))
        .arg(stem.with_extension("payload"))
        .output()
        .expect("openssl (./scripts/setup.sh installs it)");
    o.status.success()
}

fn config(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, format!("trusted-root = [\"trusted_root.json\"]\n{text}")).unwrap();
    p
}

/// Each image: (status, reason codes, signer.keyName, reasons' text).
fn scan(s: &Seeded, args: &[&str]) -> std::collections::BTreeMap<String, (String, Vec<String>, Value, String)> {
    let mut all = vec!["registry", &s.reg.addr, "--plain-http", "-o", "json"];
    let target = format!("{}/rotation", s.reg.addr);
    all[1] = &target;
    all.extend(args);
    let o = sigaudit(&all);
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let sig = &i["signatures"][0];
            (
                i["repository"].as_str().unwrap().to_string(),
                (
                    i["status"].as_str().unwrap().to_string(),
                    common::reason_codes(i),
                    sig["signer"]["keyName"].clone(),
                    sig["verification"]["reasons"].to_string(),
                ),
            )
        })
        .collect()
}

const WINDOWS: &str = r#"
[[keys]]
path = "old.pub"
name = "release-2025"
not-after = 2025-12-31T23:59:59Z

[[keys]]
path = "new.pub"
name = "release-2026"
not-before = 2025-12-01
"#;

#[test]
fn rotation_windows_are_judged_at_the_rekor_time_else_the_evaluation_time() {
    let s = seed();
    for (repo, key) in [
        ("rotation/old-logged", "old"),
        ("rotation/old-late", "old"),
        ("rotation/old-bare", "old"),
        ("rotation/new-logged", "new"),
        ("rotation/new-bare", "new"),
    ] {
        assert!(openssl_verifies(&s, repo, key), "{repo}: openssl dgst -verify with {key}.pub");
        assert!(!openssl_verifies(&s, repo, if key == "old" { "new" } else { "old" }), "{repo}");
    }
    assert_eq!(s.images["rotation/old-logged"]["integratedTime"], 1_748_736_000, "logged 2025-06-01");
    assert_eq!(s.images.as_object().unwrap().len(), 8);
    let cfg = config(&s.out, "windows.toml", WINDOWS);
    let cfg = cfg.to_str().unwrap();

    let got = scan(&s, &["--config", cfg, "--at", "2026-03-01T00:00:00Z"]);
    let (status, codes, name, text) = &got["rotation/old-logged"];
    assert_eq!(status, "verified", "logged in June 2025, inside the old key's window: {text}");
    assert_eq!(name, "release-2025");
    assert!(codes.contains(&"rekor-set-verified".to_string()) && text.contains("release-2025"), "{codes:?} {text}");
    let (status, codes, name, text) = &got["rotation/old-late"];
    assert_eq!((status.as_str(), name.as_str()), ("untrusted", Some("release-2025")), "{text}");
    assert_eq!(codes.last().unwrap(), "key-outside-window");
    assert!(text.contains("signed at 2026-01-01T00:00:00Z (verified time)"), "{text}");
    let (status, codes, _, text) = &got["rotation/old-bare"];
    assert_eq!(status, "untrusted", "no verified time: judged at --at, after the window: {text}");
    assert_eq!(codes.last().unwrap(), "key-outside-window");
    assert!(text.contains("judged at 2026-03-01T00:00:00Z"), "{text}");
    for repo in ["rotation/new-logged", "rotation/new-bare"] {
        let (status, _, name, text) = &got[repo];
        assert_eq!((status.as_str(), name.as_str()), ("verified", Some("release-2026")), "{repo}: {text}");
    }

    // --at inside the old key's window and before the new one's.
    let got = scan(&s, &["--config", cfg, "--at", "2025-07-01T00:00:00Z"]);
    assert_eq!(got["rotation/old-bare"].0, "verified");
    assert_eq!(got["rotation/new-bare"].0, "untrusted");
    assert_eq!(got["rotation/new-bare"].1.last().unwrap(), "key-outside-window");
    assert_eq!(got["rotation/old-logged"].0, "verified", "its Rekor time, not --at, dates it");

    // A revocation dated five days after the evaluation time: the unlogged signature (judged at
    // that time) is flagged as expiring, not said to be revoked after signing; six days on it is
    // revoked.
    let scheduled = "[[keys]]\npath = \"old.pub\"\nrevoked = 2025-12-25T00:00:00Z\nreason = \"superseded\"\n";
    let sched = config(&s.out, "scheduled.toml", scheduled);
    let sched = sched.to_str().unwrap();
    let got = scan(&s, &["--config", sched, "--at", "2025-12-20T00:00:00Z", "--warn-expiring", "30d"]);
    let (status, codes, _, text) = &got["rotation/old-bare"];
    assert_eq!((status.as_str(), codes.last().unwrap().as_str()), ("verified", "expiring-soon"), "{text}");
    assert!(text.contains("scheduled revocation"), "{text}");
    let got = scan(&s, &["--config", sched, "--at", "2025-12-26T00:00:00Z"]);
    assert_eq!(got["rotation/old-bare"].0, "untrusted", "{}", got["rotation/old-bare"].3);

    // --warn-expiring eleven days before the old key's window ends: its unlogged signature is
    // flagged (judged at now, it will fall outside); the logged one is dated and stays verified.
    let got = scan(&s, &["--config", cfg, "--at", "2025-12-20T00:00:00Z", "--warn-expiring", "30d"]);
    let (status, codes, _, text) = &got["rotation/old-bare"];
    assert_eq!(status, "verified", "{text}");
    assert_eq!(codes.last().unwrap(), "expiring-soon");
    assert!(text.contains("release-2025") && text.contains("2025-12-31T23:59:59Z"), "{text}");
    for repo in ["rotation/old-logged", "rotation/new-bare", "rotation/new-logged"] {
        assert!(!got[repo].1.contains(&"expiring-soon".to_string()), "{repo}: {:?}", got[repo].1);
    }
    let target = format!("{}/rotation", s.reg.addr);
    let o = sigaudit([
        "registry",
        &target,
        "--plain-http",
        "-o",
        "json",
        "--config",
        cfg,
        "--at",
        "2025-12-20T00:00:00Z",
        "--warn-expiring",
        "30d",
        "--fail-on",
        "expiring",
    ]);
    assert_eq!(stdout_json(&o)["summary"]["expiring"], 1);
    assert_eq!(common::code(&o), 1, "--fail-on expiring");
}

#[test]
fn revoked_keys_are_untrusted_or_for_a_compromise_invalid() {
    let s = seed();
    let superseded = WINDOWS.replace(
        "not-after = 2025-12-31T23:59:59Z",
        "not-after = 2025-12-31T23:59:59Z\nrevoked = 2025-09-01T00:00:00Z\nreason = \"superseded\"",
    );
    let cfg = config(&s.out, "superseded.toml", &superseded);
    let got = scan(&s, &["--config", cfg.to_str().unwrap(), "--at", "2026-03-01T00:00:00Z"]);
    let (status, codes, _, text) = &got["rotation/old-logged"];
    assert_eq!(status, "verified", "logged before the revocation, not a compromise: {text}");
    assert_eq!(codes.last().unwrap(), "revoked-after-signing");
    let (status, codes, _, text) = &got["rotation/old-bare"];
    assert_eq!(status, "untrusted", "{text}");
    assert_eq!(codes.last().unwrap(), "key-revoked");
    assert!(text.contains("revoked on 2025-09-01T00:00:00Z (superseded)"), "{text}");

    let compromised = superseded.replace("\"superseded\"", "\"keyCompromise\"");
    let cfg = config(&s.out, "compromised.toml", &compromised);
    let got = scan(&s, &["--config", cfg.to_str().unwrap(), "--at", "2026-03-01T00:00:00Z"]);
    for repo in ["rotation/old-logged", "rotation/old-late", "rotation/old-bare"] {
        let (status, codes, _, text) = &got[repo];
        assert_eq!(status, "invalid", "{repo}: {text}");
        assert_eq!(codes.last().unwrap(), "key-revoked", "{repo}");
        assert!(openssl_verifies(&s, repo, "old"), "{repo}: the bytes verify; the key is what fails");
    }
    assert_eq!(got["rotation/new-bare"].0, "verified");

    // The command line: --revoked-key, with and without a reason, beside --key for the new key.
    let (old, new) = (s.out.join("old.pub"), s.out.join("new.pub"));
    let kc = format!("keyCompromise:{}", old.display());
    let root = s.out.join("trusted_root.json");
    let base = ["--key", new.to_str().unwrap(), "--trusted-root", root.to_str().unwrap()];
    let got = scan(&s, &[&base[..], &["--revoked-key", &kc]].concat());
    assert_eq!(got["rotation/old-logged"].0, "invalid");
    assert_eq!(got["rotation/new-logged"].0, "verified");
    let got = scan(&s, &[&base[..], &["--revoked-key", old.to_str().unwrap()]].concat());
    assert_eq!(got["rotation/old-logged"].0, "untrusted");
    assert_eq!(got["rotation/old-logged"].1.last().unwrap(), "key-revoked");
    // Without any life, the old key is just not given: its signatures do not verify with --key.
    let got = scan(&s, &base);
    assert_eq!(got["rotation/old-logged"].0, "invalid");
    assert_eq!(got["rotation/old-logged"].1.last().unwrap(), "key-mismatch");
}

/// The review of issue 18: a key is one key however its file spells it. `openssl ec -pubin
/// -conv_form compressed` writes the old key with a compressed point (openssl converts it back to
/// old.pub byte for byte and `openssl dgst -verify` accepts the signature with either); revoked so,
/// or trusted so beside a revocation of the usual form, it is still revoked. A file of two keys
/// revokes both; a reason that is no RFC 5280 name is a usage error, not a routine revocation.
#[test]
fn a_key_is_revoked_whatever_its_encoding_and_every_key_of_a_bundle_counts() {
    let s = seed();
    let (old, new) = (s.out.join("old.pub"), s.out.join("new.pub"));
    let compressed = s.out.join("old-compressed.pub");
    let o = Command::new("openssl")
        .args(["ec", "-pubin", "-conv_form", "compressed", "-in"])
        .arg(&old)
        .arg("-out")
        .arg(&compressed)
        .output()
        .expect("openssl");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_ne!(std::fs::read(&compressed).unwrap(), std::fs::read(&old).unwrap(), "openssl wrote another encoding");
    let back = Command::new("openssl")
        .args(["ec", "-pubin", "-conv_form", "uncompressed", "-in"])
        .arg(&compressed)
        .output()
        .unwrap();
    assert_eq!(back.stdout, std::fs::read(&old).unwrap(), "openssl: the same key");
    let root = s.out.join("trusted_root.json");
    let base = ["--trusted-root", root.to_str().unwrap()];
    let kc = |p: &Path| format!("keyCompromise:{}", p.display());
    for (key, revoked) in [(&new, &compressed), (&compressed, &old)] {
        let got = scan(
            &s,
            &[
                &base[..],
                &["--key", key.to_str().unwrap(), "--key", old.to_str().unwrap(), "--revoked-key", &kc(revoked)],
            ]
            .concat(),
        );
        for repo in ["rotation/old-bare", "rotation/old-logged"] {
            assert_eq!(got[repo].0, "invalid", "{repo} with --key {key:?} --revoked-key {revoked:?}: {}", got[repo].3);
            assert_eq!(got[repo].1.last().unwrap(), "key-revoked", "{repo}");
        }
    }
    // The compressed key alone, the revocation in the usual form: key-based Sigstore bundles,
    // whose keys the Sigstore verifier holds, are judged by the same life.
    let got = scan(&s, &[&base[..], &["--key", compressed.to_str().unwrap(), "--revoked-key", &kc(&old)]].concat());
    for repo in ["rotation/old-bare", "rotation/old-bundle-logged", "rotation/old-bundle-late"] {
        assert_eq!(got[repo].0, "invalid", "{repo}: {}", got[repo].3);
        assert_eq!(got[repo].1.last().unwrap(), "key-revoked", "{repo}");
    }
    // Both keys in one file: both revoked.
    let both = s.out.join("both.pub");
    std::fs::write(&both, [std::fs::read(&new).unwrap(), std::fs::read(&old).unwrap()].concat()).unwrap();
    let got = scan(&s, &[&base[..], &["--key", new.to_str().unwrap(), "--revoked-key", &kc(&both)]].concat());
    assert_eq!(got["rotation/new-bare"].0, "invalid", "{}", got["rotation/new-bare"].3);
    assert_eq!(got["rotation/old-bare"].0, "invalid", "{}", got["rotation/old-bare"].3);
    // A reason that is no RFC 5280 name.
    let cfg = config(
        &s.out,
        "typo.toml",
        "[[keys]]\npath = \"old.pub\"\nrevoked = 2025-11-20\nreason = \"key-compromise\"\n",
    );
    let target = format!("{}/rotation", s.reg.addr);
    let o = sigaudit(["registry", &target, "--plain-http", "--config", cfg.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an RFC 5280 reason name"));
    // Usage errors, never a silent partial reading: two PEM blocks run together on one line (the
    // second would be lost: openssl storeutl finds no key in such a file either), one key twice in
    // [[keys]] (in two encodings), a reason with `revoked = false`.
    let mut joined = std::fs::read(&new).unwrap();
    while joined.last() == Some(&b'\n') {
        joined.pop();
    }
    joined.extend(std::fs::read(&old).unwrap());
    let joined_file = s.out.join("joined.pub");
    std::fs::write(&joined_file, joined).unwrap();
    let o = sigaudit(["registry", &target, "--plain-http", "--revoked-key", &kc(&joined_file)]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("BEGIN lines but"), "{}", String::from_utf8_lossy(&o.stderr));
    for (name, text, said) in [
        ("twice.toml", "[[keys]]\npath = \"old.pub\"\n[[keys]]\npath = \"old-compressed.pub\"\n", "are the same key"),
        (
            "false.toml",
            "[[keys]]\npath = \"old.pub\"\nrevoked = false\nreason = \"keyCompromise\"\n",
            "reason without revoked",
        ),
    ] {
        let cfg = config(&s.out, name, text);
        let o = sigaudit(["registry", &target, "--plain-http", "--config", cfg.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(said), "{name}: {stderr}");
    }
}

/// `openssl ts -verify` of the RFC 3161 token the seeder stored for `repo`, over its signature,
/// with the seeder's TSA root.
fn openssl_ts_verifies(s: &Seeded, repo: &str) -> bool {
    let stem = s.out.join(repo.replace('/', "_"));
    let o = Command::new("openssl")
        .args(["ts", "-verify", "-data"])
        .arg(stem.with_extension("sig"))
        .arg("-in")
        .arg(stem.with_extension("tsr"))
        .arg("-CAfile")
        .arg(s.out.join("tsa-root.crt"))
        .output()
        .expect("openssl (./scripts/setup.sh installs it)");
    o.status.success()
}

fn rfc3339(t: i64) -> String {
    sigaudit::x509::rfc3339(t).unwrap()
}

#[test]
fn key_windows_are_judged_at_a_timestamp_or_a_bundles_log_time_not_at_now() {
    let before = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let s = seed();
    let after = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64 + 1;
    for repo in ["rotation/old-stamped", "rotation/old-bundle-logged", "rotation/old-bundle-late"] {
        assert!(openssl_verifies(&s, repo, "old"), "{repo}: openssl dgst -verify with old.pub");
        assert!(!openssl_verifies(&s, repo, "new"), "{repo}: not with new.pub");
    }
    assert!(openssl_ts_verifies(&s, "rotation/old-stamped"), "openssl ts -verify: the token stamps the signature");
    let cfg = config(&s.out, "windows.toml", WINDOWS);
    let cfg = cfg.to_str().unwrap();

    // Bundles: the log's integrated time dates them, not --at.
    let got = scan(&s, &["--config", cfg, "--at", "2026-03-01T00:00:00Z"]);
    let (status, codes, name, text) = &got["rotation/old-bundle-logged"];
    assert_eq!((status.as_str(), name.as_str()), ("verified", Some("release-2025")), "logged June 2025: {text}");
    assert!(codes.contains(&"bundle-verified".to_string()), "{codes:?}");
    let (status, codes, name, text) = &got["rotation/old-bundle-late"];
    assert_eq!((status.as_str(), name.as_str()), ("untrusted", Some("release-2025")), "{text}");
    assert_eq!(codes.last().unwrap(), "key-outside-window");
    assert!(text.contains("signed at 2026-01-01T00:00:00Z (verified time)"), "{text}");
    // --at inside the window: the late bundle is still dated after it.
    let got = scan(&s, &["--config", cfg, "--at", "2025-07-01T00:00:00Z"]);
    assert_eq!(got["rotation/old-bundle-late"].0, "untrusted", "{}", got["rotation/old-bundle-late"].3);
    assert_eq!(got["rotation/old-bundle-logged"].0, "verified");

    // A revocation between the two log times.
    let superseded = WINDOWS.replace(
        "not-after = 2025-12-31T23:59:59Z",
        "not-after = 2025-12-31T23:59:59Z\nrevoked = 2025-09-01T00:00:00Z\nreason = \"superseded\"",
    );
    let cfg2 = config(&s.out, "superseded.toml", &superseded);
    let got = scan(&s, &["--config", cfg2.to_str().unwrap(), "--at", "2026-03-01T00:00:00Z"]);
    let (status, codes, _, text) = &got["rotation/old-bundle-logged"];
    assert_eq!(status, "verified", "logged before the revocation: {text}");
    assert!(codes.contains(&"revoked-after-signing".to_string()), "{codes:?}");
    let (status, codes, _, text) = &got["rotation/old-bundle-late"];
    assert_eq!(status, "untrusted", "{text}");
    assert_eq!(codes.last().unwrap(), "key-revoked");

    // The timestamped layer: a window that ends a day after the seeding, judged two days after.
    // The timestamp (made at seeding) is inside it; the bare layer, judged at --at, is not.
    let window =
        format!("[[keys]]\npath = \"old.pub\"\nname = \"release-2025\"\nnot-after = {}\n", rfc3339(after + 86_400));
    let cfg3 = config(&s.out, "stamped.toml", &window);
    let at = rfc3339(after + 2 * 86_400);
    let o = sigaudit([
        "registry",
        &format!("{}/rotation", s.reg.addr),
        "--plain-http",
        "-o",
        "json",
        "--config",
        cfg3.to_str().unwrap(),
        "--at",
        &at,
    ]);
    let report = stdout_json(&o);
    let image =
        |repo: &str| report["images"].as_array().unwrap().iter().find(|i| i["repository"] == repo).unwrap().clone();
    let stamped = image("rotation/old-stamped");
    let sig = &stamped["signatures"][0];
    assert_eq!(stamped["status"], "verified", "{sig}");
    assert_eq!(sig["signer"]["keyName"], "release-2025");
    assert!(common::reason_codes(&stamped).contains(&"timestamp-verified".to_string()), "{sig}");
    let signed_at = sig["signedAt"].as_str().expect("signedAt: the timestamp's time");
    assert!(
        (rfc3339(before - 2).as_str()..=rfc3339(after + 2).as_str()).contains(&signed_at),
        "the timestamp was made during the seeding ({before}..{after}): {signed_at}"
    );
    let bare = image("rotation/old-bare");
    assert_eq!(bare["status"], "untrusted", "no verified time: judged at --at {at}");
    assert_eq!(common::reason_codes(&bare).last().unwrap(), "key-outside-window");
}
