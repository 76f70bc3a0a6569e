//! The filesystem audit: walk paths in parallel, recognise formats by content, verify
//! Authenticode (PE, MSI, CAB, scripts, catalogs), JAR, APK (v1, v2, v3, v3.1) and kernel module
//! signatures, and report every file of a supported type; a file a signed catalog lists is
//! reported with that catalog's signature. Other files are only counted.

mod apk;
mod authenticode;
mod cab;
mod catalog;
mod jar;
mod kmod;
mod msi;
mod ole;
mod pe;
mod script;
mod verdict;

use crate::crawl::Event;
use crate::report::{ErrorReport, FileReport, NoteReport, Status};
use crate::trust::Trust;
use globset::GlobSet;
use sha2::{Digest as _, Sha256};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Files larger than this are not loaded (reported as an error).
pub const MAX_FILE_BYTES: u64 = 1 << 30;

#[derive(Debug, Clone, Default)]
pub struct FsOptions {
    pub follow_symlinks: bool,
    pub exclude: Option<GlobSet>,
    /// Worker threads (0: one per core).
    pub jobs: usize,
    /// Trust anchors (`--ca-roots`) and the time certificates are judged at.
    pub trust: Arc<Trust>,
    /// Stay on the file system of each root (`--one-file-system`).
    pub one_file_system: bool,
    /// Stop walking and checking at this instant (`--deadline`).
    pub deadline: Option<std::time::Instant>,
    /// Stop walking and checking when this is set (an interrupted scan).
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    /// Windows catalogs to match files against besides those the scan finds (`--catalog`).
    pub catalogs: Vec<PathBuf>,
}

/// What kind of file this is, by content.
#[derive(Debug, PartialEq, Eq)]
enum Kind {
    Pe,
    Zip(&'static str),
    /// A Linux kernel module, signed (the appended trailer) or not.
    Kmod,
    /// An OLE compound file: an MSI if signed or an installer database.
    Msi,
    Cab,
    /// A Windows catalog: SignedData over a certificate trust list.
    Catalog,
    Other,
}

fn detect(bytes: &[u8]) -> Kind {
    if bytes.starts_with(b"MZ") && pe::is_pe(bytes) {
        return Kind::Pe;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return jar::jar_kind(bytes).map(Kind::Zip).unwrap_or(Kind::Other);
    }
    if bytes.starts_with(&ole::MAGIC) {
        return Kind::Msi;
    }
    if bytes.starts_with(b"MSCF") {
        return Kind::Cab;
    }
    if kmod::is_signed(bytes) || (bytes.starts_with(b"\x7fELF") && kmod::is_module(bytes)) {
        return Kind::Kmod;
    }
    // Catalog: SignedData whose content is a certificate trust list (1.3.6.1.4.1.311.10.1). A
    // ZIP after a catalog is the catalog's trailing bytes (`catalog::check` refuses them).
    if bytes.starts_with(&[0x30]) && bytes.len() < (64 << 20) {
        let ctl = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x0a, 0x01];
        if bytes[..bytes.len().min(200)].windows(ctl.len()).any(|w| w == ctl) && catalog::is_catalog(bytes) {
            return Kind::Catalog;
        }
    }
    // A ZIP behind a prefix (an executable JAR's launcher script, a Janus APK, anything else):
    // found by an end record the JDK would take (which includes every one apksig takes).
    if jar::end_record_jdk(bytes).is_some() {
        if let Some(k) = jar::jar_kind(bytes) {
            return Kind::Zip(k);
        }
    }
    Kind::Other
}

/// Check one file's bytes: `None` if it is of no supported type.
pub fn check_bytes(path: &str, bytes: &[u8], trust: &Trust) -> Option<FileReport> {
    check_file(path, bytes, trust, None).0
}

