//! Trust material and the decision it drives. Without trust material, a good
//! certificate-bearing signature is `untrusted` and a key-only one `unverified`
//! (docs/REPORT.md). Public keys given with `--key` make key-only signatures checkable.

use crate::crypto::{CryptoError, PublicKey};
use crate::pki::path::{self, Purpose, ValidPath};
use crate::pki::revocation::Revocation;
use crate::report::{Reason, ReasonCode as C, Verdict};
use crate::x509::{rfc3339, Cert};

/// The reason for a valid certificate-bearing signature when no anchor was given at all.
const NO_ANCHOR: &str = "signature valid for the certificate it carries; no trust anchor given (--ca-roots)";

/// Why a piece of evidence (a SET, SCT, timestamp, bundle) does not make a signature `verified`:
/// `untrusted` when it cannot be judged with the trust material or names a signer it does not
/// cover (an unknown log, CA or TSA, a missing SCT, another identity); otherwise the evidence is
/// false or proves something else, and the signature is `invalid`.
#[derive(Debug, Clone)]
pub struct Rejection {
    pub untrusted: bool,
    /// The code of the reason this rejection gives.
    pub code: C,
    pub reason: String,
}

impl Rejection {
    pub fn invalid(code: C, reason: impl Into<String>) -> Rejection {
        Rejection { untrusted: false, code, reason: reason.into() }
    }

    pub fn untrusted(code: C, reason: impl Into<String>) -> Rejection {
        Rejection { untrusted: true, code, reason: reason.into() }
    }

    /// The reason, its text prefixed (`"{prefix}{reason}"`).
    pub fn to_reason(&self, prefix: &str) -> Reason {
        Reason::new(self.code, format!("{prefix}{}", self.reason))
    }

    pub fn verdict(&self) -> Verdict {
        if self.untrusted {
            Verdict::Untrusted
        } else {
            Verdict::Invalid
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.reason)
    }
}

/// A public key the user trusts, with its id (SHA-256 of the DER SPKI) and where it came from.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub key: PublicKey,
    pub key_id: String,
    /// DER SubjectPublicKeyInfo.
    pub der: Vec<u8>,
    pub source: String,
    /// Its name, rotation window and revocation ([`crate::key_life`]).
    pub life: crate::key_life::KeyLife,
}

impl TrustedKey {
    /// The key as reasons name it: its id's start, and its name or file.
    pub fn label(&self) -> String {
        format!("{} ({})", &self.key_id[..16], self.life.name.as_deref().unwrap_or(&self.source))
    }
}

#[derive(Default, Clone)]
pub struct Trust {
    pub keys: Vec<TrustedKey>,
    /// Trust anchors for certificate-bearing signatures (`--ca-roots`).
    pub anchors: Vec<Cert>,
    /// Trust anchors for timestamp authorities of signed files (`--tsa-roots`); when empty,
    /// `anchors` serve.
    pub tsa_anchors: Vec<Cert>,
    /// Unix seconds at which certificate validity is judged when the signature states no
    /// verified signing time.
    pub now: i64,
    /// Transparency logs of the Sigstore trusted roots (`--trusted-root`, else the public-good root).
    pub logs: Vec<crate::signature::rekor::TransparencyLog>,
    /// Certificate transparency logs of the Sigstore trusted roots (SCTs of Fulcio certificates).
    pub ctlogs: Vec<crate::signature::rekor::TransparencyLog>,
    /// Fulcio CAs of the Sigstore trusted roots: anchors for cosign certificates only. Anyone can
    /// get a Fulcio certificate, so chaining to one proves nothing about who signed without an
    /// identity constraint (`sigstore.identity` / `sigstore.issuer`).
    pub fulcio: Vec<crate::signature::rekor::FulcioCa>,
    /// Timestamp authorities of the Sigstore trusted roots (RFC 3161 annotations of cosign layers).
    pub tsas: Vec<crate::signature::rekor::TimestampAuthority>,
    /// Sigstore bundle verification and the keyless signer constraints.
    pub sigstore: Option<std::sync::Arc<SigstorePolicy>>,
    /// notation's trust policy and trust store, for Notary Project signatures.
    pub notation: Option<std::sync::Arc<crate::notation_trust::NotationTrust>>,
    /// Revocation sources (`--crl`), checked on every certification path.
    pub revocation: Revocation,
    /// `--warn-expiring` (seconds): note signatures that will stop verifying within this time.
    pub warn_expiring: Option<i64>,
}

