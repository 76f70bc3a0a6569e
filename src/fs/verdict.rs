//! From a checked CMS signer to a [`FileSignatureReport`]: signer identity, countersignature,
//! and the time rules (an expired signing certificate needs an authentic timestamp inside its
//! validity, SIGNED-FILES.md §2.5).

use crate::cms::{self, Failure, SignerInfo};
use crate::pki::path::Purpose;
use crate::report::{Countersigner, FileSignatureReport, Reason, ReasonCode as C, Timestamp, Verdict, Verification};
use crate::trust::Trust;
use crate::x509::{rfc3339, Cert};

pub fn report(format: &str, index: String) -> FileSignatureReport {
    FileSignatureReport {
        format: format.into(),
        index,
        digest_algorithm: None,
        verification: Verification::new(Verdict::Invalid, []),
        signer: None,
        chain: Vec::new(),
        signed_at: None,
        countersigner: None,
        timestamp: None,
        min_sdk: None,
        max_sdk: None,
        lineage: Vec::new(),
        catalog: None,
    }
}

pub fn fail(mut r: FileSignatureReport, f: Failure) -> FileSignatureReport {
    r.verification.status = match f {
        Failure::Unsupported(..) => Verdict::Unsupported,
        Failure::Invalid(..) => Verdict::Invalid,
    };
    r.verification.push(f.to_reason());
    r
}

/// What a file signature is checked against: the signed content's type (the contentType
/// signed attribute must name it) and what its signer must be good for.
pub struct Expect<'p> {
    pub content_type: &'p str,
    pub purpose: &'p Purpose,
}

/// A countersignature (timestamp) whose token verified: when, by whom, and whether its authority
/// chains to a timestamp anchor (only then does it count).
struct Stamp {
    time: i64,
    authority: String,
    trusted: Result<String, String>,
}

/// Check `si` over `message` and fill `r`; `certs` are the SignedData's certificates.
/// `content_ok` carries an earlier content check (image hash, manifest digests): its failures
/// (each a reason, put first) make the signature invalid after the identity is recorded.
pub fn signer(
    mut r: FileSignatureReport,
    si: &SignerInfo,
    certs: &[Cert],
    message: &[u8],
    content_ok: Result<(), Vec<Reason>>,
    trust: &Trust,
    expect: &Expect,
) -> FileSignatureReport {
    let now = trust.now;
    if let Some(i) = si.find_cert(certs) {
        r.signer = Some(certs[i].signer());
        r.chain = chain_from(&certs[i], certs);
    }
    if r.digest_algorithm.is_none() {
        r.digest_algorithm = si.hash().ok().map(|h| h.name().to_string());
    }
    let checked = match si.verify(certs, message, Some(expect.content_type)) {
        Ok(c) => c,
        Err(f) => return fail(r, f),
    };
    r.signed_at = checked.signing_time.and_then(rfc3339);
    r.verification.extend(checked.notes);
    if let Err(problems) = content_ok {
        r.verification.status = Verdict::Invalid;
        r.verification.prepend(problems);
        return r;
    }
    let stamp = timestamps(&mut r, si, certs, trust);
    let trusted_time = stamp.as_ref().filter(|s| s.trusted.is_ok()).map(|s| s.time);

    // Time rules on the signing certificate: only a timestamp whose authority is trusted can
    // date the signature; an untrusted one (anyone can append one) is reported, nothing more.
    let leaf = &certs[checked.cert];
    let (not_before, not_after) = leaf.validity();
    let day = |t: i64| rfc3339(t).unwrap_or_default();
    match (trusted_time, stamp.as_ref()) {
        (Some(t), _) if t < not_before || t > not_after => {
            r.verification.status = Verdict::Invalid;
            r.verification.push(
                C::TimestampOutsideValidity.reason(format!(
                    "the trusted timestamp {} lies outside the signing certificate's validity",
                    day(t)
                )),
            );
            return r;
        }
        (Some(t), _) if now > not_after => r.verification.push(C::CertExpiredTimestamped.reason(format!(
            "signing certificate expired {}, but the trusted timestamp {} proves signing within its validity",
            day(not_after),
            day(t)
        ))),
        (None, Some(s)) if now > not_after && s.time >= not_before && s.time <= not_after => {
            r.verification.status = Verdict::Untrusted;
            r.verification.push(C::CertExpiredTimestampUntrusted.reason(format!(
                "signing certificate expired {}; the timestamp by {} at {} would prove signing within its \
                 validity, but it does not count: {}",
                day(not_after),
                s.authority,
                day(s.time),
                s.trusted.as_ref().err().map(String::as_str).unwrap_or_default()
            )));
            return r;
        }
        (None, _) if now > not_after => {
            r.verification.status = Verdict::Invalid;
            r.verification.push(C::CertExpiredNoTimestamp.reason(format!(
                "signing certificate expired {} and no trusted timestamp proves earlier signing",
                day(not_after)
            )));
            return r;
        }
        _ => {}
    }
    if leaf.is_self_signed() {
        r.verification.push(C::SelfSigned.reason("self-signed signing certificate"));
    }
    // Trust: the signer's certificate first, then the rest the signature carries, judged at the
    // trusted timestamp if any.
    let mut path = vec![leaf.clone()];
    path.extend(certs.iter().filter(|c| c.der != leaf.der).map(Cert::clone));
    let (verdict, reason, notes) = trust.decide_certificate(&path, trusted_time, expect.purpose);
    r.verification.status = verdict;
    r.verification.push(reason.prefixed("signature and content intact; "));
    r.verification.extend(notes);
    r
}

