//! deploy/kubernetes/, the recipe for sharded scans on Kubernetes (an Indexed Job of shards, then
//! a merge), checked offline: kubernetes-validate validates every manifest strictly against the
//! API schemas of one Kubernetes version, its PyYAML turns the manifests into JSON for the
//! invariants checked here, and the two wrapper scripts run under /bin/sh with a stub sigaudit.
//!
//! Needs kubernetes-validate in the virtualenv `${XDG_CACHE_HOME:-~/.cache}/sigaudit/venv`
//! (scripts/setup.sh installs it; SIGAUDIT_VENV names another virtualenv).

mod common;

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{SystemTime, UNIX_EPOCH};

/// The kubernetes-validate release scripts/setup.sh pins.
const VALIDATOR_VERSION: &str = "1.37.0";
/// The Kubernetes API the manifests must fit: backoffLimitPerIndex and podFailurePolicy's
/// FailIndex are there from 1.29 (beta, on by default), the job-name label from 1.27.
const K8S_VERSION: &str = "1.30.0";
/// Where the Containerfile installs the binary.
const BINARY: &str = "/usr/local/bin/sigaudit";
const SCAN_FILE: &str = "cronjob-scan.yaml";

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn deploy_dir() -> PathBuf {
    repo_root().join("deploy/kubernetes")
}

fn venv() -> PathBuf {
    common::venv()
}

/// A program of the virtualenv, or a panic saying how to get it.
fn venv_tool(name: &str) -> PathBuf {
    let path = venv().join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup.sh (it installs kubernetes-validate {VALIDATOR_VERSION} into that \
         virtualenv; SIGAUDIT_VENV names another)",
        path.display()
    );
    path
}

fn validator() -> PathBuf {
    let bin = venv_tool("kubernetes-validate");
    let out = Command::new(&bin).arg("--version").output().expect("run kubernetes-validate --version");
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(
        version,
        VALIDATOR_VERSION,
        "{} is version {version:?}, not {VALIDATOR_VERSION}: run scripts/setup.sh",
        bin.display()
    );
    bin
}

fn validate(files: &[PathBuf], strict: bool) -> (Output, String) {
    let mut cmd = Command::new(validator());
    if strict {
        cmd.arg("--strict");
    }
    let out = cmd.args(["-k", K8S_VERSION]).args(files).output().expect("run kubernetes-validate");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out, text)
}

/// The manifests: every .yaml file of deploy/kubernetes/ but kustomization.yaml, which no API
/// schema covers.
fn manifest_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(deploy_dir())
        .expect("deploy/kubernetes/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .filter(|p| p.file_name().unwrap() != "kustomization.yaml")
        .collect();
    files.sort();
    assert!(files.len() >= 6, "deploy/kubernetes/ holds only {files:?}");
    files
}

/// The YAML documents of each file, as JSON, read by the virtualenv's PyYAML.
fn load(files: &[PathBuf]) -> Vec<(String, Value)> {
    const TO_JSON: &str = "import json, sys, yaml\n\
        out = []\n\
        for f in sys.argv[1:]:\n\
        \x20   with open(f) as fh:\n\
        \x20       out += [[f, d] for d in yaml.safe_load_all(fh) if d is not None]\n\
        print(json.dumps(out))\n";
    let out = Command::new(venv_tool("python")).arg("-c").arg(TO_JSON).args(files).output().expect("run python");
    assert!(out.status.success(), "reading the manifests failed: {}", String::from_utf8_lossy(&out.stderr));
    let docs: Vec<(String, Value)> = serde_json::from_slice(&out.stdout).expect("JSON from the YAML reader");
    docs.into_iter().map(|(f, d)| (Path::new(&f).file_name().unwrap().to_string_lossy().into_owned(), d)).collect()
}

fn all_docs() -> Vec<Value> {
    load(&manifest_files()).into_iter().map(|(_, d)| d).collect()
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().expect("metadata.name")
}

fn container_name(container: &Value) -> &str {
    container["name"].as_str().expect("a container's name")
}

/// The one CronJob whose Job is Indexed (the scan), and the other one (the merge).
fn scan_and_merge(docs: &[Value]) -> (&Value, &Value) {
    let cronjobs = of_kind(docs, "CronJob");
    assert_eq!(cronjobs.len(), 2, "a scan CronJob and a merge CronJob");
    let (scans, merges): (Vec<&Value>, Vec<&Value>) =
        cronjobs.into_iter().partition(|c| c["spec"]["jobTemplate"]["spec"]["completionMode"] == "Indexed");
    assert_eq!(scans.len(), 1, "exactly one CronJob runs an Indexed Job (the scan)");
    (scans[0], merges[0])
}

