//! A containers `policy.json` evaluated for an image as containers/image's
//! `PolicyContext.IsRunningImageAllowed` does it, once per reference the image is reached by:
//! each tag (`HOST/REPO:TAG`), or its digest when no tag names it (`HOST/REPO@DIGEST`). The
//! reference picks its scope ([`ContainersPolicy::for_image`]: its own identity, then its
//! namespaces, the transport's `""`, `default`); all of the scope's requirements must hold, and an
//! empty list holds nothing:
//!
//! - `insecureAcceptAnything` holds, `reject` never;
//! - `signedBy` holds when a simple-signing signature of the image verified (signature, payload
//!   digest) with one of its keys, and names a reference its `signedIdentity` accepts for this
//!   reference only (a signature for `:v1` does not hold for `:v2`);
//! - `sigstoreSigned` holds when a cosign signature of the image verified with one of its keys
//!   (not a certificate) and its payload's `docker-reference` is accepted by its
//!   `signedIdentity`; keyless (`fulcio`, `pki`) requirements are not evaluated and never hold.
//!
//! The evidence is the signatures as judged already ([`Evidence::of`]): only `verified` ones
//! count, and the identity rule is applied again here for each reference.

use super::policy::{ContainersPolicy, IdentityRule, Intended, Requirement};
use super::reference::DockerRef;
use crate::report::{
    ContainersPolicyReport, ReferencePolicy, SignatureFormat, SignatureKind, SignatureReport, Verdict,
};

/// What verified signatures prove, for the policy's requirements.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Simple signing: the OpenPGP primary key fingerprint and the signed docker-reference.
    pub gpg: Vec<(String, DockerRef)>,
    /// Cosign, key-verified: the SHA-256 of the key's SubjectPublicKeyInfo and the payload's
    /// docker-reference.
    pub cosign: Vec<(String, Option<DockerRef>)>,
}

impl Evidence {
    /// The verified signatures among `signatures` (the image's own digest's).
    pub fn of(signatures: &[SignatureReport]) -> Evidence {
        let mut e = Evidence::default();
        for s in signatures {
            if s.verification.status != Verdict::Verified || s.kind != SignatureKind::Signature {
                continue;
            }
            let Some(signer) = &s.signer else { continue };
            let Some(key) = &signer.key_id else { continue };
            let reference = s.docker_reference.as_deref().and_then(DockerRef::parse);
            match s.format {
                SignatureFormat::SimpleSigning => {
                    if let Some(r) = reference {
                        e.gpg.push((key.clone(), r));
                    }
                }
                // A certificate's signature names no trusted key, even when a key id is shown.
                SignatureFormat::Cosign if signer.sha256.is_none() && s.chain.is_empty() => {
                    e.cosign.push((key.to_ascii_lowercase(), reference));
                }
                _ => {}
            }
        }
        e
    }
}

/// The references containers/image would judge `name` by: each tag, else the digest. None when
/// `name` is not a name containers/image accepts.
pub fn references(name: &str, tags: &[String], digest: &str) -> Vec<DockerRef> {
    let Some(parsed) = DockerRef::parse(name).filter(|r| r.tag.is_none() && r.digest.is_none()) else {
        return Vec::new();
    };
    let name = parsed.name.as_str();
    if tags.is_empty() {
        return vec![DockerRef { name: name.to_string(), tag: None, digest: Some(digest.to_string()) }];
    }
    tags.iter().map(|t| DockerRef { name: name.to_string(), tag: Some(t.clone()), digest: None }).collect()
}

/// The policy's verdict for each reference of the image `name` (`HOST/REPO`) reached by `tags`.
pub fn evaluate(
    policy: &ContainersPolicy,
    name: &str,
    tags: &[String],
    digest: &str,
    evidence: &Evidence,
) -> ContainersPolicyReport {
    let mut references = Vec::new();
    let refs = self::references(name, tags, digest);
    if refs.is_empty() {
        references.push(ReferencePolicy {
            reference: name.to_string(),
            scope: String::new(),
            satisfied: false,
            unmet: vec!["not a docker reference containers/image accepts".into()],
        });
    }
    for r in refs {
        let name = r.name.as_str();
        let (reqs, scope) = policy.for_image(&r);
        let one = [r.tag.clone().unwrap_or_default()];
        // The image as this one reference names it: its tag alone, or its digest alone.
        let intended = match &r.tag {
            Some(_) => Intended { name, tags: &one, digest: "" },
            None => Intended { name, tags: &[], digest },
        };
        let mut unmet = Vec::new();
        if reqs.list.is_empty() {
            unmet.push("the scope lists no requirement (containers/image refuses)".to_string());
        }
        for (i, req) in reqs.list.iter().enumerate() {
            if let Some(why) = unmet_reason(req, &intended, evidence) {
                unmet.push(format!("requirement {} ({why})", i + 1));
            }
        }
        references.push(ReferencePolicy { reference: r.string(), scope, satisfied: unmet.is_empty(), unmet });
    }
    let unsatisfied = references.iter().filter(|r| !r.satisfied).map(|r| r.reference.clone()).collect();
    ContainersPolicyReport { source: policy.source.clone(), unsatisfied, references }
}

