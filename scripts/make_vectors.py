#!/usr/bin/env python3
"""Self-made signature vectors for algorithms the real corpus lacks (no notation ECDSA envelope
exists upstream; no cosign Ed25519 signature either). Made with Python's `cryptography`,
independently of sigaudit, and labelled self-made.

usage: make_vectors.py OUT_DIR   -> OUT_DIR/vectors.json
"""
import base64
import datetime
import hashlib
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def fixed_ec_key(label, curve, order):
    """An ECDSA key derived from `label`: the same keys and certificates on every run (signature
    bytes still vary: Debian's `cryptography` signs with random nonces)."""
    d = int.from_bytes(hashlib.sha512(b"sigaudit make_vectors.py: " + label.encode()).digest(), "big")
    return ec.derive_private_key(d % (order - 1) + 1, curve)


ORDERS = {"secp256r1": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
          "secp384r1": int("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF"
                           "581A0DB248B0A77AECEC196ACCC52973", 16),
          "secp521r1": int("01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
                           "FA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409", 16)}


def cert_for(key, cn):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit vectors")])
    now = datetime.datetime(2025, 1, 1)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int.from_bytes(hashlib.sha256(cn.encode()).digest()[:16], "big") >> 1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .sign(key, hashes.SHA256()))


def jws(alg, curve, hash_alg, size, target):
    key = fixed_ec_key(alg, curve, ORDERS[curve.name])
    cert = cert_for(key, f"notary {alg} signer")
    protected = {"alg": alg, "crit": ["io.cncf.notary.signingScheme"],
                 "cty": "application/vnd.cncf.notary.payload.v1+json",
                 "io.cncf.notary.signingScheme": "notary.x509",
                 "io.cncf.notary.signingTime": "2025-06-01T12:00:00Z"}
    p = b64url(json.dumps(protected, separators=(",", ":")).encode())
    pl = b64url(json.dumps({"targetArtifact": target}, separators=(",", ":"), sort_keys=True).encode())
    der = key.sign(f"{p}.{pl}".encode(), ec.ECDSA(hash_alg))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(size, "big") + s.to_bytes(size, "big")
    env = {"payload": pl, "protected": p,
           "header": {"x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()],
                      "io.cncf.notary.signingAgent": "sigaudit-vectors"},
           "signature": b64url(raw)}
    return json.dumps(env).encode()


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    manifest = b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}'
    target = {"mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:" + hashlib.sha256(manifest).hexdigest(), "size": len(manifest)}
    cases = {"target": target, "jws": {}}
    for alg, curve, h, size in (("ES256", ec.SECP256R1(), hashes.SHA256(), 32),
                                ("ES384", ec.SECP384R1(), hashes.SHA384(), 48),
                                ("ES512", ec.SECP521R1(), hashes.SHA512(), 66)):
        name = f"{alg}.jws"
        open(os.path.join(out, name), "wb").write(jws(alg, curve, h, size, target))
        cases["jws"][alg] = name
    # cosign with an Ed25519 key: pure Ed25519 over the payload bytes.
    ed = ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"sigaudit make_vectors.py: ed25519").digest())
    payload = json.dumps({"critical": {"identity": {"docker-reference": "127.0.0.1/x"},
                                       "image": {"docker-manifest-digest": target["digest"]},
                                       "type": "cosign container image signature"}, "optional": None},
                         separators=(",", ":")).encode()
    open(os.path.join(out, "ed25519.payload"), "wb").write(payload)
    open(os.path.join(out, "ed25519.sig"), "w").write(base64.b64encode(ed.sign(payload)).decode())
    open(os.path.join(out, "ed25519.pub"), "wb").write(ed.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    json.dump(cases, open(os.path.join(out, "vectors.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
