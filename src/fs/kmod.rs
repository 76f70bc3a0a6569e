//! Linux kernel modules (SIGNED-FILES.md §4, rank 11): the signature is appended to the module,
//! `content ‖ PKCS#7 ‖ struct module_signature ‖ "~Module signature appended~\n"`
//! (include/linux/module_signature.h). The 12-byte struct must say PKEY_ID_PKCS7 with every other
//! field zero but the big-endian `sig_len` (kernel `mod_check_sig`); the PKCS#7 is a detached
//! SignedData over the bytes before it. It carries no certificate as a rule: its signer is named by
//! issuer and serial (or subject key id), and the kernel looks that key up in its keyrings. Here the
//! keyring is `--ca-roots`: a signing certificate given there is trusted as the kernel trusts a key
//! in its keyring (a CA there is a path's anchor, through [`crate::pki::path`]).

use super::verdict;
use crate::cms::{self, Failure, SignerId};
use crate::pki::path::{LeafEku, Purpose};
use crate::report::{ReasonCode as C, Signer, Verdict};
use crate::trust::Trust;
use crate::x509::{eku, ku, Cert};

pub const MAGIC: &[u8] = b"~Module signature appended~\n";
/// `struct module_signature`: algo, hash, id_type, signer_len, key_id_len, pad[3], be32 sig_len.
const INFO_LEN: usize = 12;
const PKEY_ID_PKCS7: u8 = 2;
const ID_DATA: &str = "1.2.840.113549.1.7.1";
const MAX_SIGNERS: usize = 8;

/// What a module signer's certificate must be good for: the kernel checks no usage for module
/// keys; a keyUsage, if present, must allow digitalSignature, an extendedKeyUsage, if present,
/// code signing (what the kernel's own `x509.genkey` writes).
pub const KERNEL_MODULE: Purpose = Purpose {
    name: "kernel module signing",
    eku: eku::CODE_SIGNING,
    leaf_eku: LeafEku::IfPresent,
    any_eku: true,
    nested: false,
    leaf_ku_any: ku::DIGITAL_SIGNATURE,
    leaf_ku_only: None,
};

/// Whether `bytes` carry the appended-signature trailer.
pub fn is_signed(bytes: &[u8]) -> bool {
    bytes.ends_with(MAGIC)
}

/// Whether `bytes` are a kernel module without a signature: an ELF relocatable object with the
/// `.modinfo` and `.gnu.linkonce.this_module` sections every module built by kbuild has.
pub fn is_module(bytes: &[u8]) -> bool {
    section_names(bytes)
        .is_some_and(|n| n.iter().any(|s| s == b".modinfo") && n.iter().any(|s| s == b".gnu.linkonce.this_module"))
}

