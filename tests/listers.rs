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
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
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
/// tags, verdicts and orphans. Where the listing gives digests (Docker Hub, GHCR, Quay, Harbor) no tag list
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
    let cases: [(&str, &[&str], bool); 7] = [
        ("docker-hub", &["--page-size", "3"], true),
        ("docker-hub", &["--page-size", "1", "--trailing-empty-page"], true),
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
        let expected_pages = repos.div_ceil(page_size)
            + u64::from(options.contains(&"--trailing-empty-page") && repos.is_multiple_of(page_size));
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

/// A next page on another host is never followed (the platform credential would go with it):
/// the scan says the listing stopped, is incomplete (exit 3), and still reports what the pages
/// before it listed. Docker Hub's `next` is an absolute URL; GHCR's and Harbor's `Link`.
#[test]
fn a_next_page_on_another_host_is_refused() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    for platform in ["docker-hub", "ghcr", "harbor", "gitlab"] {
        let api = reg.platform_api(platform, "apps", &["--page-size", "2", "--foreign-next"]);
        let o = listed(&reg, "apps", platform, &api.url, &["--retries", "0", "--timeout", "5"], &[]);
        assert_eq!(code(&o), 3, "{platform}: {}", String::from_utf8_lossy(&o.stderr));
        let report = stdout_json(&o);
        assert_eq!(report["scan"]["complete"], false, "{platform}");
        let errors = errors_with(&report, "listing-error");
        assert!(
            errors.iter().any(|m| m.contains("next page link to another host refused") && m.contains("198.51.100.7")),
            "{platform}: {errors:#?}"
        );
        // The first page's two repositories were scanned.
        assert_eq!(report["summary"]["repositories"], 2, "{platform}");
        assert_eq!(
            api.requests()
                .iter()
                .filter(|r| !r.contains("/versions") && !r.contains("/artifacts") && !r.contains("/tags"))
                .count(),
            1
        );
    }
}

/// A platform answering 429 with `Retry-After` is waited for and asked again (the wait is
/// bounded, and counted as retries); past the retry budget the listing is an error, never an
/// empty "complete" namespace.
#[test]
fn a_rate_limited_platform_is_waited_for_within_bounds() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = stdout_json(&catalog(&reg, "apps"));
    let api = reg.platform_api("ghcr", "apps", &["--rate-limit", "2"]);
    let started = std::time::Instant::now();
    let o = listed(&reg, "apps", "ghcr", &api.url, &[], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "Retry-After: 1, twice");
    assert_eq!(comparable(&stdout_json(&o)), comparable(&base));
    assert!(stats(&o)["retries"] >= 2);
    assert_eq!(api.requests().iter().filter(|r| r.ends_with(" 429")).count(), 2);

    // GitHub's own answer to a spent rate limit: 403 with x-ratelimit-remaining: 0 until
    // x-ratelimit-reset. A wait, not an authentication error.
    let api = reg.platform_api("ghcr", "apps", &["--rate-limit", "1", "--rate-limit-status", "403"]);
    let o = listed(&reg, "apps", "ghcr", &api.url, &[], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(comparable(&stdout_json(&o)), comparable(&base));
    assert_eq!(api.requests().iter().filter(|r| r.ends_with(" 403")).count(), 1);

    let api = reg.platform_api("harbor", "apps", &["--rate-limit", "100"]);
    let o = listed(&reg, "apps", "harbor", &api.url, &["--retries", "2"], &[]);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["complete"], false);
    let errors = errors_with(&report, "listing-error");
    assert!(errors.iter().any(|m| m.contains("HTTP 429") && m.contains("rate limited after 2 retries")), "{errors:#?}");
    assert_eq!(api.requests().len(), 3, "one request and two retries");
}

