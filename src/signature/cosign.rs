//! cosign's legacy tag-based layers (COSIGN.md §1–2): simple-signing payloads in `.sig` manifests
//! and DSSE attestations in `.att` manifests, one layer = one signature. The signed bytes are the
//! layer blob exactly as stored; the binding is `critical.image.docker-manifest-digest`.

use super::rekor::Logged;
use super::{b64, dsse, Checked, Subject};
use crate::crypto::PublicKey;
use crate::report::{Envelope, ReasonCode as C, SignatureKind, Verdict};
use crate::trust::Trust;
use crate::x509::Cert;
use std::collections::BTreeMap;

pub const ANN_SIGNATURE: &str = "dev.cosignproject.cosign/signature";
pub const ANN_CERTIFICATE: &str = "dev.sigstore.cosign/certificate";
pub const ANN_CHAIN: &str = "dev.sigstore.cosign/chain";
pub const ANN_BUNDLE: &str = "dev.sigstore.cosign/bundle";
pub const ANN_TIMESTAMP: &str = "dev.sigstore.cosign/rfc3161timestamp";
pub const SIMPLESIGNING_TYPE: &str = "cosign container image signature";

/// The certificate chain a layer carries (leaf from the certificate annotation, then the chain).
fn layer_certificates(ann: &BTreeMap<String, String>) -> Result<Vec<Cert>, String> {
    let Some(leaf) = ann.get(ANN_CERTIFICATE).filter(|s| !s.trim().is_empty()) else {
        return Ok(Vec::new());
    };
    let mut certs = Cert::from_pem_chain(leaf.as_bytes()).map_err(|e| format!("certificate annotation: {e}"))?;
    certs.truncate(1);
    if let Some(chain) = ann.get(ANN_CHAIN).filter(|s| !s.trim().is_empty()) {
        certs.extend(Cert::from_pem_chain(chain.as_bytes()).map_err(|e| format!("chain annotation: {e}"))?);
    }
    if certs.len() > super::MAX_CHAIN {
        return Err(format!("certificate chain of {} exceeds the limit of {}", certs.len(), super::MAX_CHAIN));
    }
    Ok(certs)
}

/// Key id of the public key a Rekor bundle records for a key-only signature, when present.
fn rekor_key_id(ann: &BTreeMap<String, String>) -> Option<(String, Vec<u8>)> {
    let bundle: serde_json::Value = serde_json::from_str(ann.get(ANN_BUNDLE)?).ok()?;
    let body = crate::crypto::b64_std_lenient(bundle.pointer("/Payload/body")?.as_str()?)?;
    let body: serde_json::Value = serde_json::from_slice(&body).ok()?;
    let key_b64 = body.pointer("/spec/signature/publicKey/content")?.as_str()?;
    let pem = crate::crypto::b64_std_lenient(key_b64)?;
    let (_, p) = x509_parser::pem::parse_x509_pem(&pem).ok()?;
    (p.label == "PUBLIC KEY").then(|| (crate::crypto::sha256_hex(&p.contents), p.contents))
}