fn pod_spec(cronjob: &Value) -> &Value {
    &cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
}

fn containers(pod: &Value) -> Vec<&Value> {
    let mut all: Vec<&Value> = Vec::new();
    for key in ["initContainers", "containers"] {
        if let Some(list) = pod[key].as_array() {
            all.extend(list);
        }
    }
    all
}

/// The only container of a pod, which runs `/bin/sh -c SCRIPT`: its script.
fn script(pod: &Value) -> String {
    let cs = containers(pod);
    assert_eq!(cs.len(), 1, "one container");
    assert_eq!(cs[0]["command"], serde_json::json!(["/bin/sh", "-c"]), "the container runs a /bin/sh script");
    let args = cs[0]["args"].as_array().expect("args");
    assert_eq!(args.len(), 1, "the script is the one argument");
    args[0].as_str().unwrap().to_string()
}

fn mount_of<'a>(container: &'a Value, volume: &str) -> Option<&'a Value> {
    container["volumeMounts"].as_array()?.iter().find(|m| m["name"] == volume)
}

fn env_value<'a>(container: &'a Value, var: &str) -> Option<&'a Value> {
    container["env"].as_array()?.iter().find(|e| e["name"] == var)
}

/// The shard count N of `--shard auto/N` in the scan script.
fn shard_count(script: &str) -> u64 {
    let counts: Vec<u64> = script
        .split("--shard auto/")
        .skip(1)
        .map(|rest| rest.split(|c: char| !c.is_ascii_digit()).next().unwrap().parse().expect("--shard auto/N"))
        .collect();
    assert_eq!(counts.len(), 1, "the scan script passes --shard auto/N once");
    counts[0]
}

#[test]
fn manifests_validate_strictly() {
    let files = manifest_files();
    let (out, text) = validate(&files, true);
    assert!(out.status.success(), "kubernetes-validate --strict -k {K8S_VERSION} failed:\n{text}");
    for f in &files {
        let file = f.display().to_string();
        assert!(text.contains(&format!("INFO {file} passed")), "{file} was not reported as passed:\n{text}");
    }
    assert!(!text.contains("WARN") && !text.contains("ERROR"), "kubernetes-validate warned:\n{text}");
}

