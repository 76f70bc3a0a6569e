//! Certification path validation: one place, used by every caller that trusts a certificate
//! because it chains to an anchor (`--ca-roots` for files, cosign and Notary signatures; Fulcio
//! CAs; notation `tsa:` stores; Sigstore timestamp authorities; file timestamps).
//!
//! A path is built from the signer to an anchor through the certificates the signature carries,
//! trying every candidate issuer (backtracking, bounded by a budget of signature checks), and
//! accepted only if every link holds (RFC 5280 §6.1, with the strict profile `openssl verify
//! -x509_strict` applies):
//! - every certificate: no extension twice, no critical extension left unprocessed, no
//!   extension that does not parse, the TBS signature algorithm equal to the outer one, no EC key
//!   with explicit curve parameters (CVE-2020-0601), valid at the judging time;
//! - every issuer (intermediates and the anchor that issued): basicConstraints cA=TRUE, a
//!   keyUsage with keyCertSign, its pathLenConstraint not exceeded by the certificates below it,
//!   no nameConstraints (not processed here, so a constrained CA is not accepted), and for a
//!   purpose that nests, an extendedKeyUsage (if any) that allows the purpose;
//! - every signature by the algorithm the certificate names, with a key of that algorithm's
//!   family (MD5 refused, PKCS#1 v1.5 only with its DigestInfo);
//! - the leaf: the purpose's extended and basic key usage, and no keyCertSign without cA.
//!
//! Errors name the certificate and the rule, as reports should.

use super::revocation::Revocation;
use crate::report::{Reason, ReasonCode as C};
use crate::x509::{eku, ku, Cert, DefectKind};
use std::borrow::Borrow;

/// What the leaf certificate must be good for, and how CA certificates' extended key usages
/// constrain it.
#[derive(Debug, Clone, Copy)]
pub struct Purpose {
    pub name: &'static str,
    /// The extendedKeyUsage purpose (OID).
    pub eku: &'static str,
    pub leaf_eku: LeafEku,
    /// Whether anyExtendedKeyUsage satisfies the purpose.
    pub any_eku: bool,
    /// Whether a CA certificate's extendedKeyUsage, when present, must allow the purpose too
    /// (Microsoft's and the CA/Browser Forum's code-signing rules; Go's crypto/x509).
    pub nested: bool,
    /// When the leaf has keyUsage: at least one of these bits.
    pub leaf_ku_any: u16,
    /// When the leaf has keyUsage: no bit outside these.
    pub leaf_ku_only: Option<u16>,
}

/// How the leaf's extendedKeyUsage is judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeafEku {
    /// It must be present and allow the purpose.
    Required,
    /// It must be present and name exactly the purpose (RFC 3161 §2.3, which also wants it
    /// critical; GitHub's timestamp authority marks it non-critical, and Go's verifier accepts that).
    Exclusive,
    /// It must be present, critical, and name exactly the purpose (`openssl verify -purpose
    /// timestampsign`).
    ExclusiveCritical,
    /// If present it must allow the purpose (the JDK's rule for signed JARs).
    IfPresent,
}

/// Code signing (Authenticode, cosign and Notary signers): the leaf names codeSigning; CAs that
/// carry an EKU must allow it.
pub const CODE_SIGNING: Purpose = Purpose {
    name: "code signing",
    eku: eku::CODE_SIGNING,
    leaf_eku: LeafEku::Required,
    any_eku: false,
    nested: true,
    leaf_ku_any: ku::DIGITAL_SIGNATURE,
    leaf_ku_only: None,
};

/// Signed JARs, as `jarsigner -verify` checks the signer: an EKU, if present, must allow code
/// signing (anyExtendedKeyUsage does); a keyUsage, if present, digitalSignature.
pub const JAR_SIGNING: Purpose = Purpose {
    name: "code signing (JAR)",
    eku: eku::CODE_SIGNING,
    leaf_eku: LeafEku::IfPresent,
    any_eku: true,
    nested: false,
    leaf_ku_any: ku::DIGITAL_SIGNATURE,
    leaf_ku_only: None,
};

/// Timestamp authorities (RFC 3161 §2.3; also PKCS#9 countersigners): an EKU of exactly
/// timeStamping, keyUsage only digitalSignature and/or nonRepudiation; CAs that carry an EKU
/// must allow timestamping.
pub const TIMESTAMPING: Purpose = Purpose {
    name: "timestamping",
    eku: eku::TIME_STAMPING,
    leaf_eku: LeafEku::Exclusive,
    any_eku: false,
    nested: true,
    leaf_ku_any: ku::DIGITAL_SIGNATURE | ku::NON_REPUDIATION,
    leaf_ku_only: Some(ku::DIGITAL_SIGNATURE | ku::NON_REPUDIATION),
};

