//! One signer of an APK Signature Scheme v2, v3 or v3.1 block, checked as apksig's
//! `V2SchemeVerifier`/`V3SchemeVerifier` check it: the signatures over the signed data with the
//! public key the signer states, the same algorithms in the digests and the signatures, that key
//! being the first certificate's, the v3 SDK range stated alike inside and outside the signed data,
//! the chunked content digests, and the v3 proof-of-rotation lineage.

use super::block::{Layout, Reader};
use super::lineage;
use crate::cms::Failure;
use crate::crypto::{CryptoError, HashAlg, PublicKey};
use crate::fs::verdict;
use crate::report::{FileSignatureReport, Reason, ReasonCode as C, Verdict};
use crate::trust::Trust;
use crate::x509::{rfc3339, Cert};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    V2,
    V3,
    V31,
}

impl Scheme {
    pub const ALL: [Scheme; 3] = [Scheme::V2, Scheme::V3, Scheme::V31];

    pub fn block_id(self) -> u32 {
        match self {
            Scheme::V2 => 0x7109_871a,
            Scheme::V3 => 0xf053_68c0,
            Scheme::V31 => 0x1b93_ad61,
        }
    }

    /// The signature's `format` in reports.
    pub fn format(self) -> &'static str {
        match self {
            Scheme::V2 => "apk-v2",
            Scheme::V3 => "apk-v3",
            Scheme::V31 => "apk-v3.1",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Scheme::V2 => "APK Signature Scheme v2",
            Scheme::V3 => "APK Signature Scheme v3",
            Scheme::V31 => "APK Signature Scheme v3.1",
        }
    }
}

/// v2 signed-data attribute: the APK is also signed with the scheme its value names (3).
const V2_STRIPPING_PROTECTION: u32 = 0xbeef_f00d;
const PROOF_OF_ROTATION: u32 = 0x3ba0_6f8c;

/// How a signature algorithm signs and what content digest goes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sig {
    RsaPss(HashAlg),
    RsaPkcs1(HashAlg),
    Ecdsa(HashAlg),
    Dsa(HashAlg),
}

/// A signature algorithm ID of the APK signature schemes: how it signs, and the chunked content
/// digest (`None`: the fs-verity Merkle-tree digest, not computed here).
pub fn algorithm(id: u32) -> Option<(Sig, Option<HashAlg>)> {
    use HashAlg::{Sha256, Sha512};
    Some(match id {
        0x0101 => (Sig::RsaPss(Sha256), Some(Sha256)),
        0x0102 => (Sig::RsaPss(Sha512), Some(Sha512)),
        0x0103 => (Sig::RsaPkcs1(Sha256), Some(Sha256)),
        0x0104 => (Sig::RsaPkcs1(Sha512), Some(Sha512)),
        0x0201 => (Sig::Ecdsa(Sha256), Some(Sha256)),
        0x0202 => (Sig::Ecdsa(Sha512), Some(Sha512)),
        0x0301 => (Sig::Dsa(Sha256), Some(Sha256)),
        0x0421 => (Sig::RsaPkcs1(Sha256), None),
        0x0423 => (Sig::Ecdsa(Sha256), None),
        0x0425 => (Sig::Dsa(Sha256), None),
        _ => return None,
    })
}

pub fn verify_sig(key: &PublicKey, sig: Sig, msg: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
    match sig {
        Sig::RsaPss(h) => key.verify_rsa_pss(h, msg, signature),
        Sig::RsaPkcs1(h) => key.verify_rsa_pkcs1(h, msg, signature),
        Sig::Ecdsa(h) => key.verify_ecdsa_der(h, msg, signature),
        Sig::Dsa(_) => key.verify_algorithm("2.16.840.1.101.3.4.3.2", None, msg, signature),
    }
}

