//! Certificate revocation lists (RFC 5280 §5), read from files the user gives (`--crl`).
//!
//! A CRL is read once (DER, or PEM `X509 CRL` blocks); what it says about a certificate counts only
//! after its own checks, made for the issuer at hand ([`Crl::authentic_for`]): its issuer name is
//! the certificate's issuer, its signature verifies with that issuer's key (which must allow
//! cRLSign when it has a keyUsage), and its `thisUpdate` is not in the future. Whether it is
//! current (`nextUpdate` not passed) is the caller's question ([`Crl::current_at`]): a revocation
//! an authentic CRL lists stays a revocation, but only a current CRL can say "not revoked".
//!
//! Refused (kept, with why, so a certificate whose issuer it names gets "status unknown" saying
//! so): delta CRLs, CRLs scoped by an issuingDistributionPoint (partitioned or indirect CRLs), CRL
//! entries naming another certificate issuer, and any critical extension not handled here.

use crate::der as d;
use crate::x509::{ku, rfc3339, Cert};

/// A CRL file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {message}")]
pub struct CrlError {
    pub source_name: String,
    pub message: String,
}

/// RFC 5280 §5.3.1 CRLReason.
pub fn reason_name(code: u8) -> &'static str {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown reason",
    }
}

/// Reasons that say the key itself can no longer be trusted, whenever it signed.
pub fn is_compromise(code: Option<u8>) -> bool {
    matches!(code, Some(1 | 2 | 10))
}

/// One revoked certificate of a CRL.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The serial number's content octets, leading zeros removed.
    serial: Vec<u8>,
    /// revocationDate (Unix seconds).
    pub date: i64,
    /// The invalidityDate entry extension, when given: since when the key is suspected.
    pub invalidity: Option<i64>,
    /// The reasonCode entry extension.
    pub reason: Option<u8>,
}

impl Entry {
    /// A revocation an OCSP responder reports (it names no invalidity date).
    pub fn new(date: i64, reason: Option<u8>) -> Entry {
        Entry { serial: Vec::new(), date, invalidity: None, reason }
    }

    /// From when the certificate is to be taken as revoked: the earlier of its revocation and
    /// invalidity dates.
    pub fn effective(&self) -> i64 {
        self.invalidity.map_or(self.date, |i| i.min(self.date))
    }

    pub fn reason_text(&self) -> &'static str {
        self.reason.map_or("no reason given", reason_name)
    }
}

#[derive(Debug, Clone)]
pub struct Crl {
    /// Where it came from (file name, `#n` for the n-th block of a PEM file), for reasons.
    pub source: String,
    der: Vec<u8>,
    issuer_raw: Vec<u8>,
    /// The issuer as RFC 4514 text.
    pub issuer: String,
    pub this_update: i64,
    pub next_update: Option<i64>,
    tbs: std::ops::Range<usize>,
    sig_oid: String,
    sig_params: Option<Vec<u8>>,
    signature: Vec<u8>,
    entries: Vec<Entry>,
    /// Why this CRL is not used, when it is not.
    pub refused: Option<String>,
}

/// Extensions of a CRL this module understands (none of them changes what the CRL covers).
const HANDLED_CRL_EXTENSIONS: &[&str] = &[
    "2.5.29.20", // cRLNumber
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.18", // issuerAltName
];

impl Crl {
    /// Every CRL in `bytes`: one DER CRL, or the `X509 CRL` blocks of a PEM file.
    pub fn read_all(bytes: &[u8], source: &str) -> Result<Vec<Crl>, CrlError> {
        let err = |m: String| CrlError { source_name: source.to_string(), message: m };
        if bytes.first() == Some(&d::SEQUENCE) {
            return Ok(vec![Crl::from_der(bytes.to_vec(), source).map_err(err)?]);
        }
        let mut out = Vec::new();
        for (i, pem) in x509_parser::pem::Pem::iter_from_buffer(bytes).enumerate() {
            let pem = pem.map_err(|e| err(format!("PEM: {e}")))?;
            if pem.label != "X509 CRL" {
                return Err(err(format!("expected X509 CRL PEM blocks, found {}", pem.label)));
            }
            out.push(Crl::from_der(pem.contents, &format!("{source}#{}", i + 1)).map_err(err)?);
        }
        if out.is_empty() {
            return Err(err("no CRL found (expected DER or PEM X509 CRL)".into()));
        }
        Ok(out)
    }

