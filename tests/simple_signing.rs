//! Simple signing (containers/image "atomic" GPG signatures) end to end, every part real: images in
//! Debian's docker-registry (CNCF distribution 2.8), signed by Debian's **skopeo** (`skopeo copy
//! --sign-by`) with **GnuPG** keys made for the test (a throw-away GNUPGHOME), the signatures
//! written by skopeo to a lookaside store through a registries.d `lookaside-staging` entry and
//! served over HTTP on 127.0.0.1 by **busybox httpd** (Debian's busybox). Every verdict of ours is
//! set beside skopeo's own under a containers `policy.json` with `signedBy`: `skopeo copy`
//! succeeds where we say `verified` and refuses where we do not.

mod common;

use common::{code, sigaudit, stdout_json, Registry};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn require(tool: &str, package: &str) {
    let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output().map(|o| o.status.success());
    assert!(found.unwrap_or(false), "{tool} is missing: apt-get install {package} (./scripts/setup.sh installs it)");
}

/// A throw-away GnuPG home with its agent, stopped when dropped.
struct Gpg {
    home: tempfile::TempDir,
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").args(["--kill", "all"]).env("GNUPGHOME", self.home.path()).output();
    }
}

impl Gpg {
    fn new() -> Gpg {
        require("gpg", "gpg");
        // Short path: the agent's socket lives in it.
        let home = tempfile::Builder::new().prefix("sa-gpg").tempdir_in("/tmp").unwrap();
        std::fs::set_permissions(home.path(), std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
        Gpg { home }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let o = Command::new("gpg")
            .args(["--batch", "--yes"])
            .args(args)
            .env("GNUPGHOME", self.home.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        o
    }

    /// Make a signing key without passphrase; its fingerprint.
    fn key(&self, uid: &str, algo: &str) -> String {
        self.run(&["--passphrase", "", "--quick-gen-key", uid, algo, "sign", "never"]);
        let o = self.run(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8_lossy(&o.stdout);
        let fpr = text.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap();
        fpr.to_string()
    }

    /// `gpg --export` of `fpr` into `path` (armored or binary).
    fn export(&self, fpr: &str, path: &Path, armor: bool) {
        let mut args = vec!["--output", path.to_str().unwrap(), "--export"];
        if armor {
            args.insert(0, "--armor");
        }
        args.push(fpr);
        self.run(&args);
    }
}

struct Httpd(Child);

impl Drop for Httpd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// busybox httpd serving `root` on a free port of 127.0.0.1.
fn httpd(root: &Path) -> (Httpd, String) {
    require("busybox", "busybox");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let child = Command::new("busybox")
        .args(["httpd", "-f", "-p", &addr, "-h"])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start busybox httpd");
    common::wait_port(&addr);
    (Httpd(child), addr)
}

/// tests/support/sigext_proxy.py in front of the registry `upstream`, its signatures in `store`.
fn sigext_proxy(upstream: &str, store: &Path) -> (Httpd, String) {
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(python)
        .arg(common::repo_root().join("tests/support/sigext_proxy.py"))
        .arg(port.to_string())
        .arg(upstream)
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the signature extension proxy");
    let addr = format!("127.0.0.1:{port}");
    common::wait_port(&addr);
    (Httpd(child), addr)
}

/// skopeo with the test's registries.d, GnuPG home and (when given) policy; plain HTTP registries.
fn skopeo(gpg: &Gpg, registries_d: &Path, policy: Option<&Path>, args: &[&str]) -> std::process::Output {
    require("skopeo", "skopeo");
    let mut c = Command::new("skopeo");
    c.arg("--registries.d").arg(registries_d);
    if let Some(p) = policy {
        c.arg("--policy").arg(p);
    }
    c.args(args).env("GNUPGHOME", gpg.home.path());
    common::isolate(&mut c);
    c.output().unwrap()
}

fn skopeo_ok(gpg: &Gpg, registries_d: &Path, args: &[&str]) {
    let o = skopeo(gpg, registries_d, None, args);
    assert!(o.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// Whether skopeo, under `policy`, copies `image` out of the registry (reading its signatures
/// where registries.d says); with its error when it refuses.
fn skopeo_accepts(gpg: &Gpg, registries_d: &Path, policy: &Path, image: &str, dir: &Path) -> (bool, String) {
    let dest = dir.join(format!("out-{}", rand_suffix()));
    let o = skopeo(
        gpg,
        registries_d,
        Some(policy),
        &["copy", "--src-tls-verify=false", &format!("docker://{image}"), &format!("dir:{}", dest.display())],
    );
    (o.status.success(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn rand_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::SeqCst).to_string()
}

/// A containers policy.json: `signedBy` with the keyring at `keyring` for the registry, nothing
/// accepted elsewhere but the `dir:` destination.
fn policy(dir: &Path, name: &str, registry: &str, keyring: &Path, identity: &str) -> PathBuf {
    let p = dir.join(name);
    let json = serde_json::json!({
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {registry: [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": keyring,
                                   "signedIdentity": {"type": identity}}]},
            "dir": {"": [{"type": "insecureAcceptAnything"}]}
        }
    });
    std::fs::write(&p, serde_json::to_vec_pretty(&json).unwrap()).unwrap();
    p
}

fn lookaside_dir(www: &Path, repo: &str, digest: &str) -> PathBuf {
    www.join(format!("{repo}@{}", digest.replace(':', "=")))
}

/// A lookaside store (`www`) served by busybox httpd, and a registries.d (`rd`) naming it for
/// `registry`, with skopeo's staging directory over it: skopeo writes signatures there and reads
/// them, as podman and CRI-O do, from the URL.
struct Store {
    www: PathBuf,
    rd: PathBuf,
    /// The lookaside's address (`127.0.0.1:PORT`).
    web: String,
    httpd: std::cell::RefCell<Option<Httpd>>,
}

impl Store {
    fn new(work: &Path, registry: &str) -> Store {
        let www = work.join("www");
        std::fs::create_dir_all(&www).unwrap();
        let (httpd, web) = httpd(&www);
        let rd = work.join("registries.d");
        std::fs::create_dir_all(&rd).unwrap();
        std::fs::write(
            rd.join("lookaside.yaml"),
            format!(
                "docker:\n  {registry}:\n    lookaside: http://{web}\n    lookaside-staging: file://{}\n",
                www.display()
            ),
        )
        .unwrap();
        Store { www, rd, web, httpd: std::cell::RefCell::new(Some(httpd)) }
    }

    /// Stop serving the lookaside.
    fn stop(&self) {
        drop(self.httpd.borrow_mut().take());
    }
}

/// Signatures made for a test: an image copied and signed by skopeo with `good`, then its payload
/// signed again by another key with GnuPG, replacing skopeo's signature.
struct Resigner<'a> {
    gpg: &'a Gpg,
    reg: &'a Registry,
    store: &'a Store,
    work: &'a Path,
    good: &'a str,
}

impl Resigner<'_> {
    /// `src` (`REPO:TAG` of the registry) copied to `repo:v1` and re-signed by `key` (`extra`
    /// GnuPG arguments first); the signature file.
    fn resign(&self, src: &str, repo: &str, key: &str, extra: &[&str]) -> PathBuf {
        let r = &self.reg.addr;
        let (s, d) = (format!("docker://{r}/{src}"), format!("docker://{r}/{repo}:v1"));
        let copy = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests", "--sign-by"];
        skopeo_ok(self.gpg, &self.store.rd, &[&copy[..], &[self.good, &s, &d]].concat());
        let digest = self.reg.tag_digest(repo, "v1");
        let sig = lookaside_dir(&self.store.www, repo, &digest).join("signature-1");
        let payload = self.work.join(format!("{}.json", repo.replace('/', "_")));
        self.gpg.run(&["--output", payload.to_str().unwrap(), "--decrypt", sig.to_str().unwrap()]);
        let mut args: Vec<&str> = extra.to_vec();
        args.extend(["--passphrase", "", "--pinentry-mode", "loopback", "-u", key, "--output"]);
        args.extend([sig.to_str().unwrap(), "--sign", payload.to_str().unwrap()]);
        self.gpg.run(&args);
        sig
    }
}

fn image<'a>(report: &'a Value, repo: &str) -> &'a Value {
    report["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["repository"] == repo)
        .unwrap_or_else(|| panic!("{repo} not reported: {report:#}"))
}

fn codes(sig: &Value) -> Vec<String> {
    sig["verification"]["reasonCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect()
}

fn scan(args: &[&str]) -> (Value, std::process::Output) {
    let o = sigaudit(args);
    (stdout_json(&o), o)
}

#[test]
fn skopeo_gpg_signatures_in_a_lookaside_store_agree_with_skopeo_under_signed_by() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let r = reg.addr.clone();
    let work = tempfile::tempdir().unwrap();
    let gpg = Gpg::new();
    let signer = gpg.key("Sigaudit Test Signer <signer@example.test>", "ed25519");
    let rsa = gpg.key("Sigaudit RSA Signer <rsa@example.test>", "rsa2048");
    let stranger = gpg.key("Somebody Else <else@example.test>", "ed25519");
    let right = work.path().join("right.asc");
    gpg.export(&signer, &right, true);
    let right_bin = work.path().join("right.gpg");
    gpg.export(&signer, &right_bin, false);
    let rsa_ring = work.path().join("rsa.asc");
    gpg.export(&rsa, &rsa_ring, true);
    let wrong = work.path().join("wrong.gpg");
    gpg.export(&stranger, &wrong, false);

    // skopeo writes signatures to the staging location (a directory) and reads them, as podman
    // and CRI-O do, from the lookaside URL served by busybox httpd over that directory.
    let lookaside_store = Store::new(work.path(), &r);
    let (www, rd, web) = (&lookaside_store.www, &lookaside_store.rd, &lookaside_store.web);

    let copy = |src: &str, dst: &str, by: Option<&str>| {
        let (s, d) = (format!("docker://{r}/{src}"), format!("docker://{r}/{dst}"));
        let mut args = vec!["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests"];
        if let Some(k) = by {
            args.extend(["--sign-by", k]);
        }
        args.extend([s.as_str(), d.as_str()]);
        skopeo_ok(&gpg, rd, &args);
        reg.tag_digest(dst.split(':').next().unwrap(), dst.split(':').nth(1).unwrap())
    };
    let app = copy("apps/unsigned:v1", "simple/app:v1", Some(&signer));
    let _rsa_app = copy("apps/cross:v1", "simple/rsa:v1", Some(&rsa));
    // Replayed: simple/app's signature copied to the lookaside directory of another digest.
    let victim = copy("apps/api:v1", "simple/app:v2", None);
    let victim_dir = lookaside_dir(www, "simple/app", &victim);
    std::fs::create_dir_all(&victim_dir).unwrap();
    std::fs::copy(lookaside_dir(www, "simple/app", &app).join("signature-1"), victim_dir.join("signature-1")).unwrap();
    // Relocated: the same digest pushed to another repository, the signature copied beside it: the
    // digest matches, the signed name does not.
    let moved = copy(&format!("simple/app@{app}"), "simple/moved:v1", None);
    assert_eq!(moved, app);
    let moved_dir = lookaside_dir(www, "simple/moved", &app);
    std::fs::create_dir_all(&moved_dir).unwrap();
    std::fs::copy(lookaside_dir(www, "simple/app", &app).join("signature-1"), moved_dir.join("signature-1")).unwrap();
    // Corrupted: one byte of the signed message flipped, in the middle of the stored signature.
    let corrupt = copy("apps/batch:v1", "simple/corrupt:v1", Some(&signer));
    let corrupt_sig = lookaside_dir(www, "simple/corrupt", &corrupt).join("signature-1");
    let mut bytes = std::fs::read(&corrupt_sig).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&corrupt_sig, bytes).unwrap();