/// (platform, the replayer's --auth, what the error asks for, the variables, the one used)
type CredentialCase = (&'static str, String, &'static str, Vec<(&'static str, &'static str)>, &'static str);

/// A platform that wants credentials: without them, or with a refused one, the error names the
/// variable to set (or the one whose value was refused), never the secret; with them the scan
/// is complete, and the report records the variable's name only. GHCR takes a bearer token
/// (GITHUB_TOKEN), GitLab a PRIVATE-TOKEN (GITLAB_TOKEN), Harbor a user and password.
#[test]
fn platform_credentials_come_from_their_variables_and_are_never_shown() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = comparable(&stdout_json(&catalog(&reg, "apps")));
    let secret = "s3cret-value-never-shown";
    let cases: [CredentialCase; 4] = [
        (
            "ghcr",
            format!("bearer:{secret}"),
            "SIGAUDIT_GITHUB_TOKEN or GITHUB_TOKEN",
            vec![("GITHUB_TOKEN", secret)],
            "GITHUB_TOKEN",
        ),
        (
            "ghcr",
            format!("bearer:{secret}"),
            "SIGAUDIT_GITHUB_TOKEN",
            vec![("SIGAUDIT_GITHUB_TOKEN", secret), ("GITHUB_TOKEN", "other")],
            "SIGAUDIT_GITHUB_TOKEN",
        ),
        ("gitlab", format!("private-token:{secret}"), "GITLAB_TOKEN", vec![("GITLAB_TOKEN", secret)], "GITLAB_TOKEN"),
        (
            "harbor",
            format!("basic:robot$ci:{secret}"),
            "HARBOR_USERNAME and HARBOR_PASSWORD",
            vec![("HARBOR_USERNAME", "robot$ci"), ("HARBOR_PASSWORD", secret)],
            "HARBOR_PASSWORD",
        ),
    ];
    for (platform, auth, wanted, env, source) in cases {
        let api = reg.platform_api(platform, "apps", &["--auth", &auth]);
        // None given.
        let o = listed(&reg, "apps", platform, &api.url, &[], &[]);
        assert_eq!(code(&o), 3, "{platform}: {}", String::from_utf8_lossy(&o.stderr));
        let errors = errors_with(&stdout_json(&o), "listing-error");
        assert!(errors.iter().any(|m| m.contains("HTTP 401") && m.contains(wanted)), "{platform}: {errors:#?}");
        // A refused one: the message names where it came from.
        let wrong: Vec<(&str, &str)> =
            env.iter().map(|(k, v)| if *k == source { (*k, "wrong-value") } else { (*k, *v) }).collect();
        let o = listed(&reg, "apps", platform, &api.url, &[], &wrong);
        assert_eq!(code(&o), 3, "{platform}");
        let errors = errors_with(&stdout_json(&o), "listing-error");
        let refused = format!("refused the credential from {source}");
        assert!(errors.iter().any(|m| m.contains(&refused)), "{platform}: {errors:#?}");
        // The right one.
        let o = listed(&reg, "apps", platform, &api.url, &[], &env);
        assert_eq!(code(&o), 0, "{platform}: {}", String::from_utf8_lossy(&o.stderr));
        let report = stdout_json(&o);
        assert_eq!(comparable(&report), base, "{platform}");
        assert_eq!(report["scan"]["settings"]["platform-token-env"], source, "{platform}");
        for out in [&o.stdout, &o.stderr] {
            assert!(!String::from_utf8_lossy(out).contains(secret), "{platform}: the secret is shown");
        }
    }
    // --platform-token: the report records the flag, not its value.
    let api = reg.platform_api("ghcr", "apps", &["--auth", &format!("bearer:{secret}")]);
    let o = listed(&reg, "apps", "ghcr", &api.url, &["--platform-token", secret], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["settings"]["platform-token-env"], "--platform-token");
    assert!(!String::from_utf8_lossy(&o.stdout).contains(secret));
}

/// GHCR: a namespace that is a user, not an organisation (the orgs endpoint answers 404).
#[test]
fn a_ghcr_user_namespace_is_listed_through_the_users_endpoint() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = comparable(&stdout_json(&catalog(&reg, "apps")));
    let api = reg.platform_api("ghcr", "apps", &["--user", "--page-size", "4"]);
    let o = listed(&reg, "apps", "ghcr", &api.url, &[], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(comparable(&stdout_json(&o)), base);
    let requests = api.requests();
    assert!(requests[0].starts_with("GET /orgs/apps/packages") && requests[0].ends_with(" 404"), "{requests:#?}");
    assert!(requests.iter().any(|r| r.starts_with("GET /users/apps/packages/container/web/versions")), "{requests:#?}");
}

