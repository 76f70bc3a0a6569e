//! Authenticode in PE/COFF files (SIGNED-FILES.md §2). goblin validates the headers; the image
//! hash is computed linearly (everything but the CheckSum, the security directory entry and the
//! certificate table), as osslsigncode and signify do, because the specification's section
//! walk over- or under-counts on real files (and goblin's ranges panic on some). Every offset
//! from the file is bounds-checked.

use super::verdict;
use crate::cms::{self, Failure};
use crate::crypto::{HashAlg, Hasher};
use crate::der;
use crate::report::{FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;
use std::collections::BTreeMap;

const SPC_INDIRECT_DATA: &str = "1.3.6.1.4.1.311.2.1.4";
const NESTED_SIGNATURE: &str = "1.3.6.1.4.1.311.2.4.1";
const MAX_SIGNATURES: usize = 16;

/// The header facts the hash needs.
struct Layout {
    checksum: usize,
    security_dir: usize,
    table: Option<(usize, usize)>,
    /// Where the raw data of the last section ends (the highest PointerToRawData +
    /// SizeOfRawData): the certificate table is not part of the image, so it must lie after it.
    sections_end: usize,
}

/// Whether `bytes` is a PE file goblin can read.
pub fn is_pe(bytes: &[u8]) -> bool {
    bytes.starts_with(b"MZ") && layout(bytes).is_ok()
}

fn layout(bytes: &[u8]) -> Result<Layout, String> {
    let header = goblin::pe::header::Header::parse(bytes).map_err(|e| format!("PE header: {e}"))?;
    let opt = header.optional_header.ok_or("PE without optional header")?;
    let e_lfanew = header.dos_header.pe_pointer as usize;
    let opt_start = e_lfanew.checked_add(24).ok_or("bad e_lfanew")?;
    let security_dir = match opt.standard_fields.magic {
        0x10b => opt_start + 128,
        0x20b => opt_start + 144,
        m => return Err(format!("unknown optional header magic {m:#x}")),
    };
    let sections_end = sections_end(bytes, e_lfanew, header.coff_header.number_of_sections as usize)
        .ok_or("the section table lies outside the file")?;
    if security_dir + 8 > bytes.len() || opt.windows_fields.number_of_rva_and_sizes < 5 {
        return Ok(Layout { checksum: opt_start + 64, security_dir, table: None, sections_end });
    }
    let rd = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().expect("4 bytes")) as usize;
    let (off, size) = (rd(security_dir), rd(security_dir + 4));
    let table = (size > 0).then_some((off, size));
    Ok(Layout { checksum: opt_start + 64, security_dir, table, sections_end })
}

/// The end of the raw data of every section: the highest PointerToRawData + SizeOfRawData of the
/// section headers (40 bytes each, after the COFF header and the optional header).
fn sections_end(bytes: &[u8], e_lfanew: usize, count: usize) -> Option<usize> {
    let opt_size = u16::from_le_bytes(bytes.get(e_lfanew + 20..e_lfanew + 22)?.try_into().ok()?) as usize;
    let table = e_lfanew.checked_add(24)?.checked_add(opt_size)?;
    let mut end = 0usize;
    // Every header: the loader maps more than 96 sections on current Windows.
    for i in 0..count {
        let h = bytes.get(table + 40 * i..table + 40 * (i + 1))?;
        let size = u32::from_le_bytes(h[16..20].try_into().ok()?) as usize;
        let ptr = u32::from_le_bytes(h[20..24].try_into().ok()?) as usize;
        if size > 0 {
            end = end.max(ptr.checked_add(size)?);
        }
    }
    Some(end)
}

/// The outcome for one PE file: its signatures and anomalies.
pub struct Checked {
    pub signatures: Vec<FileSignatureReport>,
    pub notes: Vec<String>,
}

