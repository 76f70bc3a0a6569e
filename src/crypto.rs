//! Signature verification primitives over public keys taken from certificates or PEM files.
//! Pure RustCrypto (p256/p384/p521, rsa, ed25519-dalek); each envelope format picks the scheme
//! and encoding it mandates.

use sha2::{Digest as _, Sha256, Sha384, Sha512};
use spki::DecodePublicKey;
use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CryptoError {
    #[error("unsupported public key: {0}")]
    UnsupportedKey(String),
    #[error("malformed public key: {0}")]
    MalformedKey(String),
    #[error("malformed signature encoding")]
    MalformedSignature,
    #[error("bad signature")]
    BadSignature,
    #[error("algorithm {alg} does not fit a {key} key")]
    AlgorithmMismatch { alg: String, key: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HashAlg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl HashAlg {
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }

    pub fn hasher(self) -> Hasher {
        match self {
            HashAlg::Md5 => Hasher::Md5(md5::Md5::new()),
            HashAlg::Sha1 => Hasher::Sha1(sha1::Sha1::new()),
            HashAlg::Sha256 => Hasher::Sha256(Sha256::new()),
            HashAlg::Sha384 => Hasher::Sha384(Sha384::new()),
            HashAlg::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    /// From a digest AlgorithmIdentifier OID.
    pub fn from_oid(oid: &str) -> Option<HashAlg> {
        Some(match oid {
            "1.2.840.113549.2.5" => HashAlg::Md5,
            "1.3.14.3.2.26" => HashAlg::Sha1,
            "2.16.840.1.101.3.4.2.1" => HashAlg::Sha256,
            "2.16.840.1.101.3.4.2.2" => HashAlg::Sha384,
            "2.16.840.1.101.3.4.2.3" => HashAlg::Sha512,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Md5 => "md5",
            HashAlg::Sha1 => "sha1",
            HashAlg::Sha256 => "sha256",
            HashAlg::Sha384 => "sha384",
            HashAlg::Sha512 => "sha512",
        }
    }
}

/// An incremental hash of any supported algorithm.
#[derive(Clone)]
pub enum Hasher {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha1(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha1(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

#[derive(Clone)]
pub enum PublicKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(Box<p521::ecdsa::VerifyingKey>),
    Rsa(rsa::RsaPublicKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    /// Only in legacy JAR signatures (`.DSA` block files).
    Dsa(Box<dsa::VerifyingKey>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", self.algorithm_name())
    }
}

impl PublicKey {
    /// Parse a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, CryptoError> {
        let info =
            spki::SubjectPublicKeyInfoRef::try_from(der).map_err(|e| CryptoError::MalformedKey(e.to_string()))?;
        let oid = info.algorithm.oid.to_string();
        let bad = |e: &dyn std::fmt::Display| CryptoError::MalformedKey(e.to_string());
        match oid.as_str() {
            // id-ecPublicKey: the curve is the parameter
            "1.2.840.10045.2.1" => {
                let curve = info.algorithm.parameters_oid().map_err(|e| bad(&e))?.to_string();
                match curve.as_str() {
                    "1.2.840.10045.3.1.7" => {
                        Ok(PublicKey::P256(p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?))
                    }
                    "1.3.132.0.34" => {
                        Ok(PublicKey::P384(p384::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?))
                    }
                    "1.3.132.0.35" => {
                        let point = info.subject_public_key.raw_bytes();
                        let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map_err(|e| bad(&e))?;
                        Ok(PublicKey::P521(Box::new(key)))
                    }
                    other => Err(CryptoError::UnsupportedKey(format!("EC curve {other}"))),
                }
            }
            "1.2.840.113549.1.1.1" => {
                Ok(PublicKey::Rsa(rsa::RsaPublicKey::from_public_key_der(der).map_err(|e| bad(&e))?))
            }
            "1.2.840.10040.4.1" => {
                Ok(PublicKey::Dsa(Box::new(dsa::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?)))
            }
            "1.3.101.112" => {
                Ok(PublicKey::Ed25519(ed25519_dalek::VerifyingKey::from_public_key_der(der).map_err(|e| bad(&e))?))
            }
            other => Err(CryptoError::UnsupportedKey(format!("algorithm {other}"))),
        }
    }

    /// Parse a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn from_pem(pem: &[u8]) -> Result<PublicKey, CryptoError> {
        let (_, p) =
            x509_parser::pem::parse_x509_pem(pem).map_err(|e| CryptoError::MalformedKey(format!("PEM: {e}")))?;
        if p.label != "PUBLIC KEY" {
            return Err(CryptoError::MalformedKey(format!("expected PUBLIC KEY PEM, found {}", p.label)));
        }
        PublicKey::from_spki_der(&p.contents)
    }

    /// A short name such as `ecdsa-p256`, `rsa-2048`, `ed25519`.
    pub fn algorithm_name(&self) -> String {
        use rsa::traits::PublicKeyParts;
        match self {
            PublicKey::P256(_) => "ecdsa-p256".into(),
            PublicKey::P384(_) => "ecdsa-p384".into(),
            PublicKey::P521(_) => "ecdsa-p521".into(),
            PublicKey::Rsa(k) => format!("rsa-{}", k.size() * 8),
            PublicKey::Ed25519(_) => "ed25519".into(),
            PublicKey::Dsa(_) => "dsa".into(),
        }
    }

    /// ECDSA over `hash(msg)` with an ASN.1 DER signature (cosign, X.509-style).
    pub fn verify_ecdsa_der(&self, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        self.verify_ecdsa_der_prehash(&hash.digest(msg), sig)
    }

    /// ECDSA with a DER signature over a precomputed hash. A hash shorter than half the field (as
    /// SHA-1 with P-384) is left-padded: the same integer, SEC1 §4.1.4.
    fn verify_ecdsa_der_prehash(&self, prehash: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let field = match self {
            PublicKey::P256(_) => 32,
            PublicKey::P384(_) => 48,
            PublicKey::P521(_) => 66,
            _ => return Err(self.mismatch("ECDSA")),
        };
        let padded;
        let h = if prehash.len() < field / 2 + 1 {
            let mut p = vec![0u8; field.saturating_sub(prehash.len())];
            p.extend_from_slice(prehash);
            padded = p;
            padded.as_slice()
        } else {
            prehash
        };
        let bad = |_| CryptoError::MalformedSignature;
        let ok = match self {
            PublicKey::P256(k) => {
                k.verify_prehash(h, &p256::ecdsa::DerSignature::from_bytes(sig).map_err(bad)?).is_ok()
            }
            PublicKey::P384(k) => {
                k.verify_prehash(h, &p384::ecdsa::DerSignature::from_bytes(sig).map_err(bad)?).is_ok()
            }
            PublicKey::P521(k) => k.verify_prehash(h, &p521::ecdsa::Signature::from_der(sig).map_err(bad)?).is_ok(),
            _ => false,
        };
        ok.then_some(()).ok_or(CryptoError::BadSignature)
    }

    /// ECDSA with the fixed-width `r || s` encoding (JWS, COSE).
    pub fn verify_ecdsa_raw(&self, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        let prehash = hash.digest(msg);
        let ok = match self {
            PublicKey::P256(k) if sig.len() == 64 => {
                let s = p256::ecdsa::Signature::from_slice(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_prehash(&prehash, &s).is_ok()
            }
            PublicKey::P384(k) if sig.len() == 96 => {
                let s = p384::ecdsa::Signature::from_slice(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_prehash(&prehash, &s).is_ok()
            }
            PublicKey::P521(k) if sig.len() == 132 => {
                let s = p521::ecdsa::Signature::from_slice(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_prehash(&prehash, &s).is_ok()
            }
            PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_) => {
                return Err(CryptoError::MalformedSignature)
            }
            _ => return Err(self.mismatch("ECDSA")),
        };
        ok.then_some(()).ok_or(CryptoError::BadSignature)
    }

    /// RSASSA-PKCS1-v1_5 over `hash(msg)`.
    pub fn verify_rsa_pkcs1(&self, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        let PublicKey::Rsa(k) = self else {
            return Err(self.mismatch("RSA"));
        };
        k.verify(pkcs1_scheme(hash), &hash.digest(msg), sig).map_err(|_| CryptoError::BadSignature)
    }

    /// RSASSA-PSS with MGF1 of the same hash and salt length = hash length.
    pub fn verify_rsa_pss(&self, hash: HashAlg, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        let PublicKey::Rsa(k) = self else {
            return Err(self.mismatch("RSA"));
        };
        let scheme = pss_scheme(hash)?;
        k.verify(scheme, &hash.digest(msg), sig).map_err(|_| CryptoError::BadSignature)
    }

    /// Ed25519 (pure) or, failing that, Ed25519ph (SHA-512 prehash), as cosign signs with both.
    pub fn verify_ed25519(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        let PublicKey::Ed25519(k) = self else {
            return Err(self.mismatch("Ed25519"));
        };
        let s = ed25519_dalek::Signature::from_slice(sig).map_err(|_| CryptoError::MalformedSignature)?;
        if k.verify_strict(msg, &s).is_ok() {
            return Ok(());
        }
        let mut h = Sha512::new();
        h.update(msg);
        k.verify_prehashed_strict(h, None, &s).map_err(|_| CryptoError::BadSignature)
    }

    /// A CMS signature over a precomputed hash: RSA PKCS#1 v1.5 (falling back to the unprefixed
    /// form old VeriSign timestamps use), RSA-PSS, or ECDSA with a DER signature (a hash shorter
    /// than half the field, as SHA-1 with P-384, is left-padded: the same integer, SEC1 §4.1.4).
    /// Returns a note when a legacy form was needed.
    pub fn verify_cms_prehash(
        &self,
        hash: HashAlg,
        prehash: &[u8],
        sig: &[u8],
        sig_alg_oid: &str,
    ) -> Result<Option<&'static str>, CryptoError> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            PublicKey::Rsa(k) => {
                if sig_alg_oid == "1.2.840.113549.1.1.10" {
                    let scheme = pss_scheme(hash)?;
                    return k.verify(scheme, prehash, sig).map(|_| None).map_err(|_| CryptoError::BadSignature);
                }
                if k.verify(pkcs1_scheme(hash), prehash, sig).is_ok() {
                    return Ok(None);
                }
                k.verify(rsa::Pkcs1v15Sign::new_unprefixed(), prehash, sig)
                    .map(|_| Some("legacy RSA signature without DigestInfo prefix"))
                    .map_err(|_| CryptoError::BadSignature)
            }
            PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_) => {
                self.verify_ecdsa_der_prehash(prehash, sig).map(|_| None)
            }
            PublicKey::Dsa(k) => {
                let s = dsa::Signature::try_from(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_prehash(prehash, &s).map(|_| None).map_err(|_| CryptoError::BadSignature)
            }
            PublicKey::Ed25519(_) => Err(CryptoError::UnsupportedKey("Ed25519 in CMS".into())),
        }
    }

    /// cosign's rules: the hash follows the key (P-256 SHA-256; P-384 SHA-384 then SHA-256; P-521
    /// SHA-512 then SHA-256, see COSIGN.md §1.7), ECDSA signatures in DER, RSA PKCS#1 v1.5 (then PSS)
    /// with SHA-256, Ed25519 pure or prehashed.
    pub fn verify_cosign(&self, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        match self {
            PublicKey::P256(_) => self.verify_ecdsa_der(HashAlg::Sha256, msg, sig),
            PublicKey::P384(_) => self
                .verify_ecdsa_der(HashAlg::Sha384, msg, sig)
                .or_else(|_| self.verify_ecdsa_der(HashAlg::Sha256, msg, sig)),
            PublicKey::P521(_) => self
                .verify_ecdsa_der(HashAlg::Sha512, msg, sig)
                .or_else(|_| self.verify_ecdsa_der(HashAlg::Sha256, msg, sig)),
            PublicKey::Rsa(_) => self
                .verify_rsa_pkcs1(HashAlg::Sha256, msg, sig)
                .or_else(|_| self.verify_rsa_pss(HashAlg::Sha256, msg, sig)),
            PublicKey::Ed25519(_) => self.verify_ed25519(msg, sig),
            PublicKey::Dsa(_) => Err(self.mismatch("cosign")),
        }
    }

    /// The JOSE algorithm a Notary signing key implies (RSA 2048/3072/4096, P-256/384/521).
    pub fn notary_alg(&self) -> Option<&'static str> {
        use rsa::traits::PublicKeyParts;
        match self {
            PublicKey::Rsa(k) => match k.size() * 8 {
                2048 => Some("PS256"),
                3072 => Some("PS384"),
                4096 => Some("PS512"),
                _ => None,
            },
            PublicKey::P256(_) => Some("ES256"),
            PublicKey::P384(_) => Some("ES384"),
            PublicKey::P521(_) => Some("ES512"),
            PublicKey::Ed25519(_) | PublicKey::Dsa(_) => None,
        }
    }

    /// Verify a JOSE-named signature (PS256/384/512, ES256/384/512) with raw ECDSA encoding.
    pub fn verify_jose(&self, alg: &str, msg: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        match alg {
            "PS256" => self.verify_rsa_pss(HashAlg::Sha256, msg, sig),
            "PS384" => self.verify_rsa_pss(HashAlg::Sha384, msg, sig),
            "PS512" => self.verify_rsa_pss(HashAlg::Sha512, msg, sig),
            "ES256" => self.verify_ecdsa_raw(HashAlg::Sha256, msg, sig),
            "ES384" => self.verify_ecdsa_raw(HashAlg::Sha384, msg, sig),
            "ES512" => self.verify_ecdsa_raw(HashAlg::Sha512, msg, sig),
            other => Err(CryptoError::UnsupportedKey(format!("signature algorithm {other}"))),
        }
    }

    fn mismatch(&self, alg: &str) -> CryptoError {
        CryptoError::AlgorithmMismatch { alg: alg.into(), key: self.algorithm_name() }
    }
}

fn pkcs1_scheme(hash: HashAlg) -> rsa::Pkcs1v15Sign {
    match hash {
        HashAlg::Md5 => rsa::Pkcs1v15Sign::new::<md5::Md5>(),
        HashAlg::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
        HashAlg::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
        HashAlg::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
        HashAlg::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
    }
}

/// RSA-PSS with MGF1 of the same hash and salt length = hash length.
fn pss_scheme(hash: HashAlg) -> Result<rsa::Pss, CryptoError> {
    Ok(match hash {
        HashAlg::Sha1 => rsa::Pss::new::<sha1::Sha1>(),
        HashAlg::Sha256 => rsa::Pss::new::<Sha256>(),
        HashAlg::Sha384 => rsa::Pss::new::<Sha384>(),
        HashAlg::Sha512 => rsa::Pss::new::<Sha512>(),
        HashAlg::Md5 => return Err(CryptoError::UnsupportedKey("RSA-PSS with MD5".into())),
    })
}

/// Decode standard base64, ignoring CR/LF as Go's decoder does (real cosign annotations wrap).
pub fn b64_std_lenient(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let cleaned: String = s.chars().filter(|c| *c != '\r' && *c != '\n').collect();
    base64::engine::general_purpose::STANDARD.decode(cleaned.trim()).ok()
}

/// Lowercase hex SHA-256.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}
