//! Listing repositories (and their tags) through a platform's own API, for registries that serve
//! no `/v2/_catalog`: Docker Hub, GHCR (the GitHub REST API), GitLab, Quay and Harbor, spoken
//! here over HTTP, and Amazon ECR through the AWS SDK (feature `ecr`). Each platform has its
//! file: the first page's URL, how a page reads, where the next page is.
//!
//! What the platform lists decides only *which* repositories and tags are looked at. Manifests
//! and signatures still come from the registry, by the OCI distribution protocol: where a listing
//! gives a tag's digest (Docker Hub tags, GHCR versions, Quay tags, Harbor artifacts), the tags
//! of one digest are resolved with one manifest request by that digest instead of one per tag,
//! and the tag list is not read from the registry.
//!
//! The platform API is not trusted further than that: a repository name outside the grammar of
//! the distribution spec (`..`, `%2F`, control characters, upper case) or outside the namespace
//! asked for is refused (a `listing-error`), never requested; a page link seen before ends the
//! listing with an error (a loop), and a digest that is no digest is ignored (the registry
//! resolves that tag).

mod api;
mod docker_hub;
#[cfg(feature = "ecr")]
mod ecr;
mod ghcr;
mod gitlab;
mod harbor;
mod quay;

pub use api::ApiConfig;

use crate::oci::Digest;
use crate::registry::{Secret, Stats};
use api::{Answer, Api};
use std::sync::{Arc, OnceLock};
use thiserror::Error;
use url::Url;

/// Pages of one listing followed at most (a loop guard; 100 000 pages of 100 is ten million).
const MAX_PAGES: usize = 100_000;
/// Items asked for per page.
const PAGE_SIZE: usize = 100;

/// How a scan learns a registry's repositories: `scan.listing` in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Listing {
    Catalog,
    DockerHub,
    Ghcr,
    Gitlab,
    Quay,
    Harbor,
    Ecr,
    ReposFile,
}

impl Listing {
    pub const PLATFORMS: &'static [Listing] =
        &[Listing::DockerHub, Listing::Ghcr, Listing::Gitlab, Listing::Quay, Listing::Harbor, Listing::Ecr];

    pub fn as_str(self) -> &'static str {
        match self {
            Listing::Catalog => "catalog",
            Listing::DockerHub => "docker-hub",
            Listing::Ghcr => "ghcr",
            Listing::Gitlab => "gitlab",
            Listing::Quay => "quay",
            Listing::Harbor => "harbor",
            Listing::Ecr => "ecr",
            Listing::ReposFile => "repos-file",
        }
    }

    /// `--lister NAME`: a platform, or `catalog`.
    pub fn parse(name: &str) -> Option<Listing> {
        [Listing::Catalog].iter().chain(Listing::PLATFORMS).copied().find(|l| l.as_str() == name)
    }

    /// The platform a registry host belongs to, when it is one whose catalog is known not to
    /// list (Harbor, self-managed GitLab and Quay cannot be told from their host name).
    pub fn of_host(host: &str) -> Option<Listing> {
        let name = host.split(':').next().unwrap_or(host).to_ascii_lowercase();
        match name.as_str() {
            "docker.io" | "registry-1.docker.io" | "index.docker.io" => Some(Listing::DockerHub),
            "ghcr.io" => Some(Listing::Ghcr),
            "gitlab.com" | "registry.gitlab.com" => Some(Listing::Gitlab),
            "quay.io" => Some(Listing::Quay),
            n if n.ends_with(".amazonaws.com") && n.contains(".dkr.ecr.") => Some(Listing::Ecr),
            _ => None,
        }
    }

    /// The API's base URL when `--lister-url` does not give one.
    pub fn default_url(self, host: &str, plain_http: bool) -> Option<String> {
        let scheme = if plain_http { "http" } else { "https" };
        match self {
            Listing::DockerHub => Some("https://hub.docker.com".into()),
            Listing::Ghcr => Some("https://api.github.com".into()),
            Listing::Gitlab if matches!(Listing::of_host(host), Some(Listing::Gitlab)) => {
                Some("https://gitlab.com".into())
            }
            Listing::Gitlab | Listing::Quay | Listing::Harbor => Some(format!("{scheme}://{host}")),
            Listing::Ecr | Listing::Catalog | Listing::ReposFile => None,
        }
    }

    /// The environment variables holding the platform's credential, in the order looked at.
    pub fn token_variables(self) -> &'static [&'static str] {
        match self {
            Listing::DockerHub => &["DOCKERHUB_TOKEN"],
            Listing::Ghcr => &["SIGAUDIT_GITHUB_TOKEN", "GITHUB_TOKEN"],
            Listing::Gitlab => &["GITLAB_TOKEN"],
            Listing::Quay => &["QUAY_TOKEN"],
            Listing::Harbor => &["HARBOR_PASSWORD"],
            Listing::Ecr | Listing::Catalog | Listing::ReposFile => &[],
        }
    }

    /// The variable holding the user name that goes with the password (Harbor's robot account).
    pub fn username_variable(self) -> Option<&'static str> {
        (self == Listing::Harbor).then_some("HARBOR_USERNAME")
    }
}

