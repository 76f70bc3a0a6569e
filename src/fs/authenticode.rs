//! What every Authenticode container shares (PE, MSI, CAB, scripts): a PKCS#7 SignedData whose
//! content is SpcIndirectDataContent (the file's hash, by the container's own rules), nested
//! signatures in the unsigned attribute 1.3.6.1.4.1.311.2.4.1, and the verdict once the
//! container has computed its hash for each algorithm the signatures name.

use super::verdict;
use crate::cms::{self, Failure};
use crate::crypto::HashAlg;
use crate::der;
use crate::report::{FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;
use std::collections::BTreeMap;

pub const SPC_INDIRECT_DATA: &str = "1.3.6.1.4.1.311.2.1.4";
const NESTED_SIGNATURE: &str = "1.3.6.1.4.1.311.2.4.1";
pub const MAX_SIGNATURES: usize = 16;

/// A container's hash for each algorithm, or why it could not be computed.
pub type Digests = BTreeMap<HashAlg, Result<Vec<u8>, Failure>>;

/// How a container names its hash in reasons, and the code a mismatch gets.
pub struct Hashing<'a> {
    /// "image hash", "MSI content hash", ...
    pub what: &'a str,
    pub mismatch: C,
}

/// Verify every signature in `blobs` (and their nested signatures): `digests` is called once
/// with every hash algorithm the signatures name; `inspect` sees each signature's
/// SpcIndirectDataContent (PE notes page hashes there).
pub fn verify(
    blobs: &[&[u8]],
    format: &str,
    trust: &Trust,
    hashing: &Hashing,
    digests: &mut dyn FnMut(&[HashAlg]) -> Digests,
    inspect: &mut dyn FnMut(&[u8]),
) -> Vec<FileSignatureReport> {
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
    let hashes = if algs.is_empty() { Digests::new() } else { digests(&algs) };

    let mut signatures = Vec::new();
    for (index, sd) in parsed {
        let r = verdict::report(format, index);
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
        inspect(content);
        let computed = match hashes.get(&alg) {
            Some(Ok(h)) => h,
            Some(Err(f)) => {
                signatures.push(verdict::fail(r, f.clone()));
                continue;
            }
            None => {
                let f =
                    Failure::Unsupported(C::UnsupportedAlgorithm, format!("{} algorithm {}", hashing.what, alg.name()));
                signatures.push(verdict::fail(r, f));
                continue;
            }
        };
        let content_ok = if alg == HashAlg::Md5 {
            Err(vec![C::WeakMd5
                .reason(format!("{} algorithm MD5 is broken (collisions can be made) and not accepted", hashing.what))])
        } else if computed.as_slice() == embedded {
            Ok(())
        } else {
            Err(vec![hashing.mismatch.reason(format!(
                "{} mismatch: signed {} {}, file has {}; the file was modified after signing",
                hashing.what,
                alg.name(),
                hex::encode(embedded),
                hex::encode(computed)
            ))])
        };
        let expect = verdict::Expect { content_type: SPC_INDIRECT_DATA, purpose: &crate::pki::path::CODE_SIGNING };
        let mut r = verdict::signer(r, si, &sd.certificates, content, content_ok, trust, &expect);
        if alg == HashAlg::Sha1 {
            r.verification.push(C::WeakSha1.reason(format!(
                "weak algorithm: SHA-1 {} (it never outranks a SHA-2 signature of the same file)",
                hashing.what
            )));
        }
        signatures.push(r);
    }
    signatures
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

/// SpcIndirectDataContent: the signed content bytes (its value), the hash algorithm and the
/// embedded hash.
pub fn indirect_data<'a>(sd: &cms::SignedData<'a>) -> Result<(&'a [u8], HashAlg, &'a [u8]), Failure> {
    if sd.content_type != SPC_INDIRECT_DATA {
        let why = format!("content type {} is not SpcIndirectDataContent", sd.content_type);
        return Err(Failure::Invalid(C::MalformedSignature, why));
    }
    let content = sd
        .content
        .filter(|t| t.tag == der::SEQUENCE)
        .ok_or_else(|| Failure::Invalid(C::MalformedSignature, "no SpcIndirectDataContent".into()))?;
    let (alg, digest) = indirect_digest(content.content)?;
    Ok((content.content, alg, digest))
}

/// The DigestInfo of an SpcIndirectDataContent's value (its second element).
pub fn indirect_digest(value: &[u8]) -> Result<(HashAlg, &[u8]), Failure> {
    let malformed = |why: &str| Failure::Invalid(C::MalformedSignature, why.into());
    let kids = der::children(value)?;
    let digest_info = kids.get(1).ok_or_else(|| malformed("SpcIndirectDataContent lacks its DigestInfo"))?;
    let (alg, rest) = der::expect(digest_info.content, der::SEQUENCE)?;
    let (digest, _) = der::expect(rest, der::OCTET_STRING)?;
    let alg = der::algorithm_oid(&alg)?;
    let alg = HashAlg::from_oid(&alg)
        .ok_or_else(|| Failure::Unsupported(C::UnsupportedAlgorithm, format!("hash algorithm {alg}")))?;
    Ok((alg, digest.content))
}
