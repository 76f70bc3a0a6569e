//! A minimal, lenient, bounds-checked DER reader for the CMS structures of signed files.
//! Real Authenticode and JAR signatures break strict decoders (attribute certificates in
//! `certificates`, duplicate SET members, fractional GeneralizedTime, SET OF re-sorting:
//! SIGNED-FILES.md §0.3), and signed attributes must be verified over their original bytes, so we
//! walk TLVs and keep raw slices. Never panics on any input.

use thiserror::Error;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[error("malformed DER: {0}")]
pub struct DerError(pub &'static str);

/// One TLV: its tag byte, its content, and its whole encoding.
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const OID: u8 = 0x06;
pub const INTEGER: u8 = 0x02;
pub const OCTET_STRING: u8 = 0x04;
pub const UTC_TIME: u8 = 0x17;
pub const GENERALIZED_TIME: u8 = 0x18;

/// Read one TLV from the front of `b`; returns it and the rest.
pub fn read(b: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (&tag, rest) = b.split_first().ok_or(DerError("unexpected end"))?;
    if tag & 0x1f == 0x1f {
        return Err(DerError("multi-byte tags are not used here"));
    }
    let (&first, rest) = rest.split_first().ok_or(DerError("missing length"))?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 {
            return Err(DerError("indefinite length (BER) is not supported"));
        }
        if n > 4 || rest.len() < n {
            return Err(DerError("bad length"));
        }
        let len = rest[..n].iter().fold(0usize, |a, &x| (a << 8) | x as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(DerError("length beyond the data"));
    }
    let header = b.len() - rest.len();
    Ok((Tlv { tag, content: &rest[..len], raw: &b[..header + len] }, &rest[len..]))
}

/// Read one TLV and require its tag.
pub fn expect(b: &[u8], tag: u8) -> Result<(Tlv<'_>, &[u8]), DerError> {
    let (t, rest) = read(b)?;
    if t.tag != tag {
        return Err(DerError("unexpected tag"));
    }
    Ok((t, rest))
}

/// All TLVs of a content, in order.
pub fn children(content: &[u8]) -> Result<Vec<Tlv<'_>>, DerError> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (t, r) = read(rest)?;
        out.push(t);
        rest = r;
        if out.len() > 100_000 {
            return Err(DerError("too many elements"));
        }
    }
    Ok(out)
}

/// Dotted string of an OID's content bytes.
pub fn oid_string(content: &[u8]) -> String {
    let mut parts: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, &b) in content.iter().enumerate() {
        acc = (acc << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let (a, b2) = if acc < 40 {
                    (0, acc)
                } else if acc < 80 {
                    (1, acc - 40)
                } else {
                    (2, acc - 80)
                };
                parts.push(a);
                parts.push(b2);
            } else {
                parts.push(acc);
            }
            acc = 0;
        } else if i > 20 + content.len() {
            break;
        }
        if acc > (u64::MAX >> 8) {
            return "invalid-oid".into();
        }
    }
    parts.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(".")
}

/// The OID of an AlgorithmIdentifier SEQUENCE.
pub fn algorithm_oid(t: &Tlv) -> Result<String, DerError> {
    let (oid, _) = expect(t.content, OID)?;
    Ok(oid_string(oid.content))
}

/// UTCTime or GeneralizedTime (fractional seconds allowed) as Unix seconds.
pub fn time(t: &Tlv) -> Option<i64> {
    let s = std::str::from_utf8(t.content).ok()?;
    let s = s.trim_end_matches('Z');
    let (full, _frac) = s.split_once('.').unwrap_or((s, ""));
    let full = match t.tag {
        UTC_TIME => {
            let yy: i32 = full.get(..2)?.parse().ok()?;
            format!("{}{}", if yy >= 50 { 19 } else { 20 }, full)
        }
        GENERALIZED_TIME => full.to_string(),
        _ => return None,
    };
    let full = if full.len() == 12 { format!("{full}00") } else { full };
    let dt = chrono::NaiveDateTime::parse_from_str(full.get(..14)?, "%Y%m%d%H%M%S").ok()?;
    Some(dt.and_utc().timestamp())
}

/// Encode one TLV (definite length).
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let n = content.len();
    let mut out = vec![tag];
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend_from_slice(&bytes);
    }
    out.extend_from_slice(content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_round_trips_short_and_long_lengths() {
        for n in [0usize, 127, 128, 255, 256, 70_000] {
            let content = vec![7u8; n];
            let b = encode(OCTET_STRING, &content);
            let (t, rest) = expect(&b, OCTET_STRING).unwrap();
            assert!(rest.is_empty());
            assert_eq!(t.content, &content[..], "{n}");
        }
    }

    #[test]
    fn reads_nested_tlvs_and_refuses_truncation() {
        let b = [0x30, 0x06, 0x02, 0x01, 0x05, 0x04, 0x01, 0xff];
        let (seq, rest) = expect(&b, SEQUENCE).unwrap();
        assert!(rest.is_empty());
        let kids = children(seq.content).unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[1].content, &[0xff]);
        assert!(read(&b[..5]).is_err());
        assert!(read(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(read(&[0x30, 0x80, 0, 0]).is_err());
    }

    #[test]
    fn oids_and_times() {
        assert_eq!(oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]), "1.2.840.113549.1.7.2");
        let g = Tlv { tag: GENERALIZED_TIME, content: b"20191211084017.75Z", raw: &[] };
        assert_eq!(time(&g), Some(1576053617));
        let u = Tlv { tag: UTC_TIME, content: b"221028000000Z", raw: &[] };
        assert_eq!(crate::x509::rfc3339(time(&u).unwrap()).unwrap(), "2022-10-28T00:00:00Z");
    }
}
