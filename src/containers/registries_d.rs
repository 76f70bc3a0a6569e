//! The `registries.d` directory containers/image reads to find lookaside stores of simple-signing
//! signatures: every `*.yaml` file in it, each with an optional `default-docker` section and a
//! `docker` map of scopes (`HOST[/NAMESPACE…][/REPO]`, `*.domain`) to sections; a section's
//! `lookaside` (or legacy `sigstore`) key is where signatures are read. For an image, the most
//! specific scope with a read location wins, then `default-docker`
//! (containers/image `docker/registries_d.go`). The `-staging` keys are where signers write and
//! are not read here. A scope named in two files, or two `default-docker` sections, is an error,
//! as containers/image makes it.
//!
//! The directory: `--registries-d DIR`, else `~/.config/containers/registries.d` when it exists,
//! else `/etc/containers/registries.d` (containers/image's order: one directory, not both).

use super::reference::DockerRef;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// The read locations of one section.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Section {
    lookaside: Option<String>,
    /// The legacy key, read when `lookaside` is absent.
    sigstore: Option<String>,
}

impl Section {
    fn read_location(&self) -> Option<&str> {
        self.lookaside.as_deref().or(self.sigstore.as_deref()).filter(|s| !s.is_empty())
    }
}

/// The merged configuration of one registries.d directory.
#[derive(Debug, Clone, Default)]
pub struct RegistriesD {
    /// Where it was read from (for messages and the report's settings).
    pub dir: Option<PathBuf>,
    default_docker: Option<Section>,
    docker: BTreeMap<String, Section>,
}

impl RegistriesD {
    /// The directory containers/image would read for this user (`home`), when it exists.
    pub fn default_dir(home: Option<&Path>) -> Option<PathBuf> {
        let user = home.map(|h| h.join(".config/containers/registries.d"));
        let system = PathBuf::from("/etc/containers/registries.d");
        user.filter(|p| p.is_dir()).or_else(|| Some(system).filter(|p| p.is_dir()))
    }

    /// Read every `*.yaml` file of `dir` (sorted by name).
    pub fn load(dir: &Path) -> Result<RegistriesD, String> {
        let mut out = RegistriesD { dir: Some(dir.to_path_buf()), ..RegistriesD::default() };
        let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "yaml") && p.is_file())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
            out.add(&text).map_err(|e| format!("{}: {e}", f.display()))?;
        }
        Ok(out)
    }

    /// Add one file's content.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        expanded_nodes(text)?;
        let docs = YamlLoader::load_from_str(text).map_err(|e| format!("not YAML: {e}"))?;
        let Some(doc) = docs.into_iter().next() else { return Ok(()) };
        let top = match doc {
            Yaml::Hash(h) => h,
            Yaml::Null => return Ok(()),
            _ => return Err("the top level is not a mapping".into()),
        };
        for (k, v) in top {
            match k.as_str() {
                Some("default-docker") => {
                    if self.default_docker.is_some() {
                        return Err("default-docker is defined in more than one file".into());
                    }
                    self.default_docker = Some(section(&v).map_err(|e| format!("default-docker: {e}"))?);
                }
                Some("docker") => {
                    let map = match v {
                        Yaml::Hash(h) => h,
                        Yaml::Null => continue,
                        _ => return Err("docker is not a mapping of scopes".into()),
                    };
                    for (scope, s) in map {
                        let scope = scope.as_str().ok_or("a docker scope is not a string")?.to_string();
                        if self.docker.contains_key(&scope) {
                            return Err(format!("docker scope {scope:?} is defined more than once"));
                        }
                        let sec = section(&s).map_err(|e| format!("docker {scope:?}: {e}"))?;
                        self.docker.insert(scope, sec);
                    }
                }
                // Other keys (none in containers/image today) are left alone.
                _ => {}
            }
        }
        Ok(())
    }

    /// The lookaside base URL configured for `image` (`HOST/PATH`, with its digest), and the
    /// scope that gave it: the most specific scope with a read location, else `default-docker`.
    pub fn lookaside_for(&self, image: &DockerRef) -> Option<(String, String)> {
        for scope in image.scopes() {
            if let Some(loc) = self.docker.get(&scope).and_then(Section::read_location) {
                return Some((loc.to_string(), scope));
            }
        }
        let d = self.default_docker.as_ref()?.read_location()?;
        Some((d.to_string(), "default-docker".into()))
    }

    /// Whether any section names a read location.
    pub fn has_read_locations(&self) -> bool {
        self.default_docker.as_ref().and_then(Section::read_location).is_some()
            || self.docker.values().any(|s| s.read_location().is_some())
    }
}

