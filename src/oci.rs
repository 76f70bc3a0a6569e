//! OCI vocabulary shared by discovery and verification: media types, digests and the tag naming
//! schemes that signature tools use (cosign `sha256-<hex>.sig|.att|.sbom`, the referrers tag schema
//! `sha256-<hex>`).

use sha2::{Digest as _, Sha256};

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";

/// Every manifest type we understand, for `Accept` headers.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.oci.artifact.manifest.v1+json";

pub const NOTARY_SIGNATURE: &str = "application/vnd.cncf.notary.signature";
pub const SIGSTORE_BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
pub const COSIGN_SIMPLESIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const DSSE_ENVELOPE: &str = "application/vnd.dsse.envelope.v1+json";
pub const COSIGN_ARTIFACT_SIG: &str = "application/vnd.dev.cosign.artifact.sig.v1+json";
pub const JOSE: &str = "application/jose+json";
pub const COSE: &str = "application/cose";

pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// What a manifest is, judged by its content (media types, `artifactType`, layers, entries), never
/// by the name of the tag that points at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// An image manifest: nothing in it says it is an artifact.
    Image,
    /// An image index of platform images.
    Index,
    /// A signature or attestation artifact: cosign `.sig`/`.att` layers, a Notary signature, a
    /// Sigstore bundle.
    Signature,
    /// An index whose every entry names an `artifactType`: a referrers list (the referrers tag
    /// schema), not a multi-platform image.
    ReferrersIndex,
    /// Some other artifact (an SBOM attachment, a Helm chart, ...): not an image.
    OtherArtifact,
    /// Not a manifest this scanner can read.
    Unreadable,
}

const IMAGE_CONFIGS: [&str; 2] =
    ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];

fn is_image_layer(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.oci.image.layer.")
        || media_type.starts_with("application/vnd.docker.image.rootfs.")
}

/// Classify manifest bytes by what they hold.
pub fn classify(bytes: &[u8]) -> ManifestKind {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else { return ManifestKind::Unreadable };
    let Some(v) = value.as_object() else { return ManifestKind::Unreadable };
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("");
    let media_type = s("mediaType");
    if let Some(entries) = v.get("manifests").filter(|_| !v.contains_key("layers")) {
        let Some(entries) = entries.as_array() else { return ManifestKind::Unreadable };
        if !media_type.is_empty() && !is_index(media_type) {
            return ManifestKind::Unreadable;
        }
        let artifact =
            |e: &serde_json::Value| e.get("artifactType").and_then(|t| t.as_str()).is_some_and(|t| !t.is_empty());
        return if entries.iter().all(artifact) { ManifestKind::ReferrersIndex } else { ManifestKind::Index };
    }
    if signature_artifact(&value) {
        return ManifestKind::Signature;
    }
    if media_type == OCI_ARTIFACT_MANIFEST || v.contains_key("blobs") {
        return ManifestKind::OtherArtifact;
    }
    let Some(config) = v.get("config").and_then(|c| c.get("mediaType")).and_then(|m| m.as_str()) else {
        return ManifestKind::Unreadable;
    };
    let layers: Vec<&str> = match v.get("layers") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(l)) => {
            l.iter().map(|x| x.get("mediaType").and_then(|m| m.as_str()).unwrap_or("")).collect()
        }
        Some(_) => return ManifestKind::Unreadable,
    };
    let artifact_type = s("artifactType");
    if !artifact_type.is_empty()
        || !IMAGE_CONFIGS.contains(&config)
        || (!layers.is_empty() && !layers.iter().any(|l| is_image_layer(l)))
    {
        return ManifestKind::OtherArtifact;
    }
    ManifestKind::Image
}

/// Whether a manifest is itself a signature or attestation artifact rather than an image.
fn signature_artifact(v: &serde_json::Value) -> bool {
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).unwrap_or("");
    let ty = if s("/artifactType").is_empty() { s("/config/mediaType") } else { s("/artifactType") };
    if ty == NOTARY_SIGNATURE || ty.starts_with(SIGSTORE_BUNDLE_PREFIX) || ty.starts_with("application/vnd.dev.cosign")
    {
        return true;
    }
    v.pointer("/layers").and_then(|l| l.as_array()).is_some_and(|l| {
        !l.is_empty()
            && l.iter().all(|x| {
                let m = x.get("mediaType").and_then(|m| m.as_str()).unwrap_or("");
                m == COSIGN_SIMPLESIGNING || m == DSSE_ENVELOPE
            })
    })
}

/// One entry of an image index, as far as the crawl needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    /// `os/architecture[/variant]`, when the entry states a platform.
    pub platform: Option<String>,
    /// What the entry's annotations say it is (`vnd.docker.reference.type`, as BuildKit marks
    /// its attestation manifests).
    pub reference_type: Option<String>,
}

