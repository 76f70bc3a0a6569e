//! Notation's own trust configuration (NOTATION.md §5.2–5.4): `trustpolicy.json` (OCI policy,
//! version 1.0) and the trust store layout `x509/{ca|signingAuthority|tsa}/<name>/*`, so teams
//! reuse what they already have. The policy is validated as notation validates it, and a
//! signature is judged by the statement whose registry scope names its repository: authenticity
//! by exact certificate equality with the store of the signing scheme's type plus trusted
//! identities on the leaf subject, expiry, and the authentic timestamp (RFC 3161 countersignature
//! against `tsa:` roots, or the chain valid now), each enforced or logged by the level.

use crate::cms;
use crate::pki::revocation::{Revocation, Unknown};
use crate::report::{Reason, ReasonCode as C, Verdict};
use crate::x509::{rfc3339, Cert};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum NotationTrustError {
    #[error("trust policy {path}: {message}")]
    Policy { path: String, message: String },
    #[error("trust store: {0}")]
    Store(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StoreType {
    Ca,
    SigningAuthority,
    Tsa,
}

impl StoreType {
    fn parse(s: &str) -> Option<StoreType> {
        match s {
            "ca" => Some(StoreType::Ca),
            "signingAuthority" => Some(StoreType::SigningAuthority),
            "tsa" => Some(StoreType::Tsa),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            StoreType::Ca => "ca",
            StoreType::SigningAuthority => "signingAuthority",
            StoreType::Tsa => "tsa",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Strict,
    Permissive,
    Audit,
    Skip,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Enforce,
    Log,
    Skip,
}

/// What to do when each check fails (integrity is always enforced).
#[derive(Debug, Clone, Copy)]
pub struct Actions {
    pub authenticity: Action,
    pub authentic_timestamp: Action,
    pub expiry: Action,
    pub revocation: Action,
}

impl Level {
    fn actions(self) -> Actions {
        use Action::*;
        let (a, t, e, r) = match self {
            Level::Strict => (Enforce, Enforce, Enforce, Enforce),
            Level::Permissive => (Enforce, Log, Log, Log),
            Level::Audit => (Log, Log, Log, Log),
            Level::Skip => (Skip, Skip, Skip, Skip),
        };
        Actions { authenticity: a, authentic_timestamp: t, expiry: e, revocation: r }
    }
}

/// A distinguished name as notation parses `x509.subject:` identities: attribute → value.
type Dn = BTreeMap<String, String>;

#[derive(Debug, Clone)]
pub struct Statement {
    pub name: String,
    pub scopes: Vec<String>,
    pub level: Level,
    pub actions: Actions,
    /// `verifyTimestamp: afterCertExpiry` (else `always`).
    pub timestamp_after_expiry_only: bool,
    pub stores: Vec<(StoreType, String)>,
    /// `None`: `*`, any identity.
    pub identities: Option<Vec<Dn>>,
    /// Trusted identities of another prefix than `x509.subject:`, for a verification plugin
    /// (AWS Signer's: signing-profile ARNs, `arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME[/VERSION]`).
    pub plugin_identities: Vec<String>,
}

/// A validated OCI trust policy and the trust stores it names.
pub struct NotationTrust {
    pub statements: Vec<Statement>,
    stores: BTreeMap<(StoreType, String), Vec<Cert>>,
    pub source: String,
}

impl std::fmt::Debug for NotationTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NotationTrust({}, {} statements, {} stores)", self.source, self.statements.len(), self.stores.len())
    }
}

/// notation's configuration directory: `$XDG_CONFIG_HOME/notation`, else `~/.config/notation`.
pub fn default_config_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(std::env::var_os("HOME")?).join(".config"),
    };
    Some(base.join("notation"))
}

/// The policy file notation would read in `dir`: `trustpolicy.oci.json`, else `trustpolicy.json`.
pub fn policy_in(dir: &Path) -> Option<PathBuf> {
    ["trustpolicy.oci.json", "trustpolicy.json"].iter().map(|f| dir.join(f)).find(|p| p.is_file())
}

