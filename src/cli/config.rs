//! `--config FILE`: trust material, policy and connection settings in one TOML file, so a cron
//! job's command line stays short and the trust decisions live in a reviewed file.
//!
//! Keys are the long flag names, and a key means exactly what its flag means: the file is turned
//! into flags placed before the command line's own, and clap parses them together. So every key
//! works for every command that has that flag, and for no other (one file can serve every
//! command: each takes the keys that apply to it); lists add to the flags given on the command
//! line; for a single value the command line wins; a value that does not parse is the flag's
//! own error. Relative paths are relative to the file. A key that is no command's flag is an
//! error, and so are the keys left to the command line on purpose (secrets, the bundle to verify,
//! turning TLS verification off).
//!
//! ```toml
//! key = ["keys/cosign.pub"]
//! ca-roots = ["/etc/ssl/our-code-signing-roots.pem"]
//! certificate-identity-regexp = "^https://github.com/our-org/"
//! certificate-oidc-issuer = "https://token.actions.githubusercontent.com"
//! fail-on = ["invalid", "unsigned", "error"]
//! output = "json"
//! deadline = "30m"
//! ```

use anyhow::{bail, Context, Result};
use clap::parser::ValueSource;
use clap::{ArgMatches, Command, ValueHint};
use std::ffi::OsString;
use std::path::Path;

/// Flags a config file may not set: secrets, what one run verifies, and the TLS switch-off.
const COMMAND_LINE_ONLY: &[&str] = &[
    "password",
    "password-stdin",
    "token",
    "platform-token",
    "insecure-skip-tls-verify",
    "bundle",
    "json",
    "config",
    "help",
    "version",
];

/// Commands the config file does not apply to: `merge` and `diff` judge nothing (a merged report
/// keeps the settings its inputs ran with) and take their few flags on the command line.
const NO_CONFIG: &[&str] = &["merge", "diff"];

/// The config file's list of registries for `sigaudit registry` (`[[targets]]`).
pub const TARGETS: &str = "targets";

/// The config file's trusted keys with their lives (`[[keys]]`), for `registry` and `image`.
pub const KEYS: &str = "keys";

/// One `[[keys]]` entry: a public key (PEM) the scan trusts, its name, its rotation window and
/// its revocation ([`sigaudit::key_life`]). Times are RFC 3339 (TOML datetimes) or dates.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct KeyConfig {
    pub path: std::path::PathBuf,
    pub name: Option<String>,
    pub not_before: Option<toml::Value>,
    pub not_after: Option<toml::Value>,
    /// When the key was revoked (`true`: revoked, no date).
    pub revoked: Option<toml::Value>,
    /// Why (an RFC 5280 reason: keyCompromise makes its signatures invalid).
    pub reason: Option<String>,
}

/// A `[[keys]]` time: an RFC 3339 date-time or a date (midnight UTC).
pub fn key_time(v: &toml::Value, what: &str) -> Result<i64> {
    let text = match v {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        other => bail!("{what}: {other} is not a date or an RFC 3339 time"),
    };
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(&text) {
        return Ok(t.timestamp());
    }
    let d = chrono::NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .with_context(|| format!("{what}: {text:?} is not a date or an RFC 3339 time"))?;
    Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp())
}