/// Every countersignature of `si`, reported; the first whose authority is trusted (else the
/// first that verified) is the signature's timestamp. A countersignature sits in unsigned
/// attributes anyone can append to, so one that fails or is not trusted is a reason, never a
/// verdict on the signature it countersigns.
fn timestamps(r: &mut FileSignatureReport, si: &SignerInfo, certs: &[Cert], trust: &Trust) -> Option<Stamp> {
    let mut best: Option<(Stamp, Countersigner)> = None;
    for cs in cms::countersignatures(si, certs) {
        let name = cs.signer.as_ref().map(|c| c.subject()).unwrap_or_else(|| "an unknown signer".into());
        let (Ok(()), Some(signer), Some(time)) = (&cs.result, &cs.signer, cs.time) else {
            let why = match &cs.result {
                Err(f) => f.to_string(),
                Ok(()) => "no time or signer".into(),
            };
            let what = format!("{} countersignature by {name} ignored: {why}", cs.kind);
            r.verification.push(C::TimestampInvalid.reason(what));
            continue;
        };
        let mut chain = vec![signer.clone()];
        chain.extend(cs.certificates.iter().chain(certs).filter(|c| c.der != signer.der).cloned());
        let trusted = trust.timestamp_authority(&chain, time);
        if let Err(e) = &trusted {
            r.verification.push(C::TimestampUntrusted.reason(format!(
                "{} timestamp by {name} at {}: not trusted: {e}",
                cs.kind,
                rfc3339(time).unwrap_or_default()
            )));
        }
        let better = match &best {
            None => true,
            Some((b, _)) => b.trusted.is_err() && trusted.is_ok(),
        };
        if better {
            let c = Countersigner { subject: name.clone(), sha256: signer.sha256(), kind: cs.kind.into() };
            best = Some((Stamp { time, authority: name, trusted }, c));
        }
    }
    let (stamp, countersigner) = best?;
    r.countersigner = Some(countersigner);
    r.timestamp = rfc3339(stamp.time).map(|time| Timestamp {
        authority: Some(stamp.authority.clone()),
        time,
        verified: stamp.trusted.is_ok(),
    });
    if let Ok(anchor) = &stamp.trusted {
        let what = format!(
            "{} timestamp by {} at {} verified: its authority chains to {anchor}",
            countersigner_kind(r),
            stamp.authority,
            rfc3339(stamp.time).unwrap_or_default()
        );
        r.verification.push(C::TimestampVerified.reason(what));
    }
    Some(stamp)
}

fn countersigner_kind(r: &FileSignatureReport) -> &str {
    r.countersigner.as_ref().map(|c| c.kind.as_str()).unwrap_or("")
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
