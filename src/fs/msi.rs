//! Authenticode in MSI packages (and any compound file signed the same way: MSP, MST): the
//! PKCS#7 lives in the root stream `\x05DigitalSignature`. The signed hash covers every stream's
//! contents, storages recursed into, children sorted by their raw UTF-16 names (memcmp; on a tie
//! the longer name first), each storage's CLSID after its children, both signature streams left
//! out at the root. With `\x05MsiDigitalSignatureEx`, the hash first takes a pre-hash of the
//! entries' metadata (names, sizes, CLSIDs, state bits, times) in the same order, and that
//! stream must hold the pre-hash (osslsigncode msi.c; SIGNED-FILES.md §4).

use super::authenticode::{self, Digests, Hashing};
use super::ole::{self, Ole};
use super::verdict;
use crate::cms::Failure;
use crate::crypto::{HashAlg, Hasher};
use crate::der;
use crate::report::{FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;

fn utf16z(s: &str) -> Vec<u8> {
    s.encode_utf16().chain([0]).flat_map(|u| u.to_le_bytes()).collect()
}

/// Root CLSIDs of installer databases, patches and transforms ({000C1084/1086/1082-0000-0000-C000-000000000046}).
fn installer_clsid(c: &[u8; 16]) -> bool {
    let tail = [0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46];
    c[4..] == tail && [0x82u8, 0x84, 0x86].contains(&c[0]) && c[1..4] == [0x10, 0x0c, 0x00]
}

pub struct Checked {
    pub signatures: Vec<FileSignatureReport>,
    pub notes: Vec<String>,
}

/// Check a compound file: `None` if it is neither signed nor an installer package (by its root
/// CLSID or a `.msi`/`.msp`/`.mst` name); a signed or installer file that does not parse is invalid.
pub fn check(path: &str, bytes: &[u8], trust: &Trust) -> Option<Checked> {
    let ds_name = utf16z("\u{5}DigitalSignature");
    let dse_name = utf16z("\u{5}MsiDigitalSignatureEx");
    let named = [".msi", ".msp", ".mst"].iter().any(|e| path.to_ascii_lowercase().ends_with(e));
    let ole = match Ole::parse(bytes) {
        Ok(o) => o,
        Err(e) => {
            // Only what claims to be signed or an installer is ours to judge.
            let marker = &ds_name[..ds_name.len() - 2];
            if !named && !bytes.windows(marker.len()).any(|w| w == marker) {
                return None;
            }
            let r = verdict::fail(
                verdict::report("authenticode", "0".into()),
                Failure::Invalid(C::SignedFileMalformed, e.to_string()),
            );
            return Some(Checked { signatures: vec![r], notes: Vec::new() });
        }
    };
    let root = &ole.entries[0];
    let appended = bytes.len().saturating_sub(ole.end);
    // A ZIP reader finds an archive in the file (the JDK's rule takes every record apksig's does).
    let zip = super::jar::end_record_jdk(bytes).is_some();
    let structure = structure(&ole, &[&ds_name, &dse_name]).and_then(|()| match appended {
        // A ZIP end record ending the file, wherever its archive hides (a sector chain's slack,
        // the signature stream, unused directory entries): Java and unzip read the file as an
        // archive no MSI signature covers (GlueBall, CVE-2020-1464).
        0 if zip => {
            Err("the file ends with a ZIP end of central directory record: ZIP readers (java -jar, unzip) take it for \
             an archive no signature covers (a GlueBall polyglot, CVE-2020-1464)"
                .to_string())
        }
        0 => Ok(()),
        n => Err(format!(
            "{n} bytes after the compound file's last sector in use, which no stream holds and no signature hashes{} \
             (Windows refuses MSIs with appended data since CVE-2020-1464, GlueBall)",
            if zip { ": a ZIP archive, the file is a polyglot" } else { "" }
        )),
    });
    if let Err(why) = structure {
        let r =
            verdict::fail(verdict::report("authenticode", "0".into()), Failure::Invalid(C::SignedFileMalformed, why));
        return Some(Checked { signatures: vec![r], notes: Vec::new() });
    }
    let find = |name: &[u8]| root.children.iter().copied().find(|&i| ole.entries[i].name_raw == name);
    let ds = find(&ds_name).filter(|&i| ole.entries[i].kind == ole::STREAM);
    let dse = find(&dse_name).filter(|&i| ole.entries[i].kind == ole::STREAM);
    if ds.is_none() && !named && !installer_clsid(&root.clsid) {
        return None;
    }
    let mut notes = Vec::new();
    let Some(ds) = ds else {
        if dse.is_some() {
            notes.push("an MsiDigitalSignatureEx stream without a DigitalSignature stream".into());
        }
        return Some(Checked { signatures: Vec::new(), notes });
    };
    let fail = |f: Failure| {
        Some(Checked {
            signatures: vec![verdict::fail(verdict::report("authenticode", "0".into()), f)],
            notes: Vec::new(),
        })
    };
    let sig = match ole.read(ds) {
        Ok(s) => s,
        Err(e) => return fail(Failure::Invalid(C::SignedFileMalformed, e.to_string())),
    };
    let blob = match der::read(&sig) {
        Ok((t, rest)) => {
            if rest.iter().any(|b| *b != 0) {
                notes.push(format!("{} non-zero bytes after the PKCS#7 in the DigitalSignature stream", rest.len()));
            }
            t.raw
        }
        Err(e) => return fail(Failure::Invalid(C::MalformedSignature, format!("DigitalSignature stream: {e}"))),
    };
    let dse_value = match dse.map(|i| ole.read(i)).transpose() {
        Ok(v) => v,
        Err(e) => return fail(Failure::Invalid(C::SignedFileMalformed, e.to_string())),
    };
    let skip = [ds_name.as_slice(), dse_name.as_slice()];
    let hashing = Hashing { what: "MSI content hash", mismatch: C::ContentHashMismatch };
    let mut digests = |algs: &[HashAlg]| -> Digests {
        algs.iter().map(|&a| (a, digest(&ole, a, dse_value.as_deref(), &skip))).collect()
    };
    let signatures = authenticode::verify(&[blob], "authenticode", trust, &hashing, &mut digests, &mut |_| {});
    Some(Checked { signatures, notes })
}

/// The signature streams may only be streams directly under the root, and no two siblings may
/// share a name: otherwise the hash (which skips the signature names and sorts by name) could
/// leave out or reorder content that a reader of the package would see.
fn structure(ole: &Ole, sig_names: &[&[u8]]) -> Result<(), String> {
    for (i, e) in ole.entries.iter().enumerate() {
        let mut names: Vec<&[u8]> = e.children.iter().map(|&c| ole.entries[c].name_raw.as_slice()).collect();
        names.sort();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            let units: Vec<u16> = w[0].chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
            return Err(format!("two entries named {:?} in one storage", String::from_utf16_lossy(&units)));
        }
        for &c in &e.children {
            let k = &ole.entries[c];
            if sig_names.contains(&k.name_raw.as_slice()) && (i != 0 || k.kind != ole::STREAM) {
                return Err(format!("a signature entry {:?} that is not a stream under the root", k.name()));
            }
        }
    }
    Ok(())
}

