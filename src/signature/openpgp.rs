//! OpenPGP for simple-signing signatures (rPGP): keyrings (armored or binary, several
//! certificates each) and signed messages as GnuPG writes them for containers/image (`gpg
//! --sign`: a compressed, one-pass signed literal message). A message must carry exactly one
//! signature, as containers/image requires; the payload is the literal data, read up to a bound.
//! rPGP panics on some states of a failed read; a panic is caught and reported as a malformed
//! signature, never taken down with the scan.

use pgp::composed::{Message, PublicOrSecret, SignedPublicKey};
use pgp::types::{KeyDetails, VerifyingKey};
use std::io::Read;

/// Bytes of payload read from a signed message at most (a simple-signing payload is < 1 KiB).
const MAX_PAYLOAD: u64 = 1 << 20;

/// One certificate of a keyring: the public key with its subkeys, named by its primary key's
/// fingerprint and first user ID.
#[derive(Debug)]
pub struct PgpCert {
    pub key: SignedPublicKey,
    /// Primary key fingerprint, upper-case hex as GnuPG prints it.
    pub fingerprint: String,
    pub user_id: Option<String>,
    pub algorithm: String,
    /// The file (or `keyData`) it came from.
    pub source: String,
    /// Key revocation signatures not made by the primary key: revocations by a designated revoker,
    /// which count only when the revoker's key is given and verifies them (as GnuPG judges them).
    pub foreign_revocations: Vec<pgp::packet::Signature>,
}

/// Every certificate of an armored or binary keyring (several armor blocks, or binary
/// certificates one after another, as `gpg --export A >> keyring` leaves them). Secret keys are
/// refused (give the public key: `gpg --export`). Only the self-signatures GnuPG takes are kept
/// ([`keep_self_signatures`]): third-party certifications and self-signatures that do not verify
/// are dropped, as GnuPG disregards them. A certificate with no self-signed user ID (a bare public-key packet, which
/// anyone can cut out of a certificate to drop its expiry and revocation) is skipped, as GnuPG
/// skips it ("contains no user ID"); a keyring of nothing else is an error. Copies of one
/// certificate are all kept: [`open`] judges a key by every copy it is given, as GnuPG merges them.
pub fn parse_keyring(bytes: &[u8], source: &str) -> Result<Vec<PgpCert>, String> {
    let mut out = Vec::new();
    let mut skipped = 0;
    for block in armor_blocks(bytes) {
        let (certs, bare) = parse_block(block, source)?;
        out.extend(certs);
        skipped += bare;
    }
    if skipped > 0 {
        tracing::warn!(
            source,
            skipped,
            "OpenPGP certificates without a self-signed user ID skipped, as GnuPG skips them"
        );
    }
    if out.is_empty() {
        return Err(if skipped > 0 {
            format!("{source}: no usable OpenPGP public key in it ({skipped} without a self-signed user ID, which GnuPG skips)")
        } else {
            format!("{source}: no OpenPGP public key in it")
        });
    }
    Ok(out)
}

/// The armor blocks of an armored keyring (each from its `-----BEGIN PGP` line), or the whole
/// input when it is binary.
fn armor_blocks(bytes: &[u8]) -> Vec<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN PGP ";
    let starts: Vec<usize> =
        (0..bytes.len()).filter(|&i| bytes[i..].starts_with(BEGIN) && (i == 0 || bytes[i - 1] == b'\n')).collect();
    if starts.is_empty() || !bytes[..starts[0]].iter().all(u8::is_ascii) {
        return vec![bytes];
    }
    starts.iter().enumerate().map(|(k, &a)| &bytes[a..starts.get(k + 1).copied().unwrap_or(bytes.len())]).collect()
}

/// The certificates of one armor block or binary keyring, and how many were skipped for having
/// no self-signed user ID.
fn parse_block(bytes: &[u8], source: &str) -> Result<(Vec<PgpCert>, usize), String> {
    let parsed = std::panic::catch_unwind(|| -> Result<(Vec<PgpCert>, usize), String> {
        let (iter, _) =
            PublicOrSecret::from_reader_many(bytes).map_err(|e| format!("{source}: not an OpenPGP keyring: {e}"))?;
        let mut out = Vec::new();
        let mut bare = 0;
        for item in iter {
            let mut key = match item.map_err(|e| format!("{source}: {e}"))? {
                PublicOrSecret::Public(k) => k,
                PublicOrSecret::Secret(_) => {
                    return Err(format!("{source}: holds a secret key: give the public keyring (gpg --export)"))
                }
            };
            let foreign_revocations = keep_self_signatures(&mut key, Vec::new());
            if !key.details.users.iter().any(|u| !u.signatures.is_empty()) {
                bare += 1;
                continue;
            }
            let fingerprint = format!("{:X}", key.fingerprint());
            let user_id = key
                .details
                .users
                .iter()
                .find(|u| !u.signatures.is_empty())
                .map(|u| String::from_utf8_lossy(u.id.id()).into_owned());
            let algorithm = format!("{:?}", key.algorithm());
            out.push(PgpCert { key, fingerprint, user_id, algorithm, source: source.to_string(), foreign_revocations });
        }
        Ok((out, bare))
    });
    parsed.unwrap_or_else(|_| Err(format!("{source}: the OpenPGP parser failed on this keyring")))
}

