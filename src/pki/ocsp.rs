//! OCSP (RFC 6960) requests and the checks of their answers, for online revocation
//! ([`super::online`]).
//!
//! The request asks about one certificate by a CertID with SHA-1 (the RFC 5019 profile every
//! responder answers; the hashes identify, they protect nothing: the answer is signed) and carries
//! a nonce (RFC 8954: 16 random octets).
//!
//! An answer counts only after every check of [`check`]: status `successful`, a
//! BasicOCSPResponse whose signature over `tbsResponseData` verifies with the key of its
//! responder, and the responder is authorised (RFC 6960 §4.2.2.2): the certificate's issuer
//! itself, or a delegated responder whose certificate is issued and signed by that issuer, carries
//! id-kp-OCSPSigning, is valid now and (with a keyUsage) allows digitalSignature. The responder
//! the `responderID` names must be the one whose key signed. The SingleResponse used is the one
//! for our CertID; a nonce in the answer must be ours (a responder that does not echo it, as RFC
//! 5019 responders with pre-signed answers do, is accepted on its dates alone); `thisUpdate` is
//! not in the future (5 minutes of clock skew), `nextUpdate`, when given, not passed. An answer
//! without `nextUpdate` and without our nonce cannot say "good" (its freshness cannot be judged,
//! as with a CRL without nextUpdate) but can still say "revoked". A critical extension not
//! understood refuses the answer. The delegated responder's own revocation is not checked
//! (id-pkix-ocsp-nocheck is what responders carry; RFC 6960 §4.2.2.2.1).

use crate::der as d;
use crate::x509::{eku, ku, Cert};
use sha1::{Digest, Sha1};

/// id-pkix-ocsp-basic.
const BASIC: &str = "1.3.6.1.5.5.7.48.1.1";
/// id-pkix-ocsp-nonce.
const NONCE: &str = "1.3.6.1.5.5.7.48.1.2";
/// SHA-1 (for CertID).
const SHA1_OID: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
/// Clock skew allowed on `thisUpdate`.
pub const SKEW: i64 = 300;
const ENUMERATED: u8 = 0x0a;

/// The CertID of a certificate and its issuer (SHA-1), and the request that asks about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CertId {
    name_hash: Vec<u8>,
    key_hash: Vec<u8>,
    /// The issuer's name (DER) and public key bits: a responder may answer with a CertID hashed
    /// by another algorithm (SHA-256, …), matched by hashing these again.
    issuer_name: Vec<u8>,
    issuer_key: Vec<u8>,
    /// The serial number's content octets, leading zeros removed.
    serial: Vec<u8>,
    /// Its DER.
    pub der: Vec<u8>,
}

impl CertId {
    pub fn new(cert: &Cert, issuer: &Cert) -> CertId {
        let name_hash = Sha1::digest(issuer.subject_raw()).to_vec();
        let key_hash = Sha1::digest(issuer.public_key_bits()).to_vec();
        let serial_raw = cert.serial_raw();
        let mut der = d::encode(d::SEQUENCE, &[d::encode(d::OID, SHA1_OID), vec![0x05, 0x00]].concat());
        der.extend(d::encode(d::OCTET_STRING, &name_hash));
        der.extend(d::encode(d::OCTET_STRING, &key_hash));
        der.extend(d::encode(d::INTEGER, serial_raw));
        let der = d::encode(d::SEQUENCE, &der);
        CertId {
            name_hash,
            key_hash,
            issuer_name: issuer.subject_raw().to_vec(),
            issuer_key: issuer.public_key_bits(),
            serial: strip(serial_raw),
            der,
        }
    }

    /// An OCSPRequest (DER) for this CertID, with `nonce` when given.
    pub fn request(&self, nonce: Option<&[u8]>) -> Vec<u8> {
        let request = d::encode(d::SEQUENCE, &self.der);
        let mut tbs = d::encode(d::SEQUENCE, &request);
        if let Some(n) = nonce {
            let ext =
                [d::encode(d::OID, &oid_bytes_nonce()), d::encode(d::OCTET_STRING, &d::encode(d::OCTET_STRING, n))]
                    .concat();
            tbs.extend(d::encode(0xa2, &d::encode(d::SEQUENCE, &d::encode(d::SEQUENCE, &ext))));
        }
        d::encode(d::SEQUENCE, &d::encode(d::SEQUENCE, &tbs))
    }

