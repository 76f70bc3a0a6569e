//! Docker references as containers/image normalises and compares them
//! (`reference.ParseNormalizedNamed`): `busybox` is `docker.io/library/busybox`, the first path
//! component is a registry only when it has a `.` or a `:` or is `localhost`. And the scopes a
//! reference falls in, most specific first, as `policy.json` and `registries.d` look them up
//! (`PolicyConfigurationIdentity`, `PolicyConfigurationNamespaces`).

/// A parsed docker reference: `name` (`HOST/PATH`), and a tag and a digest when it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerRef {
    pub name: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl DockerRef {
    /// Parse and normalise a reference; `None` when it is not one containers/image accepts.
    pub fn parse(s: &str) -> Option<DockerRef> {
        if s.is_empty() || s.len() > 4096 || s.chars().any(char::is_whitespace) {
            return None;
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => {
                let (alg, hex) = d.split_once(':')?;
                if alg.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                (r, Some(d.to_string()))
            }
            None => (s, None),
        };
        // A tag is after the last `:` that follows the last `/` (a port comes before a `/`).
        let slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[slash..].rfind(':') {
            Some(i) => (&rest[..slash + i], Some(rest[slash + i + 1..].to_string())),
            None => (rest, None),
        };
        if let Some(t) = &tag {
            let ok = !t.is_empty()
                && t.len() <= 128
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
                && !t.starts_with(['.', '-']);
            if !ok {
                return None;
            }
        }
        let name = normalize_name(name)?;
        Some(DockerRef { name, tag, digest })
    }

    /// As containers/image prints it: `name[:tag][@digest]`.
    pub fn string(&self) -> String {
        let mut s = self.name.clone();
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

    /// The registry part of the name.
    pub fn host(&self) -> &str {
        self.name.split('/').next().unwrap_or("")
    }

    /// The name without its registry (what a lookaside URL is made of).
    pub fn path(&self) -> &str {
        self.name.split_once('/').map_or("", |(_, p)| p)
    }

    /// The scopes this reference falls in, most specific first: `name:tag` or `name@digest`
    /// (`PolicyConfigurationIdentity`), then `name`, its parent namespaces, the host, and
    /// `*.domain` wildcards of the host's parent domains (`PolicyConfigurationNamespaces`).
    pub fn scopes(&self) -> Vec<String> {
        let mut out = Vec::new();
        match (&self.tag, &self.digest) {
            (Some(t), _) => out.push(format!("{}:{t}", self.name)),
            (None, Some(d)) => out.push(format!("{}@{d}", self.name)),
            (None, None) => {}
        }
        let mut name = self.name.as_str();
        loop {
            out.push(name.to_string());
            match name.rfind('/') {
                Some(i) => name = &name[..i],
                None => break,
            }
        }
        // Wildcards: `*.example.com` for `a.example.com`, then `*.com`; the host without its port,
        // cut at its first `:` (containers/image docker/policyconfiguration/naming.go does so, so
        // `reg.example.com:5000` falls in `*.example.com`, and an IP host in `*.0.1`, `*.1`).
        let host = self.host();
        let mut rest = host.split(':').next().unwrap_or(host);
        while let Some(i) = rest.find('.') {
            rest = &rest[i + 1..];
            out.push(format!("*.{rest}"));
        }
        out
    }
}

/// `HOST/PATH` normalised as Docker does, or `None` when a component is not a valid name.
fn normalize_name(name: &str) -> Option<String> {
    let (host, path) = match name.split_once('/') {
        Some((h, p)) if h.contains(['.', ':']) || h == "localhost" => (h.to_string(), p.to_string()),
        Some(_) => ("docker.io".to_string(), name.to_string()),
        None => ("docker.io".to_string(), format!("library/{name}")),
    };
    let host = if host == "index.docker.io" { "docker.io".to_string() } else { host };
    let path = if host == "docker.io" && !path.contains('/') { format!("library/{path}") } else { path };
    // The path is a repository name of the distribution grammar, as the registry listers check it.
    if host.is_empty() || !crate::registry::listers::valid_repository(&path) {
        return None;
    }
    Some(format!("{host}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_as_docker_does() {
        let r = DockerRef::parse("busybox").unwrap();
        assert_eq!(r.name, "docker.io/library/busybox");
        let r = DockerRef::parse("127.0.0.1:5000/simple/app:v1").unwrap();
        assert_eq!((r.name.as_str(), r.tag.as_deref()), ("127.0.0.1:5000/simple/app", Some("v1")));
        assert_eq!(r.path(), "simple/app");
        let d = format!("sha256:{}", "a".repeat(64));
        let r = DockerRef::parse(&format!("quay.io/a/b@{d}")).unwrap();
        assert_eq!((r.tag, r.digest.as_deref()), (None, Some(d.as_str())));
        assert!(DockerRef::parse("Quay.io/A/B").is_none());
        assert!(DockerRef::parse("quay.io/a/../b").is_none());
        assert!(DockerRef::parse("quay.io/a:b:c").is_none());
        // The separators of the distribution grammar: `.`, `_`, `__`, dashes; nothing else.
        assert!(DockerRef::parse("quay.io/a__b/c-d--e").is_some());
        assert!(DockerRef::parse("quay.io/a..b").is_none());
        assert!(DockerRef::parse("quay.io/a___b").is_none());
    }

    #[test]
    fn scopes_most_specific_first() {
        let r = DockerRef::parse("registry.example.com:5000/ns/app:v1").unwrap();
        assert_eq!(
            r.scopes(),
            [
                "registry.example.com:5000/ns/app:v1",
                "registry.example.com:5000/ns/app",
                "registry.example.com:5000/ns",
                "registry.example.com:5000",
                "*.example.com",
                "*.com"
            ]
        );
        let r = DockerRef::parse("a.example.com/app").unwrap();
        assert_eq!(r.scopes(), ["a.example.com/app", "a.example.com", "*.example.com", "*.com"]);
    }
}