impl std::fmt::Display for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The platform API's credential, and where it came from (a variable's name, `--platform-token`),
/// for messages. The secret itself is never printed.
#[derive(Debug, Clone)]
pub struct PlatformAuth {
    pub credential: Option<PlatformCredential>,
    /// `GITHUB_TOKEN`, `--platform-token`…
    pub source: Option<String>,
    /// Where a credential would come from, for the message when none was given.
    pub wanted: String,
}

#[derive(Debug, Clone)]
pub enum PlatformCredential {
    Bearer(Secret),
    /// GitLab's personal, group or project access token (`PRIVATE-TOKEN`).
    GitlabToken(Secret),
    Basic {
        username: String,
        password: Secret,
    },
}

impl PlatformAuth {
    fn apply(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.credential {
            None => req,
            Some(PlatformCredential::Bearer(t)) => req.bearer_auth(t.expose()),
            Some(PlatformCredential::GitlabToken(t)) => req.header("PRIVATE-TOKEN", t.expose()),
            Some(PlatformCredential::Basic { username, password }) => req.basic_auth(username, Some(password.expose())),
        }
    }

    fn hint(&self) -> String {
        match &self.source {
            Some(s) => format!("the platform refused the credential from {s}"),
            None => format!("no platform credential was given: {}", self.wanted),
        }
    }
}

#[derive(Debug, Error)]
pub enum ListError {
    #[error("GET {url}: HTTP {status}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Status { url: String, status: u16, detail: Option<String> },
    #[error("GET {url}: HTTP {status}: {hint}")]
    Auth { url: String, status: u16, hint: String },
    #[error("GET {url}: HTTP {status}: still rate limited after {retries} retries within the retry budget")]
    RateLimited { url: String, status: u16, retries: u32 },
    #[error("GET {url}: {message}")]
    Transport { url: String, message: String },
    #[error("{url}: {message}")]
    Protocol { url: String, message: String },
    #[error("{0}")]
    Setup(String),
    /// An AWS SDK call that failed (ECR): the operation, and what the SDK says.
    #[error("{what}: {message}")]
    Aws { what: String, message: String },
}

impl ListError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ListError::Status { status, .. } | ListError::Auth { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// A tag as a platform lists it, with the digest it points at when the listing says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTag {
    pub name: String,
    pub digest: Option<Digest>,
}

/// Where the next page of a listing is: a URL (checked to be on the API's origin), or an
/// opaque token (ECR's `nextToken`).
#[derive(Debug, Clone)]
pub enum PageCursor {
    Url(Url),
    Token(String),
}

/// One page of repositories: full names (`namespace/name`), and the next page (or why it
/// cannot be followed; the repositories of this page count either way).
#[derive(Debug)]
pub struct RepoPage {
    pub repositories: Vec<String>,
    /// Names the listing gave that are refused, each with why (nothing is requested for them).
    pub refused: Vec<String>,
    pub next: Result<Option<PageCursor>, ListError>,
}

