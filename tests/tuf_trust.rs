//! `sigaudit trust update` and the TUF-kept Sigstore trusted root, against TUF repositories made
//! by python-tuf's Metadata API (tests/support/tuf_repo.py, PyPI `tuf` in the project's venv) and
//! served by `python3 -m http.server` on a 127.0.0.1 port the harness allocates. Every case puts
//! python-tuf's own client (`tuf.ngclient.Updater`, the TUF reference implementation) beside
//! ours, on the same repository in the same sequence: a good update, root rotation (v1 -> v2 ->
//! v3, and a v4 the old key did not sign), expired timestamp/snapshot/targets, a rollback of the
//! timestamp, and a tampered target. HOME and XDG_CACHE_HOME point into a temporary directory.

mod common;

use common::{code, free_port, sigaudit_cmd, stdout_json, venv, wait_port};
use serde_json::Value;
use sha2::Digest as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

const KUBEWARDEN_ID: &str =
    "https://github.com/kubewarden/kubewarden-controller/.github/workflows/release.yml@refs/tags/v1.34.0";
const KUBEWARDEN_DIGEST: &str = "sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172";
const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

fn testdata(rel: &str) -> PathBuf {
    common::repo_root().join("testdata").join(rel)
}

/// The real public-good trusted root (the kubewarden bundle verifies under it) and the staging
/// one (it does not): testdata/PROVENANCE.md.
fn public_good() -> PathBuf {
    testdata("cosign/trusted-roots/public-good.trusted_root.json")
}
fn staging() -> PathBuf {
    testdata("cosign/trusted-roots/staging.trusted_root.json")
}

fn sha256_of(path: &Path) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap())))
}

/// A python-tuf repository served on 127.0.0.1, with a home directory for our client and a
/// cache directory for python-tuf's.
struct Repo {
    dir: tempfile::TempDir,
    server: Child,
    url: String,
    /// A real registry (docker-registry) for the scans, started when first needed.
    registry: std::cell::OnceCell<common::Registry>,
}

