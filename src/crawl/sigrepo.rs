//! Signature repositories (cosign's `COSIGN_REPOSITORY`): the cosign `.sig`/`.att` tags and the
//! Notary/Sigstore referrers of an image looked up in another repository, possibly of another
//! registry, instead of beside the image (or as well, with `also_beside`). One repository for
//! every image, or a mapping of image-name prefixes (`HOST[/NAMESPACE]`) to repositories, the
//! longest matching prefix winning. A signature found there binds to the image only if its
//! payload names the image's digest, as beside the image; signature tags there that no scanned
//! image claimed are orphans of that repository (registry scans).

use crate::oci::Digest;
use std::collections::{BTreeMap, HashSet};

/// Where signatures of some images live.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    /// `HOST[:PORT]`.
    pub host: String,
    pub repo: String,
    /// `http://` given: plain HTTP; `https://`: TLS; neither: as the scanned registry.
    pub plain_http: Option<bool>,
}

impl Target {
    pub fn name(&self) -> String {
        format!("{}/{}", self.host, self.repo)
    }
}

#[derive(Debug, Clone, Default)]
pub struct SignatureRepositories {
    /// Prefix (`None`: every image) and target, as given.
    entries: Vec<(Option<String>, Target)>,
    /// Look beside the image as well.
    pub also_beside: bool,
}

/// `[http://|https://]HOST[:PORT]/REPO`.
fn parse_target(s: &str) -> Result<Target, String> {
    let (plain_http, rest) = match s {
        _ if s.starts_with("http://") => (Some(true), &s[7..]),
        _ if s.starts_with("https://") => (Some(false), &s[8..]),
        _ => (None, s),
    };
    let Some((host, repo)) = rest.split_once('/') else {
        return Err(format!("{s:?}: a signature repository is HOST[:PORT]/REPOSITORY"));
    };
    let repo = repo.trim_end_matches('/');
    let ok = |c: &str| {
        !c.is_empty()
            && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
            && c != "."
            && c != ".."
    };
    if host.is_empty() || !repo.split('/').all(ok) {
        return Err(format!("{s:?}: {repo:?} is not a repository name (lower-case components separated by /)"));
    }
    Ok(Target { host: host.to_string(), repo: repo.to_string(), plain_http })
}

impl SignatureRepositories {
    /// Add one `--signature-repository` value: `REPO` (every image) or `PREFIX=REPO`.
    pub fn add(&mut self, spec: &str) -> Result<(), String> {
        let (prefix, target) = match spec.split_once('=') {
            Some((p, t)) => {
                let p = p.trim_end_matches('/');
                let p = p.strip_prefix("http://").or_else(|| p.strip_prefix("https://")).unwrap_or(p);
                if p.is_empty() {
                    return Err(format!("{spec:?}: the prefix before = is empty"));
                }
                (Some(p.to_string()), parse_target(t)?)
            }
            None => (None, parse_target(spec)?),
        };
        if self.entries.iter().any(|(p, _)| *p == prefix) {
            return Err(format!(
                "{spec:?}: {} has a signature repository already",
                prefix.as_deref().unwrap_or("every image")
            ));
        }
        self.entries.push((prefix, target));
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The signature repository of the image `HOST/REPO`: the longest prefix matching whole
    /// components, else the one for every image.
    pub fn for_image(&self, name: &str) -> Option<&Target> {
        let matches = |p: &str| name == p || name.starts_with(&format!("{p}/"));
        self.entries
            .iter()
            .filter_map(|(p, t)| match p {
                Some(p) if matches(p) => Some((p.len() + 1, t)),
                Some(_) => None,
                None => Some((0, t)),
            })
            .max_by_key(|(len, _)| *len)
            .map(|(_, t)| t)
    }

    pub fn targets(&self) -> impl Iterator<Item = &Target> {
        self.entries.iter().map(|(_, t)| t)
    }

    /// The signature repositories that images of the registry `host` can map to (an entry for
    /// every image, or one whose prefix is in that registry): the ones whose orphans a scan of
    /// that registry can tell.
    pub fn targets_of_registry<'a>(&'a self, host: &'a str) -> impl Iterator<Item = &'a Target> + 'a {
        self.entries
            .iter()
            .filter(move |(p, _)| p.as_deref().is_none_or(|p| p == host || p.starts_with(&format!("{host}/"))))
            .map(|(_, t)| t)
    }
}

/// The digests each signature repository was asked about, to tell its orphans.
#[derive(Debug, Default)]
pub struct Claims(pub BTreeMap<Target, HashSet<Digest>>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let mut s = SignatureRepositories::default();
        s.add("reg.example/sigs/all").unwrap();
        s.add("reg.example/upstream=http://sigs.example:5000/upstream-sigs").unwrap();
        s.add("reg.example/upstream/special=reg.example/special-sigs").unwrap();
        assert_eq!(s.for_image("reg.example/upstream/app").unwrap().name(), "sigs.example:5000/upstream-sigs");
        assert_eq!(s.for_image("reg.example/upstream/app").unwrap().plain_http, Some(true));
        assert_eq!(s.for_image("reg.example/upstream/special").unwrap().repo, "special-sigs");
        assert_eq!(s.for_image("reg.example/upstreamer").unwrap().repo, "sigs/all");
        assert!(s.add("reg.example/x=nohost").is_err());
        assert!(s.add("reg.example/upstream=reg.example/again").is_err());
        assert!(s.add("reg.example/Bad").is_err());
        s.add("docker.io/library=reg.example/mirror-sigs").unwrap();
        let of = |host: &str| -> Vec<String> { s.targets_of_registry(host).map(Target::name).collect() };
        assert_eq!(of("reg.example").len(), 3, "{:?}", of("reg.example"));
        assert_eq!(of("docker.io"), ["reg.example/sigs/all", "reg.example/mirror-sigs"]);
        assert_eq!(of("reg.example:5000"), ["reg.example/sigs/all"]);
    }
}
