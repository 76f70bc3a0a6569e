//! `sigaudit merge`: the reports of one sharded scan (or of several registries) as one report.
//!
//! Merging replays each input as the scan events that produced it, through the same report
//! writer a scan uses, so the summary, coverage, per-registry summaries, orphans and errors of
//! the result are recounted by the code that counts them in a scan, not added up by a second
//! copy of it. Only what events cannot carry is taken from the inputs' summaries: how many
//! repositories each registry had (empty ones leave no image) and its tags whose manifest was
//! lost. What makes a merge wrong rather than incomplete is refused: an input filtered by
//! `--only` (its summary counts images it does not list), a shard given twice, shards of one
//! scan with different counts, the same image in two inputs. What makes it incomplete is
//! reported in `errors`: a shard of the scan that no input holds, an input that did not
//! complete or was cut short, an input that could not be read.

use super::{
    ErrorReport, FileReport, ImageReport, MergedInput, NoteReport, OrphanReport, RegistrySummary, ScanInfo, Summary,
};
use crate::crawl::{Event, Shard};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Settings that change how a scan ran or was written, not what it judged or covered: shards of
/// one scan may differ in them.
const HOW_NOT_WHAT: &[&str] = &[
    "shard",
    "output",
    "progress",
    "stats",
    "concurrency",
    "rps",
    "timeout",
    "retries",
    "fail-on",
    "deadline",
    "username",
    "baseline",
    "fail-on-new",
    "waivers",
    "platform-token-env",
];

/// One report to merge, as read.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it came from (a file name, `-`), for messages.
    pub source: String,
    /// None for an NDJSON report cut short before its closing line.
    pub scan: Option<ScanInfo>,
    pub summary: Option<Summary>,
    pub registries: Vec<RegistrySummary>,
    pub images: Vec<ImageReport>,
    /// A filesystem report's files (which `merge` refuses; `diff` compares them).
    pub files: Vec<FileReport>,
    pub orphans: Vec<OrphanReport>,
    pub errors: Vec<ErrorReport>,
    pub notes: Vec<NoteReport>,
}

impl Input {
    /// An input from `source` that holds nothing yet.
    pub fn empty(source: &str) -> Input {
        Input {
            source: source.to_string(),
            scan: None,
            summary: None,
            registries: Vec::new(),
            images: Vec::new(),
            files: Vec::new(),
            orphans: Vec::new(),
            errors: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Why inputs cannot be merged into a report that means what it says.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    #[error("{0}: a filesystem report; merge takes registry reports")]
    NotRegistry(String),
    #[error("{0}: a cluster report (sigaudit cluster); merge takes registry reports, and would drop its workloads")]
    Cluster(String),
    #[error("{0}: written with --only, so it does not list every image its summary counts; merge reports written without --only (and filter the merge with --only)")]
    Filtered(String),
    #[error("{first} and {second} are both shard {shard} of {target}")]
    DuplicateShard { first: String, second: String, shard: Shard, target: String },
    #[error("the shards of {target} do not agree on their count: {counts}")]
    ShardCounts { target: String, counts: String },
    #[error("{second} covers {target} again: {first} is a whole (unsharded) report of it")]
    Overlap { first: String, second: String, target: String },
    #[error("{what} is in both {first} and {second}: the reports overlap")]
    Duplicate { what: String, first: String, second: String },
    #[error("{first} ({a}) and {second} ({b}) cover the same repositories: merge the shards of one scan, or reports of registries (or namespaces) that do not overlap")]
    TargetsOverlap { first: String, a: String, second: String, b: String },
    #[error("{0} is itself a merged report: merge the shard reports it was made of")]
    AlreadyMerged(String),
}

/// Read one report: the JSON of `--output json`, or the lines of `--output ndjson`. What does not
/// parse is an `Err` with the reason; an NDJSON report without its closing line is read (its
/// images count) with `scan` None.
pub fn read(source: &str, text: &str) -> Result<Input, String> {
    let mut input = Input::empty(source);
    // A JSON report is one object; NDJSON is one object per line.
    if let Ok(r) = serde_json::from_str::<super::Report>(text) {
        match (r.scan.kind.as_str(), r.files.is_some()) {
            ("filesystem", _) => {
                input.scan = Some(r.scan);
                input.summary = Some(r.summary);
                input.files = r.files.unwrap_or_default();
                input.errors = r.errors;
                input.notes = r.notes.unwrap_or_default();
                return Ok(input);
            }
            ("registry" | "cluster", false) => {}
            (kind, _) => return Err(format!("a report of kind {kind:?} holding files: not a registry report")),
        }
        input.scan = Some(r.scan);
        input.summary = Some(r.summary);
        input.registries = r.registries.unwrap_or_default();
        input.images = r.images.unwrap_or_default();
        input.orphans = r.orphans.unwrap_or_default();
        input.errors = r.errors;
        input.notes = r.notes.unwrap_or_default();
        return Ok(input);
    }
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()).peekable();
    if lines.peek().is_none() {
        return Err("empty: no report".into());
    }
    while let Some((n, line)) = lines.next() {
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("line {}: not a JSON report line: {e}", n + 1))?;
        if value.get("scan").is_some() {
            let t: super::Trailer = serde_json::from_value(value)
                .map_err(|e| format!("line {}: not a report's closing line: {e}", n + 1))?;
            if let Some((m, _)) = lines.peek() {
                return Err(format!("line {}: report lines after the closing line (line {})", m + 1, n + 1));
            }
            input.scan = Some(t.scan);
            input.summary = Some(t.summary);
            input.registries = t.registries.unwrap_or_default();
            input.orphans = t.orphans.unwrap_or_default();
            input.errors = t.errors;
            input.notes = t.notes.unwrap_or_default();
        } else if value.get("path").is_some() {
            // A file line: a filesystem report.
            let mut file: FileReport =
                serde_json::from_value(value).map_err(|e| format!("line {}: not a file line: {e}", n + 1))?;
            file.schema = None;
            input.files.push(file);
        } else {
            let mut image: ImageReport =
                serde_json::from_value(value).map_err(|e| format!("line {}: not an image line: {e}", n + 1))?;
            image.schema = None;
            input.images.push(image);
        }
    }
    Ok(input)
}

