//! Authenticode in scripts (PowerShell `.ps1`/`.psm1`/`.psd1`, XML `.ps1xml`/`.psc1`/`.cdxml`,
//! `.mof`, `.js`): a base64 PKCS#7 in comment lines after the script, from a `SIG # Begin
//! signature block` line to its `End` line. The signed hash covers the text before the block
//! (up to the line break that precedes the Begin line, CR included when that line ends in CRLF),
//! as UTF-16LE: a file starting with the UTF-16LE BOM is hashed as it is, anything else is read
//! as UTF-8 (each invalid byte one U+FFFD) and converted (osslsigncode script.c).
//!
//! The comment style follows the file name, as osslsigncode and Windows pick the SIP by
//! extension; a file with another name is recognised by a signature block of any style.
//! PowerShell files without a block are reported unsigned; `.js` and `.mof` files without one
//! are not reported (most are never meant to be signed). A `.js` block is reported `unsupported`:
//! no independent signer at hand makes one to test against.

use super::authenticode::{self, Digests, Hashing};
use super::verdict;
use crate::cms::Failure;
use crate::crypto::HashAlg;
use crate::der;
use crate::report::{FileSignatureReport, ReasonCode as C};
use crate::trust::Trust;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Style {
    open: &'static str,
    header: &'static str,
    footer: &'static str,
    close: &'static str,
}

const HASH: Style =
    Style { open: "# ", header: "SIG # Begin signature block", footer: "SIG # End signature block", close: "" };
const XML: Style =
    Style { open: "<!-- ", header: "SIG # Begin signature block", footer: "SIG # End signature block", close: " -->" };
const C_STYLE: Style =
    Style { open: "/* ", header: "SIG # Begin signature block", footer: "SIG # End signature block", close: " */" };
const JS: Style =
    Style { open: "// SIG // ", header: "Begin signature block", footer: "End signature block", close: "" };

/// Extension, comment style, and whether a file without a block is reported unsigned.
/// `.js` blocks are recognised but not verified: osslsigncode 2.9, the independent signer the
/// fixtures come from, does not sign them, so nothing has tested their hash here.
const FORMATS: &[(&str, Style, bool)] = &[
    ("ps1", HASH, true),
    ("psm1", HASH, true),
    ("psd1", HASH, true),
    ("ps1xml", XML, true),
    ("psc1", XML, true),
    ("cdxml", XML, true),
    ("mof", C_STYLE, false),
    ("js", JS, false),
];

/// Files larger than this are not read as scripts.
const MAX_SCRIPT: usize = 64 << 20;

pub struct Checked {
    pub file_type: &'static str,
    pub signatures: Vec<FileSignatureReport>,
}

/// The text as UTF-16 code units, with each unit's byte offset in the file.
struct Text {
    units: Vec<u16>,
    /// Byte offset of each unit, and the file length at the end.
    offsets: Vec<usize>,
    utf16: bool,
}

fn decode(bytes: &[u8]) -> Text {
    let mut units = Vec::new();
    let mut offsets = Vec::new();
    if bytes.starts_with(&[0xff, 0xfe]) {
        for (i, c) in bytes.chunks_exact(2).enumerate() {
            units.push(u16::from_le_bytes([c[0], c[1]]));
            offsets.push(2 * i);
        }
        offsets.push(bytes.len() & !1);
        return Text { units, offsets, utf16: true };
    }
    let mut pos = 0;
    while pos < bytes.len() {
        match std::str::from_utf8(&bytes[pos..]) {
            Ok(s) => {
                push_str(s, pos, &mut units, &mut offsets);
                pos = bytes.len();
            }
            Err(e) => {
                let good = e.valid_up_to();
                push_str(
                    std::str::from_utf8(&bytes[pos..pos + good]).unwrap_or_default(),
                    pos,
                    &mut units,
                    &mut offsets,
                );
                pos += good;
                // Each byte of an invalid sequence: U+FFFD (as Go's and osslsigncode's decoders do).
                let bad = e.error_len().unwrap_or(bytes.len() - pos);
                for k in 0..bad {
                    units.push(0xfffd);
                    offsets.push(pos + k);
                }
                pos += bad;
            }
        }
    }
    offsets.push(bytes.len());
    Text { units, offsets, utf16: false }
}

fn push_str(s: &str, base: usize, units: &mut Vec<u16>, offsets: &mut Vec<usize>) {
    for (i, ch) in s.char_indices() {
        let mut buf = [0u16; 2];
        for u in ch.encode_utf16(&mut buf) {
            units.push(*u);
            offsets.push(base + i);
        }
    }
}

