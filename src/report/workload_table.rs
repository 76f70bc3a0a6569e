//! The table of `sigaudit cluster`: the containers of each namespace, one line each, with the
//! workload that owns the pod, the image its spec names, the digest that runs, its status and
//! whether the tag has moved since.

use super::workload::{ContainerType, WorkloadReport};
use comfy_table::{presets::NOTHING, Cell, ContentArrangement, Table};

/// `sha256:0123456789ab`
fn short_digest(d: &str) -> String {
    match d.split_once(':') {
        Some((alg, hex)) => format!("{alg}:{}", &hex[..hex.len().min(12)]),
        None => d.to_string(),
    }
}

/// The spec's image with a digest it pins shortened (`repo@sha256:0123456789ab…`).
fn short_image(image: &str) -> String {
    match image.split_once('@') {
        Some((name, digest)) if digest.len() > 19 => format!("{name}@{}…", short_digest(digest)),
        _ => image.to_string(),
    }
}

/// One table per namespace, in order, each headed by its name.
pub fn workloads(items: &[WorkloadReport], wide: bool, color: bool, width: usize) -> String {
    let mut out = String::new();
    let mut namespaces: Vec<&str> = items.iter().map(|w| w.namespace.as_str()).collect();
    namespaces.dedup();
    for ns in namespaces {
        let mut t = Table::new();
        t.load_preset(NOTHING).set_content_arrangement(ContentArrangement::Dynamic).set_width(width as u16);
        t.set_header(["WORKLOAD", "POD", "CONTAINER", "IMAGE", "RUNNING", "STATUS", "DRIFT"]);
        for w in items.iter().filter(|w| w.namespace == ns) {
            let container = match w.container_type {
                ContainerType::Container => w.container.clone(),
                ContainerType::Init => format!("{} (init)", w.container),
                ContainerType::Ephemeral => format!("{} (ephemeral)", w.container),
            };
            let running = match &w.digest {
                Some(d) => short_digest(d),
                None => format!("({})", w.state),
            };
            let status_text = match w.status {
                Some(s) if w.waived => format!("{} (waived)", s.as_str()),
                Some(s) => s.as_str().to_string(),
                None => "-".into(),
            };
            let mut status = Cell::new(status_text);
            if let (Some(s), true) = (w.status, color) {
                status = status.fg(super::table::status_color(s));
            }
            let drift = match (w.drift, &w.tag_digest) {
                (Some(true), Some(d)) => format!("moved: {}", short_digest(d)),
                (Some(true), None) => "tag gone".into(),
                (Some(false), _) => "no".into(),
                (None, _) => "-".into(),
            };
            t.add_row(vec![
                Cell::new(format!("{}/{}", w.owner.kind, w.owner.name)),
                Cell::new(&w.pod),
                Cell::new(container),
                Cell::new(short_image(&w.image)),
                Cell::new(running),
                status,
                Cell::new(drift),
            ]);
            if wide {
                let mut details = Vec::new();
                if let (Some(r), Some(repo), Some(d)) = (&w.registry, &w.repository, &w.digest) {
                    details.push(format!("runs {r}/{repo}@{d}"));
                }
                if let Some(c) = &w.controlled_by {
                    details.push(format!("controlled by {c} (owner found by {})", w.owner.via));
                }
                details.extend(w.notes.iter().cloned());
                for d in details {
                    t.add_row(vec![Cell::new(""), Cell::new(format!("  {d}"))]);
                }
            }
        }
        out.push_str(&format!("Namespace {ns}:\n{}\n", t.to_string().trim_end()));
    }
    out
}