/// A signer checked: its report, and what the cross-scheme rules need.
pub struct Checked {
    pub report: FileSignatureReport,
    /// SHA-256 of the signer's certificate.
    pub cert: Option<String>,
    /// SHA-256 of every certificate of its lineage (v3).
    pub lineage: Vec<String>,
    /// v2: the schemes the stripping-protection attribute names.
    pub also_signed_with: Vec<u32>,
    /// v3: the rotation-min-SDK attribute (0x559f8b02): the SDK from which a v3.1 signer takes over.
    pub rotation_min_sdk: Option<u32>,
}

/// Content digests computed once per algorithm for all signers.
pub type Digests = BTreeMap<HashAlg, Vec<u8>>;

struct Parsed<'a> {
    signed_data: &'a [u8],
    digests: Vec<(u32, &'a [u8])>,
    certs: Vec<&'a [u8]>,
    attrs: Vec<(u32, &'a [u8])>,
    sdk: Option<((u32, u32), (u32, u32))>,
    signatures: Vec<(u32, &'a [u8])>,
    public_key: &'a [u8],
}

fn pairs<'a>(items: Vec<&'a [u8]>, what: &str) -> Result<Vec<(u32, &'a [u8])>, String> {
    items
        .into_iter()
        .map(|i| {
            let mut r = Reader::new(i);
            let id = r.u32(what)?;
            Ok((id, r.rest))
        })
        .collect()
}

fn prefixed_pairs<'a>(items: Vec<&'a [u8]>, what: &str) -> Result<Vec<(u32, &'a [u8])>, String> {
    items
        .into_iter()
        .map(|i| {
            let mut r = Reader::new(i);
            let id = r.u32(what)?;
            Ok((id, r.prefixed(what)?))
        })
        .collect()
}

/// At most this many digests, certificates and signatures per signer: real signers carry one to
/// three of each; thousands of copies of one valid signature would otherwise cost minutes of RSA
/// verification per signer (a denial of service apksig avoids by verifying one signature).
pub const MAX_ITEMS: usize = 10;

fn capped<T>(items: Vec<T>, what: &str) -> Result<Vec<T>, String> {
    if items.len() > MAX_ITEMS {
        return Err(format!("{} {what}, more than the {MAX_ITEMS} accepted per signer", items.len()));
    }
    Ok(items)
}

fn parse(b: &[u8], scheme: Scheme) -> Result<Parsed<'_>, String> {
    let mut r = Reader::new(b);
    let signed_data = r.prefixed("signed data")?;
    let mut sd = Reader::new(signed_data);
    let digests = prefixed_pairs(capped(sd.sequence("digests")?, "digests")?, "digest")?;
    let certs = capped(sd.sequence("certificates")?, "certificates")?;
    // v3 states its SDK range between the certificates and the attributes (apksig's order).
    let signed_sdk = if scheme == Scheme::V2 { None } else { Some((sd.u32("minSdk")?, sd.u32("maxSdk")?)) };
    let attrs = pairs(sd.sequence("additional attributes")?, "attribute")?;
    let sdk = match signed_sdk {
        Some(inner) => Some((inner, (r.u32("minSdk")?, r.u32("maxSdk")?))),
        None => None,
    };
    let signatures = prefixed_pairs(capped(r.sequence("signatures")?, "signatures")?, "signature")?;
    let public_key = r.prefixed("public key")?;
    Ok(Parsed { signed_data, digests, certs, attrs, sdk, signatures, public_key })
}

/// Check one signer (`index` within its scheme block).
/// apksig's ROTATION_MIN_SDK_VERSION_ATTR_ID (v3 signer attribute).
const ROTATION_MIN_SDK: u32 = 0x559f_8b02;

