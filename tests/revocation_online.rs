//! Online revocation (`--revocation online`): a throw-away PKI run by `openssl ca`
//! (scripts/make_online_revocation_fixtures.sh) whose certificates name OCSP responders and CRL
//! distribution points on 127.0.0.1 ports this test allocates; real `openssl ocsp -index`
//! responders answer (the issuing CA's delegated responder, the root itself, and two responders
//! that are not authorised), python's http.server serves the CRLs `openssl ca -gencrl` made, a
//! listener that never answers and a closed port stand for unreachable responders. PE files
//! signed by the leaves with osslsigncode are scanned by `sigaudit fs`, and every verdict is set
//! beside `openssl ocsp -url` (OCSP), `openssl verify -crl_check -crl_download` /
//! `-crl_check_all` (CRLs) or `osslsigncode verify -CRLfile` on the same certificates.
//!
//! Two parts are not real servers, and say so: a replaying attacker (a few lines of python's
//! http.server answering every request with the bytes the test chose: answers captured from the
//! real responder, altered, or made by scripts/ocsp_response.py with Python `cryptography` as the
//! scripted responder for dates `openssl ocsp` will not produce), and the listener that never
//! answers. The servers run under a small shell watchdog that ends them when this test process
//! is gone. (`openssl ocsp -port` listens on every interface; nothing here talks to anything
//! but 127.0.0.1.)

mod common;

