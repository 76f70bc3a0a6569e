//! From arguments to a scan to an exit status. All policy about exit codes lives here.

use super::args::{CommonArgs, Output, ReportArgs};
use anyhow::{bail, Context, Result};
use sigaudit::crawl::{Event, RepoFilter, Scan};
use sigaudit::registry::{docker_config_credentials, ClientConfig, Credentials, RegistryClient, Secret};
use sigaudit::report::{OutputFormat, ReportWriter, ScanInfo, Status, Summary};
use sigaudit::trust::Trust;
use std::io::{IsTerminal, Read};
use std::sync::Arc;
use std::time::Duration;
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
    pub format: OutputFormat,
    pub fail_on: Vec<Status>,
    pub trust: Trust,
    pub now: i64,
    pub stats: bool,
    pub concurrency: usize,
    common_client: ClientConfig,
    username: Option<String>,
    password: Option<Secret>,
    token: Option<Secret>,
}

impl Settings {
    pub fn from_args(c: &CommonArgs) -> Result<Settings> {
        let (format, fail_on, now) = report_settings(&c.report)?;
        let mut trust = load_ca_roots(&c.ca_roots, &c.tsa_roots, now)?;
        // Keys and trusted roots are read once, for bundles and legacy cosign layers alike.
        let material = super::bundle::signer_policy(&c.signer)?;
        for (source, json) in &material.root_jsons {
            trust.add_trusted_root(json.as_bytes()).map_err(|e| anyhow::anyhow!("trusted root {source}: {e}"))?;
        }
        for (der, source) in &material.policy.keys {
            trust.add_key_der(der.clone(), source).with_context(|| format!("--key {source}"))?;
        }
        let (roots, signer) = (material.roots, material.policy);
        trust.sigstore = Some(Arc::new(sigaudit::trust::SigstorePolicy { roots, signer }));
        trust.notation = notation_trust(c.notation_trust_policy.as_deref(), c.notation_trust_store.as_deref())?;
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
        common_client.plain_http = c.plain_http;
        common_client.concurrency = c.concurrency as usize;
        common_client.timeout = Duration::from_secs(c.timeout.max(1));
        common_client.max_retries = c.retries;
        common_client.rps = c.rps;
        common_client.insecure_skip_tls_verify = c.insecure_skip_tls_verify;
        for path in &c.tls_ca {
            common_client.tls_ca_pem.push(std::fs::read(path).with_context(|| format!("--tls-ca {}", path.display()))?);
        }
        Ok(Settings {
            format,
            fail_on,
            trust,
            now,
            stats: c.stats,
            concurrency: c.concurrency as usize,
            common_client,
            username: c.username.clone(),
            password,
            token: c.token.clone().map(Secret::new),
        })
    }