/// Apply the signature decision shared by simple-signing and DSSE layers once the binding holds.
/// `signed`: what a Rekor entry must record for this layer.
fn decide(
    mut out: Checked,
    certs: &[Cert],
    ann: &BTreeMap<String, String>,
    trust: &Trust,
    signed: Logged<'_>,
    verify: impl Fn(&PublicKey) -> Result<(), crate::crypto::CryptoError>,
) -> Checked {
    if let Some(leaf) = certs.first() {
        out.set_certificates(certs);
        let key = match leaf.public_key() {
            Ok(k) => k,
            Err(e) => return out.unsupported(C::UnsupportedAlgorithm, format!("certificate key: {e}")),
        };
        out.algorithm = Some(key.algorithm_name());
        if let Err(e) = verify(&key) {
            return out.invalid(C::BadSignature, format!("signature does not verify with the certificate's key: {e}"));
        }
        // With a trusted root, the Rekor SET proves when the signature was logged: the
        // certificate (Fulcio certificates live ten minutes) is judged at that time.
        let set_time = match rekor_time(&mut out, ann, signed, &leaf.der, trust) {
            Ok(at) => at,
            Err(verdict) => {
                out.verdict = verdict;
                return out;
            }
        };
        let tsa_time = match timestamp_time(&mut out, ann, signed, trust) {
            Ok(t) => t,
            Err(verdict) => {
                out.verdict = verdict;
                return out;
            }
        };
        // The certificate is judged at a verified time, and must hold at every one.
        if let (Some(_), Some(t)) = (set_time, tsa_time) {
            if let Err(e) = leaf.valid_at(t) {
                return out.invalid(C::TimestampOutsideValidity, format!("RFC 3161 timestamp: {e}"));
            }
        }
        let at = set_time.or(tsa_time);
        return out.decided_by(trust.decide_cosign_certificate(certs, at));
    }
    // Key-only: name the key when the Rekor entry records it.
    let recorded = rekor_key_id(ann);
    if let Some((_, spki)) = &recorded {
        out.signer = Some(crate::x509::key_signer(spki));
    }
    let (verdict, reason, key_id) = trust.find_key(verify);
    let mut signed_at = None;
    if let Some(id) = &key_id {
        let key = trust.keys.iter().find(|k| &k.key_id == id);
        out.signer = Some(crate::report::Signer {
            key_id: Some(id.clone()),
            key_algorithm: key.map(|k| k.key.algorithm_name()),
            key_name: key.and_then(|k| k.life.name.clone()),
            ..Default::default()
        });
        // With a trusted root, a Rekor SET on a key signature must verify and record this key,
        // and an RFC 3161 timestamp must verify over the signature; either dates it.
        if let Some(k) = key {
            let set_time = match rekor_time(&mut out, ann, signed, &k.der, trust) {
                Ok(t) => t,
                Err(verdict) => {
                    out.verdict = verdict;
                    return out;
                }
            };
            let tsa_time = match timestamp_time(&mut out, ann, signed, trust) {
                Ok(t) => t,
                Err(verdict) => {
                    out.verdict = verdict;
                    return out;
                }
            };
            // The earliest verified time: the signature existed then.
            signed_at = set_time.into_iter().chain(tsa_time).min();
        }
    } else if out.signer.is_none() {
        out.signer = Some(crate::report::Signer::default());
    }
    // The key's life, at the Rekor integrated time or RFC 3161 time when one verified (the
    // earlier), else the evaluation time.
    match key_id.as_deref().map(|id| trust.judge_key(id, signed_at)) {
        Some(Err((v, why))) => {
            out.reasons.push(reason);
            out.decided(v, why)
        }
        Some(Ok(Some(note))) => {
            let mut out = out.decided(verdict, reason);
            out.reasons.push(note);
            out
        }
        _ => out.decided(verdict, reason),
    }
}

/// The Rekor SET of a layer, when it has one and trusted roots are loaded: the integrated time,
/// or the verdict it forces (reason recorded): invalid for a false SET or one that records
/// something else, untrusted for a log the roots do not know.
fn rekor_time(
    out: &mut Checked,
    ann: &BTreeMap<String, String>,
    logged: Logged<'_>,
    signer_der: &[u8],
    trust: &Trust,
) -> Result<Option<i64>, Verdict> {
    let Some(bundle) = ann.get(ANN_BUNDLE).filter(|_| !trust.logs.is_empty()) else {
        return Ok(None);
    };
    match super::rekor::verify_set(bundle, logged, signer_der, &trust.logs) {
        Ok((time, index)) => {
            out.signed_at = crate::x509::rfc3339(time);
            out.note(C::RekorSetVerified, format!("Rekor SET verified: log index {index}"));
            Ok(Some(time))
        }
        Err(e) => {
            out.reasons.push(e.to_reason("transparency log: "));
            Err(e.verdict())
        }
    }
}