fn section(v: &Yaml) -> Result<Section, String> {
    let h = match v {
        Yaml::Hash(h) => h,
        Yaml::Null => return Ok(Section::default()),
        _ => return Err("not a mapping".into()),
    };
    let mut s = Section::default();
    for (k, v) in h {
        let value = || v.as_str().map(str::to_string).ok_or_else(|| format!("{:?} is not a string", k.as_str()));
        match k.as_str() {
            Some("lookaside") => s.lookaside = Some(value()?),
            Some("sigstore") => s.sigstore = Some(value()?),
            // Write locations and the sigstore-attachments switch decide nothing about reading.
            Some("lookaside-staging" | "sigstore-staging" | "use-sigstore-attachments") => {}
            Some(other) => tracing::debug!("registries.d: key {other:?} ignored"),
            None => return Err("a key is not a string".into()),
        }
    }
    Ok(s)
}

/// The URL of signature `n` (1, 2, …) of `image`'s manifest `digest` under the lookaside `base`:
/// `<base>/<path>@<algorithm>=<hex>/signature-<n>` (containers/image `lookasideStorageURL`).
pub fn signature_url(base: &url::Url, image: &DockerRef, digest: &crate::oci::Digest, n: usize) -> url::Url {
    let mut u = base.clone();
    let path = format!(
        "{}/{}@{}={}/signature-{n}",
        base.path().trim_end_matches('/'),
        image.path(),
        digest.algorithm(),
        digest.hex()
    );
    u.set_path(&path);
    u
}

/// Nodes a YAML text holds once every alias is expanded. The loader copies each alias's node, so
/// a few hundred bytes of nested aliases (a "billion laughs") would take all memory: refused as
/// go-yaml (containers/image, yaml.v3 `decode.go`) refuses "excessive aliasing": once more than
/// 100 nodes came from aliases and more than 1,000 were decoded, the share from aliases may not
/// exceed 99% up to 400,000 nodes, falling evenly to 10% at 4,000,000. go-yaml counts only the
/// nodes it decodes into known fields; this counts every node, as the loader copies every one.
fn expanded_nodes(text: &str) -> Result<u64, String> {
    use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
    use yaml_rust2::scanner::Marker;
    #[derive(Default)]
    struct Count {
        /// Open collections: (anchor id, nodes so far).
        open: Vec<(usize, u64)>,
        anchors: std::collections::HashMap<usize, u64>,
        /// Nodes decoded (an alias counts itself and its expansion), and those from aliases.
        decoded: u64,
        aliased: u64,
        excessive: bool,
    }
    impl Count {
        fn add(&mut self, n: u64) {
            if let Some((_, c)) = self.open.last_mut() {
                *c = c.saturating_add(n);
            }
        }
        fn decode(&mut self, n: u64, aliased: u64) {
            self.decoded = self.decoded.saturating_add(n);
            self.aliased = self.aliased.saturating_add(aliased);
            // Checked after each alias's whole expansion: its share only grows along the way and
            // the allowed share only falls, so this is where go-yaml's per-node check fails first.
            if self.aliased > 100
                && self.decoded > 1000
                && self.aliased as f64 / self.decoded as f64 > allowed_alias_ratio(self.decoded)
            {
                self.excessive = true;
            }
        }
    }
    impl MarkedEventReceiver for Count {
        fn on_event(&mut self, ev: Event, _: Marker) {
            match ev {
                Event::Scalar(_, _, id, _) => {
                    if id > 0 {
                        self.anchors.insert(id, 1);
                    }
                    self.add(1);
                    self.decode(1, 0);
                }
                Event::Alias(id) => {
                    let n = self.anchors.get(&id).copied().unwrap_or(1);
                    self.add(n);
                    self.decode(n.saturating_add(1), n);
                }
                Event::SequenceStart(id, _) | Event::MappingStart(id, _) => {
                    self.open.push((id, 1));
                    self.decode(1, 0);
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    if let Some((id, n)) = self.open.pop() {
                        if id > 0 {
                            self.anchors.insert(id, n);
                        }
                        self.add(n);
                    }
                }
                _ => {}
            }
        }
    }
    let mut count = Count::default();
    Parser::new_from_str(text).load(&mut count, true).map_err(|e| format!("not YAML: {e}"))?;
    if count.excessive {
        return Err(format!(
            "its aliases expand to {} of {} nodes (excessive aliasing, as go-yaml refuses it)",
            count.aliased, count.decoded
        ));
    }
    Ok(count.decoded)
}

