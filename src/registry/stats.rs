//! Request counters by kind, for `--stats` and the benchmark.

use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    Ping,
    Token,
    Catalog,
    TagList,
    ManifestHead,
    ManifestGet,
    Blob,
    Referrers,
    /// A platform API's listing page (Docker Hub, GitHub, GitLab, Quay, Harbor).
    Listing,
    /// The signature extension (`/extensions/v2/<name>/signatures/<digest>`).
    Signatures,
}

impl RequestKind {
    /// How many kinds there are: one counter each.
    const COUNT: usize = RequestKind::Signatures as usize + 1;
}

#[derive(Debug, Default)]
pub struct Stats {
    counters: [AtomicU64; RequestKind::COUNT],
    retries: AtomicU64,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatsSnapshot {
    pub ping: u64,
    pub token: u64,
    pub catalog: u64,
    pub tag_list: u64,
    pub manifest_head: u64,
    pub manifest_get: u64,
    pub blob: u64,
    pub referrers: u64,
    pub listing: u64,
    pub signatures: u64,
    pub retries: u64,
    pub total: u64,
}

impl Stats {
    pub fn count(&self, kind: RequestKind) {
        self.counters[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        let g = |k: RequestKind| self.counters[k as usize].load(Ordering::Relaxed);
        let mut s = StatsSnapshot {
            ping: g(RequestKind::Ping),
            token: g(RequestKind::Token),
            catalog: g(RequestKind::Catalog),
            tag_list: g(RequestKind::TagList),
            manifest_head: g(RequestKind::ManifestHead),
            manifest_get: g(RequestKind::ManifestGet),
            blob: g(RequestKind::Blob),
            referrers: g(RequestKind::Referrers),
            listing: g(RequestKind::Listing),
            signatures: g(RequestKind::Signatures),
            retries: self.retries.load(Ordering::Relaxed),
            total: 0,
        };
        s.total = s.ping
            + s.token
            + s.catalog
            + s.tag_list
            + s.manifest_head
            + s.manifest_get
            + s.blob
            + s.referrers
            + s.listing
            + s.signatures;
        s
    }
}

impl std::ops::Add for StatsSnapshot {
    type Output = StatsSnapshot;
    fn add(self, o: StatsSnapshot) -> StatsSnapshot {
        StatsSnapshot {
            ping: self.ping + o.ping,
            token: self.token + o.token,
            catalog: self.catalog + o.catalog,
            tag_list: self.tag_list + o.tag_list,
            manifest_head: self.manifest_head + o.manifest_head,
            manifest_get: self.manifest_get + o.manifest_get,
            blob: self.blob + o.blob,
            referrers: self.referrers + o.referrers,
            listing: self.listing + o.listing,
            signatures: self.signatures + o.signatures,
            retries: self.retries + o.retries,
            total: self.total + o.total,
        }
    }
}
