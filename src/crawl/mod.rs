//! The crawl pipeline: catalog pages → repositories → tag lists → images (one per digest) →
//! signature discovery and verdicts → [`Event`]s sent to the report writer as they complete.
//! Concurrency is bounded by the registry client's request permits, across repositories, not
//! repository by repository; nothing holds the whole registry in memory.

mod discover;
pub mod lookaside;
mod repo;
pub mod shard;
pub mod sigrepo;

pub use shard::Shard;

use crate::oci::Digest;
use crate::registry::listers::Lister;
use crate::registry::{ReferrersAnswer, RegistryClient};
use crate::report::{ErrorReport, FileReport, ImageReport, NoteReport, OrphanReport};
use crate::trust::Trust;
use futures::stream::{self, StreamExt};
use globset::GlobSet;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex, OnceCell};

/// What the crawl reports, in completion order.
#[derive(Debug)]
pub enum Event {
    /// Repositories scanned (of this registry, stamped by the scan): one at a time by a crawl,
    /// a report's count at once by a merge.
    Repositories(Option<String>, u64),
    Image(Box<ImageReport>),
    Orphan(OrphanReport),
    /// A file of a supported type (filesystem scan).
    File(Box<FileReport>),
    /// A file of no supported type (filesystem scan; only counted).
    Skipped,
    Error(ErrorReport),
    /// Something that is not an error and decides no verdict: a path of a filesystem walk not
    /// walked again, a repository without tags.
    Note(NoteReport),
    /// Tags a repository lists that no reported image carries: their manifest is gone or could
    /// not be read (each is also an `Error`). They count in `summary.tags`. The registry is
    /// stamped by the scan.
    LostTags(Option<String>, u64),
    /// `--baseline` and `--waivers`: what changed since the baseline and what became of the
    /// waivers, sent once, last, after every item was seen.
    Audit(Box<crate::report::AuditSection>),
    /// `sigaudit cluster`: every container of the pods listed, with the status of what it runs;
    /// sent once, after the images.
    Workloads(Vec<crate::report::workload::WorkloadReport>),
}

/// Something wrong with an image found before its signatures are looked up; reported in
/// `errors` under `code` and in the image's `discoveryErrors`.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub code: &'static str,
    /// What failed (a tag, a nested index), when it is not the image's digest.
    pub reference: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(code: &'static str, reference: Option<String>, message: String) -> Problem {
        Problem { code, reference, message }
    }

    /// A tag whose bytes do not hash to the digest the registry announced for them.
    pub fn digest_mismatch(reference: &str, announced: &Digest, actual: &Digest) -> Problem {
        let message = format!(
            "{reference}: the registry announces {announced} (Docker-Content-Digest) but serves bytes whose digest is {actual}"
        );
        Problem::new("digest-mismatch", Some(reference.to_string()), message)
    }
}

#[derive(Debug, Clone, Default)]
pub struct RepoFilter {
    /// Only repositories under this prefix (`team/` for `HOST/team`).
    pub namespace: Option<String>,
    pub include: Option<GlobSet>,
    pub exclude: Option<GlobSet>,
    /// `--shard INDEX/COUNT`: only the repositories this shard owns.
    pub shard: Option<Shard>,
}

impl RepoFilter {
    pub fn accepts(&self, repo: &str) -> bool {
        if let Some(ns) = &self.namespace {
            let ns = ns.trim_end_matches('/');
            if repo != ns && !repo.starts_with(&format!("{ns}/")) {
                return false;
            }
        }
        if let Some(inc) = &self.include {
            if !inc.is_match(repo) {
                return false;
            }
        }
        if let Some(exc) = &self.exclude {
            if exc.is_match(repo) {
                return false;
            }
        }
        self.shard.is_none_or(|s| s.owns(repo))
    }
}

/// Whether a catalog answer says the registry will not list repositories (to these credentials),
/// as opposed to a fault: then a list of repositories is what would work.
fn catalog_refused(e: &crate::registry::RegistryError) -> bool {
    use crate::registry::RegistryError;
    match e {
        RegistryError::Auth { .. } => true,
        RegistryError::Status { status, detail, .. } => {
            matches!(status, 401 | 403 | 404 | 405) || detail.as_deref().is_some_and(|d| d.contains("UNSUPPORTED"))
        }
        _ => false,
    }
}

/// Where a registry walk takes its repositories from.
pub enum RepoSource {
    /// `/v2/_catalog`.
    Catalog,
    /// Named by the user (`--repos-file`): each must exist.
    Named(Vec<String>),
    /// A platform API (`scan.listing`: docker-hub, ghcr, gitlab, quay, harbor).
    Lister(Arc<Lister>),
}

