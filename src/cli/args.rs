//! Command-line arguments (clap derive). Turned into a validated configuration before any work.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum, ValueHint};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "sigaudit",
    version,
    about = "Audit container registries and files for signatures that really hold",
    long_about = "Audit container registries and files for signatures that really hold: cosign, Sigstore \
bundles and Notary Project signatures on images; Authenticode (PE) and JAR/APK signatures on files. \
Each signature is verified, bound to what it signs, and its signer named.",
    after_help = "Exit codes: 0 no policy failure; 1 an image has a status named by --fail-on (waived \
items aside), or with --fail-on-new a change goes into one of its statuses; 2 usage or configuration error; 3 the scan is incomplete (errors were reported, or the --deadline passed)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More logs on stderr (-v debug, -vv trace). RUST_LOG also works.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// TOML file of settings (keys are the long flag names; see README): trust material, policy,
    /// connection. Command-line values win; lists add up.
    #[arg(long, value_name = "FILE", global = true, env = "SIGAUDIT_CONFIG", value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Walk a registry's catalog and every tag; find and check every signature.
    #[command(visible_alias = "repo")]
    Registry(RegistryArgs),
    /// Check named images (HOST/REPO:TAG or HOST/REPO@DIGEST).
    Image(ImageArgs),
    /// Audit what runs in a Kubernetes cluster: the digest each container of each pod runs, with
    /// the workload that owns it (from the API, or `kubectl get pods -A -o json` output).
    #[command(visible_alias = "k8s")]
    Cluster(super::cluster::ClusterArgs),
    /// Walk files and directories; verify signed PE (Authenticode) and JAR/APK files.
    Fs(FsArgs),
    /// Merge registry reports (JSON or NDJSON: the shards of one scan, or scans of several
    /// registries) into one report, recounted; exit codes as for a scan.
    Merge(MergeArgs),
    /// What changed between two reports (JSON or NDJSON): new, gone and changed tags, images
    /// and files; status, digest, signers, signatures gone; new orphans.
    Diff(DiffArgs),
    /// Verify one Sigstore bundle over a file or a digest (exit 0 verified, 1 not).
    VerifyBundle(VerifyBundleArgs),
    /// The Sigstore trusted root kept current through TUF (`trust update`).
    Trust(TrustArgs),
    /// Write shell completions or man pages, generated from these very arguments.
    #[command(hide = true)]
    Generate(GenerateArgs),
}

#[derive(Args, Debug)]
pub struct GenerateArgs {
    #[command(subcommand)]
    pub what: Generate,
}

#[derive(Subcommand, Debug)]
pub enum Generate {
    /// Completions for a shell, on standard output.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Man pages (sigaudit.1 and one per command) into a directory.
    Man {
        #[arg(value_hint = ValueHint::DirPath)]
        dir: PathBuf,
    },
    /// The keys a --config file may hold, one per line with the commands that take it.
    ConfigKeys,
}

#[derive(Args, Debug)]
pub struct TrustArgs {
    #[command(subcommand)]
    pub what: TrustCommand,
}

#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// Fetch the Sigstore trusted_root.json through TUF (root chain, timestamp, snapshot, targets,
    /// expiry and rollback verified) into the user's cache, where scans take it as their default
    /// root. Exit 0 updated, 1 refused (the previous cache is kept), 2 usage error.
    Update(TrustUpdateArgs),
}

