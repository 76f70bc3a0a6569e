//! Simple-signing signatures of a manifest, from a lookaside store: `--lookaside URL` for every
//! image, else the `registries.d` location for the image's scope. Signatures `signature-1`,
//! `signature-2`, … are read until the first that is not there (HTTP 404, or no such file for a
//! `file://` store), as containers/image reads them. Any other answer (a refused connection, a
//! 5xx, a 403) is an error of the image: the store could not be looked at, which is never "no
//! signature".

use crate::containers::reference::DockerRef;
use crate::containers::registries_d::{signature_url, RegistriesD};
use crate::report::{Discovery, SignatureFormat, SignatureReport};
use crate::signature::simple_signing::{self, GpgTrust};
use crate::signature::Subject;
use std::time::Duration;
use url::Url;

/// Signatures read per manifest at most.
const MAX_SIGNATURES: usize = 64;
/// Bytes of one signature at most.
const MAX_SIGNATURE_BYTES: usize = 1 << 20;

/// Where simple-signing signatures are looked up, and the trust that judges them.
#[derive(Debug)]
pub struct SimpleSigning {
    /// `--lookaside URL`: for every image, before registries.d.
    pub lookaside: Option<Url>,
    pub registries_d: Option<RegistriesD>,
    pub trust: Option<GpgTrust>,
    http: reqwest::Client,
}

impl SimpleSigning {
    pub fn new(
        lookaside: Option<Url>,
        registries_d: Option<RegistriesD>,
        trust: Option<GpgTrust>,
        timeout: Duration,
    ) -> Result<SimpleSigning, String> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("sigaudit/", env!("CARGO_PKG_VERSION")))
            .timeout(timeout)
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| format!("lookaside HTTP client: {e}"))?;
        Ok(SimpleSigning { lookaside, registries_d, trust, http })
    }

    /// The lookaside base URL for `image`, and where it was configured.
    fn base_for(&self, image: &DockerRef) -> Result<Option<(Url, String)>, String> {
        if let Some(u) = &self.lookaside {
            return Ok(Some((u.clone(), "--lookaside".into())));
        }
        let Some(rd) = &self.registries_d else { return Ok(None) };
        let Some((loc, scope)) = rd.lookaside_for(image) else { return Ok(None) };
        let dir = rd.dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        let u = Url::parse(&loc).map_err(|e| format!("registries.d {dir} ({scope}): lookaside {loc:?}: {e}"))?;
        Ok(Some((u, format!("registries.d {dir} ({scope})"))))
    }

    /// Read one signature: `Ok(None)` when it is not there.
    async fn read(&self, url: &Url) -> Result<Option<Vec<u8>>, String> {
        match url.scheme() {
            "file" => {
                let path = url.to_file_path().map_err(|_| format!("{url}: not a local path"))?;
                match tokio::fs::read(&path).await {
                    Ok(b) if b.len() > MAX_SIGNATURE_BYTES => {
                        Err(format!("{url}: larger than {MAX_SIGNATURE_BYTES} bytes"))
                    }
                    Ok(b) => Ok(Some(b)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(format!("{url}: {e}")),
                }
            }
            "http" | "https" => {
                let mut r = self.http.get(url.clone()).send().await.map_err(|e| format!("{url}: {}", chain(&e)))?;
                match r.status().as_u16() {
                    200 => {}
                    404 => return Ok(None),
                    s => return Err(format!("{url}: HTTP {s}")),
                }
                let mut body = Vec::new();
                while let Some(chunk) = r.chunk().await.map_err(|e| format!("{url}: {}", chain(&e)))? {
                    body.extend_from_slice(&chunk);
                    if body.len() > MAX_SIGNATURE_BYTES {
                        return Err(format!("{url}: larger than {MAX_SIGNATURE_BYTES} bytes"));
                    }
                }
                Ok(Some(body))
            }
            other => Err(format!("{url}: lookaside scheme {other:?} is not supported (http, https, file)")),
        }
    }
}

/// An error with its causes (reqwest says "error sending request" and keeps "connection
/// refused" in its source).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(&format!(": {c}"));
        cause = c.source();
    }
    s
}

/// The simple-signing signatures of `subject`, a manifest of the image `name` (`HOST/REPO`)
/// reached by `tags`, judged at `at` (Unix seconds); and the lookups that failed.
pub async fn signatures(
    ss: &SimpleSigning,
    name: &str,
    tags: &[String],
    subject: &Subject,
    at: i64,
) -> (Vec<SignatureReport>, Vec<String>) {
    let mut out = Vec::new();
    let Some(image) = DockerRef::parse(&format!("{name}@{}", subject.digest)) else {
        tracing::debug!(name, "not a docker reference containers/image accepts: no lookaside");
        return (out, Vec::new());
    };
    let (base, from) = match ss.base_for(&image) {
        Ok(Some(b)) => b,
        Ok(None) => return (out, Vec::new()),
        Err(e) => return (out, vec![e]),
    };
    let judged = simple_signing::Image { name, tags, at };
    // One past the cap is probed: exactly MAX_SIGNATURES is fine, more is an error of the image.
    for n in 1..=MAX_SIGNATURES + 1 {
        let url = signature_url(&base, &image, &subject.digest, n);
        match ss.read(&url).await {
            Ok(None) => break,
            Ok(Some(_)) if n > MAX_SIGNATURES => {
                let e =
                    format!("lookaside store ({from}): more than {MAX_SIGNATURES} signatures: the rest were not read");
                return (out, vec![e]);
            }
            Ok(Some(bytes)) => {
                let checked = simple_signing::check(&bytes, &judged, subject, ss.trust.as_ref());
                let mut r = checked.into_report(
                    SignatureFormat::SimpleSigning,
                    Discovery::Lookaside,
                    &crate::oci::Digest::sha256_of(&bytes),
                );
                r.location = Some(url.to_string());
                out.push(r);
            }
            Err(e) => return (out, vec![format!("lookaside store ({from}) could not be read: {e}")]),
        }
    }
    (out, Vec::new())
}

/// The simple-signing signatures the registry's signature extension holds for `subject`, when the
/// registry announced the extension, judged at `at` (Unix seconds); and the lookup that failed.
pub async fn extension_signatures(
    client: &crate::registry::RegistryClient,
    trust: Option<&GpgTrust>,
    (repo, name, tags): (&str, &str, &[String]),
    subject: &Subject,
    at: i64,
) -> (Vec<SignatureReport>, Vec<String>) {
    if !client.supports_signatures() {
        return (Vec::new(), Vec::new());
    }
    match client.extension_signatures(repo, &subject.digest).await {
        Err(e) => (Vec::new(), vec![format!("signature extension: {e}")]),
        Ok((url, blobs)) => {
            let judged = simple_signing::Image { name, tags, at };
            let out = blobs
                .iter()
                .map(|bytes| {
                    let checked = simple_signing::check(bytes, &judged, subject, trust);
                    let digest = crate::oci::Digest::sha256_of(bytes);
                    let mut r =
                        checked.into_report(SignatureFormat::SimpleSigning, Discovery::SignatureExtension, &digest);
                    r.location = Some(url.to_string());
                    r
                })
                .collect();
            (out, Vec::new())
        }
    }
}