impl NotationTrust {
    /// Parse and validate `policy` (the JSON text of `source`), then load every trust store it
    /// names from `store_dir` (the directory holding `x509/`).
    pub fn load(policy: &str, source: &str, store_dir: &Path) -> Result<NotationTrust, NotationTrustError> {
        let err = |message: String| NotationTrustError::Policy { path: source.to_string(), message };
        let statements = validate_policy(policy).map_err(err)?;
        let mut stores = BTreeMap::new();
        for st in &statements {
            for (ty, name) in &st.stores {
                if let std::collections::btree_map::Entry::Vacant(e) = stores.entry((*ty, name.clone())) {
                    e.insert(load_store(store_dir, *ty, name).map_err(NotationTrustError::Store)?);
                }
            }
        }
        Ok(NotationTrust { statements, stores, source: source.to_string() })
    }

    /// The statement for `scope` (`registry/repository`): an exact registry scope, else `*`.
    pub fn statement_for(&self, scope: &str) -> Option<&Statement> {
        self.statements
            .iter()
            .find(|s| s.scopes.iter().any(|x| x == scope))
            .or_else(|| self.statements.iter().find(|s| s.scopes.iter().any(|x| x == "*")))
    }

    fn certs(&self, st: &Statement, ty: StoreType) -> Vec<&Cert> {
        st.stores
            .iter()
            .filter(|(t, _)| *t == ty)
            .flat_map(|k| self.stores.get(k).map(|v| v.iter()).into_iter().flatten())
            .collect()
    }
}

/// What the trust policy needs to know of one envelope whose integrity held.
pub struct Facts<'a> {
    pub signing_authority: bool,
    /// The envelope's chain, leaf first.
    pub certs: &'a [Cert],
    pub expiry: Option<i64>,
    pub authentic_signing_time: Option<i64>,
    /// The raw primitive signature (what an RFC 3161 token's imprint covers).
    pub signature: &'a [u8],
    /// The `io.cncf.notary.timestampSignature` token (DER), if any.
    pub timestamp_token: Option<&'a [u8]>,
    /// Revocation sources (`--crl`) for the chain and the timestamp authority's.
    pub revocation: &'a Revocation,
    /// The verification plugin the envelope names, when it is one whose checks are known (AWS
    /// Signer's): its trusted-identity check is done here, its revocation check cannot be.
    pub plugin: Option<Plugin<'a>>,
}

/// A verification plugin named by an envelope, and the signed attribute it identifies the signer by.
#[derive(Debug, Clone, Copy)]
pub struct Plugin<'a> {
    pub name: &'a str,
    /// AWS Signer: the signing-profile version ARN (`com.amazonaws.signer.signingProfileVersion`).
    pub signing_profile: &'a str,
}

/// The policy's decision on one signature.
#[derive(Debug)]
pub struct Judgement {
    pub verdict: Verdict,
    pub reasons: Vec<Reason>,
    /// A verified timestamp: (TSA subject, time).
    pub timestamp: Option<(String, i64)>,
}

