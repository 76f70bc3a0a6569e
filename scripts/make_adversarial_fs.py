#!/usr/bin/env python3
"""Adversarial signed files (issue 10, classes 1, 2, 6, 7, 9, 10 as they reach files), each made by
an independent tool and judged by one, with expected.json recording per file: our expected
status, a phrase our reasons must contain, the independent tools' verdicts, and why we differ
where we do. Run through scripts/make_adversarial_fs.sh OUT_DIR (tests/adversarial_files.rs does,
into a temporary directory). Deterministic but for the fresh keys and the clock.

Tools: Python `cryptography` (certificates, CMS and timestamp tokens, DER edits: advfs_lib.py),
osslsigncode (PE signing, nesting, -ts/-t timestamps), openssl (a TSA through tsa_server.py,
`verify -x509_strict`, `cms -verify`), keytool/jarsigner/jar (JARs), Python zipfile (names),
byte edits (PE layout). sigaudit itself is never used here.

The trust anchor for every check is pki/root.crt (our `--ca-roots`, osslsigncode's -CAfile and
-TSA-CAfile, jarsigner's truststore pki/trust.p12). pki/other-root.crt is a root nobody trusts."""
import base64
import datetime
import hashlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import time
import warnings
import zipfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from advfs_lib import (  # noqa: E402
    ECDSA_SHA256, ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNING_TIME, ID_TST_INFO, MD5_RSA, Node, alg,
    attribute, cert_der, der_set, octets, oid, seq, signed_data, signer_info, tlv, utctime,
)

OUT = os.path.abspath(sys.argv[1])
CORPUS = os.environ.get("SIGAUDIT_CORPUS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata")
NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
DAY = datetime.timedelta(days=1)
YEAR = 365 * DAY
PKI = os.path.join(OUT, "pki")
PASS = "changeit"
NESTED_SIGNATURE = "1.3.6.1.4.1.311.2.4.1"
RFC3161_COUNTERSIGNATURE = "1.3.6.1.4.1.311.3.3.1"
CASES = {}
# What a build of 4194fab (before the lead's fixes for issue 10) made of each fixture, found with
# scripts/check_adversarial_fs.py: "status" = the wrong status (the suite catches that
# regression), "reason" = the right status for another reason, "passes" = already right.
BEFORE_FIX = {
    "status": [
        "jar/cms-contenttype-mismatch.jar", "jar/names-duplicate-entry.jar", "jar/names-manifest-case-variant-after.jar",
        "jar/names-sf-case-variant.jar", "jar/ts-other-root-expired-signer.jar", "jar/weak-md5-digests.jar",
        "jar/weak-section-sha1-right-sha256-wrong.jar", "jar/weak-section-sha256-right-sha1-wrong.jar",
        "jar/weak-sha1-no-timestamp.jar", "jar/weak-sha1-trusted-ts-now.jar", "jar/weak-sha1-untrusted-ts-2018.jar",
        "pe/cms-contenttype-not-indirect-data.exe", "pe/layout-table-before-last-section.exe",
        "pe/layout-table-misaligned.exe", "pe/layout-table-over-last-section.exe",
        "pe/pki-backtrack-same-key-dead-end.exe", "pe/pki-ca-without-keycertsign.exe",
        "pe/pki-ecdsa-oid-over-rsa-signature.exe", "pe/pki-intermediate-eku-excludes-codesigning.exe",
        "pe/pki-issuer-end-entity.exe", "pe/pki-issuer-no-basic-constraints.exe", "pe/pki-issuer-tls-server.exe",
        "pe/pki-pathlen-exceeded.exe", "pe/ts-corrupted-pkcs9-countersignature.exe", "pe/ts-corrupted-rfc3161-token.exe",
        "pe/ts-no-eku-expired-signer.exe",
        "pe/ts-other-root-expired-signer.exe", "pe/ts-pkcs9-no-eku-expired-signer.exe",
        "pe/ts-untrusted-does-not-set-time.exe", "pe/weak-md5-image-hash.exe",
        "pe/weak-sha1-outranks-invalid-sha256.exe", "pe/weak-sha1-outranks-untrusted-sha256.exe",
        "pe/layout-section-97-inside-table.exe", "jar/weak-entry-digest-sha3-only-modified.jar",
        "jar/weak-entry-digest-name-case-modified.jar",
    ],
    "reason": [
        "jar/control-sha1-trusted-ts-2018.jar", "jar/names-manifest-case-variant.jar",
        "pe/control-expired-signer-trusted-ts.exe", "pe/ts-other-root-valid-signer.exe",
        "pe/ts-eku-not-critical-expired-signer.exe",
    ],
}
TSAS = {}
EXPIRED = []


def run(*cmd, ok=True, **kw):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    if ok and p.returncode != 0:
        sys.exit(f"make_adversarial_fs: {' '.join(map(str, cmd))} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


# --- PKI ---------------------------------------------------------------------------------------
class Id:
    """A certificate (DER, possibly edited after signing) and its key, written to pki/STEM.{crt,key}."""

    def __init__(self, stem, der, key):
        self.stem, self.der, self.key = stem, der, key
        self.crt = os.path.join(PKI, stem + ".crt")
        self.keyfile = os.path.join(PKI, stem + ".key")
        open(self.crt, "w").write(pem(der))
        open(self.keyfile, "wb").write(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        )

    @property
    def cert(self):
        return x509.load_der_x509_certificate(self.der)


def pem(der):
    b = base64.encodebytes(der).decode()
    return "-----BEGIN CERTIFICATE-----\n" + b + "-----END CERTIFICATE-----\n"


KEYS = []


def new_key():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    KEYS.append(k)
    return k


def name(cn):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "GB"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit adversarial"),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


KU_NAMES = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment", "key_agreement",
            "key_cert_sign", "crl_sign")
SERIAL = [0x5A000]


def make(stem, cn, issuer=None, key=None, ca=None, pathlen=None, ku=(), eku=None, eku_critical=False,
         nb=None, na=None, sans=None, hash_alg=None):
    """A certificate; `issuer` None makes it self-signed. `ca` None leaves basicConstraints out."""
    key = key or new_key()
    SERIAL[0] += 1
    b = (x509.CertificateBuilder()
         .subject_name(name(cn))
         .issuer_name(issuer.cert.subject if issuer else name(cn))
         .public_key(key.public_key())
         .serial_number(SERIAL[0])
         .not_valid_before(nb or NOW - YEAR)
         .not_valid_after(na or NOW + YEAR))
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen if ca else None), critical=True)
    if ku:
        flags = {k: (k in ku) for k in KU_NAMES}
        b = b.add_extension(x509.KeyUsage(**flags, encipher_only=False, decipher_only=False), critical=True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=eku_critical)
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    signing_key = issuer.key if issuer else key
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()), critical=False)
    cert = b.sign(signing_key, hash_alg or hashes.SHA256())
    return Id(stem, cert_der(cert), key)


def resign(ident, stem, issuer_key, sig_alg_der, hash_alg):
    """The certificate with its signatureAlgorithm (TBS and outer) replaced by `sig_alg_der` and
    re-signed by `issuer_key` with RSA PKCS#1 v1.5 over `hash_alg`: a DER edit, as an attacker
    would make it."""
    c = Node.parse(ident.der)
    tbs = c[0]
    i = 1 if tbs[0].tag == 0xA0 else 0
    tbs.children[i + 1] = Node.parse(sig_alg_der)
    c.children[1] = Node.parse(sig_alg_der)
    sig = issuer_key.sign(tbs.der(), padding.PKCS1v15(), hash_alg)
    c.children[2] = Node(0x03, b"\x00" + sig)
    return Id(stem, c.der(), ident.key)


CS, SA, TS = ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.TIME_STAMPING
CA_KU = ("key_cert_sign", "crl_sign")
LEAF_KU = ("digital_signature",)


