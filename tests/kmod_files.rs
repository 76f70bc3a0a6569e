//! Linux kernel modules with appended signatures: the fixtures of testdata/kmod/ (openssl cms with
//! sign-file's flags, scripts/make_kmod_fixtures.sh), the fs-suite's (the kernel's own
//! scripts/sign-file) and Debian's real signed crc7.ko. For each,
//! `openssl cms -verify` over the module bytes before the signature, with the signing certificate
//! the kernel's keyring would hold, gives its verdict next to sigaudit's with that certificate as
//! `--ca-roots`.

mod common;

use common::{code, corpus, repo_root, sigaudit, stdout_json};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

const MAGIC: &[u8] = b"~Module signature appended~\n";

/// The module's content and PKCS#7, cut as the trailer says.
fn split(module: &Path, dir: &Path) -> (PathBuf, PathBuf) {
    let b = std::fs::read(module).unwrap();
    assert!(b.ends_with(MAGIC), "{} has no trailer", module.display());
    let end = b.len() - MAGIC.len();
    let sig_len = u32::from_be_bytes(b[end - 4..end].try_into().unwrap()) as usize;
    let start = end - 12 - sig_len;
    let (body, sig) = (dir.join("body"), dir.join("sig.p7"));
    std::fs::write(&body, &b[..start]).unwrap();
    std::fs::write(&sig, &b[start..end - 12]).unwrap();
    (body, sig)
}

/// `openssl cms -verify` of the module's signature with `cert` (the keyring's key; -noverify:
/// the kernel does not chain a keyring key further).
fn openssl_verifies(module: &Path, cert: &Path) -> bool {
    let dir = tempfile::tempdir().unwrap();
    let (body, sig) = split(module, dir.path());
    let o = Command::new("openssl")
        .args(["cms", "-verify", "-binary", "-inform", "DER", "-noverify", "-out", "/dev/null", "-in"])
        .arg(&sig)
        .arg("-content")
        .arg(&body)
        .arg("-certfile")
        .arg(cert)
        .output()
        .expect("openssl (./scripts/setup.sh installs it)");
    o.status.success()
}

fn scan(path: &Path, keys: &[PathBuf]) -> Value {
    let mut args: Vec<String> = vec!["fs".into(), path.display().to_string(), "-o".into(), "json".into()];
    for k in keys {
        args.extend(["--ca-roots".into(), k.display().to_string()]);
    }
    let o = sigaudit(args);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let r = stdout_json(&o);
    common::assert_reason_codes(&r);
    assert_eq!(r["files"].as_array().unwrap().len(), 1, "{r:#}");
    r["files"][0].clone()
}

#[test]
fn modules_get_the_verdict_openssl_cms_gives_with_the_kernel_key() {
    let kdir = repo_root().join("testdata/kmod");
    let real = corpus().join("fs-suite/real-linux");
    let debian_cert = real.join("debian-6.1.0-56-module-signing-cert.pem");
    let rsa = kdir.join("kmod-key-rsa.pem");
    let ec = kdir.join("kmod-key-ec.pem");
    let expired = kdir.join("kmod-key-expired.pem");
    let suite = corpus().join("fs-suite");
    let suite_rsa = suite.join("pki/test-signer-rsa.pem");
    let suite_ec = suite.join("pki/test-signer-ec.pem");
    // (module, the key given, openssl's verdict, ours, our first reason code)
    let cases: &[(PathBuf, &Path, bool, &str, &str)] = &[
        (real.join("debian-6.1.0-56-crc7.ko"), &debian_cert, true, "verified", "self-signed"),
        (kdir.join("kmod-rsa-sha256.ko"), &rsa, true, "verified", "self-signed"),
        (kdir.join("kmod-ec-keyid.ko"), &ec, true, "verified", "self-signed"),
        (kdir.join("kmod-rsa-with-cert.ko"), &rsa, true, "verified", "self-signed"),
        // Made by the kernel's own scripts/sign-file (the fs-suite, test PKI signers).
        (suite.join("kmod/kmod-rsa-sha256.ko"), &suite_rsa, true, "verified", "chain-anchored"),
        (suite.join("kmod/kmod-ecdsa-p256-sha256.ko"), &suite_ec, true, "verified", "chain-anchored"),
        (suite.join("kmod/kmod-ecdsa-p256-sha256.ko"), &suite_rsa, false, "unverified", "kmod-signer-unknown"),
        // One byte of the module flipped after signing.
        (kdir.join("kmod-tampered.ko"), &rsa, false, "invalid", "bad-signature"),
        // Signed by another key under the RSA key's issuer and serial.
        (kdir.join("kmod-impostor.ko"), &rsa, false, "invalid", "bad-signature"),
        // The signature holds; the certificate expired in 2021 and nothing dates the signing
        // (openssl -noverify does not look at validity; sigaudit's PE/JAR time rule does).
        (kdir.join("kmod-expired.ko"), &expired, true, "invalid", "cert-expired-no-timestamp"),
        // The wrong key: the signer is not in the keyring, the bytes cannot be checked.
        (kdir.join("kmod-rsa-sha256.ko"), &ec, false, "unverified", "kmod-signer-unknown"),
    ];
    for (module, key, openssl, status, first) in cases {
        assert_eq!(openssl_verifies(module, key), *openssl, "openssl cms -verify {}", module.display());
        let f = scan(module, &[key.to_path_buf()]);
        assert_eq!(f["type"], "kmod");
        assert_eq!(f["status"], *status, "{}: {f:#}", module.display());
        assert_eq!(common::reason_codes(&f)[0], *first, "{}: {f:#}", module.display());
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(module).unwrap()));
        assert_eq!(f["sha256"], sha);
    }
    // The real module: the signer named as the kernel names it, SHA-256, RSA-4096.
    let f = scan(&real.join("debian-6.1.0-56-crc7.ko"), std::slice::from_ref(&debian_cert));
    let s = &f["signatures"][0];
    assert_eq!(s["format"], "kmod");
    assert_eq!(s["signer"]["subject"], "CN=Build time autogenerated kernel key");
    assert_eq!(s["signer"]["keyAlgorithm"], "rsa-4096");
    assert_eq!(s["digestAlgorithm"], "sha256");
    assert!(s["verification"]["reasons"].to_string().contains("chains to trust anchor"), "{s:#}");
}

