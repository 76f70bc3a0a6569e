//! Docker Hub: `GET /v2/namespaces/{namespace}/repositories?page_size=N` (Docker Hub API
//! reference, "List repositories in a namespace"): `{"count", "next", "previous", "results":
//! [{"name", "namespace", …}]}`, paged by the absolute URL in `next`. Tags come from the
//! registry's own tag list.

use super::api::{Answer, Api};
use super::{segment, ListError, PAGE_SIZE};
use url::Url;

#[derive(serde::Deserialize)]
struct Page {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    results: Vec<Repository>,
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
    let next = match page.next.filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => answer.url.join(&n).map(Some).map_err(|_| ListError::Protocol {
            url: answer.url.to_string(),
            message: format!("unusable next page {n:?}"),
        }),
    };
    Ok((answer, repos, next))
}
