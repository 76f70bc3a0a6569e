//! Command-line arguments (clap derive). Turned into a validated configuration before any work.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "sigaudit",
    version,
    about = "Audit container registries for signatures that really hold",
    after_help = "Exit codes: 0 no policy failure; 1 an image has a status named by --fail-on; \
2 usage or configuration error; 3 the scan is incomplete (errors were reported)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More logs on stderr (-v debug, -vv trace). RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// TOML file of settings (keys are the long flag names; see README): trust material, policy,
    /// connection. Command-line values win; lists add up.
    #[arg(long, value_name = "FILE", global = true, env = "SIGAUDIT_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Walk a registry's catalog and every tag; find and check every signature.
    #[command(visible_alias = "repo")]
    Registry(RegistryArgs),
    /// Check named images (HOST/REPO:TAG or HOST/REPO@DIGEST).
    Image(ImageArgs),
    /// Walk files and directories; verify signed PE (Authenticode) and JAR/APK files.
    Fs(FsArgs),
    /// Verify one Sigstore bundle over a file or a digest (exit 0 verified, 1 not).
    VerifyBundle(VerifyBundleArgs),
}

#[derive(Args, Debug)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (JSON, v0.1 to v0.3).
    #[arg(long, value_name = "FILE")]
    pub bundle: PathBuf,
    /// The signed artifact: `sha256:<hex>` is a digest, anything else a path.
    #[arg(value_name = "FILE_OR_DIGEST")]
    pub artifact: String,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// Print the outcome as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Who may have signed a Sigstore signature.
#[derive(Args, Debug, Default)]
pub struct SignerArgs {
    /// Sigstore trusted_root.json: Fulcio CAs, Rekor and CT log keys, TSAs (repeatable; default: the
    /// public-good root built in). Rekor SETs and bundles are verified with it.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Vec<PathBuf>,
    /// Managed public key (PEM) the bundle must verify with (repeatable: any one).
    #[arg(long = "key", value_name = "FILE")]
    pub keys: Vec<PathBuf>,
    /// Keyless: the certificate's identity (SAN) must equal this.
    #[arg(long, value_name = "ID", conflicts_with = "certificate_identity_regexp")]
    pub certificate_identity: Option<String>,
    /// Keyless: the certificate's identity (SAN) must match this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub certificate_identity_regexp: Option<String>,
    /// Keyless: the certificate's OIDC issuer must equal this.
    #[arg(long, value_name = "URL")]
    pub certificate_oidc_issuer: Option<String>,
}

#[derive(Args, Debug)]
pub struct FsArgs {
    /// Files or directories.
    #[arg(required = true)]
    pub paths: Vec<std::path::PathBuf>,
    /// Follow symbolic links (off by default).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip paths (or file names) matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// PEM bundle of trust anchors for signers (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ca_roots: Vec<PathBuf>,
    /// PEM bundle of trust anchors for timestamp authorities (repeatable; default: --ca-roots).
    /// A timestamp counts only when its signer has the timeStamping EKU and chains to one.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Vec<PathBuf>,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Report and policy options shared by every scan.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Report format.
    #[arg(short, long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// Exit 1 when an item has one of these statuses: invalid, unverified, untrusted, unsigned, error,
    /// unsupported (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub fail_on: Vec<String>,
    /// Evaluate time rules (expiry) at this instant (RFC 3339) instead of now, for reproducible audits.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
}

#[derive(Args, Debug)]
pub struct RegistryArgs {
    /// HOST[:PORT][/NAMESPACE]
    pub target: String,
    /// Only repositories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip repositories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Repository names, one per line, for registries without a catalog (Docker Hub, GHCR).
    #[arg(long, value_name = "FILE")]
    pub repos_file: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// HOST[:PORT]/REPOSITORY[:TAG|@DIGEST]
    #[arg(required = true)]
    pub references: Vec<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Wide,
    Json,
    Ndjson,
    SigscanJson,
}

#[derive(Args, Debug)]
pub struct CommonArgs {
    #[command(flatten)]
    pub report: ReportArgs,
    /// Talk plain HTTP instead of HTTPS.
    #[arg(long)]
    pub plain_http: bool,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// PEM bundle of trust anchors for certificate-bearing signatures (repeatable).
    #[arg(long, value_name = "FILE")]
    pub ca_roots: Vec<PathBuf>,
    /// PEM bundle of trust anchors for timestamp authorities (repeatable; default: --ca-roots).
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Vec<PathBuf>,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// notation trust policy (trustpolicy.json, OCI) for Notary Project signatures
    /// (default: notation's own, in $XDG_CONFIG_HOME/notation or ~/.config/notation, when present).
    #[arg(long, value_name = "FILE")]
    pub notation_trust_policy: Option<PathBuf>,
    /// notation trust store: the directory holding x509/{ca,signingAuthority,tsa}/NAME/
    /// (default: the truststore beside notation's trust policy).
    #[arg(long, value_name = "DIR")]
    pub notation_trust_store: Option<PathBuf>,
    /// Registry user name (the password comes from --password-stdin or --password).
    #[arg(short, long)]
    pub username: Option<String>,
    /// Read the password from standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// Password on the command line (visible to other users of this machine: prefer --password-stdin).
    #[arg(long, hide_env_values = true)]
    pub password: Option<String>,
    /// A registry bearer token, sent as is.
    #[arg(long, hide_env_values = true)]
    pub token: Option<String>,
    /// Extra PEM CA certificates for the registry's TLS (repeatable).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Vec<PathBuf>,
    /// Accept any TLS certificate (dangerous; for test registries only).
    #[arg(long)]
    pub insecure_skip_tls_verify: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 60)]
    pub timeout: u64,
    /// Retries per request on 429/5xx and connection faults.
    #[arg(long, default_value_t = 6)]
    pub retries: u32,
    /// At most this many requests per second to each registry (0: no limit).
    #[arg(long, default_value_t = 0)]
    pub rps: u32,
    /// Print the requests made, by kind, to stderr when done.
    #[arg(long)]
    pub stats: bool,
}
