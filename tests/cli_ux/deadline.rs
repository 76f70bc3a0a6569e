//! `--deadline`: a whole scan stops at it and ends like an interrupted scan: a valid report marked
//! incomplete, an error `deadline-exceeded`, exit 3, for registry, image and fs, in JSON and NDJSON.

use crate::common::proxy::{Action, Proxy};
use crate::common::{code, sigaudit, stdout_json, Registry};
use crate::{errtext, path_str, text, unsigned_jar};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn deadline_error(report: &Value) -> bool {
    report["errors"].as_array().unwrap().iter().any(|e| e["code"] == "deadline-exceeded")
}

#[test]
fn a_slow_registry_scan_stops_at_its_deadline_with_what_it_found() {
    let reg = Registry::distribution(100);
    reg.seed(false);
    // Every manifest answer takes 700 ms: one request at a time, the scan would take 20 s or more.
    let rule =
        Arc::new(
            |_m: &str, p: &str, _n: u64| {
                if p.contains("/manifests/") {
                    Action::Delay(Duration::from_millis(700))
                } else {
                    Action::Forward
                }
            },
        );
    let proxy = Proxy::start(&reg.addr, rule);
    for output in ["json", "ndjson"] {
        let started = Instant::now();
        let o =
            sigaudit(["registry", &proxy.addr, "--plain-http", "--concurrency", "1", "--deadline", "4s", "-o", output]);
        let took = started.elapsed();
        assert_eq!(code(&o), 3, "{}", errtext(&o));
        assert!(took < Duration::from_secs(12), "took {took:?}");
        let report: Value = if output == "json" {
            stdout_json(&o)
        } else {
            let out = text(&o);
            let lines: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            let (last, images) = lines.split_last().unwrap();
            assert_eq!(last["summary"]["images"], images.len());
            last.clone()
        };
        assert_eq!(report["scan"]["complete"], false);
        assert!(report["scan"]["finishedAt"].is_string());
        assert!(deadline_error(&report), "{report:#}");
        let images = report["summary"]["images"].as_u64().unwrap();
        assert!(images < 19, "the scan was not cut short: {images} images");
    }
    // A policy failure still wins over an incomplete scan.
    let o =
        sigaudit(["registry", &proxy.addr, "--plain-http", "--deadline", "60s", "--fail-on", "invalid", "-o", "json"]);
    assert_eq!(code(&o), 1);
    assert!(!deadline_error(&stdout_json(&o)));
    // image too.
    let o =
        sigaudit(["image", &format!("{}/apps/web:v1", proxy.addr), "--plain-http", "--deadline", "0s", "-o", "json"]);
    assert_eq!(code(&o), 2, "the registry cannot even be asked before the deadline: {}", errtext(&o));
    let refs: Vec<String> = [
        "apps/web:v1",
        "apps/web:latest",
        "apps/api:v1",
        "apps/batch:v1",
        "apps/batch:v1.0.1",
        "apps/unsigned:v1",
        "apps/worker:v1",
        "bundles/app:v1",
        "deep/a/b/c/d:v1",
        "notary/alpine:v2",
    ]
    .iter()
    .map(|r| format!("{}/{r}", proxy.addr))
    .collect();
    let mut args: Vec<&str> = vec!["image", "--plain-http", "--deadline", "4s", "-o", "json"];
    args.extend(refs.iter().map(String::as_str));
    let o = sigaudit(args);
    assert_eq!(code(&o), 3, "{}", errtext(&o));
    assert!(deadline_error(&stdout_json(&o)));
}

#[test]
fn a_filesystem_scan_stops_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        unsigned_jar(&dir.path().join(format!("{i}.jar")));
    }
    // A deadline already passed: nothing is examined, and the report says so.
    for output in ["json", "ndjson"] {
        let o = sigaudit(["fs", path_str(dir.path()), "--deadline", "0s", "-o", output]);
        assert_eq!(code(&o), 3, "{}", errtext(&o));
        let last: Value =
            serde_json::from_str(text(&o).lines().last().unwrap_or("")).unwrap_or_else(|_| stdout_json(&o));
        assert_eq!(last["scan"]["complete"], false);
        assert!(deadline_error(&last), "{last:#}");
        assert_eq!(last["summary"]["files"], 0);
    }
    // A deadline not reached changes nothing.
    let o = sigaudit(["fs", path_str(dir.path()), "--deadline", "10m", "-o", "json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(stdout_json(&o)["summary"]["files"], 3);
    let o = sigaudit(["fs", path_str(dir.path()), "--deadline", "soon"]);
    assert_eq!(code(&o), 2);
    assert!(errtext(&o).contains("90s, 15m, 1h30m"), "{}", errtext(&o));
}
