//! The three scans (`fs`, `registry`, `image`): from validated arguments to a report and an
//! exit status.

use super::args::{FsArgs, ImageArgs, RegistryArgs};
use super::audit::Audit;
use super::config::TargetConfig;
use super::listing::ListingArgs;
use super::run::{self, ExitStatus, ReportSettings, ReportSetup, Settings};
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use sigaudit::crawl::{RepoSource, Shard};
use sigaudit::registry::{Credentials, Secret};
use sigaudit::report::merge;
use sigaudit::report::ErrorReport;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// First lines of a registry table when no trust material was given.
pub(super) const REGISTRY_HINT: &str =
    "No trust material was given, so no signer can be verified: `untrusted` means the \
signature holds and is bound to the image, but nothing says its signer is one you trust. Give --key FILE \
(cosign keys), --ca-roots FILE (your CA roots), --certificate-identity[-regexp] with \
--certificate-oidc-issuer (keyless Sigstore signers), or --notation-trust-policy and \
--notation-trust-store; or put them in a --config file.";

/// First lines of a filesystem table when no trust anchors were given.
const FS_HINT: &str = "No trust anchors were given, so no signer can be verified: `untrusted` means the \
signature holds and matches the file, but nothing says its signer is one you trust. Give --ca-roots FILE \
(a PEM bundle of the code-signing roots you trust), or ca-roots in a --config file.";

pub async fn fs(a: FsArgs, settings: Map<String, Value>) -> Result<ExitStatus> {
    let report = ReportSettings::from_args(&a.report)?;
    let audit = Audit::from_args(&a.report, &report, "filesystem")?;
    let exclude = run::repo_filter(None, &[], &a.exclude)?.exclude;
    let mut trust = run::load_ca_roots(&a.ca_roots, &a.tsa_roots, &a.revocation, report.now)?;
    trust.warn_expiring = report.warn_expiring;
    let trust = Arc::new(trust);
    let opts = sigaudit::fs::FsOptions {
        follow_symlinks: a.follow_symlinks,
        one_file_system: a.one_file_system,
        exclude,
        jobs: a.jobs,
        trust,
        deadline: report.deadline.map(|(at, _)| at),
        stop: Arc::default(),
        catalogs: a.catalog.clone(),
    };
    for p in &a.paths {
        std::fs::symlink_metadata(p).with_context(|| format!("{}", p.display()))?;
    }
    let shown: Vec<String> = a.paths.iter().map(|p| p.display().to_string()).collect();
    let setup = ReportSetup {
        report: &report,
        kind: "filesystem",
        target: Value::Array(shown.iter().cloned().map(Value::String).collect()),
        name: shown.join(","),
        settings,
        hint: a.ca_roots.is_empty().then(|| FS_HINT.to_string()),
        shard: None,
        listing: None,
        merged: None,
        requests: None,
        stop: Some(opts.stop.clone()),
    };
    let paths = a.paths.clone();
    let outcome = run::with_writer(setup, |out| {
        audit.run(out, |tx| async move {
            let report = tx.clone();
            if let Err(e) = tokio::task::spawn_blocking(move || sigaudit::fs::scan(&paths, &opts, tx)).await {
                // A worker that died must not leave a report that looks complete.
                let message = format!("the filesystem scan stopped early: {e}");
                let error = sigaudit::report::ErrorReport {
                    registry: None,
                    repository: None,
                    reference: None,
                    code: "file-error".into(),
                    message,
                };
                let _ = report.send(sigaudit::crawl::Event::Error(error)).await;
            }
        })
    })
    .await?;
    Ok(audit.exit_status(&report.fail_on, report.fail_on_expiring, &outcome))
}

/// Requests sent so far to these registries, for the progress line.
pub(super) fn requests(clients: Vec<Arc<sigaudit::registry::RegistryClient>>) -> run::RequestCount {
    Box::new(move || clients.iter().map(|c| c.stats().snapshot().total).sum())
}

