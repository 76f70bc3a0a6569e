//! Revocation of the certificates of a path: what the CRLs the user gave (`--crl`) say about
//! each certificate below the anchor, and, checking online (`--revocation online`,
//! [`super::online`]), what its OCSP responders answer and its CRL distribution points serve
//! when no `--crl` settles it (OCSP first, as notation does; at most 4 sources of each kind),
//! and what that means for the signature. Online answers are judged at the wall clock.
//!
//! Judging a link (a certificate and the issuer that signed it) at `at`, the time the path is
//! judged (a verified signing time, else the evaluation time):
//! - revoked: listed by an authentic CRL of its issuer (expired or not: a revocation is not undone,
//!   except certificateHold, which counts only while the CRL listing it is current). It breaks the
//!   path (`cert-revoked`, the signature `invalid`) when the revocation (or the invalidity date it
//!   gives, if earlier) is at or before `at`, or whatever its date when the reason is a key
//!   compromise (keyCompromise, cACompromise, aACompromise): a compromised key could have made
//!   the signature and the time evidence alike. Revoked later for another reason: a note
//!   (`revoked-after-signing`).
//! - good: a current CRL of its issuer (authentic, `nextUpdate` not passed at the evaluation time)
//!   does not list it: a note (`revocation-good`).
//! - unknown: no authentic current CRL of its issuer was given (none, refused, signed by another
//!   key, expired). A note (`revocation-unknown`) that leaves the verdict alone, unless the user
//!   asked `--revocation require`: then the path does not hold (`revocation-unknown`, `untrusted`).
//!
//! Trust anchors are not checked (RFC 5280 §6.1: an anchor is trusted as given).
//! With no `--crl`, no `--revocation online` and no `--revocation require`, nothing is checked
//! and nothing is said.

use super::crl::{self, Crl};
use super::ocsp::CertStatus;
use super::online::Online;
use crate::report::{Reason, ReasonCode as C};
use crate::x509::Cert;
use std::sync::Arc;

/// What to do when no source settles a certificate's revocation status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unknown {
    /// Say so in a note; the verdict stands.
    #[default]
    Note,
    /// The path does not hold (`--revocation require`).
    Require,
    /// Notation's trust policy: the revocation check fails, except for a certificate that is
    /// not revocable: checking online, it names no OCSP responder and no CRL distribution
    /// point, and no CRL of its issuer was given (notation counts such a certificate as not
    /// revoked). Said in a note.
    Notation,
}

/// The revocation sources of a scan and the evaluation time.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    pub crls: Vec<Crl>,
    /// The evaluation time (`--at`, else now): CRLs must be current then.
    pub now: i64,
    pub unknown: Unknown,
    /// `--revocation online`: CRL distribution points and OCSP responders are asked too.
    pub online: Option<Arc<Online>>,
}

/// What the sources say about one certificate: the status, with what settled it (for reasons).
#[derive(Debug, Clone)]
pub enum Status {
    Good(String),
    Revoked(String, crl::Entry),
    Unknown(String),
    /// Checking online, the certificate names no OCSP responder and no CRL distribution point,
    /// and no CRL of its issuer was given.
    NotRevocable,
}

/// OCSP responders, and CRL distribution points, asked about one certificate at most: each may
/// cost a timeout.
const MAX_SOURCES: usize = 4;

/// A certificate as revocation reasons name it.
fn label(c: &Cert) -> String {
    format!("{} [sha256 {}, serial {}]", c.subject(), &c.sha256()[..12], hex::encode(c.serial_raw()))
}

impl Revocation {
    /// Whether revocation is checked at all.
    pub fn active(&self) -> bool {
        !self.crls.is_empty() || self.unknown == Unknown::Require || self.online.is_some()
    }

