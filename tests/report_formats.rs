//! The report formats for auditors and tools (`sigaudit::report::formats`), written from real
//! reports (a scan of the seeded test registry, a scan of testdata/) and from a report full of
//! hostile text, each checked by a validator that knows nothing of sigaudit:
//! - SARIF against the OASIS SARIF 2.1.0 JSON schema (Python jsonschema), JUnit against Jenkins
//!   xUnit's junit-10.xsd (lxml), Prometheus by the prometheus_client text parser, CSV read back
//!   by Python's csv module (tests/support/check_formats.py; the schemas are in testdata/schemas/);
//! - HTML opened by headless Chromium, whose every connection goes to a proxy on 127.0.0.1 that
//!   counts them (none may come), whose DOM must show the summary's figures and no element the
//!   report's text could have smuggled in, and which writes a screenshot beside the outputs
//!   (`$CARGO_TARGET_TMPDIR/report_formats/<test>/report.png`).
//!
//! Needs the virtualenv scripts/setup.sh fills (jsonschema, lxml, prometheus-client) and Debian's
//! chromium: a missing one fails with a message saying to run scripts/setup.sh.

mod common;

use common::{repo_root, sigaudit, Registry};
use sigaudit::report::formats::{render, Extra};
use sigaudit::report::Report;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn venv() -> PathBuf {
    common::venv()
}

fn python() -> PathBuf {
    let py = venv().join("bin/python");
    let ok = py.is_file()
        && Command::new(&py)
            .args(["-c", "import jsonschema, lxml.etree, prometheus_client.parser"])
            .status()
            .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{} lacks jsonschema, lxml or prometheus-client: run scripts/setup.sh (it installs them into that virtualenv; \
         SIGAUDIT_VENV names another)",
        py.display()
    );
    py
}

fn chromium() -> PathBuf {
    let c = PathBuf::from("/usr/bin/chromium");
    assert!(c.is_file(), "{} is missing: run scripts/setup.sh (it installs Debian's chromium)", c.display());
    c
}

/// A fresh folder for one test's outputs, kept after the test (the screenshot is looked at).
fn outdir(test: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_formats").join(test);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Render every format of `report` into `dir/report.EXT`; returns (format, path, size).
fn render_all(report: &Report, dir: &Path) -> Vec<(Extra, PathBuf, u64)> {
    Extra::ALL
        .into_iter()
        .map(|f| {
            let path = dir.join(format!("report.{}", f.extension()));
            let mut out = Vec::new();
            render(f, report, &mut out).unwrap();
            // Rendering is a pure function of the report.
            let mut again = Vec::new();
            render(f, report, &mut again).unwrap();
            assert_eq!(out, again, "{} is not deterministic", f.name());
            std::fs::write(&path, &out).unwrap();
            (f, path, out.len() as u64)
        })
        .collect()
}

/// The Python validators (tests/support/check_formats.py); returns their figures.
fn check_with_python(json: &Path, dir: &Path) -> serde_json::Value {
    let o = Command::new(python())
        .arg(repo_root().join("tests/support/check_formats.py"))
        .arg(json)
        .arg(dir)
        .arg(repo_root().join("testdata/schemas"))
        .output()
        .expect("run check_formats.py");
    assert!(
        o.status.success(),
        "the validators refused what was written to {}:\n{}{}",
        dir.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout).expect("figures")
}

/// A proxy on 127.0.0.1 that records the first line of every connection and answers none:
/// Chromium is told to send everything through it, so nothing it fetches can leave the machine.
struct Trap {
    addr: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Trap {
    fn start() -> Trap {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let _ = c.set_read_timeout(Some(Duration::from_secs(2)));
                let mut line = String::new();
                let _ = BufReader::new(&c).read_line(&mut line);
                s.lock().unwrap().push(line.trim().to_string());
            }
        });
        Trap { addr, seen }
    }

    /// The hosts asked for (`CONNECT host:443`, `GET http://host/…`).
    fn hosts(&self) -> Vec<String> {
        let lines = self.seen.lock().unwrap().clone();
        lines.iter().filter_map(|l| l.split_whitespace().nth(1)).map(host_of).collect()
    }
}