/// Check one file: its report, if of a supported type or listed in a catalog of `index`; and if
/// it is a catalog, its members.
fn check_file(
    path: &str,
    bytes: &[u8],
    trust: &Trust,
    index: Option<&catalog::Index>,
) -> (Option<FileReport>, Vec<catalog::Member>) {
    let mut members = Vec::new();
    let kind = detect(bytes);
    let checked = match kind {
        Kind::Other => script::check(path, bytes, trust).map(|c| (c.file_type, c.signatures, Vec::new())),
        Kind::Msi => msi::check(path, bytes, trust).map(|c| ("msi", c.signatures, c.notes)),
        Kind::Cab => {
            let c = cab::check(bytes, trust);
            Some(("cab", c.signatures, c.notes))
        }
        Kind::Catalog => {
            let c = catalog::check(bytes, trust);
            members = c.members;
            Some(("cat", c.signatures, c.notes))
        }
        Kind::Pe => {
            let c = pe::check(bytes, trust);
            Some(("pe", c.signatures, c.notes))
        }
        Kind::Zip(t) => {
            let c = if t == "apk" { apk::check(bytes, trust) } else { jar::check(bytes, t, trust) };
            Some((c.file_type, c.signatures, c.notes))
        }
        Kind::Kmod => Some(("kmod", kmod::check(bytes, trust).signatures, Vec::new())),
    };
    // A file without a signature of its own may be listed in a catalog.
    let listed = match (&checked, index) {
        (Some((_, sigs, _)), Some(ix)) if sigs.is_empty() && !ix.is_empty() => catalog_entries(ix, bytes, kind),
        (None, Some(ix)) if !ix.is_empty() => catalog_entries(ix, bytes, kind),
        _ => Vec::new(),
    };
    let (file_type, mut signatures, notes) = match checked {
        Some(c) => c,
        None if !listed.is_empty() => ("file", Vec::new(), Vec::new()),
        None => return (None, members),
    };
    signatures.extend(listed);
    let mut report = FileReport {
        schema: None,
        path: path.to_string(),
        file_type: file_type.into(),
        sha256: hex::encode(Sha256::digest(bytes)),
        size: bytes.len() as u64,
        status: Status::Unsigned,
        signatures,
        notes,
        waived: None,
        catalog_members: catalog::report_members(&members),
    };
    report.compute_status();
    (Some(report), members)
}

/// The catalog signatures of a file: looked up by its SHA-1 and SHA-256 hashes, and for a PE
/// also by its Authenticode image hashes.
fn catalog_entries(index: &catalog::Index, bytes: &[u8], kind: Kind) -> Vec<crate::report::FileSignatureReport> {
    // A CAB is listed by its Authenticode hash, which is not computed for lookups here; its flat
    // hash vouches for nothing (osslsigncode's -catalog check fails it too).
    if kind == Kind::Cab {
        return Vec::new();
    }
    let is_pe = kind == Kind::Pe;
    use crate::crypto::HashAlg;
    let algs = [HashAlg::Sha1, HashAlg::Sha256];
    // A PE is listed by its Authenticode image hash only, as Windows and osslsigncode look it up
    // (a flat hash of a PE in a catalog vouches for nothing there).
    type Hashes = Vec<(HashAlg, Vec<u8>)>;
    let (flat, image): (Hashes, Hashes) = if is_pe {
        (Vec::new(), pe::image_hashes_of(bytes, &algs).map(|m| m.into_iter().collect()).unwrap_or_default())
    } else {
        (algs.iter().map(|a| (*a, a.digest(bytes))).collect(), Vec::new())
    };
    index.lookup(&flat, &image)
}

fn excluded(opts: &FsOptions, path: &Path) -> bool {
    let Some(set) = &opts.exclude else { return false };
    set.is_match(path) || path.file_name().is_some_and(|n| set.is_match(n))
}

