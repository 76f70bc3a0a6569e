//! Signatures of one image and of each manifest its index lists: the cosign tags the tag list
//! named (or probed, for named images), the referrers API where the registry has it, and the
//! referrers tag schema; each signature fetched, checked, and turned into a [`SignatureReport`].
//! A lookup that a listing announced and that fails is an error of the image, never "no
//! signature"; only guessed tags may read 404 (or content that is no signature) as "none".

use super::repo::{Image, Member};
use super::Scan;
use crate::oci::{self, Digest, ManifestKind};
use crate::registry::{Fetched, ReferrersAnswer, MAX_SIGNATURE_BLOB_BYTES};
use crate::report::{
    Discovery, Envelope, ImageReport, PlatformReport, ReasonCode, SignatureFormat, SignatureKind, SignatureReport,
    Status,
};
use crate::signature::{bundle, cosign, notation, Checked, Subject};
use crate::trust::Trust;
use futures::stream::{self, StreamExt};
use oci_client::manifest::{ImageIndexEntry, OciImageManifest};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where one signature artifact of a digest may be.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// A tag the repository's tag list names, already fetched (or failed): it must be there.
    Listed { tag: String, manifest: Result<Fetched, String> },
    /// A tag guessed from the digest: a 404, or content that is no such artifact, means none.
    Probe(String),
}

impl Lookup {
    pub fn tag(&self) -> &str {
        match self {
            Lookup::Listed { tag, .. } | Lookup::Probe(tag) => tag,
        }
    }
}

/// Where an image's signatures may be, as the tag list tells (or all of them, to probe).
#[derive(Debug, Default, Clone)]
pub struct Hints {
    pub sig: Option<Lookup>,
    pub att: Option<Lookup>,
    pub referrers_tag: Option<Lookup>,
}

impl Hints {
    /// For images named on the command line: look everywhere; a 404 means "none".
    pub fn probe(d: &Digest) -> Hints {
        let stem = d.tag_stem();
        Hints {
            sig: Some(Lookup::Probe(format!("{stem}.sig"))),
            att: Some(Lookup::Probe(format!("{stem}.att"))),
            referrers_tag: Some(Lookup::Probe(stem)),
        }
    }
}

/// Platform manifests looked at concurrently per image.
const PLATFORMS_IN_FLIGHT: usize = 8;

pub(super) async fn discover(scan: &Arc<Scan>, repo: &str, image: Image) -> ImageReport {
    let tags = &image.tags;
    let found = all_signatures_of(scan, repo, tags, &subject(&image.head), &image.hints).await;
    let platforms: Vec<(Member, Found)> = stream::iter(image.platforms)
        .map(|m| async move {
            let found = all_signatures_of(scan, repo, tags, &subject(&m.head), &m.hints).await;
            (m, found)
        })
        .buffered(PLATFORMS_IN_FLIGHT)
        .collect()
        .await;

    let digest = image.head.digest.to_string();
    let mut discovery_errors = Vec::new();
    for p in &image.problems {
        scan.error(Some(repo), Some(p.reference.as_deref().unwrap_or(&digest)), p.code, p.message.clone()).await;
        discovery_errors.push(p.message.clone());
    }
    for e in &found.errors {
        scan.error(Some(repo), Some(&digest), "discovery-error", e.clone()).await;
    }
    discovery_errors.extend(found.errors);
    let mut platform_reports = Vec::new();
    for (member, found) in platforms {
        let d = member.head.digest.to_string();
        for e in &found.errors {
            scan.error(Some(repo), Some(&d), "discovery-error", e.clone()).await;
        }
        let mut signatures = found.signatures;
        for s in &mut signatures {
            s.subject_digest = Some(d.clone());
        }
        platform_reports.push(PlatformReport {
            digest: d,
            media_type: member.head.media_type,
            platform: member.platform,
            index: member.parent.map(|p| p.to_string()),
            status: Status::Unsigned,
            signatures,
            discovery_errors: found.errors,
        });
    }
    let mut report = ImageReport {
        schema: None,
        registry: None,
        repository: repo.to_string(),
        tags: image.tags,
        digest,
        media_type: image.head.media_type,
        status: Status::Unsigned,
        signatures: found.signatures,
        discovery_errors,
        platforms: platform_reports,
        platform_summary: None,
        waived: None,
        containers_policy: None,
    };
    if let Some(policy) = &scan.sources.containers_policy {
        let name = format!("{}/{repo}", scan.registry);
        let evidence = crate::containers::policy_eval::Evidence::of(&report.signatures);
        let evaluated =
            crate::containers::policy_eval::evaluate(policy, &name, &report.tags, &report.digest, &evidence);
        report.containers_policy = Some(evaluated);
    }
    report.compute_status();
    report
}