/// The validator really fails on a broken manifest: a misspelled field, which only --strict
/// catches, and a value of the wrong type.
#[test]
fn validator_rejects_a_broken_copy() {
    let original = std::fs::read_to_string(deploy_dir().join(SCAN_FILE)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (from, to, expected, strict_only) in [
        ("completionMode: Indexed", "completionMod: Indexed", "'completionMod' was unexpected", true),
        (
            "readOnlyRootFilesystem: true",
            "readOnlyRootFileSystem: true",
            "'readOnlyRootFileSystem' was unexpected",
            true,
        ),
        ("parallelism: 4", "parallelism: four", "'four' is not of type 'integer'", false),
    ] {
        assert_eq!(original.matches(from).count(), 1, "{SCAN_FILE} holds {from:?} once");
        let broken = dir.path().join(SCAN_FILE);
        std::fs::write(&broken, original.replace(from, to)).unwrap();
        let (out, text) = validate(std::slice::from_ref(&broken), true);
        assert!(!out.status.success(), "kubernetes-validate --strict accepted {to:?}:\n{text}");
        assert!(text.contains(expected), "kubernetes-validate did not name the fault {expected:?}:\n{text}");
        if strict_only {
            let (out, text) = validate(std::slice::from_ref(&broken), false);
            assert!(
                out.status.success(),
                "without --strict {to:?} should pass (strictness is what catches it):\n{text}"
            );
        }
    }
}

#[test]
fn kustomization_lists_every_manifest() {
    let docs = load(&[deploy_dir().join("kustomization.yaml")]);
    assert_eq!(docs.len(), 1);
    let listed: BTreeSet<String> =
        docs[0].1["resources"].as_array().expect("resources").iter().map(|r| r.as_str().unwrap().to_string()).collect();
    let files: BTreeSet<String> =
        manifest_files().iter().map(|f| f.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(listed, files, "kustomization.yaml's resources are the manifests of deploy/kubernetes/");
}

#[test]
fn the_scan_is_an_indexed_job_of_n_shards() {
    let docs = all_docs();
    let (scan, _) = scan_and_merge(&docs);
    let job = &scan["spec"]["jobTemplate"]["spec"];
    let pod = pod_spec(scan);
    let n = shard_count(&script(pod));
    assert!(n >= 2, "--shard auto/{n}");
    assert_eq!(job["completions"], n, "completions == the N of --shard auto/{n}");
    assert_eq!(job["parallelism"], n, "parallelism == the N of --shard auto/{n}");
    assert_eq!(pod["restartPolicy"], "Never", "a failed shard is a failed pod, retried by the Job");
    let retries = job["backoffLimitPerIndex"].as_u64().or(job["backoffLimit"].as_u64());
    assert!(retries.is_some_and(|r| r >= 1), "a failed shard is retried: {job}");
    let container = containers(pod)[0];
    assert_eq!(
        env_value(container, "JOB_NAME").expect("JOB_NAME")["valueFrom"]["fieldRef"]["fieldPath"],
        "metadata.labels['batch.kubernetes.io/job-name']"
    );
    // Left to Kubernetes, which sets it per index.
    assert!(env_value(container, "JOB_COMPLETION_INDEX").is_none());
    assert!(!script(pod).contains("--fail-on"), "shards report every image; the policy is the merge's");
}

#[test]
fn every_container_is_locked_down() {
    let containerfile = std::fs::read_to_string(repo_root().join("Containerfile")).unwrap();
    assert!(containerfile.contains("USER 10001:10001"), "the image's user is 10001");
    assert!(containerfile.contains(&format!("ENTRYPOINT [\"{BINARY}\"]")), "the image's binary is {BINARY}");
    let docs = all_docs();
    let accounts = of_kind(&docs, "ServiceAccount");
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["automountServiceAccountToken"], false);
    for cronjob in of_kind(&docs, "CronJob") {
        let pod = pod_spec(cronjob);
        let what = name(cronjob);
        assert_eq!(pod["serviceAccountName"], name(accounts[0]), "{what}");
        assert_eq!(pod["automountServiceAccountToken"], false, "{what}");
        assert_locked_down(pod, what);
    }
}

/// Every container of `pod` runs as 10001, non-root, read-only root, no privilege, no
/// capabilities, seccomp RuntimeDefault, an emptyDir /tmp, sized, running BINARY from a script
/// Kubernetes does not expand.
fn assert_locked_down(pod: &Value, what: &str) {
    let tmp_volumes: Vec<&Value> =
        pod["volumes"].as_array().unwrap().iter().filter(|v| v["emptyDir"].is_object()).collect();
    for c in containers(pod) {
        let what = format!("{what}/{}", container_name(c));
        // The container's setting, else the pod's.
        let effective = |key: &str| {
            let own = &c["securityContext"][key];
            if own.is_null() {
                pod["securityContext"][key].clone()
            } else {
                own.clone()
            }
        };
        assert_eq!(effective("runAsNonRoot"), true, "{what}: runAsNonRoot");
        assert_eq!(effective("runAsUser"), 10001, "{what}: runAsUser");
        assert_eq!(effective("seccompProfile")["type"], "RuntimeDefault", "{what}: seccompProfile");
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{what}: readOnlyRootFilesystem");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{what}: allowPrivilegeEscalation");
        assert_eq!(sc["privileged"], Value::Null, "{what}: privileged");
        assert_eq!(sc["capabilities"]["drop"], serde_json::json!(["ALL"]), "{what}: capabilities.drop");
        assert_eq!(sc["capabilities"]["add"], Value::Null, "{what}: capabilities.add");
        let tmp = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == "/tmp");
        let tmp = tmp.unwrap_or_else(|| panic!("{what}: /tmp is mounted"));
        assert!(tmp_volumes.iter().any(|v| v["name"] == tmp["name"]), "{what}: /tmp is an emptyDir");
        let res = &c["resources"];
        for (kind, key) in [("requests", "cpu"), ("requests", "memory"), ("limits", "memory")] {
            assert!(res[kind][key].is_string(), "{what}: resources.{kind}.{key}");
        }
        let script = script(pod);
        assert!(script.contains(BINARY), "{what} runs {BINARY}");
        // Kubernetes expands $(VAR) in command and args before the shell sees them.
        for e in c["env"].as_array().into_iter().flatten() {
            let var = format!("$({})", e["name"].as_str().unwrap());
            assert!(!script.contains(&var), "{what}: Kubernetes would expand {var} in the script");
        }
    }
}