impl Drop for Repo {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

fn python() -> PathBuf {
    let py = venv().join("bin/python");
    let ok = Command::new(&py).args(["-c", "import tuf.ngclient"]).output().is_ok_and(|o| o.status.success());
    assert!(ok, "{} has no python-tuf: ./scripts/setup.sh installs it (pip `tuf`)", py.display());
    py
}

impl Repo {
    fn new(target: &Path) -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state");
        let mut repo = Repo {
            server: Command::new("true").spawn().unwrap(),
            dir,
            url: String::new(),
            registry: std::cell::OnceCell::new(),
        };
        repo.py(&["init", state.to_str().unwrap(), target.to_str().unwrap()]);
        let port = free_port();
        repo.server = Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(state.join("served"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 -m http.server");
        wait_port(&format!("127.0.0.1:{port}"));
        repo.url = format!("http://127.0.0.1:{port}");
        repo
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn py(&self, args: &[&str]) -> String {
        let script = common::repo_root().join("tests/support/tuf_repo.py");
        let out = Command::new(python()).arg(script).args(args).output().unwrap();
        assert!(out.status.success(), "tuf_repo.py {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    /// A repository change (`publish`, `rotate`, `save`, `restore`, `tamper`).
    fn change(&self, cmd: &str, extra: &[&str]) {
        let state = self.state();
        let mut a = vec![cmd, state.to_str().unwrap()];
        a.extend_from_slice(extra);
        self.py(&a);
    }

    /// python-tuf's verdict: `{"ok": true, "root-version", "target-sha256"}` or `{"ok": false, "error"}`.
    fn python_tuf(&self) -> Value {
        let state = self.state();
        let cache = self.dir.path().join("python-tuf");
        serde_json::from_str(&self.py(&["client", state.to_str().unwrap(), &self.url, cache.to_str().unwrap()]))
            .unwrap()
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// sigaudit with HOME and XDG_CACHE_HOME in this test's directory.
    fn sigaudit(&self, args: &[&str]) -> Output {
        let home = self.home();
        std::fs::create_dir_all(&home).unwrap();
        sigaudit_cmd(args).env("HOME", &home).env("XDG_CACHE_HOME", home.join("cache")).output().unwrap()
    }

    /// `sigaudit trust update --json` from the repository's initial root.
    fn update(&self) -> Output {
        let root = self.state().join("initial-root.json");
        self.sigaudit(&["trust", "update", "--tuf-url", &self.url, "--tuf-root", root.to_str().unwrap(), "--json"])
    }

    fn cache(&self) -> PathBuf {
        let c = self.home().join("cache/sigaudit/tuf");
        let mut dirs: Vec<_> =
            std::fs::read_dir(&c).map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
        dirs.retain(|d| !d.file_name().unwrap().to_string_lossy().starts_with('.'));
        assert!(dirs.len() <= 1, "one repository, one cache: {dirs:?}");
        dirs.pop().unwrap_or(c.join("none"))
    }

    /// The cache's files and their bytes (what a refused update must leave alone).
    fn cache_bytes(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for sub in ["", "metadata"] {
            let d = self.cache().join(sub);
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_file() {
                    out.push((format!("{sub}/{}", e.file_name().to_string_lossy()), std::fs::read(e.path()).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    /// `verify-bundle` of the kubewarden bundle with the default root of --tuf-url.
    fn verify_kubewarden(&self, extra: &[&str]) -> Output {
        let bundle = testdata("cosign/sigstore-rs/bundle_v03-cosign-v3-image-signature.sigstore.json");
        let mut a = vec!["verify-bundle", "--bundle", bundle.to_str().unwrap(), "--json", "--tuf-url", &self.url];
        a.extend_from_slice(&["--certificate-identity", KUBEWARDEN_ID, "--certificate-oidc-issuer", GITHUB_ISSUER]);
        a.extend_from_slice(extra);
        a.push(KUBEWARDEN_DIGEST);
        self.sigaudit(&a)
    }

    /// An image scan (of an image the registry does not hold: the report is still written): its
    /// `scan.settings.sigstore-root`, its notes about it, and stderr.
    fn scan_root(&self, extra: &[&str]) -> (Value, Vec<Value>, String) {
        let image = format!("{}/app:v1", self.registry.get_or_init(|| common::Registry::distribution(100)).addr);
        let mut a = vec!["image", "--plain-http", "--retries", "0", "-o", "json", "--tuf-url", &self.url];
        a.extend_from_slice(extra);
        a.push(&image);
        let out = self.sigaudit(&a);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(code(&out), 3, "the image is not there, the scan is incomplete: {stderr}");
        let report = stdout_json(&out);
        let notes = report["notes"].as_array().cloned().unwrap_or_default();
        let notes = notes.into_iter().filter(|n| n["path"] == "sigstore-root").collect();
        (report["scan"]["settings"]["sigstore-root"].clone(), notes, stderr)
    }
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Ours and python-tuf's verdicts, side by side in the test log.
fn side_by_side(case: &str, ours: &Output, theirs: &Value) {
    let ours = if code(ours) == 0 { "updated".to_string() } else { format!("refused: {}", stderr(ours).trim()) };
    eprintln!("{case}\n  sigaudit:  {ours}\n  python-tuf: {theirs}");
}

#[test]
fn a_good_update_is_cached_and_judges_scans() {
    let repo = Repo::new(&public_good());
    // Nothing cached yet: another repository's root is not silently replaced by the built-in one.
    let none = repo.verify_kubewarden(&[]);
    assert_eq!(code(&none), 2, "{}", stderr(&none));
    assert!(stderr(&none).contains("trust update"), "{}", stderr(&none));
    // --refresh-trust without the repository's initial root cannot update: the built-in root
    // judges, and the report says both.
    let (root, notes, _) = repo.scan_root(&["--refresh-trust"]);
    assert_eq!(root["source"], "builtin", "{root}");
    let codes: Vec<_> = notes.iter().map(|n| n["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["trust-refresh-failed", "trusted-root-not-cached"], "{notes:?}");

    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("good update", &ours, &theirs);
    assert_eq!(code(&ours), 0, "{}", stderr(&ours));
    let got = stdout_json(&ours);
    assert_eq!(theirs["ok"], true);
    assert_eq!(got["root-version"], 1);
    assert_eq!(got["root-version"], theirs["root-version"]);
    assert_eq!(got["target-sha256"], sha256_of(&public_good()));
    assert_eq!(got["target-sha256"], theirs["target-sha256"]);
    assert_eq!(got["expires-role"], "timestamp", "the timestamp expires first (1 day): {got}");
    let cache = repo.cache();
    assert!(cache.starts_with(repo.home().join("cache/sigaudit/tuf")), "{}", cache.display());
    assert_eq!(std::fs::read(cache.join("trusted_root.json")).unwrap(), std::fs::read(public_good()).unwrap());
    for role in ["root", "timestamp", "snapshot", "targets"] {
        assert!(cache.join(format!("metadata/{role}.json")).is_file(), "{role}");
    }

    // The cached root judges: the bundle verifies under it, and the verdict names it.
    let v = repo.verify_kubewarden(&[]);
    assert_eq!(code(&v), 0, "{}", stderr(&v));
    let v = stdout_json(&v);
    assert_eq!(v["verified"], true);
    assert!(v["trusted_root"].as_str().unwrap().contains("TUF cache"), "{v}");
    // The report says which root, which version, which digest.
    let (root, notes, _) = repo.scan_root(&[]);
    assert_eq!(root["source"], "cache", "{root}");
    assert_eq!(root["tuf-url"], repo.url.as_str());
    assert_eq!(root["root-version"], 1);
    assert_eq!(root["target-sha256"], sha256_of(&public_good()));
    assert!(root["expires"].is_string() && root["expires-role"] == "timestamp", "{root}");
    assert!(notes.is_empty(), "{notes:?}");
    // An explicit --trusted-root still wins.
    let file = staging();
    let (root, _, _) = repo.scan_root(&["--trusted-root", file.to_str().unwrap()]);
    assert_eq!(root["source"], "file");

    // The repository publishes another trusted root (the staging one): after the update it
    // judges, and the public-good bundle no longer verifies. The cache decides, not the build.
    repo.change("publish", &["--target", staging().to_str().unwrap()]);
    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("a new trusted root published", &ours, &theirs);
    assert_eq!(code(&ours), 0, "{}", stderr(&ours));
    assert_eq!(stdout_json(&ours)["target-sha256"], sha256_of(&staging()));
    assert_eq!(theirs["target-sha256"], sha256_of(&staging()));
    let v = repo.verify_kubewarden(&[]);
    assert_eq!(code(&v), 1, "{}", stderr(&v));
    assert_eq!(stdout_json(&v)["verified"], false);

    // The public-good URL with nothing cached: the built-in root, said so.
    let home = repo.home();
    let image = format!("{}/app:v1", repo.registry.get_or_init(|| common::Registry::distribution(100)).addr);
    let out = sigaudit_cmd(["image", "--plain-http", "--retries", "0", "-o", "json", &image])
        .env("HOME", &home)
        .env("XDG_CACHE_HOME", home.join("other-cache"))
        .output()
        .unwrap();
    assert_eq!(stdout_json(&out)["scan"]["settings"]["sigstore-root"]["source"], "builtin");
}

#[test]
fn root_rotation_is_followed_and_an_unsigned_rotation_refused() {
    let repo = Repo::new(&public_good());
    assert_eq!(code(&repo.update()), 0);
    assert_eq!(repo.python_tuf()["ok"], true);
    // v1 -> v2 -> v3, each signed by the old root key and the new one.
    repo.change("rotate", &[]);
    repo.change("rotate", &[]);
    repo.change("publish", &[]);
    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("root rotated v1 -> v2 -> v3", &ours, &theirs);
    assert_eq!(code(&ours), 0, "{}", stderr(&ours));
    assert_eq!(stdout_json(&ours)["root-version"], 3);
    assert_eq!(theirs["root-version"], 3);
    // Starting again from the initial v1 root (a fresh cache) reaches v3 too.
    let fresh = sigaudit_cmd(["trust", "update", "--tuf-url", &repo.url, "--tuf-root"])
        .arg(repo.state().join("initial-root.json"))
        .arg("--json")
        .env("HOME", repo.home())
        .env("XDG_CACHE_HOME", repo.dir.path().join("fresh"))
        .output()
        .unwrap();
    assert_eq!(stdout_json(&fresh)["root-version"], 3, "{}", stderr(&fresh));

    // v4 signed by its new key only: the v3 root's threshold is not met (TUF 5.3.4).
    let before = repo.cache_bytes();
    repo.change("rotate", &["--new-only"]);
    repo.change("publish", &[]);
    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("root v4 not signed by v3's key", &ours, &theirs);
    assert_eq!(code(&ours), 1);
    assert!(stderr(&ours).contains("root"), "{}", stderr(&ours));
    assert_eq!(theirs["ok"], false);
    assert!(theirs["error"].as_str().unwrap().contains("UnsignedMetadataError"), "{theirs}");
    assert_eq!(repo.cache_bytes(), before, "a refused update leaves the cache as it was");
    let (root, _, _) = repo.scan_root(&[]);
    assert_eq!(root["root-version"], 3);
}

#[test]
fn expired_metadata_is_refused_and_the_cache_kept() {
    let repo = Repo::new(&public_good());
    assert_eq!(code(&repo.update()), 0);
    assert_eq!(repo.python_tuf()["ok"], true);
    let before = repo.cache_bytes();
    for role in ["timestamp", "snapshot", "targets"] {
        repo.change("publish", &["--target", staging().to_str().unwrap(), "--expire", role]);
        let ours = repo.update();
        let theirs = repo.python_tuf();
        side_by_side(&format!("expired {role}"), &ours, &theirs);
        assert_eq!(code(&ours), 1, "{role}");
        assert!(stderr(&ours).contains("expired"), "{role}: {}", stderr(&ours));
        assert!(stderr(&ours).contains(role), "{role}: {}", stderr(&ours));
        assert_eq!(theirs["ok"], false, "{role}");
        assert!(theirs["error"].as_str().unwrap().contains("ExpiredMetadataError"), "{role}: {theirs}");
        assert_eq!(repo.cache_bytes(), before, "{role}: the cache is left as it was");
    }
    // The cache still judges, offline, unchanged.
    let (root, notes, _) = repo.scan_root(&[]);
    assert_eq!(root["target-sha256"], sha256_of(&public_good()));
    assert!(notes.is_empty(), "{notes:?}");

    // A timestamp that expires seconds after a good update: the scan still uses the cache, with
    // a warning on stderr and in the report.
    repo.change("publish", &["--expire-soon", "timestamp"]);
    assert_eq!(code(&repo.update()), 0);
    std::thread::sleep(std::time::Duration::from_secs(5));
    let (root, notes, log) = repo.scan_root(&[]);
    assert_eq!(root["source"], "cache");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["code"], "trusted-root-expired");
    let warning = notes[0]["message"].as_str().unwrap();
    assert!(warning.contains("expired") && warning.contains("timestamp"), "{warning}");
    assert!(log.contains("expired"), "{log}");
}

#[test]
fn a_rollback_is_refused() {
    let repo = Repo::new(&public_good());
    assert_eq!(code(&repo.update()), 0);
    assert_eq!(repo.python_tuf()["ok"], true);
    repo.change("save", &["v1"]);
    repo.change("publish", &[]);
    // Both clients see timestamp v2.
    assert_eq!(code(&repo.update()), 0);
    assert_eq!(repo.python_tuf()["ok"], true);
    let before = repo.cache_bytes();
    // The server goes back to timestamp v1: validly signed, unexpired, older (TUF 5.4.3.1).
    repo.change("restore", &["v1"]);
    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("timestamp rolled back v2 -> v1", &ours, &theirs);
    assert_eq!(code(&ours), 1);
    assert!(stderr(&ours).contains("version 1 of timestamp"), "{}", stderr(&ours));
    assert_eq!(theirs["ok"], false);
    assert!(theirs["error"].as_str().unwrap().contains("BadVersionNumberError"), "{theirs}");
    assert_eq!(repo.cache_bytes(), before);
}

#[test]
fn a_tampered_target_is_refused_and_refresh_failures_reported() {
    let repo = Repo::new(&public_good());
    assert_eq!(code(&repo.update()), 0);
    assert_eq!(repo.python_tuf()["ok"], true);
    let before = repo.cache_bytes();
    // A new trusted root published, then changed on the server (same length, other bytes).
    repo.change("publish", &["--target", staging().to_str().unwrap()]);
    repo.change("tamper", &[]);
    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("tampered trusted_root.json", &ours, &theirs);
    assert_eq!(code(&ours), 1);
    assert!(stderr(&ours).contains("Hash mismatch"), "{}", stderr(&ours));
    assert_eq!(theirs["ok"], false);
    assert!(theirs["error"].as_str().unwrap().contains("LengthOrHashMismatchError"), "{theirs}");
    assert_eq!(repo.cache_bytes(), before);

    // --refresh-trust on a scan: the update fails, the scan goes on with the cached root and
    // says so (stderr and the report).
    let (root, notes, log) = repo.scan_root(&["--refresh-trust"]);
    assert_eq!(root["source"], "cache");
    assert_eq!(root["target-sha256"], sha256_of(&public_good()));
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["code"], "trust-refresh-failed");
    assert!(notes[0]["message"].as_str().unwrap().contains("Hash mismatch"), "{notes:?}");
    assert!(log.contains("Hash mismatch"), "{log}");

    // A cache changed on disk is re-checked before use: refused, never read as trusted.
    std::fs::write(repo.cache().join("trusted_root.json"), std::fs::read(staging()).unwrap()).unwrap();
    let v = repo.verify_kubewarden(&[]);
    assert_eq!(code(&v), 2, "{}", stderr(&v));
    assert!(stderr(&v).contains("not the file targets.json lists"), "{}", stderr(&v));
}

#[test]
fn a_signed_target_that_is_no_trusted_root_is_refused() {
    let repo = Repo::new(&public_good());
    assert_eq!(code(&repo.update()), 0);
    let before = repo.cache_bytes();
    // Properly signed by the targets key, but a Sigstore bundle, not a trusted root: TUF itself
    // (python-tuf) accepts it; sigaudit also checks that what it will judge with is a trusted
    // root, and keeps the previous one.
    let bundle = testdata("sigstore/bundle_v03.json");
    repo.change("publish", &["--target", bundle.to_str().unwrap()]);
    let ours = repo.update();
    let theirs = repo.python_tuf();
    side_by_side("a signed target that is no trusted root", &ours, &theirs);
    assert_eq!(code(&ours), 1);
    assert!(stderr(&ours).contains("not a usable Sigstore trusted root"), "{}", stderr(&ours));
    assert_eq!(theirs["ok"], true, "TUF-wise the update is good: {theirs}");
    assert_eq!(theirs["target-sha256"], sha256_of(&bundle));
    assert_eq!(repo.cache_bytes(), before);
}
