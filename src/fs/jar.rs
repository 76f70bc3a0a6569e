//! Signed JARs (and APK v1 signatures): MANIFEST.MF entry digests against the archive entries,
//! the .SF digests against the manifest, and the PKCS#7 block over the exact .SF bytes
//! (JAR File Specification, "Signed JAR File"; SIGNED-FILES.md §3). Decompression is capped.

use super::verdict;
use crate::cms::{self, Failure};
use crate::crypto::HashAlg;
use crate::report::{FileSignatureReport, Reason, ReasonCode as C, Verdict};
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
            // Attribute names are case-insensitive (java.util.jar.Attributes.Name): kept lower-case.
            current = Some((k.trim().to_ascii_lowercase(), v.strip_prefix(' ').unwrap_or(v).to_string()));
        }
    }
    if let Some((k, v)) = current {
        attrs.insert(k, v);
    }
    Section { raw: raw.to_vec(), attrs }
}

/// Entry names that more than one (non-main) section of a manifest or signature file names.
fn repeated_names(sections: &[Section]) -> Vec<String> {
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for s in sections.iter().skip(1) {
        if let Some(n) = s.attrs.get("name") {
            *seen.entry(n.as_str()).or_default() += 1;
        }
    }
    seen.into_iter().filter(|(_, k)| *k > 1).map(|(n, _)| n.to_string()).collect()
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
            // A digest that is not base64 can match nothing (it still counts as listed).
            let d = base64::engine::general_purpose::STANDARD.decode(v.trim()).unwrap_or_default();
            Some((alg, d))
        })
        .collect()
}

/// Digest attributes of a section (`<alg><suffix>`) whose algorithm is not one we check.
fn unknown_digests(s: &Section, suffix: &str) -> Vec<String> {
    s.attrs
        .keys()
        .filter_map(|k| k.strip_suffix(suffix).filter(|alg| !alg.is_empty() && digest_alg(alg).is_none()))
        .map(|alg| alg.to_uppercase())
        .collect()
}

/// Whether `data` matches **every** digest a section lists that we check: `None` when it lists
/// none, `Some(false)` when one differs (the JDK checks them all; any one would let a matching
/// weak digest excuse a failing strong one). MD5 digests are broken and never count.
fn matches_all(ds: &[(HashAlg, Vec<u8>)], data: &[u8]) -> Option<bool> {
    let checked: Vec<&(HashAlg, Vec<u8>)> = ds.iter().filter(|(alg, _)| *alg != HashAlg::Md5).collect();
    if checked.is_empty() {
        return None;
    }
    Some(checked.iter().all(|(alg, d)| alg.digest(data) == *d))
}

/// Whether every digest a section lists that counts is SHA-1 (or it lists none but MD5).
fn only_weak(ds: &[(HashAlg, Vec<u8>)]) -> bool {
    !ds.is_empty() && ds.iter().all(|(alg, _)| matches!(alg, HashAlg::Sha1 | HashAlg::Md5))
}

/// The end of central directory record as the JDK's `ZipFile` and apksig find it: searching back
/// from the end of the file (at most 64 KiB + 22 bytes), the first `PK\5\6` whose comment length
/// reaches the end of the file exactly. (The `zip` crate also takes a record whose comment ends
/// before EOF, so a forged record inside the real one's comment could point it at another
/// directory; `central_directory` catches that.)
pub(crate) fn end_record(b: &[u8]) -> Option<usize> {
    let from = b.len().saturating_sub(22 + 0xffff);
    (from..b.len().saturating_sub(21)).rev().find(|&i| {
        b[i..i + 4] == *b"PK\x05\x06" && u16::from_le_bytes([b[i + 20], b[i + 21]]) as usize == b.len() - i - 22
    })
}