#[cfg(test)]
fn empty_scan() -> ScanInfo {
    ScanInfo {
        kind: "registry".into(),
        target: serde_json::Value::Null,
        started_at: String::new(),
        finished_at: None,
        complete: false,
        only: None,
        settings: None,
        shard: None,
        listing: None,
        merged: None,
    }
}

/// What the merged report is made of: its scan description and the events that rebuild it.
pub struct Merged {
    pub scan: ScanInfo,
    pub events: Vec<Event>,
}

/// Merge `inputs` (each already read) and `unreadable` (source, reason) into one report.
pub fn merge(inputs: Vec<Input>, unreadable: Vec<(String, String)>) -> Result<Merged, MergeError> {
    for i in &inputs {
        if !i.files.is_empty() {
            return Err(MergeError::NotRegistry(i.source.clone()));
        }
        if let Some(scan) = &i.scan {
            if scan.kind == "filesystem" {
                return Err(MergeError::NotRegistry(i.source.clone()));
            }
            if scan.kind == "cluster" {
                return Err(MergeError::Cluster(i.source.clone()));
            }
            if scan.only.is_some() {
                return Err(MergeError::Filtered(i.source.clone()));
            }
            if scan.merged.is_some() {
                return Err(MergeError::AlreadyMerged(i.source.clone()));
            }
        }
    }
    let mut events = Vec::new();
    let error = |code: &str, message: String| {
        Event::Error(ErrorReport { registry: None, repository: None, reference: None, code: code.into(), message })
    };
    for (source, reason) in unreadable {
        events.push(error("report-unreadable", format!("{source}: {reason}: what it holds is not in this report")));
    }
    check_shards(&inputs, &mut events)?;
    check_targets(&inputs)?;
    check_overlap(&inputs)?;
    for i in &inputs {
        if let Some(message) = misplaced(i) {
            events.push(error("shard-mismatch", message));
        }
    }

    let mut merged = Vec::new();
    let mut settings: Option<serde_json::Map<String, serde_json::Value>> = None;
    let mut settings_of: HashMap<String, (String, serde_json::Map<String, serde_json::Value>)> = HashMap::new();
    let mut targets: Vec<serde_json::Value> = Vec::new();
    let mut listing: Option<serde_json::Value> = None;
    let (mut started, mut finished): (Option<String>, Option<String>) = (None, None);
    for input in inputs {
        match &input.scan {
            None => events.push(error(
                "report-truncated",
                format!(
                    "{}: the NDJSON report ends before its closing line (the scan was cut short): its {} images are kept; the rest of what it covered is not in this report",
                    input.source,
                    input.images.len()
                ),
            )),
            Some(scan) => {
                if let Some(message) = inconsistency(&input).or_else(|| shard_inconsistency(&input.source, scan)) {
                    events.push(error("report-inconsistent", message));
                }
                if !scan.complete && input.errors.is_empty() {
                    events.push(error("report-incomplete", format!("{}: the report says it is incomplete", input.source)));
                }
                // Shards of one scan must have judged with the same settings; reports of
                // different registries may differ (what each lists), and then the merged report
                // names none.
                let mut own = scan.settings.clone().unwrap_or_default();
                own.retain(|k, _| !HOW_NOT_WHAT.contains(&k.strip_suffix("-sha256").unwrap_or(k)));
                // How the repositories were listed bears on what "all" meant: shards listed
                // differently (a catalog and a platform API) are not one scan.
                if let Some(l) = &scan.listing {
                    own.insert("listing".into(), l.clone());
                }
                match &listing {
                    None if merged.is_empty() => listing = scan.listing.clone(),
                    Some(first) if Some(first) != scan.listing.as_ref() => listing = None,
                    _ => {}
                }
                let key = target_name(&scan.target);
                match settings_of.get(&key) {
                    None => {
                        settings_of.insert(key, (input.source.clone(), own.clone()));
                    }
                    Some((first, theirs)) if *theirs != own => events.push(error(
                        "settings-differ",
                        format!(
                            "{} ran with other settings than {first}, a shard of the same scan ({} against {}): its verdicts were judged under other trust material or policy",
                            input.source,
                            serde_json::Value::Object(own.clone()),
                            serde_json::Value::Object(theirs.clone())
                        ),
                    )),
                    Some(_) => {}
                }
                match &settings {
                    None if merged.is_empty() => settings = Some(own),
                    Some(first) if *first != own => settings = None,
                    _ => {}
                }
                if !targets.contains(&scan.target) {
                    targets.push(scan.target.clone());
                }
                if started.as_ref().is_none_or(|s| scan.started_at < *s) {
                    started = Some(scan.started_at.clone());
                }
                if let Some(f) = &scan.finished_at {
                    if finished.as_ref().is_none_or(|x| f > x) {
                        finished = Some(f.clone());
                    }
                }
                merged.push(MergedInput {
                    source: input.source.clone(),
                    target: scan.target.clone(),
                    shard: scan.shard,
                    complete: scan.complete,
                    started_at: scan.started_at.clone(),
                    finished_at: scan.finished_at.clone(),
                });
            }
        }
        replay(input, &mut events);
    }
    dedupe_registry_errors(&mut events);
    let target = match targets.len() {
        1 => targets.pop().unwrap_or_default(),
        _ => serde_json::Value::Array(targets),
    };
    let scan = ScanInfo {
        kind: "registry".into(),
        target,
        started_at: started.unwrap_or_default(),
        finished_at: finished,
        complete: false,
        only: None,
        settings,
        shard: None,
        listing,
        merged: Some(merged),
    };
    Ok(Merged { scan, events })
}

