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

/// A file being written to `path` through a temporary file in the same directory.
pub struct AtomicFile {
    path: PathBuf,
    temp: PathBuf,
    out: BufWriter<File>,
}

impl AtomicFile {
    /// Create the temporary file now, so that a directory that cannot be written is an error
    /// before the scan rather than after it.
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("{} names no file", path.display())))?;
        let temp = dir.join(format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id()));
        let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&temp).or_else(|e| {
            // A temporary file left by an earlier run of this very process id: replace it.
            if e.kind() == io::ErrorKind::AlreadyExists {
                std::fs::OpenOptions::new().write(true).truncate(true).open(&temp)
            } else {
                Err(e)
            }
        })?;
        PENDING.lock().unwrap_or_else(|e| e.into_inner()).push(temp.clone());
        Ok(AtomicFile { path: path.to_path_buf(), temp, out: BufWriter::new(file) })
    }

    /// Sync the data and rename it over the target; the directory entry is synced too.
    pub fn commit(mut self) -> io::Result<()> {
        self.out.flush()?;
        self.out.get_ref().sync_all()?;
        std::fs::rename(&self.temp, &self.path)?;
        forget(&self.temp);
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Best effort: some file systems do not sync directories.
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
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
        if PENDING.lock().unwrap_or_else(|e| e.into_inner()).contains(&self.temp) {
            let _ = std::fs::remove_file(&self.temp);
            forget(&self.temp);
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
}
