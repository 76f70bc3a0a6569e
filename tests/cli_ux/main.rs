//! What a person or a cron job meets on the command line: names as openssl shows them, tables that
//! fit the terminal, filters, the config file, targets with a scheme, deadlines, digests other
//! than SHA-256, SigScan JSON, help texts, completions and the man page. Test data comes from
//! independent tools (openssl, Python `cryptography`, jarsigner, the registry itself).

#[path = "../common/mod.rs"]
mod common;

mod names;

use std::path::Path;
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