/// A decision on a certificate-bearing signature: its verdict, the reason that decides it, and
/// notes on the way (what revocation checking found).
pub type Decision = (Verdict, Reason, Vec<Reason>);

/// Trusted roots and signer constraints for Sigstore signatures.
#[derive(Debug)]
pub struct SigstorePolicy {
    pub roots: crate::sigstore::SigstoreTrust,
    pub signer: crate::sigstore::SignerPolicy,
}

impl SigstorePolicy {
    /// Whether the user said who may sign keyless signatures: an identity (SAN), exact or by
    /// regular expression. An OIDC issuer alone is not one: any account at that issuer passes.
    pub fn constrains_identity(&self) -> bool {
        self.signer.identity.is_some()
    }
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Trust({} keys, {} anchors)", self.keys.len(), self.anchors.len())
    }
}

impl Trust {
    pub fn add_key_pem(&mut self, pem: &[u8], source: &str) -> Result<(), CryptoError> {
        let (_, p) = x509_parser::pem::parse_x509_pem(pem)
            .map_err(|e| CryptoError::MalformedKey(format!("{source}: PEM: {e}")))?;
        if p.label != "PUBLIC KEY" {
            return Err(CryptoError::MalformedKey(format!(
                "{source}: expected a PUBLIC KEY PEM block, found {}",
                p.label
            )));
        }
        self.add_key_der(p.contents, source)
    }

    /// Trust a public key given as DER SubjectPublicKeyInfo (kept, and named, in its canonical
    /// encoding: [`crate::crypto::canonical_spki`]).
    pub fn add_key_der(&mut self, der: Vec<u8>, source: &str) -> Result<(), CryptoError> {
        let key = PublicKey::from_spki_der(&der)?;
        let der = crate::crypto::canonical_spki(&der).unwrap_or(der);
        let key_id = crate::crypto::sha256_hex(&der);
        self.keys.push(TrustedKey { key, key_id, der, source: source.to_string(), life: Default::default() });
        Ok(())
    }

    /// Give the key `der` (DER SPKI) a life: merged into that key when it is trusted already
    /// (its window and revocation set only where `life` has them), else added with it (a revoked
    /// key is still recognised, so that its signatures are named revoked, not unknown).
    pub fn set_key_life(
        &mut self,
        der: Vec<u8>,
        source: &str,
        life: crate::key_life::KeyLife,
    ) -> Result<(), CryptoError> {
        let der = crate::crypto::canonical_spki(&der).unwrap_or(der);
        let id = crate::crypto::sha256_hex(&der);
        if !self.keys.iter().any(|k| k.key_id == id) {
            self.add_key_der(der, source)?;
        }
        for k in self.keys.iter_mut().filter(|k| k.key_id == id) {
            let l = &mut k.life;
            l.name = life.name.clone().or(l.name.take());
            l.not_before = life.not_before.or(l.not_before);
            l.not_after = life.not_after.or(l.not_after);
            l.revoked = life.revoked.clone().or(l.revoked.take());
        }
        Ok(())
    }

    /// The config's name of the trusted key `key_id`, if it has one.
    pub fn key_name(&self, key_id: &str) -> Option<String> {
        self.keys.iter().find(|k| k.key_id == key_id).and_then(|k| k.life.name.clone())
    }

