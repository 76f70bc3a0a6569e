//! Sigstore bundles stored as OCI referrers (cosign v3 default, COSIGN.md §3): a DSSE envelope over
//! an in-toto statement naming the image (or a message signature over the digest), with the
//! verification material (certificate, chain or a public-key hint) inside the bundle.

use super::{b64, cosign::open_dsse, dsse, Checked, Subject};
use crate::report::{Envelope, ReasonCode as C, SignatureKind, Verdict};
use crate::trust::Trust;
use crate::x509::Cert;
use serde::Deserialize;

pub const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub media_type: String,
    pub verification_material: Material,
    #[serde(default)]
    pub dsse_envelope: Option<dsse::Envelope>,
    #[serde(default)]
    pub message_signature: Option<MessageSignature>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Material {
    #[serde(default)]
    pub certificate: Option<RawBytes>,
    #[serde(default)]
    pub x509_certificate_chain: Option<Chain>,
    #[serde(default)]
    pub public_key: Option<KeyHint>,
    #[serde(default)]
    pub tlog_entries: Vec<serde_json::Value>,
    #[serde(default)]
    pub timestamp_verification_data: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawBytes {
    pub raw_bytes: String,
}

#[derive(Debug, Deserialize)]
pub struct Chain {
    #[serde(default)]
    pub certificates: Vec<RawBytes>,
}

#[derive(Debug, Deserialize)]
pub struct KeyHint {
    #[serde(default)]
    pub hint: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageSignature {
    pub message_digest: MessageDigest,
    pub signature: String,
}

#[derive(Debug, Deserialize)]
pub struct MessageDigest {
    pub algorithm: String,
    pub digest: String,
}

/// Bundle versions we understand, from the media type.
fn version_ok(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.dev.sigstore.bundle.v0.3+json"
            | "application/vnd.dev.sigstore.bundle+json;version=0.1"
            | "application/vnd.dev.sigstore.bundle+json;version=0.2"
            | "application/vnd.dev.sigstore.bundle+json;version=0.3"
    )
}

pub fn check_bundle(bytes: &[u8], subject: &Subject, trust: &Trust) -> Checked {
    let mut out = Checked::new(Envelope::Bundle, SignatureKind::Signature);
    // Keys that fold together are refused: the Sigstore library and this parser must read one bundle.
    let bundle: Bundle =
        match super::json::parse_unique(bytes).and_then(|v| serde_json::from_value(v).map_err(|e| e.to_string())) {
            Ok(b) => b,
            Err(e) => return out.invalid(C::MalformedSignature, format!("Sigstore bundle: {e}")),
        };
    if !version_ok(&bundle.media_type) {
        return out.unsupported(C::UnsupportedFormat, format!("Sigstore bundle media type {:?}", bundle.media_type));
    }
    let m = &bundle.verification_material;
    let certs: Vec<Cert> = {
        let raw: Vec<&RawBytes> = match (&m.certificate, &m.x509_certificate_chain) {
            (Some(c), _) => vec![c],
            (None, Some(ch)) => ch.certificates.iter().collect(),
            (None, None) => Vec::new(),
        };
        if raw.len() > super::MAX_CHAIN {
            return out.invalid(
                C::CertMalformed,
                format!("certificate chain of {} exceeds the limit of {}", raw.len(), super::MAX_CHAIN),
            );
        }
        let mut certs = Vec::new();
        for r in raw {
            match b64("certificate rawBytes", &r.raw_bytes).map(Cert::from_der) {
                Ok(Ok(c)) => certs.push(c),
                Ok(Err(e)) => return out.invalid(C::CertMalformed, e.to_string()),
                Err(e) => return out.invalid(C::CertMalformed, e),
            }
        }
        certs
    };
    if certs.is_empty() && m.public_key.is_none() {
        return out.invalid(C::CertMissing, "bundle has no certificate, chain or public key");
    }

    // Content: what is signed, and the check that it names this image.
    let (message, sig): (Vec<u8>, Vec<u8>) = match (&bundle.dsse_envelope, &bundle.message_signature) {
        (Some(env), _) => {
            out.envelope = Envelope::Dsse;
            let super::cosign::OpenedDsse { pae, sig, statement, .. } = match open_dsse(env) {
                Ok(x) => x,
                Err((code, e)) => return out.invalid(code, e),
            };
            out.predicate_type = statement.predicate_type.clone();
            if statement.predicate_type.as_deref() != Some(COSIGN_SIGN_PREDICATE) {
                out.kind = SignatureKind::Attestation;
            }
            if !statement.names(subject.digest.algorithm(), subject.digest.hex()) {
                return out.invalid(
                    C::PayloadDigestMismatch,
                    format!(
                        "statement subjects {:?} do not include this image ({}): bundle replayed from another image",
                        statement.subject_digests(),
                        subject.digest
                    ),
                );
            }
            (pae, sig)
        }
        (None, Some(ms)) => {
            let digest = match b64("messageDigest", &ms.message_digest.digest) {
                Ok(d) => d,
                Err(e) => return out.invalid(C::MalformedSignature, e),
            };
            if ms.message_digest.algorithm != "SHA2_256" || hex::encode(&digest) != subject.digest.hex() {
                return out.invalid(
                    C::PayloadDigestMismatch,
                    format!(
                        "message digest {}:{} does not name this image ({})",
                        ms.message_digest.algorithm,
                        hex::encode(&digest),
                        subject.digest
                    ),
                );
            }
            // A message signature signs the artifact; for an image that is the manifest, known
            // here by digest. The signature is checked over that digest (the prehash) with the
            // certificate's or a given key before anything else: a verdict never rests on the
            // chain alone.
            out.set_certificates(&certs);
            let sig = match b64("message signature", &ms.signature) {
                Ok(s) => s,
                Err(e) => return out.invalid(C::MalformedSignature, e),
            };
            if let Some(leaf) = certs.first() {
                let key = match leaf.public_key() {
                    Ok(k) => k,
                    Err(e) => return out.unsupported(C::UnsupportedAlgorithm, format!("certificate key: {e}")),
                };
                out.algorithm = Some(key.algorithm_name());
                match key.verify_sha256_prehash(&digest, &sig) {
                    Ok(()) => {}
                    Err(e @ crate::crypto::CryptoError::UnsupportedKey(_)) => {
                        return out.unsupported(C::UnsupportedAlgorithm, format!("message signature: {e}"))
                    }
                    Err(e) => {
                        let why = format!("message signature does not verify with the certificate's key: {e}");
                        return out.invalid(C::BadSignature, why);
                    }
                }
            } else {
                // With the Sigstore verifier, the key's life is judged at the verified signing
                // time it finds (sigstore_decide); without it, at the evaluation time.
                let (verdict, reason, key_id) = match trust.sigstore {
                    Some(_) => trust.find_key(|k| k.verify_sha256_prehash(&digest, &sig)),
                    None => trust.decide_key_only(|k| k.verify_sha256_prehash(&digest, &sig)),
                };
                out.signer = Some(crate::report::Signer {
                    key_name: key_id.as_deref().and_then(|id| trust.key_name(id)),
                    key_id: key_id.or_else(|| m.public_key.as_ref().and_then(|k| k.hint.clone())),
                    ..Default::default()
                });
                if verdict != Verdict::Verified {
                    return out.decided(verdict, reason);
                }
            }
            return match trust.sigstore.as_deref() {
                Some(p) => sigstore_decide(out, bytes, subject, p, &certs, trust),
                None if certs.is_empty() => {
                    let (verdict, reason, _) = trust.decide_key_only(|k| k.verify_sha256_prehash(&digest, &sig));
                    out.decided(verdict, reason)
                }
                None => out.decided_by(trust.decide_cosign_certificate(&certs, None)),
            };
        }
        (None, None) => {
            return out.invalid(C::MalformedSignature, "bundle has neither dsseEnvelope nor messageSignature")
        }
    };

    if let Some(leaf) = certs.first() {
        out.set_certificates(&certs);
        let key = match leaf.public_key() {
            Ok(k) => k,
            Err(e) => return out.unsupported(C::UnsupportedAlgorithm, format!("certificate key: {e}")),
        };
        out.algorithm = Some(key.algorithm_name());
        if let Err(e) = key.verify_cosign(&message, &sig) {
            let why = format!("DSSE signature does not verify with the certificate's key: {e}");
            return out.invalid(C::BadSignature, why);
        }
        if let Some(p) = trust.sigstore.as_deref() {
            return sigstore_decide(out, bytes, subject, p, &certs, trust);
        }
        out = out.decided_by(trust.decide_cosign_certificate(&certs, None));
    } else if let Some(p) = trust.sigstore.as_deref().filter(|p| !p.signer.keys.is_empty()) {
        // Our own check first: a key bundle whose envelope no given key verifies is invalid
        // whatever the Sigstore library would say. The key's life is judged in sigstore_decide,
        // at the verified signing time the Sigstore verifier finds (a log's integrated time, a
        // timestamp), not at the evaluation time.
        let (verdict, reason, key_id) = trust.find_key(|k| k.verify_cosign(&message, &sig));
        out.signer = Some(crate::report::Signer {
            key_name: key_id.as_deref().and_then(|id| trust.key_name(id)),
            key_id,
            ..Default::default()
        });
        if verdict != Verdict::Verified {
            return out.decided(verdict, reason);
        }
        return sigstore_decide(out, bytes, subject, p, &certs, trust);
    } else {
        let (verdict, reason, key_id) = trust.decide_key_only(|k| k.verify_cosign(&message, &sig));
        out.signer = Some(crate::report::Signer {
            key_name: key_id.as_deref().and_then(|id| trust.key_name(id)),
            key_id: key_id.or_else(|| m.public_key.as_ref().and_then(|k| k.hint.clone())),
            ..Default::default()
        });
        out = out.decided(verdict, reason);
    }
    if out.verdict != Verdict::Invalid && !m.tlog_entries.is_empty() {
        let n = m.tlog_entries.len();
        let why = format!(
            "{n} transparency log entr{} present; not checked (no Sigstore trusted root)",
            if n == 1 { "y" } else { "ies" }
        );
        out.note(C::TlogNotChecked, why);
    }
    out
}

/// The trust step for a bundle whose content checks held (or, for message signatures, that only
/// the Sigstore verifier can check): the Sigstore client rules against the trusted roots, then the
/// signer constraints (COSIGN.md §3.5).
fn sigstore_decide(
    mut out: Checked,
    bytes: &[u8],
    subject: &Subject,
    policy: &crate::trust::SigstorePolicy,
    certs: &[Cert],
    trust: &Trust,
) -> Checked {
    use crate::sigstore::{verify_bundle, Subject as Artifact};
    let digest = match (subject.digest.algorithm(), hex::decode(subject.digest.hex())) {
        ("sha256", Ok(d)) if d.len() == 32 => <[u8; 32]>::try_from(d).expect("32 bytes"),
        _ => {
            let why = format!("Sigstore verification of a {} digest", subject.digest.algorithm());
            return out.unsupported(C::UnsupportedAlgorithm, why);
        }
    };
    // A certificate bundle is judged by its certificate, a key bundle by the --key keys.
    let signer = match certs.is_empty() {
        true => std::borrow::Cow::Borrowed(&policy.signer),
        false => std::borrow::Cow::Owned(crate::sigstore::SignerPolicy { keys: Vec::new(), ..policy.signer.clone() }),
    };
    match verify_bundle(bytes, Artifact::Sha256(digest), &signer, &policy.roots) {
        Ok(v) => {
            let signed = v.times.iter().min().copied();
            out.signed_at = signed.and_then(crate::x509::rfc3339);
            if v.key.is_some() {
                let key_id = policy.signer.keys.iter().find(|(_, s)| Some(s) == v.key.as_ref());
                let key_id = key_id.map(|(der, _)| crate::crypto::sha256_hex(der));
                out.signer = Some(crate::report::Signer {
                    key_name: key_id.as_deref().and_then(|id| trust.key_name(id)),
                    key_id: key_id.clone(),
                    ..out.signer.unwrap_or_default()
                });
                // The key's life at the earliest verified signing time (the signature existed
                // then), else at the evaluation time.
                match key_id.as_deref().map(|id| trust.judge_key(id, signed)) {
                    Some(Err((verdict, why))) => {
                        out.note(C::BundleVerified, v.describe());
                        return out.decided(verdict, why);
                    }
                    Some(Ok(Some(note))) => out.reasons.push(note),
                    _ => {}
                }
                out.verdict = Verdict::Verified;
            } else if policy.constrains_identity() {
                out.verdict = Verdict::Verified;
            } else {
                out.verdict = Verdict::Untrusted;
                out.note(C::BundleVerified, v.describe());
                match &policy.signer.issuer {
                    Some(issuer) => out.note(
                        C::IssuerOnlyPolicy,
                        format!(
                            "an OIDC issuer alone is not an identity policy: any account at {issuer} could have \
                             signed; add --certificate-identity or --certificate-identity-regexp"
                        ),
                    ),
                    None => out.note(
                        C::NoIdentityPolicy,
                        "no --certificate-identity[-regexp] says who may sign: any Sigstore user could have",
                    ),
                }
                return out;
            }
            out.note(C::BundleVerified, v.describe());
        }
        // A private CA given with --ca-roots: the Sigstore roots do not know it.
        Err(r) if r.untrusted && !certs.is_empty() && !trust.anchors.is_empty() => {
            out.reasons.push(r.to_reason("Sigstore verification: "));
            out = out.decided_by(trust.decide_cosign_certificate(certs, None));
        }
        Err(r) => {
            out.verdict = r.verdict();
            out.reasons.push(r.to_reason("Sigstore verification: "));
        }
    }
    out
}
