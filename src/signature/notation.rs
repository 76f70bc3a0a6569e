//! Notary Project signature envelopes (NOTATION.md §3–4): JWS JSON serialization
//! (`application/jose+json`) and COSE_Sign1 (`application/cose`). Both are reduced to one
//! [`Envelope`] view and checked by the same rules: alg fits the leaf key, critical headers,
//! signing scheme and times, the signature over the exact stored bytes, and the payload's
//! `targetArtifact` equal to the signed manifest's descriptor (media type, digest and size).

use super::{Checked, Subject};
use crate::report::{Envelope as EnvelopeKind, ReasonCode as C, SignatureKind, Timestamp};
use crate::trust::Trust;
use crate::x509::{rfc3339, Cert};
use base64::Engine;
use serde::Deserialize;
use std::collections::BTreeMap;

pub const PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
pub const ANN_THUMBPRINTS: &str = "io.cncf.notary.x509chain.thumbprint#S256";
const SCHEME: &str = "io.cncf.notary.signingScheme";
const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const AUTHENTIC_TIME: &str = "io.cncf.notary.authenticSigningTime";
const EXPIRY: &str = "io.cncf.notary.expiry";
const PLUGIN: &str = "io.cncf.notary.verificationPlugin";
const PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
const KNOWN_CRITICAL: [&str; 6] = [SCHEME, SIGNING_TIME, AUTHENTIC_TIME, EXPIRY, PLUGIN, PLUGIN_MIN_VERSION];
/// AWS Signer's verification plugin, and the signed attributes it reads (NOTATION.md, plugins).
pub const AWS_SIGNER_PLUGIN: &str = "com.amazonaws.signer.notation.plugin";
const AWS_PROFILE: &str = "com.amazonaws.signer.signingProfileVersion";
const AWS_JOB: &str = "com.amazonaws.signer.signingJob";

/// An envelope reduced to what the rules need, whatever its encoding.
#[derive(Debug, Default)]
struct Envelope {
    alg: String,
    content_type: Option<String>,
    crit: Vec<String>,
    /// Every protected header name present.
    present: Vec<String>,
    scheme: Option<String>,
    signing_time: Option<i64>,
    authentic_signing_time: Option<i64>,
    expiry: Option<i64>,
    plugin: Option<String>,
    /// AWS Signer's signed attributes (protected headers only), when they are strings.
    signing_profile: Option<String>,
    signing_job: Option<String>,
    certs: Vec<Vec<u8>>,
    payload: Vec<u8>,
    signed_bytes: Vec<u8>,
    signature: Vec<u8>,
    /// The RFC 3161 countersignature (`io.cncf.notary.timestampSignature`), DER; `Err` when the
    /// header is there but is not a byte string.
    timestamp_token: Option<Result<Vec<u8>, String>>,
}

/// Check one envelope blob of layer media type `media_type` against the manifest it must sign.
/// `annotations` are the signature manifest's (for the thumbprint hint); `scope` is
/// `registry/repository` (for the notation trust policy); `now` in Unix seconds.
pub fn check_envelope(
    media_type: &str,
    bytes: &[u8],
    annotations: &BTreeMap<String, String>,
    subject: &Subject,
    scope: &str,
    trust: &Trust,
    now: i64,
) -> Checked {
    let (kind, parsed) = match media_type {
        crate::oci::JOSE => (EnvelopeKind::Jws, parse_jws(bytes)),
        crate::oci::COSE => (EnvelopeKind::Cose, parse_cose(bytes)),
        other => {
            return Checked::new(EnvelopeKind::Jws, SignatureKind::Signature).invalid(
                C::MalformedSignature,
                format!("signature layer media type {other:?} is not a Notary envelope"),
            )
        }
    };
    let out = Checked::new(kind, SignatureKind::Signature);
    match parsed {
        Ok(env) => check(out, env, annotations, subject, scope, trust, now),
        Err(e) => out.invalid(C::MalformedSignature, format!("malformed envelope: {e}")),
    }
}

