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
}

/// How to present a report, beyond its format.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// ANSI colours in tables.
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
}

pub struct ReportWriter<W: Write> {
    format: OutputFormat,
    out: W,
    files_scan: bool,
    summary: Summary,
    images: Vec<ImageReport>,
    files: Vec<FileReport>,
    orphans: Vec<OrphanReport>,
    errors: Vec<ErrorReport>,
    notes: Vec<NoteReport>,
    /// Registry scans: the summary of each registry, counted as `summary` is.
    registries: BTreeMap<String, Summary>,
    scan: ScanInfo,
    opts: RenderOptions,
    /// `--baseline` and `--waivers`: what the scan adds at the end (`changes`, `waivers`).
    audit: AuditSection,
}

impl<W: Write> ReportWriter<W> {
    /// `scan.kind` is `registry` or `filesystem`.
    pub fn new(format: OutputFormat, out: W, mut scan: ScanInfo, opts: RenderOptions) -> Self {
        let files_scan = scan.kind == "filesystem";
        scan.only = opts.only.as_ref().map(|(s, _)| s.clone());
        ReportWriter {
            format,
            out,
            files_scan,
            summary: if files_scan { Summary::for_files() } else { Summary::for_registry() },
            images: Vec::new(),
            files: Vec::new(),
            orphans: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
            registries: BTreeMap::new(),
            scan,
            opts,
            audit: AuditSection::default(),
        }
    }

    fn shown(&self, status: Status) -> bool {
        self.opts.only.as_ref().is_none_or(|(only, _)| only.contains(&status))
    }

    /// The summary of `registry`, when the event names one.
    fn of_registry(&mut self, registry: Option<&String>) -> Option<&mut Summary> {
        let r = registry?;
        Some(self.registries.entry(r.clone()).or_insert_with(Summary::for_registry))
    }

    pub fn handle(&mut self, event: Event) -> io::Result<()> {
        let streaming = self.format == OutputFormat::Ndjson;
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
                if !self.shown(image.status) {
                } else if streaming {
                    image.schema = Some(SCHEMA.to_string());
                    self.line(&*image)?;
                } else {
                    self.images.push(*image);
                }
            }
            Event::File(mut file) => {
                self.summary.count_file(&file);
                if !self.shown(file.status) {
                } else if streaming {
                    file.schema = Some(SCHEMA.to_string());
                    self.line(&*file)?;
                } else {
                    self.files.push(*file);
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
        }
        Ok(())
    }