fn starts_with(hay: &[u16], needle: &str) -> bool {
    let n: Vec<u16> = needle.encode_utf16().collect();
    hay.starts_with(&n)
}

/// Where the signature starts (in units): the line break before the first line that begins with
/// the commented header and ends with LF, one unit earlier if that line ends in CRLF.
fn signature_start(t: &Text, style: &Style) -> Option<usize> {
    let header = format!("{}{}{}", style.open, style.header, style.close);
    let mut line_start = 0;
    for (i, &u) in t.units.iter().enumerate() {
        if u != u16::from(b'\n') {
            continue;
        }
        let line = &t.units[line_start..i];
        if line_start > 0 && starts_with(line, &header) {
            let lf = line_start - 1;
            let crlf = line.last() == Some(&u16::from(b'\r'));
            return Some(if crlf { lf.saturating_sub(1) } else { lf });
        }
        line_start = i + 1;
    }
    None
}

/// The base64 payload of the block: after the open tag on each line, up to the close tag or the
/// line's end, from the header to the footer.
fn block(t: &[u16], style: &Style) -> Result<Vec<u8>, String> {
    let text = String::from_utf16_lossy(t);
    let mut b64 = String::new();
    let mut offset = 0;
    for (n, line) in text.split('\n').enumerate() {
        offset += line.len() + 1;
        let l = line.strip_suffix('\r').unwrap_or(line);
        if n == 0 {
            continue; // the line break before the Begin line
        }
        // From Begin to End every line is the comment prefix and base64, nothing else: other
        // text there would run (or hide a second Begin) yet not be hashed (osslsigncode 2.9
        // accepts it).
        let Some(inner) = l.strip_prefix(style.open).and_then(|r| r.strip_suffix(style.close)) else {
            return Err(format!("line {} of the signature block is not a comment line", n));
        };
        if n == 1 {
            if inner != style.header {
                return Err("the signature block's Begin line holds more than the header".into());
            }
            continue;
        }
        if inner == style.footer {
            // What follows the block is not hashed: a script that goes on after it would run
            // unsigned code under the signature (osslsigncode ignores it; PowerShell's SIP wants
            // the block last).
            let after = text.get(offset.min(text.len())..).unwrap_or_default();
            if !after.trim_matches(|c: char| c.is_whitespace() || c == '\0').is_empty() {
                return Err(format!(
                    "{} characters after the signature block, which the signature does not cover",
                    after.trim().chars().count()
                ));
            }
            return crate::crypto::b64_std_lenient(&b64).ok_or_else(|| "the signature block is not base64".to_string());
        }
        if !inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=') {
            return Err(format!("line {} of the signature block is not base64", n));
        }
        b64.push_str(inner);
    }
    Err("the signature block has no end line".into())
}

