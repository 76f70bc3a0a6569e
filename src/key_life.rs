//! The life of a trusted public key: a name, a rotation window (`not-before` / `not-after`) and a
//! revocation (a date and a reason), from the config file's `[[keys]]` or `--revoked-key`.
//!
//! A signature a key verified is judged at its verified signing time (the earliest Rekor
//! integrated time or RFC 3161 timestamp time that verified), else at the evaluation time
//! (`--at`, else now):
//! - revoked for keyCompromise (whenever): `invalid` (`key-revoked`): whoever holds the key could
//!   have signed anything, at any time;
//! - revoked otherwise, with no date or at or before that time: `untrusted` (`key-revoked`);
//!   revoked after a verified signing time: the signature stands (`revoked-after-signing`);
//! - that time outside the window: `untrusted` (`key-outside-window`).

use crate::report::{Reason, ReasonCode as C, Verdict};
use crate::x509::rfc3339;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyLife {
    /// The name the config gives the key (e.g. `release-2025`), reported beside its id.
    pub name: Option<String>,
    pub not_before: Option<i64>,
    pub not_after: Option<i64>,
    pub revoked: Option<Revoked>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// Since when (Unix seconds); None: always.
    pub since: Option<i64>,
    /// An RFC 5280 reason name (`keyCompromise`, `superseded`, …) or free text.
    pub reason: String,
}

/// The RFC 5280 reason names a key revocation may give (CRLReason, without the certificate-only
/// certificateHold and removeFromCRL).
pub const REASONS: [&str; 7] = [
    "unspecified",
    "keyCompromise",
    "cACompromise",
    "affiliationChanged",
    "superseded",
    "cessationOfOperation",
    "privilegeWithdrawn",
];

impl Revoked {
    pub fn is_compromise(&self) -> bool {
        self.reason.eq_ignore_ascii_case("keyCompromise") || self.reason.eq_ignore_ascii_case("cACompromise")
    }

    /// A reason name as RFC 5280 spells it, or `None` for anything else (a typo must not turn a
    /// compromise into a routine revocation).
    pub fn reason_name(given: &str) -> Option<&'static str> {
        REASONS.iter().copied().find(|r| r.eq_ignore_ascii_case(given))
    }
}

fn day(t: i64) -> String {
    rfc3339(t).unwrap_or_else(|| t.to_string())
}

impl KeyLife {
    /// Judge a signature `key` (its label) verified, at `signed` (a verified signing time) or
    /// else `now`: `Err` is the verdict and reason that replace `verified`, `Ok` a note, if any.
    pub fn judge(&self, key: &str, signed: Option<i64>, now: i64) -> Result<Option<Reason>, (Verdict, Reason)> {
        let at = signed.unwrap_or(now);
        let when = match signed {
            Some(t) => format!("signed at {} (verified time)", day(t)),
            None => format!("no verified signing time, judged at {}", day(now)),
        };
        if let Some(r) = &self.revoked {
            let since = r.since.map(|s| format!(" on {}", day(s))).unwrap_or_default();
            let what = format!("key {key} was revoked{since} ({})", r.reason);
            if r.is_compromise() {
                let why = format!("{what}: a compromised key voids every signature it made");
                return Err((Verdict::Invalid, C::KeyRevoked.reason(why)));
            }
            match r.since {
                Some(s) if s > at => {
                    return Ok(Some(C::RevokedAfterSigning.reason(format!("{what}, after the signature ({when})"))))
                }
                _ => return Err((Verdict::Untrusted, C::KeyRevoked.reason(format!("{what}; {when}")))),
            }
        }
        if let Some(nb) = self.not_before.filter(|nb| at < *nb) {
            let why = format!("key {key} is trusted from {} on; {when}", day(nb));
            return Err((Verdict::Untrusted, C::KeyOutsideWindow.reason(why)));
        }
        if let Some(na) = self.not_after.filter(|na| at > *na) {
            let why = format!("key {key} was trusted until {}; {when}", day(na));
            return Err((Verdict::Untrusted, C::KeyOutsideWindow.reason(why)));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    #[test]
    fn windows_and_revocations_by_time() {
        let life = KeyLife { not_before: Some(10 * DAY), not_after: Some(20 * DAY), ..KeyLife::default() };
        assert!(life.judge("k", Some(15 * DAY), 30 * DAY).unwrap().is_none(), "signed inside, judged later");
        assert_eq!(life.judge("k", None, 30 * DAY).unwrap_err().1.code, C::KeyOutsideWindow);
        assert_eq!(life.judge("k", Some(5 * DAY), 15 * DAY).unwrap_err().1.code, C::KeyOutsideWindow);
        let sup = KeyLife { revoked: Some(Revoked { since: Some(12 * DAY), reason: "superseded".into() }), ..life };
        assert_eq!(sup.judge("k", Some(11 * DAY), 30 * DAY).unwrap().unwrap().code, C::RevokedAfterSigning);
        assert_eq!(sup.judge("k", Some(13 * DAY), 30 * DAY).unwrap_err().0, Verdict::Untrusted);
        assert_eq!(sup.judge("k", None, 13 * DAY).unwrap_err().0, Verdict::Untrusted, "unverified time: now");
        assert!(sup.judge("k", None, 11 * DAY).is_ok(), "--at before the revocation");
        let kc = KeyLife { revoked: Some(Revoked { since: Some(12 * DAY), reason: "keyCompromise".into() }), ..sup };
        assert_eq!(kc.judge("k", Some(11 * DAY), 30 * DAY).unwrap_err().0, Verdict::Invalid);
    }
}
