//! `--use-pull-secrets`: the registry credentials a cluster pulls with, read from the API: each
//! pod's `imagePullSecrets` and its service account's, of type `kubernetes.io/dockerconfigjson`
//! (`.dockerconfigjson`) or `kubernetes.io/dockercfg` (`.dockercfg`). Only when asked.

use super::api::{ApiClient, ApiError};
use super::pods::Pod;
use crate::registry::{Credentials, Secret};
use base64::Engine;
use std::collections::{BTreeSet, HashMap};

/// Credentials by registry host (the first secret that names a host wins; secrets are read in
/// namespace and name order).
pub async fn collect(api: &ApiClient, pods: &[Pod]) -> Result<HashMap<String, Credentials>, ApiError> {
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    let mut accounts: BTreeSet<(String, String)> = BTreeSet::new();
    for p in pods {
        let ns = p.namespace().to_string();
        names.extend(p.pull_secrets().into_iter().map(|n| (ns.clone(), n)));
        accounts.insert((ns, p.service_account().to_string()));
    }
    for (ns, sa) in &accounts {
        if let Some(account) = api.service_account(ns, sa).await? {
            names.extend(account.image_pull_secrets.into_iter().map(|r| (ns.clone(), r.name)));
        }
    }
    let mut out = HashMap::new();
    for (ns, name) in &names {
        let Some(secret) = api.secret(ns, name).await? else {
            tracing::warn!("pull secret {ns}/{name} does not exist");
            continue;
        };
        let key = match secret.kind.as_str() {
            "kubernetes.io/dockerconfigjson" => ".dockerconfigjson",
            "kubernetes.io/dockercfg" => ".dockercfg",
            other => {
                tracing::warn!("secret {ns}/{name} is of type {other}, not a pull secret: ignored");
                continue;
            }
        };
        let Some(data) = secret.data.get(key) else { continue };
        match parse_docker_config(data, key == ".dockercfg") {
            Ok(found) => {
                for (host, c) in found {
                    out.entry(host).or_insert(c);
                }
            }
            Err(e) => tracing::warn!("pull secret {ns}/{name}: {e}"),
        }
    }
    Ok(out)
}

/// `auths` of a docker config (base64 as a Secret's `data` holds it); `legacy`: the old
/// `.dockercfg` shape, whose top level is the `auths` map itself.
pub fn parse_docker_config(data_b64: &str, legacy: bool) -> Result<Vec<(String, Credentials)>, String> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let bytes = b64.decode(data_b64.trim()).map_err(|e| format!("not base64: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| format!("not JSON: {e}"))?;
    let auths = if legacy { &v } else { &v["auths"] };
    let Some(auths) = auths.as_object() else { return Err("no auths".into()) };
    let mut out = Vec::new();
    for (key, entry) in auths {
        let host = key.trim_start_matches("https://").trim_start_matches("http://");
        let host = host.split('/').next().unwrap_or(host).to_string();
        let host = if host == "docker.io" { "index.docker.io".to_string() } else { host };
        let (user, pass) = match (entry["username"].as_str(), entry["password"].as_str(), entry["auth"].as_str()) {
            (Some(u), Some(p), _) => (u.to_string(), p.to_string()),
            (_, _, Some(a)) => {
                let decoded = b64.decode(a.trim()).map_err(|e| format!("{key}: auth is not base64: {e}"))?;
                let text = String::from_utf8(decoded).map_err(|_| format!("{key}: auth is not text"))?;
                let (u, p) = text.split_once(':').ok_or_else(|| format!("{key}: auth is not USER:PASSWORD"))?;
                (u.to_string(), p.to_string())
            }
            _ => continue,
        };
        out.push((host, Credentials::Basic { username: user, password: Secret::new(pass) }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_of_docker_config() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let json =
            r#"{"auths":{"https://127.0.0.1:5000/v1/":{"auth":"dTpw"},"reg.example":{"username":"a","password":"b"}}}"#;
        let mut found = parse_docker_config(&b64.encode(json), false).unwrap();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(found[0].0, "127.0.0.1:5000");
        assert!(
            matches!(&found[0].1, Credentials::Basic { username, password } if username == "u" && password.expose() == "p")
        );
        let legacy = r#"{"docker.io":{"auth":"dTpw"}}"#;
        assert_eq!(parse_docker_config(&b64.encode(legacy), true).unwrap()[0].0, "index.docker.io");
        assert!(parse_docker_config("!!", false).is_err());
    }
}
