//! containers/image simple signing ("atomic" GPG signatures, as `skopeo copy --sign-by` and
//! `podman push --sign-by` write them): an OpenPGP signed message whose literal data is the
//! simple-signing payload. Judged as containers/image's `signedBy` would: the signature must
//! verify with a key the user trusts (`--gpg-keyring`, or a `signedBy` requirement of
//! `--containers-policy` for the image's scope); the payload is read as strictly as
//! containers/image reads it (exact member names, no unknown or repeated members in `critical`,
//! `critical.type` = `atomic container signature`); `critical.image.docker-manifest-digest` must
//! be this image's digest; `critical.identity.docker-reference` must satisfy the identity rule
//! (`matchRepoDigestOrExact` unless the policy names another).

use super::{Checked, Subject};
use crate::containers::policy::{ContainersPolicy, IdentityRule, Intended};
use crate::containers::policy_eval;
use crate::containers::reference::DockerRef;
use crate::report::{Envelope, Reason, ReasonCode as C, SignatureKind, Signer, Verdict};
use crate::signature::openpgp::{self, KeyOutcome, PgpCert, Problem};
use serde_json::Value;
use std::sync::Arc;

pub const ATOMIC_TYPE: &str = "atomic container signature";

/// Trust material for simple signing: keyrings given on the command line (for every image, with
/// `matchRepoDigestOrExact`) and a containers policy (per scope).
#[derive(Debug, Default)]
pub struct GpgTrust {
    pub keyring: Vec<Arc<PgpCert>>,
    pub policy: Option<ContainersPolicy>,
}

impl GpgTrust {
    pub fn is_empty(&self) -> bool {
        self.keyring.is_empty() && self.policy.as_ref().is_none_or(|p| p.all().all(|r| r.signed_by.is_empty()))
    }
}

/// Why a candidate key is trusted for this image.
enum Origin {
    Keyring,
    Policy {
        scope: String,
        rule: IdentityRule,
    },
    /// Trusted by the policy for another scope only.
    OtherScope,
}

/// The image a signature is judged for: its name (`HOST/REPO`) and its tags; and the time
/// (Unix seconds: the scan's, `--at`) at which keys and signatures must be valid.
pub struct Image<'a> {
    pub name: &'a str,
    pub tags: &'a [String],
    pub at: i64,
}

