//! APKs: the v1 (JAR) signature ([`super::jar`]) and the APK Signature Scheme v2, v3 and v3.1
//! blocks of the APK Signing Block, with the rules by which apksigner and Android judge them
//! together (SIGNED-FILES.md §3.2):
//! - a v1 signature never outranks a failing v2/v3 one: any signature that fails makes every other
//!   one of the APK `invalid` (apksigner says DOES NOT VERIFY, Android refuses to install), and one
//!   not checked makes the others no better than `unsupported`;
//! - stripping protection: a `.SF` whose `X-Android-APK-Signed` names scheme 2 or 3 that the APK
//!   lacks, or a v2 signer whose stripping-protection attribute names v3 when the v3 block is gone;
//! - the same signer throughout: v1 and v2 signers must be the same certificates, and each v2
//!   signer must be the v3 signer or a certificate of its proof-of-rotation lineage.

mod block;
mod lineage;
mod signer;

use super::jar;
use crate::report::{FileSignatureReport, ReasonCode as C, Verdict};
use crate::trust::Trust;
use signer::Scheme;

const MAX_SIGNERS: usize = 10;
/// The first SDK that reads APK Signature Scheme v3 (Android 9).
const V3_FIRST_SDK: u32 = 28;

pub fn check(bytes: &[u8], trust: &Trust) -> jar::Checked {
    let mut out = jar::check(bytes, "apk", trust);
    let v1_certs: Vec<String> =
        out.signatures.iter().filter_map(|s| s.signer.as_ref().and_then(|x| x.sha256.clone())).collect();
    let v1_count = out.signatures.len();
    let mut found: Vec<Scheme> = Vec::new();
    let mut checked: Vec<(Scheme, signer::Checked)> = Vec::new();
    match block::locate(bytes) {
        Err(block::NoBlock::Absent(why)) => {
            if bytes.windows(16).any(|w| w == block::MAGIC) {
                out.notes.push(format!(
                    "an APK Signing Block magic elsewhere in the file is not a signing block ({why}): ignored, as \
                     apksigner and Android ignore it"
                ));
            }
        }
        Err(block::NoBlock::Malformed(why)) => {
            let mut r = super::verdict::report("apk-signing-block", "0".into());
            r.verification.push(C::ApkBlockMalformed.reason(why));
            out.signatures.push(r);
        }
        Ok(layout) => {
            let mut digests = signer::Digests::new();
            for scheme in Scheme::ALL {
                let (value, n) = layout.find(scheme.block_id());
                let Some(value) = value else { continue };
                found.push(scheme);
                if n > 1 {
                    out.notes.push(format!("{n} {} blocks: the first is verified, as apksigner does", scheme.name()));
                }
                let mut reader = block::Reader::new(value);
                let signers = match reader.sequence("signers") {
                    Ok(s) if s.is_empty() => Err("no signers".to_string()),
                    Ok(s) if s.len() > MAX_SIGNERS => Err(format!("more than {MAX_SIGNERS} signers")),
                    other => other,
                };
                match signers {
                    Ok(signers) => {
                        for (i, s) in signers.iter().enumerate() {
                            checked.push((scheme, signer::check(s, scheme, i, &layout, &mut digests, trust)));
                        }
                    }
                    Err(e) => {
                        let mut r = super::verdict::report(scheme.format(), "0".into());
                        r.verification.push(C::ApkBlockMalformed.reason(format!("{}: {e}", scheme.name())));
                        out.signatures.push(r);
                    }
                }
            }
        }
    }
    // Content before the first entry: the v2/v3 signatures cover it (their first section starts
    // at offset 0); a v1 signature alone does not (Janus, CVE-2017-13156).
    if out.prefix > 0 {
        if found.is_empty() {
            for s in out.signatures.iter_mut().take(v1_count) {
                invalidate(s, C::JarAmbiguous.reason(jar::prefix_reason(out.prefix)));
            }
        } else {
            out.notes.push(format!(
                "{} bytes before the archive's first entry, covered by the APK Signature Scheme signatures",
                out.prefix
            ));
        }
    }
    cross_scheme_rules(&mut out, v1_count, &v1_certs, &found, &mut checked);
    out.signatures.extend(checked.into_iter().map(|(_, c)| c.report));
    one_verdict(&mut out.signatures);
    out
}

fn invalidate(r: &mut FileSignatureReport, reason: crate::report::Reason) {
    r.verification.status = Verdict::Invalid;
    r.verification.insert(0, reason);
}