    /// Judge the life of the key `key_id` verified a signature with, at its verified signing time
    /// `signed` (else `now`): see [`crate::key_life::KeyLife::judge`]. Without a verified time, a
    /// window ending within `--warn-expiring` is noted.
    pub fn judge_key(&self, key_id: &str, signed: Option<i64>) -> Result<Option<Reason>, (Verdict, Reason)> {
        let Some(k) = self.keys.iter().find(|k| k.key_id == key_id) else { return Ok(None) };
        let note = k.life.judge(&k.label(), signed, self.now)?;
        // Without a verified time the signature is judged at now: a window ending, or a
        // revocation dated, within --warn-expiring will undo it.
        let ends = |end: Option<i64>, what: String| {
            end.filter(|_| signed.is_none()).and_then(|e| self.expiring_note(&what, e))
        };
        let revoked = k.life.revoked.as_ref().and_then(|r| r.since);
        let expiring = ends(k.life.not_after, format!("the window of key {}", k.label()))
            .or_else(|| ends(revoked, format!("key {}'s scheduled revocation", k.label())));
        // A revocation dated after now, for a signature with no verified time, is not "after
        // signing": it is coming, and --warn-expiring says so.
        Ok(expiring.or(note))
    }

    /// `--warn-expiring`: a note when `end` (the end of what makes a signature verify: a
    /// certificate's validity, a key's window, a signature's expiry) falls within the warning
    /// period from now.
    pub fn expiring_note(&self, what: &str, end: i64) -> Option<Reason> {
        let period = self.warn_expiring?;
        (end >= self.now && end <= self.now.saturating_add(period)).then(|| {
            C::ExpiringSoon.reason(format!(
                "{what} ends {} (within --warn-expiring): the signature stops verifying then",
                rfc3339(end).unwrap_or_default()
            ))
        })
    }

    /// The note for a path judged at now (no verified signing time): the first of its
    /// certificates to expire, when that is within `--warn-expiring`.
    fn path_expiring(&self, p: &ValidPath<'_>) -> Option<Reason> {
        let (end, c) = p.chain.iter().chain([&p.anchor]).map(|c| (c.validity().1, c)).min_by_key(|(e, _)| *e)?;
        let what =
            format!("the validity of certificate {} of the signer's path, with no verified signing time,", c.subject());
        self.expiring_note(&what, end)
    }

    /// The verdict on a key-only signature when no `--key` was given.
    pub fn no_key_given() -> (Verdict, Reason) {
        (
            Verdict::Unverified,
            C::KeyOnlyNoKey.reason("key-only signature and no --key given: the signature bytes were not checked"),
        )
    }

    /// Decide a key-only signature: `verify` checks the signature with one key, whose life is
    /// then judged at the evaluation time (no verified signing time is known here).
    /// Returns the verdict, a reason, and the id of the key that verified it.
    pub fn decide_key_only(
        &self,
        verify: impl Fn(&PublicKey) -> Result<(), CryptoError>,
    ) -> (Verdict, Reason, Option<String>) {
        let (verdict, reason, id) = self.find_key(verify);
        match id.as_deref().map(|id| self.judge_key(id, None)) {
            Some(Err((v, r))) => (v, r.prefixed(&format!("{}; but ", reason.text)), id),
            _ => (verdict, reason, id),
        }
    }

    /// [`Trust::decide_key_only`] without judging the key's life: for callers that learn a
    /// verified signing time with the key (a Rekor SET) and judge it then ([`Trust::judge_key`]).
    pub fn find_key(
        &self,
        verify: impl Fn(&PublicKey) -> Result<(), CryptoError>,
    ) -> (Verdict, Reason, Option<String>) {
        if self.keys.is_empty() {
            let (verdict, reason) = Trust::no_key_given();
            return (verdict, reason, None);
        }
        for k in &self.keys {
            if verify(&k.key).is_ok() {
                return (
                    Verdict::Verified,
                    C::VerifiedKey.reason(format!("verified with key {}", k.label())),
                    Some(k.key_id.clone()),
                );
            }
        }
        (
            Verdict::Invalid,
            C::KeyMismatch
                .reason(format!("signature does not verify with any of the {} given key(s)", self.keys.len())),
            None,
        )
    }

