//! From arguments to a scan to an exit status. All policy about exit codes lives here.

use super::args::{CommonArgs, Output as OutputKind, OutputSpec, ReportArgs};
use anyhow::{bail, Context, Result};
use sigaudit::crawl::{Event, RepoFilter, Scan};
use sigaudit::registry::{docker_config_credentials, ClientConfig, Credentials, RegistryClient, Secret};
use sigaudit::report::atomic::AtomicFile;
use sigaudit::report::formats::Extra;
use sigaudit::report::ErrorReport;
use sigaudit::report::{Output, OutputFormat, RenderOptions, ReportWriter, ScanInfo, Status, Summary};
use sigaudit::trust::Trust;
use std::io::{IsTerminal, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// How the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done, no policy failure.
    Success,
    /// 1: an image or file has a status named by `--fail-on`.
    PolicyFailure,
    /// 2: usage or configuration error.
    UsageError,
    /// 3: the scan is incomplete: some repository or image could not be examined.
    Incomplete,
}

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::PolicyFailure => 1,
            ExitStatus::UsageError => 2,
            ExitStatus::Incomplete => 3,
        }
    }
}

/// Everything the scan needs, validated.
pub struct Settings {
    pub report: ReportSettings,
    pub trust: Trust,
    /// Whether any trust material was given (keys, anchors, an identity policy, a notation
    /// policy): without it nothing can be `verified`, and the table says so first.
    pub trust_given: bool,
    pub stats: bool,
    pub concurrency: usize,
    /// Settings that bear on verdicts without a flag (notation's own configuration directory),
    /// for `scan.settings`.
    pub implied: serde_json::Map<String, serde_json::Value>,
    /// Notes every report of this scan carries: warnings about the Sigstore trusted root.
    pub trust_notes: Vec<sigaudit::report::NoteReport>,
    common_client: ClientConfig,
    username: Option<String>,
    password: Option<Secret>,
    token: Option<Secret>,
    /// Signature repositories and simple-signing stores.
    sources: super::signature_sources::Prepared,
}

impl Settings {
    pub fn from_args(c: &CommonArgs, config: Option<&std::path::Path>) -> Result<Settings> {
        let report = ReportSettings::from_args(&c.report)?;
        let mut trust = load_ca_roots(&c.ca_roots, &c.tsa_roots, &c.revocation, report.now)?;
        trust.warn_expiring = report.warn_expiring;
        // Keys and trusted roots are read once, for bundles and legacy cosign layers alike.
        let mut material = super::bundle::signer_policy(&c.signer)?;
        for (source, json) in &material.root_jsons {
            trust.add_trusted_root(json.as_bytes()).map_err(|e| anyhow::anyhow!("trusted root {source}: {e}"))?;
        }
        for (der, source) in &material.policy.keys {
            trust.add_key_der(der.clone(), source).with_context(|| format!("--key {source}"))?;
        }
        // Keys with lives: the config file's [[keys]], then --revoked-key.
        let lives = key_lives(c, config)?;
        let life_keys = !lives.is_empty();
        for (der, source, life) in lives {
            trust.set_key_life(der.clone(), &source, life).with_context(|| source.clone())?;
            if !material.policy.keys.iter().any(|(d, _)| *d == der) {
                material.policy.keys.push((der, source));
            }
        }
        let (roots, signer) = (material.roots, material.policy);
        trust.sigstore = Some(Arc::new(sigaudit::trust::SigstorePolicy { roots, signer }));
        let mut implied = serde_json::Map::new();
        // Which Sigstore root judged: a file, the TUF cache (which repository, versions, digest,
        // expiry) or the built-in one.
        let trust_notes = material
            .root_warnings
            .into_iter()
            .map(|(code, message)| sigaudit::report::NoteReport {
                registry: None,
                path: "sigstore-root".into(),
                code: code.into(),
                message,
            })
            .collect();
        implied.insert("sigstore-root".into(), material.root_record);
        trust.notation =
            notation_trust(c.notation_trust_policy.as_deref(), c.notation_trust_store.as_deref(), &mut implied)?;
        let sources = super::signature_sources::prepare(&c.sources, Duration::from_secs(c.timeout.max(1)), &trust)?;
        let signer = &c.signer;
        let trust_given = sources.trust_given()
            || !signer.keys.is_empty()
            || life_keys
            || !c.ca_roots.is_empty()
            || signer.certificate_identity.is_some()
            || signer.certificate_identity_regexp.is_some()
            || signer.certificate_oidc_issuer.is_some()
            || trust.notation.is_some();
        if c.password.is_some() && c.password_stdin {
            bail!("--password and --password-stdin exclude each other");
        }
        let password = if c.password_stdin {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).context("reading the password from standard input")?;
            Some(Secret::new(s.trim_end_matches(['\n', '\r']).to_string()))
        } else if let Some(p) = &c.password {
            tracing::warn!("--password is visible to other users of this machine; prefer --password-stdin");
            Some(Secret::new(p.clone()))
        } else {
            None
        };
        if password.is_some() && c.username.is_none() {
            bail!("a password needs --username");
        }
        if c.insecure_skip_tls_verify {
            tracing::warn!("--insecure-skip-tls-verify: the registry's TLS certificate is not checked");
        }
        let mut common_client = ClientConfig::new(String::new());
        common_client.concurrency = c.concurrency as usize;
        common_client.timeout = Duration::from_secs(c.timeout.max(1));
        common_client.max_retries = c.retries;
        common_client.rps = c.rps;
        common_client.verify_digests = c.verify_digests;
        common_client.insecure_skip_tls_verify = c.insecure_skip_tls_verify;
        for path in &c.tls_ca {
            common_client.tls_ca_pem.push(std::fs::read(path).with_context(|| format!("--tls-ca {}", path.display()))?);
        }
        Ok(Settings {
            report,
            trust,
            trust_given,
            stats: c.stats,
            concurrency: c.concurrency as usize,
            implied,
            trust_notes,
            common_client,
            username: c.username.clone(),
            password,
            token: c.token.clone().map(Secret::new),
            sources,
        })
    }

    /// How a platform API lister connects: the registry client's timeout, retries and TLS.
    pub fn api_config(&self) -> sigaudit::registry::listers::ApiConfig {
        let c = &self.common_client;
        sigaudit::registry::listers::ApiConfig {
            timeout: c.timeout,
            max_retries: c.max_retries,
            max_retry_time: c.max_retry_time,
            tls_ca_pem: c.tls_ca_pem.clone(),
            insecure_skip_tls_verify: c.insecure_skip_tls_verify,
        }
    }

    /// Whether credentials were given on the command line (they are for one registry only).
    pub fn has_flag_credentials(&self) -> bool {
        self.token.is_some() || self.username.is_some()
    }

    /// A client for `host` (over plain HTTP when `plain_http`), with credentials from the flags
    /// or else the docker config.
    pub async fn client(&self, host: &str, plain_http: bool) -> Result<Arc<RegistryClient>> {
        self.client_for(host, plain_http, None, None).await
    }

    /// A client for `host` with `credentials` of its own (a config file target's), else the
    /// flags', else the docker config's; `rps` overrides `--rps`.
    pub async fn client_for(
        &self,
        host: &str,
        plain_http: bool,
        credentials: Option<Credentials>,
        rps: Option<u32>,
    ) -> Result<Arc<RegistryClient>> {
        let mut cfg = self.common_client.clone();
        cfg.host = host.to_string();
        cfg.plain_http = plain_http;
        if let Some(rps) = rps {
            cfg.rps = rps;
        }
        cfg.credentials = match (credentials, &self.token, &self.username, &self.password) {
            (Some(c), _, _, _) => Some(c),
            (None, Some(t), _, _) => Some(Credentials::Bearer(t.clone())),
            (None, None, Some(u), Some(p)) => Some(Credentials::Basic { username: u.clone(), password: p.clone() }),
            (None, None, Some(u), None) => bail!("--username {u} needs --password-stdin"),
            _ => {
                let h = host.to_string();
                // Credential helpers are processes: keep them off the async runtime.
                tokio::task::spawn_blocking(move || docker_config_credentials(&h))
                    .await?
                    .map_err(|e| anyhow::anyhow!("docker config: {e}"))?
            }
        };
        Ok(Arc::new(RegistryClient::new(cfg)?))
    }
}

