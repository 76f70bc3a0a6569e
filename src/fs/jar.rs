//! Signed JARs (and APK v1 signatures): MANIFEST.MF entry digests against the archive entries,
//! the .SF digests against the manifest, and the PKCS#7 block over the exact .SF bytes
//! (JAR File Specification, "Signed JAR File"; SIGNED-FILES.md §3). Decompression is capped.

use super::verdict;
use crate::cms::{self, Failure};
use crate::crypto::HashAlg;
use crate::report::FileSignatureReport;
use crate::trust::Trust;
use base64::Engine;
use std::collections::BTreeMap;
use std::io::Read;

/// Caps against zip bombs and absurd archives.
const MAX_ENTRIES: usize = 100_000;
const MAX_ENTRY_BYTES: u64 = 256 << 20;
const MAX_TOTAL_BYTES: u64 = 2 << 30;
const MAX_META_BYTES: u64 = 16 << 20;

/// A manifest or signature-file section: its exact bytes (with the blank line that ends it) and
/// attributes.
struct Section {
    raw: Vec<u8>,
    attrs: BTreeMap<String, String>,
}

/// Split a manifest into sections; the first is the main section.
fn sections(text: &[u8]) -> Vec<Section> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut line_start = 0;
    let mut lines: Vec<(usize, usize)> = Vec::new();
    while i <= text.len() {
        let at_end = i == text.len();
        let eol = if at_end {
            Some(0)
        } else if text[i] == b'\r' && text.get(i + 1) == Some(&b'\n') {
            Some(2)
        } else if text[i] == b'\n' || text[i] == b'\r' {
            Some(1)
        } else {
            None
        };
        if let Some(n) = eol {
            let line = (line_start, i);
            let next = i + n;
            if line.0 == line.1 && !at_end {
                // Blank line: the section ends here, blank line included.
                if !lines.is_empty() {
                    out.push(section(&text[start..next], &lines, text));
                }
                lines.clear();
                start = next;
            } else if line.0 < line.1 {
                lines.push(line);
            }
            if at_end {
                if !lines.is_empty() {
                    out.push(section(&text[start..], &lines, text));
                }
                break;
            }
            i = next;
            line_start = next;
        } else {
            i += 1;
        }
    }
    out
}

fn section(raw: &[u8], lines: &[(usize, usize)], text: &[u8]) -> Section {
    let mut attrs = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for &(a, b) in lines {
        let line = String::from_utf8_lossy(&text[a..b]);
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some((_, v)) = current.as_mut() {
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = current.take() {
            attrs.insert(k, v);
        }
        if let Some((k, v)) = line.split_once(':') {
            current = Some((k.trim().to_string(), v.strip_prefix(' ').unwrap_or(v).to_string()));
        }
    }
    if let Some((k, v)) = current {
        attrs.insert(k, v);
    }
    Section { raw: raw.to_vec(), attrs }
}

/// `SHA-256-Digest` -> SHA-256, etc.
fn digest_alg(name: &str) -> Option<HashAlg> {
    Some(match name.to_ascii_uppercase().as_str() {
        "SHA-256" => HashAlg::Sha256,
        "SHA1" | "SHA-1" => HashAlg::Sha1,
        "SHA-384" => HashAlg::Sha384,
        "SHA-512" => HashAlg::Sha512,
        "MD5" => HashAlg::Md5,
        _ => return None,
    })
}

/// The digests a section states: attribute suffix (`-Digest`, `-Digest-Manifest`, ...) -> (alg, bytes).
fn digests(s: &Section, suffix: &str) -> Vec<(HashAlg, Vec<u8>)> {
    s.attrs
        .iter()
        .filter_map(|(k, v)| {
            let alg = digest_alg(k.strip_suffix(suffix)?)?;
            let d = base64::engine::general_purpose::STANDARD.decode(v.trim()).ok()?;
            Some((alg, d))
        })
        .collect()
}

fn matches_any(ds: &[(HashAlg, Vec<u8>)], data: &[u8]) -> Option<bool> {
    if ds.is_empty() {
        return None;
    }
    Some(ds.iter().any(|(alg, d)| alg.digest(data) == *d))
}

pub struct Checked {
    pub file_type: &'static str,
    pub signatures: Vec<FileSignatureReport>,
    pub notes: Vec<String>,
}

/// Whether a ZIP is a JAR/APK: it has a manifest, a signature file, or an Android manifest.
pub fn jar_kind(bytes: &[u8]) -> Option<&'static str> {
    let zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let names: Vec<&str> = zip.file_names().take(MAX_ENTRIES).collect();
    if names.contains(&"AndroidManifest.xml") {
        return Some("apk");
    }
    names.iter().any(|n| n.eq_ignore_ascii_case("META-INF/MANIFEST.MF") || n.ends_with(".class")).then_some("jar")
}