/// One simple-signing signature (`bytes`: the OpenPGP message as stored) of `subject`.
pub fn check(bytes: &[u8], image: &Image<'_>, subject: &Subject, trust: Option<&GpgTrust>) -> Checked {
    let mut out = Checked::new(Envelope::Openpgp, SignatureKind::Signature);
    let mut candidates: Vec<(Arc<PgpCert>, Origin)> = Vec::new();
    if let Some(t) = trust {
        // The policy's keys for the scopes of the image's references (each tag's, or the
        // digest's) come first: a key both there and in --gpg-keyring is judged by the policy's
        // (possibly stricter) signedIdentity.
        if let Some(p) = &t.policy {
            let refs = policy_eval::references(image.name, image.tags, subject.digest.as_str());
            let applicable = p.applicable(&refs);
            for (req, scope) in &applicable {
                for sb in &req.signed_by {
                    let o = || Origin::Policy { scope: scope.clone(), rule: sb.identity.clone() };
                    candidates.extend(sb.keys.iter().map(|c| (c.clone(), o())));
                }
            }
            candidates.extend(t.keyring.iter().map(|c| (c.clone(), Origin::Keyring)));
            for req in p.all() {
                if applicable.iter().any(|(r, _)| std::ptr::eq(*r, req)) {
                    continue;
                }
                for sb in &req.signed_by {
                    candidates.extend(sb.keys.iter().map(|c| (c.clone(), Origin::OtherScope)));
                }
            }
        } else {
            candidates.extend(t.keyring.iter().map(|c| (c.clone(), Origin::Keyring)));
        }
    }
    let certs: Vec<&PgpCert> = candidates.iter().map(|(c, _)| c.as_ref()).collect();
    let opened = match openpgp::open(bytes, &certs, image.at) {
        Ok(o) => o,
        Err(e) => return out.invalid(C::MalformedSignature, format!("OpenPGP signature: {e}")),
    };
    out.signed_at = opened.created.and_then(crate::x509::rfc3339);
    let issuer = opened.issuer.clone().unwrap_or_else(|| "(no issuer named)".into());
    let payload = read_payload(&opened.payload);
    if let Ok(p) = &payload {
        out.docker_reference = Some(p.docker_reference.clone());
    }
    let (cert, subkey) = match opened.outcome {
        KeyOutcome::NoKey if candidates.is_empty() => {
            out.signer = Some(Signer { key_id: opened.issuer.clone(), ..Signer::default() });
            let why = format!(
                "simple-signing signature by OpenPGP key {issuer} and no --gpg-keyring or --containers-policy signedBy key given: the signature was not checked"
            );
            return out.decided(Verdict::Unverified, Reason::new(C::GpgNoKeyring, why));
        }
        KeyOutcome::NoKey => {
            out.signer = Some(Signer { key_id: opened.issuer.clone(), ..Signer::default() });
            let why = format!("signed by OpenPGP key {issuer}, which no keyring given holds");
            return out.invalid(C::GpgKeyUnknown, why);
        }
        KeyOutcome::Bad { cert, error } => {
            out.signer = Some(signer(&candidates[cert].0));
            let why =
                format!("the signature does not verify with OpenPGP key {}: {error}", candidates[cert].0.fingerprint);
            return out.invalid(C::BadSignature, why);
        }
        KeyOutcome::Subkey { cert, subkey } => {
            out.signer = Some(signer(&candidates[cert].0));
            let why = format!(
                "the signature verifies with subkey {subkey} of OpenPGP key {}; containers/image (skopeo) accepts only signatures by a trusted primary key, so it refuses this one",
                candidates[cert].0.fingerprint
            );
            return out.decided(Verdict::Untrusted, Reason::new(C::GpgSubkeyNotAccepted, why));
        }
        KeyOutcome::NotValid { cert, problem } => {
            out.signer = Some(signer(&candidates[cert].0));
            let code = match problem {
                Problem::KeyRevoked => C::GpgKeyRevoked,
                Problem::KeyExpired | Problem::SignatureBeforeKey => C::GpgKeyExpired,
                Problem::SignatureExpired => C::GpgSignatureExpired,
                Problem::KeyNotForSigning | Problem::KeyFromFuture => C::GpgKeyUnusable,
                Problem::WeakHash | Problem::UnknownCritical => C::GpgSignatureRefused,
            };
            let why = format!("signature by OpenPGP key {}: {}", candidates[cert].0.fingerprint, problem.describe());
            return out.invalid(code, why);
        }
        KeyOutcome::Verified { cert, subkey } => (cert, subkey),
    };
    let (pgp, origin) = &candidates[cert];
    out.signer = Some(signer(pgp));
    out.algorithm = Some(pgp.algorithm.clone());
    let payload = match payload {
        Ok(p) => p,
        Err(e) => return out.invalid(C::PayloadMalformed, format!("payload is not one containers/image accepts: {e}")),
    };
    if payload.digest != subject.digest.as_str() {
        let why = format!(
            "payload signs {}, not this image ({}): signature replayed from another image",
            payload.digest, subject.digest
        );
        return out.invalid(C::PayloadDigestMismatch, why);
    }
    let by = match &subkey {
        Some(s) => format!("OpenPGP key {} (subkey {s})", pgp.fingerprint),
        None => format!("OpenPGP key {}", pgp.fingerprint),
    };
    let uid = pgp.user_id.as_deref().map(|u| format!(" \"{u}\"")).unwrap_or_default();
    let (rule, trusted_by) = match origin {
        Origin::Keyring => (IdentityRule::MatchRepoDigestOrExact, format!("--gpg-keyring {}", pgp.source)),
        Origin::Policy { scope, rule } => (rule.clone(), format!("--containers-policy signedBy of {scope}")),
        Origin::OtherScope => {
            let why = format!(
                "signed by {by}{uid}, which the containers policy trusts for other scopes only, not for {}",
                image.name
            );
            return out.decided(Verdict::Untrusted, Reason::new(C::GpgKeyOutOfScope, why));
        }
    };
    let Some(signed) = DockerRef::parse(&payload.docker_reference) else {
        let why = format!("docker-reference {:?} is not a docker reference", payload.docker_reference);
        return out.invalid(C::PayloadMalformed, why);
    };
    let intended = Intended { name: image.name, tags: image.tags, digest: subject.digest.as_str() };
    // A policy key: the rule must accept the signature for one of the image's references (each
    // judged alone); whether each reference's scope is satisfied is the image's policy verdict.
    let by_policy = matches!(origin, Origin::Policy { .. });
    let accepted = if by_policy {
        policy_eval::matches_any(&rule, &signed, image.name, image.tags, subject.digest.as_str())
    } else {
        rule.matches(&signed, &intended)
    };
    if !accepted {
        let why = format!(
            "the signature names {} and this image is {}{}: {} does not accept it (a signature made for another name)",
            signed.string(),
            image.name,
            if image.tags.is_empty() { String::new() } else { format!(":{}", image.tags.join(", :")) },
            rule.name()
        );
        return out.invalid(C::DockerReferenceMismatch, why);
    }
    // A signature for one tag does not cover the image's other tags: skopeo copying those refuses.
    // Under a policy, each tag is judged by its own scope in the image's policy verdict.
    let per_tag = !by_policy && !matches!(rule, IdentityRule::MatchRepository | IdentityRule::ExactRepository(_));
    if let (true, Some(t)) = (per_tag, &signed.tag) {
        let uncovered: Vec<&str> = image.tags.iter().filter(|x| *x != t).map(String::as_str).collect();
        if !uncovered.is_empty() {
            let why = format!(
                "the signature names {} and covers only that tag of {}; not covered: :{}",
                signed.string(),
                image.name,
                uncovered.join(", :")
            );
            return out.decided(Verdict::Untrusted, Reason::new(C::DockerReferenceTagsUncovered, why));
        }
    }
    let why = format!(
        "verified with {by}{uid} from {trusted_by}; docker-reference {} matches ({})",
        signed.string(),
        rule.name()
    );
    out.decided(Verdict::Verified, Reason::new(C::VerifiedGpgKey, why))
}

