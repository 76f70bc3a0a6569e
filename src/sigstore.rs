//! Sigstore bundle verification against a trusted root (COSIGN.md §3.5), used by
//! `sigaudit verify-bundle` and for the bundles a registry scan finds.
//!
//! The Sigstore client rules (transparency-log entry consistency, inclusion proofs and checkpoints,
//! SETs, RFC 3161 timestamps, SCTs, trusted-root validity windows, Rekor v2) come from the
//! `sigstore-verify` crate: measured on the 70 cases of the Sigstore conformance suite, it decides
//! every one right (tests/sigstore_conformance.rs), so none of that is written here. What it cannot
//! do is a regular-expression identity (`--certificate-identity-regexp`): that is matched here,
//! on the identity the crate returns after it verified the certificate.

use crate::report::ReasonCode as C;
pub use crate::trust::Rejection;
use regex::Regex;
use sigstore_verify::trust_root::TrustedRoot;
use sigstore_verify::types::{Artifact, ArtifactDigest, Bundle, DerPublicKey, HashAlgorithm, Sha256Hash};
use sigstore_verify::{PublicKeyVerificationPolicy, VerificationPolicy, Verifier};

/// The Sigstore public-good trusted root, as shipped with `sigstore-verify`.
pub const PUBLIC_GOOD_ROOT: &str = sigstore_verify::trust_root::SIGSTORE_PRODUCTION_TRUSTED_ROOT;

#[derive(Debug, thiserror::Error)]
pub enum SigstoreError {
    #[error("trusted root {source_name}: {message}")]
    TrustedRoot { source_name: String, message: String },
    #[error("public key: {0}")]
    Key(String),
}

/// Who may have signed a keyless bundle.
#[derive(Debug, Clone)]
pub enum Identity {
    Exact(String),
    Regex(Regex),
}

impl Identity {
    pub fn regex(pattern: &str) -> Result<Identity, regex::Error> {
        // Unanchored, like cosign (Go's regexp.MatchString finds a match anywhere): users write
        // `^…$` when they mean the whole identity, and their cosign policies carry over unchanged.
        Ok(Identity::Regex(Regex::new(pattern)?))
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Identity::Exact(s) => s == value,
            Identity::Regex(r) => r.is_match(value),
        }
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Exact(s) => write!(f, "{s}"),
            Identity::Regex(r) => write!(f, "/{}/", r.as_str()),
        }
    }
}

/// The signer constraint for one verification: a managed key, or a keyless identity.
#[derive(Debug, Clone, Default)]
pub struct SignerPolicy {
    /// DER SubjectPublicKeyInfo of managed keys (any one may verify).
    pub keys: Vec<(Vec<u8>, String)>,
    pub identity: Option<Identity>,
    pub issuer: Option<String>,
}

impl SignerPolicy {
    /// Check a certificate's identity (its SAN values as the report writes them, `email:…`,
    /// `uri:…`, `othername:<oid>:…`) and OIDC issuer against the constraints. One SAN value must
    /// match, as in cosign.
    pub fn check_identity(&self, san: &[String], issuer: Option<&str>) -> Result<(), String> {
        if let Some(want) = &self.identity {
            let values: Vec<&str> = san.iter().map(|v| san_value(v)).collect();
            if !values.iter().any(|v| want.matches(v)) {
                return Err(format!("signer identity {values:?} does not match {want}"));
            }
        }
        if let Some(want) = &self.issuer {
            if issuer != Some(want.as_str()) {
                return Err(format!("signer OIDC issuer {:?} is not {want}", issuer.unwrap_or("(none)")));
            }
        }
        Ok(())
    }

    pub fn add_key_pem(&mut self, pem: &str, source: &str) -> Result<(), SigstoreError> {
        let key = DerPublicKey::from_pem(pem).map_err(|e| SigstoreError::Key(format!("{source}: {e}")))?;
        // In the one encoding trust and key lives use ([`crate::crypto::canonical_spki`]), so that
        // the key a bundle verified with is found among them however the file spelled it.
        let der = crate::crypto::canonical_spki(key.as_bytes()).unwrap_or_else(|| key.as_bytes().to_vec());
        self.keys.push((der, source.to_string()));
        Ok(())
    }
}

/// The value of a SAN as written in reports (`email:a@b`, `uri:https://…`, `othername:1.3…:v`).
fn san_value(v: &str) -> &str {
    match v.split_once(':') {
        Some(("othername", rest)) => rest.split_once(':').map_or(rest, |(_, v)| v),
        Some((_, rest)) => rest,
        None => v,
    }
}

/// Loaded trusted roots, ready to verify many bundles (one that verifies is enough).
pub struct SigstoreTrust {
    roots: Vec<(Verifier, String)>,
}

impl std::fmt::Debug for SigstoreTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.roots.iter().map(|(_, n)| n.as_str()).collect();
        write!(f, "SigstoreTrust({names:?})")
    }
}

impl SigstoreTrust {
    pub fn empty() -> SigstoreTrust {
        SigstoreTrust { roots: Vec::new() }
    }