/// A namespace with nothing in it: every platform's answer is an empty page, and the scan is
/// complete with no repositories, as the catalog scan of the same namespace is.
#[test]
fn an_empty_namespace_is_an_empty_page() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = stdout_json(&catalog(&reg, "nothing-here"));
    assert_eq!(base["summary"]["repositories"], 0);
    for platform in ["docker-hub", "ghcr", "gitlab", "quay", "harbor"] {
        let api = reg.platform_api(platform, "nothing-here", &[]);
        let o = listed(&reg, "nothing-here", platform, &api.url, &[], &[]);
        assert_eq!(code(&o), 0, "{platform}: {}", String::from_utf8_lossy(&o.stderr));
        let report = stdout_json(&o);
        assert_eq!(report["scan"]["complete"], true, "{platform}");
        assert_eq!(comparable(&report), comparable(&base), "{platform}");
    }
}

/// Choosing a lister: what cannot work is a usage error (exit 2) that says what would.
#[test]
fn lister_choices_that_cannot_work_are_usage_errors() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["registry", "127.0.0.1:9/apps", "--plain-http", "--lister-url", "http://127.0.0.1:9"],
            "--lister-url needs --lister",
        ),
        (
            &["registry", "127.0.0.1:9", "--plain-http", "--lister", "harbor", "--lister-url", "http://127.0.0.1:9"],
            "give HOST/NAMESPACE",
        ),
        (
            &["registry", "127.0.0.1:9/apps", "--plain-http", "--lister", "quay", "--repos-file", "/dev/null"],
            "exclude each other",
        ),
        (
            &["registry", "127.0.0.1:9/apps", "--plain-http", "--lister", "nope"],
            "use docker-hub, ghcr, gitlab, quay, harbor",
        ),
        (
            &["registry", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/apps", "--platform-token", "x"],
            "AWS credentials from the standard chain",
        ),
    ];
    for (args, needle) in cases {
        let o = run(args, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

/// `[[targets]]` in the config file take lister, lister-url and platform-token-env; shards of a
/// listed scan merge into the unsharded result, and a shard listed by another method than its
/// siblings is reported (`settings-differ`): "all" meant something else there.
#[test]
fn config_targets_shards_and_merge_keep_the_listing() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = stdout_json(&catalog(&reg, "apps"));
    let api = reg.platform_api("harbor", "apps", &["--page-size", "2", "--auth", "basic:robot:pw"]);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("sigaudit.toml");
    std::fs::write(
        &config,
        format!(
            "[[targets]]\ntarget = \"http://{}/apps\"\nlister = \"harbor\"\nlister-url = \"{}\"\nplatform-token-env = \"CI_HARBOR_PW\"\n",
            reg.addr, api.url
        ),
    )
    .unwrap();
    let env = [("HARBOR_USERNAME", "robot"), ("CI_HARBOR_PW", "pw")];
    let mut shards = Vec::new();
    for i in 0..2 {
        let out = dir.path().join(format!("shard{i}.json"));
        let shard = format!("{i}/2");
        let o = run(
            &[
                "--config",
                config.to_str().unwrap(),
                "registry",
                "--shard",
                &shard,
                "-o",
                &format!("json={}", out.display()),
            ],
            &env,
        );
        assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
        let report: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(report["scan"]["listing"], "harbor");
        assert_eq!(report["scan"]["settings"]["platform-token-env"], "CI_HARBOR_PW");
        shards.push(out);
    }
    let o = run(&["merge", shards[0].to_str().unwrap(), shards[1].to_str().unwrap(), "-o", "json"], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let merged = stdout_json(&o);
    assert_eq!(merged["scan"]["listing"], "harbor");
    assert_eq!(comparable(&merged)["images"], comparable(&base)["images"]);

    // Shard 1 listed by the catalog instead: not the same scan.
    let other = dir.path().join("catalog-shard1.json");
    let target = format!("http://{}/apps", reg.addr);
    let o = run(&["registry", &target, "--shard", "1/2", "-o", &format!("json={}", other.display())], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let o = run(&["merge", shards[0].to_str().unwrap(), other.to_str().unwrap(), "-o", "json"], &[]);
    let merged = stdout_json(&o);
    let errors = errors_with(&merged, "settings-differ");
    assert!(errors.iter().any(|m| m.contains("listing")), "{merged:#}");
    assert!(merged["scan"].get("listing").is_none_or(|l| l.is_null()), "{}", merged["scan"]);
}

/// Amazon ECR: the ECR API is moto's (the AWS emulator, in server mode on 127.0.0.1, holding the
/// registry's repositories and images, created through the ECR API); the SDK's credentials and
/// region come from the standard chain (here the environment); the registry protocol is
/// docker-registry's. DescribeRepositories and DescribeImages list every repository and tag with
/// its digest: the catalog scan's images and verdicts, without a tag list. Without credentials,
/// the error says where AWS credentials come from. Not covered here: paging across `nextToken`.
/// moto 5.2.1 pages none of DescribeRepositories, DescribeImages and ListImages (its ECR backend
/// ignores `maxResults` and never returns `nextToken`; models.py says "maxResults and nextToken
/// not implemented"), so every listing is one page whatever is asked.
#[test]
fn ecr_lists_through_the_aws_sdk_what_the_catalog_lists() {
    let mut reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let base = catalog(&reg, "apps");
    let base_stats = stats(&base);
    let base = stdout_json(&base);
    let endpoint = reg.moto_ecr("apps");
    let aws = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let o = listed(&reg, "apps", "ecr", &endpoint, &[], &aws);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["listing"], "ecr");
    assert_eq!(report["scan"]["complete"], true);
    assert_eq!(comparable(&report), comparable(&base), "not what the catalog scan found");
    assert_images_match(&report, &expected_in(&seeded, "apps/"));
    let s = stats(&o);
    assert_eq!(s["tag-list"], 0, "tags come with DescribeImages");
    assert!(s["manifest-head"] < base_stats["manifest-head"], "{s:?} against {base_stats:?}");
    assert!(s["listing"] > base["summary"]["repositories"].as_u64().unwrap(), "{s:?}");

    // The endpoint from the standard chain's AWS_ENDPOINT_URL_ECR instead of --lister-url.
    let target = format!("{}/apps", reg.addr);
    let mut env = aws.to_vec();
    env.push(("AWS_ENDPOINT_URL_ECR", &endpoint));
    let o = run(&["registry", &target, "--plain-http", "-o", "json", "--lister", "ecr"], &env);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(comparable(&stdout_json(&o)), comparable(&base));

    // No credentials anywhere in the chain.
    let none = [
        ("AWS_REGION", "eu-west-1"),
        ("AWS_CONFIG_FILE", "/dev/null"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let o = listed(&reg, "apps", "ecr", &endpoint, &["--retries", "0", "--timeout", "10"], &none);
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let errors = errors_with(&stdout_json(&o), "listing-error");
    assert!(errors.iter().any(|m| m.contains("AWS_ACCESS_KEY_ID")), "{errors:#?}");
}

/// Docker Hub tags listed with `"digest": null` (old v1 pushes) are resolved by the registry, one
/// manifest HEAD each: the same images and verdicts as the catalog scan, no tag list read.
#[test]
fn a_docker_hub_tag_without_a_digest_is_resolved_by_the_registry() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = stdout_json(&catalog(&reg, "apps"));
    let all = reg.platform_api("docker-hub", "apps", &[]);
    let o = listed(&reg, "apps", "docker-hub", &all.url, &[], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let with_digests = stats(&o);
    let tags: Vec<String> = base["images"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["tags"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()))
        .collect();
    let mut options = vec!["--page-size", "2"];
    for t in &tags {
        options.extend(["--null-digest", t.as_str()]);
    }
    let api = reg.platform_api("docker-hub", "apps", &options);
    let o = listed(&reg, "apps", "docker-hub", &api.url, &[], &[]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(comparable(&stdout_json(&o)), comparable(&base));
    let s = stats(&o);
    assert_eq!(s["tag-list"], 0, "the tags still come from the listing");
    assert!(s["manifest-head"] > with_digests["manifest-head"], "one HEAD per tag: {s:?} against {with_digests:?}");
    assert!(api.requests().iter().any(|r| r.contains("/repositories/web/tags?")), "{:#?}", api.requests());
}

/// A hostile platform API (the registry is honest): what it says decides only which names are
/// looked at, never a verdict, and nothing it says loops the scan or sends a request outside
/// the namespace. Docker Hub's listing is the attacker here; the checks are the listers' own.
#[test]
fn a_hostile_platform_listing_cannot_forge_hide_or_loop() {
    let mut reg = Registry::distribution(100);
    reg.seed(false);
    let base = stdout_json(&catalog(&reg, "apps"));
    let run_attack = |reg: &mut Registry, attack: &str| {
        let api = reg.platform_api("docker-hub", "apps", &["--page-size", "3", "--attack", attack]);
        let o = listed(reg, "apps", "docker-hub", &api.url, &["--retries", "0", "--timeout", "10"], &[]);
        (o, api)
    };

    // A next chain whose last page points back at page 2: ends with an error, each page read once.
    let started = std::time::Instant::now();
    let (o, api) = run_attack(&mut reg, "loop");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["complete"], false);
    let errors = errors_with(&report, "listing-error");
    assert!(errors.iter().any(|m| m.contains("loops back to a page already read")), "{errors:#?}");
    assert_eq!(comparable(&report)["images"], comparable(&base)["images"], "every page was read once");
    let pages = api.requests().iter().filter(|r| !r.contains("/tags")).count() as u64;
    let repos = base["summary"]["repositories"].as_u64().unwrap();
    assert_eq!(pages, repos.div_ceil(3), "each page read once, the loop seen before asking: {:#?}", api.requests());

    // Repositories and tags listed twice, a tag also at a digest the registry does not give it:
    // each repository scanned once, the tag resolved by the registry.
    let (o, _) = run_attack(&mut reg, "duplicate");
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(comparable(&stdout_json(&o)), comparable(&base));

    // Names outside the grammar or the namespace: refused, each an error, never requested.
    let (o, api) = run_attack(&mut reg, "names");
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["complete"], false);
    assert_eq!(comparable(&report)["images"], comparable(&base)["images"]);
    let errors = errors_with(&report, "listing-error");
    for name in ["apps/../other", "apps/a%2Fb", "apps/x\\u{1}y", "apps/UPPER", "apps/web/../../v2/other"] {
        assert!(
            errors.iter().any(|m| m.contains(&format!("\"{name}\" refused: not a repository name"))),
            "{name}: {errors:#?}"
        );
    }
    assert!(errors.iter().any(|m| m.contains("\"other/web\" refused: outside the namespace apps")), "{errors:#?}");
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(api.requests().iter().all(|r| !r.contains("..") && !r.contains("other") && !r.contains("UPPER")));
    assert!(report["images"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["repository"].as_str().unwrap().starts_with("apps/")));

    // A page that is not JSON: an error naming the page, the scan incomplete, nothing unsigned.
    let (o, _) = run_attack(&mut reg, "not-json");
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    let errors = errors_with(&report, "listing-error");
    assert!(errors.iter().any(|m| m.contains("is not the API's JSON")), "{errors:#?}");
    assert_eq!(report["images"].as_array().unwrap().len(), 0);
    assert_eq!(report["scan"]["complete"], false);

    // A page of 17 MiB: refused at the 16 MiB cap, not read into memory whole.
    let (o, _) = run_attack(&mut reg, "huge");
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    let errors = errors_with(&report, "listing-error");
    assert!(errors.iter().any(|m| m.contains("page exceeds 16777216 bytes")), "{errors:#?}");
    assert_eq!(report["scan"]["complete"], false);

    // A tag at a digest the registry does not hold: an error of that tag, not an unsigned image.
    let (o, _) = run_attack(&mut reg, "ghost-digest");
    assert_eq!(code(&o), 3, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    assert_eq!(comparable(&report)["images"], comparable(&base)["images"]);
    let ghosts: Vec<&Value> =
        report["errors"].as_array().unwrap().iter().filter(|e| e["reference"] == "ghost").collect();
    assert_eq!(ghosts.len() as u64, repos, "{ghosts:#?}");
    assert!(
        ghosts.iter().all(|e| e["code"] == "manifest-error"
            && e["message"].as_str().unwrap().contains("which the registry does not serve")),
        "{ghosts:#?}"
    );
    assert!(report["images"].as_array().unwrap().iter().all(|i| i["tags"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t != "ghost")));

    // A digest that is no digest: ignored, the registry resolves each tag (one HEAD each).
    let (o, _) = run_attack(&mut reg, "bad-digest");
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(comparable(&stdout_json(&o)), comparable(&base));
}
