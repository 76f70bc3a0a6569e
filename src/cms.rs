//! Lenient CMS / PKCS#7 SignedData for signed files (Authenticode, JAR, RFC 3161 tokens):
//! parsed from raw DER with [`crate::der`], certificates that do not parse skipped, signed
//! attributes verified over their original bytes (re-tagged `A0` -> `31`, RFC 5652 §5.4).

use crate::crypto::HashAlg;
use crate::der::{self, Tlv};
use crate::report::{Reason, ReasonCode};
use crate::x509::Cert;

pub const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub const TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
const CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
const MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
const SIGNING_TIME: &str = "1.2.840.113549.1.9.5";
pub const PKCS9_COUNTERSIGNATURE: &str = "1.2.840.113549.1.9.6";
pub const MS_RFC3161_COUNTERSIGNATURE: &str = "1.3.6.1.4.1.311.3.3.1";
pub const TIMESTAMP_TOKEN: &str = "1.2.840.113549.1.9.16.2.14";

/// Why a check did not pass: the format or algorithm is not handled, or the data is wrong; with
/// the reason code a report gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Unsupported(ReasonCode, String),
    Invalid(ReasonCode, String),
}

impl Failure {
    pub fn code(&self) -> ReasonCode {
        match self {
            Failure::Unsupported(c, _) | Failure::Invalid(c, _) => *c,
        }
    }

    /// The failure as a report's reason.
    pub fn to_reason(&self) -> Reason {
        Reason::new(self.code(), self.to_string())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Unsupported(_, s) | Failure::Invalid(_, s) => f.write_str(s),
        }
    }
}

/// A structure that does not read as CMS requires.
fn invalid(s: impl Into<String>) -> Failure {
    Failure::Invalid(ReasonCode::MalformedSignature, s.into())
}

impl From<der::DerError> for Failure {
    fn from(e: der::DerError) -> Failure {
        invalid(e.to_string())
    }
}

pub enum SignerId<'a> {
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    KeyId(&'a [u8]),
}

pub struct SignerInfo<'a> {
    pub sid: SignerId<'a>,
    pub digest_alg: String,
    /// The `[0] IMPLICIT` signed attributes, as encoded.
    pub signed_attrs: Option<Tlv<'a>>,
    pub sig_alg: String,
    /// The signatureAlgorithm's parameters (DER), if any besides NULL.
    pub sig_alg_params: Option<&'a [u8]>,
    pub signature: &'a [u8],
    pub unsigned_attrs: Vec<(String, Vec<Tlv<'a>>)>,
}

pub struct SignedData<'a> {
    pub content_type: String,
    /// The encapsulated content: the TLV inside `[0] EXPLICIT`, if present.
    pub content: Option<Tlv<'a>>,
    pub certificates: Vec<Cert>,
    pub signers: Vec<SignerInfo<'a>>,
}

/// `ContentInfo { signedData, [0] SignedData }`
pub fn parse_content_info(b: &[u8]) -> Result<SignedData<'_>, Failure> {
    let (ci, _) = der::expect(b, der::SEQUENCE)?;
    let (oid, rest) = der::expect(ci.content, der::OID)?;
    let oid = der::oid_string(oid.content);
    if oid != SIGNED_DATA {
        return Err(Failure::Unsupported(
            ReasonCode::UnsupportedFormat,
            format!("content type {oid} is not SignedData"),
        ));
    }
    let (wrapper, after) = der::expect(rest, 0xa0)?;
    let (sd, inside) = der::expect(wrapper.content, der::SEQUENCE)?;
    // DER: the [0] EXPLICIT wrapper holds the SignedData alone, and nothing follows it in the
    // ContentInfo (openssl: "explicit length mismatch").
    if !inside.is_empty() || !after.is_empty() {
        return Err(invalid("bytes after the SignedData inside its ContentInfo"));
    }
    parse_signed_data(sd.content)
}

