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
