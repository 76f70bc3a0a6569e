//! Test harness: real registries on 127.0.0.1 (Debian's `docker-registry`, CNCF distribution 2.8,
//! and `ferro-oci-server` for the OCI referrers API), seeded by scripts/seed_registry.py, and the
//! built `sigaudit` binary run against them.

#![allow(dead_code)]

pub mod proxy;

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The third-party samples: this repository's testdata/ (see testdata/PROVENANCE.md), or a larger
/// corpus with the same layout named by `SIGAUDIT_CORPUS`.
pub fn corpus() -> PathBuf {
    match std::env::var_os("SIGAUDIT_CORPUS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => repo_root().join("testdata"),
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn require(path: &str, what: &str) -> String {
    if Path::new(path).exists() {
        return path.to_string();
    }
    if let Ok(p) = which(path) {
        return p;
    }
    panic!("{path} is missing: {what} (./scripts/setup.sh installs it)");
}

fn which(name: &str) -> Result<String, ()> {
    let path = std::env::var_os("PATH").ok_or(())?;
    for dir in std::env::split_paths(&path) {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p.display().to_string());
        }
    }
    Err(())
}

/// A registry process on 127.0.0.1, killed when dropped.
pub struct Registry {
    child: Child,
    pub addr: String,
    pub dir: tempfile::TempDir,
    /// Helper processes (a token server) that live as long as the registry.
    helpers: Vec<Child>,
}

