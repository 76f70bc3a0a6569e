//! Distinguished names as people read them: the RFC 4514 string of a DER `Name`, decoded and
//! escaped the way `openssl x509 -noout -subject -nameopt
//! esc_2253,esc_ctrl,utf8,dump_nostr,dump_unknown,dump_der,sep_comma_plus_space,dn_rev,sname`
//! writes it (OpenSSL's `RFC2253` option set with UTF-8 left readable and `, ` between RDNs), so
//! a name in a report can be compared with what openssl shows for the same certificate:
//!
//! - every directory string type is decoded: UTF8String; PrintableString, IA5String, T.61
//!   (TeletexString), VisibleString, NumericString and the other one-byte types as OpenSSL reads
//!   them (one byte per character, ISO 8859-1); BMPString (UTF-16BE) and UniversalString
//!   (UTF-32BE);
//! - `,+"\<>;` are escaped with a backslash, as are a leading `#` or space and a trailing space;
//!   control characters become `\XX`;
//! - attribute types are OpenSSL's short names (`CN`, `O`, `street`, `serialNumber`,
//!   `emailAddress`, `jurisdictionC`…); a type it has no name for is written as its dotted OID with
//!   the value as `#` and the hex of its DER encoding (RFC 4514 §2.4), as is a value that is not a
//!   string or does not decode;
//! - the most specific RDN comes first; attributes of one multi-valued RDN are joined with `+`.
//!
//! The other half: reading such a string back ([`parse`], [`attribute`]) honours the escapes, so a
//! CN holding a comma is never cut at it.

use crate::der;

/// The RFC 4514 string of a DER-encoded `Name` (SEQUENCE OF RelativeDistinguishedName). A name
/// that does not parse is shown as `#` and its hex, never dropped.
pub fn rfc4514(name_der: &[u8]) -> String {
    render(name_der).unwrap_or_else(|| format!("#{}", hex::encode_upper(name_der)))
}

fn render(name_der: &[u8]) -> Option<String> {
    let (name, rest) = der::expect(name_der, der::SEQUENCE).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let mut rdns = Vec::new();
    for rdn in der::children(name.content).ok()? {
        if rdn.tag != der::SET {
            return None;
        }
        let mut attrs = Vec::new();
        for atv in der::children(rdn.content).ok()? {
            if atv.tag != der::SEQUENCE {
                return None;
            }
            let (oid, value) = der::expect(atv.content, der::OID).ok()?;
            let (value, trailing) = der::read(value).ok()?;
            if !trailing.is_empty() {
                return None;
            }
            attrs.push(attribute_string(&der::oid_string(oid.content), &value));
        }
        rdns.push(attrs.join("+"));
    }
    rdns.reverse();
    Some(rdns.join(", "))
}

fn attribute_string(oid: &str, value: &der::Tlv<'_>) -> String {
    let dump = || format!("#{}", hex::encode_upper(value.raw));
    match short_name(oid) {
        None => format!("{oid}={}", dump()),
        Some(name) => {
            let text = decode_string(value.tag, value.content).map(|s| escape(&s)).unwrap_or_else(dump);
            format!("{name}={text}")
        }
    }
}