#[test]
fn the_secret_is_mounted_read_only_as_docker_config() {
    let docs = all_docs();
    let secrets = of_kind(&docs, "Secret");
    assert_eq!(secrets.len(), 1);
    let secret = secrets[0];
    assert_eq!(secret["type"], "kubernetes.io/dockerconfigjson");
    let config = secret["stringData"][".dockerconfigjson"].as_str().expect("stringData .dockerconfigjson");
    let config: Value = serde_json::from_str(config).expect("the placeholder is JSON");
    assert!(config["auths"].is_object(), "docker's config.json format: {config}");
    let (scan, merge) = scan_and_merge(&docs);
    let mut mounted = 0;
    for cronjob in [scan, merge] {
        let pod = pod_spec(cronjob);
        for v in pod["volumes"].as_array().unwrap().iter().filter(|v| v["secret"]["secretName"] == name(secret)) {
            assert_eq!(
                v["secret"]["items"],
                serde_json::json!([{"key": ".dockerconfigjson", "path": "config.json"}]),
                "the Secret appears as config.json"
            );
            for c in containers(pod) {
                let Some(m) = mount_of(c, v["name"].as_str().unwrap()) else { continue };
                assert_eq!(
                    m["readOnly"],
                    true,
                    "{}/{}: the Secret is mounted read-only",
                    name(cronjob),
                    container_name(c)
                );
                assert_eq!(env_value(c, "DOCKER_CONFIG").expect("DOCKER_CONFIG")["value"], m["mountPath"]);
                mounted += 1;
            }
        }
    }
    assert_eq!(mounted, 1, "the scan container, and only it, mounts the registry credentials");
}

#[test]
fn the_merge_reads_the_directory_the_shards_write() {
    let docs = all_docs();
    let (scan, merge) = scan_and_merge(&docs);
    let pvcs = of_kind(&docs, "PersistentVolumeClaim");
    assert_eq!(pvcs.len(), 1);
    assert_eq!(pvcs[0]["spec"]["accessModes"], serde_json::json!(["ReadWriteMany"]));
    let reports_mount = |cronjob: &Value| {
        let pod = pod_spec(cronjob);
        let v = pod["volumes"].as_array().unwrap().iter().find(|v| v["persistentVolumeClaim"].is_object());
        let v = v.unwrap_or_else(|| panic!("{} mounts a claim", name(cronjob)));
        assert_eq!(v["persistentVolumeClaim"]["claimName"], name(pvcs[0]));
        let m = mount_of(containers(pod)[0], v["name"].as_str().unwrap()).expect("the claim is mounted");
        assert_ne!(m["readOnly"], true, "{} writes to the reports volume", name(cronjob));
        m["mountPath"].as_str().unwrap().to_string()
    };
    let dir = reports_mount(scan);
    assert_eq!(dir, reports_mount(merge), "scan and merge mount the reports volume at the same path");
    assert_eq!(dir, "/reports", "the scripts below spell the path out");
    let scan_script = script(pod_spec(scan));
    assert!(scan_script.contains("dir=\"/reports/${JOB_NAME}\""), "{scan_script}");
    assert!(scan_script.contains("out=\"${dir}/shard-${JOB_COMPLETION_INDEX}.ndjson\""), "{scan_script}");
    let merge_script = script(pod_spec(merge));
    assert!(merge_script.contains("for d in /reports/*/"), "{merge_script}");
    assert!(merge_script.contains("\"$run\"/shard-*.ndjson"), "{merge_script}");
    assert_ne!(scan["spec"]["schedule"], merge["spec"]["schedule"], "the merge runs after the scan");
}

/// A wrapper script with /reports and the binary moved into `root`, and a stub sigaudit that
/// writes its arguments as the report and exits with $STUB_EXIT.
struct Sandbox {
    dir: tempfile::TempDir,
    script: String,
}

impl Sandbox {
    fn new(script: &str) -> Sandbox {
        Sandbox::with(script, None)
    }

