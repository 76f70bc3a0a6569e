//! The HTTP side of a platform API: one GET at a time with the platform's credentials, a capped
//! body, `Retry-After` honoured (bounded), and page links followed only on the API's own origin.

use super::{ListError, PlatformAuth};
use crate::registry::stats::{RequestKind, Stats};
use reqwest::header::{HeaderMap, ACCEPT};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// One listing page is at most this large.
const MAX_PAGE_BYTES: usize = 16 << 20;
/// A `Retry-After` longer than this is cut to it; the whole wait of one request is bounded by
/// the client's retry budget.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How the API client connects (the registry client's own settings, reused).
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub timeout: Duration,
    pub max_retries: u32,
    pub max_retry_time: Duration,
    pub tls_ca_pem: Vec<Vec<u8>>,
    pub insecure_skip_tls_verify: bool,
}

pub(super) struct Answer {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub url: Url,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON of type `T`, or a protocol error naming the URL.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, ListError> {
        serde_json::from_slice(&self.body).map_err(|e| ListError::Protocol {
            url: self.url.to_string(),
            message: format!("the answer is not the API's JSON: {e}"),
        })
    }

    /// The `rel="next"` target of the `Link` header, resolved against this page's URL.
    pub fn link_next(&self) -> Result<Option<Url>, ListError> {
        let values = self.headers.get_all("link").iter().filter_map(|v| v.to_str().ok()).collect::<Vec<_>>();
        match crate::registry::next_link(values) {
            None => Ok(None),
            Some(t) => self.url.join(&t).map(Some).map_err(|_| ListError::Protocol {
                url: self.url.to_string(),
                message: format!("unusable Link target {t:?}"),
            }),
        }
    }
}

pub(super) struct Api {
    http: reqwest::Client,
    pub base: Url,
    auth: PlatformAuth,
    config: ApiConfig,
    stats: Arc<Stats>,
}

