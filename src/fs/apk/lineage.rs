//! The v3 proof-of-rotation attribute (apksig `SigningCertificateLineage`): `u32 version` (1), then
//! nodes, each `u32`-length-prefixed: signed data (`u32`-length-prefixed certificate, `u32` the
//! algorithm the previous certificate signs it with), `u32` flags, `u32` the algorithm this
//! certificate signs the next node with, and the `u32`-length-prefixed signature by the previous
//! node's certificate over this node's signed data (empty for the first). Each algorithm must
//! match what the previous node announced, and no certificate may appear twice.

use super::block::Reader;
use super::signer::{algorithm, verify_sig};
use crate::report::LineageCert;
use crate::x509::Cert;

const MAX_NODES: usize = 64;

pub struct Node {
    pub cert: Cert,
    pub flags: u32,
}

impl Node {
    pub fn report(&self) -> LineageCert {
        let names = [(1, "installed-data"), (2, "shared-user-id"), (4, "permission"), (8, "rollback"), (16, "auth")];
        let mut flags: Vec<String> =
            names.iter().filter(|(b, _)| self.flags & b != 0).map(|(_, n)| n.to_string()).collect();
        let unknown = self.flags & !31;
        if unknown != 0 {
            flags.push(format!("{unknown:#x}"));
        }
        LineageCert { subject: self.cert.subject(), sha256: self.cert.sha256(), flags }
    }
}

pub fn parse(v: &[u8]) -> Result<Vec<Node>, String> {
    let mut r = Reader::new(v);
    let version = r.u32("version")?;
    if version != 1 {
        return Err(format!("version {version} is not 1"));
    }
    let mut nodes: Vec<Node> = Vec::new();
    let mut announced: Option<u32> = None;
    while !r.is_empty() {
        let level = nodes.len() + 1;
        if level > MAX_NODES {
            return Err(format!("more than {MAX_NODES} certificates"));
        }
        let mut node = Reader::new(r.prefixed("node")?);
        let signed = node.prefixed("signed data")?;
        let flags = node.u32("flags")?;
        let next_alg = node.u32("signature algorithm")?;
        let signature = node.prefixed("signature")?;
        let mut sd = Reader::new(signed);
        let cert = sd.prefixed("certificate")?;
        let signed_alg = sd.u32("signed signature algorithm")?;
        let cert = Cert::from_der(cert.to_vec()).map_err(|e| format!("certificate #{level} does not parse: {e}"))?;
        if let (Some(prev), Some(alg)) = (nodes.last(), announced) {
            if alg != signed_alg {
                return Err(format!("signing algorithm ID mismatch for certificate #{level}"));
            }
            let (sig, _) = algorithm(alg).ok_or_else(|| format!("unknown signature algorithm {alg:#06x}"))?;
            let key = prev.cert.public_key().map_err(|e| format!("certificate #{}: {e}", level - 1))?;
            verify_sig(&key, sig, signed, signature)
                .map_err(|_| format!("the signature over certificate #{level} by certificate #{} fails", level - 1))?;
        }
        if nodes.iter().any(|n| n.cert.der == cert.der) {
            return Err(format!("certificate #{level} appears twice"));
        }
        announced = Some(next_alg);
        nodes.push(Node { cert, flags });
    }
    if nodes.is_empty() {
        return Err("no certificate".into());
    }
    Ok(nodes)
}