    /// What the sources say about `cert`, issued by `issuer`: the CRLs given first; then, online,
    /// its OCSP responders (preferred, as notation does) and its CRL distribution points.
    pub fn status(&self, cert: &Cert, issuer: &Cert) -> Status {
        let mut why = Vec::new();
        if let Some(s) = from_crls(self.crls.iter(), cert, issuer, self.now, &mut why, |c| format!("CRL {}", c.source))
        {
            return s;
        }
        let Some(online) = &self.online else {
            if why.is_empty() {
                why.push(format!("no CRL of its issuer {} was given", issuer.subject()));
            }
            return Status::Unknown(why.join("; "));
        };
        // Online answers are judged as current at the wall clock or at the evaluation time
        // (`--at`), whichever is later: an answer that will have lapsed by then settles nothing.
        let now = Online::now().max(self.now);
        let responders = cert.ocsp_responders();
        // A good OCSP answer does not end the search: the certificate's own CRL distribution
        // points are read too, and a revocation they list wins (a CA may revoke on its CRL first).
        let mut good: Option<String> = None;
        for url in responders.iter().take(MAX_SOURCES) {
            match online.ocsp(url, cert, issuer) {
                Ok(a) => {
                    let o = &a.answer;
                    let by = format!(
                        "OCSP responder {} (answer signed by {}{}, thisUpdate {}{})",
                        a.url,
                        o.responder,
                        if o.delegated { ", a delegated responder" } else { ", the issuer" },
                        crl::day(o.this_update),
                        o.next_update.map(|n| format!(", nextUpdate {}", crl::day(n))).unwrap_or_default()
                    );
                    match o.status {
                        // certificateHold counts only while the answer is current (as from a CRL).
                        CertStatus::Revoked(_, Some(6)) if o.current_at(now).is_err() => {
                            why.push(format!("OCSP responder {url}: an on-hold answer that is not current"))
                        }
                        CertStatus::Revoked(date, reason) => return Status::Revoked(by, crl::Entry::new(date, reason)),
                        CertStatus::Good => match o.current_at(now) {
                            Ok(()) => {
                                good = Some(format!("{by} answers good"));
                                break;
                            }
                            Err(e) => why.push(format!("OCSP responder {url}: {e}")),
                        },
                        CertStatus::Unknown => why.push(format!("OCSP responder {url} answers unknown")),
                    }
                }
                Err(e) => why.push(format!("OCSP responder {url}: {e}")),
            }
        }
        let points = cert.crl_distribution_points();
        let before_points = why.len();
        for url in points.iter().take(MAX_SOURCES) {
            match online.crl(url) {
                Ok(c) => {
                    let name = |c: &crl::Crl| format!("CRL fetched from {}", c.source);
                    match from_crls(std::iter::once(&*c), cert, issuer, now, &mut why, name) {
                        Some(s @ Status::Revoked(..)) => return s,
                        Some(s) if good.is_none() => return s,
                        _ => {}
                    }
                }
                Err(e) => why.push(format!("CRL distribution point {url}: {e}")),
            }
        }
        if points.len() > MAX_SOURCES {
            why.push(format!("{} more CRL distribution points not tried", points.len() - MAX_SOURCES));
        }
        if let Some(by) = good {
            // The good answer stands when a distribution point could not be read; the report says
            // which were not (a revocation there would have won).
            let unread = &why[before_points..];
            if unread.is_empty() {
                return Status::Good(by);
            }
            return Status::Good(format!("{by} (not read, so not checked for a revocation: {})", unread.join("; ")));
        }
        if responders.is_empty() && points.is_empty() {
            if why.is_empty() {
                return Status::NotRevocable;
            }
            why.push("the certificate names no OCSP responder and no CRL distribution point".into());
        }
        if self.crls.is_empty() && why.is_empty() {
            why.push(format!("no CRL of its issuer {} was given", issuer.subject()));
        }
        Status::Unknown(why.join("; "))
    }

    /// Judge the link from `cert` to `issuer` for a path judged at `at`: `Err` breaks the path
    /// (its code and rule), `Ok` carries a note, if any.
    pub fn judge(&self, cert: &Cert, issuer: &Cert, at: i64) -> Result<Option<Reason>, (C, String)> {
        self.judge_as(cert, issuer, at, self.unknown)
    }