/// Stripping protection and the same signer across schemes.
fn cross_scheme_rules(
    out: &mut jar::Checked,
    v1_count: usize,
    v1_certs: &[String],
    found: &[Scheme],
    checked: &mut [(Scheme, signer::Checked)],
) {
    // v1: every scheme its .SF names must be there.
    for id in out.apk_signed.clone() {
        let scheme = match id {
            2 => Scheme::V2,
            3 => Scheme::V3,
            _ => continue,
        };
        if found.contains(&scheme) {
            continue;
        }
        for s in out.signatures.iter_mut().take(v1_count) {
            invalidate(
                s,
                C::ApkV2Stripped.reason(format!(
                    "the .SF says the APK is signed with {}, but no such signature is in it: stripped",
                    scheme.name()
                )),
            );
        }
    }
    // v2: the stripping-protection attribute names v3, whose block is gone.
    for (scheme, c) in checked.iter_mut() {
        if *scheme == Scheme::V2 && c.also_signed_with.contains(&3) && !found.contains(&Scheme::V3) {
            let why = "the v2 signature says the APK is also signed with APK Signature Scheme v3, but no v3 \
                       signature is in it: stripped";
            invalidate(&mut c.report, C::ApkV3Stripped.reason(why));
        }
    }
    // v3.1 only complements v3 (apksig: a v3.1 block without a v3 block fails).
    if found.contains(&Scheme::V31) && !found.contains(&Scheme::V3) {
        for (_, c) in checked.iter_mut().filter(|(s, _)| *s == Scheme::V31) {
            let why = "an APK Signature Scheme v3.1 block without the v3 block it complements: v3 was stripped";
            invalidate(&mut c.report, C::ApkV3Stripped.reason(why));
        }
    }
    // v3's rotation-min-SDK attribute names the SDK from which v3.1 takes over (apksig
    // ApkVerifier): no v3.1 block is V31_BLOCK_MISSING (v3.1 stripped; apksig checks it when the
    // verified SDK range reaches that SDK, and we judge for every SDK, as apksigner by default); a v3.1 block whose lowest minSdk is another SDK is V31_ROTATION_MIN_SDK_MISMATCH.
    let v31_min = checked.iter().filter(|(s, _)| *s == Scheme::V31).filter_map(|(_, c)| c.report.min_sdk).min();
    let v31_found = found.contains(&Scheme::V31);
    for (_, c) in checked.iter_mut().filter(|(s, _)| *s == Scheme::V3) {
        let Some(rot) = c.rotation_min_sdk else { continue };
        if !v31_found {
            let why = format!(
                "the v3 signer says a v3.1 signer takes over from SDK {rot}, but no v3.1 block is in the APK: stripped \
                 (apksig V31_BLOCK_MISSING)"
            );
            invalidate(&mut c.report, C::ApkV3Stripped.reason(why));
        } else if v31_found && v31_min.is_some_and(|m| m != rot) {
            let why = format!(
                "the v3 signer's rotation-min-SDK {rot} is not the v3.1 signers' minimum SDK {} (apksig \
                 V31_ROTATION_MIN_SDK_MISMATCH)",
                v31_min.unwrap_or_default()
            );
            invalidate(&mut c.report, C::ApkSignerMismatch.reason(why));
        }
    }
    // The signers of one v3/v3.1 block are for SDK ranges that do not overlap.
    for scheme in [Scheme::V3, Scheme::V31] {
        let mut ranges: Vec<(u32, u32, usize)> = checked
            .iter()
            .enumerate()
            .filter(|(_, (s, _))| *s == scheme)
            .filter_map(|(i, (_, c))| Some((c.report.min_sdk?, c.report.max_sdk?, i)))
            .collect();
        ranges.sort();
        for w in ranges.windows(2) {
            let ((min0, max0, _), (min1, max1, i)) = (w[0], w[1]);
            if min1 <= max0 {
                let why =
                    format!("{} signers for overlapping SDK ranges {min0}..{max0} and {min1}..{max1}", scheme.name());
                invalidate(&mut checked[i].1.report, C::ApkSignerMismatch.reason(why));
            }
        }
    }
    // The v3 and v3.1 signers together cover every platform that reads v3 (Android 9, SDK 28, and
    // later) without a gap: apksig's V3_MISSING_SDK_VERSIONS. A platform no signer covers would
    // refuse the APK.
    if found.contains(&Scheme::V3) {
        let mut ranges: Vec<(u32, u32)> = checked
            .iter()
            .filter(|(s, _)| matches!(s, Scheme::V3 | Scheme::V31))
            .filter_map(|(_, c)| Some((c.report.min_sdk?, c.report.max_sdk?)))
            .collect();
        ranges.sort();
        let mut next = V3_FIRST_SDK;
        for (min, max) in ranges {
            if min > next {
                break;
            }
            next = next.max(max.saturating_add(1));
        }
        if next <= i32::MAX as u32 {
            let why = format!(
                "no v3 signer covers SDK {next} (the v3/v3.1 signers must cover SDK {V3_FIRST_SDK} and every later one: \
                 apksig V3_MISSING_SDK_VERSIONS); those platforms refuse the APK"
            );
            for (_, c) in checked.iter_mut().filter(|(s, _)| matches!(s, Scheme::V3 | Scheme::V31)) {
                invalidate(&mut c.report, C::ApkSdkUncovered.reason(why.clone()));
            }
        }
    }
    // The same signer: v1 and v2 sign with the same certificates (apksig compares the sets).
    let v2_certs: Vec<String> =
        checked.iter().filter(|(s, _)| *s == Scheme::V2).filter_map(|(_, c)| c.cert.clone()).collect();
    let sorted = |v: &[String]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    if v1_count > 0 && !v2_certs.is_empty() && sorted(v1_certs) != sorted(&v2_certs) {
        for s in out.signatures.iter_mut().take(v1_count) {
            invalidate(s, C::ApkSignerMismatch.reason("the v1 (JAR) signers are not the v2 signers"));
        }
    }
    // Each v2 signer (and v1 when there is no v2) is the v3 signer or in its lineage.
    let v3: Vec<(Vec<String>, String)> = checked
        .iter()
        .filter(|(s, _)| *s == Scheme::V3)
        .filter_map(|(_, c)| c.cert.clone().map(|cert| (c.lineage.clone(), cert)))
        .collect();
    if v3.is_empty() {
        return;
    }
    let known = |cert: &String| v3.iter().any(|(lineage, signer)| signer == cert || lineage.contains(cert));
    for (scheme, c) in checked.iter_mut() {
        if *scheme == Scheme::V2 && c.cert.as_ref().is_some_and(|cert| !known(cert)) {
            let why = "the v2 signer is neither the v3 signer nor in its proof-of-rotation lineage";
            invalidate(&mut c.report, C::ApkSignerMismatch.reason(why));
        }
    }
    if v2_certs.is_empty() {
        for s in out.signatures.iter_mut().take(v1_count) {
            if s.signer.as_ref().and_then(|x| x.sha256.as_ref()).is_some_and(|cert| !known(cert)) {
                let why = "the v1 (JAR) signer is neither the v3 signer nor in its proof-of-rotation lineage";
                invalidate(s, C::ApkSignerMismatch.reason(why));
            }
        }
    }
}

