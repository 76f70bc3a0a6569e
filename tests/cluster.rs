//! `sigaudit cluster`: the pods of testdata/k8s (written in the shape `kubectl get pods -A -o
//! json` prints: Deployment → ReplicaSet, StatefulSet, DaemonSet, CronJob → Job and bare pods;
//! init and ephemeral containers; every `imageID` spelling; pending pods without statuses; two
//! pods running one digest) run images seeded into a real registry (Debian's docker-registry on
//! 127.0.0.1, seeded by scripts/seed_registry.py). The PodList is made at test time from the
//! template, with the registry's random port and the digests the seeder pushed.
//!
//! The live path: no Kubernetes API server can run on these machines (it needs etcd, a container
//! runtime and nodes), so tests/support/k8s_api.py, a loopback HTTPS server (Python's ssl, an
//! openssl-made certificate), answers the API paths the client calls with the same PodList,
//! paged with `limit`/`continue`, and checks the bearer token. Everything else is real: the
//! kubeconfig with its CA and token, TLS, the registry, the signatures.

mod common;

use common::proxy::{Action, Proxy};

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const TOKEN: &str = "sigaudit-test-token-5c1e";

/// The template with the registry's address, the seeded digests and `extra` placeholders filled in.
fn fill(template: &str, reg: &str, seeded: &Seeded, extra: &[(&str, &str)]) -> String {
    let mut text = template.replace("{{REGISTRY}}", reg);
    for (k, v) in extra {
        text = text.replace(k, v);
    }
    while let Some(start) = text.find("{{DIGEST ") {
        let end = start + text[start..].find("}}").expect("closed placeholder");
        let (repo, tag) = text[start + 9..end].split_once(':').expect("REPO:TAG");
        let digest = seeded.digest(repo, tag);
        text.replace_range(start..end + 2, &digest);
    }
    assert!(!text.contains("{{"), "a placeholder is left");
    text
}

fn pods_file(dir: &Path, reg: &str, seeded: &Seeded) -> PathBuf {
    let template = std::fs::read_to_string(repo_root().join("testdata/k8s/pods.json.tmpl")).unwrap();
    let path = dir.join("pods.json");
    std::fs::write(&path, fill(&template, reg, seeded, &[])).unwrap();
    path
}

fn run_json(args: &[&str]) -> Value {
    let o = sigaudit(args);
    assert!(code(&o) == 0 || code(&o) == 1, "exit {}: {}", code(&o), String::from_utf8_lossy(&o.stderr));
    stdout_json(&o)
}

/// (namespace, pod, container) → the workload entry.
fn by_container(report: &Value) -> BTreeMap<(String, String, String), Value> {
    report["workloads"]
        .as_array()
        .expect("a workloads section")
        .iter()
        .map(|w| {
            let s = |k: &str| w[k].as_str().unwrap().to_string();
            ((s("namespace"), s("pod"), s("container")), w.clone())
        })
        .collect()
}

fn key(ns: &str, pod: &str, c: &str) -> (String, String, String) {
    (ns.into(), pod.into(), c.into())
}

/// (namespace, pod, container).
type Key = (String, String, String);
/// Owner, container type, state, the image whose digest runs (None: not known), drift.
type Want = (&'static str, &'static str, &'static str, Option<&'static str>, Value);

/// What each container of the fixtures must say: owner, type, state, the image whose digest
/// runs (repository:tag as seeded, None: not known), and drift while no tag has moved.
fn expected() -> Vec<(Key, Want)> {
    let none = Value::Null;
    vec![
        (
            key("shop", "web-7c9d8b6f5-abcde", "web"),
            ("Deployment/web", "container", "running", Some("apps/web:v1"), false.into()),
        ),
        (
            key("shop", "web-7c9d8b6f5-abcde", "migrate"),
            ("Deployment/web", "init", "terminated", Some("apps/batch:v1"), false.into()),
        ),
        (
            key("shop", "web-7c9d8b6f5-abcde", "debugger"),
            ("Deployment/web", "ephemeral", "running", Some("apps/unsigned:v1"), false.into()),
        ),
        (
            key("shop", "web-7c9d8b6f5-fghij", "web"),
            ("Deployment/web", "container", "running", Some("apps/web:v1"), false.into()),
        ),
        (
            key("shop", "web-7c9d8b6f5-fghij", "migrate"),
            ("Deployment/web", "init", "terminated", Some("apps/batch:v1"), false.into()),
        ),
        (key("shop", "web-7c9d8b6f5-pend1", "web"), ("Deployment/web", "container", "not-started", None, none.clone())),
        (key("shop", "web-7c9d8b6f5-pend1", "migrate"), ("Deployment/web", "init", "not-started", None, none.clone())),
        (
            key("shop", "api-5f6b7c8d9-xyz12", "api"),
            ("Deployment/api", "container", "running", Some("apps/api:v1"), false.into()),
        ),
        (key("shop", "api-5f6b7c8d9-wait1", "api"), ("Deployment/api", "container", "waiting", None, none.clone())),
        (key("data", "db-0", "db"), ("StatefulSet/db", "container", "running", Some("apps/worker:v1"), false.into())),
        (
            key("ops", "node-agent-x7k2p", "agent"),
            ("DaemonSet/node-agent", "container", "running", Some("platform/multi:v1"), false.into()),
        ),
        // Pinned by digest: no tag to drift.
        (
            key("ops", "backup-29412345-q8w7e", "backup"),
            ("CronJob/backup", "container", "terminated", Some("apps/api:v1"), none.clone()),
        ),
        (
            key("ops", "debug-shell", "shell"),
            ("Pod/debug-shell", "container", "running", Some("apps/web:v1"), false.into()),
        ),
    ]
}

