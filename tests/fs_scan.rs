//! `sigaudit fs`: generated fixtures (scripts/make_fs_fixtures.sh: osslsigncode, jarsigner, an
//! openssl TSA on 127.0.0.1, verdicts cross-checked by osslsigncode verify and jarsigner -verify)
//! in a tree with unrelated files; the real corpus samples with their documented verdicts; and
//! hostile files that must be reported, never crash the scan.

mod common;

use common::{code, corpus, sigaudit, stdout_json};
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

#[test]
fn a_tree_of_generated_fixtures_and_unrelated_files_gets_the_right_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("tree");
    let o = Command::new(common::repo_root().join("scripts/make_fs_fixtures.sh")).arg(&tree).output().unwrap();
    assert!(o.status.success(), "make_fs_fixtures.sh: {}", String::from_utf8_lossy(&o.stderr));
    let expected: BTreeMap<String, Value> =
        serde_json::from_slice(&std::fs::read(tree.join("expected.json")).unwrap()).unwrap();
    // Unrelated files at several depths, and a symlink that must not be followed by default.
    std::fs::create_dir_all(tree.join("misc/a/b")).unwrap();
    std::fs::write(tree.join("misc/notes.txt"), "plain text\n").unwrap();
    std::fs::write(tree.join("misc/a/b/random.bin"), (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect::<Vec<_>>())
        .unwrap();
    std::fs::write(tree.join("misc/a/MZ-but-not-pe.exe"), b"MZ this is not a PE file").unwrap();
    std::os::unix::fs::symlink(tree.join("pe/signed-nots.exe"), tree.join("misc/link.exe")).unwrap();

    let o = sigaudit(["fs", tree.to_str().unwrap(), "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["kind"], "filesystem");
    assert!(common::assert_reason_codes(&report) > 5);
    let got = files_by_path(&report, &tree);
    assert_eq!(got.len(), expected.len(), "{:#?}", got.keys().collect::<Vec<_>>());
    for (path, e) in &expected {
        let f = got.get(path).unwrap_or_else(|| panic!("{path} not reported"));
        assert_eq!(f["status"], e["status"], "{path}: {:#}", f["signatures"]);
        if e["signer"] != "" {
            assert_eq!(f["signatures"][0]["signer"]["subject"], e["signer"], "{path}");
        }
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(tree.join(path)).unwrap()));
        assert_eq!(f["sha256"], sha, "{path}");
    }
    // Countersigner and timestamp from the loopback TSA; the nested signature reported apart.
    let ts = &got["pe/deep/signed-rfc3161.exe"]["signatures"][0];
    assert_eq!(ts["countersigner"]["subject"], "CN=sigaudit Fixture TSA, O=sigaudit fixtures, C=GB");
    assert_eq!(ts["countersigner"]["kind"], "rfc3161");
    // Without trust anchors the timestamp's authority is not trusted: reported, not counted.
    assert_eq!(ts["timestamp"]["verified"], false);
    assert!(ts["verification"]["reasons"].to_string().contains("not trusted: no trust anchor"), "{ts:#}");
    assert_eq!(common::reason_codes(&got["pe/deep/signed-rfc3161.exe"]), ["timestamp-untrusted", "no-trust-anchor"]);
    let dual = got["pe/deep/er/dual-nested.exe"]["signatures"].as_array().unwrap().clone();
    assert_eq!(dual.len(), 2);
    assert_eq!(
        (dual[0]["digestAlgorithm"].as_str(), dual[1]["digestAlgorithm"].as_str()),
        (Some("sha1"), Some("sha256"))
    );
    assert_eq!(dual[1]["index"], "0.1");
    assert!(got["pe/tampered-section.exe"]["signatures"][0]["verification"]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("image hash mismatch"));
    assert_eq!(common::reason_codes(&got["pe/tampered-section.exe"])[0], "image-hash-mismatch");
    assert!(got["jar/tampered-entry.jar"]["signatures"][0]["verification"]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("hello.txt"));
    assert_eq!(common::reason_codes(&got["jar/tampered-entry.jar"])[0], "jar-entry-modified");
    assert!(got["jar/entry-added.jar"]["signatures"][0]["verification"]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("unsigned entry added.txt"));
    assert_eq!(common::reason_codes(&got["jar/entry-added.jar"])[0], "jar-unsigned-entry");
    // Skipped: the PKI files, expected.json and the unrelated files (not the symlink).
    let skipped = report["summary"]["skipped"].as_u64().unwrap();
    assert!(skipped >= 4, "skipped {skipped}");

    // --follow-symlinks takes the link, to a file already reported under its own path: noted, not
    // checked twice; --exclude drops a subtree and file names.
    let o = sigaudit([
        "fs",
        tree.to_str().unwrap(),
        "-o",
        "json",
        "--follow-symlinks",
        "--exclude",
        "jar",
        "--exclude",
        "*.key",
    ]);
    let report = stdout_json(&o);
    let got = files_by_path(&report, &tree);
    assert!(got.contains_key("pe/signed-nots.exe") && !got.contains_key("misc/link.exe"));
    let link = format!("{}/misc/link.exe", tree.display());
    assert!(report["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["path"] == link.as_str() && n["code"] == "already-walked"));
    assert!(got.keys().all(|k| !k.starts_with("jar/")), "{:?}", got.keys());
    // --fail-on invalid: exit 1.
    let o = sigaudit(["fs", tree.to_str().unwrap(), "--fail-on", "invalid"]);
    assert_eq!(code(&o), 1);

    // With the fixture root as anchor, the signer is verified and so is the TSA (it chains to
    // the same root and has the timeStamping EKU), as osslsigncode -CAfile/-TSA-CAfile says.
    let root_pem = tree.join("pki/root.crt");
    let o = sigaudit(["fs", tree.to_str().unwrap(), "-o", "json", "--ca-roots", root_pem.to_str().unwrap()]);
    let got = files_by_path(&stdout_json(&o), &tree);
    let ts = &got["pe/deep/signed-rfc3161.exe"]["signatures"][0];
    assert_eq!(ts["verification"]["status"], "verified", "{ts:#}");
    assert_eq!(common::reason_codes(&got["pe/deep/signed-rfc3161.exe"]), ["timestamp-verified", "chain-anchored"]);
    assert_eq!(ts["timestamp"]["verified"], true, "{ts:#}");
    assert!(ts["verification"]["reasons"].to_string().contains("its authority chains to CN=sigaudit Fixture Root"));
    for path in ["pe/signed-nots.exe", "pe/deep/er/dual-nested.exe", "jar/signed-nots.jar", "jar/lib/signed-tsa.jar"] {
        assert_eq!(got[path]["status"], "verified", "{path}: {:#}", got[path]);
    }
}

/// Expected statuses of the corpus samples, from fs-suite/PROVENANCE.md and corpus PROVENANCE.md.
const CORPUS: &[(&str, &str)] = &[
    ("fs/putty.exe", "untrusted"),
    ("fs/hello-signed.jar", "invalid"), // signer expired 2024-02-03, no timestamp
    ("fs-suite/pe/unsigned-hello.exe", "unsigned"),
    ("fs-suite/pe/pe-rsa-sha256-nots.exe", "untrusted"),
    ("fs-suite/pe/pe-rsa-sha256-rfc3161.exe", "untrusted"),
    ("fs-suite/pe/pe-rsa-sha256-pkcs9ts.exe", "untrusted"),
    ("fs-suite/pe/pe-ecdsa-p256-sha384-rfc3161.exe", "untrusted"),
    ("fs-suite/pe/pe-dual-sha1-rsa+nested-sha256-ecdsa.exe", "untrusted"),
    ("fs-suite/pe/pe-rsa-pagehash.exe", "untrusted"),
    ("fs-suite/pe/pe-expired-nots.exe", "invalid"),
    ("fs-suite/pe/pe-expired-ts-within-validity.exe", "untrusted"),
    ("fs-suite/pe/pe-selfsigned-rfc3161.exe", "untrusted"),
    ("fs-suite/pe/pe-tampered-section-byte.exe", "invalid"),
    ("fs-suite/pe/pe-corrupted-signature-value.exe", "invalid"),
    ("fs-suite/pe/pe-modified-checksum-still-valid.exe", "untrusted"),
    // signify: InvalidDigest, as here (the appended bytes are hashed with the image); osslsigncode
    // ignores a signature not at the end of the file and calls it unsigned.
    ("fs-suite/pe/pe-appended-after-certtable.exe", "invalid"),
    ("fs-suite/pe/pe-certtable-trailing-junk.exe", "untrusted"),
    // Verifiers disagree: signify (and UEFI firmware) verify each WIN_CERTIFICATE entry, as we do;
    // osslsigncode 2.9 accepts only one entry ("Corrupted attribute certificate table").
    ("fs-suite/pe/pe-two-wincert-entries.exe", "untrusted"),
    // Integrity holds; without anchors nothing is trusted. The CurveBall defence itself is
    // tested with the spoofed root as an anchor: curveball_root_with_explicit_parameters_is_refused.
    ("fs-suite/pe/real-7z1900-x64_signed.exe", "untrusted"),
    ("fs-suite/jar/unsigned-base.jar", "unsigned"),
    ("fs-suite/jar/jar-rsa-sha256-tsa.jar", "untrusted"),
    ("fs-suite/jar/jar-ecdsa-p256-nots.jar", "untrusted"),
    ("fs-suite/jar/jar-two-signers.jar", "untrusted"),
    ("fs-suite/jar/jar-dsa-selfsigned.jar", "untrusted"),
    ("fs-suite/jar/jar-rsa-selfsigned-tsa.jar", "untrusted"),
    ("fs-suite/jar/jar-expired-nots.jar", "invalid"),
    // jarsigner -strict rc=16: JDK 17 treats a SHA-1 JAR without a timestamp before 2019 as unsigned.
    ("fs-suite/jar/jar-rsa-sha1-legacy.jar", "invalid"),
    ("fs-suite/jar/jar-tampered-entry.jar", "invalid"),
    ("fs-suite/jar/jar-unsigned-entry-added.jar", "invalid"),
    ("fs-suite/jar/jar-manifest-main-attrs-modified.jar", "invalid"),
    ("fs-suite/jar/jar-sf-file-modified.jar", "invalid"),
    ("fs-suite/apk/unsigned-base.apk", "unsigned"),
    ("fs-suite/apk/apk-v1v2v3-rsa.apk", "untrusted"),
    ("fs-suite/apk/apk-v2v3-block-stripped.apk", "invalid"),
    // osslsigncode and signify: Succeeded/OK (the test root not given: untrusted), MISMATCH for the
    // tampered copies, "No signature found" for the unsigned ones.
    ("fs-suite/msi/unsigned-base.msi", "unsigned"),
    ("fs-suite/msi/msi-rsa-sha256-rfc3161.msi", "untrusted"),
    ("fs-suite/msi/msi-rsa-sha256-msidse.msi", "untrusted"),
    ("fs-suite/msi/msi-tampered-stream.msi", "invalid"),
    ("fs-suite/msi/real-putty.msi", "untrusted"),
    ("fs-suite/cab/unsigned-base.cab", "unsigned"),
    ("fs-suite/cab/cab-rsa-sha256-rfc3161.cab", "untrusted"),
    ("fs-suite/ps1/unsigned-base.ps1", "unsigned"),
    ("fs-suite/ps1/ps1-rsa-sha256-rfc3161.ps1", "untrusted"),
    ("fs-suite/ps1/ps1-tampered.ps1", "invalid"),
    // Kernel modules name their signer but carry no certificate: without the key, unverified
    // (tests/kmod_files.rs gives the keys).
    ("fs-suite/kmod/kmod-rsa-sha256.ko", "unverified"),
    ("fs-suite/kmod/kmod-ecdsa-p256-sha256.ko", "unverified"),
    ("fs-suite/real-linux/debian-6.1.0-56-crc7.ko", "unverified"),
    // Two WIN_CERTIFICATE entries, both intact (signify, sbverify); osslsigncode 2.9 cannot parse
    // the table. Untrusted: the UEFI roots are not given.
    ("fs-suite/real-linux/debian-shimx64.efi.signed", "untrusted"),
    ("fs-suite/real-linux/debian-fwupdx64.efi.signed", "untrusted"),
];

#[test]
fn corpus_samples_give_their_documented_verdicts() {
    let root = corpus();
    let o = sigaudit([
        "fs",
        root.join("fs").to_str().unwrap(),
        root.join("fs-suite").to_str().unwrap(),
        "-o",
        "json",
        "--at",
        "2026-11-22T00:00:00Z",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    let got = files_by_path(&report, &root);
    for (path, status) in CORPUS {
        let f = got.get(*path).unwrap_or_else(|| panic!("{path} not reported"));
        assert_eq!(f["status"], *status, "{path}: {:#}", f["signatures"]);
    }
    // Nothing else is reported as a supported file: unsigned kernel modules, text, certificates are skipped.
    let extra: Vec<&String> = got.keys().filter(|k| !CORPUS.iter().any(|(p, _)| p == k)).collect();
    assert!(extra.is_empty(), "unexpected files reported: {extra:?}");

    // putty.exe: dual-signed by Simon Tatham, each with a Sectigo PKCS#9 countersignature of 2022-10-28.
    let putty = got["fs/putty.exe"]["signatures"].as_array().unwrap().clone();
    assert_eq!(putty.len(), 2);
    for s in &putty {
        assert_eq!(s["signer"]["subject"], "CN=Simon Tatham, O=Simon Tatham, ST=Cambridgeshire, C=GB");
        assert_eq!(
            s["countersigner"]["subject"],
            "CN=Sectigo RSA Time Stamping Signer #3, O=Sectigo Limited, ST=Manchester, C=GB"
        );
        assert_eq!(s["countersigner"]["kind"], "pkcs9");
        assert!(s["timestamp"]["time"].as_str().unwrap().starts_with("2022-10-28"));
    }
    assert_eq!(
        (putty[0]["digestAlgorithm"].as_str(), putty[1]["digestAlgorithm"].as_str()),
        (Some("sha1"), Some("sha256"))
    );
    let chain: Vec<&str> =
        putty[1]["chain"].as_array().unwrap().iter().map(|c| c["subject"].as_str().unwrap()).collect();
    assert!(chain.iter().any(|c| c.contains("Sectigo Public Code Signing CA R36")), "{chain:?}");

    let jar = &got["fs/hello-signed.jar"]["signatures"][0];
    assert_eq!(
        jar["signer"]["subject"],
        "CN=ovf.venafidemo.com, OU=Solution Architects, O=Venafi\\, Inc., L=San Jose, ST=CA, C=US"
    );
    assert!(jar["verification"]["reasons"][0].as_str().unwrap().contains("expired 2024-02-03"));
    // An expired signer without a timestamp: the code a waiver names, whatever the wording.
    assert_eq!(jar["verification"]["reasonCodes"][0], "cert-expired-no-timestamp", "{jar:#}");
    // A module signer named but not given says so by code.
    assert_eq!(common::reason_codes(&got["fs-suite/kmod/kmod-rsa-sha256.ko"]), ["kmod-signer-unknown"]);
    // The trailing junk in a WIN_CERTIFICATE is flagged.
    assert!(got["fs-suite/pe/pe-certtable-trailing-junk.exe"]["notes"][0].as_str().unwrap().contains("non-zero bytes"));
}

#[test]
fn hostile_files_are_reported_and_the_scan_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = std::fs::read(corpus().join("fs-suite/pe/pe-rsa-sha256-rfc3161.exe")).unwrap();
    std::fs::write(d.join("good.exe"), &good).unwrap();
    // Truncated in the middle of the certificate table.
    std::fs::write(d.join("truncated.exe"), &good[..good.len() - 700]).unwrap();
    // The security directory pointing far beyond the file.
    let mut far = good.clone();
    let e = u32::from_le_bytes(far[0x3c..0x40].try_into().unwrap()) as usize;
    let dd4 = e + 24 + 144;
    far[dd4..dd4 + 4].copy_from_slice(&0x7fff_fff0u32.to_le_bytes());
    std::fs::write(d.join("far.exe"), &far).unwrap();
    // A 100 MB "JAR": a zip header and garbage.
    let mut fake = b"PK\x03\x04".to_vec();
    fake.resize(100 << 20, 0x41);
    std::fs::write(d.join("huge.jar"), &fake).unwrap();
    // A zip bomb posing as a signed JAR: one entry inflating to 300 MiB.
    {
        use std::io::Write;
        let f = std::fs::File::create(d.join("bomb.jar")).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let o: zip::write::SimpleFileOptions = zip::write::SimpleFileOptions::default();
        z.start_file("META-INF/MANIFEST.MF", o).unwrap();
        z.write_all(b"Manifest-Version: 1.0\r\n\r\nName: big.bin\r\nSHA-256-Digest: AAAA\r\n\r\n").unwrap();
        z.start_file("META-INF/X.SF", o).unwrap();
        z.write_all(b"Signature-Version: 1.0\r\n\r\n").unwrap();
        z.start_file("META-INF/X.RSA", o).unwrap();
        z.write_all(b"\x30\x03\x02\x01\x01").unwrap();
        z.start_file("big.bin", o).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..300 {
            z.write_all(&zeros).unwrap();
        }
        z.finish().unwrap();
    }
    // A broken symlink named on the command line.
    std::os::unix::fs::symlink(d.join("nowhere"), d.join("dangling.exe")).unwrap();

    let o = sigaudit(["fs", d.to_str().unwrap(), d.join("dangling.exe").to_str().unwrap(), "-o", "json"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = stdout_json(&o);
    let got = files_by_path(&report, d);
    assert_eq!(got["good.exe"]["status"], "untrusted");
    assert_eq!(got["truncated.exe"]["status"], "invalid", "{:#}", got["truncated.exe"]);
    assert_eq!(got["far.exe"]["status"], "invalid", "{:#}", got["far.exe"]);
    let bomb = got["bomb.jar"]["signatures"][0]["verification"]["reasons"].to_string();
    assert!(bomb.contains("refused"), "{bomb}");
    assert!(common::reason_codes(&got["bomb.jar"]).contains(&"jar-malformed".into()), "{bomb}");
    assert_eq!(common::reason_codes(&got["far.exe"]), ["pe-malformed"], "{:#}", got["far.exe"]);
    assert!(!got.contains_key("huge.jar"), "garbage is not a JAR");
    assert_eq!(code(&o), 3, "the dangling link is an error: the scan is incomplete");
    assert!(report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["reference"].as_str().unwrap().ends_with("dangling.exe")));
}

#[test]
fn ca_roots_make_the_test_pki_signers_verified() {
    let root = corpus();
    let anchor = root.join("fs-suite/pki/test-root.pem");
    let o = sigaudit([
        "fs",
        root.join("fs-suite/pe").to_str().unwrap(),
        root.join("fs-suite/jar").to_str().unwrap(),
        "-o",
        "json",
        "--ca-roots",
        anchor.to_str().unwrap(),
        "--at",
        "2026-11-22T00:00:00Z",
    ]);
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    let got = files_by_path(&report, &root);
    for (path, status) in [
        ("fs-suite/pe/pe-rsa-sha256-rfc3161.exe", "verified"),
        ("fs-suite/pe/pe-dual-sha1-rsa+nested-sha256-ecdsa.exe", "verified"),
        ("fs-suite/pe/pe-expired-ts-within-validity.exe", "verified"),
        ("fs-suite/pe/pe-selfsigned-rfc3161.exe", "untrusted"),
        ("fs-suite/pe/real-7z1900-x64_signed.exe", "untrusted"),
        ("fs-suite/pe/pe-expired-nots.exe", "invalid"),
        ("fs-suite/pe/pe-tampered-section-byte.exe", "invalid"),
        ("fs-suite/jar/jar-two-signers.jar", "verified"),
        ("fs-suite/jar/jar-rsa-selfsigned-tsa.jar", "untrusted"),
    ] {
        assert_eq!(got[path]["status"], status, "{path}: {:#}", got[path]["signatures"]);
    }
    let r = got["fs-suite/pe/pe-rsa-sha256-rfc3161.exe"]["signatures"][0]["verification"]["reasons"].to_string();
    assert!(r.contains("CN=SigScan-RS Test Root CA"), "{r}");
}

/// CVE-2020-0601 ("CurveBall"): the 7-Zip sample's signer is issued by a root whose EC key has
/// explicit curve parameters (a spoof that copies a trusted root's public point with another
/// generator). Even with that root itself given as an anchor, the path is refused, as
/// `openssl verify -x509_strict` refuses it ("Certificate public key has explicit ECC
/// parameters"); the time is inside both certificates' validity, so that is the only reason.
#[test]
fn curveball_root_with_explicit_parameters_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pe = corpus().join("fs-suite/pe/real-7z1900-x64_signed.exe");
    let sig = dir.path().join("sig.der");
    let o = Command::new("osslsigncode").args(["extract-signature", "-in"]).arg(&pe).arg("-out").arg(&sig).output();
    assert!(o.expect("osslsigncode (./scripts/setup.sh installs it)").status.success());
    let o =
        Command::new("openssl").args(["pkcs7", "-inform", "DER", "-print_certs", "-in"]).arg(&sig).output().unwrap();
    let pem = String::from_utf8(o.stdout).unwrap();
    let blocks: Vec<&str> = pem.split_inclusive("-----END CERTIFICATE-----").collect();
    let root = dir.path().join("ollypwn-root.pem");
    std::fs::write(&root, blocks[1].trim_start()).unwrap();
    let chain = dir.path().join("chain.pem");
    std::fs::write(&chain, &pem).unwrap();
    let at = "2020-02-01T00:00:00Z";
    let openssl = Command::new("openssl")
        .args(["verify", "-x509_strict", "-attime", "1580515200", "-CAfile"])
        .arg(&root)
        .arg(&chain)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&openssl.stdout).to_string() + &String::from_utf8_lossy(&openssl.stderr);
    assert!(!openssl.status.success() && said.contains("explicit ECC parameters"), "openssl: {said}");

    let o = sigaudit(["fs", pe.to_str().unwrap(), "-o", "json", "--ca-roots", root.to_str().unwrap(), "--at", at]);
    let report = stdout_json(&o);
    let s = &report["files"][0]["signatures"][0];
    assert_eq!(s["verification"]["status"], "untrusted", "{s:#}");
    let reasons = s["verification"]["reasons"].to_string();
    assert!(reasons.contains("explicit curve parameters"), "{reasons}");
    assert_eq!(s["verification"]["reasonCodes"][0], "chain-explicit-curve", "{s:#}");
}
