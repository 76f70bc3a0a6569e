#!/usr/bin/env python3
"""Seeded, reproducible small PKIs for the differential test of certification path validation
(tests/path_differential.rs): our `pki::path::validate` against `openssl verify -x509_strict`.

usage: pki_cases.py SEED COUNT OUT_DIR [--case N]
  -> OUT_DIR/cases.json and OUT_DIR/caseNNNN/{anchors,untrusted,leaf}.pem: COUNT random cases, then
     the targeted ones; with --case, only case N (each case has a generator of its own, seeded
     by SEED and N, so any one can be made again alone).

Each case is a self-signed root, 0-3 intermediates (sometimes one self-issued) and a leaf, every
certificate with a random combination of basicConstraints, pathLenConstraint, keyUsage,
extendedKeyUsage, validity, one more extension (critical or not), key type (RSA-2048, P-256,
P-384, Ed25519; EC keys sometimes with explicit parameters) and the signature algorithm of the
link above it, plus links forged here (an RSA signature under an ECDSA identifier, PKCS#1 v1.5
without DigestInfo, a DigestInfo of another hash, the wrong key, a TBS algorithm that differs
from the outer one, malformed ECDSA/Ed25519/RSA signatures) and impostor issuers (same name,
another key) listed before the real ones. Most cases start from a chain that is sound for one of the two purposes the test
checks (OpenSSL's `sslserver` and `timestampsign`) and then change one to three random fields, so
that both verdicts are common. Every field OpenSSL's strict profile checks and the validator does
not model is kept compliant: version 3, non-empty names, SKID on every certificate, AKID (key
identifier) on every certificate but the root, basicConstraints always critical, pathLen only
with cA and a keyUsage that asserts keyCertSign (RFC 5280 4.2.1.9; OpenSSL strict checks it
even on the leaf).

The seed fixes every choice and every key (RSA primes, EC scalars and Ed25519 seeds come from
the seeded generator); ECDSA and RSA-PSS signatures stay randomised, so certificates differ
byte-wise between runs but cases and verdicts do not. Uses only Python's `cryptography` (38, as
Debian ships it, is enough) and the standard library.
"""
import datetime
import hashlib
import json
import os
import random
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The judging time (openssl verify -attime): 2025-06-01T00:00:00Z. Certificates are dated around it.
AT = 1748736000
DAY = 86400

# ---------------------------------------------------------------------------------------------
# DER


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content):
    return bytes([tag]) + der_len(len(content)) + content


def seq(*parts):
    return tlv(0x30, b"".join(parts))


def oid(dotted):
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for a in arcs[2:]:
        chunk = [a & 0x7F]
        a >>= 7
        while a:
            chunk.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


def der_int(n, extra_zero=False):
    b = n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big")  # minimal, with a sign byte if needed
    while len(b) > 1 and b[0] == 0 and b[1] < 0x80:
        b = b[1:]
    if extra_zero:
        b = b"\x00" + b  # not minimal: invalid DER
    return tlv(0x02, b)


NULL = b"\x05\x00"


def read_tlv(b, i=0):
    """(tag, content start, end) of the TLV at b[i:]."""
    tag = b[i]
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return tag, j, j + n


def children(b):
    out, i = [], 0
    while i < len(b):
        _, start, end = read_tlv(b, i)
        out.append(b[i:end])
        i = end
    return out


def replace_tbs_algorithm(tbs, alg):
    _, start, end = read_tlv(tbs)
    fields = children(tbs[start:end])
    k = 2 if fields[0][0] == 0xA0 else 1  # [0] version, serialNumber, signature, ...
    fields[k] = alg
    return seq(*fields)


def replace_tbs_spki(tbs, spki):
    _, start, end = read_tlv(tbs)
    fields = children(tbs[start:end])
    k = 6 if fields[0][0] == 0xA0 else 5  # ..., signature, issuer, validity, subject, spki
    fields[k] = spki
    return seq(*fields)


# The named curves written out as explicit ECParameters (RFC 3279 2.3.5): the same key, the
# encoding CVE-2020-0601 abused, which both OpenSSL's strict profile and the validator refuse.
EXPLICIT_CURVES = {
    "secp256r1": dict(
        p=0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF,
        b=0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B,
        gx=0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296,
        gy=0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5,
    ),
    "secp384r1": dict(
        p=int("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff", 16),
        b=int("b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef", 16),
        gx=int("aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7", 16),
        gy=int("3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f", 16),
    ),
}


def explicit_ec_spki(key):
    c = EXPLICIT_CURVES[key.curve.name]
    size = (c["p"].bit_length() + 7) // 8
    fe = lambda v: tlv(0x04, v.to_bytes(size, "big"))  # noqa: E731
    point = b"\x04" + c["gx"].to_bytes(size, "big") + c["gy"].to_bytes(size, "big")
    params = seq(
        der_int(1),
        seq(oid("1.2.840.10045.1.1"), der_int(c["p"])),
        seq(fe(c["p"] - 3), fe(c["b"])),
        tlv(0x04, point),
        der_int(CURVE_ORDER[key.curve.name]),
        der_int(1),
    )
    pub = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return seq(seq(oid("1.2.840.10045.2.1"), params), tlv(0x03, b"\x00" + pub))


def certificate(tbs, alg, sig, unused_bits=0):
    return seq(tbs, alg, tlv(0x03, bytes([unused_bits]) + sig))


