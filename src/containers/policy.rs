//! A containers `policy.json` (containers-policy.json(5)) read as trust material: the `signedBy`
//! requirements (GPG keyrings, with their `signedIdentity` rule) for simple-signing signatures and
//! the `sigstoreSigned` requirements' public keys for cosign signatures, each for the `docker`
//! transport scopes containers/image would apply them to: the most specific scope of
//! `transports.docker` that matches the image (`HOST/REPO@DIGEST`, `HOST/REPO`, its parent
//! namespaces, `HOST`, `*.domain`), else the transport's `""` entry, else `default`.
//!
//! Every requirement is kept in its scope's [`Requirements::list`], for the per-reference
//! evaluation of [`super::policy_eval`]. Not taken: other transports; `sigstoreSigned` with
//! `fulcio` or `pki` (keyless: never holds; give `--trusted-root` and `--certificate-identity`
//! instead) and its `rekorPublicKey*`. They are listed in [`ContainersPolicy::ignored`].

use super::reference::DockerRef;
use crate::signature::openpgp::{self, PgpCert};
use base64::Engine;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// How the name a simple-signing payload signs (`critical.identity.docker-reference`) must relate
/// to the image (containers-policy.json(5), `signedIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdentityRule {
    /// The default: the signed reference is the image's name with one of its tags, or (for an
    /// image reached by digest only) any reference of the same repository.
    MatchRepoDigestOrExact,
    /// The signed reference is exactly a reference the image is reached by (`name:tag`, `name@digest`).
    MatchExact,
    /// The signed reference names the same repository, whatever its tag.
    MatchRepository,
    /// The signed reference is exactly this one.
    ExactReference(String),
    /// The signed reference names this repository.
    ExactRepository(String),
    /// The image's name with `prefix` replaced by `signed_prefix`, then `matchRepoDigestOrExact`.
    RemapIdentity { prefix: String, signed_prefix: String },
}

/// An image as the identity rules see it: its name and the tags it is reached by.
pub struct Intended<'a> {
    pub name: &'a str,
    pub tags: &'a [String],
    pub digest: &'a str,
}

impl IdentityRule {
    /// Whether `signed` (the payload's docker-reference, parsed) satisfies the rule for `image`.
    pub fn matches(&self, signed: &DockerRef, image: &Intended<'_>) -> bool {
        let repo_digest_or_exact = |name: &str| {
            // containers/image refuses a signed name without tag or digest here.
            if signed.name != name || (signed.tag.is_none() && signed.digest.is_none()) {
                return false;
            }
            if image.tags.is_empty() {
                return true;
            }
            signed.digest.is_none() && signed.tag.as_ref().is_some_and(|t| image.tags.contains(t))
        };
        match self {
            IdentityRule::MatchRepoDigestOrExact => repo_digest_or_exact(image.name),
            IdentityRule::MatchExact => {
                signed.name == image.name
                    && match (&signed.tag, &signed.digest) {
                        (Some(t), None) => image.tags.contains(t),
                        (None, Some(d)) => d == image.digest,
                        _ => false,
                    }
            }
            IdentityRule::MatchRepository => signed.name == image.name,
            IdentityRule::ExactReference(r) => DockerRef::parse(r).is_some_and(|r| r == *signed),
            IdentityRule::ExactRepository(r) => DockerRef::parse(r).is_some_and(|r| r.name == signed.name),
            IdentityRule::RemapIdentity { prefix, signed_prefix } => {
                let remapped = match image.name.strip_prefix(prefix.as_str()) {
                    Some(rest) if rest.is_empty() || rest.starts_with('/') || prefix.ends_with('/') => {
                        format!("{signed_prefix}{rest}")
                    }
                    _ => image.name.to_string(),
                };
                repo_digest_or_exact(&remapped)
            }
        }
    }

    pub fn name(&self) -> String {
        match self {
            IdentityRule::MatchRepoDigestOrExact => "matchRepoDigestOrExact".into(),
            IdentityRule::MatchExact => "matchExact".into(),
            IdentityRule::MatchRepository => "matchRepository".into(),
            IdentityRule::ExactReference(r) => format!("exactReference {r}"),
            IdentityRule::ExactRepository(r) => format!("exactRepository {r}"),
            IdentityRule::RemapIdentity { prefix, signed_prefix } => {
                format!("remapIdentity {prefix} -> {signed_prefix}")
            }
        }
    }
}

/// One `signedBy` requirement: the keys it accepts and the identity rule.
#[derive(Debug, Clone)]
pub struct SignedBy {
    pub keys: Vec<Arc<PgpCert>>,
    pub identity: IdentityRule,
}

