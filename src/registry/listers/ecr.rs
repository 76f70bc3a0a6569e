//! Amazon ECR through the AWS SDK for Rust: `DescribeRepositories` (paged by `nextToken`) and
//! `DescribeImages` of each repository (every image's digest and tags). Credentials and region
//! come from the standard AWS chain (environment, shared config and credentials files, SSO, web
//! identity, container and instance metadata); the region, when the chain has none, and the
//! registry (account) id come from the registry host, `ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
//! The endpoint is the chain's (`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL`), or `--lister-url`.

use super::{ApiConfig, ListError, ListedTag, PageCursor};
use crate::oci::Digest;
use crate::registry::stats::{RequestKind, Stats};
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// What an ECR lister needs to build its SDK client on first use.
pub(super) struct Ecr {
    endpoint: Option<String>,
    host: String,
    config: ApiConfig,
    stats: Arc<Stats>,
    client: OnceCell<aws_sdk_ecr::Client>,
}

/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com` → (account, region).
pub(super) fn parse_host(host: &str) -> Option<(String, String)> {
    let name = host.split(':').next()?;
    let (account, rest) = name.split_once(".dkr.ecr.")?;
    let region = rest.strip_suffix(".amazonaws.com").or_else(|| rest.strip_suffix(".amazonaws.com.cn"))?;
    (!account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) && !region.is_empty())
        .then(|| (account.to_string(), region.to_string()))
}

/// Where AWS credentials come from, for an authentication error's message.
const WANTED: &str = "AWS credentials come from the standard chain: AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY \
(and AWS_SESSION_TOKEN), AWS_PROFILE and ~/.aws/config, SSO, web identity, or the instance or container role; \
they need ecr:DescribeRepositories and ecr:DescribeImages";

impl Ecr {
    pub fn new(endpoint: Option<String>, host: &str, config: ApiConfig, stats: Arc<Stats>) -> Ecr {
        Ecr { endpoint, host: host.to_string(), config, stats, client: OnceCell::new() }
    }

    async fn client(&self) -> &aws_sdk_ecr::Client {
        self.client
            .get_or_init(|| async {
                use aws_config::meta::region::RegionProviderChain;
                let from_host = parse_host(&self.host).map(|(_, r)| aws_config::Region::new(r));
                let region = RegionProviderChain::default_provider()
                    .or_else(from_host.unwrap_or_else(|| aws_config::Region::new("us-east-1")));
                let retries = aws_config::retry::RetryConfig::standard().with_max_attempts(self.config.max_retries + 1);
                let timeouts = aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(self.config.timeout)
                    .build();
                let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                    .region(region)
                    .retry_config(retries)
                    .timeout_config(timeouts)
                    .load()
                    .await;
                let mut b = aws_sdk_ecr::config::Builder::from(&sdk);
                if let Some(url) = &self.endpoint {
                    b = b.endpoint_url(url);
                }
                aws_sdk_ecr::Client::from_conf(b.build())
            })
            .await
    }

    fn registry_id(&self) -> Option<String> {
        parse_host(&self.host).map(|(a, _)| a)
    }

    fn where_(&self) -> String {
        self.endpoint.clone().unwrap_or_else(|| format!("ECR for {}", self.host))
    }

    pub async fn repositories(
        &self,
        namespace: &str,
        cursor: Option<PageCursor>,
    ) -> Result<(Vec<String>, Option<PageCursor>), ListError> {
        let token = match cursor {
            None => None,
            Some(PageCursor::Token(t)) => Some(t),
            Some(PageCursor::Url(u)) => {
                return Err(ListError::Protocol { url: u.to_string(), message: "not an ECR page token".into() })
            }
        };
        self.stats.count(RequestKind::Listing);
        let out = self
            .client()
            .await
            .describe_repositories()
            .set_registry_id(self.registry_id())
            .max_results(100)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| self.error("DescribeRepositories", e))?;
        let prefix = format!("{namespace}/");
        let repos = out
            .repositories()
            .iter()
            .filter_map(|r| r.repository_name())
            .filter(|n| namespace.is_empty() || *n == namespace || n.starts_with(&prefix))
            .map(str::to_string)
            .collect();
        Ok((repos, out.next_token().filter(|t| !t.is_empty()).map(|t| PageCursor::Token(t.to_string()))))
    }

    pub async fn tags(&self, repository: &str) -> Result<Vec<ListedTag>, ListError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..super::MAX_PAGES {
            self.stats.count(RequestKind::Listing);
            let page = self
                .client()
                .await
                .describe_images()
                .set_registry_id(self.registry_id())
                .repository_name(repository)
                .max_results(1000)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| self.error("DescribeImages", e))?;
            for image in page.image_details() {
                let digest = image.image_digest().and_then(Digest::parse);
                for t in image.image_tags() {
                    out.push(ListedTag { name: t.clone(), digest: digest.clone() });
                }
            }
            match page.next_token().filter(|t| !t.is_empty()) {
                None => return Ok(out),
                Some(t) if !seen.insert(t.to_string()) => {
                    return Err(ListError::Protocol {
                        url: self.where_(),
                        message: format!("DescribeImages of {repository}: the nextToken repeats an earlier page's"),
                    })
                }
                Some(t) => token = Some(t.to_string()),
            }
        }
        Err(ListError::Protocol { url: self.where_(), message: "DescribeImages: too many pages".into() })
    }

    /// An SDK error as a listing error: an authentication or authorisation failure says where
    /// credentials come from; throttling that outlasted the SDK's retries says so.
    fn error<E, R>(&self, operation: &str, e: SdkError<E, R>) -> ListError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let code = e.code().unwrap_or_default().to_string();
        // The error and its sources, by their Display (the SDK's Debug forms are long).
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(s) = source {
            text.push_str(": ");
            text.push_str(&s.to_string());
            source = s.source();
        }
        let what = format!("{operation} at {}", self.where_());
        let auth = matches!(
            code.as_str(),
            "UnrecognizedClientException"
                | "AccessDeniedException"
                | "InvalidSignatureException"
                | "ExpiredTokenException"
                | "InvalidClientTokenId"
                | "MissingAuthenticationTokenException"
        ) || text.contains("no credentials")
            || text.contains("credentials provider");
        if auth {
            return ListError::Aws { what, message: format!("{text}: {WANTED}") };
        }
        if code.contains("Throttl") || code == "TooManyRequestsException" {
            let retries = self.config.max_retries;
            return ListError::Aws { what, message: format!("{text}: still throttled after {retries} retries") };
        }
        ListError::Aws { what, message: text }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn ecr_hosts() {
        assert_eq!(
            super::parse_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            Some(("123456789012".into(), "eu-west-1".into()))
        );
        assert_eq!(super::parse_host("ghcr.io"), None);
        assert_eq!(super::parse_host("x.dkr.ecr.eu-west-1.amazonaws.com"), None);
    }
}
