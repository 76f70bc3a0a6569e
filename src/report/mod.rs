//! The report model. These types *are* the JSON contract `sigaudit.report/v1`
//! (documented for users in docs/REPORT.md): field names are camelCase
//! and only ever added to within v1. Renderers (table, JSON, NDJSON, SigScan JSON) live beside it.

mod reason;
mod render;
mod table;
pub mod workload;
mod workload_table;

pub mod atomic;
pub mod diff;
pub mod formats;
pub mod merge;
pub mod waivers;

pub use diff::AuditSection;
pub use reason::{Reason, ReasonCode};
pub use render::{render, Output, OutputFormat, RenderOptions, ReportWriter, Sink};

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
    /// Every status, best first (the order of reports and tables).
    pub const ALL: [Status; 7] = [
        Status::Verified,
        Status::Untrusted,
        Status::Unverified,
        Status::Invalid,
        Status::Unsupported,
        Status::Error,
        Status::Unsigned,
    ];

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
    /// containers/image simple signing: an OpenPGP message over an "atomic" payload.
    SimpleSigning,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Envelope {
    Simplesigning,
    Dsse,
    Jws,
    Cose,
    Bundle,
    /// An OpenPGP signed message (simple signing).
    Openpgp,
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
    /// A simple-signing lookaside store (`<lookaside>/<repo>@sha256=<hex>/signature-<n>`)
    Lookaside,
    /// The registry's signature extension (`/extensions/v2/<name>/signatures/<digest>`)
    SignatureExtension,
}

/// A verdict and its reasons. `reasons` and `reasonCodes` are index-aligned: code `i` is the
/// [`ReasonCode`] of reason `i`. Build them through [`Verification::new`] and the methods taking a
/// [`Reason`], which keep them aligned. Reports written before codes existed have none
/// (`reasonCodes` is then empty when read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    pub status: Verdict,
    pub reasons: Vec<String>,
    #[serde(default)]
    pub reason_codes: Vec<String>,
}

impl Verification {
    pub fn new(status: Verdict, reasons: impl IntoIterator<Item = Reason>) -> Verification {
        let mut v = Verification { status, reasons: Vec::new(), reason_codes: Vec::new() };
        v.extend(reasons);
        v
    }

    /// Add a reason at the end.
    pub fn push(&mut self, reason: Reason) {
        self.reason_codes.push(reason.code.as_str().to_string());
        self.reasons.push(reason.text);
    }

    /// Add a reason at `index` (0: first).
    pub fn insert(&mut self, index: usize, reason: Reason) {
        self.reason_codes.insert(index, reason.code.as_str().to_string());
        self.reasons.insert(index, reason.text);
    }

    pub fn extend(&mut self, reasons: impl IntoIterator<Item = Reason>) {
        for r in reasons {
            self.push(r);
        }
    }

    /// Add reasons before the others, in their order.
    pub fn prepend(&mut self, reasons: impl IntoIterator<Item = Reason>) {
        for (i, r) in reasons.into_iter().enumerate() {
            self.insert(i, r);
        }
    }

    /// The reasons with their codes, as written (a code that is not known, from a newer report,
    /// or a missing one, from an older report, is `None`).
    pub fn coded(&self) -> impl Iterator<Item = (Option<ReasonCode>, &str)> {
        self.reasons
            .iter()
            .enumerate()
            .map(|(i, r)| (self.reason_codes.get(i).and_then(|c| ReasonCode::parse(c)), r.as_str()))
    }
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
    /// For bare keys: the name the config file's `[[keys]]` gives the key that verified it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    /// AWS Signer: the signing-profile version ARN the envelope's signed attribute
    /// `com.amazonaws.signer.signingProfileVersion` names (the certificate only says `AWS Signer`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signing_profile: Option<String>,
    /// AWS Signer: the signing job ARN (`com.amazonaws.signer.signingJob`, signed).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub signing_job: Option<String>,
}

