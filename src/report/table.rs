//! The human-readable table (comfy-table), readable at 120 columns.

use super::{ImageReport, SignatureReport, Status, Verdict};
use comfy_table::{presets::UTF8_HORIZONTAL_ONLY, Cell, Color, ContentArrangement, Table};

fn status_color(s: Status) -> Color {
    match s {
        Status::Verified => Color::Green,
        Status::Untrusted | Status::Unverified => Color::Yellow,
        Status::Invalid | Status::Error => Color::Red,
        Status::Unsupported => Color::Magenta,
        Status::Unsigned => Color::DarkGrey,
    }
}

fn verdict_status(v: Verdict) -> Status {
    Status::of(&[v])
}

/// `cosign sig`, `cosign att`, `notation jws`, `bundle dsse`... with the verdict.
fn sig_label(s: &SignatureReport) -> String {
    use super::{Envelope, SignatureFormat, SignatureKind};
    let format = match s.format {
        SignatureFormat::Cosign => "cosign",
        SignatureFormat::Notation => "notation",
        SignatureFormat::SigstoreBundle => "bundle",
    };
    let what = match (&s.kind, &s.envelope) {
        (SignatureKind::Attestation, _) => "att",
        (_, Envelope::Simplesigning) => "sig",
        (_, Envelope::Dsse) => "dsse",
        (_, Envelope::Jws) => "jws",
        (_, Envelope::Cose) => "cose",
        (_, Envelope::Bundle) => "bundle",
    };
    format!("{format} {what}: {}", s.verification.status.as_str())
}

/// The signer for a narrow table: the subject's CN when it has one, else the display name.
fn short_signer(s: &super::Signer) -> String {
    if let Some(cn) = s.subject.as_deref().and_then(|subject| crate::dn::attribute(subject, "CN")) {
        return cn;
    }
    s.display_name()
}

/// A table with our preset; `wide` adds a REASONS column and never wraps (for wide terminals and
/// `less -S`), otherwise cells wrap to fit `width`.
fn new_table(header: &[&str], wide: bool, width: u16) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_HORIZONTAL_ONLY);
    if wide {
        t.set_content_arrangement(ContentArrangement::Disabled);
    } else {
        t.set_content_arrangement(ContentArrangement::Dynamic).set_width(width);
    }
    let mut header = header.to_vec();
    if wide {
        header.push("REASONS");
    }
    t.set_header(header);
    t
}

fn tags_cell(tags: &[String]) -> String {
    match tags.len() {
        0 => "(untagged)".into(),
        1..=3 => tags.join(", "),
        n => format!("{} +{}", tags[..2].join(", "), n - 2),
    }
}

pub fn images(images: &[ImageReport], wide: bool, color: bool, width: u16) -> String {
    let mut t = new_table(&["REPOSITORY", "TAGS", "DIGEST", "STATUS", "SIGNATURES", "SIGNER"], wide, width);
    for image in images {
        let digest = if wide {
            image.digest.clone()
        } else {
            image.digest.trim_start_matches("sha256:").chars().take(12).collect()
        };
        let mut status = Cell::new(image.status.as_str());
        if color {
            status = status.fg(status_color(image.status));
        }
        let sigs = image.signatures.iter().map(sig_label).collect::<Vec<_>>().join("\n");
        let signers = image
            .signatures
            .iter()
            .map(|s| {
                s.signer
                    .as_ref()
                    .map(|x| if wide { x.display_name() } else { short_signer(x) })
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| "-".into())
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut sig_cell = Cell::new(if sigs.is_empty() { "-".to_string() } else { sigs });
        if color && !image.signatures.is_empty() {
            let worst = image.signatures.iter().map(|s| s.verification.status).max().unwrap_or(Verdict::Error);
            if worst >= Verdict::Invalid {
                sig_cell = sig_cell.fg(status_color(verdict_status(worst)));
            }
        }
        let mut row = vec![
            Cell::new(&image.repository),
            Cell::new(tags_cell(&image.tags)),
            Cell::new(digest),
            status,
            sig_cell,
            Cell::new(signers),
        ];
        if wide {
            let mut reasons: Vec<String> = image.signatures.iter().map(|s| s.verification.reasons.join("; ")).collect();
            reasons.extend(image.discovery_errors.iter().cloned());
            row.push(Cell::new(reasons.join("\n")));
        }
        t.add_row(row);
    }
    t.to_string()
}

/// The filesystem table: path, type, status, signer, countersigner, short sha256.
pub fn files(files: &[super::FileReport], wide: bool, color: bool, width: u16) -> String {
    let mut t = new_table(&["PATH", "TYPE", "STATUS", "SIGNER", "COUNTERSIGNER", "SHA256"], wide, width);
    for f in files {
        let mut status = Cell::new(f.status.as_str());
        if color {
            status = status.fg(status_color(f.status));
        }
        let lines = |g: &dyn Fn(&super::FileSignatureReport) -> String| -> String {
            f.signatures.iter().map(g).collect::<Vec<_>>().join("\n")
        };
        let signer = lines(&|s| {
            let name =
                s.signer.as_ref().map(|x| if wide { x.display_name() } else { short_signer(x) }).unwrap_or_default();
            format!("{}: {}", s.verification.status.as_str(), if name.is_empty() { "-".into() } else { name })
        });
        let counter = lines(&|s| {
            s.countersigner
                .as_ref()
                .map(|c| {
                    let name = crate::dn::attribute(&c.subject, "CN").unwrap_or_else(|| c.subject.clone());
                    let time = s
                        .timestamp
                        .as_ref()
                        .map(|t| format!(" {}", &t.time[..t.time.len().min(10)]))
                        .unwrap_or_default();
                    format!("{name}{time}")
                })
                .unwrap_or_else(|| "-".into())
        });
        let sha = if wide { f.sha256.clone() } else { f.sha256.chars().take(12).collect() };
        let mut row = vec![
            Cell::new(&f.path),
            Cell::new(&f.file_type),
            status,
            Cell::new(if signer.is_empty() { "-".into() } else { signer }),
            Cell::new(if counter.is_empty() { "-".into() } else { counter }),
            Cell::new(sha),
        ];
        if wide {
            let mut reasons: Vec<String> = f.signatures.iter().map(|s| s.verification.reasons.join("; ")).collect();
            reasons.extend(f.notes.iter().cloned());
            row.push(Cell::new(reasons.join("\n")));
        }
        t.add_row(row);
    }
    t.to_string()
}