/// The APK has one verdict, as apksigner and Android give it: any signature that fails fails the
/// others; one not checked keeps the others from being better than `unsupported`.
fn one_verdict(sigs: &mut [FileSignatureReport]) {
    // A v1 signature refused only for SHA-1 (the JDK's rule; apksigner itself signs v1 with SHA-1
    // for minimum SDKs below 18, and Android accepts it) is weak, not failing: as for PE, it never
    // outranks the SHA-2 v2/v3 signatures, and it does not fail them either.
    // Only when SHA-1 is its sole failure: a bad signature or digest next to it still fails.
    let weak_only = |s: &FileSignatureReport| {
        let codes = &s.verification.reason_codes;
        s.format == "jar"
            && codes.first().is_some_and(|c| c == C::WeakSha1.as_str())
            && codes.iter().skip(1).all(|c| C::parse(c).is_none_or(|c| c.typical_verdict() != "invalid"))
    };
    let failing: Vec<String> = sigs
        .iter()
        .filter(|s| s.verification.status == Verdict::Invalid && !weak_only(s))
        .map(|s| format!("{} {}", s.format, s.index))
        .collect();
    // Each v3/v3.1 signer is the APK's signer on its SDK range (apksigner names the one of the
    // newest platforms): one not trusted makes the APK not trusted there, whatever the others.
    let untrusted: Vec<String> = sigs
        .iter()
        .filter(|s| s.format.starts_with("apk-v3"))
        .filter(|s| matches!(s.verification.status, Verdict::Untrusted | Verdict::Unverified))
        .map(|s| format!("{} {} (SDK {}..{})", s.format, s.index, s.min_sdk.unwrap_or(0), s.max_sdk.unwrap_or(0)))
        .collect();
    let unchecked: Vec<String> = sigs
        .iter()
        .filter(|s| s.verification.status == Verdict::Unsupported)
        .map(|s| format!("{} {}", s.format, s.index))
        .collect();
    for s in sigs.iter_mut() {
        let good = matches!(s.verification.status, Verdict::Verified | Verdict::Untrusted | Verdict::Unverified);
        if good && !failing.is_empty() {
            invalidate(
                s,
                C::ApkSchemeFailed.reason(format!(
                    "this signature holds, but the APK's {} fails: apksigner and Android refuse the APK",
                    failing.join(", ")
                )),
            );
        } else if s.verification.status == Verdict::Verified && !untrusted.is_empty() {
            s.verification.status = Verdict::Untrusted;
            s.verification.insert(
                0,
                C::ApkSignerUntrusted.reason(format!(
                    "this signature holds, but the APK's {} is not trusted: on those platforms the APK is that signer's",
                    untrusted.join(", ")
                )),
            );
        } else if good && !unchecked.is_empty() {
            s.verification.status = Verdict::Unsupported;
            s.verification.insert(
                0,
                C::ApkSchemeUnchecked.reason(format!(
                    "this signature holds, but the APK's {} is not checked here: no better than unsupported",
                    unchecked.join(", ")
                )),
            );
        }
    }
}
