//! Docker Hub: `GET /v2/namespaces/{namespace}/repositories?page_size=N` (Docker Hub API
//! reference, "List repositories in a namespace"): `{"count", "next", "previous", "results":
//! [{"name", "namespace", …}]}`, paged by the absolute URL in `next`. Tags: `GET /v2/namespaces/
//! {namespace}/repositories/{repository}/tags?page_size=N` ("List repository tags"), the same
//! envelope with `results: [{"name", "digest", "images": [{"digest", …}], …}]`; a tag's `digest`
//! is its manifest's (an index's for a multi-platform tag). Old tags may have none (`null` or
//! absent): those are resolved by the registry, one manifest request each.

use super::api::{Answer, Api};
use super::{all_pages, digest, segment, ListError, ListedTag, PAGE_SIZE};
use url::Url;

#[derive(serde::Deserialize)]
struct Page {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    results: Vec<Repository>,
}

#[derive(serde::Deserialize)]
struct TagPage {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    results: Vec<Tag>,
}

#[derive(serde::Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    digest: Option<String>,
}

#[derive(serde::Deserialize)]
struct Repository {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

pub(super) async fn repositories(
    api: &Api,
    namespace: &str,
    cursor: Option<Url>,
) -> Result<(Answer, Vec<String>, Result<Option<Url>, ListError>), ListError> {
    let url = cursor.unwrap_or_else(|| {
        api.url(&format!("/v2/namespaces/{}/repositories?page_size={PAGE_SIZE}", segment(namespace)))
    });
    let answer = api.get(url).await?;
    let page: Page = answer.json()?;
    let repos = page
        .results
        .into_iter()
        .map(|r| format!("{}/{}", r.namespace.as_deref().unwrap_or(namespace), r.name))
        .collect();
    let next = next_page(&answer, page.next);
    Ok((answer, repos, next))
}

pub(super) async fn tags(api: &Api, namespace: &str, name: &str) -> Result<Vec<ListedTag>, ListError> {
    let first = api.url(&format!(
        "/v2/namespaces/{}/repositories/{}/tags?page_size={PAGE_SIZE}",
        segment(namespace),
        segment(name)
    ));
    all_pages(api, first, |a| {
        let page: TagPage = a.json()?;
        let next = next_page(a, page.next)?;
        let tags = page.results.into_iter().map(|t| ListedTag { digest: digest(t.digest.as_deref()), name: t.name });
        Ok((tags.collect(), next))
    })
    .await
}

/// The absolute (or relative) URL in `next`, if any.
fn next_page(answer: &Answer, next: Option<String>) -> Result<Option<Url>, ListError> {
    match next.filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => answer.url.join(&n).map(Some).map_err(|_| ListError::Protocol {
            url: answer.url.to_string(),
            message: format!("unusable next page {n:?}"),
        }),
    }
}