/// Trust anchors from `--ca-roots` and `--tsa-roots` files, and the revocation sources;
/// certificates are judged at `now`.
pub fn load_ca_roots(
    ca: &[std::path::PathBuf],
    tsa: &[std::path::PathBuf],
    revocation: &super::args::RevocationArgs,
    now: i64,
) -> Result<Trust> {
    let mut trust = Trust { now, revocation: load_revocation(revocation, now)?, ..Trust::default() };
    for path in ca {
        let pem = std::fs::read(path).with_context(|| format!("--ca-roots {}", path.display()))?;
        trust.add_ca_roots_pem(&pem, &path.display().to_string()).map_err(|e| anyhow::anyhow!("--ca-roots {e}"))?;
    }
    for path in tsa {
        let pem = std::fs::read(path).with_context(|| format!("--tsa-roots {}", path.display()))?;
        trust.add_tsa_roots(&pem, &path.display().to_string()).map_err(|e| anyhow::anyhow!("--tsa-roots {e}"))?;
    }
    Ok(trust)
}

/// The keys of the config file's `[[keys]]` and of `--revoked-key`: DER SPKI, where it came from,
/// and its life.
fn key_lives(
    c: &CommonArgs,
    config: Option<&std::path::Path>,
) -> Result<Vec<(Vec<u8>, String, sigaudit::key_life::KeyLife)>> {
    use sigaudit::key_life::{KeyLife, Revoked};
    // Every PUBLIC KEY block of the file: a bundle of keys revokes (or dates) each of them.
    let read = |path: &std::path::Path, what: &str| -> Result<Vec<Vec<u8>>> {
        let pem = std::fs::read(path).with_context(|| format!("{what} {}", path.display()))?;
        let mut keys = Vec::new();
        // Blocks run together on one line would be read as one (the second silently lost).
        let begins = pem.windows(11).filter(|w| w == b"-----BEGIN ").count();
        for p in x509_parser::pem::Pem::iter_from_buffer(&pem) {
            let p = p.map_err(|e| anyhow::anyhow!("{what} {}: not PEM: {e}", path.display()))?;
            if p.label != "PUBLIC KEY" {
                bail!("{what} {}: expected PUBLIC KEY PEM blocks, found {}", path.display(), p.label);
            }
            // Canonical, as the trust and the Sigstore policy keep keys.
            keys.push(sigaudit::crypto::canonical_spki(&p.contents).unwrap_or(p.contents));
        }
        if keys.is_empty() {
            bail!("{what} {}: no PUBLIC KEY PEM block in it", path.display());
        }
        if keys.len() != begins {
            bail!(
                "{what} {}: {begins} BEGIN lines but {} PEM blocks read (each block must start on its own line)",
                path.display(),
                keys.len()
            );
        }
        Ok(keys)
    };
    let mut out = Vec::new();
    if let Some(path) = config {
        for k in super::config::trusted_keys(path)? {
            let what = format!("--config {}: [[keys]] {}", path.display(), k.path.display());
            let time = |v: &Option<toml::Value>, field: &str| {
                v.as_ref().map(|v| super::config::key_time(v, &format!("{what}: {field}"))).transpose()
            };
            let reason = match k.reason.as_deref() {
                None => None,
                Some(r) => Some(Revoked::reason_name(r).ok_or_else(|| {
                    anyhow::anyhow!(
                        "{what}: reason {r:?} is not an RFC 5280 reason name ({})",
                        sigaudit::key_life::REASONS.join(", ")
                    )
                })?),
            };
            let revoked = match &k.revoked {
                None | Some(toml::Value::Boolean(false)) if k.reason.is_some() => {
                    bail!("{what}: reason without revoked")
                }
                None | Some(toml::Value::Boolean(false)) => None,
                Some(toml::Value::Boolean(true)) => {
                    Some(Revoked { since: None, reason: reason.unwrap_or("unspecified").into() })
                }
                Some(v) => Some(Revoked {
                    since: Some(super::config::key_time(v, &format!("{what}: revoked"))?),
                    reason: reason.unwrap_or("unspecified").into(),
                }),
            };
            let life = KeyLife {
                name: k.name.clone(),
                not_before: time(&k.not_before, "not-before")?,
                not_after: time(&k.not_after, "not-after")?,
                revoked,
            };
            if let (Some(b), Some(a)) = (life.not_before, life.not_after) {
                if b > a {
                    bail!("{what}: not-before is after not-after");
                }
            }
            for der in read(&k.path, "[[keys]]").with_context(|| what.clone())? {
                out.push((der, k.path.display().to_string(), life.clone()));
            }
        }
    }
    // One key twice in [[keys]] (in any encoding: `read` made them canonical) would give it two
    // lives, merged silently.
    let mut seen = std::collections::HashMap::new();
    for (der, source, _) in &out {
        if let Some(first) = seen.insert(der, source.clone()) {
            bail!("--config: [[keys]] {source} and {first} are the same key: give it one entry");
        }
    }
    for spec in &c.revoked_key {
        // `REASON:FILE` when REASON is a reason name; a file whose name merely contains a colon
        // is taken whole only when its prefix is none (a file named `keyCompromise:k.pem` must
        // not turn a compromise into a routine revocation).
        let (reason, file) = match spec.split_once(':') {
            Some((r, f)) if Revoked::reason_name(r).is_some() && !f.is_empty() => {
                (Revoked::reason_name(r).expect("a reason name"), f)
            }
            _ if std::path::Path::new(spec).exists() => ("unspecified", spec.as_str()),
            Some((r, f)) if !r.is_empty() && r.chars().all(|c| c.is_ascii_alphabetic()) && !f.is_empty() => {
                let name = Revoked::reason_name(r).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--revoked-key {spec}: {r:?} is not an RFC 5280 reason name ({})",
                        sigaudit::key_life::REASONS.join(", ")
                    )
                })?;
                (name, f)
            }
            _ => ("unspecified", spec.as_str()),
        };
        let path = std::path::Path::new(file);
        let revoked = Some(Revoked { since: None, reason: reason.to_string() });
        for der in read(path, "--revoked-key")? {
            out.push((der, file.to_string(), KeyLife { revoked: revoked.clone(), ..KeyLife::default() }));
        }
    }
    Ok(out)
}

