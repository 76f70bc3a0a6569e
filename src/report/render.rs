//! The report writer: consumes scan events, keeps the summary, and renders the chosen format.
//! NDJSON is written as images (files) complete; the other formats need the whole list.

use super::{
    table, AuditSection, ErrorReport, FileReport, ImageReport, NoteReport, OrphanReport, RegistrySummary, Report,
    ScanInfo, Status, Summary, Tool, Trailer, SCHEMA,
};
use crate::crawl::Event;
use std::collections::BTreeMap;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Ndjson,
    SigscanJson,
    /// CSV, SARIF, JUnit, Prometheus, HTML (see [`super::formats`]).
    Extra(super::formats::Extra),
}

/// How to present a report, beyond its format.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours in tables (set per output by the writer).
    pub color: bool,
    /// Terminal width the tables fit.
    pub width: u16,
    /// `--only`: list only images (files) of these statuses, in every format; the summary still
    /// counts all of them. `label` is how the table names the filter (`failing`, `signed`…).
    pub only: Option<(Vec<Status>, String)>,
    /// Shown first in a table (a scan run without trust material says so, and how to give some).
    pub hint: Option<String>,
    /// SigScan JSON's `name` (registry scans) or `directories` (filesystem scans).
    pub sigscan_name: String,
    /// Set per output by the writer: see [`Output::previous`].
    pub previous: Option<String>,
}

/// Where one output goes: standard output, or a file written atomically (see [`AtomicFile`]).
pub trait Sink: Write + Send {
    /// Everything was written: make it visible (a file is synced and renamed into place).
    fn commit(self: Box<Self>) -> io::Result<()>;
}

impl<W: Write + Send> Sink for io::BufWriter<W> {
    fn commit(mut self: Box<Self>) -> io::Result<()> {
        self.flush()
    }
}

/// One output of a report: its format and where it goes.
pub struct Output {
    pub format: OutputFormat,
    pub sink: Box<dyn Sink>,
    /// ANSI colours in a table (a terminal on standard output only).
    pub color: bool,
    /// The content of the file this output replaces, when a format carries something over
    /// (Prometheus: the last complete scan's time).
    pub previous: Option<String>,
}

pub struct ReportWriter {
    outputs: Vec<Output>,
    files_scan: bool,
    summary: Summary,
    images: Vec<ImageReport>,
    files: Vec<FileReport>,
    orphans: Vec<OrphanReport>,
    errors: Vec<ErrorReport>,
    notes: Vec<NoteReport>,
    /// `sigaudit cluster`: the containers of the pods, once the images are verified.
    workloads: Option<Vec<super::workload::WorkloadReport>>,
    /// Registry scans: the summary of each registry, counted as `summary` is.
    registries: BTreeMap<String, Summary>,
    scan: ScanInfo,
    opts: RenderOptions,
    /// `--baseline` and `--waivers`: what the scan adds at the end (`changes`, `waivers`).
    audit: AuditSection,
}

impl ReportWriter {
    /// `scan.kind` is `registry` or `filesystem`. Every output gets the same report; NDJSON ones
    /// are written as items complete, the others when the scan is over.
    pub fn new(outputs: Vec<Output>, mut scan: ScanInfo, opts: RenderOptions) -> Self {
        let files_scan = scan.kind == "filesystem";
        scan.only = opts.only.as_ref().map(|(s, _)| s.clone());
        ReportWriter {
            outputs,
            files_scan,
            summary: if files_scan { Summary::for_files() } else { Summary::for_registry() },
            images: Vec::new(),
            files: Vec::new(),
            orphans: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
            workloads: None,
            registries: BTreeMap::new(),
            scan,
            opts,
            audit: AuditSection::default(),
        }
    }

    /// The summary so far (for progress displays).
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    fn shown(&self, status: Status) -> bool {
        self.opts.only.as_ref().is_none_or(|(only, _)| only.contains(&status))
    }

    /// Whether some output needs the whole list at the end (every format but NDJSON).
    fn keeps_items(&self) -> bool {
        self.outputs.iter().any(|o| o.format != OutputFormat::Ndjson)
    }

    /// Write `v` as one line to every NDJSON output.
    fn stream<T: serde::Serialize>(&mut self, v: &T) -> io::Result<()> {
        for o in self.outputs.iter_mut().filter(|o| o.format == OutputFormat::Ndjson) {
            serde_json::to_writer(&mut o.sink, v)?;
            o.sink.write_all(b"\n")?;
        }
        Ok(())
    }

