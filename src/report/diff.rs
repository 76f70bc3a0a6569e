//! What changed between two reports: `sigaudit diff OLD NEW`, and `--baseline OLD` on a scan
//! (the report's `changes`).
//!
//! An item is what an auditor follows from one night to the next, and tags move: a registry item
//! is a **tag** (registry, repository, tag), whatever digest it resolves to tonight, so `app:v1`
//! pushed over with an unsigned image reads `app:v1: verified → unsigned, digest a → b`; an image
//! with no tag is its **digest** (registry, repository, digest); a file is its **path**. An image
//! with several tags is one item per tag. For each item present on both sides the diff says what
//! differs: the status, the digest (the file's SHA-256), the set of signers (certificates by
//! SHA-256 thumbprint, bare keys by key id), the signatures that disappeared, and whether a waiver
//! covers it; items only in the old report are `gone`, only in the new one `new`. Signatures are
//! compared only while the item keeps its digest (a tag moved to another image has other
//! signatures by nature): a signature is the same when its `manifestDigest` is (files: its
//! `index`); a cosign tag-scheme signature also when one of the same kind by the same signer is
//! there, because cosign rewrites the one `.sig` manifest holding every signature of an image
//! whenever one is added. Orphans are compared by (registry, repository, artifact, subject): the
//! new ones are listed.
//!
//! A change goes **into** a status when the item is new with that status, changed to it, or kept
//! it but lost the waiver that covered it, and no waiver covers it now: those are what
//! `--fail-on-new` acts on.

use super::merge::Input;
use super::waivers::WaiversReport;
use super::{Discovery, FileReport, ImageReport, OrphanReport, ScanInfo, Status};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const DIFF_SCHEMA: &str = "sigaudit.diff/v1";

/// One side of a comparison: which scan it was.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    /// The file the report was read from (`-`: standard input); absent for the scan itself.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub source: Option<String>,
    pub kind: String,
    pub target: serde_json::Value,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub finished_at: Option<String>,
    pub complete: bool,
}

impl Side {
    pub fn of(source: Option<&str>, scan: &ScanInfo) -> Side {
        Side {
            source: source.map(str::to_string),
            kind: scan.kind.clone(),
            target: scan.target.clone(),
            started_at: scan.started_at.clone(),
            finished_at: scan.finished_at.clone(),
            complete: scan.complete,
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    New,
    Gone,
    Changed,
}

/// A value before and after; a side is absent where the item was not.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FromTo<T> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<T>,
}

fn from_to<T: PartialEq>(from: Option<T>, to: Option<T>) -> Option<FromTo<T>> {
    (from != to).then_some(FromTo { from, to })
}

/// Which item: a tag (`registry`, `repository`, `tag`), an untagged image (`registry`,
/// `repository`, `digest`) or a file (`path`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct ItemRef {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub path: Option<String>,
}

impl ItemRef {
    /// `repository:tag`, `repository@sha256:0123456789ab…`, or the path; with the registry
    /// first when asked (reports of several registries).
    pub fn display(&self, with_registry: bool) -> String {
        if let Some(p) = &self.path {
            return p.clone();
        }
        let repo = self.repository.clone().unwrap_or_default();
        let name = match (&self.tag, &self.digest) {
            (Some(t), _) => format!("{repo}:{t}"),
            (None, Some(d)) => format!("{repo}@{}", short(d)),
            (None, None) => repo,
        };
        match (&self.registry, with_registry) {
            (Some(r), true) => format!("{r}/{name}"),
            _ => name,
        }
    }
}

/// A signer by what identifies it: a certificate's SHA-256 thumbprint, else a bare key's id; with
/// its name for people.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct SignerRef {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub key_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