use common::{sigaudit, stdout_json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{OnceLock, RwLock};
use std::time::{Duration, Instant};

struct World {
    dir: tempfile::TempDir,
    crl: String,
    ocsp_ica: String,
    ocsp_unauth: String,
    ocsp_other: String,
    refused: String,
    hang: String,
    replay: String,
    /// Held open, never accepting: a responder that never answers.
    _hang: TcpListener,
    /// The servers' watchdogs (they end with this process).
    _servers: Vec<std::process::Child>,
}

/// The cache test counts requests in the servers' logs: it runs alone.
static LOGS: RwLock<()> = RwLock::new(());

fn port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Run `args` in `dir` with stdout and stderr to `log`, ended when this process ends (and then
/// `remove` removed: the fixtures of a static world are never dropped).
fn serve_then_remove(dir: &Path, log: &Path, args: &[&str], remove: Option<&Path>) -> std::process::Child {
    let cleanup = remove.map(|r| format!("; sleep 1; rm -rf '{}'", r.display())).unwrap_or_default();
    let script = format!(
        r#""$@" >'{}' 2>&1 & c=$!; while kill -0 {} 2>/dev/null && kill -0 $c 2>/dev/null; do sleep 0.5; done; kill $c 2>/dev/null{cleanup}"#,
        log.display(),
        std::process::id()
    );
    Command::new("sh").arg("-c").arg(script).arg("sh").args(args).current_dir(dir).spawn().expect("start a server")
}

fn serve(dir: &Path, log: &Path, args: &[&str]) -> std::process::Child {
    serve_then_remove(dir, log, args, None)
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let (c, i, r, u, o, f) = (port(), port(), port(), port(), port(), port());
        let hang = TcpListener::bind("127.0.0.1:0").unwrap();
        let replay = port();
        let url = |p: u16| format!("http://127.0.0.1:{p}");
        let mut w = World {
            crl: url(c),
            ocsp_ica: url(i),
            ocsp_unauth: url(u),
            ocsp_other: url(o),
            refused: url(f),
            hang: url(hang.local_addr().unwrap().port()),
            replay: url(replay),
            _hang: hang,
            _servers: Vec::new(),
            dir,
        };
        let out = Command::new(common::repo_root().join("scripts/make_online_revocation_fixtures.sh"))
            .arg(w.dir.path())
            .env("CRL_URL", &w.crl)
            .env("OCSP_ICA", &w.ocsp_ica)
            .env("OCSP_ROOT", url(r))
            .env("OCSP_UNAUTH", &w.ocsp_unauth)
            .env("OCSP_OTHER", &w.ocsp_other)
            .env("OCSP_REFUSED", &w.refused)
            .env("OCSP_HANG", &w.hang)
            .env("OCSP_REPLAY", &w.replay)
            .output()
            .expect("run scripts/make_online_revocation_fixtures.sh");
        assert!(out.status.success(), "make_online_revocation_fixtures.sh: {}", String::from_utf8_lossy(&out.stderr));
        let pki = w.dir.path().join("pki");
        let logs = w.dir.path();
        let c = c.to_string();
        let mut servers = vec![];
        let http = ["python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory", "www", &c];
        servers.push(serve_then_remove(&pki, &logs.join("crl.log"), &http, Some(logs)));
        for (p, index, signer, ca, log) in [
            (i, "ica/index.txt", "ocsp", "ica", "ocsp-ica.log"),
            (r, "root/index.txt", "root", "root", "ocsp-root.log"),
            (u, "ica/index.txt", "badresp", "ica", "ocsp-unauth.log"),
            (o, "ica/index.txt", "otherresp", "ica", "ocsp-other.log"),
        ] {
            let (p, crt, key, ca) = (p.to_string(), format!("{signer}.crt"), format!("{signer}.key"), format!("{ca}.crt"));
            #[rustfmt::skip]
            let args = ["openssl", "ocsp", "-index", index, "-port", &p, "-rsigner", &crt, "-rkey", &key, "-CA", &ca, "-ndays", "1"];
            servers.push(serve(&pki, &logs.join(log), &args));
        }
        // The replaying attacker: answers every request with the bytes of replay.der (what the
        // test put there: answers captured from the real responder, replayed or altered).
        let replayer = format!(
            r#"import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        body = open("replay.der", "rb").read()
        self.send_response(200); self.send_header("Content-Type", "application/ocsp-response")
        self.send_header("Content-Length", str(len(body))); self.end_headers(); self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", {replay}), H).serve_forever()"#
        );
        servers.push(serve(logs, &logs.join("replay.log"), &["python3", "-c", &replayer]));
        w._servers = servers;
        common::wait_port(&format!("127.0.0.1:{replay}"));
        common::wait_port(&format!("127.0.0.1:{c}"));
        // Not probed by connecting: `openssl ocsp` (3.0) stalls for good on a connection closed
        // without a request. It says when it listens.
        let deadline = Instant::now() + Duration::from_secs(20);
        for log in ["ocsp-ica.log", "ocsp-root.log", "ocsp-unauth.log", "ocsp-other.log"] {
            while !std::fs::read_to_string(logs.join(log)).unwrap_or_default().contains("waiting for OCSP client") {
                assert!(Instant::now() < deadline, "openssl ocsp did not start: {log}");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        w
    })
}

fn pki(name: &str) -> PathBuf {
    world().dir.path().join("pki").join(name)
}

/// Our verdict on one PE with `--revocation online` (and `extra`): status, reason codes, reasons.
fn scan(file: &str, extra: &[&str]) -> (String, Vec<String>, String) {
    let pe = world().dir.path().join("pe").join(file);
    let mut args: Vec<String> = vec!["fs".into(), pe.display().to_string(), "-o".into(), "json".into()];
    args.extend(["--ca-roots".into(), pki("root.crt").display().to_string(), "--revocation".into(), "online".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = sigaudit(&args);
    let report = stdout_json(&o);
    common::assert_reason_codes(&report);
    let v = &report["files"][0]["signatures"][0]["verification"];
    let codes = v["reasonCodes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    (v["status"].as_str().unwrap().to_string(), codes, v["reasons"].to_string())
}

fn run(c: &mut Command) -> (bool, String) {
    let o = c.output().expect("openssl / osslsigncode (./scripts/setup.sh installs them)");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// `openssl ocsp` asking `url` about `leaf` (issued by the issuing CA), the root trusted: its
/// output (the status line and whether the response verified).
fn openssl_ocsp(leaf: &str, url: &str) -> String {
    let mut c = Command::new("openssl");
    c.args(["ocsp", "-timeout", "3", "-issuer"]).arg(pki("ica.crt")).arg("-cert").arg(pki(&format!("{leaf}.crt")));
    c.args(["-url", url, "-CAfile"]).arg(pki("root.crt")).arg("-verify_other").arg(pki("ica.crt"));
    run(&mut c).1
}

/// `openssl verify -crl_check -crl_download` on `leaf`: the leaf's CRL downloaded from its
/// distribution point by openssl itself. Ok or the error text.
fn openssl_crl_download(leaf: &str) -> Result<(), String> {
    let mut c = Command::new("openssl");
    c.args(["verify", "-crl_check", "-crl_download", "-purpose", "any", "-CAfile"]).arg(pki("root.crt"));
    c.arg("-untrusted").arg(pki("ica.crt")).arg(pki(&format!("{leaf}.crt")));
    match run(&mut c) {
        (true, _) => Ok(()),
        (false, e) => Err(e),
    }
}

/// `openssl verify -crl_check_all` on `leaf` with the root's CRL and `ica_crl` (the files the
/// distribution points serve).
fn openssl_crl_all(leaf: &str, ica_crl: &str) -> Result<(), String> {
    let mut c = Command::new("openssl");
    c.args(["verify", "-crl_check_all", "-purpose", "any", "-CAfile"]).arg(pki("root.crt"));
    c.arg("-untrusted").arg(pki("ica.crt")).arg("-CRLfile").arg(pki("root.crl")).arg("-CRLfile").arg(pki(ica_crl));
    match run(c.arg(pki(&format!("{leaf}.crt")))) {
        (true, _) => Ok(()),
        (false, e) => Err(e),
    }
}

#[test]
fn good_by_ocsp_and_by_crl_distribution_point() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    let (status, codes, reasons) = scan("good.exe", &[]);
    assert_eq!(status, "verified", "{reasons}");
    assert_eq!(codes, ["chain-anchored", "revocation-good", "revocation-good"], "leaf by OCSP, issuing CA by CRL");
    assert!(
        reasons.contains(&format!("OCSP responder {}", w.ocsp_ica)) && reasons.contains("answers good"),
        "{reasons}"
    );
    assert!(reasons.contains("a delegated responder"), "{reasons}");
    assert!(reasons.contains(&format!("CRL fetched from {}/root.crl", w.crl)), "{reasons}");
    let openssl = openssl_ocsp("good", &w.ocsp_ica);
    assert!(openssl.contains("Response verify OK") && openssl.contains("good.crt: good"), "{openssl}");

    let (status, codes, reasons) = scan("crlgood.exe", &[]);
    assert_eq!((status.as_str(), codes.len()), ("verified", 3), "{reasons}");
    assert!(reasons.contains(&format!("CRL fetched from {}/ica.crl", w.crl)), "{reasons}");
    assert_eq!(openssl_crl_download("crlgood"), Ok(()));
    assert_eq!(openssl_crl_all("crlgood", "ica.crl"), Ok(()));
    let (ok, text) = run(Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(pki("root.crt"))
        .arg("-CRLfile")
        .arg(crl_bundle())
        .arg("-in")
        .arg(world().dir.path().join("pe/crlgood.exe")));
    assert!(ok && text.contains("Succeeded"), "osslsigncode: {text}");
}

/// root.crl and ica.crl in one PEM file (osslsigncode's -CRLfile).
fn crl_bundle() -> PathBuf {
    let path = world().dir.path().join("crls.pem");
    if !path.exists() {
        let all = [std::fs::read(pki("root.crl")).unwrap(), std::fs::read(pki("ica.crl")).unwrap()].concat();
        std::fs::write(&path, all).unwrap();
    }
    path
}

#[test]
fn revoked_by_ocsp_and_by_crl() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    // keyCompromise: invalid, timestamped or not.
    for file in ["kc.exe", "kc-ts.exe"] {
        let (status, codes, reasons) = scan(file, &[]);
        assert_eq!(status, "invalid", "{file}: {reasons}");
        assert!(codes.contains(&"cert-revoked".to_string()), "{file}: {codes:?}");
        assert!(reasons.contains("keyCompromise") && reasons.contains(&format!("by OCSP responder {}", w.ocsp_ica)));
    }
    let openssl = openssl_ocsp("kc", &w.ocsp_ica);
    assert!(openssl.contains("kc.crt: revoked") && openssl.contains("keyCompromise"), "{openssl}");
    // superseded: revoked before the time it is judged at (now, no timestamp): invalid; signed
    // and timestamped before the revocation: it stands, with a note.
    let (status, codes, reasons) = scan("sup.exe", &[]);
    assert_eq!((status.as_str(), codes.as_slice()), ("invalid", &["cert-revoked".to_string()][..]), "{reasons}");
    assert!(reasons.contains("superseded"), "{reasons}");
    let (status, codes, reasons) = scan("sup-ts.exe", &[]);
    assert_eq!(status, "verified", "{reasons}");
    assert_eq!(codes, ["timestamp-verified", "chain-anchored", "revoked-after-signing", "revocation-good"]);
    let openssl = openssl_ocsp("sup", &w.ocsp_ica);
    assert!(openssl.contains("sup.crt: revoked") && openssl.contains("superseded"), "{openssl}");
    // By the CRL of the distribution point.
    let (status, codes, reasons) = scan("crlkc.exe", &[]);
    assert_eq!((status.as_str(), codes.as_slice()), ("invalid", &["cert-revoked".to_string()][..]), "{reasons}");
    assert!(reasons.contains(&format!("CRL fetched from {}/ica.crl", w.crl)), "{reasons}");
    assert!(openssl_crl_download("crlkc").unwrap_err().contains("certificate revoked"));
    assert!(openssl_crl_all("crlkc", "ica.crl").unwrap_err().contains("certificate revoked"));
    let (ok, text) = run(Command::new("osslsigncode")
        .args(["verify", "-CAfile"])
        .arg(pki("root.crt"))
        .arg("-CRLfile")
        .arg(crl_bundle())
        .arg("-in")
        .arg(world().dir.path().join("pe/crlkc.exe")));
    assert!(!ok && text.contains("certificate revoked"), "osslsigncode: {text}");
}

/// Sources that cannot settle the status: unknown (a note; `untrusted` with `require`).
fn assert_unknown(file: &str, we_say: &str) {
    let (status, codes, reasons) = scan(file, &[]);
    assert_eq!(status, "verified", "{file}: {reasons}");
    assert_eq!(codes, ["chain-anchored", "revocation-unknown", "revocation-good"], "{file}: {reasons}");
    assert!(reasons.contains(we_say), "{file}: {reasons}");
    let (status, codes, reasons) = scan(file, &["--revocation", "require"]);
    assert_eq!((status.as_str(), codes.as_slice()), ("untrusted", &["revocation-unknown".to_string()][..]), "{file}");
    assert!(reasons.contains("--revocation require") && reasons.contains(we_say), "{file}: {reasons}");
}

#[test]
fn ocsp_unknown() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    assert_unknown("unk.exe", &format!("OCSP responder {} answers unknown", w.ocsp_ica));
    let openssl = openssl_ocsp("unk", &w.ocsp_ica);
    assert!(openssl.contains("Response verify OK") && openssl.contains("unk.crt: unknown"), "{openssl}");
}

#[test]
fn expired_crl_and_crl_signed_by_another_key() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    assert_unknown("expired.exe", &format!("CRL {}/ica-expired.crl expired (nextUpdate", w.crl));
    assert!(openssl_crl_download("expired").unwrap_err().contains("CRL has expired"));
    assert!(openssl_crl_all("expired", "ica-expired.crl").unwrap_err().contains("CRL has expired"));
    assert_unknown("wrongkey.exe", &format!("CRL {}/ica-forged.crl is not signed by", w.crl));
    assert!(openssl_crl_download("wrongkey").unwrap_err().contains("CRL signature failure"));
}

#[test]
fn responder_not_authorised() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    // A responder certificate of the issuing CA without id-kp-OCSPSigning.
    assert_unknown("unauth.exe", "does not carry id-kp-OCSPSigning");
    let openssl = openssl_ocsp("unauth", &w.ocsp_unauth);
    assert!(openssl.contains("Response Verify Failure") && openssl.contains("missing ocspsigning usage"), "{openssl}");
    // A responder with id-kp-OCSPSigning, but certified by the root, not by the issuing CA.
    assert_unknown("other.exe", "is not issued by the certificate's issuer");
    let openssl = openssl_ocsp("other", &w.ocsp_other);
    assert!(openssl.contains("Response Verify Failure"), "{openssl}");
}

#[test]
fn unreachable_sources_are_unknown_and_bounded() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    assert_unknown("refused.exe", &format!("OCSP responder {}", w.refused));
    let (_, _, reasons) = scan("refused.exe", &[]);
    assert!(reasons.contains("Connection refused"), "{reasons}");
    let openssl = openssl_ocsp("refused", &w.refused);
    assert!(openssl.contains("Error querying OCSP responder"), "{openssl}");

    let started = Instant::now();
    let (status, codes, reasons) = scan("hang.exe", &["--revocation-timeout", "1"]);
    let took = started.elapsed();
    assert_eq!((status.as_str(), codes[1].as_str()), ("verified", "revocation-unknown"), "{reasons}");
    assert!(reasons.contains(&format!("OCSP responder {}: no answer within 1 s", w.hang)), "{reasons}");
    assert!(took < Duration::from_secs(8), "a responder that never answers held the scan {took:?}");
    let openssl = openssl_ocsp("hang", &w.hang);
    assert!(openssl.contains("Error querying OCSP responder") && openssl.contains("timeout"), "{openssl}");

    assert_unknown("ldap.exe", "not fetched: only http and https are fetched, not ldap:");
}