#[derive(Args, Debug)]
pub struct TrustUpdateArgs {
    #[command(flatten)]
    pub tuf: TufArgs,
    /// Seconds to wait for each request.
    #[arg(long, default_value_t = 30, value_name = "SECS")]
    pub timeout: u64,
    /// Print what was fetched as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Which TUF repository keeps the default Sigstore trusted root.
#[derive(Args, Debug, Default, Clone)]
pub struct TufArgs {
    /// TUF repository serving trusted_root.json as a target (metadata at the URL, targets under
    /// URL/targets/); default: the Sigstore public-good repository, https://tuf-repo-cdn.sigstore.dev.
    #[arg(long, value_name = "URL")]
    pub tuf_url: Option<String>,
    /// The TUF repository's root.json to start from, obtained out of band (default: the
    /// public-good TUF root built in; required for another --tuf-url until its cache exists).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub tuf_root: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct VerifyBundleArgs {
    /// The Sigstore bundle (JSON, v0.1 to v0.3).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub bundle: PathBuf,
    /// The signed artifact: a digest `sha256:<hex>`, `sha384:<hex>` or `sha512:<hex>`, anything
    /// else a file. A DSSE bundle's in-toto subject is compared with the digest (sha256, sha512);
    /// a message signature needs the file or its sha256 (the log entry records the SHA-256).
    #[arg(value_name = "FILE_OR_DIGEST", value_hint = ValueHint::FilePath)]
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
    /// one `sigaudit trust update` cached for --tuf-url, else the public-good root built in). Rekor
    /// SETs and bundles are verified with it.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub trusted_root: Vec<PathBuf>,
    #[command(flatten)]
    pub tuf: TufArgs,
    /// Update the cached trusted root through TUF first (as `sigaudit trust update`); if that
    /// fails, a warning, and the cached or built-in root judges.
    #[arg(long, conflicts_with = "trusted_root")]
    pub refresh_trust: bool,
    /// Managed public key (PEM) the bundle must verify with (repeatable: any one).
    #[arg(long = "key", value_name = "FILE", value_hint = ValueHint::FilePath)]
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
    #[arg(required = true, value_hint = ValueHint::AnyPath)]
    pub paths: Vec<std::path::PathBuf>,
    /// Follow symbolic links (off by default). A link back into the walk (a loop) or to a file
    /// already reported is noted, not walked again.
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Stay on the file system of each given path: directories and files on other file systems
    /// (mount points, links to them) are noted, not walked.
    #[arg(long)]
    pub one_file_system: bool,
    /// Skip paths (or file names) matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Worker threads (default: one per core).
    #[arg(long, default_value_t = 0)]
    pub jobs: usize,
    /// A signed Windows catalog (.cat) whose members are reported catalog-signed, besides the
    /// catalogs the scan finds (repeatable).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub catalog: Vec<std::path::PathBuf>,
    /// PEM bundle of trust anchors for signers (repeatable).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca_roots: Vec<PathBuf>,
    /// PEM bundle of trust anchors for timestamp authorities (repeatable; default: --ca-roots).
    /// A timestamp counts only when its signer has the timeStamping EKU and chains to one.
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Vec<PathBuf>,
    #[command(flatten)]
    pub revocation: RevocationArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Help for `-o/--output`, shared by the scans and `merge`.
pub const OUTPUT_HELP: &str = "Report format, and where it goes: FORMAT (standard output) or FORMAT=PATH (a file, \
written atomically: a temporary file beside it, synced, renamed); repeatable, one run writes them all. \
FORMAT: table, wide, json, ndjson, sigscan-json, csv, sarif, junit, prometheus, html";

/// `-o FORMAT[=PATH]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub format: Output,
    /// None (or `-`): standard output.
    pub path: Option<PathBuf>,
}

pub fn parse_output(s: &str) -> Result<OutputSpec, String> {
    let (format, path) = match s.split_once('=') {
        Some((f, "")) => return Err(format!("{s:?}: a file after {f}= (or leave out `=`)")),
        Some((f, "-")) => (f, None),
        Some((f, p)) => (f, Some(PathBuf::from(p))),
        None => (s, None),
    };
    let format = Output::from_str(format, true).map_err(|_| {
        let names: Vec<String> = Output::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|v| v.get_name().to_string())
            .collect();
        format!("unknown format {format:?}: use {} (FORMAT or FORMAT=PATH)", names.join(", "))
    })?;
    Ok(OutputSpec { format, path })
}

/// Report and policy options shared by every scan.
#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(short, long, value_name = "FORMAT[=PATH]", value_parser = parse_output, default_value = "table",
          help = OUTPUT_HELP, action = clap::ArgAction::Append)]
    pub output: Vec<OutputSpec>,
    /// Exit 1 when an item has one of these statuses: invalid, unverified, untrusted, unsigned, error,
    /// unsupported (comma-separated or repeated); `expiring`: when one will stop verifying within
    /// --warn-expiring.
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub fail_on: Vec<String>,
    /// Evaluate time rules (expiry) at this instant instead of now, for reproducible audits: an
    /// RFC 3339 time such as 2026-01-31T00:00:00Z.
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<String>,
    /// Flag signatures that verify now but will stop within this time (e.g. 30d): a signing
    /// certificate or key window that ends with no verified signing time, a Notary signature's
    /// expiry (reason `expiring-soon`, `summary.expiring`; `--fail-on expiring`).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub warn_expiring: Option<Duration>,
    /// List only some items, in the table and in JSON alike (the summary still counts every one):
    /// `failing` (the statuses named by --fail-on; without it invalid and error), `signed` (any
    /// but unsigned), or statuses (comma-separated).
    #[arg(long, value_name = "WHICH", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Stop the whole scan after this long (e.g. 90s, 15m, 1h30m): what was examined is
    /// reported, the report is marked incomplete (error `deadline-exceeded`) and the exit code is 3.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub deadline: Option<Duration>,
    /// A report of an earlier scan (JSON or NDJSON, e.g. last night's): the report gains
    /// `changes`, what is new, gone or changed since (as `sigaudit diff` lists it).
    #[arg(long, value_name = "REPORT", value_hint = ValueHint::FilePath)]
    pub baseline: Option<PathBuf>,
    /// With --baseline: exit 1 only when a change brings an item into one of these statuses (new
    /// with it, changed to it, or its waiver lapsed), not for what the baseline already had;
    /// --fail-on then decides no exit code.
    #[arg(long, value_delimiter = ',', value_name = "LIST", requires = "baseline")]
    pub fail_on_new: Vec<String>,
    /// Waivers (TOML, `[[waiver]]` entries with a reason, an owner and an expiry): a waived item
    /// keeps its status, is marked `waived`, and --fail-on ignores it until the waiver expires.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub waivers: Option<PathBuf>,
    /// A progress line on standard error while the scan runs: `auto` when standard error is a
    /// terminal, `always`, or `never`.
    #[arg(long, value_enum, default_value_t = Progress::Auto)]
    pub progress: Progress,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Progress {
    Auto,
    Always,
    Never,
}