/// The characters of a directory string, or None for a type that is not a string (OpenSSL's
/// `dump_nostr`) or content that does not decode.
fn decode_string(tag: u8, content: &[u8]) -> Option<String> {
    match tag {
        // UTF8String
        0x0c => String::from_utf8(content.to_vec()).ok(),
        // NumericString, PrintableString, T61String, VideotexString, IA5String, UTCTime,
        // GeneralizedTime, GraphicString, VisibleString, GeneralString: one byte per character.
        0x12..=0x1b => Some(content.iter().map(|&b| char::from(b)).collect()),
        // UniversalString: UCS-4 big-endian.
        0x1c => {
            if !content.len().is_multiple_of(4) {
                return None;
            }
            content.chunks(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        // BMPString: UCS-2 big-endian (surrogate pairs read as UTF-16).
        0x1e => {
            if !content.len().is_multiple_of(2) {
                return None;
            }
            let units: Vec<u16> = content.chunks(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            String::from_utf16(&units).ok()
        }
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping, as OpenSSL's `esc_2253` and `esc_ctrl` do it.
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    let last = v.chars().count().saturating_sub(1);
    for (i, c) in v.chars().enumerate() {
        if c.is_ascii_control() {
            out.push_str(&format!("\\{:02X}", c as u32));
            continue;
        }
        let special = matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';')
            || (i == 0 && (c == '#' || c == ' '))
            || (i == last && c == ' ');
        if special {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// OpenSSL's short name for a name attribute type (`OBJ_nid2sn`), for the types certificates use.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.13" => "description",
        "2.5.4.15" => "businessCategory",
        "2.5.4.16" => "postalAddress",
        "2.5.4.17" => "postalCode",
        "2.5.4.18" => "postOfficeBox",
        "2.5.4.20" => "telephoneNumber",
        "2.5.4.41" => "name",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.44" => "generationQualifier",
        "2.5.4.45" => "x500UniqueIdentifier",
        "2.5.4.46" => "dnQualifier",
        "2.5.4.65" => "pseudonym",
        "2.5.4.72" => "role",
        "2.5.4.97" => "organizationIdentifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        "1.2.840.113549.1.9.2" => "unstructuredName",
        "1.2.840.113549.1.9.8" => "unstructuredAddress",
        "1.3.6.1.4.1.311.60.2.1.1" => "jurisdictionL",
        "1.3.6.1.4.1.311.60.2.1.2" => "jurisdictionST",
        "1.3.6.1.4.1.311.60.2.1.3" => "jurisdictionC",
        _ => return None,
    })
}

/// The attributes of an RFC 4514 string as (type, unescaped value), most specific first (the
/// order they are written in). Escapes (`\,`, `\\`, `\XX`) are honoured, so a value holding a
/// comma stays whole. Text that is not RFC 4514 comes back as best it can, never cut short.
pub fn parse(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in split_unescaped(s, &[',', '+']) {
        let part = part.trim_start();
        let (key, value) = match part.find('=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => ("", part),
        };
        out.push((key.trim().to_string(), unescape(value)));
    }
    out
}

/// The first value of attribute `key` (case-insensitive: `CN`, `O`…), unescaped.
pub fn attribute(s: &str, key: &str) -> Option<String> {
    parse(s).into_iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The same name with `,` between RDNs instead of `, ` (Go's `pkix.Name.String()` and so
/// Venafi SigScan's `subjectname`); escapes are kept.
pub fn compact(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        match c {
            '\\' => {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            }
            ',' => {
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
            }
            _ => {}
        }
    }
    out
}

/// Split at separators that are not escaped with a backslash.
fn split_unescaped<'a>(s: &'a str, seps: &[char]) -> Vec<&'a str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if seps.contains(&c) {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&s[start..]);
    parts
}

fn unescape(v: &str) -> String {
    let mut bytes = Vec::with_capacity(v.len());
    let b = v.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let hex = b.get(i + 1..i + 3).filter(|h| h.iter().all(u8::is_ascii_hexdigit));
            if let Some(x) = hex.and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) {
                bytes.push(x);
                i += 3;
            } else {
                bytes.push(b[i + 1]);
                i += 2;
            }
        } else {
            bytes.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_separators_stay_inside_the_value() {
        let s = r"CN=Eclipse.org Foundation\, Inc, O=a\+b, C=CA";
        assert_eq!(attribute(s, "CN").as_deref(), Some("Eclipse.org Foundation, Inc"));
        assert_eq!(attribute(s, "o").as_deref(), Some("a+b"));
        assert_eq!(compact(s), r"CN=Eclipse.org Foundation\, Inc,O=a\+b,C=CA");
        assert_eq!(attribute(r"CN=x\01y\\", "CN").as_deref(), Some("x\u{1}y\\"));
    }

    #[test]
    fn names_that_do_not_parse_are_shown_whole() {
        assert_eq!(rfc4514(&[0x30, 0x03, 0x31]), "#300331");
    }
}