    /// Add a Sigstore trusted root: its Rekor logs, and its Fulcio CA certificates as anchors
    /// for cosign certificates.
    pub fn add_trusted_root(&mut self, json: &[u8]) -> Result<(), String> {
        let parts = crate::signature::rekor::parse_trusted_root(json)?;
        self.logs.extend(parts.logs);
        self.ctlogs.extend(parts.ctlogs);
        self.fulcio.extend(parts.cas);
        self.tsas.extend(parts.tsas);
        Ok(())
    }

    /// Add every certificate of a PEM bundle (or one DER certificate) as a trust anchor.
    pub fn add_ca_roots_pem(&mut self, bytes: &[u8], source: &str) -> Result<usize, String> {
        let certs = read_certificates(bytes).map_err(|e| format!("{source}: {e}"))?;
        let n = certs.len();
        self.anchors.extend(certs);
        Ok(n)
    }

    /// Add every certificate of a PEM bundle (or one DER certificate) as a timestamp anchor.
    pub fn add_tsa_roots(&mut self, bytes: &[u8], source: &str) -> Result<usize, String> {
        let certs = read_certificates(bytes).map_err(|e| format!("{source}: {e}"))?;
        let n = certs.len();
        self.tsa_anchors.extend(certs);
        Ok(n)
    }

    /// A path from `certs[0]` (the signer) through the other given certificates to a
    /// `--ca-roots` anchor, valid for `purpose` at `at` ([`crate::pki::path`]). Returns the
    /// anchor's subject and what revocation checking noted.
    pub fn chain_to_anchor(
        &self,
        certs: &[Cert],
        purpose: &Purpose,
        at: i64,
    ) -> Result<(String, Vec<Reason>), path::PathError> {
        path::validate_chain(certs, &self.anchors, purpose, at, &self.revocation).map(|p| (p.anchor.subject(), p.notes))
    }

    /// The anchors a timestamp authority must chain to: `--tsa-roots` when given, else `--ca-roots`.
    pub fn timestamp_anchors(&self) -> &[Cert] {
        if self.tsa_anchors.is_empty() {
            &self.anchors
        } else {
            &self.tsa_anchors
        }
    }

    /// Judge a timestamp: its signer (`chain[0]`, with the certificates the token or signature
    /// carries) must be a timestamping certificate chaining to a timestamp anchor at `time`, no
    /// certificate of it revoked. Returns the anchor's subject (with what revocation checking could
    /// not settle).
    pub fn timestamp_authority(&self, chain: &[Cert], time: i64) -> Result<String, String> {
        if self.timestamp_anchors().is_empty() {
            return Err("no trust anchor given for timestamp authorities (--ca-roots or --tsa-roots)".into());
        }
        path::validate_chain(chain, self.timestamp_anchors(), &path::TIMESTAMPING, time, &self.revocation)
            .map(|p| with_caveats(p.anchor.subject(), &p))
            .map_err(|e| e.to_string())
    }

