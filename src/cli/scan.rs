//! The three scans (`fs`, `registry`, `image`): from validated arguments to a report and an
//! exit status.

use super::args::{FsArgs, ImageArgs, RegistryArgs};
use super::run::{self, ExitStatus, ReportSettings, ReportSetup, Settings};
use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// First lines of a registry table when no trust material was given.
const REGISTRY_HINT: &str = "No trust material was given, so no signer can be verified: `untrusted` means the \
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
    let exclude = run::repo_filter(None, &[], &a.exclude)?.exclude;
    let trust = Arc::new(run::load_ca_roots(&a.ca_roots, &a.tsa_roots, report.now)?);
    let opts = sigaudit::fs::FsOptions {
        follow_symlinks: a.follow_symlinks,
        one_file_system: a.one_file_system,
        exclude,
        jobs: a.jobs,
        trust,
        deadline: report.deadline.map(|(at, _)| at),
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
    };
    let paths = a.paths.clone();
    let outcome = run::with_writer(setup, |tx| async move {
        let report = tx.clone();
        if let Err(e) = tokio::task::spawn_blocking(move || sigaudit::fs::scan(&paths, &opts, tx)).await {
            // A worker that died must not leave a report that looks complete.
            let message = format!("the filesystem scan stopped early: {e}");
            let error =
                sigaudit::report::ErrorReport { repository: None, reference: None, code: "file-error".into(), message };
            let _ = report.send(sigaudit::crawl::Event::Error(error)).await;
        }
    })
    .await?;
    Ok(run::exit_status(&report.fail_on, &outcome))
}

/// Ping a registry, within the deadline if there is one.
async fn ping(client: &sigaudit::registry::RegistryClient, host: &str, report: &ReportSettings) -> Result<()> {
    let answer = client.ping();
    let result = match report.deadline {
        None => answer.await,
        Some((at, _)) => tokio::time::timeout_at(at.into(), answer)
            .await
            .map_err(|_| anyhow::anyhow!("registry {host} did not answer before the --deadline"))?,
    };
    result.with_context(|| format!("registry {host} does not answer"))
}

pub async fn registry(a: RegistryArgs, settings: Map<String, Value>) -> Result<ExitStatus> {
    let s = Settings::from_args(&a.common)?;
    let (target, plain_http) = run::scheme(&a.target, a.common.plain_http)?;
    let (host, namespace) = run::split_target(target)?;
    let filter = run::repo_filter(namespace, &a.include, &a.exclude)?;
    let repos = match &a.repos_file {
        None => None,
        Some(p) => Some(
            std::fs::read_to_string(p)
                .with_context(|| format!("--repos-file {}", p.display()))?
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_string)
                .collect::<Vec<_>>(),
        ),
    };
    let client = s.client(&host, plain_http).await?;
    ping(&client, &host, &s.report).await?;
    let setup = ReportSetup {
        report: &s.report,
        kind: "registry",
        target: Value::String(a.target.clone()),
        name: target.trim_end_matches('/').to_string(),
        settings,
        hint: (!s.trust_given).then(|| REGISTRY_HINT.to_string()),
    };
    let parallel = s.concurrency;
    let outcome = run::with_writer(setup, |tx| {
        let scan = run::new_scan(client.clone(), &s, tx);
        async move { scan.registry(&filter, repos, parallel).await }
    })
    .await?;
    if s.stats {
        run::print_stats(&host, &client);
    }
    Ok(run::exit_status(&s.report.fail_on, &outcome))
}

pub async fn image(a: ImageArgs, settings: Map<String, Value>) -> Result<ExitStatus> {
    let s = Settings::from_args(&a.common)?;
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
    };
    let outcome = run::with_writer(setup, |tx| {
        let settings = &s;
        let clients = &clients;
        async move {
            for ((_, (_, refs)), (_, client)) in by_host.into_iter().zip(clients.iter()) {
                let scan = run::new_scan(client.clone(), settings, tx.clone());
                scan.images(refs).await;
            }
        }
    })
    .await?;
    if s.stats {
        for (host, c) in &clients {
            run::print_stats(host, c);
        }
    }
    Ok(run::exit_status(&s.report.fail_on, &outcome))
}
