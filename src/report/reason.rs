//! Reason codes: every reason in a verdict carries a stable kebab-case code beside its text, so
//! that waivers, diffs and jq filters match on the code, never on the prose. [`ReasonCode::ALL`]
//! is the one list of codes, each with its meaning and the verdict it typically goes with;
//! docs/REPORT.md ("Reason codes") is checked against it (tests/reason_codes.rs), so a code is
//! documented exactly when it exists.
//!
//! A code is given where its reason is made, never guessed from the text afterwards. Codes are
//! part of the report contract: they are only ever added to, never renamed or reused.

use std::fmt;

macro_rules! reason_codes {
    ($( $variant:ident = $code:literal, $verdict:literal, $meaning:literal; )*) => {
        /// The stable code of a reason (docs/REPORT.md, "Reason codes").
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum ReasonCode {
            $($variant,)*
        }

        impl ReasonCode {
            /// Every code, in the order docs/REPORT.md lists them.
            pub const ALL: &'static [ReasonCode] = &[$(ReasonCode::$variant,)*];

            /// The code as reports write it (kebab-case).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ReasonCode::$variant => $code,)*
                }
            }

            /// One line on what the reason says.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ReasonCode::$variant => $meaning,)*
                }
            }

            /// The verdict this reason typically goes with, or `informational` for a reason that
            /// records what was checked without deciding the verdict.
            pub fn typical_verdict(self) -> &'static str {
                match self {
                    $(ReasonCode::$variant => $verdict,)*
                }
            }
        }
    };
}