    /// [`Revocation::judge`] with `unknown` deciding what an unknown status does.
    fn judge_as(&self, cert: &Cert, issuer: &Cert, at: i64, unknown: Unknown) -> Result<Option<Reason>, (C, String)> {
        if !self.active() {
            return Ok(None);
        }
        match self.status(cert, issuer) {
            Status::Good(by) => Ok(Some(C::RevocationGood.reason(format!("{} is not revoked: {by}", label(cert))))),
            Status::Revoked(by, e) => {
                let what = format!(
                    "{} was revoked on {} ({}{}) by {by}",
                    label(cert),
                    crl::day(e.date),
                    e.reason_text(),
                    e.invalidity.map(|i| format!(", invalid since {}", crl::day(i))).unwrap_or_default(),
                );
                if crl::is_compromise(e.reason) {
                    Err((C::CertRevoked, format!("{what}: a key compromise voids every signature it made")))
                } else if e.effective() <= at {
                    Err((
                        C::CertRevoked,
                        format!("{what}, before the time the signature is judged at, {}", crl::day(at)),
                    ))
                } else {
                    Ok(Some(C::RevokedAfterSigning.reason(format!(
                        "{what}, after the time the signature is judged at, {}: not a compromise, so the signature \
                         stands",
                        crl::day(at)
                    ))))
                }
            }
            Status::NotRevocable => {
                let what = format!(
                    "revocation status of {} unknown: it names no OCSP responder and no CRL distribution point, and no \
                     CRL of its issuer was given",
                    label(cert)
                );
                match unknown {
                    Unknown::Require => Err((C::RevocationUnknown, format!("{what} (--revocation require)"))),
                    Unknown::Note => Ok(Some(C::RevocationUnknown.reason(what))),
                    Unknown::Notation => Ok(Some(
                        C::RevocationUnknown
                            .reason(format!("{what}: not revocable, which notation counts as not revoked")),
                    )),
                }
            }
            Status::Unknown(why) => {
                let what = format!("revocation status of {} unknown: {why}", label(cert));
                match unknown {
                    Unknown::Require => Err((C::RevocationUnknown, format!("{what} (--revocation require)"))),
                    Unknown::Notation => Err((C::RevocationUnknown, what)),
                    Unknown::Note => Ok(Some(C::RevocationUnknown.reason(what))),
                }
            }
        }
    }

    /// Judge every link of a chain given leaf first, each certificate issued by the next (the last
    /// is the anchor, not itself checked): the notes, or the rule broken.
    pub fn judge_chain(&self, chain: &[&Cert], at: i64) -> Result<Vec<Reason>, (C, String)> {
        self.judge_chain_as(chain, at, self.unknown)
    }

    /// [`Revocation::judge_chain`] with `unknown` deciding what an unknown status does (notation's
    /// trust policy fails its revocation check on an unknown status).
    /// A revoked certificate anywhere in the chain is the answer before an unknown status below it.
    pub fn judge_chain_as(&self, chain: &[&Cert], at: i64, unknown: Unknown) -> Result<Vec<Reason>, (C, String)> {
        let mut notes = Vec::new();
        let mut first_error = None;
        for pair in chain.windows(2) {
            match self.judge_as(pair[0], pair[1], at, unknown) {
                Ok(n) => notes.extend(n),
                Err(e) if e.0 == C::CertRevoked => return Err(e),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(notes),
        }
    }
}

/// What `crls` say about `cert` (issued by `issuer`) at `now`: revoked by the first authentic one
/// listing it, else good by the first authentic current one, else `None` (with why in `why`).
/// `name` names a CRL in reasons.
fn from_crls<'c>(
    crls: impl Iterator<Item = &'c Crl>,
    cert: &Cert,
    issuer: &Cert,
    now: i64,
    why: &mut Vec<String>,
    name: impl Fn(&Crl) -> String,
) -> Option<Status> {
    let mut good = None;
    for c in crls {
        if !c.names_issuer_of(cert) {
            if c.source.contains("://") {
                why.push(format!("{} is issued by {}, not {}", name(c), c.issuer, issuer.subject()));
            }
            continue;
        }
        if let Err(e) = c.authentic_for(issuer, now) {
            why.push(e);
            continue;
        }
        let current = c.current_at(now);
        let by = || format!("{} of {}", name(c), c.issuer);
        match c.entry_for(cert) {
            Some(e) if e.reason != Some(6) || current.is_ok() => return Some(Status::Revoked(by(), e.clone())),
            _ => {}
        }
        match current {
            Ok(()) => {
                good.get_or_insert_with(|| {
                    format!(
                        "{} (thisUpdate {}, nextUpdate {}) does not list it",
                        by(),
                        crl::day(c.this_update),
                        c.next_update.map(crl::day).unwrap_or_default()
                    )
                });
            }
            Err(e) => why.push(e),
        }
    }
    good.map(Status::Good)
}