impl SignerRef {
    fn of(s: Option<&super::Signer>) -> Option<SignerRef> {
        let s = s?;
        if s.sha256.is_none() && s.key_id.is_none() {
            return None;
        }
        let name = Some(s.display_name()).filter(|n| !n.is_empty());
        Some(SignerRef { sha256: s.sha256.clone(), key_id: s.key_id.clone(), name })
    }

    fn id(&self) -> String {
        match (&self.sha256, &self.key_id) {
            (Some(t), _) => format!("cert {t}"),
            (None, Some(k)) => format!("key {k}"),
            (None, None) => String::new(),
        }
    }

    /// The signer for a table: its certificate's CN (else its name), or a short key id.
    fn label(&self) -> String {
        if let Some(cn) = self.name.as_deref().and_then(|n| crate::dn::attribute(n, "CN")) {
            return cn;
        }
        match (&self.name, &self.sha256, &self.key_id) {
            (Some(n), _, _) if !n.starts_with("key ") => n.clone(),
            (_, Some(t), _) => format!("cert {}", prefix(t, 12)),
            (_, None, Some(k)) => format!("key {}", prefix(k, 12)),
            _ => "?".into(),
        }
    }
}

/// A signature that disappeared: where it was (its manifest, or a file's signature index), its
/// format and kind, and its signer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignatureRef {
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub manifest_digest: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub index: Option<String>,
    pub format: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signer: Option<SignerRef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SignerChange {
    pub added: Vec<SignerRef>,
    pub removed: Vec<SignerRef>,
}

/// One item that is new, gone or changed, with every aspect that differs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ItemChange {
    pub change: Change,
    pub item: ItemRef,
    /// `{to}` for a new item, `{from}` for a gone one, both when it changed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<FromTo<Status>>,
    /// The image's digest (what the tag resolves to), as for `status`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub digest: Option<FromTo<String>>,
    /// The file's SHA-256 (hex), as for `status`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<FromTo<String>>,
    /// Signers no longer among the item's signatures, and new ones.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signers: Option<SignerChange>,
    /// Signatures of the same digest (file) that are no longer there.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub signatures_gone: Vec<SignatureRef>,
    /// Whether a waiver covered it before and covers it now, when either did.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub waived: Option<FromTo<bool>>,
    /// The status this change brings the item into, when that is news: new with it, changed to
    /// it, or kept it and lost its waiver; and no waiver covers it now. `--fail-on-new` acts on it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub into: Option<Status>,
}

/// Items by kind of change (an item changed in several ways counts in each), and changes into
/// each status.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSummary {
    pub new: u64,
    pub gone: u64,
    pub changed: u64,
    pub status_changed: u64,
    pub digest_changed: u64,
    pub signers_changed: u64,
    pub signatures_gone: u64,
    /// Items no waiver covered in the old report that one covers now.
    pub waived: u64,
    /// Items a waiver covered in the old report and none covers now (it expired, was removed, or
    /// no longer matches).
    pub unwaived: u64,
    pub new_orphans: u64,
    /// Changes into each status (`into`), for `--fail-on-new`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub into: BTreeMap<Status, u64>,
}

/// The changes between two reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChangeSet {
    pub summary: ChangeSummary,
    /// Sorted by item (registry, repository, tag, digest; path).
    pub items: Vec<ItemChange>,
    /// Orphaned signature artifacts the old report did not list.
    pub new_orphans: Vec<OrphanReport>,
}

impl ChangeSet {
    /// Whether a change goes into one of `statuses`.
    pub fn into_any(&self, statuses: &[Status]) -> bool {
        statuses.iter().any(|s| self.summary.into.get(s).copied().unwrap_or(0) > 0)
    }
}

/// A scan report's `changes`: the changes since its `--baseline`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    pub baseline: Side,
    #[serde(flatten)]
    pub set: ChangeSet,
}

/// What `sigaudit diff -o json` prints.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Diff {
    pub schema: String,
    pub old: Side,
    pub new: Side,
    #[serde(flatten)]
    pub set: ChangeSet,
}

