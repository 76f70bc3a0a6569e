//! Audits over time, against a real registry (Debian's docker-registry 2.8 on 127.0.0.1, seeded by
//! scripts/seed_registry.py) and real files: two nightly scans between which the registry changed
//! (a tag pushed over with an unsigned image, a manifest tagged again, an image re-signed by
//! another key, a signature deleted, an image deleted: tests/support/mutate_registry.py, over the
//! registry API), compared by `sigaudit diff` and by `--baseline`; `--fail-on-new` alerting only on
//! what changed; waivers applied, expired, unused, and lapsing; a filesystem tampered with between
//! two scans.

mod common;

use common::{code, repo_root, sigaudit, sigaudit_cmd, stdout_json, Registry};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

const AT: &str = "2026-06-01T00:00:00Z";

fn python() -> String {
    std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

fn errtext(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A scan of the registry with both of the seeder's keys, at a fixed time.
fn scan(addr: &str, keys: &Path, extra: &[&str]) -> Output {
    let (k1, k2) = (keys.join("cosign.pub"), keys.join("other.pub"));
    let mut args = vec!["registry", addr, "--plain-http", "--key", s(&k1), "--key", s(&k2), "--at", AT];
    args.extend_from_slice(extra);
    sigaudit(&args)
}

/// Run a scan writing its report to `path`; returns its exit code.
fn scan_to(addr: &str, keys: &Path, format: &str, path: &Path) -> i32 {
    let o = scan(addr, keys, &["-o", format]);
    std::fs::write(path, &o.stdout).unwrap();
    assert!(code(&o) == 0 || code(&o) == 1, "{}", errtext(&o));
    code(&o)
}

fn ndjson_trailer(o: &Output) -> Value {
    let out = text(o);
    serde_json::from_str(out.lines().last().unwrap_or_else(|| panic!("no output: {}", errtext(o)))).unwrap()
}

/// `repository:tag` (or `repository@digest`) → the change, from a change set.
fn by_item(set: &Value) -> std::collections::BTreeMap<String, Value> {
    set["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let i = &c["item"];
            let name = match (i.get("tag"), i.get("path")) {
                (Some(t), _) => format!("{}:{}", i["repository"].as_str().unwrap(), t.as_str().unwrap()),
                (None, Some(p)) => p.as_str().unwrap().to_string(),
                _ => format!("{}@{}", i["repository"].as_str().unwrap(), i["digest"].as_str().unwrap()),
            };
            (name, c.clone())
        })
        .collect()
}

fn mutate(reg: &Registry, dir: &Path) -> Value {
    let out = dir.join("mutated.json");
    let o = std::process::Command::new(python())
        .arg(repo_root().join("tests/support/mutate_registry.py"))
        .arg(&reg.addr)
        .arg(&out)
        .output()
        .expect("python3");
    assert!(o.status.success(), "mutate_registry.py: {}", errtext(&o));
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

#[test]
fn changes_between_two_nightly_scans_and_alerts_on_news_only() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let keys = &seeded.dir;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let addr = reg.addr.as_str();
    let (n1, n1nd, n2, n2nd) = (d.join("n1.json"), d.join("n1.ndjson"), d.join("n2.json"), d.join("n2.ndjson"));
    scan_to(addr, keys, "json", &n1);
    scan_to(addr, keys, "ndjson", &n1nd);
    let night1 = serde_json::from_slice::<Value>(&std::fs::read(&n1).unwrap()).unwrap();
    let status_of = |r: &Value, repo: &str, tag: &str| {
        let images = r["images"].as_array().unwrap();
        let i =
            images.iter().find(|i| i["repository"] == repo && i["tags"].as_array().unwrap().iter().any(|t| t == tag));
        i.map(|i| i["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status_of(&night1, "apps/web", "v1").as_deref(), Some("verified"));
    assert_eq!(status_of(&night1, "deep/a/b/c/d", "v1").as_deref(), Some("untrusted"));

    let m = mutate(&reg, d);
    scan_to(addr, keys, "json", &n2);
    scan_to(addr, keys, "ndjson", &n2nd);

    // `sigaudit diff`: JSON against NDJSON, either way round the same.
    let o = sigaudit(["diff", s(&n1), s(&n2nd), "-o", "json"]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    let diff = stdout_json(&o);
    assert_eq!(diff["schema"], "sigaudit.diff/v1");
    assert_eq!((diff["old"]["source"].as_str(), diff["new"]["source"].as_str()), (Some(s(&n1)), Some(s(&n2nd))));
    let o2 = sigaudit(["diff", s(&n1nd), s(&n2), "-o", "json"]);
    let diff2 = stdout_json(&o2);
    assert_eq!(
        (&diff2["summary"], &diff2["items"], &diff2["newOrphans"]),
        (&diff["summary"], &diff["items"], &diff["newOrphans"])
    );

    let items = by_item(&diff);
    assert_eq!(
        items.keys().collect::<Vec<_>>(),
        ["apps/batch:v1", "apps/batch:v1.0.1", "apps/unsigned:v2", "apps/web:v1", "apps/worker:v1", "deep/a/b/c/d:v1"],
        "{diff:#}"
    );
    // Re-tagged: the tag is followed to its new, unsigned digest.
    let web = &items["apps/web:v1"];
    assert_eq!(web["change"], "changed");
    assert_eq!(web["status"], json!({"from": "verified", "to": "unsigned"}));
    assert_eq!(web["digest"], json!({"from": m["web_v1_before"], "to": m["web_v1_after"]}));
    assert_eq!(web["signers"]["removed"].as_array().unwrap().len(), 1);
    assert!(web["signers"]["removed"][0]["keyId"].is_string(), "{web:#}");
    assert!(web.get("signaturesGone").is_none(), "another digest has other signatures by nature: {web:#}");
    assert_eq!(web["into"], "unsigned");
    // An existing manifest tagged again: a new item.
    let v2 = &items["apps/unsigned:v2"];
    assert_eq!(
        (&v2["change"], &v2["status"], &v2["into"]),
        (&json!("new"), &json!({"to": "unsigned"}), &json!("unsigned"))
    );
    assert_eq!(v2["digest"]["to"], m["unsigned_v2"]);
    // Re-signed by another key: signer set and signature changed, status up to verified.
    let deep = &items["deep/a/b/c/d:v1"];
    assert_eq!(deep["status"], json!({"from": "untrusted", "to": "verified"}));
    assert!(deep.get("digest").is_none());
    assert!(
        deep["signers"]["removed"][0]["sha256"].is_string() && deep["signers"]["added"][0]["keyId"].is_string(),
        "{deep:#}"
    );
    assert_eq!(deep["signaturesGone"].as_array().unwrap().len(), 1);
    assert_eq!(deep["signaturesGone"][0]["manifestDigest"], m["deep_sig_before"]);
    // Unsigned: both tags of the image read invalid → unsigned, the signature gone.
    for tag in ["apps/batch:v1", "apps/batch:v1.0.1"] {
        let b = &items[tag];
        assert_eq!(b["status"], json!({"from": "invalid", "to": "unsigned"}), "{tag}");
        assert_eq!(b["signaturesGone"][0]["manifestDigest"], m["batch_sig"], "{tag}");
        assert_eq!(b["into"], "unsigned");
    }
    // Deleted: gone, and its signature now an orphan.
    let worker = &items["apps/worker:v1"];
    assert_eq!((&worker["change"], &worker["status"]), (&json!("gone"), &json!({"from": "invalid"})));
    assert!(worker.get("into").is_none());
    let orphans = diff["newOrphans"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{orphans:#?}");
    assert_eq!(orphans[0]["repository"], "apps/worker");
    assert_eq!(orphans[0]["subject"], m["worker"]);
    assert_eq!(
        diff["summary"],
        json!({"new": 1, "gone": 1, "changed": 4, "statusChanged": 4, "digestChanged": 1, "signersChanged": 4,
               "signaturesGone": 3, "waived": 0, "unwaived": 0, "newOrphans": 1,
               "into": {"verified": 1, "unsigned": 4}})
    );

    // --fail-on-new on diff: 1 for a status some change goes into, else 0.
    assert_eq!(code(&sigaudit(["diff", s(&n1), s(&n2), "--fail-on-new", "unsigned"])), 1);
    assert_eq!(code(&sigaudit(["diff", s(&n1), s(&n2), "--fail-on-new", "invalid,error"])), 0);
    assert_eq!(code(&sigaudit(["diff", s(&n2), s(&n2), "--fail-on-new", "unsigned,invalid"])), 0);

    // The table: one line per item, with the change in words.
    let o = sigaudit_cmd(["diff", s(&n1), s(&n2)]).env("COLUMNS", "160").output().unwrap();
    let t = text(&o);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    let line =
        |item: &str| t.lines().find(|l| l.starts_with(item)).unwrap_or_else(|| panic!("no {item} in\n{t}")).to_string();
    let web_line = line("apps/web:v1 ");
    assert!(web_line.contains("verified → unsigned") && web_line.contains("digest "), "{t}");
    assert!(line("apps/worker:v1 ").contains("was invalid"), "{t}");
    assert!(line("deep/a/b/c/d:v1 ").contains("signers -sigaudit test signer, +key"), "{t}");
    assert!(t.contains("1 new, 1 gone, 4 changed") && t.contains("new orphans: 1"), "{t}");

    // --baseline on the next night's scan: the same change set in `changes`; --fail-on-new
    // alerts on the changes into its statuses, not on the backlog (8 unsigned, 4 invalid images).
    let o = scan(addr, keys, &["-o", "json", "--baseline", s(&n1), "--fail-on-new", "unsigned"]);
    assert_eq!(code(&o), 1, "{}", errtext(&o));
    let r = stdout_json(&o);
    let changes = &r["changes"];
    assert_eq!(changes["baseline"]["source"].as_str(), Some(s(&n1)));
    assert_eq!(
        (&changes["summary"], &changes["items"], &changes["newOrphans"]),
        (&diff["summary"], &diff["items"], &diff["newOrphans"])
    );
    assert!(
        r["summary"]["unsigned"].as_u64().unwrap() >= 8 && r["summary"]["invalid"].as_u64().unwrap() >= 4,
        "{:#}",
        r["summary"]
    );
    let alerts = |baseline: &Path, extra: &[&str]| {
        let mut args = vec!["-o", "json", "--baseline", s(baseline)];
        args.extend_from_slice(extra);
        code(&scan(addr, keys, &args))
    };
    assert_eq!(alerts(&n1nd, &["--fail-on-new", "invalid,error"]), 0, "no change into invalid or error");
    assert_eq!(alerts(&n1nd, &["--fail-on-new", "invalid,error", "--fail-on", "invalid"]), 0, "--fail-on-new decides");
    // Against last night's own report nothing is new: no alert, whatever the backlog.
    assert_eq!(alerts(&n2, &["--fail-on-new", "unsigned,invalid,error,untrusted"]), 0);
    // Without --fail-on-new, --fail-on keeps its meaning.
    assert_eq!(alerts(&n2, &["--fail-on", "unsigned"]), 1);
    assert_eq!(alerts(&n2, &[]), 0);

    // NDJSON: the closing line carries `changes`; the table a short section.
    let o = scan(addr, keys, &["-o", "ndjson", "--baseline", s(&n1nd), "--fail-on-new", "unsigned"]);
    assert_eq!(code(&o), 1);
    assert_eq!(ndjson_trailer(&o)["changes"]["summary"], diff["summary"]);
    let o = sigaudit_cmd([
        "registry",
        addr,
        "--plain-http",
        "--key",
        s(&keys.join("cosign.pub")),
        "--key",
        s(&keys.join("other.pub")),
        "--at",
        AT,
        "--baseline",
        s(&n1),
    ])
    .env("COLUMNS", "200")
    .output()
    .unwrap();
    let t = text(&o);
    assert!(t.contains(&format!("Changes since {} (scan of ", s(&n1))), "{t}");
    assert!(t.lines().any(|l| l.starts_with("  apps/web:v1: verified → unsigned; digest ")), "{t}");
    assert!(t.lines().any(|l| l.starts_with("  new orphan: apps/worker sha256-")), "{t}");

    // What cannot be compared is a usage error (exit 2), with no report.
    let cut = d.join("cut.ndjson");
    let whole = std::fs::read_to_string(&n1nd).unwrap();
    let lines: Vec<&str> = whole.lines().collect();
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n")).unwrap();
    let filtered = d.join("filtered.json");
    std::fs::write(&filtered, scan(addr, keys, &["-o", "json", "--only", "failing"]).stdout).unwrap();
    let fs_report = d.join("fs.json");
    std::fs::write(&fs_report, sigaudit(["fs", s(&repo_root().join("testdata/fs")), "-o", "json"]).stdout).unwrap();
    for (args, says) in [
        (vec!["diff", s(&n1), s(&cut)], "cut short"),
        (vec!["diff", s(&filtered), s(&n2)], "--only"),
        (vec!["diff", s(&n1), s(&fs_report)], "one kind"),
        (vec!["diff", s(&n1), "/nonexistent/report.json"], "nonexistent"),
        (vec!["diff", s(&n1), s(&n2), "--fail-on-new", "verified"], "makes no sense"),
    ] {
        let o = sigaudit(&args);
        assert_eq!(code(&o), 2, "{args:?}");
        assert!(errtext(&o).contains(says), "{args:?}: {}", errtext(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    for (extra, says) in [
        (vec!["--baseline", s(&fs_report)], "filesystem report"),
        (vec!["--baseline", s(&cut)], "cut short"),
        (vec!["--fail-on-new", "unsigned"], "--baseline"),
    ] {
        let o = scan(addr, keys, &extra);
        assert_eq!(code(&o), 2, "{extra:?}");
        assert!(errtext(&o).contains(says), "{extra:?}: {}", errtext(&o));
    }
}

fn waivers_file(dir: &Path, name: &str, entries: &[(&str, &str)]) -> PathBuf {
    let mut text = String::new();
    for (selector, expires) in entries {
        text.push_str(&format!(
            "[[waiver]]\n{selector}\nstatus = [\"unsigned\"]\nreason = \"accepted as is\"\nowner = \"secops@example.com\"\nexpires = {expires}\n\n"
        ));
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn image<'a>(r: &'a Value, repo: &str) -> &'a Value {
    r["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["repository"] == repo && !i["tags"].as_array().unwrap().is_empty())
        .unwrap()
}

fn indexes(list: &Value) -> Vec<u64> {
    list.as_array().unwrap().iter().map(|w| w["index"].as_u64().unwrap()).collect()
}

#[test]
fn waivers_apply_until_they_expire_and_fail_on_counts_what_they_do_not_cover() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let keys = &seeded.dir;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let addr = reg.addr.as_str();
    let a = waivers_file(
        d,
        "a.toml",
        &[
            ("repository = \"apps/unsigned\"", "2030-01-01"),
            ("repository = \"apps/cross\"", "2026-01-01"),
            ("repository = \"vendor/*\"", "2027-03-01"),
        ],
    );
    let run = |w: &Path, at: &str, extra: &[&str]| {
        let k1 = keys.join("cosign.pub");
        let mut args =
            vec!["registry", addr, "--plain-http", "--key", s(&k1), "--at", at, "-o", "json", "--waivers", s(w)];
        args.extend_from_slice(extra);
        let o = sigaudit(&args);
        (code(&o), stdout_json(&o))
    };

    // One unsigned image waived; an expired waiver applies to nothing; an unused one is listed.
    let (c, r) = run(&a, AT, &["--fail-on", "unsigned"]);
    assert_eq!(c, 1, "other unsigned images are not waived");
    let unsigned = image(&r, "apps/unsigned");
    assert_eq!(unsigned["status"], "unsigned", "a waived image keeps its verdict");
    assert_eq!(
        unsigned["waived"],
        json!({"reason": "accepted as is", "owner": "secops@example.com", "expires": "2030-01-01", "index": 0})
    );
    assert!(image(&r, "apps/cross").get("waived").is_none(), "its waiver expired");
    assert_eq!(r["summary"]["waived"], json!({"unsigned": 1}));
    let w = &r["waivers"];
    assert_eq!((w["file"].as_str(), &w["waivers"], &w["applied"]), (Some(s(&a)), &json!(3), &json!(1)));
    assert_eq!(indexes(&w["expired"]), [1]);
    assert_eq!(w["expired"][0]["matched"], 1, "the expired waiver would still cover apps/cross");
    assert_eq!(indexes(&w["unused"]), [2]);
    let unsigned_images = r["summary"]["unsigned"].as_u64().unwrap();
    assert!(unsigned_images >= 5, "{:#}", r["summary"]);

    // A catch-all waiver for the rest: --fail-on unsigned passes, --fail-on invalid still fails.
    let b = waivers_file(
        d,
        "b.toml",
        &[
            ("repository = \"apps/unsigned\"", "2030-01-01"),
            ("repository = \"apps/cross\"", "2026-01-01"),
            ("repository = \"vendor/*\"", "2027-03-01"),
            ("repository = \"**\"", "2026-07-01"),
        ],
    );
    let (c, r) = run(&b, AT, &["--fail-on", "unsigned"]);
    assert_eq!(c, 0, "every unsigned image is waived: {:#}", r["summary"]);
    assert_eq!(r["summary"]["waived"], json!({"unsigned": unsigned_images}));
    assert_eq!(image(&r, "apps/unsigned")["waived"]["index"], 0, "the first waiver in force applies");
    assert_eq!(image(&r, "apps/cross")["waived"]["index"], 3);
    assert_eq!(run(&b, AT, &["--fail-on", "unsigned,invalid"]).0, 1);
    // The table marks waived items and lists the waivers' fate.
    let o = sigaudit_cmd(["registry", addr, "--plain-http", "--at", AT, "--waivers", s(&b)])
        .env("COLUMNS", "200")
        .output()
        .unwrap();
    let t = text(&o);
    assert!(t.lines().any(|l| l.starts_with("apps/unsigned ") && l.contains("unsigned (waived)")), "{t}");
    assert!(t.contains("expired #1 repository apps/cross") && t.contains("unused #2 repository vendor/*"), "{t}");

    // Expiry is judged at the scan's time (--at): a month later two more waivers have expired.
    let later = "2026-07-15T00:00:00Z";
    let (c, r) = run(&b, later, &["--fail-on", "unsigned"]);
    assert_eq!(c, 1);
    assert_eq!(indexes(&r["waivers"]["expired"]), [1, 3]);
    assert_eq!(r["summary"]["waived"], json!({"unsigned": 1}));

    // Last night everything unsigned was waived; tonight the catch-all has lapsed: with
    // --fail-on-new that is news (the items are as they were, but no longer accepted).
    let last = d.join("last.json");
    let last_night = run(&b, AT, &[]).1;
    std::fs::write(&last, serde_json::to_vec(&last_night).unwrap()).unwrap();
    // Items are tags: those of the unsigned images but apps/unsigned's, whose own waiver holds.
    let lapsed: usize = last_night["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["status"] == "unsigned" && i["repository"] != "apps/unsigned")
        .map(|i| i["tags"].as_array().unwrap().len())
        .sum();
    assert!(lapsed >= 4, "{lapsed}");
    let (c, r) = run(&b, later, &["--baseline", s(&last), "--fail-on-new", "unsigned"]);
    assert_eq!(c, 1, "{:#}", r["changes"]);
    let ch = &r["changes"];
    assert_eq!(ch["summary"]["unwaived"], lapsed);
    assert_eq!((&ch["summary"]["changed"], &ch["summary"]["statusChanged"]), (&json!(lapsed), &json!(0)));
    assert_eq!(ch["summary"]["into"], json!({"unsigned": lapsed}));
    let cross = &by_item(ch)["apps/cross:v1"];
    assert_eq!(cross["waived"], json!({"from": true, "to": false}));
    assert_eq!(cross["into"], "unsigned");
    // The same night with the waiver renewed: nothing to alert on.
    let renewed = waivers_file(d, "renewed.toml", &[("repository = \"**\"", "2027-01-01")]);
    assert_eq!(run(&renewed, later, &["--baseline", s(&last), "--fail-on-new", "unsigned"]).0, 0);

    // A waiver without an expiry, or with a key it does not know, is refused.
    for (bad, says) in [
        ("[[waiver]]\nrepository = \"a\"\nstatus = [\"unsigned\"]\nreason = \"r\"\nowner = \"o\"\n", "no expires"),
        ("[[waiver]]\nrepository = \"a\"\nstatus = [\"unsigned\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\nteam = \"x\"\n", "unknown field"),
    ] {
        let p = d.join("bad.toml");
        std::fs::write(&p, bad).unwrap();
        let o = sigaudit(["registry", addr, "--plain-http", "--waivers", s(&p)]);
        assert_eq!(code(&o), 2, "{bad}");
        assert!(errtext(&o).contains(says), "{bad}: {}", errtext(&o));
        assert!(o.stdout.is_empty());
    }
}

/// Flip one byte in the middle of a file (inside a PE's sections, which Authenticode hashes).
fn tamper(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let at = b.len() / 2;
    b[at] ^= 0x01;
    std::fs::write(path, b).unwrap();
}

#[test]
fn a_filesystem_tampered_with_between_two_scans() {
    let dir = tempfile::tempdir().unwrap();
    let tree = dir.path().join("opt");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    let testdata = repo_root().join("testdata");
    for (from, to) in [
        ("fs/putty.exe", "bin/putty.exe"),
        ("fs-suite/pe/unsigned-hello.exe", "bin/unsigned-hello.exe"),
        ("fs-suite/jar/jar-rsa-sha256-tsa.jar", "app.jar"),
    ] {
        std::fs::copy(testdata.join(from), tree.join(to)).unwrap();
    }
    let fs_scan = |extra: &[&str]| {
        let mut args = vec!["fs", s(&tree), "-o", "json", "--at", AT];
        args.extend_from_slice(extra);
        sigaudit(&args)
    };
    let before = dir.path().join("before.json");
    let o = fs_scan(&[]);
    std::fs::write(&before, &o.stdout).unwrap();
    let first = stdout_json(&o);
    let status = |r: &Value, name: &str| {
        let files = r["files"].as_array().unwrap();
        files
            .iter()
            .find(|f| f["path"].as_str().unwrap().ends_with(name))
            .map(|f| f["status"].as_str().unwrap().to_string())
    };
    assert_eq!(status(&first, "putty.exe").as_deref(), Some("untrusted"));
    let jar_status = status(&first, "app.jar").unwrap();

    // Tonight: putty.exe tampered with, the JAR deleted, an unsigned tool added.
    tamper(&tree.join("bin/putty.exe"));
    std::fs::remove_file(tree.join("app.jar")).unwrap();
    std::fs::copy(testdata.join("fs-suite/pe/unsigned-hello.exe"), tree.join("bin/new-tool.exe")).unwrap();
    let after = dir.path().join("after.ndjson");
    let o = sigaudit(["fs", s(&tree), "-o", "ndjson", "--at", AT]);
    std::fs::write(&after, &o.stdout).unwrap();

    let o = sigaudit(["diff", s(&before), s(&after), "-o", "json", "--fail-on-new", "invalid"]);
    assert_eq!(code(&o), 1, "{}", errtext(&o));
    let diff = stdout_json(&o);
    let items = by_item(&diff);
    let p = |rel: &str| tree.join(rel).display().to_string();
    assert_eq!(items.keys().cloned().collect::<Vec<_>>(), [p("app.jar"), p("bin/new-tool.exe"), p("bin/putty.exe")]);
    let putty = &items[&p("bin/putty.exe")];
    assert_eq!(putty["status"], json!({"from": "untrusted", "to": "invalid"}));
    assert!(putty["sha256"]["from"] != putty["sha256"]["to"] && putty["sha256"]["to"].is_string(), "{putty:#}");
    assert!(
        putty.get("signaturesGone").is_none() && putty.get("signers").is_none(),
        "the signatures are still there: {putty:#}"
    );
    assert_eq!(putty["into"], "invalid");
    assert_eq!(items[&p("app.jar")]["status"], json!({"from": jar_status}));
    assert_eq!(items[&p("bin/new-tool.exe")]["status"], json!({"to": "unsigned"}));
    assert_eq!(diff["summary"]["into"], json!({"invalid": 1, "unsigned": 1}));

    // The same on a scan with --baseline, and a waiver for unsigned tools under bin/: the new
    // unsigned file is waived, so only the tampered one is news.
    let waivers = dir.path().join("w.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\npath = \"**/bin/*-*.exe\"\nstatus = [\"unsigned\"]\nreason = \"built in house, unsigned by policy\"\nowner = \"tools@example.com\"\nexpires = 2027-01-01\n",
    )
    .unwrap();
    let o = fs_scan(&["--baseline", s(&before), "--waivers", s(&waivers), "--fail-on-new", "unsigned"]);
    assert_eq!(code(&o), 0, "the new unsigned tool is waived: {}", errtext(&o));
    let r = stdout_json(&o);
    assert_eq!(r["changes"]["summary"]["into"], json!({"invalid": 1}));
    assert_eq!(r["summary"]["waived"], json!({"unsigned": 2}));
    let o = fs_scan(&["--baseline", s(&before), "--waivers", s(&waivers), "--fail-on-new", "unsigned,invalid"]);
    assert_eq!(code(&o), 1);
    // A waiver by digest names one file's content: the tampered putty.exe is not the one waived.
    let putty_sha =
        first["files"].as_array().unwrap().iter().find(|f| f["path"].as_str().unwrap().ends_with("putty.exe")).unwrap()
            ["sha256"]
            .as_str()
            .unwrap()
            .to_string();
    std::fs::write(
        &waivers,
        format!("[[waiver]]\ndigest = \"sha256:{putty_sha}\"\nstatus = [\"invalid\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n"),
    )
    .unwrap();
    let r = stdout_json(&fs_scan(&["--waivers", s(&waivers)]));
    assert_eq!(indexes(&r["waivers"]["unused"]), [0]);
}

/// The README's nightly cron script, as written there.
fn readme_recipe() -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let start = readme.find("#!/bin/sh\n# sigaudit-nightly").expect("the README's nightly recipe");
    let end = start + readme[start..].find("\n```").unwrap();
    readme[start..end].to_string() + "\n"
}

#[test]
fn the_readme_nightly_recipe_alerts_only_on_the_changes_made_between_two_nights() {
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let script = d.join("sigaudit-nightly");
    std::fs::write(&script, readme_recipe()).unwrap();
    let state = d.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let config = d.join("config.toml");
    let keys = [seeded.dir.join("cosign.pub"), seeded.dir.join("other.pub")];
    std::fs::write(&config, format!("key = [{:?}, {:?}]\n", s(&keys[0]), s(&keys[1]))).unwrap();
    let waivers = waivers_file(d, "waivers.toml", &[("repository = \"apps/unsigned\"", "2030-01-01")]);
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_sigaudit"));
    let path = format!("{}:{}", bin.parent().unwrap().display(), std::env::var("PATH").unwrap_or_default());
    let night = || {
        let mut c = std::process::Command::new("sh");
        c.arg(&script)
            .env("PATH", &path)
            .env("SIGAUDIT_TARGET", format!("http://{}", reg.addr))
            .env("SIGAUDIT_STATE", &state)
            .env("SIGAUDIT_WAIVERS", &waivers)
            .env("SIGAUDIT_METRICS", state.join("sigaudit.prom"))
            .env("SIGAUDIT_CONFIG", &config);
        common::isolate(&mut c);
        let o = c.output().unwrap();
        // Each night's report is named by the second it started.
        std::thread::sleep(std::time::Duration::from_millis(1100));
        o
    };

    // The first night has no baseline: the backlog (unsigned and invalid images) fails nothing.
    let o = night();
    assert_eq!((code(&o), text(&o).as_str()), (0, ""), "{}", errtext(&o));
    assert!(state.join("last.json").exists());

    // Between two nights: re-tagged, re-signed, unsigned, deleted. The job fails and prints the
    // news: the changes into invalid, unsigned or error (apps/unsigned:v2 is waived) and the new
    // orphan; not the re-signing into verified, nor the backlog.
    let m = mutate(&reg, d);
    let o = night();
    assert_eq!(code(&o), 1, "{}", errtext(&o));
    let worker_sig = format!("{}.sig", m["worker"].as_str().unwrap().replace(':', "-"));
    assert_eq!(
        text(&o).lines().collect::<Vec<_>>(),
        [
            "apps/batch:v1: invalid -> unsigned",
            "apps/batch:v1.0.1: invalid -> unsigned",
            "apps/web:v1: verified -> unsigned",
            &format!("new orphan: apps/worker {worker_sig}"),
        ],
        "{}",
        errtext(&o)
    );
    let last: Value = serde_json::from_slice(&std::fs::read(state.join("last.json")).unwrap()).unwrap();
    assert_eq!(last["changes"]["summary"]["into"], json!({"unsigned": 3, "verified": 1}));
    assert_eq!(by_item(&last["changes"])["apps/unsigned:v2"]["waived"], json!({"to": true}));

    // The third night, nothing changed: nothing to say.
    let o = night();
    assert_eq!((code(&o), text(&o).as_str()), (0, ""), "{}", errtext(&o));
    let mut reports: Vec<String> = std::fs::read_dir(state.join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    reports.sort();
    assert_eq!(reports.len(), 6, "each night's JSON and HTML are kept: {reports:?}");
    assert_eq!(reports.iter().filter(|r| r.ends_with(".html")).count(), 3, "{reports:?}");
    assert!(reports.iter().all(|r| r.ends_with(".json") || r.ends_with(".html")), "no temporary file: {reports:?}");
    // The last night's metrics: complete, with the last complete scan's time.
    let prom = std::fs::read_to_string(state.join("sigaudit.prom")).unwrap();
    assert!(prom.lines().any(|l| l.starts_with("sigaudit_scan_complete{") && l.ends_with(" 1")), "{prom}");
    assert!(prom.contains("sigaudit_last_complete_scan_timestamp_seconds{"), "{prom}");
    // A night the registry does not answer: no report, the baseline stays the last complete one.
    let before = std::fs::read_link(state.join("last.json")).unwrap();
    let mut c = std::process::Command::new("sh");
    c.arg(&script)
        .env("PATH", &path)
        .env("SIGAUDIT_TARGET", "http://127.0.0.1:1")
        .env("SIGAUDIT_STATE", &state)
        .env("SIGAUDIT_WAIVERS", &waivers)
        .env("SIGAUDIT_METRICS", state.join("sigaudit.prom"))
        .env("SIGAUDIT_CONFIG", &config);
    common::isolate(&mut c);
    let o = c.output().unwrap();
    assert_eq!(code(&o), 2, "{}", errtext(&o));
    assert!(text(&o).contains("wrote no report"), "{}", text(&o));
    assert_eq!(std::fs::read_link(state.join("last.json")).unwrap(), before);
    let last_html = reports.iter().rfind(|r| r.ends_with(".html")).unwrap();
    let html = std::fs::read_to_string(state.join("reports").join(last_html)).unwrap();
    assert!(html.contains("<html") && html.contains("apps/web"), "the HTML report");
}

/// A waiver by reason code, on a real scan: the code comes from the verdict itself.
#[test]
fn a_waiver_by_reason_code_covers_exactly_the_items_with_that_code() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let w = dir.path().join("codes.toml");
    std::fs::write(
        &w,
        "[[waiver]]\nrepository = \"**\"\ncode = [\"payload-digest-mismatch\"]\nreason = \"replays under investigation\"\nowner = \"secops@example.com\"\nexpires = 2030-01-01\n",
    )
    .unwrap();
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "-o", "json", "--waivers", s(&w), "--fail-on", "invalid"]);
    let r = stdout_json(&o);
    let mut waived = Vec::new();
    let mut failing_unwaived = 0;
    for i in r["images"].as_array().unwrap() {
        let codes: Vec<&str> = i["signatures"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["verification"]["reasonCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()))
            .collect();
        let has = codes.contains(&"payload-digest-mismatch");
        assert_eq!(i.get("waived").is_some(), has, "{}: codes {codes:?}", i["repository"]);
        if has {
            waived.push(i["repository"].as_str().unwrap().to_string());
        } else if i["status"] == "invalid" {
            failing_unwaived += 1;
        }
    }
    assert!(waived.iter().any(|r| r == "notary/replayed"), "{waived:?}");
    // Other invalid images are not covered: --fail-on invalid still fails.
    assert!(failing_unwaived > 0);
    assert_eq!(code(&o), 1);
}