def chain_file(stem, *ids):
    path = os.path.join(PKI, stem + ".pem")
    open(path, "w").write("".join(pem(i.der) for i in ids))
    return path


# --- tools' verdicts ---------------------------------------------------------------------------
def summary(p):
    lines = [ln.strip() for ln in (p.stdout + "\n" + p.stderr).splitlines() if ln.strip()]
    keep = [ln for ln in lines if any(w in ln.lower() for w in (
        "fail", "error", "succeeded", "verified", "unsigned", "mismatch", "invalid", "warning", "not ",
        "expired", "exception", "digest error")) and "message digest" not in ln.lower()]
    return " | ".join(dict.fromkeys(keep))[:600]


def osslsigncode_verify(path):
    cmd = ["osslsigncode", "verify", "-CAfile", "pki/root.crt", "-TSA-CAfile", "pki/root.crt", "-ignore-crl",
           "-in", path]
    p = run(*cmd, ok=False, cwd=OUT)
    return {"tool": "osslsigncode verify", "cmd": " ".join(cmd), "rc": p.returncode,
            "verdict": "accepts" if p.returncode == 0 else "refuses", "output": summary(p)}


def openssl_verify(leaf, chain, purpose="any", attime=None):
    """`openssl verify -x509_strict` of the certificate chain alone (OpenSSL 3.0 has no code-signing
    purpose, so code signers are checked with -purpose any: CA rules, not the leaf's EKU)."""
    cmd = ["openssl", "verify", "-x509_strict", "-purpose", purpose, "-CAfile", "pki/root.crt"]
    if chain:
        cmd += ["-untrusted", os.path.relpath(chain_file(os.path.basename(leaf.stem) + ".untrusted", *chain), OUT)]
    if attime:
        cmd += ["-attime", str(int(attime.timestamp()))]
    cmd.append(os.path.relpath(leaf.crt, OUT))
    p = run(*cmd, ok=False, cwd=OUT)
    return {"tool": "openssl verify", "cmd": " ".join(cmd), "rc": p.returncode,
            "verdict": "accepts" if p.returncode == 0 else "refuses", "output": summary(p)}


def jarsigner_verify(path):
    cmd = ["jarsigner", "-verify", "-strict", "-keystore", "pki/trust.p12", "-storetype", "PKCS12", "-storepass", PASS,
           path]
    p = run(*cmd, ok=False, cwd=OUT)
    accepted = p.returncode == 0 and "jar verified." in p.stdout
    return {"tool": "jarsigner -verify -strict", "cmd": " ".join(cmd), "rc": p.returncode,
            "verdict": "accepts" if accepted else "refuses", "output": summary(p)}


def openssl_cms_verify(jar, sf, block):
    d = os.path.join(OUT, "cms", os.path.basename(jar))
    os.makedirs(d, exist_ok=True)
    with zipfile.ZipFile(os.path.join(OUT, jar)) as z:
        open(os.path.join(d, "sf"), "wb").write(z.read(sf))
        open(os.path.join(d, "block"), "wb").write(z.read(block))
    rel = os.path.relpath(d, OUT)
    cmd = ["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", f"{rel}/block", "-content", f"{rel}/sf",
           "-CAfile", "pki/root.crt", "-purpose", "any", "-out", "/dev/null"]
    p = run(*cmd, ok=False, cwd=OUT)
    return {"tool": "openssl cms -verify", "cmd": " ".join(cmd), "rc": p.returncode,
            "verdict": "accepts" if p.returncode == 0 else "refuses", "output": summary(p)}


def case(path, cls, rule, made, status, reason, tools, expect, differs=None):
    """Record a fixture. `expect` is the reference tool's verdict as we know it; a tool saying
    otherwise means the fixture is not what it claims, and generation stops."""
    ref = tools[0]
    if ref["verdict"] != expect:
        sys.exit(f"make_adversarial_fs: {path}: {ref['tool']} {ref['verdict']}, expected it to {expect}:\n"
                 f"{ref['cmd']}\n{ref['output']}")
    agrees = (status == "verified") == (expect == "accepts")
    if not agrees and not differs:
        sys.exit(f"make_adversarial_fs: {path}: we say {status}, {ref['tool']} {expect}, and no reason is given")
    before = next((k for k, v in BEFORE_FIX.items() if path in v), "passes")
    CASES[path] = {"before_fix": before, "class": cls, "rule": rule, "made": made, "status": status, "reason": reason,
                   "independent": expect, "tools": tools, "differs": differs if not agrees else None}


# --- PE helpers --------------------------------------------------------------------------------
def pe_secdir(b):
    e = struct.unpack_from("<I", b, 0x3C)[0]
    magic = struct.unpack_from("<H", b, e + 24)[0]
    return e + 24 + (128 if magic == 0x10B else 144)


def pe_table(b):
    d = pe_secdir(b)
    return struct.unpack_from("<II", b, d)


def set_table(b, off, size):
    b = bytearray(b)
    struct.pack_into("<II", b, pe_secdir(b), off, size)
    return bytes(b)


def last_section(b):
    """(header offset, PointerToRawData, SizeOfRawData) of the section whose raw data ends last."""
    e = struct.unpack_from("<I", b, 0x3C)[0]
    n = struct.unpack_from("<H", b, e + 6)[0]
    t = e + 24 + struct.unpack_from("<H", b, e + 20)[0]
    secs = []
    for i in range(n):
        size, ptr = struct.unpack_from("<II", b, t + 40 * i + 16)
        if size:
            secs.append((t + 40 * i, ptr, size))
    return max(secs, key=lambda s: s[1] + s[2])


def pe_pkcs7(b):
    off, size = pe_table(b)
    length = struct.unpack_from("<I", b, off)[0]
    body = b[off + 8 : off + length]
    from advfs_lib import read
    end = read(body)[2]
    return body[:end]


def replace_pkcs7(b, p7):
    """`b` with its (last, only) certificate table holding `p7` instead."""
    off, _ = pe_table(b)
    length = 8 + len(p7)
    padded = p7 + b"\0" * ((-length) % 8)
    entry = struct.pack("<IHH", length, 0x0200, 2) + padded
    return set_table(b[:off] + entry, off, len(entry))


def signer_infos(p7node):
    sd = p7node[1][0]
    return sd.children[-1]


def unsigned_attrs(si):
    for c in si.children:
        if c.tag == 0xA1:
            return c
    u = Node(0xA1, children=[])
    si.children.append(u)
    return u


def osslsign(ident, chain, inp, out, hash_name="sha256", extra=()):
    certs = chain_file(ident.stem + ".signchain", ident, *chain)
    run("osslsigncode", "sign", "-certs", certs, "-key", ident.keyfile, "-h", hash_name, *extra,
        "-in", inp, "-out", out)


# --- servers: the openssl TSA (tsa_server.py) and the forging TSA (tsa_forge.py) ----------------
def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def serve(script, d):
    port = free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, script), str(port), d],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    sys.exit(f"make_adversarial_fs: {script} did not start")


