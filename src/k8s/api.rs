//! A small typed client of the Kubernetes API: the few GETs sigaudit needs (pods, page by page;
//! the ReplicaSets and Jobs that own pods; with `--use-pull-secrets`, service accounts and
//! secrets), over HTTPS with the kubeconfig's CA and bearer token or client certificate.

use super::kubeconfig::Connection;
use super::pods::{ObjectMeta, Pod, PodList};
use serde::Deserialize;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Kubernetes API client: {0}")]
    Setup(String),
    #[error("GET {url}: {message}")]
    Transport { url: String, message: String },
    #[error(
        "GET {url}: HTTP 401: the API server does not accept these credentials (the token or client certificate of {who}): check it, or give another --context"
    )]
    Unauthorized { url: String, who: String },
    #[error("GET {url}: HTTP 403: {who} may not do this (RBAC: it needs {verb} on {resource}): {message}")]
    Forbidden { url: String, who: String, verb: String, resource: String, message: String },
    #[error("GET {url}: HTTP {status}: {message}")]
    Status { url: String, status: u16, message: String },
    #[error("GET {url}: the answer is not {what}: {message}")]
    Body { url: String, what: String, message: String },
}

pub struct ApiClient {
    http: reqwest::Client,
    conn: Connection,
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct PodQuery {
    /// None: all namespaces.
    pub namespace: Option<String>,
    pub label_selector: Option<String>,
    /// Pods per page (`limit`); the rest follows with `continue`.
    pub chunk_size: u32,
}

/// A Kubernetes `Status` answer's message.
#[derive(Deserialize)]
struct StatusBody {
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Object {
    #[serde(default)]
    metadata: ObjectMeta,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceAccount {
    #[serde(default)]
    pub image_pull_secrets: Vec<NameRef>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NameRef {
    #[serde(default)]
    pub name: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Secret {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: std::collections::BTreeMap<String, String>,
}

impl ApiClient {
    pub fn new(conn: Connection, timeout: Duration) -> Result<ApiClient, ApiError> {
        let setup = |e: reqwest::Error| ApiError::Setup(format!("{}: {e}", conn.source));
        let mut b = reqwest::Client::builder()
            .user_agent(concat!("sigaudit/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = &conn.ca_pem {
            // Only the cluster's CA, as kubectl: a public CA's certificate for the API server's
            // name would not do.
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(setup)?;
            if certs.is_empty() {
                return Err(ApiError::Setup(format!(
                    "{}: the certificate authority holds no PEM certificate",
                    conn.source
                )));
            }
            b = b.tls_certs_only(certs);
        }
        if conn.insecure_skip_tls_verify {
            tracing::warn!("{}: insecure-skip-tls-verify: the API server's certificate is not checked", conn.source);
            b = b.tls_danger_accept_invalid_certs(true);
        }
        if let Some(pem) = &conn.identity_pem {
            b = b.identity(reqwest::Identity::from_pem(pem).map_err(setup)?);
        }
        Ok(ApiClient { http: b.build().map_err(setup)?, conn })
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut u = self.conn.server.clone();
        let base = u.path().trim_end_matches('/').to_string();
        u.set_path(&format!("{base}{path}"));
        if !query.is_empty() {
            u.query_pairs_mut().extend_pairs(query);
        }
        u
    }

    /// GET a JSON object; `Ok(None)` on 404. `verb` and `resource` name the RBAC rule a 403 lacks.
    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        url: url::Url,
        what: &str,
        resource: &str,
        verb: &str,
    ) -> Result<Option<T>, ApiError> {
        let shown = url.to_string();
        let mut req = self.http.get(url).header("Accept", "application/json");
        if let Some(t) = &self.conn.token {
            req = req.bearer_auth(t.expose());
        }
        let resp =
            req.send().await.map_err(|e| ApiError::Transport { url: shown.clone(), message: error_chain(&e) })?;
        let status = resp.status().as_u16();
        let body =
            resp.bytes().await.map_err(|e| ApiError::Transport { url: shown.clone(), message: error_chain(&e) })?;
        let message = || {
            serde_json::from_slice::<StatusBody>(&body)
                .map(|s| s.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned())
        };
        match status {
            200 => serde_json::from_slice(&body).map(Some).map_err(|e| ApiError::Body {
                url: shown,
                what: what.into(),
                message: e.to_string(),
            }),
            404 => Ok(None),
            401 => Err(ApiError::Unauthorized { url: shown, who: self.conn.source.clone() }),
            403 => Err(ApiError::Forbidden {
                url: shown,
                who: self.conn.source.clone(),
                verb: verb.into(),
                resource: resource.into(),
                message: message(),
            }),
            _ => Err(ApiError::Status { url: shown, status, message: message() }),
        }
    }

    /// Every pod the query selects, page by page (`limit`, then `continue` until the server
    /// gives none).
    /// Every pod the query matches, page after page, and the items that were no readable pod.
    pub async fn list_pods(&self, q: &PodQuery) -> Result<(Vec<Pod>, Vec<String>), ApiError> {
        let path = match &q.namespace {
            Some(ns) => format!("/api/v1/namespaces/{}/pods", segment(ns)),
            None => "/api/v1/pods".to_string(),
        };
        let limit = q.chunk_size.max(1).to_string();
        let mut pods = Vec::new();
        let mut unreadable = Vec::new();
        let mut token: Option<String> = None;
        for page in 0.. {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(s) = &q.label_selector {
                query.push(("labelSelector", s.as_str()));
            }
            if let Some(t) = &token {
                query.push(("continue", t.as_str()));
            }
            let url = self.url(&path, &query);
            let shown = url.to_string();
            let list: PodList = self
                .get::<serde_json::Value>(url, "a PodList", "pods", "list")
                .await?
                .ok_or_else(|| ApiError::Status { url: shown.clone(), status: 404, message: "no such path".into() })
                .and_then(|v| {
                    PodList::parse(&v.to_string()).map_err(|e| ApiError::Body {
                        url: shown.clone(),
                        what: "a PodList".into(),
                        message: e.to_string(),
                    })
                })?;
            tracing::debug!(page, pods = list.items.len(), "listed pods");
            pods.extend(list.items);
            unreadable.extend(list.unreadable);
            match list.metadata.continue_token.filter(|t| !t.is_empty()) {
                Some(t) if Some(&t) == token.as_ref() => {
                    return Err(ApiError::Body {
                        url: shown,
                        what: "a new page".into(),
                        message: "the server gave the same continue token twice".into(),
                    })
                }
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok((pods, unreadable))
    }

    /// The metadata of a ReplicaSet (`apps/v1`) or Job (`batch/v1`), to find its own owner.
    pub async fn owner_meta(&self, kind: &str, namespace: &str, name: &str) -> Result<Option<ObjectMeta>, ApiError> {
        let (group, plural) = match kind {
            "ReplicaSet" => ("/apis/apps/v1", "replicasets"),
            "Job" => ("/apis/batch/v1", "jobs"),
            other => return Err(ApiError::Setup(format!("no lookup of a {other}'s owner"))),
        };
        let url = self.url(&format!("{group}/namespaces/{}/{plural}/{}", segment(namespace), segment(name)), &[]);
        Ok(self.get::<Object>(url, kind, plural, "get").await?.map(|o| o.metadata))
    }

    pub async fn service_account(&self, namespace: &str, name: &str) -> Result<Option<ServiceAccount>, ApiError> {
        let url =
            self.url(&format!("/api/v1/namespaces/{}/serviceaccounts/{}", segment(namespace), segment(name)), &[]);
        self.get(url, "a ServiceAccount", "serviceaccounts", "get").await
    }

    pub async fn secret(&self, namespace: &str, name: &str) -> Result<Option<Secret>, ApiError> {
        let url = self.url(&format!("/api/v1/namespaces/{}/secrets/{}", segment(namespace), segment(name)), &[]);
        self.get(url, "a Secret", "secrets", "get").await
    }
}

/// A name as one path segment (names are DNS labels; anything else is escaped, never a `/`).
fn segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An error with its causes (reqwest's display hides the TLS reason).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
