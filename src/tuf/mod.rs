//! The Sigstore trusted root kept current through TUF (The Update Framework), as cosign and
//! sigstore-go fetch it: `trusted_root.json` is a target of a TUF repository (public-good:
//! <https://tuf-repo-cdn.sigstore.dev>), reached from a trusted TUF `root.json` by the client
//! workflow of the TUF specification (root chain and rotation, timestamp, snapshot, targets and
//! delegations, expiry, rollback, target length and hash), all done by the `tough` crate.
//!
//! The embedded `public_good_root.json` is version 15 of the public-good TUF root, taken from
//! github.com/sigstore/root-signing `metadata/root_history/15.root.json` (commit 55a34db1,
//! 2026-05-16; sha256 73747011d0857ada15479a16c4cae0f3ed03aac698b523b97e1de314ac9d9ca8, the
//! same bytes as that repository's `metadata/root.json` at 60cf2ce8, 2026-08-21). Its own expiry
//! does not matter: as the specification says (5.2), the client walks the chain from it to the
//! newest root, which must not be expired.
//!
//! What is kept (see [`cache`]): the verified metadata (the rollback reference of the next
//! update) and the target, replaced whole only after a complete, verified update.

pub mod cache;

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The public-good Sigstore TUF repository (metadata at its root, targets under `targets/`).
pub const PUBLIC_GOOD_URL: &str = "https://tuf-repo-cdn.sigstore.dev";
/// The public-good TUF root the client starts from (see the module documentation).
pub const PUBLIC_GOOD_TUF_ROOT: &str = include_str!("public_good_root.json");
/// The target holding the Sigstore trusted root.
pub const TRUSTED_ROOT_TARGET: &str = "trusted_root.json";

#[derive(Debug, thiserror::Error)]
pub enum TufError {
    #[error("TUF repository {url}: {message}")]
    Update { url: String, message: String },
    #[error("TUF repository {url}: it has no target {TRUSTED_ROOT_TARGET}")]
    NoTarget { url: String },
    #[error("TUF repository {url}: its {TRUSTED_ROOT_TARGET} is not a usable Sigstore trusted root: {message}")]
    UnusableTarget { url: String, message: String },
    #[error("{0:?} is not a TUF repository URL: {1}")]
    Url(String, String),
    #[error("TUF repository {0}: no trusted TUF root to start from (give --tuf-root FILE: the repository's root.json, obtained out of band)")]
    NoInitialRoot(String),
    #[error("the cached TUF metadata in {dir}: {message}")]
    Cache { dir: String, message: String },
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// A Sigstore trusted root obtained through TUF: which repository, which versions, which digest,
/// and until when the metadata that vouched for it holds.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub struct TufRoot {
    pub tuf_url: String,
    pub root_version: u64,
    pub timestamp_version: u64,
    pub snapshot_version: u64,
    pub targets_version: u64,
    /// `sha256:<hex>` of `trusted_root.json`.
    pub target_sha256: String,
    /// The earliest expiry of the four top-level roles (RFC 3339), and which role it is.
    pub expires: String,
    pub expires_role: String,
    /// When the update ran (RFC 3339).
    pub updated: String,
}

/// `<cache>/sigaudit/tuf/<first 16 hex digits of sha256(url)>`: one directory per repository.
pub fn cache_dir(cache_home: &Path, url: &str) -> PathBuf {
    use sha2::Digest as _;
    let h = hex::encode(sha2::Sha256::digest(normalise_url(url).as_bytes()));
    cache_home.join("sigaudit").join("tuf").join(&h[..16])
}

/// `$XDG_CACHE_HOME`, else `$HOME/.cache`.
pub fn user_cache_home() -> Option<PathBuf> {
    match std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => std::env::var_os("HOME").filter(|d| !d.is_empty()).map(|h| PathBuf::from(h).join(".cache")),
    }
}

/// The URL without trailing slashes, so that `…/` and `…` share a cache.
pub fn normalise_url(url: &str) -> String {
    url.trim_end_matches('/').to_string()
}

/// The TUF root to start from: the one given, else the embedded public-good root for the
/// public-good repository.
pub fn initial_root(url: &str, given: Option<Vec<u8>>) -> Result<Vec<u8>, TufError> {
    match given {
        Some(root) => Ok(root),
        None if normalise_url(url) == PUBLIC_GOOD_URL => Ok(PUBLIC_GOOD_TUF_ROOT.as_bytes().to_vec()),
        None => Err(TufError::NoInitialRoot(normalise_url(url))),
    }
}

