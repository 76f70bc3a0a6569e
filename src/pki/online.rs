//! Online revocation (`--revocation online`): CRLs fetched from a certificate's CRL distribution
//! points and OCSP responders asked (its authorityInfoAccess id-ad-ocsp), once per scan.
//!
//! How it fits a synchronous path validation: path validation ([`super::path`]) is synchronous
//! and runs on tokio workers (registry and cluster scans) as well as on blocking threads (file
//! scans). The fetches themselves run on one dedicated thread that owns a current-thread tokio
//! runtime and the HTTP client (started at the first fetch, ended when the scan's [`Online`] is
//! dropped); a validation hands its request over and waits for the answer on a channel. On a
//! multi-threaded tokio worker that wait is wrapped in `tokio::task::block_in_place`, so the
//! runtime moves its other tasks to other workers instead of stalling them; elsewhere (blocking
//! threads, plain threads, current-thread runtimes, which cannot deadlock because the fetch runs
//! on its own runtime) it simply blocks.
//!
//! Bounded: every request has a timeout (`--revocation-timeout`, 5 s by default: connecting,
//! sending and reading the whole body), the wait for it a little more, and bodies are capped
//! (CRLs 16 MiB, OCSP answers 64 KiB). Only http: and https: URLs are fetched; any other (ldap:,
//! a directory name) is reported as not fetched. Cached per scan: one fetch per CRL URL and one
//! OCSP request per (responder URL, CertID), failures included; a second validation asking for
//! what is in flight waits for the first fetch instead of fetching again. Only certificates of
//! paths that otherwise hold are asked about (path validation judges revocation once a path
//! reaches its anchor).

use super::crl::Crl;
use super::ocsp::{self, CertId};
use crate::x509::Cert;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A CRL body at most.
pub const CRL_MAX: usize = 16 << 20;
/// An OCSP answer at most.
pub const OCSP_MAX: usize = 64 << 10;
/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

type Job = Pin<Box<dyn Future<Output = ()> + Send>>;
type Slot<T> = Arc<OnceLock<Result<T, String>>>;
/// An OCSP request's nonce and the answer's body.
type Asked = (Vec<u8>, Vec<u8>);

/// The online sources of one scan: the fetching thread and the caches.
pub struct Online {
    timeout: Duration,
    http: reqwest::Client,
    worker: OnceLock<Result<tokio::sync::mpsc::UnboundedSender<Job>, String>>,
    crls: Mutex<HashMap<String, Slot<Arc<Crl>>>>,
    /// (responder, CertID) → (the nonce sent, the answer's body).
    ocsp: Mutex<HashMap<(String, CertId), Slot<Asked>>>,
    requests: AtomicUsize,
}

impl std::fmt::Debug for Online {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Online").field("timeout", &self.timeout).field("requests", &self.requests()).finish()
    }
}

/// An OCSP answer that counts, with where it came from.
#[derive(Debug, Clone)]
pub struct OcspAnswer {
    pub url: String,
    pub answer: ocsp::Answer,
}