pub fn check(b: &[u8], scheme: Scheme, index: usize, layout: &Layout, digests: &mut Digests, trust: &Trust) -> Checked {
    let r = verdict::report(scheme.format(), index.to_string());
    let mut out =
        Checked { report: r, cert: None, lineage: Vec::new(), also_signed_with: Vec::new(), rotation_min_sdk: None };
    let fail = |mut out: Checked, f: Failure| {
        out.report = verdict::fail(out.report, f);
        out
    };
    let p = match parse(b, scheme) {
        Ok(p) => p,
        Err(e) => return fail(out, Failure::Invalid(C::ApkBlockMalformed, format!("{} signer: {e}", scheme.name()))),
    };
    // Who: the first certificate (the signer's), even if what follows fails.
    let mut certs = Vec::new();
    for (i, c) in p.certs.iter().enumerate() {
        match Cert::from_der(c.to_vec()) {
            Ok(c) => certs.push(c),
            Err(e) => {
                let why = format!("certificate {i} of the signer does not parse: {e}");
                return fail(out, Failure::Invalid(C::CertMalformed, why));
            }
        }
    }
    if let Some(leaf) = certs.first() {
        out.report.signer = Some(leaf.signer());
        out.report.chain = certs.iter().map(Cert::chain_entry).collect();
        out.cert = Some(leaf.sha256());
    }
    if let Some(((min, max), _)) = p.sdk {
        out.report.min_sdk = Some(min);
        out.report.max_sdk = Some(max);
    }
    let content_alg = p.digests.iter().find_map(|(id, _)| algorithm(*id).and_then(|(_, c)| c));
    out.report.digest_algorithm = content_alg.map(|h| h.name().to_string());

    // The signatures over the signed data, with the key the signer states.
    if p.signatures.is_empty() {
        return fail(out, Failure::Invalid(C::MalformedSignature, "the signer has no signatures".into()));
    }
    let supported: Vec<(Sig, u32, &[u8])> =
        p.signatures.iter().filter_map(|(id, s)| algorithm(*id).map(|(sig, _)| (sig, *id, *s))).collect();
    if supported.is_empty() {
        let ids: Vec<String> = p.signatures.iter().map(|(id, _)| format!("{id:#06x}")).collect();
        let why = format!("no signature algorithm handled here: {}", ids.join(", "));
        return fail(out, Failure::Unsupported(C::UnsupportedAlgorithm, why));
    }
    let key = match PublicKey::from_spki_der(p.public_key) {
        Ok(k) => k,
        Err(e) => return fail(out, Failure::Unsupported(C::UnsupportedAlgorithm, format!("signer's public key: {e}"))),
    };
    for (sig, id, s) in &supported {
        if let Err(e) = verify_sig(&key, *sig, p.signed_data, s) {
            let why = format!("signature {id:#06x} over the signed data does not verify with the signer's key: {e}");
            return fail(out, Failure::Invalid(C::BadSignature, why));
        }
    }
    // The signed data: the same algorithms in the digests as in the signatures (apksig).
    let sig_ids: Vec<u32> = p.signatures.iter().map(|(id, _)| *id).collect();
    let digest_ids: Vec<u32> = p.digests.iter().map(|(id, _)| *id).collect();
    if sig_ids != digest_ids {
        let why = format!(
            "the signature algorithms differ between the digests ({digest_ids:x?}) and the signatures ({sig_ids:x?})"
        );
        return fail(out, Failure::Invalid(C::ApkSignerMismatch, why));
    }
    let Some(leaf) = certs.first() else {
        return fail(out, Failure::Invalid(C::CertMissing, "the signer has no certificate".into()));
    };
    if leaf.spki_der() != p.public_key {
        let why = "the public key in the signer record is not its certificate's: another key signed";
        return fail(out, Failure::Invalid(C::ApkSignerMismatch, why.into()));
    }
    if let Some(((min, max), (umin, umax))) = p.sdk {
        if (min, max) != (umin, umax) {
            let why = format!("the signed SDK range {min}..{max} differs from the unsigned one {umin}..{umax}");
            return fail(out, Failure::Invalid(C::ApkSignerMismatch, why));
        }
        if min > max {
            return fail(out, Failure::Invalid(C::ApkSignerMismatch, format!("SDK range {min}..{max} is empty")));
        }
    }
    // The content: every chunked digest stated (the fs-verity ones are not computed).
    let mut checked_any = false;
    for (id, stated) in &p.digests {
        let Some((_, Some(h))) = algorithm(*id) else { continue };
        let computed = digests.entry(h).or_insert_with(|| layout.content_digest(h));
        if computed.as_slice() != *stated {
            let why = format!(
                "the {} content digest ({}) does not match the APK: its entries, central directory or end record \
                 were modified after signing",
                h.name(),
                algorithm_name(*id)
            );
            return fail(out, Failure::Invalid(C::ApkDigestMismatch, why));
        }
        checked_any = true;
    }
    if !checked_any {
        let why = "only fs-verity content digests, which are not computed here";
        return fail(out, Failure::Unsupported(C::UnsupportedAlgorithm, why.into()));
    }
    // Attributes: stripping protection (v2), proof-of-rotation (v3).
    let mut problems: Vec<Reason> = Vec::new();
    for (id, v) in &p.attrs {
        match (*id, scheme) {
            (V2_STRIPPING_PROTECTION, Scheme::V2) => {
                if let Ok(s) = Reader::new(v).u32("stripping protection") {
                    out.also_signed_with.push(s);
                }
            }
            (ROTATION_MIN_SDK, Scheme::V3) => match Reader::new(v).u32("rotation min SDK") {
                Ok(sdk) => out.rotation_min_sdk = Some(sdk),
                Err(e) => problems.push(C::ApkBlockMalformed.reason(e)),
            },
            (PROOF_OF_ROTATION, Scheme::V3 | Scheme::V31) => match lineage::parse(v) {
                Ok(nodes) => {
                    out.report.lineage = nodes.iter().map(lineage::Node::report).collect();
                    out.lineage = nodes.iter().map(|n| n.cert.sha256()).collect();
                    if nodes.last().map(|n| n.cert.der.as_slice()) != Some(leaf.der.as_slice()) {
                        problems.push(
                            C::ApkLineageInvalid
                                .reason("the proof-of-rotation lineage does not end with the signer's certificate"),
                        );
                    }
                }
                Err(e) => problems.push(C::ApkLineageInvalid.reason(format!("proof-of-rotation lineage: {e}"))),
            },
            _ => {}
        }
    }
    if !problems.is_empty() {
        out.report.verification.status = Verdict::Invalid;
        out.report.verification.extend(problems);
        return out;
    }
    out.report = certificate(out.report, &certs, trust);
    out
}