#[test]
fn one_fetch_per_url_and_certificate_per_scan() {
    let _g = LOGS.write().unwrap_or_else(|e| e.into_inner());
    let w = world();
    let logs = w.dir.path();
    let count =
        |log: &str, what: &str| std::fs::read_to_string(logs.join(log)).unwrap_or_default().matches(what).count();
    let before = (count("crl.log", "GET /root.crl"), count("crl.log", "GET /ica.crl"));
    let before_ocsp = count("ocsp-ica.log", "Received request");
    // Every file of the directory in one scan: the issuing CA is checked for each of them.
    let o = sigaudit([
        "fs",
        &w.dir.path().join("pe").display().to_string(),
        "-o",
        "json",
        "--ca-roots",
        &pki("root.crt").display().to_string(),
        "--revocation",
        "online",
        "--revocation-timeout",
        "1",
    ]);
    let report = stdout_json(&o);
    assert_eq!(report["scan"]["settings"]["revocation"], serde_json::json!(["online"]));
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), 17);
    let status = |name: &str| -> String {
        let f = files.iter().find(|f| f["path"].as_str().unwrap().ends_with(&format!("/{name}"))).unwrap();
        f["signatures"][0]["verification"]["status"].as_str().unwrap().to_string()
    };
    for (name, want) in [("good.exe", "verified"), ("good-copy.exe", "verified"), ("kc.exe", "invalid")] {
        assert_eq!(status(name), want, "{name}");
    }
    std::thread::sleep(Duration::from_millis(300));
    let after = (count("crl.log", "GET /root.crl"), count("crl.log", "GET /ica.crl"));
    assert_eq!((after.0 - before.0, after.1 - before.1), (1, 1), "one download per CRL URL per scan");
    // good, kc, sup and unk are asked about once each (good-copy, kc-ts, sup-ts are the same
    // certificates): 4 requests to the issuing CA's responder.
    assert_eq!(count("ocsp-ica.log", "Received request") - before_ocsp, 4, "one OCSP request per certificate");

    // What the --crl files settle is not asked about online.
    let gets = count("crl.log", "GET /");
    let (ica, root) = (pki("ica.crl"), pki("root.crl"));
    let (status, codes, reasons) = scan("good.exe", &["--crl", ica.to_str().unwrap(), "--crl", root.to_str().unwrap()]);
    assert_eq!((status.as_str(), codes.len()), ("verified", 3), "{reasons}");
    assert!(reasons.contains(&format!("CRL {}", ica.display())) && !reasons.contains("OCSP"), "{reasons}");
    std::thread::sleep(Duration::from_millis(300));
    let log = std::fs::read_to_string(logs.join("crl.log")).unwrap_or_default();
    let now = (count("crl.log", "GET /"), count("ocsp-ica.log", "Received request"));
    assert_eq!(now, (gets, before_ocsp + 4), "nothing fetched: {log}");
}

