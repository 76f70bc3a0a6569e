//! `sigaudit fs` on the Windows formats besides PE: MSI (with and without MsiDigitalSignatureEx),
//! CAB, PowerShell and the other script kinds, and catalogs with their members. The fixtures
//! are made by osslsigncode (scripts/make_win_fixtures.sh, with a loopback RFC 3161 TSA) and
//! every verdict is set beside `osslsigncode verify`'s on the same file, run again here.
//! testdata/fs-win holds one generated set, committed (testdata/fs-win/PROVENANCE.md).

mod common;

use common::{code, repo_root, sigaudit, stdout_json};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn files_by_path(report: &Value, root: &Path) -> BTreeMap<String, Value> {
    let root = root.display().to_string();
    report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            (p.strip_prefix(&root).unwrap_or(p).trim_start_matches('/').to_string(), f.clone())
        })
        .collect()
}

/// `osslsigncode verify` on a fixture, with the fixture root trusted: `ok` or `fail`. A catalog
/// member is verified against its catalog (`-catalog`).
fn osslsigncode_verdict(tree: &Path, path: &str) -> &'static str {
    let mut c = Command::new("osslsigncode");
    c.current_dir(tree).args([
        "verify",
        "-CAfile",
        "pki/root.crt",
        "-TSA-CAfile",
        "pki/root.crt",
        "-ignore-crl",
        "-in",
        path,
    ]);
    if path.starts_with("cat/members/") {
        c.args(["-catalog", "cat/signed.cat"]);
    } else if path == "cat-tampered/hello.exe" {
        c.args(["-catalog", "cat-tampered/tampered.cat"]);
    }
    let o = c.output().expect("osslsigncode (./scripts/setup.sh installs it)");
    if o.status.success() {
        "ok"
    } else {
        "fail"
    }
}

/// Scan `tree` (the catalog-tampered part alone, as a catalog vouches for its members wherever
/// they are) and check every fixture against expected.json and osslsigncode. With `--ca-roots`
/// naming the fixture root (`trusted`), what expected.json calls untrusted must be verified.
fn check_tree(tree: &Path, extra: &[&str], trusted: bool) -> BTreeMap<String, Value> {
    let expected: BTreeMap<String, Value> =
        serde_json::from_slice(&std::fs::read(tree.join("expected.json")).unwrap()).unwrap();
    let scan = |args: &[&str]| {
        let mut all = vec!["fs"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        all.extend_from_slice(extra);
        let o = sigaudit(all);
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        let report = stdout_json(&o);
        assert!(common::assert_reason_codes(&report) > 0);
        files_by_path(&report, tree)
    };
    let mut got = scan(&[tree.to_str().unwrap(), "--exclude", "cat-tampered"]);
    let tampered = tree.join("cat-tampered");
    got.extend(scan(&[tampered.to_str().unwrap()]));
    let mut agreed = 0;
    for (path, e) in &expected {
        let status = got.get(path).map(|f| f["status"].as_str().unwrap()).unwrap_or("skipped");
        let want = match e["status"].as_str().unwrap() {
            "untrusted" if trusted => "verified",
            s => s,
        };
        assert_eq!(status, want, "{path}: {:#}", got.get(path).map(|f| f["signatures"].clone()).unwrap_or_default());
        if let Some(f) = got.get(path) {
            let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(tree.join(path)).unwrap()));
            assert_eq!(f["sha256"], sha, "{path}");
        }
        // osslsigncode's verdict, beside ours: it accepts exactly what we find intact.
        if e["osslsigncode"] != "-" {
            assert_eq!(osslsigncode_verdict(tree, path), e["osslsigncode"], "{path}: osslsigncode");
            agreed += 1;
        }
    }
    assert!(agreed >= 20, "{agreed} verdicts compared with osslsigncode");
    got
}