/// Why `req` does not hold for the image as `intended` names it; `None` when it holds.
fn unmet_reason(req: &Requirement, intended: &Intended<'_>, evidence: &Evidence) -> Option<String> {
    match req {
        Requirement::Accept => None,
        Requirement::Reject => Some("reject".into()),
        Requirement::SignedBy(sb) => {
            let held = evidence.gpg.iter().any(|(fpr, signed)| {
                sb.keys.iter().any(|k| k.fingerprint.eq_ignore_ascii_case(fpr)) && sb.identity.matches(signed, intended)
            });
            (!held).then(|| {
                format!(
                    "signedBy: no verified simple-signing signature by its keys names this reference as {} requires",
                    sb.identity.name()
                )
            })
        }
        Requirement::Sigstore { keys, .. } if keys.is_empty() => {
            Some("sigstoreSigned with fulcio or pki: keyless requirements are not evaluated".into())
        }
        Requirement::Sigstore { keys, identity } => {
            let ids: Vec<String> = keys.iter().map(|k| crate::crypto::sha256_hex(&k.der)).collect();
            let held = evidence
                .cosign
                .iter()
                .any(|(id, signed)| ids.contains(id) && signed.as_ref().is_some_and(|s| identity.matches(s, intended)));
            (!held).then(|| {
                format!(
                    "sigstoreSigned: no verified cosign signature by its keys names this reference as {} requires",
                    identity.name()
                )
            })
        }
    }
}

/// The rule a signature is judged by for the image: [`IdentityRule::matches`] for any of its
/// references.
pub fn matches_any(rule: &IdentityRule, signed: &DockerRef, name: &str, tags: &[String], digest: &str) -> bool {
    references(name, tags, digest).iter().any(|r| {
        let name = r.name.as_str();
        let one = [r.tag.clone().unwrap_or_default()];
        let intended = match &r.tag {
            Some(_) => Intended { name, tags: &one, digest: "" },
            None => Intended { name, tags: &[], digest },
        };
        rule.matches(signed, &intended)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFaEExMDJwZVJxZXlXMU5OcGtLRisvRDVKNVJxVAp2WUxOMUFFWG1UYmhRc2RnTExOaE0vS2o2Z2dFaUtZK0xjVnJHalQ2a0NRdk5oZFRDT1lUSUZjZDV3PT0KLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg==";

    fn policy(docker: &str) -> ContainersPolicy {
        let json = format!(r#"{{"default":[{{"type":"reject"}}],"transports":{{"docker":{docker}}}}}"#);
        ContainersPolicy::parse(json.as_bytes(), "policy.json").unwrap()
    }

    fn key_id(p: &ContainersPolicy) -> String {
        let (req, _) = p.for_image(&DockerRef::parse("reg.example/app").unwrap());
        crate::crypto::sha256_hex(&req.sigstore_keys[0].der)
    }

    #[test]
    fn each_tag_is_judged_by_its_own_scope_and_all_requirements() {
        let d = format!("sha256:{}", "a".repeat(64));
        let tags = vec!["v1".to_string(), "v2".to_string()];
        let sigstore = |identity: &str| {
            format!(r#"{{"type":"sigstoreSigned","keyData":"{KEY}","signedIdentity":{{"type":"{identity}"}}}}"#)
        };
        let p = policy(&format!(
            r#"{{"reg.example/app":[{}],"reg.example/app:v2":[{{"type":"insecureAcceptAnything"}}]}}"#,
            sigstore("matchRepoDigestOrExact")
        ));
        let signed_v1 = Evidence { gpg: vec![], cosign: vec![(key_id(&p), DockerRef::parse("reg.example/app:v1"))] };
        let r = evaluate(&p, "reg.example/app", &tags, &d, &signed_v1);
        assert!(r.unsatisfied.is_empty(), "{r:?}");
        assert_eq!(r.references[1].scope, "docker \"reg.example/app:v2\"");
        // Nothing for v1: v1 refused, v2 still accepted by its own scope.
        let r = evaluate(&p, "reg.example/app", &tags, &d, &Evidence::default());
        assert_eq!(r.unsatisfied, ["reg.example/app:v1"]);
        // A cosign payload naming the repository only: matchRepoDigestOrExact refuses it, as
        // containers/image does; matchRepository accepts it.
        let name_only = Evidence { gpg: vec![], cosign: vec![(key_id(&p), DockerRef::parse("reg.example/app"))] };
        assert_eq!(evaluate(&p, "reg.example/app", &tags, &d, &name_only).unsatisfied, ["reg.example/app:v1"]);
        let p2 = policy(&format!(r#"{{"reg.example":[{}]}}"#, sigstore("matchRepository")));
        assert!(evaluate(&p2, "reg.example/app", &tags, &d, &name_only).unsatisfied.is_empty());
        // An untagged image is judged by its digest; a digest scope wins over the repository's.
        let p3 =
            policy(&format!(r#"{{"reg.example/app":[{{"type":"insecureAcceptAnything"}}],"reg.example/app@{d}":[]}}"#));
        let r = evaluate(&p3, "reg.example/app", &[], &d, &Evidence::default());
        assert_eq!(r.unsatisfied, [format!("reg.example/app@{d}")]);
        assert!(r.references[0].unmet[0].contains("no requirement"), "{r:?}");
        // All of: accept plus reject is refused.
        let p4 = policy(r#"{"reg.example":[{"type":"insecureAcceptAnything"},{"type":"reject"}]}"#);
        assert_eq!(evaluate(&p4, "reg.example/app", &tags, &d, &Evidence::default()).unsatisfied.len(), 2);
        // A key of another requirement does not count.
        let other = Evidence { gpg: vec![], cosign: vec![("00".repeat(32), DockerRef::parse("reg.example/app:v1"))] };
        assert_eq!(evaluate(&p, "reg.example/app", &tags, &d, &other).unsatisfied, ["reg.example/app:v1"]);
    }
}
