//! Signer identity from X.509 certificates (x509-parser): RFC 4514 subject and issuer, serial,
//! validity, SHA-256 thumbprint, SAN, the Fulcio OIDC issuer (both extension forms) and the Fulcio
//! CI identity extensions (FORMATS.md "Fulcio certificate identity").

use crate::crypto::{sha256_hex, PublicKey};
use crate::report::{ChainCert, Signer};
use thiserror::Error;
use x509_parser::prelude::*;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("malformed certificate: {0}")]
pub struct CertError(pub String);

/// A parsed certificate that keeps its DER bytes, with the facts path validation needs read
/// once at construction ([`Facts`]).
#[derive(Clone)]
pub struct Cert {
    pub der: Vec<u8>,
    facts: std::sync::Arc<Facts>,
}

impl std::fmt::Debug for Cert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cert({})", self.subject())
    }
}

/// An extension's criticality and value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ext<T> {
    pub critical: bool,
    pub value: T,
}

/// keyUsage bits (RFC 5280 §4.2.1.3).
pub mod ku {
    pub const DIGITAL_SIGNATURE: u16 = 1;
    pub const NON_REPUDIATION: u16 = 1 << 1;
    pub const KEY_ENCIPHERMENT: u16 = 1 << 2;
    pub const DATA_ENCIPHERMENT: u16 = 1 << 3;
    pub const KEY_AGREEMENT: u16 = 1 << 4;
    pub const KEY_CERT_SIGN: u16 = 1 << 5;
    pub const CRL_SIGN: u16 = 1 << 6;
}

/// Extended key usage purposes by OID.
pub mod eku {
    pub const ANY: &str = "2.5.29.37.0";
    pub const SERVER_AUTH: &str = "1.3.6.1.5.5.7.3.1";
    pub const CLIENT_AUTH: &str = "1.3.6.1.5.5.7.3.2";
    pub const CODE_SIGNING: &str = "1.3.6.1.5.5.7.3.3";
    pub const EMAIL_PROTECTION: &str = "1.3.6.1.5.5.7.3.4";
    pub const TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";
    pub const OCSP_SIGNING: &str = "1.3.6.1.5.5.7.3.9";

    /// The short name of a purpose, or its dotted OID.
    pub fn name(oid: &str) -> &str {
        match oid {
            ANY => "anyExtendedKeyUsage",
            SERVER_AUTH => "serverAuth",
            CLIENT_AUTH => "clientAuth",
            CODE_SIGNING => "codeSigning",
            EMAIL_PROTECTION => "emailProtection",
            TIME_STAMPING => "timeStamping",
            OCSP_SIGNING => "OCSPSigning",
            other => other,
        }
    }
}

/// What a certificate says about itself, read once: names, validity, the constraining
/// extensions, the signature algorithm and the bytes it covers, and the defects that make it
/// unusable in a certification path whatever its issuer (RFC 5280 §4.2: an extension twice, a
/// critical extension not processed here, an extension that does not parse).
struct Facts {
    version: u32,
    subject_raw: Vec<u8>,
    issuer_raw: Vec<u8>,
    not_before: i64,
    not_after: i64,
    basic_constraints: Option<Ext<(bool, Option<u32>)>>,
    key_usage: Option<Ext<u16>>,
    eku: Option<Ext<Vec<String>>>,
    name_constraints: bool,
    skid: Option<Vec<u8>>,
    /// The outer signatureAlgorithm: OID and DER parameters.
    sig_oid: String,
    sig_params: Option<Vec<u8>>,
    /// Whether TBSCertificate.signature equals the outer signatureAlgorithm (RFC 5280 §4.1.1.2).
    sig_consistent: bool,
    tbs: std::ops::Range<usize>,
    signature: Vec<u8>,
    key: Result<PublicKey, String>,
    defects: Vec<(DefectKind, String)>,
}

/// What kind of rule a certificate defect breaks (each is its own reason code in a path error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefectKind {
    /// An encoding rule: an extension twice or unparsable, signature algorithms that differ, …
    Malformed,
    /// A critical extension that is not processed.
    UnprocessedCritical,
    /// An EC key with explicit curve parameters (CVE-2020-0601).
    ExplicitCurve,
}