#[test]
fn online_revocation_is_opt_in() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    let pe = w.dir.path().join("pe/kc.exe");
    let o =
        sigaudit(["fs", &pe.display().to_string(), "-o", "json", "--ca-roots", &pki("root.crt").display().to_string()]);
    let report = stdout_json(&o);
    let v = &report["files"][0]["signatures"][0]["verification"];
    assert_eq!(v["status"], "verified", "revocation is opt-in: {v}");
    assert_eq!(v["reasonCodes"], serde_json::json!(["chain-anchored"]));
}

/// Notary Project signatures (JWS envelopes signed with the PKI's keys by scripts/notary_jws.py)
/// under a notation trust policy whose store holds the root, revocation checked online: the
/// policy's `revocation` check as notation makes it (OCSP first, then CRL distribution points):
/// a revoked signer fails it (`invalid` under `strict`, logged under `permissive`: not
/// verified), an unknown status fails it too under `strict`, and a certificate that names no
/// OCSP responder and no CRL distribution point is "not revocable", which notation lets pass.
#[test]
fn notation_policies_judge_online_revocation_by_their_level() {
    use sigaudit::notation_trust::NotationTrust;
    use sigaudit::pki::{online::Online, revocation::Revocation};
    use sigaudit::report::Verdict;
    use sigaudit::signature::{notation::check_envelope, Subject};
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let dir = world().dir.path().join("notation");
    let store = dir.join("store/x509/ca/online");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::copy(pki("root.crt"), store.join("root.crt")).unwrap();
    let subject = Subject {
        digest: sigaudit::oci::Digest::parse(&format!("sha256:{}", "cd".repeat(32))).unwrap(),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        size: 4321,
    };
    let envelope = |leaf: &str| -> Vec<u8> {
        let out = dir.join(format!("{leaf}.jws"));
        let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let o = Command::new(python)
            .arg(common::repo_root().join("scripts/notary_jws.py"))
            .args([pki(&format!("{leaf}.key")), pki(&format!("{leaf}.crt")), pki("ica.crt"), pki("root.crt")])
            .args(["--digest", subject.digest.as_str(), "--size", &subject.size.to_string(), "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert!(o.status.success(), "notary_jws.py: {}", String::from_utf8_lossy(&o.stderr));
        std::fs::read(out).unwrap()
    };
    let now = chrono::Utc::now().timestamp();
    let judge = |leaf: &str, level: &str| -> (Verdict, Vec<String>, String) {
        let policy = format!(
            r#"{{"version":"1.0","trustPolicies":[{{"name":"p","registryScopes":["*"],
            "signatureVerification":{{"level":"{level}"}},"trustStores":["ca:online"],"trustedIdentities":["*"]}}]}}"#
        );
        let nt = NotationTrust::load(&policy, "test policy", &dir.join("store")).unwrap();
        let online = Online::new(Duration::from_secs(2)).unwrap();
        let rev = Revocation { now, online: Some(std::sync::Arc::new(online)), ..Revocation::default() };
        let trust = sigaudit::trust::Trust {
            notation: Some(std::sync::Arc::new(nt)),
            now,
            revocation: rev,
            ..Default::default()
        };
        let bytes = envelope(leaf);
        let c = check_envelope(sigaudit::oci::JOSE, &bytes, &Default::default(), &subject, "r/x", &trust, now);
        let text = c.reasons.iter().map(|r| r.text.clone()).collect::<Vec<_>>().join(" | ");
        (c.verdict, c.reasons.iter().map(|r| r.code.as_str().to_string()).collect(), text)
    };
    let (v, codes, text) = judge("good", "strict");
    assert_eq!(v, Verdict::Verified, "{text}");
    assert_eq!(codes.iter().filter(|c| *c == "revocation-good").count(), 2, "{codes:?}");
    assert!(text.contains("OCSP responder"), "{text}");
    let (v, codes, text) = judge("kc", "strict");
    assert_eq!(v, Verdict::Invalid, "{text}");
    assert!(codes.contains(&"cert-revoked".to_string()), "{codes:?}");
    let (v, codes, _) = judge("kc", "permissive");
    assert_eq!(v, Verdict::Untrusted, "logged, not verified: {codes:?}");
    assert!(codes.contains(&"cert-revoked".to_string()), "{codes:?}");
    // The responder does not know the certificate: unknown, which fails notation's check.
    let (v, codes, text) = judge("unk", "strict");
    assert_eq!(v, Verdict::Untrusted, "{text}");
    assert!(codes.contains(&"revocation-unknown".to_string()) && text.contains("answers unknown"), "{text}");
    // An unreachable responder: unknown as well.
    let (v, _, text) = judge("refused", "strict");
    assert_eq!(v, Verdict::Untrusted, "{text}");
    // Not revocable (badresp names no OCSP responder and no CRL distribution point; it may sign
    // code): notation counts it as not revoked.
    let (v, codes, text) = judge("badresp", "strict");
    assert_eq!(v, Verdict::Verified, "{text}");
    assert!(codes.contains(&"revocation-unknown".to_string()) && text.contains("not revocable"), "{text}");
}