/// The end record the JDK (ZipFile.Source.findEND) takes: searching back from the end of the
/// file, the first `PK\5\6` whose comment reaches the end exactly, or whose directory and first
/// local header start with their signatures where the record puts them.
pub(crate) fn end_record_jdk(b: &[u8]) -> Option<usize> {
    let u32_at = |o: usize| b.get(o..o.checked_add(4)?).map(|x| u32::from_le_bytes(x.try_into().expect("4")) as usize);
    let from = b.len().saturating_sub(22 + 0xffff);
    (from..b.len().saturating_sub(21)).rev().find(|&i| {
        if b[i..i + 4] != *b"PK\x05\x06" {
            return false;
        }
        if u16::from_le_bytes([b[i + 20], b[i + 21]]) as usize == b.len() - i - 22 {
            return true;
        }
        let (Some(len), Some(off)) = (u32_at(i + 12), u32_at(i + 16)) else { return false };
        let Some(cen) = i.checked_sub(len) else { return false };
        let Some(loc) = cen.checked_sub(off) else { return false };
        b.get(cen..cen + 4) == Some(b"PK\x01\x02".as_slice()) && b.get(loc..loc + 4) == Some(b"PK\x03\x04".as_slice())
    })
}

/// The central directory the JDK and apksig read: (its position in the file, its entry count),
/// or why there is none. Its position is where the JDK puts it: the end record (or the ZIP64 end
/// record) minus the directory's size.
/// Also the directory's offset as the end record states it: a reader (the JDK, apksig) that
/// finds the directory elsewhere shifts every offset by the difference (a prefix added without
/// `zip -A` fixing the offsets).
fn central_directory(bytes: &[u8]) -> Result<(usize, usize, usize), String> {
    let u16_at = |o: usize| bytes.get(o..o.checked_add(2)?).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at =
        |o: usize| bytes.get(o..o.checked_add(4)?).map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize);
    let u64_at = |o: usize| {
        bytes.get(o..o.checked_add(8)?).and_then(|b| usize::try_from(u64::from_le_bytes(b.try_into().expect("8"))).ok())
    };
    let truncated = || "the end of central directory record is truncated".to_string();
    let eocd = end_record(bytes).ok_or_else(|| {
        "no end of central directory record whose comment reaches the end of the file (apksig's rule)".to_string()
    })?;
    // The JDK also takes a record whose comment length is wrong when its directory and first
    // local header are where it says: should it find another record first, it reads another
    // archive than apksig and we do.
    if let Some(jdk) = end_record_jdk(bytes).filter(|&j| j != eocd) {
        return Err(format!(
            "two end of central directory records: the JDK reads the one at offset {jdk}, apksig the one at {eocd}"
        ));
    }
    let (mut count, mut size, mut end) =
        (u16_at(eocd + 10).ok_or_else(truncated)?, u32_at(eocd + 12).ok_or_else(truncated)?, eocd);
    let mut stated = u32_at(eocd + 16).ok_or_else(truncated)?;
    // ZIP64, as the JDK (ZipFile.Source.findEND) and apksig take it: a locator just before the
    // end record pointing at a ZIP64 end record whose count, size and offset each equal the end
    // record's or replace its placeholder; then the directory ends at the ZIP64 end record. It is
    // looked for whether or not the end record holds placeholders (the JDK does), so a locator
    // cannot make the JDK read a directory we do not.
    let zip64 = || -> Option<(usize, usize, usize, usize)> {
        let loc = eocd.checked_sub(20)?;
        if bytes.get(loc..loc.checked_add(4)?)? != b"PK\x06\x07" {
            return None;
        }
        let z = u64_at(loc.checked_add(8)?)?;
        if bytes.get(z..z.checked_add(4)?)? != b"PK\x06\x06" {
            return None;
        }
        let (c, sz, o) = (u64_at(z.checked_add(32)?)?, u64_at(z.checked_add(40)?)?, u64_at(z.checked_add(48)?)?);
        let agrees = (c == count || count == 0xffff)
            && (sz == size || size == 0xffff_ffff)
            && (o == stated || stated == 0xffff_ffff);
        agrees.then_some((c, sz, z, o))
    };
    if let Some((c, s, z, o)) = zip64() {
        (count, size, end, stated) = (c, s, z, o);
    }
    let cd = end.checked_sub(size).ok_or("the central directory would start before the file")?;
    Ok((cd, count, stated))
}