impl Drop for Registry {
    fn drop(&mut self) {
        for c in std::iter::once(&mut self.child).chain(self.helpers.iter_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Extra sections of a distribution config: TLS and authentication.
#[derive(Default)]
pub struct Security {
    /// (certificate, key) PEM paths
    pub tls: Option<(PathBuf, PathBuf)>,
    /// htpasswd file
    pub htpasswd: Option<PathBuf>,
    /// (realm URL, root certificate bundle of the token issuer)
    pub token: Option<(String, PathBuf)>,
}

impl Registry {
    /// CNCF distribution 2.8 (Debian `docker-registry`) with a small catalog page limit.
    pub fn distribution(catalog_max_entries: u32) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let id = registry_id(dir.path());
        // A free port can be taken by another process (another test, another checkout's
        // registry) between our probe and the registry's bind: then this registry exits and the
        // other one answers, and a test would seed and scan a stranger's registry. Each of ours
        // names itself in a response header; on another answer, try another port.
        for _ in 0..5 {
            let (mut child, addr) = spawn_distribution(dir.path(), catalog_max_entries, &Security::default());
            if wait_ready(&mut child, &addr, Some(&id)) {
                return Registry { child, addr, dir, helpers: Vec::new() };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start on a free port of 127.0.0.1 in 5 tries");
    }

    /// Stop this registry and serve the same storage again, on a new port, with TLS and auth.
    pub fn restart_secured(&mut self, security: Security) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let (child, addr) = spawn_distribution(self.dir.path(), 100, &security);
        self.child = child;
        self.addr = addr;
        wait_port(&self.addr);
        assert!(matches!(self.child.try_wait(), Ok(None)), "docker-registry on {} exited", self.addr);
    }

    /// CNCF distribution's storage (filesystem driver), as `registry garbage-collect` and
    /// replication tools see it.
    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("data/docker/registry/v2")
    }

    /// The digest a tag points at, read from storage.
    pub fn tag_digest(&self, repo: &str, tag: &str) -> String {
        let link =
            self.storage().join("repositories").join(repo).join("_manifests/tags").join(tag).join("current/link");
        std::fs::read_to_string(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display()))
    }

    /// Remove a manifest's revision from a repository, as garbage collection or a partial
    /// replication leaves it: the tags that point at it are still listed, the manifest answers
    /// 404 MANIFEST_UNKNOWN.
    pub fn remove_manifest_revision(&self, repo: &str, digest: &str) {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        let dir = self.storage().join("repositories").join(repo).join("_manifests/revisions/sha256").join(hex);
        std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    }

    /// Remove a blob's data, as garbage collection leaves a blob a manifest still names: the
    /// repository still links it, a GET answers 404 BLOB_UNKNOWN.
    pub fn remove_blob(&self, digest: &str) {
        let hex = digest.strip_prefix("sha256:").expect("a sha256 digest");
        let data = self.storage().join("blobs/sha256").join(&hex[..2]).join(hex).join("data");
        std::fs::remove_file(&data).unwrap_or_else(|e| panic!("{}: {e}", data.display()));
    }

    pub fn add_helper(&mut self, child: Child) {
        self.helpers.push(child);
    }

    /// A platform's listing API (Docker Hub, GHCR, GitLab, Quay, Harbor) for what this registry
    /// holds under `namespace`, replayed on 127.0.0.1 by tests/support/platform_api.py from the
    /// documented answers in testdata/listers/ (no installable server emulates these APIs; the
    /// registry protocol itself is this registry's). `options` are the replayer's (paging, rate
    /// limits, authentication); it lives as long as the registry.
    pub fn platform_api(&mut self, platform: &str, namespace: &str, options: &[&str]) -> PlatformApi {
        let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let port = free_port();
        let log = self.dir.path().join(format!("{platform}-{port}.log"));
        let child = Command::new(&python)
            .arg(repo_root().join("tests/support/platform_api.py"))
            .args([platform, &port.to_string(), &self.addr, namespace])
            .arg(repo_root().join("testdata/listers"))
            .arg(&log)
            .args(options)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{python}: {e}"));
        self.helpers.push(child);
        let addr = format!("127.0.0.1:{port}");
        wait_port(&addr);
        PlatformApi { url: format!("http://{addr}"), log }
    }

    /// The Amazon ECR API emulated by moto in server mode (`moto_server`, from the virtualenv
    /// scripts/setup.sh manages) on 127.0.0.1, holding this registry's repositories under
    /// `namespace` and their tagged images, created through the ECR API itself by
    /// tests/support/ecr_seed.py (boto3). Returns the endpoint URL; moto lives as long as the
    /// registry.
    pub fn moto_ecr(&mut self, namespace: &str) -> String {
        let bin = venv().join("bin/moto_server");
        if !bin.exists() {
            panic!(
                "{} is missing: pip install 'moto[server]==5.2.1' into that virtualenv (./scripts/setup.sh does it)",
                bin.display()
            );
        }
        let port = free_port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        self.helpers.push(child);
        let addr = format!("127.0.0.1:{port}");
        wait_port(&addr);
        let url = format!("http://{addr}");
        let o = Command::new(venv().join("bin/python"))
            .arg(repo_root().join("tests/support/ecr_seed.py"))
            .args([&url, &self.addr, namespace])
            .output()
            .expect("run ecr_seed.py");
        assert!(o.status.success(), "ecr_seed.py: {}", String::from_utf8_lossy(&o.stderr));
        url
    }

    /// ferro-oci-server 1.0.0, which implements the OCI referrers API.
    pub fn ferro() -> Registry {
        let bin = std::env::var("SIGAUDIT_FERRO").unwrap_or_else(|_| {
            which("ferro-oci-server")
                .or_else(|_| {
                    let home = std::env::var("HOME").unwrap_or_default();
                    let p = format!("{home}/.cargo/bin/ferro-oci-server");
                    if Path::new(&p).exists() { Ok(p) } else { Err(()) }
                })
                .unwrap_or_else(|_| {
                    panic!("ferro-oci-server is missing: cargo install ferro-oci-server --version 1.0.0 --locked (./scripts/setup.sh does it)")
                })
        });
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(bin)
            .env("FERRO_OCI_LISTEN", format!("127.0.0.1:{port}"))
            .env("FERRO_OCI_STORAGE_DIR", dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start ferro-oci-server");
        let mut child = child;
        let addr = format!("127.0.0.1:{port}");
        assert!(wait_ready(&mut child, &addr, None), "ferro-oci-server on {addr} did not become ready");
        Registry { child, addr, dir, helpers: Vec::new() }
    }

    /// Seed with scripts/seed_registry.py; returns its output folder and expectations.
    pub fn seed(&self, referrers_api: bool) -> Seeded {
        let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let out = self.dir.path().join("seed");
        let mut cmd = Command::new(&python);
        cmd.arg(repo_root().join("scripts/seed_registry.py"))
            .args(["--registry", &self.addr, "--out"])
            .arg(&out)
            .arg("--corpus")
            .arg(corpus());
        if referrers_api {
            cmd.arg("--referrers-api");
        }
        let o = cmd.output().unwrap_or_else(|e| panic!("{python}: {e} (apt-get install python3-cryptography)"));
        assert!(o.status.success(), "seeding failed:\n{}", String::from_utf8_lossy(&o.stderr));
        let expected: Value = serde_json::from_slice(&std::fs::read(out.join("expected.json")).unwrap()).unwrap();
        Seeded { dir: out, expected }
    }
}

/// Whether the registry process `child` answers `GET /v2/` on `addr` (naming itself with `id` in
/// its `X-Sigaudit-Registry` header, when given). False when it exits or another server answers.
fn wait_ready(child: &mut Child, addr: &str, id: Option<&str>) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let req = format!("GET /v2/ HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
            if s.write_all(req.as_bytes()).is_ok() {
                let mut buf = String::new();
                let _ = s.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.1 401") {
                    return id.is_none_or(|id| buf.contains(&format!("X-Sigaudit-Registry: {id}\r\n")));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// What a test registry answers in its `X-Sigaudit-Registry` header: its storage directory's name.
fn registry_id(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

fn spawn_distribution(dir: &Path, catalog_max_entries: u32, sec: &Security) -> (Child, String) {
    let bin = require("/usr/bin/docker-registry", "apt-get install docker-registry");
    let port = free_port();
    let mut config = format!(
        "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  headers:\n    X-Sigaudit-Registry: [\"{}\"]\n",
        dir.join("data").display(),
        registry_id(dir)
    );
    if let Some((cert, key)) = &sec.tls {
        config.push_str(&format!("  tls:\n    certificate: {}\n    key: {}\n", cert.display(), key.display()));
    }
    config.push_str(&format!("catalog:\n  maxentries: {catalog_max_entries}\n"));
    if let Some(h) = &sec.htpasswd {
        config.push_str(&format!("auth:\n  htpasswd:\n    realm: sigaudit-test\n    path: {}\n", h.display()));
    }
    if let Some((realm, bundle)) = &sec.token {
        config.push_str(&format!(
            "auth:\n  token:\n    realm: {realm}\n    service: sigaudit-test\n    issuer: sigaudit-test-issuer\n    rootcertbundle: {}\n",
            bundle.display()
        ));
    }
    let cfg = dir.join(format!("config-{port}.yml"));
    std::fs::write(&cfg, config).unwrap();
    let child = Command::new(bin)
        .arg("serve")
        .arg(&cfg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    (child, format!("127.0.0.1:{port}"))
}

/// Wait until something listens on `addr` (for TLS registries, where a plain probe cannot talk).
pub fn wait_port(addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if TcpStream::connect(addr).is_ok() {
            std::thread::sleep(Duration::from_millis(100));
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {addr}");
}

/// A test CA and a server certificate for 127.0.0.1, made with openssl. Returns (ca, cert, key).
pub fn openssl_server_cert(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = require("/usr/bin/openssl", "apt-get install openssl");
    let run = |args: &[&str]| {
        let o = Command::new(&openssl).args(args).current_dir(dir).output().unwrap();
        assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "30",
        "-subj",
        "/CN=sigaudit test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign",
    ]);
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "30",
        "-extfile",
        "server.ext",
    ]);
    (dir.join("ca.crt"), dir.join("server.crt"), dir.join("server.key"))
}

/// An htpasswd file with one bcrypt entry, made with apache2-utils' htpasswd -B.
pub fn htpasswd(dir: &Path, user: &str, password: &str) -> PathBuf {
    let bin = require("/usr/bin/htpasswd", "apt-get install apache2-utils");
    let path = dir.join("htpasswd");
    let o = Command::new(bin).args(["-B", "-b", "-c"]).arg(&path).args([user, password]).output().unwrap();
    assert!(o.status.success(), "htpasswd: {}", String::from_utf8_lossy(&o.stderr));
    path
}

/// Start tests/support/token_server.py on a free port; returns (child, realm URL, issuer bundle).
pub fn token_server(dir: &Path, user: &str, password: &str) -> (Child, String, PathBuf) {
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let port = free_port();
    let child = Command::new(python)
        .arg(repo_root().join("tests/support/token_server.py"))
        .arg(port.to_string())
        .args([user, password])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start token server");
    wait_port(&format!("127.0.0.1:{port}"));
    let bundle = dir.join("token-ca.crt");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !bundle.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, format!("http://127.0.0.1:{port}/token"), bundle)
}

/// A replayed platform API: its base URL and its request log ("GET PATH STATUS" lines).
pub struct PlatformApi {
    pub url: String,
    pub log: PathBuf,
}

impl PlatformApi {
    /// The requests it answered, as "GET PATH STATUS" lines.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.starts_with("GET "))
            .map(str::to_string)
            .collect()
    }
}

pub struct Seeded {
    pub dir: PathBuf,
    pub expected: Value,
}

impl Seeded {
    /// The digest the seeder pushed under `repo:tag`.
    #[allow(dead_code)]
    pub fn digest(&self, repo: &str, tag: &str) -> String {
        let images = self.expected["images"].as_array().unwrap();
        let image =
            images.iter().find(|i| i["repository"] == repo && i["tags"].as_array().unwrap().iter().any(|t| t == tag));
        image.unwrap_or_else(|| panic!("{repo}:{tag} not seeded"))["digest"].as_str().unwrap().to_string()
    }
}

/// Run the built binary (no docker config, no colour).
pub fn sigaudit<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    sigaudit_cmd(args).output().expect("run sigaudit")
}

pub fn sigaudit_cmd<I, S>(args: I) -> Command
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    // SIGAUDIT_BIN runs another build (a release binary, or a copy of an older one to compare).
    let bin = std::env::var_os("SIGAUDIT_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_sigaudit").into());
    let mut c = Command::new(bin);
    c.args(args).env("NO_COLOR", "1");
    isolate(&mut c);
    c
}

