//! One repository: classify its tags, resolve image tags to digests (one HEAD each), group tags
//! by digest, attach signature artifacts to the images they sign, report orphans.

use super::discover::{discover, Hints};
use super::{Event, Scan};
use crate::oci::{self, Digest, TagKind};
use crate::registry::ManifestHead;
use crate::report::OrphanReport;
use futures::stream::{self, StreamExt};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// An image of a repository: one digest, every tag that points at it.
pub(super) struct Image {
    pub head: ManifestHead,
    pub tags: Vec<String>,
    /// Platform manifests of an index that carry signatures of their own.
    pub children: Vec<(ManifestHead, Hints)>,
    pub hints: Hints,
}

/// Signature artifacts a tag list names, by the digest they sign.
#[derive(Default)]
struct Artifacts {
    sig: HashMap<Digest, String>,
    att: HashMap<Digest, String>,
    referrers_tag: HashMap<Digest, String>,
}

impl Artifacts {
    fn hints(&mut self, d: &Digest) -> Hints {
        Hints { sig: self.sig.remove(d), att: self.att.remove(d), referrers_tag: self.referrers_tag.remove(d) }
    }

    fn remaining(&self) -> Vec<Digest> {
        let mut v: Vec<Digest> =
            self.sig.keys().chain(self.att.keys()).chain(self.referrers_tag.keys()).cloned().collect();
        v.sort();
        v.dedup();
        v
    }
}

pub(super) async fn scan_repository(scan: &Arc<Scan>, repo: &str) {
    let tags = match scan.client.list_tags(repo).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            return scan.error(Some(repo), None, "repository-not-found", format!("repository {repo} not found")).await
        }
        Err(e) => return scan.error(Some(repo), None, "tag-list-error", e.to_string()).await,
    };
    let mut artifacts = Artifacts::default();
    let mut image_tags = Vec::new();
    for tag in tags {
        match TagKind::of(&tag) {
            TagKind::Image => image_tags.push(tag),
            TagKind::CosignSignatures(d) => {
                artifacts.sig.insert(d, tag);
            }
            TagKind::CosignAttestations(d) => {
                artifacts.att.insert(d, tag);
            }
            TagKind::ReferrersIndex(d) => {
                artifacts.referrers_tag.insert(d, tag);
            }
            TagKind::CosignSbom(_) => {}
        }
    }

    // Resolve every image tag with one HEAD, concurrently (the client bounds requests in flight).
    let heads: Vec<(String, Result<Option<ManifestHead>, _>)> = stream::iter(image_tags)
        .map(|tag| async move {
            let head = scan.client.head_manifest(repo, &tag).await;
            (tag, head)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let mut by_digest: BTreeMap<Digest, Image> = BTreeMap::new();
    for (tag, head) in heads {
        match head {
            Ok(Some(h)) => {
                by_digest
                    .entry(h.digest.clone())
                    .or_insert_with(|| Image {
                        head: h,
                        tags: Vec::new(),
                        children: Vec::new(),
                        hints: Hints::default(),
                    })
                    .tags
                    .push(tag);
            }
            Ok(None) => {
                scan.error(
                    Some(repo),
                    Some(&tag),
                    "manifest-not-found",
                    format!("tag {tag} is listed but its manifest is gone"),
                )
                .await
            }
            Err(e) => scan.error(Some(repo), Some(&tag), "manifest-error", e.to_string()).await,
        }
    }
    for image in by_digest.values_mut() {
        image.tags.sort();
        image.hints = artifacts.hints(&image.head.digest);
    }

    attach_unmatched(scan, repo, &mut by_digest, &mut artifacts).await;

    stream::iter(by_digest.into_values())
        .for_each_concurrent(16, |image| async move {
            let report = discover(scan, repo, image).await;
            scan.emit(Event::Image(Box::new(report))).await;
        })
        .await;
}

/// Signature artifacts whose digest no tag resolves to: a platform manifest of an index (cosign
/// `--recursive`), an untagged image pushed by digest, a signature of a signature artifact, or an
/// orphan whose image is gone.
async fn attach_unmatched(
    scan: &Arc<Scan>,
    repo: &str,
    images: &mut BTreeMap<Digest, Image>,
    artifacts: &mut Artifacts,
) {
    if artifacts.remaining().is_empty() {
        return;
    }
    // Platform manifests of the indexes in this repository.
    let indexes: Vec<Digest> =
        images.values().filter(|i| oci::is_index(&i.head.media_type)).map(|i| i.head.digest.clone()).collect();
    for parent in indexes {
        let fetched = match scan.client.get_manifest(repo, parent.as_str()).await {
            Ok(Some(f)) => f,
            Ok(None) => continue,
            Err(e) => {
                scan.error(Some(repo), Some(parent.as_str()), "manifest-error", e.to_string()).await;
                continue;
            }
        };
        let Ok(index) = serde_json::from_slice::<oci_client::manifest::OciImageIndex>(&fetched.bytes) else {
            continue;
        };
        for child in index.manifests {
            let Some(d) = Digest::parse(&child.digest) else {
                continue;
            };
            let hints = artifacts.hints(&d);
            if !hints.is_empty() {
                let head = ManifestHead { digest: d, media_type: child.media_type, size: child.size.max(0) as u64 };
                images.get_mut(&parent).expect("parent listed").children.push((head, hints));
            }
        }
    }
    for d in artifacts.remaining() {
        let hints = artifacts.hints(&d);
        let artifact = hints.sig.clone().or(hints.att.clone()).or(hints.referrers_tag.clone()).unwrap_or_default();
        match scan.client.get_manifest(repo, d.as_str()).await {
            Ok(None) => {
                scan.emit(Event::Orphan(OrphanReport { repository: repo.into(), artifact, subject: d.to_string() }))
                    .await;
            }
            Ok(Some(f)) if is_signature_artifact(&f.bytes) => {
                tracing::debug!(repository = repo, %d, "signature of a signature artifact; not an image");
            }
            Ok(Some(f)) => {
                let head = ManifestHead { digest: d.clone(), media_type: f.media_type, size: f.bytes.len() as u64 };
                images.insert(d, Image { head, tags: Vec::new(), children: Vec::new(), hints });
            }
            Err(e) => scan.error(Some(repo), Some(&artifact), "manifest-error", e.to_string()).await,
        }
    }
}

/// Whether a manifest is itself a signature or attestation artifact rather than an image.
pub fn is_signature_artifact(bytes: &[u8]) -> bool {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return false;
    };
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).unwrap_or("");
    let ty = if s("/artifactType").is_empty() { s("/config/mediaType") } else { s("/artifactType") };
    if ty == oci::NOTARY_SIGNATURE
        || ty.starts_with(oci::SIGSTORE_BUNDLE_PREFIX)
        || ty.starts_with("application/vnd.dev.cosign")
    {
        return true;
    }
    v.pointer("/layers").and_then(|l| l.as_array()).is_some_and(|l| {
        !l.is_empty()
            && l.iter().all(|x| {
                let m = x.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
                m == oci::COSIGN_SIMPLESIGNING || m == oci::DSSE_ENVELOPE
            })
    })
}

