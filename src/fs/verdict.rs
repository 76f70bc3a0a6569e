//! From a checked CMS signer to a [`FileSignatureReport`]: signer identity, countersignature,
//! and the time rules (an expired signing certificate needs an authentic timestamp inside its
//! validity, SIGNED-FILES.md §2.5).

use crate::cms::{self, Failure, SignerInfo};
use crate::report::{Countersigner, FileSignatureReport, Timestamp, Verdict, Verification};
use crate::trust::Trust;
use crate::x509::{rfc3339, Cert};

pub fn report(format: &str, index: String) -> FileSignatureReport {
    FileSignatureReport {
        format: format.into(),
        index,
        digest_algorithm: None,
        verification: Verification { status: Verdict::Invalid, reasons: Vec::new() },
        signer: None,
        chain: Vec::new(),
        signed_at: None,
        countersigner: None,
        timestamp: None,
    }
}

pub fn fail(mut r: FileSignatureReport, f: Failure) -> FileSignatureReport {
    r.verification.status = match f {
        Failure::Unsupported(_) => Verdict::Unsupported,
        Failure::Invalid(_) => Verdict::Invalid,
    };
    r.verification.reasons.push(f.to_string());
    r
}

/// Check `si` over `message` and fill `r`; `certs` are the SignedData's certificates.
/// `content_ok` carries an earlier content check (image hash, manifest digests): its failure
/// makes the signature invalid after the identity is recorded.
pub fn signer(
    mut r: FileSignatureReport,
    si: &SignerInfo,
    certs: &[Cert],
    message: &[u8],
    content_ok: Result<(), String>,
    trust: &Trust,
) -> FileSignatureReport {
    let now = trust.now;
    if let Some(i) = si.find_cert(certs) {
        r.signer = Some(certs[i].signer());
        r.chain = chain_from(&certs[i], certs);
    }
    if r.digest_algorithm.is_none() {
        r.digest_algorithm = si.hash().ok().map(|h| h.name().to_string());
    }
    let checked = match si.verify(certs, message) {
        Ok(c) => c,
        Err(f) => return fail(r, f),
    };
    r.signed_at = checked.signing_time.and_then(rfc3339);
    r.verification.reasons.extend(checked.notes);
    if let Err(e) = content_ok {
        r.verification.status = Verdict::Invalid;
        r.verification.reasons.insert(0, e);
        return r;
    }
    // Countersignatures: the first that verifies gives the timestamp; failing ones are reported.
    let mut ts_time = None;
    for cs in cms::countersignatures(si, certs) {
        let name = cs.signer.as_ref().map(|c| c.subject()).unwrap_or_else(|| "unknown".into());
        match &cs.result {
            Ok(()) => {
                if r.countersigner.is_none() {
                    if let Some(c) = &cs.signer {
                        r.countersigner =
                            Some(Countersigner { subject: c.subject(), sha256: c.sha256(), kind: cs.kind.into() });
                    }
                    r.timestamp = cs.time.and_then(rfc3339).map(|time| Timestamp {
                        authority: Some(name.clone()),
                        time,
                        verified: true,
                    });
                    ts_time = cs.time;
                }
            }
            Err(f) => {
                r.verification.status = Verdict::Invalid;
                r.verification.reasons.push(format!("{} countersignature by {name}: {f}", cs.kind));
                return r;
            }
        }
    }
    // Time rules on the signing certificate.
    let leaf = &certs[checked.cert];
    let (not_before, not_after) = leaf.validity();
    match ts_time {
        Some(t) if t < not_before || t > not_after => {
            r.verification.status = Verdict::Invalid;
            r.verification.reasons.push(format!(
                "timestamp {} lies outside the signing certificate's validity",
                rfc3339(t).unwrap_or_default()
            ));
            return r;
        }
        Some(t) if now > not_after => r.verification.reasons.push(format!(
            "signing certificate expired {}, but the timestamp {} proves signing within its validity",
            rfc3339(not_after).unwrap_or_default(),
            rfc3339(t).unwrap_or_default()
        )),
        None if now > not_after => {
            r.verification.status = Verdict::Invalid;
            r.verification.reasons.push(format!(
                "signing certificate expired {} and no timestamp proves earlier signing",
                rfc3339(not_after).unwrap_or_default()
            ));
            return r;
        }
        _ => {}
    }
    if leaf.is_self_signed() {
        r.verification.reasons.push("self-signed signing certificate".into());
    }
    // Trust: the signer's certificate first, then the rest the signature carries, judged at the
    // verified timestamp if any.
    let mut path = vec![leaf.clone()];
    path.extend(certs.iter().filter(|c| c.der != leaf.der).map(Cert::clone));
    let (verdict, reason) = trust.decide_certificate(&path, ts_time);
    r.verification.status = verdict;
    r.verification.reasons.push(format!("signature and content intact; {reason}"));
    r
}

/// The signer's certificate and the issuers found among `certs`, leaf first (at most 10).
fn chain_from(leaf: &Cert, certs: &[Cert]) -> Vec<crate::report::ChainCert> {
    let mut chain = vec![leaf.chain_entry()];
    let mut current = leaf.clone();
    while chain.len() < 10 && !current.is_self_signed() {
        let Some(issuer) = certs.iter().find(|c| c.subject_raw() == current.issuer_raw() && c.der != current.der)
        else {
            break;
        };
        chain.push(issuer.chain_entry());
        current = issuer.clone();
    }
    chain
}