/// Keep only the signatures of `key` that GnuPG takes as its self-signatures: made by the primary
/// key, verifying, and not refused by GnuPG (MD5, an unknown critical subpacket). Third-party
/// certifications (web-of-trust cross-signatures, as in Debian's archive keyring) and self-signatures
/// that do not verify are dropped, as GnuPG disregards them, instead of refusing the keyring; a
/// subkey without a verifying binding is dropped as GnuPG drops it. Key revocations by another key
/// are returned (appended to `foreign`) to be judged against the keyring's other certificates.
fn keep_self_signatures(
    key: &mut SignedPublicKey,
    mut foreign: Vec<pgp::packet::Signature>,
) -> Vec<pgp::packet::Signature> {
    use pgp::types::Tag;
    let primary = key.primary_key.clone();
    let ok = |s: &pgp::packet::Signature| gnupg_refuses(s).is_none();
    for user in &mut key.details.users {
        let id = user.id.clone();
        user.signatures.retain(|s| ok(s) && s.verify_certification(&primary, Tag::UserId, &id).is_ok());
    }
    for attr in &mut key.details.user_attributes {
        let a = attr.attr.clone();
        attr.signatures.retain(|s| ok(s) && s.verify_certification(&primary, Tag::UserAttribute, &a).is_ok());
    }
    key.details.direct_signatures.retain(|s| ok(s) && s.verify_key(&primary).is_ok());
    let (own, other): (Vec<_>, Vec<_>) = std::mem::take(&mut key.details.revocation_signatures)
        .into_iter()
        .partition(|s| s.verify_key(&primary).is_ok());
    key.details.revocation_signatures = own.into_iter().filter(|s| ok(s)).collect();
    foreign.extend(other.into_iter().filter(|s| ok(s)));
    key.public_subkeys.retain(|sub| {
        sub.signatures.iter().any(|s| {
            ok(s)
                && s.verify_subkey_binding(&primary, &sub.key).is_ok()
                && (!s.key_flags().sign()
                    || s.embedded_signature().is_some_and(|b| b.verify_primary_key_binding(&sub.key, &primary).is_ok()))
        })
    });
    foreign
}

/// Why GnuPG refuses a signature whatever its key: an MD5 hash, or a hashed subpacket marked
/// critical that GnuPG does not know.
fn gnupg_refuses(sig: &pgp::packet::Signature) -> Option<Problem> {
    use pgp::packet::SubpacketData;
    if sig.hash_alg() == Some(pgp::crypto::hash::HashAlgorithm::Md5) {
        return Some(Problem::WeakHash);
    }
    let unknown_critical = sig.config().is_some_and(|c| {
        c.hashed_subpackets().any(|p| {
            p.is_critical
                && matches!(
                    p.data,
                    SubpacketData::Notation(_) | SubpacketData::Experimental(..) | SubpacketData::Other(..)
                )
        })
    });
    unknown_critical.then_some(Problem::UnknownCritical)
}

/// What a signed message said, and which key (if any) verified it.
#[derive(Debug)]
pub struct Opened {
    /// The literal data: the simple-signing payload.
    pub payload: Vec<u8>,
    /// The issuer the signature names (fingerprint, else 16-hex key ID), upper-case.
    pub issuer: Option<String>,
    /// Signature creation time, Unix seconds.
    pub created: Option<i64>,
    pub outcome: KeyOutcome,
}

