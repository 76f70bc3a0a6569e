//! Help texts that say what they mean, and completions and man pages generated from them.

use crate::common::{code, sigaudit};
use crate::{errtext, path_str, text, tool};
use std::path::Path;

#[test]
fn help_says_what_the_tool_and_each_flag_do() {
    let o = sigaudit(["--help"]);
    assert_eq!(code(&o), 0);
    let first = text(&o).lines().next().unwrap().to_string();
    assert!(first.contains("registries") && first.contains("files"), "{first}");

    // registry --key verifies key-only cosign signatures, not only bundles.
    let o = sigaudit(["registry", "--help"]);
    let help = text(&o).replace('\n', " ");
    let key = &help[help.find("--key <FILE>").unwrap()..];
    let key: String = key.split_whitespace().take(40).collect::<Vec<_>>().join(" ");
    assert!(key.contains("key-only cosign signatures"), "{key}");
    assert!(!key.contains("the bundle must verify with"), "{key}");

    // --at says which format it wants, in the help and when it is wrong.
    assert!(help.contains("RFC 3339 time such as 2026-01-31T00:00:00Z"), "{help}");
    let o = sigaudit(["fs", ".", "--at", "yesterday"]);
    assert_eq!(code(&o), 2);
    let e = errtext(&o);
    assert!(e.contains("RFC 3339") && e.contains("2026-01-31T00:00:00Z"), "{e}");
}

#[test]
fn completions_and_man_pages_come_from_the_command_line_definition() {
    let dir = tempfile::tempdir().unwrap();
    let o = sigaudit(["generate", "completions", "bash"]);
    assert_eq!(code(&o), 0);
    let bash = text(&o);
    for word in ["registry", "verify-bundle", "--follow-symlinks", "--deadline", "--only"] {
        assert!(bash.contains(word), "{word} missing from the bash completions");
    }
    let script = dir.path().join("sigaudit.bash");
    std::fs::write(&script, &bash).unwrap();
    tool("bash", &["-n", path_str(&script)], Path::new("."));
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let o = sigaudit(["generate", "completions", shell]);
        assert_eq!(code(&o), 0, "{shell}");
        assert!(text(&o).contains("one-file-system"), "{shell}");
    }

    let man = dir.path().join("man");
    let o = sigaudit(["generate", "man", path_str(&man)]);
    assert_eq!(code(&o), 0, "{}", errtext(&o));
    for page in ["sigaudit.1", "sigaudit-registry.1", "sigaudit-image.1", "sigaudit-fs.1", "sigaudit-verify-bundle.1"] {
        let roff = std::fs::read_to_string(man.join(page)).unwrap_or_else(|e| panic!("{page}: {e}"));
        assert!(roff.starts_with(".ie") || roff.contains(".TH"), "{page}");
    }
    assert!(!man.join("sigaudit-generate.1").exists());
    let fs = std::fs::read_to_string(man.join("sigaudit-fs.1")).unwrap();
    assert!(fs.contains("one\\-file\\-system"), "{fs}");
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS"] {
        assert!(fs.contains(section), "{section} missing");
    }
}