/// The status each seeded image has, by the seeder's own expectations (independent of us).
fn seeded_status(seeded: &Seeded, repo: &str, digest: &str) -> String {
    let images = seeded.expected["images"].as_array().unwrap();
    let i = images.iter().find(|i| i["repository"] == repo && i["digest"] == digest).expect("seeded image");
    i["status"].as_str().unwrap().to_string()
}

/// The report's workloads are the expected ones, each with the status of its running digest as
/// the seeder expects it and as `sigaudit image` reports it; every digest is verified once.
fn assert_workloads(report: &Value, reg: &Registry, seeded: &Seeded, via_api: bool, image_args: &[&str]) {
    let got = by_container(report);
    let want = expected();
    assert_eq!(got.len(), want.len(), "containers: {:#?}", got.keys().collect::<Vec<_>>());
    let mut digests = BTreeSet::new();
    for (k, (owner, kind, state, image, drift)) in &want {
        let w = got.get(k).unwrap_or_else(|| panic!("no workload {k:?}"));
        let what = format!("{k:?}: {w:#}");
        assert_eq!(
            format!("{}/{}", w["owner"]["kind"].as_str().unwrap(), w["owner"]["name"].as_str().unwrap()),
            *owner,
            "{what}"
        );
        assert_eq!(w["containerType"], *kind, "{what}");
        assert_eq!(w["state"], *state, "{what}");
        assert_eq!(w.get("drift").cloned().unwrap_or(Value::Null), *drift, "{what}");
        match image {
            Some(image) => {
                let (repo, tag) = image.split_once(':').unwrap();
                let digest = seeded.digest(repo, tag);
                assert_eq!(
                    (w["registry"].as_str(), w["repository"].as_str(), w["digest"].as_str()),
                    (Some(reg.addr.as_str()), Some(repo), Some(digest.as_str())),
                    "{what}"
                );
                assert_eq!(w["status"].as_str().unwrap(), seeded_status(seeded, repo, &digest), "{what}");
                digests.insert((repo.to_string(), digest));
            }
            None => {
                // Not known is never `unsigned`: no digest, no status.
                assert!(w.get("digest").is_none() && w.get("status").is_none(), "{what}");
            }
        }
        let via = w["owner"]["via"].as_str().unwrap();
        let expected_via = match (owner.split('/').next().unwrap(), via_api) {
            ("Deployment" | "CronJob", true) => "api",
            ("Deployment" | "CronJob", false) => "name",
            ("Pod", _) => "pod",
            _ => "ownerReferences",
        };
        assert_eq!(via, expected_via, "{what}");
    }
    // Each distinct digest once, however many pods run it.
    let images = report["images"].as_array().unwrap();
    let listed: Vec<(String, String)> = images
        .iter()
        .map(|i| (i["repository"].as_str().unwrap().to_string(), i["digest"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(listed.len(), digests.len(), "{listed:#?}");
    assert_eq!(listed.iter().cloned().collect::<BTreeSet<_>>(), digests);
    // The verdicts are those of `sigaudit image` for each digest.
    let refs: Vec<String> = digests.iter().map(|(r, d)| format!("{}/{r}@{d}", reg.addr)).collect();
    let mut args = vec!["image", "--plain-http", "-o", "json"];
    args.extend(image_args);
    args.extend(refs.iter().map(String::as_str));
    let image_report = run_json(&args);
    for i in image_report["images"].as_array().unwrap() {
        let (repo, digest) = (i["repository"].as_str().unwrap(), i["digest"].as_str().unwrap());
        let ours = images.iter().find(|x| x["repository"] == repo && x["digest"] == digest).unwrap();
        assert_eq!(ours["status"], i["status"], "{repo}@{digest}");
        for w in got.values().filter(|w| w["digest"] == digest) {
            assert_eq!(w["status"], i["status"], "{w:#}");
        }
    }
    let s = &report["summary"]["workloads"];
    assert_eq!(
        (s["pods"].as_u64(), s["containers"].as_u64(), s["digestUnknown"].as_u64()),
        (Some(9), Some(13), Some(3)),
        "{s}"
    );
}

/// Push the image `from_repo:from_tag` to `repo:tag`, as `docker push` of another image to that
/// tag does: its blobs mounted across repositories, its manifest put under the tag. Returns its
/// digest.
fn push_over(reg: &Registry, from_repo: &str, from_tag: &str, repo: &str, tag: &str) -> String {
    let media = "application/vnd.oci.image.manifest.v1+json";
    let (status, body) =
        http(&reg.addr, "GET", &format!("/v2/{from_repo}/manifests/{from_tag}"), &[("Accept", media)], b"");
    assert_eq!(status, 200);
    let manifest: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(manifest["mediaType"], media);
    let blobs = std::iter::once(&manifest["config"]).chain(manifest["layers"].as_array().unwrap());
    for b in blobs {
        let digest = b["digest"].as_str().unwrap();
        let path = format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from_repo}");
        let (status, _) = http(&reg.addr, "POST", &path, &[], b"");
        assert_eq!(status, 201, "mounting {digest} into {repo}");
    }
    let (status, _) = http(&reg.addr, "PUT", &format!("/v2/{repo}/manifests/{tag}"), &[("Content-Type", media)], &body);
    assert_eq!(status, 201, "pushing over {repo}:{tag}");
    reg.tag_digest(repo, tag)
}

#[test]
fn a_pods_file_reports_every_container_with_its_running_digest_owner_and_verdict() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let pods = pods_file(dir.path(), &reg.addr, &seeded);
    let pods_arg = pods.to_str().unwrap();
    let report = run_json(&["cluster", "--pods-file", pods_arg, "--plain-http", "-o", "json"]);
    assert_eq!(report["scan"]["kind"], "cluster");
    assert_eq!(report["scan"]["complete"], true, "{:#}", report["errors"]);
    assert_workloads(&report, &reg, &seeded, false, &[]);
    let w = by_container(&report);
    let web = &w[&key("shop", "web-7c9d8b6f5-abcde", "web")];
    assert_eq!(web["controlledBy"], "ReplicaSet/web-7c9d8b6f5");
    assert_eq!(web["image"], format!("{}/apps/web:v1", reg.addr));
    let debugger = &w[&key("shop", "web-7c9d8b6f5-abcde", "debugger")];
    assert!(debugger["notes"][0].as_str().unwrap().contains("without a repository"), "{debugger:#}");

    // Exit codes over the containers' statuses.
    let exit = |fail_on: &str| {
        code(&sigaudit(["cluster", "--pods-file", pods_arg, "--plain-http", "-o", "json", "--fail-on", fail_on]))
    };
    assert_eq!(exit("invalid"), 1, "apps/batch and apps/worker run and are invalid");
    assert_eq!(exit("unsigned"), 1, "the ephemeral debugger runs an unsigned image");
    assert_eq!(exit("unsupported"), 0);

    // Standard input, NDJSON (the containers in the closing line) and the table by namespace.
    let mut child = sigaudit_cmd(["cluster", "--pods-file", "-", "--plain-http", "-o", "ndjson"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &std::fs::read(&pods).unwrap()).unwrap();
    let o = child.wait_with_output().unwrap();
    let last: Value = serde_json::from_str(String::from_utf8_lossy(&o.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["workloads"].as_array().unwrap().len(), 13);
    let o = sigaudit(["cluster", "--pods-file", pods_arg, "--plain-http"]);
    let table = String::from_utf8_lossy(&o.stdout);
    for text in [
        "Namespace data:",
        "Namespace ops:",
        "Namespace shop:",
        "Deployment/web",
        "CronJob/backup",
        "StatefulSet/db",
        "(not-started)",
        "migrate (init)",
        "(ephemeral)",
        "Workloads: 13 containers in 9 pods",
    ] {
        assert!(table.contains(text), "{text:?} not in\n{table}");
    }
    let data = table.find("Namespace data:").unwrap();
    assert!(data < table.find("Namespace ops:").unwrap() && data < table.find("Namespace shop:").unwrap());
    // Waivers of the images: their containers are waived, and --fail-on passes them by.
    let waivers = dir.path().join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\nrepository = \"apps/batch\"\nstatus = [\"invalid\"]\nreason = \"migration image, rebuilt next sprint\"\nowner = \"platform@example.com\"\nexpires = 2099-01-01\n\n[[waiver]]\nrepository = \"apps/worker\"\nstatus = [\"invalid\"]\nreason = \"vendor image\"\nowner = \"platform@example.com\"\nexpires = 2099-01-01\n",
    )
    .unwrap();
    let waived_run = |fail_on: &str| {
        let w = waivers.to_str().unwrap();
        sigaudit([
            "cluster",
            "--pods-file",
            pods_arg,
            "--plain-http",
            "-o",
            "json",
            "--waivers",
            w,
            "--fail-on",
            fail_on,
        ])
    };
    let o = waived_run("invalid");
    assert_eq!(code(&o), 0, "every invalid image runs under a waiver: {}", String::from_utf8_lossy(&o.stderr));
    let waived = by_container(&stdout_json(&o));
    assert_eq!(waived[&key("data", "db-0", "db")]["waived"], true);
    assert_eq!(waived[&key("shop", "web-7c9d8b6f5-abcde", "migrate")]["waived"], true);
    assert_eq!(waived[&key("shop", "web-7c9d8b6f5-abcde", "web")].get("waived"), None);
    assert_eq!(code(&waived_run("invalid,unsigned")), 1, "the unsigned debugger is not waived");
    // `sigaudit merge` refuses a cluster report rather than drop its workloads.
    let saved = dir.path().join("cluster.json");
    std::fs::write(&saved, serde_json::to_vec(&report).unwrap()).unwrap();
    let o = sigaudit(["merge", saved.to_str().unwrap()]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("a cluster report"));
    // The other formats take a cluster report without failing.
    for format in ["wide", "csv", "sarif", "junit", "prometheus", "html", "sigscan-json"] {
        let o = sigaudit(["cluster", "--pods-file", pods_arg, "--plain-http", "-o", format]);
        assert_eq!(code(&o), 0, "{format}: {}", String::from_utf8_lossy(&o.stderr));
    }

    // Another image is pushed to apps/api:v1 after the pod started: an unsigned one, as
    // `sigaudit image` says of the tag now. The pod still runs the old digest, and its container
    // keeps that digest's verdict; the drift flag says the tag now means another image.
    let running = seeded.digest("apps/api", "v1");
    let pushed = push_over(&reg, "apps/unsigned", "v1", "apps/api", "v1");
    assert_ne!(pushed, running);
    assert_eq!(
        seeded_status(&seeded, "apps/unsigned", &pushed),
        "unsigned",
        "the seeder's word on what the tag holds now"
    );
    let tag_now = run_json(&["image", "--plain-http", "-o", "json", &format!("{}/apps/api:v1", reg.addr)]);
    assert_eq!(
        (tag_now["images"][0]["digest"].as_str(), tag_now["images"][0]["status"].as_str()),
        (Some(pushed.as_str()), Some("unsigned"))
    );
    let report = run_json(&["cluster", "--pods-file", pods_arg, "--plain-http", "-o", "json"]);
    let w = by_container(&report);
    let api = &w[&key("shop", "api-5f6b7c8d9-xyz12", "api")];
    assert_eq!((api["drift"].as_bool(), api["tagDigest"].as_str()), (Some(true), Some(pushed.as_str())), "{api:#}");
    assert_eq!(
        (api["digest"].as_str(), api["status"].as_str()),
        (Some(running.as_str()), Some("untrusted")),
        "what runs, not what the tag says"
    );
    assert_eq!(w[&key("ops", "backup-29412345-q8w7e", "backup")].get("drift"), None, "pinned by digest");
    assert_eq!(report["summary"]["workloads"]["drifted"], 1);
    let o = sigaudit(["cluster", "--pods-file", pods_arg, "--plain-http", "-o", "wide"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("moved: sha256:"), "the table shows the drift");
}

/// The loopback API server, killed when dropped.
struct Api {
    child: Child,
    addr: String,
    log: PathBuf,
    ca: PathBuf,
    /// The server's certificate.
    cert: PathBuf,
}

impl Drop for Api {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Api {
    fn start(dir: &Path, pods: &Path, objects: &Path) -> Api {
        Api::start_with(dir, pods, objects, None)
    }

    /// With `client_ca`: a client certificate that chains to it authenticates too.
    fn start_with(dir: &Path, pods: &Path, objects: &Path, client_ca: Option<&Path>) -> Api {
        let certs = dir.join("api-tls");
        std::fs::create_dir_all(&certs).unwrap();
        let (ca, cert, key) = openssl_server_cert(&certs);
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let log = dir.join("api.log");
        let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let child = Command::new(python)
            .arg(repo_root().join("tests/support/k8s_api.py"))
            .arg(port.to_string())
            .args([&cert, &key])
            .arg(TOKEN)
            .args([pods, objects, &log])
            .args(client_ca)
            .stdout(Stdio::null())
            .spawn()
            .expect("start tests/support/k8s_api.py");
        let addr = format!("127.0.0.1:{port}");
        wait_port(&addr);
        Api { child, addr, log, ca, cert }
    }

    /// A kubeconfig whose current context has a wrong token, and a context `audit` with the right
    /// one; both trust the server's CA (embedded, base64).
    fn kubeconfig(&self, dir: &Path, ca: &Path) -> PathBuf {
        use base64::Engine;
        let ca = base64::engine::general_purpose::STANDARD.encode(std::fs::read(ca).unwrap());
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: stale\nclusters:\n- name: test\n  cluster:\n    server: https://{addr}\n    certificate-authority-data: {ca}\ncontexts:\n- name: stale\n  context:\n    cluster: test\n    user: stale\n- name: audit\n  context:\n    cluster: test\n    user: auditor\n    namespace: shop\nusers:\n- name: stale\n  user:\n    token: not-the-token\n- name: auditor\n  user:\n    token: {TOKEN}\n",
            addr = self.addr
        );
        let path = dir.join(format!("kubeconfig-{}", std::fs::read_dir(dir).unwrap().count()));
        std::fs::write(&path, text).unwrap();
        path
    }

    fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).unwrap_or_default().lines().map(str::to_string).collect()
    }
}

#[test]
fn the_live_api_over_https_with_the_kubeconfig_ca_and_token_pages_and_selects() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let pods = pods_file(dir.path(), &reg.addr, &seeded);
    let objects = objects_file(dir.path(), &reg.addr, &seeded, &serde_json::json!({}));
    let api = Api::start(dir.path(), &pods, &objects);
    let kubeconfig = api.kubeconfig(dir.path(), &api.ca);
    let k = kubeconfig.to_str().unwrap();

    // All namespaces, four pods a page: three pages, the second and third asked with `continue`.
    let report = run_json(&[
        "cluster",
        "-A",
        "--kubeconfig",
        k,
        "--context",
        "audit",
        "--chunk-size",
        "4",
        "--plain-http",
        "-o",
        "json",
    ]);
    assert_eq!(report["scan"]["complete"], true, "{:#}", report["errors"]);
    assert_workloads(&report, &reg, &seeded, true, &[]);
    let lists: Vec<String> = api.requests().into_iter().filter(|r| r.starts_with("GET /api/v1/pods?")).collect();
    assert_eq!(lists.len(), 3, "{lists:#?}");
    assert!(
        !lists[0].contains("continue=") && lists[1].contains("continue=") && lists[2].contains("continue="),
        "{lists:#?}"
    );
    assert!(lists.iter().all(|l| l.contains("limit=4")), "{lists:#?}");
    // The ReplicaSets' and the Job's owners were read from the API, each once.
    let owners: Vec<String> = api.requests().into_iter().filter(|r| r.starts_with("GET /apis/")).collect();
    assert_eq!(owners.len(), 3, "{owners:#?}");
    // No secret is read unless asked.
    assert!(!api.requests().iter().any(|r| r.contains("/secrets/")));

    // The context's namespace (shop) by default, and a label selector.
    let report =
        run_json(&["cluster", "--kubeconfig", k, "--context", "audit", "-l", "app=web", "--plain-http", "-o", "json"]);
    let pods: BTreeSet<String> = by_container(&report).keys().map(|(_, p, _)| p.clone()).collect();
    assert_eq!(pods, ["web-7c9d8b6f5-abcde", "web-7c9d8b6f5-fghij", "web-7c9d8b6f5-pend1"].map(String::from).into());
    assert!(api
        .requests()
        .iter()
        .any(|r| r.starts_with("GET /api/v1/namespaces/shop/pods?") && r.contains("labelSelector=app%3Dweb")));

    // The current context's token is refused (the server checks it): a clear error, exit 2.
    let o = sigaudit(["cluster", "-A", "--kubeconfig", k, "--plain-http"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{stderr}");
    assert!(stderr.contains("HTTP 401") && stderr.contains("does not accept these credentials"), "{stderr}");

    // A kubeconfig trusting another CA: the server's certificate is refused.
    let other = dir.path().join("other-ca");
    std::fs::create_dir_all(&other).unwrap();
    let (other_ca, _, _) = openssl_server_cert(&other);
    // openssl's verdict on the server's certificate, next to ours: it chains to the kubeconfig's
    // CA only.
    assert!(openssl_verifies(&api.ca, &api.cert) && !openssl_verifies(&other_ca, &api.cert));
    let wrong_ca = api.kubeconfig(dir.path(), &other_ca);
    let o =
        sigaudit(["cluster", "-A", "--kubeconfig", wrong_ca.to_str().unwrap(), "--context", "audit", "--plain-http"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{stderr}");
    assert!(stderr.to_lowercase().contains("certificate"), "{stderr}");
}

/// The fixtures' objects for the API: the owners, and a pull secret holding `auths`.
fn objects_file(dir: &Path, reg: &str, seeded: &Seeded, auths: &Value) -> PathBuf {
    use base64::Engine;
    let config = base64::engine::general_purpose::STANDARD.encode(serde_json::json!({ "auths": auths }).to_string());
    let template = std::fs::read_to_string(repo_root().join("testdata/k8s/objects.json.tmpl")).unwrap();
    let path = dir.join("objects.json");
    std::fs::write(&path, fill(&template, reg, seeded, &[("{{DOCKERCONFIGJSON}}", &config)])).unwrap();
    path
}

#[test]
fn pull_secrets_of_the_cluster_are_read_only_when_asked() {
    const USER: &str = "puller";
    const PASSWORD: &str = "k8s-Pull-77x";
    let mut reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    // The same storage behind Basic auth (a new port): only the pull secret's credentials open it.
    let htpasswd = htpasswd(dir.path(), USER, PASSWORD);
    reg.restart_secured(Security { tls: None, htpasswd: Some(htpasswd), token: None });
    let pods = pods_file(dir.path(), &reg.addr, &seeded);
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    let objects = objects_file(dir.path(), &reg.addr, &seeded, &serde_json::json!({ &reg.addr: { "auth": auth } }));
    let api = Api::start(dir.path(), &pods, &objects);
    let kubeconfig = api.kubeconfig(dir.path(), &api.ca);
    let base = [
        "cluster",
        "-A",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--context",
        "audit",
        "--plain-http",
        "-o",
        "json",
    ];

    // Not asked: no secret is read, and what could not be looked at is `error`, never `unsigned`.
    let o = sigaudit(base);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert!(!api.requests().iter().any(|r| r.contains("/secrets/") || r.contains("/serviceaccounts/")));
    for w in by_container(&report).values().filter(|w| w.get("digest").is_some()) {
        assert_eq!(w["status"], "error", "{w:#}");
        assert!(w["notes"].to_string().contains("requires credentials"), "{w:#}");
    }

    // Asked: the pods' and service accounts' pull secrets are read, and every verdict is right.
    let mut args = base.to_vec();
    args.push("--use-pull-secrets");
    let report = run_json(&args);
    assert_eq!(report["scan"]["complete"], true, "{:#}", report["errors"]);
    assert_workloads(&report, &reg, &seeded, true, &["--username", USER, "--password", PASSWORD]);
    let read = api.requests();
    assert!(read.iter().any(|r| r == "GET /api/v1/namespaces/data/secrets/regcred"), "{read:#?}");
    assert!(read.iter().any(|r| r == "GET /api/v1/namespaces/data/serviceaccounts/db"), "{read:#?}");
    assert!(!String::from_utf8_lossy(&sigaudit(&args).stdout).contains(PASSWORD), "the password is not reported");
}

/// Run as a Job in the cluster: no kubeconfig, `KUBERNETES_SERVICE_HOST`/`_PORT` and the service
/// account's token, CA and namespace mounted at /var/run/secrets/kubernetes.io/serviceaccount.
/// The mount is made in a private mount namespace (util-linux `unshare`; a tmpfs over /run seen
/// by sigaudit alone), so the machine's own /run is not touched.
#[test]
fn in_a_pod_the_service_account_is_used() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let pods = pods_file(dir.path(), &reg.addr, &seeded);
    let objects = objects_file(dir.path(), &reg.addr, &seeded, &serde_json::json!({}));
    let api = Api::start(dir.path(), &pods, &objects);
    let account = dir.path().join("serviceaccount");
    std::fs::create_dir_all(&account).unwrap();
    std::fs::copy(&api.ca, account.join("ca.crt")).unwrap();
    std::fs::write(account.join("token"), TOKEN).unwrap();
    std::fs::write(account.join("namespace"), "ops").unwrap();
    let unshare = ["/usr/bin/unshare", "/bin/unshare"].into_iter().find(|p| Path::new(p).exists());
    let unshare = unshare.expect("unshare is missing: apt-get install util-linux (./scripts/setup.sh)");
    let bin = std::env::var("SIGAUDIT_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_sigaudit").into());
    let script = format!(
        "mount -t tmpfs sigaudit-test /run && mkdir -p /run/secrets/kubernetes.io && cp -r '{}' /run/secrets/kubernetes.io/serviceaccount && exec '{bin}' cluster --plain-http -o json",
        account.display()
    );
    let mut cmd = Command::new(unshare);
    cmd.args(["-m", "--propagation", "private", "sh", "-c", &script]);
    isolate(&mut cmd);
    let (host, port) = api.addr.split_once(':').unwrap();
    let o = cmd
        .env("KUBERNETES_SERVICE_HOST", host)
        .env("KUBERNETES_SERVICE_PORT", port)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    // The service account's namespace by default.
    let namespaces: BTreeSet<String> = by_container(&report).keys().map(|(ns, _, _)| ns.clone()).collect();
    assert_eq!(namespaces, BTreeSet::from(["ops".to_string()]));
    assert_eq!(report["workloads"].as_array().unwrap().len(), 3);
    assert!(api.requests().iter().any(|r| r.starts_with("GET /api/v1/namespaces/ops/pods?")));
}

/// Bad input is a clear error (exit 2) and never a panic; a container whose running image cannot
/// be named is `error` (the scan goes on), never `unsigned`.
#[test]
fn bad_pods_and_unreadable_image_ids() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    for (text, said) in [
        ("not json", "not JSON"),
        (r#"{"kind": "DeploymentList", "items": []}"#, "is not a list of pods"),
        (r#"{"kind": "List", "items": [{"kind": "Service", "metadata": {"name": "x"}}]}"#, "not a Pod"),
    ] {
        let o = sigaudit(["cluster", "--pods-file", &write("bad.json", text)]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{text}: {stderr}");
        assert!(stderr.contains(said) && !stderr.contains("panicked"), "{text}: {stderr}");
    }
    let o = sigaudit(["cluster", "--pods-file", &dir.path().join("missing.json").display().to_string()]);
    assert_eq!(code(&o), 2);
    let o = sigaudit(["cluster", "--kubeconfig", &write("kubeconfig", "current-context: [")]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{stderr}");
    assert!(stderr.contains("kubeconfig"), "{stderr}");

    // A runtime's image ID sigaudit cannot read, and a bare digest with no usable spec image.
    let odd = r#"{"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": [{"metadata": {"name": "odd", "namespace": "x"},
        "spec": {"containers": [{"name": "a", "image": "127.0.0.1:1/app:v1"}, {"name": "b", "image": "NOT A REF"}]},
        "status": {"phase": "Running", "containerStatuses": [
          {"name": "a", "imageID": "cri-o://1234", "state": {"running": {}}},
          {"name": "b", "imageID": "sha256:0000000000000000000000000000000000000000000000000000000000000000", "state": {"running": {}}}]}}]}"#;
    let odd = write("odd.json", odd);
    let o = sigaudit(["cluster", "--pods-file", &odd, "-o", "json", "--fail-on", "error"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    let w = by_container(&report);
    for c in ["a", "b"] {
        let x = &w[&key("x", "odd", c)];
        assert_eq!((x["status"].as_str(), x.get("digest")), (Some("error"), None), "{x:#}");
        assert!(!x["notes"].as_array().unwrap().is_empty(), "{x:#}");
    }
    assert_eq!(report["summary"]["workloads"]["byStatus"]["error"], 2);
    let codes: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["image-id-unreadable", "image-id-unreadable"]);
    // Not looked at is incomplete (exit 3), never a pass.
    assert_eq!(code(&sigaudit(["cluster", "--pods-file", &odd, "-o", "json"])), 3);

    // One unreadable pod (a field of the wrong type) is an error naming it; the other pods are
    // still audited. A status for a container the spec does not name is audited too.
    let mixed = r#"{"kind": "List", "items": [
        {"metadata": {"name": "nullspec", "namespace": "x"}, "spec": null},
        {"metadata": {"name": "obj", "namespace": "x"}, "spec": {"containers": {"name": "a"}}},
        {"metadata": {"name": "num", "namespace": "x"}, "spec": {"containers": [{"name": "a", "image": "r/a"}]},
         "status": {"containerStatuses": [{"name": "a", "imageID": 7}]}},
        {"metadata": {"name": "ghost", "namespace": "x"}, "spec": {"containers": []},
         "status": {"phase": "Running", "containerStatuses": [
           {"name": "g", "image": "127.0.0.1:1/app:v1", "imageID": "cri-o://1234", "state": {"running": {}}}]}}]}"#;
    let o = sigaudit(["cluster", "--pods-file", &write("mixed.json", mixed), "-o", "json"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    let errors: Vec<(String, String)> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["code"].as_str().unwrap().to_string(), e["message"].as_str().unwrap().to_string()))
        .collect();
    for pod in ["x/nullspec", "x/obj", "x/num"] {
        assert!(errors.iter().any(|(c, m)| c == "pod-unreadable" && m.contains(pod)), "{pod}: {errors:?}");
    }
    let w = by_container(&report);
    assert!(w.contains_key(&key("x", "ghost", "g")), "{report:#}");
    assert_eq!(report["summary"]["workloads"]["pods"], 1, "{report:#}");
}

/// A client certificate and key for `cn`, signed by the CA in `dir` (ca.crt, ca.key, made by
/// `openssl_server_cert`) with the clientAuth EKU, made with openssl. Returns (cert, key).
fn openssl_client_cert(dir: &Path, cn: &str) -> (PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let o =
            Command::new("openssl").args(args).current_dir(dir).output().expect("openssl (apt-get install openssl)");
        assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let subject = format!("/O=sigaudit-auditors/CN={cn}");
    run(&["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out", "client.csr", "-subj", &subject]);
    std::fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n").unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "client.crt",
        "-days",
        "30",
        "-extfile",
        "client.ext",
    ]);
    (dir.join("client.crt"), dir.join("client.key"))
}