fn signer(c: &PgpCert) -> Signer {
    Signer {
        subject: c.user_id.clone(),
        key_id: Some(c.fingerprint.clone()),
        key_algorithm: Some(c.algorithm.clone()),
        ..Signer::default()
    }
}

/// The members of a simple-signing payload that decide.
#[derive(Debug)]
pub struct Payload {
    pub digest: String,
    pub docker_reference: String,
}

/// Read a payload as containers/image's `untrustedSignature.strictUnmarshalJSON` does: the top
/// level is exactly `critical` and `optional`; `critical` exactly `type`, `image`, `identity`;
/// `image` exactly `docker-manifest-digest`; `identity` exactly `docker-reference`; member names
/// compared exactly; a member twice is refused.
pub fn read_payload(bytes: &[u8]) -> Result<Payload, String> {
    let v = super::json::parse_unique(bytes)?;
    let exact = |v: &Value, what: &str, fields: &[&str]| -> Result<serde_json::Map<String, Value>, String> {
        let o = v.as_object().ok_or_else(|| format!("{what} is not an object"))?;
        for k in o.keys() {
            if !fields.contains(&k.as_str()) {
                return Err(format!("{what} has an unknown member {k:?}"));
            }
        }
        for f in fields {
            if !o.contains_key(*f) {
                return Err(format!("{what} has no {f:?}"));
            }
        }
        Ok(o.clone())
    };
    let top = exact(&v, "the payload", &["critical", "optional"])?;
    let optional = top["optional"].as_object().ok_or("optional is not an object")?;
    if optional.get("creator").is_some_and(|c| !c.is_string()) {
        return Err("optional.creator is not a string".into());
    }
    if optional.get("timestamp").is_some_and(|t| !t.is_number()) {
        return Err("optional.timestamp is not a number".into());
    }
    let critical = exact(&top["critical"], "critical", &["type", "image", "identity"])?;
    match critical["type"].as_str() {
        Some(ATOMIC_TYPE) => {}
        other => return Err(format!("critical.type is {other:?}, not {ATOMIC_TYPE:?}")),
    }
    let image = exact(&critical["image"], "critical.image", &["docker-manifest-digest"])?;
    let digest = image["docker-manifest-digest"].as_str().ok_or("docker-manifest-digest is not a string")?;
    if crate::oci::Digest::parse(digest).is_none() {
        return Err(format!("docker-manifest-digest {digest:?} is not a digest"));
    }
    let identity = exact(&critical["identity"], "critical.identity", &["docker-reference"])?;
    let reference = identity["docker-reference"].as_str().ok_or("docker-reference is not a string")?;
    Ok(Payload { digest: digest.to_string(), docker_reference: reference.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_read_strictly() {
        let d = format!("sha256:{}", "a".repeat(64));
        let good = format!(
            r#"{{"critical":{{"identity":{{"docker-reference":"reg.example/app:v1"}},"image":{{"docker-manifest-digest":"{d}"}},"type":"atomic container signature"}},"optional":{{"creator":"x","timestamp":1}}}}"#
        );
        let p = read_payload(good.as_bytes()).unwrap();
        assert_eq!((p.digest.as_str(), p.docker_reference.as_str()), (d.as_str(), "reg.example/app:v1"));
        for bad in [
            good.replace("atomic container signature", "cosign container image signature"),
            good.replace("\"image\"", "\"Image\""),
            good.replace(",\"optional\":{\"creator\":\"x\",\"timestamp\":1}", ""),
            good.replace("\"type\"", "\"extra\":1,\"type\""),
            good.replace("{\"critical\"", "{\"critical\":{},\"critical\""),
        ] {
            assert!(read_payload(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
