//! Authenticode in PE/COFF files (SIGNED-FILES.md §2). goblin validates the headers; the image
//! hash is computed linearly (everything but the CheckSum, the security directory entry and the
//! certificate table), as osslsigncode and signify do, because the specification's section
//! walk over- or under-counts on real files (and goblin's ranges panic on some). Every offset
//! from the file is bounds-checked.

use super::verdict;
use crate::cms::Failure;
use crate::crypto::{HashAlg, Hasher};
use crate::der;
use crate::report::{FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;
use std::collections::BTreeMap;

use super::authenticode::{self, MAX_SIGNATURES};

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

    let mut page_hash_note = false;
    let hashing = authenticode::Hashing { what: "image hash", mismatch: C::ImageHashMismatch };
    let signatures = authenticode::verify(
        &blobs,
        "authenticode",
        trust,
        &hashing,
        &mut |algs| {
            image_hashes(bytes, &lay, table_off, table_end, algs).into_iter().map(|(a, h)| (a, Ok(h))).collect()
        },
        &mut |content| {
            // SpcPeImagePageHashes V1/V2 (1.3.6.1.4.1.311.2.3.1/2), serialized inside the indirect data.
            let page_hashes = [0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x03];
            page_hash_note |= content.windows(page_hashes.len()).any(|w| w == page_hashes);
        },
    );
    if page_hash_note {
        notes.push("page hashes present: not checked (the image hash, which is, covers every page)".to_string());
    }
    Checked { signatures, notes }
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

/// The Authenticode image hashes of a PE file, signed or not (what a catalog lists for it);
/// `None` if the headers or the certificate table do not read.
pub fn image_hashes_of(bytes: &[u8], algs: &[HashAlg]) -> Option<BTreeMap<HashAlg, Vec<u8>>> {
    let lay = layout(bytes).ok()?;
    let (off, end) = match lay.table {
        None => (bytes.len(), bytes.len()),
        Some((off, size)) => (off, off.checked_add(size).filter(|e| *e <= bytes.len() && off >= lay.security_dir + 8)?),
    };
    Some(image_hashes(bytes, &lay, off, end, algs))
}
