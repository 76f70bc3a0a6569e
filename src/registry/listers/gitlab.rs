//! GitLab (gitlab.com and self-managed): `GET /api/v4/groups/{id}/registry/repositories` (or
//! `/projects/{id}/…` when the path names a project; "Container registry API"), an array of
//! `{"id", "name", "path", "location", …}` whose `path` is the repository's full name; paged by
//! `Link` (rel="next") or `X-Next-Page`. Tags come from the registry's own tag list: GitLab's
//! tag listing gives no digest without one request per tag, which would save nothing.

use super::api::{Answer, Api};
use super::{segment, with_param, ListError, PAGE_SIZE};
use url::Url;

#[derive(serde::Deserialize)]
struct Repository {
    path: String,
}

pub(super) async fn repositories(
    api: &Api,
    namespace: &str,
    cursor: Option<Url>,
) -> Result<(Answer, Vec<String>, Result<Option<Url>, ListError>), ListError> {
    let first = |kind: &str| {
        api.url(&format!("/api/v4/{kind}/{}/registry/repositories?per_page={PAGE_SIZE}", segment(namespace)))
    };
    let answer = match cursor {
        Some(url) => api.get(url).await?,
        None => match api.get(first("groups")).await {
            Err(e) if e.status() == Some(404) => api.get(first("projects")).await?,
            other => other?,
        },
    };
    let repos: Vec<Repository> = answer.json()?;
    let next = match answer.link_next() {
        Ok(None) => Ok(answer
            .header("x-next-page")
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| with_param(&answer.url, "page", p))),
        other => other,
    };
    Ok((answer, repos.into_iter().map(|r| r.path).collect(), next))
}