fn is_signature_related(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix("META-INF/") else { return false };
    if rest.contains('/') {
        return false;
    }
    rest == "MANIFEST.MF"
        || rest.ends_with(".SF")
        || rest.ends_with(".RSA")
        || rest.ends_with(".DSA")
        || rest.ends_with(".EC")
        || rest.starts_with("SIG-")
}

fn read_entry(
    zip: &mut zip::ZipArchive<std::io::Cursor<&[u8]>>,
    name: &str,
    cap: u64,
    total: &mut u64,
) -> Result<Vec<u8>, String> {
    let f = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    let mut buf = Vec::new();
    f.take(cap + 1).read_to_end(&mut buf).map_err(|e| format!("{name}: {e}"))?;
    if buf.len() as u64 > cap {
        return Err(format!("{name} inflates beyond {cap} bytes: refused"));
    }
    *total += buf.len() as u64;
    if *total > MAX_TOTAL_BYTES {
        return Err("archive inflates beyond the total limit: refused".into());
    }
    Ok(buf)
}

pub fn check(bytes: &[u8], file_type: &'static str, trust: &Trust) -> Checked {
    let mut out = Checked { file_type, signatures: Vec::new(), notes: Vec::new() };
    let fail = |msg: String| vec![verdict::fail(verdict::report("jar", "-".into()), Failure::Invalid(msg))];
    let mut zip = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(z) => z,
        Err(e) => {
            out.signatures = fail(format!("unreadable archive: {e}"));
            return out;
        }
    };
    if zip.len() > MAX_ENTRIES {
        out.signatures = fail(format!("{} entries exceed the limit of {MAX_ENTRIES}", zip.len()));
        return out;
    }
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    let sf_names: Vec<String> = names
        .iter()
        .filter(|n| {
            let u = n.to_ascii_uppercase();
            u.starts_with("META-INF/") && u.ends_with(".SF") && !u["META-INF/".len()..].contains('/')
        })
        .cloned()
        .collect();
    if sf_names.is_empty() {
        return out;
    }
    let mut total = 0u64;
    let Some(manifest_name) = names.iter().find(|n| n.eq_ignore_ascii_case("META-INF/MANIFEST.MF")).cloned() else {
        out.signatures = fail("signature files present but no META-INF/MANIFEST.MF".into());
        return out;
    };
    let manifest = match read_entry(&mut zip, &manifest_name, MAX_META_BYTES, &mut total) {
        Ok(m) => m,
        Err(e) => {
            out.signatures = fail(e);
            return out;
        }
    };
    let msections = sections(&manifest);
    let entries: BTreeMap<String, &Section> =
        msections.iter().skip(1).filter_map(|s| s.attrs.get("Name").map(|n| (n.clone(), s))).collect();

    // Entry digests in the manifest against the archive: once, shared by all signers.
    let mut entry_problems: Vec<String> = Vec::new();
    for (name, s) in &entries {
        let ds = digests(s, "-Digest");
        if ds.is_empty() {
            continue;
        }
        if !names.contains(name) {
            entry_problems.push(format!("manifest lists {name}, which the archive lacks"));
            continue;
        }
        match read_entry(&mut zip, name, MAX_ENTRY_BYTES, &mut total) {
            Ok(data) => {
                if matches_any(&ds, &data) == Some(false) {
                    entry_problems.push(format!("{name} was modified: its digest does not match the manifest"));
                }
            }
            Err(e) => entry_problems.push(e),
        }
    }
    let apk_v2_claimed = std::cell::Cell::new(false);

    for sf_name in &sf_names {
        let base = &sf_name[..sf_name.len() - 3];
        let mut r = verdict::report("jar", sf_name.clone());
        let block_name = names.iter().find(|n| {
            let u = n.to_ascii_uppercase();
            let b = base.to_ascii_uppercase();
            u == format!("{b}.RSA") || u == format!("{b}.DSA") || u == format!("{b}.EC")
        });
        let Some(block_name) = block_name.cloned() else {
            out.signatures.push(verdict::fail(r, Failure::Invalid(format!("{sf_name} has no signature block file"))));
            continue;
        };
        let (sf, block) = match (
            read_entry(&mut zip, sf_name, MAX_META_BYTES, &mut total),
            read_entry(&mut zip, &block_name, MAX_META_BYTES, &mut total),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                out.signatures.push(verdict::fail(r, Failure::Invalid(e)));
                continue;
            }
        };
        let ssections = sections(&sf);
        let Some(main) = ssections.first() else {
            out.signatures.push(verdict::fail(r, Failure::Invalid(format!("{sf_name} is empty"))));
            continue;
        };
        if main.attrs.get("X-Android-APK-Signed").is_some_and(|v| v.contains('2') || v.contains('3')) {
            apk_v2_claimed.set(true);
        }
        r.digest_algorithm = digests(main, "-Digest-Manifest").first().map(|(a, _)| a.name().to_string());
        // The .SF against the manifest: whole manifest, else main attributes and each section.
        let mut problems: Vec<String> = Vec::new();
        let signed_names: Vec<String> = ssections.iter().skip(1).filter_map(|s| s.attrs.get("Name").cloned()).collect();
        if matches_any(&digests(main, "-Digest-Manifest"), &manifest) != Some(true) {
            if matches_any(&digests(main, "-Digest-Manifest-Main-Attributes"), &msections[0].raw) == Some(false) {
                problems.push("the manifest's main attributes were modified after signing".into());
            }
            for s in ssections.iter().skip(1) {
                let Some(name) = s.attrs.get("Name") else { continue };
                match entries.get(name) {
                    None => problems.push(format!("{sf_name} signs {name}, which the manifest lacks")),
                    Some(ms) => {
                        if matches_any(&digests(s, "-Digest"), &ms.raw) == Some(false) {
                            problems.push(format!("the manifest section of {name} was modified after signing"));
                        }
                    }
                }
            }
        }
        // Any manifest entry that fails (modified, missing, refused as a bomb) breaks the archive.
        problems.extend(entry_problems.iter().cloned());
        for n in &names {
            if !n.ends_with('/') && !is_signature_related(n) && !signed_names.contains(n) {
                problems.push(format!("unsigned entry {n}"));
            }
        }
        let sd = match cms::parse_content_info(&block) {
            Ok(sd) => sd,
            Err(f) => {
                let mut r = verdict::fail(r, f);
                r.verification.reasons.extend(problems);
                out.signatures.push(r);
                continue;
            }
        };
        let Some(si) = sd.signers.first() else {
            out.signatures.push(verdict::fail(r, Failure::Invalid(format!("{block_name} has no signer"))));
            continue;
        };
        let content_ok = if problems.is_empty() { Ok(()) } else { Err(problems.join("; ")) };
        if r.digest_algorithm.as_deref() == Some("sha1") || si.hash().ok() == Some(HashAlg::Sha1) {
            r.verification.reasons.push("weak algorithm SHA-1 (JDK 17 treats such JARs as unsigned)".into());
        }
        out.signatures.push(verdict::signer(r, si, &sd.certificates, &sf, content_ok, trust));
    }
    // APK v2/v3: the signing block sits before the central directory; v1 alone cannot tell.
    let has_block = bytes.windows(16).any(|w| w == b"APK Sig Block 42");
    if apk_v2_claimed.get() && !has_block {
        for s in &mut out.signatures {
            s.verification.status = crate::report::Verdict::Invalid;
            s.verification.reasons.insert(
                0,
                "the .SF says the APK is signed with scheme v2/v3, but its signing block is gone: stripped".into(),
            );
        }
    } else if has_block {
        out.notes.push("APK Signature Scheme v2/v3 block present; only the v1 (JAR) signature is verified".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sections;

    #[test]
    fn sections_keep_their_exact_bytes_and_continuations() {
        let m = b"Manifest-Version: 1.0\r\nCreated-By: x\r\n\r\nName: a/very/long/na\r\n me.txt\r\nSHA-256-Digest: AAA=\r\n\r\n";
        let s = sections(m);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].raw, b"Manifest-Version: 1.0\r\nCreated-By: x\r\n\r\n");
        assert_eq!(s[1].attrs["Name"], "a/very/long/name.txt");
        assert_eq!(s[1].raw, &m[40..]);
    }
}