    pub fn add_json(&mut self, json: &str, source: &str) -> Result<(), SigstoreError> {
        let err = |message: String| SigstoreError::TrustedRoot { source_name: source.to_string(), message };
        let root = TrustedRoot::from_json(json).map_err(|e| err(e.to_string()))?;
        let verifier = Verifier::new(&root).map_err(|e| err(e.to_string()))?;
        self.roots.push((verifier, source.to_string()));
        Ok(())
    }

    /// The public-good root built in, used when the user gives none.
    pub fn public_good() -> SigstoreTrust {
        let mut t = SigstoreTrust::empty();
        t.add_json(PUBLIC_GOOD_ROOT, "built-in public-good root").expect("the built-in root parses");
        t
    }
}

/// What was signed: the bytes, or only their SHA-256 (an image manifest known by digest), or
/// only their SHA-512 (npm names packages by it), which sigstore-verify matches against a DSSE
/// statement's subjects only.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    Bytes(&'a [u8]),
    Sha256([u8; 32]),
    Sha512([u8; 64]),
}

/// A bundle that verified: who signed, and what proved when.
#[derive(Debug, Clone, Default)]
pub struct Verified {
    pub identity: Option<String>,
    pub issuer: Option<String>,
    /// The managed key that verified it (its source), for key bundles.
    pub key: Option<String>,
    /// Verified signing times (Rekor integrated time, RFC 3161), Unix seconds.
    pub times: Vec<i64>,
    pub tlog_verified: bool,
    pub sct_verified: bool,
    /// The trusted root that verified it.
    pub root: String,
}

impl Verified {
    /// One line for a report's reasons.
    pub fn describe(&self) -> String {
        let mut s = match (&self.key, &self.identity) {
            (Some(k), _) => format!("bundle verified with key {k}"),
            (None, Some(id)) => format!(
                "bundle verified: {} (issuer {}) chains to a Fulcio CA of {}",
                id,
                self.issuer.as_deref().unwrap_or("?"),
                self.root
            ),
            (None, None) => "bundle verified".to_string(),
        };
        if self.tlog_verified {
            s.push_str("; transparency log inclusion verified");
        }
        if self.sct_verified {
            s.push_str("; SCT verified");
        }
        s
    }
}

/// Untrusted: the signer is not one the policy names, or evidence is missing or unknown to the
/// trusted roots (no log entry or timestamp, a private CA or log). Invalid: evidence that is
/// there and false (bad signature, proof, checkpoint, SET, entry that records something else).
fn classify(e: sigstore_verify::Error) -> Rejection {
    use sigstore_verify::bundle::Error as B;
    use sigstore_verify::{CertificateError as Ce, Error as E, TimestampError as T, TransparencyLogError as L};
    let untrusted = matches!(
        e,
        E::IdentityMismatch { .. }
            | E::IssuerMismatch { .. }
            | E::Certificate(_)
            | E::TransparencyLog(L::UnknownLog { .. })
            | E::Timestamp(T::NoVerifiedTimestamp(_))
            | E::Bundle(
                B::MissingInclusionProof(_)
                    | B::MissingInclusionPromise(_)
                    | B::MissingSigningTimeEvidence
                    | B::MissingTimestamp
                    | B::MissingCheckpoint
            )
    ) || matches!(&e, E::Timestamp(T::Invalid(m)) if unknown_tsa(m));
    let code = match &e {
        E::IdentityMismatch { .. } | E::IssuerMismatch { .. } => C::IdentityMismatch,
        E::SignatureInvalid(_) => C::BadSignature,
        E::ArtifactMismatch(_) => C::PayloadDigestMismatch,
        E::UnsupportedArtifact(_) | E::UnsupportedBundle(_) => C::UnsupportedFormat,
        E::Certificate(Ce::Malformed(_)) => C::CertMalformed,
        E::Certificate(Ce::NoValidAuthority { .. }) => C::FulcioCaNotValid,
        E::Certificate(Ce::NotYetValid { .. } | Ce::Expired { .. }) => C::TimestampOutsideValidity,
        E::Certificate(Ce::Sct(_)) => C::SctInvalid,
        E::Certificate(_) => C::ChainNoAnchor,
        E::TransparencyLog(L::UnknownLog { .. }) => C::RekorUntrusted,
        E::TransparencyLog(_) => C::RekorInvalid,
        E::Timestamp(T::NoVerifiedTimestamp(_)) => C::NoVerifiedSigningTime,
        E::Timestamp(T::Invalid(m)) if unknown_tsa(m) => C::TimestampUntrusted,
        E::Timestamp(_) => C::TimestampInvalid,
        E::Bundle(B::MissingSigningTimeEvidence | B::MissingTimestamp) => C::NoVerifiedSigningTime,
        E::Bundle(B::MissingInclusionProof(_) | B::MissingInclusionPromise(_) | B::MissingCheckpoint) => {
            C::TlogEvidenceMissing
        }
        E::Bundle(B::LogIndexOutOfRange { .. } | B::CheckpointRootMismatch) => C::RekorInvalid,
        E::Bundle(B::UnsupportedMediaType(_) | B::UnsupportedVerificationMaterial) => C::UnsupportedFormat,
        E::InvalidTrustRoot(_) | E::TrustRoot(_) | E::TrustedCertificate(_) => C::TrustedRootUnusable,
        E::ArtifactRead(_) => C::FetchError,
        _ => C::MalformedSignature,
    };
    Rejection { untrusted, code, reason: e.to_string() }
}