/// Whether an input's summary disagrees with what it lists (lines lost from the middle of an
/// NDJSON report, an edited file): then some of what it counted is not in the merge.
fn inconsistency(input: &Input) -> Option<String> {
    let stated = input.summary.as_ref()?;
    let mut counted = Summary::for_registry();
    for i in &input.images {
        counted.count_image(i);
    }
    let pairs = [
        ("images", stated.images.unwrap_or(0), counted.images.unwrap_or(0)),
        ("signatures", stated.signatures, counted.signatures),
        ("verified", stated.verified, counted.verified),
        ("untrusted", stated.untrusted, counted.untrusted),
        ("unverified", stated.unverified, counted.unverified),
        ("invalid", stated.invalid, counted.invalid),
        ("unsupported", stated.unsupported, counted.unsupported),
        ("unsigned", stated.unsigned, counted.unsigned),
        ("error", stated.error, counted.error),
        ("errors", stated.errors, input.errors.len() as u64),
        ("orphans", stated.orphans.unwrap_or(0), input.orphans.len() as u64),
        ("notes", stated.notes.unwrap_or(0), input.notes.len() as u64),
    ];
    let wrong: Vec<String> = pairs
        .iter()
        .filter(|(_, s, c)| s != c)
        .map(|(what, s, c)| format!("{what}: summary {s}, listed {c}"))
        .collect();
    (!wrong.is_empty()).then(|| {
        format!(
            "{}: the report's summary does not match what it lists ({}): part of it is missing or was edited",
            input.source,
            wrong.join(", ")
        )
    })
}

