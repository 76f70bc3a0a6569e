//! Where the Kubernetes API is and how to authenticate to it: a kubeconfig (its current context,
//! or the one named), or the in-cluster service account of a pod (a Job running sigaudit).

use crate::registry::Secret;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The in-cluster service account's files.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// How to reach one API server.
#[derive(Debug, Clone)]
pub struct Connection {
    /// `https://HOST:PORT` (a path prefix is kept).
    pub server: url::Url,
    /// PEM roots for the server's certificate (the kubeconfig's CA); None: the system's roots.
    pub ca_pem: Option<Vec<u8>>,
    pub insecure_skip_tls_verify: bool,
    pub token: Option<Secret>,
    /// Client certificate and key, PEM, concatenated.
    pub identity_pem: Option<Vec<u8>>,
    /// The context's namespace (the service account's, in-cluster), for when none is given.
    pub namespace: Option<String>,
    /// Where this came from, for messages: `kubeconfig FILE context NAME` or `in-cluster`.
    pub source: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Io(String),
    #[error("kubeconfig {path}: {message}")]
    Invalid { path: String, message: String },
    #[error(
        "no kubeconfig ({0}) and not in a cluster (KUBERNETES_SERVICE_HOST is not set): give --kubeconfig FILE, or read pods from a file with --pods-file"
    )]
    Nothing(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct KubeConfig {
    #[serde(default)]
    current_context: Option<String>,
    #[serde(default)]
    clusters: Vec<Named<Cluster>>,
    #[serde(default)]
    contexts: Vec<Named<Context>>,
    #[serde(default)]
    users: Vec<Named<User>>,
}

#[derive(Debug, Deserialize)]
struct Named<T> {
    name: String,
    #[serde(alias = "cluster", alias = "context", alias = "user")]
    value: Option<T>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Cluster {
    server: Option<String>,
    certificate_authority: Option<String>,
    certificate_authority_data: Option<String>,
    #[serde(default)]
    insecure_skip_tls_verify: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Context {
    cluster: Option<String>,
    user: Option<String>,
    namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct User {
    token: Option<String>,
    #[serde(rename = "tokenFile")]
    token_file: Option<String>,
    client_certificate: Option<String>,
    client_certificate_data: Option<String>,
    client_key: Option<String>,
    client_key_data: Option<String>,
    exec: Option<serde_yaml::Value>,
    auth_provider: Option<serde_yaml::Value>,
    username: Option<String>,
}

/// The kubeconfig to read: `--kubeconfig`, else the first file of `KUBECONFIG`, else
/// `~/.kube/config`; None when there is none (then in-cluster is tried).
pub fn default_path(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    if let Some(list) = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty()) {
        return std::env::split_paths(&list).find(|p| p.is_file());
    }
    let home = std::env::var_os("HOME")?;
    Some(PathBuf::from(home).join(".kube/config")).filter(|p| p.is_file())
}

/// The connection: from the kubeconfig (`context`, else its current context), else in-cluster.
pub fn connection(kubeconfig: Option<&Path>, context: Option<&str>) -> Result<Connection, ConfigError> {
    match default_path(kubeconfig) {
        Some(path) => from_kubeconfig(&path, context),
        None if context.is_some() => Err(ConfigError::Nothing("--context needs a kubeconfig".into())),
        None => in_cluster(Path::new(SERVICE_ACCOUNT_DIR)),
    }
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| ConfigError::Io(format!("{what} {}: {e}", path.display())))
}

pub fn from_kubeconfig(path: &Path, context: Option<&str>) -> Result<Connection, ConfigError> {
    let shown = path.display().to_string();
    let invalid = |message: String| ConfigError::Invalid { path: shown.clone(), message };
    let text = read(path, "kubeconfig")?;
    let cfg: KubeConfig = serde_yaml::from_slice(&text).map_err(|e| invalid(e.to_string()))?;
    let name = context
        .map(str::to_string)
        .or(cfg.current_context.clone().filter(|c| !c.is_empty()))
        .ok_or_else(|| invalid("no current-context: name one with --context".into()))?;
    let ctx = cfg
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.value.as_ref())
        .ok_or_else(|| invalid(format!("no context {name:?}")))?;
    let cluster_name = ctx.cluster.clone().ok_or_else(|| invalid(format!("context {name:?} names no cluster")))?;
    let cluster = cfg
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.value.as_ref())
        .ok_or_else(|| invalid(format!("no cluster {cluster_name:?}")))?;
    let empty = User::default();
    let user = match &ctx.user {
        None => &empty,
        Some(u) => cfg
            .users
            .iter()
            .find(|x| &x.name == u)
            .and_then(|x| x.value.as_ref())
            .ok_or_else(|| invalid(format!("no user {u:?}")))?,
    };
    // Relative file names in a kubeconfig are relative to the kubeconfig's directory.
    let base = path.parent().unwrap_or(Path::new("."));
    let file = |p: &str| base.join(p);
    let b64 = |what: &str, s: &str| {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(s.trim())
            .map_err(|e| invalid(format!("{what} is not base64: {e}")))
    };
    let server = cluster.server.as_deref().ok_or_else(|| invalid(format!("cluster {cluster_name:?} has no server")))?;
    let server = url::Url::parse(server).map_err(|e| invalid(format!("server {server:?}: {e}")))?;
    let ca_pem = match (&cluster.certificate_authority_data, &cluster.certificate_authority) {
        (Some(d), _) => Some(b64("certificate-authority-data", d)?),
        (None, Some(f)) => Some(read(&file(f), "certificate-authority")?),
        _ => None,
    };
    if user.exec.is_some() || user.auth_provider.is_some() {
        return Err(invalid(format!(
            "user of context {name:?} authenticates with an exec plugin or auth provider, which sigaudit does not run: give a user with a token, a token file or a client certificate (e.g. a service account's token)"
        )));
    }
    if user.username.is_some() {
        return Err(invalid("basic authentication (username) is not supported: use a token".into()));
    }
    let token = match (&user.token, &user.token_file) {
        (Some(t), _) => Some(Secret::new(t.trim().to_string())),
        (None, Some(f)) => {
            Some(Secret::new(String::from_utf8_lossy(&read(&file(f), "token-file")?).trim().to_string()))
        }
        _ => None,
    };
    let cert = match (&user.client_certificate_data, &user.client_certificate) {
        (Some(d), _) => Some(b64("client-certificate-data", d)?),
        (None, Some(f)) => Some(read(&file(f), "client-certificate")?),
        _ => None,
    };
    let key = match (&user.client_key_data, &user.client_key) {
        (Some(d), _) => Some(b64("client-key-data", d)?),
        (None, Some(f)) => Some(read(&file(f), "client-key")?),
        _ => None,
    };
    let identity_pem = match (cert, key) {
        (Some(mut c), Some(k)) => {
            c.push(b'\n');
            c.extend_from_slice(&k);
            Some(c)
        }
        (None, None) => None,
        _ => return Err(invalid("a client certificate needs its key, and a key its certificate".into())),
    };
    Ok(Connection {
        server,
        ca_pem,
        insecure_skip_tls_verify: cluster.insecure_skip_tls_verify,
        token,
        identity_pem,
        namespace: ctx.namespace.clone().filter(|n| !n.is_empty()),
        source: format!("kubeconfig {shown} context {name}"),
    })
}

