//! Report files written atomically: into a temporary file beside the target, synced, then
//! renamed over it. A reader (a cron job's next step, a dashboard) sees the previous file or the
//! whole new one, never half of one; a process killed mid-write leaves the target untouched and
//! at most a temporary file, which [`remove_pending`] deletes when the process can still act.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files not yet renamed, for [`remove_pending`].
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// A file being written to `path` through a temporary file in the same directory, or, when
/// `path` is a device, a FIFO or a socket (`/dev/stdout`, a named pipe), straight to it: those
/// cannot be replaced, and their reader expects the bytes.
pub struct AtomicFile {
    path: PathBuf,
    /// None when writing straight to a special file.
    temp: Option<PathBuf>,
    out: BufWriter<File>,
}

impl AtomicFile {
    /// Create the temporary file now, so that a directory that cannot be written is an error
    /// before the scan rather than after it. The temporary file gets a fresh random name and is
    /// created exclusively (`O_EXCL`): a file or symbolic link planted under a name it might take
    /// is never opened, so a shared directory cannot turn the write against another file. A
    /// symbolic link at `path` itself is replaced by the report, not written through.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        if let Ok(meta) = std::fs::metadata(path) {
            let t = meta.file_type();
            if !t.is_file() && !t.is_dir() {
                let file = std::fs::OpenOptions::new().write(true).open(path)?;
                return Ok(AtomicFile { path: path.to_path_buf(), temp: None, out: BufWriter::new(file) });
            }
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
        remove_stale(&dir, &name.to_string_lossy());
        let mut last = None;
        for _ in 0..16 {
            let temp = dir.join(format!(".{}.{}.{:016x}.tmp", name.to_string_lossy(), std::process::id(), random()));
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&temp) {
                Ok(file) => {
                    PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(temp.clone());
                    return Ok(AtomicFile { path: path.to_path_buf(), temp: Some(temp), out: BufWriter::new(file) });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
    }

    /// Sync the data and rename it over the target; the directory entry is synced too.
    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        let Some(temp) = self.temp.clone() else { return Ok(()) };
        self.out.get_ref().sync_all()?;
        std::fs::rename(&temp, &self.path)?;
        forget(&temp);
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Best effort: some file systems do not sync directories.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

/// Remove the temporary files that runs killed outright (SIGKILL, a lost machine) left for this
/// target: `.NAME.PID.RANDOM.tmp` whose process is gone. A live process's file is never touched,
/// and only regular files of exactly that shape are (a link under such a name is left alone).
fn remove_stale(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.");
    for entry in entries.flatten() {
        let file = entry.file_name();
        let Some(rest) = file.to_str().and_then(|f| f.strip_prefix(&prefix)).and_then(|r| r.strip_suffix(".tmp"))
        else {
            continue;
        };
        let Some((pid, random)) = rest.split_once('.') else { continue };
        let shaped = pid.parse::<u32>().is_ok() && random.len() == 16 && random.bytes().all(|b| b.is_ascii_hexdigit());
        let regular = entry.file_type().is_ok_and(|t| t.is_file());
        if shaped && regular && !alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id runs (Linux: /proc); elsewhere always assumed alive.
fn alive(pid: &str) -> bool {
    if cfg!(target_os = "linux") {
        Path::new("/proc").join(pid).exists()
    } else {
        true
    }
}

/// 64 random bits from the standard library's per-process random hash keys.
fn random() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    h.finish()
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl super::render::Sink for AtomicFile {
    fn commit(self: Box<Self>) -> io::Result<()> {
        AtomicFile::commit(*self)
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        // Not committed (an error, a panic): the target keeps its previous content.
        if let Some(temp) = &self.temp {
            if PENDING.lock().unwrap_or_else(|e| e.into_inner()).contains(temp) {
                let _ = std::fs::remove_file(temp);
                forget(temp);
            }
        }
    }
}

fn forget(temp: &Path) {
    PENDING.lock().unwrap_or_else(|e| e.into_inner()).retain(|p| p != temp);
}

/// Delete the temporary files of outputs not yet committed (a process about to exit at once,
/// on a second interrupt).
pub fn remove_pending() {
    let pending = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|e| e.into_inner()));
    for p in pending {
        let _ = std::fs::remove_file(p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_target_changes_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("report.json");
        std::fs::write(&target, "old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new, half").unwrap();
        f.flush().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        drop(f);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the temporary file is gone");
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert!(AtomicFile::create(&dir.path().join("missing/report.json")).is_err());
    }

    #[test]
    fn leftovers_of_dead_runs_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("r.json");
        // A pid that cannot run (above the kernel's maximum), and this very process.
        let dead = dir.path().join(".r.json.4294967.0123456789abcdef.tmp");
        let live = dir.path().join(format!(".r.json.{}.0123456789abcdef.tmp", std::process::id()));
        let other = dir.path().join(".r.json.bak");
        for f in [&dead, &live, &other] {
            std::fs::write(f, "left").unwrap();
        }
        AtomicFile::create(&target).unwrap().commit().unwrap();
        assert!(!dead.exists(), "a dead run's temporary file is removed");
        assert!(live.exists() && other.exists(), "a live run's, and other files, are kept");
    }

    #[test]
    fn a_planted_link_is_never_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim.conf");
        std::fs::write(&victim, "important").unwrap();
        // Links planted under every name of this process's old scheme, and at the target.
        let target = dir.path().join("r.json");
        std::os::unix::fs::symlink(&victim, dir.path().join(format!(".r.json.{}.tmp", std::process::id()))).unwrap();
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.write_all(b"report").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "important");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "report");
        assert!(!std::fs::symlink_metadata(&target).unwrap().file_type().is_symlink(), "the link is replaced");
    }

    #[test]
    fn a_fifo_is_written_straight_to() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
        assert!(made.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
        };
        let mut f = AtomicFile::create(&fifo).unwrap();
        f.write_all(b"through the pipe").unwrap();
        f.commit().unwrap();
        assert_eq!(reader.join().unwrap(), "through the pipe");
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo(), "still a FIFO");
    }
}