/// An attacker between us and the responder replays answers the real responder gave (captured
/// with `openssl ocsp -respout`): another certificate's "good", an answer carrying another
/// request's nonce, and an answer with one signature byte changed. None of them settles the
/// status (unknown), and `openssl ocsp` refuses them too.
#[test]
fn replayed_and_altered_ocsp_answers_do_not_count() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    let dir = w.dir.path();
    let capture = |leaf: &str, nonce: bool, out: &str| {
        let mut c = Command::new("openssl");
        c.args(["ocsp", "-timeout", "3", "-issuer"]).arg(pki("ica.crt")).arg("-cert").arg(pki(&format!("{leaf}.crt")));
        c.args(["-url", &w.ocsp_ica, "-respout"]).arg(dir.join(out));
        if !nonce {
            c.arg("-no_nonce");
        }
        let (_, text) = run(c.args(["-CAfile"]).arg(pki("root.crt")).arg("-verify_other").arg(pki("ica.crt")));
        assert!(text.contains("Response verify OK"), "{text}");
    };
    capture("good", false, "good-resp.der");
    capture("replay", true, "replay-nonce.der");
    capture("replay", false, "replay-resp.der");
    let openssl_respin = |file: &str| -> String {
        let mut c = Command::new("openssl");
        c.args(["ocsp", "-issuer"])
            .arg(pki("ica.crt"))
            .arg("-cert")
            .arg(pki("replay.crt"))
            .arg("-respin")
            .arg(dir.join(file));
        run(c.arg("-CAfile").arg(pki("root.crt")).arg("-verify_other").arg(pki("ica.crt"))).1
    };
    // The answer as it came: good, by the delegated responder.
    std::fs::copy(dir.join("replay-resp.der"), dir.join("replay.der")).unwrap();
    let (status, codes, reasons) = scan("replay.exe", &[]);
    assert_eq!((status.as_str(), codes[1].as_str()), ("verified", "revocation-good"), "{reasons}");

    // Another certificate's "good".
    std::fs::copy(dir.join("good-resp.der"), dir.join("replay.der")).unwrap();
    assert_unknown("replay.exe", "the answer has no SingleResponse for the certificate asked about");
    let openssl = openssl_respin("good-resp.der");
    assert!(openssl.contains("No Status found"), "{openssl}");

    // An answer to another request (openssl's nonce, not ours).
    std::fs::copy(dir.join("replay-nonce.der"), dir.join("replay.der")).unwrap();
    assert_unknown("replay.exe", "its nonce is not the one we sent");
    let mut c = Command::new("openssl");
    c.args(["ocsp", "-timeout", "3", "-issuer"]).arg(pki("ica.crt")).arg("-cert").arg(pki("replay.crt"));
    let (_, openssl) =
        run(c.args(["-url", &w.replay, "-CAfile"]).arg(pki("root.crt")).arg("-verify_other").arg(pki("ica.crt")));
    assert!(openssl.contains("Nonce Verify error"), "{openssl}");

    // One byte of the signature changed.
    let mut der = std::fs::read(dir.join("replay-resp.der")).unwrap();
    let (at, _) = signature_byte(&der);
    der[at] ^= 0x01;
    std::fs::write(dir.join("altered.der"), &der).unwrap();
    std::fs::write(dir.join("replay.der"), &der).unwrap();
    assert_unknown("replay.exe", "its signature does not verify");
    let openssl = openssl_respin("altered.der");
    assert!(openssl.contains("Response Verify Failure"), "{openssl}");
}

