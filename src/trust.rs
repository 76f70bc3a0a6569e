//! Trust material and the decision it drives. Without trust material, a good
//! certificate-bearing signature is `untrusted` and a key-only one `unverified`
//! (../shared/docs/REPORT.md). Public keys given with `--key` make key-only signatures checkable.

use crate::crypto::{CryptoError, PublicKey};
use crate::report::Verdict;

/// A public key the user trusts, with its id (SHA-256 of the DER SPKI) and where it came from.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    pub key: PublicKey,
    pub key_id: String,
    pub source: String,
}

#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub keys: Vec<TrustedKey>,
}

impl Trust {
    pub fn add_key_pem(&mut self, pem: &[u8], source: &str) -> Result<(), CryptoError> {
        let (_, p) = x509_parser::pem::parse_x509_pem(pem)
            .map_err(|e| CryptoError::MalformedKey(format!("{source}: PEM: {e}")))?;
        if p.label != "PUBLIC KEY" {
            return Err(CryptoError::MalformedKey(format!(
                "{source}: expected a PUBLIC KEY PEM block, found {}",
                p.label
            )));
        }
        let key = PublicKey::from_spki_der(&p.contents)?;
        self.keys.push(TrustedKey { key, key_id: crate::crypto::sha256_hex(&p.contents), source: source.to_string() });
        Ok(())
    }

    /// Decide a key-only signature: `verify` checks the signature with one key.
    /// Returns the verdict, a reason, and the id of the key that verified it.
    pub fn decide_key_only(
        &self,
        verify: impl Fn(&PublicKey) -> Result<(), CryptoError>,
    ) -> (Verdict, String, Option<String>) {
        if self.keys.is_empty() {
            return (
                Verdict::Unverified,
                "key-only signature and no --key given: the signature bytes were not checked".into(),
                None,
            );
        }
        for k in &self.keys {
            if verify(&k.key).is_ok() {
                return (
                    Verdict::Verified,
                    format!("verified with key {} ({})", &k.key_id[..16], k.source),
                    Some(k.key_id.clone()),
                );
            }
        }
        (Verdict::Invalid, format!("signature does not verify with any of the {} given key(s)", self.keys.len()), None)
    }

    /// Decide a certificate-bearing signature whose integrity and binding hold.
    pub fn decide_certificate(&self) -> (Verdict, String) {
        (Verdict::Untrusted, "signature valid for the certificate it carries; no trust anchor given for it".into())
    }
}