fn check(
    mut out: Checked,
    env: Envelope,
    annotations: &BTreeMap<String, String>,
    subject: &Subject,
    scope: &str,
    trust: &Trust,
    now: i64,
) -> Checked {
    out.algorithm = Some(env.alg.clone());
    // Certificates first, so that even a failing signature reports who it claims to be.
    if env.certs.len() > super::MAX_CHAIN {
        return out.invalid(
            C::CertMalformed,
            format!("certificate chain of {} exceeds the limit of {}", env.certs.len(), super::MAX_CHAIN),
        );
    }
    let mut certs = Vec::new();
    for der in &env.certs {
        match Cert::from_der(der.clone()) {
            Ok(c) => certs.push(c),
            Err(e) => return out.invalid(C::CertMalformed, format!("certificate chain: {e}")),
        }
    }
    let Some(leaf) = certs.first() else {
        return out.invalid(C::CertMissing, "envelope carries no certificate chain");
    };
    out.set_certificates(&certs);
    compare_thumbprints(&mut out, annotations, &certs);

    let key = match leaf.public_key() {
        Ok(k) => k,
        Err(e) => return out.unsupported(C::UnsupportedAlgorithm, format!("signing certificate key: {e}")),
    };
    match key.notary_alg() {
        Some(a) if a == env.alg => {}
        Some(a) => {
            let why = format!("alg {} does not match the signing key, which implies {a}", env.alg);
            return out.invalid(C::AlgorithmMismatch, why);
        }
        None => {
            let why = format!("signing key {} is not allowed by the Notary Project", key.algorithm_name());
            return out.invalid(C::AlgorithmMismatch, why);
        }
    }
    if let Err(e) = key.verify_jose(&env.alg, &env.signed_bytes, &env.signature) {
        let why = format!("envelope signature does not verify with the signing certificate: {e}");
        return out.invalid(C::BadSignature, why);
    }

    if let Err(e) = chain_shape(&certs) {
        return out.invalid(C::CertProfile, format!("certificate chain: {e}"));
    }
    if env.content_type.as_deref() != Some(PAYLOAD_TYPE) {
        return out
            .invalid(C::PayloadMalformed, format!("content type {:?}, expected {PAYLOAD_TYPE}", env.content_type));
    }
    if let Err(e) = check_headers(&env) {
        return out.invalid(C::NotaryHeader, e);
    }
    // A verification plugin: only AWS Signer's checks are known (trusted identity by signing
    // profile ARN, revocation by the AWS Signer service); another plugin's are not.
    if env.plugin.is_none() && env.present.iter().any(|h| h == PLUGIN) {
        return out.invalid(C::NotaryHeader, format!("{PLUGIN} is not a string"));
    }
    let aws = match env.plugin.as_deref() {
        None => false,
        Some(AWS_SIGNER_PLUGIN) => {
            // What the plugin itself refuses (its request validation).
            if env.scheme.as_deref() != Some("notary.x509.signingAuthority") {
                let why = format!(
                    "verification plugin {AWS_SIGNER_PLUGIN} supports the notary.x509.signingAuthority scheme only"
                );
                return out.unsupported(C::UnsupportedFormat, why);
            }
            let profile =
                env.signing_profile.as_deref().filter(|a| crate::notation_trust::signing_profile_parts(a) == Some(4));
            if profile.is_none() || env.signing_job.is_none() {
                let why = format!(
                    "AWS Signer envelope: signed attributes {AWS_PROFILE} (a signing-profile version ARN) and {AWS_JOB} are required, found {:?} and {:?}",
                    env.signing_profile, env.signing_job
                );
                return out.invalid(C::NotaryHeader, why);
            }
            // The signer is the signing profile: the certificate only says `AWS Signer`.
            if let Some(signer) = out.signer.as_mut() {
                signer.signing_profile = env.signing_profile.clone();
                signer.signing_job = env.signing_job.clone();
            }
            true
        }
        Some(plugin) => {
            return out.unsupported(C::UnsupportedFormat, format!("envelope requires verification plugin {plugin:?}"));
        }
    };
    let known = |c: &str| KNOWN_CRITICAL.contains(&c) || (aws && (c == AWS_PROFILE || c == AWS_JOB));
    if let Some(unknown) = env.crit.iter().find(|c| !known(c)) {
        return out.unsupported(C::UnsupportedFormat, format!("unknown critical header {unknown:?}"));
    }
    out.signed_at = env.signing_time.or(env.authentic_signing_time).and_then(rfc3339);

    // Binding: the payload's targetArtifact is this manifest.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload {
        target_artifact: Target,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Target {
        media_type: String,
        digest: String,
        size: u64,
    }
    let fields = ["targetArtifact", "mediaType", "digest", "size"];
    let payload: Payload = match super::json::from_signed(&env.payload, &fields) {
        Ok(p) => p,
        Err(e) => return out.invalid(C::PayloadMalformed, format!("payload: {e}")),
    };
    let t = payload.target_artifact;
    if t.digest != subject.digest.as_str() {
        let why = format!(
            "payload signs {}, not this image ({}): envelope replayed from another image",
            t.digest, subject.digest
        );
        return out.invalid(C::PayloadDigestMismatch, why);
    }
    if t.size != subject.size {
        let why = format!("payload names size {}, the manifest has {} bytes", t.size, subject.size);
        return out.invalid(C::PayloadSizeMismatch, why);
    }
    if t.media_type != subject.media_type {
        let why = format!("payload names media type {}, the manifest is {}", t.media_type, subject.media_type);
        return out.invalid(C::PayloadMediaTypeMismatch, why);
    }
    if let Some(policy) = trust.notation.as_deref() {
        let token = match &env.timestamp_token {
            Some(Ok(t)) => Some(t.as_slice()),
            Some(Err(e)) => {
                out.note(C::TimestampInvalid, format!("timestamp countersignature: {e}"));
                Some(&[][..])
            }
            None => None,
        };
        let facts = crate::notation_trust::Facts {
            signing_authority: env.scheme.as_deref() == Some("notary.x509.signingAuthority"),
            certs: &certs,
            expiry: env.expiry,
            authentic_signing_time: env.authentic_signing_time,
            signature: &env.signature,
            timestamp_token: token,
            revocation: &trust.revocation,
            plugin: env
                .signing_profile
                .as_deref()
                .filter(|_| aws)
                .map(|signing_profile| crate::notation_trust::Plugin { name: AWS_SIGNER_PLUGIN, signing_profile }),
        };
        let j = policy.judge(scope, &facts, now);
        let timestamped = j.timestamp.is_some();
        if let Some((tsa, time)) = j.timestamp {
            out.timestamp =
                Some(Timestamp { authority: Some(tsa), time: rfc3339(time).unwrap_or_default(), verified: true });
        } else if env.timestamp_token.is_some() {
            out.timestamp = Some(Timestamp { authority: None, time: String::new(), verified: false });
        }
        out.verdict = j.verdict;
        out.reasons.extend(j.reasons);
        // --warn-expiring: the signature's expiry, and (no verified time) its certificates'.
        if out.verdict == crate::report::Verdict::Verified {
            let dated = timestamped || (facts.signing_authority && env.authentic_signing_time.is_some());
            let first_end = certs.iter().map(|c| (c.validity().1, c.subject())).min();
            let ends = env.expiry.map(|e| (e, "the signature's expiry".to_string())).into_iter().chain(
                first_end
                    .filter(|_| !dated)
                    .map(|(e, s)| (e, format!("the validity of certificate {s}, with no timestamp,"))),
            );
            if let Some(note) = ends.min_by_key(|(e, _)| *e).and_then(|(e, what)| trust.expiring_note(&what, e)) {
                out.reasons.push(note);
            }
        }
        return out;
    }
    if let Some(exp) = env.expiry {
        if now >= exp {
            return out
                .invalid(C::SignatureExpired, format!("signature expired at {}", rfc3339(exp).unwrap_or_default()));
        }
    }
    // Without a notation policy, an RFC 3161 countersignature counts when its authority chains
    // to the timestamp anchors (--tsa-roots, else --ca-roots): the chain is then judged at its
    // time, so an expired signing certificate is still trusted if it signed in time.
    let mut at = None;
    match &env.timestamp_token {
        None => {}
        Some(Err(e)) => out.note(C::TimestampInvalid, format!("timestamp countersignature ignored: {e}")),
        Some(Ok(token)) => {
            let checked = crate::cms::verify_timestamp_token(token, &env.signature)
                .map_err(|e| (C::TimestampInvalid, e))
                .and_then(|ts| {
                    let authority =
                        trust.timestamp_authority(&ts.chain, ts.time).map_err(|e| (C::TimestampUntrusted, e))?;
                    certs.iter().try_for_each(|c| c.valid_at(ts.time)).map_err(|e| (C::TimestampOutsideValidity, e))?;
                    Ok((ts, authority))
                });
            match checked {
                Ok((ts, authority)) => {
                    let time = rfc3339(ts.time).unwrap_or_default();
                    out.note(
                        C::TimestampVerified,
                        format!(
                            "RFC 3161 timestamp by {} at {time} verified: its authority chains to {authority}",
                            ts.chain[0].subject()
                        ),
                    );
                    out.timestamp = Some(Timestamp { authority: Some(ts.chain[0].subject()), time, verified: true });
                    at = Some(ts.time);
                }
                Err((code, e)) => {
                    out.timestamp = Some(Timestamp { authority: None, time: String::new(), verified: false });
                    out.note(code, format!("RFC 3161 timestamp countersignature does not count: {e}"));
                }
            }
        }
    }
    let mut out = out.decided_by(trust.decide_certificate(&certs, at, &crate::pki::path::CODE_SIGNING));
    // Without a trust policy nothing states who may sign for the plugin, nor runs its revocation check.
    if aws && matches!(out.verdict, crate::report::Verdict::Verified | crate::report::Verdict::Untrusted) {
        out.verdict = crate::report::Verdict::Untrusted;
        out.note(
            C::PluginChecksNotRun,
            format!(
                "verification plugin {AWS_SIGNER_PLUGIN} was not run and no notation trust policy names trusted signing \
                 profiles: neither its trusted-identity check (signing profile {}) nor its revocation check was made",
                env.signing_profile.as_deref().unwrap_or_default()
            ),
        );
    }
    // --warn-expiring: the signature's own expiry (its certificates' are the decision's).
    let expiring = |o: &Checked| o.reasons.iter().any(|r| r.code == C::ExpiringSoon);
    if out.verdict == crate::report::Verdict::Verified && !expiring(&out) {
        out.reasons.extend(env.expiry.and_then(|e| trust.expiring_note("the signature's expiry", e)));
    }
    out
}