/// The `[[keys]]` of a config file (empty when it has none); relative paths made absolute.
pub fn trusted_keys(path: &Path) -> Result<Vec<KeyConfig>> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        keys: Vec<KeyConfig>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("--config {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).with_context(|| format!("--config {}", path.display()))?;
    let Some(value) = table.get(KEYS) else { return Ok(Vec::new()) };
    if !value.as_array().is_some_and(|a| a.iter().all(toml::Value::is_table)) {
        bail!(
            "--config {}: keys must be [[keys]] tables (path, name, not-before, not-after, revoked, reason); \
             a list of key files is key = [\"FILE\", …]",
            path.display()
        );
    }
    let mut only = toml::Table::new();
    only.insert(KEYS.into(), value.clone());
    let file: File = only.try_into().with_context(|| format!("--config {}: [[keys]]", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(file
        .keys
        .into_iter()
        .map(|mut k| {
            k.path = base.join(&k.path);
            k
        })
        .collect())
}

/// One `[[targets]]` entry: a registry and what is its own (what it lists, how to reach it, its
/// credentials). Everything else (trust material, policy, output) is the run's.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetConfig {
    /// `[http://|https://]HOST[:PORT][/NAMESPACE]`, as on the command line.
    pub target: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repos_file: Option<std::path::PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plain_http: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rps: Option<u32>,
    /// User name; the password is read from the environment variable `password-env` names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The environment variable holding a bearer token for this registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_env: Option<String>,
    /// `--lister` for this registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lister: Option<String>,
    /// `--lister-url` for this registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lister_url: Option<String>,
    /// The environment variable holding the platform API's token for this registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform_token_env: Option<String>,
}

/// The `[[targets]]` of a config file (empty when it has none); relative paths made absolute.
pub fn targets(path: &Path) -> Result<Vec<TargetConfig>> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        targets: Vec<TargetConfig>,
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("--config {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).with_context(|| format!("--config {}", path.display()))?;
    let Some(value) = table.get(TARGETS) else { return Ok(Vec::new()) };
    let mut only = toml::Table::new();
    only.insert(TARGETS.into(), value.clone());
    let file: File = only.try_into().with_context(|| format!("--config {}: [[targets]]", path.display()))?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = file.targets;
    for t in &mut out {
        if let Some(p) = t.repos_file.as_mut().filter(|p| p.is_relative()) {
            *p = base.join(&*p);
        }
        if t.password_env.is_some() && t.username.is_none() {
            bail!("--config {}: target {}: password-env needs username", path.display(), t.target);
        }
    }
    Ok(out)
}

/// Every key a config file may hold, with the commands it applies to (for the README and tests).
pub fn keys(cmd: &Command) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set() && !NO_CONFIG.contains(&s.get_name())) {
        for arg in sub.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if arg.is_global_set() || COMMAND_LINE_ONLY.contains(&long) {
                continue;
            }
            match out.iter_mut().find(|(k, _)| k == long) {
                Some((_, cmds)) => cmds.push(sub.get_name().to_string()),
                None => out.push((long.to_string(), vec![sub.get_name().to_string()])),
            }
        }
    }
    out
}

/// The command line with the config file's settings spliced in after the subcommand's name.
/// `matches` are the command line's own (already validated); `argv` its words.
pub fn splice(cmd: &Command, argv: &[OsString], matches: &ArgMatches, path: &Path) -> Result<Vec<OsString>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("--config {}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).with_context(|| format!("--config {}", path.display()))?;
    let Some((name, sub_matches)) = matches.subcommand() else { return Ok(argv.to_vec()) };
    if NO_CONFIG.contains(&name) {
        tracing::warn!(
            "--config {} (or SIGAUDIT_CONFIG) does not apply to `{name}`: give its flags on the command line",
            path.display()
        );
        return Ok(argv.to_vec());
    }
    let sub = cmd.find_subcommand(name).context("the subcommand")?;
    let known = keys(cmd);
    let base = path.parent().unwrap_or(Path::new("."));
    let mut flags: Vec<OsString> = Vec::new();
    for (key, value) in &table {
        if key == TARGETS || key == KEYS {
            // Registries with their own settings, keys with their lives: read by the scans
            // themselves (`targets`, `trusted_keys`).
            continue;
        }
        if key == super::signature_sources::CONFIG_TABLE {
            // `[signature-repositories]`: PREFIX = REPO, each one --signature-repository.
            let table = value.as_table().with_context(|| {
                format!("--config {}: [{key}] is a table of image-name prefix = signature repository", path.display())
            })?;
            if sub.get_arguments().any(|a| a.get_long() == Some("signature-repository")) {
                for (prefix, repo) in table {
                    let repo = repo.as_str().with_context(|| {
                        format!("--config {}: [{key}] {prefix}: the signature repository is a string", path.display())
                    })?;
                    flags.push(format!("--signature-repository={prefix}={repo}").into());
                }
            }
            continue;
        }
        if !known.iter().any(|(k, _)| k == key) {
            if COMMAND_LINE_ONLY.contains(&key.as_str()) {
                bail!("--config {}: {key} can only be given on the command line", path.display());
            }
            bail!(
                "--config {}: unknown field {key:?} (a key is a long flag name: {})",
                path.display(),
                known.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(", ")
            );
        }
        let Some(arg) = sub.get_arguments().find(|a| a.get_long() == Some(key)) else {
            tracing::debug!("--config: {key} does not apply to `{name}`");
            continue;
        };
        // A flag the command line gives, or one it conflicts with (--certificate-identity
        // against --certificate-identity-regexp), leaves the file's value out for a single value.
        let given = |id: &str| matches!(sub_matches.value_source(id), Some(ValueSource::CommandLine));
        let multiple = matches!(arg.get_action(), clap::ArgAction::Append);
        if !multiple && sub.get_arg_conflicts_with(arg).iter().any(|c| given(c.get_id().as_str())) {
            continue;
        }
        // Outputs are a list, but where the report goes is the command line's to say: `-o` given
        // there replaces the file's outputs rather than adding a second report to stdout.
        if key == "output" && given(arg.get_id().as_str()) {
            continue;
        }
        let is_path = matches!(arg.get_value_hint(), ValueHint::FilePath | ValueHint::DirPath | ValueHint::AnyPath);
        let takes_value = arg.get_action().takes_values();
        let word = |v: &toml::Value| -> Result<OsString> {
            let s = match v {
                toml::Value::String(s) if is_path && Path::new(s).is_relative() => {
                    return Ok(format!("--{key}={}", base.join(s).display()).into())
                }
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => bail!("--config {}: {key} = {other} is not a value", path.display()),
            };
            Ok(format!("--{key}={s}").into())
        };
        match value {
            toml::Value::Boolean(b) if !takes_value => {
                if *b {
                    flags.push(format!("--{key}").into());
                }
            }
            toml::Value::Array(items) if multiple || items.len() == 1 => {
                for item in items {
                    flags.push(word(item)?);
                }
            }
            toml::Value::Array(_) => bail!("--config {}: {key} takes one value, not a list", path.display()),
            _ if !takes_value => bail!("--config {}: {key} is a switch: true or false", path.display()),
            v => flags.push(word(v)?),
        }
    }
    let at = subcommand_position(argv).context("the subcommand's position")?;
    let mut out = argv[..=at].to_vec();
    out.extend(flags);
    out.extend_from_slice(&argv[at + 1..]);
    Ok(out)
}