    /// Whether a SingleResponse's CertID (its TLV) is this one.
    fn matches(&self, t: &d::Tlv) -> bool {
        let parts = || -> Option<bool> {
            let (alg, rest) = d::expect(t.content, d::SEQUENCE).ok()?;
            let (oid, _) = d::expect(alg.content, d::OID).ok()?;
            let (name, rest) = d::expect(rest, d::OCTET_STRING).ok()?;
            let (key, rest) = d::expect(rest, d::OCTET_STRING).ok()?;
            let (serial, rest) = d::expect(rest, d::INTEGER).ok()?;
            let (name_hash, key_hash) = if oid.content == SHA1_OID {
                (self.name_hash.clone(), self.key_hash.clone())
            } else {
                let alg = match d::oid_string(oid.content).as_str() {
                    "2.16.840.1.101.3.4.2.1" => crate::crypto::HashAlg::Sha256,
                    "2.16.840.1.101.3.4.2.2" => crate::crypto::HashAlg::Sha384,
                    "2.16.840.1.101.3.4.2.3" => crate::crypto::HashAlg::Sha512,
                    _ => return Some(false),
                };
                (alg.digest(&self.issuer_name), alg.digest(&self.issuer_key))
            };
            Some(
                rest.is_empty()
                    && name.content == name_hash
                    && key.content == key_hash
                    && strip(serial.content) == self.serial,
            )
        };
        parts().unwrap_or(false)
    }
}

fn strip(serial: &[u8]) -> Vec<u8> {
    serial.iter().copied().skip_while(|b| *b == 0).collect()
}

/// 1.3.6.1.5.5.7.48.1.2 as OID content octets.
fn oid_bytes_nonce() -> Vec<u8> {
    vec![0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02]
}

/// What an authentic OCSP answer says about the certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertStatus {
    Good,
    /// revocationTime and the CRLReason, if given.
    Revoked(i64, Option<u8>),
    Unknown,
}

/// An authentic answer, with what reasons say of it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: CertStatus,
    /// The responder that signed (subject), and whether it is the issuer itself.
    pub responder: String,
    pub delegated: bool,
    pub this_update: i64,
    pub next_update: Option<i64>,
    /// Whether the answer echoed our nonce.
    pub nonce_matched: bool,
}

impl Answer {
    /// Whether it may say "good" at `now`: current by its nextUpdate, or fresh by our nonce.
    pub fn current_at(&self, now: i64) -> Result<(), String> {
        match self.next_update {
            Some(n) if n < now => Err(format!("its answer expired (nextUpdate {})", super::crl::day(n))),
            Some(_) => Ok(()),
            None if self.nonce_matched => Ok(()),
            None => {
                Err("its answer has no nextUpdate and does not echo our nonce, so its freshness cannot be judged"
                    .into())
            }
        }
    }
}

fn bad(what: &str) -> String {
    format!("malformed OCSP response: {what}")
}