    /// Decide a cosign certificate (legacy layer or bundle): it may chain to a `--ca-roots` anchor
    /// or to a Fulcio CA, and must then satisfy the keyless identity constraints. A Fulcio
    /// certificate without such a constraint is `untrusted`: any Sigstore user could have made it.
    /// A revoked certificate on the path makes it `invalid`.
    pub fn decide_cosign_certificate(&self, certs: &[Cert], at: Option<i64>) -> Decision {
        let dated = at.is_some();
        let at = at.unwrap_or(self.now);
        let (anchor, fulcio, notes) =
            match path::validate_chain(certs, &self.anchors, &path::CODE_SIGNING, at, &self.revocation) {
                Ok(p) => {
                    let mut notes = p.notes.clone();
                    notes.extend(self.path_expiring(&p).filter(|_| !dated));
                    (p.anchor.subject(), false, notes)
                }
                Err(e) if e.code == C::CertRevoked => {
                    return (e.verdict(), e.to_reason().prefixed("revoked: "), Vec::new())
                }
                Err(e) => match self.fulcio_chain(certs, at) {
                    Ok((a, notes)) => (a, true, notes),
                    Err(f) if f.code == C::CertRevoked => {
                        return (Verdict::Invalid, f.prefixed("revoked: "), Vec::new())
                    }
                    // A Fulcio certificate judged at "now" has long expired: say what is missing.
                    Err(_)
                        if !dated
                            && certs.first().is_some_and(|c| self.fulcio_chain(certs, c.validity().0).is_ok()) =>
                    {
                        return (
                            Verdict::Untrusted,
                            C::NoVerifiedSigningTime.reason(
                                "chains to a Fulcio CA, but no verified Rekor entry or RFC 3161 timestamp dates the \
                                 signature inside the short-lived certificate's validity",
                            ),
                            Vec::new(),
                        )
                    }
                    Err(_) if self.anchors.is_empty() && self.fulcio.is_empty() => {
                        return (Verdict::Untrusted, C::NoTrustAnchor.reason(NO_ANCHOR), Vec::new())
                    }
                    Err(f) => {
                        let why = if self.anchors.is_empty() { f } else { e.to_reason() };
                        return (Verdict::Untrusted, why.prefixed("not trusted: "), Vec::new());
                    }
                },
            };
        let (verdict, reason) = self.decide_cosign_anchored(certs, anchor, fulcio, dated);
        // Only a verified signature can be about to stop verifying.
        let notes = notes.into_iter().filter(|n| verdict == Verdict::Verified || n.code != C::ExpiringSoon).collect();
        (verdict, reason, notes)
    }

    /// The rest of [`Trust::decide_cosign_certificate`] once a path to `anchor` holds.
    fn decide_cosign_anchored(&self, certs: &[Cert], anchor: String, fulcio: bool, dated: bool) -> (Verdict, Reason) {
        // A Fulcio certificate lives about ten minutes: only a verified Rekor entry or RFC 3161
        // timestamp shows the signature was made while it was valid (cosign and sigstore-go
        // require one); "now" inside its window proves nothing.
        if fulcio && !dated {
            return (
                Verdict::Untrusted,
                C::NoVerifiedSigningTime.reason(format!(
                    "chains to Fulcio CA {anchor}, but no verified Rekor entry or RFC 3161 timestamp dates the \
                     signature inside the short-lived certificate's validity"
                )),
            );
        }
        // A Fulcio certificate must also have been logged in certificate transparency (its
        // embedded SCT), as cosign and sigstore-go require.
        let anchor = if fulcio {
            let leaf = &certs[0];
            let issuer = certs[1..]
                .iter()
                .chain(self.fulcio.iter().map(|f| &f.cert))
                .find(|c| c.subject_raw() == leaf.issuer_raw() && leaf.is_signed_by(c));
            let Some(issuer) = issuer else {
                return (
                    Verdict::Untrusted,
                    C::SctUntrusted.reason("the Fulcio certificate's issuer is not at hand for its SCT"),
                );
            };
            match crate::signature::sct::verify_embedded(leaf, issuer, &self.ctlogs) {
                Ok((log, _)) => format!("{anchor} (SCT of CT log {} verified)", &log[..16]),
                Err(e) => return (e.verdict(), e.to_reason(&format!("chains to Fulcio CA {anchor}, but: "))),
            }
        } else {
            anchor
        };
        let leaf = certs[0].signer();
        let policy = self.sigstore.as_deref();
        match policy {
            Some(p) if p.constrains_identity() || (!fulcio && p.signer.issuer.is_some()) => {
                match p.signer.check_identity(&leaf.san, leaf.oidc_issuer.as_deref()) {
                    Ok(()) => (
                        Verdict::Verified,
                        C::IdentityMatched
                            .reason(format!("signer chains to trust anchor {anchor} and matches the identity policy")),
                    ),
                    Err(e) => (Verdict::Untrusted, C::IdentityMismatch.reason(format!("not trusted: {e}"))),
                }
            }
            Some(p) if fulcio && p.signer.issuer.is_some() => (
                Verdict::Untrusted,
                C::IssuerOnlyPolicy.reason(format!(
                    "signer chains to Fulcio CA {anchor}, but an OIDC issuer alone is not an identity policy: any \
                     account at {} could have signed; add --certificate-identity or --certificate-identity-regexp",
                    p.signer.issuer.as_deref().unwrap_or_default()
                )),
            ),
            _ if fulcio => (
                Verdict::Untrusted,
                C::NoIdentityPolicy.reason(format!(
                    "signer chains to Fulcio CA {anchor}, but no --certificate-identity[-regexp] says who may sign: \
                     any Sigstore user could have"
                )),
            ),
            _ => (Verdict::Verified, C::ChainAnchored.reason(format!("signer chains to trust anchor {anchor}"))),
        }
    }