/// Ping a registry, within the deadline if there is one.
pub(super) async fn ping(
    client: &sigaudit::registry::RegistryClient,
    host: &str,
    report: &ReportSettings,
) -> Result<()> {
    let answer = client.ping();
    let result = match report.deadline {
        None => answer.await,
        Some((at, _)) => tokio::time::timeout_at(at.into(), answer)
            .await
            .map_err(|_| anyhow::anyhow!("registry {host} did not answer before the --deadline"))?,
    };
    result.with_context(|| format!("registry {host} does not answer"))
}

/// One registry of a `registry` scan, ready to walk.
struct Walk {
    host: String,
    client: Arc<sigaudit::registry::RegistryClient>,
    filter: sigaudit::crawl::RepoFilter,
    repos: Option<Vec<String>>,
    lister: Option<Arc<sigaudit::registry::listers::Lister>>,
}

impl Walk {
    fn source(&self) -> RepoSource {
        match (&self.repos, &self.lister) {
            (Some(r), _) => RepoSource::Named(r.clone()),
            (None, Some(l)) => RepoSource::Lister(l.clone()),
            (None, None) => RepoSource::Catalog,
        }
    }
}

/// The registries to scan: the command line's, then the config file's `[[targets]]` (a target
/// named in both takes the file's settings); and the file's own, for `scan.settings`.
fn targets(a: &RegistryArgs, config: Option<&Path>) -> Result<(Vec<TargetConfig>, Vec<TargetConfig>)> {
    let mut out: Vec<TargetConfig> =
        a.targets.iter().map(|t| TargetConfig { target: t.clone(), ..TargetConfig::default() }).collect();
    let from_file = match config {
        Some(path) => super::config::targets(path)?,
        None => Vec::new(),
    };
    for t in &from_file {
        match out.iter_mut().find(|x| x.target == t.target) {
            Some(x) => *x = t.clone(),
            None => out.push(t.clone()),
        }
    }
    if out.is_empty() {
        bail!("give a registry to scan: sigaudit registry HOST[/NAMESPACE]… (or [[targets]] in the --config file)");
    }
    Ok((out, from_file))
}