impl NotationTrust {
    /// Judge one envelope for the repository `scope` at `now`.
    pub fn judge(&self, scope: &str, f: &Facts<'_>, now: i64) -> Judgement {
        let mut j = Judgement { verdict: Verdict::Verified, reasons: Vec::new(), timestamp: None };
        let Some(st) = self.statement_for(scope) else {
            j.verdict = Verdict::Untrusted;
            j.reasons.push(
                C::NotationNoStatement.reason(format!("no statement of the notation trust policy applies to {scope}")),
            );
            return j;
        };
        let label = format!("trust policy statement {:?} ({:?})", st.name, st.level);
        if st.level == Level::Skip {
            j.verdict = Verdict::Untrusted;
            j.reasons.push(C::NotationLevelSkip.reason(format!("{label}: level skip, nothing verified")));
            return j;
        }
        // Each failed check is enforced (the verdict falls to `on_fail`) or logged.
        let fail =
            |j: &mut Judgement, action: Action, on_fail: Verdict, what: &str, (code, msg): (C, String)| match action {
                Action::Enforce => {
                    if j.verdict == Verdict::Verified || on_fail == Verdict::Invalid {
                        j.verdict = on_fail;
                    }
                    j.reasons.push(code.reason(format!("{what} failed: {msg}")));
                }
                // notation passes a check its level only logs; `verified` here means every check
                // held, so a logged failure leaves the signature `untrusted`, with the reason.
                Action::Log => {
                    if j.verdict == Verdict::Verified {
                        j.verdict = Verdict::Untrusted;
                    }
                    j.reasons.push(code.reason(format!(
                        "{what} failed (logged by {label}; notation passes it, this report does not): {msg}"
                    )))
                }
                Action::Skip => {}
            };

        // Authenticity: some envelope certificate byte-equals a certificate of the scheme's store.
        let ty = if f.signing_authority { StoreType::SigningAuthority } else { StoreType::Ca };
        let trusted = self.certs(st, ty);
        match f.certs.iter().find_map(|c| trusted.iter().find(|t| t.der == c.der)) {
            None => fail(
                &mut j,
                st.actions.authenticity,
                Verdict::Untrusted,
                "authenticity",
                (
                    C::NotationNotInTrustStore,
                    format!(
                        "the certificate chain contains no certificate of the {} trust stores of {label}",
                        ty.name()
                    ),
                ),
            ),
            Some(anchor) => match f
                .plugin
                .map_or_else(|| identity_matches(st, &f.certs[0]), |p| aws_identity_matches(st, p, &f.certs[0]))
            {
                Ok(()) => j.reasons.push(C::ChainAnchored.reason(format!(
                    "{label}: chain contains trusted {} {}",
                    ty.name(),
                    anchor.subject()
                ))),
                Err(e) => {
                    fail(&mut j, st.actions.authenticity, Verdict::Untrusted, "authenticity", (C::IdentityMismatch, e))
                }
            },
        }

        if let Some(exp) = f.expiry.filter(|e| now >= *e) {
            let msg = format!("the signature expired at {}", rfc3339(exp).unwrap_or_default());
            fail(&mut j, st.actions.expiry, Verdict::Invalid, "expiry", (C::SignatureExpired, msg));
        }

        // Authentic timestamp: the certificates must be valid at a verified signing time (`code`
        // when they are not), or now when no timestamp is required.
        let within = |t: i64, code: C| f.certs.iter().try_for_each(|c| c.valid_at(t)).map_err(|e| (code, e));
        let tsa_roots = self.certs(st, StoreType::Tsa);
        let ts_result = if f.signing_authority {
            match f.authentic_signing_time {
                Some(t) => within(t, C::TimestampOutsideValidity).map(|_| None),
                None => Err((C::TimestampMissing, "no authentic signing time".into())),
            }
        } else {
            let expired_now = f.certs.iter().any(|c| now > c.validity().1);
            let perform = !tsa_roots.is_empty() && (!st.timestamp_after_expiry_only || expired_now);
            if perform {
                match f.timestamp_token {
                    None => Err((
                        C::TimestampMissing,
                        "no timestamp countersignature was found in the signature envelope".into(),
                    )),
                    Some(token) => verify_timestamp(token, f.signature, &tsa_roots, f.revocation)
                        .and_then(|(tsa, time)| within(time, C::TimestampOutsideValidity).map(|_| Some((tsa, time)))),
                }
            } else {
                // Not valid now and no timestamp asked for: expired (or not yet valid).
                let code = if expired_now { C::CertExpiredNoTimestamp } else { C::ChainExpired };
                within(now, code).map(|_| None)
            }
        };
        match ts_result {
            Ok(Some((tsa, time))) => {
                let what = format!("RFC 3161 timestamp by {tsa} at {} verified", rfc3339(time).unwrap_or_default());
                j.reasons.push(C::TimestampVerified.reason(what));
                j.timestamp = Some((tsa, time));
            }
            Ok(None) => {}
            Err(e) => fail(&mut j, st.actions.authentic_timestamp, Verdict::Invalid, "authentic timestamp", e),
        }
        // Revocation (notation's rules): every certificate of the chain below its root, judged at
        // the authentic signing time (else now); a revoked certificate or an unknown status fails
        // the check, which the level then enforces or logs; checking online, a certificate that
        // names no OCSP responder and no CRL distribution point is not revocable (a note).
        // A plugin with the revocation capability replaces notation's own check (AWS Signer's asks
        // the AWS Signer service); it is not run here, and the verdict says so.
        if let Some(p) = f.plugin {
            if st.actions.revocation == Action::Skip {
                j.reasons.push(C::PluginChecksNotRun.reason(format!(
                    "verification plugin {} was not run: {label} skips revocation, its only check not made here (its \
                     trusted-identity check was: signing profile {})",
                    p.name, p.signing_profile
                )));
            } else {
                if j.verdict == Verdict::Verified {
                    j.verdict = Verdict::Untrusted;
                }
                j.reasons.push(C::PluginChecksNotRun.reason(format!(
                    "verification plugin {} was not run: its revocation check (AWS Signer's GetRevocationStatus on the \
                     signing profile version, the signing job and the certificates) was not made, so revoked signatures \
                     cannot be told apart; notation without the plugin fails this signature (verification inconclusive)",
                    p.name
                )));
            }
            return j;
        }
        if st.actions.revocation != Action::Skip {
            if f.revocation.active() {
                let at = j.timestamp.as_ref().map(|(_, t)| *t).or(f.authentic_signing_time).unwrap_or(now);
                let chain: Vec<&Cert> = f.certs.iter().collect();
                match f.revocation.judge_chain_as(&chain, at, Unknown::Notation) {
                    Ok(notes) => j.reasons.extend(notes),
                    Err((code, msg)) => {
                        let on_fail = if code == C::CertRevoked { Verdict::Invalid } else { Verdict::Untrusted };
                        fail(&mut j, st.actions.revocation, on_fail, "revocation", (code, msg))
                    }
                }
            } else {
                j.reasons.push(
                    C::RevocationNotChecked
                        .reason("revocation not checked: no revocation source (--crl or --revocation online) given"),
                );
            }
        }
        j
    }
}

