//! Quay (quay.io and self-hosted), API v1: `GET /api/v1/repository?namespace={ns}` gives
//! `{"repositories": [{"namespace", "name", …}], "next_page": TOKEN}` (the next page is the same
//! URL with `next_page=TOKEN`); `GET /api/v1/repository/{ns}/{name}/tag/?onlyActiveTags=true&
//! limit=N&page=P` gives `{"tags": [{"name", "manifest_digest", …}], "page", "has_additional"}`.

use super::api::{Answer, Api};
use super::{all_pages, digest, segment, with_param, ListError, ListedTag, PAGE_SIZE};
use url::Url;

#[derive(serde::Deserialize)]
struct RepoPage {
    #[serde(default)]
    repositories: Vec<Repository>,
    #[serde(default)]
    next_page: Option<String>,
}

#[derive(serde::Deserialize)]
struct Repository {
    namespace: String,
    name: String,
}

#[derive(serde::Deserialize)]
struct TagPage {
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(default)]
    page: Option<u64>,
    #[serde(default)]
    has_additional: bool,
}

#[derive(serde::Deserialize)]
struct Tag {
    name: String,
    #[serde(default)]
    manifest_digest: Option<String>,
}

pub(super) async fn repositories(
    api: &Api,
    namespace: &str,
    cursor: Option<Url>,
) -> Result<(Answer, Vec<String>, Result<Option<Url>, ListError>), ListError> {
    let url = cursor.unwrap_or_else(|| api.url(&format!("/api/v1/repository?namespace={}", segment(namespace))));
    let answer = api.get(url).await?;
    let page: RepoPage = answer.json()?;
    let next = Ok(page.next_page.filter(|t| !t.is_empty()).map(|t| with_param(&answer.url, "next_page", &t)));
    let repos = page.repositories.into_iter().map(|r| format!("{}/{}", r.namespace, r.name)).collect();
    Ok((answer, repos, next))
}

pub(super) async fn tags(api: &Api, namespace: &str, name: &str) -> Result<Vec<ListedTag>, ListError> {
    let first = api.url(&format!(
        "/api/v1/repository/{}/{}/tag/?onlyActiveTags=true&limit={PAGE_SIZE}&page=1",
        segment(namespace),
        segment(name)
    ));
    all_pages(api, first, |a| {
        let page: TagPage = a.json()?;
        let next = match (page.has_additional, page.page) {
            (true, Some(p)) => Some(with_param(&a.url, "page", &(p + 1).to_string())),
            (true, None) => {
                return Err(ListError::Protocol {
                    url: a.url.to_string(),
                    message: "has_additional without a page number".into(),
                })
            }
            (false, _) => None,
        };
        let tags =
            page.tags.into_iter().map(|t| ListedTag { digest: digest(t.manifest_digest.as_deref()), name: t.name });
        Ok((tags.collect(), next))
    })
    .await
}
