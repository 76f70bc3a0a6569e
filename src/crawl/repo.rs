//! One repository: its tag list, each tag judged by what it points at (an image, or a signature
//! artifact whose tag name says which digest it signs), images grouped by digest, indexes folded
//! into the manifests they list, signature artifacts attached to what they sign, and orphans
//! reported with where their subject lives when it lives elsewhere. Named images (`sigaudit
//! image`) go through the same folding and discovery.

use super::discover::{discover, Hints, Lookup};
use super::{Event, Problem, Scan};
use crate::oci::{self, Digest, ManifestKind, TagKind};
use crate::registry::listers::ListedTag;
use crate::registry::{Fetched, ManifestHead, RegistryError, MAX_SIGNATURE_BLOB_BYTES};
use crate::report::{NoteReport, OrphanReport};
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::Arc;

/// An image of a repository: one digest, every tag that points at it.
pub(super) struct Image {
    pub head: ManifestHead,
    pub tags: Vec<String>,
    pub hints: Hints,
    /// The manifest's bytes, when a GET resolved it (an index needs them to list its manifests).
    pub bytes: Option<Vec<u8>>,
    /// For an index: the manifests it lists, nested indexes folded in.
    pub platforms: Vec<Member>,
    /// What went wrong before discovery (a digest mismatch, an unreadable nested index).
    pub problems: Vec<Problem>,
}

impl Image {
    fn new(head: ManifestHead, bytes: Option<Vec<u8>>) -> Image {
        Image { head, tags: Vec::new(), hints: Hints::default(), bytes, platforms: Vec::new(), problems: Vec::new() }
    }

    /// What resolving `reference` to this image fetched, if it fetched: a digest the registry
    /// announced for other bytes is a problem of the image; the bytes are kept for folding.
    fn resolved(&mut self, reference: &str, fetched: Option<Fetched>) {
        let Some(f) = fetched else { return };
        if let Some(announced) = f.misannounced() {
            self.problems.push(Problem::digest_mismatch(reference, announced, &f.digest));
        }
        self.bytes.get_or_insert(f.bytes);
    }

    /// Tags and problems in a stable order, whatever order the requests answered in.
    fn sort(&mut self) {
        self.tags.sort();
        self.problems.sort_by(|a, b| (&a.reference, &a.message).cmp(&(&b.reference, &b.message)));
    }
}

/// A manifest an index lists.
pub(super) struct Member {
    pub head: ManifestHead,
    /// `os/architecture[/variant]`, as the index states it.
    pub platform: Option<String>,
    /// The nested index that lists it, when that is not the reported index.
    pub parent: Option<Digest>,
    pub hints: Hints,
}

/// Indexes nested deeper than this are not followed (an error of the image).
const MAX_INDEX_DEPTH: usize = 8;
/// Manifests listed by one index, nested ones included, at most.
const MAX_INDEX_MEMBERS: usize = 1000;
/// Tags resolved concurrently per repository (the client bounds requests in flight).
const TAGS_IN_FLIGHT: usize = 64;

/// Signature artifacts the tag list names, by the digest they sign.
#[derive(Default)]
struct Artifacts {
    sig: HashMap<Digest, Lookup>,
    att: HashMap<Digest, Lookup>,
    referrers_tag: HashMap<Digest, Lookup>,
}

impl Artifacts {
    fn insert(&mut self, shape: TagKind, lookup: Lookup) {
        match shape {
            TagKind::CosignSignatures(d) => self.sig.insert(d, lookup),
            TagKind::CosignAttestations(d) => self.att.insert(d, lookup),
            TagKind::ReferrersIndex(d) => self.referrers_tag.insert(d, lookup),
            TagKind::CosignSbom(_) | TagKind::Image => None,
        };
    }

    fn hints(&self, d: &Digest) -> Hints {
        Hints {
            sig: self.sig.get(d).cloned(),
            att: self.att.get(d).cloned(),
            referrers_tag: self.referrers_tag.get(d).cloned(),
        }
    }

    fn digests(&self) -> BTreeSet<Digest> {
        self.sig.keys().chain(self.att.keys()).chain(self.referrers_tag.keys()).cloned().collect()
    }
}