#[test]
fn without_the_key_a_module_names_its_signer_and_is_unverified() {
    let real = corpus().join("fs-suite/real-linux/debian-6.1.0-56-crc7.ko");
    let f = scan(&real, &[]);
    assert_eq!(f["status"], "unverified", "{f:#}");
    let s = &f["signatures"][0]["signer"];
    assert_eq!(s["issuer"], "CN=Build time autogenerated kernel key");
    assert_eq!(s["serial"], "66f54e1566a043cc3030420e181cf850fb9f42ac", "{s:#}");
    assert_eq!(common::reason_codes(&f), ["kmod-signer-unknown"]);
    // Named by subject key identifier (sign-file's -k, openssl cms -keyid).
    let f = scan(&repo_root().join("testdata/kmod/kmod-ec-keyid.ko"), &[]);
    assert_eq!(f["status"], "unverified");
    let ski = Command::new("openssl")
        .args(["x509", "-noout", "-ext", "subjectKeyIdentifier", "-in"])
        .arg(repo_root().join("testdata/kmod/kmod-key-ec.pem"))
        .output()
        .unwrap();
    let ski = String::from_utf8_lossy(&ski.stdout).lines().nth(1).unwrap().trim().replace(':', "").to_lowercase();
    assert_eq!(f["signatures"][0]["signer"]["keyId"], ski.as_str());
    // A certificate the signature carries is checked, but nothing anchors it.
    let f = scan(&repo_root().join("testdata/kmod/kmod-rsa-with-cert.ko"), &[]);
    assert_eq!(f["status"], "untrusted");
    assert_eq!(f["signatures"][0]["signer"]["subject"], "CN=sigaudit kmod key RSA, O=sigaudit fixtures");
}

#[test]
fn an_unsigned_module_is_unsigned_and_a_lying_trailer_is_invalid() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let unsigned = repo_root().join("testdata/kmod/unsigned-crc7.ko");
    let f = scan(&unsigned, &[]);
    assert_eq!((f["type"].as_str(), f["status"].as_str()), (Some("kmod"), Some("unsigned")), "{f:#}");
    // modinfo -F sig_id reads nothing from it either (no trailer).
    assert!(!std::fs::read(&unsigned).unwrap().ends_with(MAGIC));

    let good = std::fs::read(repo_root().join("testdata/kmod/kmod-rsa-sha256.ko")).unwrap();
    let end = good.len() - MAGIC.len();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    // sig_len beyond the file.
    let mut b = good.clone();
    b[end - 4..end].copy_from_slice(&0xffff_fff0u32.to_be_bytes());
    cases.push(("huge-len.ko", b));
    // id_type 1 (X.509), which the kernel does not accept.
    let mut b = good.clone();
    b[end - 10] = 1;
    cases.push(("id-type.ko", b));
    // A non-zero parameter field.
    let mut b = good.clone();
    b[end - 12] = 4;
    cases.push(("algo.ko", b));
    // sig_len one short: the PKCS#7 cut.
    let mut b = good.clone();
    let n = u32::from_be_bytes(b[end - 4..end].try_into().unwrap()) - 1;
    b[end - 4..end].copy_from_slice(&n.to_be_bytes());
    cases.push(("short-len.ko", b));
    // The trailer alone.
    cases.push(("only-magic.ko", MAGIC.to_vec()));
    for (name, bytes) in &cases {
        std::fs::write(d.join(name), bytes).unwrap();
    }
    let o = sigaudit(["fs", d.to_str().unwrap(), "-o", "json"]);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("panicked"));
    let r = stdout_json(&o);
    for f in r["files"].as_array().unwrap() {
        assert_eq!(f["status"], "invalid", "{f:#}");
        let codes = common::reason_codes(f);
        assert!(codes[0] == "kmod-malformed" || codes[0] == "malformed-signature", "{f:#}");
    }
    assert_eq!(r["files"].as_array().unwrap().len(), cases.len());
}