/// What a scan adds to its report at the end: `changes` (`--baseline`) and `waivers`
/// (`--waivers`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditSection {
    pub changes: Option<Changes>,
    pub waivers: Option<WaiversReport>,
}

struct Sig {
    r: SignatureRef,
    /// Found by the cosign tag scheme (one `.sig`/`.att` manifest for all an image's signatures).
    tag_scheme: bool,
}

impl Sig {
    fn signer_id(&self) -> Option<String> {
        self.r.signer.as_ref().map(SignerRef::id)
    }

    /// Whether `other` (of the same digest, on the other side) is this signature.
    fn same(&self, other: &Sig) -> bool {
        if self.r.index.is_some() || other.r.index.is_some() {
            return self.r.index == other.r.index && self.r.format == other.r.format;
        }
        if self.r.manifest_digest == other.r.manifest_digest {
            return true;
        }
        self.tag_scheme
            && other.tag_scheme
            && self.r.kind == other.r.kind
            && self.r.format == other.r.format
            && self.signer_id().is_some()
            && self.signer_id() == other.signer_id()
    }
}

/// One item as the diff sees it.
struct State {
    digest: Option<String>,
    sha256: Option<String>,
    status: Status,
    signers: BTreeMap<String, SignerRef>,
    signatures: Vec<Sig>,
    waived: bool,
}

/// The items and orphans of one report, keyed for comparison.
#[derive(Default)]
pub struct Snapshot {
    items: BTreeMap<ItemRef, std::sync::Arc<State>>,
    orphans: BTreeMap<(String, String, String, String), OrphanReport>,
    /// Items listed twice (a tag on two digests, one path twice): such a report does not say
    /// which is true, and a comparison with it would hide a change.
    pub duplicates: Vec<String>,
}

/// A serde enum's word (`cosign`, `attestation`).
pub(crate) fn word_of<T: Serialize>(t: &T) -> String {
    serde_json::to_value(t).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
}

impl Snapshot {
    pub fn from_input(input: &Input) -> Snapshot {
        let mut s = Snapshot::default();
        for i in &input.images {
            s.add_image(i);
        }
        for f in &input.files {
            s.add_file(f);
        }
        for o in &input.orphans {
            s.add_orphan(o);
        }
        s
    }

    /// Items seen.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn add_image(&mut self, i: &ImageReport) {
        let signatures: Vec<Sig> = i
            .signatures
            .iter()
            .map(|s| Sig {
                r: SignatureRef {
                    manifest_digest: Some(s.manifest_digest.clone()),
                    index: None,
                    format: word_of(&s.format),
                    kind: Some(word_of(&s.kind)),
                    signer: SignerRef::of(s.signer.as_ref()),
                },
                tag_scheme: s.discovery == Discovery::Tag,
            })
            .collect();
        let state = std::sync::Arc::new(State {
            digest: Some(i.digest.clone()),
            sha256: None,
            status: i.status,
            signers: signers(&signatures),
            signatures,
            waived: i.waived.is_some(),
        });
        let key = |tag: Option<&String>| ItemRef {
            registry: i.registry.clone(),
            repository: Some(i.repository.clone()),
            tag: tag.cloned(),
            digest: tag.is_none().then(|| i.digest.clone()),
            path: None,
        };
        let keys: Vec<ItemRef> =
            if i.tags.is_empty() { vec![key(None)] } else { i.tags.iter().map(|t| key(Some(t))).collect() };
        for k in keys {
            let name = format!(
                "{}/{}:{}",
                i.registry.as_deref().unwrap_or(""),
                i.repository,
                k.tag.as_deref().unwrap_or(&i.digest)
            );
            if self.items.insert(k, state.clone()).is_some() {
                self.duplicates.push(name);
            }
        }
    }

    pub fn add_file(&mut self, f: &FileReport) {
        let signatures: Vec<Sig> = f
            .signatures
            .iter()
            .map(|s| Sig {
                r: SignatureRef {
                    manifest_digest: None,
                    index: Some(s.index.clone()),
                    format: s.format.clone(),
                    kind: None,
                    signer: SignerRef::of(s.signer.as_ref()),
                },
                tag_scheme: false,
            })
            .collect();
        let key = ItemRef { registry: None, repository: None, tag: None, digest: None, path: Some(f.path.clone()) };
        let state = State {
            digest: None,
            sha256: Some(f.sha256.clone()),
            status: f.status,
            signers: signers(&signatures),
            signatures,
            waived: f.waived.is_some(),
        };
        if self.items.insert(key, std::sync::Arc::new(state)).is_some() {
            self.duplicates.push(f.path.clone());
        }
    }

    /// An error naming the items listed twice, if any.
    pub fn check_unique(&self, what: &str) -> Result<(), String> {
        match self.duplicates.as_slice() {
            [] => Ok(()),
            d => Err(format!(
                "{what} lists {} twice ({}{}): it does not say which is true; a comparison with it would hide a change",
                if d.len() == 1 { "an item" } else { "items" },
                d.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
                if d.len() > 3 { ", …" } else { "" }
            )),
        }
    }

    pub fn add_orphan(&mut self, o: &OrphanReport) {
        let key = (o.registry.clone().unwrap_or_default(), o.repository.clone(), o.artifact.clone(), o.subject.clone());
        self.orphans.insert(key, o.clone());
    }
}

