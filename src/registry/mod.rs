//! The registry client: the OCI distribution protocol as a scanner needs it.
//!
//! oci-client 0.18 provides the manifest and index types and reference parsing we use, but its
//! `Client` does not fit a whole-registry audit: it does not follow `Link` paging for the catalog or
//! tag lists, it re-probes the referrers API on every call and turns a failed fallback lookup into
//! "no referrers" (an auditor must never turn "could not look" into "not signed"), it has no retries
//! or `Retry-After`, and its errors lose the HTTP status. So requests go through our own small
//! client on the same reqwest, with bounded concurrency, counted requests, capped bodies and
//! per-scope bearer tokens.

mod auth;
mod client;
mod link;
pub mod listers;
mod stats;

pub use auth::{docker_config_credentials, Challenge, Credentials, Secret};
pub use client::{CatalogPage, ClientConfig, Fetched, ManifestHead, ReferrersAnswer, RegistryClient, Resolved, Scope};
pub use link::next_link;
pub use stats::{RequestKind, Stats, StatsSnapshot};

use thiserror::Error;

/// Size limits against hostile registries (FORMATS.md: manifests are at most 4 MiB).
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// Signature payloads, envelopes and bundles.
pub const MAX_SIGNATURE_BLOB_BYTES: usize = 1 << 20;
/// One catalog or tag-list page.
pub const MAX_LIST_PAGE_BYTES: usize = 32 << 20;

#[derive(Debug, Error)]
pub enum RegistryError {
    #[error("{method} {url}: HTTP {status}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Status { method: String, url: String, status: u16, detail: Option<String> },
    #[error("{method} {url}: {message}")]
    Transport { method: String, url: String, message: String },
    #[error("{url}: response exceeds the {limit}-byte limit")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: content digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { url: String, expected: String, actual: String },
    #[error("{url}: {message}")]
    Protocol { url: String, message: String },
    #[error("authentication to {url} failed: {message}")]
    Auth { url: String, message: String },
    #[error("invalid registry address {0:?}")]
    Address(String),
}

impl RegistryError {
    pub fn status(&self) -> Option<u16> {
        match self {
            RegistryError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