/// Extensions whose meaning this validator applies (or which constrain nothing it relies on);
/// any other critical extension makes the certificate unusable, as RFC 5280 §4.2 requires.
const HANDLED_EXTENSIONS: &[&str] = &[
    "2.5.29.19", // basicConstraints
    "2.5.29.15", // keyUsage
    "2.5.29.37", // extKeyUsage
    "2.5.29.17", // subjectAltName
    "2.5.29.18", // issuerAltName
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.32", // certificatePolicies (no policy is required here)
];

fn read_facts(der: &[u8], c: &X509Certificate<'_>) -> Result<Facts, CertError> {
    use crate::der as d;
    let bad = |m: &str| CertError(m.to_string());
    let (outer, _) = d::expect(der, d::SEQUENCE).map_err(|_| bad("not a SEQUENCE"))?;
    let (tbs, rest) = d::expect(outer.content, d::SEQUENCE).map_err(|_| bad("no TBSCertificate"))?;
    let (alg, rest) = d::expect(rest, d::SEQUENCE).map_err(|_| bad("no signatureAlgorithm"))?;
    let (sig, _) = d::expect(rest, 0x03).map_err(|_| bad("no signature BIT STRING"))?;
    // TBSCertificate: [0] version?, serial, signature AlgorithmIdentifier, ...
    let mut fields = d::children(tbs.content).map_err(|_| bad("malformed TBSCertificate"))?.into_iter();
    let mut serial = fields.next();
    if serial.is_some_and(|t| t.tag == 0xa0) {
        serial = fields.next();
    }
    let inner_alg = fields.next().filter(|_| serial.is_some()).ok_or_else(|| bad("no TBS signature"))?;
    let (alg_oid, params) = d::expect(alg.content, d::OID).map_err(|_| bad("bad signatureAlgorithm"))?;
    let tbs_start = tbs.raw.as_ptr() as usize - der.as_ptr() as usize;
    let signature = match sig.content.split_first() {
        Some((0, bits)) => bits.to_vec(),
        _ => return Err(bad("signature BIT STRING has unused bits")),
    };

    let mut defects = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut f = Facts {
        version: c.version().0 + 1,
        subject_raw: c.subject().as_raw().to_vec(),
        issuer_raw: c.issuer().as_raw().to_vec(),
        not_before: c.validity().not_before.timestamp(),
        not_after: c.validity().not_after.timestamp(),
        basic_constraints: None,
        key_usage: None,
        eku: None,
        name_constraints: false,
        skid: None,
        sig_oid: d::oid_string(alg_oid.content),
        sig_params: (!params.is_empty() && params != [0x05, 0x00]).then(|| params.to_vec()),
        sig_consistent: inner_alg.raw == alg.raw,
        tbs: tbs_start..tbs_start + tbs.raw.len(),
        signature,
        key: PublicKey::from_spki_der(c.public_key().raw).map_err(|e| e.to_string()),
        defects: Vec::new(),
    };
    if !c.extensions().is_empty() && f.version < 3 {
        defects.push((DefectKind::Malformed, format!("a version {} certificate carries extensions", f.version)));
    }
    for ext in c.extensions() {
        let oid = ext.oid.to_id_string();
        if !seen.insert(oid.clone()) {
            defects.push((DefectKind::Malformed, format!("extension {oid} appears more than once")));
            continue;
        }
        if let Some(e) = ext.parsed_extension().error() {
            defects.push((DefectKind::Malformed, format!("extension {oid} does not parse: {e}")));
            continue;
        }
        let critical = ext.critical;
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                f.basic_constraints = Some(Ext { critical, value: (bc.ca, bc.path_len_constraint) })
            }
            ParsedExtension::KeyUsage(k) => f.key_usage = Some(Ext { critical, value: k.flags }),
            ParsedExtension::ExtendedKeyUsage(e) => {
                let mut v: Vec<String> = [
                    (e.any, eku::ANY),
                    (e.server_auth, eku::SERVER_AUTH),
                    (e.client_auth, eku::CLIENT_AUTH),
                    (e.code_signing, eku::CODE_SIGNING),
                    (e.email_protection, eku::EMAIL_PROTECTION),
                    (e.time_stamping, eku::TIME_STAMPING),
                    (e.ocsp_signing, eku::OCSP_SIGNING),
                ]
                .into_iter()
                .filter(|(set, _)| *set)
                .map(|(_, o)| o.to_string())
                .collect();
                v.extend(e.other.iter().map(|o| o.to_id_string()));
                f.eku = Some(Ext { critical, value: v });
            }
            ParsedExtension::SubjectKeyIdentifier(k) => f.skid = Some(k.0.to_vec()),
            ParsedExtension::NameConstraints(_) => f.name_constraints = true,
            _ => {}
        }
        if critical && !HANDLED_EXTENSIONS.contains(&oid.as_str()) {
            defects.push((DefectKind::UnprocessedCritical, format!("critical extension {oid} is not processed here")));
        }
    }
    if let Some(Ext { value: (false, Some(_)), .. }) = f.basic_constraints {
        defects.push((DefectKind::Malformed, "basicConstraints has a pathLenConstraint without cA".into()));
    }
    if !f.sig_consistent {
        defects.push((
            DefectKind::Malformed,
            "the TBS signature algorithm differs from the certificate's signatureAlgorithm".into(),
        ));
    }
    if explicit_ec_parameters(c.public_key().raw) {
        defects.push((
            DefectKind::ExplicitCurve,
            "EC key with explicit curve parameters (the CVE-2020-0601 spoofing vector)".into(),
        ));
    }
    f.defects = defects;
    Ok(f)
}