/// Bytes after the ContentInfo at the start of `b` that are not zero padding (a signature
/// block, a catalog file, must hold the PKCS#7 alone: anything else is unsigned content).
pub fn trailing_after_content_info(b: &[u8]) -> usize {
    match der::read(b) {
        Ok((_, rest)) => rest.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1),
        Err(_) => 0,
    }
}

fn parse_signed_data(b: &[u8]) -> Result<SignedData<'_>, Failure> {
    let (_version, rest) = der::expect(b, der::INTEGER)?;
    let (_digest_algs, rest) = der::expect(rest, der::SET)?;
    let (encap, mut rest) = der::expect(rest, der::SEQUENCE)?;
    let (ct, after) = der::expect(encap.content, der::OID)?;
    let content = if after.is_empty() {
        None
    } else {
        let (w, rest) = der::expect(after, 0xa0)?;
        let (content, trailing) = der::read(w.content)?;
        // One content, alone in its [0] EXPLICIT wrapper, and nothing after it: a second
        // element (another CTL, say) would be content one reader sees and another does not.
        if !trailing.is_empty() || !rest.is_empty() {
            return Err(invalid("more than the content inside the SignedData's encapsulated content"));
        }
        Some(content)
    };
    let mut certificates = Vec::new();
    let mut signer_set = None;
    while !rest.is_empty() {
        let (t, r) = der::read(rest)?;
        rest = r;
        match t.tag {
            // [0] IMPLICIT certificates: keep what parses as X.509, skip attribute certificates.
            0xa0 => {
                for c in der::children(t.content)? {
                    if c.tag == der::SEQUENCE {
                        if let Ok(cert) = Cert::from_der(c.raw.to_vec()) {
                            certificates.push(cert);
                        }
                    }
                }
            }
            0xa1 => {} // CRLs
            der::SET => signer_set = Some(t),
            _ => return Err(invalid("unexpected element in SignedData")),
        }
    }
    let signer_set = signer_set.ok_or_else(|| invalid("SignedData has no signerInfos"))?;
    let signers = der::children(signer_set.content)?.iter().map(parse_signer_info).collect::<Result<Vec<_>, _>>()?;
    if certificates.len() > 64 {
        return Err(invalid("more than 64 certificates"));
    }
    Ok(SignedData { content_type: der::oid_string(ct.content), content, certificates, signers })
}

pub fn parse_signer_info<'a>(t: &Tlv<'a>) -> Result<SignerInfo<'a>, Failure> {
    if t.tag != der::SEQUENCE {
        return Err(invalid("SignerInfo is not a SEQUENCE"));
    }
    let (_version, rest) = der::expect(t.content, der::INTEGER)?;
    let (sid, rest) = der::read(rest)?;
    let sid = match sid.tag {
        der::SEQUENCE => {
            let (issuer, r) = der::expect(sid.content, der::SEQUENCE)?;
            let (serial, _) = der::expect(r, der::INTEGER)?;
            SignerId::IssuerSerial { issuer: issuer.raw, serial: serial.content }
        }
        0x80 => SignerId::KeyId(sid.content),
        _ => return Err(invalid("unknown signer identifier")),
    };
    let (digest_alg, mut rest) = der::expect(rest, der::SEQUENCE)?;
    let mut signed_attrs = None;
    let (next, r) = der::read(rest)?;
    rest = r;
    let sig_alg = if next.tag == 0xa0 {
        signed_attrs = Some(next);
        let (a, r) = der::expect(rest, der::SEQUENCE)?;
        rest = r;
        a
    } else if next.tag == der::SEQUENCE {
        next
    } else {
        return Err(invalid("unexpected element in SignerInfo"));
    };
    let (signature, rest) = der::expect(rest, der::OCTET_STRING)?;
    let mut unsigned_attrs = Vec::new();
    if !rest.is_empty() {
        let (u, _) = der::expect(rest, 0xa1)?;
        unsigned_attrs = attributes(u.content)?;
    }
    let (_, params) = der::expect(sig_alg.content, der::OID)?;
    Ok(SignerInfo {
        sid,
        digest_alg: der::algorithm_oid(&digest_alg)?,
        signed_attrs,
        sig_alg: der::algorithm_oid(&sig_alg)?,
        sig_alg_params: (!params.is_empty() && params != [0x05, 0x00]).then_some(params),
        signature: signature.content,
        unsigned_attrs,
    })
}