/// What a listed tag turned out to be.
enum TagIs {
    /// An ordinary tag, and the image it resolves to.
    Image { tag: String, head: ManifestHead, fetched: Option<Fetched> },
    /// A signature artifact (by its content, or unreadable) whose name says what it signs.
    Artifact { shape: TagKind, lookup: Lookup },
    /// Another artifact (an SBOM attachment): no image, no signature.
    Other,
    /// A listed tag the registry did not serve. `ordinary`: not shaped like an artifact tag.
    Lost { tag: String, error: RegistryError, ordinary: bool },
}

/// Resolve one listed tag. Ordinary names take one HEAD (a GET with `--verify-digests`); names
/// shaped like artifact tags (`sha256-<hex>[.sig|.att|.sbom]`) are fetched, since only their
/// content tells an artifact from an image someone tagged that way, and discovery needs the
/// artifact's manifest anyway.
async fn resolve_tag(scan: &Arc<Scan>, repo: &str, tag: String) -> TagIs {
    let shape = TagKind::of(&tag);
    if shape == TagKind::Image {
        return match scan.client.resolve(repo, &tag).await {
            Ok(r) => TagIs::Image { tag, head: r.head, fetched: r.fetched },
            Err(error) => TagIs::Lost { tag, error, ordinary: true },
        };
    }
    let fetched = match scan.client.fetch_manifest(repo, &tag).await {
        Ok(f) => f,
        Err(error) if matches!(shape, TagKind::CosignSbom(_)) => return TagIs::Lost { tag, error, ordinary: false },
        Err(error) => {
            let lookup = Lookup::Listed { tag, manifest: Err(error.to_string()) };
            return TagIs::Artifact { shape, lookup };
        }
    };
    let kind = oci::classify(&fetched.bytes);
    match (kind, &shape) {
        (ManifestKind::Image | ManifestKind::Index, _) => {
            TagIs::Image { tag, head: fetched.head(), fetched: Some(fetched) }
        }
        (
            ManifestKind::Signature | ManifestKind::Unreadable,
            TagKind::CosignSignatures(_) | TagKind::CosignAttestations(_),
        )
        | (ManifestKind::ReferrersIndex | ManifestKind::Unreadable, TagKind::ReferrersIndex(_)) => {
            TagIs::Artifact { shape, lookup: Lookup::Listed { tag, manifest: Ok(fetched) } }
        }
        _ => {
            tracing::debug!(
                repository = repo,
                tag = tag.as_str(),
                ?kind,
                "an artifact that is no image and no signature"
            );
            TagIs::Other
        }
    }
}

pub(super) async fn scan_repository(scan: &Arc<Scan>, repo: &str, named: bool) {
    let tags = match scan.client.list_tags(repo).await {
        Ok(Some(t)) if !t.is_empty() => t,
        Ok(Some(_)) => return empty_repository(scan, repo, "no tags: the tag list is empty").await,
        // CNCF distribution answers 404 NAME_UNKNOWN for a repository that holds only untagged
        // manifests: a repository the catalog lists exists. One the user named may not.
        Ok(None) if !named => {
            return empty_repository(scan, repo, "no tags: the tag list answers 404 (untagged manifests only)").await
        }
        Ok(None) => {
            let msg =
                format!("repository {repo} not found: its tag list answers 404 (it does not exist, or holds no tags)");
            return scan.error(Some(repo), None, "repository-not-found", msg).await;
        }
        Err(e) => return scan.error(Some(repo), None, "tag-list-error", e.to_string()).await,
    };

    let resolved: Vec<TagIs> =
        stream::iter(tags).map(|tag| resolve_tag(scan, repo, tag)).buffer_unordered(TAGS_IN_FLIGHT).collect().await;
    scan_resolved(scan, repo, resolved).await;
}

