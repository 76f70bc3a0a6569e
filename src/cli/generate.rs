//! `sigaudit generate completions SHELL` and `sigaudit generate man DIR`: shell completions and
//! man pages generated from the clap definition itself, so they never drift from the flags.

use super::args::{Generate, GenerateArgs};
use super::run::ExitStatus;
use anyhow::{Context, Result};

pub fn run(a: &GenerateArgs) -> Result<ExitStatus> {
    let mut cmd = super::args::command();
    match &a.what {
        Generate::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "sigaudit", &mut std::io::stdout());
        }
        Generate::Man { dir } => {
            std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
            // sigaudit.1, and sigaudit-registry.1 … for each command (the hidden one left out).
            clap_mangen::generate_to(cmd, dir).with_context(|| format!("{}", dir.display()))?;
            let mut pages: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
            pages.sort();
            let names =
                pages.iter().filter(|p| p.extension().is_some_and(|e| e == "1")).map(|p| p.display().to_string());
            print_lines(names)?;
        }
        Generate::ConfigKeys => {
            print_lines(
                super::config::keys(&cmd).into_iter().map(|(key, commands)| format!("{key}: {}", commands.join(", "))),
            )?;
        }
    }
    Ok(ExitStatus::Success)
}

/// Lines to stdout; a reader that stops early (`| head`) ends the output, not the process.
fn print_lines(lines: impl Iterator<Item = String>) -> Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    for line in lines {
        match writeln!(out, "{line}") {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            r => r.context("stdout")?,
        }
    }
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("stdout"),
    }
}
