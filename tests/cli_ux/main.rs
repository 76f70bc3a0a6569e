//! What a person or a cron job meets on the command line: names as openssl shows them, tables that
//! fit the terminal, filters, the config file, targets with a scheme, deadlines, digests other
//! than SHA-256, SigScan JSON, help texts, completions and the man page. Test data comes from
//! independent tools (openssl, Python `cryptography` and `zipfile`, jar and jarsigner, the
//! registries themselves).

#[path = "../common/mod.rs"]
mod common;

mod config;
mod deadline;
mod digests;
mod fs_walk;
mod help;
mod names;
mod outputs;
mod registry;
mod table;

use common::repo_root;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run a tool that must succeed, or fail the test saying what to install.
pub fn tool(program: &str, args: &[&str], dir: &Path) -> Output {
    let o = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (./scripts/setup.sh installs it)"));
    assert!(
        o.status.success(),
        "{program} {args:?}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn python() -> String {
    std::env::var("SIGAUDIT_PYTHON").unwrap_or_else(|_| "/usr/bin/python3".into())
}

pub fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn errtext(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 test path")
}

/// Certificates with names of every string type (tests/support/make_names.py) in `dir`.
pub fn make_names(dir: &Path) {
    tool(&python(), &[path_str(&repo_root().join("tests/support/make_names.py")), path_str(dir)], dir);
}

/// A zip with a manifest, made by Python's zipfile: a JAR to sigaudit, unsigned.
pub fn unsigned_jar(path: &Path) {
    let script = "import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n    \
                  z.writestr('META-INF/MANIFEST.MF', 'Manifest-Version: 1.0\\r\\n\\r\\n')\n    \
                  z.writestr('hello.txt', 'hello\\n')\n";
    tool(&python(), &["-c", script, path_str(path)], Path::new("."));
}

/// A JAR signed by jarsigner for the T.61-named signer of make_names.py (`CN=Eclipse.org
/// Foundation\, Inc`). Returns (the JAR, the signer's self-signed certificate). Made once per
/// `dir`.
pub fn signed_jar(dir: &Path) -> (PathBuf, PathBuf) {
    let jar = dir.join("signed.jar");
    if !jar.exists() {
        make_names(dir);
        tool(
            "openssl",
            &[
                "pkcs12",
                "-export",
                "-in",
                "signer.pem",
                "-inkey",
                "signer.key",
                "-name",
                "signer",
                "-out",
                "signer.p12",
                "-passout",
                "pass:changeit",
            ],
            dir,
        );
        std::fs::write(dir.join("hello.txt"), "hello\n").unwrap();
        tool("jar", &["cf", "signed.jar", "hello.txt"], dir);
        tool(
            "jarsigner",
            &["-keystore", "signer.p12", "-storetype", "PKCS12", "-storepass", "changeit", "signed.jar", "signer"],
            dir,
        );
    }
    (jar, dir.join("signer.pem"))
}

/// A copy of a signed JAR with one entry changed after signing (Python's zipfile rewrites it).
pub fn tampered_jar(signed: &Path, out: &Path) {
    let script = "import sys, zipfile\nsrc, dst = sys.argv[1], sys.argv[2]\n\
                  with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w') as b:\n    \
                  for i in a.infolist():\n        \
                  b.writestr(i, b'tampered\\n' if i.filename == 'hello.txt' else a.read(i))\n";
    tool(&python(), &["-c", script, path_str(signed), path_str(out)], Path::new("."));
}

/// Width of a line in terminal columns (the tables use `…`, and names may be wide).
pub fn columns(line: &str) -> usize {
    line.chars().count()
}
