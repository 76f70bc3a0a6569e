//! The cache of one TUF repository (see [`super::cache_dir`]):
//! - `metadata/`: tough's datastore, the root, timestamp, snapshot and targets metadata last
//!   verified: the trusted root of the next update and its reference against rollback;
//! - `trusted_root.json`: the target;
//! - `state.json`: what the update got (a [`TufRoot`]).
//!
//! An update works on a copy beside the directory ([`Staging`]) and puts it in place (two renames)
//! only after every role and the target verified, so a failed or interrupted update leaves the
//! previous cache as it was. [`load`] re-checks the cache before a scan uses it: the metadata's
//! signatures under the cached root, their versions as snapshot and timestamp name them, and the
//! target's length and SHA-256 as targets lists them.

use super::{TufError, TufRoot, TRUSTED_ROOT_TARGET};
use std::path::{Path, PathBuf};
use tough::schema::{Root, Signed, Snapshot, Targets, Timestamp};

const STATE: &str = "state.json";
const METADATA: &str = "metadata";

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TufError + '_ {
    move |source| TufError::Io { path: path.display().to_string(), source }
}

/// A copy of the cache directory that an update writes into.
pub struct Staging {
    dir: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Staging {
    /// A fresh copy of `dir`'s metadata beside it (the rollback reference of this update).
    pub fn begin(dir: &Path) -> Result<Staging, TufError> {
        let parent = dir.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(io(parent))?;
        let tmp = parent.join(format!(".{}.update-{}", file_name(dir), unique()));
        let staging = Staging { dir: dir.to_path_buf(), tmp, committed: false };
        let meta = staging.metadata_dir();
        std::fs::create_dir_all(&meta).map_err(io(&meta))?;
        let cached = dir.join(METADATA);
        if cached.is_dir() {
            for entry in std::fs::read_dir(&cached).map_err(io(&cached))? {
                let entry = entry.map_err(io(&cached))?;
                if entry.file_type().map_err(io(&cached))?.is_file() {
                    let to = meta.join(entry.file_name());
                    std::fs::copy(entry.path(), &to).map_err(io(&to))?;
                }
            }
        }
        Ok(staging)
    }

    pub fn metadata_dir(&self) -> PathBuf {
        self.tmp.join(METADATA)
    }

    /// The trusted root to start from: the cached root when its version is at least `given`'s
    /// (it was reached from an earlier trusted root by verified steps), else `given`.
    pub fn newest_root(&self, given: &[u8]) -> Vec<u8> {
        let version = |b: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(b).ok().and_then(|v| v["signed"]["version"].as_u64())
        };
        match std::fs::read(self.metadata_dir().join("root.json")) {
            Ok(cached) if version(&cached) >= version(given) && version(&cached).is_some() => cached,
            _ => given.to_vec(),
        }
    }

    /// The target and state written, then the copy put in place of the cache directory.
    pub fn commit(mut self, got: &TufRoot, json: &str) -> Result<(), TufError> {
        write_synced(&self.tmp.join(TRUSTED_ROOT_TARGET), json.as_bytes())?;
        let state = serde_json::to_vec_pretty(got).expect("a TufRoot serialises");
        write_synced(&self.tmp.join(STATE), &state)?;
        let old = self.dir.with_file_name(format!(".{}.old-{}", file_name(&self.dir), unique()));
        let had = self.dir.exists();
        if had {
            std::fs::rename(&self.dir, &old).map_err(io(&self.dir))?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.dir) {
            if had {
                let _ = std::fs::rename(&old, &self.dir);
            }
            return Err(io(&self.dir)(e));
        }
        self.committed = true;
        if had {
            if let Err(e) = std::fs::remove_dir_all(&old) {
                tracing::warn!("could not remove the previous TUF cache {}: {e}", old.display());
            }
        }
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

fn file_name(dir: &Path) -> String {
    dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "tuf".into())
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), TufError> {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).map_err(io(path))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(io(path))
}