/// The RFC 3161 timestamp annotation of a layer, when it has one and the trusted roots name
/// timestamp authorities: its time, or the verdict it forces. The imprint covers the raw
/// signature; for `.att` layers cosign's legacy attest path stamped the envelope instead, so
/// both are tried there (COSIGN.md §1.6).
fn timestamp_time(
    out: &mut Checked,
    ann: &BTreeMap<String, String>,
    logged: Logged<'_>,
    trust: &Trust,
) -> Result<Option<i64>, Verdict> {
    let Some(value) = ann.get(ANN_TIMESTAMP).filter(|_| !trust.tsas.is_empty()) else {
        return Ok(None);
    };
    let candidates: Vec<&[u8]> = match logged {
        Logged::Payload { sig, .. } => vec![sig],
        Logged::Envelope { envelope, sig, .. } => vec![sig, envelope],
    };
    let mut failure = None;
    for signed in candidates {
        match super::rekor::verify_timestamp_annotation(value, signed, &trust.tsas, &trust.revocation) {
            Ok((time, tsa)) => {
                out.note(
                    C::TimestampVerified,
                    format!("RFC 3161 timestamp verified: {tsa} at {}", crate::x509::rfc3339(time).unwrap_or_default()),
                );
                out.timestamp = Some(crate::report::Timestamp {
                    authority: Some(tsa),
                    time: crate::x509::rfc3339(time).unwrap_or_default(),
                    verified: true,
                });
                if out.signed_at.is_none() {
                    out.signed_at = crate::x509::rfc3339(time);
                }
                return Ok(Some(time));
            }
            Err(e) => failure = Some(e),
        }
    }
    let e = failure.expect("at least one candidate");
    out.reasons.push(e.to_reason("RFC 3161 timestamp: "));
    Err(e.verdict())
}

fn get_ci<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a serde_json::Value> {
    // Go's encoding/json matches member names case-insensitively; cosign's own spec example
    // writes "Docker-manifest-digest". Keys that fold together were refused at parsing.
    super::json::get(v, key)
}

/// One `.sig` layer: `payload` is the blob exactly as stored.
pub fn check_simplesigning(
    annotations: &BTreeMap<String, String>,
    payload: &[u8],
    subject: &Subject,
    trust: &Trust,
) -> Checked {
    let mut out = Checked::new(Envelope::Simplesigning, SignatureKind::Signature);
    let sig = match annotations.get(ANN_SIGNATURE).map(|s| b64("signature annotation", s)) {
        None => {
            return out.invalid(C::MalformedSignature, "layer has no dev.cosignproject.cosign/signature annotation")
        }
        Some(Err(e)) => return out.invalid(C::MalformedSignature, e),
        Some(Ok(s)) if s.is_empty() => return out.invalid(C::MalformedSignature, "empty signature annotation"),
        Some(Ok(s)) => s,
    };
    let certs = match layer_certificates(annotations) {
        Ok(c) => c,
        Err(e) => return out.invalid(C::CertMalformed, e),
    };
    // Binding: parse the payload only to read it; the signature covers the raw bytes.
    let doc = match super::json::parse_unique(payload) {
        Ok(v) => v,
        Err(e) => {
            return out.invalid(C::PayloadMalformed, format!("payload is not JSON cosign would read the same way: {e}"))
        }
    };
    let critical = get_ci(&doc, "critical");
    let named = critical
        .and_then(|c| get_ci(c, "image"))
        .and_then(|i| get_ci(i, "docker-manifest-digest"))
        .and_then(|d| d.as_str());
    out.docker_reference = critical
        .and_then(|c| get_ci(c, "identity"))
        .and_then(|i| get_ci(i, "docker-reference"))
        .and_then(|d| d.as_str())
        .map(str::to_string);
    let ty = critical.and_then(|c| get_ci(c, "type")).and_then(|t| t.as_str());
    match named {
        None => return out.invalid(C::PayloadMalformed, "payload has no critical.image.docker-manifest-digest"),
        Some(d) if d != subject.digest.as_str() => {
            return out.invalid(
                C::PayloadDigestMismatch,
                format!(
                    "payload signs {d}, not this image ({}): signature replayed from another image",
                    subject.digest
                ),
            )
        }
        Some(_) => {}
    }
    if ty != Some(SIMPLESIGNING_TYPE) {
        let why = format!("payload type is {:?}, expected {SIMPLESIGNING_TYPE:?}", ty.unwrap_or(""));
        return out.invalid(C::PayloadMalformed, why);
    }
    let logged = Logged::Payload { payload, sig: &sig };
    out = decide(out, &certs, annotations, trust, logged, |k| k.verify_cosign(payload, &sig));
    if out.verdict != Verdict::Invalid {
        note_unchecked_extras(&mut out, annotations);
    }
    out
}