/// Verify an RFC 3161 token over `signature` against the `tsa:` roots, valid at the time it states.
fn verify_timestamp(
    token: &[u8],
    signature: &[u8],
    roots: &[&Cert],
    rev: &Revocation,
) -> Result<(String, i64), (C, String)> {
    let ts = cms::verify_timestamp_token(token, signature)
        .map_err(|e| (C::TimestampInvalid, format!("timestamp countersignature: {e}")))?;
    crate::pki::path::validate_chain(&ts.chain, roots, &crate::pki::path::TIMESTAMPING, ts.time, rev)
        .map_err(|e| (C::TimestampUntrusted, format!("timestamp authority not trusted: {e}")))?;
    Ok((ts.chain[0].subject(), ts.time))
}

fn identity_matches(st: &Statement, leaf: &Cert) -> Result<(), String> {
    let Some(ids) = &st.identities else { return Ok(()) };
    let attrs = leaf.subject_attributes().map_err(|e| format!("leaf subject cannot match x509.subject: {e}"))?;
    let mut subject = Dn::new();
    for (k, v) in attrs {
        if subject.insert(k.clone(), v).is_some() {
            return Err(format!("leaf subject repeats {k} and cannot match x509.subject identities"));
        }
    }
    if ids.iter().any(|id| id.iter().all(|(k, v)| subject.get(k) == Some(v))) {
        Ok(())
    } else {
        Err(format!("signing certificate subject {} does not match the trusted identities", leaf.subject()))
    }
}

/// The AWS Signer plugin's trusted-identity check: the signed signing-profile version ARN is
/// trusted when a trusted identity is its signing profile's ARN or that very version's (ARNs
/// compared case-insensitively, as the plugin does); `*` is refused, as the plugin refuses it.
/// Stricter than the plugin: the ARN counts only when stated by a leaf AWS Signer issues
/// (`CN=AWS Signer, O=AWS`): a certificate from another CA of the same `signingAuthority` store
/// could otherwise claim any signing profile.
fn aws_identity_matches(st: &Statement, p: Plugin<'_>, leaf: &Cert) -> Result<(), String> {
    if st.identities.is_none() {
        return Err(format!("verification plugin {} does not accept the wildcard trusted identity \"*\"", p.name));
    }
    let attrs = leaf.subject_attributes().unwrap_or_default();
    let one = |k: &str, v: &str| {
        let values: Vec<&String> = attrs.iter().filter(|(a, _)| a == k).map(|(_, b)| b).collect();
        values.len() == 1 && values[0] == v
    };
    if !(one("CN", "AWS Signer") && one("O", "AWS")) {
        return Err(format!(
            "the signing certificate {} is not one AWS Signer issues (CN=AWS Signer, O=AWS): the signing profile {} it \
             states proves nothing",
            leaf.subject(),
            p.signing_profile
        ));
    }
    let profile = p.signing_profile.rsplit_once('/').map(|(profile, _)| profile);
    let matched = st.plugin_identities.iter().find(|id| match signing_profile_parts(id) {
        Some(3) => profile.is_some_and(|pr| pr.eq_ignore_ascii_case(id)),
        Some(4) => p.signing_profile.eq_ignore_ascii_case(id),
        _ => false,
    });
    match matched {
        Some(_) => Ok(()),
        None => Err(format!("signing profile {} matches none of the trusted identities", p.signing_profile)),
    }
}