    /// With `binary` (the real sigaudit) in place of the stub.
    fn with(script: &str, binary: Option<&Path>) -> Sandbox {
        // No '-' in the path: the merge script reads a run's time from after the last one.
        let dir = tempfile::Builder::new().prefix("deploy").tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("reports")).unwrap();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        let stub = root.join("bin/sigaudit");
        std::fs::write(&stub, "#!/bin/sh\necho \"$*\"\necho called >\"${0%/*}/called\"\nexit \"$STUB_EXIT\"\n")
            .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&stub, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(script.contains("/reports/") && script.contains(BINARY));
        let script = script
            .replace(BINARY, &binary.unwrap_or(&stub).display().to_string())
            .replace("/reports/", &format!("{}/", root.join("reports").display()));
        Sandbox { dir, script }
    }

    fn reports(&self) -> PathBuf {
        self.dir.path().join("reports")
    }

    fn stub_called(&self) -> bool {
        self.dir.path().join("bin/called").exists()
    }

    /// Runs the script with only the environment given (and PATH).
    fn run(&self, env: &[(&str, &str)], stub_exit: i32) -> Output {
        Command::new("/bin/sh")
            .arg("-c")
            .arg(&self.script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("STUB_EXIT", stub_exit.to_string())
            .envs(env.iter().copied())
            .output()
            .expect("run /bin/sh")
    }
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            found.extend(files_under(&p));
        } else {
            found.push(p.display().to_string());
        }
    }
    found.sort();
    found
}

#[test]
fn a_shard_keeps_its_report_on_exit_0_1_3_and_fails_otherwise() {
    let docs = all_docs();
    let (scan, _) = scan_and_merge(&docs);
    let script = script(pod_spec(scan));
    let env = [
        ("JOB_NAME", "sigaudit-scan-29000000"),
        ("JOB_COMPLETION_INDEX", "2"),
        ("POD_NAME", "sigaudit-scan-29000000-2-x7k2p"),
        ("TARGET", "registry.example.com/team"),
    ];
    for code in [0, 1, 3, 2, 4, 101, 137] {
        let sandbox = Sandbox::new(&script);
        let out = sandbox.run(&env, code);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report = sandbox.reports().join("sigaudit-scan-29000000/shard-2.ndjson");
        if [0, 1, 3].contains(&code) {
            assert_eq!(out.status.code(), Some(0), "sigaudit exit {code}: the pod succeeds\n{stderr}");
            assert_eq!(
                std::fs::read_to_string(&report).unwrap(),
                "registry registry.example.com/team --shard auto/4 -o ndjson\n",
                "sigaudit exit {code}: its output is the shard's report"
            );
            assert_eq!(files_under(&sandbox.reports()), [report.display().to_string()], "no temporary file left");
        } else {
            assert_eq!(out.status.code(), Some(code), "sigaudit exit {code}: the pod fails with it\n{stderr}");
            assert_eq!(files_under(&sandbox.reports()), Vec::<String>::new(), "sigaudit exit {code}: no report");
        }
    }
}

