//! GHCR through the GitHub REST API ("Packages": list packages for an organization / a user,
//! list package versions): `GET /orgs/{org}/packages?package_type=container` (or `/users/…` when
//! no organisation has the name), an array of `{"name", …}`; the versions of a package, `GET
//! /orgs/{org}/packages/container/{name}/versions`, an array of `{"name": "sha256:…",
//! "metadata": {"container": {"tags": […]}}}`: every tag with its digest. Both paged by `Link`.
//! A token with `read:packages` is needed.

use super::api::{Answer, Api};
use super::{all_pages, digest, segment, ListError, ListedTag, PAGE_SIZE};
use std::sync::OnceLock;
use url::Url;

#[derive(serde::Deserialize)]
struct Package {
    name: String,
}

#[derive(serde::Deserialize)]
struct Version {
    name: String,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(serde::Deserialize)]
struct Metadata {
    #[serde(default)]
    container: Option<Container>,
}

#[derive(serde::Deserialize)]
struct Container {
    #[serde(default)]
    tags: Vec<String>,
}

pub(super) async fn repositories(
    api: &Api,
    owner: &str,
    cursor: Option<Url>,
    owner_kind: &OnceLock<&'static str>,
) -> Result<(Answer, Vec<String>, Result<Option<Url>, ListError>), ListError> {
    let first = |kind: &str| {
        api.url(&format!("/{kind}/{}/packages?package_type=container&per_page={PAGE_SIZE}", segment(owner)))
    };
    let answer = match cursor {
        Some(url) => api.get(url).await?,
        None => match api.get(first("orgs")).await {
            Ok(a) => {
                let _ = owner_kind.set("orgs");
                a
            }
            // No organisation of that name: a user's packages.
            Err(e) if e.status() == Some(404) => {
                let a = api.get(first("users")).await?;
                let _ = owner_kind.set("users");
                a
            }
            Err(e) => return Err(e),
        },
    };
    let packages: Vec<Package> = answer.json()?;
    let repos = packages.into_iter().map(|p| format!("{owner}/{}", p.name)).collect();
    let next = answer.link_next();
    Ok((answer, repos, next))
}

pub(super) async fn tags(api: &Api, kind: &str, owner: &str, package: &str) -> Result<Vec<ListedTag>, ListError> {
    let first = api.url(&format!(
        "/{kind}/{}/packages/container/{}/versions?per_page={PAGE_SIZE}",
        segment(owner),
        segment(package)
    ));
    let versions = all_pages(api, first, |a| Ok((a.json::<Vec<Version>>()?, a.link_next()?))).await?;
    let mut out = Vec::new();
    for v in versions {
        let d = digest(Some(&v.name));
        for t in v.metadata.and_then(|m| m.container).map(|c| c.tags).unwrap_or_default() {
            out.push(ListedTag { name: t, digest: d.clone() });
        }
    }
    Ok(out)
}
