//! The report writer: consumes scan events, keeps the summary, and renders the chosen format.
//! NDJSON is written as images (files) complete; the other formats need the whole list.

use super::{
    table, ErrorReport, FileReport, ImageReport, OrphanReport, Report, ScanInfo, Status, Summary, Tool, Trailer, SCHEMA,
};
use crate::crawl::Event;
use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
    Ndjson,
    SigscanJson,
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
    scan: ScanInfo,
    color: bool,
    width: u16,
}

impl<W: Write> ReportWriter<W> {
    /// `scan.kind` is `registry` or `filesystem`.
    pub fn new(format: OutputFormat, out: W, scan: ScanInfo, color: bool, width: u16) -> Self {
        let files_scan = scan.kind == "filesystem";
        ReportWriter {
            format,
            out,
            files_scan,
            summary: if files_scan { Summary::for_files() } else { Summary::for_registry() },
            images: Vec::new(),
            files: Vec::new(),
            orphans: Vec::new(),
            errors: Vec::new(),
            scan,
            color,
            width,
        }
    }

    pub fn handle(&mut self, event: Event) -> io::Result<()> {
        let streaming = self.format == OutputFormat::Ndjson;
        match event {
            Event::Repository => *self.summary.repositories.get_or_insert(0) += 1,
            Event::Skipped => *self.summary.skipped.get_or_insert(0) += 1,
            Event::Image(mut image) => {
                self.summary.count_image(&image);
                if streaming {
                    image.schema = Some(SCHEMA.to_string());
                    self.line(&*image)?;
                } else {
                    self.images.push(*image);
                }
            }
            Event::File(mut file) => {
                self.summary.count_file(&file);
                if streaming {
                    file.schema = Some(SCHEMA.to_string());
                    self.line(&*file)?;
                } else {
                    self.files.push(*file);
                }
            }
            Event::Orphan(o) => {
                *self.summary.orphans.get_or_insert(0) += 1;
                self.orphans.push(o);
            }
            Event::Error(e) => {
                self.summary.errors += 1;
                self.errors.push(e);
            }
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
        self.images.sort_by(|a, b| (&a.repository, &a.tags, &a.digest).cmp(&(&b.repository, &b.tags, &b.digest)));
        self.files.sort_by(|a, b| a.path.cmp(&b.path));
        self.orphans.sort_by(|a, b| (&a.repository, &a.artifact).cmp(&(&b.repository, &b.artifact)));
        let complete = self.scan.complete;
        let orphans = (!self.files_scan).then_some(self.orphans);
        match self.format {
            OutputFormat::Ndjson => {
                let trailer = Trailer {
                    schema: SCHEMA.into(),
                    tool: Tool::default(),
                    scan: self.scan,
                    summary: self.summary.clone(),
                    orphans,
                    errors: self.errors,
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
                    images,
                    files,
                    orphans,
                    errors: self.errors,
                };
                serde_json::to_writer_pretty(&mut self.out, &report)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::SigscanJson => {
                let name = self.scan.target.as_str().unwrap_or_default().to_string();
                serde_json::to_writer(&mut self.out, &sigscan_json(&name, &self.images))?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Table | OutputFormat::Wide => {
                let wide = self.format == OutputFormat::Wide;
                if !self.images.is_empty() {
                    writeln!(self.out, "{}", table::images(&self.images, wide, self.color, self.width))?;
                }
                if !self.files.is_empty() {
                    writeln!(self.out, "{}", table::files(&self.files, wide, self.color, self.width))?;
                }
                if let Some(orphans) = orphans.filter(|o| !o.is_empty()) {
                    writeln!(self.out, "\nOrphaned signature artifacts (their image is gone):")?;
                    for o in &orphans {
                        writeln!(
                            self.out,
                            "  {}  {}  signs missing {}",
                            o.repository,
                            short(&o.artifact),
                            short(&o.subject)
                        )?;
                    }
                }
                if !self.errors.is_empty() {
                    writeln!(self.out, "\nErrors (the scan is incomplete):")?;
                    for e in &self.errors {
                        let place = match (&e.repository, &e.reference) {
                            (Some(r), Some(t)) => format!("{r} {t}: "),
                            (Some(r), None) | (None, Some(r)) => format!("{r}: "),
                            _ => String::new(),
                        };
                        writeln!(self.out, "  [{}] {place}{}", e.code, e.message)?;
                    }
                }
                writeln!(self.out, "{}", summary_line(&self.summary, complete))?;
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
    if !complete {
        line.push_str(&format!(" INCOMPLETE: {} errors.", s.errors));
    }
    line
}

/// The JSON shape Venafi SigScan prints, so existing jq pipelines keep working:
/// `{"registry":{"signatures":[{"path","digest","thumbprints","subjectname"}]},"name"}`, one entry per
/// tag and signature. `thumbprints` is SigScan's string form (quoted hex, comma-separated);
/// `subjectname` is the leaf subject, or `Unknown KeyPair` for a key-only signature.
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
                let subject = sig.signer.as_ref().and_then(|s| s.subject.clone());
                let subjectname = match subject {
                    Some(s) => s.replace(", ", ","),
                    None if sig.chain.is_empty() => "Unknown KeyPair".to_string(),
                    None => String::new(),
                };
                entries.push(serde_json::json!({
                    "path": path,
                    "digest": image.digest,
                    "thumbprints": thumbprints,
                    "subjectname": subjectname,
                }));
            }
        }
    }
    serde_json::json!({"registry": {"signatures": entries}, "name": name})
}