/// The entries of an image index.
pub fn index_entries(bytes: &[u8]) -> Result<Vec<IndexEntry>, String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Entry {
        #[serde(default)]
        media_type: String,
        digest: String,
        #[serde(default)]
        size: u64,
        platform: Option<Platform>,
        #[serde(default)]
        annotations: Option<std::collections::BTreeMap<String, String>>,
    }
    #[derive(serde::Deserialize)]
    struct Platform {
        #[serde(default)]
        architecture: String,
        #[serde(default)]
        os: String,
        variant: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Index {
        manifests: Vec<Entry>,
    }
    let index: Index = serde_json::from_slice(bytes).map_err(|e| format!("not an image index: {e}"))?;
    Ok(index
        .manifests
        .into_iter()
        .map(|e| IndexEntry {
            platform: e.platform.map(|p| match p.variant.filter(|v| !v.is_empty()) {
                Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                None => format!("{}/{}", p.os, p.architecture),
            }),
            reference_type: e.annotations.and_then(|mut a| a.remove("vnd.docker.reference.type")),
            media_type: e.media_type,
            digest: e.digest,
            size: e.size,
        })
        .collect())
}

/// A content digest `algorithm:hex`: sha256, or sha384 and sha512, which OCI registries may serve
/// too (the registries we test with produce only sha256).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest(String);