/// Where the subcommand's name is: the first word that is not a top-level option (only `-v`,
/// `--config FILE`, `--help` and `--version` come before it).
fn subcommand_position(argv: &[OsString]) -> Option<usize> {
    let mut i = 1;
    while i < argv.len() {
        let w = argv[i].to_string_lossy();
        if w == "--config" {
            i += 2;
            continue;
        }
        if !w.starts_with('-') {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// The settings a scan ran with, for the report: every flag given (on the command line or by the
/// config file), by long name, as given; secrets left out. Defaults are not listed.
pub fn settings(sub: &Command, m: &ArgMatches) -> serde_json::Map<String, serde_json::Value> {
    let mut out = serde_json::Map::new();
    for arg in sub.get_arguments() {
        let id = arg.get_id().as_str();
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "password" | "token" | "platform-token" | "help" | "version") || arg.is_global_set() {
            continue;
        }
        if !matches!(m.value_source(id), Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable)) {
            continue;
        }
        if !arg.get_action().takes_values() {
            out.insert(long.to_string(), true.into());
            continue;
        }
        let values: Vec<serde_json::Value> = m
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| serde_json::Value::String(v.to_string_lossy().into_owned()))
            .collect();
        // A file's content decides as much as its name: its SHA-256 is recorded beside the path
        // (`key-sha256`…), so reports judged under other trust material or another repository
        // list do not pass for one scan when merged.
        if matches!(arg.get_value_hint(), ValueHint::FilePath) {
            let digests: Vec<serde_json::Value> =
                values.iter().filter_map(|v| v.as_str()).map(|p| file_digest(Path::new(p)).into()).collect();
            let digest = match arg.get_action() {
                clap::ArgAction::Append => serde_json::Value::Array(digests),
                _ => digests.into_iter().next().unwrap_or_default(),
            };
            out.insert(format!("{long}-sha256"), digest);
        }
        let value = match arg.get_action() {
            clap::ArgAction::Append => serde_json::Value::Array(values),
            _ => values.into_iter().next().unwrap_or_default(),
        };
        out.insert(long.to_string(), value);
    }
    out
}

/// `sha256:<hex>` of a settings file's content (at most 64 MiB read), or an empty string when it
/// cannot be read (the command then fails on it with its own error).
pub fn file_digest(path: &Path) -> String {
    use sha2::{Digest, Sha256};
    use std::io::Read;
    let Ok(file) = std::fs::File::open(path) else { return String::new() };
    let mut bytes = Vec::new();
    if file.take(64 << 20).read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}