pub fn check(bytes: &[u8], trust: &Trust) -> Checked {
    let mut notes = Vec::new();
    let lay = match layout(bytes) {
        Ok(l) => l,
        Err(e) => {
            let r = verdict::fail(verdict::report("authenticode", "0".into()), Failure::Invalid(C::PeMalformed, e));
            return Checked { signatures: vec![r], notes };
        }
    };
    let Some((table_off, table_size)) = lay.table else { return Checked { signatures: Vec::new(), notes } };
    let table_end =
        table_off.checked_add(table_size).filter(|e| *e <= bytes.len() && table_off >= lay.security_dir + 8);
    let Some(table_end) = table_end else {
        let f = Failure::Invalid(C::PeMalformed, "certificate table lies outside the file or over the headers".into());
        return Checked { signatures: vec![verdict::fail(verdict::report("authenticode", "0".into()), f)], notes };
    };
    // The table is not part of the image: it must follow the raw data of every section, 8-byte
    // aligned (PE/COFF specification, "The Attribute Certificate Table"; osslsigncode refuses
    // anything else). A table over section data would leave those bytes out of the hash.
    let misplaced = if table_off < lay.sections_end {
        Some(format!(
            "the certificate table at {table_off:#x} overlaps or precedes section data, which ends at {:#x}",
            lay.sections_end
        ))
    } else if table_off % 8 != 0 {
        Some(format!("the certificate table at {table_off:#x} is not 8-byte aligned"))
    } else {
        None
    };
    if let Some(m) = misplaced {
        let f = Failure::Invalid(C::PeMalformed, format!("{m}: the file is not a well-formed signed image"));
        return Checked { signatures: vec![verdict::fail(verdict::report("authenticode", "0".into()), f)], notes };
    }
    if table_end != bytes.len() {
        notes.push(format!(
            "{} bytes after the certificate table: they are hashed with the image (the signature covers them), \
             but tools that expect the table at the end of the file (osslsigncode) ignore the signature",
            bytes.len() - table_end
        ));
    }

    // WIN_CERTIFICATE entries, 8-byte aligned.
    let mut blobs = Vec::new();
    let mut pos = table_off;
    while pos + 8 <= table_end && blobs.len() < MAX_SIGNATURES {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let (rev, kind) = (
            u16::from_le_bytes([bytes[pos + 4], bytes[pos + 5]]),
            u16::from_le_bytes([bytes[pos + 6], bytes[pos + 7]]),
        );
        if len < 8 || pos + len > table_end {
            notes.push(format!("WIN_CERTIFICATE at {pos:#x} has a bad length {len}"));
            break;
        }
        if kind == 2 && (rev == 0x0200 || rev == 0x0100) {
            let body = &bytes[pos + 8..pos + len];
            if let Ok((t, rest)) = der::read(body) {
                if rest.iter().any(|b| *b != 0) {
                    notes.push(format!("{} non-zero bytes after the PKCS#7 in its WIN_CERTIFICATE", rest.len()));
                }
                blobs.push(t.raw);
            } else {
                blobs.push(body);
            }
        } else {
            notes.push(format!("WIN_CERTIFICATE of revision {rev:#x}, type {kind} skipped"));
        }
        pos += len.div_ceil(8) * 8;
    }

    // Parse every signature (nested ones too) once, before hashing, to know the algorithms.
    let mut parsed: Vec<(String, Result<cms::SignedData, Failure>)> = Vec::new();
    for (i, b) in blobs.iter().enumerate() {
        collect(b, i.to_string(), 0, &mut parsed);
    }
    let mut algs: Vec<HashAlg> = Vec::new();
    for (_, sd) in &parsed {
        if let Some((_, alg, _)) = sd.as_ref().ok().and_then(|sd| indirect_data(sd).ok()) {
            if !algs.contains(&alg) {
                algs.push(alg);
            }
        }
    }
    let hashes = image_hashes(bytes, &lay, table_off, table_end, &algs);

    let mut signatures = Vec::new();
    for (index, sd) in parsed {
        let r = verdict::report("authenticode", index);
        let checked = sd.and_then(|sd| indirect_data(&sd).map(|item| (item, sd)));
        let ((content, alg, embedded), sd) = match checked {
            Ok(x) => x,
            Err(f) => {
                signatures.push(verdict::fail(r, f));
                continue;
            }
        };
        let Some(si) = sd.signers.first() else {
            signatures.push(verdict::fail(r, Failure::Invalid(C::MalformedSignature, "no signer".into())));
            continue;
        };
        let mut r = r;
        r.digest_algorithm = Some(alg.name().into());
        // SpcPeImagePageHashes V1/V2 (1.3.6.1.4.1.311.2.3.1/2), serialized inside the indirect data.
        let page_hashes = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x03];
        if content.windows(page_hashes.len()).any(|w| w == page_hashes) {
            let note = "page hashes present: not checked (the image hash, which is, covers every page)".to_string();
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
        let computed = &hashes[&alg];
        let content_ok = if alg == HashAlg::Md5 {
            Err(vec![C::WeakMd5.reason("image hash algorithm MD5 is broken (collisions can be made) and not accepted")])
        } else if computed.as_slice() == embedded {
            Ok(())
        } else {
            Err(vec![C::ImageHashMismatch.reason(format!(
                "image hash mismatch: signed {} {}, file has {}; the file was modified after signing",
                alg.name(),
                hex::encode(embedded),
                hex::encode(computed)
            ))])
        };
        let expect = verdict::Expect { content_type: SPC_INDIRECT_DATA, purpose: &crate::pki::path::CODE_SIGNING };
        let mut r = verdict::signer(r, si, &sd.certificates, content, content_ok, trust, &expect);
        if alg == HashAlg::Sha1 {
            r.verification.push(
                C::WeakSha1
                    .reason("weak algorithm: SHA-1 image hash (it never outranks a SHA-2 signature of the same file)"),
            );
        }
        signatures.push(r);
    }
    Checked { signatures, notes }
}