    // skopeo's verdicts, under signedBy with the right and the wrong keyring.
    let right_policy = policy(work.path(), "right.json", &r, &right_bin, "matchRepoDigestOrExact");
    // A binary keyring of both signers, as `gpg --export A B` writes it.
    let both = work.path().join("both.gpg");
    gpg.run(&["--output", both.to_str().unwrap(), "--export", &signer, &rsa]);
    let both_policy = policy(work.path(), "both.json", &r, &both, "matchRepoDigestOrExact");
    let wrong_policy = policy(work.path(), "wrong.json", &r, &wrong, "matchRepoDigestOrExact");
    let accepts = |pol: &Path, img: &str| skopeo_accepts(&gpg, rd, pol, &format!("{r}/{img}"), work.path());
    assert!(accepts(&right_policy, "simple/app:v1").0, "skopeo refuses the good signature with the right keyring");
    assert!(accepts(&both_policy, "simple/rsa:v1").0, "skopeo refuses the RSA-signed image");
    let (ok, why) = accepts(&wrong_policy, "simple/app:v1");
    assert!(!ok, "skopeo accepts a signature by a key the policy does not name");
    assert!(why.contains("rejected") || why.contains("key"), "{why}");
    for img in ["simple/app:v2", "simple/moved:v1", "simple/corrupt:v1"] {
        let (ok, why) = accepts(&right_policy, img);
        assert!(!ok, "skopeo accepts {img}");
        assert!(why.contains("Source image rejected"), "{img}: {why}");
    }

    // Ours, with the lookaside given on the command line and the right keyring.
    let refs: Vec<String> =
        ["simple/app:v1", "simple/app:v2", "simple/moved:v1", "simple/corrupt:v1", "simple/rsa:v1", "apps/unsigned:v1"]
            .iter()
            .map(|i| format!("{r}/{i}"))
            .collect();
    let lookaside = format!("http://{web}");
    let mut args = vec!["image", "--plain-http", "-o", "json", "--lookaside", &lookaside];
    args.extend(["--gpg-keyring", right.to_str().unwrap(), "--gpg-keyring", rsa_ring.to_str().unwrap()]);
    args.extend(refs.iter().map(String::as_str));
    let (report, o) = scan(&args);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let at = |repo: &str, tag: &str| -> &Value {
        let images = report["images"].as_array().unwrap();
        let found =
            images.iter().find(|i| i["repository"] == repo && i["tags"].as_array().unwrap().iter().any(|t| t == tag));
        found.unwrap_or_else(|| panic!("{repo}:{tag}: {report:#}"))
    };
    let good = at("simple/app", "v1");
    assert_eq!(good["digest"], app.as_str());
    assert_eq!(good["status"], "verified", "{good:#}");
    let sig = &good["signatures"][0];
    assert_eq!(
        (&sig["format"], &sig["envelope"], &sig["discovery"]),
        (&"simple-signing".into(), &"openpgp".into(), &"lookaside".into())
    );
    assert_eq!(sig["signer"]["keyId"], signer.as_str(), "{sig:#}");
    assert_eq!(sig["signer"]["subject"], "Sigaudit Test Signer <signer@example.test>");
    assert_eq!(sig["dockerReference"], format!("{r}/simple/app:v1"));
    assert_eq!(codes(sig), ["verified-gpg-key"]);
    assert!(sig["location"].as_str().unwrap().starts_with(&format!("http://{web}/simple/app@sha256=")), "{sig:#}");
    assert_eq!(at("simple/rsa", "v1")["status"], "verified", "{report:#}");
    let replayed = at("simple/app", "v2");
    assert_eq!(replayed["digest"], victim.as_str());
    assert_eq!(replayed["status"], "invalid");
    assert_eq!(codes(&replayed["signatures"][0]), ["payload-digest-mismatch"], "{replayed:#}");
    let moved = at("simple/moved", "v1");
    assert_eq!(moved["status"], "invalid");
    assert_eq!(codes(&moved["signatures"][0]), ["docker-reference-mismatch"], "{moved:#}");
    let corrupted = at("simple/corrupt", "v1");
    assert_eq!(corrupted["digest"], corrupt.as_str());
    assert_eq!(corrupted["status"], "invalid", "{corrupted:#}");
    let c = codes(&corrupted["signatures"][0]);
    // Where the flipped bit lands (the deflate stream, the signed payload, the issuer) decides
    // which check fails first; every one of them makes it invalid.
    let corrupt_codes = ["malformed-signature", "bad-signature", "gpg-key-unknown", "payload-malformed"];
    assert!(c.len() == 1 && corrupt_codes.contains(&c[0].as_str()), "{corrupted:#}");
    assert_eq!(image(&report, "apps/unsigned")["status"], "unsigned");

