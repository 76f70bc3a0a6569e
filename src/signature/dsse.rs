//! DSSE envelopes (cosign `.att` layers, Sigstore bundles) and the in-toto statements inside them.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload_type: String,
    pub payload: String,
    #[serde(default)]
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: Option<String>,
    pub sig: String,
}

pub const IN_TOTO: &str = "application/vnd.in-toto+json";

impl Envelope {
    /// Parse an envelope as Go's DSSE decoder reads it (field names by case fold), refusing keys
    /// that fold together ([`super::json`]).
    pub fn parse(bytes: &[u8]) -> Result<Envelope, String> {
        super::json::from_signed(bytes, &["payloadType", "payload", "signatures", "keyid", "sig"])
    }
}

/// Pre-Authentication Encoding: `"DSSEv1" SP len(type) SP type SP len(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Statement {
    #[serde(rename = "_type", default)]
    pub type_: String,
    #[serde(default)]
    pub subject: Vec<StatementSubject>,
    #[serde(default)]
    pub predicate_type: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StatementSubject {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub digest: std::collections::BTreeMap<String, String>,
}

impl Statement {
    /// Parse a statement as in-toto's Go decoder reads it (field names by case fold), refusing
    /// keys that fold together ([`super::json`]).
    pub fn parse(bytes: &[u8]) -> Result<Statement, String> {
        super::json::from_signed(bytes, &["_type", "subject", "predicateType", "name", "digest"])
    }

    /// Whether some subject names `algorithm:hex`.
    pub fn names(&self, algorithm: &str, hex: &str) -> bool {
        // Exactly, as cosign compares them: an upper-case hex digest names no image there.
        self.subject.iter().any(|s| s.digest.get(algorithm).is_some_and(|h| h == hex))
    }

    pub fn subject_digests(&self) -> Vec<String> {
        self.subject.iter().flat_map(|s| s.digest.iter().map(|(a, h)| format!("{a}:{h}"))).collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn pae_matches_spec_example() {
        // From the DSSE specification (protocol.md): PAE("http://example.com/HelloWorld", "hello world")
        assert_eq!(
            super::pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }
}