/// Whether a report's `scan.shard` disagrees with itself or with the `--shard` it ran with
/// (`scan.settings.shard`): a shard relabelled as the whole scan, or as another count.
fn shard_inconsistency(source: &str, scan: &ScanInfo) -> Option<String> {
    if let Some(shard) = scan.shard.filter(|s| !s.is_valid()) {
        return Some(format!(
            "{source}: scan.shard {shard} is not a shard (INDEX below COUNT, COUNT 1 to {})",
            Shard::MAX_COUNT
        ));
    }
    let given = scan.settings.as_ref()?.get("shard")?.as_str()?;
    let count = given.rsplit_once('/').and_then(|(_, c)| c.trim().parse::<u32>().ok());
    let index = given.split_once('/').and_then(|(i, _)| i.trim().parse::<u32>().ok());
    let agrees = match scan.shard {
        None => false,
        Some(s) => count == Some(s.count) && index.is_none_or(|i| i == s.index),
    };
    (!agrees).then(|| {
        format!(
            "{source}: ran with --shard {given} but says it is {}: it is mislabelled",
            scan.shard.map_or("the whole scan".to_string(), |s| format!("shard {s}"))
        )
    })
}

/// The events that rebuild one input's part of the report.
fn replay(input: Input, events: &mut Vec<Event>) {
    // Tags each registry's images carry; the rest of its tags were lost (listed, manifest gone).
    let mut image_tags: HashMap<Option<String>, u64> = HashMap::new();
    for i in &input.images {
        *image_tags.entry(i.registry.clone()).or_default() += i.tags.len() as u64;
    }
    let mut counts: Vec<(Option<String>, &Summary)> =
        input.registries.iter().map(|r| (Some(r.registry.clone()), &r.summary)).collect();
    if counts.is_empty() {
        // A report without per-registry summaries (one registry, older writers).
        if let Some(s) = &input.summary {
            let registry = input.images.first().and_then(|i| i.registry.clone());
            counts.push((registry, s));
        }
    }
    for (registry, s) in counts {
        events.push(Event::Repositories(registry.clone(), s.repositories.unwrap_or(0)));
        let lost = s.tags.unwrap_or(0).saturating_sub(image_tags.get(&registry).copied().unwrap_or(0));
        if lost > 0 {
            events.push(Event::LostTags(registry, lost));
        }
    }
    // Each status follows from the signatures listed, as in a scan.
    events.extend(input.images.into_iter().map(|mut i| {
        i.compute_status();
        Event::Image(Box::new(i))
    }));
    events.extend(input.orphans.into_iter().map(Event::Orphan));
    events.extend(input.errors.into_iter().map(Event::Error));
    events.extend(input.notes.into_iter().map(Event::Note));
}

/// Errors of a whole registry (its catalog, its answer) are met by every shard of a scan, which
/// each read the catalog: the merged report lists each once, as the unsharded scan would.
fn dedupe_registry_errors(events: &mut Vec<Event>) {
    let mut seen: BTreeSet<(Option<String>, String)> = BTreeSet::new();
    events.retain(|e| match e {
        Event::Error(x) if x.repository.is_none() && x.reference.is_none() && x.registry.is_some() => {
            seen.insert((x.registry.clone(), x.code.clone()))
        }
        _ => true,
    });
}

