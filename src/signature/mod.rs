//! Signature formats: each module turns the bytes discovery fetched into a [`Checked`] outcome:
//! integrity (the signature verifies over the exact stored bytes), binding (the signed payload names
//! this exact digest) and the signer's identity. Trust decisions go through [`crate::trust`].

pub mod bundle;
pub mod cosign;
pub mod dsse;
pub mod json;
pub mod notation;
pub mod openpgp;
pub mod rekor;
pub mod sct;
pub mod simple_signing;

use crate::oci::Digest;
use crate::report::{
    ChainCert, Discovery, Envelope, Reason, ReasonCode, SignatureFormat, SignatureKind, SignatureReport, Signer,
    Timestamp, Verdict, Verification,
};
use crate::x509::Cert;

/// The manifest a signature must name.
#[derive(Debug, Clone)]
pub struct Subject {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// What one signature check found.
#[derive(Debug, Clone)]
pub struct Checked {
    pub envelope: Envelope,
    pub kind: SignatureKind,
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    pub signer: Option<Signer>,
    pub chain: Vec<ChainCert>,
    pub signed_at: Option<String>,
    pub timestamp: Option<Timestamp>,
    pub algorithm: Option<String>,
    pub predicate_type: Option<String>,
    pub docker_reference: Option<String>,
}

impl Checked {
    pub fn new(envelope: Envelope, kind: SignatureKind) -> Checked {
        Checked {
            envelope,
            kind,
            verdict: Verdict::Invalid,
            reasons: Vec::new(),
            signer: None,
            chain: Vec::new(),
            signed_at: None,
            timestamp: None,
            algorithm: None,
            predicate_type: None,
            docker_reference: None,
        }
    }

    /// The report of this outcome for a signature of `format`, found by `discovery` in the
    /// manifest `manifest`.
    pub fn into_report(self, format: SignatureFormat, discovery: Discovery, manifest: &Digest) -> SignatureReport {
        SignatureReport {
            format,
            envelope: self.envelope,
            kind: self.kind,
            discovery,
            manifest_digest: manifest.to_string(),
            verification: Verification::new(self.verdict, self.reasons),
            signer: self.signer,
            chain: self.chain,
            signed_at: self.signed_at,
            timestamp: self.timestamp,
            algorithm: self.algorithm,
            predicate_type: self.predicate_type,
            docker_reference: self.docker_reference,
            subject_digest: None,
            location: None,
        }
    }

    /// Add a reason (the verdict is unchanged).
    pub fn note(&mut self, code: ReasonCode, text: impl Into<String>) {
        self.reasons.push(Reason::new(code, text));
    }

    /// Mark invalid with a reason and return self (for early exits).
    pub fn invalid(mut self, code: ReasonCode, text: impl Into<String>) -> Checked {
        self.verdict = Verdict::Invalid;
        self.note(code, text);
        self
    }

    /// A signature that could not be checked because fetching it failed.
    pub fn error(mut self, text: impl Into<String>) -> Checked {
        self.verdict = Verdict::Error;
        self.note(ReasonCode::FetchError, text);
        self
    }

    pub fn unsupported(mut self, code: ReasonCode, text: impl Into<String>) -> Checked {
        self.verdict = Verdict::Unsupported;
        self.note(code, text);
        self
    }

    /// Set the verdict and add its reason (for a decision taken elsewhere, e.g. by [`crate::trust`]).
    pub fn decided(mut self, verdict: Verdict, reason: Reason) -> Checked {
        self.verdict = verdict;
        self.reasons.push(reason);
        self
    }

    /// [`Checked::decided`] by a trust decision, with its notes (revocation) after its reason.
    pub fn decided_by(self, (verdict, reason, notes): crate::trust::Decision) -> Checked {
        let mut out = self.decided(verdict, reason);
        out.reasons.extend(notes);
        out
    }

    /// Record the signer identity and chain from certificates, leaf first.
    pub fn set_certificates(&mut self, certs: &[Cert]) {
        if let Some(leaf) = certs.first() {
            self.signer = Some(leaf.signer());
        }
        self.chain = certs.iter().map(Cert::chain_entry).collect();
    }
}

/// Certificate chains longer than this are refused (hostile input).
pub const MAX_CHAIN: usize = 10;

/// Bounded, strict standard base64 (after stripping CR/LF) with a readable error.
pub(crate) fn b64(field: &str, s: &str) -> Result<Vec<u8>, String> {
    crate::crypto::b64_std_lenient(s).ok_or_else(|| format!("{field} is not valid base64"))
}