/// The Notary Project certificate profile (NOTATION.md §5.1), part of integrity: a chain from
/// the leaf to a self-signed root, each certificate issued by the next; CA certificates with
/// basicConstraints cA and a critical keyUsage with keyCertSign; the leaf with a critical keyUsage
/// of digitalSignature only, not a CA, and no EKU purpose other than code signing.
fn chain_shape(certs: &[Cert]) -> Result<(), String> {
    let last = certs.last().ok_or("empty")?;
    if !(last.is_self_signed() && last.is_signed_by(last)) {
        return Err(format!("the last certificate {} is not self-signed", last.subject()));
    }
    for pair in certs.windows(2) {
        let (c, parent) = (&pair[0], &pair[1]);
        if c.issuer_raw() != parent.subject_raw() || !c.is_signed_by(parent) {
            return Err(format!("{} is not issued by the next certificate, {}", c.subject(), parent.subject()));
        }
        if c.is_self_signed() && c.is_signed_by(c) {
            return Err(format!("{} is self-signed but not last in the chain", c.subject()));
        }
    }
    for (i, c) in certs.iter().enumerate().skip(1) {
        match c.basic_constraints() {
            Some((_, true, path_len)) => {
                if let Some(n) = path_len {
                    if (n as usize) < i - 1 {
                        return Err(format!("{} has a pathLenConstraint of {n}, below its {} CAs", c.subject(), i - 1));
                    }
                }
            }
            _ => return Err(format!("CA certificate {} lacks basicConstraints cA=true", c.subject())),
        }
        match c.key_usage() {
            Some((true, _, true, _)) => {}
            _ => return Err(format!("CA certificate {} lacks a critical keyUsage with keyCertSign", c.subject())),
        }
    }
    let leaf = &certs[0];
    if let Some((_, true, _)) = leaf.basic_constraints() {
        return Err(format!("signing certificate {} is a CA certificate", leaf.subject()));
    }
    match leaf.key_usage() {
        Some((true, true, false, false)) => {}
        Some((false, ..)) => return Err("the signing certificate's keyUsage is not critical".into()),
        Some(_) => return Err("the signing certificate's keyUsage must be digitalSignature only".into()),
        None => return Err("the signing certificate has no keyUsage".into()),
    }
    if let Some((_, purposes)) = leaf.extended_key_usage() {
        let bad = ["serverAuth", "clientAuth", "emailProtection", "timeStamping", "OCSPSigning"];
        if let Some(p) = purposes.iter().find(|p| bad.contains(&p.as_str())) {
            return Err(format!("the signing certificate's extended key usage includes {p}"));
        }
    }
    Ok(())
}