/// Named references (`image` subcommand): resolve each, merge tags per digest, discover by probing.
pub(super) async fn scan_references(scan: &Arc<Scan>, refs: Vec<(String, String)>) {
    let mut images: BTreeMap<(String, Digest), Image> = BTreeMap::new();
    for (repo, reference) in refs {
        match scan.client.head_manifest(&repo, &reference).await {
            Ok(Some(h)) => {
                let is_tag = Digest::parse(&reference).is_none();
                let entry = images.entry((repo.clone(), h.digest.clone())).or_insert_with(|| Image {
                    hints: Hints::probe(&h.digest),
                    head: h,
                    tags: Vec::new(),
                    children: Vec::new(),
                });
                if is_tag && !entry.tags.contains(&reference) {
                    entry.tags.push(reference);
                }
            }
            Ok(None) => {
                scan.error(Some(&repo), Some(&reference), "manifest-not-found", format!("{repo}:{reference} not found"))
                    .await
            }
            Err(e) => scan.error(Some(&repo), Some(&reference), "manifest-error", e.to_string()).await,
        }
    }
    for image in images.values_mut() {
        image.tags.sort();
    }
    let mut seen = std::collections::HashSet::new();
    for ((repo, _), _) in images.iter() {
        if seen.insert(repo.clone()) {
            scan.emit(Event::Repository).await;
        }
    }
    stream::iter(images)
        .for_each_concurrent(16, |((repo, _), image)| async move {
            let report = discover(scan, &repo, image).await;
            scan.emit(Event::Image(Box::new(report))).await;
        })
        .await;
}