/// Entry names as the central directory the JDK reads lists them, duplicates included (the zip
/// crate keeps one entry per name), with the lowest local header offset it gives (the start of
/// the archive's content: anything before it is a prefix no entry holds), or why not (`true`: the
/// zip crate read another directory).
fn central_directory_names(bytes: &[u8], crate_cd: u64) -> Result<(Vec<String>, usize), (bool, String)> {
    let (cd, count, stated) = central_directory(bytes).map_err(|e| (false, e))?;
    // Offsets as readers apply them: shifted when the directory is not where the end record says.
    let shift = cd.saturating_sub(stated);
    if crate_cd != cd as u64 {
        return Err((
            true,
            format!(
                "the archive has two central directories: the JDK and apksig read the one at offset {cd}, other ZIP \
             readers the one at offset {crate_cd} (an end record hidden in a comment)"
            ),
        ));
    }
    let u16_at = |o: usize| bytes.get(o..o.checked_add(2)?).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let bad = |pos: usize| (false, format!("the central directory entry at offset {pos} is malformed"));
    let u32_at =
        |o: usize| bytes.get(o..o.checked_add(4)?).map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize);
    let mut names = Vec::new();
    let mut first = cd;
    let mut pos = cd;
    let mut entries: Vec<Listed> = Vec::new();
    for _ in 0..count.min(MAX_ENTRIES + 1) {
        if bytes.get(pos..pos.saturating_add(4)) != Some(b"PK\x01\x02".as_slice()) {
            return Err(bad(pos));
        }
        let fields =
            (|| Some((u16_at(pos.checked_add(28)?)?, u16_at(pos.checked_add(30)?)?, u16_at(pos.checked_add(32)?)?)))();
        let (n, e, c) = fields.ok_or_else(|| bad(pos))?;
        let name = pos.checked_add(46).and_then(|a| bytes.get(a..a.checked_add(n)?)).ok_or_else(|| bad(pos))?;
        names.push(String::from_utf8_lossy(name).into_owned());
        // 0xffffffff: the offset is in the ZIP64 extra field.
        let offset = match u32_at(pos + 42) {
            Some(0xffff_ffff) => zip64_offset(bytes, pos, n, e),
            o => o,
        };
        // An offset that cannot be read is a malformed entry, not one to leave unchecked.
        let offset = offset.ok_or_else(|| bad(pos))?.saturating_add(shift);
        first = first.min(offset);
        entries.push(Listed {
            offset,
            flags: u16_at(pos + 8).unwrap_or(0),
            method: u16_at(pos + 10).unwrap_or(0),
            compressed: u32_at(pos + 20).unwrap_or(0),
            name: name.to_vec(),
        });
        pos = pos.checked_add(46 + n + e + c).ok_or_else(|| bad(pos))?;
    }
    gaps(bytes, &mut entries, cd).map_err(|why| (false, why))?;
    Ok((names, first))
}

/// The local header offset of the central directory entry at `pos` from its ZIP64 extended
/// information extra field (0x0001: the sizes first when theirs are 0xffffffff, then the offset).
fn zip64_offset(bytes: &[u8], pos: usize, name_len: usize, extra_len: usize) -> Option<usize> {
    let u16_at = |o: usize| bytes.get(o..o.checked_add(2)?).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at = |o: usize| bytes.get(o..o.checked_add(4)?).map(|b| u32::from_le_bytes(b.try_into().expect("4")));
    let mut at = pos.checked_add(46 + name_len)?;
    let end = at.checked_add(extra_len)?;
    while at + 4 <= end {
        let (id, len) = (u16_at(at)?, u16_at(at + 2)?);
        if id == 1 {
            let mut field = at + 4;
            for size_at in [24, 20] {
                if u32_at(pos + size_at)? == 0xffff_ffff {
                    field += 8;
                }
            }
            let b = bytes.get(field..field.checked_add(8)?)?;
            return usize::try_from(u64::from_le_bytes(b.try_into().ok()?)).ok();
        }
        at = at.checked_add(4 + len)?;
    }
    None
}