reason_codes! {
    // Binding: what the signature signs.
    PayloadDigestMismatch = "payload-digest-mismatch", "invalid",
        "the signed payload (cosign payload, in-toto statement, Notary `targetArtifact`, bundle message digest) names another digest: a signature replayed from another image";
    PayloadSizeMismatch = "payload-size-mismatch", "invalid",
        "the Notary payload names another size than the manifest's";
    PayloadMediaTypeMismatch = "payload-media-type-mismatch", "invalid",
        "the Notary payload names another media type than the manifest's";
    PayloadMalformed = "payload-malformed", "invalid",
        "the signed payload cannot be read as its format requires: not JSON as cosign reads it, no `docker-manifest-digest`, another payload or content type, a bad in-toto statement";
    ReferrerSubjectMismatch = "referrer-subject-mismatch", "invalid",
        "a referrer's `subject` is missing or names another image";
    // The signature itself.
    MalformedSignature = "malformed-signature", "invalid",
        "the signature cannot be read: its manifest, layers, annotations, envelope (DSSE, JWS, COSE, bundle, CMS), base64, or signer";
    CertMalformed = "cert-malformed", "invalid",
        "a certificate the signature carries does not parse, or its chain is longer than 10";
    CertMissing = "cert-missing", "invalid",
        "the signature carries no certificate or key to check it with, or not the signer's certificate";
    BadSignature = "bad-signature", "invalid",
        "the signature bytes do not verify with the signer's certificate or key";
    AlgorithmMismatch = "algorithm-mismatch", "invalid",
        "the envelope's algorithm does not match the signing key, or the format does not allow the key";
    CertProfile = "cert-profile", "invalid",
        "the certificate chain breaks the format's profile (Notary Project: order, self-signed root, cA, keyUsage, extendedKeyUsage)";
    NotaryHeader = "notary-header", "invalid",
        "a Notary envelope's protected headers break the specification (crit, signing scheme, signing time, expiry)";
    ThumbprintMismatch = "thumbprint-mismatch", "informational",
        "the Notary signature manifest's thumbprint annotation does not match the envelope's chain, or does not parse";
    UnsupportedFormat = "unsupported-format", "unsupported",
        "a format, version, media type, verification plugin or critical header not handled; or a file type recognised but not verified";
    UnsupportedAlgorithm = "unsupported-algorithm", "unsupported",
        "a key, signature or digest algorithm not handled";
    FetchError = "fetch-error", "error",
        "a blob of the signature could not be fetched";
    // Keys.
    VerifiedKey = "verified-key", "verified",
        "verified with a key given with `--key`";
    KeyOnlyNoKey = "key-only-no-key", "unverified",
        "a key-only signature and no `--key` given: the signature bytes were not checked";
    KeyMismatch = "key-mismatch", "invalid",
        "a key-only signature that none of the given keys verifies";
    VerifiedGpgKey = "verified-gpg-key", "verified",
        "a simple-signing signature verified with an OpenPGP key of `--gpg-keyring` or of a `--containers-policy` `signedBy` requirement for the image's scope, its docker-reference satisfying the identity rule";
    GpgNoKeyring = "gpg-no-keyring", "unverified",
        "a simple-signing signature and no OpenPGP key given (`--gpg-keyring`, `--containers-policy`): the signature was not checked";
    GpgKeyUnknown = "gpg-key-unknown", "invalid",
        "a simple-signing signature by an OpenPGP key that no keyring given holds";
    GpgSubkeyNotAccepted = "gpg-subkey-not-accepted", "untrusted",
        "a simple-signing signature made by a subkey of a trusted OpenPGP key: containers/image (skopeo) accepts only primary-key signatures, so it is not trusted";
    GpgKeyRevoked = "gpg-key-revoked", "invalid",
        "a simple-signing signature by an OpenPGP key whose certificate carries a key revocation signature";
    GpgKeyUnusable = "gpg-key-unusable", "invalid",
        "a simple-signing signature by an OpenPGP key GnuPG will not use for it: its key flags (from the newest current direct-key signature, else the latest user ID's self-signature that sets them) do not allow signing, or it claims a creation time in the future";
    GpgSignatureRefused = "gpg-signature-refused", "invalid",
        "a simple-signing OpenPGP signature GnuPG refuses whatever the key: an MD5 hash, or a hashed subpacket marked critical that GnuPG does not know (an unknown critical notation)";
    GpgKeyExpired = "gpg-key-expired", "invalid",
        "a simple-signing signature by an OpenPGP key that has expired (GnuPG EXPKEYSIG, refused by containers/image), or claiming a time before the key existed";
    GpgSignatureExpired = "gpg-signature-expired", "invalid",
        "a simple-signing signature whose OpenPGP signature expiration time has passed";
    GpgPolicyNotSatisfied = "gpg-policy-not-satisfied", "untrusted",
        "no longer given (kept so that readers of older reports know it): the containers policy is evaluated per reference of the image in its `containersPolicy`, and a refused reference makes a verified image untrusted";
    DockerReferenceTagsUncovered = "docker-reference-tags-uncovered", "untrusted",
        "a simple-signing signature for one tag of an image reported with several tags: the other tags (named in the reason) are not covered by it";
    GpgKeyOutOfScope = "gpg-key-out-of-scope", "untrusted",
        "a simple-signing signature verified with a key that the containers policy trusts for other scopes only";
    DockerReferenceMismatch = "docker-reference-mismatch", "invalid",
        "a simple-signing payload's docker-reference does not satisfy the identity rule (`matchRepoDigestOrExact`, or the policy's `signedIdentity`): a signature made for another name";
    // Trust in the signer.
    ChainAnchored = "chain-anchored", "verified",
        "the signer chains to a trust anchor (`--ca-roots`, a Fulcio CA, a notation trust store)";
    IdentityMatched = "identity-matched", "verified",
        "the signer chains to a trust anchor and matches the identity policy";
    BundleVerified = "bundle-verified", "verified",
        "a Sigstore bundle verified against the trusted root (identity or key, transparency log, SCT as stated)";
    NoTrustAnchor = "no-trust-anchor", "untrusted",
        "the signature holds for the certificate it carries, but no trust anchor was given (`--ca-roots`)";
    IdentityMismatch = "identity-mismatch", "untrusted",
        "the signer's identity (SAN, OIDC issuer, notation `x509.subject`) is not one the policy names";
    NoIdentityPolicy = "no-identity-policy", "untrusted",
        "chains to a Fulcio CA, but no `--certificate-identity[-regexp]` says who may sign: any Sigstore user could have";
    IssuerOnlyPolicy = "issuer-only-policy", "untrusted",
        "only an OIDC issuer constrains the signer: any account at that issuer could have signed";
    NoVerifiedSigningTime = "no-verified-signing-time", "untrusted",
        "a short-lived (Fulcio) certificate, and no verified Rekor entry or RFC 3161 timestamp dates the signature inside its validity";
    FulcioCaNotValid = "fulcio-ca-not-valid", "untrusted",
        "no Fulcio CA of the trusted root is valid at the signing time";
    ChainNoAnchor = "chain-no-anchor", "untrusted",
        "no path from the signer to a trust anchor: an issuer is missing (a chain to an unknown root)";
    ChainExpired = "chain-expired", "untrusted",
        "a certificate of the path is not valid at the judging time (expired, or not yet valid)";
    ChainCaFlag = "chain-ca-flag", "untrusted",
        "an issuer is not a CA (basicConstraints), or a certificate that is not a CA has keyCertSign";
    ChainKeyUsage = "chain-key-usage", "untrusted",
        "a keyUsage does not allow the use: the signer's for the purpose, a CA's without keyCertSign or without keyUsage";
    ChainEku = "chain-eku", "untrusted",
        "an extendedKeyUsage (the signer's, or a CA's) does not allow the purpose";
    ChainPathLen = "chain-path-len", "untrusted",
        "a CA's pathLenConstraint is exceeded";
    ChainNameConstraints = "chain-name-constraints", "untrusted",
        "a CA has nameConstraints, which are not processed, so it is not accepted";
    ChainSignature = "chain-signature", "untrusted",
        "a certificate of the path is not signed by its issuer";
    ChainCriticalExtension = "chain-critical-extension", "untrusted",
        "a certificate of the path has a critical extension that is not processed";
    ChainMalformedCert = "chain-malformed-cert", "untrusted",
        "a certificate of the path breaks the encoding rules (an extension twice or unparsable, signature algorithms that differ, extensions in v1)";
    ChainExplicitCurve = "chain-explicit-curve", "untrusted",
        "a certificate of the path has an EC key with explicit curve parameters (CVE-2020-0601)";
    ChainTooLong = "chain-too-long", "untrusted",
        "the path is longer than 10 certificates, or path building stopped after 64 signature checks";
    SctMissing = "sct-missing", "untrusted",
        "a Fulcio certificate carries no SCT: it is not shown to be in a certificate transparency log";
    SctUntrusted = "sct-untrusted", "untrusted",
        "the SCT is from a CT log the trusted root does not hold, or its issuer is not at hand";
    SctInvalid = "sct-invalid", "invalid",
        "the SCT does not verify, is malformed, or lies outside its log's validity";
    // Transparency logs.
    RekorSetVerified = "rekor-set-verified", "informational",
        "the Rekor SET verified and its entry records this signature (log index stated)";
    RekorUntrusted = "rekor-untrusted", "untrusted",
        "the transparency log entry is from a log the trusted root does not hold";
    RekorInvalid = "rekor-invalid", "invalid",
        "the transparency log evidence is false (SET, inclusion proof, checkpoint, integrated time) or records another payload, signature or signer";
    TlogEvidenceMissing = "tlog-evidence-missing", "untrusted",
        "a bundle lacks the transparency log evidence its version requires (inclusion proof, promise, checkpoint)";
    TlogNotChecked = "tlog-not-checked", "informational",
        "transparency log evidence is present but was not checked (no trusted root, or no key to check the signature)";
    TrustedRootUnusable = "trusted-root-unusable", "invalid",
        "no Sigstore trusted root could judge the bundle";
    // Time.
    TimestampVerified = "timestamp-verified", "informational",
        "a timestamp verified and its authority is trusted: it dates the signature";
    TimestampUntrusted = "timestamp-untrusted", "untrusted",
        "a timestamp whose authority does not chain to a timestamp anchor: it does not date the signature";
    TimestampInvalid = "timestamp-invalid", "invalid",
        "a timestamp (countersignature, token, annotation) that does not verify, is malformed, or covers something else; for files it is ignored";
    TimestampMissing = "timestamp-missing", "invalid",
        "the notation trust policy requires an authentic timestamp (or signing time) and there is none";
    TimestampNotChecked = "timestamp-not-checked", "informational",
        "an RFC 3161 timestamp annotation is present but was not checked (no timestamp authority in the trusted roots)";
    TimestampOutsideValidity = "timestamp-outside-validity", "invalid",
        "a verified signing time lies outside the signing certificate's validity";
    CertExpiredNoTimestamp = "cert-expired-no-timestamp", "invalid",
        "the signing certificate has expired and no trusted timestamp proves earlier signing";
    CertExpiredTimestampUntrusted = "cert-expired-timestamp-untrusted", "untrusted",
        "the signing certificate has expired; a timestamp would prove signing within its validity, but its authority is not trusted";
    CertExpiredTimestamped = "cert-expired-timestamped", "informational",
        "the signing certificate has expired, but a trusted timestamp proves signing within its validity";
    SignatureExpired = "signature-expired", "invalid",
        "the Notary signature's expiry has passed";
    RevocationNotChecked = "revocation-not-checked", "informational",
        "the notation trust policy asks for revocation checks, and no revocation source (`--crl`, `--revocation online`) was given";
    CertRevoked = "cert-revoked", "invalid",
        "a certificate of the signer's path is revoked by an authentic CRL of its issuer: before the time the signature is judged at, or for a key compromise whenever";
    RevokedAfterSigning = "revoked-after-signing", "informational",
        "a certificate of the path was revoked after the verified signing time, for a reason other than a key compromise: the signature stands";
    ExpiringSoon = "expiring-soon", "informational",
        "`--warn-expiring`: the signature verifies now but will stop within that time (a signing certificate or CA, or a key's window, ends with no verified signing time to date it; a Notary signature's expiry)";
    KeyRevoked = "key-revoked", "untrusted",
        "the key that verified the signature is revoked (config `[[keys]]` `revoked`, or `--revoked-key`): `invalid` for keyCompromise, whenever; else `untrusted` unless a verified signing time predates the revocation";
    KeyOutsideWindow = "key-outside-window", "untrusted",
        "the signature's verified signing time (else the evaluation time) lies outside the key's `not-before`/`not-after` window";
    RevocationGood = "revocation-good", "informational",
        "a current, authentic CRL of the certificate's issuer does not list it, or (`--revocation online`) an authorised OCSP responder answers good";
    RevocationUnknown = "revocation-unknown", "informational",
        "revocation was checked, but no source settles it (no authentic current CRL of the certificate's issuer: none, expired, refused, or signed by another key; online: responders and distribution points unreachable, unauthorised, answering unknown, or none named); the verdict stands unless `--revocation require` (then `untrusted`)";
    // notation trust policy.
    NotationNoStatement = "notation-no-statement", "untrusted",
        "no statement of the notation trust policy applies to the repository";
    NotationLevelSkip = "notation-level-skip", "untrusted",
        "the notation trust policy statement has level skip: nothing verified";
    NotationNotInTrustStore = "notation-not-in-trust-store", "untrusted",
        "the certificate chain holds no certificate of the statement's trust stores";
    PluginChecksNotRun = "plugin-checks-not-run", "untrusted",
        "the envelope names a Notary verification plugin (AWS Signer's, …) whose checks were not run: its revocation check (and, without a trust policy, its trusted-identity check); notation fails such a signature when the plugin is not installed";
    // Signed files.
    SelfSigned = "self-signed", "informational",
        "the signing certificate is self-signed";
    ImageHashMismatch = "image-hash-mismatch", "invalid",
        "the PE image hash differs from the signed one: the file was modified after signing";
    ContentHashMismatch = "content-hash-mismatch", "invalid",
        "the Authenticode hash of an MSI (its streams, or the MsiDigitalSignatureEx metadata pre-hash), a cabinet or a script's text differs from the signed one: the file was modified after signing";
    SignedFileMalformed = "signed-file-malformed", "invalid",
        "an MSI compound file, a cabinet or a catalog that cannot be read as its format requires (a broken or looping sector chain, a signature that does not end the cabinet)";
    CatalogSigned = "catalog-signed", "informational",
        "the file carries no signature of its own; its hash is listed in a signed catalog, whose signature is judged";
    MessageDigestMismatch = "message-digest-mismatch", "invalid",
        "the CMS messageDigest attribute does not match the signed content";
    ContentTypeMismatch = "content-type-mismatch", "invalid",
        "the CMS contentType signed attribute is missing or is not the signed content's type";
    WeakMd5 = "weak-md5", "invalid",
        "an MD5 digest, which is broken, is not accepted";
    WeakSha1 = "weak-sha1", "invalid",
        "a SHA-1 digest: a JAR without a trusted timestamp before 2019 is invalid (as the JDK treats it); a PE signature is noted, never outranking SHA-2";
    WeakSha1Timestamped = "weak-sha1-timestamped", "informational",
        "a SHA-1 JAR signature accepted as the JDK does: a trusted timestamp dates it before 2019";
    LegacyRsaNoDigestinfo = "legacy-rsa-no-digestinfo", "informational",
        "a legacy RSA signature without the DigestInfo prefix";
    PeMalformed = "pe-malformed", "invalid",
        "the PE file or its certificate table is not well formed (outside the file, over section data, unaligned)";
    JarMalformed = "jar-malformed", "invalid",
        "the archive or its signature files cannot be read: unreadable, too many entries, no manifest, no signature block, an entry that inflates beyond the limits";
    JarAmbiguous = "jar-ambiguous", "invalid",
        "entries, manifests or sections whose names a reader could resolve more than one way; an archive whose central directory differs between the JDK/apksig rule and other ZIP readers (a hidden end record), or a signed archive with no end record whose comment reaches EOF";
    JarEntryMissing = "jar-entry-missing", "invalid",
        "the manifest lists an entry the archive lacks, or the .SF signs a section the manifest lacks";
    JarEntryModified = "jar-entry-modified", "invalid",
        "an entry's digest does not match the manifest: it was modified after signing";
    JarManifestModified = "jar-manifest-modified", "invalid",
        "the manifest's main attributes or a section were modified after signing";
    JarUnsignedEntry = "jar-unsigned-entry", "invalid",
        "an entry that the signature does not cover";
    JarNoDigest = "jar-no-digest", "invalid",
        "the .SF has no digest accepted here for a manifest section";
    ApkV2Stripped = "apk-v2-stripped", "invalid",
        "the .SF says the APK is signed with scheme v2/v3, but its signing block is gone: stripped";
    ApkBlockMalformed = "apk-block-malformed", "invalid",
        "the APK Signing Block or a v2/v3 signer in it cannot be read: sizes that differ or do not fit, truncated length-prefixed records, no signers, more than 10 signers or more than 10 digests, certificates or signatures in a signer";
    ApkDigestMismatch = "apk-digest-mismatch", "invalid",
        "an APK v2/v3 content digest does not match: the entries, the central directory or the end record were modified after signing";
    ApkSignerMismatch = "apk-signer-mismatch", "invalid",
        "an APK signer contradicts itself or the other schemes: the public key is not its certificate's, the digests and signatures name different algorithms, the v3 SDK ranges differ or overlap, or the v1/v2/v3 signers are not the same (or in the v3 lineage)";
    ApkSdkUncovered = "apk-sdk-uncovered", "invalid",
        "the APK's v3/v3.1 signers leave an SDK from 28 (Android 9) upward uncovered (apksig V3_MISSING_SDK_VERSIONS): those platforms refuse the APK";
    ApkSignerUntrusted = "apk-signer-untrusted", "untrusted",
        "this APK signature holds and is trusted, but a v3/v3.1 signer of the APK for another SDK range is not: on those platforms the APK is that signer's";
    ApkV3Stripped = "apk-v3-stripped", "invalid",
        "the v2 signature's stripping-protection attribute says the APK is signed with scheme v3, or a v3.1 block is there, but no v3 signature is in it: stripped; or the v3 signer's rotation-min-SDK attribute announces a v3.1 block that is missing";
    ApkLineageInvalid = "apk-lineage-invalid", "invalid",
        "the APK v3 proof-of-rotation lineage does not hold: a signature between certificates fails, an algorithm differs from the one announced, a certificate repeats, or it does not end with the signer";
    ApkSchemeFailed = "apk-scheme-failed", "invalid",
        "this APK signature holds, but another signature scheme of the same APK fails: apksigner and Android refuse the APK";
    ApkSchemeUnchecked = "apk-scheme-unchecked", "unsupported",
        "this APK signature holds, but another signature scheme of the same APK is not checked here (an algorithm or digest not handled)";
    KmodMalformed = "kmod-malformed", "invalid",
        "a kernel module's appended signature cannot be read as the kernel reads it: truncated trailer, id_type not PKCS#7, non-zero parameter fields, a sig_len beyond the file or leaving no module content, attached content, signed attributes (refused by the kernel), or another SignerInfo of the module failing";
    KmodSignerUnknown = "kmod-signer-unknown", "unverified",
        "a kernel module's signer (issuer and serial, or key id) is not among the certificates given (--ca-roots) and the signature carries none: its bytes were not checked";
}

