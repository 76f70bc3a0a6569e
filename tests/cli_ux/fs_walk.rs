//! `fs --follow-symlinks` walks each directory and checks each file once, by (device, inode);
//! `--one-file-system` stays on the file system of each path given.

use crate::common::{code, sigaudit, stdout_json};
use crate::{path_str, unsigned_jar};
use serde_json::Value;
use std::os::unix::fs::symlink;
use std::path::Path;

fn paths(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {report:#}"))
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect()
}

fn notes(report: &Value) -> Vec<(String, String)> {
    report["notes"]
        .as_array()
        .unwrap_or_else(|| panic!("no notes in {report:#}"))
        .iter()
        .map(|n| (n["path"].as_str().unwrap().to_string(), n["code"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn links_back_up_the_tree_are_noted_not_followed_round() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("tree");
    std::fs::create_dir_all(root.join("a")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    unsigned_jar(&root.join("a/app.jar"));
    // One `..` link made the same JAR appear 41 times; two grew exponentially.
    symlink("..", root.join("a/up")).unwrap();
    symlink("..", root.join("b/up")).unwrap();

    let o = sigaudit(["fs", path_str(&root), "--follow-symlinks", "-o", "json"]);
    let report = stdout_json(&o);
    assert_eq!(code(&o), 0, "{report:#}");
    assert_eq!(paths(&report, "files"), vec![format!("{}/a/app.jar", root.display())]);
    assert_eq!(report["summary"]["files"], 1);
    assert_eq!(report["scan"]["complete"], true);
    let n = notes(&report);
    assert_eq!(
        n,
        vec![
            (format!("{}/a/up", root.display()), "symlink-loop".to_string()),
            (format!("{}/b/up", root.display()), "symlink-loop".to_string())
        ]
    );
    assert!(report["notes"][0]["message"].as_str().unwrap().contains(path_str(&root)), "{report:#}");

    // NDJSON closes with the same notes; the table lists them.
    let o = sigaudit(["fs", path_str(&root), "--follow-symlinks", "-o", "ndjson"]);
    let last: Value = serde_json::from_str(crate::text(&o).lines().last().unwrap()).unwrap();
    assert_eq!(last["notes"].as_array().unwrap().len(), 2);
    let o = sigaudit(["fs", path_str(&root), "--follow-symlinks"]);
    let table = crate::text(&o);
    assert!(table.contains("[symlink-loop]"), "{table}");
    assert_eq!(table.lines().filter(|l| l.ends_with("app.jar")).count(), 1, "{table}");
}

#[test]
fn a_file_or_directory_reached_twice_is_reported_once_under_its_own_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("real/sub")).unwrap();
    std::fs::create_dir_all(root.join("links")).unwrap();
    unsigned_jar(&root.join("real/sub/app.jar"));
    // Links sort before the real paths ("links" < "real"): the file is still reported as itself.
    symlink("../real/sub/app.jar", root.join("links/app-link.jar")).unwrap();
    symlink("../real", root.join("links/real-dir")).unwrap();
    std::fs::hard_link(root.join("real/sub/app.jar"), root.join("real/hard.jar")).unwrap();

    let o = sigaudit(["fs", path_str(root), "--follow-symlinks", "-o", "json"]);
    let report = stdout_json(&o);
    assert_eq!(code(&o), 0);
    let files = paths(&report, "files");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("/real/hard.jar") || files[0].ends_with("/real/sub/app.jar"), "{files:?}");
    let n = notes(&report);
    assert_eq!(n.len(), 3, "{n:?}");
    assert!(n.iter().all(|(_, c)| c == "already-walked"), "{n:?}");
    assert!(n.iter().any(|(p, _)| p.ends_with("links/app-link.jar")), "{n:?}");
    assert!(n.iter().any(|(p, _)| p.ends_with("links/real-dir")), "{n:?}");

    // Without --follow-symlinks links are skipped, silently, as before.
    let o = sigaudit(["fs", path_str(root), "-o", "json"]);
    let report = stdout_json(&o);
    assert_eq!(paths(&report, "files").len(), 1);
    assert!(notes(&report).iter().all(|(p, _)| !p.contains("links")));
}

/// A directory on another file system than the temporary directory.
fn other_file_system() -> &'static Path {
    use std::os::unix::fs::MetadataExt;
    let here = std::fs::metadata(std::env::temp_dir()).unwrap().dev();
    ["/dev/shm", "/run/shm", "/run/user"]
        .iter()
        .map(Path::new)
        .find(|p| std::fs::metadata(p).is_ok_and(|m| m.dev() != here && m.is_dir()))
        .expect("this test needs a second file system beside the temporary directory: a tmpfs at /dev/shm")
}

#[test]
fn one_file_system_stays_on_the_file_system_of_each_path_given() {
    let dir = tempfile::tempdir().unwrap();
    let away = tempfile::tempdir_in(other_file_system()).unwrap();
    unsigned_jar(&dir.path().join("here.jar"));
    unsigned_jar(&away.path().join("away.jar"));
    symlink(away.path(), dir.path().join("mnt")).unwrap();

    let o = sigaudit(["fs", path_str(dir.path()), "--follow-symlinks", "-o", "json"]);
    let all = paths(&stdout_json(&o), "files");
    assert_eq!(all.len(), 2, "{all:?}");

    let o = sigaudit(["fs", path_str(dir.path()), "--follow-symlinks", "--one-file-system", "-o", "json"]);
    let report = stdout_json(&o);
    assert_eq!(code(&o), 0);
    let files = paths(&report, "files");
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].ends_with("here.jar"));
    assert_eq!(notes(&report), vec![(format!("{}/mnt", dir.path().display()), "other-file-system".to_string())]);

    // A path given on the command line is walked whatever its file system.
    let o = sigaudit(["fs", path_str(away.path()), "--one-file-system", "-o", "json"]);
    assert_eq!(paths(&stdout_json(&o), "files").len(), 1);
}
