use super::auth::{Challenge, Credentials, TokenResponse};
use super::stats::{RequestKind, Stats};
use super::{next_link, RegistryError, MAX_LIST_PAGE_BYTES, MAX_MANIFEST_BYTES};
use crate::oci::{Digest, MANIFEST_ACCEPT, OCI_INDEX};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, RwLock, Semaphore};
use url::Url;

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `host[:port]`
    pub host: String,
    pub plain_http: bool,
    /// Requests in flight at most.
    pub concurrency: usize,
    pub credentials: Option<Credentials>,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries of a request on 429/502/503/504, resets and timeouts.
    pub max_retries: u32,
    /// Upper bound of the time spent retrying one request.
    pub max_retry_time: Duration,
    /// Extra PEM roots for TLS.
    pub tls_ca_pem: Vec<Vec<u8>>,
    pub insecure_skip_tls_verify: bool,
    /// Catalog page size asked for first (halved while the registry refuses it).
    pub catalog_page_size: usize,
    /// At most this many requests per second to this registry (0: unlimited).
    pub rps: u32,
    /// Resolve tags with a GET and hash the bytes, instead of taking a HEAD's
    /// `Docker-Content-Digest` on the registry's word.
    pub verify_digests: bool,
}

impl ClientConfig {
    pub fn new(host: impl Into<String>) -> ClientConfig {
        ClientConfig {
            host: host.into(),
            plain_http: false,
            concurrency: 32,
            credentials: None,
            timeout: Duration::from_secs(60),
            max_retries: 6,
            max_retry_time: Duration::from_secs(120),
            tls_ca_pem: Vec::new(),
            insecure_skip_tls_verify: false,
            catalog_page_size: 1000,
            rps: 0,
            verify_digests: false,
        }
    }
}

/// The authorization a request needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    None,
    Catalog,
    Pull(String),
}

impl Scope {
    fn token_scope(&self) -> Option<String> {
        match self {
            Scope::None => None,
            Scope::Catalog => Some("registry:catalog:*".into()),
            Scope::Pull(repo) => Some(format!("repository:{repo}:pull")),
        }
    }
}

/// What a manifest HEAD (or GET) says about a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
}

/// A fetched manifest: the exact bytes and their digest, recomputed.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub bytes: Vec<u8>,
    pub digest: Digest,
    pub media_type: String,
    /// The digest the registry announced for these bytes (`Docker-Content-Digest`), if any.
    pub announced: Option<Digest>,
}

impl Fetched {
    pub fn head(&self) -> ManifestHead {
        ManifestHead { digest: self.digest.clone(), media_type: self.media_type.clone(), size: self.bytes.len() as u64 }
    }

    /// The announced digest when the bytes served do not hash to it.
    pub fn misannounced(&self) -> Option<&Digest> {
        self.announced.as_ref().filter(|a| !a.matches(&self.bytes))
    }
}

/// A tag or digest resolved to a manifest: by a HEAD (the registry's word for the digest), or
/// with `verify_digests` by a GET whose bytes were hashed (then `fetched` holds them).
#[derive(Debug, Clone)]
pub struct Resolved {
    pub head: ManifestHead,
    pub fetched: Option<Fetched>,
}

/// One catalog page: its repositories, and the next page (or why it cannot be followed).
#[derive(Debug)]
pub struct CatalogPage {
    pub repositories: Vec<String>,
    pub next: Result<Option<Url>, RegistryError>,
}

/// The referrers API's answer for one digest.
#[derive(Debug)]
pub enum ReferrersAnswer {
    /// The registry implements the API; the (merged) index pages.
    Supported(Vec<oci_client::manifest::ImageIndexEntry>),
    /// 404 (not NAME_UNKNOWN) or a non-index content type: no API here.
    Unsupported,
}

struct Response {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    url: Url,
}

pub struct RegistryClient {
    http: reqwest::Client,
    base: Url,
    config: ClientConfig,
    permits: Semaphore,
    challenge: RwLock<Option<Challenge>>,
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    stats: Arc<Stats>,
    /// The earliest instant the next request may start, when `rps` is set.
    next_slot: Mutex<Instant>,
    /// Whether the ping's answer announced the signature extension
    /// (`X-Registry-Supports-Signatures: 1`, as OpenShift's registry does).
    supports_signatures: std::sync::atomic::AtomicBool,
}