fn signers(signatures: &[Sig]) -> BTreeMap<String, SignerRef> {
    signatures.iter().filter_map(|s| s.r.signer.clone()).map(|r| (r.id(), r)).collect()
}

/// Compare one item on both sides; None when nothing an auditor follows differs.
fn compare(item: &ItemRef, old: Option<&State>, new: Option<&State>) -> Option<ItemChange> {
    let change = match (old, new) {
        (None, None) => return None,
        (None, Some(_)) => Change::New,
        (Some(_), None) => Change::Gone,
        (Some(_), Some(_)) => Change::Changed,
    };
    let status = from_to(old.map(|s| s.status), new.map(|s| s.status));
    let digest = from_to(old.and_then(|s| s.digest.clone()), new.and_then(|s| s.digest.clone()));
    let sha256 = from_to(old.and_then(|s| s.sha256.clone()), new.and_then(|s| s.sha256.clone()));
    let (was, now) = (old.is_some_and(|s| s.waived), new.is_some_and(|s| s.waived));
    let waived = (was || now).then_some(FromTo { from: old.map(|_| was), to: new.map(|_| now) });
    let mut signers = None;
    let mut signatures_gone = Vec::new();
    if let (Some(o), Some(n)) = (old, new) {
        let removed: Vec<SignerRef> =
            o.signers.iter().filter(|(k, _)| !n.signers.contains_key(*k)).map(|(_, v)| v.clone()).collect();
        let added: Vec<SignerRef> =
            n.signers.iter().filter(|(k, _)| !o.signers.contains_key(*k)).map(|(_, v)| v.clone()).collect();
        if !removed.is_empty() || !added.is_empty() {
            signers = Some(SignerChange { added, removed });
        }
        // A tag moved to another image has that image's signatures: only the same digest (or
        // the same file path, whose signatures are positions) compares signature by signature.
        if o.digest == n.digest {
            signatures_gone =
                o.signatures.iter().filter(|s| !n.signatures.iter().any(|x| s.same(x))).map(|s| s.r.clone()).collect();
        }
        let waiver_changed = was != now;
        if o.status == n.status
            && digest.is_none()
            && sha256.is_none()
            && signers.is_none()
            && signatures_gone.is_empty()
            && !waiver_changed
        {
            return None;
        }
    }
    let into = match (old, new) {
        (_, None) => None,
        (_, Some(n)) if n.waived => None,
        (None, Some(n)) => Some(n.status),
        (Some(o), Some(n)) => (o.status != n.status || o.waived).then_some(n.status),
    };
    Some(ItemChange {
        change,
        item: item.clone(),
        status: if change == Change::Changed && old.map(|s| s.status) == new.map(|s| s.status) { None } else { status },
        digest,
        sha256,
        signers,
        signatures_gone,
        waived,
        into,
    })
}

