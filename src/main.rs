//! sigaudit: a thin CLI over the library. Parses arguments, builds the configuration, runs the
//! scan and maps its outcome to the documented exit codes.

mod cli;

use anyhow::{Context, Result};
use clap::{CommandFactory, FromArgMatches};
use cli::args::{Cli, Command};
use cli::run::{self, ExitStatus, Settings};
use std::collections::BTreeMap;

fn main() {
    let matches = Cli::command().get_matches();
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_logging(args.verbose);
    let command = match with_config(args.command, args.config.as_deref(), &matches) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sigaudit: error: {e:#}");
            std::process::exit(ExitStatus::UsageError.code());
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let status = match runtime.block_on(dispatch(command)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sigaudit: error: {e:#}");
            ExitStatus::UsageError
        }
    };
    std::process::exit(status.code());
}

/// Merge `--config` (or $SIGAUDIT_CONFIG) into the subcommand's arguments.
fn with_config(mut command: Command, config: Option<&std::path::Path>, matches: &clap::ArgMatches) -> Result<Command> {
    let Some(path) = config else { return Ok(command) };
    let file = cli::config::ConfigFile::load(path)?;
    let (_, m) = matches.subcommand().context("a subcommand")?;
    match &mut command {
        Command::Registry(a) => file.apply(&mut a.common, m)?,
        Command::Image(a) => file.apply(&mut a.common, m)?,
        Command::Fs(a) => file.apply_fs(a, m)?,
        Command::VerifyBundle(a) => file.apply_signer(&mut a.signer),
    }
    Ok(command)
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "sigaudit=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
}

async fn dispatch(command: Command) -> Result<ExitStatus> {
    match command {
        Command::VerifyBundle(a) => cli::bundle::run(&a),
        Command::Fs(a) => {
            let (format, fail_on, now) = run::report_settings(&a.report)?;
            let exclude = run::repo_filter(None, &[], &a.exclude)?.exclude;
            let trust = std::sync::Arc::new(run::load_ca_roots(&a.ca_roots, &a.tsa_roots, now)?);
            let opts = sigaudit::fs::FsOptions { follow_symlinks: a.follow_symlinks, exclude, jobs: a.jobs, trust };
            for p in &a.paths {
                std::fs::symlink_metadata(p).with_context(|| format!("{}", p.display()))?;
            }
            let target = serde_json::Value::Array(a.paths.iter().map(|p| p.display().to_string().into()).collect());
            let paths = a.paths.clone();
            let outcome = run::with_writer(format, "filesystem", target, |tx| async move {
                let report = tx.clone();
                if let Err(e) = tokio::task::spawn_blocking(move || sigaudit::fs::scan(&paths, &opts, tx)).await {
                    // A worker that died must not leave a report that looks complete.
                    let message = format!("the filesystem scan stopped early: {e}");
                    let error = sigaudit::report::ErrorReport {
                        repository: None,
                        reference: None,
                        code: "file-error".into(),
                        message,
                    };
                    let _ = report.send(sigaudit::crawl::Event::Error(error)).await;
                }
            })
            .await?;
            Ok(run::exit_status(&fail_on, &outcome))
        }
        Command::Registry(a) => {
            let settings = Settings::from_args(&a.common)?;
            let (host, namespace) = run::split_target(&a.target)?;
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
            let client = settings.client(&host).await?;
            client.ping().await.with_context(|| format!("registry {host} does not answer"))?;
            let target = serde_json::Value::String(a.target.clone());
            let parallel = settings.concurrency;
            let outcome = run::with_writer(settings.format, "registry", target, |tx| {
                let scan = run::new_scan(client.clone(), &settings, tx);
                async move { scan.registry(&filter, repos, parallel).await }
            })
            .await?;
            if settings.stats {
                run::print_stats(&host, &client);
            }
            Ok(run::exit_status(&settings.fail_on, &outcome))
        }
        Command::Image(a) => {
            let settings = Settings::from_args(&a.common)?;
            // Group references by registry host.
            let mut by_host: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
            for r in &a.references {
                let parsed: oci_client::Reference = r.parse().with_context(|| format!("image reference {r:?}"))?;
                let reference = parsed
                    .digest()
                    .map(str::to_string)
                    .or_else(|| parsed.tag().map(str::to_string))
                    .unwrap_or_else(|| "latest".into());
                by_host
                    .entry(parsed.resolve_registry().to_string())
                    .or_default()
                    .push((parsed.repository().to_string(), reference));
            }
            let mut clients = Vec::new();
            for host in by_host.keys() {
                let c = settings.client(host).await?;
                c.ping().await.with_context(|| format!("registry {host} does not answer"))?;
                clients.push((host.clone(), c));
            }
            let target =
                serde_json::Value::Array(a.references.iter().cloned().map(serde_json::Value::String).collect());
            let outcome = run::with_writer(settings.format, "registry", target, |tx| {
                let settings = &settings;
                let clients = &clients;
                async move {
                    for ((_, refs), (_, client)) in by_host.into_iter().zip(clients.iter()) {
                        let scan = run::new_scan(client.clone(), settings, tx.clone());
                        scan.images(refs).await;
                    }
                }
            })
            .await?;
            if settings.stats {
                for (host, c) in &clients {
                    run::print_stats(host, c);
                }
            }
            Ok(run::exit_status(&settings.fail_on, &outcome))
        }
    }
}