/// The CRLs of `--crl` (each refused one said on standard error: it cannot settle anything), the
/// `--revocation` modes and, with `online`, the scan's online sources.
fn load_revocation(a: &super::args::RevocationArgs, now: i64) -> Result<sigaudit::pki::revocation::Revocation> {
    use sigaudit::pki::revocation::{Revocation, Unknown};
    let mut crls = Vec::new();
    for path in &a.crl {
        let bytes = std::fs::read(path).with_context(|| format!("--crl {}", path.display()))?;
        let read = sigaudit::pki::crl::Crl::read_all(&bytes, &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("--crl {e}"))?;
        for c in &read {
            if let Some(why) = &c.refused {
                tracing::warn!("--crl {}: not used: {why}", c.source);
            }
        }
        crls.extend(read);
    }
    use super::args::RevocationMode;
    let unknown = if a.revocation.contains(&RevocationMode::Require) { Unknown::Require } else { Unknown::Note };
    let online = if a.revocation.contains(&RevocationMode::Online) {
        let timeout = std::time::Duration::from_secs(a.revocation_timeout);
        Some(std::sync::Arc::new(sigaudit::pki::online::Online::new(timeout).map_err(|e| anyhow::anyhow!(e))?))
    } else {
        None
    };
    Ok(Revocation { crls, now, unknown, online })
}