/// The changes from `old` to `new`.
pub fn diff(old: &Snapshot, new: &Snapshot) -> ChangeSet {
    let keys: BTreeSet<&ItemRef> = old.items.keys().chain(new.items.keys()).collect();
    let mut set = ChangeSet::default();
    for key in keys {
        let Some(c) = compare(key, old.items.get(key).map(|s| &**s), new.items.get(key).map(|s| &**s)) else {
            continue;
        };
        let s = &mut set.summary;
        match c.change {
            Change::New => s.new += 1,
            Change::Gone => s.gone += 1,
            Change::Changed => {
                s.changed += 1;
                s.status_changed += u64::from(c.status.is_some());
                s.digest_changed += u64::from(c.digest.is_some() || c.sha256.is_some());
                s.signers_changed += u64::from(c.signers.is_some());
                s.signatures_gone += u64::from(!c.signatures_gone.is_empty());
                s.waived += u64::from(c.waived.as_ref().is_some_and(|w| w.from == Some(false) && w.to == Some(true)));
                s.unwaived += u64::from(c.waived.as_ref().is_some_and(|w| w.from == Some(true) && w.to == Some(false)));
            }
        }
        if let Some(into) = c.into {
            *s.into.entry(into).or_insert(0) += 1;
        }
        set.items.push(c);
    }
    set.new_orphans =
        new.orphans.iter().filter(|(k, _)| !old.orphans.contains_key(*k)).map(|(_, o)| o.clone()).collect();
    set.summary.new_orphans = set.new_orphans.len() as u64;
    set
}

/// The first `n` characters of `s` (a report read from a file may hold any text where a digest
/// should be: never cut inside a character).
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// `sha256:0123456789ab…`
fn short(d: &str) -> String {
    let (head, hex) = d.split_at(d.find(':').map(|i| i + 1).unwrap_or(0));
    if hex.chars().count() <= 12 {
        return d.to_string();
    }
    format!("{head}{}…", prefix(hex, 12))
}

fn short_hex(h: &str) -> String {
    let hex = h.split_once(':').map_or(h, |(_, x)| x);
    if hex.chars().count() <= 12 {
        return hex.to_string();
    }
    format!("{}…", prefix(hex, 12))
}

impl ItemChange {
    /// `verified → unsigned`, `unsigned` (new), `was verified` (gone), or the status kept.
    pub fn status_text(&self) -> String {
        match (&self.change, &self.status) {
            (Change::New, Some(s)) => s.to.map(|s| s.as_str().to_string()).unwrap_or_default(),
            (Change::Gone, Some(s)) => s.from.map(|s| format!("was {}", s.as_str())).unwrap_or_default(),
            (_, Some(FromTo { from: Some(f), to: Some(t) })) => format!("{} → {}", f.as_str(), t.as_str()),
            _ => String::new(),
        }
    }

    /// The status that colours the row: where the item is now, else where it was.
    pub fn shown_status(&self) -> Option<Status> {
        self.status.as_ref().and_then(|s| s.to.or(s.from))
    }

