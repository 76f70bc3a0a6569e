//! How a `registry` target's repositories are listed: its catalog, a repositories file, or a
//! platform's API (`--lister`, chosen from the host by default), with the platform's credential
//! from `--platform-token`, the target's `platform-token-env`, or the platform's own variable.

use super::config::TargetConfig;
use anyhow::{bail, Result};
use sigaudit::registry::listers::{ApiConfig, Lister, Listing, PlatformAuth, PlatformCredential};
use sigaudit::registry::{RegistryClient, Secret};
use std::sync::Arc;

/// What a target's listing needs from the run.
pub struct ListingArgs<'a> {
    pub lister: Option<&'a str>,
    pub lister_url: Option<&'a str>,
    pub platform_token: Option<&'a str>,
    pub repos_file: bool,
    pub api: ApiConfig,
}

/// The listing chosen for a target, and where its credential came from (a variable's name, or
/// `--platform-token`), for `scan.settings`.
pub struct Chosen {
    pub listing: Listing,
    pub lister: Option<Arc<Lister>>,
    pub credential_source: Option<String>,
}

pub fn choose(
    t: &TargetConfig,
    args: &ListingArgs<'_>,
    host: &str,
    namespace: Option<&str>,
    plain_http: bool,
    client: &RegistryClient,
) -> Result<Chosen> {
    let named = t.lister.as_deref().or(args.lister);
    let url = t.lister_url.as_deref().or(args.lister_url);
    let explicit = match named {
        None => None,
        Some(n) => Some(Listing::parse(n).ok_or_else(|| {
            anyhow::anyhow!(
                "target {}: lister {n:?}: use docker-hub, ghcr, gitlab, quay, harbor, ecr or catalog",
                t.target
            )
        })?),
    };
    if args.repos_file {
        if explicit.is_some_and(|l| l != Listing::Catalog) || url.is_some() {
            bail!("target {}: --repos-file and --lister/--lister-url exclude each other: give one", t.target);
        }
        return Ok(Chosen { listing: Listing::ReposFile, lister: None, credential_source: None });
    }
    let listing = match explicit {
        Some(l) => l,
        None if url.is_some() => bail!(
            "target {}: --lister-url needs --lister (docker-hub, ghcr, gitlab, quay or harbor): the platform cannot be told from a URL",
            t.target
        ),
        None => Listing::of_host(host).unwrap_or(Listing::Catalog),
    };
    if listing == Listing::Catalog {
        if url.is_some() {
            bail!("target {}: --lister-url is for a platform lister, not the catalog", t.target);
        }
        return Ok(Chosen { listing, lister: None, credential_source: None });
    }
    if listing == Listing::Ecr && (args.platform_token.is_some() || t.platform_token_env.is_some()) {
        bail!(
            "target {}: the ecr lister takes AWS credentials from the standard chain (AWS_ACCESS_KEY_ID…, AWS_PROFILE, the instance role), not a platform token",
            t.target
        );
    }
    if namespace.is_none() && listing != Listing::Ecr {
        bail!(
            "target {}: the {listing} lister lists one namespace (an organisation, group or project): give HOST/NAMESPACE, or --repos-file",
            t.target
        );
    }
    let base = url.map(str::to_string).or_else(|| listing.default_url(host, plain_http));
    if base.is_none() && listing != Listing::Ecr {
        bail!("target {}: the {listing} lister needs --lister-url", t.target);
    }
    let auth = credential(t, listing, args.platform_token)?;
    // ECR's credentials are the AWS chain's; nothing of ours is recorded.
    let credential_source = auth.source.clone().filter(|_| listing != Listing::Ecr);
    let lister = Lister::new(
        listing,
        base.as_deref(),
        host,
        namespace.unwrap_or(""),
        auth,
        args.api.clone(),
        client.stats_handle(),
    )
    .map_err(|e| anyhow::anyhow!("target {}: {e}", t.target))?;
    Ok(Chosen { listing, lister: Some(Arc::new(lister)), credential_source })
}

/// The platform credential: `--platform-token`, else the target's `platform-token-env`, else the
/// platform's own variables. Harbor's is a user name (`HARBOR_USERNAME`) with a password.
fn credential(t: &TargetConfig, listing: Listing, flag: Option<&str>) -> Result<PlatformAuth> {
    let vars = listing.token_variables();
    let wanted = match listing.username_variable() {
        Some(u) => format!("set {u} and {}", vars.join(" or ")),
        None => format!("set {} or give --platform-token", vars.join(" or ")),
    };
    let (secret, source) = if let Some(v) = flag {
        tracing::warn!("--platform-token is visible to other users of this machine; prefer {}", vars.join(" or "));
        (Some(v.to_string()), Some("--platform-token".to_string()))
    } else if let Some(var) = &t.platform_token_env {
        match std::env::var(var) {
            Ok(v) => (Some(v), Some(var.clone())),
            Err(_) => bail!("target {}: the environment variable {var} (platform-token-env) is not set", t.target),
        }
    } else {
        match vars.iter().find_map(|v| std::env::var(v).ok().filter(|x| !x.is_empty()).map(|x| (x, v))) {
            Some((value, var)) => (Some(value), Some(var.to_string())),
            None => (None, None),
        }
    };
    let credential = match (secret, listing) {
        (None, _) => None,
        (Some(s), Listing::Harbor) => {
            let user_var = listing.username_variable().unwrap_or("HARBOR_USERNAME");
            let Ok(username) = std::env::var(user_var) else {
                bail!("target {}: a Harbor password needs its user name in {user_var}", t.target);
            };
            Some(PlatformCredential::Basic { username, password: Secret::new(s) })
        }
        (Some(s), Listing::Gitlab) => Some(PlatformCredential::GitlabToken(Secret::new(s))),
        (Some(s), _) => Some(PlatformCredential::Bearer(Secret::new(s))),
    };
    Ok(PlatformAuth { credential, source, wanted })
}