/// Output format, policy, evaluation time, filter and deadline: what every scan shares.
pub struct ReportSettings {
    /// Each output's format, and its file (None: standard output).
    pub outputs: Vec<(OutputFormat, Option<std::path::PathBuf>)>,
    pub progress: super::args::Progress,
    pub fail_on: Vec<Status>,
    /// Unix seconds time rules are evaluated at (`--at`, else now).
    pub now: i64,
    /// `--warn-expiring`, in seconds.
    pub warn_expiring: Option<i64>,
    /// `--fail-on expiring`.
    pub fail_on_expiring: bool,
    /// `--only`: the statuses listed, and the filter's name for the table.
    pub only: Option<(Vec<Status>, String)>,
    /// When the whole scan must stop (`--deadline`, counted from the start).
    pub deadline: Option<(Instant, Duration)>,
}

impl ReportSettings {
    pub fn from_args(r: &ReportArgs) -> Result<ReportSettings> {
        let outputs = outputs(&r.output)?;
        let statuses = "invalid, unverified, untrusted, unsigned, unsupported, error, expiring";
        let mut fail_on = Vec::new();
        let mut fail_on_expiring = false;
        for word in &r.fail_on {
            // `expiring` counts the items --warn-expiring flagged (in a merge: the reports' own).
            if word.trim() == "expiring" {
                fail_on_expiring = true;
                continue;
            }
            let s = Status::parse(word.trim())
                .with_context(|| format!("--fail-on: unknown status {word:?} (use {statuses})"))?;
            if s == Status::Verified {
                bail!("--fail-on verified makes no sense");
            }
            fail_on.push(s);
        }
        let now = match &r.at {
            None => chrono::Utc::now().timestamp(),
            Some(t) => chrono::DateTime::parse_from_rfc3339(t)
                .with_context(|| {
                    format!(
                        "--at {t:?} is not an RFC 3339 time: give a date, a time and a zone, e.g. 2026-01-31T00:00:00Z"
                    )
                })?
                .timestamp(),
        };
        let only = if r.only.is_empty() { None } else { Some(only_filter(&r.only, &fail_on)?) };
        let deadline = r.deadline.map(|d| (Instant::now() + d, d));
        let warn_expiring = r.warn_expiring.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        Ok(ReportSettings {
            outputs,
            progress: r.progress,
            fail_on,
            now,
            warn_expiring,
            fail_on_expiring,
            only,
            deadline,
        })
    }
}

/// `-o FORMAT[=PATH]…` checked: one output at most on standard output, no file named twice.
fn outputs(specs: &[OutputSpec]) -> Result<Vec<(OutputFormat, Option<std::path::PathBuf>)>> {
    let mut out: Vec<(OutputFormat, Option<std::path::PathBuf>)> = Vec::new();
    for spec in specs {
        let format = match spec.format {
            OutputKind::Table => OutputFormat::Table,
            OutputKind::Wide => OutputFormat::Wide,
            OutputKind::Json => OutputFormat::Json,
            OutputKind::Ndjson => OutputFormat::Ndjson,
            OutputKind::SigscanJson => OutputFormat::SigscanJson,
            OutputKind::Csv => OutputFormat::Extra(Extra::Csv),
            OutputKind::Sarif => OutputFormat::Extra(Extra::Sarif),
            OutputKind::Junit => OutputFormat::Extra(Extra::Junit),
            OutputKind::Prometheus => OutputFormat::Extra(Extra::Prometheus),
            OutputKind::Html => OutputFormat::Extra(Extra::Html),
        };
        let same = |p: &Option<std::path::PathBuf>| match (p, &spec.path) {
            (None, None) => true,
            (Some(a), Some(b)) => same_file(a, b),
            _ => false,
        };
        if out.iter().any(|(_, p)| same(p)) {
            match &spec.path {
                None => bail!("--output: two formats on standard output; give all but one a file (FORMAT=PATH)"),
                Some(p) => bail!("--output: {} is named twice (two outputs would write one file)", p.display()),
            }
        }
        out.push((format, spec.path.clone()));
    }
    Ok(out)
}

/// Whether two output paths name one file however spelled (`a.json`, `./a.json`, `dir/../a.json`,
/// a link to the directory): the directories are resolved, the names compared.
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    let key = |p: &std::path::Path| {
        let dir = match p.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        dir.join(p.file_name().unwrap_or_default())
    };
    a == b || key(a) == key(b)
}

/// `--only failing|signed|STATUS,…` as the set of statuses listed.
fn only_filter(words: &[String], fail_on: &[Status]) -> Result<(Vec<Status>, String)> {
    let all = Status::ALL;
    let mut set = Vec::new();
    for w in words.iter().map(|w| w.trim()) {
        let add: Vec<Status> = match w {
            "failing" if fail_on.is_empty() => vec![Status::Invalid, Status::Error],
            "failing" => fail_on.to_vec(),
            "signed" => all.iter().copied().filter(|s| *s != Status::Unsigned).collect(),
            other => vec![Status::parse(other).with_context(|| {
                format!("--only {other:?}: use failing, signed, or statuses (verified, untrusted, unverified, invalid, unsupported, error, unsigned)")
            })?],
        };
        for s in add {
            if !set.contains(&s) {
                set.push(s);
            }
        }
    }
    set.sort();
    Ok((set, words.join(",")))
}