fn check_headers(env: &Envelope) -> Result<(), String> {
    if env.crit.is_empty() {
        return Err("crit header missing or empty".into());
    }
    for c in &env.crit {
        if !env.present.iter().any(|p| p == c) {
            return Err(format!("header {c:?} is marked critical but not present"));
        }
    }
    if !env.crit.iter().any(|c| c == SCHEME) {
        return Err(format!("{SCHEME} must be critical"));
    }
    if env.expiry.is_some() && !env.crit.iter().any(|c| c == EXPIRY) {
        return Err(format!("{EXPIRY} present but not critical"));
    }
    let signing = match env.scheme.as_deref() {
        Some("notary.x509") => {
            if env.authentic_signing_time.is_some() {
                return Err("notary.x509 envelope must not carry authenticSigningTime".into());
            }
            env.signing_time.ok_or("notary.x509 envelope lacks signingTime")?
        }
        Some("notary.x509.signingAuthority") => {
            if env.signing_time.is_some() {
                return Err("signingAuthority envelope must not carry signingTime".into());
            }
            if !env.crit.iter().any(|c| c == AUTHENTIC_TIME) {
                return Err(format!("{AUTHENTIC_TIME} must be critical"));
            }
            env.authentic_signing_time.ok_or("signingAuthority envelope lacks authenticSigningTime")?
        }
        other => return Err(format!("signing scheme {other:?} is not a Notary Project scheme")),
    };
    if let Some(exp) = env.expiry {
        if exp <= signing {
            return Err("expiry is not after the signing time".into());
        }
    }
    Ok(())
}