    /// Everything else that differs, in words: digest, signers, signatures gone, waiver.
    pub fn details(&self) -> String {
        let mut parts = Vec::new();
        if let Some(FromTo { from: Some(f), to: Some(t) }) = &self.digest {
            parts.push(format!("digest {} → {}", short_hex(f), short_hex(t)));
        }
        if let Some(FromTo { from: Some(f), to: Some(t) }) = &self.sha256 {
            parts.push(format!("sha256 {} → {}", short_hex(f), short_hex(t)));
        }
        if let Some(s) = &self.signers {
            let mut names: Vec<String> = s.removed.iter().map(|r| format!("-{}", r.label())).collect();
            names.extend(s.added.iter().map(|r| format!("+{}", r.label())));
            parts.push(format!("signers {}", names.join(", ")));
        }
        if !self.signatures_gone.is_empty() {
            let sigs: Vec<String> = self
                .signatures_gone
                .iter()
                .map(|s| {
                    let at = s.index.clone().or_else(|| s.manifest_digest.as_deref().map(short)).unwrap_or_default();
                    let by = s.signer.as_ref().map(|r| format!(" by {}", r.label())).unwrap_or_default();
                    format!("{} {at}{by}", s.format)
                })
                .collect();
            parts.push(format!("signatures gone: {}", sigs.join(", ")));
        }
        match &self.waived {
            Some(FromTo { from: Some(true), to: Some(false) }) => parts.push("no longer waived".into()),
            Some(FromTo { from: Some(false), to: Some(true) }) => parts.push("now waived".into()),
            Some(FromTo { to: Some(true), .. }) => parts.push("waived".into()),
            _ => {}
        }
        parts.join("; ")
    }
}

impl ChangeSet {
    /// Whether the items name more than one registry (then each is shown with its registry).
    pub fn several_registries(&self) -> bool {
        let r: BTreeSet<&Option<String>> = self.items.iter().map(|c| &c.item.registry).collect();
        r.len() > 1
    }

    /// `2 new, 1 gone, 3 changed (2 status, 1 digest, 1 signers, 1 signatures gone); 1 new
    /// orphan; into: 2 unsigned.`
    pub fn summary_line(&self) -> String {
        let s = &self.summary;
        let mut line = format!("{} new, {} gone, {} changed", s.new, s.gone, s.changed);
        let kinds: Vec<String> = [
            (s.status_changed, "status"),
            (s.digest_changed, "digest"),
            (s.signers_changed, "signers"),
            (s.signatures_gone, "signatures gone"),
            (s.waived, "now waived"),
            (s.unwaived, "no longer waived"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, w)| format!("{n} {w}"))
        .collect();
        if !kinds.is_empty() {
            line.push_str(&format!(" ({})", kinds.join(", ")));
        }
        line.push_str(&format!("; new orphans: {}", s.new_orphans));
        if !s.into.is_empty() {
            let into: Vec<String> = s.into.iter().map(|(st, n)| format!("{n} {}", st.as_str())).collect();
            line.push_str(&format!("; changes into a status: {}", into.join(", ")));
        }
        line.push('.');
        line
    }

    /// One line per change (`apps/web:v1: verified → unsigned; digest 1a… → 2b…`), at most
    /// `max`, then how many more.
    pub fn lines(&self, max: usize) -> Vec<String> {
        let several = self.several_registries();
        let mut out: Vec<String> = self
            .items
            .iter()
            .take(max)
            .map(|c| {
                let what = match c.change {
                    Change::New => format!("new, {}", c.status_text()),
                    Change::Gone => format!("gone ({})", c.status_text()),
                    Change::Changed => c.status_text(),
                };
                let details = c.details();
                let sep = if what.is_empty() || details.is_empty() { "" } else { "; " };
                format!("{}: {what}{sep}{details}", c.item.display(several))
            })
            .collect();
        if self.items.len() > max {
            out.push(format!("… and {} more (the JSON report's `changes` lists every one)", self.items.len() - max));
        }
        for o in &self.new_orphans {
            out.push(format!("new orphan: {} {} (signs {})", o.repository, o.artifact, short(&o.subject)));
        }
        out
    }
}

/// `text` word-wrapped to `width` columns (as the report tables wrap).
pub fn wrap(text: &str, width: usize) -> String {
    super::table::wrap(text, width, "")
}