/// sigstore-verify reports a timestamp by a TSA the root does not hold as `TimestampError::Invalid`,
/// like a false one; only its text tells them apart. An unknown authority is `untrusted`, as an
/// unknown log is. (Pinned by tests/cosign_vectors.rs: the kubewarden bundle under the staging root.)
fn unknown_tsa(message: &str) -> bool {
    message.contains("does not match any trusted TSA")
}

/// Verify one bundle (its JSON bytes) over `subject` under `policy` with any of the trusted roots.
pub fn verify_bundle(
    json: &[u8],
    subject: Subject<'_>,
    policy: &SignerPolicy,
    trust: &SigstoreTrust,
) -> Result<Verified, Rejection> {
    let text =
        std::str::from_utf8(json).map_err(|_| Rejection::invalid(C::MalformedSignature, "bundle is not UTF-8 JSON"))?;
    let bundle =
        Bundle::from_json(text).map_err(|e| Rejection::invalid(C::MalformedSignature, format!("bundle: {e}")))?;
    let mut errors = Vec::new();
    for (verifier, source) in &trust.roots {
        match verify_with(verifier, &bundle, subject, policy) {
            Ok(mut v) => {
                v.root = source.clone();
                return Ok(v);
            }
            Err(e) if trust.roots.len() == 1 => return Err(e),
            Err(e) => errors.push((e.untrusted, e.code, format!("{source}: {e}"))),
        }
    }
    if errors.is_empty() {
        return Err(Rejection::invalid(C::TrustedRootUnusable, "no Sigstore trusted root"));
    }
    // Untrusted if the evidence was sound under some root; invalid only if it failed under all.
    // The code is the first such root's.
    let untrusted = errors.iter().any(|(u, ..)| *u);
    let code = errors.iter().find(|(u, ..)| *u == untrusted).map(|(_, c, _)| *c).expect("one error at least");
    Err(Rejection { untrusted, code, reason: errors.into_iter().map(|(.., r)| r).collect::<Vec<_>>().join("; ") })
}

fn verify_with(
    verifier: &Verifier,
    bundle: &Bundle,
    subject: Subject<'_>,
    policy: &SignerPolicy,
) -> Result<Verified, Rejection> {
    let artifact = || match subject {
        Subject::Bytes(b) => Artifact::from_blob(b),
        Subject::Sha256(d) => Artifact::from_digest(Sha256Hash::new(d)),
        Subject::Sha512(d) => Artifact::from_digest(
            ArtifactDigest::new(HashAlgorithm::Sha2512, d.to_vec()).expect("64 bytes are a SHA-512"),
        ),
    };
    if !policy.keys.is_empty() {
        let mut last = Rejection::invalid(C::KeyMismatch, "no key");
        for (der, source) in &policy.keys {
            let key = DerPublicKey::new(der.clone());
            match verifier.verify(artifact(), bundle, &PublicKeyVerificationPolicy::new(key)) {
                Ok(r) => {
                    return Ok(Verified {
                        key: Some(source.clone()),
                        times: r.verified_timestamps().iter().map(|t| t.as_second()).collect(),
                        tlog_verified: r.tlog_verified(),
                        ..Default::default()
                    })
                }
                Err(e) => {
                    last = classify(e);
                    last.reason = format!("with key {source}: {}", last.reason);
                }
            }
        }
        return Err(last);
    }
    let mut vp = match &policy.identity {
        Some(Identity::Exact(id)) => VerificationPolicy::any_identity().require_identity(id.as_str()),
        _ => VerificationPolicy::any_identity(),
    };
    if let Some(issuer) = &policy.issuer {
        vp = vp.require_issuer(issuer.as_str());
    }
    let r = verifier.verify(artifact(), bundle, &vp).map_err(classify)?;
    let identity = r.identity().map(|i| i.as_str().to_string());
    if let Some(want) = &policy.identity {
        let mismatch = |why: String| Rejection::untrusted(C::IdentityMismatch, why);
        match &identity {
            Some(id) if want.matches(id) => {}
            Some(id) => return Err(mismatch(format!("signer identity {id} does not match {want}"))),
            None => return Err(mismatch("the certificate names no identity".into())),
        }
    }
    Ok(Verified {
        identity,
        issuer: r.issuer().map(str::to_string),
        times: r.verified_timestamps().iter().map(|t| t.as_second()).collect(),
        tlog_verified: r.tlog_verified(),
        sct_verified: r.sct_verified(),
        ..Default::default()
    })
}
