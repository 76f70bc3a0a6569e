//! The report model. These types *are* the JSON contract `sigaudit.report/v1`
//! (documented for users in docs/REPORT.md): field names are camelCase
//! and only ever added to within v1. Renderers (table, JSON, NDJSON, SigScan JSON) live beside it.

mod render;
mod table;

pub use render::{OutputFormat, RenderOptions, ReportWriter};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const SCHEMA: &str = "sigaudit.report/v1";

/// Verdict of one signature, best first. One vocabulary everywhere: JSON, tables, `--fail-on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Valid, bound to this digest, signer trusted by the given trust material.
    Verified,
    /// Valid and bound, checked against the certificate it carries, but no trust material covers it.
    Untrusted,
    /// Bound to this digest but nothing to check the signature bytes against (key-only, no key given).
    Unverified,
    /// Fails: bad signature, names another digest, malformed envelope, broken rule.
    Invalid,
    /// A format or algorithm not handled (the reasons say which).
    Unsupported,
    /// Could not be checked (fetch failed, ...).
    Error,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Untrusted => "untrusted",
            Verdict::Unverified => "unverified",
            Verdict::Invalid => "invalid",
            Verdict::Unsupported => "unsupported",
            Verdict::Error => "error",
        }
    }
}

/// Status of an image or file: its best signature verdict, or `unsigned`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Verified,
    Untrusted,
    Unverified,
    Invalid,
    Unsupported,
    Error,
    Unsigned,
}