/// The signature and its nested signatures (unsigned attribute 1.3.6.1.4.1.311.2.4.1), each parsed once.
fn collect<'a>(
    blob: &'a [u8],
    index: String,
    depth: usize,
    out: &mut Vec<(String, Result<cms::SignedData<'a>, Failure>)>,
) {
    if out.len() >= MAX_SIGNATURES {
        return;
    }
    let sd = cms::parse_content_info(blob);
    let nested: Vec<&'a [u8]> = match (&sd, depth < 3) {
        (Ok(sd), true) => {
            sd.signers.first().map(|si| si.unsigned_attr(NESTED_SIGNATURE).map(|t| t.raw).collect()).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    out.push((index.clone(), sd));
    for (i, n) in nested.into_iter().enumerate() {
        collect(n, format!("{index}.{}", i + 1), depth + 1, out);
    }
}

/// SpcIndirectDataContent: the signed content bytes (its value), the image hash algorithm and
/// the embedded image hash.
fn indirect_data<'a>(sd: &cms::SignedData<'a>) -> Result<(&'a [u8], HashAlg, &'a [u8]), Failure> {
    if sd.content_type != SPC_INDIRECT_DATA {
        let why = format!("content type {} is not SpcIndirectDataContent", sd.content_type);
        return Err(Failure::Invalid(C::MalformedSignature, why));
    }
    let malformed = |why: &str| Failure::Invalid(C::MalformedSignature, why.into());
    let content =
        sd.content.filter(|t| t.tag == der::SEQUENCE).ok_or_else(|| malformed("no SpcIndirectDataContent"))?;
    let kids = der::children(content.content)?;
    let digest_info = kids.get(1).ok_or_else(|| malformed("SpcIndirectDataContent lacks its DigestInfo"))?;
    let (alg, rest) = der::expect(digest_info.content, der::SEQUENCE)?;
    let (digest, _) = der::expect(rest, der::OCTET_STRING)?;
    let alg = der::algorithm_oid(&alg)?;
    let alg = HashAlg::from_oid(&alg)
        .ok_or_else(|| Failure::Unsupported(C::UnsupportedAlgorithm, format!("image hash algorithm {alg}")))?;
    Ok((content.content, alg, digest.content))
}

/// The Authenticode image hash for each algorithm, one pass over the file.
fn image_hashes(
    bytes: &[u8],
    lay: &Layout,
    table_off: usize,
    table_end: usize,
    algs: &[HashAlg],
) -> BTreeMap<HashAlg, Vec<u8>> {
    let mut hashers: Vec<(HashAlg, Hasher)> = algs.iter().map(|a| (*a, a.hasher())).collect();
    let ranges = [
        (0, lay.checksum),
        (lay.checksum + 4, lay.security_dir),
        (lay.security_dir + 8, table_off),
        (table_end, bytes.len()),
    ];
    for (a, b) in ranges {
        if a < b && b <= bytes.len() {
            for (_, h) in hashers.iter_mut() {
                h.update(&bytes[a..b]);
            }
        }
    }
    hashers.into_iter().map(|(a, h)| (a, h.finish())).collect()
}