impl ReasonCode {
    /// The code named `s`, if it is one.
    pub fn parse(s: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }

    /// A reason with this code.
    pub fn reason(self, text: impl Into<String>) -> Reason {
        Reason { code: self, text: text.into() }
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason of a verdict: its stable code and its human-readable line. It reads as its text
/// (`Deref<Target = str>`), so `reason.contains(…)` looks at the prose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub code: ReasonCode,
    pub text: String,
}

impl Reason {
    pub fn new(code: ReasonCode, text: impl Into<String>) -> Reason {
        Reason { code, text: text.into() }
    }

    /// The same code with the text prefixed (`"{prefix}{text}"`).
    pub fn prefixed(self, prefix: &str) -> Reason {
        Reason { code: self.code, text: format!("{prefix}{}", self.text) }
    }
}

impl std::ops::Deref for Reason {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_kebab_case_and_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for c in ReasonCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                !s.is_empty()
                    && s.split('-')
                        .all(|w| !w.is_empty() && w.chars().all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit())),
                "{s} is not kebab-case"
            );
            assert_eq!(ReasonCode::parse(s), Some(*c));
            assert!(!c.meaning().is_empty() && !c.meaning().contains('|'), "{s}: meaning must fit a table cell");
            assert!(
                ["verified", "untrusted", "unverified", "invalid", "unsupported", "error", "informational"]
                    .contains(&c.typical_verdict()),
                "{s}"
            );
        }
        assert_eq!(ReasonCode::parse("no-such-code"), None);
    }
}