/// Walk `roots` and send one event per file to `events` (blocking; run off the async runtime).
/// Every directory is entered and every file checked once, by (device, inode): a symbolic link
/// back into the walk, or a second path to a file or directory already walked, gets a note
/// instead. Links are followed (with `follow_symlinks`) after the real paths, so a file is
/// reported under its own path, not a link's.
///
/// Windows catalogs vouch for other files, so the scan runs in passes: the walk lists the files;
/// the catalogs given (`--catalog`) and the files named `*.cat` are checked first, and the
/// members of every signed one indexed; then every other file is checked, and one without a
/// signature of its own whose hash a catalog lists gets that catalog's signature. A catalog by
/// another name is verified and reported, but its members are not matched.
pub fn scan(roots: &[PathBuf], opts: &FsOptions, events: tokio::sync::mpsc::Sender<Event>) {
    let mut walker = Walker { opts, files: Vec::new(), events: &events, seen: HashMap::new(), links: VecDeque::new() };
    for root in roots {
        walker.root(root);
    }
    while let Some((link, root_dev)) = walker.links.pop_front() {
        walker.entry(&link, root_dev, true);
    }
    let files = std::mem::take(&mut walker.files);
    let is_cat = |p: &PathBuf| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("cat"));
    let (catalogs, others): (Vec<PathBuf>, Vec<PathBuf>) = files.into_iter().partition(is_cat);

    let index = Mutex::new(catalog::Index::default());
    for path in &opts.catalogs {
        match std::fs::read(path) {
            Ok(bytes) => {
                let shown = path_text(path);
                let (report, members) = check_file(&shown, &bytes, &opts.trust, None);
                match report.filter(|r| r.file_type == "cat") {
                    Some(r) if !r.signatures.is_empty() => {
                        index.lock().expect("index lock").add(&shown, r.signatures[0].clone(), &members)
                    }
                    Some(_) => {
                        let _ = events.blocking_send(error_event(
                            path,
                            "file-error",
                            "--catalog: the catalog is not signed".into(),
                        ));
                    }
                    None => {
                        let _ = events.blocking_send(error_event(
                            path,
                            "file-error",
                            "--catalog: not a Windows catalog".into(),
                        ));
                    }
                }
            }
            Err(e) => {
                let _ = events.blocking_send(error_event(path, "file-error", format!("--catalog: {e}")));
            }
        }
    }
    pool(opts, catalogs, &|path| {
        let (event, members) = check_path(path, &opts.trust, None);
        if let Event::File(r) = &event {
            if let (Some(sig), false) = (r.signatures.first(), members.is_empty()) {
                index.lock().expect("index lock").add(&r.path, sig.clone(), &members);
            }
        }
        let _ = events.blocking_send(event);
    });
    let index = index.into_inner().expect("index lock");
    let index = (!index.is_empty()).then_some(&index);
    pool(opts, others, &|path| {
        let _ = events.blocking_send(check_path(path, &opts.trust, index).0);
    });
}

/// Check `files` on the scan's worker threads.
fn pool(opts: &FsOptions, files: Vec<PathBuf>, work: &(dyn Fn(&Path) + Sync)) {
    let jobs =
        if opts.jobs == 0 { std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2) } else { opts.jobs };
    let queue = Mutex::new(files.into_iter());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let next = queue.lock().expect("queue lock").next();
                let Some(path) = next else { break };
                if stopped(opts) {
                    continue;
                }
                work(&path);
            });
        }
    });
}

/// The deadline passed or the scan was interrupted.
fn stopped(opts: &FsOptions) -> bool {
    opts.stop.load(std::sync::atomic::Ordering::Relaxed)
        || opts.deadline.is_some_and(|d| std::time::Instant::now() >= d)
}

fn error_event(path: &Path, code: &str, message: String) -> Event {
    Event::Error(ErrorReport {
        registry: None,
        repository: None,
        reference: Some(path_text(path)),
        code: code.into(),
        message,
    })
}

/// Identity of a file: (device, inode).
#[cfg(unix)]
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn file_id(_: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

struct Walker<'a> {
    opts: &'a FsOptions,
    /// The files to check, in walk order.
    files: Vec<PathBuf>,
    events: &'a tokio::sync::mpsc::Sender<Event>,
    /// Every directory entered and file queued, by (device, inode), with the path it was reached by.
    seen: HashMap<(u64, u64), PathBuf>,
    /// Symbolic links met while following them, with their root's device: walked last.
    links: VecDeque<(PathBuf, Option<u64>)>,
}

