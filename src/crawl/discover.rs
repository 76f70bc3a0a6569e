//! Signatures of one image: the cosign tags the tag list named (or probed, for named images), the
//! referrers API where the registry has it, and the referrers tag schema; each signature fetched,
//! checked, and turned into a [`SignatureReport`]. A lookup that fails is reported, never taken
//! for "no signature".

use super::repo::Image;
use super::Scan;
use crate::oci::{self, Digest};
use crate::registry::{ReferrersAnswer, MAX_SIGNATURE_BLOB_BYTES};
use crate::report::{
    Discovery, Envelope, ImageReport, SignatureFormat, SignatureKind, SignatureReport, Status, Verification,
};
use crate::signature::{bundle, cosign, notation, Checked, Subject};
use oci_client::manifest::{ImageIndexEntry, OciImageManifest};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where an image's signatures may be, as the tag list tells (or all of them, to probe).
#[derive(Debug, Default, Clone)]
pub struct Hints {
    pub sig: Option<String>,
    pub att: Option<String>,
    pub referrers_tag: Option<String>,
}

impl Hints {
    /// For images named on the command line: look everywhere; a 404 means "none".
    pub fn probe(d: &Digest) -> Hints {
        let stem = d.tag_stem();
        Hints { sig: Some(format!("{stem}.sig")), att: Some(format!("{stem}.att")), referrers_tag: Some(stem) }
    }

    pub fn is_empty(&self) -> bool {
        self.sig.is_none() && self.att.is_none() && self.referrers_tag.is_none()
    }
}

pub(super) async fn discover(scan: &Arc<Scan>, repo: &str, image: Image) -> ImageReport {
    let subject =
        Subject { digest: image.head.digest.clone(), media_type: image.head.media_type.clone(), size: image.head.size };
    let mut found = Found::default();
    signatures_of(scan, repo, &subject, &image.hints, &mut found).await;
    for (child, hints) in &image.children {
        let child_subject =
            Subject { digest: child.digest.clone(), media_type: child.media_type.clone(), size: child.size };
        let before = found.signatures.len();
        signatures_of(scan, repo, &child_subject, hints, &mut found).await;
        for s in &mut found.signatures[before..] {
            s.subject_digest = Some(child.digest.to_string());
        }
    }
    for e in &found.errors {
        scan.error(Some(repo), Some(image.head.digest.as_str()), "discovery-error", e.clone()).await;
    }
    let mut report = ImageReport {
        schema: None,
        repository: repo.to_string(),
        tags: image.tags,
        digest: image.head.digest.to_string(),
        media_type: image.head.media_type,
        status: Status::Unsigned,
        signatures: found.signatures,
        discovery_errors: found.errors,
    };
    report.compute_status();
    report
}

#[derive(Default)]
struct Found {
    signatures: Vec<SignatureReport>,
    errors: Vec<String>,
}

async fn signatures_of(scan: &Arc<Scan>, repo: &str, subject: &Subject, hints: &Hints, found: &mut Found) {
    if let Some(tag) = &hints.sig {
        cosign_tag(scan, repo, tag, subject, SignatureKind::Signature, found).await;
    }
    if let Some(tag) = &hints.att {
        cosign_tag(scan, repo, tag, subject, SignatureKind::Attestation, found).await;
    }
    referrers(scan, repo, subject, hints.referrers_tag.as_deref(), found).await;
}

/// A cosign `.sig` / `.att` manifest: one layer, one signature.
async fn cosign_tag(
    scan: &Arc<Scan>,
    repo: &str,
    tag: &str,
    subject: &Subject,
    kind: SignatureKind,
    found: &mut Found,
) {
    let fetched = match scan.client.get_manifest(repo, tag).await {
        Ok(Some(f)) => f,
        Ok(None) => return,
        Err(e) => return found.errors.push(format!("{tag}: {e}")),
    };
    let envelope = match kind {
        SignatureKind::Signature => Envelope::Simplesigning,
        SignatureKind::Attestation => Envelope::Dsse,
    };
    let manifest: OciImageManifest = match serde_json::from_slice(&fetched.bytes) {
        Ok(m) => m,
        Err(e) => {
            let c = Checked::new(envelope, kind).invalid(format!("signature manifest {tag} is unreadable: {e}"));
            return found.signatures.push(report(SignatureFormat::Cosign, Discovery::Tag, &fetched.digest, c));
        }
    };
    let wanted = match kind {
        SignatureKind::Signature => oci::COSIGN_SIMPLESIGNING,
        SignatureKind::Attestation => oci::DSSE_ENVELOPE,
    };
    for layer in manifest.layers.iter().filter(|l| l.media_type == wanted) {
        let checked = match fetch_blob(scan, repo, &layer.digest).await {
            Err(e) => Checked::new(envelope.clone(), kind.clone()).error(e),
            Ok(blob) => {
                let ann = layer.annotations.clone().unwrap_or_default();
                match kind {
                    SignatureKind::Signature => cosign::check_simplesigning(&ann, &blob, subject, &scan.trust),
                    SignatureKind::Attestation => cosign::check_attestation(&ann, &blob, subject, &scan.trust),
                }
            }
        };
        found.signatures.push(report(SignatureFormat::Cosign, Discovery::Tag, &fetched.digest, checked));
    }
}