/// The share of decoded nodes go-yaml allows to come from aliases (yaml.v3 `allowedAliasRatio`).
fn allowed_alias_ratio(decoded: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    match decoded {
        d if d <= LOW => 0.99,
        d if d >= HIGH => 0.10,
        d => 0.99 - 0.89 * ((d - LOW) as f64 / (HIGH - LOW) as f64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A billion laughs (the review's 700-byte file: 10^9 nodes once expanded) is refused before
    /// the loader copies anything; a file that uses an alias or two still reads.
    #[test]
    fn excessive_aliasing_is_refused() {
        let mut bomb = String::from("a0: &a0 [\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]\n");
        for i in 1..9 {
            let refs = vec![format!("*a{}", i - 1); 10].join(",");
            bomb.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        bomb.push_str("docker:\n  r.example:\n    lookaside: http://l.example\n    extra: *a8\n");
        let err = RegistriesD::default().add(&bomb).unwrap_err();
        assert!(err.contains("excessive aliasing"), "{err}");
        let fine = "common: &c {lookaside: https://l.example/sigs}\ndocker:\n  r.example: *c\n  q.example: *c\n";
        assert!(expanded_nodes(fine).unwrap() < 20);
        RegistriesD::default().add(fine).unwrap();
    }

    /// go-yaml's rule, not a node cap: 99 aliases of a 1,000-item list (about 100,000 nodes, 98.9%
    /// from aliases) read, as skopeo reads them; 150 aliases of it (99.2%) are refused. (go-yaml
    /// would not expand them at all under a field registries.d does not know; the loader here
    /// copies every node, so every node counts.)
    #[test]
    fn moderate_aliasing_reads_as_go_yaml_reads_it() {
        let file = |aliases: usize| {
            let list = vec!["x"; 1000].join(",");
            let refs = vec!["*b"; aliases].join(",");
            format!("big: &b [{list}]\ndocker:\n  r.example:\n    lookaside: http://l.example\n    junk: [{refs}]\n")
        };
        let mut rd = RegistriesD::default();
        rd.add(&file(99)).unwrap();
        let err = RegistriesD::default().add(&file(150)).unwrap_err();
        assert!(err.contains("excessive aliasing"), "{err}");
        assert!((allowed_alias_ratio(2_200_000) - 0.545).abs() < 1e-9);
    }

    const FILE: &str = "
default-docker:
  lookaside: https://default.example/sigs
  lookaside-staging: file:///var/lib/containers/sigstore
docker:
  registry.example.com:
    sigstore: https://legacy.example/sigs
  registry.example.com/team:
    lookaside: https://team.example/sigs
  registry.example.com/team/staging-only:
    lookaside-staging: file:///tmp/x
  '*.example.org':
    lookaside: https://wild.example/sigs
";

    #[test]
    fn most_specific_scope_wins() {
        let mut r = RegistriesD::default();
        r.add(FILE).unwrap();
        let at = |s: &str| r.lookaside_for(&DockerRef::parse(s).unwrap());
        assert_eq!(at("registry.example.com/team/app:v1").unwrap().0, "https://team.example/sigs");
        // A scope with only a staging location does not stop the search.
        assert_eq!(at("registry.example.com/team/staging-only").unwrap().0, "https://team.example/sigs");
        assert_eq!(at("registry.example.com/other/app").unwrap().0, "https://legacy.example/sigs");
        assert_eq!(at("a.example.org/app").unwrap().0, "https://wild.example/sigs");
        assert_eq!(at("quay.io/x/y").unwrap(), ("https://default.example/sigs".into(), "default-docker".into()));
        assert!(r.add("default-docker:\n  lookaside: x\n").is_err(), "two default-docker sections");
        assert!(r.add("docker:\n  registry.example.com:\n    lookaside: x\n").is_err(), "a scope twice");
    }

    #[test]
    fn lookaside_url_layout() {
        let base = url::Url::parse("http://127.0.0.1:8080/sigs/").unwrap();
        let d = crate::oci::Digest::parse(&format!("sha256:{}", "ab".repeat(32))).unwrap();
        let img = DockerRef::parse("127.0.0.1:5000/simple/app").unwrap();
        let u = signature_url(&base, &img, &d, 2);
        assert_eq!(u.as_str(), format!("http://127.0.0.1:8080/sigs/simple/app@sha256={}/signature-2", "ab".repeat(32)));
    }
}