fn compare_thumbprints(out: &mut Checked, annotations: &BTreeMap<String, String>, certs: &[Cert]) {
    let Some(ann) = annotations.get(ANN_THUMBPRINTS) else {
        return;
    };
    let claimed: Vec<String> = match serde_json::from_str::<Vec<String>>(ann) {
        Ok(v) => v.into_iter().map(|s| s.to_ascii_lowercase()).collect(),
        Err(_) => {
            out.note(C::ThumbprintMismatch, "thumbprint annotation is not a JSON array of strings");
            return;
        }
    };
    let actual: Vec<String> = certs.iter().map(Cert::sha256).collect();
    if claimed != actual {
        let why = format!("manifest thumbprint annotation {claimed:?} does not match the envelope's chain {actual:?}");
        out.note(C::ThumbprintMismatch, why);
    }
}

// ---- JWS (flattened JSON serialization) ----

fn b64url(field: &str, s: &str) -> Result<Vec<u8>, String> {
    // RFC 7515: unpadded base64url. A padded value is an integrity failure, as in notation.
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|e| format!("{field} is not unpadded base64url: {e}"))
}

fn json_time(v: &serde_json::Value, name: &str) -> Result<Option<i64>, String> {
    match v.get(name) {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Some(t.timestamp()))
            .map_err(|e| format!("{name} {s:?}: {e}")),
        Some(_) => Err(format!("{name} is not a string")),
    }
}