fn read_repos_file(p: &Path) -> Result<Vec<String>> {
    Ok(std::fs::read_to_string(p)
        .with_context(|| format!("--repos-file {}", p.display()))?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}

/// A target's own credentials: its user name with the password from the environment variable it
/// names, or a token from one.
fn target_credentials(t: &TargetConfig) -> Result<Option<Credentials>> {
    let var = |name: &str| {
        std::env::var(name).with_context(|| format!("target {}: the environment variable {name} is not set", t.target))
    };
    Ok(match (&t.token_env, &t.username, &t.password_env) {
        (Some(v), _, _) => Some(Credentials::Bearer(Secret::new(var(v)?))),
        (None, Some(u), Some(v)) => Some(Credentials::Basic { username: u.clone(), password: Secret::new(var(v)?) }),
        (None, Some(_), None) => {
            bail!("target {}: username needs password-env (the variable holding the password)", t.target)
        }
        _ => None,
    })
}

pub async fn registry(a: RegistryArgs, settings: Map<String, Value>, config: Option<&Path>) -> Result<ExitStatus> {
    let s = Settings::from_args(&a.common, config)?;
    let audit = Audit::from_args(&a.common.report, &s.report, "registry")?;
    let shard = match &a.shard {
        None => None,
        Some(text) => Some(Shard::parse(text, std::env::var("JOB_COMPLETION_INDEX").ok().as_deref())?),
    };
    let (targets, from_file) = targets(&a, config)?;
    // Two targets that can hold the same repository would count it twice.
    for (n, x) in targets.iter().enumerate() {
        for y in &targets[n + 1..] {
            let (sx, sy) =
                (merge::scopes(&Value::String(x.target.clone())), merge::scopes(&Value::String(y.target.clone())));
            if sx.iter().any(|p| sy.iter().any(|q| merge::overlap(p, q))) {
                bail!(
                    "targets {} and {} cover the same repositories: name each registry (or namespace) once; use --include/--exclude to narrow one",
                    x.target,
                    y.target
                );
            }
        }
    }
    // The config file's targets bear on what the scan covers: recorded with the other settings
    // (variable names, never their values).
    let mut settings = settings;
    settings.extend(s.implied.clone());
    if !from_file.is_empty() {
        settings.insert("targets".into(), serde_json::to_value(&from_file)?);
    }
    if targets.len() > 1 && a.platform_token.is_some() {
        bail!(
            "--platform-token is for one registry: with several targets give each platform-token-env in the config file's [[targets]], or the platform's own variable"
        );
    }
    if targets.len() > 1 && s.has_flag_credentials() {
        bail!(
            "--username/--token are for one registry: with several targets give each its credentials in the docker config, or username with password-env (or token-env) in the config file's [[targets]]"
        );
    }
    let mut walks = Vec::new();
    let mut unreachable = Vec::new();
    let mut listings = Vec::new();
    let mut credential_sources: Vec<String> = Vec::new();
    for t in &targets {
        let (target, plain_http) = run::scheme(&t.target, t.plain_http.unwrap_or(a.common.plain_http))?;
        let (host, namespace) = run::split_target(target)?;
        let (include, exclude) = (
            if t.include.is_empty() { &a.include } else { &t.include },
            if t.exclude.is_empty() { &a.exclude } else { &t.exclude },
        );
        let mut filter = run::repo_filter(namespace.clone(), include, exclude)?;
        filter.shard = shard;
        let repos = match t.repos_file.as_ref().or(a.repos_file.as_ref()) {
            None => None,
            Some(p) => Some(read_repos_file(p)?),
        };
        let client = s.client_for(&host, plain_http, target_credentials(t)?, t.rps).await?;
        let listing_args = ListingArgs {
            lister: a.lister.as_deref(),
            lister_url: a.lister_url.as_deref(),
            platform_token: a.platform_token.as_deref(),
            repos_file: repos.is_some(),
            api: s.api_config(),
        };
        let chosen = super::listing::choose(t, &listing_args, &host, namespace.as_deref(), plain_http, &client)?;
        listings.push((t.target.clone(), chosen.listing));
        if let Some(var) = chosen.credential_source {
            credential_sources.push(var);
        }
        let lister = chosen.lister;
        match ping(&client, &host, &s.report).await {
            Ok(()) => walks.push(Walk { host, client, filter, repos, lister }),
            // One registry: nothing to report. Several: the others are still scanned.
            Err(e) if targets.len() == 1 => return Err(e),
            Err(e) => unreachable.push((host, format!("{e:#}"))),
        }
    }
    // Where the platform credential came from (a variable's name, never its value).
    credential_sources.dedup();
    match credential_sources.as_slice() {
        [] => {}
        [one] => {
            settings.insert("platform-token-env".into(), Value::String(one.clone()));
        }
        many => {
            settings
                .insert("platform-token-env".into(), Value::Array(many.iter().cloned().map(Value::String).collect()));
        }
    }
    let listing = match listings.as_slice() {
        [(_, l), rest @ ..] if rest.iter().all(|(_, x)| x == l) => Value::String(l.as_str().into()),
        many => Value::Object(many.iter().map(|(t, l)| (t.clone(), Value::String(l.as_str().into()))).collect()),
    };
    let shown: Vec<&str> = targets.iter().map(|t| t.target.as_str()).collect();
    let setup = ReportSetup {
        report: &s.report,
        kind: "registry",
        target: match shown.as_slice() {
            [one] => Value::String(one.to_string()),
            many => Value::Array(many.iter().map(|t| Value::String(t.to_string())).collect()),
        },
        name: shown
            .iter()
            .map(|t| run::scheme(t, false).map_or(*t, |(r, _)| r).trim_end_matches('/'))
            .collect::<Vec<_>>()
            .join(","),
        settings,
        hint: (!s.trust_given).then(|| REGISTRY_HINT.to_string()),
        shard,
        listing: Some(listing),
        merged: None,
        requests: Some(requests(walks.iter().map(|w| w.client.clone()).collect())),
        stop: None,
    };
    let parallel = s.concurrency;
    let outcome = run::with_writer(setup, |out| {
        let settings = &s;
        let walks = &walks;
        audit.run(out, move |tx| async move {
            run::send_trust_notes(&tx, settings).await;
            for (host, message) in unreachable {
                let error = ErrorReport {
                    registry: Some(host),
                    repository: None,
                    reference: None,
                    code: "registry-unreachable".into(),
                    message,
                };
                let _ = tx.send(sigaudit::crawl::Event::Error(error)).await;
            }
            let scans = walks.iter().map(|w| {
                let scan = run::new_scan(w.client.clone(), settings, tx.clone());
                let tx = tx.clone();
                async move {
                    match scan {
                        Ok(scan) => scan.registry(&w.filter, w.source(), parallel).await,
                        Err(e) => run::scan_not_started(&tx, w.client.host(), e).await,
                    }
                }
            });
            futures::future::join_all(scans).await;
        })
    })
    .await?;
    if s.stats {
        for w in &walks {
            run::print_stats(&w.host, &w.client);
        }
    }
    Ok(audit.exit_status(&s.report.fail_on, s.report.fail_on_expiring, &outcome))
}

pub async fn image(a: ImageArgs, mut settings: Map<String, Value>, config: Option<&Path>) -> Result<ExitStatus> {
    let s = Settings::from_args(&a.common, config)?;
    let audit = Audit::from_args(&a.common.report, &s.report, "registry")?;
    settings.extend(s.implied.clone());
    // References grouped by registry host, each host over HTTP or HTTPS.
    let mut by_host: BTreeMap<String, (bool, Vec<(String, String)>)> = BTreeMap::new();
    for r in &a.references {
        let (rest, plain_http) = run::scheme(r, a.common.plain_http)?;
        let parsed: oci_client::Reference = rest.parse().with_context(|| format!("image reference {r:?}"))?;
        let reference = parsed
            .digest()
            .map(str::to_string)
            .or_else(|| parsed.tag().map(str::to_string))
            .unwrap_or_else(|| "latest".into());
        let host = parsed.resolve_registry().to_string();
        let entry = by_host.entry(host.clone()).or_insert((plain_http, Vec::new()));
        if entry.0 != plain_http {
            bail!("registry {host} is named both with http:// and without it (or with https://): give one");
        }
        entry.1.push((parsed.repository().to_string(), reference));
    }
    let mut clients = Vec::new();
    for (host, (plain_http, _)) in &by_host {
        let c = s.client(host, *plain_http).await?;
        ping(&c, host, &s.report).await?;
        clients.push((host.clone(), c));
    }
    let setup = ReportSetup {
        report: &s.report,
        kind: "registry",
        target: Value::Array(a.references.iter().cloned().map(Value::String).collect()),
        name: by_host.keys().cloned().collect::<Vec<_>>().join(","),
        settings,
        hint: (!s.trust_given).then(|| REGISTRY_HINT.to_string()),
        shard: None,
        listing: None,
        merged: None,
        requests: Some(requests(clients.iter().map(|(_, c)| c.clone()).collect())),
        stop: None,
    };
    let outcome = run::with_writer(setup, |out| {
        let settings = &s;
        let clients = &clients;
        audit.run(out, move |tx| async move {
            run::send_trust_notes(&tx, settings).await;
            for ((_, (_, refs)), (_, client)) in by_host.into_iter().zip(clients.iter()) {
                match run::new_scan(client.clone(), settings, tx.clone()) {
                    Ok(scan) => scan.images(refs).await,
                    Err(e) => run::scan_not_started(&tx, client.host(), e).await,
                }
            }
        })
    })
    .await?;
    if s.stats {
        for (host, c) in &clients {
            run::print_stats(host, c);
        }
    }
    Ok(audit.exit_status(&s.report.fail_on, s.report.fail_on_expiring, &outcome))
}