/// A repository whose tags a platform API listed, with their digests where it gave them. The
/// ordinary tags of one digest are resolved together, by that digest: one manifest request
/// (HEAD, or GET with `--verify-digests`) per image instead of one per tag, and none for the
/// tag list. The registry still answers for the manifest (its media type and size, which a
/// Notary signature's subject must match), so a digest the platform names but the registry
/// does not hold is an error of each of its tags. Artifact-shaped tags and tags listed without
/// a digest are resolved as a tag list's are.
pub(super) async fn scan_listed_repository(scan: &Arc<Scan>, repo: &str, tags: Vec<ListedTag>) {
    if tags.is_empty() {
        return empty_repository(scan, repo, "no tags: the platform API lists none").await;
    }
    // A tag listed twice is one tag; listed at two digests, or once without one, the registry
    // says where it points.
    let mut digest_of: BTreeMap<String, Option<Digest>> = BTreeMap::new();
    for t in tags {
        match digest_of.entry(t.name) {
            std::collections::btree_map::Entry::Vacant(v) => {
                v.insert(t.digest);
            }
            std::collections::btree_map::Entry::Occupied(mut o) => {
                if *o.get() != t.digest {
                    tracing::warn!(repository = repo, tag = %o.key(), "the platform lists this tag at two digests; the registry resolves it");
                    o.insert(None);
                }
            }
        }
    }
    let mut by_digest: BTreeMap<Digest, Vec<String>> = BTreeMap::new();
    let mut by_name = Vec::new();
    for (name, digest) in digest_of {
        match digest {
            Some(d) if TagKind::of(&name) == TagKind::Image => by_digest.entry(d).or_default().push(name),
            _ => by_name.push(name),
        }
    }
    let mut resolved: Vec<TagIs> =
        stream::iter(by_name).map(|tag| resolve_tag(scan, repo, tag)).buffer_unordered(TAGS_IN_FLIGHT).collect().await;
    let groups: Vec<Vec<TagIs>> = stream::iter(by_digest)
        .map(|(digest, mut names)| async move {
            names.sort();
            names.dedup();
            match scan.client.resolve(repo, digest.as_str()).await {
                Ok(r) => {
                    let mut fetched = r.fetched;
                    let head = r.head;
                    names
                        .into_iter()
                        .map(|tag| TagIs::Image { tag, head: head.clone(), fetched: fetched.take() })
                        .collect()
                }
                Err(e) => names
                    .into_iter()
                    .map(|tag| TagIs::Lost {
                        error: RegistryError::Protocol {
                            url: format!("{repo}@{digest}"),
                            message: format!(
                                "the platform lists {tag} at {digest}, which the registry does not serve: {e}"
                            ),
                        },
                        tag,
                        ordinary: true,
                    })
                    .collect(),
            }
        })
        .buffer_unordered(TAGS_IN_FLIGHT)
        .collect()
        .await;
    resolved.extend(groups.into_iter().flatten());
    scan_resolved(scan, repo, resolved).await;
}

