//! Sharded scans, several registries in one run, and `sigaudit merge`, against real registries
//! (Debian's docker-registry 2.8 on 127.0.0.1) seeded by scripts/seed_registry.py: the shards of a
//! scan, run as concurrent processes against the same registry and merged, must give exactly
//! the unsharded report, and a merge that lacks a shard must say it is incomplete.

mod common;

use common::{code, sigaudit, sigaudit_cmd, stdout_json, Registry};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn scan(addr: &str, extra: &[&str]) -> (Value, std::process::Output) {
    let mut args = vec!["registry", addr, "--plain-http", "-o", "json"];
    args.extend_from_slice(extra);
    let o = sigaudit(&args);
    (stdout_json(&o), o)
}

/// What a merge must reproduce of a scan: everything but the description of the run.
fn content(report: &Value) -> Value {
    let mut r = report.clone();
    let o = r.as_object_mut().unwrap();
    o.remove("scan");
    o.remove("tool");
    r
}

/// Run the `count` shards of a scan of `addr` at once, as separate processes; shard `i` writes
/// NDJSON when `i` is even and JSON when odd (merge reads both). Returns the report files.
fn run_shards(addr: &str, count: u32, dir: &Path) -> Vec<PathBuf> {
    let children: Vec<(PathBuf, std::process::Child)> = (0..count)
        .map(|i| {
            let format = if i % 2 == 0 { "ndjson" } else { "json" };
            let path = dir.join(format!("shard-{count}-{i}.{format}"));
            let shard = format!("{i}/{count}");
            let child = sigaudit_cmd(["registry", addr, "--plain-http", "-o", format, "--shard", &shard])
                .stdout(std::fs::File::create(&path).unwrap())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (path, child)
        })
        .collect();
    children
        .into_iter()
        .map(|(path, child)| {
            let o = child.wait_with_output().unwrap();
            // The seeded registry holds invalid images but no --fail-on is given: exit 0.
            assert_eq!(code(&o), 0, "{}: {}", path.display(), String::from_utf8_lossy(&o.stderr));
            path
        })
        .collect()
}

/// A report's description of itself: the JSON report, or the closing line of an NDJSON one.
fn closing(file: &Path) -> Value {
    let text = std::fs::read_to_string(file).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|_| serde_json::from_str(text.lines().last().unwrap()).unwrap())
}

/// A JSON report as a value (the file must be JSON, not NDJSON).
fn closing_json(file: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(file).unwrap()).unwrap()
}

