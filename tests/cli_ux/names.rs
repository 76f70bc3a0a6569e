//! Signer names decoded as openssl decodes them, and never cut.

use crate::common::{code, sigaudit_cmd, stdout_json};
use crate::{make_names, path_str, signed_jar, text, tool};
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
    let (jar, signer) = signed_jar(dir.path());
    let want = openssl_subject(&signer);
    assert_eq!(want, r"CN=Eclipse.org Foundation\, Inc, O=Eclipse.org Foundation\, Inc, C=CA");

    let o = sigaudit_cmd(["fs", path_str(&jar), "-o", "json"]).output().unwrap();
    assert_eq!(code(&o), 0);
    let report = stdout_json(&o);
    assert_eq!(report["files"][0]["signatures"][0]["signer"]["subject"], want.as_str());

    // The table names the signer by its CN, whole, comma included, and not behind its status.
    for columns in ["80", "120"] {
        let o = sigaudit_cmd(["fs", path_str(&jar)]).env("COLUMNS", columns).output().unwrap();
        let table = text(&o);
        let row = table.lines().find(|l| l.ends_with("signed.jar")).unwrap_or_else(|| panic!("{table}"));
        assert!(row.contains("  Eclipse.org Foundation, Inc  "), "{table}");
        assert!(!table.contains("Foundation\\") && !table.contains("untrusted: "), "{table}");
    }
}