fn parse_jws(bytes: &[u8]) -> Result<Envelope, String> {
    #[derive(Deserialize)]
    struct Jws {
        payload: String,
        protected: String,
        #[serde(default)]
        header: BTreeMap<String, serde_json::Value>,
        signature: String,
    }
    let jws: Jws = super::json::from_signed(bytes, &["payload", "protected", "header", "signature"])
        .map_err(|e| format!("JWS JSON: {e}"))?;
    let protected_bytes = b64url("protected", &jws.protected)?;
    let payload = b64url("payload", &jws.payload)?;
    let signature = b64url("signature", &jws.signature)?;
    // notation-core-go reads the known headers into a struct (keys by case fold) and keeps the
    // rest by exact name: fold the known ones to their spelling, as it does.
    let protected = super::json::parse_unique(&protected_bytes).map_err(|e| format!("protected header: {e}"))?;
    let known = ["alg", "cty", "crit", SCHEME, SIGNING_TIME, AUTHENTIC_TIME, EXPIRY, PLUGIN, PLUGIN_MIN_VERSION];
    let protected = super::json::canonical_keys_top(protected, &known);
    let obj = protected.as_object().ok_or("protected header is not an object")?;
    let text = |k: &str| obj.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let crit = match obj.get("crit") {
        None => Vec::new(),
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .map(|v| v.as_str().map(str::to_string).ok_or("crit entries must be strings"))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("crit is not an array".into()),
    };
    let x5c = jws
        .header
        .iter()
        .find(|(k, _)| super::json::fold(k) == "x5c")
        .map(|(_, v)| v)
        .ok_or("unprotected header has no x5c")?;
    let certs = x5c
        .as_array()
        .ok_or("x5c is not an array")?
        .iter()
        .map(|c| {
            c.as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| "x5c entry is not standard base64".to_string())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let timestamp_token =
        jws.header.iter().find(|(k, _)| super::json::fold(k) == "io.cncf.notary.timestampsignature").map(|(_, v)| {
            v.as_str()
                .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                .ok_or_else(|| "the timestampSignature header is not standard base64".to_string())
        });
    let mut signed_bytes = jws.protected.clone().into_bytes();
    signed_bytes.push(b'.');
    signed_bytes.extend_from_slice(jws.payload.as_bytes());
    Ok(Envelope {
        alg: text("alg").ok_or("protected header has no alg")?,
        content_type: text("cty"),
        crit,
        present: obj.keys().cloned().collect(),
        scheme: text(SCHEME),
        signing_time: json_time(&protected, SIGNING_TIME)?,
        authentic_signing_time: json_time(&protected, AUTHENTIC_TIME)?,
        expiry: json_time(&protected, EXPIRY)?,
        plugin: text(PLUGIN),
        signing_profile: text(AWS_PROFILE),
        signing_job: text(AWS_JOB),
        certs,
        payload,
        signed_bytes,
        signature,
        timestamp_token,
    })
}

// ---- COSE_Sign1 ----

fn parse_cose(bytes: &[u8]) -> Result<Envelope, String> {
    use coset::{iana, Label, RegisteredLabelWithPrivate, TaggedCborSerializable};
    let msg = coset::CoseSign1::from_tagged_slice(bytes).map_err(|e| format!("COSE_Sign1: {e}"))?;
    let h = &msg.protected.header;
    let alg = match &h.alg {
        Some(RegisteredLabelWithPrivate::Assigned(a)) => match a {
            iana::Algorithm::PS256 => "PS256",
            iana::Algorithm::PS384 => "PS384",
            iana::Algorithm::PS512 => "PS512",
            iana::Algorithm::ES256 => "ES256",
            iana::Algorithm::ES384 => "ES384",
            iana::Algorithm::ES512 => "ES512",
            other => return Err(format!("COSE algorithm {other:?} is not allowed")),
        },
        other => return Err(format!("COSE algorithm {other:?} is not allowed")),
    };
    let content_type = match &h.content_type {
        Some(coset::ContentType::Text(t)) => Some(t.clone()),
        Some(coset::ContentType::Assigned(a)) => Some(format!("{a:?}")),
        None => None,
    };
    let crit = h
        .crit
        .iter()
        .map(|c| match c {
            RegisteredLabelWithPrivate::Text(t) => t.clone(),
            RegisteredLabelWithPrivate::Assigned(a) => format!("{}", *a as i64),
            RegisteredLabelWithPrivate::PrivateUse(n) => n.to_string(),
        })
        .collect();
    let mut present: Vec<String> = Vec::new();
    let text_value = |name: &str| -> Option<&ciborium::Value> {
        h.rest.iter().find(|(l, _)| matches!(l, Label::Text(t) if t == name)).map(|(_, v)| v)
    };
    for (l, _) in &h.rest {
        if let Label::Text(t) = l {
            present.push(t.clone());
        }
    }
    // notation only accepts CBOR tag 1 (epoch seconds) for its time headers.
    let time = |name: &str| -> Result<Option<i64>, String> {
        match text_value(name) {
            None => Ok(None),
            Some(ciborium::Value::Tag(1, inner)) => match inner.as_ref() {
                ciborium::Value::Integer(i) => i64::try_from(*i).map(Some).map_err(|_| format!("{name} out of range")),
                _ => Err(format!("{name} must be a tag-1 integer")),
            },
            Some(_) => Err(format!("{name} must be a CBOR tag-1 date")),
        }
    };
    let scheme = match text_value(SCHEME) {
        Some(ciborium::Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let text = |name: &str| match text_value(name) {
        Some(ciborium::Value::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let plugin = text(PLUGIN);
    let mut certs = Vec::new();
    let mut timestamp_token = None;
    for (l, v) in &msg.unprotected.rest {
        match l {
            Label::Int(33) => match v {
                ciborium::Value::Array(items) => {
                    for it in items {
                        match it {
                            ciborium::Value::Bytes(b) => certs.push(b.clone()),
                            _ => return Err("x5chain entries must be byte strings".into()),
                        }
                    }
                }
                ciborium::Value::Bytes(b) => certs.push(b.clone()),
                _ => return Err("x5chain is not an array".into()),
            },
            Label::Text(t) if t == "io.cncf.notary.timestampSignature" => {
                timestamp_token = Some(match v {
                    ciborium::Value::Bytes(b) => Ok(b.clone()),
                    _ => Err("the timestampSignature header is not a byte string".to_string()),
                })
            }
            _ => {}
        }
    }
    let payload = msg.payload.clone().ok_or("COSE payload is detached")?;
    let signed_bytes = msg.tbs_data(&[]);
    Ok(Envelope {
        alg: alg.to_string(),
        content_type,
        crit,
        present,
        scheme,
        signing_time: time(SIGNING_TIME)?,
        authentic_signing_time: time(AUTHENTIC_TIME)?,
        expiry: time(EXPIRY)?,
        plugin,
        signing_profile: text(AWS_PROFILE),
        signing_job: text(AWS_JOB),
        certs,
        payload,
        signed_bytes,
        signature: msg.signature.clone(),
        timestamp_token,
    })
}