impl Signer {
    /// The most telling one-line name of the signer, for tables.
    pub fn display_name(&self) -> String {
        if let Some(p) = self.signing_profile.as_deref().filter(|s| !s.is_empty()) {
            return p.to_string();
        }
        if let Some(s) = self.subject.as_deref().filter(|s| !s.is_empty()) {
            return s.to_string();
        }
        if let Some(s) = self.san.first() {
            return s.clone();
        }
        if let Some(k) = &self.key_id {
            let id = &k[..k.len().min(16)];
            return match self.key_name.as_deref().filter(|n| !n.is_empty()) {
                Some(name) => format!("key {id} ({name})"),
                None => format!("key {id}"),
            };
        }
        // Named only by issuer and serial (a kernel module whose key was not given).
        if let (Some(i), Some(n)) = (&self.issuer, &self.serial) {
            return format!("serial {} of {i}", &n[..n.len().min(16)]);
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
    /// Where the signature was found when that is not beside the image: the signature
    /// repository (`HOST/REPO`), or the URL of a lookaside or signature-extension signature.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub location: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ImageReport {
    /// Present on NDJSON lines only, so each line stands alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The registry (`HOST[:PORT]`) the image was found in.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
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
    /// For an index: the manifests it lists, nested indexes folded in, each judged by its own
    /// signatures. They do not decide the index's `status`: that is its own digest's signatures.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub platforms: Vec<PlatformReport>,
    /// For an index: how many platform images it holds, and how many are signed and verified.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_summary: Option<PlatformSummary>,
    /// `--waivers`: the waiver that accepts this image as it is (its status stays its own).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub waived: Option<waivers::Waived>,
    /// `--containers-policy`: the policy evaluated for each reference of the image, as
    /// containers/image would. A `verified` image with a reference the policy refuses is
    /// `untrusted`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub containers_policy: Option<ContainersPolicyReport>,
}

/// A containers policy evaluated for each reference of one image.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ContainersPolicyReport {
    /// The policy file.
    pub source: String,
    /// The references (`HOST/REPO:TAG`, or `HOST/REPO@DIGEST` for an untagged image) whose
    /// scope's requirements do not all hold.
    pub unsatisfied: Vec<String>,
    pub references: Vec<ReferencePolicy>,
}

/// The policy's verdict for one reference.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ReferencePolicy {
    pub reference: String,
    /// The scope whose requirements apply (`docker "HOST/REPO:TAG"`, `docker ""`, `default`).
    pub scope: String,
    pub satisfied: bool,
    /// The requirements that do not hold, and why.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub unmet: Vec<String>,
}

impl ImageReport {
    pub fn compute_status(&mut self) {
        self.status = status_of(&self.signatures, &self.discovery_errors);
        // A signature verified, and a reference the containers policy refuses: not verified.
        if self.status == Status::Verified && self.containers_policy.as_ref().is_some_and(|p| !p.unsatisfied.is_empty())
        {
            self.status = Status::Untrusted;
        }
        for p in &mut self.platforms {
            p.status = status_of(&p.signatures, &p.discovery_errors);
        }
        let images = self.platforms.iter().filter(|p| !p.is_index());
        self.platform_summary = (!self.platforms.is_empty()).then(|| {
            let mut s = PlatformSummary::default();
            for p in images {
                s.platforms += 1;
                s.signed += u64::from(!p.signatures.is_empty());
                s.verified += u64::from(p.status == Status::Verified);
            }
            s
        });
    }
}

/// Best signature verdict; `unsigned` when none; `error` when none was found but a lookup failed.
fn status_of(signatures: &[SignatureReport], discovery_errors: &[String]) -> Status {
    let status = Status::of(signatures.iter().map(|s| &s.verification.status));
    if status == Status::Unsigned && !discovery_errors.is_empty() {
        Status::Error
    } else {
        status
    }
}

/// One manifest an index lists (a platform image, or a nested index, whose own entries follow it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlatformReport {
    pub digest: String,
    pub media_type: String,
    /// `os/architecture[/variant]` as the index states it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// The nested index that lists this manifest, when it is not the reported index itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<String>,
    pub status: Status,
    pub signatures: Vec<SignatureReport>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub discovery_errors: Vec<String>,
}

