//! Where signatures are looked up besides the image's own repository, and the trust material of
//! simple signing: `--signature-repository`, `--lookaside`, `--registries-d`, `--gpg-keyring`,
//! `--containers-policy`. Shared by every command that audits images (`registry`, `image`, and
//! any later one that flattens [`SignatureSourceArgs`]).

use anyhow::{Context, Result};
use clap::{Args, ValueHint};
use sigaudit::containers::policy::ContainersPolicy;
use sigaudit::containers::registries_d::RegistriesD;
use sigaudit::crawl::lookaside::SimpleSigning;
use sigaudit::crawl::sigrepo::SignatureRepositories;
use sigaudit::signature::openpgp;
use sigaudit::signature::simple_signing::GpgTrust;
use sigaudit::trust::Trust;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The config file's table of signature repositories: `[signature-repositories]`, image-name
/// prefix = signature repository (each becomes `--signature-repository PREFIX=REPO`).
pub const CONFIG_TABLE: &str = "signature-repositories";

#[derive(Args, Debug, Default)]
pub struct SignatureSourceArgs {
    /// Look up cosign .sig/.att tags and Notary/Sigstore referrers in this repository instead of
    /// beside the image (cosign's COSIGN_REPOSITORY): `HOST[:PORT]/REPO` for every image, or
    /// `PREFIX=HOST[:PORT]/REPO` for the images whose `HOST/REPO` starts with PREFIX (repeatable;
    /// the longest prefix wins; `http://` before the repository: plain HTTP). Config file:
    /// `signature-repository = [...]` or a `[signature-repositories]` table.
    #[arg(long, value_name = "[PREFIX=]REPO")]
    pub signature_repository: Vec<String>,
    /// With --signature-repository: look beside the image as well (cosign looks only there).
    #[arg(long)]
    pub signatures_beside_image: bool,
    /// Simple-signing (GPG) lookaside store for every image: `http://`, `https://` or `file://`
    /// URL; signatures are read at `URL/REPO@sha256=HEX/signature-N`. Without it, the
    /// registries.d files say (see --registries-d).
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub lookaside: Option<String>,
    /// containers/image registries.d directory naming lookaside stores per registry and
    /// namespace (default: ~/.config/containers/registries.d if it exists, else
    /// /etc/containers/registries.d).
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub registries_d: Option<PathBuf>,
    /// OpenPGP public keyring (armored or binary, e.g. `gpg --export KEYID`) whose keys verify
    /// simple-signing signatures of every image (repeatable).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub gpg_keyring: Vec<PathBuf>,
    /// A containers policy.json, evaluated for each tag (or the digest) of each image as
    /// containers/image does (a refused reference makes a verified image untrusted); its
    /// `signedBy` (GPG) keys judge simple-signing signatures and its `sigstoreSigned` public keys
    /// verify cosign signatures (as --key does), per scope of the docker transport.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub containers_policy: Option<PathBuf>,
}

/// The sources, ready for scans.
#[derive(Default)]
pub struct Prepared {
    pub signature_repositories: SignatureRepositories,
    pub simple_signing: Option<Arc<SimpleSigning>>,
    /// The containers policy's `sigstoreSigned` keys: the trust of each scope that has some
    /// (the scan's trust read so far, plus those keys), by scope label.
    pub scoped_trust: Option<(Arc<ContainersPolicy>, std::collections::HashMap<String, Trust>)>,
    /// `--containers-policy`, evaluated for each reference of each image.
    pub containers_policy: Option<Arc<ContainersPolicy>>,
}

impl Prepared {
    /// Whether trust material was given here: OpenPGP keys, or sigstoreSigned keys of a policy.
    pub fn trust_given(&self) -> bool {
        self.scoped_trust.is_some()
            || self.simple_signing.as_ref().and_then(|s| s.trust.as_ref()).is_some_and(|t| !t.is_empty())
    }
}

/// Read and check everything the flags name. `trust` is the scan's trust read from the other
/// flags: each policy scope with `sigstoreSigned` keys gets a copy with those keys added, for
/// the images of that scope only.
pub fn prepare(a: &SignatureSourceArgs, timeout: Duration, trust: &Trust) -> Result<Prepared> {
    let mut sigrepos = SignatureRepositories::default();
    for s in &a.signature_repository {
        sigrepos.add(s).map_err(|e| anyhow::anyhow!("--signature-repository {e}"))?;
    }
    if a.signatures_beside_image && sigrepos.is_empty() {
        anyhow::bail!("--signatures-beside-image needs --signature-repository");
    }
    sigrepos.also_beside = a.signatures_beside_image;

    let mut gpg = GpgTrust::default();
    let mut scoped_trust = None;
    let mut containers_policy = None;
    for path in &a.gpg_keyring {
        let bytes = std::fs::read(path).with_context(|| format!("--gpg-keyring {}", path.display()))?;
        let certs = openpgp::parse_keyring(&bytes, &path.display().to_string())
            .map_err(|e| anyhow::anyhow!("--gpg-keyring {e}"))?;
        gpg.keyring.extend(certs.into_iter().map(Arc::new));
    }
    if let Some(path) = &a.containers_policy {
        let policy = ContainersPolicy::load(path).map_err(|e| anyhow::anyhow!("--containers-policy {e}"))?;
        // Each scope's sigstoreSigned keys, on top of the scan's trust, for that scope's images.
        let mut by_scope = std::collections::HashMap::new();
        for (label, req) in policy.scopes() {
            if req.sigstore_keys.is_empty() {
                continue;
            }
            let mut scoped = trust.clone();
            for k in &req.sigstore_keys {
                let source = format!("{} ({}, {label})", k.source, path.display());
                scoped.add_key_der(k.der.clone(), &source).with_context(|| format!("--containers-policy {source}"))?;
            }
            by_scope.insert(label, scoped);
        }
        if !by_scope.is_empty() {
            scoped_trust = Some((Arc::new(policy.clone()), by_scope));
        }
        containers_policy = Some(Arc::new(policy.clone()));
        gpg.policy = Some(policy);
    }
    let lookaside = match &a.lookaside {
        None => None,
        Some(u) => {
            let url = url::Url::parse(u).with_context(|| format!("--lookaside {u:?} is not a URL"))?;
            if !matches!(url.scheme(), "http" | "https" | "file") {
                anyhow::bail!("--lookaside {u:?}: use an http://, https:// or file:// URL");
            }
            Some(url)
        }
    };
    let dir = match &a.registries_d {
        Some(d) => {
            if !d.is_dir() {
                anyhow::bail!("--registries-d {}: not a directory", d.display());
            }
            Some(d.clone())
        }
        None => RegistriesD::default_dir(std::env::var_os("HOME").map(PathBuf::from).as_deref()),
    };
    let registries_d = match dir {
        None => None,
        Some(d) => Some(RegistriesD::load(&d).map_err(|e| anyhow::anyhow!("registries.d {e}"))?),
    };
    let configured = registries_d.as_ref().is_some_and(RegistriesD::has_read_locations);
    let trust_given = !gpg.is_empty();
    let simple_signing = if lookaside.is_some() || configured || trust_given {
        let trust = (trust_given || gpg.policy.is_some()).then_some(gpg);
        let ss = SimpleSigning::new(lookaside, registries_d, trust, timeout).map_err(|e| anyhow::anyhow!(e))?;
        Some(Arc::new(ss))
    } else {
        None
    };
    Ok(Prepared { signature_repositories: sigrepos, simple_signing, scoped_trust, containers_policy })
}
