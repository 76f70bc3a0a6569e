//! Windows catalogs (`.cat`): a PKCS#7 SignedData whose content is a certificate trust list
//! (szOID_CTL, 1.3.6.1.4.1.311.10.1) of member hashes. The catalog's own signature is verified
//! over the CTL's content octets (as Authenticode signs non-data content) with the code-signing
//! purpose; its members are listed, each with the hash the catalog names for it: the
//! Authenticode image hash for a PE member (SpcPeImageData, 1.3.6.1.4.1.311.2.1.15), the file's
//! own hash otherwise.
//!
//! [`Index`] holds the members of every catalog a scan found, so that a file without a
//! signature of its own but listed in a catalog is reported as catalog-signed, as Windows does
//! for drivers and system files (see `super::scan` for the two passes).

use super::verdict;
use crate::cms::{self, Failure};
use crate::crypto::HashAlg;
use crate::der;
use crate::report::{CatalogMember, FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;
use std::collections::HashMap;

pub const CTL: &str = "1.3.6.1.4.1.311.10.1";
const INDIRECT_DATA: &str = "1.3.6.1.4.1.311.2.1.4";
const PE_IMAGE_DATA: &str = "1.3.6.1.4.1.311.2.1.15";
const NAME_VALUE: &str = "1.3.6.1.4.1.311.12.2.1";
/// Members beyond this are not indexed (Windows' largest catalogs hold tens of thousands).
const MAX_MEMBERS: usize = 1 << 20;

/// Whether `bytes` look like a catalog: SignedData whose content type is a CTL.
/// (The caller found the CTL content type near the start.) Whether the file starts as a
/// SignedData ContentInfo: then it is judged as a catalog, so a truncated or malformed one is
/// reported `invalid`, not skipped.
pub fn is_catalog(bytes: &[u8]) -> bool {
    const SIGNED_DATA_OID: [u8; 11] = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    bytes[..bytes.len().min(32)].windows(SIGNED_DATA_OID.len()).any(|w| w == SIGNED_DATA_OID)
}

/// One member: the hash the catalog lists and what it is a hash of.
#[derive(Debug, Clone)]
pub struct Member {
    pub alg: HashAlg,
    pub digest: Vec<u8>,
    /// `Some(true)`: an Authenticode image hash; `Some(false)`: a flat file hash; `None`: not said.
    pub pe: Option<bool>,
    pub name: Option<String>,
}

pub struct Checked {
    pub signatures: Vec<FileSignatureReport>,
    pub members: Vec<Member>,
    pub notes: Vec<String>,
}

pub fn check(bytes: &[u8], trust: &Trust) -> Checked {
    let fail = |f: Failure| Checked {
        signatures: vec![verdict::fail(verdict::report("catalog", "0".into()), f)],
        members: Vec::new(),
        notes: Vec::new(),
    };
    let sd = match cms::parse_content_info(bytes) {
        Ok(sd) => sd,
        Err(f) => return fail(f),
    };
    let trailing = cms::trailing_after_content_info(bytes);
    if trailing > 0 {
        let why = format!(
            "{trailing} bytes after the catalog's PKCS#7 that no signature covers{}",
            if super::jar::end_record(bytes).is_some() { " (a ZIP archive: the file is a polyglot)" } else { "" }
        );
        return fail(Failure::Invalid(C::SignedFileMalformed, why));
    }
    let Some(ctl) = sd.content.filter(|t| t.tag == der::SEQUENCE && sd.content_type == CTL) else {
        return fail(Failure::Invalid(C::SignedFileMalformed, "the catalog holds no certificate trust list".into()));
    };
    let mut notes = Vec::new();
    let members = match members(ctl.content) {
        Ok(m) => m,
        Err(e) => return fail(Failure::Invalid(C::SignedFileMalformed, format!("catalog members: {e}"))),
    };
    // A CTL for another purpose (its subjectUsage without szOID_CATALOG_LIST) vouches for no
    // file: its own signature is still reported, but no member is matched against it.
    let members = if catalog_usage(ctl.content) {
        members
    } else {
        notes.push(format!("the CTL's subjectUsage lacks {CATALOG_LIST}: not a catalog, no member is vouched for"));
        Vec::new()
    };
    notes.push(format!("catalog lists {} member hashes", members.len()));
    let mut signatures = Vec::new();
    for (i, si) in sd.signers.iter().enumerate().take(4) {
        let r = verdict::report("catalog", i.to_string());
        let expect = verdict::Expect { content_type: CTL, purpose: &crate::pki::path::CODE_SIGNING };
        let mut r = verdict::signer(r, si, &sd.certificates, ctl.content, Ok(()), trust, &expect);
        if r.digest_algorithm.as_deref() == Some("sha1") {
            r.verification.push(C::WeakSha1.reason("weak algorithm: the catalog is signed with a SHA-1 digest"));
        }
        signatures.push(r);
    }
    Checked { signatures, members, notes }
}

const CATALOG_LIST: &str = "1.3.6.1.4.1.311.12.1.1";

/// Whether the CTL's subjectUsage (its first SEQUENCE, of OIDs) holds szOID_CATALOG_LIST.
fn catalog_usage(ctl: &[u8]) -> bool {
    let Ok(kids) = der::children(ctl) else { return false };
    let Some(usage) = kids.iter().find(|t| t.tag == der::SEQUENCE) else { return false };
    der::children(usage.content)
        .map(|oids| oids.iter().any(|o| o.tag == der::OID && der::oid_string(o.content) == CATALOG_LIST))
        .unwrap_or(false)
}

/// The members of a CTL (its content octets): `SEQUENCE { subjectUsage, [listIdentifier],
/// [sequenceNumber], thisUpdate, [nextUpdate], subjectAlgorithm, [trustedSubjects], [0] ext }`.
fn members(ctl: &[u8]) -> Result<Vec<Member>, der::DerError> {
    let kids = der::children(ctl)?;
    let seqs: Vec<&der::Tlv> = kids.iter().filter(|t| t.tag == der::SEQUENCE).collect();
    let Some(subjects) = seqs.get(2) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for subject in der::children(subjects.content)?.iter().take(MAX_MEMBERS) {
        let (id, rest) = der::expect(subject.content, der::OCTET_STRING)?;
        let mut found: Vec<Member> = Vec::new();
        let mut name = None;
        if !rest.is_empty() {
            let (attrs, _) = der::expect(rest, der::SET)?;
            for attr in der::children(attrs.content)? {
                let (oid, r) = der::expect(attr.content, der::OID)?;
                let (values, _) = der::expect(r, der::SET)?;
                let Some(value) = der::children(values.content)?.into_iter().next() else { continue };
                match der::oid_string(oid.content).as_str() {
                    INDIRECT_DATA if value.tag == der::SEQUENCE => {
                        if let Ok((alg, digest)) = super::authenticode::indirect_digest(value.content) {
                            let kind = der::children(value.content)
                                .ok()
                                .and_then(|k| k.first().and_then(|t| der::expect(t.content, der::OID).ok()))
                                .map(|(o, _)| der::oid_string(o.content));
                            found.push(Member {
                                alg,
                                digest: digest.to_vec(),
                                pe: Some(kind.as_deref() == Some(PE_IMAGE_DATA)),
                                name: None,
                            });
                        }
                    }
                    NAME_VALUE => name = name.or_else(|| member_name(value.content)),
                    _ => {}
                }
            }
        }
        if found.is_empty() {
            // No SpcIndirectDataContent: the subject identifier is the hash itself (raw, or as
            // UTF-16 hex text in version 1 catalogs).
            let raw = utf16_hex(id.content).unwrap_or_else(|| id.content.to_vec());
            let alg = match raw.len() {
                20 => Some(HashAlg::Sha1),
                32 => Some(HashAlg::Sha256),
                _ => None,
            };
            if let Some(alg) = alg {
                found.push(Member { alg, digest: raw, pe: None, name: None });
            }
        }
        for mut m in found {
            m.name = name.clone();
            out.push(m);
        }
    }
    Ok(out)
}

/// CatNameValue `SEQUENCE { tag BMPString, flags INTEGER, value OCTET STRING }` named `File`.
fn member_name(seq: &[u8]) -> Option<String> {
    let kids = der::children(seq).ok()?;
    let tag = kids.first()?;
    let units = |b: &[u8]| b.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect::<Vec<u16>>();
    if String::from_utf16_lossy(&units(tag.content)) != "File" {
        return None;
    }
    let value = kids.get(2)?;
    let le: Vec<u16> = value.content.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    Some(String::from_utf16_lossy(&le).trim_end_matches('\0').to_string())
}

fn utf16_hex(b: &[u8]) -> Option<Vec<u8>> {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let text = String::from_utf16(&units).ok()?;
    let text = text.trim_end_matches('\0');
    if text.len() < 40 {
        return None;
    }
    hex::decode(text).ok()
}

pub fn report_members(members: &[Member]) -> Vec<CatalogMember> {
    members
        .iter()
        .map(|m| CatalogMember {
            digest_algorithm: m.alg.name().into(),
            digest: hex::encode(&m.digest),
            kind: match m.pe {
                Some(true) => "pe-image",
                Some(false) => "file",
                None => "any",
            }
            .into(),
            name: m.name.clone(),
        })
        .collect()
}

/// Where a hash is listed: (catalog, algorithm, whether it is an image hash).
type Listing = (usize, HashAlg, Option<bool>);

/// The members of the catalogs a scan found, by hash.
#[derive(Default)]
pub struct Index {
    /// (catalog path, its best signature)
    catalogs: Vec<(String, FileSignatureReport)>,
    by_digest: HashMap<Vec<u8>, Vec<Listing>>,
}

impl Index {
    pub fn is_empty(&self) -> bool {
        self.by_digest.is_empty()
    }

    /// Add a catalog's members; `signature` is its own (first) signature's report.
    pub fn add(&mut self, path: &str, signature: FileSignatureReport, members: &[Member]) {
        if self.catalogs.iter().any(|(p, _)| p == path) {
            return; // given with --catalog and found by the walk too
        }
        let at = self.catalogs.len();
        self.catalogs.push((path.to_string(), signature));
        for m in members {
            let list = self.by_digest.entry(m.digest.clone()).or_default();
            if list.len() < 8 {
                list.push((at, m.alg, m.pe));
            }
        }
    }

    /// Catalog signatures for a file with these hashes: `flat` the file's own hashes, `image` its
    /// Authenticode image hashes if it is a PE.
    pub fn lookup(&self, flat: &[(HashAlg, Vec<u8>)], image: &[(HashAlg, Vec<u8>)]) -> Vec<FileSignatureReport> {
        let mut out = Vec::new();
        let mut seen = Vec::new();
        let tries = image.iter().map(|h| (h, true)).chain(flat.iter().map(|h| (h, false)));
        for ((alg, digest), is_image) in tries {
            for &(at, malg, pe) in self.by_digest.get(digest).map(Vec::as_slice).unwrap_or_default() {
                if malg != *alg || pe.is_some_and(|p| p != is_image) || seen.contains(&at) {
                    continue;
                }
                seen.push(at);
                let (path, sig) = &self.catalogs[at];
                let mut r = sig.clone();
                r.format = "catalog".into();
                r.index = "catalog".into();
                r.catalog = Some(path.clone());
                r.digest_algorithm = Some(alg.name().into());
                let what = if is_image { "Authenticode image hash" } else { "file hash" };
                r.verification.prepend(vec![C::CatalogSigned.reason(format!(
                    "no signature of its own; its {} {what} {} is listed in the catalog {path}, whose signature is judged here",
                    alg.name(),
                    hex::encode(digest)
                ))]);
                if *alg == HashAlg::Sha1 {
                    r.verification
                        .push(C::WeakSha1.reason("weak algorithm: the catalog lists the file by a SHA-1 hash"));
                }
                out.push(r);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A CTL whose subjectUsage is another purpose vouches for no file.
    #[test]
    fn subject_usage_must_be_catalog_list() {
        // SEQUENCE { SEQUENCE { OID 1.3.6.1.4.1.311.12.1.1 } }, then the same with ...12.1.2.
        let catalog = [0x30, 0x0c, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0c, 0x01, 0x01];
        assert!(catalog_usage(&catalog));
        let mut other = catalog;
        other[13] = 0x02;
        assert!(!catalog_usage(&other));
        assert!(!catalog_usage(&[]));
    }
}
