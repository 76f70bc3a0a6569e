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
    #[error("unsupported signature algorithm {0}")]
    UnsupportedAlgorithm(String),
    #[error("{0} is broken and not accepted")]
    WeakAlgorithm(String),
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

/// RSA moduli accepted: at least 1024 bits (smaller ones are factorable), at most 16384.
const MIN_RSA_BITS: usize = 1024;
const MAX_RSA_BITS: usize = 16384;

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

/// The key of a DER SubjectPublicKeyInfo, encoded one way: an EC point uncompressed, RSA with
/// NULL parameters, as `openssl pkey -pubin -outform DER` writes them. Two encodings of one key
/// (a compressed and an uncompressed point) give the same bytes, so keys are matched, named and
/// revoked by what they are, not by how a file spells them. `None` for what does not parse.
pub fn canonical_spki(der: &[u8]) -> Option<Vec<u8>> {
    use spki::EncodePublicKey;
    let key = PublicKey::from_spki_der(der).ok()?;
    let out = match &key {
        PublicKey::P256(k) => k.to_public_key_der().ok()?.into_vec(),
        PublicKey::P384(k) => k.to_public_key_der().ok()?.into_vec(),
        PublicKey::P521(k) => {
            // SEQUENCE { SEQUENCE { id-ecPublicKey, secp521r1 }, BIT STRING (uncompressed point) }
            let point = k.to_encoded_point(false);
            let alg: &[u8] = &[
                0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00,
                0x23,
            ];
            let bits = crate::der::encode(0x03, &[&[0u8][..], point.as_bytes()].concat());
            crate::der::encode(0x30, &[alg, &bits].concat())
        }
        PublicKey::Rsa(k) => k.to_public_key_der().ok()?.into_vec(),
        PublicKey::Ed25519(k) => k.to_public_key_der().ok()?.into_vec(),
        PublicKey::Dsa(_) => der.to_vec(),
    };
    Some(out)
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
                // The rsa crate's default refuses keys over 4096 bits, which real CAs use; keys under
                // 1024 bits are factorable and refused (as the JDK's jdk.jar.disabledAlgorithms does).
                use rsa::pkcs1::der::Decode;
                let pk =
                    rsa::pkcs1::RsaPublicKey::from_der(info.subject_public_key.raw_bytes()).map_err(|e| bad(&e))?;
                let n = rsa::BigUint::from_bytes_be(pk.modulus.as_bytes());
                let e = rsa::BigUint::from_bytes_be(pk.public_exponent.as_bytes());
                if n.bits() < MIN_RSA_BITS {
                    return Err(CryptoError::UnsupportedKey(format!(
                        "RSA key of {} bits: under {MIN_RSA_BITS}, it is not accepted",
                        n.bits()
                    )));
                }
                Ok(PublicKey::Rsa(rsa::RsaPublicKey::new_with_max_size(n, e, MAX_RSA_BITS).map_err(|e| bad(&e))?))
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

    /// A signature over a SHA-256 digest known only as such (a Sigstore message signature over
    /// an image manifest): ECDSA (DER) over the prehash, or RSA PKCS#1 v1.5 then PSS with SHA-256.
    /// Ed25519 signs the message itself, so it cannot be checked from a digest.
    pub fn verify_sha256_prehash(&self, digest: &[u8], sig: &[u8]) -> Result<(), CryptoError> {
        if digest.len() != 32 {
            return Err(CryptoError::MalformedSignature);
        }
        match self {
            PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_) => self.verify_ecdsa_der_prehash(digest, sig),
            PublicKey::Rsa(k) => k
                .verify(pkcs1_scheme(HashAlg::Sha256), digest, sig)
                .or_else(|_| k.verify(rsa::Pss::new::<Sha256>(), digest, sig))
                .map_err(|_| CryptoError::BadSignature),
            PublicKey::Ed25519(_) | PublicKey::Dsa(_) => {
                Err(CryptoError::UnsupportedKey(format!("{} over a digest", self.algorithm_name())))
            }
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

/// A signature algorithm as an AlgorithmIdentifier names it: the scheme, the hash it binds and
/// the key family it needs. One table for certificates (where the identifier alone decides) and
/// CMS signers (where it must agree with the digest algorithm).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigScheme {
    /// RSASSA-PKCS1-v1_5 with a DigestInfo of this hash.
    RsaPkcs1(HashAlg),
    /// `rsaEncryption` used as a signature algorithm (CMS): PKCS#1 v1.5 with the signer's digest.
    RsaEncryption,
    /// RSASSA-PSS with MGF1 of the same hash and this salt length.
    RsaPss(HashAlg, usize),
    Ecdsa(HashAlg),
    /// `id-ecPublicKey` used as a signature algorithm (CMS): ECDSA with the signer's digest.
    EcPublicKey,
    Ed25519,
    Dsa(Option<HashAlg>),
}

const MD5_WITH_RSA: &str = "1.2.840.113549.1.1.4";
pub const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";

impl SigScheme {
    /// The scheme an AlgorithmIdentifier names. `params` is the DER of its parameters, if any
    /// (needed for RSASSA-PSS). MD5 is refused as broken.
    pub fn from_algorithm(oid: &str, params: Option<&[u8]>) -> Result<SigScheme, CryptoError> {
        use HashAlg::*;
        Ok(match oid {
            MD5_WITH_RSA | "1.2.840.113549.2.5" => return Err(CryptoError::WeakAlgorithm("MD5".into())),
            "1.2.840.113549.1.1.1" => SigScheme::RsaEncryption,
            "1.2.840.113549.1.1.5" | "1.3.14.3.2.29" => SigScheme::RsaPkcs1(Sha1),
            "1.2.840.113549.1.1.11" => SigScheme::RsaPkcs1(Sha256),
            "1.2.840.113549.1.1.12" => SigScheme::RsaPkcs1(Sha384),
            "1.2.840.113549.1.1.13" => SigScheme::RsaPkcs1(Sha512),
            RSASSA_PSS => {
                let (hash, salt) = pss_params(params)?;
                SigScheme::RsaPss(hash, salt)
            }
            "1.2.840.10045.4.1" => SigScheme::Ecdsa(Sha1),
            "1.2.840.10045.4.3.2" => SigScheme::Ecdsa(Sha256),
            "1.2.840.10045.4.3.3" => SigScheme::Ecdsa(Sha384),
            "1.2.840.10045.4.3.4" => SigScheme::Ecdsa(Sha512),
            "1.2.840.10045.2.1" => SigScheme::EcPublicKey,
            "1.3.101.112" => SigScheme::Ed25519,
            "1.2.840.10040.4.1" => SigScheme::Dsa(None),
            "1.2.840.10040.4.3" => SigScheme::Dsa(Some(Sha1)),
            "2.16.840.1.101.3.4.3.2" => SigScheme::Dsa(Some(Sha256)),
            other => return Err(CryptoError::UnsupportedAlgorithm(other.to_string())),
        })
    }

    /// The hash the identifier itself binds, if it names one.
    pub fn hash(self) -> Option<HashAlg> {
        match self {
            SigScheme::RsaPkcs1(h) | SigScheme::RsaPss(h, _) | SigScheme::Ecdsa(h) => Some(h),
            SigScheme::Dsa(h) => h,
            SigScheme::RsaEncryption | SigScheme::EcPublicKey | SigScheme::Ed25519 => None,
        }
    }

    fn family(self) -> &'static str {
        match self {
            SigScheme::RsaPkcs1(_) | SigScheme::RsaEncryption | SigScheme::RsaPss(..) => "RSA",
            SigScheme::Ecdsa(_) | SigScheme::EcPublicKey => "ECDSA",
            SigScheme::Ed25519 => "Ed25519",
            SigScheme::Dsa(_) => "DSA",
        }
    }

    fn fits(self, key: &PublicKey) -> bool {
        matches!(
            (self.family(), key),
            ("RSA", PublicKey::Rsa(_))
                | ("ECDSA", PublicKey::P256(_) | PublicKey::P384(_) | PublicKey::P521(_))
                | ("Ed25519", PublicKey::Ed25519(_))
                | ("DSA", PublicKey::Dsa(_))
        )
    }
}