def main():
    for t in ("openssl", "osslsigncode", "jarsigner", "keytool", "jar"):
        if not shutil.which(t):
            sys.exit(f"make_adversarial_fs: {t} is missing (./scripts/setup.sh installs it)")
    os.makedirs(PKI, exist_ok=True)
    for d in ("pe", "jar"):
        os.makedirs(os.path.join(OUT, d), exist_ok=True)

    # The trusted PKI: root -> "Adversarial Code CA" -> publishers; TSAs under the root.
    root = make("root", "Adversarial Root", ca=True, ku=CA_KU, nb=NOW - 12 * YEAR, na=NOW + 10 * YEAR)
    ca = make("ca", "Adversarial Code CA", root, ca=True, ku=CA_KU, nb=NOW - 10 * YEAR, na=NOW + 8 * YEAR)
    leaf = make("leaf", "Good Publisher", ca, ku=LEAF_KU, eku=[CS], nb=NOW - 9 * YEAR, na=NOW + YEAR)
    other_root = make("other-root", "Other Root", ca=True, ku=CA_KU, nb=NOW - 12 * YEAR, na=NOW + 10 * YEAR)
    servers = []
    try:
        forge_dir = os.path.join(PKI, "forge")
        os.makedirs(forge_dir)

        def tsa(stem, cn, issuer, eku, critical):
            t = make(stem, cn, issuer, ku=LEAF_KU, eku=eku, eku_critical=critical, nb=NOW - 10 * YEAR,
                     na=NOW + 5 * YEAR)
            shutil.copy(t.crt, os.path.join(forge_dir, stem + ".crt"))
            shutil.copy(t.keyfile, os.path.join(forge_dir, stem + ".key"))
            open(os.path.join(forge_dir, stem + ".chain.pem"), "w").write(pem(issuer.der))
            TSAS[stem] = t
            return t

        tsa_good = tsa("tsa-good", "Good TSA", root, [TS], True)
        tsa("tsa-no-eku", "TSA Without EKU", root, None, False)
        tsa("tsa-eku-not-critical", "TSA With A Non-critical EKU", root, [TS], False)
        tsa("tsa-other-root", "TSA Of Another Root", other_root, [TS], True)
        # openssl's own TSA (tsa_server.py) for the plain good case.
        ossl = os.path.join(PKI, "openssl-tsa")
        os.makedirs(ossl)
        shutil.copy(tsa_good.crt, os.path.join(ossl, "tsa.crt"))
        shutil.copy(tsa_good.keyfile, os.path.join(ossl, "tsa.key"))
        shutil.copy(root.crt, os.path.join(ossl, "root.crt"))
        open(os.path.join(ossl, "tsaserial"), "w").write("01\n")
        open(os.path.join(ossl, "tsa.cnf"), "w").write(
            "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\n"
            f"serial = {ossl}/tsaserial\ncrypto_device = builtin\ndefault_policy = 1.2.3.4.1\n"
            "signer_digest = sha256\ndigests = sha256, sha384, sha512, sha1\naccuracy = secs:1\nordering = yes\n"
            "tsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n")
        p1, openssl_tsa = serve("tsa_server.py", ossl)
        p2, forge = serve("tsa_forge.py", forge_dir)
        servers += [p1, p2]
        pe_cases(root, ca, leaf, other_root, openssl_tsa, forge)
        jar_cases(root, ca, leaf, other_root, forge)
    finally:
        for p in servers:
            p.kill()
            p.wait()
    json.dump(CASES, open(os.path.join(OUT, "expected.json"), "w"), indent=1, sort_keys=True)
    print(f"make_adversarial_fs: {len(CASES)} fixtures in {OUT}", file=sys.stderr)


