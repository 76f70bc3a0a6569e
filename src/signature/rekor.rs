//! Rekor signed entry timestamps (SETs) on legacy cosign signatures (COSIGN.md §1.5): the log's
//! signature over the canonical JSON of `{body, integratedTime, logID, logIndex}`, checked with the
//! log key from a Sigstore `trusted_root.json`, and the entry body checked against this signature
//! (payload hash, signature bytes, certificate or key), without which a SET proves nothing about it.

use crate::crypto::{b64_std_lenient, sha256_hex, PublicKey};
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

/// The parts of a Sigstore trusted root used here: Rekor logs and Fulcio CA certificates.
pub fn parse_trusted_root(json: &[u8]) -> Result<(Vec<TransparencyLog>, Vec<Cert>), String> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Root {
        #[serde(default)]
        tlogs: Vec<Tlog>,
        #[serde(default)]
        certificate_authorities: Vec<Ca>,
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
    let mut logs = Vec::new();
    for t in root.tlogs {
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
    let mut cas = Vec::new();
    for ca in root.certificate_authorities {
        for c in ca.cert_chain.certificates {
            let der = b64_std_lenient(&c.raw_bytes).ok_or("trusted root: certificate is not base64")?;
            cas.push(Cert::from_der(der).map_err(|e| format!("trusted root: {e}"))?);
        }
    }
    Ok((logs, cas))
}

/// Verify the `dev.sigstore.cosign/bundle` annotation for a signature `sig` over `payload` by
/// `signer` (the leaf certificate, or the key's DER SPKI). Returns the integrated time and log index.
pub fn verify_set(
    annotation: &str,
    payload: &[u8],
    sig: &[u8],
    signer_der: &[u8],
    logs: &[TransparencyLog],
) -> Result<(i64, i64), String> {
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
    let b: Bundle = serde_json::from_str(annotation).map_err(|e| format!("Rekor bundle: {e}"))?;
    let log = logs
        .iter()
        .find(|l| l.log_id.eq_ignore_ascii_case(&b.payload.log_id))
        .ok_or_else(|| format!("Rekor log {} is not in the trusted root", b.payload.log_id))?;
    let t = b.payload.integrated_time;
    if log.valid_from.is_some_and(|f| t < f) || log.valid_to.is_some_and(|e| t > e) {
        return Err("integrated time lies outside the log key's validity in the trusted root".into());
    }
    // RFC 8785 canonical JSON of the four members: sorted keys, compact, integers.
    let msg = serde_json::to_vec(&std::collections::BTreeMap::from([
        ("body", serde_json::Value::from(b.payload.body.clone())),
        ("integratedTime", t.into()),
        ("logID", b.payload.log_id.clone().into()),
        ("logIndex", b.payload.log_index.into()),
    ]))
    .map_err(|e| e.to_string())?;
    let set = b64_std_lenient(&b.set).ok_or("SignedEntryTimestamp is not base64")?;
    log.key.verify_cosign(&msg, &set).map_err(|_| "Rekor SET does not verify with the log key".to_string())?;

    // The entry must be this signature: hash of the payload, signature bytes, certificate or key.
    let body = b64_std_lenient(&b.payload.body).ok_or("Rekor body is not base64")?;
    let body: serde_json::Value = serde_json::from_slice(&body).map_err(|e| format!("Rekor body: {e}"))?;
    let kind = body["kind"].as_str().unwrap_or("");
    if kind != "hashedrekord" && kind != "rekord" {
        return Err(format!("Rekor entry kind {kind:?} is not a signature entry"));
    }
    let spec = &body["spec"];
    if spec.pointer("/data/hash/algorithm").and_then(|a| a.as_str()) != Some("sha256")
        || spec.pointer("/data/hash/value").and_then(|v| v.as_str()) != Some(sha256_hex(payload).as_str())
    {
        return Err("the Rekor entry records another payload".into());
    }
    let logged_sig = spec.pointer("/signature/content").and_then(|s| s.as_str()).and_then(b64_std_lenient);
    if logged_sig.as_deref() != Some(sig) {
        return Err("the Rekor entry records another signature".into());
    }
    let logged_key = spec
        .pointer("/signature/publicKey/content")
        .and_then(|s| s.as_str())
        .and_then(b64_std_lenient)
        .and_then(|pem| x509_parser::pem::parse_x509_pem(&pem).ok().map(|(_, p)| p.contents));
    if logged_key.as_deref() != Some(signer_der) {
        return Err("the Rekor entry records another certificate or key".into());
    }
    Ok((t, b.payload.log_index))
}