/// For an AWS Signer signing-profile ARN (`arn:PARTITION:signer:REGION:ACCOUNT:/signing-profiles/…`),
/// the number of `/`-separated parts of its resource: 3 for a profile, 4 for a profile version.
pub fn signing_profile_parts(arn: &str) -> Option<usize> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, _region, _account, resource] = parts[..] else { return None };
    if prefix != "arn" || partition.is_empty() || service != "signer" || !resource.starts_with("/signing-profiles/") {
        return None;
    }
    let n = resource.split('/').count();
    (resource.split('/').skip(2).all(|x| !x.is_empty())).then_some(n)
}

// ---- policy document ----

/// Parse and validate an OCI trust policy document as notation does.
pub fn validate_policy(text: &str) -> Result<Vec<Statement>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    match doc.get("version").and_then(Value::as_str) {
        Some("1.0") => {}
        other => return Err(format!("version {other:?} is not supported (expected \"1.0\")")),
    }
    let list = doc.get("trustPolicies").and_then(Value::as_array).ok_or("trustPolicies missing")?;
    if list.is_empty() {
        return Err("trust policy document has no statements".into());
    }
    let mut statements: Vec<Statement> = Vec::new();
    for v in list {
        let st = parse_statement(v)?;
        if statements.iter().any(|s| s.name == st.name) {
            return Err(format!("multiple trust policy statements use the same name {:?}", st.name));
        }
        for scope in &st.scopes {
            if statements.iter().any(|s| s.scopes.contains(scope)) {
                return Err(format!("registry scope {scope:?} is present in multiple trust policy statements"));
            }
        }
        statements.push(st);
    }
    Ok(statements)
}

fn strings(v: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string).ok_or_else(|| format!("{what} entries must be strings")))
            .collect(),
        Some(_) => Err(format!("{what} must be an array")),
    }
}

fn parse_statement(v: &Value) -> Result<Statement, String> {
    let name = v.get("name").and_then(Value::as_str).filter(|n| !n.is_empty()).ok_or("a statement has no name")?;
    let ctx = |m: String| format!("statement {name:?}: {m}");
    let scopes = strings(v.get("registryScopes"), "registryScopes").map_err(ctx)?;
    if scopes.is_empty() {
        return Err(ctx("has zero registry scopes".into()));
    }
    if scopes.len() > 1 && scopes.iter().any(|s| s == "*") {
        return Err(ctx("wildcard registry scope \"*\" cannot be combined with other scopes".into()));
    }
    for (i, s) in scopes.iter().enumerate() {
        if scopes[..i].contains(s) {
            return Err(ctx(format!("registry scope {s:?} is present in multiple trust policy statements")));
        }
        if s != "*" && !scope_ok(s) {
            return Err(ctx(format!("registry scope {s:?} is not a valid repository (domain[:port]/repository)")));
        }
    }
    let sv = v.get("signatureVerification").ok_or_else(|| ctx("signatureVerification missing".into()))?;
    let level = match sv.get("level").and_then(Value::as_str) {
        Some("strict") => Level::Strict,
        Some("permissive") => Level::Permissive,
        Some("audit") => Level::Audit,
        Some("skip") => Level::Skip,
        other => return Err(ctx(format!("signature verification level {other:?} is not supported"))),
    };
    let mut actions = level.actions();
    if let Some(o) = sv.get("override") {
        let o = o.as_object().ok_or_else(|| ctx("override must be an object".into()))?;
        if level == Level::Skip && !o.is_empty() {
            return Err(ctx("level skip cannot be overridden".into()));
        }
        for (k, a) in o {
            let action = match a.as_str() {
                Some("enforce") => Action::Enforce,
                Some("log") => Action::Log,
                Some("skip") => Action::Skip,
                _ => return Err(ctx(format!("override {k:?}: action {a} is not enforce, log or skip"))),
            };
            match k.as_str() {
                "integrity" => return Err(ctx("\"integrity\" verification can not be overridden".into())),
                "authenticity" if action == Action::Skip => {
                    return Err(ctx("\"authenticity\" verification can not be skipped".into()))
                }
                "authenticity" => actions.authenticity = action,
                "authenticTimestamp" if action == Action::Skip => {
                    return Err(ctx("\"authenticTimestamp\" verification can not be skipped".into()))
                }
                "authenticTimestamp" => actions.authentic_timestamp = action,
                "expiry" if action == Action::Skip => {
                    return Err(ctx("\"expiry\" verification can not be skipped".into()))
                }
                "expiry" => actions.expiry = action,
                "revocation" => actions.revocation = action,
                other => return Err(ctx(format!("verification type {other:?} is not supported"))),
            }
        }
    }
    let timestamp_after_expiry_only = match sv.get("verifyTimestamp").and_then(Value::as_str) {
        None | Some("always") => false,
        Some("afterCertExpiry") => true,
        Some(other) => return Err(ctx(format!("verifyTimestamp {other:?} is not always or afterCertExpiry"))),
    };
    let store_values = strings(v.get("trustStores"), "trustStores").map_err(ctx)?;
    let identity_values = strings(v.get("trustedIdentities"), "trustedIdentities").map_err(ctx)?;
    if level == Level::Skip {
        if !store_values.is_empty() || !identity_values.is_empty() {
            return Err(ctx("level skip must not have trust stores or trusted identities".into()));
        }
        return Ok(Statement {
            name: name.into(),
            scopes,
            level,
            actions,
            timestamp_after_expiry_only,
            stores: Vec::new(),
            identities: None,
            plugin_identities: Vec::new(),
        });
    }
    if store_values.is_empty() || identity_values.is_empty() {
        return Err(ctx("is either missing trust stores or trusted identities, both must be specified".into()));
    }
    let mut stores = Vec::new();
    for s in &store_values {
        let (ty, n) = s.split_once(':').ok_or_else(|| ctx(format!("malformed trust store value {s:?}")))?;
        let ty = StoreType::parse(ty).ok_or_else(|| ctx(format!("trust store type {ty:?} is not supported")))?;
        if !store_name_ok(n) {
            return Err(ctx(format!("malformed trust store value {s:?}")));
        }
        if !stores.contains(&(ty, n.to_string())) {
            stores.push((ty, n.to_string()));
        }
    }
    let (identities, plugin_identities) = parse_identities(&identity_values).map_err(ctx)?;
    Ok(Statement {
        name: name.into(),
        scopes,
        level,
        actions,
        timestamp_after_expiry_only,
        stores,
        identities,
        plugin_identities,
    })
}

