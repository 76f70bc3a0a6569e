//! `--config FILE`: trust material, policy and connection settings in one TOML file, so a cron
//! job's command line stays short and the trust decisions live in a reviewed file. Keys are the
//! long flag names; lists add to the flags given on the command line, and a value given on the
//! command line wins over the file. Relative paths are relative to the file. One file can serve
//! every command: each takes the keys that apply to it.
//!
//! ```toml
//! key = ["keys/cosign.pub"]
//! ca-roots = ["/etc/ssl/our-code-signing-roots.pem"]
//! certificate-identity-regexp = "^https://github.com/our-org/"
//! certificate-oidc-issuer = "https://token.actions.githubusercontent.com"
//! notation-trust-policy = "notation/trustpolicy.json"
//! notation-trust-store = "notation/truststore"
//! fail-on = ["invalid", "unsigned", "error"]
//! output = "json"
//! ```

use super::args::{CommonArgs, FsArgs, Output, ReportArgs, SignerArgs};
use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    #[serde(default)]
    key: Vec<PathBuf>,
    #[serde(default)]
    ca_roots: Vec<PathBuf>,
    #[serde(default)]
    tsa_roots: Vec<PathBuf>,
    #[serde(default)]
    trusted_root: Vec<PathBuf>,
    certificate_identity: Option<String>,
    certificate_identity_regexp: Option<String>,
    certificate_oidc_issuer: Option<String>,
    notation_trust_policy: Option<PathBuf>,
    notation_trust_store: Option<PathBuf>,
    #[serde(default)]
    fail_on: Vec<String>,
    output: Option<String>,
    at: Option<String>,
    // Registry connection.
    #[serde(default)]
    tls_ca: Vec<PathBuf>,
    username: Option<String>,
    plain_http: Option<bool>,
    concurrency: Option<u16>,
    timeout: Option<u64>,
    retries: Option<u32>,
    rps: Option<u32>,
    // Filesystem scans.
    #[serde(default)]
    exclude: Vec<String>,
    follow_symlinks: Option<bool>,
}

impl ConfigFile {
    pub fn load(path: &Path) -> Result<ConfigFile> {
        let text = std::fs::read_to_string(path).with_context(|| format!("--config {}", path.display()))?;
        let mut c: ConfigFile = toml::from_str(&text).with_context(|| format!("--config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rebase = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        c.key
            .iter_mut()
            .chain(&mut c.ca_roots)
            .chain(&mut c.tsa_roots)
            .chain(&mut c.trusted_root)
            .chain(&mut c.tls_ca)
            .for_each(rebase);
        c.notation_trust_policy.iter_mut().chain(&mut c.notation_trust_store).for_each(rebase);
        Ok(c)
    }

    fn report(&self, r: &mut ReportArgs, m: &ArgMatches) -> Result<()> {
        r.fail_on.extend(self.fail_on.iter().cloned());
        if let (Some(o), true) = (&self.output, defaulted(m, "output")) {
            r.output = <Output as clap::ValueEnum>::from_str(o, true)
                .map_err(|_| anyhow::anyhow!("--config: output {o:?} is not one of table, wide, json, ndjson"))?;
        }
        if r.at.is_none() {
            r.at.clone_from(&self.at);
        }
        Ok(())
    }

    fn signer(&self, s: &mut SignerArgs) {
        s.keys.extend(self.key.iter().cloned());
        s.trusted_root.extend(self.trusted_root.iter().cloned());
        if s.certificate_identity.is_none() && s.certificate_identity_regexp.is_none() {
            s.certificate_identity.clone_from(&self.certificate_identity);
            s.certificate_identity_regexp.clone_from(&self.certificate_identity_regexp);
        }
        if s.certificate_oidc_issuer.is_none() {
            s.certificate_oidc_issuer.clone_from(&self.certificate_oidc_issuer);
        }
    }

    /// Merge into a registry or image command's arguments (`m`: that subcommand's matches).
    pub fn apply(&self, c: &mut CommonArgs, m: &ArgMatches) -> Result<()> {
        self.report(&mut c.report, m)?;
        self.signer(&mut c.signer);
        c.ca_roots.extend(self.ca_roots.iter().cloned());
        c.tsa_roots.extend(self.tsa_roots.iter().cloned());
        c.tls_ca.extend(self.tls_ca.iter().cloned());
        if c.notation_trust_policy.is_none() {
            c.notation_trust_policy.clone_from(&self.notation_trust_policy);
        }
        if c.notation_trust_store.is_none() {
            c.notation_trust_store.clone_from(&self.notation_trust_store);
        }
        if c.username.is_none() {
            c.username.clone_from(&self.username);
        }
        if let (Some(v), true) = (self.plain_http, defaulted(m, "plain_http")) {
            c.plain_http = v;
        }
        if let (Some(v), true) = (self.concurrency, defaulted(m, "concurrency")) {
            anyhow::ensure!((1..=1024).contains(&v), "--config: concurrency must be 1 to 1024");
            c.concurrency = v;
        }
        if let (Some(v), true) = (self.timeout, defaulted(m, "timeout")) {
            c.timeout = v;
        }
        if let (Some(v), true) = (self.retries, defaulted(m, "retries")) {
            c.retries = v;
        }
        if let (Some(v), true) = (self.rps, defaulted(m, "rps")) {
            c.rps = v;
        }
        Ok(())
    }

    /// Merge into a verify-bundle command's arguments.
    pub fn apply_signer(&self, s: &mut SignerArgs) {
        self.signer(s);
    }

    /// Merge into an fs command's arguments.
    pub fn apply_fs(&self, f: &mut FsArgs, m: &ArgMatches) -> Result<()> {
        self.report(&mut f.report, m)?;
        f.ca_roots.extend(self.ca_roots.iter().cloned());
        f.tsa_roots.extend(self.tsa_roots.iter().cloned());
        f.exclude.extend(self.exclude.iter().cloned());
        if let (Some(v), true) = (self.follow_symlinks, defaulted(m, "follow_symlinks")) {
            f.follow_symlinks = v;
        }
        Ok(())
    }
}

/// Whether the argument `id` was left at its default (not given on the command line).
fn defaulted(m: &ArgMatches, id: &str) -> bool {
    !matches!(m.value_source(id), Some(ValueSource::CommandLine) | Some(ValueSource::EnvVariable))
}