/// Bytes between the entries, or between the last entry and the directory, that no entry holds:
/// a reader walking local headers from the first (`java.util.jar.JarInputStream`, streaming
/// unzip) would find another entry there, which the directory, and so the signature check, never
/// lists. An entry's end: its local header, name, extra field, the compressed size the directory
/// gives, and its data descriptor if it has one; entries with ZIP64 sizes are not checked.
///
/// Each entry's local header must also agree with its directory entry (name, compression
/// method, and compressed size when the local header gives one): a streaming reader goes by the
/// local header, the signature check by the directory.
fn gaps(bytes: &[u8], entries: &mut [Listed], cd: usize) -> Result<(), String> {
    let u16_at = |o: usize| bytes.get(o..o.checked_add(2)?).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize);
    let u32_at =
        |o: usize| bytes.get(o..o.checked_add(4)?).map(|b| u32::from_le_bytes(b.try_into().expect("4")) as usize);
    entries.sort_by_key(|e| e.offset);
    for (i, e) in entries.iter().enumerate() {
        let (flags, compressed) = (e.flags, e.compressed);
        let start = e.offset;
        let mut next = entries.get(i + 1).map_or(cd, |e| e.offset);
        // Unreadable is malformed, never "no gap".
        let short = || format!("the local header at offset {start} runs past the end of the file");
        let shown = String::from_utf8_lossy(&e.name);
        let differs = |what: &str| {
            Err(format!(
                "the local header of {shown} (offset {start}) gives another {what} than its directory entry: a reader \
                 walking local headers reads another archive than the signature check"
            ))
        };
        if bytes.get(start..start.saturating_add(4)) != Some(b"PK\x03\x04".as_slice()) {
            return differs("signature (no local header there)");
        }
        let (name_len, local_flags) = (u16_at(start + 26).ok_or_else(short)?, u16_at(start + 6).ok_or_else(short)?);
        if bytes.get(start + 30..start.saturating_add(30 + name_len)) != Some(e.name.as_slice()) {
            return differs("name");
        }
        if u16_at(start + 8).ok_or_else(short)? != e.method {
            return differs("compression method");
        }
        let local_size = u32_at(start + 18).ok_or_else(short)?;
        if local_flags & 0x8 == 0 && local_size != 0xffff_ffff && local_size != compressed {
            return differs("compressed size");
        }
        // An APK Signing Block sits between the last entry and the directory (apk::block checks
        // its layout): the entries must end where it starts.
        if next == cd && cd >= 32 && bytes.get(cd - 16..cd) == Some(b"APK Sig Block 42".as_slice()) {
            let size = bytes.get(cd - 24..cd - 16).map(|b| u64::from_le_bytes(b.try_into().expect("8")));
            if let Some(block_start) =
                size.and_then(|n| usize::try_from(n).ok()).and_then(|n| cd.checked_sub(n)?.checked_sub(8))
            {
                next = block_start;
            }
        }
        if compressed == 0xffff_ffff {
            continue;
        }
        let extra_len = u16_at(start + 28).ok_or_else(short)?;
        let mut end = start.saturating_add(30 + name_len + extra_len).saturating_add(compressed);
        // A data descriptor after the data: CRC and both sizes, with or without its signature.
        if flags & 0x8 != 0 {
            end += if bytes.get(end..end + 4) == Some(b"PK\x07\x08".as_slice()) { 16 } else { 12 };
        }
        // Zero padding (apksigner aligns the signing block to 4096) holds no entry.
        if end < next && bytes.get(end..next).is_some_and(|g| g.iter().any(|&b| b != 0)) {
            return Err(format!(
                "{} bytes between the entry at offset {start} and the next, which no directory entry holds: a reader \
                 walking local headers finds content the signature check never sees",
                next - end
            ));
        }
    }
    Ok(())
}

