//! `sigaudit trust update`, and the default Sigstore trusted root of the commands that verify
//! Sigstore signatures: the one TUF keeps current (cached by `trust update` or `--refresh-trust`),
//! else the public-good root built in. An explicit `--trusted-root FILE` always wins.

use super::args::{SignerArgs, TrustArgs, TrustCommand, TufArgs};
use super::run::ExitStatus;
use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use sigaudit::tuf::{self, TufError, TufRoot};
use std::path::PathBuf;
use std::time::Duration;

pub fn run(a: &TrustArgs) -> Result<ExitStatus> {
    match &a.what {
        TrustCommand::Update(u) => {
            let (url, cache_home) = (url_of(&u.tuf), cache_home()?);
            let root = start_root(&u.tuf, &url, &cache_home)?;
            match update(&url, &root, &cache_home, Duration::from_secs(u.timeout.max(1))) {
                Ok(got) => {
                    let dir = tuf::cache_dir(&cache_home, &url);
                    if u.json {
                        let mut v = serde_json::to_value(&got)?;
                        v["cache"] = dir.display().to_string().into();
                        println!("{}", serde_json::to_string_pretty(&v)?);
                    } else {
                        println!(
                            "TUF repository {}: root version {}, timestamp {}, snapshot {}, targets {}",
                            got.tuf_url,
                            got.root_version,
                            got.timestamp_version,
                            got.snapshot_version,
                            got.targets_version
                        );
                        println!("trusted_root.json {} ({})", got.target_sha256, dir.display());
                        println!("metadata expires {} ({})", got.expires, got.expires_role);
                    }
                    Ok(ExitStatus::Success)
                }
                Err(e) => {
                    eprintln!("sigaudit: TUF update refused: {e}; the cache is left as it was");
                    Ok(ExitStatus::PolicyFailure)
                }
            }
        }
    }
}

fn url_of(t: &TufArgs) -> String {
    tuf::normalise_url(t.tuf_url.as_deref().unwrap_or(tuf::PUBLIC_GOOD_URL))
}

fn cache_home() -> Result<PathBuf> {
    tuf::user_cache_home().context("no cache directory for the TUF metadata: set XDG_CACHE_HOME or HOME")
}

/// `--tuf-root`, else the built-in public-good root for its repository, else the cached root
/// of an earlier update (the update itself takes the newest of the given and the cached).
fn start_root(t: &TufArgs, url: &str, cache_home: &std::path::Path) -> Result<Vec<u8>> {
    let given = match &t.tuf_root {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("--tuf-root {}", p.display()))?),
        None => None,
    };
    match tuf::initial_root(url, given) {
        Ok(root) => Ok(root),
        Err(e) => std::fs::read(tuf::cache_dir(cache_home, url).join("metadata/root.json")).map_err(|_| e.into()),
    }
}

/// The update on a thread of its own (callers may already be inside the scan's runtime).
fn update(url: &str, root: &[u8], cache_home: &std::path::Path, timeout: Duration) -> Result<TufRoot, TufError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|source| TufError::Io { path: "a runtime for the TUF update".into(), source })?;
            rt.block_on(tuf::update(url, root, cache_home, timeout)).map(|(got, _)| got)
        })
        .join()
        .expect("the TUF update does not panic")
    })
}

/// The Sigstore trusted root a scan uses when no `--trusted-root` is given.
pub struct DefaultRoot {
    /// How the verdicts name it.
    pub source: String,
    pub json: String,
    /// For `scan.settings` (`sigstore-root`).
    pub record: Value,
    /// What a report's notes say (code, message): an expired cache, a failed `--refresh-trust`,
    /// an unusable cache. Also logged as warnings.
    pub warnings: Vec<(&'static str, String)>,
}

/// With `--refresh-trust`, update first (a failure is a warning, recorded); then the cache of
/// `--tuf-url` if there is one (re-checked; expired metadata is a warning, recorded), else the
/// built-in root. A `--tuf-url` other than public-good with nothing cached is a usage error (the
/// built-in public-good root would answer for another repository), unless `--refresh-trust` was
/// asked and failed: then the built-in root judges, with a note saying so.
pub fn default_root(a: &SignerArgs) -> Result<DefaultRoot> {
    let url = url_of(&a.tuf);
    let named_other = url != tuf::PUBLIC_GOOD_URL;
    let mut warnings = Vec::new();
    let home = tuf::user_cache_home();
    if a.refresh_trust {
        let outcome = match &home {
            None => Err(anyhow::anyhow!("no cache directory: set XDG_CACHE_HOME or HOME")),
            Some(h) => {
                start_root(&a.tuf, &url, h).and_then(|root| Ok(update(&url, &root, h, Duration::from_secs(30))?))
            }
        };
        match outcome {
            Ok(got) => {
                tracing::info!("TUF: {url} root version {}, trusted_root.json {}", got.root_version, got.target_sha256)
            }
            Err(e) => warnings.push((
                "trust-refresh-failed",
                format!("--refresh-trust: the TUF update failed ({e:#}); the cached or built-in root judges"),
            )),
        }
    }
    let cached = home.as_ref().map(|h| tuf::cache::load(&tuf::cache_dir(h, &url)));
    let chosen = match cached {
        Some(Ok(Some((got, json)))) => {
            if expired(&got.expires) {
                warnings.push((
                    "trusted-root-expired",
                    format!(
                        "the cached trusted root's TUF metadata ({} role) expired {}: run `sigaudit trust update`",
                        got.expires_role, got.expires
                    ),
                ));
            }
            let source = format!("TUF cache of {url} (root version {}, trusted_root.json {})", got.root_version, got.target_sha256);
            let mut record = serde_json::to_value(&got)?;
            record["source"] = "cache".into();
            // When this machine last updated is no part of which root judged.
            record.as_object_mut().map(|o| o.remove("updated"));
            DefaultRoot { source, json, record, warnings: Vec::new() }
        }
        Some(Err(e)) if named_other => bail!("--tuf-url {url}: {e}"),
        Some(Err(e)) => {
            warnings.push(("trusted-root-cache-unusable", format!("the cached trusted root is not usable ({e}); the built-in root judges")));
            builtin()
        }
        _ if named_other && !a.refresh_trust => bail!(
            "no trusted root cached for --tuf-url {url}: run `sigaudit trust update --tuf-url {url} --tuf-root FILE` first, or add --refresh-trust"
        ),
        _ if named_other => {
            warnings.push((
                "trusted-root-not-cached",
                format!("no trusted root cached for --tuf-url {url}: the built-in public-good root judges"),
            ));
            builtin()
        }
        _ => builtin(),
    };
    let mut chosen = chosen;
    for (_, w) in &warnings {
        tracing::warn!("{w}");
    }
    chosen.warnings = warnings;
    Ok(chosen)
}

fn expired(expires: &str) -> bool {
    expires.parse::<jiff::Timestamp>().map(|t| t < jiff::Timestamp::now()).unwrap_or(true)
}

fn builtin() -> DefaultRoot {
    use sha2::Digest as _;
    let json = sigaudit::sigstore::PUBLIC_GOOD_ROOT.to_string();
    let digest = format!("sha256:{}", hex::encode(sha2::Sha256::digest(json.as_bytes())));
    DefaultRoot {
        source: "built-in public-good root".into(),
        record: json!({"source": "builtin", "target-sha256": digest}),
        json,
        warnings: Vec::new(),
    }
}
