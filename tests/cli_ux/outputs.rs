//! `-o FORMAT[=PATH]` (several outputs from one scan, files written atomically), `--progress`,
//! and SIGINT/SIGTERM: an interrupted scan finishes every output as a valid report marked
//! incomplete; a second signal exits at once. Against a real registry (docker-registry on
//! 127.0.0.1), slowed by the fault proxy where a scan must still be running.

use crate::common::proxy::{Action, Proxy};
use crate::common::{code, sigaudit, sigaudit_cmd, stdout_json, Registry};
use crate::{errtext, path_str, text};
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The report of a JSON file, or the closing line of an NDJSON one with its image lines.
fn read_ndjson(path: &Path) -> (Value, Vec<Value>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect();
    let last = lines.pop().expect("a closing line");
    (last, lines)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Nothing but the named files in `dir`: no temporary file left behind.
fn only_files(dir: &Path, names: &[&str]) {
    let mut found: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    found.sort();
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(found, want);
}

#[test]
fn one_scan_writes_every_output_asked_for() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (json, ndjson, sigscan, table) = (d.join("r.json"), d.join("r.ndjson"), d.join("s.json"), d.join("t.txt"));
    let o = sigaudit([
        "registry",
        &reg.addr,
        "--plain-http",
        "-o",
        "table",
        "-o",
        &format!("json={}", path_str(&json)),
        "-o",
        &format!("ndjson={}", path_str(&ndjson)),
        "-o",
        &format!("sigscan-json={}", path_str(&sigscan)),
        "-o",
        &format!("wide={}", path_str(&table)),
    ]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    assert!(text(&o).contains("Images:") || text(&o).contains("images"), "a table on stdout: {}", text(&o));
    let report = read_json(&json);
    let (trailer, lines) = read_ndjson(&ndjson);
    assert_eq!(trailer["summary"], report["summary"]);
    assert_eq!(lines.len() as u64, report["summary"]["images"].as_u64().unwrap());
    // The same images in both, whatever their order.
    let key = |v: &Value| format!("{}@{}", v["repository"], v["digest"]);
    let mut a: Vec<String> = lines.iter().map(key).collect();
    let mut b: Vec<String> = report["images"].as_array().unwrap().iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert!(read_json(&sigscan)["registry"]["signatures"].is_array());
    let wide = std::fs::read_to_string(&table).unwrap();
    assert!(!wide.contains('\u{1b}'), "no colours in a file");
    assert!(wide.contains("apps/web"));
    // Wide output names each reason's code, as waivers and jq filters name it.
    assert!(wide.contains("[payload-digest-mismatch] "), "{wide}");
    only_files(d, &["r.json", "r.ndjson", "s.json", "t.txt"]);
    // The same report as on standard output alone.
    let alone = stdout_json(&sigaudit(["registry", &reg.addr, "--plain-http", "-o", "json"]));
    assert_eq!(alone["images"], report["images"]);
    assert_eq!(alone["summary"], report["summary"]);

    // The formats for auditors and tools, from the same run: each file is what the library
    // renders from that run's JSON report (tests/report_formats.rs validates each format).
    let extras = ["csv", "sarif", "junit", "prometheus", "html"];
    let mut args = vec!["registry".to_string(), reg.addr.clone(), "--plain-http".into()];
    args.extend(["-o".into(), format!("json={}", path_str(&d.join("x.json")))]);
    for f in extras {
        args.extend(["-o".into(), format!("{f}={}", path_str(&d.join(format!("x.{f}"))))]);
    }
    let o = sigaudit(&args);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    assert!(text(&o).is_empty(), "every output went to a file");
    let parsed: sigaudit::report::Report = serde_json::from_slice(&std::fs::read(d.join("x.json")).unwrap()).unwrap();
    for f in extras {
        let mut want = Vec::new();
        let extra = sigaudit::report::formats::Extra::parse(f).unwrap();
        sigaudit::report::formats::render(extra, &parsed, &mut want).unwrap();
        let got = std::fs::read(d.join(format!("x.{f}"))).unwrap();
        assert!(!got.is_empty());
        assert!(got == want, "-o {f}=PATH is not the {f} rendering of the run's report");
    }
    for f in std::fs::read_dir(d).unwrap() {
        let name = f.unwrap().file_name().to_string_lossy().into_owned();
        if name.starts_with("x.") {
            std::fs::remove_file(d.join(name)).unwrap();
        }
    }

    // Mistakes are usage errors, found before the scan.
    for args in [
        vec!["-o", "json", "-o", "table"],
        vec!["-o", "json=a.json", "-o", "ndjson=a.json"],
        vec!["-o", "json=a.json", "-o", "csv=./a.json"],
        vec!["-o", "xml"],
        vec!["-o", "json="],
    ] {
        let mut all = vec!["registry", &reg.addr, "--plain-http"];
        all.extend(args.iter());
        let o = sigaudit_cmd(all).current_dir(d).output().unwrap();
        assert_eq!(code(&o), 2, "{args:?}: {}", errtext(&o));
    }
    let started = Instant::now();
    let missing = d.join("no/such/dir/r.json");
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "-o", &format!("json={}", path_str(&missing))]);
    assert_eq!(code(&o), 2);
    assert!(errtext(&o).contains("no/such/dir"), "{}", errtext(&o));
    assert!(started.elapsed() < Duration::from_secs(5));

    // The config file's outputs, unless the command line names its own.
    let config = d.join("c.toml");
    let from_file = d.join("from-file.json");
    std::fs::write(&config, format!("output = [\"json={}\"]\n", path_str(&from_file))).unwrap();
    let o = sigaudit(["--config", path_str(&config), "registry", &reg.addr, "--plain-http", "-o", "table"]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    assert!(!from_file.exists(), "-o on the command line replaces the file's outputs");
    let o = sigaudit(["--config", path_str(&config), "registry", &reg.addr, "--plain-http"]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    assert_eq!(read_json(&from_file)["summary"], report["summary"]);
    assert!(text(&o).is_empty(), "the file's only output is the file");
}

/// A registry behind the proxy where every manifest answer takes 400 ms.
fn slow(reg: &Registry) -> Proxy {
    let rule =
        Arc::new(
            |_m: &str, p: &str, _n: u64| {
                if p.contains("/manifests/") {
                    Action::Delay(Duration::from_millis(400))
                } else {
                    Action::Forward
                }
            },
        );
    Proxy::start(&reg.addr, rule)
}

fn signal(child: &Child, name: &str) {
    let o = std::process::Command::new("kill").args([&format!("-{name}"), &child.id().to_string()]).output().unwrap();
    assert!(o.status.success(), "kill -{name}");
}

fn start_slow_scan(proxy: &Proxy, dir: &Path, progress: &str) -> Child {
    sigaudit_cmd([
        "registry",
        &proxy.addr,
        "--plain-http",
        "--concurrency",
        "1",
        "--progress",
        progress,
        "-o",
        "table",
        "-o",
        &format!("json={}", path_str(&dir.join("r.json"))),
        "-o",
        &format!("ndjson={}", path_str(&dir.join("r.ndjson"))),
        "-o",
        &format!("prometheus={}", path_str(&dir.join("r.prom"))),
        "-o",
        &format!("sarif={}", path_str(&dir.join("r.sarif"))),
        "-o",
        &format!("html={}", path_str(&dir.join("r.html"))),
        "-o",
        &format!("junit={}", path_str(&dir.join("r.xml"))),
        "-o",
        &format!("csv={}", path_str(&dir.join("r.csv"))),
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap()
}

#[test]
fn sigterm_and_sigint_finish_every_output_as_an_incomplete_report() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    let proxy = slow(&reg);
    for name in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("r.json"), "last night's report").unwrap();
        // Last night's metrics: a complete scan.
        std::fs::write(
            d.join("r.prom"),
            "# TYPE sigaudit_last_complete_scan_timestamp_seconds gauge\nsigaudit_last_complete_scan_timestamp_seconds{kind=\"registry\",target=\"x\"} 1767225600\n",
        )
        .unwrap();
        let child = start_slow_scan(&proxy, d, "always");
        std::thread::sleep(Duration::from_millis(2500));
        // Mid-scan the target still holds the previous report; the new one grows beside it.
        assert_eq!(std::fs::read_to_string(d.join("r.json")).unwrap(), "last night's report");
        signal(&child, name);
        let started = Instant::now();
        let o = child.wait_with_output().unwrap();
        assert!(started.elapsed() < Duration::from_secs(10), "SIG{name}: took {:?}", started.elapsed());
        assert_eq!(code(&o), 3, "SIG{name}: {}", errtext(&o));
        let report = read_json(&d.join("r.json"));
        let (trailer, lines) = read_ndjson(&d.join("r.ndjson"));
        for r in [&report, &trailer] {
            assert_eq!(r["scan"]["complete"], false, "SIG{name}");
            let errors = r["errors"].as_array().unwrap();
            let stop = errors.iter().find(|e| e["code"] == "interrupted").unwrap_or_else(|| panic!("{errors:#?}"));
            assert!(stop["message"].as_str().unwrap().contains(&format!("SIG{name}")), "{stop}");
        }
        let images = report["summary"]["images"].as_u64().unwrap();
        assert!(images < 19, "SIG{name}: the scan was not cut short ({images} images)");
        assert_eq!(lines.len() as u64, images);
        assert!(text(&o).contains("interrupted"), "the table says so: {}", text(&o));
        // --progress always drew its line on stderr.
        assert!(errtext(&o).contains("repositories"), "{}", errtext(&o));
        // The metrics say incomplete, and still when the last complete scan was.
        let prom = std::fs::read_to_string(d.join("r.prom")).unwrap();
        let sample = |name: &str| {
            let line =
                prom.lines().find(|l| l.starts_with(&format!("{name}{{"))).unwrap_or_else(|| panic!("{name}: {prom}"));
            line.rsplit_once(' ').unwrap().1.to_string()
        };
        assert_eq!(sample("sigaudit_scan_complete"), "0");
        assert_eq!(sample("sigaudit_last_complete_scan_timestamp_seconds"), "1767225600");
        // The other formats say it too.
        let sarif = read_json(&d.join("r.sarif"));
        assert_eq!(sarif["runs"][0]["invocations"][0]["executionSuccessful"], false);
        assert!(sarif["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["ruleId"] == "sigaudit/error/interrupted"));
        let html = std::fs::read_to_string(d.join("r.html")).unwrap();
        assert!(html.contains("data-figure=\"complete\" data-value=\"false\"") && html.ends_with("</html>\n"));
        let junit = std::fs::read_to_string(d.join("r.xml")).unwrap();
        assert!(junit.contains("the scan is incomplete") && junit.trim_end().ends_with("</testsuites>"));
        let csv = std::fs::read_to_string(d.join("r.csv")).unwrap();
        assert_eq!(
            csv.lines().count() as u64 - 1,
            report["summary"]["signatures"].as_u64().unwrap() + {
                // Items without a signature of their own get one row each.
                report["images"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|i| i["signatures"].as_array().unwrap().is_empty())
                    .count() as u64
            },
            "{csv}"
        );
        only_files(d, &["r.json", "r.ndjson", "r.prom", "r.sarif", "r.html", "r.xml", "r.csv"]);
    }

    // A second signal: out at once, no report file written, no temporary file left.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let child = start_slow_scan(&proxy, d, "never");
    std::thread::sleep(Duration::from_millis(1500));
    signal(&child, "TERM");
    signal(&child, "TERM");
    let started = Instant::now();
    let o = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
    assert_eq!(code(&o), 3, "{}", errtext(&o));
    // Either the first signal's report was already written (the second came too late to
    // matter), or nothing was: never half a file.
    let written: Vec<String> =
        std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(written.iter().all(|f| !f.ends_with(".tmp")), "{written:?}");
    for f in written {
        if f.ends_with(".json") {
            read_json(&d.join(f));
        }
    }

    // Without a terminal and without --progress always: nothing on stderr but warnings.
    let o = sigaudit(["registry", &reg.addr, "--plain-http", "-o", "json"]);
    assert_eq!(code(&o), 0);
    assert!(!errtext(&o).contains("repositories"), "{}", errtext(&o));
}

/// Names a file system (or a certificate, a registry) chose reach the terminal inert: a file name
/// with an escape sequence, a carriage return and a bidirectional override prints as U+FFFD.
#[test]
fn a_table_never_prints_control_characters_from_names() {
    let dir = tempfile::tempdir().unwrap();
    let evil = "evil\u{1b}[2J\u{1b}[31m\rreal\u{202e}gpj.jar";
    std::fs::copy(crate::common::corpus().join("fs/hello-signed.jar"), dir.path().join(evil)).unwrap();
    for format in ["table", "wide"] {
        let o = sigaudit(["fs", path_str(dir.path()), "-o", format]);
        assert_eq!(code(&o), 0, "{}", errtext(&o));
        let out = text(&o);
        assert!(out.contains("evil\u{fffd}[2J\u{fffd}[31m\u{fffd}real\u{fffd}gpj.jar"), "{format}: {out:?}");
        assert!(!out.contains(['\u{1b}', '\r', '\u{202e}']), "{format}: {out:?}");
    }
    // The JSON keeps the name as it is (escaped by JSON itself).
    let o = sigaudit(["fs", path_str(dir.path()), "-o", "json"]);
    assert!(stdout_json(&o)["files"][0]["path"].as_str().unwrap().ends_with(evil));
}