/// A central directory entry, as the local header check needs it.
struct Listed {
    /// Where its local header is, as readers apply the offset (shifted by any prefix).
    offset: usize,
    flags: usize,
    method: usize,
    compressed: usize,
    name: Vec<u8>,
}

/// Why content before an archive's first entry makes a JAR (or a v1-only APK) signature void.
pub(crate) fn prefix_reason(prefix: usize) -> String {
    format!(
        "{prefix} bytes before the archive's first entry, which no JAR signature covers: whatever reads the file \
         from its start (a shell launcher, Android's DEX loader as in Janus CVE-2017-13156, a ZIP reader walking \
         local headers) runs or lists unsigned content"
    )
}

/// `.SF` files in one archive at most (each is checked against every entry name).
const MAX_SIGNATURE_FILES: usize = 64;

/// id-data: the eContentType of a JAR's detached signature.
const ID_DATA: &str = "1.2.840.113549.1.7.1";

/// The JDK's rule for SHA-1 in signed JARs (jdk.jar.disabledAlgorithms "SHA1 denyAfter
/// 2019-01-01", JDK 17+): the JAR is treated as unsigned unless a trusted timestamp dates the
/// signature before 2019. Such a signature is never better than `invalid` here.
fn sha1_rule(mut r: FileSignatureReport) -> FileSignatureReport {
    const DENY_AFTER: &str = "2019-01-01T00:00:00Z";
    let stamped_before = r.timestamp.as_ref().is_some_and(|t| t.verified && t.time.as_str() < DENY_AFTER);
    if stamped_before {
        r.verification.push(
            C::WeakSha1Timestamped.reason("weak algorithm SHA-1, accepted as the JDK does: timestamped before 2019"),
        );
        return r;
    }
    if matches!(r.verification.status, Verdict::Verified | Verdict::Untrusted | Verdict::Unverified) {
        r.verification.status = Verdict::Invalid;
    }
    r.verification.insert(
        0,
        C::WeakSha1.reason(
            "weak algorithm SHA-1 without a trusted timestamp before 2019: the JDK (17+) treats this JAR as unsigned",
        ),
    );
    r
}

/// Problems of one kind in one reason, `; `-separated (a JAR can have thousands of unsigned
/// entries), the kinds in the order they first appear.
fn by_code(problems: Vec<Reason>) -> Vec<Reason> {
    let mut out: Vec<Reason> = Vec::new();
    for p in problems {
        match out.iter_mut().find(|r| r.code == p.code) {
            Some(r) => {
                r.text.push_str("; ");
                r.text.push_str(&p.text);
            }
            None => out.push(p),
        }
    }
    out
}