impl Digest {
    pub fn parse(s: &str) -> Option<Digest> {
        let (alg, hex) = s.split_once(':')?;
        let len = match alg {
            "sha256" => 64,
            "sha384" => 96,
            "sha512" => 128,
            _ => return None,
        };
        if hex.len() == len && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Some(Digest(s.to_string()))
        } else {
            None
        }
    }

    pub fn sha256_of(bytes: &[u8]) -> Digest {
        Digest(format!("sha256:{}", hex::encode(Sha256::digest(bytes))))
    }

    /// Whether `bytes` hash to this digest.
    pub fn matches(&self, bytes: &[u8]) -> bool {
        match self.algorithm() {
            "sha256" => hex::encode(Sha256::digest(bytes)) == self.hex(),
            "sha384" => hex::encode(sha2::Sha384::digest(bytes)) == self.hex(),
            "sha512" => hex::encode(sha2::Sha512::digest(bytes)) == self.hex(),
            _ => false,
        }
    }

    pub fn algorithm(&self) -> &str {
        self.0.split_once(':').map(|(a, _)| a).unwrap_or("")
    }

    pub fn hex(&self) -> &str {
        self.0.split_once(':').map(|(_, h)| h).unwrap_or("")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `sha256-<hex>`: the referrers tag schema tag, and the stem of cosign's tags.
    pub fn tag_stem(&self) -> String {
        format!("{}-{}", self.algorithm(), self.hex())
    }

    /// The first 12 hex characters, for tables.
    pub fn short(&self) -> &str {
        let h = self.hex();
        &h[..h.len().min(12)]
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a tag name says about the manifest behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagKind {
    /// An ordinary tag: an image (or something we must resolve to know).
    Image,
    /// cosign `sha256-<hex>.sig`
    CosignSignatures(Digest),
    /// cosign `sha256-<hex>.att`
    CosignAttestations(Digest),
    /// cosign `sha256-<hex>.sbom` (unsigned attachment, never an image)
    CosignSbom(Digest),
    /// referrers tag schema `sha256-<hex>`: an index of the referrers of that digest
    ReferrersIndex(Digest),
}

impl TagKind {
    pub fn of(tag: &str) -> TagKind {
        let (stem, suffix) = match tag.rsplit_once('.') {
            Some((stem, suffix)) => (stem, Some(suffix)),
            None => (tag, None),
        };
        let Some(digest) = stem.split_once('-').and_then(|(alg, hex)| Digest::parse(&format!("{alg}:{hex}"))) else {
            return TagKind::Image;
        };
        match suffix {
            None => TagKind::ReferrersIndex(digest),
            Some("sig") => TagKind::CosignSignatures(digest),
            Some("att") => TagKind::CosignAttestations(digest),
            Some("sbom") => TagKind::CosignSbom(digest),
            Some(_) => TagKind::Image,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";

    #[test]
    fn classifies_signature_tags() {
        let d = Digest::parse(&format!("sha256:{HEX}")).unwrap();
        assert_eq!(TagKind::of(&format!("sha256-{HEX}.sig")), TagKind::CosignSignatures(d.clone()));
        assert_eq!(TagKind::of(&format!("sha256-{HEX}.att")), TagKind::CosignAttestations(d.clone()));
        assert_eq!(TagKind::of(&format!("sha256-{HEX}.sbom")), TagKind::CosignSbom(d.clone()));
        assert_eq!(TagKind::of(&format!("sha256-{HEX}")), TagKind::ReferrersIndex(d));
        assert_eq!(TagKind::of("v1.2"), TagKind::Image);
        assert_eq!(TagKind::of("sha256-abc.sig"), TagKind::Image);
        assert_eq!(TagKind::of(&format!("sha256-{}.sig", HEX.to_uppercase())), TagKind::Image);
        assert_eq!(TagKind::of(&format!("sha256-{HEX}.foo")), TagKind::Image);
    }

    fn manifest(config: &str, layers: &[&str], extra: &str) -> Vec<u8> {
        let layers: Vec<String> =
            layers.iter().map(|m| format!(r#"{{"mediaType":"{m}","digest":"sha256:{HEX}","size":1}}"#)).collect();
        format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"{config}","digest":"sha256:{HEX}","size":2}},"layers":[{}]{extra}}}"#,
            layers.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn classifies_manifests_by_content() {
        let image_config = "application/vnd.oci.image.config.v1+json";
        let tar = "application/vnd.oci.image.layer.v1.tar+gzip";
        assert_eq!(classify(&manifest(image_config, &[tar], "")), ManifestKind::Image);
        assert_eq!(classify(&manifest(image_config, &[], "")), ManifestKind::Image);
        let docker = "application/vnd.docker.container.image.v1+json";
        assert_eq!(
            classify(&manifest(docker, &["application/vnd.docker.image.rootfs.diff.tar.gzip"], "")),
            ManifestKind::Image
        );
        // cosign .sig and .att manifests carry an image config; their layers tell.
        assert_eq!(classify(&manifest(image_config, &[COSIGN_SIMPLESIGNING], "")), ManifestKind::Signature);
        assert_eq!(classify(&manifest(image_config, &[DSSE_ENVELOPE], "")), ManifestKind::Signature);
        assert_eq!(classify(&manifest(NOTARY_SIGNATURE, &[JOSE], "")), ManifestKind::Signature);
        let empty = "application/vnd.oci.empty.v1+json";
        let bundle = "application/vnd.dev.sigstore.bundle.v0.3+json";
        assert_eq!(
            classify(&manifest(empty, &[bundle], &format!(r#","artifactType":"{bundle}""#))),
            ManifestKind::Signature
        );
        // An SBOM attached by cosign, a Helm chart: artifacts, not images.
        assert_eq!(classify(&manifest(image_config, &["text/spdx"], "")), ManifestKind::OtherArtifact);
        assert_eq!(
            classify(&manifest(
                "application/vnd.cncf.helm.config.v1+json",
                &["application/vnd.cncf.helm.chart.content.v1.tar+gzip"],
                ""
            )),
            ManifestKind::OtherArtifact
        );
        let index =
            |entries: &str| format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[{entries}]}}"#);
        let platform = format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":1,"platform":{{"architecture":"arm64","os":"linux","variant":"v8"}}}}"#
        );
        let referrer = format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"sha256:{HEX}","size":1,"artifactType":"{NOTARY_SIGNATURE}"}}"#
        );
        assert_eq!(classify(index(&platform).as_bytes()), ManifestKind::Index);
        assert_eq!(classify(index(&referrer).as_bytes()), ManifestKind::ReferrersIndex);
        assert_eq!(classify(index("").as_bytes()), ManifestKind::ReferrersIndex);
        assert_eq!(classify(index(&format!("{platform},{referrer}")).as_bytes()), ManifestKind::Index);
        assert_eq!(classify(b"{\"schemaVersion\":2,\"layers\":[{\"mediaType\":"), ManifestKind::Unreadable);
        assert_eq!(classify(b"[]"), ManifestKind::Unreadable);

        let entries = index_entries(index(&format!("{platform},{referrer}")).as_bytes()).unwrap();
        assert_eq!(entries[0].platform.as_deref(), Some("linux/arm64/v8"));
        assert_eq!(entries[1].platform, None);
        assert!(index_entries(b"{}").is_err());
    }

    #[test]
    fn digest_matches_bytes() {
        let d = Digest::sha256_of(b"{}");
        assert_eq!(d.as_str(), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assert!(d.matches(b"{}"));
        assert!(!d.matches(b"{} "));
        assert_eq!(d.tag_stem(), "sha256-44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        // Image references by digest may use sha384 and sha512 as well.
        for (alg, hex) in
            [("sha384", hex::encode(sha2::Sha384::digest(b"{}"))), ("sha512", hex::encode(sha2::Sha512::digest(b"{}")))]
        {
            let d = Digest::parse(&format!("{alg}:{hex}")).unwrap();
            assert!(d.matches(b"{}") && !d.matches(b"{} "));
        }
        assert!(Digest::parse(&format!("sha384:{}", "a".repeat(64))).is_none());
    }
}