/// Shared state of one scan.
pub struct Scan {
    pub client: Arc<RegistryClient>,
    /// The registry as reports name it (`HOST[:PORT]`): every image, orphan, error and note of
    /// this scan carries it, so reports of several registries (or shards) merge unambiguously.
    pub registry: String,
    pub trust: Arc<Trust>,
    /// Unix seconds used for time checks (signature expiry).
    pub now: i64,
    /// Whether the registry implements the referrers API; probed once.
    referrers_api: OnceCell<bool>,
    /// Tag lists read to check guessed tags (`sigaudit image`), once per repository.
    tag_lists: Mutex<HashMap<String, Arc<OnceCell<TagListing>>>>,
    events: mpsc::Sender<Event>,
    /// Where else signatures are looked up: signature repositories, simple-signing stores.
    sources: Sources,
    /// The digests each signature repository was asked about (for its orphans).
    claims: Mutex<sigrepo::Claims>,
    /// The trust of several containers-policy scopes together, for images whose references fall
    /// in several, by their scope labels.
    scoped_unions: std::sync::Mutex<HashMap<Vec<String>, Arc<Trust>>>,
    /// Whether each signature repository of this registry exists, asked once.
    signature_repository_exists: Mutex<HashMap<String, Arc<OnceCell<Existence>>>>,
}

/// Signature sources beyond the image's own repository.
#[derive(Default)]
pub struct Sources {
    pub signature_repositories: sigrepo::SignatureRepositories,
    /// A scan of each registry that holds a signature repository, by `HOST[:PORT]` (this
    /// registry's included when a signature repository is on it).
    pub signature_scans: HashMap<String, Arc<Scan>>,
    pub simple_signing: Option<Arc<lookaside::SimpleSigning>>,
    /// `--containers-policy` with `sigstoreSigned` keys: the trust of each of its scopes (the
    /// scan's trust plus that scope's keys), by the scope's label.
    pub scoped_trust: Option<ScopedTrust>,
    /// `--containers-policy`: evaluated for each reference of each image (its `policy` report).
    pub containers_policy: Option<Arc<crate::containers::policy::ContainersPolicy>>,
}

/// A containers policy and the trust of each of its scopes that has `sigstoreSigned` keys.
pub type ScopedTrust = (Arc<crate::containers::policy::ContainersPolicy>, HashMap<String, Arc<Trust>>);

/// Whether a repository exists, as its tag list said: `Ok(None)` when the registry would not say.
type Existence = Result<Option<bool>, String>;

/// A repository's tag list as read for checking guessed tags.
enum TagListing {
    Tags(HashSet<String>),
    /// The registry does not let these credentials list tags (401/403).
    Forbidden,
    Failed(String),
}

impl Scan {
    pub fn new(client: Arc<RegistryClient>, trust: Arc<Trust>, now: i64, events: mpsc::Sender<Event>) -> Arc<Scan> {
        Scan::with_sources(client, trust, now, events, Sources::default())
    }

    /// A scan that also looks where `sources` say.
    pub fn with_sources(
        client: Arc<RegistryClient>,
        trust: Arc<Trust>,
        now: i64,
        events: mpsc::Sender<Event>,
        sources: Sources,
    ) -> Arc<Scan> {
        let registry = client.host().to_string();
        Arc::new(Scan {
            client,
            registry,
            trust,
            now,
            referrers_api: OnceCell::new(),
            tag_lists: Mutex::default(),
            events,
            sources,
            claims: Mutex::default(),
            scoped_unions: std::sync::Mutex::default(),
            signature_repository_exists: Mutex::default(),
        })
    }

    /// Where the cosign signatures and referrers of images of `repo` are looked up, when that is
    /// a signature repository: the scan of its registry, its name, and its target.
    fn signature_repository(self: &Arc<Self>, repo: &str) -> Option<(Arc<Scan>, sigrepo::Target)> {
        let target = self.sources.signature_repositories.for_image(&format!("{}/{repo}", self.registry))?;
        let scan = match self.sources.signature_scans.get(&target.host) {
            Some(s) => s.clone(),
            None if target.host == self.registry => self.clone(),
            None => return None,
        };
        Some((scan, target.clone()))
    }