/// A kubeconfig user with a client certificate (files, relative to the kubeconfig) and no token:
/// the server takes the certificate; one from another CA is refused.
#[test]
fn a_client_certificate_authenticates_to_the_api() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let pods = pods_file(dir.path(), &reg.addr, &seeded);
    let objects = objects_file(dir.path(), &reg.addr, &seeded, &serde_json::json!({}));
    let clients = dir.path().join("clients");
    std::fs::create_dir_all(&clients).unwrap();
    let (client_ca, _, _) = openssl_server_cert(&clients);
    let (cert, key) = openssl_client_cert(&clients, "auditor");
    let api = Api::start_with(dir.path(), &pods, &objects, Some(&client_ca));
    let strangers = dir.path().join("strangers");
    std::fs::create_dir_all(&strangers).unwrap();
    openssl_server_cert(&strangers);
    let (stranger_cert, stranger_key) = openssl_client_cert(&strangers, "stranger");
    // openssl's verdict on both client certificates, next to the server's.
    assert!(openssl_verifies(&client_ca, &cert) && !openssl_verifies(&client_ca, &stranger_cert));
    use base64::Engine;
    let ca = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&api.ca).unwrap());
    let kubeconfig = |cert: &Path, key: &Path| {
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://{}\n    certificate-authority-data: {ca}\ncontexts:\n- name: c\n  context:\n    cluster: k\n    user: u\nusers:\n- name: u\n  user:\n    client-certificate: {}\n    client-key: {}\n",
            api.addr,
            cert.strip_prefix(dir.path()).unwrap().display(),
            key.strip_prefix(dir.path()).unwrap().display()
        );
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, text).unwrap();
        path
    };
    let k = kubeconfig(&cert, &key);
    let report = run_json(&["cluster", "-A", "--kubeconfig", k.to_str().unwrap(), "--plain-http", "-o", "json"]);
    assert_eq!(report["workloads"].as_array().unwrap().len(), 13);
    assert_eq!(report["scan"]["complete"], true);
    let k = kubeconfig(&stranger_cert, &stranger_key);
    let o = sigaudit(["cluster", "-A", "--kubeconfig", k.to_str().unwrap(), "--plain-http"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(code(&o), 2, "{stderr}");
    assert!(stderr.contains("listing pods") && stderr.contains("/api/v1/pods"), "{stderr}");
}

/// Whether `openssl verify` finds a path from `cert` to `ca`.
fn openssl_verifies(ca: &Path, cert: &Path) -> bool {
    let o = Command::new("openssl").arg("verify").arg("-CAfile").arg(ca).arg(cert).output().expect("openssl");
    o.status.success()
}

/// RBAC that lets the auditor list pods but not read ReplicaSets or Jobs: the owners are taken
/// from the names their controllers give them (`via: name`), with a warning, and the scan goes on.
#[test]
fn owners_the_api_will_not_show_are_taken_from_their_names() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let pods = pods_file(dir.path(), &reg.addr, &seeded);
    let objects = objects_file(dir.path(), &reg.addr, &seeded, &serde_json::json!({}));
    let mut stored: serde_json::Map<String, Value> = serde_json::from_slice(&std::fs::read(&objects).unwrap()).unwrap();
    for (path, v) in stored.iter_mut() {
        if path.starts_with("/apis/") {
            let message = format!("replicasets.apps is forbidden: User \"system:serviceaccount:audit:sigaudit\" cannot get resource at {path}");
            *v = serde_json::json!({ "forbidden": message });
        }
    }
    std::fs::write(&objects, Value::Object(stored).to_string()).unwrap();
    let api = Api::start(dir.path(), &pods, &objects);
    let kubeconfig = api.kubeconfig(dir.path(), &api.ca);
    let o = sigaudit([
        "cluster",
        "-A",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--context",
        "audit",
        "--plain-http",
        "-o",
        "json",
    ]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("HTTP 403"), "the refusal is said");
    let report = stdout_json(&o);
    assert_workloads(&report, &reg, &seeded, false, &[]);
    assert!(api.requests().iter().any(|r| r.starts_with("GET /apis/apps/v1/namespaces/shop/replicasets/")));
}