/// One public key of a `sigstoreSigned` requirement (DER SubjectPublicKeyInfo).
#[derive(Debug, Clone)]
pub struct SigstoreKey {
    pub der: Vec<u8>,
    pub source: String,
}

/// One requirement of a scope, as containers/image evaluates it.
#[derive(Debug, Clone)]
pub enum Requirement {
    /// `insecureAcceptAnything`: always holds.
    Accept,
    /// `reject`: never holds.
    Reject,
    /// `signedBy`: some simple-signing signature by one of its keys, for this reference.
    SignedBy(SignedBy),
    /// `sigstoreSigned`: some cosign signature by one of `keys`, naming this reference as
    /// `identity` requires. No keys: `fulcio` or `pki` (keyless), which is not evaluated here and
    /// so never holds.
    Sigstore { keys: Vec<SigstoreKey>, identity: IdentityRule },
}

/// The requirements of one scope (all must hold in containers/image; an empty list refuses).
#[derive(Debug, Clone, Default)]
pub struct Requirements {
    pub signed_by: Vec<SignedBy>,
    pub sigstore_keys: Vec<SigstoreKey>,
    /// Every requirement, in the policy's order.
    pub list: Vec<Requirement>,
}

#[derive(Debug, Clone, Default)]
pub struct ContainersPolicy {
    pub source: String,
    default: Requirements,
    docker_default: Option<Requirements>,
    docker: BTreeMap<String, Requirements>,
    /// Requirements present and not taken, one line each (logged, and for the README's table).
    pub ignored: Vec<String>,
}

impl ContainersPolicy {
    pub fn load(path: &Path) -> Result<ContainersPolicy, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse(&bytes, &path.display().to_string())
    }

    pub fn parse(bytes: &[u8], source: &str) -> Result<ContainersPolicy, String> {
        let v: Value = serde_json::from_slice(bytes).map_err(|e| format!("{source}: not JSON: {e}"))?;
        let mut p = ContainersPolicy { source: source.to_string(), ..Default::default() };
        let default = v.get("default").ok_or_else(|| format!("{source}: no \"default\" requirement list"))?;
        p.default = p.requirements(default, "default")?;
        if let Some(t) = v.get("transports") {
            let t = t.as_object().ok_or_else(|| format!("{source}: transports is not an object"))?;
            for (transport, scopes) in t {
                if transport != "docker" {
                    p.ignored.push(format!("transport {transport:?}: only the docker transport is read"));
                    continue;
                }
                let scopes =
                    scopes.as_object().ok_or_else(|| format!("{source}: transports.docker is not an object"))?;
                for (scope, list) in scopes {
                    let r = p.requirements(list, &format!("docker scope {scope:?}"))?;
                    if scope.is_empty() {
                        p.docker_default = Some(r);
                    } else {
                        p.docker.insert(scope.clone(), r);
                    }
                }
            }
        }
        for i in &p.ignored {
            tracing::warn!("--containers-policy {source}: {i}");
        }
        Ok(p)
    }

    fn requirements(&mut self, list: &Value, at: &str) -> Result<Requirements, String> {
        let source = self.source.clone();
        let list = list.as_array().ok_or_else(|| format!("{source}: {at} is not a list of requirements"))?;
        let mut out = Requirements::default();
        for r in list {
            let ty = r.get("type").and_then(Value::as_str).unwrap_or("");
            match ty {
                "signedBy" => {
                    let sb = signed_by(r).map_err(|e| format!("{source}: {at}: signedBy: {e}"))?;
                    out.signed_by.push(sb.clone());
                    out.list.push(Requirement::SignedBy(sb));
                }
                "sigstoreSigned" => {
                    let keys = sigstore_keys(r).map_err(|e| format!("{source}: {at}: sigstoreSigned: {e}"))?;
                    if keys.is_empty() {
                        self.ignored.push(format!(
                            "{at}: sigstoreSigned without keyPath/keyPaths/keyData (fulcio, pki) not taken: it never holds"
                        ));
                    }
                    let identity = identity_rule(r.get("signedIdentity"))
                        .map_err(|e| format!("{source}: {at}: sigstoreSigned: {e}"))?;
                    out.sigstore_keys.extend(keys.clone());
                    out.list.push(Requirement::Sigstore { keys, identity });
                }
                "reject" => out.list.push(Requirement::Reject),
                "insecureAcceptAnything" => out.list.push(Requirement::Accept),
                other => return Err(format!("{source}: {at}: unknown requirement type {other:?}")),
            }
        }
        Ok(out)
    }

    /// The requirements for `image` and the scope they come from (containers/image's order).
    pub fn for_image(&self, image: &DockerRef) -> (&Requirements, String) {
        for scope in image.scopes() {
            if let Some(r) = self.docker.get(&scope) {
                return (r, format!("docker {scope:?}"));
            }
        }
        if let Some(r) = &self.docker_default {
            return (r, "docker \"\"".into());
        }
        (&self.default, "default".into())
    }

    /// Every scope with its label (as [`ContainersPolicy::for_image`] names it) and requirements.
    pub fn scopes(&self) -> Vec<(String, &Requirements)> {
        let mut out = vec![("default".to_string(), &self.default)];
        if let Some(r) = &self.docker_default {
            out.push(("docker \"\"".to_string(), r));
        }
        out.extend(self.docker.iter().map(|(s, r)| (format!("docker {s:?}"), r)));
        out
    }

    /// The scopes deciding for any of `refs` (each reference's own, as [`ContainersPolicy::for_image`]
    /// picks it), each once, in the order of `refs`.
    pub fn applicable(&self, refs: &[DockerRef]) -> Vec<(&Requirements, String)> {
        let mut out: Vec<(&Requirements, String)> = Vec::new();
        for r in refs {
            let (req, label) = self.for_image(r);
            if !out.iter().any(|(_, l)| *l == label) {
                out.push((req, label));
            }
        }
        out
    }

    /// Every requirement of every scope.
    pub fn all(&self) -> impl Iterator<Item = &Requirements> {
        std::iter::once(&self.default).chain(self.docker_default.iter()).chain(self.docker.values())
    }
}