enum Backend {
    /// A platform's HTTP API, spoken here.
    Http(Api),
    /// Amazon ECR, through the AWS SDK.
    #[cfg(feature = "ecr")]
    Ecr(ecr::Ecr),
}

/// A platform API, pointed at one namespace (a Docker Hub namespace, a GitHub organisation or
/// user, a GitLab group or project, a Quay organisation, a Harbor project).
pub struct Lister {
    platform: Listing,
    backend: Backend,
    namespace: String,
    /// GHCR: `orgs` or `users`, as the first listing found the owner.
    owner_kind: OnceLock<&'static str>,
}

impl Lister {
    /// A lister of `namespace` through `platform`'s API at `base` (ECR: the AWS chain's
    /// endpoint when None); `host` is the registry's (ECR takes its account and region there).
    pub fn new(
        platform: Listing,
        base: Option<&str>,
        host: &str,
        namespace: &str,
        auth: PlatformAuth,
        config: ApiConfig,
        stats: Arc<Stats>,
    ) -> Result<Lister, ListError> {
        let namespace = namespace.trim_matches('/').to_string();
        if namespace.is_empty() && platform != Listing::Ecr {
            return Err(ListError::Setup(format!(
                "the {platform} lister lists one namespace: give it in the target (HOST/NAMESPACE)"
            )));
        }
        let base = match base {
            None => None,
            Some(b) => {
                let u = Url::parse(b).map_err(|e| ListError::Setup(format!("--lister-url {b:?}: {e}")))?;
                if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
                    return Err(ListError::Setup(format!("--lister-url {u}: an http:// or https:// URL")));
                }
                Some(u)
            }
        };
        let backend = match platform {
            #[cfg(feature = "ecr")]
            Listing::Ecr => {
                let _ = auth;
                Backend::Ecr(ecr::Ecr::new(base.map(|u| u.to_string()), host, config, stats))
            }
            #[cfg(not(feature = "ecr"))]
            Listing::Ecr => {
                let _ = host;
                return Err(ListError::Setup(
                    "this build has no ecr lister (built without the `ecr` feature): name the repositories with --repos-file FILE".into(),
                ));
            }
            Listing::Catalog | Listing::ReposFile => {
                return Err(ListError::Setup(format!("{platform} is no platform lister")));
            }
            _ => {
                let Some(base) = base else {
                    return Err(ListError::Setup(format!("the {platform} lister needs --lister-url")));
                };
                Backend::Http(Api::new(base, auth, config, stats)?)
            }
        };
        Ok(Lister { platform, backend, namespace, owner_kind: OnceLock::new() })
    }

    pub fn platform(&self) -> Listing {
        self.platform
    }

    /// A page of repositories: the first (`cursor` None) or the one a previous page pointed at.
    pub async fn repositories(&self, cursor: Option<PageCursor>) -> Result<RepoPage, ListError> {
        let ns = self.namespace.as_str();
        let api = match &self.backend {
            Backend::Http(api) => api,
            #[cfg(feature = "ecr")]
            Backend::Ecr(e) => {
                let (repositories, next) = e.repositories(ns, cursor).await?;
                let (repositories, refused) = scoped(ns, repositories);
                return Ok(RepoPage { repositories, refused, next: Ok(next) });
            }
        };
        let cursor = match cursor {
            None => None,
            Some(PageCursor::Url(u)) => Some(u),
            Some(PageCursor::Token(t)) => {
                return Err(ListError::Protocol {
                    url: api.base.to_string(),
                    message: format!("unusable page token {t:?}"),
                })
            }
        };
        let (answer, repositories, next) = match self.platform {
            Listing::DockerHub => docker_hub::repositories(api, ns, cursor).await?,
            Listing::Ghcr => ghcr::repositories(api, ns, cursor, &self.owner_kind).await?,
            Listing::Gitlab => gitlab::repositories(api, ns, cursor).await?,
            Listing::Quay => quay::repositories(api, ns, cursor).await?,
            Listing::Harbor => harbor::repositories(api, ns, cursor).await?,
            other => return Err(ListError::Setup(format!("no {other} lister"))),
        };
        let next = next.and_then(|n| n.map(|u| api.same_origin(&answer.url, u).map(PageCursor::Url)).transpose());
        let (repositories, refused) = scoped(ns, repositories);
        Ok(RepoPage { repositories, refused, next })
    }

    /// The tags of `repository` with their digests, where the platform lists them so (Docker
    /// Hub, GHCR, Quay, Harbor, ECR); `None` where the registry's own tag list is to be read
    /// (GitLab, whose tag listing gives no digest without one request per tag).
    pub async fn tags(&self, repository: &str) -> Result<Option<Vec<ListedTag>>, ListError> {
        let api = match &self.backend {
            Backend::Http(api) => api,
            #[cfg(feature = "ecr")]
            Backend::Ecr(e) => return e.tags(repository).await.map(Some),
        };
        let ns = self.namespace.as_str();
        let Some(name) = repository.strip_prefix(ns).and_then(|r| r.strip_prefix('/')) else {
            return Ok(None);
        };
        match self.platform {
            Listing::Ghcr => {
                let kind = self.owner_kind.get().copied().unwrap_or("orgs");
                ghcr::tags(api, kind, ns, name).await.map(Some)
            }
            Listing::Quay => quay::tags(api, ns, name).await.map(Some),
            Listing::Harbor => harbor::tags(api, ns, name).await.map(Some),
            Listing::DockerHub => docker_hub::tags(api, ns, name).await.map(Some),
            _ => Ok(None),
        }
    }
}