/// No docker credentials, notation policy or other configuration from the machine: HOME is an
/// empty directory of this checkout's target (not the shared /tmp, where anything may appear).
pub fn isolate(c: &mut Command) {
    let home = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty-home");
    std::fs::create_dir_all(&home).unwrap();
    // No cached TUF trusted root either (`sigaudit trust update` writes under XDG_CACHE_HOME).
    c.env_remove("DOCKER_CONFIG").env_remove("XDG_CONFIG_HOME").env_remove("XDG_CACHE_HOME").env("HOME", home);
}

/// The parts of a report that must not depend on how the registry was reached (its address, a
/// proxy in front of it, the errors on the way).
pub fn comparable(report: &Value) -> Value {
    let mut summary = report["summary"].clone();
    summary.as_object_mut().map(|o| o.remove("errors"));
    let unplaced = |items: &Value| {
        let mut items = items.clone();
        for i in items.as_array_mut().into_iter().flatten() {
            i.as_object_mut().map(|o| o.remove("registry"));
        }
        items
    };
    serde_json::json!({"images": unplaced(&report["images"]), "orphans": unplaced(&report["orphans"]), "summary": summary})
}

pub fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The report lists exactly the expected images (by repository and digest), each with its tags,
/// status, and signatures (format, verdict, and where given kind, signer subject, reason text).
pub fn assert_images_match(report: &Value, expected: &Value) {
    use std::collections::BTreeMap;
    let got: BTreeMap<(String, String), &Value> = report["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| ((i["repository"].as_str().unwrap().to_string(), i["digest"].as_str().unwrap().to_string()), i))
        .collect();
    let expected = expected["images"].as_array().unwrap();
    assert_reason_codes(report);
    assert_eq!(got.len(), report["images"].as_array().unwrap().len(), "an image is listed twice");
    assert_eq!(got.len(), expected.len(), "images: {:#?}", got.keys().collect::<Vec<_>>());
    for e in expected {
        let key = (e["repository"].as_str().unwrap().to_string(), e["digest"].as_str().unwrap().to_string());
        let image = got.get(&key).unwrap_or_else(|| panic!("missing image {key:?}"));
        assert_eq!(image["tags"], e["tags"], "{key:?}");
        assert_eq!(image["status"], e["status"], "{key:?}: {:#}", image["signatures"]);
        assert_signatures_match(&format!("{key:?}"), &image["signatures"], &e["signatures"]);
        // An index lists its manifests (nested indexes folded in), each with its own verdict.
        let platforms = image.get("platforms").and_then(|p| p.as_array()).cloned().unwrap_or_default();
        let want = e.get("platforms").and_then(|p| p.as_array()).cloned().unwrap_or_default();
        let digests =
            |v: &[Value]| v.iter().map(|p| p["digest"].as_str().unwrap_or("").to_string()).collect::<Vec<_>>();
        assert_eq!(digests(&platforms), digests(&want), "{key:?}: platforms {:#}", image["platforms"]);
        for (got, w) in platforms.iter().zip(&want) {
            let what = format!("{key:?} platform {}", w["digest"]);
            assert_eq!(got["status"], w["status"], "{what}: {got:#}");
            assert_eq!(got.get("platform"), w.get("platform"), "{what}");
            assert_eq!(got.get("index"), w.get("index"), "{what}");
            assert_signatures_match(&what, &got["signatures"], &w["signatures"]);
        }
        if !want.is_empty() {
            let images: Vec<&Value> = want.iter().filter(|p| p.get("platform").is_some()).collect();
            let summary = &image["platformSummary"];
            assert_eq!(summary["platforms"], images.len(), "{key:?}: {summary}");
            let signed = images.iter().filter(|p| !p["signatures"].as_array().unwrap().is_empty()).count();
            assert_eq!(summary["signed"], signed, "{key:?}: {summary}");
            let verified = images.iter().filter(|p| p["status"] == "verified").count();
            assert_eq!(summary["verified"], verified, "{key:?}: {summary}");
        }
    }
}

/// Every expected signature (format, verdict, and where given kind, subject digest, signer
/// subject, reason text, reason code) is in `got`, and there are no others.
pub fn assert_signatures_match(what: &str, got: &Value, want: &Value) {
    let sigs = got.as_array().unwrap();
    let want = want.as_array().unwrap();
    assert_eq!(sigs.len(), want.len(), "{what}: {got:#}");
    for w in want {
        let found = sigs.iter().any(|s| {
            s["format"] == w["format"]
                && s["verification"]["status"] == w["verdict"]
                && w.get("kind").is_none_or(|k| s["kind"] == *k)
                && w.get("subjectDigest").is_none_or(|d| s["subjectDigest"] == *d)
                && w.get("signer").is_none_or(|n| s["signer"]["subject"] == *n)
                && w.get("reason").is_none_or(|r| {
                    s["verification"]["reasons"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|x| x.as_str().unwrap().contains(r.as_str().unwrap()))
                })
                && w.get("code").is_none_or(|c| s["verification"]["reasonCodes"].as_array().unwrap().contains(c))
        });
        assert!(found, "{what}: no signature like {w} in {got:#}");
    }
}

/// The report's orphans and notes are the expected ones.
pub fn assert_orphans_and_notes_match(report: &Value, expected: &Value) {
    let key = |o: &Value| {
        (
            o["repository"].as_str().unwrap_or("").to_string(),
            o["artifact"].as_str().unwrap_or("").to_string(),
            o["subject"].as_str().unwrap_or("").to_string(),
            o.get("subjectRepository").and_then(|r| r.as_str()).map(str::to_string),
        )
    };
    let mut got: Vec<_> = report["orphans"].as_array().unwrap().iter().map(key).collect();
    let mut want: Vec<_> = expected["orphans"].as_array().unwrap().iter().map(key).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "orphans");
    let note = |n: &Value| (n["path"].as_str().unwrap_or("").to_string(), n["code"].as_str().unwrap_or("").to_string());
    let mut got: Vec<_> = report.get("notes").and_then(|n| n.as_array()).into_iter().flatten().map(note).collect();
    let mut want: Vec<_> = expected["notes"].as_array().unwrap().iter().map(note).collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "notes");
}