/// What a scan produced, for the exit status.
pub struct Outcome {
    pub summary: Summary,
    pub complete: bool,
}

/// 1 when an item no waiver accepts has a status of `fail_on` (or, `fail_on_expiring`, some item
/// will stop verifying within --warn-expiring); else 3 when incomplete; else 0.
pub fn exit_status(fail_on: &[Status], fail_on_expiring: bool, outcome: &Outcome) -> ExitStatus {
    if fail_on.iter().any(|s| outcome.summary.unwaived(*s) > 0) || (fail_on_expiring && outcome.summary.expiring > 0) {
        ExitStatus::PolicyFailure
    } else if !outcome.complete {
        ExitStatus::Incomplete
    } else {
        ExitStatus::Success
    }
}

/// `--fail-on-new` (with `--baseline`): 1 when a change goes into one of `fail_on_new` (`changes`
/// says which: `into`), whatever the baseline already had; else 3 when incomplete; else 0.
/// `--fail-on` decides nothing then: the known backlog does not fail a nightly run.
pub fn exit_status_on_news(
    fail_on_new: &[Status],
    changes: Option<&sigaudit::report::diff::ChangeSet>,
    outcome: &Outcome,
) -> ExitStatus {
    match changes {
        // The comparison never finished (its task died): no news is not known to be no news.
        None => return ExitStatus::Incomplete,
        Some(c) if c.into_any(fail_on_new) => return ExitStatus::PolicyFailure,
        Some(_) => {}
    }
    if !outcome.complete {
        ExitStatus::Incomplete
    } else {
        ExitStatus::Success
    }
}

/// The statuses of a list flag (`--fail-on`, `--fail-on-new`): `verified` makes no sense there.
pub fn parse_statuses(flag: &str, words: &[String]) -> Result<Vec<Status>> {
    let statuses = "invalid, unverified, untrusted, unsigned, unsupported, error";
    let mut out = Vec::new();
    for word in words {
        let s =
            Status::parse(word.trim()).with_context(|| format!("{flag}: unknown status {word:?} (use {statuses})"))?;
        if s == Status::Verified {
            bail!("{flag} verified makes no sense");
        }
        out.push(s);
    }
    Ok(out)
}

/// What the report says about the scan before it runs.
pub struct ReportSetup<'a> {
    pub report: &'a ReportSettings,
    /// `registry` or `filesystem`.
    pub kind: &'a str,
    pub target: serde_json::Value,
    /// SigScan JSON's `name` (or `directories`).
    pub name: String,
    /// The flags in effect, for `scan.settings`.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// Shown first in a table.
    pub hint: Option<String>,
    /// `--shard`: the slice of the registry this scan covers.
    pub shard: Option<sigaudit::crawl::Shard>,
    /// `scan.listing`: how repositories were listed (registry scans).
    pub listing: Option<serde_json::Value>,
    /// `sigaudit merge`: the scan the merged report describes (then `kind`, `target` and
    /// `settings` are not used), with when its last input finished.
    pub merged: Option<ScanInfo>,
    /// Requests sent so far, for the progress line.
    pub requests: Option<RequestCount>,
    /// Set when the scan must stop (deadline, signal), for work that does not stop by being
    /// dropped (the filesystem walk's threads).
    pub stop: Option<Arc<std::sync::atomic::AtomicBool>>,
}