/// A registry and a namespace (or repository) in it; None for the whole registry.
pub type Scope = (String, Option<String>);

/// What a target covers: (registry, namespace or repository) pairs, a namespace of None for
/// the whole registry. `http://HOST/ns/` and `HOST/ns` are the same; an image reference
/// (`sigaudit image`) covers its repository.
pub fn scopes(target: &serde_json::Value) -> Vec<Scope> {
    let one = |t: &str| {
        let t = t.split_once("://").map_or(t, |(_, rest)| rest).trim_end_matches('/');
        let (host, rest) = match t.split_once('/') {
            Some((h, r)) => (h, Some(r)),
            None => (t, None),
        };
        let ns = rest.map(|r| {
            let r = r.split_once('@').map_or(r, |(name, _)| name);
            // A tag follows the last `/`'s colon: `repo:tag`.
            match r.rsplit_once('/') {
                Some((dir, last)) => format!("{dir}/{}", last.split(':').next().unwrap_or(last)),
                None => r.split(':').next().unwrap_or(r).to_string(),
            }
        });
        (canonical_host(host), ns.filter(|n| !n.is_empty()))
    };
    let mut out: Vec<Scope> = match target {
        serde_json::Value::String(s) => vec![one(s)],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).map(one).collect(),
        _ => Vec::new(),
    };
    out.sort();
    out.dedup();
    out
}

/// A registry host as one spelling: lower case, the port as a number (`HOST:045011` is
/// `HOST:45011`), a trailing dot of a domain name dropped.
fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) if !n.ends_with(']') || p.bytes().all(|b| b.is_ascii_digit()) => match p.parse::<u16>() {
            Ok(p) => (n.to_string(), Some(p)),
            Err(_) => (host.clone(), None),
        },
        _ => (host.clone(), None),
    };
    let name = name.trim_end_matches('.');
    match port {
        Some(p) => format!("{name}:{p}"),
        None => name.to_string(),
    }
}

/// Whether two scopes can hold the same repository.
pub fn overlap(a: &Scope, b: &Scope) -> bool {
    if a.0 != b.0 {
        return false;
    }
    match (&a.1, &b.1) {
        (None, _) | (_, None) => true,
        (Some(x), Some(y)) => x == y || y.starts_with(&format!("{x}/")) || x.starts_with(&format!("{y}/")),
    }
}

fn show(scopes: &[Scope]) -> String {
    let names: Vec<String> = scopes
        .iter()
        .map(|(h, n)| match n {
            Some(n) => format!("{h}/{n}"),
            None => h.clone(),
        })
        .collect();
    names.join(", ")
}

/// Reports of different scans must not cover the same repositories: their counts would add up
/// twice (repositories, orphans, notes), which no image comparison would show.
fn check_targets(inputs: &[Input]) -> Result<(), MergeError> {
    let scanned: Vec<(&str, Vec<Scope>)> =
        inputs.iter().filter_map(|i| i.scan.as_ref().map(|s| (i.source.as_str(), scopes(&s.target)))).collect();
    for (n, (first, a)) in scanned.iter().enumerate() {
        for (second, b) in &scanned[n + 1..] {
            // The shards of one scan name the same target; check_shards judged those.
            if a == b {
                continue;
            }
            if a.iter().any(|x| b.iter().any(|y| overlap(x, y))) {
                return Err(MergeError::TargetsOverlap {
                    first: first.to_string(),
                    a: show(a),
                    second: second.to_string(),
                    b: show(b),
                });
            }
        }
    }
    Ok(())
}

/// A shard's report must hold only repositories its shard owns: one that holds others was
/// mislabelled (and the shard it claims to be may be missing).
fn misplaced(input: &Input) -> Option<String> {
    let shard = input.scan.as_ref()?.shard?;
    let repos = input
        .images
        .iter()
        .map(|i| i.repository.as_str())
        .chain(input.orphans.iter().map(|o| o.repository.as_str()))
        .chain(input.notes.iter().map(|n| n.path.as_str()))
        .chain(input.errors.iter().filter_map(|e| e.repository.as_deref()));
    let stray: BTreeSet<&str> = repos.filter(|r| !shard.owns(r)).collect();
    (!stray.is_empty()).then(|| {
        let list: Vec<&str> = stray.iter().take(5).copied().collect();
        format!(
            "{} says it is shard {shard} but holds repositories that shard does not own ({}{}): it is mislabelled, so the shard it claims is not known to be here",
            input.source,
            list.join(", "),
            if stray.len() > 5 { ", …" } else { "" }
        )
    })
}