/// The section names of an ELF relocatable object (32 or 64 bits, either byte order).
fn section_names(b: &[u8]) -> Option<Vec<&[u8]>> {
    if !b.starts_with(b"\x7fELF") || b.len() < 52 {
        return None;
    }
    let wide = match b[4] {
        1 => false,
        2 => true,
        _ => return None,
    };
    let le = match b[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let u16_at = |o: usize| {
        b.get(o..o.checked_add(2)?)
            .map(|x| if le { u16::from_le_bytes([x[0], x[1]]) } else { u16::from_be_bytes([x[0], x[1]]) } as usize)
    };
    let u32_at = |o: usize| {
        b.get(o..o.checked_add(4)?).map(|x| {
            let a = [x[0], x[1], x[2], x[3]];
            (if le { u32::from_le_bytes(a) } else { u32::from_be_bytes(a) }) as usize
        })
    };
    let u64_at = |o: usize| {
        b.get(o..o.checked_add(8)?).and_then(|x| {
            let a: [u8; 8] = x.try_into().ok()?;
            usize::try_from(if le { u64::from_le_bytes(a) } else { u64::from_be_bytes(a) }).ok()
        })
    };
    let word = |o: usize| if wide { u64_at(o) } else { u32_at(o) };
    // e_type ET_REL
    if u16_at(16)? != 1 {
        return None;
    }
    let (shoff, shentsize, shnum, shstrndx) = if wide {
        (u64_at(0x28)?, u16_at(0x3a)?, u16_at(0x3c)?, u16_at(0x3e)?)
    } else {
        (u32_at(0x20)?, u16_at(0x2e)?, u16_at(0x30)?, u16_at(0x32)?)
    };
    if shnum == 0 || shnum > 65_280 || shstrndx >= shnum || shentsize < if wide { 64 } else { 40 } {
        return None;
    }
    let header = |i: usize| shoff.checked_add(i.checked_mul(shentsize)?);
    // sh_name at 0; sh_offset at 0x18 (64-bit) or 0x10; sh_size at 0x20 or 0x14.
    let (off_at, size_at) = if wide { (0x18, 0x20) } else { (0x10, 0x14) };
    let strtab = header(shstrndx)?;
    let (str_off, str_size) = (word(strtab.checked_add(off_at)?)?, word(strtab.checked_add(size_at)?)?);
    let strings = b.get(str_off..str_off.checked_add(str_size)?)?;
    let mut names = Vec::with_capacity(shnum);
    for i in 0..shnum {
        let h = header(i)?;
        let name = u32_at(h)?;
        let rest = strings.get(name..)?;
        names.push(&rest[..rest.iter().position(|c| *c == 0)?]);
    }
    Some(names)
}

/// The outcome for one module: its signatures (none when the trailer is missing).
pub struct Checked {
    pub signatures: Vec<crate::report::FileSignatureReport>,
}

fn malformed(why: impl Into<String>) -> Checked {
    let r = verdict::fail(verdict::report("kmod", "0".into()), Failure::Invalid(C::KmodMalformed, why.into()));
    Checked { signatures: vec![r] }
}

pub fn check(bytes: &[u8], trust: &Trust) -> Checked {
    if !is_signed(bytes) {
        return Checked { signatures: Vec::new() };
    }
    let end = bytes.len() - MAGIC.len();
    let Some(info_at) = end.checked_sub(INFO_LEN) else {
        return malformed("the signature trailer is truncated: no room for struct module_signature");
    };
    let info = &bytes[info_at..end];
    let (id_type, sig_len) = (info[2], u32::from_be_bytes([info[8], info[9], info[10], info[11]]) as usize);
    if id_type != PKEY_ID_PKCS7 {
        return malformed(format!(
            "struct module_signature names id_type {id_type}, not PKEY_ID_PKCS7 (2): the kernel refuses the module"
        ));
    }
    // mod_check_sig: algo, hash, signer_len, key_id_len and the padding must all be zero.
    if info[0] != 0 || info[1] != 0 || info[3] != 0 || info[4] != 0 || info[5..8] != [0, 0, 0] {
        return malformed(
            "struct module_signature has non-zero parameter fields besides sig_len: the kernel refuses the module",
        );
    }
    // mod_check_sig: sig_len >= len - sizeof(struct module_signature) is -EBADMSG, so at least one
    // byte of module must precede the signature.
    let Some(sig_at) = info_at.checked_sub(sig_len).filter(|at| sig_len > 0 && *at > 0) else {
        return malformed(format!(
            "sig_len {sig_len} is zero or leaves no module content in the {info_at} bytes before the trailer"
        ));
    };
    let (content, sig) = (&bytes[..sig_at], &bytes[sig_at..info_at]);
    let sd = match cms::parse_content_info(sig) {
        Ok(sd) => sd,
        Err(f) => return Checked { signatures: vec![verdict::fail(verdict::report("kmod", "0".into()), f)] },
    };
    match der_rest(sig) {
        Some(0) => {}
        Some(n) => return malformed(format!("{n} bytes between the PKCS#7 and struct module_signature")),
        None => return malformed("the PKCS#7 does not parse"),
    }
    if sd.content_type != ID_DATA {
        return malformed(format!("the PKCS#7 signs content of type {}, not id-data", sd.content_type));
    }
    if sd.content.is_some() {
        return malformed("the PKCS#7 carries its own content: a module signature is detached");
    }
    if sd.signers.is_empty() || sd.signers.len() > MAX_SIGNERS {
        return malformed(format!("the PKCS#7 has {} signers", sd.signers.len()));
    }
    // The keyring: the certificates the signature carries, then the given ones.
    let mut pool: Vec<Cert> = sd.certificates.clone();
    for a in &trust.anchors {
        if !pool.iter().any(|c| c.der == a.der) {
            pool.push(a.clone());
        }
    }
    let mut signatures = Vec::new();
    for (i, si) in sd.signers.iter().enumerate() {
        let mut r = verdict::report("kmod", i.to_string());
        r.digest_algorithm = si.hash().ok().map(|h| h.name().to_string());
        if si.find_cert(&pool).is_none() {
            r.signer = Some(named(&si.sid));
            r.verification.status = Verdict::Unverified;
            let given = if trust.anchors.is_empty() {
                "no signing certificate was given (--ca-roots)".to_string()
            } else {
                format!("it is not among the {} certificates given with --ca-roots", trust.anchors.len())
            };
            r.verification.push(C::KmodSignerUnknown.reason(format!(
                "the module is signed by {}, whose certificate the signature does not carry and {given}: \
                 the signature bytes were not checked",
                describe(&si.sid)
            )));
            signatures.push(r);
            continue;
        }
        // The kernel refuses module signatures with signed attributes ("has authattrs", through
        // 6.x) and has no RSA-PSS for them.
        if si.signed_attrs.is_some() {
            let why = "the SignerInfo has signed attributes: the kernel refuses such a module signature \
                       (\"Invalid module sig (has authattrs)\")";
            signatures.push(verdict::fail(r, Failure::Invalid(C::KmodMalformed, why.into())));
            continue;
        }
        if si.sig_alg == RSASSA_PSS {
            let why = "RSA-PSS: the kernel does not accept RSA-PSS module signatures (-ENOPKG), so nothing checks \
                       this one as the kernel would";
            signatures.push(verdict::fail(r, Failure::Unsupported(C::UnsupportedAlgorithm, why.into())));
            continue;
        }
        let expect = verdict::Expect { content_type: ID_DATA, purpose: &KERNEL_MODULE };
        let mut r = verdict::signer(r, si, &pool, content, Ok(()), trust, &expect);
        if si.hash().ok() == Some(crate::crypto::HashAlg::Sha1) {
            r.verification.push(C::WeakSha1.reason("weak algorithm: SHA-1 module signature"));
        }
        signatures.push(r);
    }
    // The kernel (pkcs7_verify) verifies every SignerInfo and refuses the module if any fails, so
    // one failing SignerInfo makes the others fail too: the best of them does not decide.
    if let Some(bad) = signatures.iter().position(|s| s.verification.status == Verdict::Invalid) {
        for (i, s) in signatures.iter_mut().enumerate() {
            if i != bad && s.verification.status != Verdict::Invalid {
                let why =
                    format!("SignerInfo {bad} of this module fails: the kernel requires every SignerInfo to verify");
                *s = verdict::fail(s.clone(), Failure::Invalid(C::KmodMalformed, why));
            }
        }
    }
    Checked { signatures }
}

/// id-RSASSA-PSS.
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";

/// Bytes after the first DER element of `b`.
fn der_rest(b: &[u8]) -> Option<usize> {
    crate::der::read(b).ok().map(|(_, rest)| rest.len())
}

/// The signer as the signature names it: issuer and serial, or the subject key identifier
/// (reported as `keyId`).
fn named(sid: &SignerId) -> Signer {
    match sid {
        SignerId::IssuerSerial { issuer, serial } => {
            Signer { issuer: Some(crate::dn::rfc4514(issuer)), serial: Some(hex::encode(serial)), ..Signer::default() }
        }
        SignerId::KeyId(k) => Signer { key_id: Some(hex::encode(k)), ..Signer::default() },
    }
}

fn describe(sid: &SignerId) -> String {
    match sid {
        SignerId::IssuerSerial { issuer, serial } => {
            format!("issuer {} serial {}", crate::dn::rfc4514(issuer), hex::encode(serial))
        }
        SignerId::KeyId(k) => format!("subject key id {}", hex::encode(k)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailers_that_lie_are_errors_not_panics() {
        let t = Trust::default();
        let status = |b: &[u8]| check(b, &t).signatures.first().map(|s| s.verification.status);
        assert_eq!(status(MAGIC), Some(Verdict::Invalid));
        let mut b = vec![0u8; 4];
        b.extend([0, 0, 2, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        b.extend(MAGIC);
        assert_eq!(status(&b), Some(Verdict::Invalid));
        let mut b = vec![0x30, 0x00];
        b.extend([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        b.extend(MAGIC);
        assert_eq!(status(&b), Some(Verdict::Invalid));
        assert!(check(b"plain", &t).signatures.is_empty());
        assert!(!is_module(b"\x7fELF"));
    }
}