/// The `x509.subject:` identities (`None` for `*`), and the others, kept for a verification
/// plugin (notation tolerates them and passes them to the plugin).
type Identities = (Option<Vec<Dn>>, Vec<String>);

fn parse_identities(values: &[String]) -> Result<Identities, String> {
    if values.iter().any(|v| v == "*") {
        if values.len() > 1 {
            return Err("wildcard trusted identity \"*\" cannot be combined with other identities".into());
        }
        return Ok((None, Vec::new()));
    }
    let mut dns: Vec<Dn> = Vec::new();
    let mut others: Vec<String> = Vec::new();
    for v in values {
        if v.trim().is_empty() {
            return Err("has an empty trusted identity".into());
        }
        let (prefix, value) = v.split_once(':').ok_or_else(|| format!("trusted identity {v:?} lacks a prefix"))?;
        if prefix.trim() != "x509.subject" {
            others.push(v.clone()); // other prefixes are tolerated, for plugins, as in notation
            continue;
        }
        let dn = parse_dn(value.trim()).map_err(|e| format!("trusted identity {v:?}: {e}"))?;
        for k in ["C", "ST", "O"] {
            if !dn.contains_key(k) {
                return Err(format!("trusted identity {v:?} lacks the mandatory attribute {k}"));
            }
        }
        dns.push(dn);
    }
    if dns.is_empty() && others.is_empty() {
        return Err("has no x509.subject trusted identities".into());
    }
    for (i, a) in dns.iter().enumerate() {
        for b in &dns[i + 1..] {
            let subset = |x: &Dn, y: &Dn| x.iter().all(|(k, v)| y.get(k) == Some(v));
            if subset(a, b) || subset(b, a) {
                return Err("has overlapping x509 trustedIdentities".into());
            }
        }
    }
    Ok((Some(dns), others))
}

