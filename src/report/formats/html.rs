//! One self-contained HTML page for auditors: no script, no external style sheet, font or image
//! (a Content-Security-Policy of `default-src 'none'` forbids the browser to load any), readable
//! printed. It shows the summary, signed and verified coverage per namespace (registry scans) or
//! file type (filesystem scans) as an inline SVG chart with the same figures in a table, every
//! signer identity with what it signed, every invalid or error verdict with its reasons, the
//! errors, and every image or file, which status checkboxes filter (CSS `:has()`, so the filters
//! work without script; a browser without `:has()` shows every row).
//!
//! Every text the report holds is escaped (`&`, `<`, `>`, `"`, `'`) and stripped of characters
//! HTML forbids, so a repository named `<script>` is shown, never run.

use super::{seconds_between, signer_name, target, Item, Report, Sig, STATUSES};
use crate::report::workload::WorkloadReport;
use crate::report::{Signer, Status, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1a1a1a; --muted: #4d4d4d; --line: #c8c8c8; --head: #f0f2f5; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 78rem; padding: 1rem 1.5rem 3rem; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
h1 { font-size: 1.6rem; margin: .5rem 0 .25rem; overflow-wrap: anywhere; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; padding-bottom: .2rem; border-bottom: 2px solid #2b3f5c; }
.meta { color: var(--muted); margin: 0 0 .5rem; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .3rem; }
nav ul { list-style: none; padding: 0; margin: .5rem 0; display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; }
a { color: #0b4f9c; }
.banner { padding: .6rem .9rem; border: 2px solid #9b1111; background: #fde2e2; color: #6e0b0b; font-weight: 600; }
.banner.ok { border-color: #0a5c26; background: #dff3e4; color: #0a4a1f; }
table { border-collapse: collapse; margin: .5rem 0 1rem; width: 100%; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top; }
thead th { background: var(--head); }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
table.figures { width: auto; min-width: 22rem; display: inline-table; margin-right: 2rem; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: .85em; overflow-wrap: anywhere; word-break: break-all; }
.wrap { overflow-wrap: anywhere; }
ul.plain { margin: 0; padding-left: 1.1rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; border: 1px solid currentColor; font-size: .82em; font-weight: 600; white-space: nowrap; }
.s-verified { color: #0a4a1f; background: #dff3e4; }
.s-untrusted { color: #5c3d00; background: #fff0c2; }
.s-unverified { color: #3d2f7a; background: #ece8fb; }
.s-invalid { color: #8a0f0f; background: #fde2e2; }
.s-unsupported { color: #3a3a3a; background: #ececec; }
.s-error { color: #7a1650; background: #fbe3f0; }
.s-unsigned { color: #5a2d00; background: #f9e4d2; }
figure { margin: .5rem 0; }
figcaption { color: var(--muted); font-size: .9em; }
figure svg { width: 100%; max-width: 60rem; height: auto; }
fieldset.filters { border: 1px solid var(--line); padding: .4rem .8rem .6rem; margin: .5rem 0; }
fieldset.filters label { margin-right: 1rem; white-space: nowrap; }
fieldset.filters input { margin-right: .3rem; }
#items { counter-reset: shown; }
#items tbody tr { counter-increment: shown; }
p.shown::after { content: "Rows shown: " counter(shown) "."; }
p.shown { color: var(--muted); font-size: .9em; }
.muted { color: var(--muted); }
.sub { color: var(--muted); font-weight: normal; font-size: .9em; margin-top: .15rem; overflow-wrap: anywhere; }
table.fixed { table-layout: fixed; }
table.fixed td, table.fixed th { overflow-wrap: anywhere; }
th.w-status { width: 7.5rem; }
th.w-item { width: 38%; }
th.w-signer { width: 18%; }
th.w-id { width: 32%; }
th.w-sig { width: 13%; }
th.w-pitem { width: 27%; }
td.id { font-size: .92em; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .85em; border-top: 1px solid var(--line); padding-top: .5rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  nav, fieldset.filters, .skip, p.shown { display: none; }
  a { color: inherit; text-decoration: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, figure { break-inside: avoid; page-break-inside: avoid; }
  .badge, .banner, svg { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
"#;

pub fn render(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let items = Item::all(report);
    let files = report.files.is_some();
    let noun = if files { "file" } else { "image" };
    let nouns = if files { "files" } else { "images" };
    let target = target(report);
    let scan = &report.scan;
    let mut p = String::with_capacity(64 * 1024);

    let _ = write!(
        p,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{} {}\">\n<title>Signature audit: {}</title>\n<style>{STYLE}",
        h(&report.tool.name),
        h(&report.tool.version),
        h(&target)
    );
    // Status filters: a row of a status whose box is unchecked is hidden.
    for s in STATUSES {
        let w = s.as_str();
        let _ = writeln!(p, "body:has(#show-{w}:not(:checked)) #items tr[data-status=\"{w}\"] {{ display: none; }}");
    }
    p.push_str("</style>\n</head>\n<body>\n<a class=\"skip\" href=\"#items\">Skip to the list</a>\n<header>\n");

    // Header: what, when, complete or not.
    let kind = match scan.kind.as_str() {
        "registry" => "Registry scan".to_string(),
        "filesystem" => "Filesystem scan".to_string(),
        k => format!("{} scan", h(k)),
    };
    let _ = writeln!(p, "<h1>Signature audit of <span class=\"wrap\">{}</span></h1>", h(&target));
    let mut meta = format!("{kind} · started <time>{}</time>", h(&scan.started_at));
    if let Some(f) = &scan.finished_at {
        let _ = write!(meta, " · finished <time>{}</time>", h(f));
        if let Some(d) = seconds_between(&scan.started_at, f) {
            let _ = write!(meta, " · took <span data-figure=\"duration\">{}</span> s", d.max(0.0));
        }
    }
    let _ = write!(meta, " · {} {} · report {}", h(&report.tool.name), h(&report.tool.version), h(&report.schema));
    let _ = writeln!(p, "<p class=\"meta\">{meta}</p>");
    if let Some(only) = &scan.only {
        let list: Vec<&str> = only.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(
            p,
            "<p class=\"meta\">Listed: only the {nouns} whose status is {} (<code>--only</code>); the summary counts every {noun}.</p>",
            h(&list.join(", "))
        );
    }
    if scan.complete {
        let _ = writeln!(
            p,
            "<p class=\"banner ok\" data-figure=\"complete\" data-value=\"true\">The scan is complete: every {noun} found was examined.</p>"
        );
    } else {
        let _ = writeln!(
            p,
            "<p class=\"banner\" role=\"alert\" data-figure=\"complete\" data-value=\"false\">The scan is incomplete: \
             {} error(s) left things unexamined (<a href=\"#errors\">see the errors</a>). What is missing is not counted below.</p>",
            report.errors.len()
        );
    }
    let group_word = if files { "file type" } else { "namespace" };
    let _ = writeln!(
        p,
        "<nav aria-label=\"Sections\"><ul><li><a href=\"#summary\">Summary</a></li><li><a href=\"#coverage\">Coverage by {group_word}</a></li>\
         <li><a href=\"#signers\">Signers</a></li><li><a href=\"#problems\">Invalid and errors</a></li>\
         <li><a href=\"#items\">All {nouns}</a></li>{}</ul></nav>\n</header>\n<main>",
        if report.workloads.is_some() { "<li><a href=\"#workloads\">Workloads</a></li>" } else { "" }
    );

    summary(&mut p, report, noun, nouns);
    coverage(&mut p, &items, files, nouns);
    signers(&mut p, &items, nouns);
    problems(&mut p, report, &items);
    item_list(&mut p, report, &items, files, nouns);
    if let Some(w) = &report.workloads {
        workloads(&mut p, report, w);
    }
    extras(&mut p, report);

    let _ = writeln!(
        p,
        "</main>\n<footer><p>Written by {} {} from a <code>{}</code> report. This page is self-contained: it loads nothing \
         and runs no script. Statuses: verified (signature holds, signer trusted) · untrusted (holds, signer not covered by \
         the trust material given) · unverified (no key given to check it) · invalid · unsupported · error (could not be \
         checked) · unsigned.</p></footer>\n</body>\n</html>",
        h(&report.tool.name),
        h(&report.tool.version),
        h(&report.schema)
    );
    out.write_all(p.as_bytes())
}

fn summary(p: &mut String, report: &Report, noun: &str, nouns: &str) {
    let s = &report.summary;
    let total = s.items();
    let _ = writeln!(
        p,
        "<section id=\"summary\" aria-labelledby=\"summary-h\">\n<h2 id=\"summary-h\">Summary</h2>\n\
         <table class=\"figures\">\n<caption>{} by status</caption>\n\
         <thead><tr><th scope=\"col\">Status</th><th scope=\"col\" class=\"n\">{}</th><th scope=\"col\" class=\"n\">Share</th></tr></thead>\n<tbody>",
        cap(nouns),
        cap(nouns)
    );
    for st in STATUSES {
        let n = s.count(st);
        let _ = writeln!(
            p,
            "<tr><th scope=\"row\">{}</th><td class=\"n\" data-figure=\"{}\">{n}</td><td class=\"n\">{}</td></tr>",
            badge(st.as_str()),
            st.as_str(),
            share(n, total)
        );
    }
    let _ = writeln!(
        p,
        "</tbody>\n<tfoot><tr><th scope=\"row\">All {nouns}</th><td class=\"n\" data-figure=\"{nouns}\">{total}</td><td class=\"n\">{}</td></tr></tfoot>\n</table>",
        share(total, total)
    );
    let _ = writeln!(
        p,
        "<table class=\"figures\">\n<caption>Scan figures</caption>\n<thead><tr><th scope=\"col\">Figure</th><th scope=\"col\" class=\"n\">Value</th></tr></thead>\n<tbody>"
    );
    let mut row = |label: &str, key: &str, value: String| {
        let _ =
            writeln!(p, "<tr><th scope=\"row\">{label}</th><td class=\"n\" data-figure=\"{key}\">{value}</td></tr>");
    };
    row(&format!("Signed {nouns} (coverage)"), "coverage-signed", percent(s.coverage.signed));
    row(&format!("Verified {nouns} (coverage)"), "coverage-verified", percent(s.coverage.verified));
    if let Some(r) = s.repositories {
        row("Repositories", "repositories", r.to_string());
    }
    if let Some(t) = s.tags {
        row("Tags", "tags", t.to_string());
    }
    row("Signatures", "signatures", s.signatures.to_string());
    if let Some(pl) = &s.platforms {
        row("Platform images of indexes", "platforms", pl.platforms.to_string());
        row("… signed", "platforms-signed", pl.signed.to_string());
        row("… verified", "platforms-verified", pl.verified.to_string());
    }
    if let Some(o) = s.orphans {
        row("Orphan signatures", "orphans", o.to_string());
    }
    if let Some(sk) = s.skipped {
        row("Files of no supported type (skipped)", "skipped", sk.to_string());
    }
    row("Errors", "errors", s.errors.to_string());
    if let Some(n) = s.notes {
        row("Notes", "notes", n.to_string());
    }
    let _ = writeln!(p, "</tbody>\n</table>");
    let _ = writeln!(
        p,
        "<p class=\"muted\">Coverage: the share of all {nouns} scanned with at least one signature found (signed), and \
         whose status is verified.{}</p>\n</section>",
        if noun == "image" { " An index counts by its own signatures, not its platform images'." } else { "" }
    );
}

struct Group {
    items: u64,
    signed: u64,
    verified: u64,
}

fn coverage(p: &mut String, items: &[Item], files: bool, nouns: &str) {
    let word = if files { "file type" } else { "namespace" };
    let mut groups: BTreeMap<(String, String), Group> = BTreeMap::new();
    for item in items {
        let (registry, g) = item.group();
        let e = groups.entry((registry.unwrap_or("").to_string(), g.to_string())).or_insert(Group {
            items: 0,
            signed: 0,
            verified: 0,
        });
        e.items += 1;
        let own = match item {
            Item::Image(i) => !i.signatures.is_empty(),
            Item::File(f) => !f.signatures.is_empty(),
        };
        e.signed += u64::from(own);
        e.verified += u64::from(item.status() == Status::Verified);
    }
    let registries: std::collections::BTreeSet<&str> = groups.keys().map(|(r, _)| r.as_str()).collect();
    let several = registries.len() > 1;
    let label = |r: &str, g: &str| if several && !r.is_empty() { format!("{r}/{g}") } else { g.to_string() };

    let _ = writeln!(
        p,
        "<section id=\"coverage\" aria-labelledby=\"coverage-h\">\n<h2 id=\"coverage-h\">Coverage by {word}</h2>"
    );
    if groups.is_empty() {
        let _ = writeln!(p, "<p>No {nouns} listed.</p>\n</section>");
        return;
    }
    // The chart: per group, a bar for the signed share and one for the verified share.
    let (lw, bw, rw) = (230.0, 420.0, 70.0);
    let row_h = 34.0;
    let top = 44.0;
    let width = lw + bw + rw;
    let height = top + row_h * groups.len() as f64 + 10.0;
    let _ = writeln!(
        p,
        "<figure>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-labelledby=\"chart-title chart-desc\" font-family=\"system-ui, DejaVu Sans, sans-serif\" font-size=\"12\">\n\
         <title id=\"chart-title\">Signed and verified share of {nouns} per {word}</title>\n\
         <desc id=\"chart-desc\">Two bars per {word}: the share of its {nouns} with a signature, and the share verified. The table below holds the same figures.</desc>"
    );
    // Legend and scale.
    let _ = writeln!(
        p,
        "<rect x=\"{lw}\" y=\"4\" width=\"12\" height=\"12\" fill=\"#2f5597\"/><text x=\"{}\" y=\"14\" fill=\"#1a1a1a\">signed</text>\
         <rect x=\"{}\" y=\"4\" width=\"12\" height=\"12\" fill=\"#1e7b3a\"/><text x=\"{}\" y=\"14\" fill=\"#1a1a1a\">verified</text>",
        lw + 16.0,
        lw + 80.0,
        lw + 96.0
    );
    for tick in [0, 25, 50, 75, 100] {
        let x = lw + bw * tick as f64 / 100.0;
        let _ = writeln!(
            p,
            "<line x1=\"{x}\" y1=\"{}\" x2=\"{x}\" y2=\"{}\" stroke=\"#c8c8c8\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#4d4d4d\" font-size=\"10\">{tick}%</text>",
            top - 8.0,
            height - 6.0,
            top - 12.0
        );
    }
    for (n, ((r, g), v)) in groups.iter().enumerate() {
        let y = top + row_h * n as f64;
        let name = label(r, g);
        let shown: String = if name.chars().count() > 32 {
            name.chars().take(31).chain(std::iter::once('…')).collect()
        } else {
            name.clone()
        };
        let signed = v.signed as f64 / v.items as f64;
        let verified = v.verified as f64 / v.items as f64;
        let _ = writeln!(
            p,
            "<g><title>{}: {} of {} {nouns} signed ({}), {} verified ({})</title>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#1a1a1a\">{}</text>\
             <rect x=\"{lw}\" y=\"{}\" width=\"{:.1}\" height=\"12\" fill=\"#2f5597\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#1a1a1a\" font-size=\"11\">{}</text>\
             <rect x=\"{lw}\" y=\"{}\" width=\"{:.1}\" height=\"12\" fill=\"#1e7b3a\"/><text x=\"{:.1}\" y=\"{}\" fill=\"#1a1a1a\" font-size=\"11\">{}</text></g>",
            h(&name),
            v.signed,
            v.items,
            percent(signed),
            v.verified,
            percent(verified),
            lw - 8.0,
            y + 17.0,
            h(&shown),
            y + 3.0,
            bw * signed,
            lw + bw * signed + 4.0,
            y + 13.0,
            percent(signed),
            y + 17.0,
            bw * verified,
            lw + bw * verified + 4.0,
            y + 27.0,
            percent(verified),
        );
    }
    let _ = writeln!(
        p,
        "</svg>\n<figcaption>Share of the {nouns} listed in this report, per {word}.</figcaption>\n</figure>"
    );
    // The same figures as a table.
    let _ = writeln!(
        p,
        "<table>\n<caption>Coverage by {word}</caption>\n<thead><tr>{}<th scope=\"col\">{}</th><th scope=\"col\" class=\"n\">{}</th>\
         <th scope=\"col\" class=\"n\">Signed</th><th scope=\"col\" class=\"n\">Verified</th><th scope=\"col\" class=\"n\">Signed share</th>\
         <th scope=\"col\" class=\"n\">Verified share</th></tr></thead>\n<tbody>",
        if several { "<th scope=\"col\">Registry</th>" } else { "" },
        cap(word),
        cap(nouns)
    );
    for ((r, g), v) in &groups {
        let _ = writeln!(
            p,
            "<tr>{}<th scope=\"row\" class=\"wrap\">{}</th><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            if several { format!("<td class=\"wrap\">{}</td>", h(r)) } else { String::new() },
            h(g),
            v.items,
            v.signed,
            v.verified,
            share(v.signed, v.items),
            share(v.verified, v.items)
        );
    }
    let _ = writeln!(p, "</tbody>\n</table>\n</section>");
}

/// What identifies a signer: its certificate's thumbprint, else its key id, else its name.
fn signer_id(s: &Signer) -> String {
    s.sha256.clone().or_else(|| s.key_id.clone()).unwrap_or_else(|| s.display_name())
}

fn signers(p: &mut String, items: &[Item], nouns: &str) {
    type Signed = Vec<(String, Verdict, Option<String>, String)>;
    let mut by: BTreeMap<(String, String), (&Signer, Signed)> = BTreeMap::new();
    let mut anonymous = 0usize;
    for item in items {
        for s in item.signatures() {
            match s.signer {
                Some(signer) => {
                    let key = (signer.display_name(), signer_id(signer));
                    by.entry(key).or_insert((signer, Vec::new())).1.push((
                        item.name(),
                        s.verdict,
                        s.platform.clone(),
                        s.what,
                    ));
                }
                None => anonymous += 1,
            }
        }
    }
    let _ = writeln!(
        p,
        "<section id=\"signers\" aria-labelledby=\"signers-h\">\n<h2 id=\"signers-h\">Signers</h2>\n\
         <p>{} signer identit{} named by a certificate or key; each with the {nouns} it signed and the verdict of that signature.{}</p>",
        by.len(),
        if by.len() == 1 { "y" } else { "ies" },
        if anonymous > 0 {
            format!(" {anonymous} signature(s) name no signer (a signature that could not be read, or a key-only one whose key was not given).")
        } else {
            String::new()
        }
    );
    if by.is_empty() {
        let _ = writeln!(p, "</section>");
        return;
    }
    let _ = writeln!(
        p,
        "<table class=\"signers fixed\">\n<caption>Signer identities and what each signed</caption>\n<thead><tr><th scope=\"col\" class=\"w-signer\">Signer</th>\
         <th scope=\"col\" class=\"w-id\">Identity</th><th scope=\"col\">Signed</th></tr></thead>\n<tbody>"
    );
    for ((name, _), (signer, signed)) in &by {
        let mut id = String::from("<ul class=\"plain\">");
        let mut li = |label: &str, v: &str, mono: bool| {
            if mono {
                let _ = write!(id, "<li>{label}: <code>{}</code></li>", h(v));
            } else {
                let _ = write!(id, "<li>{label}: <span class=\"wrap\">{}</span></li>", h(v));
            }
        };
        if let Some(v) = signer.subject.as_ref().filter(|v| *v != name) {
            li("subject", v, false);
        }
        if let Some(v) = &signer.issuer {
            li("issuer", v, false);
        }
        for v in &signer.san {
            li("SAN", v, false);
        }
        if let Some(v) = &signer.oidc_issuer {
            li("OIDC issuer", v, false);
        }
        for (k, v) in &signer.extensions {
            li(k, v, false);
        }
        if let (Some(a), Some(b)) = (&signer.not_before, &signer.not_after) {
            li("valid", &format!("{a} to {b}"), false);
        }
        if let Some(v) = &signer.key_algorithm {
            li("key", v, false);
        }
        if let Some(v) = &signer.key_id {
            li("key id", v, true);
        }
        if let Some(v) = &signer.key_name {
            li("key name", v, false);
        }
        if let Some(v) = &signer.sha256 {
            li("certificate SHA-256", v, true);
        }
        id.push_str("</ul>");
        let mut what = String::from("<ul class=\"plain\">");
        for (item, verdict, platform, kind) in signed {
            let _ = write!(
                what,
                "<li>{} <span class=\"mono\">{}</span> <span class=\"sub\">{}{}</span></li>",
                badge(verdict.as_str()),
                h(item),
                h(kind),
                platform.as_deref().map(|pl| format!(", platform {}", h(pl))).unwrap_or_default()
            );
        }
        what.push_str("</ul>");
        let _ = writeln!(
            p,
            "<tr><th scope=\"row\" class=\"wrap\">{}</th><td class=\"id\">{id}</td><td>{what}</td></tr>",
            h(name)
        );
    }
    let _ = writeln!(p, "</tbody>\n</table>\n</section>");
}

fn problems(p: &mut String, report: &Report, items: &[Item]) {
    let _ = writeln!(
        p,
        "<section id=\"problems\" aria-labelledby=\"problems-h\">\n<h2 id=\"problems-h\">Invalid and errors</h2>"
    );
    let mut rows = String::new();
    let mut count = 0usize;
    for item in items {
        let sigs: Vec<Sig> = item.signatures();
        for s in sigs.iter().filter(|s| matches!(s.verdict, Verdict::Invalid | Verdict::Error)) {
            count += 1;
            let _ = writeln!(
                rows,
                "<tr><td>{}{}</td><th scope=\"row\" class=\"mono\">{}</th><td>{}{}</td><td class=\"wrap\">{}</td><td>{}</td></tr>",
                badge(item.status().as_str()),
                waived_mark(item.waived()),
                h(&item.full_name()),
                h(&s.what),
                s.platform.as_deref().map(|pl| format!("<br><span class=\"muted\">platform {}</span>", h(pl))).unwrap_or_default(),
                h(&signer_name(s.signer)),
                reasons(s.verdict.as_str(), s.reasons)
            );
        }
        if item.status() == Status::Error && !item.discovery_errors().is_empty() {
            count += 1;
            let _ = writeln!(
                rows,
                "<tr><td>{}</td><th scope=\"row\" class=\"mono\">{}</th><td>lookups</td><td></td><td>{}</td></tr>",
                badge("error"),
                h(&item.full_name()),
                reasons("error", item.discovery_errors())
            );
        }
    }
    if count == 0 {
        let _ = writeln!(p, "<p>No signature is invalid and none could not be checked.</p>");
    } else {
        let _ = writeln!(
            p,
            "<table class=\"fixed\">\n<caption>{count} invalid or error verdict(s), with their reasons</caption>\n<thead><tr><th scope=\"col\" class=\"w-status\">Status</th>\
             <th scope=\"col\" class=\"w-pitem\">Image or file</th><th scope=\"col\" class=\"w-sig\">Signature</th><th scope=\"col\" class=\"w-sig\">Signer</th><th scope=\"col\">Verdict and reasons</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>"
        );
    }
    let _ = writeln!(p, "<h3 id=\"errors\">Errors</h3>");
    if report.errors.is_empty() {
        let _ = writeln!(p, "<p>None: nothing was left unexamined.</p>");
    } else {
        let _ = writeln!(
            p,
            "<table>\n<caption>{} error(s): what could not be examined</caption>\n<thead><tr><th scope=\"col\">Code</th>\
             <th scope=\"col\">Where</th><th scope=\"col\">Message</th></tr></thead>\n<tbody>",
            report.errors.len()
        );
        for e in &report.errors {
            let place = [e.registry.as_deref(), e.repository.as_deref(), e.reference.as_deref()]
                .into_iter()
                .flatten()
                .map(h)
                .collect::<Vec<_>>()
                .join(" ");
            let _ = writeln!(
                p,
                "<tr><th scope=\"row\"><code>{}</code></th><td class=\"mono\">{place}</td><td class=\"wrap\">{}</td></tr>",
                h(&e.code),
                h(&e.message)
            );
        }
        let _ = writeln!(p, "</tbody>\n</table>");
    }
    let _ = writeln!(p, "</section>");
}

fn reasons(verdict: &str, reasons: &[String]) -> String {
    let mut r = badge(verdict);
    if !reasons.is_empty() {
        r.push_str("<ul class=\"plain wrap\">");
        for x in reasons {
            let _ = write!(r, "<li>{}</li>", h(x));
        }
        r.push_str("</ul>");
    }
    r
}

fn item_list(p: &mut String, report: &Report, items: &[Item], files: bool, nouns: &str) {
    let _ = writeln!(p, "<section id=\"items\" aria-labelledby=\"items-h\">\n<h2 id=\"items-h\">All {nouns}</h2>");
    let mut counts: BTreeMap<Status, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i.status()).or_default() += 1;
    }
    let _ = write!(p, "<fieldset class=\"filters\">\n<legend>Show {nouns} whose status is</legend>\n");
    for s in STATUSES {
        let w = s.as_str();
        let _ = writeln!(
            p,
            "<label for=\"show-{w}\"><input type=\"checkbox\" id=\"show-{w}\" checked>{w} ({})</label>",
            counts.get(&s).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(p, "</fieldset>");
    let several = report.registries.as_ref().is_some_and(|r| r.len() > 1);
    let _ = writeln!(
        p,
        "<table class=\"fixed\">\n<caption>Every {}, with its status and signatures</caption>\n<thead><tr><th scope=\"col\" class=\"w-status\">Status</th>\
         <th scope=\"col\" class=\"w-item\">{}</th><th scope=\"col\">Signatures</th></tr></thead>\n<tbody>",
        if files { "file" } else { "image" },
        if files { "File" } else { "Image" }
    );
    for item in items {
        let st = item.status().as_str();
        let mut sigs = String::from("<ul class=\"plain\">");
        for s in item.signatures() {
            let _ = write!(
                sigs,
                "<li>{} <span class=\"wrap\">{}</span> <span class=\"sub\">{}{}</span></li>",
                badge(s.verdict.as_str()),
                h(&signer_name(s.signer)),
                h(&s.what),
                s.platform.as_deref().map(|pl| format!(", platform {}", h(pl))).unwrap_or_default()
            );
        }
        sigs.push_str("</ul>");
        if sigs == "<ul class=\"plain\"></ul>" {
            sigs = "<span class=\"sub\">no signature found</span>".into();
        }
        if let Some(e) = item.discovery_errors().first() {
            let _ = write!(sigs, "<p class=\"sub\">lookup failed: {}</p>", h(e));
        }
        let what = match item {
            Item::Image(i) => {
                if let Some(ps) = &i.platform_summary {
                    let _ = write!(
                        sigs,
                        "<p class=\"sub\">an index of {} platform image(s): {} signed, {} verified</p>",
                        ps.platforms, ps.signed, ps.verified
                    );
                }
                let tags = if i.tags.is_empty() {
                    "untagged".to_string()
                } else {
                    format!("tags: {}", i.tags.iter().map(|t| h(t)).collect::<Vec<_>>().join(", "))
                };
                let registry = match (&i.registry, several) {
                    (Some(r), true) => format!("<div class=\"sub\">registry {}</div>", h(r)),
                    _ => String::new(),
                };
                format!(
                    "<th scope=\"row\" class=\"wrap\">{}{registry}<div class=\"sub\">{tags}</div><div class=\"sub\"><code>{}</code></div></th>",
                    h(&i.repository),
                    h(&i.digest)
                )
            }
            Item::File(f) => format!(
                "<th scope=\"row\" class=\"mono\">{}<div class=\"sub\">{} · {} bytes · SHA-256 <code>{}</code></div></th>",
                h(&f.path),
                h(&f.file_type),
                f.size,
                h(&f.sha256)
            ),
        };
        let _ = writeln!(
            p,
            "<tr data-status=\"{st}\"><td>{}{}</td>{what}<td>{sigs}</td></tr>",
            badge(st),
            waived_mark(item.waived())
        );
    }
    let _ = writeln!(p, "</tbody>\n</table>\n<p class=\"shown\" aria-hidden=\"true\"></p>\n</section>");
}

/// `sigaudit cluster`: every container, by namespace, with the workload that runs it, the image
/// its spec names, the digest that runs and that digest's status.
fn workloads(p: &mut String, report: &Report, list: &[WorkloadReport]) {
    let _ = writeln!(
        p,
        "<section id=\"workloads\" aria-labelledby=\"workloads-h\">\n<h2 id=\"workloads-h\">Workloads</h2>"
    );
    if let Some(s) = &report.summary.workloads {
        let _ = writeln!(
            p,
            "<table class=\"figures\">\n<caption>What runs in the cluster</caption>\n<tbody>\n\
             <tr><th scope=\"row\">Pods</th><td class=\"n\" data-figure=\"workload-pods\">{}</td></tr>\n\
             <tr><th scope=\"row\">Containers (init and ephemeral included)</th><td class=\"n\" data-figure=\"workload-containers\">{}</td></tr>\n\
             <tr><th scope=\"row\">Digest not known yet (never counted unsigned)</th><td class=\"n\" data-figure=\"workload-digest-unknown\">{}</td></tr>\n\
             <tr><th scope=\"row\">Drifted (the tag now names another digest)</th><td class=\"n\" data-figure=\"workload-drifted\">{}</td></tr>\n\
             </tbody>\n</table>",
            s.pods, s.containers, s.digest_unknown, s.drifted
        );
    }
    let _ = writeln!(
        p,
        "<table class=\"fixed\">\n<caption>Every container, with the status of the image it runs</caption>\n<thead><tr>\
         <th scope=\"col\" class=\"w-status\">Status</th><th scope=\"col\">Workload</th><th scope=\"col\">Container</th>\
         <th scope=\"col\" class=\"w-item\">Image</th></tr></thead>\n<tbody>"
    );
    for w in list {
        let status = match w.status {
            Some(s) => badge(s.as_str()),
            None => "<span class=\"sub\">digest not known</span>".to_string(),
        };
        let waived = if w.waived { "<div class=\"sub\">waived</div>" } else { "" };
        let controlled =
            w.controlled_by.as_deref().map(|c| format!("<div class=\"sub\">via {}</div>", h(c))).unwrap_or_default();
        let runs = match (&w.repository, &w.digest) {
            (Some(r), Some(d)) => format!(
                "<div class=\"sub\">runs {}/{} <code>{}</code></div>",
                h(w.registry.as_deref().unwrap_or("")),
                h(r),
                h(d)
            ),
            _ => String::new(),
        };
        let drift = match w.drift {
            Some(true) => format!(
                "<div class=\"sub\"><strong>drift</strong>: the tag now names {}</div>",
                w.tag_digest.as_deref().map(|d| format!("<code>{}</code>", h(d))).unwrap_or_else(|| "nothing".into())
            ),
            _ => String::new(),
        };
        let notes: String = w.notes.iter().map(|n| format!("<div class=\"sub\">{}</div>", h(n))).collect();
        let _ = writeln!(
            p,
            "<tr data-container-status=\"{}\"><td>{status}{waived}</td><th scope=\"row\" class=\"wrap\">{} {}<div class=\"sub\">namespace {}</div>{controlled}</th>\
             <td class=\"wrap\">{}/{}<div class=\"sub\">{} · {}</div></td><td class=\"wrap\">{}{runs}{drift}{notes}</td></tr>",
            w.status.map_or("none", |s| s.as_str()),
            h(&w.owner.kind),
            h(&w.owner.name),
            h(&w.namespace),
            h(&w.pod),
            h(&w.container),
            super::ser_word(&w.container_type),
            h(&w.state),
            h(&w.image)
        );
    }
    let _ = writeln!(p, "</tbody>\n</table>\n</section>");
}

/// Orphans and notes, when there are any.
fn extras(p: &mut String, report: &Report) {
    if let Some(orphans) = report.orphans.as_ref().filter(|o| !o.is_empty()) {
        let _ = writeln!(
            p,
            "<section id=\"orphans\" aria-labelledby=\"orphans-h\">\n<h2 id=\"orphans-h\">Orphan signatures</h2>\n\
             <table>\n<caption>Signature artifacts whose subject their repository does not hold</caption>\n<thead><tr>\
             <th scope=\"col\">Repository</th><th scope=\"col\">Artifact</th><th scope=\"col\">Subject</th><th scope=\"col\">Subject found in</th></tr></thead>\n<tbody>"
        );
        for o in orphans {
            let _ = writeln!(
                p,
                "<tr><th scope=\"row\" class=\"wrap\">{}</th><td><code>{}</code></td><td><code>{}</code></td><td class=\"wrap\">{}</td></tr>",
                h(&o.repository),
                h(&o.artifact),
                h(&o.subject),
                h(o.subject_repository.as_deref().unwrap_or(""))
            );
        }
        let _ = writeln!(p, "</tbody>\n</table>\n</section>");
    }
    if let Some(notes) = report.notes.as_ref().filter(|n| !n.is_empty()) {
        let _ = writeln!(
            p,
            "<section id=\"notes\" aria-labelledby=\"notes-h\">\n<h2 id=\"notes-h\">Notes</h2>\n<table>\n\
             <caption>What the scan saw that is neither a verdict nor an error</caption>\n<thead><tr><th scope=\"col\">Path</th>\
             <th scope=\"col\">Code</th><th scope=\"col\">Message</th></tr></thead>\n<tbody>"
        );
        for n in notes {
            let _ = writeln!(
                p,
                "<tr><th scope=\"row\" class=\"mono\">{}</th><td><code>{}</code></td><td class=\"wrap\">{}</td></tr>",
                h(&n.path),
                h(&n.code),
                h(&n.message)
            );
        }
        let _ = writeln!(p, "</tbody>\n</table>\n</section>");
    }
}

/// Under an item's status: the waiver that accepts it, with why, who and until when.
fn waived_mark(w: Option<&crate::report::waivers::Waived>) -> String {
    match w {
        None => String::new(),
        Some(w) => format!(
            "<div class=\"sub\"><strong>waived</strong> until {}: {} ({})</div>",
            h(&w.expires),
            h(&w.reason),
            h(&w.owner)
        ),
    }
}

fn badge(status: &str) -> String {
    // Only the known words become a class; anything else is text.
    let known = Status::parse(status).is_some();
    let class = if known { format!("badge s-{status}") } else { "badge".into() };
    format!("<span class=\"{class}\">{}</span>", h(status))
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

/// A 0..1 share as a percentage with one decimal.
fn percent(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn share(n: u64, of: u64) -> String {
    if of == 0 {
        "–".into()
    } else {
        percent(n as f64 / of as f64)
    }
}

/// Text or attribute value: cleaned, and `&`, `<`, `>`, `"`, `'` as references.
pub(super) fn h(s: &str) -> String {
    super::markup(s, true, false, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_figures() {
        assert_eq!(h("<script>alert('x')</script>&\""), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;");
        assert_eq!(percent(0.935), "93.5%");
        assert_eq!(share(0, 0), "–");
        assert_eq!(badge("bogus\"><x"), "<span class=\"badge\">bogus&quot;&gt;&lt;x</span>");
    }
}