#[derive(Debug)]
pub enum KeyOutcome {
    /// Verified by a key of certificate `cert` (an index into the candidates); `subkey`: the
    /// fingerprint of the subkey that signed, when not the primary key.
    Verified { cert: usize, subkey: Option<String> },
    /// No candidate certificate holds the key the signature names.
    NoKey,
    /// A candidate certificate holds the named key, and the signature does not verify with it.
    Bad { cert: usize, error: String },
    /// The signature verifies with a subkey (fingerprint `subkey`) of certificate `cert`; refused,
    /// as Debian's skopeo refuses it (it accepts only primary-key fingerprints).
    Subkey { cert: usize, subkey: String },
    /// The signature verifies with the primary key of `cert`, and the key or the signature was
    /// not valid at the judging time (GnuPG's KEY_EXPIRED, REVKEYSIG, EXPSIG).
    NotValid { cert: usize, problem: Problem },
}

/// Why a cryptographically good signature is not a valid one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// The certificate carries a (verified) key revocation signature.
    KeyRevoked,
    /// The primary key has expired (at the judging time, or already when the signature was made).
    KeyExpired,
    /// The signature's expiration time has passed (judged at `now`).
    SignatureExpired,
    /// The signature claims to be older than its key.
    SignatureBeforeKey,
    /// The primary key's key flags (from its newest direct-key signature, else the user ID of
    /// latest self-signature that has them) do not allow signing (GnuPG: "wrong key usage").
    KeyNotForSigning,
    /// The key claims a creation time after the judging time (GnuPG: "created in the future",
    /// "bad public key").
    KeyFromFuture,
    /// An MD5 signature (GnuPG rejects MD5 signatures).
    WeakHash,
    /// A hashed subpacket marked critical that GnuPG does not know (an unknown critical
    /// notation, an experimental or unassigned subpacket): GnuPG reports a bad signature.
    UnknownCritical,
}

impl Problem {
    pub fn describe(self) -> &'static str {
        match self {
            Problem::KeyRevoked => "the OpenPGP key is revoked (its certificate carries a key revocation signature)",
            Problem::KeyExpired => "the OpenPGP key has expired (GnuPG reports EXPKEYSIG, containers/image refuses it)",
            Problem::SignatureExpired => "the signature's expiration time has passed",
            Problem::SignatureBeforeKey => "the signature claims a creation time before its key's",
            Problem::KeyNotForSigning => {
                "the OpenPGP key's self-signatures do not allow signing (GnuPG: wrong key usage)"
            }
            Problem::KeyFromFuture => "the OpenPGP key claims a creation time in the future (GnuPG refuses it)",
            Problem::WeakHash => "an MD5 signature (GnuPG rejects MD5)",
            Problem::UnknownCritical => {
                "the signature has a critical subpacket GnuPG does not know (GnuPG reports it as a bad signature)"
            }
        }
    }
}