/// Every page from `first` on, each read by `page` into its items and the next page's URL.
async fn all_pages<T>(
    api: &Api,
    first: Url,
    page: impl Fn(&Answer) -> Result<(Vec<T>, Option<Url>), ListError>,
) -> Result<Vec<T>, ListError> {
    let mut url = first;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for _ in 0..MAX_PAGES {
        seen.insert(url.to_string());
        let answer = api.get(url).await?;
        let (items, next) = page(&answer)?;
        out.extend(items);
        match next {
            None => return Ok(out),
            Some(n) => url = api.same_origin(&answer.url, n)?,
        }
        if seen.contains(url.as_str()) {
            return Err(ListError::Protocol {
                url: answer.url.to_string(),
                message: format!("the next page loops back to a page already read: {url}"),
            });
        }
    }
    Err(ListError::Protocol { url: api.base.to_string(), message: format!("more than {MAX_PAGES} pages") })
}

/// `url` with the query parameter `key` set to `value` (replacing it).
fn with_param(url: &Url, key: &str, value: &str) -> Url {
    let pairs: Vec<(String, String)> =
        url.query_pairs().filter(|(k, _)| k != key).map(|(k, v)| (k.into(), v.into())).collect();
    let mut u = url.clone();
    {
        let mut q = u.query_pairs_mut();
        q.clear();
        for (k, v) in &pairs {
            q.append_pair(k, v);
        }
        q.append_pair(key, value);
    }
    u
}

/// A path segment, percent-encoded (a `/` in it included).
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// A digest a listing gives, if it is one. One that is not (`sha256:` and 64 lower-case hex, or
/// sha384/sha512) is dropped with a warning: the registry then resolves the tag by name.
fn digest(s: Option<&str>) -> Option<Digest> {
    let s = s.filter(|s| !s.is_empty())?;
    let d = Digest::parse(s);
    if d.is_none() {
        tracing::warn!(digest = ?s.chars().take(80).collect::<String>(), "the platform lists a digest that is none; the registry resolves the tag");
    }
    d
}