impl Api {
    pub fn new(base: Url, auth: PlatformAuth, config: ApiConfig, stats: Arc<Stats>) -> Result<Api, ListError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("sigaudit/", env!("CARGO_PKG_VERSION")))
            .timeout(config.timeout)
            .connect_timeout(Duration::from_secs(10))
            // The platform's credentials never follow a redirect anywhere.
            .redirect(reqwest::redirect::Policy::none());
        let mut roots = Vec::new();
        for pem in &config.tls_ca_pem {
            roots.extend(
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| ListError::Setup(format!("--tls-ca: {e}")))?,
            );
        }
        if !roots.is_empty() {
            builder = builder.tls_certs_merge(roots);
        }
        if config.insecure_skip_tls_verify {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| ListError::Setup(format!("{base}: {e}")))?;
        Ok(Api { http, base, auth, config, stats })
    }

    /// A path (with query) under the API's base URL.
    pub fn url(&self, path_and_query: &str) -> Url {
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path_and_query}")).expect("API paths are valid")
    }

    /// A page link the API gave: followed only to the API's own scheme, host and port, since the
    /// platform's credentials go with it.
    pub fn same_origin(&self, from: &Url, next: Url) -> Result<Url, ListError> {
        if next.scheme() != self.base.scheme()
            || next.host_str() != self.base.host_str()
            || next.port_or_known_default() != self.base.port_or_known_default()
        {
            return Err(ListError::Protocol {
                url: from.to_string(),
                message: format!("next page link to another host refused: {next}"),
            });
        }
        Ok(next)
    }

    /// GET `url` with the platform's credentials. 429 (and GitHub's 403 of a rate limit) and
    /// 502/503/504 are retried after `Retry-After` (or the reset time, or a backoff),
    /// within the retry budget. 401/403 are an authentication error saying which credential
    /// is missing or refused.
    pub async fn get(&self, url: Url) -> Result<Answer, ListError> {
        let started = Instant::now();
        let mut attempt = 0u32;
        loop {
            self.stats.count(RequestKind::Listing);
            let mut req = self.http.get(url.clone()).header(ACCEPT, "application/json");
            req = self.auth.apply(req);
            let res =
                req.send().await.map_err(|e| ListError::Transport { url: url.to_string(), message: chain(&e) })?;
            let status = res.status();
            let headers = res.headers().clone();
            let body = read_capped(res, &url).await?;
            let answer = Answer { headers, body, url: url.clone() };
            let wait = match status.as_u16() {
                429 | 502 | 503 | 504 => Some(retry_after(&answer.headers).unwrap_or_else(|| backoff(attempt))),
                // GitHub: the primary rate limit spent (403 with x-ratelimit-remaining: 0, until
                // x-ratelimit-reset), or a secondary rate limit (403 with Retry-After).
                403 if answer.header("x-ratelimit-remaining") == Some("0") => {
                    Some(rate_limit_reset(&answer.headers).unwrap_or_else(|| backoff(attempt)))
                }
                403 if answer.header("retry-after").is_some() => {
                    Some(retry_after(&answer.headers).unwrap_or_else(|| backoff(attempt)))
                }
                _ => None,
            };
            match wait {
                Some(w) if attempt < self.config.max_retries && started.elapsed() + w <= self.config.max_retry_time => {
                    tracing::info!(%url, status = status.as_u16(), wait = ?w, "the platform API asks to wait; retrying");
                    self.stats.retry();
                    attempt += 1;
                    tokio::time::sleep(w).await;
                }
                Some(_) => {
                    return Err(ListError::RateLimited {
                        url: url.to_string(),
                        status: status.as_u16(),
                        retries: attempt,
                    })
                }
                None if status.is_success() => return Ok(answer),
                None if matches!(status.as_u16(), 401 | 403) => {
                    return Err(ListError::Auth {
                        url: url.to_string(),
                        status: status.as_u16(),
                        hint: self.auth.hint(),
                    })
                }
                None => {
                    return Err(ListError::Status {
                        url: url.to_string(),
                        status: status.as_u16(),
                        detail: detail(&answer.body),
                    })
                }
            }
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

async fn read_capped(mut res: reqwest::Response, url: &Url) -> Result<Vec<u8>, ListError> {
    let too_large =
        || ListError::Protocol { url: url.to_string(), message: format!("page exceeds {MAX_PAGE_BYTES} bytes") };
    if res.content_length().is_some_and(|n| n > MAX_PAGE_BYTES as u64) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    loop {
        match res.chunk().await {
            Ok(Some(c)) if body.len() + c.len() > MAX_PAGE_BYTES => return Err(too_large()),
            Ok(Some(c)) => body.extend_from_slice(&c),
            Ok(None) => return Ok(body),
            Err(e) => return Err(ListError::Transport { url: url.to_string(), message: chain(&e) }),
        }
    }
}

/// The platform's own words on an error (`message`, `error`, `errors[0].message`), short.
fn detail(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let text = v
        .get("message")
        .or_else(|| v.get("error"))
        .or_else(|| v.get("detail"))
        .or_else(|| v.pointer("/errors/0/message"))
        .and_then(|m| m.as_str())?;
    Some(text.chars().take(200).collect())
}

/// `Retry-After` in seconds, at most [`MAX_RETRY_AFTER`].
fn retry_after(h: &HeaderMap) -> Option<Duration> {
    let s = h.get("retry-after")?.to_str().ok()?;
    s.trim().parse::<u64>().ok().map(|n| Duration::from_secs(n).min(MAX_RETRY_AFTER))
}

/// GitHub's `x-ratelimit-reset` (Unix seconds) as a wait from now, at most [`MAX_RETRY_AFTER`].
fn rate_limit_reset(h: &HeaderMap) -> Option<Duration> {
    let reset: u64 = h.get("x-ratelimit-reset")?.to_str().ok()?.trim().parse().ok()?;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).max(1)).min(MAX_RETRY_AFTER))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(200 * (1u64 << attempt.min(6))).min(Duration::from_secs(10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_bounded() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", "2".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after", "86400".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        h.insert("retry-after", "1000000000".parse().unwrap());
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
        // Beyond u64: no number, so the bounded backoff.
        h.insert("retry-after", "99999999999999999999999".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert("retry-after", "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert("x-ratelimit-reset", "18446744073709551615".parse().unwrap());
        assert_eq!(rate_limit_reset(&h), Some(MAX_RETRY_AFTER));
    }
}