/// A pod's service account: `KUBERNETES_SERVICE_HOST`/`_PORT`, and the token, CA and namespace
/// files mounted at `dir`.
pub fn in_cluster(dir: &Path) -> Result<Connection, ConfigError> {
    let host = std::env::var("KUBERNETES_SERVICE_HOST").ok().filter(|h| !h.is_empty());
    let Some(host) = host else {
        return Err(ConfigError::Nothing("none given, none in KUBECONFIG or ~/.kube/config".into()));
    };
    let port = std::env::var("KUBERNETES_SERVICE_PORT").ok().filter(|p| !p.is_empty()).unwrap_or("443".into());
    let host = if host.contains(':') { format!("[{host}]") } else { host };
    let server = url::Url::parse(&format!("https://{host}:{port}"))
        .map_err(|e| ConfigError::Io(format!("KUBERNETES_SERVICE_HOST {host}: {e}")))?;
    let token = String::from_utf8_lossy(&read(&dir.join("token"), "service account token")?).trim().to_string();
    let namespace =
        std::fs::read_to_string(dir.join("namespace")).ok().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    Ok(Connection {
        server,
        ca_pem: Some(read(&dir.join("ca.crt"), "service account CA")?),
        insecure_skip_tls_verify: false,
        token: Some(Secret::new(token)),
        identity_pem: None,
        namespace,
        source: "in-cluster service account".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_users_and_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), b"CA PEM").unwrap();
        std::fs::write(dir.path().join("tok"), b"file-token\n").unwrap();
        let cfg = "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c1\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority: ca.crt\n- name: c2\n  cluster:\n    server: https://10.0.0.1\n    certificate-authority-data: Q0EgREFUQQ==\ncontexts:\n- name: a\n  context:\n    cluster: c1\n    user: u1\n    namespace: team\n- name: b\n  context:\n    cluster: c2\n    user: u2\nusers:\n- name: u1\n  user:\n    token: abc\n- name: u2\n  user:\n    tokenFile: tok\n- name: u3\n  user:\n    exec:\n      command: aws\n";
        let path = dir.path().join("config");
        std::fs::write(&path, cfg).unwrap();
        let a = from_kubeconfig(&path, None).unwrap();
        assert_eq!(a.server.as_str(), "https://127.0.0.1:6443/");
        assert_eq!(a.ca_pem.as_deref(), Some(&b"CA PEM"[..]));
        assert_eq!(a.token.as_ref().map(Secret::expose), Some("abc"));
        assert_eq!(a.namespace.as_deref(), Some("team"));
        let b = from_kubeconfig(&path, Some("b")).unwrap();
        assert_eq!(b.ca_pem.as_deref(), Some(&b"CA DATA"[..]));
        assert_eq!(b.token.as_ref().map(Secret::expose), Some("file-token"));
        assert!(from_kubeconfig(&path, Some("nope")).unwrap_err().to_string().contains("no context"));
        let exec = cfg.replace("user: u2", "user: u3");
        std::fs::write(&path, exec).unwrap();
        assert!(from_kubeconfig(&path, Some("b")).unwrap_err().to_string().contains("exec plugin"));
    }
}
