//! `sigaudit verify-bundle`: one Sigstore bundle over one file or digest. Exit 0 verified, 1 not,
//! 2 usage or configuration error.

use super::args::{SignerArgs, VerifyBundleArgs};
use super::run::ExitStatus;
use anyhow::{bail, Context, Result};
use sigaudit::sigstore::{verify_bundle, Identity, SignerPolicy, SigstoreTrust, Subject};

/// The Sigstore signer policy and trusted roots the flags describe, each file read once.
pub struct SignerMaterial {
    pub policy: SignerPolicy,
    pub roots: SigstoreTrust,
    /// The trusted roots as (source, JSON): the `--trusted-root` files, else the built-in
    /// public-good root. Registry scans also read them for legacy cosign layers.
    pub root_jsons: Vec<(String, String)>,
    /// Which root judges, for `scan.settings` (`sigstore-root`): `file`, `cache` (TUF) or `builtin`.
    pub root_record: serde_json::Value,
    /// Warnings about that root (code, message), for the report's notes.
    pub root_warnings: Vec<(&'static str, String)>,
}

pub fn signer_policy(a: &SignerArgs) -> Result<SignerMaterial> {
    let mut policy = SignerPolicy::default();
    for path in &a.keys {
        let pem = std::fs::read_to_string(path).with_context(|| format!("--key {}", path.display()))?;
        policy.add_key_pem(&pem, &path.display().to_string())?;
    }
    policy.identity = match (&a.certificate_identity, &a.certificate_identity_regexp) {
        (Some(id), _) => Some(Identity::Exact(id.clone())),
        (None, Some(re)) => Some(Identity::regex(re).context("--certificate-identity-regexp")?),
        (None, None) => None,
    };
    policy.issuer = a.certificate_oidc_issuer.clone();
    let mut root_jsons = Vec::new();
    for path in &a.trusted_root {
        let json = std::fs::read_to_string(path).with_context(|| format!("--trusted-root {}", path.display()))?;
        root_jsons.push((path.display().to_string(), json));
    }
    let (root_record, root_warnings) = if root_jsons.is_empty() {
        let chosen = super::trust::default_root(a)?;
        root_jsons.push((chosen.source, chosen.json));
        (chosen.record, chosen.warnings)
    } else {
        (serde_json::json!({"source": "file"}), Vec::new())
    };
    let mut roots = SigstoreTrust::empty();
    for (source, json) in &root_jsons {
        roots.add_json(json, source)?;
    }
    Ok(SignerMaterial { policy, roots, root_jsons, root_record, root_warnings })
}

/// An artifact named by its digest.
#[derive(Debug, PartialEq, Eq)]
enum Digest {
    Sha256([u8; 32]),
    Sha384(Vec<u8>),
    Sha512([u8; 64]),
}

/// `sha256:<64 hex>`, `sha384:<96 hex>` or `sha512:<128 hex>` is a digest; anything else names a file.
fn parse_digest(s: &str) -> Option<Result<Digest>> {
    let (alg, hex) = s.split_once(':')?;
    let len = match alg {
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => return None,
    };
    Some(match hex::decode(hex) {
        Ok(v) if v.len() == len => Ok(match alg {
            "sha256" => Digest::Sha256(v.try_into().expect("32 bytes")),
            "sha384" => Digest::Sha384(v),
            _ => Digest::Sha512(v.try_into().expect("64 bytes")),
        }),
        _ => Err(anyhow::anyhow!("{s:?}: a {alg} digest is {} hex digits", len * 2)),
    })
}

/// What sigstore-verify 0.15 can check a digest against. A DSSE bundle's in-toto subjects are
/// matched by SHA-256 or SHA-512; a message signature only by SHA-256, the hash its log entry
/// records. Other cases are usage errors, said plainly, never a silent "not verified".
fn subject_of<'a>(digest: &Digest, bundle: &[u8]) -> Result<Subject<'a>> {
    let dsse =
        serde_json::from_slice::<serde_json::Value>(bundle).ok().is_some_and(|b| b.get("dsseEnvelope").is_some());
    match digest {
        Digest::Sha256(d) => Ok(Subject::Sha256(*d)),
        Digest::Sha512(d) if dsse => Ok(Subject::Sha512(*d)),
        Digest::Sha512(_) | Digest::Sha384(_) if !dsse => bail!(
            "this bundle holds a message signature, whose transparency-log entry records the artifact's \
             SHA-256: give the file or its sha256 digest"
        ),
        _ => bail!(
            "a DSSE bundle's in-toto subjects are matched by sha256 or sha512 digests (sigstore-verify 0.15 \
             has no SHA-384 subject match): give the file, or its sha256 or sha512 digest"
        ),
    }
}

pub fn run(a: &VerifyBundleArgs) -> Result<ExitStatus> {
    let (policy, trust) = match signer_policy(&a.signer) {
        Ok(m) => (m.policy, m.roots),
        // Trust material that is there but does not parse verifies nothing: "not verified", as
        // the verify-bundle contract has it (exit 1), not a usage error.
        Err(e) if e.downcast_ref::<sigaudit::sigstore::SigstoreError>().is_some() => {
            eprintln!("sigaudit: not verified: {e:#}");
            return Ok(ExitStatus::PolicyFailure);
        }
        Err(e) => return Err(e),
    };
    if policy.keys.is_empty() && (policy.identity.is_none() || policy.issuer.is_none()) {
        bail!(
            "verify-bundle needs --key, or --certificate-identity (or --certificate-identity-regexp) \
             with --certificate-oidc-issuer"
        );
    }
    let bundle = std::fs::read(&a.bundle).with_context(|| format!("--bundle {}", a.bundle.display()))?;
    let bytes;
    let subject = match parse_digest(&a.artifact) {
        Some(d) => subject_of(&d?, &bundle)?,
        None => {
            bytes = std::fs::read(&a.artifact).with_context(|| format!("artifact {}", a.artifact))?;
            Subject::Bytes(&bytes)
        }
    };
    let outcome = verify_bundle(&bundle, subject, &policy, &trust);
    if a.json {
        let value = match &outcome {
            Ok(v) => serde_json::json!({
                "verified": true,
                "identity": v.identity,
                "issuer": v.issuer,
                "key": v.key,
                "trusted_root": v.root,
                "verified_times": v.times.iter().filter_map(|t| sigaudit::x509::rfc3339(*t)).collect::<Vec<_>>(),
                "tlog_verified": v.tlog_verified,
                "sct_verified": v.sct_verified,
            }),
            Err(e) => serde_json::json!({"verified": false, "reason": e.reason, "untrusted": e.untrusted}),
        };
        println!("{value}");
    }
    match outcome {
        Ok(v) => {
            if !a.json {
                println!("verified: {}", v.describe());
            }
            Ok(ExitStatus::Success)
        }
        Err(e) => {
            eprintln!("sigaudit: not verified: {e}");
            Ok(ExitStatus::PolicyFailure)
        }
    }
}