    // The same store read as files (a `file://` lookaside, as containers/image reads one).
    let as_files = format!("file://{}", www.display());
    let (report, _) = scan(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--lookaside",
        &as_files,
        "--gpg-keyring",
        right.to_str().unwrap(),
        &format!("{r}/simple/app:v1"),
    ]);
    assert_eq!(report["images"][0]["status"], "verified", "{report:#}");

    // The wrong keyring (binary): not verified, as skopeo refused; no keyring: not checked.
    let mut args = vec![
        "image",
        "--plain-http",
        "-o",
        "json",
        "--lookaside",
        &lookaside,
        "--gpg-keyring",
        wrong.to_str().unwrap(),
    ];
    let app_ref = format!("{r}/simple/app:v1");
    args.push(&app_ref);
    let (report, _) = scan(&args);
    let sig = &report["images"][0]["signatures"][0];
    assert_eq!(
        (&report["images"][0]["status"], codes(sig)),
        (&"invalid".into(), vec!["gpg-key-unknown".to_string()]),
        "{report:#}"
    );
    assert_eq!(sig["signer"]["keyId"], signer.as_str(), "the issuer the signature names");
    let (report, _) = scan(&["image", "--plain-http", "-o", "json", "--lookaside", &lookaside, &app_ref]);
    assert_eq!(report["images"][0]["status"], "unverified");
    assert_eq!(codes(&report["images"][0]["signatures"][0]), ["gpg-no-keyring"]);

    // The same policy.json skopeo judged with, as our trust material; the store found through the
    // same registries.d skopeo read; a registry scan of the whole namespace.
    let (report, o) = scan(&[
        "registry",
        &format!("{r}/simple"),
        "--plain-http",
        "-o",
        "json",
        "--registries-d",
        rd.to_str().unwrap(),
        "--containers-policy",
        right_policy.to_str().unwrap(),
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let statuses: Vec<(String, String)> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                format!("{}:{}", i["repository"].as_str().unwrap(), i["tags"][0].as_str().unwrap()),
                i["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("simple/app:v1", "verified"),
        ("simple/app:v2", "invalid"),
        ("simple/corrupt:v1", "invalid"),
        ("simple/moved:v1", "invalid"),
        // Signed by a key this policy does not name: skopeo refuses it under right.json too.
        ("simple/rsa:v1", "invalid"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(statuses, want, "{report:#}");
    assert!(!accepts(&right_policy, "simple/rsa:v1").0, "skopeo accepts the RSA image under right.json");
    let verified = &image(&report, "simple/app")["signatures"][0];
    assert!(
        verified["verification"]["reasons"][0].as_str().unwrap().contains("--containers-policy signedBy of docker"),
        "{verified:#}"
    );
    let (report, _) = scan(&[
        "image",
        &app_ref,
        "--plain-http",
        "-o",
        "json",
        "--registries-d",
        rd.to_str().unwrap(),
        "--containers-policy",
        wrong_policy.to_str().unwrap(),
    ]);
    assert_eq!(report["images"][0]["status"], "invalid", "{report:#}");

    // The registry signature extension: skopeo signs through it (a PUT per signature) and reads
    // through it, with no lookaside configured (an empty registries.d); we find the same
    // signatures there. See tests/support/sigext_proxy.py for why a loopback server replays it.
    let store = work.path().join("extension-store");
    std::fs::create_dir_all(&store).unwrap();
    let (_proxy, ext) = sigext_proxy(&r, &store);
    let empty_rd = work.path().join("empty-registries.d");
    std::fs::create_dir_all(&empty_rd).unwrap();
    let via = |src: &str, dst: &str, by: Option<&str>| {
        let (s, d) = (format!("docker://{r}/{src}"), format!("docker://{ext}/{dst}"));
        let mut args = vec!["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests"];
        if let Some(k) = by {
            args.extend(["--sign-by", k]);
        }
        args.extend([s.as_str(), d.as_str()]);
        skopeo_ok(&gpg, &empty_rd, &args);
        reg.tag_digest(dst.split(':').next().unwrap(), dst.split(':').nth(1).unwrap())
    };
    let ext_app = via("apps/unsigned:v1", "ext/app:v1", Some(&signer));
    let ext_victim = via("apps/api:v1", "ext/app:v2", None);
    let victim_dir = lookaside_dir(&store, "ext/app", &ext_victim);
    std::fs::create_dir_all(&victim_dir).unwrap();
    std::fs::copy(lookaside_dir(&store, "ext/app", &ext_app).join("signature-1"), victim_dir.join("signature-1"))
        .unwrap();
    let ext_policy = policy(work.path(), "ext.json", &ext, &right_bin, "matchRepoDigestOrExact");
    let ext_wrong = policy(work.path(), "ext-wrong.json", &ext, &wrong, "matchRepoDigestOrExact");
    let accepts_ext =
        |pol: &Path, img: &str| skopeo_accepts(&gpg, &empty_rd, pol, &format!("{ext}/{img}"), work.path());
    let (ok, why) = accepts_ext(&ext_policy, "ext/app:v1");
    assert!(ok, "skopeo refuses its own signature from the extension: {why}");
    assert!(!accepts_ext(&ext_wrong, "ext/app:v1").0, "skopeo accepts it with the wrong keyring");
    assert!(!accepts_ext(&ext_policy, "ext/app:v2").0, "skopeo accepts the replayed signature");
    let (v1, v2) = (format!("{ext}/ext/app:v1"), format!("{ext}/ext/app:v2"));
    let (report, o) =
        scan(&["image", "--plain-http", "-o", "json", "--gpg-keyring", right.to_str().unwrap(), &v1, &v2]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let at = |tag: &str| report["images"].as_array().unwrap().iter().find(|i| i["tags"][0] == tag).unwrap();
    assert_eq!(at("v1")["status"], "verified", "{report:#}");
    let sig = &at("v1")["signatures"][0];
    assert_eq!((&sig["discovery"], &sig["format"]), (&"signature-extension".into(), &"simple-signing".into()));
    assert_eq!(sig["location"], format!("http://{ext}/extensions/v2/ext/app/signatures/{ext_app}"));
    assert_eq!(codes(&at("v2")["signatures"][0]), ["payload-digest-mismatch"]);
    let (report, _) = scan(&["image", "--plain-http", "-o", "json", "--gpg-keyring", wrong.to_str().unwrap(), &v1]);
    assert_eq!(codes(&report["images"][0]["signatures"][0]), ["gpg-key-unknown"]);

    // A lookaside store that does not answer: an error of the image, never unsigned; skopeo fails too.
    lookaside_store.stop();
    let (report, o) = scan(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--lookaside",
        &lookaside,
        "--gpg-keyring",
        right.to_str().unwrap(),
        &app_ref,
    ]);
    assert_eq!(code(&o), 3, "an unreachable lookaside leaves the scan incomplete");
    assert_eq!(report["images"][0]["status"], "error", "{report:#}");
    let why = report["images"][0]["discoveryErrors"][0].as_str().unwrap();
    assert!(why.contains("lookaside") && why.to_lowercase().contains("connection refused"), "{why}");
    assert_eq!(report["scan"]["complete"], false);
    let (ok, why) = accepts(&right_policy, "simple/app:v1");
    assert!(!ok && why.contains("connection refused"), "skopeo without its lookaside: {why}");
}

/// OpenPGP validity, each case made by GnuPG and judged by skopeo under `signedBy` beside us: a key
/// expired when it signed (`--faked-system-time`), a revoked key (GnuPG's own revocation
/// certificate imported), a signature whose expiration time has passed (`--default-sig-expire`),
/// and a signature by a signing subkey of a certify-only primary key (skopeo accepts primary-key
/// fingerprints only). The payloads are skopeo's own (`--sign-by` a good key, read back with
/// `gpg --decrypt`), signed again by GnuPG with the key under test.
#[test]
fn expired_revoked_and_subkey_signatures_are_refused_as_skopeo_refuses_them() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let r = reg.addr.clone();
    let work = tempfile::tempdir().unwrap();
    let gpg = Gpg::new();
    let good = gpg.key("Good Signer <good@example.test>", "ed25519");
    let fpr = |uid: &str| {
        let o = gpg.run(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string()
    };
    let t2020 = ["--faked-system-time", "20200101T000000!"];
    // Expired: made 2020-01-01 with a one-day expiry, signs 12 hours later (GnuPG refuses to sign
    // with an expired key). GnuPG reports EXPKEYSIG for a key expired at verification time, and
    // skopeo refuses it: so do we.
    gpg.run(
        &[&t2020[..], &["--passphrase", "", "--quick-gen-key", "Expired <exp@example.test>", "ed25519", "sign", "1d"]]
            .concat(),
    );
    let expired = fpr("exp@example.test");
    // Revoked: GnuPG's revocation certificate (written at key creation) imported.
    let revoked = gpg.key("Revoked <rev@example.test>", "ed25519");
    let rev = std::fs::read_to_string(gpg.home.path().join(format!("openpgp-revocs.d/{revoked}.rev"))).unwrap();
    let rev_file = work.path().join("rev.asc");
    std::fs::write(&rev_file, rev.replace(":-----BEGIN PGP PUBLIC KEY BLOCK", "-----BEGIN PGP PUBLIC KEY BLOCK"))
        .unwrap();
    // Signature expiry: a key of 2020, a signature made then expiring one day later.
    gpg.run(
        &[&t2020[..], &["--passphrase", "", "--quick-gen-key", "Old <old@example.test>", "ed25519", "sign", "never"]]
            .concat(),
    );
    let old = fpr("old@example.test");
    // Subkey: a certify-only primary key with an ed25519 signing subkey.
    gpg.run(&["--passphrase", "", "--quick-gen-key", "Sub <sub@example.test>", "ed25519", "cert", "never"]);
    let sub = fpr("sub@example.test");
    gpg.run(&["--passphrase", "", "--quick-add-key", &sub, "ed25519", "sign", "never"]);
    let keyring = work.path().join("trusted.gpg");

    let store = Store::new(work.path(), &r);
    let (www, rd) = (&store.www, &store.rd);
    let pol = policy(work.path(), "trusted.json", &r, &keyring, "matchRepoDigestOrExact");

    // Each image signed by skopeo with the good key, then its payload signed again by `key`.
    let signer = Resigner { gpg: &gpg, reg: &reg, store: &store, work: work.path(), good: &good };
    let resign = |repo: &str, src: &str, key: &str, extra: &[&str]| {
        signer.resign(src, repo, key, extra);
    };
    resign("pgp/expired", "apps/unsigned:v1", &expired, &["--faked-system-time", "20200101T120000!"]);
    resign("pgp/revoked", "apps/api:v1", &revoked, &[]);
    resign(
        "pgp/sigexpire",
        "apps/batch:v1",
        &old,
        &["--faked-system-time", "20200102T000000!", "--default-sig-expire", "1d"],
    );
    resign("pgp/subkey", "apps/cross:v1", &sub, &[]);
    resign("pgp/good", "apps/unsigned:v1", &good, &[]);
    // The key is revoked after it signed (GnuPG refuses to sign with a revoked key); the trusted
    // keyring holds the revoked certificate.
    gpg.run(&["--import", rev_file.to_str().unwrap()]);
    gpg.run(&["--output", keyring.to_str().unwrap(), "--export", &good, &expired, &revoked, &old, &sub]);

    let cases = [
        ("pgp/good", "verified", "verified-gpg-key"),
        ("pgp/expired", "invalid", "gpg-key-expired"),
        ("pgp/revoked", "invalid", "gpg-key-revoked"),
        ("pgp/sigexpire", "invalid", "gpg-signature-expired"),
        ("pgp/subkey", "untrusted", "gpg-subkey-not-accepted"),
    ];
    for (repo, status, reason) in cases {
        let img = format!("{r}/{repo}:v1");
        let (ok, why) = skopeo_accepts(&gpg, rd, &pol, &img, work.path());
        assert_eq!(ok, status == "verified", "skopeo on {repo}: {why}");
        let (report, o) = scan(&[
            "image",
            "--plain-http",
            "-o",
            "json",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
            &img,
        ]);
        let i = &report["images"][0];
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{repo}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            (i["status"].as_str().unwrap(), codes(&i["signatures"][0])),
            (status, vec![reason.to_string()]),
            "{repo}: {report:#}"
        );
    }

    // `--at`: key and signature expiry judged at the evaluation time, not now. GnuPG, told the
    // same time (`--faked-system-time`), is the independent verdict: GOODSIG where we say
    // `verified`, EXPKEYSIG / EXPSIG where we say `invalid`.
    let gpg_status = |repo: &str, at: &str| {
        let digest = reg.tag_digest(repo, "v1");
        let sig = lookaside_dir(www, repo, &digest).join("signature-1");
        let o = Command::new("gpg")
            .args(["--batch", "--status-fd", "1", "--faked-system-time", at, "--verify"])
            .arg(&sig)
            .env("GNUPGHOME", gpg.home.path())
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        ["GOODSIG", "EXPKEYSIG", "EXPSIG"]
            .into_iter()
            .find(|w| text.contains(&format!("[GNUPG:] {w} ")))
            .unwrap_or_else(|| panic!("gpg --verify {repo}: {text}"))
    };
    let at_cases = [
        ("pgp/expired", "2020-01-01T18:00:00Z", "20200101T180000!", "verified", "GOODSIG", "verified-gpg-key"),
        ("pgp/expired", "2020-01-03T00:00:00Z", "20200103T000000!", "invalid", "EXPKEYSIG", "gpg-key-expired"),
        ("pgp/sigexpire", "2020-01-02T12:00:00Z", "20200102T120000!", "verified", "GOODSIG", "verified-gpg-key"),
        ("pgp/sigexpire", "2020-01-04T00:00:00Z", "20200104T000000!", "invalid", "EXPSIG", "gpg-signature-expired"),
    ];
    for (repo, at, faked, status, gnupg, reason) in at_cases {
        assert_eq!(gpg_status(repo, faked), gnupg, "GnuPG on {repo} at {at}");
        let img = format!("{r}/{repo}:v1");
        let (report, _) = scan(&[
            "image",
            "--plain-http",
            "-o",
            "json",
            "--at",
            at,
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
            &img,
        ]);
        let i = &report["images"][0];
        assert_eq!(
            (i["status"].as_str().unwrap(), codes(&i["signatures"][0])),
            (status, vec![reason.to_string()]),
            "{repo} --at {at}: {report:#}"
        );
    }

    // Policy scopes (items 5, 6 of the review): the good signature under a policy whose tag scope
    // names another key, and under one whose scope lists two signedBy requirements (all must hold).
    let other = gpg.key("Other <other@example.test>", "ed25519");
    let other_ring = work.path().join("other.gpg");
    gpg.export(&other, &other_ring, false);
    let signed_by = |ring: &Path| {
        serde_json::json!({"type": "signedBy", "keyType": "GPGKeys", "keyPath": ring,
                           "signedIdentity": {"type": "matchRepoDigestOrExact"}})
    };
    let write = |name: &str, docker: serde_json::Value| {
        let p = work.path().join(name);
        let json = serde_json::json!({"default": [{"type": "reject"}],
            "transports": {"docker": docker, "dir": {"": [{"type": "insecureAcceptAnything"}]}}});
        std::fs::write(&p, serde_json::to_vec(&json).unwrap()).unwrap();
        p
    };
    let accept = serde_json::json!({"type": "insecureAcceptAnything"});
    let good_ref = format!("{r}/pgp/good");
    let good_digest = reg.tag_digest("pgp/good", "v1");
    // Per reference, as containers/image's requirementsForImageRef picks the scope (the tag's or
    // digest's own, then the repository and its namespaces), all of its requirements must hold.
    let tag_scope = write(
        "tagscope.json",
        serde_json::json!({r.as_str(): [signed_by(&keyring)], format!("{good_ref}:v1"): [signed_by(&other_ring)]}),
    );
    let both = write("bothreq.json", serde_json::json!({r.as_str(): [signed_by(&keyring), signed_by(&other_ring)]}));
    let rejecting = write("reject.json", serde_json::json!({r.as_str(): [signed_by(&keyring), {"type": "reject"}]}));
    let tag_trusts = write(
        "tagtrusts.json",
        serde_json::json!({r.as_str(): [signed_by(&other_ring)], format!("{good_ref}:v1"): [signed_by(&keyring)]}),
    );
    let with_accept = write("withaccept.json", serde_json::json!({r.as_str(): [signed_by(&keyring), accept.clone()]}));
    let digest_rejected = write(
        "digestreject.json",
        serde_json::json!({r.as_str(): [signed_by(&keyring)], format!("{good_ref}@{good_digest}"): [{"type": "reject"}]}),
    );
    let by_tag = format!("{good_ref}:v1");
    let by_digest = format!("{good_ref}@{good_digest}");
    let cases: [(&PathBuf, &str, &str, Vec<String>); 8] = [
        (&tag_scope, &by_tag, "untrusted", vec![by_tag.clone()]),
        (&both, &by_tag, "untrusted", vec![by_tag.clone()]),
        (&rejecting, &by_tag, "untrusted", vec![by_tag.clone()]),
        (&tag_trusts, &by_tag, "verified", vec![]),
        (&with_accept, &by_tag, "verified", vec![]),
        (&digest_rejected, &by_tag, "verified", vec![]),
        (&digest_rejected, &by_digest, "untrusted", vec![by_digest.clone()]),
        (&pol, &by_digest, "verified", vec![]),
    ];
    for (pol, img, status, unsatisfied) in cases {
        let (ok, why) = skopeo_accepts(&gpg, rd, pol, img, work.path());
        assert_eq!(ok, status == "verified", "skopeo on {img} under {}: {why}", pol.display());
        let (report, _) = scan(&[
            "image",
            "--plain-http",
            "-o",
            "json",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
            img,
        ]);
        let i = &report["images"][0];
        let listed: Vec<String> = i["containersPolicy"]["unsatisfied"]
            .as_array()
            .unwrap_or_else(|| panic!("no containersPolicy: {report:#}"))
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            (i["status"].as_str().unwrap(), listed),
            (status, unsatisfied),
            "{img} under {} (skopeo: {ok} {why}): {report:#}",
            pol.display()
        );
    }

    // Tag relocation in registry mode (item 7): the signed digest pushed again as pgp/good:v2;
    // skopeo accepts :v1 and refuses :v2, so the image reported with tags v1 and v2 is not
    // verified and its policy verdict names :v2. A policy whose scope for :v2 accepts anything
    // makes skopeo accept both, and the image verified.
    skopeo_ok(
        &gpg,
        rd,
        &[
            "copy",
            "--src-tls-verify=false",
            "--dest-tls-verify=false",
            "--preserve-digests",
            &format!("docker://{r}/pgp/good:v1"),
            &format!("docker://{r}/pgp/good:v2"),
        ],
    );
    let v2_accepted = write(
        "v2accepted.json",
        serde_json::json!({r.as_str(): [signed_by(&keyring)], format!("{good_ref}:v2"): [accept]}),
    );
    for (pol, v2_ok, status) in [(&pol, false, "untrusted"), (&v2_accepted, true, "verified")] {
        let (ok, why) = skopeo_accepts(&gpg, rd, pol, &format!("{good_ref}:v1"), work.path());
        assert!(ok, "skopeo refuses :v1 under {}: {why}", pol.display());
        let (ok, why) = skopeo_accepts(&gpg, rd, pol, &format!("{good_ref}:v2"), work.path());
        assert_eq!(ok, v2_ok, "skopeo on the relocated tag under {}: {why}", pol.display());
        let (report, _) = scan(&[
            "registry",
            &format!("{r}/pgp"),
            "--plain-http",
            "-o",
            "json",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
        ]);
        let i = image(&report, "pgp/good");
        let unsatisfied: Vec<String> = if v2_ok { vec![] } else { vec![format!("{good_ref}:v2")] };
        assert_eq!(
            (i["status"].as_str().unwrap(), &i["containersPolicy"]["unsatisfied"], codes(&i["signatures"][0])),
            (status, &serde_json::json!(unsatisfied), vec!["verified-gpg-key".to_string()]),
            "{}: {report:#}",
            pol.display()
        );
        // The table (`-o wide`) names the refused tag and why.
        let o = sigaudit([
            "registry",
            &format!("{r}/pgp"),
            "--plain-http",
            "-o",
            "wide",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
        ]);
        let text = String::from_utf8_lossy(&o.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
        let said = format!("containers policy refuses {good_ref}:v2");
        assert_eq!(text.contains(&said), !v2_ok, "{text}");
    }

    // The 64-signature cap: exactly 64 are read without complaint, a 65th is an error in the report.
    let sub_digest = reg.tag_digest("pgp/subkey", "v1");
    let dir = lookaside_dir(www, "pgp/subkey", &sub_digest);
    let scan_sub = || {
        let img = format!("{r}/pgp/subkey:v1");
        let (report, _) = scan(&["image", "--plain-http", "-o", "json", "--registries-d", rd.to_str().unwrap(), &img]);
        report.to_string()
    };
    for n in 2..=64 {
        std::fs::copy(dir.join("signature-1"), dir.join(format!("signature-{n}"))).unwrap();
    }
    assert!(!scan_sub().contains("more than 64 signatures"));
    std::fs::copy(dir.join("signature-1"), dir.join("signature-65")).unwrap();
    let text = scan_sub();
    assert!(text.contains("more than 64 signatures"), "{text}");
}

/// A `*.domain` scope covers a registry with a port, and an IP host, as containers/image reads
/// it (the host cut at its first `:`, then its parent domains: `127.0.0.1:PORT` falls in `*.0.1`):
/// a wildcard scope naming another key overrides the default, for skopeo and for us.
#[test]
fn wildcard_scopes_cover_hosts_with_ports_as_skopeo_reads_them() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let r = reg.addr.clone();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let gpg = Gpg::new();
    let signer = gpg.key("Signer <signer@example.test>", "ed25519");
    let other = gpg.key("Other <other@example.test>", "ed25519");
    let (signer_ring, other_ring) = (w.join("signer.gpg"), w.join("other.gpg"));
    gpg.export(&signer, &signer_ring, false);
    gpg.export(&other, &other_ring, false);
    let store = Store::new(w, &r);
    let rd = &store.rd;
    let (s, d) = (format!("docker://{r}/apps/unsigned:v1"), format!("docker://{r}/wild/app:v1"));
    let copy = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--preserve-digests", "--sign-by"];
    skopeo_ok(&gpg, rd, &[&copy[..], &[signer.as_str(), &s, &d]].concat());
    let signed_by = |ring: &Path| serde_json::json!([{"type": "signedBy", "keyType": "GPGKeys", "keyPath": ring}]);
    let write = |name: &str, docker: serde_json::Value| {
        let p = w.join(name);
        let json = serde_json::json!({"default": signed_by(&signer_ring),
            "transports": {"docker": docker, "dir": {"": [{"type": "insecureAcceptAnything"}]}}});
        std::fs::write(&p, serde_json::to_vec(&json).unwrap()).unwrap();
        p
    };
    let img = format!("{r}/wild/app:v1");
    for (name, docker, verified) in [
        ("plain.json", serde_json::json!({}), true),
        ("wild.json", serde_json::json!({"*.0.1": signed_by(&other_ring)}), false),
        ("wild-deeper.json", serde_json::json!({"*.0.0.1": signed_by(&other_ring)}), false),
    ] {
        let pol = write(name, docker);
        let (ok, why) = skopeo_accepts(&gpg, rd, &pol, &img, w);
        eprintln!("{name}: skopeo {}", if ok { "accepts" } else { "refuses" });
        assert_eq!(ok, verified, "skopeo under {name}: {why}");
        let (report, _) = scan(&[
            "image",
            "--plain-http",
            "-o",
            "json",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
            &img,
        ]);
        let status = report["images"][0]["status"].as_str().unwrap().to_string();
        assert_eq!(status == "verified", verified, "{name}: {report:#}");
    }
}

/// The first packet of a binary OpenPGP keyring (the primary public-key packet alone).
fn first_packet(bytes: &[u8]) -> Vec<u8> {
    let tag = bytes[0];
    let (header, len) = if tag & 0x40 != 0 {
        // New format: one-, two- or five-octet length.
        match bytes[1] {
            l @ 0..=191 => (2, l as usize),
            l @ 192..=223 => (3, ((l as usize - 192) << 8) + bytes[2] as usize + 192),
            _ => (6, u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]) as usize),
        }
    } else {
        match tag & 3 {
            0 => (2, bytes[1] as usize),
            1 => (3, u16::from_be_bytes([bytes[1], bytes[2]]) as usize),
            _ => (5, u32::from_be_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize),
        }
    };
    bytes[..header + len].to_vec()
}

