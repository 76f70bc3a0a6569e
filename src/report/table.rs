//! The human-readable tables, made to fit the terminal: one line per file (one per signature for
//! images), no rules between rows, columns as wide as their content. When that is wider than the
//! terminal, the columns that can give way do, in order: a path or repository is shortened from
//! the left with `…` (its end, the file or repository name, stays), a signer name wraps onto a
//! second line. Signer names are never cut. `-o wide` adds, under each row, everything the
//! row abbreviates (full path or digest, each signature with its signer's full name, timestamp
//! and reasons), wrapped to the terminal width.
//!
//! Our code decides the widths and shortens paths; comfy-table draws the table at those widths
//! (no borders, wrapping, padding, the status colour).

use super::{Discovery, FileReport, ImageReport, SignatureReport, Status};
use comfy_table::{presets::NOTHING, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// The colour of a status: the terminal's standard green, yellow, red, magenta and grey.
pub(super) fn status_color(s: Status) -> Color {
    match s {
        Status::Verified => Color::DarkGreen,
        Status::Untrusted | Status::Unverified => Color::DarkYellow,
        Status::Invalid | Status::Error => Color::DarkRed,
        Status::Unsupported => Color::DarkMagenta,
        Status::Unsigned => Color::DarkGrey,
    }
}

/// `cosign sig`, `cosign att`, `notation jws`, `bundle dsse`... with the verdict.
fn sig_label(s: &SignatureReport) -> String {
    use super::{Envelope, SignatureFormat, SignatureKind};
    let format = match s.format {
        SignatureFormat::Cosign => "cosign",
        SignatureFormat::Notation => "notation",
        SignatureFormat::SigstoreBundle => "bundle",
        SignatureFormat::SimpleSigning => "simple-signing",
    };
    let what = match (&s.kind, &s.envelope) {
        (SignatureKind::Attestation, _) => "att",
        (_, Envelope::Simplesigning) => "sig",
        (_, Envelope::Dsse) => "dsse",
        (_, Envelope::Jws) => "jws",
        (_, Envelope::Cose) => "cose",
        (_, Envelope::Bundle) => "bundle",
        (_, Envelope::Openpgp) => "gpg",
    };
    format!("{format} {what}: {}", s.verification.status.as_str())
}

/// The signer for a table: the subject's CN (unescaped, whole) when it has one, else the display
/// name (SAN, key id).
fn short_signer(s: Option<&super::Signer>) -> String {
    let Some(s) = s else { return "-".into() };
    if let Some(cn) = s.subject.as_deref().and_then(|subject| crate::dn::attribute(subject, "CN")) {
        return cn;
    }
    Some(s.display_name()).filter(|n| !n.is_empty()).unwrap_or_else(|| "-".into())
}

/// Every name of a signer, for the details of `-o wide`: subject, SAN, OIDC issuer, key id.
fn full_signer(s: Option<&super::Signer>) -> String {
    let Some(s) = s else { return "no signer named".into() };
    let mut parts = Vec::new();
    if let Some(subject) = s.subject.as_deref().filter(|x| !x.is_empty()) {
        parts.push(subject.to_string());
    }
    if !s.san.is_empty() {
        parts.push(format!("SAN {}", s.san.join(", ")));
    }
    if let Some(i) = &s.oidc_issuer {
        parts.push(format!("OIDC issuer {i}"));
    }
    if let Some(k) = &s.key_id {
        parts.push(format!("key {k}"));
    }
    if parts.is_empty() {
        "no signer named".into()
    } else {
        parts.join("; ")
    }
}

/// The status cell: the status, marked when a waiver accepts the item.
fn status_cell(status: Status, waived: Option<&super::waivers::Waived>) -> String {
    match waived {
        Some(_) => format!("{} (waived)", status.as_str()),
        None => status.as_str().to_string(),
    }
}

/// The detail line of a waived item (`-o wide`).
fn waived_detail(w: &super::waivers::Waived) -> String {
    format!("waived by waiver #{} until {} (owner {}): {}", w.index, w.expires, w.owner, w.reason)
}

fn tags_cell(tags: &[String]) -> String {
    match tags.len() {
        0 => "(untagged)".into(),
        1..=3 => tags.join(", "),
        n => format!("{} +{}", tags[..2].join(", "), n - 2),
    }
}

/// Display width of a string in terminal columns.
pub fn width_of(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `s` in at most `max` columns: its end kept, its start replaced by `…`.
fn shorten_left(s: &str, max: usize) -> String {
    if width_of(s) <= max {
        return s.to_string();
    }
    let mut kept = Vec::new();
    let mut used = 1; // the ellipsis
    for c in s.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        used += w;
        kept.push(c);
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

/// Lines of at most `width` columns: words kept whole where they fit, a longer word split.
fn wrap_lines(text: &str, width: usize) -> Vec<String> {
    let room = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let sep = usize::from(!line.is_empty());
        if width_of(&line) + sep + width_of(word) <= room {
            if sep == 1 {
                line.push(' ');
            }
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        for c in word.chars() {
            if width_of(&line) + c.width().unwrap_or(0) > room {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    lines.push(line);
    lines
}

/// Word-wrap `text` to `width` columns, every line starting with `indent`.
pub fn wrap(text: &str, width: usize, indent: &str) -> String {
    let room = width.saturating_sub(width_of(indent)).max(10);
    text.split('\n')
        .flat_map(|para| wrap_lines(para, room))
        .map(|l| format!("{indent}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How a column gives way when the table is wider than the terminal.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Give {
    /// Never narrower than its content.
    Keep,
    /// Shortened from the left (`…/dir/file.jar`).
    Left,
    /// Wrapped onto more lines (by comfy-table, at the width given here).
    Wrap,
}

struct Column {
    header: &'static str,
    give: Give,
}

/// One row of a plain table: its cells, the status that colours the status cell, and detail
/// lines printed under it (for `-o wide`).
struct Row {
    cells: Vec<String>,
    status: Option<Status>,
    details: Vec<String>,
}

/// The width of each column: its content's, then, while the table (two spaces between columns)
/// is wider than `width`, the columns give way in the order `order` names them, each down to the
/// width given there (a column may come twice, the second time narrower). A column never gets
/// narrower than its header.
fn column_widths(columns: &[Column], order: &[(usize, usize)], rows: &[Row], width: usize) -> Vec<usize> {
    let n = columns.len();
    let mut widths: Vec<usize> = columns.iter().map(|c| width_of(c.header)).collect();
    for r in rows {
        for (i, cell) in r.cells.iter().enumerate() {
            widths[i] = widths[i].max(width_of(cell));
        }
    }
    for &(i, min) in order {
        let excess = (widths.iter().sum::<usize>() + 2 * (n - 1)).saturating_sub(width);
        if excess == 0 {
            break;
        }
        if columns[i].give == Give::Keep {
            continue;
        }
        let min = min.max(width_of(columns[i].header));
        widths[i] = widths[i].saturating_sub(excess).max(min.min(widths[i]));
    }
    widths
}

/// Lay out `rows` under `columns` in `width` terminal columns. We decide each column's width
/// ([`column_widths`]) and shorten paths; comfy-table draws: no borders (`NOTHING`), two spaces
/// between columns and none at the edges, every column exactly as wide as decided (it wraps the
/// cells of [`Give::Wrap`] columns there, at spaces where it can), the status cell coloured when
/// `color`. The detail lines of a row (`-o wide`) follow its lines.
fn plain_table(
    columns: &[Column],
    order: &[(usize, usize)],
    rows: &[Row],
    status_col: usize,
    color: bool,
    width: usize,
) -> String {
    let widths = column_widths(columns, order, rows, width);
    let mut out = Vec::with_capacity(rows.len() + 1);
    // comfy-table has no cells spanning columns: rows up to one with details are drawn as one
    // table, its details printed after it, and the next rows as another table of the same widths.
    let mut start = 0;
    for (end, r) in rows.iter().enumerate() {
        if !r.details.is_empty() || end + 1 == rows.len() {
            out.extend(draw(columns, &widths, start == 0, &rows[start..=end], status_col, color));
            out.extend(r.details.iter().cloned());
            start = end + 1;
        }
    }
    if rows.is_empty() {
        out.extend(draw(columns, &widths, true, &[], status_col, color));
    }
    out.join("\n")
}

/// comfy-table's drawing of `rows` (under the header when `header`) at `widths`.
fn draw(
    columns: &[Column],
    widths: &[usize],
    header: bool,
    rows: &[Row],
    status_col: usize,
    color: bool,
) -> Vec<String> {
    let mut t = Table::new();
    // Our code decides width and colour: comfy-table neither asks the terminal nor styles unless told.
    t.load_preset(NOTHING).set_content_arrangement(ContentArrangement::Disabled).force_no_tty();
    if color {
        t.enforce_styling().style_text_only();
    }
    if header {
        t.set_header(columns.iter().map(|c| c.header));
    }
    for r in rows {
        t.add_row(r.cells.iter().enumerate().map(|(i, cell)| {
            let text = if columns[i].give == Give::Left { shorten_left(cell, widths[i]) } else { cell.clone() };
            match r.status {
                Some(s) if i == status_col => Cell::new(text).fg(status_color(s)),
                _ => Cell::new(text),
            }
        }));
    }
    let last = columns.len() - 1;
    for (i, column) in t.column_iter_mut().enumerate() {
        let padding = (u16::from(i > 0), u16::from(i < last));
        let fixed = u16::try_from(widths[i]).unwrap_or(u16::MAX).saturating_add(padding.0 + padding.1);
        column.set_padding(padding).set_constraint(ColumnConstraint::Absolute(Width::Fixed(fixed)));
    }
    t.lines().map(|l| l.trim_end().to_string()).collect()
}

/// Detail lines: `text` wrapped to `width`, first line at `indent` spaces, the rest two further in.
fn detail(text: &str, indent: usize, width: usize) -> Vec<String> {
    let first = " ".repeat(indent);
    let rest = " ".repeat(indent + 2);
    let room = width.saturating_sub(indent + 2).max(20);
    let mut lines = wrap_lines(text, room).into_iter();
    let mut out: Vec<String> = lines.next().map(|l| format!("{first}{l}")).into_iter().collect();
    out.extend(lines.map(|l| format!("{rest}{l}")));
    out
}

pub fn images(images: &[ImageReport], wide: bool, color: bool, width: usize) -> String {
    let columns = [
        Column { header: "REPOSITORY", give: Give::Left },
        Column { header: "TAGS", give: Give::Wrap },
        Column { header: "DIGEST", give: Give::Keep },
        Column { header: "STATUS", give: Give::Keep },
        Column { header: "SIGNATURES", give: Give::Wrap },
        Column { header: "SIGNER", give: Give::Wrap },
    ];
    let mut rows = Vec::new();
    for image in images {
        let digest: String = image.digest.split_once(':').map_or(&*image.digest, |(_, h)| h).chars().take(12).collect();
        let mut details = Vec::new();
        if wide {
            details.extend(detail(&format!("{}@{} ({})", image.repository, image.digest, image.media_type), 4, width));
            if image.tags.len() > 3 {
                details.extend(detail(&format!("tags: {}", image.tags.join(", ")), 4, width));
            }
            if let Some(w) = &image.waived {
                details.extend(detail(&waived_detail(w), 4, width));
            }
            for s in &image.signatures {
                let found = match s.discovery {
                    Discovery::Tag => "tag",
                    Discovery::Referrers => "referrers",
                    Discovery::ReferrersTag => "referrers-tag",
                    Discovery::Lookaside => "lookaside",
                    Discovery::SignatureExtension => "signature-extension",
                };
                let head =
                    format!("{} ({found} {}): {}", sig_label(s), s.manifest_digest, full_signer(s.signer.as_ref()));
                details.extend(detail(&head, 4, width));
                for reason in coded(&s.verification) {
                    details.extend(detail(&reason, 8, width));
                }
            }
            for e in &image.discovery_errors {
                details.extend(detail(&format!("lookup failed: {e}"), 4, width));
            }
            for r in image.containers_policy.iter().flat_map(|p| &p.references).filter(|r| !r.satisfied) {
                let line =
                    format!("containers policy refuses {} (scope {}): {}", r.reference, r.scope, r.unmet.join("; "));
                details.extend(detail(&line, 4, width));
            }
            for p in &image.platforms {
                let what = p.platform.as_deref().unwrap_or("index");
                let sigs: Vec<String> = p.signatures.iter().map(sig_label).collect();
                let line = format!("platform {what} {}: {} {}", p.digest, p.status.as_str(), sigs.join(", "));
                details.extend(detail(line.trim_end(), 4, width));
            }
        }
        let sig = |i: usize| image.signatures.get(i);
        rows.push(Row {
            cells: vec![
                image.repository.clone(),
                tags_cell(&image.tags),
                digest,
                status_cell(image.status, image.waived.as_ref()),
                sig(0).map(sig_label).unwrap_or_else(|| "-".into()),
                sig(0).map(|s| short_signer(s.signer.as_ref())).unwrap_or_default(),
            ],
            status: Some(image.status),
            details: Vec::new(),
        });
        for s in image.signatures.iter().skip(1) {
            let cells = vec![String::new(); 4].into_iter().chain([sig_label(s), short_signer(s.signer.as_ref())]);
            rows.push(Row { cells: cells.collect(), status: None, details: Vec::new() });
        }
        if let Some(p) = &image.platform_summary {
            // An index's status is its own signatures'; its platform images are counted apart.
            let label = format!("platforms: {}/{} signed, {} verified", p.signed, p.platforms, p.verified);
            match rows.last_mut().filter(|_| image.signatures.is_empty()) {
                Some(row) => row.cells[4] = label,
                None => {
                    let cells = vec![String::new(); 4].into_iter().chain([label, String::new()]);
                    rows.push(Row { cells: cells.collect(), status: None, details: Vec::new() });
                }
            }
        }
        if let Some(last) = rows.last_mut() {
            last.details = details;
        }
    }
    // The signer wraps first, then the tags; a long repository name is shortened, then the
    // signatures wrap, and only then do the tags and the repository name give way further.
    plain_table(&columns, &[(5, 14), (1, 10), (0, 20), (4, 13), (1, 6), (0, 12)], &rows, 3, color, width)
}

/// The distinct signer names of a file's signatures, in order.
fn file_signers(f: &FileReport) -> String {
    let mut names: Vec<String> = Vec::new();
    for s in &f.signatures {
        let n = short_signer(s.signer.as_ref());
        if !names.contains(&n) {
            names.push(n);
        }
    }
    if names.is_empty() {
        "-".into()
    } else {
        names.join("; ")
    }
}

/// The date of the first timestamp (countersignature) that dates a signature.
fn timestamp_date(f: &FileReport) -> String {
    f.signatures
        .iter()
        .find_map(|s| s.timestamp.as_ref())
        .map(|t| t.time.chars().take(10).collect())
        .unwrap_or_else(|| "-".into())
}

/// The filesystem table: one line per file, the path last.
pub fn files(files: &[FileReport], wide: bool, color: bool, width: usize) -> String {
    let columns = [
        Column { header: "STATUS", give: Give::Keep },
        Column { header: "TYPE", give: Give::Keep },
        Column { header: "SIGNER", give: Give::Wrap },
        Column { header: "TIMESTAMP", give: Give::Keep },
        Column { header: "PATH", give: Give::Left },
    ];
    let rows: Vec<Row> = files
        .iter()
        .map(|f| Row {
            cells: vec![
                status_cell(f.status, f.waived.as_ref()),
                f.file_type.clone(),
                file_signers(f),
                timestamp_date(f),
                f.path.clone(),
            ],
            status: Some(f.status),
            details: if wide { file_details(f, width) } else { Vec::new() },
        })
        .collect();
    // The path is shortened first; a signer name wraps only if that is not enough.
    plain_table(&columns, &[(4, 20), (2, 16)], &rows, 0, color, width)
}

fn file_details(f: &FileReport, width: usize) -> Vec<String> {
    let mut out = detail(&format!("{} (sha256 {}, {} bytes)", f.path, f.sha256, f.size), 4, width);
    if let Some(w) = &f.waived {
        out.extend(detail(&waived_detail(w), 4, width));
    }
    for s in &f.signatures {
        let alg = s.digest_algorithm.as_deref().map(|a| format!(", {a}")).unwrap_or_default();
        let head = format!(
            "{} {}{alg}: {}: {}",
            s.format,
            s.index,
            s.verification.status.as_str(),
            full_signer(s.signer.as_ref())
        );
        out.extend(detail(&head, 4, width));
        if let Some(c) = &s.countersigner {
            let when = s
                .timestamp
                .as_ref()
                .map(|t| format!(" at {}{}", t.time, if t.verified { " (verified)" } else { " (not verified)" }))
                .unwrap_or_default();
            out.extend(detail(&format!("timestamp by {} ({}){when}", c.subject, c.kind), 8, width));
        }
        for reason in coded(&s.verification) {
            out.extend(detail(&reason, 8, width));
        }
    }
    for note in &f.notes {
        out.extend(detail(&format!("note: {note}"), 4, width));
    }
    out
}

/// `sigaudit diff`'s table: one line per item that is new, gone or changed: the item, the kind
/// of change, the status (`verified → unsigned`, coloured by where it is now) and what else
/// differs; the item shortened from the left, the details wrapped.
pub fn changes(set: &super::diff::ChangeSet, color: bool, width: usize) -> String {
    let columns = [
        Column { header: "ITEM", give: Give::Left },
        Column { header: "CHANGE", give: Give::Keep },
        Column { header: "STATUS", give: Give::Keep },
        Column { header: "DETAILS", give: Give::Wrap },
    ];
    let several = set.several_registries();
    let rows: Vec<Row> = set
        .items
        .iter()
        .map(|c| Row {
            cells: vec![
                c.item.display(several),
                super::diff::word_of(&c.change),
                c.status_text(),
                Some(c.details()).filter(|d| !d.is_empty()).unwrap_or_else(|| "-".into()),
            ],
            status: c.shown_status(),
            details: Vec::new(),
        })
        .collect();
    plain_table(&columns, &[(3, 24), (0, 24), (0, 12)], &rows, 2, color, width)
}

/// Each reason with its code in front (`[chain-no-anchor] …`), the code a waiver or a jq filter
/// names; a reason of an older report without codes as it is.
fn coded(v: &super::Verification) -> impl Iterator<Item = String> + '_ {
    v.reasons.iter().enumerate().map(|(i, r)| match v.reason_codes.get(i) {
        Some(code) => format!("[{code}] {r}"),
        None => r.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_give_way_from_the_left() {
        assert_eq!(shorten_left("/a/b/c/file.jar", 10), "…/file.jar");
        assert_eq!(shorten_left("short", 10), "short");
        assert_eq!(width_of(&shorten_left("/ü/漢字漢字/file.jar", 12)), 12);
    }

    fn file(path: &str, status: Status) -> FileReport {
        FileReport {
            schema: None,
            path: path.into(),
            file_type: "jar".into(),
            sha256: "ab".repeat(32),
            size: 1,
            status,
            signatures: Vec::new(),
            notes: Vec::new(),
            waived: None,
            catalog_members: Vec::new(),
        }
    }

    /// The line without its SGR escape sequences.
    fn plain(line: &str) -> String {
        let mut out = String::new();
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                chars.by_ref().find(|c| c.is_ascii_alphabetic());
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn only_the_status_is_coloured_and_only_when_asked() {
        let files = [file("/a/b/verified.jar", Status::Verified), file("/a/b/invalid.jar", Status::Invalid)];
        let coloured = super::files(&files, false, true, 60);
        let lines: Vec<&str> = coloured.lines().collect();
        assert!(!lines[0].contains('\u{1b}'), "no colour in the header: {coloured:?}");
        assert!(lines[1].starts_with("\u{1b}[38;5;2mverified\u{1b}[39m  "), "{coloured:?}");
        assert!(lines[2].starts_with("\u{1b}[38;5;1minvalid\u{1b}[39m   "), "{coloured:?}");
        let bare = super::files(&files, false, false, 60);
        assert!(!bare.contains('\u{1b}'), "{bare:?}");
        assert_eq!(coloured.lines().map(plain).collect::<Vec<_>>(), bare.lines().collect::<Vec<_>>());
    }

    #[test]
    fn wide_rows_keep_their_columns_between_details() {
        let long = format!("/{}/file.jar", "d".repeat(100));
        let files = [file("/short.jar", Status::Unsigned), file(&long, Status::Unsigned)];
        let out = super::files(&files, true, false, 60);
        assert!(out.lines().all(|l| width_of(l) <= 60), "{out}");
        assert_eq!(out.lines().filter(|l| l.starts_with("STATUS")).count(), 1, "one header:\n{out}");
        // Both rows are drawn at the same widths, the path at the same column as its header.
        let at = |l: &str| l.find("PATH").or_else(|| l.find('…')).or_else(|| l.find('/')).unwrap();
        let rows: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
        assert_eq!(rows.len(), 3, "{out}");
        assert!(rows.iter().all(|r| at(r) == at(rows[0])), "{out}");
        assert!(rows[2].ends_with("/file.jar") && rows[2].contains('…'), "{out}");
        // Each row's details follow it, the full path first.
        let lines: Vec<&str> = out.lines().collect();
        let second = lines.iter().position(|l| *l == rows[2]).unwrap();
        assert!(lines[2].starts_with("    /short.jar (sha256"), "{out}");
        assert!(lines[2..second].iter().all(|l| l.starts_with("    ")), "{out}");
        assert!(lines[second + 1].starts_with(&format!("    {}", &long[..40])), "{out}");
    }

    #[test]
    fn wrapped_text_fits() {
        let w = wrap("one two three four five six seven eight nine ten", 12, "  ");
        assert!(w.lines().all(|l| width_of(l) <= 12), "{w}");
        assert!(w.lines().all(|l| l.starts_with("  ")), "{w}");
        let long = wrap(&"x".repeat(50), 20, "");
        assert!(long.lines().all(|l| width_of(l) <= 20), "{long}");
        assert_eq!(long.replace('\n', ""), "x".repeat(50));
    }
}