/// Validity of the primary key of a certificate, given as every copy of it the keyrings hold
/// (`copies`: merged as GnuPG merges them into one key block), and of `sig`, at `now`, as GnuPG
/// judges them for containers/image (g10/getkey.c `merge_selfsigs_main`). The copies hold only
/// their verified self-signatures ([`keep_self_signatures`]). `keyring`: every certificate given,
/// where a designated revoker's key is looked for.
fn validity(
    cert: &PgpCert,
    copies: &[&PgpCert],
    keyring: &[&PgpCert],
    sig: &pgp::packet::Signature,
    now: i64,
) -> Option<Problem> {
    use pgp::packet::SubpacketData;
    use pgp::types::KeyDetails as _;
    if let Some(problem) = gnupg_refuses(sig) {
        return Some(problem);
    }
    if copies.iter().any(|c| !c.key.details.revocation_signatures.is_empty()) || revoked_by_designated(copies, keyring)
    {
        return Some(Problem::KeyRevoked);
    }
    // The certificate that verified (one of `copies`): no copy can make this check pass.
    let key_created = i64::from(cert.key.primary_key.created_at().as_secs());
    if key_created > now {
        return Some(Problem::KeyFromFuture);
    }
    let created = sig.created().map(|t| i64::from(t.as_secs())).unwrap_or(0);
    if created < key_created {
        return Some(Problem::SignatureBeforeKey);
    }
    let at = |s: &pgp::packet::Signature| s.created().map(|t| i64::from(t.as_secs())).unwrap_or(0);
    // A self-signature whose own expiration time has passed does not count.
    let live = |s: &&pgp::packet::Signature| {
        s.signature_expiration_time().map(|d| i64::from(d.as_secs())).is_none_or(|e| e == 0 || now < at(s) + e)
    };
    let flags_of = |s: &pgp::packet::Signature| {
        s.config().and_then(|c| {
            c.hashed_subpackets().find_map(|p| match &p.data {
                SubpacketData::KeyFlags(f) => Some(f.clone()),
                _ => None,
            })
        })
    };
    let expiry_of =
        |s: &pgp::packet::Signature| s.key_expiration_time().map(|d| i64::from(d.as_secs())).filter(|&e| e != 0);
    // The newest direct-key signature gives key flags and expiry first (the later one of equal
    // times, as GnuPG walks them in order).
    let direct = copies.iter().flat_map(|c| c.key.details.direct_signatures.iter()).filter(live).fold(
        None,
        |best: Option<&pgp::packet::Signature>, s| match best {
            Some(b) if at(b) > at(s) => Some(b),
            _ => Some(s),
        },
    );
    let mut flags = direct.and_then(flags_of);
    let mut expiry = direct.and_then(expiry_of);
    // Each user ID (copies merged) is judged by its newest self-signature (a certification or its
    // revocation): revoked or expired, it gives nothing; else its time, flags and key expiry.
    let mut ids: Vec<(&pgp::packet::UserId, Vec<&pgp::packet::Signature>)> = Vec::new();
    for user in copies.iter().flat_map(|c| c.key.details.users.iter()) {
        match ids.iter_mut().find(|(id, _)| *id == &user.id) {
            Some((_, sigs)) => sigs.extend(user.signatures.iter()),
            None => ids.push((&user.id, user.signatures.iter().collect())),
        }
    }
    let uids: Vec<UidState> = ids
        .iter()
        .filter_map(|(_, sigs)| {
            let newest = sigs.iter().copied().fold(None, |best: Option<&pgp::packet::Signature>, s| match best {
                Some(b) if at(b) > at(s) => Some(b),
                _ => Some(s),
            })?;
            let revocation = newest.typ() == Some(pgp::packet::SignatureType::CertRevocation);
            (!revocation && live(&newest)).then(|| UidState {
                at: at(newest),
                flags: flags_of(newest),
                expiry: expiry_of(newest),
            })
        })
        .collect();
    // Else the user ID of latest self-signature that has key flags (key expiry), the first of equal.
    let latest = |pick: &dyn Fn(&UidState) -> bool| {
        uids.iter().filter(|u| pick(u)).fold(None, |best: Option<&UidState>, u| match best {
            Some(b) if b.at >= u.at => Some(b),
            _ => Some(u),
        })
    };
    if flags.is_none() {
        flags = latest(&|u| u.flags.is_some()).and_then(|u| u.flags.clone());
    }
    if expiry.is_none() {
        expiry = latest(&|u| u.expiry.is_some()).and_then(|u| u.expiry);
    }
    if let Some(exp) = expiry {
        // GnuPG (and so skopeo) refuses a key expired at verification time (EXPKEYSIG), even for a
        // signature made while it was valid; a signature made after expiry is refused as well.
        if now >= key_created + exp || created >= key_created + exp {
            return Some(Problem::KeyExpired);
        }
    }
    if flags.is_some_and(|f| !f.sign()) {
        return Some(Problem::KeyNotForSigning);
    }
    if let Some(exp) = sig.signature_expiration_time().map(|d| i64::from(d.as_secs())) {
        if exp != 0 && now >= created + exp {
            return Some(Problem::SignatureExpired);
        }
    }
    None
}

/// What a user ID's newest self-signature says of the key: its time, key flags, key expiry
/// (seconds after the key's creation).
struct UidState {
    at: i64,
    flags: Option<pgp::packet::KeyFlags>,
    expiry: Option<i64>,
}

/// Whether a key revocation made by another key counts, as GnuPG counts it: the revoker is named
/// as a revocation key by a direct-key self-signature of the certificate, its certificate is in
/// the keyring, and the revocation verifies with its primary key. Otherwise it is ignored.
fn revoked_by_designated(copies: &[&PgpCert], keyring: &[&PgpCert]) -> bool {
    let designated: Vec<String> = copies
        .iter()
        .flat_map(|c| c.key.details.direct_signatures.iter())
        .filter_map(|s| s.revocation_key())
        .map(|r| hex::encode_upper(&r.fingerprint))
        .collect();
    copies.iter().any(|c| {
        c.foreign_revocations.iter().any(|rev| {
            keyring
                .iter()
                .filter(|r| designated.contains(&r.fingerprint))
                .any(|r| rev.verify_key_third_party(&c.key.primary_key, &r.key.primary_key).is_ok())
        })
    })
}