/// Whether an SPKI is an EC key whose curve is given by explicit parameters, not a named curve.
fn explicit_ec_parameters(spki: &[u8]) -> bool {
    use crate::der as d;
    let parts = || -> Option<bool> {
        let (seq, _) = d::expect(spki, d::SEQUENCE).ok()?;
        let (alg, _) = d::expect(seq.content, d::SEQUENCE).ok()?;
        let (oid, params) = d::expect(alg.content, d::OID).ok()?;
        Some(d::oid_string(oid.content) == "1.2.840.10045.2.1" && params.first() == Some(&d::SEQUENCE))
    };
    parts().unwrap_or(false)
}

impl Cert {
    pub fn from_der(der: Vec<u8>) -> Result<Cert, CertError> {
        let facts = match X509Certificate::from_der(&der) {
            Ok(([], c)) => read_facts(&der, &c)?,
            Ok(_) => return Err(CertError("trailing bytes after certificate".into())),
            Err(e) => return Err(CertError(e.to_string())),
        };
        Ok(Cert { der, facts: std::sync::Arc::new(facts) })
    }

    /// Every `CERTIFICATE` block of a PEM text, in order.
    pub fn from_pem_chain(pem: &[u8]) -> Result<Vec<Cert>, CertError> {
        let mut out = Vec::new();
        for p in x509_parser::pem::Pem::iter_from_buffer(pem) {
            let p = p.map_err(|e| CertError(format!("PEM: {e}")))?;
            if p.label == "CERTIFICATE" {
                out.push(Cert::from_der(p.contents)?);
            }
        }
        if out.is_empty() {
            return Err(CertError("no CERTIFICATE block in PEM".into()));
        }
        Ok(out)
    }