/// A bare HTTP/1.1 request to a test registry on 127.0.0.1: (status, body).
pub fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text_end = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4).unwrap_or(buf.len());
    let head = String::from_utf8_lossy(&buf[..text_end]).to_string();
    let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut body = buf[text_end..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, body)
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = b.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..line_end]).trim(), 16).unwrap_or(0);
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[line_end + 2..line_end + 2 + n]);
        b = &b[line_end + 2 + n + 2..];
    }
}

/// Every verification in `report` (of image, platform and file signatures, wherever it sits) has
/// one known reason code per reason (`reasonCodes` index-aligned with `reasons`). Returns how
/// many verifications it checked.
pub fn assert_reason_codes(report: &Value) -> usize {
    fn walk(v: &Value, path: &str, n: &mut usize) {
        match v {
            Value::Object(o) => {
                if let (Some(Value::Array(reasons)), Some(status)) = (o.get("reasons"), o.get("status")) {
                    let codes = o
                        .get("reasonCodes")
                        .and_then(Value::as_array)
                        .unwrap_or_else(|| panic!("{path}: a verification without reasonCodes: {v}"));
                    assert_eq!(codes.len(), reasons.len(), "{path}: reasonCodes not aligned with reasons: {v:#}");
                    for c in codes {
                        let c = c.as_str().unwrap_or_else(|| panic!("{path}: a code that is not a string: {v}"));
                        assert!(
                            sigaudit::report::ReasonCode::parse(c).is_some(),
                            "{path}: unknown reason code {c:?} (status {status}): {v:#}"
                        );
                    }
                    *n += 1;
                }
                for (k, x) in o {
                    walk(x, &format!("{path}.{k}"), n);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{path}[{i}]"), n);
                }
            }
            _ => {}
        }
    }
    let mut n = 0;
    walk(report, "report", &mut n);
    n
}

/// The reason codes of every signature in `item` (an image, platform or file), in order.
pub fn reason_codes(item: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in item["signatures"].as_array().into_iter().flatten() {
        for c in s["verification"]["reasonCodes"].as_array().into_iter().flatten() {
            out.push(c.as_str().unwrap_or_default().to_string());
        }
    }
    out
}

/// The project's Python virtualenv (scripts/setup.sh makes it for kubernetes-validate and the
/// report-format validators): `SIGAUDIT_VENV`, else `${XDG_CACHE_HOME:-~/.cache}/sigaudit/venv`.
pub fn venv() -> PathBuf {
    if let Some(dir) = std::env::var_os("SIGAUDIT_VENV").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let cache = match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cache"),
    };
    cache.join("sigaudit/venv")
}