fn signed_by(r: &Value) -> Result<SignedBy, String> {
    match r.get("keyType").and_then(Value::as_str) {
        Some("GPGKeys") => {}
        other => return Err(format!("keyType {other:?} is not supported (only GPGKeys, as containers/image)")),
    }
    let path = r.get("keyPath").and_then(Value::as_str);
    let paths = r.get("keyPaths").and_then(Value::as_array);
    let data = r.get("keyData").and_then(Value::as_str);
    if [path.is_some(), paths.is_some(), data.is_some()].iter().filter(|x| **x).count() != 1 {
        return Err("exactly one of keyPath, keyPaths and keyData is required".into());
    }
    let mut keys = Vec::new();
    let mut load = |p: &str| -> Result<(), String> {
        let bytes = std::fs::read(p).map_err(|e| format!("keyPath {p}: {e}"))?;
        keys.extend(openpgp::parse_keyring(&bytes, p)?.into_iter().map(Arc::new));
        Ok(())
    };
    if let Some(p) = path {
        load(p)?;
    }
    for p in paths.into_iter().flatten() {
        load(p.as_str().ok_or("keyPaths holds a value that is not a path")?)?;
    }
    if let Some(d) = data {
        let bytes = base64::engine::general_purpose::STANDARD.decode(d).map_err(|e| format!("keyData: {e}"))?;
        keys.extend(openpgp::parse_keyring(&bytes, "keyData")?.into_iter().map(Arc::new));
    }
    if keys.is_empty() {
        return Err("no public key".into());
    }
    let identity = identity_rule(r.get("signedIdentity"))?;
    Ok(SignedBy { keys, identity })
}

fn identity_rule(v: Option<&Value>) -> Result<IdentityRule, String> {
    let Some(v) = v else { return Ok(IdentityRule::MatchRepoDigestOrExact) };
    let field = |k: &str| {
        v.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| format!("signedIdentity needs {k}"))
    };
    Ok(match v.get("type").and_then(Value::as_str) {
        Some("matchRepoDigestOrExact") => IdentityRule::MatchRepoDigestOrExact,
        Some("matchExact") => IdentityRule::MatchExact,
        Some("matchRepository") => IdentityRule::MatchRepository,
        Some("exactReference") => {
            let r = field("dockerReference")?;
            match DockerRef::parse(&r) {
                Some(p) if p.tag.is_some() || p.digest.is_some() => IdentityRule::ExactReference(r),
                _ => return Err(format!("exactReference {r:?} is not a reference with a tag or digest")),
            }
        }
        Some("exactRepository") => {
            let r = field("dockerRepository")?;
            match DockerRef::parse(&r) {
                Some(p) if p.tag.is_none() && p.digest.is_none() => IdentityRule::ExactRepository(r),
                _ => return Err(format!("exactRepository {r:?} is not a repository name")),
            }
        }
        Some("remapIdentity") => {
            IdentityRule::RemapIdentity { prefix: field("prefix")?, signed_prefix: field("signedPrefix")? }
        }
        other => return Err(format!("unknown signedIdentity type {other:?}")),
    })
}