fn merge(files: &[PathBuf], extra: &[&str]) -> (Value, std::process::Output) {
    let mut args: Vec<String> = vec!["merge".into(), "-o".into(), "json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(files.iter().map(|f| f.display().to_string()));
    let o = sigaudit(&args);
    (stdout_json(&o), o)
}

#[test]
fn merged_shards_equal_the_unsharded_scan_for_1_2_3_and_7_shards() {
    let reg = Registry::distribution(3);
    let seeded = reg.seed(false);
    let (whole, o) = scan(&reg.addr, &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    // The unsharded scan is itself right (the seeder's own record), so equal to it means right.
    common::assert_images_match(&whole, &seeded.expected);
    let repositories = whole["summary"]["repositories"].as_u64().unwrap();
    assert!(repositories >= 10, "a registry worth sharding: {repositories} repositories");
    assert_eq!(whole["registries"][0]["registry"], reg.addr.as_str());
    assert_eq!(whole["registries"][0]["summary"], whole["summary"]);

    let dir = tempfile::tempdir().unwrap();
    let whole_file = dir.path().join("whole.json");
    std::fs::write(&whole_file, serde_json::to_vec(&whole).unwrap()).unwrap();
    for count in [1u32, 2, 3, 7] {
        let files = run_shards(&reg.addr, count, dir.path());
        // Each shard says which it is, and the shards split the repositories between them.
        let mut per_shard = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let described = closing(f);
            assert_eq!(described["scan"]["shard"], serde_json::json!({"index": i, "count": count}), "{}", f.display());
            per_shard.push(described["summary"]["repositories"].as_u64().unwrap());
        }
        assert_eq!(per_shard.iter().sum::<u64>(), repositories, "{count} shards: {per_shard:?}");
        if count > 1 {
            assert!(per_shard.iter().all(|&n| n < repositories), "{count} shards: one took all {per_shard:?}");
        }

        let (merged, o) = merge(&files, &[]);
        assert_eq!(code(&o), 0, "{count} shards: {} {}", String::from_utf8_lossy(&o.stderr), merged["errors"]);
        assert_eq!(merged["scan"]["complete"], true, "{count} shards: {}", merged["errors"]);
        assert_eq!(merged["scan"]["merged"].as_array().unwrap().len(), count as usize);
        assert_eq!(merged["scan"]["target"], whole["scan"]["target"]);
        assert_eq!(content(&merged), content(&whole), "{count} shards merged differ from the unsharded scan");
    }

    // A shard missing: the merge is incomplete (exit 3) and names it; what it has is kept.
    let files = run_shards(&reg.addr, 3, dir.path());
    let (partial, o) = merge(&[files[0].clone(), files[2].clone()], &[]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(partial["scan"]["complete"], false);
    let errors = partial["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!((&errors[0]["code"], &errors[0]["reference"]), (&"shard-missing".into(), &"1/3".into()));
    assert!(partial["summary"]["images"].as_u64().unwrap() < whole["summary"]["images"].as_u64().unwrap());
    assert_eq!(partial["registries"][0]["complete"], false);

    // The same shard twice would count its images twice: refused.
    let (_, o) = {
        let o = sigaudit(["merge", &files[0].display().to_string(), &files[0].display().to_string()]);
        (Value::Null, o)
    };
    assert_eq!(code(&o), 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("are both shard 0/3"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A shard cut short (killed before its closing NDJSON line): incomplete, its images kept.
    let ndjson = std::fs::read_to_string(&files[0]).unwrap();
    let cut: Vec<&str> = ndjson.lines().collect();
    let truncated = dir.path().join("cut.ndjson");
    std::fs::write(&truncated, cut[..cut.len() - 1].join("\n")).unwrap();
    let (report, o) = merge(&[truncated, files[1].clone(), files[2].clone()], &[]);
    assert_eq!(code(&o), 3);
    let codes: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["report-truncated", "shard-missing"], "{:#}", report["errors"]);

    // A line lost from the middle of a shard (its closing line kept): the shard's own summary
    // gives it away.
    let holed = dir.path().join("holed.ndjson");
    let lines: Vec<&str> = ndjson.lines().collect();
    assert!(lines.len() > 2, "shard 0/3 lists images");
    std::fs::write(&holed, [&lines[1..]].concat().join("\n")).unwrap();
    let (report, o) = merge(&[holed, files[1].clone(), files[2].clone()], &[]);
    assert_eq!(code(&o), 3);
    let codes: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["report-inconsistent"], "{:#}", report["errors"]);

    // A shard relabelled as another (an empty one's copy standing in for a missing one): the
    // repositories it holds are not that shard's.
    let relabelled = dir.path().join("relabelled.json");
    let mut s2: Value = closing_json(&files[1]);
    s2["scan"]["shard"]["index"] = 2.into();
    std::fs::write(&relabelled, serde_json::to_vec(&s2).unwrap()).unwrap();
    let (report, o) = merge(&[files[0].clone(), relabelled], &[]);
    assert_eq!(code(&o), 3);
    let codes: Vec<&str> = report["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"shard-mismatch") && codes.contains(&"shard-missing"), "{codes:?}");

    // A shard relabelled as the whole scan (its --shard setting still says 1/3): not complete.
    let mut whole_claim = closing_json(&files[1]);
    whole_claim["scan"]["shard"] = Value::Null;
    let claim = dir.path().join("claims-whole.json");
    std::fs::write(&claim, serde_json::to_vec(&whole_claim).unwrap()).unwrap();
    let (report, o) = merge(&[claim], &[]);
    assert_eq!(code(&o), 3);
    assert_eq!(report["errors"][0]["code"], "report-inconsistent", "{:#}", report["errors"]);

    // The same image twice within one input: refused, not counted twice.
    let doubled = dir.path().join("doubled.ndjson");
    std::fs::write(&doubled, format!("{}\n{ndjson}", lines[0])).unwrap();
    let o = sigaudit(["merge", &doubled.display().to_string(), &files[1].display().to_string()]);
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("overlap"));

    // Reports of overlapping targets (the registry and a namespace of it; the same registry
    // spelled with its scheme): refused, though they share no image.
    let (ns, _) = scan(&format!("http://{}/sigs", reg.addr), &[]);
    let ns_file = dir.path().join("ns.json");
    std::fs::write(&ns_file, serde_json::to_vec(&ns).unwrap()).unwrap();
    let o = sigaudit(["merge", &whole_file.display().to_string(), &ns_file.display().to_string()]);
    assert_eq!(code(&o), 2, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cover the same repositories"));

    // Hostile inputs: counts at the edge of u64, bytes that are not UTF-8: reported, no hang,
    // no panic.
    let mut huge = closing_json(&files[1]);
    huge["registries"][0]["summary"]["repositories"] = u64::MAX.into();
    huge["registries"][0]["summary"]["tags"] = u64::MAX.into();
    let huge_file = dir.path().join("huge.json");
    std::fs::write(&huge_file, serde_json::to_vec(&huge).unwrap()).unwrap();
    let started = std::time::Instant::now();
    let (report, o) = merge(&[files[0].clone(), huge_file, files[2].clone()], &[]);
    assert!(started.elapsed().as_secs() < 20, "merge took {:?}", started.elapsed());
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(report["summary"]["repositories"], u64::MAX);
    let binary = dir.path().join("binary.ndjson");
    std::fs::write(&binary, b"{\"repository\": \"a\xff\"}\n").unwrap();
    let (report, o) = merge(&[binary], &[]);
    assert_eq!(code(&o), 3);
    assert_eq!(report["errors"][0]["code"], "report-unreadable");

    // --fail-on judges the merged report: the seeded registry has invalid images.
    let (_, o) = merge(&files, &["--fail-on", "invalid"]);
    assert_eq!(code(&o), 1);
    // A report merged with itself alone, from standard input, is the same report.
    let o = sigaudit_cmd(["merge", "-o", "json"]).stdin(std::fs::File::open(&whole_file).unwrap()).output().unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(content(&stdout_json(&o)), content(&whole));
    // A report filtered by --only does not list what its summary counts: refused.
    let (_, o) = scan(&reg.addr, &["--only", "invalid"]);
    let filtered = dir.path().join("filtered.json");
    std::fs::write(&filtered, &o.stdout).unwrap();
    let o = sigaudit(["merge", &filtered.display().to_string()]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--only"));
}

#[test]
fn shard_auto_takes_the_index_of_a_kubernetes_indexed_job() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let (explicit, o) = scan(&reg.addr, &["--shard", "1/3"]);
    assert_eq!(code(&o), 0);
    let o = sigaudit_cmd(["registry", &reg.addr, "--plain-http", "-o", "json", "--shard", "auto/3"])
        .env("JOB_COMPLETION_INDEX", "1")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let auto = stdout_json(&o);
    assert_eq!(auto["scan"]["shard"], serde_json::json!({"index": 1, "count": 3}));
    assert_eq!(content(&auto), content(&explicit));
    // Without the variable, or with an index out of range: a usage error, nothing scanned.
    let o = sigaudit_cmd(["registry", &reg.addr, "--plain-http", "--shard", "auto/3"])
        .env_remove("JOB_COMPLETION_INDEX")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("JOB_COMPLETION_INDEX is not set"));
    // Shards run with one file name but other content (a repository list edited between two
    // pods): the files' digests differ, so the merge is not one scan.
    let dir = tempfile::tempdir().unwrap();
    let repos = dir.path().join("repos.txt");
    let shard_with = |content: &str, shard: &str| {
        std::fs::write(&repos, content).unwrap();
        let out = dir.path().join(format!("s{}.json", shard.replace('/', "-")));
        let o = sigaudit([
            "registry",
            &reg.addr,
            "--plain-http",
            "--repos-file",
            repos.to_str().unwrap(),
            "--shard",
            shard,
            "-o",
            &format!("json={}", out.display()),
        ]);
        assert!(matches!(code(&o), 0 | 3), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let a = shard_with("apps/web\napps/api\nnotary/alpine\nbundles/app\n", "0/2");
    let b = shard_with("apps/web\n", "1/2");
    let (report, o) = merge(&[a, b], &[]);
    assert_eq!(code(&o), 3);
    assert!(
        report["errors"].as_array().unwrap().iter().any(|e| e["code"] == "settings-differ"),
        "{:#}",
        report["errors"]
    );

    let o = sigaudit(["registry", &reg.addr, "--plain-http", "--shard", "0/4294967295"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("at most 65536 shards"));
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "--shard", "3/3"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("must be below the count"));
}

#[test]
fn several_registries_in_one_run_each_with_its_summary() {
    let (a, b) = (Registry::distribution(100), Registry::distribution(100));
    a.seed(false);
    b.seed(false);
    let (alone_a, _) = scan(&a.addr, &[]);
    let (alone_b, _) = scan(&b.addr, &["--include", "notary/*"]);

    // Two targets on the command line, and the second's own settings from the config file.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sigaudit.toml");
    std::fs::write(&config, format!("[[targets]]\ntarget = \"http://{}\"\ninclude = [\"notary/*\"]\n", b.addr))
        .unwrap();
    let o =
        sigaudit(["--config", &config.display().to_string(), "registry", &format!("http://{}", a.addr), "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let both = stdout_json(&o);
    let registries = both["registries"].as_array().unwrap();
    let mut want = [(a.addr.clone(), &alone_a), (b.addr.clone(), &alone_b)];
    want.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(registries.len(), 2);
    for (r, (addr, alone)) in registries.iter().zip(&want) {
        assert_eq!(r["registry"], addr.as_str());
        assert_eq!(r["summary"], alone["summary"], "{addr}");
        assert_eq!(r["complete"], true);
        let mine: Vec<&Value> =
            both["images"].as_array().unwrap().iter().filter(|i| i["registry"] == addr.as_str()).collect();
        let alone_images: Vec<&Value> = alone["images"].as_array().unwrap().iter().collect();
        assert_eq!(mine, alone_images, "{addr}: the images of this registry");
    }
    let total = |k: &str| alone_a["summary"][k].as_u64().unwrap() + alone_b["summary"][k].as_u64().unwrap();
    for k in ["repositories", "tags", "images", "signatures", "verified", "invalid", "unsigned", "untrusted"] {
        assert_eq!(both["summary"][k].as_u64().unwrap(), total(k), "summary {k}");
    }
    assert!(both["scan"]["target"].as_array().unwrap().len() == 2);

    // The two single-registry reports merge into the same report.
    let (fa, fb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&fa, serde_json::to_vec(&alone_a).unwrap()).unwrap();
    std::fs::write(&fb, serde_json::to_vec(&alone_b).unwrap()).unwrap();
    let (merged, o) = merge(&[fa, fb], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(merged["registries"], both["registries"]);
    assert_eq!(merged["images"], both["images"]);
    assert_eq!(merged["summary"], both["summary"]);

    // A registry that does not answer: an error of that registry, the other one still scanned.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let o = sigaudit(["registry", &a.addr, &dead, "--plain-http", "-o", "json", "--timeout", "2", "--retries", "0"]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["images"].as_array().unwrap().len(), alone_a["images"].as_array().unwrap().len());
    let errors = report["errors"].as_array().unwrap();
    assert_eq!((&errors[0]["code"], &errors[0]["registry"]), (&"registry-unreachable".into(), &dead.as_str().into()));
    // Sharded, the unreachable registry is met by every shard: the merge lists it once, as the
    // unsharded scan does.
    let shards: Vec<PathBuf> = (0..3)
        .map(|i| {
            let o = sigaudit([
                "registry",
                &a.addr,
                &dead,
                "--plain-http",
                "-o",
                "json",
                "--timeout",
                "2",
                "--retries",
                "0",
                "--shard",
                &format!("{i}/3"),
            ]);
            assert_eq!(code(&o), 3);
            let f = dir.path().join(format!("dead-{i}.json"));
            std::fs::write(&f, &o.stdout).unwrap();
            f
        })
        .collect();
    let (merged, o) = merge(&shards, &[]);
    assert_eq!(code(&o), 3);
    assert_eq!(content(&merged), content(&report));

    // Targets that can hold the same repository would count it twice: refused.
    for pair in [[a.addr.clone(), format!("http://{}", a.addr)], [a.addr.clone(), format!("{}/apps", a.addr)]] {
        let o = sigaudit(["registry", &pair[0], &pair[1], "--plain-http"]);
        assert_eq!(code(&o), 2, "{pair:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("cover the same repositories"), "{pair:?}");
    }
    // What the config file's targets say is recorded: shards run under other [[targets]]
    // settings do not merge as one scan.
    assert_eq!(both["scan"]["settings"]["targets"][0]["include"], serde_json::json!(["notary/*"]));

    // Command-line credentials name one registry: refused with several.
    let o = sigaudit(["registry", &a.addr, &b.addr, "--plain-http", "--token", "t"]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("[[targets]]"));
}

#[test]
fn each_target_of_the_config_file_has_its_own_credentials() {
    let (open, mut locked) = (Registry::distribution(100), Registry::distribution(100));
    open.seed(false);
    locked.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = common::htpasswd(dir.path(), "auditor", "s3cret-in-env");
    locked.restart_secured(common::Security { tls: None, htpasswd: Some(htpasswd), token: None });
    let config = dir.path().join("sigaudit.toml");
    std::fs::write(
        &config,
        format!(
            "[[targets]]\ntarget = \"http://{}\"\n[[targets]]\ntarget = \"http://{}\"\nusername = \"auditor\"\npassword-env = \"LOCKED_PASSWORD\"\n",
            open.addr, locked.addr
        ),
    )
    .unwrap();
    let run = |password: Option<&str>| {
        let mut c = sigaudit_cmd(["--config", &config.display().to_string(), "registry", "-o", "json"]);
        match password {
            Some(p) => c.env("LOCKED_PASSWORD", p),
            None => c.env_remove("LOCKED_PASSWORD"),
        };
        c.output().unwrap()
    };
    let o = run(Some("s3cret-in-env"));
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    let complete: Vec<(&str, bool)> = report["registries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["registry"].as_str().unwrap(), r["complete"].as_bool().unwrap()))
        .collect();
    let mut want = vec![(open.addr.as_str(), true), (locked.addr.as_str(), true)];
    want.sort();
    assert_eq!(complete, want);
    let per = |addr: &str| report["images"].as_array().unwrap().iter().filter(|i| i["registry"] == addr).count();
    assert!(per(&open.addr) > 0 && per(&open.addr) == per(&locked.addr), "both registries scanned in full");
    // The variable's name is recorded, its value never.
    assert_eq!(report["scan"]["settings"]["targets"][1]["password-env"], "LOCKED_PASSWORD");
    assert!(!String::from_utf8_lossy(&o.stdout).contains("s3cret-in-env"));
    // Without the variable: a usage error naming it, before any scan.
    let o = run(None);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("LOCKED_PASSWORD"), "{}", String::from_utf8_lossy(&o.stderr));
    // A wrong password: the open registry is scanned, the locked one is an error of its own.
    let o = run(Some("wrong"));
    let report = stdout_json(&o);
    assert_ne!(code(&o), 0);
    assert!(per_registry_complete(&report, &open.addr));
    assert!(!per_registry_complete(&report, &locked.addr), "{:#}", report["registries"]);
}

fn per_registry_complete(report: &Value, addr: &str) -> bool {
    report["registries"].as_array().unwrap().iter().any(|r| r["registry"] == addr && r["complete"] == true)
}