/// The rest of a repository's walk once its tags are resolved: images grouped by digest, indexes
/// folded, signature artifacts attached, untagged signed images and orphans found, discovery.
async fn scan_resolved(scan: &Arc<Scan>, repo: &str, resolved: Vec<TagIs>) {
    let mut images: BTreeMap<Digest, Image> = BTreeMap::new();
    let mut artifacts = Artifacts::default();
    let mut lost = 0u64;
    for t in resolved {
        match t {
            TagIs::Image { tag, head, fetched } => {
                let image = images.entry(head.digest.clone()).or_insert_with(|| Image::new(head, None));
                image.resolved(&tag, fetched);
                image.tags.push(tag);
            }
            TagIs::Artifact { shape, lookup } => artifacts.insert(shape, lookup),
            TagIs::Other => {}
            TagIs::Lost { tag, error, ordinary } => {
                lost += u64::from(ordinary);
                let (code, message) = match error.status() {
                    Some(404) => {
                        ("manifest-not-found", format!("tag {tag} is listed but its manifest is gone: {error}"))
                    }
                    _ => ("manifest-error", format!("tag {tag}: {error}")),
                };
                scan.error(Some(repo), Some(&tag), code, message).await;
            }
        }
    }
    if lost > 0 {
        scan.emit(Event::LostTags(None, lost)).await;
    }
    for image in images.values_mut() {
        image.sort();
        fold(scan, repo, image).await;
    }

    // Signature artifacts whose digest is no tagged image and no manifest of a tagged index: an
    // image pushed by digest only, a signature of a signature artifact, or an orphan.
    let known: HashSet<Digest> = images
        .values()
        .flat_map(|i| std::iter::once(&i.head.digest).chain(i.platforms.iter().map(|m| &m.head.digest)))
        .cloned()
        .collect();
    let mut untagged: BTreeMap<Digest, Image> = BTreeMap::new();
    for d in artifacts.digests().into_iter().filter(|d| !known.contains(d)) {
        match scan.client.get_manifest(repo, d.as_str()).await {
            // A signature repository's signatures are judged by its own orphan pass.
            Ok(None) if scan.is_signature_repository(repo) => {}
            Ok(None) => orphan(scan, repo, &d, &artifacts.hints(&d)).await,
            Ok(Some(f)) => match oci::classify(&f.bytes) {
                ManifestKind::Image | ManifestKind::Index => {
                    untagged.insert(d, Image::new(f.head(), Some(f.bytes)));
                }
                kind => tracing::debug!(repository = repo, %d, ?kind, "signed artifact; not an image"),
            },
            Err(e) => scan.error(Some(repo), Some(d.as_str()), "manifest-error", e.to_string()).await,
        }
    }
    for image in untagged.values_mut() {
        fold(scan, repo, image).await;
    }
    // An untagged manifest that an untagged index lists is a platform of that index.
    let listed: HashSet<Digest> =
        untagged.values().flat_map(|i| i.platforms.iter().map(|m| m.head.digest.clone())).collect();
    untagged.retain(|d, _| !listed.contains(d));
    images.extend(untagged);

    for image in images.values_mut() {
        image.hints = artifacts.hints(&image.head.digest);
        for m in &mut image.platforms {
            m.hints = artifacts.hints(&m.head.digest);
        }
    }
    stream::iter(images.into_values())
        .for_each_concurrent(16, |image| async move {
            let report = discover(scan, repo, image).await;
            scan.emit(Event::Image(Box::new(report))).await;
        })
        .await;
}

/// A repository with no tags: its untagged manifests, if any, cannot be listed.
async fn empty_repository(scan: &Arc<Scan>, repo: &str, message: &str) {
    let message = message.to_string();
    tracing::info!(repository = repo, "{message}");
    let note = NoteReport { registry: None, path: repo.into(), code: "empty-repository".into(), message };
    scan.emit(Event::Note(note)).await;
}

/// An index's manifests, nested indexes folded in breadth first: the top index's entries, then
/// each nested index's, each naming the index that lists it. BuildKit's attestation manifests
/// (`vnd.docker.reference.type: attestation-manifest`) are no platforms and are left out. A
/// nested index the registry cannot serve is an error of the image.
async fn fold(scan: &Arc<Scan>, repo: &str, image: &mut Image) {
    if !oci::is_index(&image.head.media_type) {
        image.bytes = None;
        return;
    }
    let top = image.head.digest.clone();
    let mut queue = VecDeque::from([(top.clone(), image.bytes.take(), None::<Digest>, 0usize)]);
    let mut seen = HashSet::from([top]);
    'indexes: while let Some((digest, bytes, parent, depth)) = queue.pop_front() {
        let bytes = match bytes {
            Some(b) => b,
            None => match scan.client.fetch_manifest(repo, digest.as_str()).await {
                Ok(f) => f.bytes,
                Err(e) => {
                    let msg = format!("index {digest} could not be read: {e}");
                    image.problems.push(Problem::new("manifest-error", Some(digest.to_string()), msg));
                    continue;
                }
            },
        };
        let entries = match oci::index_entries(&bytes) {
            Ok(e) => e,
            Err(e) => {
                let msg = format!("index {digest}: {e}");
                image.problems.push(Problem::new("manifest-error", Some(digest.to_string()), msg));
                continue;
            }
        };
        for e in entries {
            if e.reference_type.as_deref() == Some("attestation-manifest") {
                continue;
            }
            let Some(d) = Digest::parse(&e.digest) else {
                let msg = format!("index {digest} lists {:?}, which is not a digest", e.digest);
                image.problems.push(Problem::new("manifest-error", Some(digest.to_string()), msg));
                continue;
            };
            if !seen.insert(d.clone()) {
                continue;
            }
            if image.platforms.len() >= MAX_INDEX_MEMBERS {
                let msg =
                    format!("the index lists more than {MAX_INDEX_MEMBERS} manifests; the rest were not examined");
                image.problems.push(Problem::new("manifest-error", None, msg));
                break 'indexes;
            }
            if oci::is_index(&e.media_type) {
                if depth + 1 >= MAX_INDEX_DEPTH {
                    let msg = format!("index {d} is nested more than {MAX_INDEX_DEPTH} deep; not followed");
                    image.problems.push(Problem::new("manifest-error", Some(d.to_string()), msg));
                } else {
                    queue.push_back((d.clone(), None, Some(d.clone()), depth + 1));
                }
            }
            let head = ManifestHead { digest: d, media_type: e.media_type, size: e.size };
            image.platforms.push(Member {
                head,
                platform: e.platform,
                parent: parent.clone(),
                hints: Hints::default(),
            });
        }
    }
}