impl RegistryClient {
    pub fn new(config: ClientConfig) -> Result<RegistryClient, RegistryError> {
        let scheme = if config.plain_http { "http" } else { "https" };
        let base = Url::parse(&format!("{scheme}://{}/", config.host))
            .map_err(|_| RegistryError::Address(config.host.clone()))?;
        if base.host_str().is_none() || base.path() != "/" {
            return Err(RegistryError::Address(config.host.clone()));
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("sigaudit/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(config.concurrency.max(1))
            // reqwest drops Authorization on redirects to another host (blob storage): credentials
            // never leave the registry host.
            .redirect(reqwest::redirect::Policy::limited(5));
        let mut roots = Vec::new();
        for pem in &config.tls_ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| RegistryError::Address(format!("--tls-ca: {e}")))?
            {
                roots.push(cert);
            }
        }
        if !roots.is_empty() {
            builder = builder.tls_certs_merge(roots);
        }
        if config.insecure_skip_tls_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| RegistryError::Address(format!("{}: {e}", config.host)))?;
        Ok(RegistryClient {
            http,
            base,
            permits: Semaphore::new(config.concurrency.max(1)),
            config,
            challenge: RwLock::new(None),
            tokens: Mutex::new(HashMap::new()),
            stats: Arc::new(Stats::default()),
            next_slot: Mutex::new(Instant::now()),
            supports_signatures: std::sync::atomic::AtomicBool::new(false),
        })
    }

    pub fn host(&self) -> &str {
        &self.config.host
    }

    /// Whether this client talks plain HTTP.
    pub fn plain_http(&self) -> bool {
        self.config.plain_http
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The counters, shared with what else talks for this registry (its platform API lister).
    pub fn stats_handle(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("registry paths are valid")
    }

    /// `GET /v2/`: checks that a registry answers, and learns its authentication challenge.
    pub async fn ping(&self) -> Result<(), RegistryError> {
        let r = self.request(RequestKind::Ping, Method::GET, self.url("/v2/"), &Scope::None, None, 64 << 10).await?;
        let announced = header_str(&r.headers, "x-registry-supports-signatures").is_some_and(|v| v.trim() == "1");
        self.supports_signatures.store(announced, std::sync::atomic::Ordering::Relaxed);
        match r.status.as_u16() {
            200..=299 => Ok(()),
            401 => Err(RegistryError::Auth {
                url: r.url.to_string(),
                message: if self.config.credentials.is_some() {
                    "the registry rejected the credentials".into()
                } else {
                    "the registry requires credentials: give --username with --password-stdin, --token, \
                     or an entry in the docker config"
                        .into()
                },
            }),
            _ => Err(status_error(&Method::GET, &r)),
        }
    }

    /// One request with auth, bounded concurrency, retries and a capped body.
    async fn request(
        &self,
        kind: RequestKind,
        method: Method,
        url: Url,
        scope: &Scope,
        accept: Option<&str>,
        limit: usize,
    ) -> Result<Response, RegistryError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        let mut reauthorized = false;
        loop {
            let permit = self.permits.acquire().await.expect("semaphore never closed");
            self.pace().await;
            self.stats.count(kind);
            let mut req = self.http.request(method.clone(), url.clone());
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            req = self.authorize(req, scope, &url).await?;
            let outcome = match req.send().await {
                Ok(res) => {
                    let status = res.status();
                    let headers = res.headers().clone();
                    let final_url = res.url().clone();
                    if method == Method::HEAD {
                        Ok(Response { status, headers, body: Vec::new(), url: final_url })
                    } else {
                        read_capped(res, limit, &url).await.map(|body| Response {
                            status,
                            headers,
                            body,
                            url: final_url,
                        })
                    }
                }
                Err(e) => Err(transport(&method, &url, &e)),
            };
            drop(permit);
            let wait = match &outcome {
                Ok(r) if r.status == StatusCode::UNAUTHORIZED && !reauthorized => {
                    reauthorized = true;
                    let challenge = r
                        .headers
                        .get_all(WWW_AUTHENTICATE)
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .find_map(Challenge::parse);
                    if let Some(ch) = challenge {
                        *self.challenge.write().await = Some(ch);
                        if let Some(s) = scope.token_scope() {
                            self.tokens.lock().await.remove(&s);
                        }
                        continue;
                    }
                    None
                }
                Ok(r) if matches!(r.status.as_u16(), 429 | 502 | 503 | 504) => Some(retry_after(&r.headers)),
                Err(RegistryError::Transport { .. }) => Some(None),
                _ => None,
            };
            match wait {
                Some(hint) if attempt < self.config.max_retries => {
                    let backoff = hint.unwrap_or_else(|| backoff(attempt));
                    if started.elapsed() + backoff > self.config.max_retry_time {
                        return outcome;
                    }
                    tracing::debug!(%url, attempt, ?backoff, "retrying");
                    self.stats.retry();
                    attempt += 1;
                    tokio::time::sleep(backoff).await;
                }
                _ => return outcome,
            }
        }
    }

    /// Space requests `1/rps` apart (a simple pacing limiter, shared by all tasks).
    async fn pace(&self) {
        if self.config.rps == 0 {
            return;
        }
        let interval = Duration::from_secs_f64(1.0 / self.config.rps as f64);
        let start = {
            let mut next = self.next_slot.lock().await;
            let start = (*next).max(Instant::now());
            *next = start + interval;
            start
        };
        tokio::time::sleep_until(start.into()).await;
    }

    async fn authorize(
        &self,
        req: reqwest::RequestBuilder,
        scope: &Scope,
        url: &Url,
    ) -> Result<reqwest::RequestBuilder, RegistryError> {
        if let Some(Credentials::Bearer(t)) = &self.config.credentials {
            return Ok(req.bearer_auth(t.expose()));
        }
        let challenge = self.challenge.read().await.clone();
        match challenge {
            None => Ok(req),
            Some(Challenge::Basic) => match &self.config.credentials {
                Some(Credentials::Basic { username, password }) => {
                    Ok(req.basic_auth(username, Some(password.expose())))
                }
                _ => Ok(req),
            },
            Some(Challenge::Bearer { realm, service, scope: challenge_scope }) => {
                let wanted = scope.token_scope().or(challenge_scope);
                let token = self.token(&realm, service.as_deref(), wanted.as_deref(), url).await?;
                Ok(req.bearer_auth(token))
            }
        }
    }

    /// A bearer token for `scope`, reused until it expires.
    async fn token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        url: &Url,
    ) -> Result<String, RegistryError> {
        let key = scope.unwrap_or("").to_string();
        let mut tokens = self.tokens.lock().await;
        if let Some((t, until)) = tokens.get(&key) {
            if Instant::now() < *until {
                return Ok(t.clone());
            }
        }
        let mut realm_url = Url::parse(realm).map_err(|_| RegistryError::Auth {
            url: url.to_string(),
            message: format!("unusable token realm {realm:?}"),
        })?;
        {
            let mut q = realm_url.query_pairs_mut();
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            if let Some(s) = scope {
                q.append_pair("scope", s);
            }
        }
        self.stats.count(RequestKind::Token);
        let mut req = self.http.get(realm_url.clone());
        if let Some(Credentials::Basic { username, password }) = &self.config.credentials {
            req = req.basic_auth(username, Some(password.expose()));
        }
        let res = req.send().await.map_err(|e| transport(&Method::GET, &realm_url, &e))?;
        let status = res.status();
        let body = read_capped(res, 1 << 20, &realm_url).await?;
        if !status.is_success() {
            return Err(RegistryError::Auth {
                url: realm_url.to_string(),
                message: format!("token endpoint answered HTTP {}", status.as_u16()),
            });
        }
        let t: TokenResponse = serde_json::from_slice(&body).map_err(|_| RegistryError::Auth {
            url: realm_url.to_string(),
            message: "token endpoint answer is not a token".into(),
        })?;
        let token = t.token.or(t.access_token).ok_or_else(|| RegistryError::Auth {
            url: realm_url.to_string(),
            message: "token endpoint answer has no token".into(),
        })?;
        // Renew a little early; 60 s is the distribution default when the server says nothing.
        let life = Duration::from_secs(t.expires_in.unwrap_or(60).max(10) - 5);
        tokens.insert(key, (token.clone(), Instant::now() + life));
        Ok(token)
    }

    /// One page of the catalog. `next` is the previous page's `Link` target.
    async fn catalog_page(&self, url: Url) -> Result<CatalogPage, RegistryError> {
        let r = self
            .request(
                RequestKind::Catalog,
                Method::GET,
                url.clone(),
                &Scope::Catalog,
                Some("application/json"),
                MAX_LIST_PAGE_BYTES,
            )
            .await?;
        if !r.status.is_success() {
            return Err(status_error(&Method::GET, &r));
        }
        #[derive(serde::Deserialize)]
        struct Catalog {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let c: Catalog = serde_json::from_slice(&r.body).map_err(|e| RegistryError::Protocol {
            url: url.to_string(),
            message: format!("catalog is not JSON: {e}"),
        })?;
        // A bad Link must not discard the repositories this page did list.
        Ok(CatalogPage { repositories: c.repositories.unwrap_or_default(), next: self.next_page(&r) })
    }

    fn next_page(&self, r: &Response) -> Result<Option<Url>, RegistryError> {
        let links = r.headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
        let Some(target) = next_link(links) else {
            return Ok(None);
        };
        let next = r.url.join(&target).map_err(|_| RegistryError::Protocol {
            url: r.url.to_string(),
            message: format!("unusable Link target {target:?}"),
        })?;
        // Never follow a page link to another host: credentials would go with it.
        if next.host_str() != self.base.host_str() || next.port_or_known_default() != self.base.port_or_known_default()
        {
            return Err(RegistryError::Protocol {
                url: r.url.to_string(),
                message: format!("Link to another host refused: {next}"),
            });
        }
        Ok(Some(next))
    }

    /// The first catalog page at a size the registry accepts, then a page stream via `next`.
    /// Registries may refuse a page size above their own limit with 400 PAGINATION_NUMBER_INVALID:
    /// the size is then halved until accepted.
    pub async fn catalog_first(&self) -> Result<CatalogPage, RegistryError> {
        let mut n = self.config.catalog_page_size.max(1);
        loop {
            let mut url = self.url("/v2/_catalog");
            url.query_pairs_mut().append_pair("n", &n.to_string());
            match self.catalog_page(url).await {
                Err(RegistryError::Status { status: 400, detail, .. })
                    if n > 1 && detail.as_deref().is_some_and(|d| d.contains("PAGINATION_NUMBER_INVALID")) =>
                {
                    n /= 2;
                    tracing::debug!(n, "catalog page size refused; halving");
                }
                other => return other,
            }
        }
    }

    pub async fn catalog_next(&self, url: Url) -> Result<CatalogPage, RegistryError> {
        self.catalog_page(url).await
    }

    /// Every tag of `repo`, following `Link` pages. `Ok(None)` if the repository is unknown.
    pub async fn list_tags(&self, repo: &str) -> Result<Option<Vec<String>>, RegistryError> {
        let mut url = self.url(&format!("/v2/{repo}/tags/list"));
        let mut tags = Vec::new();
        let mut pages = 0usize;
        loop {
            // A 404 means an unknown repository on the first page only; later, it is an error.
            let Some((page, r)) = self.tag_page(repo, &url, pages == 0).await? else { return Ok(None) };
            tags.extend(page);
            pages += 1;
            match self.next_page(&r)? {
                Some(next) if pages < 100_000 => url = next,
                _ => return Ok(Some(tags)),
            }
        }
    }

    /// Whether `repo` exists, asked with the first entry of its tag list (`?n=1`): `Some(true)`
    /// on a 200; `Some(false)` on a 404, with NAME_UNKNOWN or bare (the distribution spec answers
    /// the tag list of an unknown repository 404 NAME_UNKNOWN; a tag list has no other 404);
    /// `None` on a 401/403 (credentials that may pull but not list: the registry does not say).
    pub async fn repository_exists(&self, repo: &str) -> Result<Option<bool>, RegistryError> {
        let mut url = self.url(&format!("/v2/{repo}/tags/list"));
        url.query_pairs_mut().append_pair("n", "1");
        let scope = Scope::Pull(repo.to_string());
        let r = self
            .request(RequestKind::TagList, Method::GET, url, &scope, Some("application/json"), MAX_LIST_PAGE_BYTES)
            .await?;
        match r.status.as_u16() {
            200..=299 => Ok(Some(true)),
            404 => Ok(Some(false)),
            401 | 403 => Ok(None),
            _ => Err(status_error(&Method::GET, &r)),
        }
    }

    /// One page of a tag list: its tags, and the response for its `Link`. `Ok(None)` on a 404
    /// when `not_found_is_none` (an unknown repository, or one without tags), else an error.
    async fn tag_page(
        &self,
        repo: &str,
        url: &Url,
        not_found_is_none: bool,
    ) -> Result<Option<(Vec<String>, Response)>, RegistryError> {
        let scope = Scope::Pull(repo.to_string());
        let r = self
            .request(
                RequestKind::TagList,
                Method::GET,
                url.clone(),
                &scope,
                Some("application/json"),
                MAX_LIST_PAGE_BYTES,
            )
            .await?;
        if r.status == StatusCode::NOT_FOUND && not_found_is_none {
            return Ok(None);
        }
        if !r.status.is_success() {
            return Err(status_error(&Method::GET, &r));
        }
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let t: TagList = serde_json::from_slice(&r.body).map_err(|e| RegistryError::Protocol {
            url: url.to_string(),
            message: format!("tag list is not JSON: {e}"),
        })?;
        Ok(Some((t.tags.unwrap_or_default(), r)))
    }

    /// `HEAD` a manifest: its digest, media type and size. `Ok(None)` when it does not exist.
    /// A HEAD is the cheapest way to resolve a tag; if the registry omits `Docker-Content-Digest`
    /// the manifest is fetched and hashed instead.
    pub async fn head_manifest(&self, repo: &str, reference: &str) -> Result<Option<ManifestHead>, RegistryError> {
        match self.head_manifest_inner(repo, reference).await {
            Ok(Head::Found(h)) => Ok(Some(h)),
            Ok(Head::Incomplete) => Ok(self.get_manifest(repo, reference).await?.map(|f| f.head())),
            Err(e) if e.status() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A HEAD; a 404 is an error.
    async fn head_manifest_inner(&self, repo: &str, reference: &str) -> Result<Head, RegistryError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let r = self
            .request(
                RequestKind::ManifestHead,
                Method::HEAD,
                url.clone(),
                &Scope::Pull(repo.into()),
                Some(MANIFEST_ACCEPT),
                0,
            )
            .await?;
        if !r.status.is_success() {
            return Err(status_error(&Method::HEAD, &r));
        }
        let digest = r.headers.get("docker-content-digest").and_then(|v| v.to_str().ok()).and_then(Digest::parse);
        let media_type = header_str(&r.headers, CONTENT_TYPE.as_str());
        let size = header_str(&r.headers, "content-length").and_then(|s| s.parse::<u64>().ok());
        match (digest, media_type, size) {
            (Some(digest), Some(media_type), Some(size)) => {
                if let Some(asked) = Digest::parse(reference) {
                    if asked != digest {
                        return Err(RegistryError::DigestMismatch {
                            url: url.to_string(),
                            expected: asked.to_string(),
                            actual: digest.to_string(),
                        });
                    }
                }
                Ok(Head::Found(ManifestHead { digest, media_type: base_media_type(&media_type), size }))
            }
            _ => Ok(Head::Incomplete),
        }
    }

    /// Resolve a reference something listed or named (a tag of the tag list, an image given on
    /// the command line): a HEAD, or with `verify_digests` a GET whose bytes are hashed. A 404
    /// is an error here (with the registry's answer), not "none".
    pub async fn resolve(&self, repo: &str, reference: &str) -> Result<Resolved, RegistryError> {
        if self.config.verify_digests {
            let fetched = self.fetch_manifest(repo, reference).await?;
            return Ok(Resolved { head: fetched.head(), fetched: Some(fetched) });
        }
        match self.head_manifest_inner(repo, reference).await? {
            Head::Found(head) => Ok(Resolved { head, fetched: None }),
            Head::Incomplete => {
                let fetched = self.fetch_manifest(repo, reference).await?;
                Ok(Resolved { head: fetched.head(), fetched: Some(fetched) })
            }
        }
    }

    /// `GET` a manifest something listed (a tag of the tag list, an entry of an index): a 404 is
    /// an error, with the registry's answer.
    pub async fn fetch_manifest(&self, repo: &str, reference: &str) -> Result<Fetched, RegistryError> {
        let (url, r) = self.manifest_get(repo, reference).await?;
        if !r.status.is_success() {
            return Err(status_error(&Method::GET, &r));
        }
        fetched(url, reference, r)
    }

    async fn manifest_get(&self, repo: &str, reference: &str) -> Result<(Url, Response), RegistryError> {
        let url = self.url(&format!("/v2/{repo}/manifests/{reference}"));
        let r = self
            .request(
                RequestKind::ManifestGet,
                Method::GET,
                url.clone(),
                &Scope::Pull(repo.into()),
                Some(MANIFEST_ACCEPT),
                MAX_MANIFEST_BYTES,
            )
            .await?;
        Ok((url, r))
    }

    /// `GET` a manifest, its digest recomputed from the bytes (and checked against a digest
    /// reference). `Ok(None)` when it does not exist: for probes of what no listing announced.
    pub async fn get_manifest(&self, repo: &str, reference: &str) -> Result<Option<Fetched>, RegistryError> {
        let (url, r) = self.manifest_get(repo, reference).await?;
        if r.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !r.status.is_success() {
            return Err(status_error(&Method::GET, &r));
        }
        fetched(url, reference, r).map(Some)
    }

    /// `GET` a blob of at most `limit` bytes and check it against its digest.
    pub async fn get_blob(&self, repo: &str, digest: &Digest, limit: usize) -> Result<Vec<u8>, RegistryError> {
        let url = self.url(&format!("/v2/{repo}/blobs/{digest}"));
        let r =
            self.request(RequestKind::Blob, Method::GET, url.clone(), &Scope::Pull(repo.into()), None, limit).await?;
        if !r.status.is_success() {
            return Err(status_error(&Method::GET, &r));
        }
        if !digest.matches(&r.body) {
            return Err(RegistryError::DigestMismatch {
                url: url.to_string(),
                expected: digest.to_string(),
                actual: Digest::sha256_of(&r.body).to_string(),
            });
        }
        Ok(r.body)
    }

    /// Whether the registry announced the signature extension when pinged.
    pub fn supports_signatures(&self) -> bool {
        self.supports_signatures.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The simple-signing signatures the signature extension holds for `digest` (containers/image
    /// `getSignaturesFromAPIExtension`): `{"signatures": [{"schemaVersion": 2, "type": "atomic",
    /// "name": …, "content": base64}]}`; entries of another version or type are skipped, as
    /// containers/image skips them. Any answer but 200 is an error. Returns the URL asked too.
    pub async fn extension_signatures(
        &self,
        repo: &str,
        digest: &Digest,
    ) -> Result<(Url, Vec<Vec<u8>>), RegistryError> {
        let url = self.url(&format!("/extensions/v2/{repo}/signatures/{digest}"));
        let scope = Scope::Pull(repo.into());
        let r =
            self.request(RequestKind::Signatures, Method::GET, url.clone(), &scope, None, MAX_MANIFEST_BYTES).await?;
        if r.status != StatusCode::OK {
            return Err(status_error(&Method::GET, &r));
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            #[serde(rename = "schemaVersion")]
            version: i64,
            #[serde(rename = "type")]
            kind: String,
            content: String,
        }
        #[derive(serde::Deserialize)]
        struct List {
            signatures: Vec<Entry>,
        }
        let list: List = serde_json::from_slice(&r.body).map_err(|e| RegistryError::Protocol {
            url: url.to_string(),
            message: format!("signature extension answer is not a signature list: {e}"),
        })?;
        let mut out = Vec::new();
        for e in list.signatures.into_iter().filter(|e| e.version == 2 && e.kind == "atomic") {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD.decode(e.content.trim()).map_err(|err| {
                RegistryError::Protocol {
                    url: url.to_string(),
                    message: format!("signature content is not base64: {err}"),
                }
            })?;
            out.push(bytes);
        }
        Ok((url, out))
    }

    /// The referrers API for `digest`, all pages. A 404 that is not NAME_UNKNOWN, or an answer that
    /// is not an image index, means the registry has no API.
    pub async fn referrers(&self, repo: &str, digest: &Digest) -> Result<ReferrersAnswer, RegistryError> {
        let mut url = self.url(&format!("/v2/{repo}/referrers/{digest}"));
        let scope = Scope::Pull(repo.into());
        let mut entries = Vec::new();
        let mut pages = 0;
        loop {
            let r = self
                .request(RequestKind::Referrers, Method::GET, url.clone(), &scope, Some(OCI_INDEX), MAX_MANIFEST_BYTES)
                .await?;
            if r.status == StatusCode::NOT_FOUND {
                if String::from_utf8_lossy(&r.body).contains("NAME_UNKNOWN") {
                    return Err(status_error(&Method::GET, &r));
                }
                return Ok(ReferrersAnswer::Unsupported);
            }
            if !r.status.is_success() {
                return Err(status_error(&Method::GET, &r));
            }
            let ct = header_str(&r.headers, CONTENT_TYPE.as_str()).map(|m| base_media_type(&m));
            if ct.as_deref() != Some(OCI_INDEX) {
                return Ok(ReferrersAnswer::Unsupported);
            }
            let index: oci_client::manifest::OciImageIndex =
                serde_json::from_slice(&r.body).map_err(|e| RegistryError::Protocol {
                    url: url.to_string(),
                    message: format!("referrers answer is not an image index: {e}"),
                })?;
            entries.extend(index.manifests);
            pages += 1;
            match self.next_page(&r)? {
                Some(next) if pages < 1000 => url = next,
                _ => return Ok(ReferrersAnswer::Supported(entries)),
            }
        }
    }
}

/// What a successful HEAD told.
enum Head {
    Found(ManifestHead),
    /// No `Docker-Content-Digest`, type or length: the manifest must be fetched and hashed.
    Incomplete,
}

/// A manifest GET's answer as [`Fetched`]: the digest recomputed from the bytes and checked
/// against a digest reference; the registry's announced digest kept for the caller to compare.
fn fetched(url: Url, reference: &str, r: Response) -> Result<Fetched, RegistryError> {
    let digest = Digest::sha256_of(&r.body);
    if let Some(asked) = Digest::parse(reference) {
        if !asked.matches(&r.body) {
            return Err(RegistryError::DigestMismatch {
                url: url.to_string(),
                expected: asked.to_string(),
                actual: digest.to_string(),
            });
        }
    }
    let media_type = header_str(&r.headers, CONTENT_TYPE.as_str())
        .map(|m| base_media_type(&m))
        .or_else(|| media_type_in(&r.body))
        .unwrap_or_default();
    let announced = header_str(&r.headers, "docker-content-digest").as_deref().and_then(Digest::parse);
    Ok(Fetched { bytes: r.body, digest, media_type, announced })
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

/// `application/json; charset=utf-8` -> `application/json`
fn base_media_type(m: &str) -> String {
    m.split(';').next().unwrap_or(m).trim().to_string()
}

fn media_type_in(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.get("mediaType")?.as_str().map(str::to_string)
}

async fn read_capped(mut res: reqwest::Response, limit: usize, url: &Url) -> Result<Vec<u8>, RegistryError> {
    if res.content_length().is_some_and(|n| n > limit as u64) {
        return Err(RegistryError::TooLarge { url: url.to_string(), limit });
    }
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(RegistryError::TooLarge { url: url.to_string(), limit });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => return Err(transport(&Method::GET, url, &e)),
        }
    }
}

fn transport(method: &Method, url: &Url, e: &reqwest::Error) -> RegistryError {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    RegistryError::Transport { method: method.to_string(), url: url.to_string(), message }
}

fn status_error(method: &Method, r: &Response) -> RegistryError {
    // The distribution error body: {"errors":[{"code","message"}]}; keep code and message only.
    let detail = serde_json::from_slice::<serde_json::Value>(&r.body).ok().and_then(|v| {
        let e = v.get("errors")?.get(0)?;
        let code = e.get("code").and_then(|c| c.as_str()).unwrap_or("");
        let msg = e.get("message").and_then(|c| c.as_str()).unwrap_or("");
        Some(format!("{code}: {msg}").trim_matches([':', ' ']).to_string())
    });
    RegistryError::Status { method: method.to_string(), url: r.url.to_string(), status: r.status.as_u16(), detail }
}

/// `Retry-After` in seconds (capped at 60 s); HTTP dates fall back to the backoff.
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let s = header_str(h, "retry-after")?;
    s.trim().parse::<u64>().ok().map(|n| Duration::from_secs(n.min(60)))
}

/// Exponential backoff with full jitter: 100 ms × 2^attempt, at most 10 s.
fn backoff(attempt: u32) -> Duration {
    let cap = Duration::from_millis(100 * (1u64 << attempt.min(7))).min(Duration::from_secs(10));
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    let jitter = 0.5 + (nanos % 1000) as f64 / 2000.0;
    cap.mul_f64(jitter)
}