async fn fetch_blob(scan: &Arc<Scan>, repo: &str, digest: &str) -> Result<Vec<u8>, String> {
    let d = Digest::parse(digest).ok_or_else(|| format!("layer digest {digest:?} is not a digest"))?;
    scan.client.get_blob(repo, &d, MAX_SIGNATURE_BLOB_BYTES).await.map_err(|e| e.to_string())
}

/// Referrers from the API (where the registry has it) and from the referrers tag schema, united by
/// digest: a registry that gained the API later may not have indexed old signatures.
async fn referrers(scan: &Arc<Scan>, repo: &str, subject: &Subject, tag: Option<&str>, found: &mut Found) {
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
    if let Some(tag) = tag {
        match scan.client.get_manifest(repo, tag).await {
            Ok(None) => {}
            Err(e) => found.errors.push(format!("{tag}: {e}")),
            Ok(Some(f)) => match serde_json::from_slice::<oci_client::manifest::OciImageIndex>(&f.bytes) {
                Ok(index) => {
                    for e in index.manifests {
                        entries.entry(e.digest.clone()).or_insert((e, Discovery::ReferrersTag));
                    }
                }
                Err(e) => found.errors.push(format!("referrers tag {tag} is not an image index: {e}")),
            },
        }
    }
    for (_, (entry, discovery)) in entries {
        if let Some(sig) = referrer(scan, repo, subject, &entry, discovery, found).await {
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
    repo: &str,
    subject: &Subject,
    entry: &ImageIndexEntry,
    discovery: Discovery,
    found: &mut Found,
) -> Option<SignatureReport> {
    // Skip what the listing already says is no signature (SBOMs, other attachments) unfetched.
    if let Some(ty) = &entry.artifact_type {
        if artifact_kind(ty) == ArtifactKind::Other {
            return None;
        }
    }
    let digest = Digest::parse(&entry.digest);
    let fetched = match &digest {
        None => {
            found.errors.push(format!("referrer digest {:?} is not a digest", entry.digest));
            return None;
        }
        Some(d) => match scan.client.get_manifest(repo, d.as_str()).await {
            Ok(Some(f)) => f,
            Ok(None) => {
                found.errors.push(format!("referrer {d} is listed but missing"));
                return None;
            }
            Err(e) => {
                found.errors.push(format!("referrer {d}: {e}"));
                return None;
            }
        },
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
            let c = base.invalid(format!(
                "referrer's subject is {}, not this image ({})",
                other.unwrap_or("missing"),
                subject.digest
            ));
            return Some(report(format, discovery, &fetched.digest, c));
        }
    }
    let checked = match format {
        SignatureFormat::Notation => {
            if manifest.layers.len() != 1 {
                base.invalid(format!(
                    "Notary signature manifest has {} layers, expected exactly one",
                    manifest.layers.len()
                ))
            } else {
                let layer = &manifest.layers[0];
                match fetch_blob(scan, repo, &layer.digest).await {
                    Err(e) => base.error(e),
                    Ok(blob) => notation::check_envelope(
                        &layer.media_type,
                        &blob,
                        &manifest.annotations.clone().unwrap_or_default(),
                        subject,
                        &format!("{}/{repo}", scan.client.host()),
                        &scan.trust,
                        scan.now,
                    ),
                }
            }
        }
        SignatureFormat::SigstoreBundle => {
            let layers: Vec<_> =
                manifest.layers.iter().filter(|l| l.media_type.starts_with(oci::SIGSTORE_BUNDLE_PREFIX)).collect();
            if layers.len() != 1 {
                base.invalid(format!("bundle referrer has {} bundle layers, expected exactly one", layers.len()))
            } else {
                match fetch_blob(scan, repo, &layers[0].digest).await {
                    Err(e) => base.error(e),
                    Ok(blob) => bundle::check_bundle(&blob, subject, &scan.trust),
                }
            }
        }
        SignatureFormat::Cosign => {
            let mut last = base.invalid("no simple-signing layer in the cosign referrer");
            for layer in manifest.layers.iter().filter(|l| l.media_type == oci::COSIGN_SIMPLESIGNING) {
                last = match fetch_blob(scan, repo, &layer.digest).await {
                    Err(e) => Checked::new(Envelope::Simplesigning, SignatureKind::Signature).error(e),
                    Ok(blob) => cosign::check_simplesigning(
                        &layer.annotations.clone().unwrap_or_default(),
                        &blob,
                        subject,
                        &scan.trust,
                    ),
                };
            }
            last
        }
    };
    Some(report(format, discovery, &fetched.digest, checked))
}

fn report(format: SignatureFormat, discovery: Discovery, manifest: &Digest, c: Checked) -> SignatureReport {
    SignatureReport {
        format,
        envelope: c.envelope,
        kind: c.kind,
        discovery,
        manifest_digest: manifest.to_string(),
        verification: Verification { status: c.verdict, reasons: c.reasons },
        signer: c.signer,
        chain: c.chain,
        signed_at: c.signed_at,
        timestamp: c.timestamp,
        algorithm: c.algorithm,
        predicate_type: c.predicate_type,
        docker_reference: c.docker_reference,
        subject_digest: None,
    }
}