/// Whether `name` is a repository name of the distribution spec: path components of lower-case
/// letters and digits joined by `.`, `_`, `__` or dashes, separated by `/`, at most 255 bytes.
pub fn valid_repository(name: &str) -> bool {
    fn component(c: &str) -> bool {
        let b = c.as_bytes();
        let alnum = |x: &u8| x.is_ascii_lowercase() || x.is_ascii_digit();
        if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
            return false;
        }
        let mut i = 0;
        while i < b.len() {
            if alnum(&b[i]) {
                i += 1;
                continue;
            }
            // A separator run: ".", "_", "__" or one or more "-", then an alphanumeric.
            let start = i;
            while i < b.len() && !alnum(&b[i]) {
                i += 1;
            }
            let sep = &c[start..i];
            if !(sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-')) {
                return false;
            }
        }
        true
    }
    !name.is_empty() && name.len() <= 255 && name.split('/').all(component)
}

/// The names of a page that are valid repository names under `namespace` (all, for an empty
/// namespace), and the others, each with why it is refused.
fn scoped(namespace: &str, names: Vec<String>) -> (Vec<String>, Vec<String>) {
    let mut ok = Vec::new();
    let mut refused = Vec::new();
    for n in names {
        let shown: String = n.escape_debug().take(300).collect();
        if !valid_repository(&n) {
            refused.push(format!("repository \"{shown}\" refused: not a repository name"));
        } else if !namespace.is_empty() && !n.starts_with(&format!("{namespace}/")) {
            refused.push(format!("repository \"{shown}\" refused: outside the namespace {namespace}"));
        } else {
            ok.push(n);
        }
    }
    (ok, refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_choose_their_platform() {
        assert_eq!(Listing::of_host("registry-1.docker.io"), Some(Listing::DockerHub));
        assert_eq!(Listing::of_host("ghcr.io"), Some(Listing::Ghcr));
        assert_eq!(Listing::of_host("registry.gitlab.com"), Some(Listing::Gitlab));
        assert_eq!(Listing::of_host("quay.io:443"), Some(Listing::Quay));
        assert_eq!(Listing::of_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"), Some(Listing::Ecr));
        assert_eq!(Listing::of_host("harbor.example.com"), None);
        assert_eq!(Listing::of_host("127.0.0.1:5000"), None);
        for l in [Listing::Catalog].iter().chain(Listing::PLATFORMS) {
            assert_eq!(Listing::parse(l.as_str()), Some(*l));
        }
        assert_eq!(Listing::parse("repos-file"), None);
    }

    #[test]
    fn repository_names_follow_the_distribution_grammar() {
        for good in ["apps/web", "a", "apps/web-ui", "apps/a__b", "apps/a.b/c_d", "a--b/x"] {
            assert!(valid_repository(good), "{good}");
        }
        for bad in [
            "",
            "apps/../other",
            "apps/./web",
            "apps/a%2Fb",
            "apps//web",
            "/apps",
            "apps/",
            "apps/We",
            "apps/x\u{1}y",
            "apps/x\ny",
            "apps/a___b",
            "apps/-a",
            "apps/a.",
            "apps/a b",
        ] {
            assert!(!valid_repository(bad), "{bad:?}");
        }
        let (ok, refused) = scoped("apps", vec!["apps/web".into(), "other/web".into(), "apps/../x".into()]);
        assert_eq!(ok, ["apps/web"]);
        assert_eq!(refused.len(), 2);
        assert!(refused[0].contains("outside the namespace apps"), "{refused:?}");
    }

    #[test]
    fn a_digest_that_is_none_is_dropped() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert!(digest(Some(&good)).is_some());
        for bad in ["", "sha256:xyz", "md5:abc", "sha256:ABCDEF", &format!("sha256:{}", "A".repeat(64))] {
            assert_eq!(digest(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn params_and_segments() {
        let u = Url::parse("http://h/api?a=1&page=2").unwrap();
        assert_eq!(with_param(&u, "page", "3").as_str(), "http://h/api?a=1&page=3");
        assert_eq!(segment("team/web"), "team%2Fweb");
    }
}