    fn parsed(&self) -> X509Certificate<'_> {
        // Checked in the constructor.
        X509Certificate::from_der(&self.der).expect("validated at construction").1
    }

    /// Rule violations that make this certificate unusable in any certification path.
    pub fn defects(&self) -> &[(DefectKind, String)] {
        &self.facts.defects
    }

    /// X.509 version (1, 2 or 3).
    pub fn version(&self) -> u32 {
        self.facts.version
    }

    /// basicConstraints, if present.
    pub fn basic_constraints_ext(&self) -> Option<&Ext<(bool, Option<u32>)>> {
        self.facts.basic_constraints.as_ref()
    }

    /// Whether basicConstraints says cA=TRUE.
    pub fn is_ca(&self) -> bool {
        matches!(self.facts.basic_constraints, Some(Ext { value: (true, _), .. }))
    }

    /// keyUsage bits ([`ku`]), if present.
    pub fn key_usage_ext(&self) -> Option<&Ext<u16>> {
        self.facts.key_usage.as_ref()
    }

    /// extendedKeyUsage purposes as dotted OIDs ([`eku`]), if present.
    pub fn eku(&self) -> Option<&Ext<Vec<String>>> {
        self.facts.eku.as_ref()
    }

    /// Whether the certificate carries nameConstraints (not processed here).
    pub fn has_name_constraints(&self) -> bool {
        self.facts.name_constraints
    }

    pub fn subject_key_id(&self) -> Option<&[u8]> {
        self.facts.skid.as_deref()
    }

    /// The outer signatureAlgorithm's OID.
    pub fn signature_algorithm(&self) -> &str {
        &self.facts.sig_oid
    }

    /// Whether TBSCertificate.signature and the outer signatureAlgorithm are the same.
    pub fn signature_algorithm_consistent(&self) -> bool {
        self.facts.sig_consistent
    }

    /// Whether `issuer`'s key made this certificate's signature, by the algorithm the
    /// certificate names (the key must be of that algorithm's family; MD5 is refused).
    pub fn verify_signed_by(&self, issuer: &Cert) -> Result<(), String> {
        let key = issuer.facts.key.as_ref().map_err(|e| format!("issuer key: {e}"))?;
        let f = &self.facts;
        key.verify_algorithm(&f.sig_oid, f.sig_params.as_deref(), &self.der[f.tbs.clone()], &f.signature)
            .map_err(|e| e.to_string())
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.der)
    }

    pub fn subject(&self) -> String {
        rfc4514(self.parsed().subject())
    }

    pub fn public_key(&self) -> Result<PublicKey, crate::crypto::CryptoError> {
        self.facts.key.clone().map_err(crate::crypto::CryptoError::MalformedKey)
    }

    /// The serial number's content octets, as encoded.
    pub fn serial_raw(&self) -> &[u8] {
        self.parsed().raw_serial()
    }

    /// Whether this is the certificate a CMS signer names by issuer and serial number.
    pub fn matches_issuer_serial(&self, issuer_der: &[u8], serial: &[u8]) -> bool {
        let c = self.parsed();
        let trim = |b: &[u8]| -> Vec<u8> { b.iter().skip_while(|x| **x == 0).copied().collect() };
        c.issuer().as_raw() == issuer_der && trim(c.raw_serial()) == trim(serial)
    }

    /// Whether this certificate's subject key identifier is `ski`.
    pub fn has_subject_key_id(&self, ski: &[u8]) -> bool {
        self.parsed().extensions().iter().any(|e| match e.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(k) => k.0 == ski,
            _ => false,
        })
    }

    /// Whether `issuer`'s key made this certificate's signature (see [`Cert::verify_signed_by`]).
    pub fn is_signed_by(&self, issuer: &Cert) -> bool {
        self.verify_signed_by(issuer).is_ok()
    }

    /// basicConstraints, if present: (critical, cA, pathLenConstraint).
    pub fn basic_constraints(&self) -> Option<(bool, bool, Option<u32>)> {
        self.facts.basic_constraints.as_ref().map(|e| (e.critical, e.value.0, e.value.1))
    }

    /// keyUsage, if present: (critical, digitalSignature, keyCertSign, any other usage than those two).
    pub fn key_usage(&self) -> Option<(bool, bool, bool, bool)> {
        self.facts.key_usage.as_ref().map(|e| {
            let k = e.value;
            let other = k & !(ku::DIGITAL_SIGNATURE | ku::KEY_CERT_SIGN) != 0;
            (e.critical, k & ku::DIGITAL_SIGNATURE != 0, k & ku::KEY_CERT_SIGN != 0, other)
        })
    }

    /// extendedKeyUsage, if present: (critical, purposes by name: serverAuth, clientAuth,
    /// codeSigning, emailProtection, timeStamping, OCSPSigning, anyExtendedKeyUsage, or the dotted OID).
    pub fn extended_key_usage(&self) -> Option<(bool, Vec<String>)> {
        self.facts.eku.as_ref().map(|e| (e.critical, e.value.iter().map(|o| eku::name(o).to_string()).collect()))
    }

    /// The subject's attributes as Go's `pkix.Name` names them (C, O, OU, CN, L, ST, STREET,
    /// POSTALCODE, SERIALNUMBER), in order. Notation matches trusted identities on these; an
    /// attribute Go has no name for, or a multi-valued RDN, makes the subject unmatchable.
    pub fn subject_attributes(&self) -> Result<Vec<(String, String)>, String> {
        let c = self.parsed();
        let mut out = Vec::new();
        for rdn in c.subject().iter() {
            if rdn.iter().count() != 1 {
                return Err("the subject has a multi-valued RDN".into());
            }
            for a in rdn.iter() {
                let name = match a.attr_type().to_id_string().as_str() {
                    "2.5.4.6" => "C",
                    "2.5.4.10" => "O",
                    "2.5.4.11" => "OU",
                    "2.5.4.3" => "CN",
                    "2.5.4.7" => "L",
                    "2.5.4.8" => "ST",
                    "2.5.4.9" => "STREET",
                    "2.5.4.17" => "POSTALCODE",
                    "2.5.4.5" => "SERIALNUMBER",
                    other => return Err(format!("the subject has attribute {other}, which has no name to match")),
                };
                let value = go_string(a.attr_value())
                    .ok_or_else(|| format!("the subject's {name} is not a string Go's x509 reads"))?;
                out.push((name.to_string(), value));
            }
        }
        Ok(out)
    }

    /// The DER of an extension's value (the content of its extnValue OCTET STRING).
    pub fn extension_value(&self, oid: &str) -> Option<Vec<u8>> {
        self.parsed().extensions().iter().find(|e| e.oid.to_id_string() == oid).map(|e| e.value.to_vec())
    }

    /// The URIs of the cRLDistributionPoints extension's full names, in order; other names (a
    /// directory name, a name relative to the CRL issuer) as a description, for messages.
    pub fn crl_distribution_points(&self) -> Vec<String> {
        use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
        let mut out = Vec::new();
        for ext in self.parsed().extensions() {
            if let ParsedExtension::CRLDistributionPoints(points) = ext.parsed_extension() {
                for p in points.iter() {
                    match &p.distribution_point {
                        Some(DistributionPointName::FullName(names)) => out.extend(names.iter().map(|n| match n {
                            GeneralName::URI(u) => u.to_string(),
                            other => format!("(not a URI: {other})"),
                        })),
                        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                            out.push("(a name relative to the CRL issuer)".into())
                        }
                        None => out.push("(a distribution point without a name)".into()),
                    }
                }
            }
        }
        out
    }

    /// The URIs of the authorityInfoAccess extension's id-ad-ocsp access descriptions, in order.
    pub fn ocsp_responders(&self) -> Vec<String> {
        use x509_parser::extensions::{GeneralName, ParsedExtension};
        let mut out = Vec::new();
        for ext in self.parsed().extensions() {
            if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
                for d in aia.iter().filter(|d| d.access_method.to_id_string() == "1.3.6.1.5.5.7.48.1") {
                    out.push(match &d.access_location {
                        GeneralName::URI(u) => u.to_string(),
                        other => format!("(not a URI: {other})"),
                    });
                }
            }
        }
        out
    }

    /// The subjectPublicKey BIT STRING's bits (without its unused-bits octet): what OCSP's key
    /// hashes cover (RFC 6960 §4.1.1).
    pub fn public_key_bits(&self) -> Vec<u8> {
        self.parsed().public_key().subject_public_key.data.to_vec()
    }

    /// The DER SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        self.parsed().public_key().raw.to_vec()
    }

    /// The TBSCertificate re-encoded without the extension `oid` (RFC 6962 precertificate
    /// reconstruction for SCTs). None if the TBS does not parse as expected.
    pub fn tbs_without_extension(&self, oid: &str) -> Option<Vec<u8>> {
        use crate::der;
        let c = self.parsed();
        let (tbs, _) = der::expect(c.tbs_certificate.as_ref(), der::SEQUENCE).ok()?;
        let mut content = Vec::new();
        for field in der::children(tbs.content).ok()? {
            if field.tag != 0xa3 {
                content.extend_from_slice(field.raw);
                continue;
            }
            let (exts, _) = der::expect(field.content, der::SEQUENCE).ok()?;
            let mut kept = Vec::new();
            for ext in der::children(exts.content).ok()? {
                let (id, _) = der::expect(ext.content, der::OID).ok()?;
                if der::oid_string(id.content) != oid {
                    kept.extend_from_slice(ext.raw);
                }
            }
            content.extend(der::encode(0xa3, &der::encode(der::SEQUENCE, &kept)));
        }
        Some(der::encode(der::SEQUENCE, &content))
    }

    pub fn subject_raw(&self) -> &[u8] {
        &self.facts.subject_raw
    }

    pub fn issuer_raw(&self) -> &[u8] {
        &self.facts.issuer_raw
    }

    /// Self-issued: subject and issuer are the same name (whether the key signed it is
    /// [`Cert::is_signed_by`]`(self)`).
    pub fn is_self_signed(&self) -> bool {
        self.facts.subject_raw == self.facts.issuer_raw
    }

    /// Validity window as Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        (self.facts.not_before, self.facts.not_after)
    }

    /// Whether the certificate is valid at `t` (Unix seconds); the error says when it was.
    pub fn valid_at(&self, t: i64) -> Result<(), String> {
        let (nb, na) = self.validity();
        if t < nb || t > na {
            return Err(format!(
                "certificate {} is not valid at {}: outside the validity {} to {}",
                self.subject(),
                rfc3339(t).unwrap_or_default(),
                rfc3339(nb).unwrap_or_default(),
                rfc3339(na).unwrap_or_default()
            ));
        }
        Ok(())
    }

    pub fn chain_entry(&self) -> ChainCert {
        ChainCert { subject: self.subject(), sha256: self.sha256() }
    }

    /// The signer identity this certificate states.
    pub fn signer(&self) -> Signer {
        let c = self.parsed();
        let mut s = Signer {
            subject: Some(rfc4514(c.subject())),
            issuer: Some(rfc4514(c.issuer())),
            serial: Some(hex::encode(c.raw_serial())),
            not_before: rfc3339(c.validity().not_before.timestamp()),
            not_after: rfc3339(c.validity().not_after.timestamp()),
            sha256: Some(self.sha256()),
            key_algorithm: self.public_key().ok().map(|k| k.algorithm_name()),
            ..Signer::default()
        };
        let mut legacy_issuer = None;
        for ext in c.extensions() {
            match ext.parsed_extension() {
                ParsedExtension::SubjectAlternativeName(san) => {
                    s.san.extend(san.general_names.iter().filter_map(general_name));
                }
                _ => {
                    let oid = ext.oid.to_id_string();
                    let Some(n) = oid.strip_prefix("1.3.6.1.4.1.57264.1.") else {
                        continue;
                    };
                    let Ok(n) = n.parse::<u32>() else { continue };
                    // .1-.6 carry raw UTF-8; .8 and later a DER UTF8String.
                    let value =
                        if n <= 6 { String::from_utf8(ext.value.to_vec()).ok() } else { der_utf8_string(ext.value) };
                    let Some(value) = value else { continue };
                    match n {
                        1 => legacy_issuer = Some(value),
                        8 => s.oidc_issuer = Some(value),
                        _ => {
                            if let Some(name) = fulcio_extension_name(n) {
                                s.extensions.insert(name.to_string(), value);
                            }
                        }
                    }
                }
            }
        }
        if s.oidc_issuer.is_none() {
            s.oidc_issuer = legacy_issuer;
        }
        s
    }
}