/// GnuPG's own validity rules, which a second review found missing (its findings 1, 2, 4, 5, 11):
/// every key and signature here is made by GnuPG, every verdict of ours set beside skopeo's under
/// a `signedBy` policy naming the same keyring.
/// - a keyring holding two copies of one certificate (`gpg --export A >> keyring` after a change)
///   is judged by both, as GnuPG merges them: the copy with the revocation, or the newer
///   self-signature with an expiry, counts (binary concatenation and two armor blocks);
/// - a certificate cut down to its bare public-key packet (no user ID, so no expiry and no
///   revocation) is skipped, as GnuPG skips it: the signature's key is unknown;
/// - a primary key whose newest self-signature no longer allows signing, a key made "in the
///   future", an MD5 signature, an unknown critical notation: refused;
/// - an armored signature: containers/image reads only binary ones;
/// - a BZip2-compressed signature: accepted, as GnuPG accepts it.
#[test]
fn gnupg_validity_rules_agree_with_skopeo() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let r = reg.addr.clone();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let gpg = Gpg::new();
    let good = gpg.key("Good Signer <good@example.test>", "ed25519");
    let fpr = |uid: &str| {
        let o = gpg.run(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string()
    };
    let gen_at = |when: &str, uid: &str, algo: &str, usage: &str| {
        gpg.run(&["--faked-system-time", when, "--passphrase", "", "--quick-gen-key", uid, algo, usage, "never"]);
        fpr(uid)
    };
    let twice = gpg.key("Twice <twice@example.test>", "ed25519");
    let lapsed = gen_at("20240101T000000!", "Lapsed <lapsed@example.test>", "ed25519", "sign");
    let usage = gen_at("20240101T000000!", "Usage <usage@example.test>", "ed25519", "sign");
    let weak = gpg.key("Weak <weak@example.test>", "rsa2048");
    let future = gen_at("20350101T000000!", "Future <future@example.test>", "ed25519", "sign");
    let bare = gpg.key("Bare <bare@example.test>", "ed25519");

    let store = Store::new(w, &r);
    let rd = &store.rd;
    // Each image copied and signed by skopeo with the good key, then its payload signed again by
    // `key` with GnuPG (`extra` arguments first), replacing skopeo's signature.
    let signer = Resigner { gpg: &gpg, reg: &reg, store: &store, work: w, good: &good };
    let resign = |repo: &str, key: &str, extra: &[&str]| {
        signer.resign("apps/unsigned:v1", repo, key, extra);
    };
    resign("gpg2/revoked-bin", &twice, &[]);
    resign("gpg2/revoked-asc", &twice, &[]);
    resign("gpg2/expired", &lapsed, &["--faked-system-time", "20240101T120000!"]);
    resign("gpg2/usage", &usage, &[]);
    resign("gpg2/md5", &weak, &["--allow-weak-digest-algos", "--digest-algo", "MD5"]);
    resign("gpg2/critical", &good, &["--sig-notation", "!audit@example.test=1"]);
    resign("gpg2/future", &future, &["--faked-system-time", "20350102T000000!"]);
    resign("gpg2/armored", &good, &["--armor"]);
    resign("gpg2/bzip2", &good, &["--compress-algo", "bzip2"]);
    resign("gpg2/bare", &bare, &[]);

    // Keyrings. Twice: exported, then revoked and exported again (both copies kept).
    let export = |name: &str, key: &str, armor: bool| {
        let p = w.join(name);
        gpg.export(key, &p, armor);
        std::fs::read(&p).unwrap()
    };
    let (before_bin, before_asc) = (export("twice-1.gpg", &twice, false), export("twice-1.asc", &twice, true));
    let rev = std::fs::read_to_string(gpg.home.path().join(format!("openpgp-revocs.d/{twice}.rev"))).unwrap();
    let rev_file = w.join("rev.asc");
    std::fs::write(&rev_file, rev.replace(":-----BEGIN PGP PUBLIC KEY BLOCK", "-----BEGIN PGP PUBLIC KEY BLOCK"))
        .unwrap();
    gpg.run(&["--import", rev_file.to_str().unwrap()]);
    let (after_bin, after_asc) = (export("twice-2.gpg", &twice, false), export("twice-2.asc", &twice, true));
    // Lapsed: exported without expiry, then given a one-day expiry in February 2024.
    let lapsed_never = export("lapsed-1.gpg", &lapsed, false);
    gpg.run(&["--faked-system-time", "20240201T000000!", "--quick-set-expire", &lapsed, "1d"]);
    let lapsed_dated = export("lapsed-2.gpg", &lapsed, false);
    // Usage: the primary key's signing capability taken away after it signed.
    let edit = Command::new("gpg")
        .args(["--batch", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--command-fd", "0"])
        .args(["--expert", "--edit-key", &usage])
        .env("GNUPGHOME", gpg.home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    edit.stdin.as_ref().unwrap().write_all(b"change-usage\nS\nQ\nsave\n").unwrap();
    assert!(edit.wait_with_output().unwrap().status.success(), "gpg --edit-key change-usage");
    let listed = String::from_utf8_lossy(&gpg.run(&["--list-keys", &usage]).stdout).into_owned();
    assert!(listed.contains("[C]"), "the usage change did not take: {listed}");
    // Bare: the first packet of Bare's certificate, beside the good key's whole certificate.
    let bare_packet = first_packet(&export("bare-full.gpg", &bare, false));

    let ring = |name: &str, parts: &[&[u8]]| {
        let p = w.join(name);
        std::fs::write(&p, parts.concat()).unwrap();
        p
    };
    let good_ring = export("good.gpg", &good, false);
    let cases: Vec<(&str, PathBuf, &str, &str)> = vec![
        ("gpg2/revoked-bin", ring("r1.gpg", &[&before_bin, &after_bin]), "invalid", "gpg-key-revoked"),
        ("gpg2/revoked-asc", ring("r2.asc", &[&before_asc, &after_asc]), "invalid", "gpg-key-revoked"),
        ("gpg2/expired", ring("e.gpg", &[&lapsed_never, &lapsed_dated]), "invalid", "gpg-key-expired"),
        ("gpg2/usage", ring("u.gpg", &[&export("usage.gpg", &usage, false)]), "invalid", "gpg-key-unusable"),
        ("gpg2/md5", ring("m.gpg", &[&export("weak.gpg", &weak, false)]), "invalid", "gpg-signature-refused"),
        ("gpg2/critical", ring("c.gpg", &[&good_ring]), "invalid", "gpg-signature-refused"),
        ("gpg2/future", ring("f.gpg", &[&export("future.gpg", &future, false)]), "invalid", "gpg-key-unusable"),
        ("gpg2/armored", ring("a.gpg", &[&good_ring]), "invalid", "malformed-signature"),
        ("gpg2/bzip2", ring("z.gpg", &[&good_ring]), "verified", "verified-gpg-key"),
        ("gpg2/bare", ring("b.gpg", &[&bare_packet, &good_ring]), "invalid", "gpg-key-unknown"),
    ];
    for (repo, keyring, status, reason) in cases {
        let pol = policy(w, &format!("{}.json", repo.replace('/', "_")), &r, &keyring, "matchRepoDigestOrExact");
        let img = format!("{r}/{repo}:v1");
        let (ok, why) = skopeo_accepts(&gpg, rd, &pol, &img, w);
        eprintln!("{repo}: skopeo {}", if ok { "accepts".to_string() } else { format!("refuses ({})", why.trim()) });
        assert_eq!(ok, status == "verified", "skopeo on {repo}: {why}");
        let (report, o) = scan(&[
            "image",
            "--plain-http",
            "-o",
            "json",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
            &img,
        ]);
        let i = &report["images"][0];
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{repo}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            (i["status"].as_str().unwrap(), codes(&i["signatures"][0])),
            (status, vec![reason.to_string()]),
            "{repo}: {report:#}"
        );
    }
    // The bare packet alone is no keyring at all: a usage error naming why, as skopeo imports no key.
    let lone = ring("lone.gpg", &[&bare_packet]);
    let o = sigaudit([
        "image",
        "--plain-http",
        "-o",
        "json",
        "--gpg-keyring",
        lone.to_str().unwrap(),
        &format!("{r}/gpg2/bare:v1"),
    ]);
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("without a self-signed user ID"));
}

/// A scripted signer (Python `cryptography`): adds a direct-key self-signature (type 0x1F) with
/// the given key flags and key expiry to a GnuPG-made ed25519 certificate, signed with its primary
/// key from GnuPG's unprotected secret-key export; GnuPG has no command that makes one.
const DIRECT_KEY_SIGNER: &str = r#"
# Add a direct-key self-signature (type 0x1F) to a GnuPG-exported ed25519 certificate, signed
# with its primary key taken from GnuPG's unprotected secret-key export. Arguments: secret key
# file, public certificate file, output file, signature time (Unix s), key flags (hex, or -),
# key expiry in seconds after the key's creation (or -), and "critical" to add an unknown
# (experimental, type 100) hashed subpacket marked critical, "revocation" to make a key revocation
# (type 0x20) instead.
import hashlib, struct, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

def packets(data):
    out, i = [], 0
    while i < len(data):
        ctb = data[i]
        if ctb & 0x40:
            tag, l0 = ctb & 0x3F, data[i + 1]
            if l0 < 192:
                n, h = l0, 2
            elif l0 < 224:
                n, h = ((l0 - 192) << 8) + data[i + 2] + 192, 3
            else:
                n, h = struct.unpack(">I", data[i + 2:i + 6])[0], 6
        else:
            tag, lt = (ctb >> 2) & 0xF, ctb & 3
            size = [1, 2, 4][lt]
            n = int.from_bytes(data[i + 1:i + 1 + size], "big")
            h = 1 + size
        out.append((tag, data[i:i + h + n], data[i + h:i + h + n]))
        i += h + n
    return out

def mpi_end(body, at):
    bits = struct.unpack(">H", body[at:at + 2])[0]
    return at + 2 + (bits + 7) // 8

def sub(typ, data):
    return bytes([len(data) + 1, typ]) + data

secret, public, output, when, flags, expiry = sys.argv[1:7]
critical = "critical" in sys.argv[7:]
sigtype = 0x20 if "revocation" in sys.argv[7:] else 0x1F
tag, _, sbody = packets(open(secret, "rb").read())[0]
assert tag == 5 and sbody[0] == 4 and sbody[5] == 22, "an ed25519 (EdDSA) v4 secret key"
oid_len = sbody[6]
pub_end = mpi_end(sbody, 7 + oid_len)
pubbody = sbody[:pub_end]
assert sbody[pub_end] == 0, "the secret key is protected"
seed_end = mpi_end(sbody, pub_end + 1)
seed = sbody[pub_end + 3:seed_end].rjust(32, b"\0")
key = Ed25519PrivateKey.from_private_bytes(seed)
fpr = hashlib.sha1(b"\x99" + struct.pack(">H", len(pubbody)) + pubbody).digest()
hashed = sub(2, struct.pack(">I", int(when))) + sub(33, b"\x04" + fpr)
if flags != "-":
    hashed += sub(27, bytes([int(flags, 16)]))
if expiry != "-":
    hashed += sub(9, struct.pack(">I", int(expiry)))
if critical:
    hashed += sub(0x80 | 100, b"\0")
head = bytes([4, sigtype, 22, 8]) + struct.pack(">H", len(hashed)) + hashed
digest = hashlib.sha256(
    b"\x99" + struct.pack(">H", len(pubbody)) + pubbody + head + b"\x04\xff" + struct.pack(">I", len(head))
).digest()
rs = key.sign(digest)
mpi = lambda b: struct.pack(">H", len(b.lstrip(b"\0")) * 8 - (8 - b.lstrip(b"\0")[0].bit_length())) + b.lstrip(b"\0")
unhashed = sub(16, fpr[-8:])
body = head + struct.pack(">H", len(unhashed)) + unhashed + digest[:2] + mpi(rs[:32]) + mpi(rs[32:])
sig = bytes([0xC2, 0xFF]) + struct.pack(">I", len(body)) + body
pk = packets(open(public, "rb").read())
assert pk[0][0] == 6 and pk[0][2] == pubbody, "the certificate is not the secret key's"
open(output, "wb").write(pk[0][1] + sig + b"".join(p[1] for p in pk[1:]))
"#;

/// Which self-signatures count, as GnuPG merges them (g10/getkey.c `merge_selfsigs_main`), each
/// case made by GnuPG and judged by skopeo under `signedBy` and by `gpg --verify` (a fresh GnuPG
/// home that imported the same keyring) beside us:
/// - a third-party certification on the user ID (`gpg -u R --quick-sign-key`, as in Debian's
///   archive keyring) is ignored, not a reason to refuse the keyring;
/// - the key expiry comes from the user ID of latest self-signature that sets one, not from the
///   newest self-signature: user ID 1 bound with a one-day expiry, user ID 2 bound later with none
///   (two exports of the key, each filtered to one user ID with `--export-filter keep-uid`);
/// - a key whose only user-ID binding is hashed with MD5 has no valid user ID for GnuPG: skipped;
/// - a revocation by a designated revoker (`addrevoker`, `--desig-revoke`) counts only when the
///   revoker's key is in the keyring: ignored without it, the key revoked with it;
/// - a direct-key signature's key expiry and key flags come first, though older than the user ID
///   binding (added by [`DIRECT_KEY_SIGNER`]): expired after a day, certify-only, and sign where
///   the user ID binding says certify-only; a newest one with an unknown critical subpacket,
///   which GnuPG disregards, does not expire the key, nor does such a key revocation revoke it;
/// - a registries.d file with moderate aliasing reads, as go-yaml reads it.
#[test]
fn gnupg_self_signature_rules_agree_with_skopeo() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let r = reg.addr.clone();
    let work = tempfile::tempdir().unwrap();
    let w = work.path();
    let gpg = Gpg::new();
    let good = gpg.key("Good Signer <good@example.test>", "ed25519");
    let fpr = |uid: &str| {
        let o = gpg.run(&["--with-colons", "--list-keys", uid]);
        let text = String::from_utf8_lossy(&o.stdout).into_owned();
        text.lines().find(|l| l.starts_with("fpr:")).unwrap().split(':').nth(9).unwrap().to_string()
    };
    let revoker = gpg.key("Revoker <revoker@example.test>", "ed25519");
    let certified = gpg.key("Certified <certified@example.test>", "ed25519");
    gpg.run(&["--passphrase", "", "--pinentry-mode", "loopback", "-u", &revoker, "--quick-sign-key", &certified]);
    // Two user IDs: the first bound on 2024-01-01 with a one-day key expiry, the second bound later
    // that day without one (the key's expiry having been cleared in between).
    let t0 = ["--faked-system-time", "20240101T000000!", "--passphrase", ""];
    gpg.run(&[&t0[..], &["--quick-gen-key", "Two <two@example.test>", "ed25519", "sign", "1d"]].concat());
    let two = fpr("two@example.test");
    let export_uid = |name: &str, key: &str, uid: &str| {
        let p = w.join(name);
        let filter = format!("uid =~ {uid}");
        gpg.run(&["--output", p.to_str().unwrap(), "--export-filter", &format!("keep-uid={filter}"), "--export", key]);
        std::fs::read(&p).unwrap()
    };
    let two_first = export_uid("two-1.gpg", &two, "two@example.test");
    gpg.run(&["--faked-system-time", "20240101T020000!", "--passphrase", "", "--quick-set-expire", &two, "never"]);
    gpg.run(&[
        "--faked-system-time",
        "20240101T030000!",
        "--passphrase",
        "",
        "--quick-add-uid",
        &two,
        "Two B <twob@example.test>",
    ]);
    let two_second = export_uid("two-2.gpg", &two, "twob@example.test");
    // A key whose user-ID binding is hashed with MD5.
    gpg.run(&[
        "--passphrase",
        "",
        "--allow-weak-digest-algos",
        "--cert-digest-algo",
        "MD5",
        "--quick-gen-key",
        "Md5 <md5@example.test>",
        "ed25519",
        "sign",
        "never",
    ]);
    let md5 = fpr("md5@example.test");
    // Keys made on 2024-01-01 whose user-ID binding is renewed at 01:00, given a direct-key
    // signature dated 00:01 (older than the binding) by the scripted signer.
    let dk_key = |name: &str, usage: &str| {
        let uid = format!("{name} <{name}@example.test>");
        gpg.run(&[&t0[..], &["--quick-gen-key", &uid, "ed25519", usage, "never"]].concat());
        let key = fpr(&format!("{name}@example.test"));
        for (when, expiry) in [("20240101T003000!", "1y"), ("20240101T010000!", "never")] {
            gpg.run(&["--faked-system-time", when, "--passphrase", "", "--quick-set-expire", &key, expiry]);
        }
        key
    };
    let with_direct_key = |key: &str, when: &str, flags: &str, expiry: &str, extra: &[&str]| {
        let (sec, public, out) =
            (w.join(format!("{key}.sec")), w.join(format!("{key}.pub")), w.join(format!("{key}.dk")));
        let secret = ["--pinentry-mode", "loopback", "--passphrase", "", "--output", sec.to_str().unwrap()];
        gpg.run(&[&secret[..], &["--export-secret-keys", key]].concat());
        gpg.export(key, &public, false);
        let script = w.join("direct_key.py");
        std::fs::write(&script, DIRECT_KEY_SIGNER).unwrap();
        let o = Command::new(common::venv().join("bin/python"))
            .arg(&script)
            .args([&sec, &public, &out])
            .args([when, flags, expiry])
            .args(extra)
            .output()
            .unwrap();
        assert!(o.status.success(), "direct-key signer: {}", String::from_utf8_lossy(&o.stderr));
        std::fs::remove_file(&sec).unwrap();
        std::fs::read(&out).unwrap()
    };
    let dk_expiring = dk_key("dkexpiry", "sign");
    let dk_expiring_ring = with_direct_key(&dk_expiring, "1704067260", "-", "86400", &[]);
    let dk_certify = dk_key("dkcertify", "sign");
    let dk_certify_ring = with_direct_key(&dk_certify, "1704067260", "01", "-", &[]);
    let dk_sign = dk_key("dksign", "cert");
    let dk_sign_ring = with_direct_key(&dk_sign, "1704067260", "03", "-", &[]);
    // The newest self-signature (01:01), expiring the key after a day, with an unknown critical
    // subpacket: GnuPG disregards it.
    let dk_critical = dk_key("dkcritical", "sign");
    let dk_critical_ring = with_direct_key(&dk_critical, "1704070860", "-", "86400", &["critical"]);
    // A key revocation with an unknown critical subpacket: GnuPG disregards it.
    let rev_critical = dk_key("revcritical", "sign");
    let rev_critical_ring = with_direct_key(&rev_critical, "1704070860", "-", "-", &["critical", "revocation"]);
    // The same without the critical subpacket: a revocation GnuPG takes (the control).
    let rev_plain_ring = with_direct_key(&rev_critical, "1704070860", "-", "-", &["revocation"]);
    // The signer's GnuPG takes the direct-key signature too, so it signs with this key.
    let dk_sign_file = w.join("dksign.gpg");
    std::fs::write(&dk_sign_file, &dk_sign_ring).unwrap();
    gpg.run(&["--import", dk_sign_file.to_str().unwrap()]);
    // A key naming Revoker as its designated revoker, then revoked by Revoker.
    let desig = gpg.key("Desig <desig@example.test>", "ed25519");
    let interactive = |args: &[&str], input: &str| {
        let child = Command::new("gpg")
            .args(["--no-tty", "--yes", "--pinentry-mode", "loopback", "--passphrase", "", "--command-fd", "0"])
            .args(args)
            .env("GNUPGHOME", gpg.home.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.as_ref().unwrap().write_all(input.as_bytes()).unwrap();
        let o = child.wait_with_output().unwrap();
        assert!(o.status.success(), "gpg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let store = Store::new(w, &r);
    let (rd, web) = (&store.rd, &store.web);
    // Each image copied and signed by skopeo with the good key, then its payload signed again by
    // `key` with GnuPG (`extra` arguments first), replacing skopeo's signature.
    let signer = Resigner { gpg: &gpg, reg: &reg, store: &store, work: w, good: &good };
    let resign = |repo: &str, key: &str, extra: &[&str]| signer.resign("apps/unsigned:v1", repo, key, extra);
    let sig_certified = resign("gpg3/certified", &certified, &[]);
    let sig_two = resign("gpg3/uid-expiry", &two, &["--faked-system-time", "20240101T120000!"]);
    let sig_md5 = resign("gpg3/md5-uid", &md5, &["--allow-weak-digest-algos"]);
    let sig_desig = resign("gpg3/desig-absent", &desig, &[]);
    let sig_desig2 = resign("gpg3/desig-present", &desig, &[]);
    let sig_dk_expiring = resign("gpg3/dk-expiry", &dk_expiring, &["--faked-system-time", "20240101T120000!"]);
    let sig_dk_certify = resign("gpg3/dk-certify", &dk_certify, &[]);
    let sig_dk_sign = resign("gpg3/dk-sign", &dk_sign, &[]);
    let sig_rev_critical = resign("gpg3/revocation-critical", &rev_critical, &[]);
    let sig_rev_plain = resign("gpg3/revocation-plain", &rev_critical, &[]);
    let sig_dk_critical = resign("gpg3/dk-critical", &dk_critical, &["--faked-system-time", "20240101T120000!"]);
    // Then Desig names Revoker its designated revoker, and Revoker revokes it.
    interactive(&["--edit-key", &desig], &format!("addrevoker\n{revoker}\ny\nsave\n"));
    let rev = w.join("desig-rev.asc");
    interactive(&["--armor", "--output", rev.to_str().unwrap(), "--desig-revoke", &desig], "y\n0\n\ny\n");
    gpg.run(&["--import", rev.to_str().unwrap()]);
    let listed = String::from_utf8_lossy(&gpg.run(&["--with-colons", "--list-keys", &desig]).stdout).into_owned();
    assert!(listed.lines().any(|l| l.starts_with("pub:r:")), "the designated revocation did not take: {listed}");

    let export = |name: &str, key: &str| {
        let p = w.join(name);
        gpg.export(key, &p, false);
        std::fs::read(&p).unwrap()
    };
    let ring = |name: &str, parts: &[&[u8]]| {
        let p = w.join(name);
        std::fs::write(&p, parts.concat()).unwrap();
        p
    };
    let good_ring = export("good.gpg", &good);
    let certified_ring = export("certified.gpg", &certified);
    assert!(
        String::from_utf8_lossy(&gpg.run(&["--list-sigs", &certified]).stdout).contains("Revoker"),
        "the third-party certification is not on the key"
    );
    let (desig_ring, revoker_ring) = (export("desig.gpg", &desig), export("revoker.gpg", &revoker));
    let cases: Vec<(&str, &Path, PathBuf, &str, &str, &str)> = vec![
        (
            "gpg3/certified",
            &sig_certified,
            ring("t.gpg", &[&certified_ring]),
            "verified",
            "verified-gpg-key",
            "GOODSIG",
        ),
        (
            "gpg3/uid-expiry",
            &sig_two,
            ring("x.gpg", &[&two_first, &two_second]),
            "invalid",
            "gpg-key-expired",
            "EXPKEYSIG",
        ),
        (
            "gpg3/md5-uid",
            &sig_md5,
            ring("m.gpg", &[&export("md5.gpg", &md5), &good_ring]),
            "invalid",
            "gpg-key-unknown",
            "NO_PUBKEY",
        ),
        (
            "gpg3/desig-absent",
            &sig_desig,
            ring("d1.gpg", &[&desig_ring, &good_ring]),
            "verified",
            "verified-gpg-key",
            "GOODSIG",
        ),
        (
            "gpg3/desig-present",
            &sig_desig2,
            ring("d2.gpg", &[&desig_ring, &revoker_ring]),
            "invalid",
            "gpg-key-revoked",
            "REVKEYSIG",
        ),
        (
            "gpg3/dk-expiry",
            &sig_dk_expiring,
            ring("k1.gpg", &[&dk_expiring_ring]),
            "invalid",
            "gpg-key-expired",
            "EXPKEYSIG",
        ),
        (
            "gpg3/dk-certify",
            &sig_dk_certify,
            ring("k2.gpg", &[&dk_certify_ring]),
            "invalid",
            "gpg-key-unusable",
            "ERRSIG",
        ),
        ("gpg3/dk-sign", &sig_dk_sign, ring("k3.gpg", &[&dk_sign_ring]), "verified", "verified-gpg-key", "GOODSIG"),
        (
            "gpg3/dk-critical",
            &sig_dk_critical,
            ring("k4.gpg", &[&dk_critical_ring]),
            "verified",
            "verified-gpg-key",
            "GOODSIG",
        ),
        (
            "gpg3/revocation-critical",
            &sig_rev_critical,
            ring("k5.gpg", &[&rev_critical_ring]),
            "verified",
            "verified-gpg-key",
            "GOODSIG",
        ),
        (
            "gpg3/revocation-plain",
            &sig_rev_plain,
            ring("k6.gpg", &[&rev_plain_ring]),
            "invalid",
            "gpg-key-revoked",
            "REVKEYSIG",
        ),
    ];
    for (repo, sig, keyring, status, reason, gpg_says) in cases {
        // GnuPG's own verdict, from a home that imported only this keyring.
        let judge = Gpg::new();
        let _ = Command::new("gpg")
            .args(["--batch", "--import", keyring.to_str().unwrap()])
            .env("GNUPGHOME", judge.home.path())
            .output()
            .unwrap();
        let v = Command::new("gpg")
            .args(["--batch", "--status-fd", "1", "--verify", sig.to_str().unwrap()])
            .env("GNUPGHOME", judge.home.path())
            .output()
            .unwrap();
        let status_lines = String::from_utf8_lossy(&v.stdout).into_owned();
        eprintln!(
            "{repo}: gpg --verify: {}",
            status_lines
                .lines()
                .filter(|l| l.contains("SIG") || l.contains("NO_PUBKEY"))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        assert!(status_lines.contains(&format!("[GNUPG:] {gpg_says} ")), "{repo}: gpg --verify: {status_lines}");
        let pol = policy(w, &format!("{}.json", repo.replace('/', "_")), &r, &keyring, "matchRepoDigestOrExact");
        let img = format!("{r}/{repo}:v1");
        let (ok, why) = skopeo_accepts(&gpg, rd, &pol, &img, w);
        eprintln!("{repo}: skopeo {}", if ok { "accepts".to_string() } else { format!("refuses ({})", why.trim()) });
        assert_eq!(ok, status == "verified", "skopeo on {repo}: {why}");
        let (report, o) = scan(&[
            "image",
            "--plain-http",
            "-o",
            "json",
            "--registries-d",
            rd.to_str().unwrap(),
            "--containers-policy",
            pol.to_str().unwrap(),
            &img,
        ]);
        let i = &report["images"][0];
        assert!(
            report["errors"].as_array().is_none_or(|e| e.is_empty()),
            "{repo}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert_eq!(
            (i["status"].as_str().unwrap(), codes(&i["signatures"][0])),
            (status, vec![reason.to_string()]),
            "{repo}: {report:#}"
        );
    }
    // A registries.d file with moderate aliasing (99 aliases of a 1,000-item list, about 100,000
    // nodes): go-yaml reads it and so skopeo finds the lookaside store; so do we.
    let rd_aliased = w.join("registries-aliased.d");
    std::fs::create_dir_all(&rd_aliased).unwrap();
    let (list, refs) = (vec!["x"; 1000].join(","), vec!["*b"; 99].join(","));
    std::fs::write(
        rd_aliased.join("lookaside.yaml"),
        format!("big: &b [{list}]\ndocker:\n  {r}:\n    lookaside: http://{web}\n    junk: [{refs}]\n"),
    )
    .unwrap();
    let keyring = w.join("t.gpg");
    let pol = policy(w, "aliased.json", &r, &keyring, "matchRepoDigestOrExact");
    let img = format!("{r}/gpg3/certified:v1");
    let (ok, why) = skopeo_accepts(&gpg, &rd_aliased, &pol, &img, w);
    assert!(ok, "skopeo with the aliased registries.d: {why}");
    let (report, o) = scan(&[
        "image",
        "--plain-http",
        "-o",
        "json",
        "--registries-d",
        rd_aliased.to_str().unwrap(),
        "--containers-policy",
        pol.to_str().unwrap(),
        &img,
    ]);
    let i = &report["images"][0];
    assert_eq!(i["status"], "verified", "aliased registries.d: {report:#} {}", String::from_utf8_lossy(&o.stderr));
}