    /// A client for `host`, with credentials from the flags or else the docker config.
    pub async fn client(&self, host: &str) -> Result<Arc<RegistryClient>> {
        let mut cfg = self.common_client.clone();
        cfg.host = host.to_string();
        cfg.credentials = match (&self.token, &self.username, &self.password) {
            (Some(t), _, _) => Some(Credentials::Bearer(t.clone())),
            (None, Some(u), Some(p)) => Some(Credentials::Basic { username: u.clone(), password: p.clone() }),
            (None, Some(u), None) => bail!("--username {u} needs --password-stdin"),
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

/// Trust anchors from `--ca-roots` and `--tsa-roots` files; certificates are judged at `now`.
pub fn load_ca_roots(ca: &[std::path::PathBuf], tsa: &[std::path::PathBuf], now: i64) -> Result<Trust> {
    let mut trust = Trust { now, ..Trust::default() };
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

/// Output format, `--fail-on` statuses and the evaluation time, shared by every scan.
pub fn report_settings(r: &ReportArgs) -> Result<(OutputFormat, Vec<Status>, i64)> {
    let format = match r.output {
        Output::Table => OutputFormat::Table,
        Output::Wide => OutputFormat::Wide,
        Output::Json => OutputFormat::Json,
        Output::Ndjson => OutputFormat::Ndjson,
        Output::SigscanJson => OutputFormat::SigscanJson,
    };
    let mut fail_on = Vec::new();
    for word in &r.fail_on {
        let s = Status::parse(word.trim()).with_context(|| {
            format!(
                "--fail-on: unknown status {word:?} (use invalid, unverified, untrusted, unsigned, unsupported, error)"
            )
        })?;
        if s == Status::Verified {
            bail!("--fail-on verified makes no sense");
        }
        fail_on.push(s);
    }
    let now = match &r.at {
        None => chrono::Utc::now().timestamp(),
        Some(t) => chrono::DateTime::parse_from_rfc3339(t).with_context(|| format!("--at {t:?}"))?.timestamp(),
    };
    Ok((format, fail_on, now))
}

/// What a scan produced, for the exit status.
pub struct Outcome {
    pub summary: Summary,
    pub complete: bool,
}

pub fn exit_status(fail_on: &[Status], outcome: &Outcome) -> ExitStatus {
    if fail_on.iter().any(|s| outcome.summary.count(*s) > 0) {
        ExitStatus::PolicyFailure
    } else if !outcome.complete {
        ExitStatus::Incomplete
    } else {
        ExitStatus::Success
    }
}

/// Run `work` with an event channel, rendering events to stdout as they come.
pub async fn with_writer<F, Fut>(
    format: OutputFormat,
    kind: &str,
    target: serde_json::Value,
    work: F,
) -> Result<Outcome>
where
    F: FnOnce(mpsc::Sender<Event>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, mut rx) = mpsc::channel::<Event>(1024);
    let scan = ScanInfo { kind: kind.into(), target, started_at: now_rfc3339(), finished_at: None, complete: false };
    let stdout = std::io::stdout();
    let color = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let width = terminal_width();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(Summary, bool)> {
        let mut w = ReportWriter::new(format, std::io::BufWriter::new(stdout.lock()), scan, color, width);
        while let Some(e) = rx.blocking_recv() {
            w.handle(e)?;
        }
        w.finish(now_rfc3339())
    });
    work(tx).await;
    let (summary, complete) = writer.await?.context("writing the report")?;
    Ok(Outcome { summary, complete })
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
    comfy_table::Table::new().width().map(|w| (w, 0))
}

pub fn now_rfc3339() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

pub fn print_stats(label: &str, client: &RegistryClient) {
    let s = client.stats().snapshot();
    eprintln!(
        "requests to {label}: total {} (ping {}, token {}, catalog {}, tag-list {}, manifest-head {}, manifest-get {}, blob {}, referrers {}); retries {}",
        s.total, s.ping, s.token, s.catalog, s.tag_list, s.manifest_head, s.manifest_get, s.blob, s.referrers, s.retries
    );
}

/// `HOST[:PORT][/NAMESPACE]`
pub fn split_target(target: &str) -> Result<(String, Option<String>)> {
    let t = target.trim_start_matches("https://").trim_start_matches("http://").trim_end_matches('/');
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
    Ok(RepoFilter { namespace, include: set(include, "--include")?, exclude: set(exclude, "--exclude")? })
}

pub fn new_scan(client: Arc<RegistryClient>, settings: &Settings, tx: mpsc::Sender<Event>) -> Arc<Scan> {
    Scan::new(client, Arc::new(settings.trust.clone()), settings.now, tx)
}

/// notation's trust policy and store: from the flags, else notation's configuration directory
/// when it holds a policy. None when there is neither.
fn notation_trust(
    policy: Option<&std::path::Path>,
    store: Option<&std::path::Path>,
) -> Result<Option<Arc<sigaudit::notation_trust::NotationTrust>>> {
    use sigaudit::notation_trust::{default_config_dir, policy_in, NotationTrust};
    let config = default_config_dir();
    let policy = match policy {
        Some(p) => p.to_path_buf(),
        None => match config.as_deref().and_then(policy_in) {
            Some(p) => {
                tracing::info!("using notation's trust policy {}", p.display());
                p
            }
            None if store.is_some() => bail!("--notation-trust-store needs a trust policy (--notation-trust-policy)"),
            None => return Ok(None),
        },
    };
    let store = match store {
        Some(s) => s.to_path_buf(),
        None => match &config {
            Some(c) => c.join("truststore"),
            None => bail!("--notation-trust-policy needs --notation-trust-store (no notation configuration directory)"),
        },
    };
    let text =
        std::fs::read_to_string(&policy).with_context(|| format!("notation trust policy {}", policy.display()))?;
    let trust = NotationTrust::load(&text, &policy.display().to_string(), &store)?;
    Ok(Some(Arc::new(trust)))
}