/// One update: the TUF client workflow from the newest trusted root (the cached one, or `root`
/// when it is newer or nothing is cached), then `trusted_root.json`, checked to be a usable
/// Sigstore trusted root, and the cache replaced whole. On any failure the cache is left as it was.
pub async fn update(
    url: &str,
    root: &[u8],
    cache_home: &Path,
    timeout: Duration,
) -> Result<(TufRoot, String), TufError> {
    let url = normalise_url(url);
    let base = url::Url::parse(&format!("{url}/")).map_err(|e| TufError::Url(url.clone(), e.to_string()))?;
    if !matches!(base.scheme(), "https" | "http") {
        return Err(TufError::Url(url, "use https:// (or http:// on a trusted network)".into()));
    }
    let targets_base = base.join("targets/").map_err(|e| TufError::Url(url.clone(), e.to_string()))?;
    let dir = cache_dir(cache_home, &url);
    let staging = cache::Staging::begin(&dir)?;
    let start = staging.newest_root(root);
    let fail = |e: &dyn std::error::Error| TufError::Update { url: url.clone(), message: chain(e) };
    let transport = tough::HttpTransportBuilder::new()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .tries(2)
        .build();
    let repo = tough::RepositoryLoader::new(&start, base.clone(), targets_base)
        .transport(transport)
        .datastore(staging.metadata_dir())
        .expiration_enforcement(tough::ExpirationEnforcement::Safe)
        .load()
        .await
        .map_err(|e| fail(&e))?;
    let name = tough::TargetName::new(TRUSTED_ROOT_TARGET).map_err(|e| fail(&e))?;
    let stream =
        repo.read_target(&name).await.map_err(|e| fail(&e))?.ok_or_else(|| TufError::NoTarget { url: url.clone() })?;
    use tough::IntoVec as _;
    let bytes = stream.into_vec().await.map_err(|e| fail(&e))?;
    let json =
        String::from_utf8(bytes).map_err(|e| TufError::UnusableTarget { url: url.clone(), message: e.to_string() })?;
    usable_trusted_root(&json).map_err(|message| TufError::UnusableTarget { url: url.clone(), message })?;
    let got = describe(&url, &repo, &json);
    staging.commit(&got, &json)?;
    Ok((got, json))
}

/// A Sigstore trusted root by its media type, with something to verify against (a transparency
/// log or a certificate authority), that the verifier takes. The verifier's parser alone takes
/// any JSON object as an empty root.
fn usable_trusted_root(json: &str) -> Result<(), String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let media = v["mediaType"].as_str().unwrap_or_default();
    if !media.starts_with("application/vnd.dev.sigstore.trustedroot") {
        return Err(format!("its mediaType is {media:?}, not application/vnd.dev.sigstore.trustedroot…"));
    }
    let some = |k: &str| v[k].as_array().is_some_and(|a| !a.is_empty());
    if !some("tlogs") && !some("certificateAuthorities") {
        return Err("it lists no transparency log and no certificate authority".into());
    }
    crate::sigstore::SigstoreTrust::empty().add_json(json, TRUSTED_ROOT_TARGET).map_err(|e| e.to_string())
}

fn describe(url: &str, repo: &tough::Repository, json: &str) -> TufRoot {
    use sha2::Digest as _;
    let (root, ts, snap, targets) =
        (&repo.root().signed, &repo.timestamp().signed, &repo.snapshot().signed, &repo.targets().signed);
    let (expires, role) = cache::earliest([
        (root.expires, "root"),
        (ts.expires, "timestamp"),
        (snap.expires, "snapshot"),
        (targets.expires, "targets"),
    ]);
    TufRoot {
        tuf_url: url.to_string(),
        root_version: root.version.get(),
        timestamp_version: ts.version.get(),
        snapshot_version: snap.version.get(),
        targets_version: targets.version.get(),
        target_sha256: format!("sha256:{}", hex::encode(sha2::Sha256::digest(json.as_bytes()))),
        expires: expires.to_string(),
        expires_role: role.to_string(),
        updated: jiff::Timestamp::now().to_string(),
    }
}

/// An error with its causes, `: `-joined (tough's errors nest the reason a level down).
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded public-good root parses and is signed by a threshold of its own root keys
    /// (tough's check, as the client's first step does).
    #[test]
    fn embedded_public_good_root_verifies_itself() {
        let root: tough::schema::Signed<tough::schema::Root> = serde_json::from_str(PUBLIC_GOOD_TUF_ROOT).unwrap();
        assert_eq!(root.signed.version.get(), 15);
        root.signed.verify_role(&root).expect("self-signed by a threshold of its root keys");
        // The same signatures over other content (a version bumped) meet no threshold.
        let mut forged = root.clone();
        forged.signed.version = std::num::NonZeroU64::new(16).unwrap();
        assert!(root.signed.verify_role(&forged).is_err());
    }

    #[test]
    fn cache_dir_ignores_a_trailing_slash() {
        let home = Path::new("/c");
        assert_eq!(cache_dir(home, "https://x.example/"), cache_dir(home, "https://x.example"));
        assert_ne!(cache_dir(home, "https://x.example"), cache_dir(home, "https://y.example"));
    }
}