impl Online {
    pub fn new(timeout: Duration) -> Result<Online, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("sigaudit/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(3))
            // One request per connection: responders are often simple servers that serve one
            // connection at a time (`openssl ocsp`), and a kept-alive idle connection would stall
            // them for every other client.
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| format!("revocation HTTP client: {e}"))?;
        Ok(Online {
            timeout,
            http,
            worker: OnceLock::new(),
            crls: Mutex::default(),
            ocsp: Mutex::default(),
            requests: AtomicUsize::new(0),
        })
    }

    /// HTTP requests sent so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The wall clock: online answers are judged as of when they were fetched.
    pub fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    /// The CRL at `url` (fetched once per scan).
    pub fn crl(&self, url: &str) -> Result<Arc<Crl>, String> {
        fetchable(url)?;
        let slot = self.crls.lock().unwrap_or_else(|e| e.into_inner()).entry(url.to_string()).or_default().clone();
        blocking(|| {
            slot.get_or_init(|| {
                let body = self.http_fetch(url, None, CRL_MAX)?;
                let crls = Crl::read_all(&body, url).map_err(|e| e.message)?;
                match <[Crl; 1]>::try_from(crls) {
                    Ok([c]) => Ok(Arc::new(c)),
                    Err(v) => Err(format!("{} CRLs where one was expected", v.len())),
                }
            })
        })
        .clone()
    }

    /// What the OCSP responder at `url` answers about `cert` (issued by `issuer`), checked
    /// ([`ocsp::check`]) at the wall clock.
    pub fn ocsp(&self, url: &str, cert: &Cert, issuer: &Cert) -> Result<OcspAnswer, String> {
        fetchable(url)?;
        let id = CertId::new(cert, issuer);
        let key = (url.to_string(), id.clone());
        let slot = self.ocsp.lock().unwrap_or_else(|e| e.into_inner()).entry(key).or_default().clone();
        let (nonce, body) = blocking(|| {
            slot.get_or_init(|| {
                let nonce = nonce();
                let body = self.http_fetch(url, Some(id.request(Some(&nonce))), OCSP_MAX)?;
                Ok((nonce, body))
            })
        })
        .as_ref()
        .map_err(Clone::clone)?;
        let answer = ocsp::check(body, &id, issuer, Some(nonce), Online::now())?;
        Ok(OcspAnswer { url: url.to_string(), answer })
    }

    /// The fetching thread, started at the first fetch.
    fn worker(&self) -> Result<&tokio::sync::mpsc::UnboundedSender<Job>, String> {
        self.worker
            .get_or_init(|| {
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Job>();
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("revocation fetcher runtime: {e}"))?;
                std::thread::Builder::new()
                    .name("sigaudit-revocation".into())
                    .spawn(move || {
                        rt.block_on(async move {
                            while let Some(job) = rx.recv().await {
                                tokio::spawn(job);
                            }
                        })
                    })
                    .map_err(|e| format!("revocation fetcher thread: {e}"))?;
                Ok(tx)
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// GET `url` (or POST `post` as application/ocsp-request): its body, at most `cap` bytes.
    fn http_fetch(&self, url: &str, post: Option<Vec<u8>>, cap: usize) -> Result<Vec<u8>, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let http = self.http.clone();
        let timeout = self.timeout;
        let u = url.to_string();
        self.requests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!("revocation: fetching {url}");
        let job: Job = Box::pin(async move {
            let late = || format!("no answer within {} s (--revocation-timeout)", timeout.as_secs());
            let r = match tokio::time::timeout(timeout, get(http, &u, post, cap)).await {
                Ok(Err(Fetch::TimedOut)) | Err(_) => Err(late()),
                Ok(Err(Fetch::Failed(e))) => Err(e),
                Ok(Ok(body)) => Ok(body),
            };
            let _ = tx.send(r);
        });
        self.worker()?.send(job).map_err(|_| "the revocation fetcher stopped".to_string())?;
        rx.recv_timeout(timeout + Duration::from_secs(2))
            .unwrap_or_else(|_| Err(format!("no answer within {} s (--revocation-timeout)", timeout.as_secs())))
    }
}

/// Run `f`, which may wait for a fetch (its own, or one in flight for another validation): on a
/// worker of a multi-threaded tokio runtime through `block_in_place`, so the runtime's other
/// tasks move to other workers meanwhile; elsewhere as it is.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    let on_worker = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if on_worker {
        tokio::task::block_in_place(f)
    } else {
        f()
    }
}

/// Only http: and https: URLs are fetched.
fn fetchable(url: &str) -> Result<(), String> {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => Ok(()),
        Ok(u) => Err(format!("not fetched: only http and https are fetched, not {}:", u.scheme())),
        Err(_) => Err("not fetched: not a URL".into()),
    }
}

/// Why a fetch failed.
enum Fetch {
    TimedOut,
    Failed(String),
}

impl From<reqwest::Error> for Fetch {
    fn from(e: reqwest::Error) -> Fetch {
        if e.is_timeout() {
            Fetch::TimedOut
        } else {
            Fetch::Failed(error_chain(&e))
        }
    }
}

async fn get(http: reqwest::Client, url: &str, post: Option<Vec<u8>>, cap: usize) -> Result<Vec<u8>, Fetch> {
    let req = match post {
        Some(body) => http.post(url).header("content-type", "application/ocsp-request").body(body),
        None => http.get(url),
    }
    .header("connection", "close");
    let mut resp = req.send().await?;
    if !resp.status().is_success() {
        return Err(Fetch::Failed(format!("HTTP {}", resp.status())));
    }
    let too_big = || Fetch::Failed(format!("the answer is larger than {cap} bytes"));
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        if body.len() + chunk.len() > cap {
            return Err(too_big());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// An error with its causes (reqwest's own text says little: "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(&format!(": {c}"));
        cause = c.source();
    }
    s
}

/// 16 unpredictable octets for an OCSP nonce (std's randomly keyed SipHash over a counter and
/// the clock: a nonce needs to be unpredictable, not secret).
fn nonce() -> Vec<u8> {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut out = Vec::with_capacity(16);
    for _ in 0..2 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(COUNTER.fetch_add(1, Ordering::Relaxed));
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        out.extend(h.finish().to_be_bytes());
    }
    out
}
