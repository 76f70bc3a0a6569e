//! `sigaudit diff OLD NEW`: what changed between two reports of the same kind (the library's
//! `report::diff`), as a table or JSON. Exit 1 with `--fail-on-new` when a change goes into one
//! of its statuses, 2 when the reports cannot be compared.

use super::args::{DiffArgs, DiffOutput};
use super::audit::read_report;
use super::run::{self, ExitStatus};
use anyhow::{bail, Result};
use sigaudit::report::diff::{self, Diff, Side, Snapshot, DIFF_SCHEMA};
use std::io::{IsTerminal, Write};

pub fn run(a: &DiffArgs) -> Result<ExitStatus> {
    let fail_on_new = run::parse_statuses("--fail-on-new", &a.fail_on_new)?;
    if a.old.as_os_str() == "-" && a.new.as_os_str() == "-" {
        bail!("only one of OLD and NEW can be standard input (-)");
    }
    let (old, new) = (read_report(&a.old, "OLD")?, read_report(&a.new, "NEW")?);
    let (old_scan, new_scan) = (old.scan.as_ref().expect("read"), new.scan.as_ref().expect("read"));
    if old_scan.kind != new_scan.kind {
        bail!(
            "{} is a {} report and {} a {} report: compare reports of one kind",
            a.old.display(),
            old_scan.kind,
            a.new.display(),
            new_scan.kind
        );
    }
    let (old_items, new_items) = (Snapshot::from_input(&old), Snapshot::from_input(&new));
    old_items.check_unique(&a.old.display().to_string()).map_err(anyhow::Error::msg)?;
    new_items.check_unique(&a.new.display().to_string()).map_err(anyhow::Error::msg)?;
    let set = diff::diff(&old_items, &new_items);
    let report = Diff {
        schema: DIFF_SCHEMA.into(),
        old: Side::of(Some(&a.old.display().to_string()), old_scan),
        new: Side::of(Some(&a.new.display().to_string()), new_scan),
        set,
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    match a.output {
        DiffOutput::Json => {
            serde_json::to_writer_pretty(&mut out, &report)?;
            writeln!(out)?;
        }
        DiffOutput::Table => {
            let color = stdout.is_terminal() && !super::no_color();
            let width = terminal_width();
            let wrap = |s: &str| sigaudit::report::diff::wrap(s, width);
            writeln!(
                out,
                "{}",
                wrap(&format!(
                    "From {} (scan of {}) to {} (scan of {}).",
                    a.old.display(),
                    report.old.started_at,
                    a.new.display(),
                    report.new.started_at
                ))
            )?;
            for (side, name) in [(&report.old, &a.old), (&report.new, &a.new)] {
                if !side.complete {
                    let what = if side == &report.old { "new" } else { "gone" };
                    writeln!(
                        out,
                        "{}",
                        wrap(&format!("{} is incomplete: what it could not examine reads as {what}.", name.display()))
                    )?;
                }
            }
            writeln!(out)?;
            if report.set.items.is_empty() {
                writeln!(out, "No item is new, gone or changed.")?;
            } else {
                writeln!(out, "{}", diff::table(&report.set, color, width))?;
            }
            if !report.set.new_orphans.is_empty() {
                writeln!(out, "\nNew orphaned signature artifacts (their image is not in their repository):")?;
                for o in &report.set.new_orphans {
                    let line = format!("{}  {}  signs {}", o.repository, o.artifact, o.subject);
                    writeln!(out, "{}", wrap(&line))?;
                }
            }
            writeln!(out, "\n{}", wrap(&report.set.summary_line()))?;
        }
    }
    out.flush()?;
    Ok(if report.set.into_any(&fail_on_new) { ExitStatus::PolicyFailure } else { ExitStatus::Success })
}

/// The width tables fit: `COLUMNS`, else the terminal's, else 120 (as for scans).
fn terminal_width() -> usize {
    if let Some(w) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<u16>().ok()) {
        return usize::from(w.max(40));
    }
    if std::io::stdout().is_terminal() {
        if let Some((w, _)) = terminal_size::terminal_size_of(std::io::stdout()) {
            return usize::from(w.0.max(40));
        }
    }
    120
}