impl Status {
    pub fn of<'a>(verdicts: impl IntoIterator<Item = &'a Verdict>) -> Status {
        match verdicts.into_iter().min() {
            None => Status::Unsigned,
            Some(Verdict::Verified) => Status::Verified,
            Some(Verdict::Untrusted) => Status::Untrusted,
            Some(Verdict::Unverified) => Status::Unverified,
            Some(Verdict::Invalid) => Status::Invalid,
            Some(Verdict::Unsupported) => Status::Unsupported,
            Some(Verdict::Error) => Status::Error,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Untrusted => "untrusted",
            Status::Unverified => "unverified",
            Status::Invalid => "invalid",
            Status::Unsupported => "unsupported",
            Status::Error => "error",
            Status::Unsigned => "unsigned",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "verified" => Status::Verified,
            "untrusted" => Status::Untrusted,
            "unverified" => Status::Unverified,
            "invalid" => Status::Invalid,
            "unsupported" => Status::Unsupported,
            "error" => Status::Error,
            "unsigned" => Status::Unsigned,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureFormat {
    Cosign,
    Notation,
    SigstoreBundle,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Envelope {
    Simplesigning,
    Dsse,
    Jws,
    Cose,
    Bundle,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SignatureKind {
    Signature,
    Attestation,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Discovery {
    /// cosign tag scheme (`sha256-<hex>.sig` / `.att`)
    Tag,
    /// OCI referrers API
    Referrers,
    /// OCI referrers tag schema (`sha256-<hex>` index)
    ReferrersTag,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    pub status: Verdict,
    pub reasons: Vec<String>,
}

/// Identity of a signer, from its certificate (or its bare key).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Signer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_after: Option<String>,
    /// SHA-256 thumbprint of the DER certificate, lowercase hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub san: Vec<String>,
    /// Fulcio OIDC issuer (extension 1.3.6.1.4.1.57264.1.8, else .1.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// Fulcio CI identity extensions by name (buildSignerUri, sourceRepositoryUri, ...).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub extensions: BTreeMap<String, String>,
    /// Public key algorithm, e.g. `ecdsa-p256`, `rsa-2048`, `ed25519`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_algorithm: Option<String>,
    /// For bare keys: lowercase hex SHA-256 of the DER SubjectPublicKeyInfo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

impl Signer {
    /// The most telling one-line name of the signer, for tables.
    pub fn display_name(&self) -> String {
        if let Some(s) = self.subject.as_deref().filter(|s| !s.is_empty()) {
            return s.to_string();
        }
        if let Some(s) = self.san.first() {
            return s.clone();
        }
        if let Some(k) = &self.key_id {
            return format!("key {}", &k[..k.len().min(16)]);
        }
        String::new()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ChainCert {
    pub subject: String,
    pub sha256: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Timestamp {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    pub time: String,
    /// Whether the timestamp token was cryptographically checked.
    pub verified: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SignatureReport {
    pub format: SignatureFormat,
    pub envelope: Envelope,
    pub kind: SignatureKind,
    pub discovery: Discovery,
    /// Digest of the signature manifest.
    pub manifest_digest: String,
    pub verification: Verification,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub chain: Vec<ChainCert>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Signature algorithm as the envelope names it (`PS256`, `ecdsa-p256-sha256`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<String>,
    /// In-toto predicate type, for attestations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicate_type: Option<String>,
    /// The docker-reference a cosign payload names (informational, never a source of trust).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_reference: Option<String>,
    /// The digest this signature signs, when it is a platform manifest of the reported index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_digest: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageReport {
    /// Present on NDJSON lines only, so each line stands alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub repository: String,
    pub tags: Vec<String>,
    pub digest: String,
    pub media_type: String,
    pub status: Status,
    pub signatures: Vec<SignatureReport>,
    /// Signature lookups that failed for this image (also listed in the report's `errors`).
    /// An image with no signature found but failed lookups has status `error`, never `unsigned`.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub discovery_errors: Vec<String>,
}

impl ImageReport {
    pub fn compute_status(&mut self) {
        self.status = Status::of(self.signatures.iter().map(|s| &s.verification.status));
        if self.status == Status::Unsigned && !self.discovery_errors.is_empty() {
            self.status = Status::Error;
        }
    }
}

/// One file of a supported type (filesystem scan).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    /// Present on NDJSON lines only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub path: String,
    /// `pe`, `jar`, `apk`, or an unsupported signed format (`msi`, `cab`, `ps1`, `kmod`, `cat`).
    #[serde(rename = "type")]
    pub file_type: String,
    /// SHA-256 of the whole file, lowercase hex.
    pub sha256: String,
    pub size: u64,
    pub status: Status,
    pub signatures: Vec<FileSignatureReport>,
    /// Anomalies that do not decide the verdict (data after a signature, checksum, ...).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileSignatureReport {
    /// `authenticode` or `jar` (or the unsupported format's name).
    pub format: String,
    /// Where the signature sits: `0` primary, `0.1` its first nested signature; for JAR, the
    /// signature file (`META-INF/SIGNER.SF`).
    pub index: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest_algorithm: Option<String>,
    pub verification: Verification,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub chain: Vec<ChainCert>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub countersigner: Option<Countersigner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Countersigner {
    pub subject: String,
    pub sha256: String,
    /// `pkcs9` (legacy Authenticode countersignature) or `rfc3161` (timestamp token).
    pub kind: String,
}

impl FileReport {
    /// The best signature verdict; a SHA-1 or MD5 signature never outranks a SHA-2 signature of
    /// the same file (a dual-signed file whose SHA-256 signature fails is not rescued by its
    /// SHA-1 one).
    pub fn compute_status(&mut self) {
        let weak = |s: &&FileSignatureReport| matches!(s.digest_algorithm.as_deref(), Some("sha1" | "md5"));
        let strong: Vec<&FileSignatureReport> = self.signatures.iter().filter(|s| !weak(s)).collect();
        let counted = if strong.is_empty() || strong.len() == self.signatures.len() {
            self.signatures.iter().collect()
        } else {
            strong
        };
        self.status = Status::of(counted.iter().map(|s| &s.verification.status));
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OrphanReport {
    pub repository: String,
    /// The signature artifact: a tag (`sha256-….sig`) or a manifest digest.
    pub artifact: String,
    /// The digest it signs, which the repository does not hold.
    pub subject: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Stable kebab-case code (`catalog-error`, `tag-list-error`, `manifest-error`, ...).
    pub code: String,
    pub message: String,
}

/// Something about the walk that is not an error and decides no verdict (filesystem scan): a
/// symbolic link that leads back into the walk, a file already reported by another path, a
/// directory on another file system left out by `--one-file-system`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NoteReport {
    pub path: String,
    /// Stable kebab-case code: `symlink-loop`, `same-file`, `other-file-system`.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Tool {
    pub name: String,
    pub version: String,
}

impl Default for Tool {
    fn default() -> Self {
        Tool { name: "sigaudit".into(), version: env!("CARGO_PKG_VERSION").into() }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ScanInfo {
    pub kind: String,
    pub target: serde_json::Value,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    pub complete: bool,
    /// `--only`: the statuses of the images (files) listed; the summary still counts every one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub only: Option<Vec<Status>>,
    /// The flags the scan ran with (command line and config file), by long name, as given;
    /// secrets left out, defaults not listed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub settings: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Counts of a scan. Registry scans fill `repositories`, `tags`, `images`, `orphans`; filesystem
/// scans fill `files` and `skipped`; the status counts are over images or files.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repositories: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<u64>,
    /// Files of no supported type (only counted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<u64>,
    pub signatures: u64,
    pub verified: u64,
    pub untrusted: u64,
    pub unverified: u64,
    pub invalid: u64,
    pub unsupported: u64,
    pub unsigned: u64,
    /// Images or files whose signatures could not be checked (status `error`).
    pub error: u64,
    /// Entries in `errors`.
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans: Option<u64>,
    pub coverage: Coverage,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// Share of images (files) with at least one signature, 0..1.
    pub signed: f64,
    /// Share of images (files) whose status is `verified`, 0..1.
    pub verified: f64,
}

impl Summary {
    pub fn for_registry() -> Summary {
        Summary { repositories: Some(0), tags: Some(0), images: Some(0), orphans: Some(0), ..Summary::default() }
    }

    pub fn for_files() -> Summary {
        Summary { files: Some(0), skipped: Some(0), ..Summary::default() }
    }

    pub fn count_image(&mut self, image: &ImageReport) {
        *self.images.get_or_insert(0) += 1;
        *self.tags.get_or_insert(0) += image.tags.len() as u64;
        self.count_status(image.status, image.signatures.len());
    }

    pub fn count_file(&mut self, file: &FileReport) {
        *self.files.get_or_insert(0) += 1;
        self.count_status(file.status, file.signatures.len());
    }

    fn count_status(&mut self, status: Status, signatures: usize) {
        self.signatures += signatures as u64;
        *self.slot(status) += 1;
    }

    fn slot(&mut self, status: Status) -> &mut u64 {
        match status {
            Status::Verified => &mut self.verified,
            Status::Untrusted => &mut self.untrusted,
            Status::Unverified => &mut self.unverified,
            Status::Invalid => &mut self.invalid,
            Status::Unsupported => &mut self.unsupported,
            Status::Error => &mut self.error,
            Status::Unsigned => &mut self.unsigned,
        }
    }

    /// Images or files counted.
    pub fn items(&self) -> u64 {
        self.images.unwrap_or(0) + self.files.unwrap_or(0)
    }

    pub fn finish(&mut self) {
        let items = self.items();
        if items > 0 {
            let n = items as f64;
            self.coverage.signed = round3((items - self.unsigned) as f64 / n);
            self.coverage.verified = round3(self.verified as f64 / n);
        }
    }

    pub fn count(&self, status: Status) -> u64 {
        *self.clone().slot(status)
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The whole report, as `--output json` prints it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema: String,
    pub tool: Tool,
    pub scan: ScanInfo,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImageReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans: Option<Vec<OrphanReport>>,
    pub errors: Vec<ErrorReport>,
    /// Filesystem scans: links and paths not walked again, and why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notes: Option<Vec<NoteReport>>,
}

/// The closing NDJSON line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Trailer {
    pub schema: String,
    pub tool: Tool,
    pub scan: ScanInfo,
    pub summary: Summary,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans: Option<Vec<OrphanReport>>,
    pub errors: Vec<ErrorReport>,
    /// Filesystem scans: links and paths not walked again, and why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notes: Option<Vec<NoteReport>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_best_verdict() {
        assert_eq!(Status::of(&[]), Status::Unsigned);
        assert_eq!(Status::of(&[Verdict::Invalid, Verdict::Untrusted]), Status::Untrusted);
        assert_eq!(Status::of(&[Verdict::Error, Verdict::Unsupported]), Status::Unsupported);
        assert_eq!(Status::of(&[Verdict::Unverified, Verdict::Verified]), Status::Verified);
    }

    #[test]
    fn verdict_words_serialize_lowercase() {
        assert_eq!(serde_json::to_string(&Verdict::Untrusted).unwrap(), "\"untrusted\"");
        assert_eq!(serde_json::to_string(&Status::Unsigned).unwrap(), "\"unsigned\"");
        assert_eq!(serde_json::to_string(&SignatureFormat::SigstoreBundle).unwrap(), "\"sigstore-bundle\"");
        assert_eq!(serde_json::to_string(&Discovery::ReferrersTag).unwrap(), "\"referrers-tag\"");
    }
}
