//! Authenticode in cabinets: with `cfhdrRESERVE_PRESENT`, a 20-byte per-cabinet reserve
//! (cbCFHeader 20, no per-folder or per-data reserve) whose first word is 0x00100000 and whose
//! next two words are the signature's offset and size; the signature ends the file. The signed
//! hash (osslsigncode cab.c) covers: the signature `MSCF`; cbCabinet, reserved2, coffFiles,
//! reserved3, the version, cFolders, cFiles, flags and setID (skipping reserved1, iCabinet, the
//! reserve sizes and the first 16 reserve bytes); the last 4 reserve bytes; the optional
//! previous/next cabinet names; the CFFOLDER entries (which must end at coffFiles); and the rest
//! of the file up to the signature.

use super::authenticode::{self, Digests, Hashing};
use super::verdict;
use crate::cms::Failure;
use crate::crypto::HashAlg;
use crate::der;
use crate::report::{FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;

const RESERVE_PRESENT: u16 = 0x0004;
const PREV_CABINET: u16 = 0x0001;
const NEXT_CABINET: u16 = 0x0002;

pub struct Checked {
    pub signatures: Vec<FileSignatureReport>,
    pub notes: Vec<String>,
}

fn u16_at(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

fn u32_at(b: &[u8], o: usize) -> usize {
    u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes")) as usize
}

/// Check a cabinet (the caller saw `MSCF`). Every cabinet is reported: unsigned when it has no
/// signature.
pub fn check(bytes: &[u8], trust: &Trust) -> Checked {
    let fail = |f: Failure| Checked {
        signatures: vec![verdict::fail(verdict::report("authenticode", "0".into()), f)],
        notes: Vec::new(),
    };
    let malformed = |why: String| fail(Failure::Invalid(C::SignedFileMalformed, why));
    if bytes.len() < 36 {
        return malformed("a cabinet header is 36 bytes at least".into());
    }
    let flags = u16_at(bytes, 30);
    if flags & RESERVE_PRESENT == 0 {
        return Checked { signatures: Vec::new(), notes: Vec::new() };
    }
    if bytes.len() < 60 {
        return malformed("the cabinet's reserve area lies outside the file".into());
    }
    let (cb_header, cb_folder, cb_data) = (u16_at(bytes, 36), bytes[38], bytes[39]);
    if cb_header != 20 || cb_folder != 0 || cb_data != 0 || u32_at(bytes, 40) != 0x0010_0000 {
        // A reserve not laid out as Authenticode's: some other use, not a signature.
        return Checked {
            signatures: Vec::new(),
            notes: vec![format!("a reserve area of {cb_header} bytes that holds no Authenticode signature")],
        };
    }
    let (sigpos, siglen) = (u32_at(bytes, 44), u32_at(bytes, 48));
    if sigpos == 0 && siglen == 0 {
        return Checked { signatures: Vec::new(), notes: Vec::new() };
    }
    if sigpos == 0 || siglen == 0 || sigpos.checked_add(siglen) != Some(bytes.len()) {
        return malformed(format!(
            "the signature at {sigpos} of {siglen} bytes does not end the {}-byte file",
            bytes.len()
        ));
    }
    if u32_at(bytes, 4) != 0 {
        return malformed("reserved1 is not zero".into());
    }
    let ranges = match hashed_ranges(bytes, flags, sigpos) {
        Ok(r) => r,
        Err(e) => return malformed(e),
    };
    let mut notes = Vec::new();
    let blob = match der::read(&bytes[sigpos..]) {
        Ok((t, rest)) => {
            if rest.iter().any(|b| *b != 0) {
                notes.push(format!("{} non-zero bytes after the PKCS#7 in the cabinet's signature", rest.len()));
            }
            t.raw
        }
        Err(e) => return fail(Failure::Invalid(C::MalformedSignature, format!("cabinet signature: {e}"))),
    };
    let hashing = Hashing { what: "cabinet hash", mismatch: C::ContentHashMismatch };
    let mut digests = |algs: &[HashAlg]| -> Digests {
        algs.iter()
            .map(|&a| {
                let mut h = a.hasher();
                for (s, e) in &ranges {
                    h.update(&bytes[*s..*e]);
                }
                (a, Ok(h.finish()))
            })
            .collect()
    };
    let signatures = authenticode::verify(&[blob], "authenticode", trust, &hashing, &mut digests, &mut |_| {});
    Checked { signatures, notes }
}

/// The byte ranges the signed hash covers, in order.
fn hashed_ranges(b: &[u8], flags: u16, sigpos: usize) -> Result<Vec<(usize, usize)>, String> {
    let mut r = vec![(0, 4), (8, 16), (16, 20), (20, 26), (26, 28), (28, 30), (30, 32), (32, 34), (56, 60)];
    let mut idx = 60;
    let mut name = |idx: &mut usize| -> Result<(), String> {
        let start = *idx;
        let end = b[start..sigpos].iter().position(|c| *c == 0).ok_or("an unterminated cabinet name")?;
        *idx = start + end + 1;
        r.push((start, *idx));
        Ok(())
    };
    if flags & PREV_CABINET != 0 {
        name(&mut idx)?;
        name(&mut idx)?;
    }
    if flags & NEXT_CABINET != 0 {
        name(&mut idx)?;
        name(&mut idx)?;
    }
    let folders = u16_at(b, 26) as usize;
    let end = idx + 8 * folders;
    if end > sigpos || end != u32_at(b, 16) {
        return Err(format!("the {folders} folder entries end at {end}, not at coffFiles {}", u32_at(b, 16)));
    }
    r.push((idx, sigpos));
    Ok(r)
}
