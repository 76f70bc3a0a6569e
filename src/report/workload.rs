//! `sigaudit cluster`: what runs in a cluster, one entry per container of a pod, beside the
//! `images` that were verified (each running digest once).

use super::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which list of the pod spec a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerType {
    Container,
    Init,
    Ephemeral,
}

/// The workload that owns a pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadOwner {
    /// `Deployment`, `StatefulSet`, `DaemonSet`, `CronJob`, `Job`, `ReplicaSet`, … or `Pod` for a
    /// pod no controller owns.
    pub kind: String,
    pub name: String,
    /// How it was found: `ownerReferences` (the pod's own controller), `api` (the ReplicaSet's or
    /// Job's controller, read from the API), `name` (a ReplicaSet's or Job's name with the suffix
    /// its Deployment or CronJob gives it taken off: from a pods file, or when the API refused),
    /// `pod` (no owner).
    pub via: String,
}

/// One container (init, ephemeral) of one pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadReport {
    pub namespace: String,
    pub owner: WorkloadOwner,
    /// The pod's own controller when it is not the workload (the ReplicaSet of a Deployment,
    /// the Job of a CronJob), as `KIND/NAME`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub controlled_by: Option<String>,
    pub pod: String,
    pub container: String,
    pub container_type: ContainerType,
    /// The image as the pod spec writes it.
    pub image: String,
    /// The container status's `imageID`, as the runtime wrote it.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub image_id: Option<String>,
    /// `running`, `waiting`, `terminated` (the container status's state), or `not-started` (the
    /// pod's status lists no such container yet: a pending pod).
    pub state: String,
    /// The registry (`HOST[:PORT]`, normalised: `docker.io`) and repository of the running digest.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub registry: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub repository: Option<String>,
    /// The digest that runs (from `imageID`); absent when the runtime has not said (not started).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub digest: Option<String>,
    /// The status of `digest` as `images` reports it; absent when no digest is known (never
    /// `unsigned` for a container whose digest nobody knows).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub status: Option<Status>,
    /// The spec's tag resolves now to another digest than the one running (`tagDigest`), or the
    /// tag is gone. Absent when the spec pins a digest or the running digest is unknown.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub drift: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tag_digest: Option<String>,
    /// The image running is waived (`--waivers`): `--fail-on` ignores this container.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub waived: bool,
    /// Why the digest or status is what it is, when it is not plain.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub notes: Vec<String>,
}

/// Counts of `workloads`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSummary {
    pub pods: u64,
    /// Containers, init and ephemeral containers.
    pub containers: u64,
    /// Of them, those whose running digest is not known (not started).
    pub digest_unknown: u64,
    pub drifted: u64,
    /// Containers by the status of what runs.
    pub by_status: BTreeMap<Status, u64>,
    /// Of them, waived (by status).
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub waived: BTreeMap<Status, u64>,
}

impl WorkloadSummary {
    pub fn of(workloads: &[WorkloadReport]) -> WorkloadSummary {
        let mut s = WorkloadSummary::default();
        let pods: std::collections::BTreeSet<(&str, &str)> =
            workloads.iter().map(|w| (w.namespace.as_str(), w.pod.as_str())).collect();
        s.pods = pods.len() as u64;
        for w in workloads {
            s.containers += 1;
            s.drifted += u64::from(w.drift == Some(true));
            match w.status {
                None => s.digest_unknown += 1,
                Some(st) => {
                    *s.by_status.entry(st).or_insert(0) += 1;
                    if w.waived {
                        *s.waived.entry(st).or_insert(0) += 1;
                    }
                }
            }
        }
        s
    }

    /// Containers of `status` that no waiver accepts: what `--fail-on` counts.
    pub fn unwaived(&self, status: Status) -> u64 {
        self.by_status.get(&status).copied().unwrap_or(0).saturating_sub(self.waived.get(&status).copied().unwrap_or(0))
    }
}