/// Run `work` with an event channel, rendering events to every output as they come. A
/// `--deadline` that passes, or SIGINT/SIGTERM, stops `work`: what was reported stays, every
/// output is finished as a valid report marked incomplete (with the reason in `errors`). A second
/// signal exits at once.
pub async fn with_writer<F, Fut>(setup: ReportSetup<'_>, work: F) -> Result<Outcome>
where
    F: FnOnce(mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let merged = setup.merged.is_some();
    let scan = setup.merged.unwrap_or_else(|| ScanInfo {
        kind: setup.kind.into(),
        target: setup.target,
        started_at: now_rfc3339(),
        finished_at: None,
        complete: false,
        only: None,
        settings: Some(setup.settings),
        shard: setup.shard,
        listing: setup.listing,
        merged: None,
    });
    // A merged report finished when its last input did.
    let finished_at = scan.finished_at.clone().filter(|_| merged);
    let opts = RenderOptions {
        color: false,
        width: terminal_width(),
        only: setup.report.only.clone(),
        hint: setup.hint,
        sigscan_name: setup.name,
        previous: None,
    };
    let outputs = open_outputs(&setup.report.outputs)?;
    let progress = Progress::start(setup.report.progress, setup.kind, setup.requests);
    let counts = progress.as_ref().map(|p| (p.counts.clone(), p.bar.clone()));
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(Summary, bool)> {
        let mut w = ReportWriter::new(outputs, scan, opts);
        while let Some(e) = rx.blocking_recv() {
            w.handle(e)?;
            if let Some((c, _)) = &counts {
                c.update(w.summary());
            }
        }
        // The progress line goes before the report is written, not across a table.
        if let Some((c, bar)) = &counts {
            c.done.store(true, Ordering::SeqCst);
            bar.finish_and_clear();
            super::progress_bar::clear();
        }
        w.finish(finished_at.unwrap_or_else(now_rfc3339))
    });
    let late = tx.clone();
    let deadline = setup.report.deadline;
    let until = async move {
        match deadline {
            Some((at, _)) => tokio::time::sleep_until(at.into()).await,
            None => std::future::pending().await,
        }
    };
    let stopped_by = tokio::select! {
        () = work(tx) => None,
        () = until => Some(Stop::Deadline),
        signal = interrupted() => Some(Stop::Signal(signal)),
    };
    // A scan that stopped itself at the deadline (the filesystem walk) is cut short too.
    let stopped_by = match (stopped_by, deadline) {
        (None, Some((at, _))) if Instant::now() >= at => Some(Stop::Deadline),
        (s, _) => s,
    };
    if let Some(stop) = stopped_by {
        if let Some(flag) = &setup.stop {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let (code, message) = match stop {
            Stop::Deadline => (
                "deadline-exceeded",
                format!(
                    "the scan reached its --deadline of {}s and was stopped: what was examined is reported, the rest was not examined",
                    deadline.map_or(0, |(_, d)| d.as_secs())
                ),
            ),
            Stop::Signal(name) => {
                // A second signal ends the process at once, without its temporary files.
                tokio::spawn(async {
                    let again = interrupted().await;
                    eprintln!("sigaudit: {again} again: exiting at once; the report files were not written");
                    sigaudit::report::atomic::remove_pending();
                    std::process::exit(ExitStatus::Incomplete.code());
                });
                (
                    "interrupted",
                    format!(
                        "the scan was stopped by {name}: what was examined is reported, the rest was not examined"
                    ),
                )
            }
        };
        tracing::warn!("{message}");
        let error = ErrorReport { registry: None, repository: None, reference: None, code: code.into(), message };
        let _ = late.send(Event::Error(error)).await;
    }
    drop(late);
    let written = writer.await?;
    if let Some(p) = progress {
        p.finish();
    }
    let (summary, complete) = written.context("writing the report")?;
    Ok(Outcome { summary, complete })
}

/// Why a scan stopped before its work was done.
enum Stop {
    Deadline,
    Signal(&'static str),
}

/// The first SIGINT or SIGTERM (Ctrl-C on other platforms), by name.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
            (Ok(mut int), Ok(mut term)) => tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            },
            _ => std::future::pending().await,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// The outputs asked for, opened: files are created now (a directory that cannot be written is
/// an error before the scan, not after it).
fn open_outputs(specs: &[(OutputFormat, Option<std::path::PathBuf>)]) -> Result<Vec<Output>> {
    let mut outputs = Vec::new();
    for (format, path) in specs {
        let output = match path {
            None => {
                let stdout = std::io::stdout();
                let color = stdout.is_terminal() && !super::no_color();
                Output { format: *format, sink: Box::new(std::io::BufWriter::new(stdout)), color, previous: None }
            }
            Some(p) => {
                let file = AtomicFile::create(p).with_context(|| format!("--output {}", p.display()))?;
                // Prometheus carries the last complete scan's time over from the file it replaces.
                let previous = (*format == OutputFormat::Extra(Extra::Prometheus))
                    .then(|| std::fs::read_to_string(p).ok())
                    .flatten();
                Output { format: *format, sink: Box::new(file), color: false, previous }
            }
        };
        outputs.push(output);
    }
    Ok(outputs)
}

/// The progress line on standard error: repositories (or files) and images done, requests per
/// second, elapsed time, errors so far.
struct Progress {
    bar: indicatif::ProgressBar,
    counts: Arc<Counts>,
    ticker: tokio::task::JoinHandle<()>,
}

/// What the report writer has counted so far, for the progress line.
#[derive(Default)]
struct Counts {
    repositories: AtomicU64,
    items: AtomicU64,
    errors: AtomicU64,
    /// The scan is over: the line is gone and must not be drawn again.
    done: std::sync::atomic::AtomicBool,
}

impl Counts {
    fn update(&self, s: &Summary) {
        self.repositories.store(s.repositories.unwrap_or(0), Ordering::Relaxed);
        self.items.store(s.items(), Ordering::Relaxed);
        self.errors.store(s.errors, Ordering::Relaxed);
    }
}

/// Requests sent so far (to every registry of the scan), for requests per second.
pub type RequestCount = Box<dyn Fn() -> u64 + Send + Sync>;

impl Progress {
    fn start(mode: super::args::Progress, kind: &str, requests: Option<RequestCount>) -> Option<Progress> {
        use super::args::Progress as Mode;
        let show = match mode {
            Mode::Never => false,
            Mode::Always => true,
            Mode::Auto => std::io::stderr().is_terminal(),
        };
        if !show {
            return None;
        }
        // On a terminal, one line redrawn in place; otherwise (`always` into a log) a plain line
        // every few seconds.
        let terminal = std::io::stderr().is_terminal();
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}").expect("template"),
        );
        if terminal {
            super::progress_bar::set(bar.clone());
        }
        let counts = Arc::new(Counts::default());
        let (c, b, files) = (counts.clone(), bar.clone(), kind == "filesystem");
        let ticker = tokio::spawn(async move {
            let started = Instant::now();
            let every = if terminal { Duration::from_millis(200) } else { Duration::from_secs(2) };
            loop {
                if !terminal {
                    tokio::time::sleep(every).await;
                }
                if c.done.load(Ordering::SeqCst) {
                    break;
                }
                let secs = started.elapsed().as_secs_f64().max(0.001);
                let (repos, items, errors) = (
                    c.repositories.load(Ordering::Relaxed),
                    c.items.load(Ordering::Relaxed),
                    c.errors.load(Ordering::Relaxed),
                );
                let rate =
                    requests.as_ref().map(|r| format!(", {:.0} requests/s", r() as f64 / secs)).unwrap_or_default();
                let message = if files {
                    format!("{items} files checked, {errors} errors")
                } else {
                    format!("{repos} repositories, {items} images{rate}, {errors} errors")
                };
                if terminal {
                    b.set_message(message);
                    b.tick();
                    tokio::time::sleep(every).await;
                } else {
                    eprintln!("sigaudit: progress: {:.0}s elapsed, {message}", secs);
                }
            }
        });
        Some(Progress { bar, counts, ticker })
    }

    fn finish(self) {
        self.ticker.abort();
        self.bar.finish_and_clear();
        super::progress_bar::clear();
    }
}