#[test]
fn the_merge_takes_the_newest_run_and_keeps_the_exit_code() {
    let docs = all_docs();
    let (_, merge) = scan_and_merge(&docs);
    let script = script(pod_spec(merge));
    let max_age = env_value(containers(pod_spec(merge))[0], "MAX_RUN_AGE_MINUTES").expect("MAX_RUN_AGE_MINUTES")
        ["value"]
        .as_str()
        .unwrap()
        .to_string();
    let env = [("POD_NAME", "sigaudit-merge-29000180-q8v4z"), ("MAX_RUN_AGE_MINUTES", max_age.as_str())];
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() / 60;
    let today = format!("sigaudit-scan-{}", now - 180);
    let yesterday = format!("sigaudit-scan-{}", now - 180 - 1440);
    let seed = |sandbox: &Sandbox| {
        let r = sandbox.reports();
        for (dir, files) in [
            (yesterday.as_str(), &["shard-0.ndjson", "shard-1.ndjson", "shard-2.ndjson", "shard-3.ndjson"][..]),
            // Shard 2 of tonight failed; one of its attempts left a temporary file.
            (today.as_str(), &["shard-0.ndjson", "shard-1.ndjson", "shard-3.ndjson", "shard-2.ndjson.p.tmp"][..]),
            ("sigaudit-scan-manual", &["shard-0.ndjson"][..]),
            ("lost+found", &[][..]),
        ] {
            std::fs::create_dir_all(r.join(dir)).unwrap();
            for f in files {
                std::fs::write(r.join(dir).join(f), "{}\n").unwrap();
            }
        }
    };
    for code in [0, 1, 3, 2, 101] {
        let sandbox = Sandbox::new(&script);
        seed(&sandbox);
        let out = sandbox.run(&env, code);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "sigaudit merge exit {code} is the pod's\n{stderr}");
        let run = sandbox.reports().join(&today);
        let merged = run.join("merged.json");
        let leftovers: Vec<String> =
            files_under(&sandbox.reports()).into_iter().filter(|f| f.contains("merged")).collect();
        if [0, 1, 3].contains(&code) {
            let shards: Vec<String> = ["shard-0.ndjson", "shard-1.ndjson", "shard-3.ndjson"]
                .iter()
                .map(|f| run.join(f).display().to_string())
                .collect();
            assert_eq!(
                std::fs::read_to_string(&merged).unwrap(),
                format!("merge {} -o json --fail-on invalid,error\n", shards.join(" ")),
                "the newest run's shard reports, and nothing else, are merged"
            );
            assert_eq!(leftovers, [merged.display().to_string()], "no temporary file left");
        } else {
            assert_eq!(leftovers, Vec::<String>::new(), "sigaudit merge exit {code}: no merged.json");
        }
    }

    // Nothing to merge: exit 2 without calling sigaudit.
    let stale = Sandbox::new(&script);
    std::fs::create_dir_all(stale.reports().join(&yesterday)).unwrap();
    std::fs::write(stale.reports().join(&yesterday).join("shard-0.ndjson"), "{}\n").unwrap();
    let out = stale.run(&env, 0);
    assert_eq!(out.status.code(), Some(2), "a run older than MAX_RUN_AGE_MINUTES is not merged again");
    assert!(String::from_utf8_lossy(&out.stderr).contains("did the scan start?"));
    let empty_run = Sandbox::new(&script);
    std::fs::create_dir_all(empty_run.reports().join(&today)).unwrap();
    assert_eq!(empty_run.run(&env, 0).status.code(), Some(2), "a run without a shard report");
    let nothing = Sandbox::new(&script);
    assert_eq!(nothing.run(&env, 0).status.code(), Some(2), "no run at all");
    for s in [&stale, &empty_run, &nothing] {
        assert!(!s.stub_called(), "sigaudit merge is not run (it would read standard input)");
    }
}

/// The recipe's own scripts, with the real binary, against a real registry (docker-registry on
/// 127.0.0.1, seeded by scripts/seed_registry.py): four pods of the Indexed Job, then the merge
/// pod, give exactly the report of one unsharded scan.
#[test]
fn the_recipe_scans_and_merges_a_real_registry_like_one_scan() {
    let reg = common::Registry::distribution(3);
    reg.seed(false);
    let docs = all_docs();
    let (scan, merge) = scan_and_merge(&docs);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_sigaudit"));
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() / 60;
    let job = format!("sigaudit-scan-{now}");
    let shards = Sandbox::with(&script(pod_spec(scan)), Some(&binary));
    let count = shard_count(&script(pod_spec(scan)));
    let target = format!("http://{}", reg.addr);
    for index in 0..count {
        let (i, pod) = (index.to_string(), format!("{job}-{index}-abcde"));
        let env = [("JOB_NAME", job.as_str()), ("JOB_COMPLETION_INDEX", &i), ("POD_NAME", &pod), ("TARGET", &target)];
        let out = shards.run(&env, 0);
        assert_eq!(out.status.code(), Some(0), "shard {index}: {}", String::from_utf8_lossy(&out.stderr));
    }
    // The merge pod reads the same volume.
    let merge_script = script(pod_spec(merge));
    let merging = Sandbox::with(&merge_script, Some(&binary));
    std::fs::remove_dir_all(merging.reports()).unwrap();
    std::os::unix::fs::symlink(shards.reports(), merging.reports()).unwrap();
    let env = [("POD_NAME", "sigaudit-merge-1-fghij"), ("MAX_RUN_AGE_MINUTES", "360")];
    let out = merging.run(&env, 0);
    // The seeded registry holds invalid images, and the recipe merges with --fail-on invalid,error.
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let merged: Value =
        serde_json::from_slice(&std::fs::read(shards.reports().join(&job).join("merged.json")).unwrap()).unwrap();
    assert_eq!(merged["scan"]["complete"], true, "{:#}", merged["errors"]);
    assert_eq!(merged["scan"]["merged"].as_array().unwrap().len() as u64, count);

    let o = common::sigaudit(["registry", &target, "-o", "json"]);
    let whole = common::stdout_json(&o);
    let content = |r: &Value| {
        let mut r = r.clone();
        r.as_object_mut().unwrap().retain(|k, _| k != "scan" && k != "tool");
        r
    };
    assert_eq!(content(&merged), content(&whole), "the recipe's merged report differs from one scan");
}