    /// Decide a certificate-bearing signature whose integrity and binding hold. `certs` is the
    /// signer's certificate first, then the chain the signature carries; `at` is a verified
    /// signing time, if any (else `now`); `purpose` what the signer must be good for.
    pub fn decide_certificate(&self, certs: &[Cert], at: Option<i64>, purpose: &Purpose) -> Decision {
        if self.anchors.is_empty() {
            return (Verdict::Untrusted, C::NoTrustAnchor.reason(NO_ANCHOR), Vec::new());
        }
        match path::validate_chain(certs, &self.anchors, purpose, at.unwrap_or(self.now), &self.revocation) {
            Ok(p) => {
                let anchor = p.anchor.subject();
                let mut notes = p.notes.clone();
                notes.extend(self.path_expiring(&p).filter(|_| at.is_none()));
                (Verdict::Verified, C::ChainAnchored.reason(format!("signer chains to trust anchor {anchor}")), notes)
            }
            Err(e) if e.code == C::CertRevoked => (e.verdict(), e.to_reason().prefixed("revoked: "), Vec::new()),
            Err(e) => (e.verdict(), e.to_reason().prefixed("not trusted: "), Vec::new()),
        }
    }
}

/// A path's anchor, with what revocation checking could not settle or found after the fact.
fn with_caveats(anchor: String, p: &ValidPath<'_>) -> String {
    let caveats: Vec<&str> = p.caveats().map(|r| r.text.as_str()).collect();
    if caveats.is_empty() {
        anchor
    } else {
        format!("{anchor} ({})", caveats.join("; "))
    }
}

/// The certificates of a PEM bundle, or the one certificate of a DER file.
fn read_certificates(bytes: &[u8]) -> Result<Vec<Cert>, crate::x509::CertError> {
    if bytes.first() == Some(&0x30) {
        return Cert::from_der(bytes.to_vec()).map(|c| vec![c]);
    }
    Cert::from_pem_chain(bytes)
}

impl Trust {
    /// A path to a Fulcio CA whose trusted-root window contains `at`; returns its subject and
    /// the revocation notes.
    fn fulcio_chain(&self, certs: &[Cert], at: i64) -> Result<(String, Vec<Reason>), Reason> {
        let current: Vec<&Cert> = self
            .fulcio
            .iter()
            .filter(|f| f.valid_from.is_none_or(|s| at >= s) && f.valid_to.is_none_or(|e| at <= e))
            .map(|f| &f.cert)
            .collect();
        if current.is_empty() && !self.fulcio.is_empty() {
            return Err(C::FulcioCaNotValid
                .reason(format!("no Fulcio CA of the trusted root is valid at {}", rfc3339(at).unwrap_or_default())));
        }
        path::validate_chain(certs, &current, &path::CODE_SIGNING, at, &self.revocation)
            .map(|p| (p.anchor.subject(), p.notes))
            .map_err(|e| e.to_reason())
    }
}