fn attributes(b: &[u8]) -> Result<Vec<(String, Vec<Tlv<'_>>)>, Failure> {
    let mut out = Vec::new();
    for a in der::children(b)? {
        let (oid, rest) = der::expect(a.content, der::OID)?;
        let (values, _) = der::expect(rest, der::SET)?;
        out.push((der::oid_string(oid.content), der::children(values.content)?));
    }
    Ok(out)
}

/// What a verified signer proved.
pub struct SignerCheck {
    pub cert: usize,
    pub hash: HashAlg,
    pub signing_time: Option<i64>,
    pub notes: Vec<Reason>,
}

impl<'a> SignerInfo<'a> {
    pub fn signed_attr(&self, oid: &str) -> Option<Vec<Tlv<'a>>> {
        let attrs = attributes(self.signed_attrs?.content).ok()?;
        attrs.into_iter().find(|(o, _)| o == oid).map(|(_, v)| v)
    }

    pub fn unsigned_attr<'s>(&'s self, oid: &'s str) -> impl Iterator<Item = &'s Tlv<'a>> + 's {
        self.unsigned_attrs.iter().filter(move |(o, _)| o == oid).flat_map(|(_, v)| v.iter())
    }

    pub fn hash(&self) -> Result<HashAlg, Failure> {
        HashAlg::from_oid(&self.digest_alg).ok_or_else(|| {
            Failure::Unsupported(ReasonCode::UnsupportedAlgorithm, format!("digest algorithm {}", self.digest_alg))
        })
    }

    pub fn find_cert(&self, certs: &[Cert]) -> Option<usize> {
        certs.iter().position(|c| match self.sid {
            SignerId::IssuerSerial { issuer, serial } => c.matches_issuer_serial(issuer, serial),
            SignerId::KeyId(k) => c.has_subject_key_id(k),
        })
    }

    /// Check the signature over `message` (the content, or the detached data). `content_type`
    /// is the SignedData's eContentType, which the contentType signed attribute must equal
    /// (RFC 5652 §5.3, §11.1); `None` for a countersignature, which has no such attribute.
    pub fn verify(&self, certs: &[Cert], message: &[u8], content_type: Option<&str>) -> Result<SignerCheck, Failure> {
        let hash = self.hash()?;
        if hash == HashAlg::Md5 {
            return Err(Failure::Invalid(
                ReasonCode::WeakMd5,
                "digest algorithm MD5 is broken and not accepted".into(),
            ));
        }
        let mut notes = Vec::new();
        let prehash = match &self.signed_attrs {
            Some(attrs) => {
                let md = self.signed_attr(MESSAGE_DIGEST).ok_or_else(|| invalid("no messageDigest attribute"))?;
                let md =
                    md.first().filter(|t| t.tag == der::OCTET_STRING).ok_or_else(|| invalid("bad messageDigest"))?;
                if md.content != hash.digest(message).as_slice() {
                    let why = "messageDigest attribute does not match the signed content";
                    return Err(Failure::Invalid(ReasonCode::MessageDigestMismatch, why.into()));
                }
                if let Some(expected) = content_type {
                    let attr = self.signed_attr(CONTENT_TYPE);
                    let named = attr.as_ref().and_then(|v| v.first()).filter(|t| t.tag == der::OID);
                    match named.map(|t| der::oid_string(t.content)) {
                        None => {
                            let why = "the signed attributes lack contentType (RFC 5652 §5.3)";
                            return Err(Failure::Invalid(ReasonCode::ContentTypeMismatch, why.into()));
                        }
                        Some(ct) if ct != expected => {
                            let why = format!(
                                "the contentType signed attribute {ct} is not the signed content's type {expected}"
                            );
                            return Err(Failure::Invalid(ReasonCode::ContentTypeMismatch, why));
                        }
                        Some(_) => {}
                    }
                }
                let mut tbs = attrs.raw.to_vec();
                tbs[0] = der::SET;
                hash.digest(&tbs)
            }
            None => hash.digest(message),
        };
        let cert = self.find_cert(certs).ok_or_else(|| {
            Failure::Invalid(ReasonCode::CertMissing, "the signer's certificate is not in the signature".into())
        })?;
        let key = certs[cert]
            .public_key()
            .map_err(|e| Failure::Unsupported(ReasonCode::UnsupportedAlgorithm, format!("signer key: {e}")))?;
        use crate::crypto::CryptoError as C;
        match key.verify_cms(hash, &prehash, self.signature, &self.sig_alg, self.sig_alg_params) {
            Ok(Some(note)) => notes.push(Reason::new(ReasonCode::LegacyRsaNoDigestinfo, note)),
            Ok(None) => {}
            Err(C::BadSignature) => {
                let why = "signature does not verify with the signer's key";
                return Err(Failure::Invalid(ReasonCode::BadSignature, why.into()));
            }
            Err(C::UnsupportedKey(k)) => return Err(Failure::Unsupported(ReasonCode::UnsupportedAlgorithm, k)),
            Err(e @ C::UnsupportedAlgorithm(_)) => {
                return Err(Failure::Unsupported(ReasonCode::UnsupportedAlgorithm, e.to_string()))
            }
            Err(e) => return Err(invalid(e.to_string())),
        }
        let signing_time = self.signed_attr(SIGNING_TIME).and_then(|v| v.first().and_then(der::time));
        Ok(SignerCheck { cert, hash, signing_time, notes })
    }
}