// deploy/kubernetes/cluster/: `sigaudit cluster` run in the cluster by a CronJob, reading pods
// with a ClusterRole of get/list pods (or the namespaced Role variant).

fn cluster_dir() -> PathBuf {
    deploy_dir().join("cluster")
}

/// The cluster recipe's manifests: every .yaml of deploy/kubernetes/cluster/ but
/// kustomization.yaml (role-namespaced.yaml, the variant, included).
fn cluster_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(cluster_dir())
        .expect("deploy/kubernetes/cluster/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| p.file_name().unwrap() != "kustomization.yaml")
        .collect();
    files.sort();
    files
}

const CLUSTER_VARIANT: &str = "role-namespaced.yaml";
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

#[test]
fn cluster_manifests_validate_strictly_and_kustomization_lists_them() {
    let files = cluster_files();
    assert!(files.len() >= 6, "{files:?}");
    let (out, text) = validate(&files, true);
    assert!(out.status.success(), "kubernetes-validate --strict -k {K8S_VERSION} failed:\n{text}");
    for f in &files {
        let file = f.display().to_string();
        assert!(text.contains(&format!("INFO {file} passed")), "{file} was not reported as passed:\n{text}");
    }
    assert!(!text.contains("WARN") && !text.contains("ERROR"), "kubernetes-validate warned:\n{text}");
    let k = load(&[cluster_dir().join("kustomization.yaml")]);
    let listed: BTreeSet<String> =
        k[0].1["resources"].as_array().expect("resources").iter().map(|r| r.as_str().unwrap().to_string()).collect();
    let names: BTreeSet<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|f| f != CLUSTER_VARIANT)
        .collect();
    assert_eq!(listed, names, "kustomization.yaml lists every manifest but the namespaced variant");
    assert_eq!(k[0].1["namespace"], "sigaudit", "the namespace the ClusterRoleBinding names");
}

/// The RBAC rules: get and list of core pods, nothing more, bound to the recipe's account only.
#[test]
fn cluster_rbac_reads_pods_and_nothing_more() {
    let docs: Vec<Value> = load(&cluster_files()).into_iter().map(|(_, d)| d).collect();
    let accounts = of_kind(&docs, "ServiceAccount");
    assert_eq!(accounts.len(), 1);
    let account = name(accounts[0]);
    let only_pods = serde_json::json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]);
    for (role_kind, binding_kind) in [("ClusterRole", "ClusterRoleBinding"), ("Role", "RoleBinding")] {
        let roles = of_kind(&docs, role_kind);
        let bindings = of_kind(&docs, binding_kind);
        assert_eq!((roles.len(), bindings.len()), (1, 1), "one {role_kind} and one {binding_kind}");
        assert_eq!(roles[0]["rules"], only_pods, "{role_kind}: get/list pods, nothing more");
        assert!(roles[0]["aggregationRule"].is_null(), "{role_kind}: no aggregated rules");
        let b = bindings[0];
        assert_eq!(
            b["roleRef"],
            serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name(roles[0])})
        );
        assert_eq!(
            b["subjects"],
            serde_json::json!([{"kind": "ServiceAccount", "name": account, "namespace": "sigaudit"}]),
            "{binding_kind}: the recipe's account, and only it"
        );
        if role_kind == "Role" {
            assert_eq!(roles[0]["metadata"]["namespace"], b["metadata"]["namespace"], "Role and RoleBinding together");
        }
    }
}