/// The offset of the last byte of the BasicOCSPResponse's signature: the ECDSA signature's last
/// INTEGER octet, found as the byte before the certs ([0]) that follow the signature BIT STRING.
fn signature_byte(der: &[u8]) -> (usize, u8) {
    // The responder's certificate follows the signature: `a0 82 ..` then `30 82 ..`; the
    // signature's last octet is just before it.
    let certs = (0..der.len() - 4).rev().find(|&i| der[i] == 0xa0 && der[i + 1] == 0x82 && der[i + 4] == 0x30).unwrap();
    (certs - 1, der[certs - 1])
}

/// A registry scan (cosign signatures by the PKI's leaves, pushed by scripts/seed_revocation.py
/// to a docker-registry on 127.0.0.1): path validation runs on the scan's tokio workers, and the
/// online checks must neither stall them nor the scan: a responder that never answers costs its
/// timeout once, the other images are judged meanwhile.
#[test]
fn registry_scans_check_online_without_stalling() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let w = world();
    let reg = common::Registry::distribution(100);
    let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
    let o = Command::new(&python)
        .arg(common::repo_root().join("scripts/seed_revocation.py"))
        .args(["--registry", &reg.addr, "--pki"])
        .arg(w.dir.path().join("pki"))
        .args(["--leaves", "good:ica,kc:ica,unk:ica,hang:ica,crlkc:ica"])
        .output()
        .expect("python3 (apt-get install python3-cryptography)");
    assert!(o.status.success(), "seed_revocation.py: {}", String::from_utf8_lossy(&o.stderr));
    let started = Instant::now();
    let mut args = vec!["registry".to_string(), format!("{}/revocation", reg.addr), "--plain-http".into()];
    args.extend(["-o", "json", "--ca-roots", pki("root.crt").to_str().unwrap()].map(String::from));
    args.extend(["--revocation", "online", "--revocation-timeout", "2"].map(String::from));
    let report = stdout_json(&sigaudit(&args));
    let took = started.elapsed();
    common::assert_reason_codes(&report);
    let status = |repo: &str| -> (String, Vec<String>) {
        let image = report["images"].as_array().unwrap().iter().find(|i| i["repository"] == repo).unwrap();
        (image["status"].as_str().unwrap().to_string(), common::reason_codes(image))
    };
    let (s, codes) = status("revocation/good");
    assert_eq!(s, "verified", "{codes:?}");
    assert_eq!(codes.iter().filter(|c| *c == "revocation-good").count(), 2, "{codes:?}");
    for repo in ["revocation/kc", "revocation/crlkc"] {
        assert_eq!(status(repo), ("invalid".to_string(), vec!["cert-revoked".to_string()]), "{repo}");
    }
    for repo in ["revocation/unk", "revocation/hang"] {
        let (s, codes) = status(repo);
        assert_eq!(s, "verified", "{repo}");
        assert!(codes.contains(&"revocation-unknown".to_string()), "{repo}: {codes:?}");
    }
    assert!(took < Duration::from_secs(20), "the scan took {took:?}");
    // openssl's verdicts on the same certificates: see the fs tests above.
    assert!(openssl_ocsp("kc", &w.ocsp_ica).contains("kc.crt: revoked"));
}