/// Check a DER OCSPResponse about `id` (`cert` issued by `issuer`) at `now`, against the `nonce`
/// we sent: the answer, or why it does not count.
pub fn check(der: &[u8], id: &CertId, issuer: &Cert, nonce: Option<&[u8]>, now: i64) -> Result<Answer, String> {
    let (outer, rest) = d::expect(der, d::SEQUENCE).map_err(|_| bad("not a SEQUENCE"))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes"));
    }
    let (status, rest) = d::expect(outer.content, ENUMERATED).map_err(|_| bad("no responseStatus"))?;
    match status.content {
        [0] => {}
        [c] => {
            let name = match c {
                1 => "malformedRequest",
                2 => "internalError",
                3 => "tryLater",
                5 => "sigRequired",
                6 => "unauthorized",
                _ => "an unknown status",
            };
            return Err(format!("the responder answered {name} ({c}), not successful"));
        }
        _ => return Err(bad("responseStatus")),
    }
    let (bytes, _) = d::expect(rest, 0xa0).map_err(|_| bad("successful without responseBytes"))?;
    let (bytes, _) = d::expect(bytes.content, d::SEQUENCE).map_err(|_| bad("responseBytes"))?;
    let (kind, rest) = d::expect(bytes.content, d::OID).map_err(|_| bad("responseType"))?;
    if d::oid_string(kind.content) != BASIC {
        return Err(format!("response type {} is not id-pkix-ocsp-basic", d::oid_string(kind.content)));
    }
    let (basic, _) = d::expect(rest, d::OCTET_STRING).map_err(|_| bad("response OCTET STRING"))?;
    let (basic, rest) = d::expect(basic.content, d::SEQUENCE).map_err(|_| bad("BasicOCSPResponse"))?;
    if !rest.is_empty() {
        return Err(bad("trailing bytes after the BasicOCSPResponse"));
    }
    let (tbs, rest) = d::expect(basic.content, d::SEQUENCE).map_err(|_| bad("tbsResponseData"))?;
    let (alg, rest) = d::expect(rest, d::SEQUENCE).map_err(|_| bad("signatureAlgorithm"))?;
    let (sig, rest) = d::expect(rest, 0x03).map_err(|_| bad("signature"))?;
    let signature = match sig.content.split_first() {
        Some((0, bits)) => bits,
        _ => return Err(bad("signature BIT STRING has unused bits")),
    };
    let mut certs = Vec::new();
    if !rest.is_empty() {
        let (c, _) = d::expect(rest, 0xa0).map_err(|_| bad("certs"))?;
        let (seq, _) = d::expect(c.content, d::SEQUENCE).map_err(|_| bad("certs"))?;
        for t in d::children(seq.content).map_err(|_| bad("certs"))?.iter().take(16) {
            certs.push(Cert::from_der(t.raw.to_vec()).map_err(|e| bad(&format!("a certificate in certs: {e}")))?);
        }
    }
    let (alg_oid, params) = d::expect(alg.content, d::OID).map_err(|_| bad("signatureAlgorithm"))?;
    let alg_oid = d::oid_string(alg_oid.content);
    let params = (!params.is_empty() && params != [0x05, 0x00]).then_some(params);

    // ResponseData.
    let fields = d::children(tbs.content).map_err(|_| bad("tbsResponseData"))?;
    let mut i = 0;
    if fields.first().is_some_and(|f| f.tag == 0xa0) {
        if fields[0].content != [0x02, 0x01, 0x00] {
            return Err(bad("ResponseData version is not v1"));
        }
        i = 1;
    }
    let responder_id = fields.get(i).ok_or_else(|| bad("no responderID"))?;
    let produced = fields.get(i + 1).filter(|f| f.tag == d::GENERALIZED_TIME).ok_or_else(|| bad("producedAt"))?;
    d::time(produced).ok_or_else(|| bad("producedAt"))?;
    let responses = fields.get(i + 2).filter(|f| f.tag == d::SEQUENCE).ok_or_else(|| bad("responses"))?;
    let mut nonce_matched = false;
    if let Some(exts) = fields.get(i + 3) {
        if exts.tag != 0xa1 || fields.len() > i + 4 {
            return Err(bad("fields after responses"));
        }
        for (oid, critical, value) in extensions(exts)? {
            if oid == NONCE {
                let echoed = d::expect(value, d::OCTET_STRING).map(|(t, _)| t.content).unwrap_or(value);
                if Some(echoed) != nonce {
                    return Err("its nonce is not the one we sent (a replayed or misdirected answer)".into());
                }
                nonce_matched = true;
            } else if critical {
                return Err(format!("critical response extension {oid} is not processed"));
            }
        }
    }

    // Who signed, and may they.
    let (responder, delegated) = signer(responder_id, issuer, &certs, now)?;
    let key = responder.public_key().map_err(|e| format!("responder key: {e}"))?;
    key.verify_algorithm(&alg_oid, params, tbs.raw, signature)
        .map_err(|e| format!("its signature does not verify with the key of {}: {e}", responder.subject()))?;

    // Our SingleResponse.
    let singles = d::children(responses.content).map_err(|_| bad("responses"))?;
    // Several SingleResponses for our certificate that disagree: a revoked one wins (a signed
    // answer that says revoked anywhere is not an answer that says good).
    let mut found = None;
    for s in &singles {
        let parts = d::children(s.content).map_err(|_| bad("SingleResponse"))?;
        if parts.first().is_some_and(|c| c.tag == d::SEQUENCE && id.matches(c)) {
            let revoked = parts.get(1).is_some_and(|t| t.tag == 0xa1);
            if found.is_none() || revoked {
                found = Some(parts);
            }
            if revoked {
                break;
            }
        }
    }
    let parts = found.ok_or("the answer has no SingleResponse for the certificate asked about")?;
    let status = match parts.get(1) {
        Some(t) if t.tag == 0x80 && t.content.is_empty() => CertStatus::Good,
        Some(t) if t.tag == 0xa1 => {
            let (when, rest) = d::expect(t.content, d::GENERALIZED_TIME).map_err(|_| bad("revocationTime"))?;
            let when = d::time(&when).ok_or_else(|| bad("revocationTime"))?;
            let reason = match d::read(rest) {
                Ok((r, _)) if r.tag == 0xa0 => match d::expect(r.content, ENUMERATED) {
                    Ok((e, _)) if e.content.len() == 1 => Some(e.content[0]),
                    _ => return Err(bad("revocationReason")),
                },
                _ => None,
            };
            CertStatus::Revoked(when, reason)
        }
        Some(t) if t.tag == 0x82 => CertStatus::Unknown,
        _ => return Err(bad("certStatus")),
    };
    let this_update =
        parts.get(2).filter(|t| t.tag == d::GENERALIZED_TIME).and_then(d::time).ok_or_else(|| bad("thisUpdate"))?;
    let mut next_update = None;
    for t in parts.iter().skip(3) {
        match t.tag {
            0xa0 => {
                let (n, _) = d::expect(t.content, d::GENERALIZED_TIME).map_err(|_| bad("nextUpdate"))?;
                next_update = Some(d::time(&n).ok_or_else(|| bad("nextUpdate"))?);
            }
            0xa1 => {
                if let Some((oid, _, _)) = extensions(t)?.into_iter().find(|(_, critical, _)| *critical) {
                    return Err(format!("critical single extension {oid} is not processed"));
                }
            }
            _ => return Err(bad("SingleResponse fields")),
        }
    }
    if this_update > now + SKEW {
        return Err(format!("its thisUpdate {} is in the future", super::crl::day(this_update)));
    }
    Ok(Answer { status, responder: responder.subject(), delegated, this_update, next_update, nonce_matched })
}