    /// The summary of `registry`, when the event names one.
    fn of_registry(&mut self, registry: Option<&String>) -> Option<&mut Summary> {
        let r = registry?;
        Some(self.registries.entry(r.clone()).or_insert_with(Summary::for_registry))
    }

    pub fn handle(&mut self, event: Event) -> io::Result<()> {
        match event {
            Event::Repositories(r, n) => {
                self.summary.count_repositories(n);
                if let Some(s) = self.of_registry(r.as_ref()) {
                    s.count_repositories(n);
                }
            }
            Event::Skipped => *self.summary.skipped.get_or_insert(0) += 1,
            Event::Image(mut image) => {
                self.summary.count_image(&image);
                if let Some(s) = self.of_registry(image.registry.as_ref()) {
                    s.count_image(&image);
                }
                if self.shown(image.status) {
                    image.schema = Some(SCHEMA.to_string());
                    self.stream(&*image)?;
                    image.schema = None;
                    if self.keeps_items() {
                        self.images.push(*image);
                    }
                }
            }
            Event::File(mut file) => {
                self.summary.count_file(&file);
                if self.shown(file.status) {
                    file.schema = Some(SCHEMA.to_string());
                    self.stream(&*file)?;
                    file.schema = None;
                    if self.keeps_items() {
                        self.files.push(*file);
                    }
                }
            }
            Event::Orphan(o) => {
                *self.summary.orphans.get_or_insert(0) += 1;
                if let Some(s) = self.of_registry(o.registry.as_ref()) {
                    *s.orphans.get_or_insert(0) += 1;
                }
                self.orphans.push(o);
            }
            Event::Error(e) => {
                self.summary.errors += 1;
                if let Some(s) = self.of_registry(e.registry.as_ref()) {
                    s.errors += 1;
                }
                self.errors.push(e);
            }
            Event::Note(n) => {
                *self.summary.notes.get_or_insert(0) += 1;
                if let Some(s) = self.of_registry(n.registry.as_ref()) {
                    *s.notes.get_or_insert(0) += 1;
                }
                self.notes.push(n);
            }
            Event::LostTags(r, n) => {
                self.summary.count_lost_tags(n);
                if let Some(s) = self.of_registry(r.as_ref()) {
                    s.count_lost_tags(n);
                }
            }
            Event::Audit(a) => self.audit = *a,
            Event::Workloads(mut w) => {
                self.summary.workloads = Some(super::workload::WorkloadSummary::of(&w));
                // `--only` lists the containers whose running image has a listed status.
                w.retain(|x| x.status.map_or(self.opts.only.is_none(), |s| self.shown(s)));
                w.sort_by(|a, b| {
                    (&a.namespace, &a.pod, a.container_type, &a.container).cmp(&(
                        &b.namespace,
                        &b.pod,
                        b.container_type,
                        &b.container,
                    ))
                });
                self.workloads = Some(w);
            }
        }
        Ok(())
    }

    /// The finished report: everything sorted, the summaries finished.
    fn report(&mut self, finished_at: String) -> Report {
        self.summary.finish();
        self.scan.finished_at = Some(finished_at);
        self.scan.complete = self.errors.is_empty();
        let mut images = std::mem::take(&mut self.images);
        images.sort_by(|a, b| {
            (&a.registry, &a.repository, &a.tags, &a.digest).cmp(&(&b.registry, &b.repository, &b.tags, &b.digest))
        });
        let mut files = std::mem::take(&mut self.files);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let mut orphans = std::mem::take(&mut self.orphans);
        orphans.sort_by(|a, b| {
            (&a.registry, &a.repository, &a.artifact, &a.subject).cmp(&(
                &b.registry,
                &b.repository,
                &b.artifact,
                &b.subject,
            ))
        });
        let mut notes = std::mem::take(&mut self.notes);
        notes.sort_by(|a, b| (&a.registry, &a.path, &a.code).cmp(&(&b.registry, &b.path, &b.code)));
        // Errors arrive in completion order; sorted, two runs of the same scan diff cleanly.
        let mut errors = std::mem::take(&mut self.errors);
        errors.sort_by(|a, b| {
            (&a.registry, &a.repository, &a.reference, &a.code, &a.message).cmp(&(
                &b.registry,
                &b.repository,
                &b.reference,
                &b.code,
                &b.message,
            ))
        });
        // An error of no registry (the deadline) leaves every registry incomplete.
        let whole_scan_errors = errors.iter().any(|e| e.registry.is_none());
        let registries: Option<Vec<RegistrySummary>> = (!self.files_scan).then(|| {
            std::mem::take(&mut self.registries)
                .into_iter()
                .map(|(registry, mut summary)| {
                    summary.finish();
                    let complete = summary.errors == 0 && !whole_scan_errors;
                    RegistrySummary { registry, complete, summary }
                })
                .collect()
        });
        let (images, files) = if self.files_scan { (None, Some(files)) } else { (Some(images), None) };
        Report {
            schema: SCHEMA.into(),
            tool: Tool::default(),
            scan: self.scan.clone(),
            summary: self.summary.clone(),
            registries,
            images,
            files,
            workloads: self.workloads.take(),
            orphans: (!self.files_scan).then_some(orphans),
            errors,
            // Filesystem reports always carry `notes`; registry reports when there are any.
            notes: (self.files_scan || !notes.is_empty()).then_some(notes),
            changes: self.audit.changes.take(),
            waivers: self.audit.waivers.take(),
        }
    }