# --- PE ----------------------------------------------------------------------------------------
def pe_cases(root, ca, leaf, other_root, openssl_tsa, forge):
    unsigned = os.path.join(OUT, "pe", "unsigned.input")
    shutil.copy(os.path.join(CORPUS, "fs-suite/pe/unsigned-hello.exe"), unsigned)
    P = lambda n: os.path.join(OUT, "pe", n)  # noqa: E731
    R = lambda n: "pe/" + n  # noqa: E731

    def signed(n, ident, chain, **kw):
        osslsign(ident, chain, unsigned, P(n), **kw)
        return R(n)

    # Controls: a sound chain, and an expired signer dated by a trusted timestamp.
    f = signed("control-good.exe", leaf, [ca], extra=("-ts", openssl_tsa))
    case(f, 0, "control: a sound chain with an openssl TSA timestamp", "osslsigncode sign -ts (tsa_server.py)",
         "verified", "signer chains to trust anchor", [osslsigncode_verify(f)], "accepts")
    expired = make("leaf-expired", "Expired Publisher", ca, ku=LEAF_KU, eku=[CS], nb=NOW - 3 * YEAR,
                   na=NOW - 2 * YEAR)
    EXPIRED.append(expired)
    when = int((NOW - 30 * 30 * DAY).timestamp())
    f = signed("control-expired-signer-trusted-ts.exe", expired, [ca], extra=("-ts", f"{forge}/tsa-good/{when}"))
    case(f, 0, "control: an expired signer with a trusted timestamp inside its validity",
         "osslsigncode sign -ts (tsa_forge.py, Good TSA, back-dated)", "verified",
         "the trusted timestamp", [osslsigncode_verify(f)], "accepts")

    # --- class 1: certification paths ---
    def pki_case(n, rule, issuers, leaf_id, status, reason, expect, differs=None, ossl_expect=None, made=""):
        f = signed(n, leaf_id, issuers)
        tools = [osslsigncode_verify(f), openssl_verify(leaf_id, issuers)]
        case(f, 1, rule, made or "Python cryptography certificates, osslsigncode sign", status, reason, tools,
             expect, differs)
        if ossl_expect and tools[1]["verdict"] != ossl_expect:
            sys.exit(f"make_adversarial_fs: {f}: openssl verify {tools[1]['verdict']}, expected {ossl_expect}")

    ee = make("issuer-end-entity", "End Entity Issuer", root, ca=False, ku=LEAF_KU, eku=[CS])
    pki_case("pki-issuer-end-entity.exe", "an end-entity certificate (cA FALSE) cannot issue",
             [ee], make("leaf-under-ee", "Publisher Under An End Entity", ee, ku=LEAF_KU, eku=[CS]),
             "untrusted", "not a CA", "refuses")
    tls = make("issuer-tls-server", "www.example.test", root, ca=False, ku=("digital_signature", "key_encipherment"),
               eku=[SA], sans=["www.example.test"])
    pki_case("pki-issuer-tls-server.exe", "a TLS server certificate cannot issue",
             [tls], make("leaf-under-tls", "Publisher Under A TLS Server", tls, ku=LEAF_KU, eku=[CS]),
             "untrusted", "not a CA", "refuses")
    nobc = make("issuer-no-basic-constraints", "CA Without basicConstraints", root, ca=None, ku=CA_KU)
    pki_case("pki-issuer-no-basic-constraints.exe", "an issuer without basicConstraints is not a CA (RFC 5280 6.1.4(k))",
             [nobc], make("leaf-under-nobc", "Publisher Under A CA Without basicConstraints", nobc, ku=LEAF_KU,
                          eku=[CS]),
             "untrusted", "without basicConstraints", "refuses", ossl_expect="refuses")
    nokcs = make("issuer-no-keycertsign", "CA Without keyCertSign", root, ca=True, ku=("digital_signature", "crl_sign"))
    pki_case("pki-ca-without-keycertsign.exe", "a CA whose keyUsage lacks keyCertSign cannot issue",
             [nokcs], make("leaf-under-nokcs", "Publisher Under A CA Without keyCertSign", nokcs, ku=LEAF_KU,
                           eku=[CS]),
             "untrusted", "lacks keyCertSign", "refuses")
    ca0 = make("ca-pathlen0", "CA With pathLen 0", root, ca=True, pathlen=0, ku=CA_KU)
    ca_below = make("ca-below-pathlen0", "CA Below pathLen 0", ca0, ca=True, ku=CA_KU)
    pki_case("pki-pathlen-exceeded.exe", "pathLenConstraint 0 forbids a CA below it",
             [ca_below, ca0], make("leaf-under-pathlen", "Publisher Under Too Deep A Path", ca_below, ku=LEAF_KU,
                                   eku=[CS]),
             "untrusted", "pathLenConstraint 0 exceeded", "refuses")
    ca_tls = make("ca-eku-server-auth", "CA For TLS Only", root, ca=True, ku=CA_KU, eku=[SA])
    pki_case("pki-intermediate-eku-excludes-codesigning.exe",
             "an intermediate whose EKU excludes codeSigning constrains the chain (EKU nesting)",
             [ca_tls], make("leaf-under-tls-ca", "Publisher Under A TLS CA", ca_tls, ku=LEAF_KU, eku=[CS]),
             "untrusted", "does not allow code signing", "accepts",
             differs="neither osslsigncode nor OpenSSL 3.0 (no code-signing purpose) nests EKUs; Windows "
                     "CryptoAPI and the CA/Browser Forum code-signing requirements do, and so does the issue's rule")
    pki_case("pki-leaf-tls-eku.exe", "the signer needs the codeSigning EKU",
             [ca], make("leaf-tls-eku", "Publisher With serverAuth Only", ca, ku=LEAF_KU, eku=[SA]),
             "untrusted", "does not allow code signing", "refuses")
    # An ECDSA signature algorithm over an RSA signature: a DER edit, re-signed by the CA's RSA key.
    honest = make("leaf-ecdsa-oid-honest", "Publisher With An ECDSA OID", ca, ku=LEAF_KU, eku=[CS])
    lying = resign(honest, "leaf-ecdsa-oid-over-rsa", ca.key, seq(oid(ECDSA_SHA256)), hashes.SHA256())
    pki_case("pki-ecdsa-oid-over-rsa-signature.exe",
             "the signature algorithm the certificate names (ecdsa-with-SHA256) is the one that must verify it",
             [ca], lying, "untrusted", "does not fit", "refuses",
             made="Python: the signer certificate's signatureAlgorithm edited to ecdsa-with-SHA256 (TBS and outer), "
                  "re-signed with the CA's RSA key (PKCS#1 v1.5 SHA-256); osslsigncode sign")
    md5 = resign(make("leaf-md5-honest", "Publisher Signed With MD5", ca, ku=LEAF_KU, eku=[CS]), "leaf-md5-cert", ca.key,
                 alg(MD5_RSA), hashes.MD5())
    pki_case("weak-md5-certificate-signature.exe", "an MD5 certificate signature never verifies (class 9)",
             [ca], md5, "untrusted", "MD5", "accepts", ossl_expect="accepts",
             differs="osslsigncode and openssl verify -x509_strict (OpenSSL 3.0, recorded) still accept an "
                     "md5WithRSAEncryption certificate signature; MD5 collisions have forged certificates before (the "
                     "2008 rogue CA, Flame), so the issue's rule never verifies one",
             made="Python: the signer certificate re-signed md5WithRSAEncryption by the CA; osslsigncode sign")
    CASES["pe/weak-md5-certificate-signature.exe"]["class"] = 9

    # Backtracking: several issuers named "Adversarial Code CA"; only the last is right.
    wrong_key = make("ca-same-name-other-key", "Adversarial Code CA", root, ca=True, ku=CA_KU)
    pki_case("pki-backtrack-same-name-other-key.exe",
             "of two issuers with the same name the first has another key: path building tries the second",
             [wrong_key, ca], leaf, "verified", "signer chains to trust anchor", "accepts")
    dead_end = make("ca-same-key-other-root", "Adversarial Code CA", other_root, key=ca.key, ca=True, ku=CA_KU)
    pki_case("pki-backtrack-same-key-dead-end.exe",
             "the first issuer (same name and key) chains to an unknown root: path building backtracks to the "
             "second, which chains to the anchor",
             [dead_end, ca], leaf, "verified", "signer chains to trust anchor", "refuses",
             differs="OpenSSL (osslsigncode, openssl verify) takes the first issuer whose name and key identifier "
                     "match and never backtracks; a valid path exists (RFC 4158 path building, as Windows and Go "
                     "find it), so verified is right: nothing in it is forged")
    expired_first = make("ca-same-key-expired", "Adversarial Code CA", root, key=ca.key, ca=True, ku=CA_KU,
                         nb=NOW - 10 * YEAR, na=NOW - 2 * YEAR)
    pki_case("pki-backtrack-same-key-expired-first.exe",
             "the first issuer (same name and key) has expired: path building takes the second",
             [expired_first, ca], leaf, "verified", "signer chains to trust anchor", "accepts")

    # --- class 2: timestamps ---
    def ts_case(n, rule, ident, chain, url, status, reason, expect, differs=None, tsa=None, flag="-ts"):
        f = signed(n, ident, chain, extra=(flag, url))
        tools = [osslsigncode_verify(f)]
        if tsa:
            tools.append(openssl_verify(tsa[0], tsa[1], purpose="timestampsign", attime=tsa[2]))
        case(f, 2, rule, f"osslsigncode sign {flag} (tsa_forge.py: {url.rsplit('/', 2)[-2]})", status, reason, tools,
             expect, differs)

    tsa_id = TSAS.get
    when_dt = datetime.datetime.fromtimestamp(when, datetime.timezone.utc)
    ts_case("ts-no-eku-expired-signer.exe",
            "a TSA without the timeStamping EKU does not count: it cannot excuse an expired signer",
            expired, [ca], f"{forge}/tsa-no-eku/{when}", "untrusted", "no extendedKeyUsage", "accepts",
            differs="osslsigncode checks neither the TSA's EKU nor RFC 3161 2.3; openssl verify -purpose "
                    "timestampsign (recorded) refuses the TSA certificate, and so do we",
            tsa=(tsa_id("tsa-no-eku"), [], when_dt))
    ts_case("ts-eku-not-critical-expired-signer.exe",
            "a TSA whose timeStamping EKU is exactly timeStamping but not critical counts, as in Go's verifier",
            expired, [ca], f"{forge}/tsa-eku-not-critical/{when}", "verified", "its authority chains to", "accepts",
            differs="openssl verify -purpose timestampsign (recorded) requires the EKU critical, as RFC 3161 2.3 "
                    "asks; we accept it non-critical, as Go's crypto/x509 (sigstore-go, notation) and osslsigncode "
                    "do, because a real timestamp authority (GitHub's) marks it non-critical",
            tsa=(tsa_id("tsa-eku-not-critical"), [], when_dt))
    ts_case("ts-other-root-expired-signer.exe",
            "a timestamp whose TSA does not chain to the anchors cannot excuse an expired signer",
            expired, [ca], f"{forge}/tsa-other-root/{when}", "untrusted", "does not count", "refuses")
    ts_case("ts-pkcs9-no-eku-expired-signer.exe",
            "a PKCS#9 countersigner without the timeStamping EKU cannot excuse an expired signer",
            expired, [ca], f"{forge}/tsa-no-eku/{when}", "untrusted", "no extendedKeyUsage", "accepts", flag="-t",
            differs="osslsigncode does not check the countersigner's EKU; openssl verify -purpose timestampsign "
                    "(recorded) refuses it, and so do we",
            tsa=(tsa_id("tsa-no-eku"), [], when_dt))
    ts_case("ts-other-root-valid-signer.exe",
            "an untrusted timestamp on a sound, unexpired signature is reported, not fatal",
            leaf, [ca], f"{forge}/tsa-other-root", "verified", "not trusted", "accepts")
    # An untrusted timestamp must not set the judging time: the CA expired 30 days ago; at the
    # timestamp (60 days ago) everything was valid.
    ca_exp = make("ca-expired-recently", "Recently Expired Code CA", root, ca=True, ku=CA_KU, nb=NOW - 3 * YEAR,
                  na=NOW - 30 * DAY)
    leaf_exp_ca = make("leaf-under-expired-ca", "Publisher Under An Expired CA", ca_exp, ku=LEAF_KU, eku=[CS],
                       nb=NOW - 2 * YEAR, na=NOW + YEAR)
    then = int((NOW - 60 * DAY).timestamp())
    ts_case("ts-untrusted-does-not-set-time.exe",
            "an untrusted timestamp (no EKU) does not set the time the chain is judged at",
            leaf_exp_ca, [ca_exp], f"{forge}/tsa-no-eku/{then}", "untrusted", "not valid at", "accepts",
            differs="osslsigncode accepts the EKU-less TSA and so judges the chain at its time; openssl verify "
                    "-purpose timestampsign (recorded) refuses that TSA, and without it the CA has expired",
            tsa=(tsa_id("tsa-no-eku"), [], datetime.datetime.fromtimestamp(then, datetime.timezone.utc)))
    ts_case("control-trusted-ts-sets-time.exe",
            "control: a trusted timestamp sets the judging time (the CA was valid then)",
            leaf_exp_ca, [ca_exp], f"{forge}/tsa-good/{then}", "verified", "signer chains to trust anchor", "accepts")
    CASES["pe/control-trusted-ts-sets-time.exe"]["class"] = 0

    # Corrupted countersignatures on a sound signature: the token's (RFC 3161) or the
    # countersigner's (PKCS#9) signature value, one byte flipped.
    for flag, n in (("-ts", "ts-corrupted-rfc3161-token.exe"), ("-t", "ts-corrupted-pkcs9-countersignature.exe")):
        tmp = P(n + ".tmp")
        osslsign(leaf, [ca], unsigned, tmp, extra=(flag, f"{forge}/tsa-good"))
        b = open(tmp, "rb").read()
        os.remove(tmp)
        p7 = Node.parse(pe_pkcs7(b))
        si = signer_infos(p7)[0]
        for a in unsigned_attrs(si).children:
            kind = a[0].oid()
            if kind == RFC3161_COUNTERSIGNATURE:
                target = a[1][0][1][0].children[-1][0]  # token -> SignedData -> signerInfos -> first
            elif kind == "1.2.840.113549.1.9.6":
                target = a[1][0]
            else:
                continue
            sig = next(c for c in target.children if c.tag == 0x04)
            sig.content = bytes([sig.content[0] ^ 0x01]) + sig.content[1:]
        open(P(n), "wb").write(replace_pkcs7(b, p7.der()))
        case(R(n), 2, "a corrupted countersignature on a sound, unexpired signature is reported, not fatal",
             f"osslsigncode sign {flag} (tsa_forge.py, Good TSA); Python: one byte of the countersignature's "
             "signature value flipped", "verified", "countersignature by", [osslsigncode_verify(R(n))], "accepts")

    # --- class 6: PE layout ---
    layout_cases(unsigned, leaf, ca, P, R)

    # --- class 9: weak algorithms ---
    f = signed("weak-md5-image-hash.exe", leaf, [ca], hash_name="md5")
    case(f, 9, "an MD5 Authenticode signature is never verified", "osslsigncode sign -h md5", "invalid", "MD5",
         [osslsigncode_verify(f)], "accepts",
         differs="osslsigncode still verifies MD5 signatures; MD5 collisions are practical, so the issue's rule "
                 "never calls one verified")
    # SHA-1 must not outrank SHA-256. (a) The nested SHA-256 signature says the image changed, the
    # SHA-1 one says it did not: what a SHA-1 collision looks like. (b) The SHA-256 signature is
    # intact but its signer is not trusted.
    sha1 = P("sha1.tmp")
    osslsign(leaf, [ca], unsigned, sha1, hash_name="sha1")
    other = P("other.input")
    b = bytearray(open(unsigned, "rb").read())
    b[0x400 + 0x40] ^= 0xFF  # a byte of .text
    open(other, "wb").write(b)
    osslsign(leaf, [ca], other, P("other-sha1.tmp"), hash_name="sha1")
    osslsign(leaf, [ca], P("other-sha1.tmp"), P("other-dual.tmp"), extra=("-nest",))
    donor = Node.parse(pe_pkcs7(open(P("other-dual.tmp"), "rb").read()))
    nested = next(a for a in unsigned_attrs(signer_infos(donor)[0]).children if a[0].oid() == NESTED_SIGNATURE)
    a1 = open(sha1, "rb").read()
    p7 = Node.parse(pe_pkcs7(a1))
    unsigned_attrs(signer_infos(p7)[0]).children.append(nested)
    open(P("weak-sha1-outranks-invalid-sha256.exe"), "wb").write(replace_pkcs7(a1, p7.der()))
    f = R("weak-sha1-outranks-invalid-sha256.exe")
    case(f, 9, "a SHA-1 signature never outranks a SHA-256 signature of the same file: here the SHA-256 one says "
         "the image was modified (what a SHA-1 collision looks like)",
         "osslsigncode sign -h sha1; the nested SHA-256 signature of a one-byte-different image (osslsigncode "
         "-nest) grafted into its unsigned attributes with Python", "invalid", "image hash mismatch",
         [osslsigncode_verify(f)], "accepts",
         differs="osslsigncode 2.9 prints MISMATCH for the nested SHA-256 image hash, yet counts both signatures "
                 "verified and exits 0; the SHA-256 signature says the image is not what was signed, and a SHA-1 "
                 "signature, which collisions can transplant, must not outweigh it")
    mallory = make("mallory-selfsigned", "Mallory", None, ku=LEAF_KU, eku=[CS])
    osslsign(mallory, [], sha1, P("weak-sha1-outranks-untrusted-sha256.exe"), extra=("-nest",))
    f = R("weak-sha1-outranks-untrusted-sha256.exe")
    case(f, 9, "a SHA-1 signature never outranks a SHA-256 signature of the same file: here the SHA-256 signer "
         "is not trusted", "osslsigncode sign -h sha1 (trusted), then -nest -h sha256 (self-signed Mallory)",
         "untrusted", "self-signed", [osslsigncode_verify(f)], "accepts",
         differs="osslsigncode prints 'Signature verification: failed' for the SHA-256 signature's chain but exits 0 "
                 "on the SHA-1 one; the issue's rule does not let a SHA-1 signature outrank a SHA-2 signature of "
                 "the same file")
    for t in ("sha1.tmp", "other.input", "other-sha1.tmp", "other-dual.tmp"):
        os.remove(P(t))

    # --- class 10: contentType signed attribute ---
    for n, ctype, status, expect in (("control-cms-resigned.exe", None, "verified", "accepts"),
                                     ("cms-contenttype-not-indirect-data.exe", ID_DATA, "invalid", "accepts")):
        signed(n + ".tmp", leaf, [ca])
        b = open(P(n + ".tmp"), "rb").read()
        os.remove(P(n + ".tmp"))
        p7 = Node.parse(pe_pkcs7(b))
        si = signer_infos(p7)[0]
        attrs = next(c for c in si.children if c.tag == 0xA0)
        if ctype:
            for a in attrs.children:
                if a[0].oid() == ID_CONTENT_TYPE:
                    a.children[1] = Node.parse(der_set(oid(ctype)))
        encoded = sorted(a.der() for a in attrs.children)
        attrs.children = [Node.parse(e) for e in encoded]
        sig = leaf.key.sign(der_set(*encoded), padding.PKCS1v15(), hashes.SHA256())
        next(c for c in si.children if c.tag == 0x04).content = sig
        open(P(n), "wb").write(replace_pkcs7(b, p7.der()))
        if ctype:
            case(R(n), 10, "the contentType signed attribute must equal the eContentType (SpcIndirectDataContent)",
                 "osslsigncode sign; Python: contentType attribute set to id-data, signed attributes re-signed with "
                 "the signer's key", status, "contentType", [osslsigncode_verify(R(n))], expect,
                 differs="osslsigncode checks the signature with OpenSSL's PKCS7_verify, which never compares the "
                         "contentType attribute with the content; RFC 5652 5.3 and 11.1 require it (OpenSSL's CMS "
                         "code and the JDK enforce it: see jar/cms-contenttype-mismatch.jar)")
        else:
            case(R(n), 0, "control: signed attributes re-encoded and re-signed unchanged (the edit path is sound)",
                 "osslsigncode sign; Python: signed attributes re-signed with the signer's key", status,
                 "signer chains to trust anchor", [osslsigncode_verify(R(n))], expect)
    os.remove(unsigned)