fn host_of(target: &str) -> String {
    let rest = target.split_once("://").map_or(target, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or(rest);
    authority.rsplit_once(':').map_or(authority, |(h, _)| h).to_string()
}

/// The requests Chromium's NetLog records: (URL, made by the page). The page's own requests carry
/// the page's origin (`initiator` "null" for a file: page, a `file://` network isolation key);
/// the browser's background requests (component updates, network time) carry "not an origin".
fn netlog_requests(path: &Path) -> Vec<(String, bool)> {
    let log: serde_json::Value = serde_json::from_slice(&std::fs::read(path).expect("the NetLog was written"))
        .expect("the NetLog is JSON (Chromium finished it)");
    let start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].as_u64().expect("event type");
    let mut out = Vec::new();
    for e in log["events"].as_array().unwrap() {
        let params = &e["params"];
        if e["type"].as_u64() != Some(start) || params["url"].is_null() {
            continue;
        }
        let url = params["url"].as_str().unwrap_or("").to_string();
        let initiator = params["initiator"].as_str().unwrap_or("");
        let page = initiator == "null"
            || initiator.starts_with("file:")
            || params["network_isolation_key"].as_str().is_some_and(|k| k.contains("file://"));
        out.push((url, page));
    }
    out
}

/// Run headless Chromium on `page`, every connection sent to `trap` and every request logged to
/// `profile/netlog.json`, with `extra` flags; returns its standard output and the requests
/// (URL, made by the page).
fn run_chromium(page: &Path, trap: &Trap, profile: &Path, extra: &[String]) -> (String, Vec<(String, bool)>) {
    std::fs::create_dir_all(profile).unwrap();
    let netlog = profile.join("netlog.json");
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-component-extensions-with-background-pages",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,Translate,MediaRouter",
        "--mute-audio",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--proxy-server=http://{}", trap.addr))
    // Even loopback through the proxy: nothing may be fetched from anywhere.
    .arg("--proxy-bypass-list=<-loopback>")
    .arg(format!("--log-net-log={}", netlog.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .env("HOME", profile)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let child = cmd.spawn().expect("start chromium");
    let pid = child.id();
    let start = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = loop {
        if let Ok(o) = rx.try_recv() {
            break o.expect("chromium output");
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("chromium did not finish on {} within 120 s", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(out.status.success(), "chromium failed on {}: {}", page.display(), String::from_utf8_lossy(&out.stderr));
    (String::from_utf8_lossy(&out.stdout).into_owned(), netlog_requests(&netlog))
}

/// No request of the page, and every connection that reached the trap is one of the browser's
/// own background requests (which --disable-* flags do not all silence).
fn assert_no_page_request(what: &str, requests: &[(String, bool)], trap: &Trap) {
    let page: Vec<&String> = requests.iter().filter(|(_, p)| *p).map(|(u, _)| u).collect();
    assert!(page.is_empty(), "{what}: the page requested {page:?}");
    let browser: Vec<String> = requests.iter().map(|(u, _)| host_of(u)).collect();
    for host in trap.hosts() {
        assert!(browser.contains(&host), "{what}: a connection to {host} that the NetLog does not explain");
    }
}

/// The `data-figure` elements of a DOM: name → text.
fn figures(dom: &str) -> std::collections::BTreeMap<String, String> {
    let re = regex::Regex::new(r#"data-figure="([a-z-]+)"[^>]*>([^<]*)<"#).unwrap();
    re.captures_iter(dom).map(|c| (c[1].to_string(), c[2].to_string())).collect()
}

/// Nothing in the page can load anything: no element that fetches (script, link, iframe, img…),
/// no src or srcset, no href but in-page anchors, no url() or @import in the style sheet, no
/// absolute URL in any tag but the SVG namespace name. (Text is not looked at: the report's own
/// text may say `src=`, escaped.)
fn assert_self_contained(html: &str) {
    let tags = regex::Regex::new(r"<[A-Za-z!/][^>]*>").unwrap();
    for t in tags.find_iter(html) {
        let tag = t.as_str().to_ascii_lowercase();
        for el in [
            "<script",
            "<link",
            "<iframe",
            "<frame",
            "<object",
            "<embed",
            "<img",
            "<image",
            "<use",
            "<audio",
            "<video",
            "<source",
            "<base",
            "<form",
            "<input type=\"image",
        ] {
            assert!(!tag.starts_with(el), "the HTML report holds {tag}");
        }
        for attr in [" src=", " srcset=", " data=", " action=", " poster=", " background=", "xlink:href"] {
            assert!(!tag.contains(attr), "the HTML report holds {tag}");
        }
        if let Some(i) = tag.find(" href=\"") {
            assert!(tag[i + 7..].starts_with('#'), "the HTML report links out: {tag}");
        }
        let urls = tag.matches("http://").count() + tag.matches("https://").count();
        let svg = tag.matches("xmlns=\"http://www.w3.org/2000/svg\"").count();
        assert_eq!(urls, svg, "an absolute URL in {tag}");
    }
    let style = &html[html.find("<style>").expect("a style sheet")..html.find("</style>").unwrap()];
    for needle in ["url(", "@import", "http:", "https:", "@font-face"] {
        assert!(!style.to_ascii_lowercase().contains(needle), "the style sheet holds {needle}");
    }
    assert_eq!(html.matches("<style>").count(), 1, "one style sheet");
}

/// Open the HTML report in Chromium: no connection at all, the summary's figures in the DOM, a
/// screenshot. Returns the DOM.
fn check_html(report: &Report, dir: &Path) -> String {
    let page = dir.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&html);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"), "doctype and lang");

    let trap = Trap::start();
    let (dom, requests) = run_chromium(&page, &trap, &dir.join("profile-dom"), &["--dump-dom".into()]);
    let shot = dir.join("report.png");
    let (_, shot_requests) = run_chromium(
        &page,
        &trap,
        &dir.join("profile-shot"),
        &[format!("--screenshot={}", shot.display()), "--window-size=1280,2000".into()],
    );
    std::thread::sleep(Duration::from_millis(300));
    let all: Vec<(String, bool)> = requests.into_iter().chain(shot_requests).collect();
    assert_no_page_request("the HTML report", &all, &trap);
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot: {} bytes", png.len());

    // The key figures, as the browser shows them, equal the report's summary.
    let f = figures(&dom);
    let s = &report.summary;
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let mut want = vec![
        ("verified", s.verified.to_string()),
        ("untrusted", s.untrusted.to_string()),
        ("unverified", s.unverified.to_string()),
        ("invalid", s.invalid.to_string()),
        ("unsupported", s.unsupported.to_string()),
        ("error", s.error.to_string()),
        ("unsigned", s.unsigned.to_string()),
        ("signatures", s.signatures.to_string()),
        ("errors", s.errors.to_string()),
        ("coverage-signed", pct(s.coverage.signed)),
        ("coverage-verified", pct(s.coverage.verified)),
    ];
    match (&report.images, s.images, s.files) {
        (Some(_), Some(n), _) => want.push(("images", n.to_string())),
        (_, _, Some(n)) => want.push(("files", n.to_string())),
        _ => panic!("a report of neither images nor files"),
    }
    for (k, v) in want {
        assert_eq!(f.get(k), Some(&v), "figure {k} in the DOM");
    }
    let complete = regex::Regex::new(r#"data-figure="complete" data-value="(true|false)""#).unwrap();
    assert_eq!(&complete.captures(&dom).expect("completeness shown")[1], report.scan.complete.to_string());
    // Every listed item is a row of the list, with its status.
    let rows = dom.matches("<tr data-status=").count();
    let items = report.images.as_ref().map(Vec::len).or(report.files.as_ref().map(Vec::len)).unwrap();
    assert_eq!(rows, items, "rows of the list");
    dom
}

fn scan_json(args: &[&str], dir: &Path) -> (Report, PathBuf) {
    let o = sigaudit(args);
    assert!(matches!(o.status.code(), Some(0 | 1)), "sigaudit {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    let path = dir.join("report.json");
    std::fs::write(&path, &o.stdout).unwrap();
    let report: Report = serde_json::from_slice(&o.stdout).expect("a report");
    (report, path)
}

fn sizes(written: &[(Extra, PathBuf, u64)]) -> String {
    written.iter().map(|(f, _, n)| format!("{} {n} B", f.name())).collect::<Vec<_>>().join(", ")
}

#[test]
fn a_registry_report_in_every_format_passes_its_validator() {
    let dir = outdir("registry");
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let arg = |f: &str| seeded.dir.join(f).display().to_string();
    // Some trust material, so that the report holds every kind of verdict, and a waiver, so that
    // every format shows an accepted exception.
    let (key, signer, alpine) = (arg("cosign.pub"), arg("signer.crt"), arg("alpine.crt"));
    let waivers = dir.join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\nrepository = \"apps/unsigned\"\nstatus = [\"unsigned\"]\nreason = \"mirrored <as is> & \\\"accepted\\\"\"\nowner = \"secops@example.com\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let waivers_arg = waivers.display().to_string();
    let (report, json) = scan_json(
        &[
            "registry",
            &reg.addr,
            "--plain-http",
            "-o",
            "json",
            "--key",
            &key,
            "--ca-roots",
            &signer,
            "--ca-roots",
            &alpine,
            "--fail-on",
            "invalid,unsigned",
            "--waivers",
            &waivers_arg,
        ],
        &dir,
    );
    let s = &report.summary;
    assert!(s.verified > 0 && s.invalid > 0 && s.unsigned > 0 && s.untrusted > 0, "a varied report: {s:?}");
    let waived = report.images.iter().flatten().filter(|i| i.waived.is_some()).count();
    assert!(waived > 0, "the waiver applies");
    let written = render_all(&report, &dir);
    // The waived items are marked in CSV, HTML and Prometheus too (SARIF and JUnit: check_formats.py).
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("report.{ext}"))).unwrap();
    // Columns are only added at the end: `waived`, then `keyName`.
    assert!(read("csv").lines().next().unwrap().ends_with(",waived,keyName"), "the CSV's last columns");
    assert_eq!(
        read("csv").matches("secops@example.com").count(),
        waived,
        "one CSV row per waived item without signature"
    );
    assert_eq!(read("html").matches("<strong>waived</strong>").count(), waived);
    assert!(
        read("prom").contains(&format!(
            "sigaudit_items_waived_by_status{{kind=\"registry\",target=\"{}\",status=\"unsigned\"}} {waived}",
            reg.addr
        )),
        "{}",
        read("prom")
    );
    let figures = check_with_python(&json, &dir);
    check_html(&report, &dir);
    eprintln!("registry report: {}; {figures}", sizes(&written));
}

#[test]
fn a_filesystem_report_in_every_format_passes_its_validator() {
    let dir = outdir("filesystem");
    let testdata = repo_root().join("testdata");
    let (report, json) = scan_json(&["fs", testdata.to_str().unwrap(), "-o", "json"], &dir);
    assert!(report.summary.files.unwrap() > 20, "testdata has signed files");
    let written = render_all(&report, &dir);
    let figures = check_with_python(&json, &dir);
    check_html(&report, &dir);
    eprintln!("filesystem report: {}; {figures}", sizes(&written));
}

/// The key that verified each signature, by its fingerprint and the config's `[[keys]]` name, in
/// every format: images signed with two named cosign keys (scripts/seed_rotation.py, the seeder
/// tests/rotation.rs uses), one signature outside its key's window (untrusted, so that SARIF and
/// JUnit, which list findings, show it too). `openssl pkey -pubin -outform DER | sha256` gives
/// the fingerprint independently.
#[test]
fn the_verifying_key_is_named_in_every_format() {
    let dir = outdir("key-names");
    let reg = Registry::distribution(100);
    let out = dir.join("rotation");
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(&python)
        .arg(repo_root().join("scripts/seed_rotation.py"))
        .args(["--registry", &reg.addr, "--out"])
        .arg(&out)
        .output()
        .expect("python3 (apt-get install python3-cryptography)");
    assert!(o.status.success(), "seed_rotation.py: {}", String::from_utf8_lossy(&o.stderr));
    let fingerprint = |key: &str| {
        let der = Command::new("openssl")
            .args(["pkey", "-pubin", "-outform", "DER", "-in"])
            .arg(out.join(format!("{key}.pub")))
            .output()
            .expect("openssl (./scripts/setup.sh installs it)");
        assert!(der.status.success());
        let o = Command::new("openssl")
            .args(["dgst", "-sha256", "-r"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn();
        let mut child = o.unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), &der.stdout).unwrap();
        let o = child.wait_with_output().unwrap();
        String::from_utf8(o.stdout).unwrap().split_whitespace().next().unwrap().to_string()
    };
    let (old, new) = (fingerprint("old"), fingerprint("new"));
    let config = out.join("keys.toml");
    std::fs::write(
        &config,
        "trusted-root = [\"trusted_root.json\"]\n[[keys]]\npath = \"old.pub\"\nname = \"release-2025\"\n\
         not-after = 2025-12-31T23:59:59Z\n[[keys]]\npath = \"new.pub\"\nname = \"release-2026\"\n",
    )
    .unwrap();
    let target = format!("{}/rotation", reg.addr);
    let (report, json) = scan_json(
        &[
            "registry",
            &target,
            "--plain-http",
            "-o",
            "json",
            "--config",
            config.to_str().unwrap(),
            "--at",
            "2026-03-01T00:00:00Z",
        ],
        &dir,
    );
    let signer = |repo: &str| {
        let i = report.images.iter().flatten().find(|i| i.repository == repo).unwrap();
        (i.status.as_str(), i.signatures[0].signer.clone().unwrap())
    };
    let (status, s) = signer("rotation/old-late");
    assert_eq!(status, "untrusted", "logged after the old key's window");
    assert_eq!((s.key_id.as_deref(), s.key_name.as_deref()), (Some(old.as_str()), Some("release-2025")));
    let (status, s) = signer("rotation/new-bare");
    assert_eq!(status, "verified");
    assert_eq!((s.key_id.as_deref(), s.key_name.as_deref()), (Some(new.as_str()), Some("release-2026")));

    render_all(&report, &dir);
    // The validators compare every CSV row's signer, keyId and keyName and every SARIF
    // signature's keyId and keyName with the JSON report.
    check_with_python(&json, &dir);
    let read = |ext: &str| std::fs::read_to_string(dir.join(format!("report.{ext}"))).unwrap();
    let csv = read("csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let (id_col, name_col) =
        (header.iter().position(|c| *c == "keyId").unwrap(), header.iter().position(|c| *c == "keyName").unwrap());
    let row = csv.lines().find(|l| l.contains("rotation/old-late")).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!((cells[id_col], cells[name_col]), (old.as_str(), "release-2025"), "{row}");
    assert!(cells.contains(&format!("key {} (release-2025)", &old[..16]).as_str()), "the signer column: {row}");

    let sarif: serde_json::Value = serde_json::from_str(&read("sarif")).unwrap();
    let late = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["properties"]["repository"] == "rotation/old-late")
        .expect("a SARIF result for the untrusted image");
    let sig = &late["properties"]["signatures"][0];
    assert_eq!((sig["keyId"].as_str(), sig["keyName"].as_str()), (Some(old.as_str()), Some("release-2025")));
    assert!(late["message"]["text"].as_str().unwrap().contains("(release-2025)"), "{late}");

    let dom = check_html(&report, &dir);
    for (id, name) in [(&old, "release-2025"), (&new, "release-2026")] {
        assert!(dom.contains(&format!("key id: <code>{id}</code>")), "HTML: key id {id}");
        assert!(dom.contains(&format!("key name: <span class=\"wrap\">{name}</span>")), "HTML: key name {name}");
    }
    assert!(read("xml").contains(&format!("key {} (release-2025)", &old[..16])), "JUnit names the key");
}

/// Text a registry, a payload or a certificate may hold, aimed at each format's syntax.
const HOSTILE: &str = "<script>alert(\"x\")</script> & 'quoted', \"double\"\r\nnew line, comma; =HYPERLINK(\"http://evil.example\") \\ back\\slash }{ \u{1}\u{7f}\u{85}";

/// A report whose every text field is hostile: repository, tags, signer, reasons, errors, notes.
fn hostile_registry_report() -> serde_json::Value {
    let sig = |status: &str, subject: &str| {
        serde_json::json!({
            "format": "cosign", "envelope": "simplesigning", "kind": "signature", "discovery": "tag",
            "manifestDigest": format!("sha256:{}", "a".repeat(64)),
            "verification": {"status": status, "reasons": [format!("reason one {HOSTILE}"), "=1+1".to_string(), "-2".to_string()]},
            "signer": {"subject": subject, "issuer": HOSTILE, "san": [format!("email:{HOSTILE}")], "sha256": "0".repeat(64)},
            "dockerReference": HOSTILE,
        })
    };
    let image = |repo: &str, tag: &str, status: &str, sigs: Vec<serde_json::Value>| {
        serde_json::json!({
            "registry": format!("reg.example:5000"), "repository": repo, "tags": [tag],
            "digest": format!("sha256:{}", "b".repeat(64)), "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "status": status, "signatures": sigs,
        })
    };
    let repo = format!("evil<script>/{HOSTILE}");
    serde_json::json!({
        "schema": "sigaudit.report/v1",
        "tool": {"name": "sigaudit", "version": "0.1.0"},
        "scan": {"kind": "registry", "target": format!("reg.example:5000/{HOSTILE}"), "startedAt": "2026-01-01T00:00:00Z",
                 "finishedAt": "2026-01-01T00:02:03.5Z", "complete": false},
        "summary": {"repositories": 2, "tags": 3, "images": 3, "signatures": 2, "verified": 0, "untrusted": 1, "unverified": 0,
                    "invalid": 1, "unsupported": 0, "unsigned": 1, "error": 0, "errors": 1, "orphans": 0, "notes": 1,
                    "coverage": {"signed": 0.667, "verified": 0.0}},
        "images": [
            image(&repo, "v1", "invalid", vec![sig("invalid", &format!("CN={HOSTILE}, O=\"><img src=x onerror=alert(1)>"))]),
            image(&repo, "v2", "unsigned", vec![]),
            image("\"quoted\"/app", "=cmd", "untrusted", vec![sig("untrusted", "CN=a,b\"c")]),
        ],
        "orphans": [],
        "errors": [{"registry": "reg.example:5000", "repository": repo, "reference": HOSTILE, "code": "manifest-error",
                    "message": format!("GET failed: {HOSTILE}")}],
        "notes": [{"registry": "reg.example:5000", "path": HOSTILE, "code": "empty-repository", "message": HOSTILE}],
    })
}

fn hostile_fs_report() -> serde_json::Value {
    serde_json::json!({
        "schema": "sigaudit.report/v1",
        "tool": {"name": "sigaudit", "version": "0.1.0"},
        "scan": {"kind": "filesystem", "target": [HOSTILE], "startedAt": "2026-01-01T00:00:00Z",
                 "finishedAt": "2026-01-01T00:00:01Z", "complete": true},
        "summary": {"files": 2, "skipped": 0, "signatures": 1, "verified": 0, "untrusted": 0, "unverified": 0, "invalid": 1,
                    "unsupported": 0, "unsigned": 1, "error": 0, "errors": 0, "coverage": {"signed": 0.5, "verified": 0.0}},
        "files": [
            {"path": format!("/scan/{HOSTILE}/app.exe"), "type": "pe", "sha256": "c".repeat(64), "size": 10, "status": "invalid",
             "signatures": [{"format": "authenticode", "index": HOSTILE, "verification": {"status": "invalid", "reasons": [HOSTILE]},
                             "signer": {"subject": format!("CN={HOSTILE}")},
                             "countersigner": {"subject": HOSTILE, "sha256": "d".repeat(64), "kind": "pkcs9"}}],
             "notes": [HOSTILE]},
            {"path": format!("-rm -rf {HOSTILE}"), "type": "jar", "sha256": "e".repeat(64), "size": 1, "status": "unsigned", "signatures": []},
        ],
        "errors": [],
        "notes": [],
    })
}

#[test]
fn hostile_text_comes_out_inert_in_every_format() {
    let tags = regex::Regex::new(r"<[A-Za-z][^>]*>").unwrap();
    let handler = regex::Regex::new(r#"(?i)\son[a-z]+\s*="#).unwrap();
    for (name, value) in [("hostile-registry", hostile_registry_report()), ("hostile-filesystem", hostile_fs_report())]
    {
        let dir = outdir(name);
        let json = dir.join("report.json");
        std::fs::write(&json, serde_json::to_vec_pretty(&value).unwrap()).unwrap();
        let report: Report = serde_json::from_value(value).unwrap();
        render_all(&report, &dir);
        // Quoted (CSV), escaped (XML), valid label values (Prometheus), and every text back as it
        // went in: the validators read them.
        check_with_python(&json, &dir);

        // HTML: the text is shown, never parsed into elements.
        let dom = check_html(&report, &dir);
        for t in tags.find_iter(&dom) {
            let tag = t.as_str().to_ascii_lowercase();
            assert!(!tag.starts_with("<script") && !tag.starts_with("<img"), "{name}: {tag} in the DOM");
            assert!(!handler.is_match(&tag), "{name}: an event handler attribute in {tag}");
        }
        assert!(dom.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt;"), "{name}: the hostile text is shown as text");
        let csv = std::fs::read_to_string(dir.join("report.csv")).unwrap();
        assert!(
            !csv.contains("\n=") && !csv.contains(",=") && !csv.contains(",-"),
            "{name}: a CSV field may start a formula"
        );
    }
}

#[test]
fn the_network_checks_see_a_page_that_loads_something() {
    // The proof that check_html's "no request" means something: a page with an external image
    // and style sheet is caught by the NetLog and by the trap.
    let dir = outdir("trap-control");
    let page = dir.join("external.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html lang=\"en\"><title>x</title><link rel=\"stylesheet\" href=\"https://style.invalid/x.css\">\
         <img src=\"http://pixel.invalid/p.png\" alt=\"\">",
    )
    .unwrap();
    let trap = Trap::start();
    let (_, requests) = run_chromium(&page, &trap, &dir.join("profile"), &["--dump-dom".into()]);
    let page_requests: Vec<&str> = requests.iter().filter(|(_, p)| *p).map(|(u, _)| u.as_str()).collect();
    assert!(page_requests.contains(&"http://pixel.invalid/p.png"), "the NetLog saw {requests:?}");
    assert!(page_requests.contains(&"https://style.invalid/x.css"), "the NetLog saw {requests:?}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !trap.hosts().contains(&"pixel.invalid".to_string()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(trap.hosts().contains(&"pixel.invalid".to_string()), "the trap saw {:?}", trap.hosts());
}

/// testdata/k8s/pods.json.tmpl with the registry's address and the seeded digests (as
/// tests/cluster.rs fills it).
fn pods_file(dir: &Path, reg: &str, seeded: &common::Seeded) -> PathBuf {
    let mut text =
        std::fs::read_to_string(repo_root().join("testdata/k8s/pods.json.tmpl")).unwrap().replace("{{REGISTRY}}", reg);
    while let Some(start) = text.find("{{DIGEST ") {
        let end = start + text[start..].find("}}").expect("closed placeholder");
        let (repo, tag) = text[start + 9..end].split_once(':').expect("REPO:TAG");
        let digest = seeded.digest(repo, tag);
        text.replace_range(start..end + 2, &digest);
    }
    assert!(!text.contains("{{"), "a placeholder is left");
    let path = dir.join("pods.json");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_cluster_report_in_every_format_passes_its_validator() {
    let dir = outdir("cluster");
    let reg = Registry::distribution(100);
    let seeded = reg.seed(false);
    let pods = pods_file(&dir, &reg.addr, &seeded);
    let key = seeded.dir.join("cosign.pub").display().to_string();
    // A waiver for an unsigned image, so that a waived container shows in every format.
    let waivers = dir.join("waivers.toml");
    std::fs::write(
        &waivers,
        "[[waiver]]\nrepository = \"apps/unsigned\"\nstatus = [\"unsigned\"]\nreason = \"debug <image> & \\\"tools\\\"\"\nowner = \"sre@example.com\"\nexpires = 2999-01-01\n",
    )
    .unwrap();
    let (report, json) = scan_json(
        &[
            "cluster",
            "--pods-file",
            pods.to_str().unwrap(),
            "--plain-http",
            "-o",
            "json",
            "--key",
            &key,
            "--fail-on",
            "invalid,unsigned,error",
            "--waivers",
            waivers.to_str().unwrap(),
        ],
        &dir,
    );
    let workloads = report.workloads.as_ref().expect("a cluster report lists workloads");
    let ws = report.summary.workloads.as_ref().unwrap();
    assert!(
        ws.by_status.len() >= 2 && ws.digest_unknown > 0 && workloads.iter().any(|w| w.waived),
        "a varied cluster: {ws:?}"
    );
    let written = render_all(&report, &dir);
    let checked = check_with_python(&json, &dir);
    assert_eq!(checked["junit_container_cases"], workloads.len(), "{checked}");
    let not_verified = workloads.iter().filter(|w| w.status.is_some_and(|s| s != sigaudit::report::Status::Verified));
    assert_eq!(checked["sarif_container_results"], not_verified.count(), "{checked}");
    let dom = check_html(&report, &dir);
    // Every container is a row of the Workloads section, its figures as the summary says.
    assert_eq!(dom.matches("<tr data-container-status=").count(), workloads.len(), "container rows");
    let f = figures(&dom);
    for (k, v) in [
        ("workload-pods", ws.pods),
        ("workload-containers", ws.containers),
        ("workload-digest-unknown", ws.digest_unknown),
        ("workload-drifted", ws.drifted),
    ] {
        assert_eq!(f.get(k), Some(&v.to_string()), "figure {k} in the DOM");
    }
    let unknown = dom.matches("<tr data-container-status=\"none\">").count() as u64;
    assert_eq!(unknown, ws.digest_unknown, "containers without a digest have no status, never unsigned");
    eprintln!("cluster report: {}; {checked}", sizes(&written));
}
