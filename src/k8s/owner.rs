//! The workload that owns a pod, through `ownerReferences`: a ReplicaSet's Deployment and a
//! Job's CronJob are read from the API when there is one, else taken from the names their
//! controllers give them (`DEPLOYMENT-<pod-template-hash>`, `CRONJOB-<scheduled minute>`).

use super::pods::{ObjectMeta, OwnerReference};
use crate::report::workload::WorkloadOwner;

/// A pod's workload by its metadata alone, and its own controller when that is not the workload.
pub fn by_name(pod: &ObjectMeta) -> (WorkloadOwner, Option<String>) {
    let Some(c) = pod.controller() else {
        return (WorkloadOwner { kind: "Pod".into(), name: pod.name.clone(), via: "pod".into() }, None);
    };
    let direct = format!("{}/{}", c.kind, c.name);
    let parent = match c.kind.as_str() {
        "ReplicaSet" => deployment_of(&c.name, pod.labels.get("pod-template-hash").map(String::as_str)),
        "Job" => cronjob_of(&c.name),
        _ => None,
    };
    match parent {
        Some(p) => (p, Some(direct)),
        None => (own(c), None),
    }
}

/// The pod's controller itself as the workload.
pub fn own(c: &OwnerReference) -> WorkloadOwner {
    WorkloadOwner { kind: c.kind.clone(), name: c.name.clone(), via: "ownerReferences".into() }
}

/// From the controller's own metadata (read from the API): its controller, if any.
pub fn from_api(direct: &OwnerReference, meta: &ObjectMeta) -> Option<WorkloadOwner> {
    meta.controller()
        .map(|c| WorkloadOwner { kind: c.kind.clone(), name: c.name.clone(), via: "api".into() })
        .filter(|_| matches!(direct.kind.as_str(), "ReplicaSet" | "Job"))
}

/// A Deployment names its ReplicaSets `NAME-<pod-template-hash>`, and the hash is on the pod.
fn deployment_of(rs: &str, hash: Option<&str>) -> Option<WorkloadOwner> {
    let hash = hash.filter(|h| !h.is_empty())?;
    let name = rs.strip_suffix(hash)?.strip_suffix('-').filter(|n| !n.is_empty())?;
    Some(WorkloadOwner { kind: "Deployment".into(), name: name.into(), via: "name".into() })
}

/// A CronJob names its Jobs `NAME-<scheduled time in minutes since the epoch>` (8 digits and
/// more since 1989).
fn cronjob_of(job: &str) -> Option<WorkloadOwner> {
    let (name, minutes) = job.rsplit_once('-')?;
    if name.is_empty() || minutes.len() < 8 || !minutes.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(WorkloadOwner { kind: "CronJob".into(), name: name.into(), via: "name".into() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kind: &str, name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            name: "p".into(),
            namespace: Some("ns".into()),
            labels: labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            owner_references: vec![OwnerReference { kind: kind.into(), name: name.into(), controller: Some(true) }],
        }
    }

    #[test]
    fn owners_by_their_names() {
        let (o, d) = by_name(&meta("ReplicaSet", "web-5d8f7c9b6", &[("pod-template-hash", "5d8f7c9b6")]));
        assert_eq!((o.kind.as_str(), o.name.as_str(), o.via.as_str()), ("Deployment", "web", "name"));
        assert_eq!(d.as_deref(), Some("ReplicaSet/web-5d8f7c9b6"));
        // A ReplicaSet of its own (no hash label matching its name) is the workload.
        let (o, d) = by_name(&meta("ReplicaSet", "legacy", &[]));
        assert_eq!((o.kind.as_str(), o.name.as_str(), d), ("ReplicaSet", "legacy", None));
        let (o, _) = by_name(&meta("Job", "backup-29123456", &[]));
        assert_eq!((o.kind.as_str(), o.name.as_str()), ("CronJob", "backup"));
        let (o, _) = by_name(&meta("Job", "migrate-2", &[]));
        assert_eq!((o.kind.as_str(), o.name.as_str()), ("Job", "migrate-2"));
        let (o, _) = by_name(&meta("StatefulSet", "db", &[]));
        assert_eq!((o.kind.as_str(), o.via.as_str()), ("StatefulSet", "ownerReferences"));
        let bare = ObjectMeta { name: "debug".into(), ..ObjectMeta::default() };
        assert_eq!(by_name(&bare).0, WorkloadOwner { kind: "Pod".into(), name: "debug".into(), via: "pod".into() });
    }
}