/// One `.att` layer: the blob is a DSSE envelope over an in-toto statement naming the image.
pub fn check_attestation(
    annotations: &BTreeMap<String, String>,
    envelope: &[u8],
    subject: &Subject,
    trust: &Trust,
) -> Checked {
    let mut out = Checked::new(Envelope::Dsse, SignatureKind::Attestation);
    out.predicate_type = annotations.get("predicateType").cloned();
    let env: dsse::Envelope = match dsse::Envelope::parse(envelope) {
        Ok(e) => e,
        Err(e) => return out.invalid(C::MalformedSignature, format!("DSSE envelope: {e}")),
    };
    let certs = match layer_certificates(annotations) {
        Ok(c) => c,
        Err(e) => return out.invalid(C::CertMalformed, e),
    };
    let OpenedDsse { payload, pae, sig, statement } = match open_dsse(&env) {
        Ok(x) => x,
        Err((code, e)) => return out.invalid(code, e),
    };
    if let Some(p) = &statement.predicate_type {
        out.predicate_type = Some(p.clone());
    }
    if !statement.names(subject.digest.algorithm(), subject.digest.hex()) {
        return out.invalid(
            C::PayloadDigestMismatch,
            format!(
                "statement subjects {:?} do not include this image ({})",
                statement.subject_digests(),
                subject.digest
            ),
        );
    }
    let logged = Logged::Envelope { envelope, payload: &payload, sig: &sig };
    out = decide(out, &certs, annotations, trust, logged, |k| k.verify_cosign(&pae, &sig));
    if out.verdict != Verdict::Invalid {
        note_unchecked_extras(&mut out, annotations);
    }
    out
}

/// A one-signature DSSE envelope, decoded.
pub(crate) struct OpenedDsse {
    /// The decoded payload (the in-toto statement's bytes).
    pub payload: Vec<u8>,
    /// What the signature covers: PAE(payloadType, payload).
    pub pae: Vec<u8>,
    pub sig: Vec<u8>,
    pub statement: dsse::Statement,
}

/// Decode a one-signature DSSE envelope: its payload, PAE bytes, signature and in-toto statement.
/// The error has the code of its reason.
pub(crate) fn open_dsse(env: &dsse::Envelope) -> Result<OpenedDsse, (C, String)> {
    let malformed = |e: String| (C::MalformedSignature, e);
    if env.payload_type != dsse::IN_TOTO {
        return Err((
            C::PayloadMalformed,
            format!("DSSE payloadType is {:?}, expected {}", env.payload_type, dsse::IN_TOTO),
        ));
    }
    if env.signatures.len() != 1 {
        return Err(malformed(format!("DSSE envelope has {} signatures, expected exactly one", env.signatures.len())));
    }
    let payload = b64("DSSE payload", &env.payload).map_err(malformed)?;
    let sig = b64("DSSE signature", &env.signatures[0].sig).map_err(malformed)?;
    let statement =
        dsse::Statement::parse(&payload).map_err(|e| (C::PayloadMalformed, format!("in-toto statement: {e}")))?;
    Ok(OpenedDsse { pae: dsse::pae(&env.payload_type, &payload), payload, sig, statement })
}

fn note_unchecked_extras(out: &mut Checked, ann: &BTreeMap<String, String>) {
    let has = |out: &Checked, codes: &[C]| out.reasons.iter().any(|r| codes.contains(&r.code));
    if ann.contains_key(ANN_BUNDLE) && !has(out, &[C::RekorSetVerified, C::RekorInvalid, C::RekorUntrusted]) {
        let why = "Rekor bundle present; not checked (no trusted root, or no key to check the signature)";
        out.note(C::TlogNotChecked, why);
    }
    let timestamp_codes =
        [C::TimestampVerified, C::TimestampInvalid, C::TimestampUntrusted, C::TimestampOutsideValidity];
    if ann.contains_key(ANN_TIMESTAMP) && !has(out, &timestamp_codes) {
        out.note(C::TimestampNotChecked, "RFC 3161 timestamp annotation present; not checked");
    }
}
