//! Forgeries of the Windows formats that a fresh attacker got `verified` before (issue 13d),
//! built here by byte edits of the committed osslsigncode fixtures (testdata/fs-win): ours must
//! never say `verified`; osslsigncode 2.9's verdict on each file is recorded beside ours.

mod common;

use common::{code, repo_root, sigaudit, sigaudit_cmd, stdout_json};
use std::process::Command;

fn osslsigncode_ok(path: &std::path::Path) -> bool {
    let root = repo_root().join("testdata/fs-win/pki/root.crt");
    let o = Command::new("osslsigncode")
        .args(["verify", "-ignore-crl", "-CAfile"])
        .arg(&root)
        .arg("-TSA-CAfile")
        .arg(&root)
        .arg("-in")
        .arg(path)
        .output()
        .expect("osslsigncode (./scripts/setup.sh installs it)");
    o.status.success()
}

#[test]
fn windows_forgeries_are_never_verified() {
    let src = repo_root().join("testdata/fs-win");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let msi = std::fs::read(src.join("msi/signed-dse.msi")).unwrap();
    // M1: a mini stream cutoff of 0x800 moves streams between the mini stream and the FAT.
    let mut cut = msi.clone();
    cut[56..60].copy_from_slice(&0x800u32.to_le_bytes());
    std::fs::write(d.join("cutoff.msi"), &cut).unwrap();
    // DoS: the directory chain starts on the FAT's own sector (a sector in two chains).
    let mut shared = msi.clone();
    let fat0 = shared[76..80].to_vec();
    shared[48..52].copy_from_slice(&fat0);
    std::fs::write(d.join("shared-sector.msi"), &shared).unwrap();
    // M2 and M3: in the first directory sector, another stream renamed to \x05DigitalSignature
    // (a second copy the hash would skip), and a stream size of 0xfffffffe (unreadable in v3).
    let is_ds = |b: &[u8], e: usize| b[e..e + 4] == [5, 0, b'D', 0] && b[e + 64] == 36 && b[e + 66] == 2;
    let ds = (512..msi.len() - 128).step_by(128).find(|&e| is_ds(&msi, e)).expect("the DigitalSignature entry");
    let entries: Vec<usize> = (0..4).map(|i| ds / 512 * 512 + 128 * i).collect();
    let other = *entries.iter().find(|&&e| msi[e + 66] == 2 && !is_ds(&msi, e) && msi[e] != 5).expect("another stream");
    let mut dup = msi.clone();
    let name = msi[ds..ds + 66].to_vec();
    dup[other..other + 66].copy_from_slice(&name);
    std::fs::write(d.join("dup-ds.msi"), &dup).unwrap();
    let mut size = msi.clone();
    size[other + 120..other + 124].copy_from_slice(&0xffff_fffeu32.to_le_bytes());
    std::fs::write(d.join("size-fffffffe.msi"), &size).unwrap();
    let ps1 = std::fs::read_to_string(src.join("scripts/signed-lf.ps1")).unwrap();
    let b = ps1.find("# SIG # Begin signature block").unwrap();
    let at = b + ps1[b..].find('\n').unwrap() + 1;
    let begin = &ps1[b..at];
    // S1: code inside the block, and a second Begin line inside it.
    std::fs::write(d.join("code-in-block.ps1"), format!("{}Remove-Item C:\\x\n{}", &ps1[..at], &ps1[at..])).unwrap();
    std::fs::write(d.join("double-begin.ps1"), format!("{}{begin}{}", &ps1[..at], &ps1[at..])).unwrap();
    // S2: a byte that is not UTF-8 in the signed text.
    let mut bad = ps1.clone().into_bytes();
    bad.splice(0..0, [b'#', 0x93, b'\n']);
    std::fs::write(d.join("not-utf8.ps1"), &bad).unwrap();

    let root = src.join("pki/root.crt");
    let o = sigaudit(["fs", d.to_str().unwrap(), "-o", "json", "--ca-roots", root.to_str().unwrap()]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let report = stdout_json(&o);
    let files = report["files"].as_array().unwrap();
    for (name, want) in [
        ("cutoff.msi", "invalid"),
        ("shared-sector.msi", "invalid"),
        ("dup-ds.msi", "invalid"),
        ("size-fffffffe.msi", "invalid"),
        ("code-in-block.ps1", "invalid"),
        ("double-begin.ps1", "invalid"),
        ("not-utf8.ps1", "unsupported"),
    ] {
        let f = files.iter().find(|f| f["path"].as_str().unwrap().ends_with(name)).expect(name);
        let theirs = osslsigncode_ok(&d.join(name));
        eprintln!("{name}: ours {} / osslsigncode {}", f["status"], if theirs { "Succeeded" } else { "Failed" });
        assert_eq!(f["status"], want, "{name}: {f:#}");
    }
    // osslsigncode refuses the cutoff ("Unsupported Mini Stream Cutoff Size").
    assert!(!osslsigncode_ok(&d.join("cutoff.msi")));
    // osslsigncode 2.9 accepts code and a second Begin line inside the block; we do not.
    for name in ["code-in-block.ps1", "double-begin.ps1"] {
        assert!(osslsigncode_ok(&d.join(name)), "osslsigncode now refuses {name}: make this agree");
    }
}

/// C1: a signed certificate trust list whose subjectUsage is not szOID_CATALOG_LIST (made by
/// scripts/make_ctl_usage_fixture.sh: our DER layout, osslsigncode's signature) lists hello.exe's
/// image hash. osslsigncode 2.9 does not look at the usage and accepts hello.exe against it;
/// Windows takes only catalog lists as catalogs, and so do we: hello.exe stays unsigned, and the
/// trust list, a good signature over no catalog, says it vouches for no file.
#[test]
fn a_trust_list_that_is_no_catalog_vouches_for_nothing() {
    let d = repo_root().join("testdata/fs-win");
    let (ctl, root, member) =
        (d.join("cat-usage/other-usage.cat"), d.join("cat-usage/root.crt"), d.join("cat/members/hello.exe"));
    let theirs = Command::new("osslsigncode")
        .args(["verify", "-ignore-crl", "-CAfile"])
        .arg(&root)
        .arg("-catalog")
        .arg(&ctl)
        .arg("-in")
        .arg(&member)
        .output()
        .expect("osslsigncode (./scripts/setup.sh installs it)");
    let out = sigaudit_cmd(["fs", "-o", "json", "--ca-roots"])
        .arg(&root)
        .arg("--catalog")
        .arg(&ctl)
        .arg(&member)
        .output()
        .unwrap();
    let report = stdout_json(&out);
    let file = &report["files"][0];
    eprintln!(
        "hello.exe against other-usage.cat: ours {} / osslsigncode {}",
        file["status"],
        if theirs.status.success() { "Succeeded" } else { "Failed" }
    );
    assert!(theirs.status.success(), "osslsigncode now refuses the non-catalog trust list: make this agree");
    assert_eq!(file["status"], "unsigned", "{file:#}");

    let out = sigaudit_cmd(["fs", "-o", "json", "--ca-roots"]).arg(&root).arg(&ctl).output().unwrap();
    let report = stdout_json(&out);
    let notes = report["files"][0]["notes"].to_string();
    assert!(notes.contains("not a catalog, no member is vouched for"), "{notes}");
    assert!(notes.contains("catalog lists 0 member hashes"), "{notes}");
}