    pub fn from_der(der: Vec<u8>, source: &str) -> Result<Crl, String> {
        let (rest, parsed) = x509_parser::prelude::parse_x509_crl(&der).map_err(|e| format!("not a CRL: {e}"))?;
        if !rest.is_empty() {
            return Err("trailing bytes after the CRL".into());
        }
        let (outer, _) = d::expect(&der, d::SEQUENCE).map_err(|_| "not a SEQUENCE".to_string())?;
        let (tbs, rest) = d::expect(outer.content, d::SEQUENCE).map_err(|_| "no TBSCertList".to_string())?;
        let (alg, rest) = d::expect(rest, d::SEQUENCE).map_err(|_| "no signatureAlgorithm".to_string())?;
        let (sig, _) = d::expect(rest, 0x03).map_err(|_| "no signature BIT STRING".to_string())?;
        let (alg_oid, params) = d::expect(alg.content, d::OID).map_err(|_| "bad signatureAlgorithm".to_string())?;
        let signature = match sig.content.split_first() {
            Some((0, bits)) => bits.to_vec(),
            _ => return Err("signature BIT STRING has unused bits".into()),
        };
        let tbs_start = tbs.raw.as_ptr() as usize - der.as_ptr() as usize;
        let tbs_len = tbs.raw.len();
        let l = &parsed.tbs_cert_list;
        let mut refused = None;
        let mut refuse = |why: String| {
            refused.get_or_insert(why);
        };
        if l.signature != parsed.signature_algorithm {
            refuse("its TBS signature algorithm differs from the outer one".into());
        }
        for ext in l.extensions() {
            let oid = ext.oid.to_id_string();
            match oid.as_str() {
                "2.5.29.27" => refuse("a delta CRL (deltaCRLIndicator); delta CRLs are not supported".into()),
                "2.5.29.28" => refuse(
                    "scoped by an issuingDistributionPoint (a partitioned or indirect CRL); not supported".into(),
                ),
                o if ext.critical && !HANDLED_CRL_EXTENSIONS.contains(&o) => {
                    refuse(format!("critical CRL extension {o} is not processed"))
                }
                _ => {}
            }
        }
        let mut entries = Vec::new();
        for r in l.revoked_certificates.iter() {
            let mut reason = None;
            let mut invalidity = None;
            for ext in r.extensions() {
                let oid = ext.oid.to_id_string();
                match oid.as_str() {
                    "2.5.29.21" => reason = r.reason_code().map(|(_, c)| c.0),
                    "2.5.29.24" => invalidity = r.invalidity_date().map(|(_, t)| t.timestamp()),
                    "2.5.29.29" => {
                        refuse("an entry names another certificate issuer (an indirect CRL); not supported".into())
                    }
                    o if ext.critical => refuse(format!("critical CRL entry extension {o} is not processed")),
                    _ => {}
                }
            }
            let serial: Vec<u8> = r.raw_serial().iter().copied().skip_while(|b| *b == 0).collect();
            entries.push(Entry { serial, date: r.revocation_date.timestamp(), invalidity, reason });
        }
        Ok(Crl {
            source: source.to_string(),
            issuer_raw: l.issuer.as_raw().to_vec(),
            issuer: crate::x509::rfc4514(&l.issuer),
            this_update: l.this_update.timestamp(),
            next_update: l.next_update.map(|t| t.timestamp()),
            tbs: tbs_start..tbs_start + tbs_len,
            sig_oid: d::oid_string(alg_oid.content),
            sig_params: (!params.is_empty() && params != [0x05, 0x00]).then(|| params.to_vec()),
            signature,
            entries,
            refused,
            der,
        })
    }

    /// Whether this CRL claims to be `cert`'s issuer's (by name; authenticity is
    /// [`Crl::authentic_for`]).
    pub fn names_issuer_of(&self, cert: &Cert) -> bool {
        self.issuer_raw == cert.issuer_raw()
    }

    /// The CRL's own checks for `issuer` at `now`: not refused, issued under `issuer`'s name,
    /// signed by `issuer`'s key, which may sign CRLs, and issued by `now`.
    pub fn authentic_for(&self, issuer: &Cert, now: i64) -> Result<(), String> {
        if let Some(why) = &self.refused {
            return Err(format!("CRL {} refused: {why}", self.source));
        }
        if self.issuer_raw != issuer.subject_raw() {
            return Err(format!("CRL {} is issued by {}, not {}", self.source, self.issuer, issuer.subject()));
        }
        if issuer.key_usage_ext().is_some_and(|k| k.value & ku::CRL_SIGN == 0) {
            return Err(format!("CRL {}: its issuer's keyUsage does not allow cRLSign", self.source));
        }
        let key = issuer.public_key().map_err(|e| format!("CRL {}: issuer key: {e}", self.source))?;
        key.verify_algorithm(&self.sig_oid, self.sig_params.as_deref(), &self.der[self.tbs.clone()], &self.signature)
            .map_err(|e| format!("CRL {} is not signed by {}'s key: {e}", self.source, issuer.subject()))?;
        if self.this_update > now {
            return Err(format!("CRL {} is not yet valid (thisUpdate {})", self.source, day(self.this_update)));
        }
        Ok(())
    }

    /// Whether the CRL is still current at `now`; else why not.
    pub fn current_at(&self, now: i64) -> Result<(), String> {
        match self.next_update {
            None => Err(format!("CRL {} has no nextUpdate, so its freshness cannot be judged", self.source)),
            Some(n) if n < now => Err(format!("CRL {} expired (nextUpdate {})", self.source, day(n))),
            Some(_) => Ok(()),
        }
    }

    /// The entry revoking `cert`, if listed (removeFromCRL entries are not revocations).
    pub fn entry_for(&self, cert: &Cert) -> Option<&Entry> {
        let serial: Vec<u8> = cert.serial_raw().iter().copied().skip_while(|b| *b == 0).collect();
        self.entries.iter().find(|e| e.serial == serial && e.reason != Some(8))
    }
}

pub fn day(t: i64) -> String {
    rfc3339(t).unwrap_or_else(|| t.to_string())
}