def layout_cases(unsigned, leaf, ca, P, R):
    u = open(unsigned, "rb").read()
    _, k, size = last_section(u)
    assert k + size == len(u) and k % 8 == 0, "the unsigned PE should end with its last section"
    # (a) The table moved to where the last section's raw data starts, the headers untouched: the
    # loader maps the table as that section; the bytes before and after keep their order, so a
    # linear image hash is unchanged.
    osslsign(leaf, [ca], unsigned, P("layout.tmp"))
    s = open(P("layout.tmp"), "rb").read()
    off, length = pe_table(s)
    table = s[off : off + length]
    open(P("layout-table-over-last-section.exe"), "wb").write(set_table(s[:k] + table + s[k:off], k, length))
    # (b) The last section's PointerToRawData moved up by the table's length before signing, the
    # table then moved in front of it: every section where its header says, the table before the
    # last one's data.
    h, _, _ = last_section(u)
    shifted = bytearray(u)
    struct.pack_into("<I", shifted, h + 20, k + length)
    open(P("shifted.input"), "wb").write(shifted)
    osslsign(leaf, [ca], P("shifted.input"), P("layout2.tmp"))
    s2 = open(P("layout2.tmp"), "rb").read()
    off2, length2 = pe_table(s2)
    assert length2 == length, "the signature's length changed between two signings"
    open(P("layout-table-before-last-section.exe"), "wb").write(
        set_table(s2[:k] + s2[off2 : off2 + length2] + s2[k:off2], k, length2))
    # (c) An overlay after the sections, the table moved 4 bytes into it: after every section, not
    # 8-byte aligned.
    open(P("overlay.input"), "wb").write(u + b"OVERLAY-DATA-16B")
    osslsign(leaf, [ca], P("overlay.input"), P("layout3.tmp"))
    s3 = open(P("layout3.tmp"), "rb").read()
    off3, length3 = pe_table(s3)
    assert off3 == len(u) + 16
    m = off3 - 4
    open(P("layout-table-misaligned.exe"), "wb").write(
        set_table(s3[:m] + s3[off3 : off3 + length3] + s3[m:off3], m, length3))
    # (d) A 97th section whose raw data lies inside the certificate table, after the PKCS#7: the
    # headers grown to hold 97 section headers (raw data moved down, RVAs unchanged), section 97
    # pointing at bytes appended to the table after signing. Bytes in the table are not hashed, so
    # what the loader maps there is whatever anyone appends.
    e = struct.unpack_from("<I", u, 0x3C)[0]
    opt = e + 24
    t = opt + struct.unpack_from("<H", u, e + 20)[0]
    n = struct.unpack_from("<H", u, e + 6)[0]
    old_hdr = struct.unpack_from("<I", u, opt + 60)[0]
    new_hdr = (t + 97 * 40 + 0x1FF) & ~0x1FF
    shift = new_hdr - old_hdr
    g = bytearray(u[:old_hdr] + b"\0" * shift + u[old_hdr:])
    top = 0
    for i in range(n):
        h = t + 40 * i
        vs, va, size, ptr = struct.unpack_from("<IIII", g, h + 8)
        if ptr:
            struct.pack_into("<I", g, h + 20, ptr + shift)
        top = max(top, va + vs)
    va97 = (top + 0xFFF) & ~0xFFF
    h97 = t + 96 * 40
    struct.pack_into("<8sIIIIIIHHI", g, h97, b".evil", 0x200, va97, 0x200, len(g) + length, 0, 0, 0, 0, 0x60000020)
    struct.pack_into("<H", g, e + 6, 97)
    struct.pack_into("<I", g, opt + 56, va97 + 0x1000)  # SizeOfImage
    struct.pack_into("<I", g, opt + 60, new_hdr)  # SizeOfHeaders
    open(P("sections97.input"), "wb").write(g)
    osslsign(leaf, [ca], P("sections97.input"), P("layout4.tmp"))
    s4 = open(P("layout4.tmp"), "rb").read()
    off4, length4 = pe_table(s4)
    assert (off4, length4) == (len(g), length), "the table is not where section 97 expects it"
    # The bytes go inside the one WIN_CERTIFICATE, after its PKCS#7 (osslsigncode wants one entry).
    grown = bytearray(s4 + b"\xcc" * 0x200)
    struct.pack_into("<I", grown, off4, length4 + 0x200)
    open(P("layout-section-97-inside-table.exe"), "wb").write(set_table(grown, off4, length4 + 0x200))
    for t in ("layout.tmp", "shifted.input", "layout2.tmp", "overlay.input", "layout3.tmp", "sections97.input",
              "layout4.tmp"):
        os.remove(P(t))
    made = "osslsigncode sign; Python: the certificate table moved by byte edits (the image hash is unchanged)"
    for n, rule, reason, expect, differs in (
        ("layout-table-over-last-section.exe",
         "the certificate table must follow every section's raw data: here it lies over the last section's",
         "overlaps or precedes section data", "refuses", None),
        ("layout-table-before-last-section.exe",
         "the certificate table must follow every section's raw data: here it lies before the last section's",
         "overlaps or precedes section data", "refuses", None),
        ("layout-table-misaligned.exe", "the certificate table must be 8-byte aligned", "not 8-byte aligned",
         "refuses", None),
        ("layout-section-97-inside-table.exe",
         "the certificate table must follow every section's raw data: here the 97th section's raw data lies in "
         "the table, after the PKCS#7 (unhashed bytes anyone can append)",
         "overlaps or precedes section data", "accepts",
         "osslsigncode does not compare the sections with the table; the loader maps section 97 from unhashed "
         "bytes of the certificate table, so what runs is not what was signed"),
    ):
        case(R(n), 6, rule, made, "invalid", reason, [osslsigncode_verify(R(n))], expect, differs)