    /// The trust that judges cosign, Notary and bundle signatures of the image `HOST/REPO` of
    /// `digest` reached by `tags`: the scan's, plus the `sigstoreSigned` keys of the containers
    /// policy's scope for each of its references (each tag's own scope, or the digest's, as
    /// containers/image picks them). Whether each reference's scope is satisfied is the image's
    /// policy verdict.
    fn trust_for(&self, name: &str, tags: &[String], digest: &str) -> Arc<Trust> {
        let Some((policy, by_scope)) = &self.sources.scoped_trust else { return self.trust.clone() };
        let refs = crate::containers::policy_eval::references(name, tags, digest);
        let scopes: Vec<(&crate::containers::policy::Requirements, String)> =
            policy.applicable(&refs).into_iter().filter(|(_, label)| by_scope.contains_key(label)).collect();
        let labels: Vec<String> = scopes.iter().map(|(_, l)| l.clone()).collect();
        match labels.as_slice() {
            [] => return self.trust.clone(),
            [one] => return by_scope[one].clone(),
            _ => {}
        }
        let mut unions = self.scoped_unions.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        unions
            .entry(labels.clone())
            .or_insert_with(|| {
                let mut t = (*by_scope[&labels[0]]).clone();
                for (req, label) in &scopes[1..] {
                    for k in &req.sigstore_keys {
                        let source = format!("{} ({}, {label})", k.source, policy.source);
                        // Each key parsed already when its scope's trust was made.
                        if let Err(e) = t.add_key_der(k.der.clone(), &source) {
                            tracing::warn!("--containers-policy {source}: {e}");
                        }
                    }
                }
                Arc::new(t)
            })
            .clone()
    }

    /// Whether the signature repository `repo` of this registry exists (asked once): `Ok(None)`
    /// when the registry does not say (tag listing refused).
    async fn signature_repository_exists(&self, repo: &str) -> Existence {
        let cell = self.signature_repository_exists.lock().await.entry(repo.to_string()).or_default().clone();
        cell.get_or_init(|| async { self.client.repository_exists(repo).await.map_err(|e| e.to_string()) })
            .await
            .clone()
    }

    /// Whether `repo` of this registry is a signature repository (its tags are judged by the
    /// orphan pass of [`Scan::signature_repository_orphans`], not as a repository's own).
    fn is_signature_repository(&self, repo: &str) -> bool {
        self.sources.signature_repositories.targets().any(|t| t.host == self.registry && t.repo == repo)
    }

    /// Send an event to the report writer, stamped with this scan's registry.
    async fn emit(&self, mut e: Event) {
        let registry = Some(self.registry.clone());
        match &mut e {
            Event::Repositories(r, _) | Event::LostTags(r, _) => *r = registry,
            Event::Image(i) => i.registry = registry,
            Event::Orphan(o) => o.registry = registry,
            Event::Error(x) => x.registry = registry,
            Event::Note(n) => n.registry = registry,
            Event::File(_) | Event::Skipped | Event::Audit(_) | Event::Workloads(_) => {}
        }
        // The writer only goes away when the process is ending.
        let _ = self.events.send(e).await;
    }

    async fn error(&self, repository: Option<&str>, reference: Option<&str>, code: &str, message: String) {
        tracing::warn!(repository, reference, code, "{message}");
        self.emit(Event::Error(ErrorReport {
            registry: None,
            repository: repository.map(str::to_string),
            reference: reference.map(str::to_string),
            code: code.into(),
            message,
        }))
        .await;
    }

    /// Probe the referrers API once per registry (with the zero digest, as ORAS does).
    async fn has_referrers_api(&self, repo: &str) -> bool {
        *self
            .referrers_api
            .get_or_init(|| async {
                let zero = Digest::parse(&format!("sha256:{}", "0".repeat(64))).expect("valid digest");
                match self.client.referrers(repo, &zero).await {
                    Ok(ReferrersAnswer::Supported(_)) => true,
                    Ok(ReferrersAnswer::Unsupported) => false,
                    Err(e) => {
                        // Not knowing whether the API exists means referrers only it lists could be
                        // missed: report it (the scan is incomplete) rather than only log it.
                        let msg = format!("referrers API probe failed, falling back to the referrers tag schema: {e}");
                        self.error(Some(repo), None, "discovery-error", msg).await;
                        false
                    }
                }
            })
            .await
    }