/// Certificates in a path at most (the leaf, intermediates and the anchor).
pub const MAX_DEPTH: usize = 10;
/// Signature checks one path building may spend: a hostile bag of certificates with the same
/// names cannot make validation slow.
pub const SIGNATURE_BUDGET: usize = 64;

/// A path that holds: the anchor it ends at and the certificates from the leaf up (without the
/// anchor, unless the leaf is itself an anchor).
#[derive(Debug)]
pub struct ValidPath<'a> {
    pub anchor: &'a Cert,
    pub chain: Vec<&'a Cert>,
    /// What revocation checking found along the path ([`super::revocation`]): notes that do not
    /// break it (`revocation-good`, `revocation-unknown`, `revoked-after-signing`).
    pub notes: Vec<Reason>,
}

impl ValidPath<'_> {
    /// The notes that say something is not known or not clean (all but `revocation-good`).
    pub fn caveats(&self) -> impl Iterator<Item = &Reason> {
        self.notes.iter().filter(|n| n.code != C::RevocationGood)
    }
}

/// Why no path holds: every rule that stopped a candidate, naming the certificate. `code` is the
/// reason code of the first of them (`chain-no-anchor`, `chain-expired`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no valid path from {leaf} to a given trust anchor: {}", .reasons.join("; "))]
pub struct PathError {
    pub leaf: String,
    pub reasons: Vec<String>,
    pub code: C,
}

impl PathError {
    /// The verdict a signature gets when its signer's path fails so: `invalid` when a
    /// certificate of it is revoked, else `untrusted` (a path we could not build to an anchor).
    pub fn verdict(&self) -> crate::report::Verdict {
        if self.code == C::CertRevoked {
            crate::report::Verdict::Invalid
        } else {
            crate::report::Verdict::Untrusted
        }
    }

    fn new(leaf: &Cert, code: C, reasons: Vec<String>) -> PathError {
        PathError { leaf: label(leaf), reasons, code }
    }

    /// The error as a report's reason: its text, with the code of its first rule (a revoked
    /// certificate: that revocation alone).
    pub fn to_reason(&self) -> Reason {
        match self.reasons.first() {
            Some(r) if self.code == C::CertRevoked => Reason::new(self.code, r.clone()),
            _ => Reason::new(self.code, self.to_string()),
        }
    }
}

/// A rule a certificate breaks: its reason code and what it says.
type Rule = (C, String);

/// A certificate as a reason names it: its subject and the start of its SHA-256 thumbprint, so
/// that same-named certificates (an impostor issuer, a re-keyed CA) are told apart.
fn label(c: &Cert) -> String {
    format!("{} [sha256 {}]", c.subject(), &c.sha256()[..12])
}

/// Validate `certs[0]` (the signer) for `purpose` at `at` (Unix seconds) through the other
/// certificates of `certs` to one of `anchors`, every certificate below the anchor checked for
/// revocation by `rev`.
pub fn validate_chain<'a, A: Borrow<Cert>>(
    certs: &'a [Cert],
    anchors: &'a [A],
    purpose: &Purpose,
    at: i64,
    rev: &Revocation,
) -> Result<ValidPath<'a>, PathError> {
    let Some(leaf) = certs.first() else {
        return Err(PathError { leaf: "(none)".into(), reasons: vec!["no certificate".into()], code: C::CertMissing });
    };
    validate(leaf, &certs[1..], anchors, purpose, at, rev)
}

/// Validate `leaf` for `purpose` at `at` through certificates of `pool` to one of `anchors`,
/// checking revocation with `rev`.
pub fn validate<'a, A: Borrow<Cert>>(
    leaf: &'a Cert,
    pool: &'a [Cert],
    anchors: &'a [A],
    purpose: &Purpose,
    at: i64,
    rev: &Revocation,
) -> Result<ValidPath<'a>, PathError> {
    if anchors.is_empty() {
        return Err(PathError::new(leaf, C::NoTrustAnchor, vec!["no trust anchor was given".into()]));
    }
    if let Err((code, rule)) = check_leaf(leaf, purpose, at) {
        return Err(PathError::new(leaf, code, vec![format!("{}: {rule}", label(leaf))]));
    }
    // A leaf that is itself an anchor (a pinned signer certificate).
    if let Some(a) = anchors.iter().map(Borrow::borrow).find(|a| a.der == leaf.der) {
        return Ok(ValidPath { anchor: a, chain: vec![leaf], notes: Vec::new() });
    }
    let mut search = Search { pool, anchors, purpose, at, rev, checks: 0, reasons: Vec::new(), code: None };
    let mut path = vec![leaf];
    match search.extend(&mut path) {
        Some(anchor) => {
            // Every link held, its revocation included: collect what revocation said of each.
            let mut links = path.clone();
            links.push(anchor);
            let notes = rev.judge_chain(&links, at).unwrap_or_default();
            Ok(ValidPath { anchor, chain: path, notes })
        }
        None => {
            if search.checks >= SIGNATURE_BUDGET {
                search
                    .note(C::ChainTooLong, format!("path building stopped after {SIGNATURE_BUDGET} signature checks"));
            }
            if search.reasons.is_empty() {
                let why = format!("no issuer of {} among the given certificates and anchors", label(leaf));
                search.note(C::ChainNoAnchor, why);
            }
            Err(PathError::new(leaf, search.code.unwrap_or(C::ChainNoAnchor), search.reasons))
        }
    }
}