/// `sigaudit diff`'s table of changes (the report tables' layout).
pub fn table(set: &ChangeSet, color: bool, width: usize) -> String {
    super::table::changes(set, color, width)
}

/// The table's section for a scan with `--baseline` and `--waivers`.
pub fn table_section(a: &AuditSection, width: usize) -> Option<String> {
    let mut lines = Vec::new();
    if let Some(c) = &a.changes {
        let from = c.baseline.source.as_deref().unwrap_or("the baseline");
        lines.push(format!("Changes since {from} (scan of {}): {}", c.baseline.started_at, c.set.summary_line()));
        lines.extend(c.set.lines(20).into_iter().map(|l| format!("  {l}")));
    }
    if let Some(w) = &a.waivers {
        lines.extend(super::waivers::table_lines(w));
    }
    if lines.is_empty() {
        return None;
    }
    let wrapped: Vec<String> = lines
        .iter()
        .map(|l| {
            let indent = if l.starts_with("  ") { "    " } else { "  " };
            let first = l.trim_start();
            let lead = &l[..l.len() - first.len()];
            let w = super::table::wrap(first, width.saturating_sub(lead.len()), "");
            let mut out = Vec::new();
            for (n, part) in w.lines().enumerate() {
                out.push(if n == 0 { format!("{lead}{part}") } else { format!("{indent}{part}") });
            }
            out.join("\n")
        })
        .collect();
    Some(wrapped.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Envelope, SignatureFormat, SignatureKind, Signer, Verdict};

    fn sig(manifest: &str, discovery: Discovery, key: &str, verdict: Verdict) -> crate::report::SignatureReport {
        let mut c = crate::signature::Checked::new(Envelope::Simplesigning, SignatureKind::Signature);
        c.verdict = verdict;
        c.signer = Some(Signer { key_id: Some(key.into()), ..Signer::default() });
        let m = crate::oci::Digest::parse(&format!("sha256:{}", manifest.repeat(64 / manifest.len()))).unwrap();
        c.into_report(SignatureFormat::Cosign, discovery, &m)
    }

    fn image(repo: &str, tags: &[&str], digest: &str, sigs: Vec<crate::report::SignatureReport>) -> ImageReport {
        let mut i = ImageReport {
            schema: None,
            registry: Some("r:5000".into()),
            repository: repo.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            digest: format!("sha256:{}", digest.repeat(64 / digest.len())),
            media_type: crate::oci::OCI_MANIFEST.into(),
            status: Status::Unsigned,
            signatures: sigs,
            discovery_errors: Vec::new(),
            platforms: Vec::new(),
            platform_summary: None,
            waived: None,
            containers_policy: None,
        };
        i.compute_status();
        i
    }

    fn snapshot(images: &[ImageReport]) -> Snapshot {
        let mut s = Snapshot::default();
        for i in images {
            s.add_image(i);
        }
        s
    }

    #[test]
    fn tags_are_followed_across_digests_and_every_kind_of_change_is_seen() {
        let ok = |m: &str, k: &str| sig(m, Discovery::Tag, k, Verdict::Verified);
        let old = snapshot(&[
            image("app", &["v1", "latest"], "a", vec![ok("1", "k1")]),
            image("lib", &["v1"], "b", vec![ok("2", "k1"), sig("3", Discovery::Referrers, "k2", Verdict::Verified)]),
            image("old", &["v1"], "c", vec![]),
            image("resigned", &["v1"], "d", vec![ok("4", "k1")]),
            image("untagged", &[], "e", vec![]),
        ]);
        let new = snapshot(&[
            // v1 moved to an unsigned image; latest stayed.
            image("app", &["latest"], "a", vec![ok("1", "k1")]),
            image("app", &["v1"], "f", vec![]),
            // A referrer signature disappeared; the digest stayed.
            image("lib", &["v1"], "b", vec![ok("2", "k1")]),
            // cosign rewrote the .sig manifest with the same signer plus another.
            image("resigned", &["v1"], "d", vec![ok("5", "k1"), ok("5", "k3")]),
            image("untagged", &[], "e", vec![]),
            image("fresh", &["v1"], "9", vec![sig("6", Discovery::Tag, "k1", Verdict::Invalid)]),
        ]);
        let set = diff(&old, &new);
        let lines = set.lines(100);
        assert_eq!(
            lines,
            [
                "app:v1: verified → unsigned; digest aaaaaaaaaaaa… → ffffffffffff…; signers -key k1",
                "fresh:v1: new, invalid",
                "lib:v1: signers -key k2; signatures gone: cosign sha256:333333333333… by key k2",
                "old:v1: gone (was unsigned)",
                "resigned:v1: signers +key k3",
            ],
            "{set:#?}"
        );
        let s = &set.summary;
        assert_eq!((s.new, s.gone, s.changed, s.status_changed, s.digest_changed), (1, 1, 3, 1, 1));
        assert_eq!((s.signers_changed, s.signatures_gone), (3, 1));
        assert_eq!(s.into, BTreeMap::from([(Status::Unsigned, 1), (Status::Invalid, 1)]));
        assert!(set.into_any(&[Status::Unsigned]) && !set.into_any(&[Status::Error]));
        // Nothing changed: nothing listed.
        assert_eq!(diff(&new, &new), ChangeSet::default());
    }

    #[test]
    fn waivers_are_followed_and_a_lapsed_one_is_news() {
        let waived = crate::report::waivers::Waived {
            reason: "r".into(),
            owner: "o".into(),
            expires: "2027-01-01".into(),
            index: 0,
            expiring_soon: false,
        };
        let mut a = image("vendor/x", &["1"], "a", vec![]);
        a.waived = Some(waived.clone());
        let mut b = image("vendor/new", &["1"], "b", vec![]);
        b.waived = Some(waived);
        let old = snapshot(&[a.clone()]);
        // A new item a waiver covers is listed, but not as news.
        let set = diff(&old, &snapshot(&[a.clone(), b]));
        assert_eq!(set.items.len(), 1);
        assert_eq!((set.items[0].change, set.items[0].into), (Change::New, None));
        // The waiver lapsed: the same unsigned item is news.
        a.waived = None;
        let set = diff(&old, &snapshot(&[a]));
        assert_eq!(set.items[0].into, Some(Status::Unsigned));
        assert_eq!(set.items[0].waived, Some(FromTo { from: Some(true), to: Some(false) }));
        assert_eq!(set.summary.unwaived, 1);
    }

    #[test]
    fn file_signatures_are_compared_by_index() {
        let file = |sha: &str, sigs: &[&str]| FileReport {
            schema: None,
            path: "/opt/a.exe".into(),
            file_type: "pe".into(),
            sha256: sha.repeat(64),
            size: 1,
            status: if sigs.is_empty() { Status::Unsigned } else { Status::Untrusted },
            signatures: sigs
                .iter()
                .map(|i| {
                    serde_json::from_value(serde_json::json!({"format": "authenticode", "index": i,
                        "verification": {"status": "untrusted", "reasons": []}}))
                    .unwrap()
                })
                .collect(),
            notes: Vec::new(),
            waived: None,
            catalog_members: Vec::new(),
        };
        let snap = |f: FileReport| {
            let mut s = Snapshot::default();
            s.add_file(&f);
            s
        };
        let set = diff(&snap(file("a", &["0", "0.1"])), &snap(file("b", &["0"])));
        assert_eq!(
            set.lines(9),
            ["/opt/a.exe: sha256 aaaaaaaaaaaa… → bbbbbbbbbbbb…; signatures gone: authenticode 0.1"]
        );
        assert_eq!(set.items[0].into, None, "the status did not change");
    }
}