/// The signed hash with `alg`: with MsiDigitalSignatureEx, the metadata pre-hash (which the
/// stream must hold) first, then every stream's contents.
fn digest(ole: &Ole, alg: HashAlg, dse: Option<&[u8]>, skip: &[&[u8]]) -> Result<Vec<u8>, Failure> {
    let mut h = alg.hasher();
    if let Some(stored) = dse {
        let mut pre = alg.hasher();
        prehash(ole, 0, &mut pre, skip, 0)?;
        let pre = pre.finish();
        if stored != pre.as_slice() {
            return Err(Failure::Invalid(
                C::ContentHashMismatch,
                format!(
                    "the MsiDigitalSignatureEx stream holds {}, but the entries' metadata hash to {}: names, sizes or times changed after signing",
                    hex::encode(stored),
                    hex::encode(&pre)
                ),
            ));
        }
        h.update(&pre);
    }
    content(ole, 0, &mut h, skip, 0)?;
    Ok(h.finish())
}

fn sorted(ole: &Ole, dir: usize, skip: &[&[u8]]) -> Vec<usize> {
    let mut kids: Vec<usize> = ole.entries[dir]
        .children
        .iter()
        .copied()
        .filter(|&i| dir != 0 || !skip.contains(&ole.entries[i].name_raw.as_slice()))
        .collect();
    kids.sort_by(|&a, &b| {
        let (a, b) = (&ole.entries[a].name_raw, &ole.entries[b].name_raw);
        let n = a.len().min(b.len());
        a[..n].cmp(&b[..n]).then(b.len().cmp(&a.len()))
    });
    kids
}

fn malformed(e: ole::OleError) -> Failure {
    Failure::Invalid(C::SignedFileMalformed, e.to_string())
}