/// A countersignature (timestamp) on a signer, checked.
pub struct Countersignature {
    /// `pkcs9` or `rfc3161`
    pub kind: &'static str,
    pub signer: Option<Cert>,
    pub time: Option<i64>,
    pub result: Result<(), Failure>,
    /// Certificates an RFC 3161 token carries (the TSA's chain).
    pub certificates: Vec<Cert>,
}

/// Every countersignature in the unsigned attributes of `si`, each checked against the signature
/// value it countersigns. `outer_certs` are the enclosing SignedData's certificates (PKCS#9
/// countersigners live there).
pub fn countersignatures(si: &SignerInfo, outer_certs: &[Cert]) -> Vec<Countersignature> {
    let mut out = Vec::new();
    for v in si.unsigned_attr(PKCS9_COUNTERSIGNATURE).take(8) {
        let cs = match parse_signer_info(v) {
            Ok(cs) => cs,
            Err(e) => {
                out.push(Countersignature {
                    kind: "pkcs9",
                    signer: None,
                    time: None,
                    result: Err(e),
                    certificates: Vec::new(),
                });
                continue;
            }
        };
        let checked = cs.verify(outer_certs, si.signature, None);
        let signer = cs.find_cert(outer_certs).map(|i| outer_certs[i].clone());
        let time = cs.signed_attr(SIGNING_TIME).and_then(|v| v.first().and_then(der::time));
        out.push(Countersignature {
            kind: "pkcs9",
            signer,
            time,
            result: checked.map(|_| ()),
            certificates: Vec::new(),
        });
    }
    let tokens = si.unsigned_attr(MS_RFC3161_COUNTERSIGNATURE).chain(si.unsigned_attr(TIMESTAMP_TOKEN));
    for v in tokens.take(8) {
        out.push(timestamp_token(v.raw, si.signature, outer_certs));
    }
    out
}

/// An RFC 3161 token that holds on its own: its time, and its signer's chain as the token carries
/// it (the TSA certificate first).
pub struct StampedTime {
    pub time: i64,
    pub chain: Vec<Cert>,
}