/// An attribute value as Go's crypto/x509 (notation's) reads it: UTF8, Printable, IA5 and
/// Numeric strings as they are, a T61String of ASCII bytes (Go takes its bytes as they are, so
/// only ASCII compares equal to a UTF-8 policy string), a BMPString decoded from UTF-16; any other
/// type (UniversalString) Go does not read.
fn go_string(v: &x509_parser::der_parser::asn1_rs::Any<'_>) -> Option<String> {
    let data = v.data;
    match v.header.tag().0 {
        12 | 19 | 22 | 18 => String::from_utf8(data.to_vec()).ok(),
        20 => data.is_ascii().then(|| String::from_utf8_lossy(data).into_owned()),
        30 => {
            if !data.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = data.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// Identity of a bare public key: its algorithm and key id (SHA-256 of the DER SPKI).
pub fn key_signer(spki_der: &[u8]) -> Signer {
    Signer {
        key_id: Some(sha256_hex(spki_der)),
        key_algorithm: PublicKey::from_spki_der(spki_der).ok().map(|k| k.algorithm_name()),
        ..Signer::default()
    }
}

fn general_name(g: &GeneralName) -> Option<String> {
    Some(match g {
        GeneralName::RFC822Name(v) => format!("email:{v}"),
        GeneralName::URI(v) => format!("uri:{v}"),
        GeneralName::DNSName(v) => format!("dns:{v}"),
        GeneralName::IPAddress(b) => match b.len() {
            4 => format!("ip:{}", std::net::Ipv4Addr::from(<[u8; 4]>::try_from(*b).ok()?)),
            16 => format!("ip:{}", std::net::Ipv6Addr::from(<[u8; 16]>::try_from(*b).ok()?)),
            _ => format!("ip:{}", hex::encode(b)),
        },
        GeneralName::OtherName(oid, value) => {
            // Fulcio username identity: [0] EXPLICIT UTF8String under OID 1.3.6.1.4.1.57264.1.7.
            let inner = der_explicit_utf8(value).unwrap_or_else(|| hex::encode(value));
            format!("othername:{}:{inner}", oid.to_id_string())
        }
        GeneralName::DirectoryName(n) => format!("dirname:{}", rfc4514(n)),
        _ => return None,
    })
}

fn fulcio_extension_name(n: u32) -> Option<&'static str> {
    Some(match n {
        2 => "githubWorkflowTrigger",
        3 => "githubWorkflowSha",
        4 => "githubWorkflowName",
        5 => "githubWorkflowRepository",
        6 => "githubWorkflowRef",
        9 => "buildSignerUri",
        10 => "buildSignerDigest",
        11 => "runnerEnvironment",
        12 => "sourceRepositoryUri",
        13 => "sourceRepositoryDigest",
        14 => "sourceRepositoryRef",
        15 => "sourceRepositoryIdentifier",
        16 => "sourceRepositoryOwnerUri",
        17 => "sourceRepositoryOwnerIdentifier",
        18 => "buildConfigUri",
        19 => "buildConfigDigest",
        20 => "buildTrigger",
        21 => "runInvocationUri",
        22 => "sourceRepositoryVisibilityAtSigning",
        23 => "deploymentEnvironment",
        24 => "tokenSubject",
        _ => return None,
    })
}

/// A DER length and the rest, bounds-checked.
fn der_len(b: &[u8]) -> Option<(usize, &[u8])> {
    let (&first, rest) = b.split_first()?;
    if first < 0x80 {
        return Some((first as usize, rest));
    }
    let n = (first & 0x7f) as usize;
    if n == 0 || n > 4 || rest.len() < n {
        return None;
    }
    let len = rest[..n].iter().fold(0usize, |acc, &x| (acc << 8) | x as usize);
    Some((len, &rest[n..]))
}

fn der_utf8_string(b: &[u8]) -> Option<String> {
    let (&tag, rest) = b.split_first()?;
    if tag != 0x0c {
        return None;
    }
    let (len, rest) = der_len(rest)?;
    String::from_utf8(rest.get(..len)?.to_vec()).ok()
}

fn der_explicit_utf8(b: &[u8]) -> Option<String> {
    // x509-parser hands over the [0] EXPLICIT content or the whole TLV depending on version.
    if let Some(s) = der_utf8_string(b) {
        return Some(s);
    }
    let (&tag, rest) = b.split_first()?;
    if tag != 0xa0 {
        return None;
    }
    let (len, rest) = der_len(rest)?;
    der_utf8_string(rest.get(..len)?)
}

/// RFC 4514 string of a distinguished name, decoded as openssl shows it (see `crate::dn`).
pub fn rfc4514(name: &X509Name) -> String {
    crate::dn::rfc4514(name.as_raw())
}

pub fn rfc3339(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}