/// An RFC 4514 name as notation accepts it: single-valued RDNs, no repeated types, no `#` values.
fn parse_dn(s: &str) -> Result<Dn, String> {
    if s.is_empty() {
        return Err("empty distinguished name".into());
    }
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let n = chars.next().ok_or("dangling escape")?;
                cur.push(n);
            }
            ',' | ';' => parts.push(std::mem::take(&mut cur)),
            '+' => return Err("multi-valued RDNs are not supported".into()),
            _ => cur.push(c),
        }
    }
    parts.push(cur);
    let mut dn = Dn::new();
    for p in parts {
        let (k, v) = p.split_once('=').ok_or_else(|| format!("{:?} is not TYPE=value", p.trim()))?;
        let k = k.trim().to_ascii_uppercase();
        let k = if k == "S" { "ST".to_string() } else { k };
        let v = v.trim();
        if v.starts_with('#') {
            return Err("hex-encoded (=#) values are not supported".into());
        }
        if k.is_empty() || v.is_empty() {
            return Err(format!("{:?} has an empty type or value", p.trim()));
        }
        if dn.insert(k.clone(), v.to_string()).is_some() {
            return Err(format!("attribute {k} appears more than once"));
        }
    }
    Ok(dn)
}

fn store_name_ok(n: &str) -> bool {
    !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// `domain[:port]/repository` as the distribution reference grammar has it (lowercase path
/// components separated by `.`, `_`, `__` or `-`; no tag or digest).
fn scope_ok(s: &str) -> bool {
    static RE: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let re = RE.get_or_init(|| {
        let comp = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
        let domain = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?";
        regex::Regex::new(&format!("^{domain}/{comp}(?:/{comp})*$")).expect("valid regex")
    });
    re.is_match(s)
}

// ---- trust store ----

fn load_store(dir: &Path, ty: StoreType, name: &str) -> Result<Vec<Cert>, String> {
    let path = dir.join("x509").join(ty.name()).join(name);
    let meta = std::fs::symlink_metadata(&path)
        .map_err(|_| format!("the trust store {name:?} of type {:?} does not exist ({})", ty.name(), path.display()))?;
    if !meta.is_dir() {
        return Err(format!("{} is not a directory", path.display()));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .map(|e| e.map(|e| e.path()).map_err(|e| format!("{}: {e}", path.display())))
        .collect::<Result<_, _>>()?;
    files.sort();
    let mut certs = Vec::new();
    for f in files {
        let m = std::fs::symlink_metadata(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        if !m.is_file() {
            return Err(format!("{}: trust stores hold only regular files (no directories or symlinks)", f.display()));
        }
        let bytes = std::fs::read(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let found = if bytes.starts_with(b"-----") || bytes.windows(11).any(|w| w == b"-----BEGIN ") {
            Cert::from_pem_chain(&bytes)
        } else {
            Cert::from_der(bytes).map(|c| vec![c])
        }
        .map_err(|e| format!("{}: {e}", f.display()))?;
        for c in found {
            let self_signed = c.is_self_signed() && c.is_signed_by(&c);
            let ca = matches!(c.basic_constraints(), Some((_, true, _)));
            if ty == StoreType::Tsa && !self_signed {
                return Err(format!(
                    "{}: {} is not a root certificate (tsa stores hold roots)",
                    f.display(),
                    c.subject()
                ));
            }
            if !ca && !self_signed {
                return Err(format!(
                    "{}: {} is not a CA certificate or self-signed signing certificate",
                    f.display(),
                    c.subject()
                ));
            }
            certs.push(c);
        }
    }
    if certs.is_empty() {
        return Err(format!("the trust store {} holds no certificate", path.display()));
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dn_parsing_follows_notation() {
        let dn = parse_dn("C=US, S=WA, O=wabbit\\, inc., CN=x").unwrap();
        assert_eq!(dn.get("ST").map(String::as_str), Some("WA"));
        assert_eq!(dn.get("O").map(String::as_str), Some("wabbit, inc."));
        assert!(parse_dn("C=US+O=x").is_err());
        assert!(parse_dn("C=US,C=UK").is_err());
        assert!(parse_dn("CN=#0101").is_err());
    }

    #[test]
    fn scopes() {
        assert!(scope_ok("registry.acme-rockets.io/software/net-monitor"));
        assert!(scope_ok("localhost:5000/test-repo"));
        assert!(!scope_ok("localhost:5000\\test-repo"));
        assert!(!scope_ok("localhost:5000/repo:tag"));
        assert!(!scope_ok("localhost:5000/Repo"));
    }
}