/// RSASSA-PSS-params (RFC 4055): the hash (MGF1 must use the same one) and the salt length;
/// trailerField must be 1. Absent fields take their defaults (SHA-1, MGF1-SHA-1, 20).
fn pss_params(params: Option<&[u8]>) -> Result<(HashAlg, usize), CryptoError> {
    use crate::der;
    let bad = |m: &str| CryptoError::UnsupportedAlgorithm(format!("RSASSA-PSS parameters: {m}"));
    let params = params.ok_or_else(|| bad("missing"))?;
    let (seq, _) = der::expect(params, der::SEQUENCE).map_err(|_| bad("not a SEQUENCE"))?;
    let (mut hash, mut mgf_hash, mut salt) = (HashAlg::Sha1, HashAlg::Sha1, 20usize);
    let hash_of = |alg: &[u8]| -> Result<HashAlg, CryptoError> {
        let (t, _) = der::expect(alg, der::SEQUENCE).map_err(|_| bad("bad AlgorithmIdentifier"))?;
        let oid = der::algorithm_oid(&t).map_err(|_| bad("bad AlgorithmIdentifier"))?;
        HashAlg::from_oid(&oid).ok_or_else(|| bad(&format!("hash {oid}")))
    };
    for field in der::children(seq.content).map_err(|_| bad("malformed"))? {
        match field.tag {
            0xa0 => hash = hash_of(field.content)?,
            0xa1 => {
                let (mgf, _) = der::expect(field.content, der::SEQUENCE).map_err(|_| bad("bad MGF"))?;
                let (oid, rest) = der::expect(mgf.content, der::OID).map_err(|_| bad("bad MGF"))?;
                if der::oid_string(oid.content) != "1.2.840.113549.1.1.8" {
                    return Err(bad("mask generation function is not MGF1"));
                }
                mgf_hash = hash_of(rest)?;
            }
            0xa2 => {
                let (n, _) = der::expect(field.content, der::INTEGER).map_err(|_| bad("bad salt length"))?;
                if n.content.len() > 2 {
                    return Err(bad("salt length too large"));
                }
                salt = n.content.iter().fold(0usize, |a, b| (a << 8) | *b as usize);
            }
            0xa3 => {
                let (n, _) = der::expect(field.content, der::INTEGER).map_err(|_| bad("bad trailer field"))?;
                if n.content != [1] {
                    return Err(bad("trailer field is not 1"));
                }
            }
            _ => return Err(bad("unknown field")),
        }
    }
    if hash != mgf_hash {
        return Err(bad("MGF1 hash differs from the message hash"));
    }
    if hash == HashAlg::Md5 {
        return Err(CryptoError::WeakAlgorithm("MD5".into()));
    }
    Ok((hash, salt))
}