struct Search<'a, 'p, A> {
    pool: &'a [Cert],
    anchors: &'a [A],
    purpose: &'p Purpose,
    at: i64,
    rev: &'p Revocation,
    checks: usize,
    reasons: Vec<String>,
    /// The code of the first reason.
    code: Option<C>,
}

impl<'a, A: Borrow<Cert>> Search<'a, '_, A> {
    fn note(&mut self, code: C, reason: String) {
        // A revoked certificate is what the error is about, whatever else failed on the way.
        if code == C::CertRevoked && self.code != Some(C::CertRevoked) {
            self.reasons.retain(|r| r != &reason);
            self.reasons.insert(0, reason);
            self.reasons.truncate(8);
            self.code = Some(code);
        } else if !self.reasons.contains(&reason) && self.reasons.len() < 8 {
            self.reasons.push(reason);
            self.code.get_or_insert(code);
        }
    }

    /// Extend `path` (leaf first) to an anchor; on success `path` holds the chain below it.
    fn extend(&mut self, path: &mut Vec<&'a Cert>) -> Option<&'a Cert> {
        let current = *path.last().expect("path starts with the leaf");
        let anchors = self.anchors.iter().map(Borrow::borrow).map(|a| (a, true));
        let pool = self.pool.iter().map(|c| (c, false));
        let candidates: Vec<(&'a Cert, bool)> = anchors
            .chain(pool)
            .filter(|(c, _)| c.subject_raw() == current.issuer_raw())
            .filter(|(c, is_anchor)| *is_anchor || !self.anchors.iter().any(|a| a.borrow().der == c.der))
            .filter(|(c, _)| !path.iter().any(|p| p.der == c.der))
            .collect();
        if candidates.is_empty() {
            self.note(
                C::ChainNoAnchor,
                format!("no issuer of {} among the given certificates and anchors", label(current)),
            );
        }
        for (issuer, is_anchor) in candidates {
            let role = if is_anchor { "trust anchor" } else { "issuer" };
            // Certificates between the leaf and this issuer that count against its pathLen.
            let below = path.iter().skip(1).filter(|c| !c.is_self_signed()).count();
            if let Err((code, rule)) = check_issuer(issuer, self.purpose, self.at, below) {
                self.note(code, format!("{role} {}: {rule}", label(issuer)));
                continue;
            }
            if self.checks >= SIGNATURE_BUDGET {
                return None;
            }
            self.checks += 1;
            if let Err(e) = current.verify_signed_by(issuer) {
                self.note(
                    C::ChainSignature,
                    format!("{} is not signed by {role} {}: {e}", label(current), label(issuer)),
                );
                continue;
            }
            if is_anchor {
                // The path is complete: no certificate of it may be revoked (nor, when required,
                // of unknown status).
                let mut links = path.clone();
                links.push(issuer);
                if let Err((code, rule)) = self.rev.judge_chain(&links, self.at) {
                    self.note(code, rule);
                    continue;
                }
                return Some(issuer);
            }
            if path.len() + 1 >= MAX_DEPTH {
                self.note(C::ChainTooLong, format!("the path is longer than {MAX_DEPTH} certificates"));
                continue;
            }
            path.push(issuer);
            if let Some(anchor) = self.extend(path) {
                return Some(anchor);
            }
            path.pop();
        }
        None
    }
}

/// Rules on a certificate whatever its place: its own defects and validity at `at`.
fn check_any(c: &Cert, at: i64) -> Result<(), Rule> {
    if let Some((kind, d)) = c.defects().first() {
        let code = match kind {
            DefectKind::Malformed => C::ChainMalformedCert,
            DefectKind::UnprocessedCritical => C::ChainCriticalExtension,
            DefectKind::ExplicitCurve => C::ChainExplicitCurve,
        };
        return Err((code, d.clone()));
    }
    c.valid_at(at).map_err(|e| (C::ChainExpired, e.replace(&format!("certificate {} is ", c.subject()), "is ")))?;
    if !c.is_ca() && c.key_usage_ext().is_some_and(|k| k.value & ku::KEY_CERT_SIGN != 0) {
        return Err((C::ChainCaFlag, "keyUsage keyCertSign without basicConstraints cA".into()));
    }
    if c.is_ca() && c.key_usage_ext().is_none() {
        return Err((C::ChainKeyUsage, "a CA certificate without keyUsage".into()));
    }
    Ok(())
}

/// The leaf's rules for `purpose`.
pub fn check_leaf(leaf: &Cert, purpose: &Purpose, at: i64) -> Result<(), (C, String)> {
    check_any(leaf, at)?;
    let name = purpose.name;
    match (leaf.eku(), purpose.leaf_eku) {
        (None, LeafEku::IfPresent) => {}
        (None, _) => {
            return Err((C::ChainEku, format!("no extendedKeyUsage; {name} needs {}", eku::name(purpose.eku))))
        }
        (Some(e), LeafEku::Exclusive | LeafEku::ExclusiveCritical) => {
            if e.value != [purpose.eku] || (purpose.leaf_eku == LeafEku::ExclusiveCritical && !e.critical) {
                let critical = if purpose.leaf_eku == LeafEku::ExclusiveCritical { ", critical" } else { "" };
                return Err((
                    C::ChainEku,
                    format!(
                        "extendedKeyUsage {} ({}); {name} needs exactly {}{critical}",
                        names(&e.value),
                        if e.critical { "critical" } else { "not critical" },
                        eku::name(purpose.eku)
                    ),
                ));
            }
        }
        (Some(e), _) => {
            if !allows(&e.value, purpose) {
                return Err((C::ChainEku, format!("extendedKeyUsage {} does not allow {name}", names(&e.value))));
            }
        }
    }
    if let Some(k) = leaf.key_usage_ext() {
        if k.value & purpose.leaf_ku_any == 0 || purpose.leaf_ku_only.is_some_and(|only| k.value & !only != 0) {
            return Err((C::ChainKeyUsage, format!("keyUsage {} does not allow {name}", ku_names(k.value))));
        }
    }
    Ok(())
}

/// An issuer's rules: a CA allowed to sign certificates, its path length, and (nesting) its EKU.
fn check_issuer(ca: &Cert, purpose: &Purpose, at: i64, below: usize) -> Result<(), Rule> {
    check_any(ca, at)?;
    match ca.basic_constraints_ext() {
        None => return Err((C::ChainCaFlag, "not a CA: no basicConstraints".into())),
        Some(bc) if !bc.value.0 => return Err((C::ChainCaFlag, "not a CA: basicConstraints cA is FALSE".into())),
        Some(bc) => {
            if let Some(n) = bc.value.1 {
                if below > n as usize {
                    let why = format!("pathLenConstraint {n} exceeded by {below} CA certificates below it");
                    return Err((C::ChainPathLen, why));
                }
            }
        }
    }
    match ca.key_usage_ext() {
        Some(k) if k.value & ku::KEY_CERT_SIGN != 0 => {}
        Some(k) => return Err((C::ChainKeyUsage, format!("keyUsage {} lacks keyCertSign", ku_names(k.value)))),
        None => return Err((C::ChainKeyUsage, "a CA certificate without keyUsage".into())),
    }
    if ca.has_name_constraints() {
        let why = "nameConstraints are not processed here, so a constrained CA is not accepted";
        return Err((C::ChainNameConstraints, why.into()));
    }
    if purpose.nested {
        if let Some(e) = ca.eku() {
            if !allows(&e.value, purpose) {
                let why = format!("its extendedKeyUsage {} does not allow {}", names(&e.value), purpose.name);
                return Err((C::ChainEku, why));
            }
        }
    }
    Ok(())
}

fn allows(ekus: &[String], purpose: &Purpose) -> bool {
    ekus.iter().any(|e| e == purpose.eku || (purpose.any_eku && e == eku::ANY))
}

fn names(ekus: &[String]) -> String {
    let v: Vec<&str> = ekus.iter().map(|e| eku::name(e)).collect();
    format!("[{}]", v.join(", "))
}

fn ku_names(bits: u16) -> String {
    let all = [
        (ku::DIGITAL_SIGNATURE, "digitalSignature"),
        (ku::NON_REPUDIATION, "nonRepudiation"),
        (ku::KEY_ENCIPHERMENT, "keyEncipherment"),
        (ku::DATA_ENCIPHERMENT, "dataEncipherment"),
        (ku::KEY_AGREEMENT, "keyAgreement"),
        (ku::KEY_CERT_SIGN, "keyCertSign"),
        (ku::CRL_SIGN, "cRLSign"),
    ];
    let v: Vec<&str> = all.iter().filter(|(b, _)| bits & b != 0).map(|(_, n)| *n).collect();
    format!("[{}]", v.join(", "))
}