#[test]
fn the_cluster_pod_is_locked_down_with_a_projected_short_lived_token() {
    let docs: Vec<Value> = load(&cluster_files()).into_iter().map(|(_, d)| d).collect();
    let accounts = of_kind(&docs, "ServiceAccount");
    assert_eq!(accounts[0]["automountServiceAccountToken"], false);
    let cronjobs = of_kind(&docs, "CronJob");
    assert_eq!(cronjobs.len(), 1);
    let cronjob = cronjobs[0];
    let pod = pod_spec(cronjob);
    assert_eq!(pod["serviceAccountName"], name(accounts[0]));
    assert_eq!(pod["automountServiceAccountToken"], false, "no automounted token");
    assert_locked_down(pod, name(cronjob));
    // The token, CA and namespace projected where sigaudit's in-cluster mode reads them,
    // read-only, expiring within the hour, the Job stopped before it expires.
    let c = containers(pod)[0];
    let mount = c["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == SERVICE_ACCOUNT_DIR);
    let mount = mount.expect("the token is mounted at the service-account directory");
    assert_eq!(mount["readOnly"], true);
    let volume = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
    let sources = volume["projected"]["sources"].as_array().expect("a projected volume");
    let token = sources.iter().find_map(|s| s.get("serviceAccountToken")).expect("a serviceAccountToken source");
    assert_eq!(token["path"], "token");
    let lifetime = token["expirationSeconds"].as_u64().unwrap();
    assert!(lifetime <= 3600, "a short-lived token: {lifetime}");
    let deadline = cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"].as_u64().unwrap();
    assert!(deadline < lifetime, "the Job ({deadline} s) ends before its token ({lifetime} s)");
    let paths: BTreeSet<&str> = sources
        .iter()
        .flat_map(|s| {
            let items = s.get("configMap").or(s.get("downwardAPI")).and_then(|x| x["items"].as_array());
            items.into_iter().flatten().map(|i| i["path"].as_str().unwrap())
        })
        .collect();
    assert_eq!(paths, BTreeSet::from(["ca.crt", "namespace"]));
    // Every namespace with the ClusterRole; the variant's comment says to use -n instead.
    let script = script(pod);
    assert!(script.contains(&format!("{BINARY} cluster -A ")), "{script}");
    let variant = std::fs::read_to_string(cluster_dir().join(CLUSTER_VARIANT)).unwrap();
    assert!(variant.contains("replace `-A` by `-n team-a`"), "the variant says how to narrow the scan");
}

/// The shipped config, run as the CronJob's script runs it (pods from a file instead of the
/// API): the placeholder key is refused (exit 2), so an unedited deployment fails; with a real
/// key (made by openssl) the config is accepted and an empty cluster passes.
#[test]
fn the_cluster_config_refuses_its_placeholder_and_runs_with_a_key() {
    let docs = load(&[cluster_dir().join("configmap.yaml")]);
    let data = &docs[0].1["data"];
    let dir = tempfile::tempdir().unwrap();
    let config_dir = dir.path().join("config");
    std::fs::create_dir_all(&config_dir).unwrap();
    let toml =
        data["sigaudit.toml"].as_str().unwrap().replace("/etc/sigaudit/config/", &format!("{}/", config_dir.display()));
    std::fs::write(config_dir.join("sigaudit.toml"), toml).unwrap();
    std::fs::write(config_dir.join("cosign.pub"), data["cosign.pub"].as_str().unwrap()).unwrap();
    let pods = dir.path().join("pods.json");
    std::fs::write(&pods, r#"{"apiVersion":"v1","kind":"PodList","items":[]}"#).unwrap();
    let docs: Vec<Value> = load(&cluster_files()).into_iter().map(|(_, d)| d).collect();
    let script = script(pod_spec(of_kind(&docs, "CronJob")[0]));
    let args: Vec<String> = script.split_once(BINARY).unwrap().1.split_whitespace().map(str::to_string).collect();
    let run = || {
        let mut c = common::sigaudit_cmd(&args);
        c.arg("--pods-file").arg(&pods).env("SIGAUDIT_CONFIG", config_dir.join("sigaudit.toml"));
        c.output().unwrap()
    };
    let o = run();
    assert_eq!(o.status.code(), Some(2), "the placeholder key: {}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cosign.pub"), "{}", String::from_utf8_lossy(&o.stderr));
    let key = Command::new("sh")
        .arg("-c")
        .arg("openssl ecparam -genkey -name prime256v1 | openssl ec -pubout 2>/dev/null")
        .output()
        .expect("openssl");
    assert!(key.status.success() && key.stdout.starts_with(b"-----BEGIN PUBLIC KEY"), "openssl made no key");
    std::fs::write(config_dir.join("cosign.pub"), &key.stdout).unwrap();
    let o = run();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&o.stdout).expect("a JSON report on stdout");
    assert!(report["summary"].is_object(), "{report:#}");
}