#[test]
fn osslsigncode_fixtures_get_osslsigncodes_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let o = Command::new(repo_root().join("scripts/make_win_fixtures.sh")).arg(&tree).output().unwrap();
    assert!(o.status.success(), "make_win_fixtures.sh: {}", String::from_utf8_lossy(&o.stderr));
    let got = check_tree(&tree, &[], false);

    let publisher = "CN=sigaudit Fixture Publisher, O=sigaudit fixtures, C=GB";
    for path in ["msi/signed-rfc3161.msi", "cab/signed-rfc3161.cab", "scripts/signed-utf16.ps1", "cat/signed.cat"] {
        let s = &got[path]["signatures"][0];
        assert_eq!(s["signer"]["subject"], publisher, "{path}");
        assert_eq!(s["countersigner"]["subject"], "CN=sigaudit Fixture TSA, O=sigaudit fixtures, C=GB", "{path}");
        assert_eq!(s["countersigner"]["kind"], "rfc3161", "{path}");
        assert!(s["timestamp"]["time"].is_string(), "{path}");
        assert_eq!(s["digestAlgorithm"], "sha256", "{path}");
    }
    assert_eq!(got["msi/signed-dse.msi"]["type"], "msi");
    assert_eq!(got["scripts/signed-types.ps1xml"]["type"], "ps1xml");
    assert_eq!(got["scripts/signed-hello.mof"]["type"], "mof");
    for path in
        ["msi/tampered-stream.msi", "cab/tampered-data.cab", "scripts/tampered-line.ps1", "scripts/tampered-utf16.ps1"]
    {
        assert_eq!(common::reason_codes(&got[path])[0], "content-hash-mismatch", "{path}");
    }
    let dse = &got["msi/tampered-dse-metadata.msi"]["signatures"][0]["verification"]["reasons"][0];
    assert!(dse.as_str().unwrap().contains("MsiDigitalSignatureEx"), "{dse}");

    // The rules PE follows: an expired signer without a timestamp, or timestamped after expiry,
    // is invalid; a SHA-1 hash is noted as weak.
    assert_eq!(common::reason_codes(&got["rules/expired-nots.ps1"]), ["cert-expired-no-timestamp"]);
    // (its timestamp is by an authority not trusted without --ca-roots: it does not count)
    assert!(common::reason_codes(&got["rules/expired-ts-after.msi"]).contains(&"cert-expired-no-timestamp".to_string()));
    assert!(common::reason_codes(&got["rules/sha1.ps1"]).contains(&"weak-sha1".to_string()));

    // The catalog: its members listed, each as makecat describes it.
    let cat = &got["cat/signed.cat"];
    assert_eq!(cat["type"], "cat");
    assert_eq!(cat["signatures"][0]["format"], "catalog");
    let kinds: Vec<(&str, &str, &str)> = cat["catalogMembers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["name"].as_str().unwrap(), m["kind"].as_str().unwrap(), m["digestAlgorithm"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [("hello.exe", "pe-image", "sha256"), ("driver.inf", "file", "sha256"), ("legacy.dat", "any", "sha1")]
    );
    // A member: the catalog's signature, naming the catalog, by its Authenticode image hash.
    let member = &got["cat/members/hello.exe"];
    assert_eq!(member["type"], "pe");
    let entry =
        member["signatures"].as_array().unwrap().iter().find(|s| s["verification"]["status"] == "untrusted").unwrap();
    assert_eq!(entry["format"], "catalog");
    assert_eq!(entry["catalog"], tree.join("cat/signed.cat").display().to_string());
    assert_eq!(entry["signer"]["subject"], publisher);
    assert!(entry["verification"]["reasons"][0].as_str().unwrap().contains("Authenticode image hash"));
    assert_eq!(got["cat/members/driver.inf"]["type"], "file");
    // The unsigned catalog vouches for nothing; the tampered one's members are invalid with it.
    assert_eq!(common::reason_codes(&got["cat-tampered/tampered.cat"])[0], "message-digest-mismatch");
    assert_eq!(
        common::reason_codes(&got["cat-tampered/hello.exe"])[..2],
        ["catalog-signed", "message-digest-mismatch"]
    );

    // With the fixture root as anchor, signers and the TSA are verified, as osslsigncode says.
    let root = tree.join("pki/root.crt");
    let trusted = check_tree(&tree, &["--ca-roots", root.to_str().unwrap()], true);
    assert_eq!(trusted["cat/members/hello.exe"]["status"], "verified");
    assert_eq!(trusted["msi/signed-dse.msi"]["status"], "verified");
    // A trusted timestamp after the signer expired dates the signature outside its validity.
    let codes = common::reason_codes(&trusted["rules/expired-ts-after.msi"]);
    assert!(codes.contains(&"timestamp-outside-validity".to_string()), "{codes:?}");

    // --catalog: members scanned apart from their catalog are matched against the one given.
    let members = tree.join("cat/members");
    let o = sigaudit(["fs", members.to_str().unwrap(), "-o", "json"]);
    let alone = files_by_path(&stdout_json(&o), &members);
    assert_eq!(alone["hello.exe"]["status"], "unsigned");
    assert!(!alone.contains_key("driver.inf"));
    let cat = tree.join("cat/signed.cat");
    let o = sigaudit(["fs", members.to_str().unwrap(), "-o", "json", "--catalog", cat.to_str().unwrap()]);
    let given = files_by_path(&stdout_json(&o), &members);
    assert_eq!(given["hello.exe"]["status"], "untrusted");
    assert_eq!(given["driver.inf"]["signatures"][0]["catalog"], cat.display().to_string());
    assert!(!given.contains_key("hello-patched.exe") || given["hello-patched.exe"]["status"] == "unsigned");
    // A --catalog that is no catalog is an error in the report, not a silent nothing.
    let o = sigaudit(["fs", members.to_str().unwrap(), "-o", "json", "--catalog", root.to_str().unwrap()]);
    let errors = stdout_json(&o)["errors"].to_string();
    assert!(errors.contains("not a Windows catalog"), "{errors}");
}

#[test]
fn committed_fixtures_keep_their_verdicts() {
    let tree = repo_root().join("testdata/fs-win");
    let root = tree.join("pki/root.crt");
    let got = check_tree(&tree, &["--at", "2026-12-03T00:00:00Z"], false);
    assert_eq!(got["msi/signed-rfc3161.msi"]["status"], "untrusted");
    let trusted = check_tree(&tree, &["--at", "2026-12-03T00:00:00Z", "--ca-roots", root.to_str().unwrap()], true);
    assert_eq!(trusted["cat/members/hello.exe"]["status"], "verified");
    assert_eq!(trusted["scripts/signed-crlf-bom.ps1"]["status"], "verified");
}