/// `--lister NAME`: a platform lister or `catalog`.
pub fn parse_lister(s: &str) -> Result<String, String> {
    match sigaudit::registry::listers::Listing::parse(s) {
        Some(_) => Ok(s.to_string()),
        None => Err(format!("{s:?}: use docker-hub, ghcr, gitlab, quay, harbor, ecr or catalog")),
    }
}

/// `90s`, `15m`, `1h30m`, `2d`, or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration: use a number and a unit, e.g. 90s, 15m, 1h30m, 2d");
    if let Ok(secs) = s.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let (mut total, mut number) = (0u64, String::new());
    for c in s.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(bad()),
        };
        let n: u64 = number.parse().map_err(|_| bad())?;
        total = n.checked_mul(unit).and_then(|v| total.checked_add(v)).ok_or_else(bad)?;
        number.clear();
    }
    if !number.is_empty() || s.is_empty() {
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Reports written by `sigaudit registry` or `image` with `-o json` or `-o ndjson`, without
    /// --only; `-` (the default) reads one from standard input.
    #[arg(value_name = "REPORT", value_hint = ValueHint::FilePath)]
    pub reports: Vec<PathBuf>,
    #[arg(short, long, value_name = "FORMAT[=PATH]", value_parser = parse_output, default_value = "table",
          help = OUTPUT_HELP, action = clap::ArgAction::Append)]
    pub output: Vec<OutputSpec>,
    /// Exit 1 when an image of the merged report has one of these statuses (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub fail_on: Vec<String>,
    /// List only some images of the merged report (as for a scan; the summary counts every one).
    #[arg(long, value_name = "WHICH", value_delimiter = ',')]
    pub only: Vec<String>,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier report (`-`: standard input).
    #[arg(value_name = "OLD", value_hint = ValueHint::FilePath)]
    pub old: PathBuf,
    /// The later report (`-`: standard input).
    #[arg(value_name = "NEW", value_hint = ValueHint::FilePath)]
    pub new: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = DiffOutput::Table)]
    pub output: DiffOutput,
    /// Exit 1 when a change brings an item into one of these statuses (new with it, changed to
    /// it, or its waiver lapsed) and no waiver covers it (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    pub fail_on_new: Vec<String>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffOutput {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct RegistryArgs {
    /// HOST[:PORT][/NAMESPACE], one or more (each scanned with its own client and credentials,
    /// one report with a summary per registry); an `http://` prefix means --plain-http,
    /// `https://` forbids it. Also `[[targets]]` in the config file.
    #[arg(value_name = "TARGET", value_hint = ValueHint::Url)]
    pub targets: Vec<String>,
    /// Scan one shard of the registry: the repositories whose name hashes into slice INDEX of
    /// COUNT (stable: a repository keeps its shard when others come and go). `auto/COUNT` takes
    /// the index from JOB_COMPLETION_INDEX (Kubernetes Indexed Jobs). Merge the shards' reports
    /// with `sigaudit merge`.
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<String>,
    /// Only repositories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip repositories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Repository names, one per line, for registries whose catalog and platform API are both
    /// out of reach.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub repos_file: Option<PathBuf>,
    /// List repositories (and, where the API gives them, tags with their digests) through a
    /// platform's own API instead of /v2/_catalog: docker-hub, ghcr, gitlab, quay, harbor, ecr,
    /// or catalog. Default: chosen from the host (docker.io, ghcr.io, gitlab.com and
    /// registry.gitlab.com, quay.io, *.dkr.ecr.*.amazonaws.com), else the catalog.
    #[arg(long, value_name = "NAME", value_parser = parse_lister)]
    pub lister: Option<String>,
    /// The platform API's base URL (self-managed GitLab, Quay or Harbor; a test server), e.g.
    /// https://gitlab.example.com. Default: the platform's public API, or the registry host.
    #[arg(long, value_name = "URL", value_hint = ValueHint::Url)]
    pub lister_url: Option<String>,
    /// The platform API's token (visible to other users of this machine: prefer the platform's
    /// environment variable: DOCKERHUB_TOKEN, SIGAUDIT_GITHUB_TOKEN or GITHUB_TOKEN,
    /// GITLAB_TOKEN, QUAY_TOKEN; Harbor: HARBOR_USERNAME with HARBOR_PASSWORD).
    #[arg(long, value_name = "TOKEN", hide_env_values = true)]
    pub platform_token: Option<String>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct ImageArgs {
    /// HOST[:PORT]/REPOSITORY[:TAG|@DIGEST] (DIGEST: sha256, sha384 or sha512); an `http://`
    /// prefix means --plain-http for that registry, `https://` forbids it.
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
    Csv,
    Sarif,
    Junit,
    Prometheus,
    Html,
}