/// A signature artifact whose subject this repository does not hold. When the signature names
/// another repository of this registry for its subject and the subject is there, the report
/// says so: the signature lives apart from its image, it did not outlive it.
async fn orphan(scan: &Arc<Scan>, repo: &str, d: &Digest, hints: &Hints) {
    let lookups = [&hints.sig, &hints.att, &hints.referrers_tag];
    for lookup in lookups.into_iter().flatten() {
        if let Lookup::Listed { tag, manifest: Err(e) } = lookup {
            let msg = format!("{tag} is listed but could not be read: {e}");
            scan.error(Some(repo), Some(tag), "discovery-error", msg).await;
        }
    }
    let artifact = lookups.into_iter().flatten().next().map(|l| l.tag().to_string()).unwrap_or_default();
    let subject_repository = subject_elsewhere(scan, repo, d, hints).await;
    let orphan =
        OrphanReport { registry: None, repository: repo.into(), artifact, subject: d.to_string(), subject_repository };
    scan.emit(Event::Orphan(orphan)).await;
}

/// The repository a cosign signature or attestation names for its subject (the payload's
/// `docker-reference`, the in-toto subject's name), when it is not `repo` and holds `d`.
async fn subject_elsewhere(scan: &Arc<Scan>, repo: &str, d: &Digest, hints: &Hints) -> Option<String> {
    let candidates = [(&hints.sig, oci::COSIGN_SIMPLESIGNING), (&hints.att, oci::DSSE_ENVELOPE)];
    for (lookup, layer_type) in candidates {
        let Some(Lookup::Listed { tag, manifest: Ok(f) }) = lookup else { continue };
        let Ok(m) = serde_json::from_slice::<oci_client::manifest::OciImageManifest>(&f.bytes) else { continue };
        let Some(layer) = m.layers.iter().find(|l| l.media_type == layer_type) else { continue };
        let Some(ld) = Digest::parse(&layer.digest) else { continue };
        let blob = match scan.client.get_blob(repo, &ld, MAX_SIGNATURE_BLOB_BYTES).await {
            Ok(b) => b,
            Err(e) => {
                let msg = format!("{tag}: layer {ld} could not be read: {e}");
                scan.error(Some(repo), Some(tag), "discovery-error", msg).await;
                continue;
            }
        };
        for other in named_repositories(&blob, layer_type) {
            if other == repo {
                continue;
            }
            match scan.client.head_manifest(&other, d.as_str()).await {
                Ok(Some(_)) => return Some(other),
                Ok(None) => {}
                Err(e) => {
                    let msg = format!("{tag} names {other} for its subject {d}, which could not be looked up: {e}");
                    scan.error(Some(repo), Some(tag), "discovery-error", msg).await;
                }
            }
        }
    }
    None
}