impl Walker<'_> {
    fn send(&self, e: Event) {
        let _ = self.events.blocking_send(e);
    }

    fn note(&self, path: &Path, code: &str, message: String) {
        let path = path_text(path);
        self.send(Event::Note(NoteReport { registry: None, path, code: code.into(), message }));
    }

    /// A path given on the command line: followed if it is a link, never excluded.
    fn root(&mut self, path: &Path) {
        match std::fs::metadata(path) {
            Ok(meta) => {
                let dev = file_id(&meta).map(|(d, _)| d);
                self.visit(path, &meta, dev);
            }
            Err(e) => self.send(error_event(path, "file-error", e.to_string())),
        }
    }

    /// An entry found in a directory (or a link taken up again: `link`).
    fn entry(&mut self, path: &Path, root_dev: Option<u64>, link: bool) {
        if stopped(self.opts) || excluded(self.opts, path) {
            return;
        }
        let meta = match std::fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => return self.send(error_event(path, "file-error", e.to_string())),
        };
        let meta = if meta.file_type().is_symlink() {
            if !self.opts.follow_symlinks {
                return;
            }
            if !link {
                // Real paths first: the link is walked when they are done.
                self.links.push_back((path.to_path_buf(), root_dev));
                return;
            }
            match std::fs::metadata(path) {
                Ok(m) => m,
                Err(e) => return self.send(error_event(path, "file-error", e.to_string())),
            }
        } else {
            meta
        };
        self.visit(path, &meta, root_dev);
    }

    fn visit(&mut self, path: &Path, meta: &std::fs::Metadata, root_dev: Option<u64>) {
        if !meta.is_dir() && !meta.is_file() {
            return;
        }
        let id = file_id(meta);
        if let (true, Some((dev, _)), Some(root)) = (self.opts.one_file_system, id, root_dev) {
            if dev != root {
                let what = if meta.is_dir() { "a directory" } else { "a file" };
                return self.note(
                    path,
                    "other-file-system",
                    format!("{what} on another file system than the path given: not walked (--one-file-system)"),
                );
            }
        }
        if let Some(id) = id {
            if let Some(first) = self.seen.get(&id) {
                let (code, message) = if meta.is_dir() && path.starts_with(first) {
                    (
                        "symlink-loop",
                        format!("leads back to {}, which holds it: a loop, not walked again", first.display()),
                    )
                } else if meta.is_dir() {
                    ("already-walked", format!("the same directory as {}, walked there", first.display()))
                } else {
                    ("already-walked", format!("the same file as {}, reported there", first.display()))
                };
                return self.note(path, code, message);
            }
            self.seen.insert(id, path.to_path_buf());
        }
        if meta.is_file() {
            self.files.push(path.to_path_buf());
            return;
        }
        let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => return self.send(error_event(path, "file-error", e.to_string())),
        };
        entries.sort();
        for e in entries {
            self.entry(&e, root_dev, false);
        }
    }
}

fn check_path(path: &Path, trust: &Trust, index: Option<&catalog::Index>) -> (Event, Vec<catalog::Member>) {
    let shown = path_text(path);
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            let why = format!("{} bytes exceed the {MAX_FILE_BYTES}-byte limit", m.len());
            return (error_event(path, "file-error", why), Vec::new());
        }
        Err(e) => return (error_event(path, "file-error", e.to_string()), Vec::new()),
        _ => {}
    }
    match std::fs::read(path) {
        // Defence in depth: a bug that panics while checking one file must not end the scan
        // (every other file's result would be lost); that file gets an error instead.
        Ok(bytes) => {
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_file(&shown, &bytes, trust, index))) {
                Ok((Some(r), members)) => (Event::File(Box::new(r)), members),
                Ok((None, _)) => (Event::Skipped, Vec::new()),
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| panic.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    tracing::error!(path = %shown, "internal error while checking the file: {what}");
                    let why = format!("internal error while checking this file ({what}); please report it");
                    (error_event(path, "file-error", why), Vec::new())
                }
            }
        }
        Err(e) => (error_event(path, "file-error", e.to_string()), Vec::new()),
    }
}

/// A path as reports write it: as it is when it is UTF-8; otherwise each byte that is not part
/// of valid UTF-8 as `\xNN`, so two names that differ only there stay two names (Rust's lossy
/// conversion would make both `\u{fffd}`, and a diff would see one file).
pub fn path_text(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut bytes = path.as_os_str().as_bytes();
    let mut out = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                out.push_str(s);
                return out;
            }
            Err(e) => {
                let (good, rest) = bytes.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(good).unwrap_or_default());
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    out.push_str(&format!("\\x{b:02x}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

#[cfg(test)]
mod path_tests {
    #[test]
    fn names_that_are_not_utf8_stay_apart() {
        use std::os::unix::ffi::OsStrExt;
        let p = |b: &[u8]| super::path_text(std::path::Path::new(std::ffi::OsStr::from_bytes(b)));
        assert_eq!(p(b"dir/bad\xff.exe"), "dir/bad\\xff.exe");
        assert_eq!(p(b"dir/bad\xfe.exe"), "dir/bad\\xfe.exe");
        assert_eq!(p("d/\u{e9}t\u{e9}.jar".as_bytes()), "d/\u{e9}t\u{e9}.jar");
        assert_eq!(p(b"a\xc3"), "a\\xc3");
    }
}
