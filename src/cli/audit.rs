//! `--baseline`, `--fail-on-new` and `--waivers` on a scan: between the scan and the report
//! writer, every image (file) is marked with the waiver that accepts it and noted for the
//! comparison with the baseline; when the scan ends, the changes and what became of the waivers
//! go to the writer as the last event (`changes`, `waivers` in the report). The exit code then
//! follows the changes (`--fail-on-new`) or, as always, `--fail-on`, less the waived items.

use super::args::ReportArgs;
use super::run::{self, ExitStatus, Outcome, ReportSettings};
use anyhow::{bail, Context, Result};
use sigaudit::crawl::Event;
use sigaudit::report::diff::{self, ChangeSet, Changes, Side, Snapshot};
use sigaudit::report::merge;
use sigaudit::report::waivers::Waivers;
use sigaudit::report::{AuditSection, Status};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// What a scan's report gains at the end, and the exit policy on changes.
pub struct Audit {
    state: Option<Arc<Mutex<State>>>,
    fail_on_new: Vec<Status>,
}

struct State {
    waivers: Option<Waivers>,
    baseline: Option<(Side, Snapshot)>,
    current: Snapshot,
    /// The changes, once the scan ended.
    changes: Option<ChangeSet>,
}

impl State {
    /// Mark an item with its waiver and note it for the comparison.
    fn observe(&mut self, e: &mut Event) {
        match e {
            Event::Image(i) => {
                if let Some(w) = &mut self.waivers {
                    w.apply_image(i);
                }
                if self.baseline.is_some() {
                    self.current.add_image(i);
                }
            }
            Event::File(f) => {
                if let Some(w) = &mut self.waivers {
                    w.apply_file(f);
                }
                if self.baseline.is_some() {
                    self.current.add_file(f);
                }
            }
            Event::Orphan(o) if self.baseline.is_some() => self.current.add_orphan(o),
            _ => {}
        }
    }

    fn finish(&mut self) -> AuditSection {
        let changes = self.baseline.as_ref().map(|(side, old)| {
            let set = diff::diff(old, &self.current);
            self.changes = Some(set.clone());
            Changes { baseline: side.clone(), set }
        });
        AuditSection { changes, waivers: self.waivers.as_ref().map(Waivers::report) }
    }
}

/// Read a report for `diff` or `--baseline`: JSON or NDJSON, whole and unfiltered.
pub fn read_report(path: &std::path::Path, what: &str) -> Result<merge::Input> {
    let name = path.display().to_string();
    let text = if name == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).context("reading a report from standard input")?;
        s
    } else {
        std::fs::read_to_string(path).with_context(|| format!("{what} {name}"))?
    };
    let input = merge::read(&name, &text).map_err(|e| anyhow::anyhow!("{what} {name}: {e}"))?;
    let Some(scan) = &input.scan else {
        bail!("{what} {name}: the NDJSON report ends before its closing line (its scan was cut short): what it did not list would read as gone");
    };
    if scan.only.is_some() {
        bail!("{what} {name}: written with --only, it does not list every item: what it left out would read as new or gone; compare reports written without --only");
    }
    Ok(input)
}

impl Audit {
    /// From the flags: the waivers file read and judged at the scan's time, the baseline read.
    /// `kind` is the scan's (`registry` or `filesystem`): a baseline of the other kind is refused.
    pub fn from_args(r: &ReportArgs, report: &ReportSettings, kind: &str) -> Result<Audit> {
        let fail_on_new = run::parse_statuses("--fail-on-new", &r.fail_on_new)?;
        if !fail_on_new.is_empty() && r.baseline.is_none() {
            bail!("--fail-on-new needs --baseline (the report the changes are counted from)");
        }
        let waivers = match &r.waivers {
            None => None,
            Some(path) => {
                let name = path.display().to_string();
                let text = std::fs::read_to_string(path).with_context(|| format!("--waivers {name}"))?;
                let mut w = Waivers::parse(&name, &text, report.now).map_err(|e| anyhow::anyhow!("--waivers {e}"))?;
                if let Some(period) = report.warn_expiring {
                    w.warn_expiring(report.now, period);
                }
                Some(w)
            }
        };
        let baseline = match &r.baseline {
            None => None,
            Some(path) => {
                let input = read_report(path, "--baseline")?;
                let scan = input.scan.as_ref().expect("read_report checks it");
                if scan.kind != kind {
                    bail!(
                        "--baseline {}: a {} report, and this is a {kind} scan: compare scans of one kind",
                        path.display(),
                        scan.kind
                    );
                }
                let side = Side::of(Some(&path.display().to_string()), scan);
                let items = Snapshot::from_input(&input);
                items.check_unique(&format!("--baseline {}", path.display())).map_err(anyhow::Error::msg)?;
                Some((side, items))
            }
        };
        let state = (waivers.is_some() || baseline.is_some())
            .then(|| Arc::new(Mutex::new(State { waivers, baseline, current: Snapshot::default(), changes: None })));
        Ok(Audit { state, fail_on_new })
    }

    /// Run `work` (a scan sending its events to a channel) so that its events reach `out` marked
    /// and noted, then the audit section. The forwarding task outlives a `work` stopped by the
    /// deadline: the report still gets its section.
    pub async fn run<F, Fut>(&self, out: mpsc::Sender<Event>, work: F)
    where
        F: FnOnce(mpsc::Sender<Event>) -> Fut,
        Fut: std::future::Future<Output = ()>,
    {
        let Some(state) = self.state.clone() else { return work(out).await };
        let (tx, mut rx) = mpsc::channel::<Event>(1024);
        let forward = tokio::spawn(async move {
            while let Some(mut e) = rx.recv().await {
                state.lock().expect("audit state").observe(&mut e);
                if out.send(e).await.is_err() {
                    return;
                }
            }
            let section = state.lock().expect("audit state").finish();
            let _ = out.send(Event::Audit(Box::new(section))).await;
        });
        work(tx).await;
        let _ = forward.await;
    }

    /// The exit status: on changes with `--fail-on-new`, else by `--fail-on` less waived items.
    pub fn exit_status(&self, fail_on: &[Status], fail_on_expiring: bool, outcome: &Outcome) -> ExitStatus {
        if self.fail_on_new.is_empty() {
            return run::exit_status(fail_on, fail_on_expiring, outcome);
        }
        let state = self.state.as_ref().map(|s| s.lock().expect("audit state"));
        run::exit_status_on_news(&self.fail_on_new, state.as_ref().and_then(|s| s.changes.as_ref()), outcome)
    }
}