/// Repositories a cosign payload names: `critical.identity.docker-reference` of simple signing,
/// `subject[].name` of an attestation's in-toto statement. Read only to know where to look.
fn named_repositories(blob: &[u8], layer_type: &str) -> Vec<String> {
    use base64::Engine;
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(blob) else { return Vec::new() };
    let names: Vec<String> = if layer_type == oci::COSIGN_SIMPLESIGNING {
        v.pointer("/critical/identity/docker-reference")
            .and_then(|r| r.as_str())
            .map(str::to_string)
            .into_iter()
            .collect()
    } else {
        let payload = v.get("payload").and_then(|p| p.as_str()).unwrap_or("");
        let Ok(statement) = base64::engine::general_purpose::STANDARD.decode(payload) else { return Vec::new() };
        let Ok(s) = serde_json::from_slice::<serde_json::Value>(&statement) else { return Vec::new() };
        s.get("subject")
            .and_then(|x| x.as_array())
            .into_iter()
            .flatten()
            .filter_map(|x| x.get("name").and_then(|n| n.as_str()).map(str::to_string))
            .collect()
    };
    let mut repos: Vec<String> = names
        .iter()
        .filter_map(|n| n.parse::<oci_client::Reference>().ok())
        .map(|r| r.repository().to_string())
        .collect();
    repos.dedup();
    repos
}

/// A signature repository's signature tags whose digest no scanned image claimed: orphans of
/// it (`subjectRepository` names the repository their payload names, when that holds the
/// digest). A tag list that cannot be read is an error: its orphans are not known.
pub(super) async fn signature_repository_orphans(scan: &Arc<Scan>, repo: &str, claimed: &HashSet<Digest>) {
    let tags = match scan.client.list_tags(repo).await {
        Ok(t) => t.unwrap_or_default(),
        Err(e) => {
            let msg = format!(
                "signature repository {repo}: its tag list could not be read, so its orphans are not known: {e}"
            );
            return scan.error(Some(repo), None, "tag-list-error", msg).await;
        }
    };
    let mut artifacts = Artifacts::default();
    for tag in tags {
        let shape = TagKind::of(&tag);
        let d = match &shape {
            TagKind::CosignSignatures(d) | TagKind::CosignAttestations(d) | TagKind::ReferrersIndex(d) => d.clone(),
            TagKind::CosignSbom(_) | TagKind::Image => continue,
        };
        if claimed.contains(&d) {
            continue;
        }
        let manifest = scan.client.fetch_manifest(repo, &tag).await.map_err(|e| e.to_string());
        artifacts.insert(shape, Lookup::Listed { tag, manifest });
    }
    for d in artifacts.digests() {
        orphan(scan, repo, &d, &artifacts.hints(&d)).await;
    }
}

/// Named references (`image` subcommand): resolve each, merge tags per digest, fold indexes,
/// discover by probing. The same folding and discovery as a registry scan.
pub(super) async fn scan_references(scan: &Arc<Scan>, refs: Vec<(String, String)>) {
    let mut images: BTreeMap<(String, Digest), Image> = BTreeMap::new();
    for (repo, reference) in refs {
        let is_tag = Digest::parse(&reference).is_none();
        let shown = if is_tag { format!("{repo}:{reference}") } else { format!("{repo}@{reference}") };
        match scan.client.resolve(&repo, &reference).await {
            Ok(r) => {
                let entry =
                    images.entry((repo.clone(), r.head.digest.clone())).or_insert_with(|| Image::new(r.head, None));
                entry.resolved(&reference, r.fetched);
                if is_tag && !entry.tags.contains(&reference) {
                    entry.tags.push(reference);
                }
            }
            Err(e) if e.status() == Some(404) => {
                scan.error(Some(&repo), Some(&reference), "manifest-not-found", format!("{shown} not found: {e}")).await
            }
            Err(e) => scan.error(Some(&repo), Some(&reference), "manifest-error", e.to_string()).await,
        }
    }
    let mut repos = BTreeSet::new();
    for ((repo, digest), image) in images.iter_mut() {
        image.sort();
        image.hints = Hints::probe(digest);
        fold(scan, repo, image).await;
        for m in &mut image.platforms {
            m.hints = Hints::probe(&m.head.digest);
        }
        repos.insert(repo.clone());
    }
    for _ in repos {
        scan.emit(Event::Repositories(None, 1)).await;
    }
    stream::iter(images)
        .for_each_concurrent(16, |((repo, _), image)| async move {
            let report = discover(scan, &repo, image).await;
            scan.emit(Event::Image(Box::new(report))).await;
        })
        .await;
}