/// Byte edits of signed fixtures that a hostile file could make: each is reported, none hangs.
#[test]
fn hostile_containers_are_reported_invalid_and_the_scan_goes_on() {
    let src = repo_root().join("testdata/fs-win");
    let msi = std::fs::read(src.join("msi/signed-rfc3161.msi")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    // The directory's sector chained to itself in the FAT.
    let mut looped = msi.clone();
    let (fat0, dir0) = (u32_at(&msi, 76), u32_at(&msi, 48));
    let entry = (fat0 + 1) * 512 + 4 * dir0;
    looped[entry..entry + 4].copy_from_slice(&(dir0 as u32).to_le_bytes());
    std::fs::write(d.join("fat-loop.msi"), &looped).unwrap();
    // The root's child is the root: a directory cycle.
    let mut cycle = msi.clone();
    let root = (dir0 + 1) * 512;
    cycle[root + 76..root + 80].copy_from_slice(&0u32.to_le_bytes());
    std::fs::write(d.join("dir-cycle.msi"), &cycle).unwrap();
    // A sector shift no version allows.
    let mut shift = msi.clone();
    shift[30] = 20;
    std::fs::write(d.join("bad-shift.msi"), &shift).unwrap();
    // Truncated in the middle.
    std::fs::write(d.join("truncated.msi"), &msi[..msi.len() / 2]).unwrap();
    // A cabinet whose signature offset points past the end.
    let mut cab = std::fs::read(src.join("cab/signed-rfc3161.cab")).unwrap();
    cab[44..48].copy_from_slice(&u32::MAX.to_le_bytes());
    std::fs::write(d.join("sig-outside.cab"), &cab).unwrap();
    // A script whose block never ends.
    let ps1 = std::fs::read_to_string(src.join("scripts/signed-lf.ps1")).unwrap();
    let cut = ps1.find("# SIG # End signature block").unwrap();
    std::fs::write(d.join("no-end.ps1"), &ps1[..cut]).unwrap();
    // Code appended after a signed script's block: not covered by the signature. osslsigncode
    // 2.9 stops reading at the End line and says Succeeded (asserted below); PowerShell's SIP
    // wants the block last, and a verdict of intact would vouch for the appended code.
    std::fs::write(d.join("appended.ps1"), format!("{ps1}Remove-Item -Recurse C:\\\r\n")).unwrap();
    // A JScript block: recognised, not verified (no independent signer at hand makes one).
    let js: String = ps1.replace("# SIG # Begin", "// SIG // Begin").replace("# SIG # End", "// SIG // End");
    let js = js
        .lines()
        .map(|l| l.strip_prefix("# ").map(|r| format!("// SIG // {r}")).unwrap_or(l.into()))
        .collect::<Vec<_>>();
    std::fs::write(d.join("signed.js"), js.join("\n") + "\n").unwrap();

    let start = std::time::Instant::now();
    let o = sigaudit(["fs", d.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(start.elapsed().as_secs() < 30);
    let got = files_by_path(&stdout_json(&o), d);
    for (path, code) in [
        ("fat-loop.msi", "signed-file-malformed"),
        ("dir-cycle.msi", "signed-file-malformed"),
        ("bad-shift.msi", "signed-file-malformed"),
        ("truncated.msi", "signed-file-malformed"),
        ("sig-outside.cab", "signed-file-malformed"),
        ("no-end.ps1", "malformed-signature"),
        ("appended.ps1", "malformed-signature"),
    ] {
        assert_eq!(got[path]["status"], "invalid", "{path}: {:#}", got[path]);
        assert_eq!(common::reason_codes(&got[path])[0], code, "{path}");
    }
    assert_eq!(got["signed.js"]["status"], "unsupported");
    assert_eq!(common::reason_codes(&got["signed.js"]), ["unsupported-format"]);
    let reason = got["appended.ps1"]["signatures"][0]["verification"]["reasons"][0].as_str().unwrap();
    assert!(reason.contains("after the signature block"), "{reason}");
    let fixture_root = src.join("pki/root.crt");
    let o = Command::new("osslsigncode")
        .args(["verify", "-ignore-crl", "-CAfile"])
        .arg(&fixture_root)
        .arg("-TSA-CAfile")
        .arg(&fixture_root)
        .arg("-in")
        .arg(d.join("appended.ps1"))
        .output()
        .unwrap();
    assert!(o.status.success(), "osslsigncode now refuses code after the block: make this agree");
    // osslsigncode refuses them too.
    for path in ["fat-loop.msi", "dir-cycle.msi", "bad-shift.msi", "sig-outside.cab", "no-end.ps1"] {
        let o = Command::new("osslsigncode").args(["verify", "-in"]).arg(d.join(path)).output().unwrap();
        assert!(!o.status.success(), "osslsigncode accepts {path}");
    }
}
