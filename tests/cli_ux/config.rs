//! The config file: every key the README lists works for every command the README names for it
//! (seen in the report's `scan.settings`, and for verify-bundle in its verdict); `exclude`,
//! `include` and `repos-file` change what a registry scan covers.

use crate::common::{code, corpus, repo_root, sigaudit, sigaudit_cmd, stdout_json, Registry};
use crate::{errtext, path_str, python, text, tool, unsigned_jar};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// The README's table of config keys: key → commands.
fn readme_keys() -> BTreeMap<String, Vec<String>> {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("| key | commands |").expect("the README's table of config keys");
    readme[start..]
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            let key = cells[0].trim_matches('`').to_string();
            (key, cells[1].split(',').map(|c| c.trim().to_string()).collect())
        })
        .collect()
}

#[test]
fn the_readme_lists_every_config_key_with_its_commands() {
    let o = sigaudit(["generate", "config-keys"]);
    assert_eq!(code(&o), 0);
    let actual: BTreeMap<String, Vec<String>> = text(&o)
        .lines()
        .map(|l| {
            let (k, c) = l.split_once(": ").unwrap();
            (k.to_string(), c.split(", ").map(str::to_string).collect())
        })
        .collect();
    assert_eq!(readme_keys(), actual);
}

/// Files the path keys name (made with openssl and the npm bundle script), in `dir`.
fn material(dir: &Path) {
    tool("openssl", &["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "k.pem"], dir);
    tool("openssl", &["ec", "-in", "k.pem", "-pubout", "-out", "cosign.pub"], dir);
    tool(
        "openssl",
        &["req", "-x509", "-key", "k.pem", "-subj", "/CN=config test root", "-days", "30", "-out", "roots.pem"],
        dir,
    );
    std::fs::copy(dir.join("roots.pem"), dir.join("ca.pem")).unwrap();
    // A CRL of that root, by `openssl ca -gencrl`.
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(
        dir.join("crl.cnf"),
        "[ca]\ndefault_ca = c\n[c]\ndatabase = index.txt\ndefault_md = sha256\ndefault_crl_days = 30\n",
    )
    .unwrap();
    tool(
        "openssl",
        &[
            "ca",
            "-batch",
            "-gencrl",
            "-config",
            "crl.cnf",
            "-keyfile",
            "k.pem",
            "-cert",
            "roots.pem",
            "-out",
            "crl.pem",
        ],
        dir,
    );
    tool(
        &python(),
        &[path_str(&repo_root().join("tests/support/make_npm_bundle.py")), path_str(&dir.join("npm"))],
        dir,
    );
    std::fs::copy(dir.join("npm/trusted_root.json"), dir.join("root.json")).unwrap();
    std::fs::write(dir.join("repos.txt"), "apps/web\n").unwrap();
    std::fs::write(
        dir.join("policy.json"),
        r#"{"version":"1.0","trustPolicies":[{"name":"all","registryScopes":["*"],"signatureVerification":{"level":"skip"},"trustStores":[],"trustedIdentities":[]}]}"#,
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("store/x509/ca")).unwrap();
    std::fs::create_dir_all(dir.join("files")).unwrap();
    // Simple signing: an empty registries.d, a containers policy, an OpenPGP keyring made by gpg.
    std::fs::create_dir_all(dir.join("registries.d")).unwrap();
    std::fs::write(dir.join("containers-policy.json"), r#"{"default":[{"type":"insecureAcceptAnything"}]}"#).unwrap();
    let gnupg = dir.join("gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    std::fs::set_permissions(&gnupg, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let home = path_str(&gnupg);
    let keyring = dir.join("keyring.gpg");
    let keyring = path_str(&keyring);
    let uid = "config test <config@example.test>";
    tool(
        "gpg",
        &["--batch", "--homedir", home, "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
        dir,
    );
    tool("gpg", &["--batch", "--homedir", home, "--output", keyring, "--export", uid], dir);
    tool("gpgconf", &["--homedir", home, "--kill", "all"], dir);
    unsigned_jar(&dir.join("files/app.jar"));
    std::fs::copy(repo_root().join("testdata/fs-win/cat/signed.cat"), dir.join("signed.cat")).unwrap();
    // Baselines (an empty report of each kind) and a waivers file.
    for kind in ["registry", "filesystem", "cluster"] {
        let items = if kind == "filesystem" { "\"files\": []" } else { "\"images\": [], \"orphans\": []" };
        let report = format!(
            "{{\"schema\": \"sigaudit.report/v1\", \"tool\": {{\"name\": \"sigaudit\", \"version\": \"0.1.0\"}}, \
             \"scan\": {{\"kind\": \"{kind}\", \"target\": \"x\", \"startedAt\": \"2026-01-30T00:00:00Z\", \"complete\": true}}, \
             \"summary\": {{\"signatures\": 0, \"verified\": 0, \"untrusted\": 0, \"unverified\": 0, \"invalid\": 0, \
             \"unsupported\": 0, \"unsigned\": 0, \"error\": 0, \"errors\": 0, \"coverage\": {{\"signed\": 0.0, \"verified\": 0.0}}}}, \
             {items}, \"errors\": []}}"
        );
        std::fs::write(dir.join(format!("baseline-{kind}.json")), report).unwrap();
    }
    // `kubectl get pods -A -o json` of a cluster without pods.
    std::fs::write(
        dir.join("pods.json"),
        r#"{"apiVersion": "v1", "items": [], "kind": "List", "metadata": {"resourceVersion": ""}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("waivers.toml"),
        "[[waiver]]\nrepository = \"vendor/*\"\nstatus = [\"unsigned\"]\nreason = \"mirrored\"\nowner = \"secops@example.com\"\nexpires = 2027-03-01\n",
    )
    .unwrap();
}

/// A value for each key, as TOML, and what `scan.settings` must then hold (`command`: the
/// baseline is a report of the command's kind).
fn value(key: &str, dir: &Path, command: &str) -> (String, Value) {
    let abs = |f: &str| Value::String(dir.join(f).display().to_string());
    let baseline = match command {
        "fs" => "baseline-filesystem.json",
        "cluster" => "baseline-cluster.json",
        _ => "baseline-registry.json",
    };
    match key {
        "baseline" => (format!("\"{baseline}\""), abs(baseline)),
        "fail-on-new" => ("[\"unsigned\"]".into(), json!(["unsigned"])),
        "waivers" => ("\"waivers.toml\"".into(), abs("waivers.toml")),
        "include" => ("[\"apps/*\"]".into(), json!(["apps/*"])),
        "exclude" => ("[\"notary/*\"]".into(), json!(["notary/*"])),
        "repos-file" => ("\"repos.txt\"".into(), abs("repos.txt")),
        "lister" => ("\"catalog\"".into(), json!("catalog")),
        "lister-url" => ("\"http://127.0.0.1:9\"".into(), json!("http://127.0.0.1:9")),
        "output" => ("\"ndjson\"".into(), json!(["ndjson"])),
        "progress" => ("\"never\"".into(), json!("never")),
        "fail-on" => ("[\"error\"]".into(), json!(["error"])),
        "at" => ("\"2026-01-31T00:00:00Z\"".into(), json!("2026-01-31T00:00:00Z")),
        "only" => ("[\"signed\"]".into(), json!(["signed"])),
        "deadline" => ("\"10m\"".into(), json!("10m")),
        "warn-expiring" => ("\"30d\"".into(), json!("30d")),
        "shard" => ("\"0/1\"".into(), json!("0/1")),
        "plain-http" | "stats" | "follow-symlinks" | "one-file-system" | "verify-digests" => {
            ("true".into(), json!(true))
        }
        "concurrency" => ("3".into(), json!("3")),
        "timeout" => ("30".into(), json!("30")),
        "retries" => ("2".into(), json!("2")),
        "rps" => ("100".into(), json!("100")),
        "jobs" => ("2".into(), json!("2")),
        "catalog" => ("[\"signed.cat\"]".into(), json!([abs("signed.cat")])),
        "ca-roots" => ("[\"roots.pem\"]".into(), json!([abs("roots.pem")])),
        "tsa-roots" => ("[\"roots.pem\"]".into(), json!([abs("roots.pem")])),
        "crl" => ("[\"crl.pem\"]".into(), json!([abs("crl.pem")])),
        "revocation" => ("[\"require\"]".into(), json!(["require"])),
        "revocation-timeout" => ("7".into(), json!("7")),
        "revoked-key" => ("[\"cosign.pub\"]".into(), json!([abs("cosign.pub")])),
        "tls-ca" => ("[\"ca.pem\"]".into(), json!([abs("ca.pem")])),
        "key" => ("[\"cosign.pub\"]".into(), json!([abs("cosign.pub")])),
        "trusted-root" => ("[\"root.json\"]".into(), json!([abs("root.json")])),
        // The public-good URL with nothing cached: the built-in root, no request made.
        "tuf-url" => ("\"https://tuf-repo-cdn.sigstore.dev\"".into(), json!("https://tuf-repo-cdn.sigstore.dev")),
        "tuf-root" => ("\"root.json\"".into(), abs("root.json")),
        // With a loopback --tuf-url and no --tuf-root: the update fails before any request (a
        // note), and the built-in root judges.
        "refresh-trust" => ("true".into(), json!(true)),
        "certificate-identity" => {
            ("\"https://github.com/our-org/app\"".into(), json!("https://github.com/our-org/app"))
        }
        "certificate-identity-regexp" => {
            ("\"^https://github.com/our-org/\"".into(), json!("^https://github.com/our-org/"))
        }
        "certificate-oidc-issuer" => (
            "\"https://token.actions.githubusercontent.com\"".into(),
            json!("https://token.actions.githubusercontent.com"),
        ),
        "notation-trust-policy" => ("\"policy.json\"".into(), abs("policy.json")),
        "notation-trust-store" => ("\"store\"".into(), abs("store")),
        "username" => ("\"ci\"".into(), json!("ci")),
        // A mapping no image of the test registry falls under: no lookup is made.
        "signature-repository" => {
            ("[\"nothing.example/x=127.0.0.1:1/sigs\"]".into(), json!(["nothing.example/x=127.0.0.1:1/sigs"]))
        }
        "signatures-beside-image" => ("true".into(), json!(true)),
        "lookaside" => ("\"file:///nonexistent-lookaside\"".into(), json!("file:///nonexistent-lookaside")),
        "registries-d" => ("\"registries.d\"".into(), abs("registries.d")),
        "gpg-keyring" => ("[\"keyring.gpg\"]".into(), json!([abs("keyring.gpg")])),
        "containers-policy" => ("\"containers-policy.json\"".into(), abs("containers-policy.json")),
        "pods-file" => ("\"pods.json\"".into(), abs("pods.json")),
        "kubeconfig" => ("\"kubeconfig\"".into(), abs("kubeconfig")),
        "context" => ("\"audit\"".into(), json!("audit")),
        "namespace" => ("\"shop\"".into(), json!("shop")),
        "all-namespaces" | "use-pull-secrets" => ("true".into(), json!(true)),
        "selector" => ("\"app=web\"".into(), json!("app=web")),
        "chunk-size" => ("100".into(), json!("100")),
        other => panic!("no test value for config key {other}: add one"),
    }
}

/// The report of one scan with `config`, from JSON or the NDJSON trailer.
fn report(o: &std::process::Output) -> Value {
    let out = text(o);
    match serde_json::from_str(&out) {
        Ok(v) => v,
        Err(_) => {
            serde_json::from_str(out.lines().last().unwrap_or_else(|| panic!("no output: {}", errtext(o)))).unwrap()
        }
    }
}

#[test]
fn every_config_key_works_for_every_command_the_readme_names() {
    let reg = Registry::distribution(100);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    material(d);
    let mut checked = 0;
    for (key, commands) in readme_keys() {
        for command in commands {
            if command == "verify-bundle" {
                continue; // its keys are checked by what it verifies, below
            }
            let (toml, want) = value(&key, d, &command);
            let mut text = format!("{key} = {toml}\n");
            // The notation policy and store go together; --fail-on-new needs a baseline.
            if key == "notation-trust-policy" {
                text.push_str("notation-trust-store = \"store\"\n");
            }
            if key == "notation-trust-store" {
                text.push_str("notation-trust-policy = \"policy.json\"\n");
            }
            if key == "signatures-beside-image" {
                text.push_str(&format!("signature-repository = {}\n", value("signature-repository", d, &command).0));
            }
            if key == "refresh-trust" {
                text.push_str("tuf-url = \"http://127.0.0.1:9\"\n");
            }
            if key == "fail-on-new" {
                text.push_str(&format!("baseline = {}\n", value("baseline", d, &command).0));
            }
            // A platform API's URL goes with its lister, which lists a namespace.
            if key == "lister-url" {
                text.push_str("lister = \"docker-hub\"\n");
            }
            let config = d.join(format!("{key}-{command}.toml"));
            std::fs::write(&config, &text).unwrap();
            let target = match command.as_str() {
                "registry" if key == "lister-url" => vec![format!("http://{}/apps", reg.addr)],
                "registry" => vec![format!("http://{}", reg.addr)],
                "image" => vec![format!("http://{}/apps/web:v1", reg.addr)],
                "fs" => vec![d.join("files").display().to_string()],
                // The pods file (an empty cluster), unless the key under test names it.
                "cluster" if key == "pods-file" => vec![],
                "cluster" => vec!["--pods-file".into(), d.join("pods.json").display().to_string()],
                other => panic!("unknown command {other} in the README's table"),
            };
            let mut args = vec![command.clone()];
            args.extend(target);
            args.extend(["--config".into(), config.display().to_string()]);
            if key != "output" {
                args.extend(["-o".into(), "json".into()]);
            }
            let mut cmd = sigaudit_cmd(&args);
            if key == "username" {
                args.push("--password-stdin".into());
                cmd = sigaudit_cmd(&args);
                cmd.stdin(Stdio::piped());
            }
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(b"secret\n").unwrap();
            }
            let o = child.wait_with_output().unwrap();
            assert!(code(&o) != 2, "{command} with {text}: {}", errtext(&o));
            let r = report(&o);
            assert_eq!(r["scan"]["settings"][&key], want, "{command} with {text}: {:#}", r["scan"]);
            checked += 1;
        }
    }
    assert!(checked >= 50, "only {checked} key and command pairs checked");
}

#[test]
fn verify_bundle_takes_its_keys_from_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    material(d);
    let npm = d.join("npm");
    let run = |config: &str, extra: &[&str], bundle: &Path, artifact: &Path| {
        let c = d.join("vb.toml");
        std::fs::write(&c, config).unwrap();
        let mut args = vec!["verify-bundle", "--bundle", path_str(bundle), "--config", path_str(&c)];
        args.extend_from_slice(extra);
        args.push(path_str(artifact));
        let o = sigaudit(args);
        (code(&o), errtext(&o))
    };
    let (bundle, tarball) = (npm.join("bundle.json"), npm.join("package.tgz"));
    let (key, root) =
        (path_str(&npm.join("key.pub")).to_string(), path_str(&npm.join("trusted_root.json")).to_string());
    assert_eq!(run("", &["--trusted-root", &root], &bundle, &tarball).0, 2, "no key, no identity: a usage error");
    assert_eq!(run("key = [\"npm/key.pub\"]\n", &["--trusted-root", &root], &bundle, &tarball), (0, String::new()));
    assert_eq!(
        run("trusted-root = [\"npm/trusted_root.json\"]\n", &["--key", &key], &bundle, &tarball),
        (0, String::new())
    );

    // Keyless: the conformance suite's happy path, identity and issuer from the file.
    let case = corpus().join("sigstore/conformance/happy-path-v0.3");
    let a_txt = corpus().join("sigstore/conformance/a.txt");
    let bundle = case.join("bundle.sigstore.json");
    let identity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
    let issuer = "https://token.actions.githubusercontent.com";
    let with = |k: &str, v: &str| format!("{k} = \"{v}\"\n");
    assert_eq!(
        run(&with("certificate-identity", identity), &["--certificate-oidc-issuer", issuer], &bundle, &a_txt).0,
        0
    );
    assert_eq!(
        run(
            &with("certificate-identity-regexp", "extremely-dangerous"),
            &["--certificate-oidc-issuer", issuer],
            &bundle,
            &a_txt
        )
        .0,
        0
    );
    assert_eq!(
        run(&with("certificate-oidc-issuer", issuer), &["--certificate-identity", identity], &bundle, &a_txt).0,
        0
    );
    // The command line wins over the file: a wrong identity given there fails.
    let (c, e) = run(
        &with("certificate-identity", identity),
        &["--certificate-identity", "someone-else", "--certificate-oidc-issuer", issuer],
        &bundle,
        &a_txt,
    );
    assert_eq!(c, 1, "{e}");
    // The command line's regexp leaves the file's exact identity out (they exclude each other).
    assert_eq!(
        run(
            &with("certificate-identity", "someone-else"),
            &["--certificate-identity-regexp", "beacon", "--certificate-oidc-issuer", issuer],
            &bundle,
            &a_txt
        )
        .0,
        0
    );
}

#[test]
fn a_registry_scan_takes_exclude_include_and_repos_file_from_the_config_file() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("repos.txt"), "# only these\napps/web\nnotary/alpine\n").unwrap();
    let repos = |config: &str| {
        let c = dir.path().join("c.toml");
        std::fs::write(&c, config).unwrap();
        let o = sigaudit(["registry", &reg.addr, "--plain-http", "-o", "json", "--config", path_str(&c)]);
        assert_eq!(code(&o), 0, "{config}: {}", errtext(&o));
        let mut v: Vec<String> = stdout_json(&o)["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["repository"].as_str().unwrap().to_string())
            .collect();
        v.dedup();
        v
    };
    let excluded = repos("exclude = [\"apps/*\", \"notary/*\"]\n");
    assert!(
        !excluded.is_empty() && excluded.iter().all(|r| !r.starts_with("apps/") && !r.starts_with("notary/")),
        "{excluded:?}"
    );
    let included = repos("include = [\"apps/*\"]\n");
    assert_eq!(
        included,
        ["apps/api", "apps/batch", "apps/cross", "apps/digest-tags", "apps/unsigned", "apps/web", "apps/worker"]
    );
    assert_eq!(repos("repos-file = \"repos.txt\"\n"), ["apps/web", "notary/alpine"]);
    // Keys another command takes are left to it; unknown keys and secrets are errors.
    // Every repository holding an image (sigs/store holds only a signature, apps/untagged-only no tags).
    assert_eq!(repos("follow-symlinks = true\njobs = 2\n").len(), 22);
    for (bad, says) in [
        ("colour = true\n", "unknown field"),
        ("password = \"x\"\n", "command line"),
        ("concurrency = 0\n", "concurrency"),
    ] {
        let c = dir.path().join("bad.toml");
        std::fs::write(&c, bad).unwrap();
        let o = sigaudit(["registry", &reg.addr, "--plain-http", "--config", path_str(&c)]);
        assert_eq!(code(&o), 2, "{bad}");
        assert!(errtext(&o).contains(says) && errtext(&o).contains("--config"), "{bad}: {}", errtext(&o));
    }
}
