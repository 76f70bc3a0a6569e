//! Registries without a catalog, listed through their platform's API (`--lister`): Docker Hub,
//! GHCR, GitLab, Quay and Harbor.
//!
//! What is real and what is replayed: the registry protocol (tags, manifests, signatures) is
//! CNCF distribution (`docker-registry`) on 127.0.0.1, seeded by scripts/seed_registry.py. No
//! installable server emulates the platforms' listing APIs, so those are replayed on 127.0.0.1
//! by tests/support/platform_api.py: the documented answers of testdata/listers/ (see its
//! PROVENANCE.md) filled in with the repositories, tags and digests the registry holds, paged
//! as each platform pages. Every listed scan is compared with a catalog scan of the same
//! registry content: the same images, tags, verdicts and orphans.

mod common;

use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Output;

/// Every variable a lister reads its credential from: none leaks in from the machine.
const PLATFORM_VARS: &[&str] = &[
    "DOCKERHUB_TOKEN",
    "SIGAUDIT_GITHUB_TOKEN",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "QUAY_TOKEN",
    "HARBOR_USERNAME",
    "HARBOR_PASSWORD",
];

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = sigaudit_cmd(args);
    for v in PLATFORM_VARS {
        c.env_remove(v);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run sigaudit")
}

/// `registry HOST/NAMESPACE` through `platform`'s API at `url`.
fn listed(reg: &Registry, ns: &str, platform: &str, url: &str, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let target = format!("{}/{ns}", reg.addr);
    let mut args = vec!["registry", &target, "--plain-http", "-o", "json", "--stats", "--lister", platform];
    args.extend(["--lister-url", url]);
    args.extend(extra);
    run(&args, env)
}

fn catalog(reg: &Registry, ns: &str) -> Output {
    let target = format!("{}/{ns}", reg.addr);
    run(&["registry", &target, "--plain-http", "-o", "json", "--stats"], &[])
}

/// The `--stats` line's counters by kind.
fn stats(o: &Output) -> BTreeMap<String, u64> {
    let stderr = String::from_utf8_lossy(&o.stderr);
    let line = stderr.lines().find(|l| l.starts_with("requests to")).unwrap_or_else(|| panic!("no stats: {stderr}"));
    let mut out = BTreeMap::new();
    let inner = line.split_once('(').unwrap().1.split_once(')').unwrap().0;
    for part in inner.split(", ") {
        let (k, v) = part.rsplit_once(' ').unwrap();
        out.insert(k.to_string(), v.parse().unwrap());
    }
    out.insert("total".into(), line.split("total ").nth(1).unwrap().split(' ').next().unwrap().parse().unwrap());
    out.insert("retries".into(), line.rsplit("retries ").next().unwrap().trim().parse().unwrap());
    out
}

/// The seeder's expected images under `prefix`.
fn expected_in(seeded: &Seeded, prefix: &str) -> Value {
    let images: Vec<Value> = seeded.expected["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["repository"].as_str().unwrap().starts_with(prefix))
        .cloned()
        .collect();
    serde_json::json!({ "images": images })
}

fn errors_with(report: &Value, code: &str) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == code)
        .map(|e| e["message"].as_str().unwrap().to_string())
        .collect()
}

/// Each platform's listing, paged at its edges (one page, many pages, a last page that ends
/// exactly at the page size, an empty page after a full one), gives the catalog scan's images,
/// tags, verdicts and orphans. Where the listing gives digests (GHCR, Quay, Harbor) no tag list
/// is read from the registry and the tags of one digest take one manifest request.
#[test]
fn every_platform_lists_what_the_catalog_lists() {
    let mut reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let base = catalog(&reg, "apps");
    assert_eq!(code(&base), 0, "{}", String::from_utf8_lossy(&base.stderr));
    let base_report = stdout_json(&base);
    assert_eq!(base_report["scan"]["listing"], "catalog");
    let apps_images = seeded.expected["images"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["repository"].as_str().unwrap().starts_with("apps/"));
    assert_eq!(base_report["images"].as_array().unwrap().len(), apps_images.count());
    let repos = base_report["summary"]["repositories"].as_u64().unwrap();
    assert!(repos >= 7, "{repos}");
    let base_stats = stats(&base);
    let images = base_report["images"].as_array().unwrap().len() as f64;
    // (platform, replayer options, whether the listing gives digests)
    let cases: [(&str, &[&str], bool); 6] = [
        ("docker-hub", &["--page-size", "3"], false),
        ("ghcr", &["--page-size", "2", "--auth", "bearer:ghp-test-token"], true),
        ("gitlab", &[], false),
        ("gitlab", &["--page-size", "1"], false),
        ("quay", &["--page-size", "2", "--trailing-empty-page"], true),
        ("harbor", &["--page-size", "3"], true),
    ];
    eprintln!(
        "catalog: {} requests for {images} images = {:.2} per image",
        base_stats["total"],
        base_stats["total"] as f64 / images
    );
    for (platform, options, digests) in cases {
        let api = reg.platform_api(platform, "apps", options);
        let env: &[(&str, &str)] = if platform == "ghcr" { &[("GITHUB_TOKEN", "ghp-test-token")] } else { &[] };
        let o = listed(&reg, "apps", platform, &api.url, &[], env);
        let what = format!("{platform} {options:?}");
        assert_eq!(code(&o), 0, "{what}: {}", String::from_utf8_lossy(&o.stderr));
        let report = stdout_json(&o);
        assert_eq!(report["scan"]["listing"], platform, "{what}");
        assert_eq!(report["scan"]["complete"], true, "{what}");
        assert_eq!(comparable(&report), comparable(&base_report), "{what}: not what the catalog scan found");
        assert_images_match(&report, &expected_in(&seeded, "apps/"));
        let s = stats(&o);
        let requests = api.requests();
        assert!(requests.iter().all(|r| r.ends_with(" 200")), "{what}: {requests:#?}");
        assert_eq!(s["listing"], requests.len() as u64, "{what}: the platform API requests are counted");
        let pages = requests
            .iter()
            .filter(|r| !r.contains("/tag") && !r.contains("/versions") && !r.contains("/artifacts"))
            .count();
        let page_size: u64 =
            options.iter().skip_while(|o| **o != "--page-size").nth(1).map_or(100, |n| n.parse().unwrap());
        let expected_pages =
            repos.div_ceil(page_size) + u64::from(options.contains(&"--trailing-empty-page") && repos % page_size == 0);
        assert_eq!(pages as u64, expected_pages.max(1), "{what}: {requests:#?}");
        if digests {
            assert_eq!(s["tag-list"], 0, "{what}: tags come with the listing");
            assert!(s["manifest-head"] < base_stats["manifest-head"], "{what}: {s:?} against {base_stats:?}");
        } else {
            assert_eq!(s["tag-list"], base_stats["tag-list"], "{what}");
        }
        eprintln!(
            "{what}: {} requests ({} platform API, {} tag list, {} manifest HEAD) = {:.2} per image",
            s["total"],
            s["listing"],
            s["tag-list"],
            s["manifest-head"],
            s["total"] as f64 / images
        );
    }
}