    /// Whether the tag list of `repo` names `tag`, for a guessed tag that answered 404: a listed
    /// tag whose manifest is gone is an error, never "none". The list is read once per repository
    /// (all its pages, as `registry` reads it). `Ok(None)` when the registry does not let these
    /// credentials list tags (401/403; pull-only credentials often cannot): the 404 stands, with a
    /// warning. Any other failure is an error: nothing tells whether the signature is there.
    async fn tag_listed(&self, repo: &str, tag: &str) -> Result<Option<bool>, String> {
        let cell = self.tag_lists.lock().await.entry(repo.to_string()).or_default().clone();
        let listing = cell
            .get_or_init(|| async {
                match self.client.list_tags(repo).await {
                    Ok(tags) => TagListing::Tags(tags.unwrap_or_default().into_iter().collect()),
                    Err(e) if matches!(e.status(), Some(401 | 403)) => {
                        tracing::warn!(
                            repository = repo,
                            "the tag list cannot be read ({e}): guessed signature tags that answer 404 are taken as none"
                        );
                        TagListing::Forbidden
                    }
                    Err(e) => TagListing::Failed(e.to_string()),
                }
            })
            .await;
        match listing {
            TagListing::Tags(tags) => Ok(Some(tags.contains(tag))),
            TagListing::Forbidden => Ok(None),
            TagListing::Failed(e) => Err(e.clone()),
        }
    }