# --- JAR ---------------------------------------------------------------------------------------
def jar_cases(root, ca, leaf, other_root, forge):
    J = lambda n: os.path.join(OUT, "jar", n)  # noqa: E731
    R = lambda n: "jar/" + n  # noqa: E731
    src = os.path.join(OUT, "jar", "src")
    os.makedirs(os.path.join(src, "docs"))
    open(os.path.join(src, "hello.txt"), "w").write("hello from sigaudit adversarial fixtures\n")
    open(os.path.join(src, "docs", "readme.txt"), "w").write("read me\n")
    unsigned = J("unsigned.input.jar")
    run("jar", "--create", "--file", unsigned, "hello.txt", "docs/readme.txt", cwd=src)
    shutil.rmtree(src)
    run("keytool", "-importcert", "-noprompt", "-alias", "root", "-file", root.crt, "-keystore",
        os.path.join(PKI, "trust.p12"), "-storetype", "PKCS12", "-storepass", PASS)
    # Signing with SHA-1 or MD5 needs the JDK's disabled algorithms lifted for jarsigner itself;
    # verification always runs with the JDK's defaults.
    lax = os.path.join(PKI, "lax.security")
    open(lax, "w").write("jdk.jar.disabledAlgorithms=\njdk.certpath.disabledAlgorithms=\n")

    def p12(ident, chain):
        path = os.path.join(PKI, ident.stem + ".p12")
        if not os.path.exists(path):
            run("openssl", "pkcs12", "-export", "-in", ident.crt, "-inkey", ident.keyfile, "-certfile",
                chain_file(ident.stem + ".p12chain", *chain), "-name", "signer", "-out", path, "-passout",
                f"pass:{PASS}")
        return path

    def jsign(ident, chain, out, inp=unsigned, extra=()):
        # The root travels in the chain too: jarsigner -strict wants a certificate of the
        # signer's chain in its keystore.
        run("jarsigner", "-keystore", p12(ident, chain + [root]), "-storetype", "PKCS12", "-storepass", PASS, *extra,
            "-signedjar", out, inp, "signer")

    def rezip(src_jar, out, edit):
        """Rewrite `src_jar` with Python's zipfile: `edit(list of (ZipInfo, bytes))` returns the new list."""
        with zipfile.ZipFile(src_jar) as z:
            items = [(i, z.read(i.filename)) for i in z.infolist()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # duplicate names are the point
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
                for i, data in edit(items):
                    z.writestr(i, data)

    good = J("control-good.jar")
    jsign(leaf, [ca], good)
    case(R("control-good.jar"), 0, "control: a sound JAR signature", "jarsigner", "verified",
         "signer chains to trust anchor", [jarsigner_verify(R("control-good.jar"))], "accepts")

    # --- class 7: names ---
    def zi(n):
        i = zipfile.ZipInfo(n, date_time=(2024, 1, 1, 0, 0, 0))
        i.compress_type = zipfile.ZIP_DEFLATED
        return i

    evil_manifest = b"Manifest-Version: 1.0\r\nMain-Class: Evil\r\n\r\nName: hello.txt\r\nSHA-256-Digest: " \
                    b"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\r\n\r\n"
    rezip(good, J("names-manifest-case-variant.jar"), lambda items: [(zi("META-INF/manifest.mf"), evil_manifest)]
          + items)
    f = R("names-manifest-case-variant.jar")
    case(f, 7, "a second, case-variant manifest (META-INF/manifest.mf before META-INF/MANIFEST.MF) makes the JAR "
         "ambiguous", "jarsigner; Python zipfile adds META-INF/manifest.mf first", "invalid",
         "manifests differing only in case", [jarsigner_verify(f)], "refuses")
    rezip(good, J("names-manifest-case-variant-after.jar"), lambda items: items
          + [(zi("META-INF/manifest.mf"), evil_manifest)])
    f = R("names-manifest-case-variant-after.jar")
    tools = [jarsigner_verify(f)]
    case(f, 7, "a second, case-variant manifest after META-INF/MANIFEST.MF makes the JAR ambiguous",
         "jarsigner; Python zipfile appends META-INF/manifest.mf", "invalid", "manifests differing only in case",
         tools, "refuses")

    def add_sf_variant(items):
        sf = next(d for i, d in items if i.filename.upper() == "META-INF/SIGNER.SF")
        return items + [(zi("META-INF/signer.sf"), sf.replace(b"Created-By", b"X-Evil: 1\r\nCreated-By"))]

    rezip(good, J("names-sf-case-variant.jar"), add_sf_variant)
    f = R("names-sf-case-variant.jar")
    tools = [jarsigner_verify(f)]
    case(f, 7, "a second signature file differing only in case (META-INF/signer.sf beside META-INF/SIGNER.SF)",
         "jarsigner; Python zipfile adds META-INF/signer.sf", "invalid", "differing only in case", tools,
         "accepts",
         differs="jarsigner matches signature files by upper-case name and takes one of the two; which .SF "
                 "governs is ambiguous, so the file is invalid here")

    def dup_first(items):
        return [(zi("hello.txt"), b"an unsigned replacement\n")] + items

    rezip(good, J("names-duplicate-entry.jar"), dup_first)
    f = R("names-duplicate-entry.jar")
    tools = [jarsigner_verify(f)]
    case(f, 7, "two entries named hello.txt (an unsigned one first, the signed one after)",
         "jarsigner; Python zipfile writes a second hello.txt in front", "invalid", "entries named hello.txt", tools,
         "refuses")

    # --- class 9: weak algorithms ---
    lax_opt = ("-J-Djava.security.properties=" + lax,)
    jsign(leaf, [ca], J("weak-md5-digests.jar"), extra=lax_opt + ("-digestalg", "MD5"))
    f = R("weak-md5-digests.jar")
    case(f, 9, "MD5 entry digests never verify", "jarsigner -digestalg MD5 (the JDK's disabled algorithms lifted "
         "for signing only)", "invalid", "MD5", [jarsigner_verify(f)], "refuses")
    jsign(leaf, [ca], J("weak-sha1-no-timestamp.jar"), extra=lax_opt + ("-digestalg", "SHA-1", "-sigalg",
                                                                        "SHA1withRSA"))
    f = R("weak-sha1-no-timestamp.jar")
    case(f, 9, "a SHA-1 JAR without a timestamp is treated as unsigned (JDK 17)", "jarsigner -digestalg SHA-1 "
         "-sigalg SHA1withRSA", "invalid", "SHA-1", [jarsigner_verify(f)], "refuses")
    jsign(leaf, [ca], J("weak-sha1-trusted-ts-now.jar"), extra=lax_opt + ("-digestalg", "SHA-1", "-sigalg",
                                                                          "SHA1withRSA", "-tsa", f"{forge}/tsa-good"))
    f = R("weak-sha1-trusted-ts-now.jar")
    case(f, 9, "a SHA-1 JAR with a trusted timestamp after 2019 is still treated as unsigned (JDK 17)",
         "jarsigner -digestalg SHA-1 -tsa (tsa_forge.py, Good TSA)", "invalid", "SHA-1", [jarsigner_verify(f)],
         "refuses")
    y2018 = int(datetime.datetime(2018, 6, 1, tzinfo=datetime.timezone.utc).timestamp())
    jsign(leaf, [ca], J("control-sha1-trusted-ts-2018.jar"),
          extra=lax_opt + ("-digestalg", "SHA-1", "-sigalg", "SHA1withRSA", "-tsa", f"{forge}/tsa-good/{y2018}"))
    f = R("control-sha1-trusted-ts-2018.jar")
    case(f, 0, "control: a SHA-1 JAR timestamped by a trusted TSA before 2019 is accepted (JDK 17)",
         "jarsigner -digestalg SHA-1 -tsa (tsa_forge.py, Good TSA, 2018-06-01)", "verified",
         "timestamped before 2019", [jarsigner_verify(f)], "accepts")
    jsign(leaf, [ca], J("weak-sha1-untrusted-ts-2018.jar"),
          extra=lax_opt + ("-digestalg", "SHA-1", "-sigalg", "SHA1withRSA", "-tsa", f"{forge}/tsa-other-root/{y2018}"))
    f = R("weak-sha1-untrusted-ts-2018.jar")
    case(f, 2, "a SHA-1 JAR back-dated to 2018 by a TSA of another root: the timestamp does not count",
         "jarsigner -digestalg SHA-1 -tsa (tsa_forge.py, TSA of another root, 2018-06-01)", "invalid", "SHA-1",
         [jarsigner_verify(f)], "refuses")
    # An expired JAR signer with a timestamp by an untrusted TSA.
    expired = EXPIRED[0]
    jsign(expired, [ca], J("ts-other-root-expired-signer.jar"), extra=("-tsa", f"{forge}/tsa-other-root/"
                                                                      f"{int((NOW - 30 * 30 * DAY).timestamp())}"))
    f = R("ts-other-root-expired-signer.jar")
    case(f, 2, "a JAR timestamp whose TSA does not chain to the anchors cannot excuse an expired signer",
         "jarsigner -tsa (tsa_forge.py, TSA of another root, back-dated)", "untrusted", "does not count",
         [jarsigner_verify(f)], "refuses")

    # Sections listing two digests, one of them wrong: built by Python, then signed by jarsigner
    # (which keeps the existing digests it does not compute).
    data = b"hello, two digests\n"
    right = {"SHA-256": hashlib.sha256(data).digest(), "SHA1": hashlib.sha1(data).digest()}
    # jarsigner replaces a wrong digest of its own algorithm, so the second is signed with SHA-384.
    for n, wrong, digestalg, expect in (("weak-section-sha256-right-sha1-wrong.jar", "SHA1", "SHA-256", "accepts"),
                                        ("weak-section-sha1-right-sha256-wrong.jar", "SHA-256", "SHA-384", "refuses")):
        digests = dict(right)
        digests[wrong] = hashlib.sha256(b"something else").digest()[: len(right[wrong])]
        manifest = b"Manifest-Version: 1.0\r\nCreated-By: sigaudit adversarial\r\n\r\nName: two.txt\r\n" + b"".join(
            k.encode() + b"-Digest: " + base64.b64encode(v) + b"\r\n" for k, v in digests.items()) + b"\r\n"
        inp = J(n + ".input")
        with zipfile.ZipFile(inp, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(zi("META-INF/MANIFEST.MF"), manifest)
            z.writestr(zi("two.txt"), data)
        jsign(leaf, [ca], J(n), inp=inp, extra=("-digestalg", digestalg))
        os.remove(inp)
        with zipfile.ZipFile(J(n)) as z:
            signed_manifest = z.read("META-INF/MANIFEST.MF")
        assert base64.b64encode(digests[wrong]) in signed_manifest, "jarsigner dropped the wrong digest"
        f = R(n)
        tools = [jarsigner_verify(f)]
        case(f, 9, f"a JAR section must match every digest it lists: its {wrong} digest is wrong",
             f"Python zipfile writes a manifest with both digests, jarsigner -digestalg {digestalg} signs it "
             "(keeping them)", "invalid",
             "does not match the manifest", tools, expect,
             differs="jarsigner ignores the SHA-1 entry digest (SHA-1 is disabled after 2019 without a timestamp) and "
                     "checks only SHA-256; two digests naming different contents mean the entry is not what was "
                     "signed, so it is invalid here" if expect == "accepts" else None)

    # An entry whose manifest section names only a digest algorithm we do not compute (SHA3-256,
    # which the JDK does), modified after signing. Signed by Python (.SF and block): jarsigner
    # would add its own SHA-256 digest to the section.
    original, replaced = b"hello, signed with SHA3-256\n", b"hello, replaced after signing\n"
    manifest = (b"Manifest-Version: 1.0\r\nCreated-By: sigaudit adversarial\r\n\r\n"
                b"Name: hello.txt\r\nSHA3-256-Digest: " + base64.b64encode(hashlib.sha3_256(original).digest())
                + b"\r\n\r\n")
    section = manifest[manifest.index(b"Name: "):]
    sf = (b"Signature-Version: 1.0\r\nSHA-256-Digest-Manifest: " + base64.b64encode(hashlib.sha256(manifest).digest())
          + b"\r\nCreated-By: sigaudit adversarial\r\n\r\nName: hello.txt\r\nSHA-256-Digest: "
          + base64.b64encode(hashlib.sha256(section).digest()) + b"\r\n\r\n")
    certs = [x509.load_der_x509_certificate(i.der) for i in (leaf, ca, root)]
    block = signed_data(ID_DATA, None, certs, [signer_info(certs[0], leaf.key, [
        attribute(ID_CONTENT_TYPE, oid(ID_DATA)), attribute(ID_SIGNING_TIME, utctime(NOW)),
        attribute(ID_MESSAGE_DIGEST, octets(hashlib.sha256(sf).digest()))])])
    n = "weak-entry-digest-sha3-only-modified.jar"
    with zipfile.ZipFile(J(n), "w", zipfile.ZIP_DEFLATED) as z:
        for entry, data in (("META-INF/MANIFEST.MF", manifest), ("META-INF/SIGNER.SF", sf),
                            ("META-INF/SIGNER.RSA", block), ("hello.txt", replaced)):
            z.writestr(zi(entry), data)
    f = R(n)
    case(f, 9, "an entry whose manifest digests are all of an algorithm not computed here (SHA3-256) is not "
         "checked, so it cannot be verified: here it was modified after signing",
         "Python: manifest with a SHA3-256 entry digest, .SF and PKCS#7 block signed with cryptography; the entry "
         "replaced after signing", "unsupported", "SHA3-256", [jarsigner_verify(f)], "refuses")

    # The same hole by name: manifest attribute names are case-insensitive (java.util.jar.Attributes.Name),
    # so jarsigner keeps a "SHA-256-DIGEST" it finds and checks it; the entry is then replaced.
    manifest = (b"Manifest-Version: 1.0\r\nCreated-By: sigaudit adversarial\r\n\r\nName: hello.txt\r\n"
                b"SHA-256-DIGEST: " + base64.b64encode(hashlib.sha256(original).digest()) + b"\r\n\r\n")
    inp = J("lower.input.jar")
    with zipfile.ZipFile(inp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zi("META-INF/MANIFEST.MF"), manifest)
        z.writestr(zi("hello.txt"), original)
    jsign(leaf, [ca], J("lower.signed.jar"), inp=inp)
    with zipfile.ZipFile(J("lower.signed.jar")) as z:
        assert b"SHA-256-DIGEST" in z.read("META-INF/MANIFEST.MF"), "jarsigner rewrote the digest name"
    n = "weak-entry-digest-name-case-modified.jar"
    rezip(J("lower.signed.jar"), J(n), lambda items: [(i, replaced if i.filename == "hello.txt" else d)
                                                       for i, d in items])
    os.remove(inp)
    os.remove(J("lower.signed.jar"))
    f = R(n)
    case(f, 9, "manifest attribute names are case-insensitive: an entry digest named SHA-256-DIGEST is checked "
         "(here the entry was modified after signing)",
         "Python zipfile writes a manifest with 'SHA-256-DIGEST', jarsigner signs it (keeping the name), Python "
         "zipfile replaces the entry", "invalid", "hello.txt was modified", [jarsigner_verify(f)], "refuses")

    # --- class 10: the block's contentType signed attribute ---
    for n, ctype, status, expect_ref in (("control-cms-rebuilt.jar", ID_DATA, "verified", "accepts"),
                                         ("cms-contenttype-mismatch.jar", ID_TST_INFO, "invalid", "refuses")):
        with zipfile.ZipFile(good) as z:
            sf = z.read("META-INF/SIGNER.SF")
        attrs = [attribute(ID_CONTENT_TYPE, oid(ctype)), attribute(ID_SIGNING_TIME, utctime(NOW)),
                 attribute(ID_MESSAGE_DIGEST, octets(hashlib.sha256(sf).digest()))]
        leaf_cert = x509.load_der_x509_certificate(leaf.der)
        ca_cert = x509.load_der_x509_certificate(ca.der)
        root_cert = x509.load_der_x509_certificate(root.der)
        block = signed_data(ID_DATA, None, [leaf_cert, ca_cert, root_cert], [signer_info(leaf_cert, leaf.key, attrs)])
        rezip(good, J(n), lambda items: [(i, block if i.filename == "META-INF/SIGNER.RSA" else d) for i, d in items])
        f = R(n)
        tools = [jarsigner_verify(f), openssl_cms_verify(f, "META-INF/SIGNER.SF", "META-INF/SIGNER.RSA")]
        if ctype == ID_DATA:
            case(f, 0, "control: the signature block rebuilt by Python with contentType id-data (the builder is "
                 "sound)", "jarsigner; Python cryptography rebuilds META-INF/SIGNER.RSA", status,
                 "signer chains to trust anchor", tools, expect_ref)
        else:
            case(f, 10, "the contentType signed attribute (id-ct-TSTInfo) must equal the eContentType (id-data)",
                 "jarsigner; Python cryptography rebuilds META-INF/SIGNER.RSA with contentType id-ct-TSTInfo", status,
                 "contentType", tools, expect_ref)
    os.remove(unsigned)


if __name__ == "__main__":
    main()