fn algorithm_name(id: u32) -> String {
    match algorithm(id) {
        Some((sig, _)) => format!("{sig:?} {id:#06x}"),
        None => format!("{id:#06x}"),
    }
}

/// The signer's certificate under the PE/JAR time and trust rules: an APK has no timestamp, so an
/// expired signing certificate makes it `invalid`; otherwise the chain decides (JAR's purpose:
/// apksigner itself accepts any certificate, most are self-signed).
fn certificate(mut r: FileSignatureReport, certs: &[Cert], trust: &Trust) -> FileSignatureReport {
    let leaf = &certs[0];
    let (_, not_after) = leaf.validity();
    if trust.now > not_after {
        r.verification.status = Verdict::Invalid;
        r.verification.push(C::CertExpiredNoTimestamp.reason(format!(
            "signing certificate expired {} and no trusted timestamp proves earlier signing (APK signatures carry none)",
            rfc3339(not_after).unwrap_or_default()
        )));
        return r;
    }
    if leaf.is_self_signed() {
        r.verification.push(C::SelfSigned.reason("self-signed signing certificate"));
    }
    let (v, reason, notes) = trust.decide_certificate(certs, None, &crate::pki::path::JAR_SIGNING);
    r.verification.status = v;
    r.verification.push(reason.prefixed("signature and content intact; "));
    r.verification.extend(notes);
    r
}
