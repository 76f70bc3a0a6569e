//! What containers/image (skopeo, podman, CRI-O) reads to find and judge simple-signing ("atomic"
//! GPG) signatures, read the same way: docker references and the scopes they fall in
//! ([`reference`]), the `registries.d` lookaside configuration ([`registries_d`]) and a
//! `policy.json`'s signature requirements ([`policy`]).

pub mod policy;
pub mod policy_eval;
pub mod reference;
pub mod registries_d;
