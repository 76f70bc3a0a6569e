//! The table fits the terminal, `-o wide` too; `--only` filters table and JSON alike; a scan
//! without trust material says so first.

use crate::common::{code, sigaudit, sigaudit_cmd, stdout_json};
use crate::{columns, path_str, signed_jar, tampered_jar, text, unsigned_jar};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A tree of deep, long paths: the signed JAR in three places, an unsigned and a tampered one.
/// Returns (root, signer certificate, the files' paths).
fn tree(dir: &Path) -> (PathBuf, PathBuf, Vec<PathBuf>) {
    let (jar, signer) = signed_jar(dir);
    let root = dir.join("scan");
    let deep = root.join(
        "opt/vendor-applications-and-libraries/enterprise-edition-2026/plugins/com.example.a.rather.long.package.name/lib",
    );
    let mut files = Vec::new();
    for sub in ["a", "bb/ccc", "dddd/eeeee/ffffff"] {
        std::fs::create_dir_all(deep.join(sub)).unwrap();
        let p = deep.join(sub).join("app.jar");
        std::fs::copy(&jar, &p).unwrap();
        files.push(p);
    }
    let p = deep.join("unsigned.jar");
    unsigned_jar(&p);
    files.push(p);
    let p = deep.join("a/tampered.jar");
    tampered_jar(&jar, &p);
    files.push(p);
    (root, signer, files)
}

#[test]
fn the_file_table_fits_the_terminal_one_line_per_file() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _, files) = tree(dir.path());
    assert!(files.iter().all(|f| columns(path_str(f)) > 120), "the paths must be longer than the terminal");
    for width in [80usize, 100, 120] {
        let o = sigaudit_cmd(["fs", path_str(&root)]).env("COLUMNS", width.to_string()).output().unwrap();
        let out = text(&o);
        for line in out.lines() {
            assert!(columns(line) <= width, "{} columns > {width}: {line:?}\n{out}", columns(line));
        }
        // One line per file, ending with the end of its path (shortened from the left).
        let rows: Vec<&str> = out.lines().filter(|l| l.ends_with(".jar")).collect();
        assert_eq!(rows.len(), files.len(), "{out}");
        for f in &files {
            let name = f.file_name().unwrap().to_str().unwrap();
            let parent = f.parent().unwrap().file_name().unwrap().to_str().unwrap();
            assert!(rows.iter().any(|r| r.ends_with(&format!("{parent}/{name}"))), "{parent}/{name} in\n{out}");
        }
        for row in rows {
            let shown = row.rsplit("  ").next().unwrap();
            let tail = shown.trim_start_matches('…');
            assert!(files.iter().any(|f| path_str(f).ends_with(tail)), "{shown:?} is no path's end");
        }
        // The SIGNER column names the signer; the status is in its own column only.
        assert!(!out.contains("untrusted: ") && !out.contains("invalid: "), "{out}");
    }
}

#[test]
fn wide_output_fits_the_terminal_and_shows_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _, files) = tree(dir.path());
    let o = sigaudit_cmd(["fs", path_str(&root), "-o", "wide"]).env("COLUMNS", "90").output().unwrap();
    let out = text(&o);
    for line in out.lines() {
        assert!(columns(line) <= 90, "{} columns > 90: {line:?}\n{out}", columns(line));
    }
    let flat: String = out.chars().filter(|c| !c.is_whitespace()).collect();
    for f in &files {
        assert!(flat.contains(path_str(f)), "{} not shown whole in\n{out}", f.display());
        let sha = format!("{:x}", <sha2::Sha256 as sha2::Digest>::digest(std::fs::read(f).unwrap()));
        assert!(out.contains(&sha), "{sha} missing");
    }
    // Full subject, the reasons.
    assert!(flat.contains(r"CN=Eclipse.orgFoundation\,Inc,O=Eclipse.orgFoundation\,Inc,C=CA"), "{out}");
    assert!(out.contains("hello.txt"), "the tampered entry is named in the reasons:\n{out}");
}