fn content(ole: &Ole, dir: usize, h: &mut Hasher, skip: &[&[u8]], depth: usize) -> Result<(), Failure> {
    if depth > 64 {
        return Err(malformed(ole::OleError("storages nested too deep".into())));
    }
    for i in sorted(ole, dir, skip) {
        let e = &ole.entries[i];
        match e.kind {
            ole::STREAM if e.size >= 0xffff_fffa => {
                return Err(malformed(ole::OleError(format!("stream {} has an unreadable size", e.name()))))
            }
            ole::STREAM if e.size > 0 => h.update(&ole.read(i).map_err(malformed)?),
            ole::STORAGE => content(ole, i, h, skip, depth + 1)?,
            _ => {}
        }
    }
    h.update(&ole.entries[dir].clsid);
    Ok(())
}

fn metadata(e: &ole::Entry, h: &mut Hasher) {
    if e.kind != ole::ROOT {
        h.update(&e.name_raw[..e.name_raw.len() - 2]);
    }
    if e.kind != ole::STREAM {
        h.update(&e.clsid);
    } else {
        h.update(&e.size_raw[..4]);
    }
    h.update(&e.state_bits);
    if e.kind != ole::ROOT {
        h.update(&e.created);
        h.update(&e.modified);
    }
}

fn prehash(ole: &Ole, dir: usize, h: &mut Hasher, skip: &[&[u8]], depth: usize) -> Result<(), Failure> {
    if depth > 64 {
        return Err(malformed(ole::OleError("storages nested too deep".into())));
    }
    metadata(&ole.entries[dir], h);
    for i in sorted(ole, dir, skip) {
        match ole.entries[i].kind {
            ole::STREAM => metadata(&ole.entries[i], h),
            ole::STORAGE => prehash(ole, i, h, skip, depth + 1)?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte of the header, the FAT and the directory set to 0x00 and to 0xff in turn: each
    /// variant is checked without a panic, in bounded time, and those that break the structure
    /// are reported (never skipped as if unsigned).
    #[test]
    fn single_byte_edits_of_the_structure_never_panic_or_hang() {
        let msi: &[u8] = include_bytes!("../../testdata/fs-win/msi/signed-dse.msi");
        let trust = Trust::default();
        let u32_at = |o: usize| u32::from_le_bytes(msi[o..o + 4].try_into().unwrap()) as usize;
        let (fat, dir) = ((u32_at(76) + 1) * 512, (u32_at(48) + 1) * 512);
        let positions = (0..512).chain(fat..fat + 512).chain(dir..dir + 512);
        let start = std::time::Instant::now();
        let (mut checked, mut malformed) = (0, 0);
        for p in positions {
            for v in [0x00u8, 0xff] {
                if msi[p] == v {
                    continue;
                }
                let mut b = msi.to_vec();
                b[p] = v;
                let c = check("x.msi", &b, &trust).expect("a .msi is always reported");
                checked += 1;
                let code = C::SignedFileMalformed.as_str();
                malformed +=
                    usize::from(c.signatures.iter().any(|s| s.verification.reason_codes.iter().any(|r| r == code)));
            }
        }
        assert!(checked > 1500 && malformed > 100, "{checked} variants, {malformed} malformed");
        assert!(start.elapsed().as_secs() < 120, "{checked} in {:?}", start.elapsed());
    }

    fn reasons(b: &[u8]) -> Vec<String> {
        let c = check("x.msi", b, &Trust::default()).expect("a .msi is always reported");
        c.signatures.iter().flat_map(|s| s.verification.reason_codes.clone()).collect()
    }

    /// A mini stream cutoff other than 4096 (osslsigncode: "Unsupported Mini Stream Cutoff
    /// Size") and a second chain over the same sectors are malformed, not read another way.
    #[test]
    fn cutoff_and_shared_sectors_are_malformed() {
        let msi: &[u8] = include_bytes!("../../testdata/fs-win/msi/signed-dse.msi");
        let code = C::SignedFileMalformed.as_str().to_string();
        for cutoff in [0u32, 0x800, 0xffff_ffff] {
            let mut b = msi.to_vec();
            b[56..60].copy_from_slice(&cutoff.to_le_bytes());
            assert!(reasons(&b).contains(&code), "cutoff {cutoff:#x}");
        }
        // The FAT's first sector claimed again as the directory's start.
        let mut b = msi.to_vec();
        let fat0 = b[76..80].to_vec();
        b[48..52].copy_from_slice(&fat0);
        assert!(reasons(&b).contains(&code));
    }
}