fn subject(head: &crate::registry::ManifestHead) -> Subject {
    Subject { digest: head.digest.clone(), media_type: head.media_type.clone(), size: head.size }
}

/// The signatures of one manifest wherever they are looked up: beside the image (unless a
/// signature repository takes its place), in its signature repository, in a simple-signing
/// lookaside store.
async fn all_signatures_of(scan: &Arc<Scan>, repo: &str, tags: &[String], subject: &Subject, hints: &Hints) -> Found {
    let mut found = Found::default();
    let name = format!("{}/{repo}", scan.registry);
    let trust = scan.trust_for(&name, tags, subject.digest.as_str());
    let elsewhere = scan.signature_repository(repo);
    if elsewhere.is_none() || scan.sources.signature_repositories.also_beside {
        found = signatures_of(scan, &Lookin { repo, image: &name, trust: &trust }, subject, hints).await;
    }
    if let Some((at, target)) = elsewhere {
        at.claims.lock().await.0.entry(target.clone()).or_default().insert(subject.digest.clone());
        let location = target.name();
        // A signature repository that does not exist holds no "absent" answer: its probes' 404s
        // (bare, or NAME_UNKNOWN) say nothing about this image's signatures.
        match at.signature_repository_exists(&target.repo).await {
            Ok(Some(false)) => found.errors.push(format!(
                "signature repository {location} does not exist (its tag list answers 404): the image's signatures there could not be looked up"
            )),
            Err(e) => found.errors.push(format!("signature repository {location} could not be read: {e}")),
            Ok(Some(true) | None) => {
                let there = Lookin { repo: &target.repo, image: &name, trust: &trust };
                let more = signatures_of(&at, &there, subject, &Hints::probe(&subject.digest)).await;
                found.signatures.extend(more.signatures.into_iter().map(|mut s| {
                    s.location = Some(location.clone());
                    s
                }));
                found.errors.extend(more.errors.into_iter().map(|e| format!("signature repository {location}: {e}")));
            }
        }
    }
    let gpg = scan.sources.simple_signing.as_ref().and_then(|s| s.trust.as_ref());
    let (sigs, errors) =
        super::lookaside::extension_signatures(&scan.client, gpg, (repo, &name, tags), subject, scan.now).await;
    found.signatures.extend(sigs);
    found.errors.extend(errors);
    if let Some(ss) = &scan.sources.simple_signing {
        let (sigs, errors) = super::lookaside::signatures(ss, &name, tags, subject, scan.now).await;
        found.signatures.extend(sigs);
        found.errors.extend(errors);
    }
    found
}

#[derive(Default)]
struct Found {
    signatures: Vec<SignatureReport>,
    errors: Vec<String>,
}

/// Where the signatures of one manifest are looked up and how they are judged: the repository of
/// the scan's registry to look in, and the image's own name (`HOST/REPO`, for the notation
/// trust policy's scopes) and trust.
struct Lookin<'a> {
    repo: &'a str,
    image: &'a str,
    trust: &'a Trust,
}

/// The cosign tags and referrers of `subject` in `at.repo` of `scan`'s registry.
async fn signatures_of(scan: &Arc<Scan>, at: &Lookin<'_>, subject: &Subject, hints: &Hints) -> Found {
    let (repo, trust) = (at.repo, at.trust);
    let mut found = Found::default();
    if let Some(lookup) = &hints.sig {
        cosign_tag(scan, repo, lookup, subject, SignatureKind::Signature, trust, &mut found).await;
    }
    if let Some(lookup) = &hints.att {
        cosign_tag(scan, repo, lookup, subject, SignatureKind::Attestation, trust, &mut found).await;
    }
    referrers(scan, at, subject, hints.referrers_tag.as_ref(), &mut found).await;
    found
}