fn terminal_width() -> u16 {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<u16>().ok()) {
        return w.max(40);
    }
    if std::io::stdout().is_terminal() {
        if let Some((w, _)) = terminal_size() {
            return w;
        }
    }
    120
}

fn terminal_size() -> Option<(u16, u16)> {
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, h)| (w.0, h.0))
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn print_stats(label: &str, client: &RegistryClient) {
    let s = client.stats().snapshot();
    eprintln!(
        "requests to {label}: total {} (ping {}, token {}, catalog {}, tag-list {}, manifest-head {}, manifest-get {}, blob {}, referrers {}, listing {}, signatures {}); retries {}",
        s.total,
        s.ping,
        s.token,
        s.catalog,
        s.tag_list,
        s.manifest_head,
        s.manifest_get,
        s.blob,
        s.referrers,
        s.listing,
        s.signatures,
        s.retries
    );
}

/// A registry named with a scheme: `http://` means plain HTTP, `https://` TLS. Returns the rest
/// and whether to talk plain HTTP, or an error when the scheme contradicts `--plain-http`.
pub fn scheme(target: &str, plain_http: bool) -> Result<(&str, bool)> {
    if let Some(rest) = target.strip_prefix("http://") {
        return Ok((rest, true));
    }
    if let Some(rest) = target.strip_prefix("https://") {
        if plain_http {
            bail!("{target:?} says https:// but --plain-http (or plain-http in the config file) says HTTP: give one");
        }
        return Ok((rest, false));
    }
    if let Some((s, _)) = target.split_once("://") {
        bail!("{target:?}: unknown scheme {s}:// (use http://, https:// or none)");
    }
    Ok((target, plain_http))
}

/// `HOST[:PORT][/NAMESPACE]` (the scheme already taken off).
pub fn split_target(target: &str) -> Result<(String, Option<String>)> {
    let t = target.trim_end_matches('/');
    let (host, ns) = match t.split_once('/') {
        Some((h, n)) => (h, Some(n.to_string())),
        None => (t, None),
    };
    if host.is_empty() || host.contains(['@', ' ']) {
        bail!("registry target {target:?} is not HOST[:PORT][/NAMESPACE]");
    }
    if ns.as_deref().is_some_and(|n| n.contains(':') || n.contains('@')) {
        bail!("registry target {target:?}: a namespace takes no tag or digest (use `sigaudit image`)");
    }
    // `HOST//apps` or `HOST/./apps` would name no repository and scan nothing, "complete".
    if ns.as_deref().is_some_and(|n| n.split('/').any(|seg| seg.is_empty() || seg == "." || seg == "..")) {
        bail!("registry target {target:?}: the namespace has an empty, `.` or `..` segment: give it as a repository path, e.g. HOST/team/app");
    }
    Ok((host.to_string(), ns))
}

pub fn repo_filter(namespace: Option<String>, include: &[String], exclude: &[String]) -> Result<RepoFilter> {
    let set = |globs: &[String], flag: &str| -> Result<Option<globset::GlobSet>> {
        if globs.is_empty() {
            return Ok(None);
        }
        let mut b = globset::GlobSetBuilder::new();
        for g in globs {
            b.add(
                globset::GlobBuilder::new(g)
                    .literal_separator(false)
                    .build()
                    .with_context(|| format!("{flag} {g:?}"))?,
            );
        }
        Ok(Some(b.build()?))
    };
    Ok(RepoFilter { namespace, include: set(include, "--include")?, exclude: set(exclude, "--exclude")?, shard: None })
}

