//! Embedded Signed Certificate Timestamps of Fulcio certificates on legacy cosign signatures
//! (RFC 6962 §3.2–3.3; COSIGN.md §4): the SCT list extension is read from the leaf, and each SCT's
//! signature is checked with the key of a CT log of the trusted roots over the precertificate
//! entry: the leaf's TBSCertificate without the SCT extension, bound to the issuer's key hash.
//! Bundles' SCTs are checked by sigstore-verify; this covers the `.sig`/`.att` layers it cannot.

use super::rekor::TransparencyLog;
use crate::crypto::HashAlg;
use crate::der;
use crate::report::ReasonCode as C;
use crate::trust::Rejection;
use crate::x509::Cert;

pub const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

/// One SCT, as the certificate carries it.
struct Sct<'a> {
    log_id: &'a [u8],
    timestamp_ms: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

/// Verify the leaf's embedded SCTs (issued by `issuer`) against `ctlogs`: one must verify.
/// Returns the log's id (hex) and the SCT time in Unix seconds.
pub fn verify_embedded(leaf: &Cert, issuer: &Cert, ctlogs: &[TransparencyLog]) -> Result<(String, i64), Rejection> {
    let Some(ext) = leaf.extension_value(SCT_LIST_OID) else {
        return Err(Rejection::untrusted(
            C::SctMissing,
            "the certificate carries no SCT: it is not shown to be in a certificate transparency log",
        ));
    };
    // The extension value is an OCTET STRING holding the TLS-encoded SignedCertificateTimestampList.
    let (inner, _) = der::expect(&ext, der::OCTET_STRING)
        .map_err(|e| Rejection::invalid(C::SctInvalid, format!("SCT list: {e}")))?;
    let scts = parse_list(inner.content).ok_or_else(|| Rejection::invalid(C::SctInvalid, "SCT list is malformed"))?;
    let tbs = leaf
        .tbs_without_extension(SCT_LIST_OID)
        .ok_or_else(|| Rejection::invalid(C::SctInvalid, "cannot rebuild the precertificate"))?;
    let issuer_key_hash = HashAlg::Sha256.digest(&issuer.spki_der());
    let mut last = Rejection::untrusted(C::SctMissing, "no SCT in the list");
    for sct in scts {
        let id = hex::encode(sct.log_id);
        let Some(log) = ctlogs.iter().find(|l| l.log_id.eq_ignore_ascii_case(&id)) else {
            last = Rejection::untrusted(
                C::SctUntrusted,
                format!("SCT from CT log {id}, which the trusted root does not hold"),
            );
            continue;
        };
        let t = (sct.timestamp_ms / 1000) as i64;
        if log.valid_from.is_some_and(|f| t < f) || log.valid_to.is_some_and(|e| t > e) {
            last = Rejection::invalid(
                C::SctInvalid,
                format!("SCT time lies outside CT log {id}'s validity in the trusted root"),
            );
            continue;
        }
        // digitally-signed struct (RFC 6962 §3.2), precert_entry.
        let mut m = vec![0u8, 0u8];
        m.extend_from_slice(&sct.timestamp_ms.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(&issuer_key_hash);
        let n = tbs.len();
        if n >= 1 << 24 {
            return Err(Rejection::invalid(C::SctInvalid, "precertificate too large"));
        }
        m.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        m.extend_from_slice(&tbs);
        m.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
        m.extend_from_slice(sct.extensions);
        match log.key.verify_cosign(&m, sct.signature) {
            Ok(()) => return Ok((id, t)),
            Err(_) => last = Rejection::invalid(C::SctInvalid, format!("the SCT of CT log {id} does not verify")),
        }
    }
    Err(last)
}

fn u16_at(b: &[u8]) -> Option<(usize, &[u8])> {
    (b.len() >= 2).then(|| (u16::from_be_bytes([b[0], b[1]]) as usize, &b[2..]))
}

fn take(b: &[u8], n: usize) -> Option<(&[u8], &[u8])> {
    (b.len() >= n).then(|| b.split_at(n))
}

fn parse_list(b: &[u8]) -> Option<Vec<Sct<'_>>> {
    let (total, rest) = u16_at(b)?;
    let (mut list, _) = take(rest, total)?;
    let mut out = Vec::new();
    while !list.is_empty() && out.len() < 16 {
        let (n, rest) = u16_at(list)?;
        let (sct, rest) = take(rest, n)?;
        list = rest;
        let (version, s) = sct.split_first()?;
        if *version != 0 {
            continue; // only v1 SCTs are defined
        }
        let (log_id, s) = take(s, 32)?;
        let (ts, s) = take(s, 8)?;
        let (ext_len, s) = u16_at(s)?;
        let (extensions, s) = take(s, ext_len)?;
        let (_algs, s) = take(s, 2)?;
        let (sig_len, s) = u16_at(s)?;
        let (signature, _) = take(s, sig_len)?;
        out.push(Sct { log_id, timestamp_ms: u64::from_be_bytes(ts.try_into().ok()?), extensions, signature });
    }
    Some(out)
}