/// A registry that stalls (a fault-injecting proxy of ours in front of the real one: no
/// installable registry stalls on demand) and `--deadline`: the report is still written, every
/// container listed, incomplete (exit 3), and no container whose digest was not looked at passes
/// or reads `unsigned`.
#[test]
fn a_deadline_leaves_the_containers_not_examined_as_errors() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let rule: common::proxy::Rule = std::sync::Arc::new(|_: &str, path: &str, _| {
        if path.starts_with("/v2/apps/worker/manifests/") {
            Action::Delay(std::time::Duration::from_secs(20))
        } else {
            Action::Forward
        }
    });
    let proxy = Proxy::start(&reg.addr, rule);
    let dir = tempfile::tempdir().unwrap();
    let pods = pods_file(dir.path(), &proxy.addr, &seeded);
    let started = std::time::Instant::now();
    let o =
        sigaudit(["cluster", "--pods-file", pods.to_str().unwrap(), "--plain-http", "--deadline", "4s", "-o", "json"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(15), "the deadline stops the scan");
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["complete"], false);
    assert!(report["errors"].as_array().unwrap().iter().any(|e| e["code"] == "deadline-exceeded"));
    let workloads = by_container(&report);
    assert_eq!(workloads.len(), 13);
    let db = &workloads[&key("data", "db-0", "db")];
    assert_eq!(db["status"], "error", "{db:#}");
    assert!(db["notes"].to_string().contains("not examined"), "{db:#}");
    for w in workloads.values().filter(|w| w.get("digest").is_some()) {
        let image = report["images"].as_array().unwrap().iter().find(|i| i["digest"] == w["digest"]);
        match image {
            Some(i) => assert_eq!(w["status"], i["status"], "{w:#}"),
            None => assert_eq!(w["status"], "error", "a digest not verified is an error, never unsigned: {w:#}"),
        }
    }
}