/// A target as the merge groups it: shards of one scan name the same scopes, however spelled.
fn target_name(t: &serde_json::Value) -> String {
    show(&scopes(t))
}

/// The shards of each scan (inputs with the same target): one count, each index once; a missing
/// index is an error of the merged report.
fn check_shards(inputs: &[Input], events: &mut Vec<Event>) -> Result<(), MergeError> {
    let mut by_target: BTreeMap<String, Vec<(&str, Option<Shard>)>> = BTreeMap::new();
    for i in inputs {
        if let Some(scan) = &i.scan {
            by_target.entry(target_name(&scan.target)).or_default().push((&i.source, scan.shard));
        }
    }
    for (target, members) in by_target {
        let counts: BTreeSet<Option<u32>> = members.iter().map(|(_, s)| s.map(|s| s.count)).collect();
        if let Some((first, _)) = members.iter().find(|(_, s)| s.is_none()) {
            if members.len() > 1 {
                let second = members.iter().find(|(src, _)| src != first).map_or(*first, |(s, _)| *s);
                return Err(MergeError::Overlap { first: first.to_string(), second: second.to_string(), target });
            }
            continue;
        }
        if counts.len() > 1 {
            let counts = counts.iter().flatten().map(|c| format!("/{c}")).collect::<Vec<_>>().join(", ");
            return Err(MergeError::ShardCounts { target, counts });
        }
        let mut seen: BTreeMap<u32, &str> = BTreeMap::new();
        let mut count = 0;
        if members.iter().any(|(_, s)| s.is_some_and(|s| !s.is_valid())) {
            // Reported as report-inconsistent; no missing shards are counted from a bogus count.
            continue;
        }
        for (source, shard) in &members {
            let shard = shard.expect("sharded");
            count = shard.count;
            if let Some(first) = seen.insert(shard.index, source) {
                return Err(MergeError::DuplicateShard {
                    first: first.to_string(),
                    second: source.to_string(),
                    shard,
                    target,
                });
            }
        }
        // Missing shards as ranges: one error per run of consecutive indexes.
        let mut index = 0;
        while index < count {
            if seen.contains_key(&index) {
                index += 1;
                continue;
            }
            let first = index;
            while index < count && !seen.contains_key(&index) {
                index += 1;
            }
            let (reference, what) = match index - first {
                1 => (format!("{first}/{count}"), format!("shard {first}/{count}")),
                n => (
                    format!("{first}-{}/{count}", index - 1),
                    format!("{n} shards, {first} to {} of {count},", index - 1),
                ),
            };
            let message = format!("{what} of {target} missing: the repositories they own were not examined");
            events.push(Event::Error(ErrorReport {
                registry: None,
                repository: None,
                reference: Some(reference),
                code: "shard-missing".into(),
                message,
            }));
        }
    }
    Ok(())
}