impl PlatformReport {
    pub fn is_index(&self) -> bool {
        crate::oci::is_index(&self.media_type)
    }
}

/// Platform images of an index (nested indexes not counted), signed and verified.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlatformSummary {
    pub platforms: u64,
    pub signed: u64,
    pub verified: u64,
}

/// One file of a supported type (filesystem scan).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileReport {
    /// Present on NDJSON lines only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    pub path: String,
    /// `pe`, `jar`, `apk`, `kmod`, `msi`, `cab`, `cat`, a script kind (`ps1`, `psm1`, `psd1`,
    /// `ps1xml`, `psc1`, `cdxml`, `mof`, `js`), or `file` (listed by a catalog).
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
    /// `--waivers`: the waiver that accepts this file as it is (its status stays its own).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub waived: Option<waivers::Waived>,
    /// A Windows catalog's members: the hashes it vouches for.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub catalog_members: Vec<CatalogMember>,
}

/// One member of a Windows catalog.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct CatalogMember {
    pub digest_algorithm: String,
    /// Lowercase hex.
    pub digest: String,
    /// `pe-image` (an Authenticode image hash), `file` (the whole file's hash) or `any` (not said).
    pub kind: String,
    /// The member's file name, when the catalog gives one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FileSignatureReport {
    /// `authenticode`, `jar`, `apk-v2`, `apk-v3`, `apk-v3.1`, `apk-signing-block`, `kmod`, `catalog`
    /// (a catalog's signature, or on a member file the signature of the catalog that lists it), or
    /// the unsupported format's name.
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
    /// Format `catalog` on a member file: the catalog that lists it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub catalog: Option<String>,
    /// APK v3/v3.1: the Android SDK versions this signer is for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub min_sdk: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_sdk: Option<u32>,
    /// APK v3/v3.1 proof-of-rotation: the signing certificates from the first to the current one.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub lineage: Vec<LineageCert>,
}

/// One signing certificate of an APK's proof-of-rotation lineage and what it is still trusted for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct LineageCert {
    pub subject: String,
    pub sha256: String,
    /// The capabilities the lineage grants this (past) certificate: `installed-data`,
    /// `shared-user-id`, `permission`, `rollback`, `auth`.
    pub flags: Vec<String>,
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
    /// The registry (`HOST[:PORT]`) holding the repository.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
    pub repository: String,
    /// The signature artifact: a tag (`sha256-….sig`) or a manifest digest.
    pub artifact: String,
    /// The digest it signs, which the repository does not hold.
    pub subject: String,
    /// The repository of this registry that does hold the subject, when the signature names one
    /// (a cosign payload's `docker-reference`) and the subject is there: the signature lives
    /// apart from its image (as `COSIGN_REPOSITORY` leaves it) rather than outliving it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject_repository: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// The registry (`HOST[:PORT]`) the error is about; absent for errors of the whole scan
    /// (`deadline-exceeded`) and of filesystem scans.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Stable kebab-case code (`catalog-error`, `tag-list-error`, `manifest-error`, ...).
    pub code: String,
    pub message: String,
}

/// Something the scan saw that is not an error and decides no verdict. Filesystem scans: a
/// symbolic link that leads back into the walk, a file already reported by another path, a
/// directory on another file system left out by `--one-file-system`. Registry scans: a repository
/// without tags.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NoteReport {
    /// The registry (`HOST[:PORT]`) of the repository, in registry scans.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
    /// The path walked (filesystem scans), or the repository (registry scans).
    pub path: String,
    /// Stable kebab-case code: `symlink-loop`, `same-file`, `other-file-system`; `empty-repository`.
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
    /// `--shard INDEX/COUNT`: this report covers the repositories of one shard.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<crate::crawl::Shard>,
    /// How the repositories were listed: `catalog`, `repos-file`, or a platform API
    /// (`docker-hub`, `ghcr`, `gitlab`, `quay`, `harbor`, `ecr`); with several targets listed
    /// differently, an object from target to method.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub listing: Option<serde_json::Value>,
    /// `sigaudit merge`: the reports merged into this one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub merged: Option<Vec<MergedInput>>,
}