/// The manifest a lookup names, if it is the kind of artifact `wanted` accepts. A listed
/// artifact that could not be fetched is an error; a probe that finds nothing (404) or finds
/// something else (an ordinary image under a digest-shaped tag) is "none".
async fn artifact_manifest(
    scan: &Arc<Scan>,
    repo: &str,
    lookup: &Lookup,
    wanted: &[ManifestKind],
    found: &mut Found,
) -> Option<Fetched> {
    match lookup {
        Lookup::Listed { manifest: Ok(f), .. } => Some(f.clone()),
        Lookup::Listed { tag, manifest: Err(e) } => {
            found.errors.push(format!("{tag} is listed but could not be read: {e}"));
            None
        }
        Lookup::Probe(tag) => match scan.client.get_manifest(repo, tag).await {
            Ok(None) => {
                listed_but_gone(scan, repo, tag, found).await.filter(|f| wanted.contains(&oci::classify(&f.bytes)))
            }
            Ok(Some(f)) if wanted.contains(&oci::classify(&f.bytes)) => Some(f),
            Ok(Some(_)) => {
                tracing::debug!(repository = repo, tag = tag.as_str(), "an ordinary tag shaped like an artifact tag");
                None
            }
            Err(e) => {
                found.errors.push(format!("{tag}: {e}"));
                None
            }
        },
    }
}

/// A guessed tag answered 404. If the repository's tag list names it all the same, its manifest
/// is gone (garbage collection, partial replication): an error, as `registry` reports it, never
/// "none". A tag list that could not be read is an error too; one the registry does not let us
/// read (401/403) leaves the 404 standing.
async fn listed_but_gone(scan: &Arc<Scan>, repo: &str, tag: &str, found: &mut Found) -> Option<Fetched> {
    match scan.tag_listed(repo, tag).await {
        Ok(Some(true)) => match scan.client.fetch_manifest(repo, tag).await {
            Ok(f) => return Some(f),
            Err(e) => found.errors.push(format!("{tag} is listed but could not be read: {e}")),
        },
        Ok(_) => {}
        Err(e) => found.errors.push(format!(
            "{tag} answered 404, and the tag list that tells whether it is listed could not be read: {e}"
        )),
    }
    None
}

/// A cosign `.sig` / `.att` manifest: one layer, one signature.
async fn cosign_tag(
    scan: &Arc<Scan>,
    repo: &str,
    lookup: &Lookup,
    subject: &Subject,
    kind: SignatureKind,
    trust: &Trust,
    found: &mut Found,
) {
    let wanted = [ManifestKind::Signature, ManifestKind::Unreadable];
    let Some(fetched) = artifact_manifest(scan, repo, lookup, &wanted, found).await else {
        return;
    };
    let tag = lookup.tag();
    let envelope = match kind {
        SignatureKind::Signature => Envelope::Simplesigning,
        SignatureKind::Attestation => Envelope::Dsse,
    };
    let manifest: OciImageManifest = match serde_json::from_slice(&fetched.bytes) {
        Ok(m) => m,
        Err(e) => {
            let why = format!("signature manifest {tag} is unreadable: {e}");
            let c = Checked::new(envelope, kind).invalid(ReasonCode::MalformedSignature, why);
            return found.signatures.push(c.into_report(SignatureFormat::Cosign, Discovery::Tag, &fetched.digest));
        }
    };
    let wanted = match kind {
        SignatureKind::Signature => oci::COSIGN_SIMPLESIGNING,
        SignatureKind::Attestation => oci::DSSE_ENVELOPE,
    };
    for layer in manifest.layers.iter().filter(|l| l.media_type == wanted) {
        let checked = match fetch_blob(scan, repo, &layer.digest, tag, found).await {
            Err(e) => Checked::new(envelope.clone(), kind.clone()).error(e),
            Ok(blob) => {
                let ann = layer.annotations.clone().unwrap_or_default();
                match kind {
                    SignatureKind::Signature => cosign::check_simplesigning(&ann, &blob, subject, trust),
                    SignatureKind::Attestation => cosign::check_attestation(&ann, &blob, subject, trust),
                }
            }
        };
        found.signatures.push(checked.into_report(SignatureFormat::Cosign, Discovery::Tag, &fetched.digest));
    }
}

