//! Registry authentication: credentials (flags, docker config, credential helpers), the
//! `WWW-Authenticate` challenge, and the Bearer token flow with per-scope token reuse.
//! Secrets are wrapped in [`Secret`], whose Debug and Display never show the value.

use base64::Engine;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::PathBuf;

/// A secret string that never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: Secret,
    },
    /// A registry bearer token, sent as is.
    Bearer(Secret),
}

/// What the registry asked for in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    Basic,
    Bearer { realm: String, service: Option<String>, scope: Option<String> },
}

impl Challenge {
    /// Parse a `WWW-Authenticate` value: `Bearer realm="…",service="…",scope="…"` or `Basic realm="…"`.
    pub fn parse(value: &str) -> Option<Challenge> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Some(Challenge::Basic);
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let params = auth_params(rest);
        Some(Challenge::Bearer {
            realm: params.get("realm")?.clone(),
            service: params.get("service").cloned(),
            scope: params.get("scope").cloned(),
        })
    }
}

fn auth_params(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key.trim().trim_start_matches(',').trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remaining) = if let Some(q) = after.strip_prefix('"') {
            let mut val = String::new();
            let mut chars = q.char_indices();
            let mut end = q.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, n)) = chars.next() {
                            val.push(n);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    _ => val.push(c),
                }
            }
            (val, &q[end.min(q.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_string(), &after[end..])
        };
        out.insert(key, value);
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    out
}

#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    #[serde(default)]
    pub token: Option<String>,
    #[serde(default)]
    pub access_token: Option<String>,
    #[serde(default)]
    pub expires_in: Option<u64>,
}

/// Where credentials for a registry host come from, when no flag gives them:
/// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json` (`auths`, `credHelpers`, `credsStore`).
pub fn docker_config_credentials(host: &str) -> Result<Option<Credentials>, String> {
    let path = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => PathBuf::from(dir).join("config.json"),
        None => match std::env::var_os("HOME") {
            Some(home) => PathBuf::from(home).join(".docker/config.json"),
            None => return Ok(None),
        },
    };
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    #[derive(Deserialize, Default)]
    #[serde(rename_all = "camelCase")]
    struct Config {
        #[serde(default)]
        auths: HashMap<String, AuthEntry>,
        #[serde(default)]
        cred_helpers: HashMap<String, String>,
        #[serde(default)]
        creds_store: Option<String>,
    }
    #[derive(Deserialize, Default)]
    struct AuthEntry {
        #[serde(default)]
        auth: Option<String>,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        password: Option<String>,
        #[serde(default)]
        registrytoken: Option<String>,
    }
    let cfg: Config = serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(helper) = cfg.cred_helpers.get(host) {
        return credential_helper(helper, host).map(Some);
    }
    let entry = cfg.auths.iter().find(|(k, _)| auths_key_matches(k, host)).map(|(_, v)| v);
    if let Some(e) = entry {
        if let Some(t) = &e.registrytoken {
            return Ok(Some(Credentials::Bearer(Secret::new(t.clone()))));
        }
        if let Some(a) = &e.auth {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(a.trim())
                .map_err(|_| format!("{}: auths.{host}.auth is not base64", path.display()))?;
            let decoded = String::from_utf8(decoded).map_err(|_| format!("{}: auth is not UTF-8", path.display()))?;
            let (u, p) = decoded
                .split_once(':')
                .ok_or_else(|| format!("{}: auths.{host}.auth is not user:password", path.display()))?;
            return Ok(Some(Credentials::Basic { username: u.into(), password: Secret::new(p) }));
        }
        if let (Some(u), Some(p)) = (&e.username, &e.password) {
            return Ok(Some(Credentials::Basic { username: u.clone(), password: Secret::new(p.clone()) }));
        }
    }
    if let Some(store) = &cfg.creds_store {
        return match credential_helper(store, host) {
            Ok(c) => Ok(Some(c)),
            // A store that knows nothing of this host is not an error: go anonymous.
            Err(e) if e.contains("credentials not found") => Ok(None),
            Err(e) => Err(e),
        };
    }
    Ok(None)
}

fn auths_key_matches(key: &str, host: &str) -> bool {
    let k = key.trim_start_matches("https://").trim_start_matches("http://");
    let k = k.split('/').next().unwrap_or(k);
    k == host || (host == "registry-1.docker.io" && k == "index.docker.io")
}

/// The docker-credential-helpers protocol: `docker-credential-NAME get`, host on stdin,
/// `{"Username","Secret"}` on stdout. Blocking: call it off the async runtime.
fn credential_helper(name: &str, host: &str) -> Result<Credentials, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(host.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        // The helper's message names the problem; it never contains the secret.
        let msg = String::from_utf8_lossy(&out.stdout).trim().to_string();
        return Err(format!("{program} get failed: {msg}"));
    }
    #[derive(Deserialize)]
    struct HelperAnswer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let a: HelperAnswer = serde_json::from_slice(&out.stdout).map_err(|_| format!("{program}: unreadable answer"))?;
    if a.username == "<token>" {
        Ok(Credentials::Bearer(Secret::new(a.secret)))
    } else {
        Ok(Credentials::Basic { username: a.username, password: Secret::new(a.secret) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_challenge() {
        let c = Challenge::parse(
            r#"Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull""#,
        );
        assert_eq!(
            c,
            Some(Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("registry.example".into()),
                scope: Some("repository:a/b:pull".into())
            })
        );
        assert_eq!(Challenge::parse("Basic realm=\"x\""), Some(Challenge::Basic));
        assert_eq!(Challenge::parse("Negotiate"), None);
    }

    #[test]
    fn secrets_do_not_print() {
        let c = Credentials::Basic { username: "u".into(), password: Secret::new("hunter2") };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}