# ---------------------------------------------------------------------------------------------
# Signature algorithms: the AlgorithmIdentifier a certificate names and how the issuer's key signs

HASH = {"sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512, "md5": hashes.MD5}
HASH_OID = {
    "sha1": "1.3.14.3.2.26",
    "sha256": "2.16.840.1.101.3.4.2.1",
    "sha384": "2.16.840.1.101.3.4.2.2",
    "sha512": "2.16.840.1.101.3.4.2.3",
}
RSA_OID = {
    "md5": "1.2.840.113549.1.1.4",
    "sha1": "1.2.840.113549.1.1.5",
    "sha256": "1.2.840.113549.1.1.11",
    "sha384": "1.2.840.113549.1.1.12",
    "sha512": "1.2.840.113549.1.1.13",
}
ECDSA_OID = {"sha1": "1.2.840.10045.4.1", "sha256": "1.2.840.10045.4.3.2", "sha384": "1.2.840.10045.4.3.3", "sha512": "1.2.840.10045.4.3.4"}
def digest_info(h, data):
    d = hashlib.new(h, data).digest()
    o = "1.2.840.113549.2.5" if h == "md5" else HASH_OID[h]
    return seq(seq(oid(o), NULL), tlv(0x04, d))


def alg_rsa(h, null=True):
    """sha*WithRSAEncryption; RFC 4055 wants the NULL parameters, some encoders leave them out."""
    return seq(oid(RSA_OID[h]), NULL if null else b"")


def alg_ecdsa(h, null=False):
    """ecdsa-with-SHA*; RFC 5758 wants no parameters."""
    return seq(oid(ECDSA_OID[h]), NULL if null else b"")


def alg_ed25519(null=False):
    """Ed25519; RFC 8410 wants no parameters."""
    return seq(oid("1.3.101.112"), NULL if null else b"")


def alg_pss(h, salt, default_params=False, mgf1_hash=None):
    if default_params:  # SHA-1, MGF1-SHA-1, salt 20: every field at its default (RFC 4055)
        return seq(oid("1.2.840.113549.1.1.10"), seq())
    halg = seq(oid(HASH_OID[h]), NULL)
    malg = seq(oid(HASH_OID[mgf1_hash or h]), NULL)
    return seq(
        oid("1.2.840.113549.1.1.10"),
        seq(tlv(0xA0, halg), tlv(0xA1, seq(oid("1.2.840.113549.1.1.8"), malg)), tlv(0xA2, der_int(salt))),
    )


def rsa_raw_sign(key, em):
    n = key.private_numbers()
    k = (n.public_numbers.n.bit_length() + 7) // 8
    s = pow(int.from_bytes(em, "big"), n.d, n.public_numbers.n)
    return s.to_bytes(k, "big")


def pkcs1_pad(key, t):
    k = (key.key_size + 7) // 8
    return b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def pss_max_salt(key, h):
    return (key.key_size + 7) // 8 - HASH[h].digest_size - 2


def sign_link(issuer, alg, forge, tbs_in, wrong_key, params="usual"):
    """The (TBS, outer algorithm, signature) of a certificate whose TBS is `tbs_in`.

    `alg` is the algorithm the certificate names: rsa-<h>, pss-<h>[-max|-default|-mgf1sha1],
    ecdsa-<h>, ed25519; `params` "usual" encodes its parameters as the RFCs say, "other" the other way
    (sha*WithRSA without NULL, ECDSA and Ed25519 with a NULL). `forge` is None (an honest
    signature) or how the link is forged."""
    kind, _, h = alg.partition("-")
    h, _, variant = h.partition("-")
    signer = wrong_key if forge == "wrong-key" else issuer
    other = params == "other"
    if kind == "rsa":
        a = alg_rsa(h, null=not other)
    elif kind == "pss":
        if variant == "default":
            h = "sha1"
        salt = pss_max_salt(issuer, h) if variant == "max" else HASH[h].digest_size
        mgf1 = "sha1" if variant == "mgf1sha1" else h
        a = alg_pss(h, salt, default_params=variant == "default", mgf1_hash=mgf1)
    elif kind == "ecdsa":
        a = alg_ecdsa(h, null=other)
    else:
        a = alg_ed25519(null=other)
    outer = a
    if forge == "rsa-under-ecdsa-oid":  # the issuer's RSA key signs, the certificate says ECDSA
        a = outer = alg_ecdsa("sha256")
    if forge == "tbs-alg-differs":  # the outer algorithm (which signs) differs from the TBS one
        outer = {"rsa": lambda: alg_rsa("sha384" if h != "sha384" else "sha256"),
                 "ecdsa": lambda: alg_ecdsa("sha384" if h != "sha384" else "sha256"),
                 }[kind]()
    if forge == "tbs-alg-params-differ":  # the same algorithm, its parameters encoded otherwise
        a = {"rsa": lambda: alg_rsa(h, null=other), "ecdsa": lambda: alg_ecdsa(h, null=not other),
             "ed25519": lambda: alg_ed25519(null=not other)}[kind]()
    tbs = replace_tbs_algorithm(tbs_in, a)
    signed_alg = outer if forge == "tbs-alg-differs" else a

    # What the issuer's key computes.
    if forge == "rsa-under-ecdsa-oid":
        sig = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    elif forge == "pkcs1-no-digestinfo":
        sig = rsa_raw_sign(signer, pkcs1_pad(signer, hashlib.new(h, tbs).digest()))
    elif forge == "digestinfo-other-hash":
        other = "sha384" if h != "sha384" else "sha512"
        sig = rsa_raw_sign(signer, pkcs1_pad(signer, digest_info(other, tbs)))
    elif forge == "tbs-alg-differs":
        sig = sign_plain(signer, signed_alg_name(outer), tbs)
    elif kind == "pss":
        salt_used = salt
        if forge == "pss-salt-differs":
            salt_used = 20 if salt != 20 else 32
        sig = signer.sign(tbs, padding.PSS(padding.MGF1(HASH[mgf1]()), salt_used), HASH[h]())
    else:
        sig = sign_plain(signer, alg, tbs)
    if forge == "ecdsa-high-s":  # still a valid ECDSA signature (s and n - s both verify)
        r, s = decode_dss_signature(sig)
        sig = encode_dss_signature(r, curve_order(signer) - s)
    elif forge == "ecdsa-non-der":  # r with a redundant leading zero: BER, not DER
        r, s = decode_dss_signature(sig)
        sig = seq(der_int(r, extra_zero=True), der_int(s))
    elif forge == "ed25519-s-plus-l":  # S + L: the same point equation, a non-canonical S
        s = int.from_bytes(sig[32:], "little") + ED25519_L
        sig = sig[:32] + s.to_bytes(32, "little")
    elif forge == "rsa-sig-leading-zero":  # one byte longer than the modulus, same integer
        sig = b"\x00" + sig
    return tbs, outer, sig


ED25519_L = 2**252 + 27742317777372353535851937790883648493
CURVE_ORDER = {
    "secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
    "secp384r1": int(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973", 16
    ),
}


def curve_order(key):
    return CURVE_ORDER[key.curve.name]


def signed_alg_name(outer_der):
    """The plain algorithm name of an AlgorithmIdentifier made by alg_rsa or alg_ecdsa."""
    for hh in RSA_OID:
        if outer_der == alg_rsa(hh):
            return "rsa-" + hh
    for hh in ECDSA_OID:
        if outer_der == alg_ecdsa(hh):
            return "ecdsa-" + hh
    raise ValueError("no plain name for the outer algorithm")


def sign_plain(key, alg, data):
    kind, _, h = alg.partition("-")
    if kind == "rsa":
        return key.sign(data, padding.PKCS1v15(), HASH[h]())
    if kind == "ecdsa":
        return key.sign(data, ec.ECDSA(HASH[h]()))
    if kind == "ed25519":
        return key.sign(data)
    raise ValueError(alg)


# ---------------------------------------------------------------------------------------------
# Keys from the seed


def is_probable_prime(n, rng):
    if n < 2:
        return False
    for p in SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, r = n - 1, 0
    while d % 2 == 0:
        d //= 2
        r += 1
    for _ in range(16):
        a = rng.randrange(2, n - 2)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


SMALL_PRIMES = [p for p in range(3, 10000) if all(p % q for q in range(2, int(p**0.5) + 1))]


def prime(rng, bits, e=65537):
    while True:
        n = rng.getrandbits(bits) | (3 << (bits - 2)) | 1
        if (n - 1) % e and is_probable_prime(n, rng):
            return n


def rsa_primes(tag, bits=2048):
    """Two primes for an RSA key, from a generator seeded by `tag` (run in worker processes)."""
    rng = random.Random(tag)
    while True:
        p, q = prime(rng, bits // 2), prime(rng, bits // 2)
        if p != q and (p * q).bit_length() == bits:
            return p, q


def rsa_key(p, q):
    e = 65537
    phi = (p - 1) * (q - 1)
    d = pow(e, -1, phi)
    pub = rsa.RSAPublicNumbers(e, p * q)
    return rsa.RSAPrivateNumbers(p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), pub).private_key()


def ec_key(rng, curve):
    order = CURVE_ORDER[curve.name]
    return ec.derive_private_key(rng.randrange(1, order), curve)


def ed_key(rng):
    return ed25519.Ed25519PrivateKey.from_private_bytes(rng.getrandbits(256).to_bytes(32, "big"))


KEY_TYPES = ["rsa", "p256", "p384", "ed25519"]


class KeyPool:
    """Six keys of each type, all from the seed. A case takes distinct keys for its certificates."""

    def __init__(self, seed, pmap=map):
        rng = random.Random(f"{seed}:keys")
        self.keys = {
            "rsa": [rsa_key(p, q) for p, q in pmap(rsa_primes, [f"{seed}:rsa:{i}" for i in range(6)])],
            "p256": [ec_key(rng, ec.SECP256R1()) for _ in range(6)],
            "p384": [ec_key(rng, ec.SECP384R1()) for _ in range(6)],
            "ed25519": [ed_key(rng) for _ in range(6)],
        }

    def other(self, rng, kind, not_this):
        """Any key of `kind` but `not_this` (a wrong signer, an impostor's key)."""
        return rng.choice([k for k in self.keys[kind] if k is not not_this])

    def take(self, rng, kind, used):
        free = [i for i in range(len(self.keys[kind])) if (kind, i) not in used]
        i = rng.choice(free)
        used.add((kind, i))
        return self.keys[kind][i]


# ---------------------------------------------------------------------------------------------
# Certificate profiles

KU_NAMES = ["digitalSignature", "nonRepudiation", "keyEncipherment", "dataEncipherment", "keyAgreement", "keyCertSign", "cRLSign"]
KU_CHOICES = {  # name -> bits
    "-": None,
    "kcs+crl": {"keyCertSign", "cRLSign"},
    "kcs": {"keyCertSign"},
    "ds+kcs": {"digitalSignature", "keyCertSign"},
    "ds+kcs+crl": {"digitalSignature", "keyCertSign", "cRLSign"},
    "ds": {"digitalSignature"},
    "nr": {"nonRepudiation"},
    "ds+nr": {"digitalSignature", "nonRepudiation"},
    "ke": {"keyEncipherment"},
    "ds+ke": {"digitalSignature", "keyEncipherment"},
    "ka": {"keyAgreement"},
    "crl": {"cRLSign"},
    "ds+nr+ke": {"digitalSignature", "nonRepudiation", "keyEncipherment"},
}
EKU = {
    "server": ExtendedKeyUsageOID.SERVER_AUTH,
    "client": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code": ExtendedKeyUsageOID.CODE_SIGNING,
    "ts": ExtendedKeyUsageOID.TIME_STAMPING,
    "any": x509.ObjectIdentifier("2.5.29.37.0"),
    "unknown": x509.ObjectIdentifier("1.3.6.1.4.1.57264.99.2"),
}
EKU_CHOICES = {  # name -> (purposes, critical)
    "-": None,
    "code": (["code"], False),
    "server": (["server"], False),
    "server!": (["server"], True),
    "ts!": (["ts"], True),
    "ts": (["ts"], False),
    "any": (["any"], False),
    "server+code": (["server", "code"], False),
    "server+client": (["server", "client"], False),
    "ts+code!": (["ts", "code"], True),
    "ts+server!": (["ts", "server"], True),
    "server+any": (["server", "any"], False),
    "ts+any!": (["ts", "any"], True),
    "client": (["client"], False),
}
TARGETED_EKU = {"ts+unknown!": (["ts", "unknown"], True)}
BC_CHOICES = ["-", "ca=false", "ca=true", "ca=true,pl=0", "ca=true,pl=1", "ca=true,pl=2"]
# "to-2055" and "from-2051" put a GeneralizedTime in the certificate (UTCTime ends with 2049).
VALIDITY_CHOICES = ["valid", "to-2055", "expired", "not-yet-valid", "from-2051"]
SIG_ALGS = {
    "rsa": ["rsa-sha256"] * 4 + ["rsa-sha384", "rsa-sha1", "rsa-sha512", "pss-sha256", "pss-sha384", "pss-sha256-max", "pss-sha1-default"],
    "p256": ["ecdsa-sha256"] * 3 + ["ecdsa-sha384", "ecdsa-sha1", "ecdsa-sha512"],
    "p384": ["ecdsa-sha384"] * 3 + ["ecdsa-sha256", "ecdsa-sha1"],
    "ed25519": ["ed25519"],
}
FORGERIES = {  # issuer key type -> forgeries that apply
    "rsa": ["wrong-key", "rsa-under-ecdsa-oid", "pkcs1-no-digestinfo", "digestinfo-other-hash", "tbs-alg-differs",
            "tbs-alg-params-differ", "rsa-sig-leading-zero", "pss-salt-differs", "sig-unused-bits"],
    "p256": ["wrong-key", "tbs-alg-differs", "tbs-alg-params-differ", "ecdsa-high-s", "ecdsa-non-der", "sig-unused-bits"],
    "p384": ["wrong-key", "tbs-alg-differs", "tbs-alg-params-differ", "ecdsa-high-s", "ecdsa-non-der", "sig-unused-bits"],
    "ed25519": ["wrong-key", "tbs-alg-params-differ", "ed25519-s-plus-l", "sig-unused-bits"],
}


def pathlen_ok(prof):
    """RFC 5280 4.2.1.9: a pathLenConstraint only with cA and a keyUsage (if any) asserting
    keyCertSign. OpenSSL's strict profile checks this on every certificate, the leaf included;
    the validator does not model it (it is a rule for issuing CAs), so it is never generated."""
    ku = KU_CHOICES[prof["ku"]]
    return "pl=" not in prof["bc"] or ku is None or "keyCertSign" in ku


def good_ca(rng, target, below):
    """A CA profile that is sound for `target` with `below` CA certificates under it."""
    pls = ["ca=true"] + [f"ca=true,pl={n}" for n in (0, 1, 2) if n >= below]
    bc = rng.choice(pls)
    ku = rng.choice(["kcs+crl", "kcs+crl", "kcs", "ds+kcs", "ds+kcs+crl"])
    if target == "sslserver":
        eku = rng.choice(["-"] * 6 + ["server", "server+code", "server+any", "server+client"])
    else:  # OpenSSL's timestampsign does not constrain CAs by EKU
        eku = rng.choice(["-"] * 6 + ["code", "ts", "server", "any"])
    return {"bc": bc, "ku": ku, "eku": eku, "validity": rng.choice(["valid"] * 7 + ["to-2055"])}


def good_leaf(rng, target):
    if target == "sslserver":
        bc = rng.choice(["-", "ca=false", "ca=false", "ca=true"])
        ku = rng.choice(["-", "ds", "ds", "ke", "ds+ke", "ka", "ds+nr"] + (["ds+kcs"] * 3 if bc == "ca=true" else []))
        if bc == "ca=true" and ku == "-":
            ku = "ds+kcs"
        eku = rng.choice(["-", "server", "server", "server!", "server+client", "server+code", "server+any"])
    else:
        bc = rng.choice(["-", "ca=false", "ca=false"])
        ku = rng.choice(["-", "ds", "ds", "nr", "ds+nr"])
        eku = "ts!"
    return {"bc": bc, "ku": ku, "eku": eku, "validity": rng.choice(["valid"] * 7 + ["to-2055"])}


EXT_CHOICES = {  # one more extension, to exercise the rule on critical extensions
    "-": None,
    "unknown!": "an unknown extension, critical",
    "unknown": "an unknown extension, not critical",
    "policies!": "certificatePolicies anyPolicy, critical",
    "san!": "subjectAltName, critical",
    "san": "subjectAltName, not critical",
}
CERT_FIELDS = ["bc", "ku", "eku", "validity", "ext"]  # and "spki" for EC keys
LINK_FIELDS = ["alg", "params"]  # of the signature by the issuer
KEY_WEIGHTS = ["rsa", "rsa", "p256", "p256", "p384", "ed25519"]


def make_case(rng, index):
    target = rng.choice(["sslserver", "timestampsign"])
    n_int = rng.choice([0, 1, 1, 2, 2, 3])
    roles = ["root"] + [f"int{i + 1}" for i in range(n_int)] + ["leaf"]
    # Sometimes an intermediate is self-issued (its issuer's name, another key, as in a key
    # rollover): RFC 5280 6.1.4 (l) does not count it against pathLenConstraint.
    self_issued = [False] * len(roles)
    if n_int and rng.random() < 0.12:
        self_issued[rng.randrange(1, len(roles) - 1)] = True
    profiles = []
    for pos, role in enumerate(roles):
        below = sum(1 for j in range(pos + 1, len(roles) - 1) if not self_issued[j])
        prof = good_leaf(rng, target) if role == "leaf" else good_ca(rng, target, below)
        prof.update(key=rng.choice(KEY_WEIGHTS), role=role, forge=None, ext="-", self_issued=self_issued[pos])
        profiles.append(prof)
    for pos, prof in enumerate(profiles):
        issuer = profiles[max(pos - 1, 0)]
        prof["alg"] = rng.choice(SIG_ALGS[issuer["key"]])

    # Mutations: none for about a third of the cases, else one to three random fields...
    mutations = []
    for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
        pos = rng.randrange(len(profiles))
        prof = profiles[pos]
        fields = CERT_FIELDS + (["spki"] if prof["key"] in ("p256", "p384") else []) + (LINK_FIELDS if pos else [])
        field = rng.choice(fields)
        issuer = profiles[max(pos - 1, 0)]
        if field == "bc":
            prof["bc"] = rng.choice(BC_CHOICES)
        elif field == "ku":
            prof["ku"] = rng.choice(list(KU_CHOICES))
        elif field == "eku":
            prof["eku"] = rng.choice(list(EKU_CHOICES))
        elif field == "validity":
            prof["validity"] = rng.choice(VALIDITY_CHOICES)
        elif field == "ext":
            prof["ext"] = rng.choice(list(EXT_CHOICES))
        elif field == "spki":
            prof["explicit_ec"] = True
        elif field == "params":
            prof["params"] = "other"
        else:
            prof["alg"] = rng.choice(SIG_ALGS[issuer["key"]])
        mutations.append(f"{prof['role']}.{field}")
    # ... and, independently, a forged link in about a quarter of them.
    if rng.random() < 0.25:
        pos = rng.randrange(1, len(profiles))
        prof = profiles[pos]
        prof["forge"] = rng.choice(FORGERIES[profiles[pos - 1]["key"]])
        mutations.append(f"{prof['role']}.forge")
    for prof in profiles:
        if not pathlen_ok(prof):
            prof["bc"] = "ca=true"
    # Forgeries that need a particular algorithm family take it.
    for pos, prof in enumerate(profiles[1:], 1):
        f, alg = prof["forge"], prof["alg"]
        if f in ("pkcs1-no-digestinfo", "digestinfo-other-hash", "rsa-sig-leading-zero", "rsa-under-ecdsa-oid"):
            if not alg.startswith("rsa-"):
                prof["alg"] = "rsa-sha256"
        elif f == "pss-salt-differs" and (not alg.startswith("pss-") or alg.endswith("default")):
            prof["alg"] = "pss-sha256"
        elif f in ("ecdsa-high-s", "ecdsa-non-der", "tbs-alg-differs") and not alg.startswith(("ecdsa-", "rsa-")):
            prof["alg"] = SIG_ALGS[profiles[pos - 1]["key"]][0]
        elif f in ("tbs-alg-differs", "tbs-alg-params-differ") and alg.startswith("pss-"):
            prof["alg"] = "rsa-sha256"

    # Decoys: a certificate with the same subject as a real issuer but another key, listed
    # before it (path building must get past it: OpenSSL by the AKID, the validator by trying).
    decoys = []
    if rng.random() < 0.15:
        decoys.append(rng.randrange(len(profiles) - 1))
    return {"index": index, "target": target, "profiles": profiles, "mutations": mutations, "decoys": decoys}


def names_of(case_id, profiles):
    """Each certificate's subject: its role, or its issuer's name when self-issued."""
    out = []
    for prof in profiles:
        if prof.get("self_issued"):
            out.append(out[-1])
        else:
            out.append(x509.Name([
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit differential"),
                x509.NameAttribute(NameOID.COMMON_NAME, f"{case_id} {prof['role']}"),
            ]))
    return out


def validity(v):
    if v == "valid":
        return AT - 30 * DAY, AT + 365 * DAY
    if v == "expired":
        return AT - 400 * DAY, AT - 10 * DAY
    if v == "until-at":
        return AT - 30 * DAY, AT
    if v == "to-2055":
        return AT - 30 * DAY, 2682374400  # 2055-01-01
    if v == "from-2051":
        return 2556144000, 2682374400  # 2051-01-01 to 2055-01-01
    return AT + 10 * DAY, AT + 400 * DAY


def carrier_sign(builder, key):
    """Let cryptography make the TBSCertificate (the algorithm is replaced afterwards)."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return builder.sign(key, None)
    return builder.sign(key, hashes.SHA256())


UNKNOWN_EXTENSION = x509.ObjectIdentifier("1.3.6.1.4.1.57264.99.1")


def build_cert(prof, subject, subject_key, issuer, issuer_key, alg, forge, wrong_key, serial):
    """A certificate of `prof` for `subject_key` named `subject`, issued by `issuer` with
    `issuer_key` (itself when self-signed: no AKID), signed by `alg` (and forged by `forge`)."""
    self_signed = issuer_key is subject_key
    nb, na = validity(prof["validity"])
    utc = datetime.timezone.utc
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(subject_key.public_key())
        .serial_number(serial)
        .not_valid_before(datetime.datetime.fromtimestamp(nb, utc))
        .not_valid_after(datetime.datetime.fromtimestamp(na, utc))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False)
    )
    if not self_signed:
        akid = x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())
        b = b.add_extension(akid, critical=prof.get("akid_critical", False))
    bc = prof["bc"]
    if bc != "-":
        ca = bc.startswith("ca=true")
        pl = int(bc.split("pl=")[1]) if "pl=" in bc else None
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=pl), critical=prof.get("bc_critical", True))
    ku = KU_CHOICES[prof["ku"]]
    if ku is not None:
        flags = {n: n in ku for n in KU_NAMES}
        b = b.add_extension(
            x509.KeyUsage(
                flags["digitalSignature"], flags["nonRepudiation"], flags["keyEncipherment"], flags["dataEncipherment"],
                flags["keyAgreement"], flags["keyCertSign"], flags["cRLSign"], False, False,
            ),
            critical=True,
        )
    eku = EKU_CHOICES.get(prof["eku"]) or TARGETED_EKU.get(prof["eku"])
    if eku is not None:
        purposes, critical = eku
        b = b.add_extension(x509.ExtendedKeyUsage([EKU[p] for p in purposes]), critical=critical)
    ext = prof.get("ext", "-")
    critical = ext.endswith("!")
    if ext.startswith("unknown"):
        b = b.add_extension(x509.UnrecognizedExtension(UNKNOWN_EXTENSION, b"\x05\x00"), critical=critical)
    elif ext.startswith("policies"):
        b = b.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier("2.5.29.32.0"), None)]),
            critical=critical,
        )
    elif ext.startswith("san"):
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName("signer.example")]), critical=critical)
    elif ext == "crldp!":
        uri = x509.UniformResourceIdentifier("http://crl.example/ca.crl")
        b = b.add_extension(x509.CRLDistributionPoints([x509.DistributionPoint([uri], None, None, None)]), critical=True)
    elif ext == "policy-constraints!":
        b = b.add_extension(x509.PolicyConstraints(require_explicit_policy=None, inhibit_policy_mapping=0), critical=True)
    carrier = carrier_sign(b, issuer_key)
    tbs = carrier.tbs_certificate_bytes
    if prof.get("explicit_ec"):
        tbs = replace_tbs_spki(tbs, explicit_ec_spki(subject_key))
    tbs, outer, sig = sign_link(issuer_key, alg, forge, tbs, wrong_key, prof.get("params", "usual"))
    return certificate(tbs, outer, sig, unused_bits=1 if forge == "sig-unused-bits" else 0)


def pem(der):
    import base64

    b = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b[i:i + 64] for i in range(0, len(b), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def describe(case):
    parts = []
    for prof in case["profiles"]:
        s = f"{prof['role']}[{prof['key']} bc={prof['bc']} ku={prof['ku']} eku={prof['eku']} {prof['validity']}"
        if prof.get("ext", "-") != "-":
            s += f" ext={prof['ext']}"
        if not prof.get("bc_critical", True):
            s += " bc-not-critical"
        if prof.get("akid_critical"):
            s += " akid-critical"
        if prof.get("issuer_name") == "printable":
            s += " issuer-name-as-PrintableString"
        if prof.get("self_issued"):
            s += " self-issued"
        if prof.get("explicit_ec"):
            s += " explicit-EC-parameters"
        if prof["role"] != "root":
            s += f" signed {prof['alg']}"
            if prof.get("params") == "other" and not prof["alg"].startswith("pss-"):
                s += " (parameters " + ("without NULL" if prof["alg"].startswith("rsa-") else "with NULL") + ")"
            if prof["forge"]:
                s += f" FORGED {prof['forge']}"
        parts.append(s + "]")
    out = " <- ".join(parts)
    if case["decoys"]:
        out += "; impostor (same name, other key) listed before " + ",".join(case["profiles"][i]["role"] for i in case["decoys"])
    if case.get("anchor"):
        out += f"; {case['profiles'][case['anchor']]['role']} is the trust anchor"
    for pos, overrides in case.get("twins", []):
        out += f"; a copy of {case['profiles'][pos]['role']} (same name and key) with {overrides} listed before it"
    return f"built for {case['target']}; changed {', '.join(case['mutations']) or 'nothing'}: {out}"


def write_case(out, pool, case, rng, auth_level=None):
    case_id = f"case{case['index']:04d}"
    d = os.path.join(out, case_id)
    os.makedirs(d, exist_ok=True)
    profiles = case["profiles"]
    names = names_of(case_id, profiles)
    used = set()
    keys = [pool.take(rng, p["key"], used) for p in profiles]
    ders = []
    for pos, prof in enumerate(profiles):
        if pos == 0:
            self_alg = rng.choice(SIG_ALGS[prof["key"]])
            ders.append(build_cert(prof, names[0], keys[0], names[0], keys[0], self_alg, None, None, 1))
            continue
        issuer_key = keys[pos - 1]
        issuer_name = names[pos - 1]
        if prof.get("issuer_name") == "printable":  # the same name, another string type
            issuer_name = x509.Name([x509.NameAttribute(a.oid, a.value, _type=_ASN1Type.PrintableString) for a in issuer_name])
        wrong = pool.other(rng, profiles[pos - 1]["key"], issuer_key) if prof["forge"] == "wrong-key" else None
        ders.append(build_cert(prof, names[pos], keys[pos], issuer_name, issuer_key, prof["alg"], prof["forge"], wrong, pos + 1))
    decoy_ders = {}
    for i in case["decoys"]:
        prof = dict(profiles[i], bc="ca=true", ku="kcs+crl", eku="-", validity="valid", ext="-", explicit_ec=False, params="usual")
        kind = rng.choice(KEY_TYPES)
        dkey = pool.other(rng, kind, keys[i])
        if i == 0:
            decoy_ders[i] = build_cert(prof, names[0], dkey, names[0], dkey, SIG_ALGS[kind][0], None, None, 100)
        else:
            alg = SIG_ALGS[profiles[i - 1]["key"]][0]
            decoy_ders[i] = build_cert(prof, names[i], dkey, names[i - 1], keys[i - 1], alg, None, None, 100 + i)
    for pos, overrides in case.get("twins", []):  # same name, same key, another profile
        prof = dict(profiles[pos], forge=None, **overrides)
        decoy_ders[pos] = build_cert(prof, names[pos], keys[pos], names[pos - 1], keys[pos - 1], prof["alg"], None, None,
                                     200 + pos)
    anchors = ([decoy_ders[0]] if 0 in decoy_ders else []) + [ders[0]]
    first = case.get("anchor", 0)  # an intermediate as the trust anchor (nothing above it given)
    if first:
        anchors = [ders[first]]
    untrusted = []
    for pos in range(first + 1, len(ders) - 1):
        if pos in decoy_ders:
            untrusted.append(decoy_ders[pos])
        untrusted.append(ders[pos])
    with open(os.path.join(d, "anchors.pem"), "w") as f:
        f.write("".join(pem(x) for x in anchors))
    if untrusted:
        with open(os.path.join(d, "untrusted.pem"), "w") as f:
            f.write("".join(pem(x) for x in untrusted))
    with open(os.path.join(d, "leaf.pem"), "w") as f:
        f.write(pem(ders[-1]))
    leaf = profiles[-1]
    return {
        "id": case_id,
        "index": case["index"],
        "at": AT,
        "auth_level": auth_level,
        "untrusted": bool(untrusted),
        "leaf_has_eku": leaf["eku"] != "-",
        "description": describe(case),
    }


def ca_profile(role, **kw):
    prof = dict(bc="ca=true", ku="kcs+crl", eku="-", validity="valid", key="rsa", role=role, forge=None, alg="rsa-sha256")
    prof.update(kw)
    return prof


def leaf_profile(**kw):
    prof = dict(bc="ca=false", ku="ds", eku="server", validity="valid", key="rsa", role="leaf", forge=None, alg="rsa-sha256")
    prof.update(kw)
    return prof


# Where the validator and `openssl verify -x509_strict` differ on purpose: one targeted case each,
# built for one purpose and sound in every other respect, with both verdicts pinned (the test
# fails if either changes). None of them is generated in the random set.
DIVERGENCES = [
    ("sslserver", False, True, "a leaf with cA, a pathLenConstraint and keyUsage without keyCertSign: OpenSSL's strict "
     "profile applies RFC 5280 4.2.1.9 (a rule for issuing CAs) to the leaf too; the leaf cannot issue either way",
     [ca_profile("root"), leaf_profile(bc="ca=true,pl=0", ku="ds")]),
    ("sslserver", False, True, "a CA whose basicConstraints is not critical: OpenSSL's strict profile refuses it "
     "(RFC 5280 4.2.1.9 tells CAs to mark it critical); its meaning is the same either way",
     [ca_profile("root"), ca_profile("int1", bc_critical=False), leaf_profile()]),
    ("sslserver", False, True, "a critical authorityKeyIdentifier: OpenSSL does not count it among the extensions it "
     "processes; it constrains nothing, and the validator lists it as handled",
     [ca_profile("root"), leaf_profile(akid_critical=True)]),
    ("sslserver", True, False, "a critical cRLDistributionPoints: OpenSSL lists it as handled without checking "
     "revocation; the validator does not process it, so refuses it as RFC 5280 4.2 says",
     [ca_profile("root"), leaf_profile(ext="crldp!")]),
    ("sslserver", True, False, "a CA with a critical policyConstraints: OpenSSL lists it as handled (policy checking is "
     "off by default); the validator does not process policies, so refuses it",
     [ca_profile("root"), ca_profile("int1", ext="policy-constraints!"), leaf_profile()]),
    ("timestampsign", True, False, "a timestamping leaf whose critical EKU names timeStamping and an unknown purpose: "
     "OpenSSL ignores purposes it has no bit for; RFC 3161 2.3 requires timeStamping alone",
     [ca_profile("root"), leaf_profile(eku="ts+unknown!")]),
    ("sslserver", False, True, "a leaf whose notAfter is the judging time itself: OpenSSL counts it expired; "
     "RFC 5280 4.1.2.5 makes the validity period inclusive of notAfter",
     [ca_profile("root"), leaf_profile(validity="until-at")]),
    ("sslserver", False, True, "an intermediate listed twice under one name and key, first as a non-CA: the "
     "validator tries the next candidate (issue 10: path building backtracks); OpenSSL 3.0 keeps the first "
     "issuer that matches by name and key identifier, and fails on it",
     [ca_profile("root"), ca_profile("int1"), leaf_profile()], {"twins": [(1, {"bc": "ca=false"})]}),
    ("sslserver", True, False, "a leaf whose issuer name is its CA's subject with PrintableString for UTF8String: "
     "OpenSSL compares names canonically (RFC 5280 7.1); the validator compares the bytes, so finds no issuer",
     [ca_profile("root"), leaf_profile(issuer_name="printable")]),
    ("sslserver", True, False, "RSA-PSS with SHA-256 and MGF1 with SHA-1: OpenSSL accepts any MGF1 hash; "
     "the validator (crypto.rs) takes only MGF1 with the message hash",
     [ca_profile("root"), leaf_profile(alg="pss-sha256-mgf1sha1")]),
    ("sslserver", False, True, "an intermediate CA given as the trust anchor: OpenSSL wants a self-signed root "
     "unless -partial_chain; the validator takes any CA certificate it is given as an anchor (RFC 5280 6.1.1 (d))",
     [ca_profile("root"), ca_profile("int1"), leaf_profile()], {"anchor": 1}),
]


def targeted_cases():
    """Cases outside the random set: MD5 signatures (which OpenSSL's default level accepts and
    we refuse on purpose), judged at -auth_level 1, which refuses them too; then one case for
    each known divergence (DIVERGENCES)."""
    out = []
    for where in ["leaf", "int1"]:
        profiles = [ca_profile("root"), ca_profile("int1"), leaf_profile()]
        for prof in profiles:
            if prof["role"] == where:
                prof["alg"] = "rsa-md5"
        case = {"index": None, "target": "sslserver", "profiles": profiles, "mutations": [f"{where} signed with MD5"],
                "decoys": []}
        out.append((case, 1, None))
    for purpose, openssl_accepts, we_accept, why, profiles, *extra in DIVERGENCES:
        case = {"index": None, "target": purpose, "profiles": [dict(p) for p in profiles],
                "mutations": ["nothing (a known divergence)"], "decoys": []}
        case.update(extra[0] if extra else {})
        out.append((case, None, {"purpose": purpose, "openssl_accepts": openssl_accepts, "we_accept": we_accept,
                                 "why": why}))
    return out


def one_case(args):
    seed, index, count, out = args
    rng = random.Random(f"{seed}:{index}")
    if index < count:
        case, level, divergence = make_case(rng, index), None, None
    else:
        case, level, divergence = targeted_cases()[index - count]
        case["index"] = index
    entry = write_case(out, POOL, case, rng, auth_level=level)
    entry["divergence"] = divergence
    return entry


POOL = None


def main():
    args = sys.argv[1:]
    only = None
    if len(args) == 5 and args[3] == "--case":
        only = int(args[4])
        args = args[:3]
    if len(args) != 3:
        sys.exit(__doc__)
    global POOL
    seed, count, out = int(args[0]), int(args[1]), args[2]
    os.makedirs(out, exist_ok=True)
    indices = [only] if only is not None else range(count + len(targeted_cases()))
    jobs = [(seed, i, count, out) for i in indices]
    workers = min(4, os.cpu_count() or 1)
    if workers > 1:
        import multiprocessing

        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(workers) as p:
            POOL = KeyPool(seed, p.map)
        with ctx.Pool(workers) as p:  # forked after POOL is set, so the workers share it
            cases = p.map(one_case, jobs, chunksize=8)
    else:
        POOL = KeyPool(seed)
        cases = [one_case(j) for j in jobs]
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"seed": seed, "count": count, "at": AT, "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