/// Answers a real responder would not give, from the replaying server: a "good" signed by the
/// delegated responder (Python `cryptography` as the scripted responder) but expired, or dated
/// in the future; a `tryLater` status; bytes that are no OCSP response; an answer larger than
/// the 64 KiB cap. None settles the status; `openssl ocsp -respin` warns about the same dates and
/// reports the same status.
#[test]
fn stale_future_failed_and_oversized_ocsp_answers_do_not_count() {
    let _g = LOGS.write().unwrap_or_else(|e| e.into_inner());
    let dir = world().dir.path();
    let make = |this: &str, next: &str, out: &str| {
        let python = std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into());
        let o = Command::new(python)
            .arg(common::repo_root().join("scripts/ocsp_response.py"))
            .args([pki("ica.crt"), pki("replay.crt"), pki("ocsp.crt"), pki("ocsp.key")])
            .args(["--this-update", this, "--next-update", next, "--out"])
            .arg(dir.join(out))
            .output()
            .unwrap();
        assert!(o.status.success(), "ocsp_response.py: {}", String::from_utf8_lossy(&o.stderr));
    };
    let openssl_respin = |file: &str| -> String {
        let mut c = Command::new("openssl");
        c.args(["ocsp", "-issuer"]).arg(pki("ica.crt")).arg("-cert").arg(pki("replay.crt"));
        c.arg("-respin")
            .arg(dir.join(file))
            .arg("-CAfile")
            .arg(pki("root.crt"))
            .arg("-verify_other")
            .arg(pki("ica.crt"));
        run(&mut c).1
    };
    let serve = |bytes: &[u8]| std::fs::write(dir.join("replay.der"), bytes).unwrap();

    // Fresh, as a control: the scripted responder's answer counts.
    make("-1", "24", "fresh.der");
    serve(&std::fs::read(dir.join("fresh.der")).unwrap());
    let (status, codes, reasons) = scan("replay.exe", &[]);
    assert_eq!((status.as_str(), codes[1].as_str()), ("verified", "revocation-good"), "{reasons}");
    assert!(openssl_respin("fresh.der").contains("replay.crt: good"));

    make("-72", "-48", "stale.der");
    serve(&std::fs::read(dir.join("stale.der")).unwrap());
    assert_unknown("replay.exe", "its answer expired (nextUpdate");
    let openssl = openssl_respin("stale.der");
    assert!(openssl.contains("Status times invalid"), "{openssl}");

    make("2", "48", "future.der");
    serve(&std::fs::read(dir.join("future.der")).unwrap());
    assert_unknown("replay.exe", "is in the future");
    let openssl = openssl_respin("future.der");
    assert!(openssl.contains("Status times invalid"), "{openssl}");

    // OCSPResponse { responseStatus tryLater } (RFC 6960 §4.2.1).
    std::fs::write(dir.join("trylater.der"), [0x30, 0x03, 0x0a, 0x01, 0x03]).unwrap();
    serve(&[0x30, 0x03, 0x0a, 0x01, 0x03]);
    assert_unknown("replay.exe", "the responder answered tryLater (3), not successful");
    let openssl = openssl_respin("trylater.der");
    assert!(openssl.contains("trylater (3)"), "{openssl}");

    // A revocation answered with a SHA-256 CertID (RFC 6960 allows any hash): it counts.
    let o = Command::new(std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into()))
        .arg(common::repo_root().join("scripts/ocsp_response.py"))
        .args([pki("ica.crt"), pki("replay.crt"), pki("ocsp.crt"), pki("ocsp.key")])
        .args(["--this-update", "-1", "--next-update", "24", "--status", "revoked", "--certid-hash", "sha256", "--out"])
        .arg(dir.join("sha256-revoked.der"))
        .output()
        .unwrap();
    assert!(o.status.success(), "ocsp_response.py: {}", String::from_utf8_lossy(&o.stderr));
    serve(&std::fs::read(dir.join("sha256-revoked.der")).unwrap());
    let (status, codes, reasons) = scan("replay.exe", &[]);
    assert_eq!((status.as_str(), codes.contains(&"cert-revoked".to_string())), ("invalid", true), "{reasons}");
    let mut c = Command::new("openssl");
    c.args(["ocsp", "-sha256", "-issuer"]).arg(pki("ica.crt")).arg("-cert").arg(pki("replay.crt"));
    c.arg("-respin").arg(dir.join("sha256-revoked.der")).arg("-CAfile").arg(pki("root.crt"));
    c.arg("-verify_other").arg(pki("ica.crt"));
    let openssl = run(&mut c).1;
    assert!(openssl.contains("replay.crt: revoked"), "{openssl}");

    serve(b"<html>not an OCSP response</html>");
    assert_unknown("replay.exe", "malformed OCSP response");

    serve(&vec![0x30; 70 << 10]);
    assert_unknown("replay.exe", "the answer is larger than 65536 bytes");
}

/// The review of issue 18: an online answer must be current at the evaluation time too. With
/// `--at` three days on, the responder's answers (`openssl ocsp -ndays 1`) have lapsed: they
/// settle nothing then, where at the wall clock they answer good.
#[test]
fn online_answers_must_be_current_at_the_evaluation_time() {
    let _g = LOGS.read().unwrap_or_else(|e| e.into_inner());
    let (_, _, now) = scan("good.exe", &[]);
    assert!(now.contains("answers good"), "{now}");
    let later = (std::time::SystemTime::now() + Duration::from_secs(3 * 86_400))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let at =
        chrono::DateTime::from_timestamp(later as i64, 0).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (status, _, reasons) = scan("good.exe", &["--at", &at]);
    assert!(!reasons.contains("answers good"), "a lapsed answer counted at {at}: {reasons}");
    eprintln!("good.exe at {at}: {status}");
}