fn listed(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap().rsplit('/').next().unwrap().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn only_lists_some_items_in_every_format_while_the_summary_counts_all() {
    let dir = tempfile::tempdir().unwrap();
    let (root, _, _) = tree(dir.path());
    let r = |extra: &[&str]| {
        let mut args = vec!["fs", path_str(&root), "-o", "json"];
        args.extend_from_slice(extra);
        let o = sigaudit(args);
        (code(&o), stdout_json(&o))
    };
    let (c, all) = r(&[]);
    assert_eq!(c, 0);
    assert_eq!(listed(&all), ["app.jar", "app.jar", "app.jar", "tampered.jar", "unsigned.jar"]);

    let (c, signed) = r(&["--only", "signed"]);
    assert_eq!(c, 0);
    assert_eq!(listed(&signed), ["app.jar", "app.jar", "app.jar", "tampered.jar"]);
    assert_eq!(signed["summary"], all["summary"], "the summary counts every file");
    assert_eq!(
        signed["scan"]["only"],
        serde_json::json!(["verified", "untrusted", "unverified", "invalid", "unsupported", "error"])
    );

    // failing: what --fail-on names, else invalid and error.
    let (_, failing) = r(&["--only", "failing"]);
    assert_eq!(listed(&failing), ["tampered.jar"]);
    let (c, failing) = r(&["--only", "failing", "--fail-on", "unsigned"]);
    assert_eq!(c, 1);
    assert_eq!(listed(&failing), ["unsigned.jar"]);
    let (_, some) = r(&["--only", "unsigned,invalid"]);
    assert_eq!(listed(&some), ["tampered.jar", "unsigned.jar"]);

    // NDJSON: the lines filtered, the trailer counting all.
    let o = sigaudit(["fs", path_str(&root), "-o", "ndjson", "--only", "failing"]);
    let lines: Vec<Value> = text(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0]["path"].as_str().unwrap().ends_with("tampered.jar"));
    assert_eq!(lines[1]["summary"]["files"], 5);

    // The table: the rows shown, and how many of how many.
    let o = sigaudit_cmd(["fs", path_str(&root), "--only", "signed"]).env("COLUMNS", "120").output().unwrap();
    let out = text(&o);
    assert_eq!(out.lines().filter(|l| l.ends_with(".jar")).count(), 4, "{out}");
    assert!(out.contains("Showing 4 of 5 files (--only signed)."), "{out}");
    assert!(out.contains("5 files (0 skipped"), "{out}");

    let o = sigaudit(["fs", path_str(&root), "--only", "nonsense"]);
    assert_eq!(code(&o), 2);
    assert!(crate::errtext(&o).contains("failing, signed"), "{}", crate::errtext(&o));
}

#[test]
fn a_file_scan_without_trust_anchors_says_so_first() {
    let dir = tempfile::tempdir().unwrap();
    let (root, signer, _) = tree(dir.path());
    let o = sigaudit_cmd(["fs", path_str(&root)]).env("COLUMNS", "100").output().unwrap();
    let out = text(&o);
    assert!(out.starts_with("No trust anchors were given, so no signer can be verified"), "{out}");
    assert!(out.lines().take(4).collect::<String>().contains("--ca-roots FILE"), "{out}");
    assert!(out.lines().all(|l| columns(l) <= 100), "{out}");

    // With the signer's certificate as the anchor: verified, and no hint.
    let o =
        sigaudit_cmd(["fs", path_str(&root), "--ca-roots", path_str(&signer)]).env("COLUMNS", "100").output().unwrap();
    let out = text(&o);
    assert!(out.starts_with("STATUS"), "{out}");
    assert!(out.contains("3 verified"), "{out}");
    // JSON carries no hint: it is for people.
    let o = sigaudit(["fs", path_str(&root), "-o", "json"]);
    assert!(!text(&o).contains("No trust anchors"));
}
