//! Pods as the Kubernetes API serves them (`PodList`, or kubectl's `List` of pods): for each
//! container, init container and ephemeral container, the image the spec names and the image its
//! status says runs. Only the fields read are typed; the rest is ignored.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub owner_references: Vec<OwnerReference>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub controller: Option<bool>,
}

impl ObjectMeta {
    /// The managing controller (`controller: true`), else the only owner.
    pub fn controller(&self) -> Option<&OwnerReference> {
        let refs = &self.owner_references;
        refs.iter().find(|o| o.controller == Some(true)).or(match refs.as_slice() {
            [one] => Some(one),
            _ => None,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    name: String,
    #[serde(default)]
    image: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct NamedRef {
    #[serde(default)]
    name: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodSpec {
    #[serde(default)]
    containers: Vec<Container>,
    #[serde(default)]
    init_containers: Vec<Container>,
    #[serde(default)]
    ephemeral_containers: Vec<Container>,
    #[serde(default)]
    image_pull_secrets: Vec<NamedRef>,
    #[serde(default)]
    service_account_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerStatus {
    #[serde(default)]
    name: String,
    #[serde(default, rename = "imageID")]
    image_id: String,
    #[serde(default)]
    image: String,
    #[serde(default)]
    state: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PodStatus {
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    init_container_statuses: Vec<ContainerStatus>,
    #[serde(default)]
    ephemeral_container_statuses: Vec<ContainerStatus>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    spec: PodSpec,
    #[serde(default)]
    status: PodStatus,
}

/// `PodList` (the API), or `List` (kubectl's output) whose items are pods.
#[derive(Debug, Clone)]
pub struct PodList {
    pub items: Vec<Pod>,
    pub metadata: ListMeta,
    /// Items that are no readable pod (a field of the wrong type, say), each named as well as it
    /// can be, with why: reported as errors, while the other pods are audited.
    pub unreadable: Vec<String>,
}

/// The list as it is read: items kept as JSON, each read as a pod on its own.
#[derive(Deserialize)]
struct RawList {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    items: Vec<serde_json::Value>,
    #[serde(default)]
    metadata: ListMeta,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PodsError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("a {0} is not a list of pods (give `kubectl get pods -o json` output: a PodList or a List of Pods)")]
    NotPods(String),
    #[error("item {0} is a {1}, not a Pod")]
    NotAPod(usize, String),
}

pub use crate::report::workload::ContainerType as ContainerKind;

/// One container of one pod: what its spec names and what its status says runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRun {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub kind: ContainerKind,
    /// The image as the spec writes it.
    pub image: String,
    /// `status.*ContainerStatuses[].imageID`; None when the status has no entry for it.
    pub image_id: Option<String>,
    /// `running`, `waiting`, `terminated` (the status's state), or None without a status.
    pub state: Option<String>,
    pub phase: Option<String>,
}

impl PodList {
    pub fn parse(text: &str) -> Result<PodList, PodsError> {
        let raw: RawList = serde_json::from_str(text)?;
        match raw.kind.as_deref() {
            Some("PodList" | "List") | None => {}
            Some(other) => return Err(PodsError::NotPods(other.to_string())),
        }
        let mut list = PodList { items: Vec::new(), metadata: raw.metadata, unreadable: Vec::new() };
        for (i, item) in raw.items.into_iter().enumerate() {
            if let Some(k) = item.get("kind").and_then(|k| k.as_str()).filter(|k| *k != "Pod") {
                return Err(PodsError::NotAPod(i, k.to_string()));
            }
            let name = |v: &serde_json::Value| {
                let m = &v["metadata"];
                match (m["namespace"].as_str(), m["name"].as_str()) {
                    (Some(ns), Some(n)) => format!("item {i} (pod {ns}/{n})"),
                    (None, Some(n)) => format!("item {i} (pod {n})"),
                    _ => format!("item {i}"),
                }
            };
            let named = name(&item);
            match serde_json::from_value::<Pod>(item) {
                Ok(p) => list.items.push(p),
                Err(e) => list.unreadable.push(format!("{named}: not a readable pod: {e}")),
            }
        }
        Ok(list)
    }
}

impl Pod {
    /// `imagePullSecrets` of the pod, by name.
    pub fn pull_secrets(&self) -> Vec<String> {
        self.spec.image_pull_secrets.iter().map(|s| s.name.clone()).filter(|n| !n.is_empty()).collect()
    }

    pub fn service_account(&self) -> &str {
        self.spec.service_account_name.as_deref().filter(|s| !s.is_empty()).unwrap_or("default")
    }

    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }

    /// Every container, init container and ephemeral container, with its status when there is one.
    pub fn containers(&self) -> Vec<ContainerRun> {
        let lists = [
            (ContainerKind::Init, &self.spec.init_containers, &self.status.init_container_statuses),
            (ContainerKind::Container, &self.spec.containers, &self.status.container_statuses),
            (ContainerKind::Ephemeral, &self.spec.ephemeral_containers, &self.status.ephemeral_container_statuses),
        ];
        let mut out = Vec::new();
        for (kind, specs, statuses) in lists {
            let run = |container: &str, image: &str, status: Option<&ContainerStatus>| ContainerRun {
                namespace: self.namespace().to_string(),
                pod: self.metadata.name.clone(),
                container: container.to_string(),
                kind,
                image: image.to_string(),
                image_id: status.map(|s| s.image_id.clone()),
                state: status.and_then(|s| s.state.keys().next().cloned()),
                phase: self.status.phase.clone(),
            };
            // A status for a container the spec does not name still says what runs: audited by
            // the image its status gives (the spec's is unknown).
            for st in statuses.iter().filter(|st| !specs.iter().any(|c| c.name == st.name)) {
                out.push(run(&st.name, &st.image, Some(st)));
            }
            for c in specs {
                out.push(run(&c.name, &c.image, statuses.iter().find(|s| s.name == c.name)));
            }
        }
        out
    }
}

/// An equality-based label selector (`app=web,tier!=db,canary,!legacy`), matched as the API
/// server matches it, for pods read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector(Vec<(String, Requirement)>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String),
    NotEquals(String),
    Exists,
    NotExists,
}

#[derive(Debug, thiserror::Error)]
#[error("label selector {0:?}: {1}")]
pub struct SelectorError(String, String);

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, SelectorError> {
        let bad = |why: &str| SelectorError(text.to_string(), why.to_string());
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if term.contains(" in ") || term.contains(" notin ") || term.contains('(') {
                return Err(bad("set-based terms (in, notin) work only against the API; use k=v, k!=v, k, !k"));
            }
            let (key, req) = if let Some((k, v)) = term.split_once("!=") {
                (k, Requirement::NotEquals(v.trim().to_string()))
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (k, Requirement::Equals(v.trim().to_string()))
            } else if let Some(k) = term.strip_prefix('!') {
                (k, Requirement::NotExists)
            } else {
                (term, Requirement::Exists)
            };
            let key = key.trim();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(bad("a term names no label"));
            }
            terms.push((key.to_string(), req));
        }
        Ok(Selector(terms))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|(k, req)| match req {
            Requirement::Equals(v) => labels.get(k) == Some(v),
            Requirement::NotEquals(v) => labels.get(k) != Some(v),
            Requirement::Exists => labels.contains_key(k),
            Requirement::NotExists => !labels.contains_key(k),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_as_the_api_server_reads_them() {
        let labels: BTreeMap<String, String> =
            [("app", "web"), ("tier", "front")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let m = |s: &str| Selector::parse(s).unwrap().matches(&labels);
        assert!(m("app=web") && m("app==web,tier") && m("tier!=db") && m("!legacy") && m(""));
        assert!(!m("app=api") && !m("app!=web") && !m("canary") && !m("!tier"));
        assert!(Selector::parse("env in (prod)").is_err());
        assert!(Selector::parse("=x").is_err());
    }

    #[test]
    fn containers_of_every_kind_with_and_without_status() {
        let text = r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Pod",
          "metadata":{"name":"p","namespace":"ns","ownerReferences":[{"kind":"ReplicaSet","name":"rs","controller":true}]},
          "spec":{"initContainers":[{"name":"i","image":"busybox"}],"containers":[{"name":"c","image":"nginx:1"}],
                  "ephemeralContainers":[{"name":"e","image":"alpine"}]},
          "status":{"phase":"Running","containerStatuses":[{"name":"c","imageID":"sha256:00","state":{"running":{}}}]}}]}"#;
        let list = PodList::parse(text).unwrap();
        let runs = list.items[0].containers();
        let kinds: Vec<_> = runs.iter().map(|r| (r.kind, r.container.as_str(), r.image_id.is_some())).collect();
        assert_eq!(
            kinds,
            [
                (ContainerKind::Init, "i", false),
                (ContainerKind::Container, "c", true),
                (ContainerKind::Ephemeral, "e", false)
            ]
        );
        assert_eq!(runs[1].state.as_deref(), Some("running"));
        assert_eq!(list.items[0].metadata.controller().unwrap().name, "rs");
        assert!(matches!(PodList::parse(r#"{"kind":"DeploymentList","items":[]}"#), Err(PodsError::NotPods(_))));
        assert!(matches!(
            PodList::parse(r#"{"kind":"List","items":[{"kind":"Service"}]}"#),
            Err(PodsError::NotAPod(0, _))
        ));
        assert!(PodList::parse("nope").is_err());
    }
}