/// Revocation of the certificates of every certification path (signers, their CAs, timestamp
/// authorities).
#[derive(Args, Debug, Default)]
pub struct RevocationArgs {
    /// A certificate revocation list (DER or PEM; repeatable): every certificate its issuer
    /// issued is checked against it. A certificate revoked before the signature's verified time
    /// (or for a key compromise, whenever) makes the signature invalid.
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub crl: Vec<PathBuf>,
    /// How revocation is checked (comma-separated, repeatable): `online` also asks each
    /// certificate's OCSP responders and fetches its CRL distribution points (http/https);
    /// `require` makes a certificate whose status no source settles `untrusted` (by default it
    /// is only noted: `revocation-unknown`).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "MODE")]
    pub revocation: Vec<RevocationMode>,
    /// With `--revocation online`: seconds one OCSP request or CRL download may take at most
    /// (connecting included); past it the source counts as unreachable.
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=300))]
    pub revocation_timeout: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum RevocationMode {
    /// An unknown revocation status fails the path (`untrusted`).
    Require,
    /// Ask OCSP responders and fetch CRLs from distribution points (once per scan).
    Online,
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
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub ca_roots: Vec<PathBuf>,
    /// PEM bundle of trust anchors for timestamp authorities (repeatable; default: --ca-roots).
    #[arg(long, value_name = "FILE")]
    pub tsa_roots: Vec<PathBuf>,
    #[command(flatten)]
    pub revocation: RevocationArgs,
    /// A public key (PEM) that is revoked: no signature it verifies is `verified` (`key-revoked`:
    /// `untrusted`; `invalid` when given as `keyCompromise:FILE`). Repeatable; `[[keys]]` in the
    /// config file can also date a revocation and give keys rotation windows.
    #[arg(long, value_name = "[REASON:]FILE", value_hint = ValueHint::FilePath)]
    pub revoked_key: Vec<String>,
    #[command(flatten)]
    pub signer: SignerArgs,
    /// notation trust policy (trustpolicy.json, OCI) for Notary Project signatures
    /// (default: notation's own, in $XDG_CONFIG_HOME/notation or ~/.config/notation, when present).
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub notation_trust_policy: Option<PathBuf>,
    /// notation trust store: the directory holding x509/{ca,signingAuthority,tsa}/NAME/
    /// (default: the truststore beside notation's trust policy).
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
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
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
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
    /// Resolve every tag with a GET and hash the bytes, instead of taking the digest a HEAD
    /// announces; a registry whose announced digest disagrees with its bytes is reported.
    #[arg(long)]
    pub verify_digests: bool,
    #[command(flatten)]
    pub sources: super::signature_sources::SignatureSourceArgs,
}

/// Help for `--key` where it verifies signatures found in a registry (not one bundle).
const SCAN_KEY_HELP: &str = "cosign public key (PEM: ECDSA P-256/384/521, RSA, Ed25519; repeatable): key-only \
cosign signatures (legacy .sig layers, with or without a Rekor SET) and key bundles that verify with one \
are verified, with none invalid";

/// The command line as clap sees it, everywhere (parsing, the config file, completions, man
/// pages): a flag given twice takes its last value, so the config file can give values that the
/// command line then overrides.
pub fn command() -> clap::Command {
    Cli::command().mut_subcommands(|sub| {
        let sub = sub.args_override_self(true);
        match sub.get_name() {
            "registry" | "image" | "cluster" => sub.mut_arg("keys", |a| a.help(SCAN_KEY_HELP)),
            _ => sub,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172800)));
        assert_eq!(parse_duration("300"), Ok(Duration::from_secs(300)));
        for bad in ["", "m", "10x", "1h30", "-5s"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }
}