/// No image, orphan or note may be reported twice (by two inputs, or twice by one): its counts
/// would add up twice.
fn check_overlap(inputs: &[Input]) -> Result<(), MergeError> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for i in inputs {
        let registry = |r: &Option<String>| r.clone().unwrap_or_default();
        let keys = i
            .images
            .iter()
            .map(|x| format!("image {}/{}@{}", registry(&x.registry), x.repository, x.digest))
            .chain(i.images.iter().flat_map(|x| {
                x.tags.iter().map(move |t| format!("tag {}/{}:{t}", registry(&x.registry), x.repository))
            }))
            .chain(i.orphans.iter().map(|o| {
                format!("orphan {} of {}/{} (subject {})", o.artifact, registry(&o.registry), o.repository, o.subject)
            }))
            .chain(i.notes.iter().map(|n| format!("note {} of {}/{}", n.code, registry(&n.registry), n.path)));
        for key in keys {
            if let Some(first) = seen.insert(key.clone(), &i.source) {
                return Err(MergeError::Duplicate { what: key, first: first.to_string(), second: i.source.clone() });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(target: &str, shard: Option<Shard>) -> ScanInfo {
        ScanInfo {
            target: serde_json::Value::String(target.into()),
            started_at: "2026-01-01T00:00:00Z".into(),
            complete: true,
            shard,
            ..empty_scan()
        }
    }

    fn input(source: &str, scan: Option<ScanInfo>) -> Input {
        Input { scan, ..Input::empty(source) }
    }

    fn codes(m: &Merged) -> Vec<String> {
        m.events
            .iter()
            .filter_map(|e| match e {
                Event::Error(e) => Some(format!("{} {}", e.code, e.reference.clone().unwrap_or_default())),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_missing_shard_is_an_error_and_a_repeated_one_is_refused() {
        let s = |i| Some(scan("r", Some(Shard { index: i, count: 3 })));
        let m = merge(vec![input("a", s(0)), input("b", s(2))], Vec::new()).unwrap();
        assert_eq!(codes(&m), ["shard-missing 1/3"]);
        let all = merge(vec![input("a", s(0)), input("b", s(2)), input("c", s(1))], Vec::new()).unwrap();
        assert!(codes(&all).is_empty());
        let twice = merge(vec![input("a", s(0)), input("b", s(0))], Vec::new());
        assert!(matches!(twice, Err(MergeError::DuplicateShard { .. })), "{:?}", twice.err());
        let mixed =
            merge(vec![input("a", s(0)), input("b", Some(scan("r", Some(Shard { index: 1, count: 2 }))))], Vec::new());
        assert!(matches!(mixed, Err(MergeError::ShardCounts { .. })));
        let overlap = merge(vec![input("a", Some(scan("r", None))), input("b", s(1))], Vec::new());
        assert!(matches!(overlap, Err(MergeError::Overlap { .. })));
    }

    #[test]
    fn a_summary_that_does_not_match_the_list_is_reported() {
        let mut i = input("a", Some(scan("r", None)));
        i.summary = Some(Summary { images: Some(2), unsigned: 2, ..Summary::for_registry() });
        let m = merge(vec![i], Vec::new()).unwrap();
        assert_eq!(codes(&m), ["report-inconsistent "]);
    }

    #[test]
    fn one_registry_however_spelled() {
        let s = |t: &str| scopes(&serde_json::Value::String(t.into()));
        assert_eq!(s("http://127.0.0.1:045011/apps/"), s("127.0.0.1:45011/apps"));
        assert_eq!(s("Registry.Example.com.:443"), s("registry.example.com:443"));
        assert!(overlap(&s("127.0.0.1:45011")[0], &s("127.0.0.1:045011/apps")[0]));
        assert!(!overlap(&s("127.0.0.1:45011")[0], &s("127.0.0.1:45012")[0]));
    }

    #[test]
    fn cut_short_unreadable_and_filtered_inputs() {
        let m = merge(vec![input("a", None)], vec![("b".into(), "line 1: not JSON".into())]).unwrap();
        assert_eq!(codes(&m), ["report-unreadable ", "report-truncated "]);
        let mut filtered = scan("r", None);
        filtered.only = Some(vec![super::super::Status::Invalid]);
        assert!(matches!(merge(vec![input("a", Some(filtered))], Vec::new()), Err(MergeError::Filtered(_))));
        assert!(read("x", "").is_err());
        assert!(read("x", "{\"repository\": 3}\n").is_err());
        let trailer_then_more = "{\"schema\":\"sigaudit.report/v1\",\"tool\":{\"name\":\"s\",\"version\":\"1\"},\"scan\":{\"kind\":\"registry\",\"target\":\"r\",\"startedAt\":\"t\",\"complete\":true},\"summary\":{\"signatures\":0,\"verified\":0,\"untrusted\":0,\"unverified\":0,\"invalid\":0,\"unsupported\":0,\"unsigned\":0,\"error\":0,\"errors\":0,\"coverage\":{\"signed\":0.0,\"verified\":0.0}},\"errors\":[]}\n{}\n";
        assert!(read("x", trailer_then_more).unwrap_err().contains("after the closing line"));
    }
}