pub fn new_scan(client: Arc<RegistryClient>, settings: &Settings, tx: mpsc::Sender<Event>) -> Result<Arc<Scan>> {
    let trust = Arc::new(settings.trust.clone());
    let now = settings.report.now;
    let sigrepos = &settings.sources.signature_repositories;
    let mut sources = sigaudit::crawl::Sources {
        signature_repositories: sigrepos.clone(),
        signature_scans: Default::default(),
        simple_signing: settings.sources.simple_signing.clone(),
        scoped_trust: settings.sources.scoped_trust.as_ref().map(|(policy, by_scope)| {
            let by_scope = by_scope.iter().map(|(k, t)| (k.clone(), Arc::new(t.clone()))).collect();
            (policy.clone(), by_scope)
        }),
        containers_policy: settings.sources.containers_policy.clone(),
    };
    // A scan of each other registry holding a signature repository: its own client and
    // credentials (the docker config's; flag credentials are for the scanned registry only).
    for t in sigrepos.targets().filter(|t| t.host != client.host()) {
        if sources.signature_scans.contains_key(&t.host) {
            continue;
        }
        let mut cfg = settings.common_client.clone();
        cfg.host = t.host.clone();
        cfg.plain_http = t.plain_http.unwrap_or(client.plain_http());
        cfg.credentials = docker_config_credentials(&t.host).map_err(|e| anyhow::anyhow!("docker config: {e}"))?;
        let other = Arc::new(RegistryClient::new(cfg).with_context(|| format!("--signature-repository {}", t.name()))?);
        let scan = Scan::new(other, trust.clone(), now, tx.clone());
        sources.signature_scans.insert(t.host.clone(), scan);
    }
    Ok(Scan::with_sources(client, trust, now, tx, sources))
}

/// The notes about the trust material (see [`Settings::trust_notes`]), first in the report.
pub async fn send_trust_notes(tx: &mpsc::Sender<Event>, s: &Settings) {
    for n in &s.trust_notes {
        let _ = tx.send(Event::Note(n.clone())).await;
    }
}

/// A registry whose scan could not be set up (a signature repository's client): an error of
/// the report, so the scan reads as incomplete, never as a registry of unsigned images.
pub async fn scan_not_started(tx: &mpsc::Sender<Event>, host: &str, e: anyhow::Error) {
    let error = ErrorReport {
        registry: Some(host.to_string()),
        repository: None,
        reference: None,
        code: "discovery-error".into(),
        message: format!("not scanned: {e:#}"),
    };
    let _ = tx.send(Event::Error(error)).await;
}

/// notation's trust policy and store: from the flags, else notation's configuration directory
/// when it holds a policy. None when there is neither.
/// The paths taken from notation's configuration directory (not given as flags) are added to
/// `implied`, for `scan.settings`: they bear on verdicts as much as the flags would.
fn notation_trust(
    policy: Option<&std::path::Path>,
    store: Option<&std::path::Path>,
    implied: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Option<Arc<sigaudit::notation_trust::NotationTrust>>> {
    use sigaudit::notation_trust::{default_config_dir, policy_in, NotationTrust};
    let config = default_config_dir();
    let policy = match policy {
        Some(p) => p.to_path_buf(),
        None => match config.as_deref().and_then(policy_in) {
            Some(p) => {
                tracing::info!("using notation's trust policy {}", p.display());
                implied.insert("notation-trust-policy".into(), p.display().to_string().into());
                implied.insert("notation-trust-policy-sha256".into(), super::config::file_digest(&p).into());
                p
            }
            None if store.is_some() => bail!("--notation-trust-store needs a trust policy (--notation-trust-policy)"),
            None => return Ok(None),
        },
    };
    let store = match store {
        Some(s) => s.to_path_buf(),
        None => match &config {
            Some(c) => {
                let store = c.join("truststore");
                implied.insert("notation-trust-store".into(), store.display().to_string().into());
                store
            }
            None => bail!("--notation-trust-policy needs --notation-trust-store (no notation configuration directory)"),
        },
    };
    let text =
        std::fs::read_to_string(&policy).with_context(|| format!("notation trust policy {}", policy.display()))?;
    let trust = NotationTrust::load(&text, &policy.display().to_string(), &store)?;
    Ok(Some(Arc::new(trust)))
}

#[cfg(test)]
mod tests {
    use super::split_target;

    #[test]
    fn a_comparison_that_never_finished_is_not_no_news() {
        use super::{exit_status_on_news, ExitStatus, Outcome};
        let outcome = Outcome { summary: sigaudit::report::Summary::default(), complete: true };
        let unsigned = [sigaudit::report::Status::Unsigned];
        assert_eq!(exit_status_on_news(&unsigned, None, &outcome), ExitStatus::Incomplete);
        let none = sigaudit::report::diff::ChangeSet::default();
        assert_eq!(exit_status_on_news(&unsigned, Some(&none), &outcome), ExitStatus::Success);
    }

    #[test]
    fn targets_and_their_namespaces() {
        assert_eq!(split_target("reg:5000/team/").unwrap(), ("reg:5000".into(), Some("team".into())));
        assert_eq!(split_target("reg").unwrap(), ("reg".into(), None));
        for bad in ["reg//apps", "reg/./apps", "reg/apps/../x", "reg/app:v1", "reg/app@sha256:00", "/apps", "a b"] {
            assert!(split_target(bad).is_err(), "{bad}");
        }
    }
}
