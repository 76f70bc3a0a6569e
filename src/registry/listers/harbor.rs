//! Harbor v2.0 API: `GET /api/v2.0/projects/{project}/repositories?page=P&page_size=N`, an array
//! of `{"name": "project/repo", …}`; the artifacts of a repository, `GET …/repositories/{repo}/
//! artifacts?with_tag=true&page=P&page_size=N` (the repository name without the project, its `/`
//! encoded twice), an array of `{"digest", "tags": [{"name"}] | null, …}`. Paged by `Link`
//! (rel="next"), else by `X-Total-Count` against page and page size.

use super::api::{Answer, Api};
use super::{all_pages, digest, segment, with_param, ListError, ListedTag, PAGE_SIZE};
use url::Url;

#[derive(serde::Deserialize)]
struct Repository {
    name: String,
}

#[derive(serde::Deserialize)]
struct Artifact {
    digest: String,
    #[serde(default)]
    tags: Option<Vec<Tag>>,
}

#[derive(serde::Deserialize)]
struct Tag {
    name: String,
}

/// The next page: `Link`, else the next page number while `X-Total-Count` says more remain.
fn next(a: &Answer) -> Result<Option<Url>, ListError> {
    if let Some(n) = a.link_next()? {
        return Ok(Some(n));
    }
    let Some(total) = a.header("x-total-count").and_then(|t| t.trim().parse::<u64>().ok()) else { return Ok(None) };
    let param = |k: &str| a.url.query_pairs().find(|(x, _)| x == k).and_then(|(_, v)| v.parse::<u64>().ok());
    let (page, size) = (param("page").unwrap_or(1), param("page_size").unwrap_or(10));
    Ok((page * size < total).then(|| with_param(&a.url, "page", &(page + 1).to_string())))
}

pub(super) async fn repositories(
    api: &Api,
    project: &str,
    cursor: Option<Url>,
) -> Result<(Answer, Vec<String>, Result<Option<Url>, ListError>), ListError> {
    let url = cursor.unwrap_or_else(|| {
        api.url(&format!("/api/v2.0/projects/{}/repositories?page=1&page_size={PAGE_SIZE}", segment(project)))
    });
    let answer = api.get(url).await?;
    let repos: Vec<Repository> = answer.json()?;
    let next = next(&answer);
    Ok((answer, repos.into_iter().map(|r| r.name).collect(), next))
}

pub(super) async fn tags(api: &Api, project: &str, name: &str) -> Result<Vec<ListedTag>, ListError> {
    // Harbor wants a `/` in the repository name encoded twice (`a%252Fb`).
    let first = api.url(&format!(
        "/api/v2.0/projects/{}/repositories/{}/artifacts?with_tag=true&page=1&page_size={PAGE_SIZE}",
        segment(project),
        segment(&segment(name))
    ));
    let artifacts = all_pages(api, first, |a| Ok((a.json::<Vec<Artifact>>()?, next(a)?))).await?;
    let mut out = Vec::new();
    for a in artifacts {
        let d = digest(Some(&a.digest));
        for t in a.tags.unwrap_or_default() {
            out.push(ListedTag { name: t.name, digest: d.clone() });
        }
    }
    Ok(out)
}