/// One report merged by `sigaudit merge`, as `scan.merged` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct MergedInput {
    /// The file it was read from (`-` for standard input).
    pub source: String,
    pub target: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub shard: Option<crate::crawl::Shard>,
    pub complete: bool,
    pub started_at: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub finished_at: Option<String>,
}

/// The summary of one registry of a registry scan (`registries`), counted as `summary` is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RegistrySummary {
    /// `HOST[:PORT]`, as images, orphans, errors and notes name it.
    pub registry: String,
    /// No error of this registry (and none of the whole scan) was reported.
    pub complete: bool,
    pub summary: Summary,
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
    /// Platform images of all indexes, and how many are signed and verified (when any index was seen).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platforms: Option<PlatformSummary>,
    /// Entries in `notes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<u64>,
    /// `sigaudit cluster`: the containers of `workloads`, by the status of what they run.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub workloads: Option<workload::WorkloadSummary>,
    /// `--waivers`: of the images (files) counted by status above, those a waiver accepts, by
    /// status (present when some are). `--fail-on` counts a status less its waived items.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub waived: BTreeMap<Status, u64>,
    /// `--warn-expiring`: images or files with a signature that will stop verifying within that
    /// time (reason `expiring-soon`; present when some are). `--fail-on expiring` fails on them.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub expiring: u64,
    /// Images or files with at least one signature (for `coverage.signed`).
    #[serde(skip)]
    with_signatures: u64,
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
        Summary {
            repositories: Some(0),
            tags: Some(0),
            images: Some(0),
            orphans: Some(0),
            notes: Some(0),
            ..Summary::default()
        }
    }

    pub fn for_files() -> Summary {
        Summary { files: Some(0), skipped: Some(0), ..Summary::default() }
    }

    pub fn count_image(&mut self, image: &ImageReport) {
        add(self.images.get_or_insert(0), 1);
        let code = ReasonCode::ExpiringSoon.as_str();
        let expiring =
            |sigs: &[SignatureReport]| sigs.iter().any(|s| s.verification.reason_codes.iter().any(|c| c == code));
        let waiver_ends = image.waived.as_ref().is_some_and(|w| w.expiring_soon);
        if waiver_ends || expiring(&image.signatures) || image.platforms.iter().any(|p| expiring(&p.signatures)) {
            add(&mut self.expiring, 1);
        }
        add(self.tags.get_or_insert(0), image.tags.len() as u64);
        self.count_status(image.status, image.signatures.len());
        self.count_waived(image.status, image.waived.is_some());
        // Signatures of platform manifests count as signatures, not as signing the index.
        for p in &image.platforms {
            add(&mut self.signatures, p.signatures.len() as u64);
        }
        if let Some(p) = &image.platform_summary {
            let s = self.platforms.get_or_insert_with(PlatformSummary::default);
            add(&mut s.platforms, p.platforms);
            add(&mut s.signed, p.signed);
            add(&mut s.verified, p.verified);
        }
    }

    /// Tags a repository lists that no reported image carries: their manifest is gone or could
    /// not be read (each is also in `errors`).
    pub fn count_lost_tags(&mut self, n: u64) {
        add(self.tags.get_or_insert(0), n);
    }

    /// Repositories scanned (`n` at once when a merge replays a report's count).
    pub fn count_repositories(&mut self, n: u64) {
        add(self.repositories.get_or_insert(0), n);
    }

    pub fn count_file(&mut self, file: &FileReport) {
        add(self.files.get_or_insert(0), 1);
        let code = ReasonCode::ExpiringSoon.as_str();
        let waiver_ends = file.waived.as_ref().is_some_and(|w| w.expiring_soon);
        if waiver_ends || file.signatures.iter().any(|s| s.verification.reason_codes.iter().any(|c| c == code)) {
            add(&mut self.expiring, 1);
        }
        self.count_status(file.status, file.signatures.len());
        self.count_waived(file.status, file.waived.is_some());
    }

    fn count_waived(&mut self, status: Status, waived: bool) {
        if waived {
            add(self.waived.entry(status).or_insert(0), 1);
        }
    }

    /// Images or files of `status` that no waiver accepts: what `--fail-on` counts.
    pub fn unwaived(&self, status: Status) -> u64 {
        self.count(status).saturating_sub(self.waived.get(&status).copied().unwrap_or(0))
    }

    fn count_status(&mut self, status: Status, signatures: usize) {
        add(&mut self.signatures, signatures as u64);
        add(&mut self.with_signatures, u64::from(signatures > 0));
        add(self.slot(status), 1);
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
            // Images with a signature found: an image whose lookups failed (status `error`, no
            // signature) is not counted as signed.
            self.coverage.signed = round3(self.with_signatures as f64 / n);
            self.coverage.verified = round3(self.verified as f64 / n);
        }
    }

    pub fn count(&self, status: Status) -> u64 {
        match status {
            Status::Verified => self.verified,
            Status::Untrusted => self.untrusted,
            Status::Unverified => self.unverified,
            Status::Invalid => self.invalid,
            Status::Unsupported => self.unsupported,
            Status::Error => self.error,
            Status::Unsigned => self.unsigned,
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Counts saturate: a merged report's counts come from files, which may hold anything.
fn add(count: &mut u64, n: u64) {
    *count = count.saturating_add(n);
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
    /// Registry scans: one summary per registry scanned, sorted by registry.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registries: Option<Vec<RegistrySummary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<Vec<ImageReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<FileReport>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans: Option<Vec<OrphanReport>>,
    /// `sigaudit cluster`: every container of the pods listed, by namespace, pod and container.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub workloads: Option<Vec<workload::WorkloadReport>>,
    pub errors: Vec<ErrorReport>,
    /// What the scan saw that decides no verdict and is no error: links and paths a filesystem
    /// walk did not walk again, repositories without tags.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notes: Option<Vec<NoteReport>>,
    /// `--baseline`: what changed since the baseline report.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub changes: Option<diff::Changes>,
    /// `--waivers`: the waivers file's expired and unused waivers.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub waivers: Option<waivers::WaiversReport>,
}

/// The closing NDJSON line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Trailer {
    pub schema: String,
    pub tool: Tool,
    pub scan: ScanInfo,
    pub summary: Summary,
    /// Registry scans: one summary per registry scanned, sorted by registry.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registries: Option<Vec<RegistrySummary>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orphans: Option<Vec<OrphanReport>>,
    /// `sigaudit cluster`: every container of the pods listed, by namespace, pod and container.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub workloads: Option<Vec<workload::WorkloadReport>>,
    pub errors: Vec<ErrorReport>,
    /// What the scan saw that decides no verdict and is no error: links and paths a filesystem
    /// walk did not walk again, repositories without tags.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub notes: Option<Vec<NoteReport>>,
    /// `--baseline`: what changed since the baseline report.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub changes: Option<diff::Changes>,
    /// `--waivers`: the waivers file's expired and unused waivers.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub waivers: Option<waivers::WaiversReport>,
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

    fn signature(status: Verdict) -> SignatureReport {
        let mut c = crate::signature::Checked::new(Envelope::Simplesigning, SignatureKind::Signature);
        c.verdict = status;
        let manifest = crate::oci::Digest::parse(&format!("sha256:{}", "0".repeat(64))).unwrap();
        c.into_report(SignatureFormat::Cosign, Discovery::Tag, &manifest)
    }

    fn platform(signatures: Vec<SignatureReport>, errors: Vec<String>) -> PlatformReport {
        PlatformReport {
            digest: "sha256:01".into(),
            media_type: crate::oci::OCI_MANIFEST.into(),
            platform: Some("linux/amd64".into()),
            index: None,
            status: Status::Unsigned,
            signatures,
            discovery_errors: errors,
        }
    }

    #[test]
    fn an_index_is_judged_by_its_own_signatures_and_counts_its_platforms_apart() {
        let mut index = ImageReport {
            schema: None,
            registry: None,
            repository: "r".into(),
            tags: vec!["v1".into()],
            digest: "sha256:02".into(),
            media_type: crate::oci::OCI_INDEX.into(),
            status: Status::Verified,
            signatures: Vec::new(),
            discovery_errors: Vec::new(),
            platforms: vec![
                platform(vec![signature(Verdict::Verified)], Vec::new()),
                platform(Vec::new(), Vec::new()),
                platform(Vec::new(), vec!["lookup failed".into()]),
            ],
            platform_summary: None,
            waived: None,
            containers_policy: None,
        };
        index.compute_status();
        assert_eq!(index.status, Status::Unsigned);
        let statuses: Vec<Status> = index.platforms.iter().map(|p| p.status).collect();
        assert_eq!(statuses, [Status::Verified, Status::Unsigned, Status::Error]);
        assert_eq!(index.platform_summary, Some(PlatformSummary { platforms: 3, signed: 1, verified: 1 }));

        // An image whose lookups failed is `error`, and not counted as signed.
        let mut failed = index.clone();
        failed.platforms.clear();
        failed.discovery_errors.push("GET …: HTTP 404".into());
        failed.compute_status();
        assert_eq!((failed.status, failed.platform_summary), (Status::Error, None));

        let mut summary = Summary::for_registry();
        summary.count_image(&index);
        summary.count_image(&failed);
        summary.finish();
        assert_eq!((summary.unsigned, summary.error, summary.signatures), (1, 1, 1));
        assert_eq!((summary.coverage.signed, summary.coverage.verified), (0.0, 0.0));
        assert_eq!(summary.platforms, Some(PlatformSummary { platforms: 3, signed: 1, verified: 1 }));
    }

    #[test]
    fn verdict_words_serialize_lowercase() {
        assert_eq!(serde_json::to_string(&Verdict::Untrusted).unwrap(), "\"untrusted\"");
        assert_eq!(serde_json::to_string(&Status::Unsigned).unwrap(), "\"unsigned\"");
        assert_eq!(serde_json::to_string(&SignatureFormat::SigstoreBundle).unwrap(), "\"sigstore-bundle\"");
        assert_eq!(serde_json::to_string(&Discovery::ReferrersTag).unwrap(), "\"referrers-tag\"");
    }

    #[test]
    fn reason_codes_are_aligned_always_written_and_optional_when_read() {
        let mut v = Verification::new(Verdict::Untrusted, [ReasonCode::NoTrustAnchor.reason("no anchor")]);
        v.insert(0, ReasonCode::RekorSetVerified.reason("Rekor SET verified: log index 1"));
        v.prepend([ReasonCode::ThumbprintMismatch.reason("thumbprints")]);
        v.push(ReasonCode::TimestampNotChecked.reason("not checked"));
        assert_eq!(v.reasons.len(), v.reason_codes.len());
        assert_eq!(
            v.coded().map(|(c, _)| c.unwrap()).collect::<Vec<_>>(),
            [
                ReasonCode::ThumbprintMismatch,
                ReasonCode::RekorSetVerified,
                ReasonCode::NoTrustAnchor,
                ReasonCode::TimestampNotChecked
            ]
        );
        let json = serde_json::to_value(&v).unwrap();
        assert_eq!(json["reasonCodes"][2], "no-trust-anchor");
        assert_eq!(json["reasons"][2], "no anchor");
        // Written even when there is no reason; a report written before codes reads as none.
        let empty = serde_json::to_value(Verification::new(Verdict::Verified, [])).unwrap();
        assert_eq!(empty, serde_json::json!({"status": "verified", "reasons": [], "reasonCodes": []}));
        let old: Verification = serde_json::from_str(r#"{"status": "invalid", "reasons": ["bad"]}"#).unwrap();
        assert!(old.reason_codes.is_empty());
        assert_eq!(old.coded().collect::<Vec<_>>(), [(None, "bad")]);
    }
}
