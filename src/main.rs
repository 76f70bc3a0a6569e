//! sigaudit: a thin CLI over the library. Parses arguments (with the config file's settings
//! spliced in), runs the scan and maps its outcome to the documented exit codes.

mod cli;

use clap::FromArgMatches;
use cli::args::{Cli, Command};
use cli::run::ExitStatus;
use std::ffi::OsString;

fn main() {
    let cmd = cli::args::command();
    let argv: Vec<OsString> = std::env::args_os().collect();
    let matches = cmd.clone().try_get_matches_from(&argv).unwrap_or_else(|e| e.exit());
    let matches = match matches.get_one::<std::path::PathBuf>("config") {
        None => matches,
        Some(path) => {
            let spliced = cli::config::splice(&cmd, &argv, &matches, path).unwrap_or_else(|e| usage_error(&e));
            cmd.clone().try_get_matches_from(&spliced).unwrap_or_else(|e| {
                // The command line alone parsed: what fails now came from the file.
                let first = e.to_string().lines().next().unwrap_or_default().trim_start_matches("error: ").to_string();
                usage_error(&anyhow::anyhow!("--config {}: {first}", path.display()))
            })
        }
    };
    let args = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    init_logging(args.verbose);
    let (name, sub_matches) = matches.subcommand().expect("clap requires a subcommand");
    let sub = cmd.find_subcommand(name).expect("the parsed subcommand");
    let settings = cli::config::settings(sub, sub_matches);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let status = match runtime.block_on(dispatch(args.command, settings, args.config.as_deref())) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sigaudit: error: {e:#}");
            ExitStatus::UsageError
        }
    };
    std::process::exit(status.code());
}

fn usage_error(e: &anyhow::Error) -> ! {
    eprintln!("sigaudit: error: {e:#}");
    std::process::exit(ExitStatus::UsageError.code());
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "sigaudit=debug,info",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| default.into());
    // Colour only on a terminal, and never with NO_COLOR set (https://no-color.org).
    use std::io::IsTerminal;
    let color = std::io::stderr().is_terminal() && !cli::no_color();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(cli::progress_bar::Stderr)
        .with_ansi(color)
        .with_target(false)
        .init();
}

async fn dispatch(
    command: Command,
    settings: serde_json::Map<String, serde_json::Value>,
    config: Option<&std::path::Path>,
) -> anyhow::Result<ExitStatus> {
    match command {
        Command::VerifyBundle(a) => cli::bundle::run(&a),
        Command::Generate(a) => cli::generate::run(&a),
        Command::Trust(a) => cli::trust::run(&a),
        Command::Fs(a) => cli::scan::fs(a, settings).await,
        Command::Registry(a) => cli::scan::registry(a, settings, config).await,
        Command::Merge(a) => cli::merge::run(a).await,
        Command::Diff(a) => cli::diff::run(&a),
        Command::Image(a) => cli::scan::image(a, settings, config).await,
        Command::Cluster(a) => cli::cluster::run(a, settings, config).await,
    }
}