/// Check a script: `None` if it is not one (by name or by a signature block).
pub fn check(path: &str, bytes: &[u8], trust: &Trust) -> Option<Checked> {
    let lower = path.to_ascii_lowercase();
    let by_name = FORMATS
        .iter()
        .find(|(ext, _, _)| lower.strip_suffix(ext).is_some_and(|stem| stem.ends_with('.') && stem.len() > 1));
    if bytes.len() > MAX_SCRIPT || bytes.is_empty() {
        return None;
    }
    // Cheap test before decoding a file of another name: a block ends the file, so its End line
    // (ASCII or UTF-16LE) is in the last bytes.
    let marker = "End signature block";
    let wide: Vec<u8> = marker.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    let tail = &bytes[bytes.len().saturating_sub(256)..];
    let has_marker = tail.windows(marker.len()).any(|w| w == marker.as_bytes())
        || tail.windows(wide.len()).any(|w| w == wide.as_slice());
    if by_name.is_none() && !has_marker {
        return None;
    }
    let text = decode(bytes);
    let found = match by_name {
        Some((ext, style, _)) => signature_start(&text, style).map(|at| (*ext, *style, at)),
        None => FORMATS.iter().find_map(|(ext, style, _)| signature_start(&text, style).map(|at| (*ext, *style, at))),
    };
    let Some((ext, style, at)) = found else {
        return match by_name {
            Some((ext, _, true)) => Some(Checked { file_type: ext, signatures: Vec::new() }),
            _ => None,
        };
    };
    let file_type: &'static str = ext;
    if style == JS {
        let mut r = verdict::report("authenticode", "0".into());
        r.verification.status = crate::report::Verdict::Unsupported;
        r.verification
            .push(C::UnsupportedFormat.reason("JScript signature blocks are recognised but not verified yet"));
        return Some(Checked { file_type, signatures: vec![r] });
    }
    if !text.utf16 && std::str::from_utf8(bytes).is_err() {
        // Neither UTF-8 nor UTF-16 with a BOM: which text was hashed depends on the decoder (a
        // CP-1252 quote and its replacement character hash alike here), so no verdict.
        let mut r = verdict::report("authenticode", "0".into());
        r.verification.status = crate::report::Verdict::Unsupported;
        r.verification.push(
            C::UnsupportedFormat
                .reason("the script is neither UTF-8 nor UTF-16 with a BOM; its signed text is ambiguous"),
        );
        return Some(Checked { file_type, signatures: vec![r] });
    }
    let fail = |f: Failure| {
        Some(Checked { file_type, signatures: vec![verdict::fail(verdict::report("authenticode", "0".into()), f)] })
    };
    let raw = match block(&text.units[at..], &style) {
        Ok(r) => r,
        Err(e) => return fail(Failure::Invalid(C::MalformedSignature, e)),
    };
    let (blob, rest) = match der::read(&raw) {
        Ok((t, rest)) => (t.raw, rest),
        Err(e) => return fail(Failure::Invalid(C::MalformedSignature, format!("signature block: {e}"))),
    };
    // Bytes after the PKCS#7 other than zero padding.
    let trailing = rest.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    if trailing > 0 {
        let why = format!("{trailing} bytes after the PKCS#7 in the signature block, which no signature covers");
        return fail(Failure::Invalid(C::MalformedSignature, why));
    }
    // The hashed text: the file's own bytes if UTF-16, else the UTF-8 converted.
    let hashed: Vec<u8> = if text.utf16 {
        bytes[..text.offsets[at]].to_vec()
    } else {
        text.units[..at].iter().flat_map(|u| u.to_le_bytes()).collect()
    };
    let hashing = Hashing { what: "script hash", mismatch: C::ContentHashMismatch };
    let mut digests = |algs: &[HashAlg]| -> Digests { algs.iter().map(|&a| (a, Ok(a.digest(&hashed)))).collect() };
    let signatures = authenticode::verify(&[blob], "authenticode", trust, &hashing, &mut digests, &mut |_| {});
    Some(Checked { file_type, signatures })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_block_starts_at_the_line_break_before_its_header() {
        let t =
            decode(b"Write-Host hi\r\n\r\n# SIG # Begin signature block\r\n# AAAA\r\n# SIG # End signature block\r\n");
        let at = signature_start(&t, &HASH).unwrap();
        assert_eq!(t.offsets[at], 15);
        assert_eq!(block(&t.units[at..], &HASH).unwrap(), [0, 0, 0]);
        // A header on the first line is no signature; nor is one without a line end.
        assert_eq!(signature_start(&decode(b"# SIG # Begin signature block\n"), &HASH), None);
        assert_eq!(signature_start(&decode(b"x\n# SIG # Begin signature block"), &HASH), None);
    }

    #[test]
    fn invalid_utf8_is_one_replacement_per_byte() {
        let t = decode(b"a\xe2\x82b\xff");
        assert_eq!(t.units, [0x61, 0xfffd, 0xfffd, 0x62, 0xfffd]);
    }

    /// Code or a second Begin line inside the block is not hashed, so it is refused
    /// (osslsigncode 2.9 says "Succeeded" for such files).
    #[test]
    fn only_base64_comment_lines_between_begin_and_end() {
        for body in [
            "# SIG # Begin signature block\n# AAAA\n",
            "Write-Host evil\n# AAAA\n",
            "#AAAA; Write-Host evil\n",
            "# AAAA ; Write-Host evil\n",
        ] {
            let src = format!("x\n# SIG # Begin signature block\n{body}# SIG # End signature block\n");
            let t = decode(src.as_bytes());
            let at = signature_start(&t, &HASH).unwrap();
            assert!(block(&t.units[at..], &HASH).is_err(), "{body:?}");
        }
    }

    #[test]
    fn invalid_utf8_signed_script_is_unsupported() {
        let src = b"x\x93\n# SIG # Begin signature block\n# MAMCAQA=\n# SIG # End signature block\n";
        let c = check("a.ps1", src, &Trust::default()).unwrap();
        assert_eq!(c.signatures[0].verification.status, crate::report::Verdict::Unsupported);
    }
}