fn sigstore_keys(r: &Value) -> Result<Vec<SigstoreKey>, String> {
    let mut out = Vec::new();
    let mut pem = |bytes: &[u8], source: &str| -> Result<(), String> {
        let (_, p) = x509_parser::pem::parse_x509_pem(bytes).map_err(|e| format!("{source}: PEM: {e}"))?;
        if p.label != "PUBLIC KEY" {
            return Err(format!("{source}: expected a PUBLIC KEY PEM block, found {}", p.label));
        }
        let der = crate::crypto::canonical_spki(&p.contents).unwrap_or(p.contents);
        out.push(SigstoreKey { der, source: source.to_string() });
        Ok(())
    };
    if let Some(p) = r.get("keyPath").and_then(Value::as_str) {
        pem(&std::fs::read(p).map_err(|e| format!("keyPath {p}: {e}"))?, p)?;
    }
    for p in r.get("keyPaths").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        pem(&std::fs::read(p).map_err(|e| format!("keyPaths {p}: {e}"))?, p)?;
    }
    if let Some(d) = r.get("keyData").and_then(Value::as_str) {
        let bytes = base64::engine::general_purpose::STANDARD.decode(d).map_err(|e| format!("keyData: {e}"))?;
        pem(&bytes, "keyData")?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> DockerRef {
        DockerRef::parse(s).unwrap()
    }

    #[test]
    fn identity_rules() {
        let tags = vec!["v1".to_string()];
        let d = format!("sha256:{}", "a".repeat(64));
        let img = Intended { name: "reg.example/app", tags: &tags, digest: &d };
        let none: Vec<String> = Vec::new();
        let by_digest = Intended { name: "reg.example/app", tags: &none, digest: &d };
        let rule = IdentityRule::MatchRepoDigestOrExact;
        assert!(rule.matches(&r("reg.example/app:v1"), &img));
        assert!(!rule.matches(&r("reg.example/app:v2"), &img));
        assert!(!rule.matches(&r("reg.example/other:v1"), &img));
        assert!(rule.matches(&r("reg.example/app:v2"), &by_digest));
        assert!(IdentityRule::MatchRepository.matches(&r("reg.example/app:v2"), &img));
        assert!(IdentityRule::MatchExact.matches(&r(&format!("reg.example/app@{d}")), &img));
        assert!(!IdentityRule::MatchExact.matches(&r("reg.example/app"), &img));
        assert!(IdentityRule::ExactRepository("reg.example/signed".into()).matches(&r("reg.example/signed:x"), &img));
        let remap =
            IdentityRule::RemapIdentity { prefix: "reg.example".into(), signed_prefix: "upstream.example".into() };
        assert!(remap.matches(&r("upstream.example/app:v1"), &img));
        assert!(!remap.matches(&r("reg.example/app:v1"), &img));
    }

    #[test]
    fn most_specific_scope_wins() {
        let json = br#"{"default":[{"type":"reject"}],"transports":{"docker":{
            "reg.example/team":[{"type":"sigstoreSigned","keyData":"LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFaEExMDJwZVJxZXlXMU5OcGtLRisvRDVKNVJxVAp2WUxOMUFFWG1UYmhRc2RnTExOaE0vS2o2Z2dFaUtZK0xjVnJHalQ2a0NRdk5oZFRDT1lUSUZjZDV3PT0KLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg=="}],
            "reg.example":[{"type":"insecureAcceptAnything"}]},
            "docker-daemon":{"":[{"type":"insecureAcceptAnything"}]}}}"#;
        let p = ContainersPolicy::parse(json, "policy.json").unwrap();
        let (req, scope) = p.for_image(&r("reg.example/team/app"));
        assert_eq!((req.sigstore_keys.len(), scope.as_str()), (1, "docker \"reg.example/team\""));
        let (req, scope) = p.for_image(&r("reg.example/other"));
        assert_eq!((req.sigstore_keys.len(), scope.as_str()), (0, "docker \"reg.example\""));
        assert_eq!(p.for_image(&r("quay.io/x")).1, "default");
        assert_eq!(p.ignored.len(), 1, "{:?}", p.ignored);
        assert!(ContainersPolicy::parse(
            br#"{"default":[{"type":"signedBy","keyType":"X509Certificates","keyPath":"/x"}]}"#,
            "p"
        )
        .is_err());
    }
}
