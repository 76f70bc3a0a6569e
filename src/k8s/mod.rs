//! Kubernetes: the pods of a cluster (from its API or from `kubectl get pods -o json`), the
//! workloads that own them, and the digest each container runs.

pub mod api;
pub mod image_ref;
pub mod kubeconfig;
pub mod owner;
pub mod pods;
pub mod pull_secrets;
pub mod workloads;