/// Open a signed message and verify it against `certs`; `now` (Unix seconds) judges signature
/// expiry.
pub fn open(bytes: &[u8], certs: &[&PgpCert], now: i64) -> Result<Opened, String> {
    std::panic::catch_unwind(|| open_inner(bytes, certs, now))
        .unwrap_or_else(|_| Err("the OpenPGP parser failed on this signature".into()))
}

fn open_inner(bytes: &[u8], certs: &[&PgpCert], now: i64) -> Result<Opened, String> {
    // containers/image reads only binary signatures ("unrecognized signature format" otherwise).
    if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
        return Err("an ASCII-armored OpenPGP message: containers/image reads only binary signatures".into());
    }
    let (mut msg, _) = Message::from_reader(bytes).map_err(|e| format!("not an OpenPGP message: {e}"))?;
    // Compressed layers around the signed message (GnuPG compresses by default).
    for _ in 0..4 {
        if !msg.is_compressed() {
            break;
        }
        msg = msg.decompress().map_err(|e| format!("OpenPGP compressed data: {e}"))?;
    }
    if !msg.is_signed() {
        return Err("the OpenPGP message is not signed".into());
    }
    let mut payload = Vec::new();
    (&mut msg).take(MAX_PAYLOAD + 1).read_to_end(&mut payload).map_err(|e| format!("OpenPGP message: {e}"))?;
    if payload.len() as u64 > MAX_PAYLOAD {
        return Err(format!("the signed payload is larger than {MAX_PAYLOAD} bytes"));
    }
    let Message::Signed { reader, .. } = &msg else { return Err("the OpenPGP message is not signed".into()) };
    if reader.num_signatures() != 1 {
        return Err(format!("{} signatures in the message, expected exactly one", reader.num_signatures()));
    }
    let sig = reader.signature(0).ok_or("the message ends before its signature")?.clone();
    let fingerprints: Vec<String> = sig.issuer_fingerprint().iter().map(|f| format!("{f:X}")).collect();
    let key_ids: Vec<String> = sig.issuer_key_id().iter().map(|k| hex::encode_upper(k.as_ref())).collect();
    let issuer = fingerprints.first().or(key_ids.first()).cloned();
    let created = sig.created().map(|t| i64::from(t.as_secs()));
    let names = |fp: String, id: String| {
        if fingerprints.is_empty() && key_ids.is_empty() {
            return true;
        }
        fingerprints.contains(&fp) || key_ids.contains(&id)
    };
    let mut outcome = KeyOutcome::NoKey;
    for (i, cert) in certs.iter().enumerate() {
        let primary = (&cert.key as &dyn VerifyingKey, None);
        let subkeys =
            cert.key.public_subkeys.iter().map(|s| (s as &dyn VerifyingKey, Some(format!("{:X}", s.fingerprint()))));
        for (key, subkey) in std::iter::once(primary).chain(subkeys) {
            let fp = format!("{:X}", key.fingerprint());
            if !names(fp, hex::encode_upper(key.legacy_key_id().as_ref())) {
                continue;
            }
            match msg.verify_nested_explicit(0, key) {
                Ok(_) => {
                    let copies: Vec<&PgpCert> =
                        certs.iter().copied().filter(|c| c.fingerprint == cert.fingerprint).collect();
                    let outcome = match (subkey, validity(cert, &copies, certs, &sig, now)) {
                        (Some(subkey), _) => KeyOutcome::Subkey { cert: i, subkey },
                        (None, Some(problem)) => KeyOutcome::NotValid { cert: i, problem },
                        (None, None) => KeyOutcome::Verified { cert: i, subkey: None },
                    };
                    return Ok(Opened { payload, issuer, created, outcome });
                }
                Err(e) => outcome = KeyOutcome::Bad { cert: i, error: e.to_string() },
            }
        }
    }
    Ok(Opened { payload, issuer, created, outcome })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_refused_without_a_panic() {
        let mut inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            vec![0],
            vec![0xa3, 0x01],
            b"-----BEGIN PGP MESSAGE-----\n\n-----END PGP MESSAGE-----\n".to_vec(),
            b"{\"critical\":{}}".to_vec(),
        ];
        // Packet headers announcing more than there is, of every tag.
        for tag in 0u8..64 {
            inputs.push(vec![0xc0 | tag, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
            inputs.push(vec![0x80 | (tag << 2), 200, 4, 1]);
        }
        for bytes in &inputs {
            assert!(open(bytes, &[], 0).is_err(), "{bytes:?}");
        }
        assert!(parse_keyring(b"not a keyring", "x").is_err());
        assert!(parse_keyring(b"", "x").is_err());
    }
}