/// The earliest of the roles' expiries, and whose.
pub fn earliest(expiries: [(jiff::Timestamp, &'static str); 4]) -> (jiff::Timestamp, &'static str) {
    expiries.into_iter().min_by_key(|(t, _)| *t).expect("four roles")
}

/// The cached trusted root of the repository whose cache is `dir`, re-checked (see the module
/// documentation); `None` when nothing was cached. Expiry is not judged here: an expired cache
/// still serves offline, and the caller warns.
pub fn load(dir: &Path) -> Result<Option<(TufRoot, String)>, TufError> {
    let state_path = dir.join(STATE);
    let state = match std::fs::read(&state_path) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&state_path)(e)),
    };
    let bad = |message: String| TufError::Cache { dir: dir.display().to_string(), message };
    let state: TufRoot = serde_json::from_slice(&state).map_err(|e| bad(format!("{STATE}: {e}")))?;
    let read = |name: &str| std::fs::read(dir.join(name)).map_err(|e| bad(format!("{name}: {e}")));
    let json = String::from_utf8(read(TRUSTED_ROOT_TARGET)?).map_err(|e| bad(format!("{TRUSTED_ROOT_TARGET}: {e}")))?;
    let meta = |role: &str| -> Result<Vec<u8>, TufError> { read(&format!("{METADATA}/{role}.json")) };
    let root: Signed<Root> = typed("root", &meta("root")?).map_err(bad)?;
    let timestamp: Signed<Timestamp> = typed("timestamp", &meta("timestamp")?).map_err(bad)?;
    let snapshot: Signed<Snapshot> = typed("snapshot", &meta("snapshot")?).map_err(bad)?;
    let targets: Signed<Targets> = typed("targets", &meta("targets")?).map_err(bad)?;
    let r = &root.signed;
    r.verify_role(&root).map_err(|e| bad(format!("root.json is not signed by its own keys: {e}")))?;
    r.verify_role(&timestamp).map_err(|e| bad(format!("timestamp.json: {e}")))?;
    r.verify_role(&snapshot).map_err(|e| bad(format!("snapshot.json: {e}")))?;
    r.verify_role(&targets).map_err(|e| bad(format!("targets.json: {e}")))?;
    let named = |meta: &std::collections::HashMap<String, tough::schema::Metafile>, file: &str| {
        meta.get(file).map(|m| m.version.get())
    };
    if named(&timestamp.signed.meta, "snapshot.json") != Some(snapshot.signed.version.get()) {
        return Err(bad("snapshot.json is not the version timestamp.json names".into()));
    }
    if named(&snapshot.signed.meta, "targets.json") != Some(targets.signed.version.get()) {
        return Err(bad("targets.json is not the version snapshot.json names".into()));
    }
    let name = tough::TargetName::new(TRUSTED_ROOT_TARGET).map_err(|e| bad(e.to_string()))?;
    let listed = targets.signed.targets.get(&name).ok_or_else(|| {
        bad(format!(
            "the top-level targets.json lists no {TRUSTED_ROOT_TARGET} (a delegated one is not re-checked offline)"
        ))
    })?;
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(json.as_bytes());
    if listed.length != json.len() as u64 || listed.hashes.sha256.as_ref() != &digest[..] {
        return Err(bad(format!(
            "{TRUSTED_ROOT_TARGET} is not the file targets.json lists (length or SHA-256 differ)"
        )));
    }
    let (expires, role) = earliest([
        (r.expires, "root"),
        (timestamp.signed.expires, "timestamp"),
        (snapshot.signed.expires, "snapshot"),
        (targets.signed.expires, "targets"),
    ]);
    let got = TufRoot {
        tuf_url: state.tuf_url,
        root_version: r.version.get(),
        timestamp_version: timestamp.signed.version.get(),
        snapshot_version: snapshot.signed.version.get(),
        targets_version: targets.signed.version.get(),
        target_sha256: format!("sha256:{}", hex::encode(digest)),
        expires: expires.to_string(),
        expires_role: role.to_string(),
        updated: state.updated,
    };
    Ok(Some((got, json)))
}

fn typed<T: serde::de::DeserializeOwned>(role: &str, bytes: &[u8]) -> Result<T, String> {
    serde_json::from_slice(bytes).map_err(|e| format!("{role}.json: {e}"))
}
