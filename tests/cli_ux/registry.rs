//! Registry targets with a scheme, the first screen of a registry scan, SigScan JSON for images
//! and files.

use crate::common::{code, sigaudit, sigaudit_cmd, stdout_json, Registry};
use crate::{errtext, path_str, signed_jar, tampered_jar, text, unsigned_jar};

#[test]
fn a_scheme_on_the_target_sets_plain_http_or_contradicts_it() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let images = seeded.expected["images"].as_array().unwrap().len();

    // http:// is plain HTTP (it used to be dropped, and TLS spoken to a plain registry).
    let o = sigaudit(["registry", &format!("http://{}", reg.addr), "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    assert_eq!(stdout_json(&o)["images"].as_array().unwrap().len(), images);
    let o = sigaudit(["image", &format!("http://{}/apps/web:v1", reg.addr), "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    assert_eq!(stdout_json(&o)["images"][0]["repository"], "apps/web");

    // https:// with --plain-http (or plain-http in the config file) is a contradiction.
    for args in
        [vec!["registry", "https://HOST", "--plain-http"], vec!["image", "https://HOST/apps/web:v1", "--plain-http"]]
    {
        let args: Vec<String> = args.iter().map(|a| a.replace("HOST", &reg.addr)).collect();
        let o = sigaudit(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(o.stdout.is_empty());
        let e = errtext(&o);
        assert!(e.contains("https://") && e.contains("--plain-http"), "{e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, "plain-http = true\n").unwrap();
    let o = sigaudit(["registry", &format!("https://{}", reg.addr), "--config", path_str(&config)]);
    assert_eq!(code(&o), 2);
    // And https:// talks TLS: to this plain registry, a failure to connect (exit 2), not a scan.
    let o = sigaudit(["registry", &format!("https://{}", reg.addr)]);
    assert_eq!(code(&o), 2);
    let o = sigaudit(["registry", &format!("ftp://{}", reg.addr)]);
    assert_eq!(code(&o), 2);
    assert!(errtext(&o).contains("unknown scheme"), "{}", errtext(&o));
    // One host named both ways.
    let o = sigaudit(["image", &format!("http://{}/apps/web:v1", reg.addr), &format!("{}/apps/api:v1", reg.addr)]);
    assert_eq!(code(&o), 2);
}

#[test]
fn the_first_screen_of_a_registry_scan_says_when_no_trust_material_was_given() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let o = sigaudit_cmd(["registry", &reg.addr, "--plain-http"]).env("COLUMNS", "120").output().unwrap();
    let out = text(&o);
    let first: String = out.lines().take(5).collect::<Vec<_>>().join(" ");
    assert!(first.starts_with("No trust material was given, so no signer can be verified"), "{out}");
    for flag in
        ["--key", "--ca-roots", "--certificate-identity", "--certificate-oidc-issuer", "--notation-trust-policy"]
    {
        assert!(first.contains(flag), "{flag} not in {first}");
    }
    // The registry table fits the terminal too, down to 80 columns.
    for width in [80usize, 100, 120] {
        let o =
            sigaudit_cmd(["registry", &reg.addr, "--plain-http"]).env("COLUMNS", width.to_string()).output().unwrap();
        let out = text(&o);
        for line in out.lines() {
            assert!(line.chars().count() <= width, "{} columns > {width}: {line:?}\n{out}", line.chars().count());
        }
        assert!(out.contains("notary/alpine") && out.contains("apps/worker"), "{out}");
    }
    // The closing lines are unchanged.
    assert!(
        out.ends_with("Status: 0 verified, 12 untrusted, 1 unverified, 6 invalid, 6 unsigned. 2 orphaned.\n"),
        "{out}"
    );

    // Any trust material given: no hint.
    let key = seeded.dir.join("cosign.pub");
    let o = sigaudit_cmd(["registry", &reg.addr, "--plain-http", "--key", path_str(&key)])
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    assert!(text(&o).starts_with("REPOSITORY"), "{}", text(&o));

    // --only on a registry: the rows of the failing images, the summary of all.
    let o = sigaudit_cmd(["registry", &reg.addr, "--plain-http", "--only", "failing", "--fail-on", "invalid"])
        .env("COLUMNS", "120")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let out = text(&o);
    assert!(out.contains("Showing 6 of 25 images (--only failing)."), "{out}");
    assert!(!out.contains("apps/unsigned"), "{out}");
    assert!(out.contains("apps/worker"), "{out}");
}

#[test]
fn sigscan_json_is_complete_for_images() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let o = sigaudit([
        "image",
        &format!("{}/apps/web:v1", reg.addr),
        &format!("{}/notary/alpine:v2", reg.addr),
        "--plain-http",
        "-o",
        "sigscan-json",
    ]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    let v = stdout_json(&o);
    assert_eq!(v["name"], reg.addr, "{v:#}");
    let entries = v["registry"]["signatures"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{v:#}");
    let web = entries.iter().find(|e| e["path"] == "apps/web:v1").unwrap();
    assert_eq!(web["subjectname"], "Unknown KeyPair");
    assert_eq!(web["status"], "unverified");
    assert!(entries
        .iter()
        .filter(|e| e["path"] == "notary/alpine:v2")
        .all(|e| e["subjectname"] == "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US"));
}

#[test]
fn sigscan_json_is_complete_for_files() {
    let dir = tempfile::tempdir().unwrap();
    let (jar, _) = signed_jar(dir.path());
    let scan = dir.path().join("scan");
    std::fs::create_dir(&scan).unwrap();
    std::fs::copy(&jar, scan.join("app.jar")).unwrap();
    tampered_jar(&jar, &scan.join("tampered.jar"));
    unsigned_jar(&scan.join("unsigned.jar"));
    let o = sigaudit(["fs", path_str(&scan), "-o", "sigscan-json"]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    let v = stdout_json(&o);
    assert_eq!(v["directories"], path_str(&scan));
    let entries = v["filesystem"]["signatures"].as_array().unwrap_or_else(|| panic!("{v:#}"));
    // One entry per signature of every signed file; the unsigned file has none.
    assert_eq!(entries.len(), 2, "{v:#}");
    for (name, status) in [("app.jar", "untrusted"), ("tampered.jar", "invalid")] {
        let path = scan.join(name);
        let e = entries.iter().find(|e| e["path"] == path_str(&path)).unwrap_or_else(|| panic!("{name}: {v:#}"));
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(&path).unwrap()));
        assert_eq!(e["digest"], sha);
        assert_eq!(e["subjectname"], r"CN=Eclipse.org Foundation\, Inc,O=Eclipse.org Foundation\, Inc,C=CA");
        assert_eq!(e["countersigner"], "");
        assert_eq!(e["status"], status);
    }
}
