//! Image references as Kubernetes runtimes read them: the spec's `image` (normalised as
//! containerd and the kubelet do: `nginx` is `docker.io/library/nginx:latest`) and the status's
//! `imageID` in its several spellings.

use crate::oci::Digest;

/// An image reference normalised: registry host as reports name it, repository, and the tag
/// and digest it names (either, both or neither: then `latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// The registry as written, normalised (`docker.io` for Docker Hub).
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageName {
    /// Parse as the Docker reference grammar does (through oci-client, which `sigaudit image`
    /// uses too): a first component with a `.` or a `:`, or `localhost`, is a registry; else
    /// Docker Hub, with `library/` before a single component.
    pub fn parse(s: &str) -> Option<ImageName> {
        let s = s.trim();
        if s.is_empty() || s.contains(char::is_whitespace) {
            return None;
        }
        let r: oci_client::Reference = s.parse().ok()?;
        // The reference grammar allows no capital letter in a repository path.
        if r.repository().bytes().any(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let digest = r.digest().map(str::to_string);
        // oci-client names `latest` when neither is written; an image pinned by digest alone has
        // no tag.
        let tag = r.tag().map(str::to_string).or_else(|| digest.is_none().then(|| "latest".to_string()));
        Some(ImageName { registry: r.registry().to_string(), repository: r.repository().to_string(), tag, digest })
    }

    /// `REGISTRY/REPOSITORY[:TAG][@DIGEST]`, normalised.
    pub fn canonical(&self) -> String {
        let mut s = format!("{}/{}", self.registry, self.repository);
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(d);
        }
        s
    }

    /// The host to talk to for this registry (`docker.io` is served by `index.docker.io`).
    pub fn host(&self) -> String {
        let r: oci_client::Reference =
            format!("{}/{}", self.registry, self.repository).parse().expect("a parsed name parses again");
        r.resolve_registry().to_string()
    }
}

/// How a container status names the image that runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageId {
    /// A repository digest (`docker-pullable://REPO@sha256:…`, or `REPO@sha256:…` as containerd
    /// and CRI-O write it): the manifest the runtime pulled.
    RepoDigest { name: ImageName, digest: String },
    /// A digest alone (`sha256:…`, or `docker://sha256:…` under dockershim): the runtime knew
    /// no repository digest. The repository is the spec's; the digest may be the image's config
    /// digest (an image built or loaded on the node), which no registry serves as a manifest.
    BareDigest { digest: String },
}

/// Why an `imageID` names no digest we can audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageIdError {
    /// Empty: the container has not started (its image is being pulled, or cannot be).
    Empty,
    Unreadable(String),
}

impl ImageId {
    pub fn parse(s: &str) -> Result<ImageId, ImageIdError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ImageIdError::Empty);
        }
        let bad = || ImageIdError::Unreadable(format!("imageID {s:?} names no digest sigaudit can read"));
        let rest = s.strip_prefix("docker-pullable://").or_else(|| s.strip_prefix("docker://")).unwrap_or(s);
        if rest.contains("://") {
            return Err(bad());
        }
        if Digest::parse(rest).is_some() {
            return Ok(ImageId::BareDigest { digest: rest.to_string() });
        }
        let (_, digest) = rest.rsplit_once('@').ok_or_else(bad)?;
        if Digest::parse(digest).is_none() {
            return Err(bad());
        }
        let mut name = ImageName::parse(rest).ok_or_else(bad)?;
        name.tag = None;
        Ok(ImageId::RepoDigest { name, digest: digest.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn names_are_normalised_as_the_runtimes_do() {
        let n = ImageName::parse("nginx").unwrap();
        assert_eq!(n.canonical(), "docker.io/library/nginx:latest");
        assert_eq!(n.host(), "index.docker.io");
        assert_eq!(ImageName::parse("bitnami/redis:7").unwrap().canonical(), "docker.io/bitnami/redis:7");
        assert_eq!(ImageName::parse("localhost/app").unwrap().canonical(), "localhost/app:latest");
        let n = ImageName::parse("127.0.0.1:5000/apps/web:v1").unwrap();
        assert_eq!(
            (n.registry.as_str(), n.repository.as_str(), n.tag.as_deref()),
            ("127.0.0.1:5000", "apps/web", Some("v1"))
        );
        assert_eq!(n.host(), "127.0.0.1:5000");
        let pinned = ImageName::parse(&format!("quay.io/a/b@{D}")).unwrap();
        assert_eq!((pinned.tag, pinned.digest.as_deref()), (None, Some(D)));
        for bad in ["", "UPPER/case", "a b", "x@sha256:zz"] {
            assert!(ImageName::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn every_image_id_spelling() {
        let repo = |s: &str| match ImageId::parse(s).unwrap() {
            ImageId::RepoDigest { name, digest } => (name.canonical(), digest),
            other => panic!("{other:?}"),
        };
        assert_eq!(repo(&format!("docker-pullable://nginx@{D}")), (format!("docker.io/library/nginx@{D}"), D.into()));
        assert_eq!(repo(&format!("127.0.0.1:5000/apps/web@{D}")), (format!("127.0.0.1:5000/apps/web@{D}"), D.into()));
        assert_eq!(ImageId::parse(D).unwrap(), ImageId::BareDigest { digest: D.into() });
        assert_eq!(ImageId::parse(&format!("docker://{D}")).unwrap(), ImageId::BareDigest { digest: D.into() });
        assert_eq!(ImageId::parse(""), Err(ImageIdError::Empty));
        for bad in ["docker://nginx:1", "nginx:1", "containerd://x", "sha256:12"] {
            assert!(matches!(ImageId::parse(bad), Err(ImageIdError::Unreadable(_))), "{bad}");
        }
    }
}