/// Check a TimeStampToken over `signed` (Notary and cosign alike): the imprint and the token's
/// signature. Whether its signer is a timestamp authority the trust material names is the
/// caller's decision, through [`crate::pki::path`] with the timestamping purpose (which requires
/// the timeStamping EKU, RFC 3161 §2.3).
pub fn verify_timestamp_token(token: &[u8], signed: &[u8]) -> Result<StampedTime, String> {
    let cs = timestamp_token(token, signed, &[]);
    cs.result.map_err(|e| e.to_string())?;
    let time = cs.time.ok_or("the token has no time")?;
    let signer = cs.signer.ok_or("signing certificate not found in the timestamp token")?;
    let mut chain: Vec<Cert> = cs.certificates.into_iter().filter(|c| c.der != signer.der).collect();
    chain.insert(0, signer);
    Ok(StampedTime { time, chain })
}

/// An RFC 3161 TimeStampToken over `signature`: the imprint, and the token's own signature.
/// Whether its signer is a trusted TSA is the caller's decision.
pub fn timestamp_token(token: &[u8], signature: &[u8], outer_certs: &[Cert]) -> Countersignature {
    let mut cs =
        Countersignature { kind: "rfc3161", signer: None, time: None, result: Ok(()), certificates: Vec::new() };
    let sd = match parse_content_info(token) {
        Ok(sd) => sd,
        Err(e) => {
            cs.result = Err(e);
            return cs;
        }
    };
    let check = || -> Result<Option<i64>, Failure> {
        if sd.content_type != TST_INFO {
            return Err(invalid(format!("timestamp token content type {}", sd.content_type)));
        }
        let octets = sd.content.filter(|t| t.tag == der::OCTET_STRING).ok_or_else(|| invalid("no TSTInfo"))?;
        let (tst, _) = der::expect(octets.content, der::SEQUENCE)?;
        let (_v, r) = der::expect(tst.content, der::INTEGER)?;
        let (_policy, r) = der::expect(r, der::OID)?;
        let (imprint, r) = der::expect(r, der::SEQUENCE)?;
        let (_serial, r) = der::expect(r, der::INTEGER)?;
        let (gen_time, _) = der::expect(r, der::GENERALIZED_TIME)?;
        let (alg, r) = der::expect(imprint.content, der::SEQUENCE)?;
        let (hashed, _) = der::expect(r, der::OCTET_STRING)?;
        let alg = der::algorithm_oid(&alg)?;
        let h = HashAlg::from_oid(&alg).ok_or_else(|| {
            Failure::Unsupported(ReasonCode::UnsupportedAlgorithm, format!("timestamp imprint algorithm {alg}"))
        })?;
        if hashed.content != h.digest(signature).as_slice() {
            let why = "timestamp imprint does not match the countersigned signature";
            return Err(Failure::Invalid(ReasonCode::TimestampInvalid, why.into()));
        }
        Ok(der::time(&gen_time))
    };
    match check() {
        Ok(t) => cs.time = t,
        Err(e) => {
            cs.result = Err(e);
            return cs;
        }
    }
    // The token's own signature over TSTInfo.
    let Some(signer) = sd.signers.first() else {
        cs.result = Err(invalid("timestamp token has no signer"));
        return cs;
    };
    cs.certificates = sd.certificates.iter().map(Cert::clone).collect();
    let mut certs = cs.certificates.clone();
    certs.extend(outer_certs.iter().map(Cert::clone));
    let message = sd.content.map(|t| t.content).unwrap_or_default();
    match signer.verify(&certs, message, Some(TST_INFO)) {
        Ok(c) => cs.signer = Some(certs[c.cert].clone()),
        Err(e) => {
            cs.signer = signer.find_cert(&certs).map(|i| certs[i].clone());
            cs.result = Err(e);
        }
    }
    cs
}