pub struct Checked {
    pub file_type: &'static str,
    pub signatures: Vec<FileSignatureReport>,
    pub notes: Vec<String>,
    /// APK signature schemes (2, 3) a `.SF`'s `X-Android-APK-Signed` says the APK carries.
    pub apk_signed: Vec<u32>,
    /// Bytes before the archive's first entry (a launcher script, a DEX header, another
    /// archive): no JAR signature covers them. An APK's v2/v3 signatures do.
    pub prefix: usize,
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

/// The name of a signature file without its `.SF` extension (however its case is written).
fn sf_base(name: &str) -> Option<&str> {
    let cut = name.char_indices().rev().nth(2)?.0;
    (name[cut..].to_uppercase() == ".SF").then(|| &name[..cut])
}

/// Names are compared as `String.toUpperCase(Locale.ENGLISH)` compares them in the JDK (full
/// Unicode upper-casing: `ı` and `ſ` become I and S), so what the JDK takes for a signature file
/// or the manifest, we do too.
fn is_signature_related(name: &str) -> bool {
    let upper = name.to_uppercase();
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
    let mut out = Checked { file_type, signatures: Vec::new(), notes: Vec::new(), apk_signed: Vec::new(), prefix: 0 };
    let fail =
        |msg: String| vec![verdict::fail(verdict::report("jar", "-".into()), Failure::Invalid(C::JarMalformed, msg))];
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
    // Looked up once per manifest entry and per name: a set, so that an archive of 100,000
    // entries and sections costs linear time, not quadratic.
    let name_set: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let sf_names: Vec<String> = names
        .iter()
        .filter(|n| {
            let u = n.to_uppercase();
            u.starts_with("META-INF/") && sf_base(n).is_some() && !u["META-INF/".len()..].contains('/')
        })
        .cloned()
        .collect();
    // The entries verified must be the ones the JDK and Android read: the zip crate must have
    // found the same central directory (an end record forged inside the real one's comment can
    // point it at the original directory while the JDK reads a replacement). A ZIP that is
    // unsigned in both views stays unsigned.
    let listed = central_directory_names(bytes, zip.central_directory_start());
    let listed = match listed {
        Ok((l, first)) => {
            out.prefix = first;
            l
        }
        Err((two_directories, why)) => {
            if sf_names.is_empty() && !two_directories {
                return out;
            }
            out.signatures =
                vec![verdict::fail(verdict::report("jar", "-".into()), Failure::Invalid(C::JarAmbiguous, why))];
            return out;
        }
    };
    if sf_names.is_empty() {
        return out;
    }
    if sf_names.len() > MAX_SIGNATURE_FILES {
        out.signatures = fail(format!(
            "{} signature files exceed the limit of {MAX_SIGNATURE_FILES} (real archives carry one to three)",
            sf_names.len()
        ));
        return out;
    }
    // Names a reader could resolve to more than one entry make the archive ambiguous: what we
    // verify need not be what runs. java.util.jar.JarFile reads the manifest named exactly
    // META-INF/MANIFEST.MF (else its case variant) and signature files by their upper-case names.
    let mut ambiguous: Vec<Reason> = Vec::new();
    let mut seen = std::collections::BTreeMap::<&str, usize>::new();
    for n in &listed {
        *seen.entry(n.as_str()).or_default() += 1;
    }
    for (n, k) in seen.iter().filter(|(n, k)| **k > 1 && !n.ends_with('/')) {
        ambiguous.push(
            C::JarAmbiguous
                .reason(format!("the archive holds {k} entries named {n}: which one a reader takes is not defined")),
        );
    }
    // Content before the first entry: what reads the file from its start (a shell running a
    // launcher, Android's DEX loader, a ZIP reader walking local headers) sees bytes no JAR
    // signature covers. An APK's v2/v3 signatures do cover them: apk::check decides.
    if out.prefix > 0 && file_type != "apk" {
        ambiguous.push(C::JarAmbiguous.reason(prefix_reason(out.prefix)));
    }
    let variants = |upper: &str| -> Vec<&String> { names.iter().filter(|n| n.to_uppercase() == upper).collect() };
    let manifests = variants("META-INF/MANIFEST.MF");
    if manifests.len() > 1 {
        ambiguous.push(
            C::JarAmbiguous.reason(format!(
                "the archive holds {} manifests differing only in case: {manifests:?}",
                manifests.len()
            )),
        );
    }
    let mut total = 0u64;
    let manifest_name = names.iter().find(|n| *n == "META-INF/MANIFEST.MF").or(manifests.first().copied()).cloned();
    let Some(manifest_name) = manifest_name else {
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
        msections.iter().skip(1).filter_map(|s| s.attrs.get("name").map(|n| (n.clone(), s))).collect();
    // Two sections for one name: the JDK merges them, so which digest counts is not ours to guess.
    ambiguous.extend(
        repeated_names(&msections)
            .into_iter()
            .map(|n| C::JarAmbiguous.reason(format!("the manifest has more than one section for {n}"))),
    );

    // Entry digests in the manifest against the archive: once, shared by all signers.
    let mut entry_problems: Vec<Reason> = ambiguous;
    let mut weak_entries = false;
    // Entries digested only with algorithms we do not check: never better than `unsupported`.
    let mut unsupported: Vec<Reason> = Vec::new();
    // Entries whose manifest section states a digest we check: only these can be signed.
    let mut digested: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for (name, s) in &entries {
        let ds = digests(s, "-digest");
        if ds.iter().all(|(alg, _)| *alg == HashAlg::Md5) && !ds.is_empty() {
            entry_problems
                .push(C::WeakMd5.reason(format!("{name} has only MD5 digests in the manifest, which are broken")));
            continue;
        }
        if ds.is_empty() {
            let unknown = unknown_digests(s, "-digest");
            if !unknown.is_empty() {
                unsupported.push(C::UnsupportedAlgorithm.reason(format!(
                    "{name} is digested only with {}, which is not supported here",
                    unknown.join(", ")
                )));
                // Signed, with an algorithm we cannot check: the verdict says unsupported.
                digested.insert(name.as_str());
            }
            continue;
        }
        digested.insert(name.as_str());
        weak_entries |= only_weak(&ds);
        if !name_set.contains(name.as_str()) {
            entry_problems.push(C::JarEntryMissing.reason(format!("manifest lists {name}, which the archive lacks")));
            continue;
        }
        match read_entry(&mut zip, name, MAX_ENTRY_BYTES, &mut total) {
            Ok(data) => match matches_all(&ds, &data) {
                Some(true) => {}
                Some(false) => entry_problems.push(
                    C::JarEntryModified.reason(format!("{name} was modified: its digest does not match the manifest")),
                ),
                None => entry_problems
                    .push(C::WeakMd5.reason(format!("{name} has only MD5 digests in the manifest, which are broken"))),
            },
            Err(e) => entry_problems.push(C::JarMalformed.reason(e)),
        }
    }

    for sf_name in &sf_names {
        let base = sf_base(sf_name).expect("a signature file name");
        let mut r = verdict::report("jar", sf_name.clone());
        let b = base.to_uppercase();
        let blocks: Vec<&String> = names
            .iter()
            .filter(|n| {
                let u = n.to_uppercase();
                u == format!("{b}.RSA") || u == format!("{b}.DSA") || u == format!("{b}.EC")
            })
            .collect();
        if variants(&sf_name.to_uppercase()).len() > 1 || blocks.len() > 1 {
            let what = format!("{sf_name}: more than one signature file or block differing only in case or type");
            out.signatures.push(verdict::fail(r, Failure::Invalid(C::JarAmbiguous, what)));
            continue;
        }
        let Some(block_name) = blocks.first().map(|b| (*b).clone()) else {
            let what = format!("{sf_name} has no signature block file");
            out.signatures.push(verdict::fail(r, Failure::Invalid(C::JarMalformed, what)));
            continue;
        };
        let (sf, block) = match (
            read_entry(&mut zip, sf_name, MAX_META_BYTES, &mut total),
            read_entry(&mut zip, &block_name, MAX_META_BYTES, &mut total),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                out.signatures.push(verdict::fail(r, Failure::Invalid(C::JarMalformed, e)));
                continue;
            }
        };
        let ssections = sections(&sf);
        let Some(main) = ssections.first() else {
            out.signatures.push(verdict::fail(r, Failure::Invalid(C::JarMalformed, format!("{sf_name} is empty"))));
            continue;
        };
        if let Some(n) = repeated_names(&ssections).first() {
            let what = format!("{sf_name} has more than one section for {n}");
            out.signatures.push(verdict::fail(r, Failure::Invalid(C::JarAmbiguous, what)));
            continue;
        }
        // APK stripping protection: the signature schemes this .SF says the APK also carries.
        if let Some(v) = main.attrs.get("x-android-apk-signed") {
            for id in v.split(',').filter_map(|x| x.trim().parse::<u32>().ok()) {
                if !out.apk_signed.contains(&id) {
                    out.apk_signed.push(id);
                }
            }
        }
        let whole = digests(main, "-digest-manifest");
        r.digest_algorithm = whole.first().map(|(a, _)| a.name().to_string());
        // The .SF against the manifest: whole manifest, else main attributes and each section.
        let mut problems: Vec<Reason> = Vec::new();
        let mut weak = weak_entries;
        let signed_names: std::collections::HashSet<&str> =
            ssections.iter().skip(1).filter_map(|s| s.attrs.get("name").map(String::as_str)).collect();
        if matches_all(&whole, &manifest) == Some(true) {
            weak |= only_weak(&whole);
        } else {
            let main_attrs = digests(main, "-digest-manifest-main-attributes");
            weak |= only_weak(&main_attrs);
            if matches_all(&main_attrs, &msections[0].raw) == Some(false) {
                problems
                    .push(C::JarManifestModified.reason("the manifest's main attributes were modified after signing"));
            }
            for s in ssections.iter().skip(1) {
                let Some(name) = s.attrs.get("name") else { continue };
                let ds = digests(s, "-digest");
                weak |= only_weak(&ds);
                match entries.get(name) {
                    None => problems
                        .push(C::JarEntryMissing.reason(format!("{sf_name} signs {name}, which the manifest lacks"))),
                    Some(ms) => match matches_all(&ds, &ms.raw) {
                        Some(true) => {}
                        Some(false) => problems.push(
                            C::JarManifestModified
                                .reason(format!("the manifest section of {name} was modified after signing")),
                        ),
                        None if !unknown_digests(s, "-digest").is_empty() => {
                            unsupported.push(C::UnsupportedAlgorithm.reason(format!(
                                "{sf_name} digests the section of {name} only with {}, which is not supported here",
                                unknown_digests(s, "-digest").join(", ")
                            )))
                        }
                        None => problems.push(
                            C::JarNoDigest
                                .reason(format!("{sf_name} has no digest we accept for the section of {name}")),
                        ),
                    },
                }
            }
        }
        // Any manifest entry that fails (modified, missing, refused as a bomb) breaks the archive.
        problems.extend(entry_problems.iter().cloned());
        for n in &names {
            if !n.ends_with('/')
                && !is_signature_related(n)
                && (!signed_names.contains(n.as_str()) || !digested.contains(n.as_str()))
            {
                problems.push(C::JarUnsignedEntry.reason(format!("unsigned entry {n}")));
            }
        }
        let sd = match cms::parse_content_info(&block) {
            Ok(sd) => sd,
            Err(f) => {
                let mut r = verdict::fail(r, f);
                r.verification.extend(by_code(problems));
                out.signatures.push(r);
                continue;
            }
        };
        let Some(si) = sd.signers.first() else {
            let what = format!("{block_name} has no signer");
            out.signatures.push(verdict::fail(r, Failure::Invalid(C::MalformedSignature, what)));
            continue;
        };
        let content_ok = if problems.is_empty() { Ok(()) } else { Err(by_code(problems)) };
        weak |= si.hash().ok() == Some(HashAlg::Sha1);
        let expect = verdict::Expect { content_type: ID_DATA, purpose: &crate::pki::path::JAR_SIGNING };
        let mut r = verdict::signer(r, si, &sd.certificates, &sf, content_ok, trust, &expect);
        if !unsupported.is_empty()
            && matches!(r.verification.status, Verdict::Verified | Verdict::Untrusted | Verdict::Unverified)
        {
            r.verification.status = Verdict::Unsupported;
            r.verification.prepend(unsupported.iter().cloned());
        }
        out.signatures.push(if weak { sha1_rule(r) } else { r });
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
        assert_eq!(s[1].attrs["name"], "a/very/long/name.txt");
        assert_eq!(s[1].raw, &m[40..]);
    }
}
