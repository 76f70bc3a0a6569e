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

/// A parsed certificate that keeps its DER bytes.
#[derive(Clone)]
pub struct Cert {
    pub der: Vec<u8>,
}

impl Cert {
    pub fn from_der(der: Vec<u8>) -> Result<Cert, CertError> {
        match X509Certificate::from_der(&der) {
            Ok(([], _)) => Ok(Cert { der }),
            Ok(_) => Err(CertError("trailing bytes after certificate".into())),
            Err(e) => Err(CertError(e.to_string())),
        }
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

    pub fn sha256(&self) -> String {
        sha256_hex(&self.der)
    }

    pub fn subject(&self) -> String {
        rfc4514(self.parsed().subject())
    }

    pub fn public_key(&self) -> Result<PublicKey, crate::crypto::CryptoError> {
        PublicKey::from_spki_der(self.parsed().public_key().raw)
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

    /// Whether `issuer`'s key made this certificate's signature.
    pub fn is_signed_by(&self, issuer: &Cert) -> bool {
        let c = self.parsed();
        let Ok(key) = issuer.public_key() else { return false };
        let oid = c.signature_algorithm.algorithm.to_id_string();
        use crate::crypto::HashAlg::*;
        let hash = match oid.as_str() {
            "1.2.840.113549.1.1.5" | "1.2.840.10045.4.1" => Sha1,
            "1.2.840.113549.1.1.11" | "1.2.840.10045.4.3.2" => Sha256,
            "1.2.840.113549.1.1.12" | "1.2.840.10045.4.3.3" => Sha384,
            "1.2.840.113549.1.1.13" | "1.2.840.10045.4.3.4" => Sha512,
            _ => return false,
        };
        let tbs: &[u8] = c.tbs_certificate.as_ref();
        key.verify_cms_prehash(hash, &hash.digest(tbs), &c.signature_value.data, &oid).is_ok()
    }

    /// Whether the certificate allows code signing: no EKU extension (any use), or one that
    /// lists codeSigning or anyExtendedKeyUsage.
    pub fn allows_code_signing(&self) -> bool {
        match self.parsed().extended_key_usage() {
            Ok(Some(eku)) => eku.value.code_signing || eku.value.any,
            _ => true,
        }
    }

    /// basicConstraints, if present: (critical, cA, pathLenConstraint).
    pub fn basic_constraints(&self) -> Option<(bool, bool, Option<u32>)> {
        match self.parsed().basic_constraints() {
            Ok(Some(bc)) => Some((bc.critical, bc.value.ca, bc.value.path_len_constraint)),
            _ => None,
        }
    }

    /// keyUsage, if present: (critical, digitalSignature, keyCertSign, any other usage than those two).
    pub fn key_usage(&self) -> Option<(bool, bool, bool, bool)> {
        match self.parsed().key_usage() {
            Ok(Some(ku)) => {
                let k = ku.value;
                let other = k.key_encipherment()
                    || k.data_encipherment()
                    || k.key_agreement()
                    || k.crl_sign()
                    || k.encipher_only()
                    || k.decipher_only();
                Some((ku.critical, k.digital_signature(), k.key_cert_sign(), other))
            }
            _ => None,
        }
    }

    /// extendedKeyUsage, if present: (critical, purposes by name: serverAuth, clientAuth,
    /// codeSigning, emailProtection, timeStamping, OCSPSigning, any, or the dotted OID).
    pub fn extended_key_usage(&self) -> Option<(bool, Vec<String>)> {
        match self.parsed().extended_key_usage() {
            Ok(Some(e)) => {
                let v = e.value;
                let mut names: Vec<String> = [
                    (v.server_auth, "serverAuth"),
                    (v.client_auth, "clientAuth"),
                    (v.code_signing, "codeSigning"),
                    (v.email_protection, "emailProtection"),
                    (v.time_stamping, "timeStamping"),
                    (v.ocsp_signing, "OCSPSigning"),
                    (v.any, "any"),
                ]
                .into_iter()
                .filter(|(set, _)| *set)
                .map(|(_, n)| n.to_string())
                .collect();
                names.extend(v.other.iter().map(|o| o.to_id_string()));
                Some((e.critical, names))
            }
            _ => None,
        }
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
                let value = a.as_str().map_err(|_| format!("the subject's {name} is not a string"))?;
                out.push((name.to_string(), value.to_string()));
            }
        }
        Ok(out)
    }

    /// The DER of an extension's value (the content of its extnValue OCTET STRING).
    pub fn extension_value(&self, oid: &str) -> Option<Vec<u8>> {
        self.parsed().extensions().iter().find(|e| e.oid.to_id_string() == oid).map(|e| e.value.to_vec())
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

    pub fn subject_raw(&self) -> Vec<u8> {
        self.parsed().subject().as_raw().to_vec()
    }

    pub fn issuer_raw(&self) -> Vec<u8> {
        self.parsed().issuer().as_raw().to_vec()
    }

    pub fn is_self_signed(&self) -> bool {
        let c = self.parsed();
        c.subject().as_raw() == c.issuer().as_raw()
    }

    /// Validity window as Unix seconds.
    pub fn validity(&self) -> (i64, i64) {
        let c = self.parsed();
        (c.validity().not_before.timestamp(), c.validity().not_after.timestamp())
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
