//! Rekor signed entry timestamps (SETs) on legacy cosign signatures (COSIGN.md §1.5): the log's
//! signature over the canonical JSON of `{body, integratedTime, logID, logIndex}`, checked with the
//! log key from a Sigstore `trusted_root.json`, and the entry body checked against this signature
//! (payload hash, signature bytes, certificate or key), without which a SET proves nothing about it.

use crate::crypto::{b64_std_lenient, sha256_hex, PublicKey};
use crate::report::ReasonCode as C;
use crate::trust::Rejection;
use crate::x509::Cert;
use serde::Deserialize;

/// A transparency log the user trusts: its id (hex SHA-256 of the key's DER SPKI) and key.
#[derive(Debug, Clone)]
pub struct TransparencyLog {
    pub log_id: String,
    pub key: PublicKey,
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
}

/// A Fulcio CA certificate of a trusted root, with the root's validity window for that CA.
#[derive(Clone)]
pub struct FulcioCa {
    pub cert: Cert,
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
}

/// A timestamp authority of a trusted root: its certificate chain (all trusted, as in
/// sigstore-go) and the root's validity window for it.
#[derive(Clone)]
pub struct TimestampAuthority {
    pub chain: Vec<Cert>,
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
}

/// The parts of a Sigstore trusted root used for legacy cosign signatures.
pub struct RootParts {
    pub logs: Vec<TransparencyLog>,
    /// Certificate transparency logs (for the SCTs of Fulcio certificates).
    pub ctlogs: Vec<TransparencyLog>,
    pub cas: Vec<FulcioCa>,
    pub tsas: Vec<TimestampAuthority>,
}

