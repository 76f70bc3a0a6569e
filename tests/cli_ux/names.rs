//! Signer names decoded as openssl decodes them, and never cut.

use crate::common::{code, repo_root, sigaudit_cmd, stdout_json};
use crate::{python, tool};
use std::path::Path;

/// What openssl shows for a certificate's subject: RFC 2253 escaping with UTF-8 left readable and
/// `, ` between RDNs (the form sigaudit writes).
fn openssl_subject(pem: &Path) -> String {
    let o = tool(
        "openssl",
        &[
            "x509",
            "-in",
            pem.to_str().unwrap(),
            "-noout",
            "-subject",
            "-nameopt",
            "esc_2253,esc_ctrl,utf8,dump_nostr,dump_unknown,dump_der,sep_comma_plus_space,dn_rev,sname",
        ],
        Path::new("."),
    );
    let line = String::from_utf8(o.stdout).expect("openssl writes UTF-8 with -nameopt utf8");
    line.trim_end_matches('\n').strip_prefix("subject=").expect("subject=").to_string()
}

fn make_names(dir: &Path) {
    tool(&python(), &[repo_root().join("tests/support/make_names.py").to_str().unwrap(), dir.to_str().unwrap()], dir);
}

#[test]
fn names_of_every_string_type_read_as_openssl_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    make_names(dir.path());
    let mut cases = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "pem") {
            continue;
        }
        let certs = sigaudit::x509::Cert::from_pem_chain(&std::fs::read(&path).unwrap()).unwrap();
        let signer = certs[0].signer();
        let want = openssl_subject(&path);
        assert_eq!(signer.subject.as_deref(), Some(want.as_str()), "{}", path.display());
        // Self-signed: the issuer is the same name, rendered by the same code path.
        assert_eq!(signer.issuer.as_deref(), Some(want.as_str()), "{}", path.display());
        cases += 1;
    }
    assert!(cases >= 9, "only {cases} certificates written");
}

#[test]
fn a_jar_signed_by_a_t61_name_shows_the_whole_name() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    make_names(d);
    tool(
        "openssl",
        &[
            "pkcs12", "-export", "-in", "signer.pem", "-inkey", "signer.key", "-name", "signer", "-out",
            "signer.p12", "-passout", "pass:changeit",
        ],
        d,
    );
    std::fs::create_dir(d.join("jars")).unwrap();
    std::fs::write(d.join("hello.txt"), "hello\n").unwrap();
    tool("jar", &["cf", "jars/app.jar", "hello.txt"], d);
    tool(
        "jarsigner",
        &["-keystore", "signer.p12", "-storetype", "PKCS12", "-storepass", "changeit", "jars/app.jar", "signer"],
        d,
    );
    let want = openssl_subject(&d.join("signer.pem"));
    assert_eq!(want, r"CN=Eclipse.org Foundation\, Inc, O=Eclipse.org Foundation\, Inc, C=CA");

    let jars = d.join("jars");
    let o = sigaudit_cmd(["fs", jars.to_str().unwrap(), "-o", "json"]).output().unwrap();
    assert_eq!(code(&o), 0);
    let report = stdout_json(&o);
    assert_eq!(report["files"][0]["signatures"][0]["signer"]["subject"], want.as_str());
}
