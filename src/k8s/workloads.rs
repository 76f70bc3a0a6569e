//! From pods to the containers to audit: for each, its workload, the digest that runs and where
//! it comes from, and the tag whose drift is to be checked. Verdicts are added by the caller,
//! one per distinct digest.

use super::image_ref::{ImageId, ImageIdError, ImageName};
use super::pods::{ContainerRun, Pod};
use crate::report::workload::{WorkloadOwner, WorkloadReport};
use crate::report::Status;

/// A digest to verify: the registry host it is pulled from, its repository and the digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub host: String,
    pub repository: String,
    pub digest: String,
}

/// A tag to resolve now, for drift.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagRef {
    pub host: String,
    pub repository: String,
    pub tag: String,
}

/// One container, ready for its verdict.
#[derive(Debug, Clone)]
pub struct Planned {
    pub report: WorkloadReport,
    /// The running digest, when known.
    pub target: Option<Target>,
    /// The spec's tag, when it names one and no digest (the drift check).
    pub tag: Option<TagRef>,
}

/// The containers of a pod owned by `owner` (and controlled by `controlled_by`).
pub fn plan(pod: &Pod, owner: &WorkloadOwner, controlled_by: Option<&str>) -> Vec<Planned> {
    pod.containers().into_iter().map(|run| plan_one(run, owner, controlled_by)).collect()
}

fn plan_one(run: ContainerRun, owner: &WorkloadOwner, controlled_by: Option<&str>) -> Planned {
    let spec = ImageName::parse(&run.image);
    let mut notes = Vec::new();
    let state = match (&run.image_id, &run.state) {
        (None, _) => "not-started".to_string(),
        (Some(_), Some(s)) => s.clone(),
        (Some(_), None) => "unknown".to_string(),
    };
    let mut status = None;
    let target = match run.image_id.as_deref().map(ImageId::parse) {
        None => {
            notes.push(
                "the pod's status lists no such container yet (pending): the digest it will run is not known".into(),
            );
            None
        }
        Some(Err(ImageIdError::Empty)) => {
            notes.push(format!("the runtime names no image yet ({state}): the digest it will run is not known"));
            if state == "running" {
                status = Some(Status::Error);
            }
            None
        }
        Some(Err(ImageIdError::Unreadable(m))) => {
            notes.push(m);
            status = Some(Status::Error);
            None
        }
        Some(Ok(ImageId::RepoDigest { name, digest })) => {
            Some(Target { host: name.host(), repository: name.repository, digest })
        }
        Some(Ok(ImageId::BareDigest { digest })) => match &spec {
            Some(s) => {
                notes.push(
                    "imageID is a digest without a repository: looked up in the spec's repository (a digest of an image built or loaded on the node is its config digest, which no registry serves)"
                        .into(),
                );
                Some(Target { host: s.host(), repository: s.repository.clone(), digest })
            }
            None => {
                notes.push(format!(
                    "imageID {digest} names no repository and the spec's image {:?} is not a reference",
                    run.image
                ));
                status = Some(Status::Error);
                None
            }
        },
    };
    if spec.is_none() && !run.image.is_empty() {
        notes.push(format!("the spec's image {:?} is not an image reference", run.image));
    }
    let tag = match (&spec, &target) {
        (Some(s), Some(_)) if s.digest.is_none() => {
            s.tag.clone().map(|tag| TagRef { host: s.host(), repository: s.repository.clone(), tag })
        }
        _ => None,
    };
    let report = WorkloadReport {
        namespace: run.namespace,
        owner: owner.clone(),
        controlled_by: controlled_by.map(str::to_string),
        pod: run.pod,
        container: run.container,
        container_type: run.kind,
        image: run.image,
        image_id: run.image_id.filter(|s| !s.is_empty()),
        state,
        registry: target.as_ref().map(|t| t.host.clone()),
        repository: target.as_ref().map(|t| t.repository.clone()),
        digest: target.as_ref().map(|t| t.digest.clone()),
        status,
        drift: None,
        tag_digest: None,
        waived: false,
        notes,
    };
    Planned { report, target, tag }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::pods::PodList;

    #[test]
    fn digests_states_and_tags() {
        let d = "sha256:".to_string() + &"ab".repeat(32);
        let text = format!(
            r#"{{"kind":"PodList","items":[{{"metadata":{{"name":"p","namespace":"n"}},
            "spec":{{"containers":[{{"name":"a","image":"reg:5000/x/y:v1"}},{{"name":"b","image":"reg:5000/x/z@{d}"}},
                                   {{"name":"c","image":"busybox"}},{{"name":"d","image":"reg:5000/x/w:v2"}}]}},
            "status":{{"containerStatuses":[{{"name":"a","imageID":"docker-pullable://reg:5000/x/y@{d}","state":{{"running":{{}}}}}},
                                            {{"name":"b","imageID":"{d}","state":{{"terminated":{{}}}}}},
                                            {{"name":"c","imageID":"","state":{{"waiting":{{"reason":"ImagePullBackOff"}}}}}}]}}}}]}}"#
        );
        let pod = &PodList::parse(&text).unwrap().items[0];
        let owner = WorkloadOwner { kind: "Pod".into(), name: "p".into(), via: "pod".into() };
        let p = plan(pod, &owner, None);
        assert_eq!(p[0].target.as_ref().unwrap().repository, "x/y");
        assert_eq!(p[0].tag.as_ref().unwrap().tag, "v1");
        assert_eq!((p[1].target.as_ref().unwrap().repository.as_str(), p[1].tag.is_none()), ("x/z", true));
        assert_eq!((p[2].target.is_none(), p[2].report.state.as_str(), p[2].report.status), (true, "waiting", None));
        assert_eq!(
            (p[3].target.is_none(), p[3].report.state.as_str(), p[3].report.status),
            (true, "not-started", None)
        );
        assert!(p[3].tag.is_none());
    }
}