    /// Walk a registry: the catalog, the given repositories, or a platform API's listing;
    /// filtered, repositories in parallel. Repositories the user named must exist; ones a
    /// listing lists exist even when their tag list answers 404 (only untagged manifests).
    pub async fn registry(self: &Arc<Self>, filter: &RepoFilter, source: RepoSource, parallel_repos: usize) {
        let (named, lister) = match &source {
            RepoSource::Named(_) => (true, None),
            RepoSource::Catalog => (false, None),
            RepoSource::Lister(l) => (false, Some(l.clone())),
        };
        let repo_stream: stream::BoxStream<'_, String> = match source {
            RepoSource::Named(list) => stream::iter(list).boxed(),
            RepoSource::Catalog => self.catalog().boxed(),
            RepoSource::Lister(l) => self.platform_listing(l).boxed(),
        };
        repo_stream
            .filter(|r| std::future::ready(filter.accepts(r)))
            .for_each_concurrent(parallel_repos.max(1), |repo| {
                let scan = Arc::clone(self);
                let lister = lister.clone();
                async move {
                    scan.emit(Event::Repositories(None, 1)).await;
                    let listed = match &lister {
                        None => None,
                        Some(l) => match l.tags(&repo).await {
                            Ok(tags) => tags,
                            Err(e) => {
                                let msg = format!("the {} API did not list the tags of {repo}: {e}", l.platform());
                                return scan.error(Some(&repo), None, "tag-list-error", msg).await;
                            }
                        },
                    };
                    match listed {
                        Some(tags) => repo::scan_listed_repository(&scan, &repo, tags).await,
                        None => repo::scan_repository(&scan, &repo, named).await,
                    }
                }
            })
            .await;
        self.signature_repository_orphans(filter).await;
    }

    /// The signature tags of each signature repository that images of this registry map to and
    /// that no scanned image claimed: orphans of that repository (with the repository their payload names, when it holds the digest). A
    /// sharded scan does this in the shard that owns the signature repository's name.
    async fn signature_repository_orphans(self: &Arc<Self>, filter: &RepoFilter) {
        let claims = std::mem::take(&mut *self.claims.lock().await);
        let mut targets: Vec<sigrepo::Target> =
            self.sources.signature_repositories.targets_of_registry(&self.registry).cloned().collect();
        targets.sort();
        targets.dedup();
        for target in targets {
            if filter.shard.is_some_and(|s| !s.owns(&target.repo)) {
                continue;
            }
            let scan = match self.sources.signature_scans.get(&target.host) {
                Some(s) => s.clone(),
                None if target.host == self.registry => self.clone(),
                None => continue,
            };
            let empty = std::collections::HashSet::new();
            let claimed = claims.0.get(&target).unwrap_or(&empty);
            repo::signature_repository_orphans(&scan, &target.repo, claimed).await;
        }
    }

    /// A platform API's repository pages as a stream of names; a failing page ends the stream
    /// with a `listing-error` (the scan is then incomplete).
    fn platform_listing(self: &Arc<Self>, lister: Arc<Lister>) -> impl futures::Stream<Item = String> + '_ {
        enum Cursor {
            Start,
            Next(crate::registry::listers::PageCursor),
            Done,
        }
        use crate::registry::listers::PageCursor;
        // Pages already asked for (a `next` chain that loops back ends with an error) and
        // repositories already listed (a name listed twice is scanned once).
        let seen_pages: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();
        let seen_repos: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();
        stream::unfold(Cursor::Start, move |cursor| {
            let lister = lister.clone();
            let seen_pages = seen_pages.clone();
            let seen_repos = seen_repos.clone();
            async move {
                let page = match cursor {
                    Cursor::Done => return None,
                    Cursor::Start => lister.repositories(None).await,
                    Cursor::Next(c) => lister.repositories(Some(c)).await,
                };
                let platform = lister.platform();
                match page {
                    Ok(page) => {
                        for why in page.refused {
                            let msg = format!("the {platform} API listed a {why}");
                            self.error(None, None, "listing-error", msg).await;
                        }
                        let next = match page.next {
                            Ok(Some(c)) => {
                                let key = match &c {
                                    PageCursor::Url(u) => u.to_string(),
                                    PageCursor::Token(t) => format!("token:{t}"),
                                };
                                if seen_pages.lock().expect("not poisoned").insert(key.clone()) {
                                    Cursor::Next(c)
                                } else {
                                    let msg = format!(
                                        "the {platform} API's repository listing stopped: its next page loops back to a page already read ({key})"
                                    );
                                    self.error(None, None, "listing-error", msg).await;
                                    Cursor::Done
                                }
                            }
                            Ok(None) => Cursor::Done,
                            Err(e) => {
                                let msg = format!("the {platform} API's repository listing stopped: {e}");
                                self.error(None, None, "listing-error", msg).await;
                                Cursor::Done
                            }
                        };
                        let mut seen = seen_repos.lock().expect("not poisoned");
                        let fresh: Vec<String> = page
                            .repositories
                            .into_iter()
                            .filter(|r| {
                                let new = seen.insert(r.clone());
                                if !new {
                                    tracing::warn!(repository = %r, "the platform lists this repository again; scanned once");
                                }
                                new
                            })
                            .collect();
                        Some((fresh, next))
                    }
                    Err(e) => {
                        let msg = format!("the {platform} API did not list the repositories: {e}");
                        self.error(None, None, "listing-error", msg).await;
                        Some((Vec::new(), Cursor::Done))
                    }
                }
            }
        })
        .flat_map(stream::iter)
    }

    /// Catalog pages as a stream of repository names; a failing page ends the stream with an error.
    fn catalog(self: &Arc<Self>) -> impl futures::Stream<Item = String> + '_ {
        enum Cursor {
            Start,
            Next(url::Url),
            Done,
        }
        stream::unfold(Cursor::Start, move |cursor| async move {
            let page = match cursor {
                Cursor::Done => return None,
                Cursor::Start => self.client.catalog_first().await,
                Cursor::Next(url) => self.client.catalog_next(url).await,
            };
            match page {
                Ok(page) => {
                    let next = match page.next {
                        Ok(Some(url)) => Cursor::Next(url),
                        Ok(None) => Cursor::Done,
                        Err(e) => {
                            self.error(None, None, "catalog-error", e.to_string()).await;
                            Cursor::Done
                        }
                    };
                    // A name outside the distribution spec's grammar would be put into request
                    // paths (`..`, `%2F`): a hostile catalog could aim requests elsewhere.
                    let (names, bad): (Vec<String>, Vec<String>) =
                        page.repositories.into_iter().partition(|r| crate::registry::listers::valid_repository(r));
                    for name in bad {
                        let message = format!("the catalog lists {name:?}, which is not a repository name (OCI distribution spec): not scanned");
                        self.error(None, None, "catalog-error", message).await;
                    }
                    Some((names, next))
                }
                Err(e) => {
                    let message = match catalog_refused(&e) {
                        true => format!(
                            "{e}: this registry does not list its repositories to these credentials (Docker Hub, GHCR and GitLab serve no catalog; Quay and Harbor list only some): list them through the platform's API with --lister harbor, quay or gitlab and --lister-url URL (Docker Hub, ghcr.io, gitlab.com and quay.io are chosen from the host; give HOST/NAMESPACE), or name them with --repos-file FILE, one per line (or lister, lister-url or repos-file in the config file's [[targets]])"
                        ),
                        false => e.to_string(),
                    };
                    self.error(None, None, "catalog-error", message).await;
                    Some((Vec::new(), Cursor::Done))
                }
            }
        })
        .flat_map(stream::iter)
    }

    /// Scan named images (`repo:tag` or `repo@digest` within this registry).
    pub async fn images(self: &Arc<Self>, refs: Vec<(String, String)>) {
        repo::scan_references(self, refs).await;
    }
}