    fn line<T: serde::Serialize>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, v)?;
        self.out.write_all(b"\n")
    }

    /// Write what is left; returns the summary and whether the scan was complete.
    pub fn finish(mut self, finished_at: String) -> io::Result<(Summary, bool)> {
        self.summary.finish();
        self.scan.finished_at = Some(finished_at);
        self.scan.complete = self.errors.is_empty();
        self.images.sort_by(|a, b| {
            (&a.registry, &a.repository, &a.tags, &a.digest).cmp(&(&b.registry, &b.repository, &b.tags, &b.digest))
        });
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.orphans.sort_by(|a, b| {
            (&a.registry, &a.repository, &a.artifact, &a.subject).cmp(&(
                &b.registry,
                &b.repository,
                &b.artifact,
                &b.subject,
            ))
        });
        self.notes.sort_by(|a, b| (&a.registry, &a.path, &a.code).cmp(&(&b.registry, &b.path, &b.code)));
        // Errors arrive in completion order; sorted, two runs of the same scan diff cleanly.
        self.errors.sort_by(|a, b| {
            (&a.registry, &a.repository, &a.reference, &a.code, &a.message).cmp(&(
                &b.registry,
                &b.repository,
                &b.reference,
                &b.code,
                &b.message,
            ))
        });
        // An error of no registry (the deadline) leaves every registry incomplete.
        let whole_scan_errors = self.errors.iter().any(|e| e.registry.is_none());
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
        let complete = self.scan.complete;
        let orphans = (!self.files_scan).then_some(self.orphans);
        // Filesystem reports always carry `notes`; registry reports when there are any.
        let notes = (self.files_scan || !self.notes.is_empty()).then_some(self.notes);
        match self.format {
            OutputFormat::Ndjson => {
                let trailer = Trailer {
                    schema: SCHEMA.into(),
                    tool: Tool::default(),
                    scan: self.scan,
                    summary: self.summary.clone(),
                    registries,
                    orphans,
                    errors: self.errors,
                    notes,
                    changes: self.audit.changes,
                    waivers: self.audit.waivers,
                };
                serde_json::to_writer(&mut self.out, &trailer)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Json => {
                let (images, files) =
                    if self.files_scan { (None, Some(self.files)) } else { (Some(self.images), None) };
                let report = Report {
                    schema: SCHEMA.into(),
                    tool: Tool::default(),
                    scan: self.scan,
                    summary: self.summary.clone(),
                    registries,
                    images,
                    files,
                    orphans,
                    errors: self.errors,
                    notes,
                    changes: self.audit.changes,
                    waivers: self.audit.waivers,
                };
                serde_json::to_writer_pretty(&mut self.out, &report)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::SigscanJson => {
                let v = if self.files_scan {
                    sigscan_fs_json(&self.opts.sigscan_name, &self.files)
                } else {
                    sigscan_json(&self.opts.sigscan_name, &self.images)
                };
                serde_json::to_writer(&mut self.out, &v)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Table | OutputFormat::Wide => {
                let wide = self.format == OutputFormat::Wide;
                let (color, width) = (self.opts.color, self.opts.width.max(40) as usize);
                // The hint matters when something is valid but not trusted, or not checked for want of a key.
                let unproven = self.summary.untrusted + self.summary.unverified;
                if let Some(hint) = self.opts.hint.as_ref().filter(|_| unproven > 0) {
                    writeln!(self.out, "{}\n", table::wrap(hint, width, ""))?;
                }
                let several = registries.as_ref().is_some_and(|r| r.len() > 1);
                if several {
                    // Several registries: each repository is named with its registry.
                    for i in &mut self.images {
                        if let Some(r) = &i.registry {
                            i.repository = format!("{r}/{}", i.repository);
                        }
                    }
                }
                if !self.images.is_empty() {
                    writeln!(self.out, "{}", table::images(&self.images, wide, color, width))?;
                }
                if !self.files.is_empty() {
                    writeln!(self.out, "{}", table::files(&self.files, wide, color, width))?;
                }
                if let Some(orphans) = orphans.filter(|o| !o.is_empty()) {
                    writeln!(self.out, "\nOrphaned signature artifacts (their image is not in their repository):")?;
                    for o in &orphans {
                        let what = match &o.subject_repository {
                            Some(r) => format!("signs {} of {r}", short(&o.subject)),
                            None => format!("signs missing {}", short(&o.subject)),
                        };
                        let repo = match (&o.registry, several) {
                            (Some(r), true) => format!("{r}/{}", o.repository),
                            _ => o.repository.clone(),
                        };
                        let line = format!("{repo}  {}  {what}", short(&o.artifact));
                        writeln!(self.out, "{}", table::wrap(&line, width, "  "))?;
                    }
                }
                if let Some(notes) = notes.filter(|n| !n.is_empty()) {
                    writeln!(self.out, "\n{}", if self.files_scan { "Not walked again:" } else { "Notes:" })?;
                    for n in &notes {
                        let line = format!("[{}] {}: {}", n.code, n.path, n.message);
                        writeln!(self.out, "{}", table::wrap(&line, width, "  "))?;
                    }
                }
                if !self.errors.is_empty() {
                    writeln!(self.out, "\nErrors (the scan is incomplete):")?;
                    for e in &self.errors {
                        let registry =
                            e.registry.as_ref().filter(|_| several).map(|r| format!("{r} ")).unwrap_or_default();
                        let place = match (&e.repository, &e.reference) {
                            (Some(r), Some(t)) => format!("{r} {t}: "),
                            (Some(r), None) | (None, Some(r)) => format!("{r}: "),
                            _ => String::new(),
                        };
                        let line = format!("[{}] {registry}{place}{}", e.code, e.message);
                        writeln!(self.out, "{}", table::wrap(&line, width, "  "))?;
                    }
                }
                if let Some(section) = super::diff::table_section(&self.audit, width) {
                    writeln!(self.out, "\n{section}")?;
                }
                if let Some((_, label)) = &self.opts.only {
                    let (shown, what) =
                        if self.files_scan { (self.files.len(), "files") } else { (self.images.len(), "images") };
                    let line = format!("Showing {shown} of {} {what} (--only {label}).", self.summary.items());
                    writeln!(self.out, "{}", table::wrap(&line, width, ""))?;
                }
                if several {
                    for r in registries.iter().flatten() {
                        let line = format!("{}: {}", r.registry, summary_line(&r.summary, r.complete));
                        writeln!(self.out, "{}", table::wrap(&line, width, "  "))?;
                    }
                }
                writeln!(self.out, "{}", table::wrap(&summary_line(&self.summary, complete), width, ""))?;
            }
        }
        self.out.flush()?;
        Ok((self.summary, complete))
    }
}

/// `sha256:0123456789ab…` / `sha256-0123456789ab….sig`
fn short(s: &str) -> String {
    let (head, hex) = s.split_at(s.find([':', '-']).map(|i| i + 1).unwrap_or(0));
    let tail = hex.find('.').map(|i| &hex[i..]).unwrap_or("");
    format!("{head}{}…{tail}", &hex[..hex.len().min(12)])
}

/// The closing lines of the table: counts and coverage, then statuses (each fits 120 columns).
pub fn summary_line(s: &Summary, complete: bool) -> String {
    let statuses = [
        Status::Verified,
        Status::Untrusted,
        Status::Unverified,
        Status::Invalid,
        Status::Unsupported,
        Status::Error,
        Status::Unsigned,
    ]
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