/// One extension: its OID, whether critical, and its extnValue's content.
type Extension<'a> = (String, bool, &'a [u8]);

/// The extensions of an `[n] EXPLICIT Extensions`.
fn extensions<'a>(t: &d::Tlv<'a>) -> Result<Vec<Extension<'a>>, String> {
    let (seq, _) = d::expect(t.content, d::SEQUENCE).map_err(|_| bad("extensions"))?;
    let mut out = Vec::new();
    for e in d::children(seq.content).map_err(|_| bad("extensions"))? {
        let (oid, rest) = d::expect(e.content, d::OID).map_err(|_| bad("extension"))?;
        let (critical, rest) = match d::read(rest) {
            Ok((b, r)) if b.tag == 0x01 => (b.content == [0xff], r),
            _ => (false, rest),
        };
        let (value, _) = d::expect(rest, d::OCTET_STRING).map_err(|_| bad("extnValue"))?;
        out.push((d::oid_string(oid.content), critical, value.content));
    }
    Ok(out)
}

/// Whether `c` is the responder a ResponderID names.
fn named(id: &d::Tlv, c: &Cert) -> bool {
    match id.tag {
        0xa1 => id.content == c.subject_raw(),
        0xa2 => d::expect(id.content, d::OCTET_STRING)
            .is_ok_and(|(h, _)| h.content[..] == Sha1::digest(c.public_key_bits())[..]),
        _ => false,
    }
}

/// The responder the ResponderID names, if it is authorised for `issuer`'s certificates: the
/// issuer itself, or a delegated responder (RFC 6960 §4.2.2.2). Returns it and whether delegated.
fn signer<'c>(id: &d::Tlv, issuer: &'c Cert, certs: &'c [Cert], now: i64) -> Result<(&'c Cert, bool), String> {
    if id.tag != 0xa1 && id.tag != 0xa2 {
        return Err(bad("responderID"));
    }
    if named(id, issuer) {
        return Ok((issuer, false));
    }
    let Some(r) = certs.iter().find(|c| named(id, c)) else {
        return Err("not signed by an authorised responder: the responder it names is neither the issuer nor a \
                    certificate it carries"
            .into());
    };
    let who = r.subject();
    let refuse = |why: String| Err(format!("responder {who} is not authorised for {}: {why}", issuer.subject()));
    if r.issuer_raw() != issuer.subject_raw() || r.verify_signed_by(issuer).is_err() {
        return refuse("its certificate is not issued by the certificate's issuer".into());
    }
    if !r.eku().is_some_and(|e| e.value.iter().any(|o| o == eku::OCSP_SIGNING)) {
        return refuse("its certificate does not carry id-kp-OCSPSigning".into());
    }
    if let Some(k) = r.key_usage_ext() {
        if k.value & ku::DIGITAL_SIGNATURE == 0 {
            return refuse("its keyUsage does not allow digitalSignature".into());
        }
    }
    if let Some((_, defect)) = r.defects().first() {
        return refuse(defect.clone());
    }
    r.valid_at(now).map_err(|e| format!("responder {who} is not authorised: {e}"))?;
    Ok((r, true))
}