/// The parts of a Sigstore trusted root used here: Rekor logs, Fulcio CAs, timestamp authorities.
pub fn parse_trusted_root(json: &[u8]) -> Result<RootParts, String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Root {
        #[serde(default)]
        tlogs: Vec<Tlog>,
        #[serde(default)]
        ctlogs: Vec<Tlog>,
        #[serde(default)]
        certificate_authorities: Vec<Ca>,
        #[serde(default)]
        timestamp_authorities: Vec<Ca>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Tlog {
        public_key: Key,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Key {
        raw_bytes: String,
        #[serde(default)]
        valid_for: Option<Window>,
    }
    #[derive(Deserialize)]
    struct Window {
        #[serde(default)]
        start: Option<String>,
        #[serde(default)]
        end: Option<String>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Ca {
        cert_chain: Chain,
        #[serde(default)]
        valid_for: Option<Window>,
    }
    #[derive(Deserialize)]
    struct Chain {
        certificates: Vec<Raw>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        raw_bytes: String,
    }
    let root: Root = serde_json::from_slice(json).map_err(|e| format!("trusted root: {e}"))?;
    let time = |s: &Option<String>| {
        s.as_deref().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|t| t.timestamp())
    };
    let parse_logs = |list: Vec<Tlog>| -> Result<Vec<TransparencyLog>, String> {
        let mut logs = Vec::new();
        for t in list {
            let der = b64_std_lenient(&t.public_key.raw_bytes).ok_or("trusted root: log key is not base64")?;
            // Keys of other algorithms (Rekor v2 Ed25519 logs are fine too) are kept if they parse.
            let Ok(key) = PublicKey::from_spki_der(&der) else { continue };
            let w = t.public_key.valid_for.as_ref();
            logs.push(TransparencyLog {
                log_id: sha256_hex(&der),
                key,
                valid_from: w.and_then(|w| time(&w.start)),
                valid_to: w.and_then(|w| time(&w.end)),
            });
        }
        Ok(logs)
    };
    let logs = parse_logs(root.tlogs)?;
    let ctlogs = parse_logs(root.ctlogs)?;
    let mut cas = Vec::new();
    for ca in root.certificate_authorities {
        let w = ca.valid_for.as_ref();
        for c in ca.cert_chain.certificates {
            let der = b64_std_lenient(&c.raw_bytes).ok_or("trusted root: certificate is not base64")?;
            cas.push(FulcioCa {
                cert: Cert::from_der(der).map_err(|e| format!("trusted root: {e}"))?,
                valid_from: w.and_then(|w| time(&w.start)),
                valid_to: w.and_then(|w| time(&w.end)),
            });
        }
    }
    let mut tsas = Vec::new();
    for ca in root.timestamp_authorities {
        let w = ca.valid_for.as_ref();
        let mut chain = Vec::new();
        for c in ca.cert_chain.certificates {
            let der = b64_std_lenient(&c.raw_bytes).ok_or("trusted root: certificate is not base64")?;
            chain.push(Cert::from_der(der).map_err(|e| format!("trusted root: {e}"))?);
        }
        tsas.push(TimestampAuthority {
            chain,
            valid_from: w.and_then(|w| time(&w.start)),
            valid_to: w.and_then(|w| time(&w.end)),
        });
    }
    Ok(RootParts { logs, ctlogs, cas, tsas })
}

/// What a Rekor entry must record: a simple-signing payload and its signature (hashedrekord,
/// rekord), or a DSSE envelope as stored in the layer (intoto 0.0.1/0.0.2, dsse 0.0.1).
#[derive(Clone, Copy)]
pub enum Logged<'a> {
    Payload { payload: &'a [u8], sig: &'a [u8] },
    Envelope { envelope: &'a [u8], payload: &'a [u8], sig: &'a [u8] },
}

/// Verify the `dev.sigstore.cosign/bundle` annotation for `logged` content signed by `signer`
/// (the leaf certificate, or the key's DER SPKI). Returns the integrated time and log index.
pub fn verify_set(
    annotation: &str,
    logged: Logged<'_>,
    signer_der: &[u8],
    logs: &[TransparencyLog],
) -> Result<(i64, i64), Rejection> {
    #[derive(Deserialize)]
    struct Bundle {
        #[serde(rename = "SignedEntryTimestamp")]
        set: String,
        #[serde(rename = "Payload")]
        payload: Payload,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Payload {
        body: String,
        integrated_time: i64,
        log_index: i64,
        #[serde(rename = "logID")]
        log_id: String,
    }
    // Every failure but an unknown log is evidence that is false or records something else.
    let invalid = |reason: String| Rejection::invalid(C::RekorInvalid, reason);
    let b: Bundle = serde_json::from_str(annotation).map_err(|e| invalid(format!("Rekor bundle: {e}")))?;
    let Some(log) = logs.iter().find(|l| l.log_id.eq_ignore_ascii_case(&b.payload.log_id)) else {
        let why = format!("Rekor log {} is not in the trusted root", b.payload.log_id);
        return Err(Rejection::untrusted(C::RekorUntrusted, why));
    };
    let t = b.payload.integrated_time;
    // A log integrates an entry when it receives it: a time after now (beyond clock skew) is no
    // time the log could have given, and would date a signature into a key's future window.
    let wall = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
    if t > wall + 600 {
        return Err(invalid(format!("integrated time {t} lies in the future")));
    }
    if log.valid_from.is_some_and(|f| t < f) || log.valid_to.is_some_and(|e| t > e) {
        return Err(invalid("integrated time lies outside the log key's validity in the trusted root".into()));
    }
    // RFC 8785 canonical JSON of the four members: sorted keys, compact, integers.
    let msg = serde_json::to_vec(&std::collections::BTreeMap::from([
        ("body", serde_json::Value::from(b.payload.body.clone())),
        ("integratedTime", t.into()),
        ("logID", b.payload.log_id.clone().into()),
        ("logIndex", b.payload.log_index.into()),
    ]))
    .map_err(|e| invalid(e.to_string()))?;
    let set = b64_std_lenient(&b.set).ok_or_else(|| invalid("SignedEntryTimestamp is not base64".into()))?;
    log.key.verify_cosign(&msg, &set).map_err(|_| invalid("Rekor SET does not verify with the log key".into()))?;

    // The entry must be this signature: what was signed, the signature bytes, the signer.
    let body = b64_std_lenient(&b.payload.body).ok_or_else(|| invalid("Rekor body is not base64".into()))?;
    let body = super::json::parse_unique(&body).map_err(|e| invalid(format!("Rekor body: {e}")))?;
    let kind = body["kind"].as_str().unwrap_or("");
    let version = body["apiVersion"].as_str().unwrap_or("");
    let spec = &body["spec"];
    let text = |p: &str| spec.pointer(p).and_then(|v| v.as_str());
    let pem_der = |b64: Option<&str>| {
        b64.and_then(b64_std_lenient)
            .and_then(|pem| x509_parser::pem::parse_x509_pem(&pem).ok().map(|(_, p)| p.contents))
    };
    let sha256_is = |alg: Option<&str>, value: Option<&str>, data: &[u8]| {
        alg == Some("sha256") && value.is_some_and(|v| v.eq_ignore_ascii_case(&sha256_hex(data)))
    };
    let (hash_ok, logged_sig, logged_signer) = match (logged, kind, version) {
        (Logged::Payload { payload, .. }, "hashedrekord" | "rekord", _) => (
            sha256_is(text("/data/hash/algorithm"), text("/data/hash/value"), payload),
            text("/signature/content").and_then(b64_std_lenient),
            pem_der(text("/signature/publicKey/content")),
        ),
        (Logged::Envelope { envelope, payload, .. }, "intoto", "0.0.1") => (
            sha256_is(text("/content/hash/algorithm"), text("/content/hash/value"), envelope)
                && text("/content/payloadHash/value").is_none_or(|_| {
                    sha256_is(text("/content/payloadHash/algorithm"), text("/content/payloadHash/value"), payload)
                }),
            None,
            pem_der(text("/publicKey")),
        ),
        (Logged::Envelope { envelope, payload, .. }, "intoto", "0.0.2") => (
            sha256_is(text("/content/hash/algorithm"), text("/content/hash/value"), envelope)
                && sha256_is(text("/content/payloadHash/algorithm"), text("/content/payloadHash/value"), payload),
            // Double base64: the entry stores base64 of the envelope's base64 signature.
            text("/content/envelope/signatures/0/sig")
                .and_then(b64_std_lenient)
                .and_then(|inner| String::from_utf8(inner).ok())
                .and_then(|s| b64_std_lenient(&s)),
            pem_der(text("/content/envelope/signatures/0/publicKey")),
        ),
        (Logged::Envelope { envelope, payload, .. }, "dsse", "0.0.1") => (
            sha256_is(text("/envelopeHash/algorithm"), text("/envelopeHash/value"), envelope)
                && sha256_is(text("/payloadHash/algorithm"), text("/payloadHash/value"), payload),
            text("/signatures/0/signature").and_then(b64_std_lenient),
            pem_der(text("/signatures/0/verifier")),
        ),
        _ => {
            return Err(invalid(format!("Rekor entry kind {kind:?} {version} does not record this kind of signature")))
        }
    };
    if !hash_ok {
        return Err(invalid(match logged {
            Logged::Payload { .. } => "the Rekor entry records another payload".into(),
            Logged::Envelope { .. } => "the Rekor entry records another envelope".into(),
        }));
    }
    let sig = match logged {
        Logged::Payload { sig, .. } | Logged::Envelope { sig, .. } => sig,
    };
    // intoto 0.0.1 does not record the signature; the envelope hash covers it.
    if logged_sig.as_deref().is_some_and(|s| s != sig) || (logged_sig.is_none() && kind != "intoto") {
        return Err(invalid("the Rekor entry records another signature".into()));
    }
    // A key may be logged in another encoding than the one given (a compressed point): compared
    // as keys. A certificate is compared byte for byte.
    let same_key = |logged: &[u8]| {
        crate::crypto::canonical_spki(logged).is_some_and(|l| Some(l) == crate::crypto::canonical_spki(signer_der))
    };
    if logged_signer.as_deref() != Some(signer_der) && !logged_signer.as_deref().is_some_and(same_key) {
        return Err(invalid("the Rekor entry records another certificate or key".into()));
    }
    Ok((t, b.payload.log_index))
}

/// Verify the `dev.sigstore.cosign/rfc3161timestamp` annotation (COSIGN.md §1.6): a DER
/// TimeStampResp whose token's imprint covers `signed` (the raw signature bytes), signed by a TSA
/// of the trusted roots (`cms::verify_timestamp_token`, then its chain, the time inside the root's
/// window for it). Returns the time
/// and the TSA's subject.
pub fn verify_timestamp_annotation(
    annotation: &str,
    signed: &[u8],
    tsas: &[TimestampAuthority],
    rev: &crate::pki::revocation::Revocation,
) -> Result<(i64, String), Rejection> {
    #[derive(Deserialize)]
    struct Ann {
        #[serde(rename = "SignedRFC3161Timestamp")]
        token: String,
    }
    let invalid = |reason: String| Rejection::invalid(C::TimestampInvalid, reason);
    let a: Ann =
        serde_json::from_str(annotation).map_err(|e| invalid(format!("RFC 3161 timestamp annotation: {e}")))?;
    let resp = b64_std_lenient(&a.token).ok_or_else(|| invalid("RFC 3161 timestamp is not base64".into()))?;
    // TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken ContentInfo OPTIONAL }.
    let token = (|| {
        let (outer, _) = crate::der::expect(&resp, crate::der::SEQUENCE).ok()?;
        let (status, rest) = crate::der::expect(outer.content, crate::der::SEQUENCE).ok()?;
        let (code, _) = crate::der::expect(status.content, crate::der::INTEGER).ok()?;
        if code.content.iter().any(|b| *b != 0) && code.content != [1] {
            return None; // neither granted (0) nor grantedWithMods (1)
        }
        let (token, _) = crate::der::expect(rest, crate::der::SEQUENCE).ok()?;
        Some(token.raw)
    })()
    .ok_or_else(|| invalid("RFC 3161 timestamp response is malformed or not granted".into()))?;
    let ts = crate::cms::verify_timestamp_token(token, signed).map_err(invalid)?;
    if tsas.is_empty() {
        return Err(Rejection::untrusted(C::TimestampUntrusted, "no timestamp authority in the trusted root"));
    }
    let mut last = String::new();
    for tsa in tsas {
        if tsa.valid_from.is_some_and(|f| ts.time < f) || tsa.valid_to.is_some_and(|e| ts.time > e) {
            last = "the timestamp lies outside its authority's validity in the trusted root".into();
            continue;
        }
        match crate::pki::path::validate_chain(&ts.chain, &tsa.chain, &crate::pki::path::TIMESTAMPING, ts.time, rev) {
            Ok(_) => return Ok((ts.time, ts.chain[0].subject())),
            Err(e) => last = e.to_string(),
        }
    }
    Err(Rejection::untrusted(C::TimestampUntrusted, format!("timestamp authority not trusted: {last}")))
}