/// A layer that a signature manifest names: it must be there. A failure makes the signature
/// `error` and is an error of the image (the scan is incomplete).
async fn fetch_blob(
    scan: &Arc<Scan>,
    repo: &str,
    digest: &str,
    artifact: &str,
    found: &mut Found,
) -> Result<Vec<u8>, String> {
    let result = match Digest::parse(digest) {
        None => Err(format!("layer digest {digest:?} is not a digest")),
        Some(d) => scan.client.get_blob(repo, &d, MAX_SIGNATURE_BLOB_BYTES).await.map_err(|e| e.to_string()),
    };
    if let Err(e) = &result {
        found.errors.push(format!("{artifact}: layer {digest} could not be read: {e}"));
    }
    result
}

/// Referrers from the API (where the registry has it) and from the referrers tag schema, united by
/// digest: a registry that gained the API later may not have indexed old signatures.
async fn referrers(scan: &Arc<Scan>, at: &Lookin<'_>, subject: &Subject, tag: Option<&Lookup>, found: &mut Found) {
    let repo = at.repo;
    let mut entries: BTreeMap<String, (ImageIndexEntry, Discovery)> = BTreeMap::new();
    if scan.has_referrers_api(repo).await {
        match scan.client.referrers(repo, &subject.digest).await {
            Ok(ReferrersAnswer::Supported(list)) => {
                for e in list {
                    entries.entry(e.digest.clone()).or_insert((e, Discovery::Referrers));
                }
            }
            Ok(ReferrersAnswer::Unsupported) => {
                found.errors.push(format!("referrers API stopped answering for {}", subject.digest))
            }
            Err(e) => found.errors.push(format!("referrers of {}: {e}", subject.digest)),
        }
    }
    if let Some(lookup) = tag {
        let wanted = [ManifestKind::ReferrersIndex, ManifestKind::Unreadable];
        if let Some(f) = artifact_manifest(scan, repo, lookup, &wanted, found).await {
            match serde_json::from_slice::<oci_client::manifest::OciImageIndex>(&f.bytes) {
                Ok(index) => {
                    for e in index.manifests {
                        entries.entry(e.digest.clone()).or_insert((e, Discovery::ReferrersTag));
                    }
                }
                Err(e) => found.errors.push(format!("referrers tag {} is not an image index: {e}", lookup.tag())),
            }
        }
    }
    for (_, (entry, discovery)) in entries {
        if let Some(sig) = referrer(scan, at, subject, &entry, discovery, found).await {
            found.signatures.push(sig);
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum ArtifactKind {
    Notary,
    Bundle,
    CosignSig,
    Other,
}

fn artifact_kind(ty: &str) -> ArtifactKind {
    if ty == oci::NOTARY_SIGNATURE {
        ArtifactKind::Notary
    } else if ty.starts_with(oci::SIGSTORE_BUNDLE_PREFIX) {
        ArtifactKind::Bundle
    } else if ty == oci::COSIGN_ARTIFACT_SIG {
        ArtifactKind::CosignSig
    } else {
        ArtifactKind::Other
    }
}

/// One referrer: fetch its manifest, check it refers to this image, check its signature.
async fn referrer(
    scan: &Arc<Scan>,
    at: &Lookin<'_>,
    subject: &Subject,
    entry: &ImageIndexEntry,
    discovery: Discovery,
    found: &mut Found,
) -> Option<SignatureReport> {
    let (repo, trust) = (at.repo, at.trust);
    // Skip what the listing already says is no signature (SBOMs, other attachments) unfetched.
    if let Some(ty) = &entry.artifact_type {
        if artifact_kind(ty) == ArtifactKind::Other {
            return None;
        }
    }
    let Some(digest) = Digest::parse(&entry.digest) else {
        found.errors.push(format!("referrer digest {:?} is not a digest", entry.digest));
        return None;
    };
    let fetched = match scan.client.fetch_manifest(repo, digest.as_str()).await {
        Ok(f) => f,
        Err(e) => {
            found.errors.push(format!("referrer {digest} is listed but could not be read: {e}"));
            return None;
        }
    };
    let manifest: OciImageManifest = match serde_json::from_slice(&fetched.bytes) {
        Ok(m) => m,
        Err(e) => {
            found.errors.push(format!("referrer {} is not an image manifest: {e}", fetched.digest));
            return None;
        }
    };
    let ty =
        manifest.artifact_type.clone().filter(|t| !t.is_empty()).unwrap_or_else(|| manifest.config.media_type.clone());
    let (format, envelope) = match artifact_kind(&ty) {
        ArtifactKind::Notary => (SignatureFormat::Notation, Envelope::Jws),
        ArtifactKind::Bundle => (SignatureFormat::SigstoreBundle, Envelope::Bundle),
        ArtifactKind::CosignSig => (SignatureFormat::Cosign, Envelope::Simplesigning),
        ArtifactKind::Other => return None,
    };
    let base = Checked::new(envelope.clone(), SignatureKind::Signature);
    // A tag index can list anything: the referrer must name this image as its subject.
    match manifest.subject.as_ref().map(|s| s.digest.as_str()) {
        Some(d) if d == subject.digest.as_str() => {}
        other => {
            let why =
                format!("referrer's subject is {}, not this image ({})", other.unwrap_or("missing"), subject.digest);
            let c = base.invalid(ReasonCode::ReferrerSubjectMismatch, why);
            return Some(c.into_report(format, discovery, &fetched.digest));
        }
    }
    let name = format!("referrer {}", fetched.digest);
    let checked = match format {
        SignatureFormat::Notation => {
            if manifest.layers.len() != 1 {
                let why =
                    format!("Notary signature manifest has {} layers, expected exactly one", manifest.layers.len());
                base.invalid(ReasonCode::MalformedSignature, why)
            } else {
                let layer = &manifest.layers[0];
                match fetch_blob(scan, repo, &layer.digest, &name, found).await {
                    Err(e) => base.error(e),
                    Ok(blob) => notation::check_envelope(
                        &layer.media_type,
                        &blob,
                        &manifest.annotations.clone().unwrap_or_default(),
                        subject,
                        at.image,
                        trust,
                        scan.now,
                    ),
                }
            }
        }
        SignatureFormat::SigstoreBundle => {
            let layers: Vec<_> =
                manifest.layers.iter().filter(|l| l.media_type.starts_with(oci::SIGSTORE_BUNDLE_PREFIX)).collect();
            if layers.len() != 1 {
                let why = format!("bundle referrer has {} bundle layers, expected exactly one", layers.len());
                base.invalid(ReasonCode::MalformedSignature, why)
            } else {
                match fetch_blob(scan, repo, &layers[0].digest, &name, found).await {
                    Err(e) => base.error(e),
                    Ok(blob) => bundle::check_bundle(&blob, subject, trust),
                }
            }
        }
        SignatureFormat::Cosign | SignatureFormat::SimpleSigning => {
            let mut last =
                base.invalid(ReasonCode::MalformedSignature, "no simple-signing layer in the cosign referrer");
            for layer in manifest.layers.iter().filter(|l| l.media_type == oci::COSIGN_SIMPLESIGNING) {
                last = match fetch_blob(scan, repo, &layer.digest, &name, found).await {
                    Err(e) => Checked::new(Envelope::Simplesigning, SignatureKind::Signature).error(e),
                    Ok(blob) => cosign::check_simplesigning(
                        &layer.annotations.clone().unwrap_or_default(),
                        &blob,
                        subject,
                        trust,
                    ),
                };
            }
            last
        }
    };
    Some(checked.into_report(format, discovery, &fetched.digest))
}