    /// Write what is left to every output and commit each; returns the summary and whether the
    /// scan was complete. Every output is attempted; the first failure is returned.
    pub fn finish(mut self, finished_at: String) -> io::Result<(Summary, bool)> {
        let report = self.report(finished_at);
        let mut first_error = None;
        for mut o in std::mem::take(&mut self.outputs) {
            let opts = RenderOptions { color: o.color, previous: o.previous.take(), ..self.opts.clone() };
            let written = render(&report, o.format, &mut o.sink, &opts).and_then(|()| o.sink.commit());
            if let Err(e) = written {
                first_error.get_or_insert(e);
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok((report.summary, report.scan.complete)),
        }
    }
}

/// Render a finished report in one format (NDJSON: its closing line; the items were streamed).
pub fn render(report: &Report, format: OutputFormat, out: &mut dyn Write, opts: &RenderOptions) -> io::Result<()> {
    let files_scan = report.files.is_some();
    match format {
        OutputFormat::Ndjson => {
            let trailer = Trailer {
                schema: SCHEMA.into(),
                tool: report.tool.clone(),
                scan: report.scan.clone(),
                summary: report.summary.clone(),
                registries: report.registries.clone(),
                workloads: report.workloads.clone(),
                orphans: report.orphans.clone(),
                errors: report.errors.clone(),
                notes: report.notes.clone(),
                changes: report.changes.clone(),
                waivers: report.waivers.clone(),
            };
            serde_json::to_writer(&mut *out, &trailer)?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, report)?;
            out.write_all(b"\n")?;
        }
        OutputFormat::SigscanJson => {
            let v = match (&report.files, &report.images) {
                (Some(files), _) => sigscan_fs_json(&opts.sigscan_name, files),
                (None, images) => sigscan_json(&opts.sigscan_name, images.as_deref().unwrap_or_default()),
            };
            serde_json::to_writer(&mut *out, &v)?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Table | OutputFormat::Wide => {
            render_table(report, format == OutputFormat::Wide, files_scan, out, opts)?;
        }
        OutputFormat::Extra(extra) => super::formats::render_replacing(extra, report, opts.previous.as_deref(), out)?,
    }
    out.flush()
}

/// The report with every text a terminal would act on made inert: control characters (C0, DEL,
/// C1: escape sequences, carriage returns, NULs) and bidirectional overrides in names, paths and
/// reasons (a certificate, a registry or a file system chose them) become U+FFFD, so a table
/// never moves the cursor, recolours or rewrites what it printed before.
fn printable(report: &Report) -> std::borrow::Cow<'_, Report> {
    fn hostile(c: char) -> bool {
        c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    fn clean(v: &mut serde_json::Value) -> bool {
        match v {
            serde_json::Value::String(s) if s.chars().any(hostile) => {
                *s = s.chars().map(|c| if hostile(c) { '\u{fffd}' } else { c }).collect();
                true
            }
            serde_json::Value::Array(a) => a.iter_mut().fold(false, |changed, x| clean(x) | changed),
            serde_json::Value::Object(o) => o.values_mut().fold(false, |changed, x| clean(x) | changed),
            _ => false,
        }
    }
    let Ok(mut value) = serde_json::to_value(report) else { return std::borrow::Cow::Borrowed(report) };
    if !clean(&mut value) {
        return std::borrow::Cow::Borrowed(report);
    }
    match serde_json::from_value(value) {
        Ok(r) => std::borrow::Cow::Owned(r),
        Err(_) => std::borrow::Cow::Borrowed(report),
    }
}

fn render_table(
    report: &Report,
    wide: bool,
    files_scan: bool,
    out: &mut dyn Write,
    opts: &RenderOptions,
) -> io::Result<()> {
    let report = &*printable(report);
    let summary = &report.summary;
    let complete = report.scan.complete;
    let (color, width) = (opts.color, opts.width.max(40) as usize);
    // The hint matters when something is valid but not trusted, or not checked for want of a key.
    let unproven = summary.untrusted + summary.unverified;
    if let Some(hint) = opts.hint.as_ref().filter(|_| unproven > 0) {
        writeln!(out, "{}\n", table::wrap(hint, width, ""))?;
    }
    let several = report.registries.as_ref().is_some_and(|r| r.len() > 1);
    if let Some(w) = report.workloads.as_ref().filter(|w| !w.is_empty()) {
        writeln!(out, "{}", super::workload_table::workloads(w, wide, color, width))?;
        writeln!(out, "Images running (each digest verified once):")?;
    }
    let images = report.images.as_deref().unwrap_or_default();
    if !images.is_empty() {
        if several {
            // Several registries: each repository is named with its registry.
            let mut named = images.to_vec();
            for i in &mut named {
                if let Some(r) = &i.registry {
                    i.repository = format!("{r}/{}", i.repository);
                }
            }
            writeln!(out, "{}", table::images(&named, wide, color, width))?;
        } else {
            writeln!(out, "{}", table::images(images, wide, color, width))?;
        }
    }
    let files = report.files.as_deref().unwrap_or_default();
    if !files.is_empty() {
        writeln!(out, "{}", table::files(files, wide, color, width))?;
    }
    if let Some(orphans) = report.orphans.as_ref().filter(|o| !o.is_empty()) {
        writeln!(out, "\nOrphaned signature artifacts (their image is not in their repository):")?;
        for o in orphans {
            let what = match &o.subject_repository {
                Some(r) => format!("signs {} of {r}", short(&o.subject)),
                None => format!("signs missing {}", short(&o.subject)),
            };
            let repo = match (&o.registry, several) {
                (Some(r), true) => format!("{r}/{}", o.repository),
                _ => o.repository.clone(),
            };
            let line = format!("{repo}  {}  {what}", short(&o.artifact));
            writeln!(out, "{}", table::wrap(&line, width, "  "))?;
        }
    }
    if let Some(notes) = report.notes.as_ref().filter(|n| !n.is_empty()) {
        writeln!(out, "\n{}", if files_scan { "Not walked again:" } else { "Notes:" })?;
        for n in notes {
            let line = format!("[{}] {}: {}", n.code, n.path, n.message);
            writeln!(out, "{}", table::wrap(&line, width, "  "))?;
        }
    }
    if !report.errors.is_empty() {
        writeln!(out, "\nErrors (the scan is incomplete):")?;
        for e in &report.errors {
            let registry = e.registry.as_ref().filter(|_| several).map(|r| format!("{r} ")).unwrap_or_default();
            let place = match (&e.repository, &e.reference) {
                (Some(r), Some(t)) => format!("{r} {t}: "),
                (Some(r), None) | (None, Some(r)) => format!("{r}: "),
                _ => String::new(),
            };
            let line = format!("[{}] {registry}{place}{}", e.code, e.message);
            writeln!(out, "{}", table::wrap(&line, width, "  "))?;
        }
    }
    let audit = AuditSection { changes: report.changes.clone(), waivers: report.waivers.clone() };
    if let Some(section) = super::diff::table_section(&audit, width) {
        writeln!(out, "\n{section}")?;
    }
    if let Some((_, label)) = &opts.only {
        let (shown, what) = if files_scan { (files.len(), "files") } else { (images.len(), "images") };
        let line = format!("Showing {shown} of {} {what} (--only {label}).", summary.items());
        writeln!(out, "{}", table::wrap(&line, width, ""))?;
    }
    if let Some(w) = &summary.workloads {
        let statuses: Vec<String> = w.by_status.iter().map(|(s, n)| format!("{n} {}", s.as_str())).collect();
        let line = format!(
            "Workloads: {} containers in {} pods; by the status of what they run: {}; digest not known (not started): {}; tag moved since: {}.",
            w.containers,
            w.pods,
            if statuses.is_empty() { "none".to_string() } else { statuses.join(", ") },
            w.digest_unknown,
            w.drifted
        );
        writeln!(out, "{}", table::wrap(&line, width, ""))?;
    }
    if several {
        for r in report.registries.iter().flatten() {
            let line = format!("{}: {}", r.registry, summary_line(&r.summary, r.complete));
            writeln!(out, "{}", table::wrap(&line, width, "  "))?;
        }
    }
    writeln!(out, "{}", table::wrap(&summary_line(summary, complete), width, ""))
}

/// `sha256:0123456789ab…` / `sha256-0123456789ab….sig`
fn short(s: &str) -> String {
    let (head, hex) = s.split_at(s.find([':', '-']).map(|i| i + 1).unwrap_or(0));
    let tail = hex.find('.').map(|i| &hex[i..]).unwrap_or("");
    format!("{head}{}…{tail}", &hex[..hex.len().min(12)])
}

/// The closing lines of the table: counts and coverage, then statuses (each fits 120 columns).
pub fn summary_line(s: &Summary, complete: bool) -> String {
    let statuses = Status::ALL
        .iter()
        .filter(|st| s.count(**st) > 0 || matches!(st, Status::Verified | Status::Invalid | Status::Unsigned))
        .map(|st| format!("{} {}", s.count(*st), st.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let counts = match s.files {
        Some(files) => format!("{files} files ({} skipped: no supported type)", s.skipped.unwrap_or(0)),
        None => format!(
            "{} repositories, {} tags, {} images",
            s.repositories.unwrap_or(0),
            s.tags.unwrap_or(0),
            s.images.unwrap_or(0)
        ),
    };
    let mut line = format!(
        "{counts}, {} signatures; signed {:.0}%, verified {:.0}%.\nStatus: {statuses}.",
        s.signatures,
        s.coverage.signed * 100.0,
        s.coverage.verified * 100.0
    );
    if let Some(o) = s.orphans.filter(|o| *o > 0) {
        line.push_str(&format!(" {o} orphaned."));
    }
    if !s.waived.is_empty() {
        let waived: Vec<String> = s.waived.iter().map(|(st, n)| format!("{n} {}", st.as_str())).collect();
        line.push_str(&format!(" Waived: {}.", waived.join(", ")));
    }
    if !complete {
        line.push_str(&format!(" INCOMPLETE: {} errors.", s.errors));
    }
    line
}

/// SigScan's `subjectname`: the subject as Go's `pkix.Name.String()` writes it (`,` between RDNs).
fn sigscan_subject(signer: Option<&super::Signer>, key_only: bool) -> String {
    match signer.and_then(|s| s.subject.as_deref()) {
        Some(s) => crate::dn::compact(s),
        None if key_only => "Unknown KeyPair".to_string(),
        None => String::new(),
    }
}

/// The JSON shape Venafi SigScan prints for a registry, so existing jq pipelines keep working:
/// `{"registry":{"signatures":[{"path","digest","thumbprints","subjectname","status"}]},"name"}`,
/// one entry per tag and signature. `thumbprints` is SigScan's string form (quoted hex,
/// comma-separated); `subjectname` is the leaf subject, or `Unknown KeyPair` for a key-only
/// signature; `status` (ours) is the signature's verdict.
pub fn sigscan_json(name: &str, images: &[ImageReport]) -> serde_json::Value {
    let mut entries = Vec::new();
    for image in images {
        let paths: Vec<String> = if image.tags.is_empty() {
            vec![format!("{}@{}", image.repository, image.digest)]
        } else {
            image.tags.iter().map(|t| format!("{}:{t}", image.repository)).collect()
        };
        for path in &paths {
            for sig in &image.signatures {
                let thumbprints = sig.chain.iter().map(|c| format!("\"{}\"", c.sha256)).collect::<Vec<_>>().join(",");
                entries.push(serde_json::json!({
                    "path": path,
                    "digest": image.digest,
                    "thumbprints": thumbprints,
                    "subjectname": sigscan_subject(sig.signer.as_ref(), sig.chain.is_empty()),
                    "status": sig.verification.status,
                }));
            }
        }
    }
    serde_json::json!({"registry": {"signatures": entries}, "name": name})
}

/// The JSON shape Venafi SigScan prints for `fs`:
/// `{"filesystem":{"signatures":[{"path","digest","subjectname","countersigner","status"}]},"directories"}`,
/// one entry per signature of every signed file. `digest` is the file's SHA-256 in hex,
/// `countersigner` the timestamp signer's subject (empty without one), `path` the path as walked,
/// `status` (ours) the signature's verdict.
pub fn sigscan_fs_json(directories: &str, files: &[FileReport]) -> serde_json::Value {
    let mut entries = Vec::new();
    for file in files {
        for sig in &file.signatures {
            entries.push(serde_json::json!({
                "path": file.path,
                "digest": file.sha256,
                "subjectname": sigscan_subject(sig.signer.as_ref(), false),
                "countersigner": sig.countersigner.as_ref().map(|c| crate::dn::compact(&c.subject)).unwrap_or_default(),
                "status": sig.verification.status,
            }));
        }
    }
    serde_json::json!({"filesystem": {"signatures": entries}, "directories": directories})
}