impl PublicKey {
    /// A signature by an AlgorithmIdentifier over `msg`, as in a certificate or CRL: the
    /// identifier alone decides the scheme and the hash, and the key must be of its family (an
    /// RSA signature never satisfies an ECDSA identifier). PKCS#1 v1.5 needs its DigestInfo;
    /// Ed25519 is the pure scheme.
    pub fn verify_algorithm(
        &self,
        oid: &str,
        params: Option<&[u8]>,
        msg: &[u8],
        sig: &[u8],
    ) -> Result<(), CryptoError> {
        let scheme = SigScheme::from_algorithm(oid, params)?;
        if !scheme.fits(self) {
            return Err(self.mismatch(scheme.family()));
        }
        match (scheme, self) {
            (SigScheme::RsaPkcs1(h), PublicKey::Rsa(k)) => {
                k.verify(pkcs1_scheme(h), &h.digest(msg), sig).map_err(|_| CryptoError::BadSignature)
            }
            (SigScheme::RsaPss(h, salt), PublicKey::Rsa(k)) => {
                k.verify(pss_scheme_salt(h, salt)?, &h.digest(msg), sig).map_err(|_| CryptoError::BadSignature)
            }
            (SigScheme::Ecdsa(h), _) => self.verify_ecdsa_der_prehash(&h.digest(msg), sig),
            (SigScheme::Ed25519, PublicKey::Ed25519(k)) => {
                let s = ed25519_dalek::Signature::from_slice(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_strict(msg, &s).map_err(|_| CryptoError::BadSignature)
            }
            (SigScheme::Dsa(Some(h)), PublicKey::Dsa(k)) => {
                use ecdsa::signature::hazmat::PrehashVerifier;
                let s = dsa::Signature::try_from(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_prehash(&h.digest(msg), &s).map_err(|_| CryptoError::BadSignature)
            }
            (other, _) => Err(CryptoError::UnsupportedAlgorithm(format!("{other:?} without a hash"))),
        }
    }

    /// A CMS SignerInfo's signature over `prehash` (the signer's digest, `hash`, of the signed
    /// attributes or content). The signatureAlgorithm must fit the key, and when it names a hash
    /// that hash must be the digest algorithm. `rsaEncryption` signatures fall back to the
    /// unprefixed PKCS#1 form old VeriSign timestamps use (returned as a note).
    pub fn verify_cms(
        &self,
        hash: HashAlg,
        prehash: &[u8],
        sig: &[u8],
        sig_alg_oid: &str,
        sig_alg_params: Option<&[u8]>,
    ) -> Result<Option<&'static str>, CryptoError> {
        use ecdsa::signature::hazmat::PrehashVerifier;
        if hash == HashAlg::Md5 {
            return Err(CryptoError::WeakAlgorithm("MD5".into()));
        }
        let scheme = SigScheme::from_algorithm(sig_alg_oid, sig_alg_params)?;
        if !scheme.fits(self) {
            return Err(self.mismatch(scheme.family()));
        }
        if let Some(named) = scheme.hash() {
            if named != hash {
                return Err(CryptoError::UnsupportedAlgorithm(format!(
                    "signature algorithm {sig_alg_oid} names {} but the digest algorithm is {}",
                    named.name(),
                    hash.name()
                )));
            }
        }
        match (scheme, self) {
            (SigScheme::RsaEncryption, PublicKey::Rsa(k)) => {
                if k.verify(pkcs1_scheme(hash), prehash, sig).is_ok() {
                    return Ok(None);
                }
                k.verify(rsa::Pkcs1v15Sign::new_unprefixed(), prehash, sig)
                    .map(|_| Some("legacy RSA signature without DigestInfo prefix"))
                    .map_err(|_| CryptoError::BadSignature)
            }
            (SigScheme::RsaPkcs1(_), PublicKey::Rsa(k)) => {
                k.verify(pkcs1_scheme(hash), prehash, sig).map(|_| None).map_err(|_| CryptoError::BadSignature)
            }
            (SigScheme::RsaPss(_, salt), PublicKey::Rsa(k)) => k
                .verify(pss_scheme_salt(hash, salt)?, prehash, sig)
                .map(|_| None)
                .map_err(|_| CryptoError::BadSignature),
            (SigScheme::Ecdsa(_) | SigScheme::EcPublicKey, _) => {
                self.verify_ecdsa_der_prehash(prehash, sig).map(|_| None)
            }
            (SigScheme::Dsa(_), PublicKey::Dsa(k)) => {
                let s = dsa::Signature::try_from(sig).map_err(|_| CryptoError::MalformedSignature)?;
                k.verify_prehash(prehash, &s).map(|_| None).map_err(|_| CryptoError::BadSignature)
            }
            (SigScheme::Ed25519, _) => Err(CryptoError::UnsupportedKey("Ed25519 in CMS".into())),
            _ => Err(CryptoError::UnsupportedAlgorithm(sig_alg_oid.to_string())),
        }
    }
}

/// RSA-PSS with MGF1 of the same hash and the given salt length.
fn pss_scheme_salt(hash: HashAlg, salt: usize) -> Result<rsa::Pss, CryptoError> {
    Ok(match hash {
        HashAlg::Sha1 => rsa::Pss::new_with_salt::<sha1::Sha1>(salt),
        HashAlg::Sha256 => rsa::Pss::new_with_salt::<Sha256>(salt),
        HashAlg::Sha384 => rsa::Pss::new_with_salt::<Sha384>(salt),
        HashAlg::Sha512 => rsa::Pss::new_with_salt::<Sha512>(salt),
        HashAlg::Md5 => return Err(CryptoError::WeakAlgorithm("MD5".into())),
    })
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
