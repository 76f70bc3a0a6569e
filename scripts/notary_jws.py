#!/usr/bin/env python3
"""A Notary Project JWS signature envelope (notation's JSON serialization, NOTATION.md §2) over a
target descriptor, signed ES256 by Python's `cryptography` with a key and certificate chain from
files (e.g. the `openssl ca` PKI of scripts/make_revocation_fixtures.sh), for tests/revocation.rs.

usage: notary_jws.py KEY.pem LEAF.pem [CA.pem ...] --digest sha256:HEX --size N --out FILE [--expiry RFC3339]
(the chain must end with its self-signed root, as the Notary certificate profile requires)"""

import argparse
import base64
import datetime
import json

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("key")
    ap.add_argument("chain", nargs="+")
    ap.add_argument("--digest", required=True)
    ap.add_argument("--size", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--expiry", help="io.cncf.notary.expiry (RFC 3339), made critical")
    a = ap.parse_args()
    key = serialization.load_pem_private_key(open(a.key, "rb").read(), None)
    certs = [x509.load_pem_x509_certificate(open(p, "rb").read()) for p in a.chain]
    payload = json.dumps({"targetArtifact": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                             "digest": a.digest, "size": a.size}}, separators=(",", ":")).encode()
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    header = {"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"],
              "cty": "application/vnd.cncf.notary.payload.v1+json",
              "io.cncf.notary.signingScheme": "notary.x509",
              "io.cncf.notary.signingTime": now}
    if a.expiry:
        header["crit"].append("io.cncf.notary.expiry")
        header["io.cncf.notary.expiry"] = a.expiry
    protected = json.dumps(header, separators=(",", ":")).encode()
    signing_input = (b64(protected) + "." + b64(payload)).encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    env = {"payload": b64(payload), "protected": b64(protected),
           "header": {"x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs],
                      "io.cncf.notary.signingAgent": "sigaudit tests/notary_jws.py"},
           "signature": b64(sig)}
    with open(a.out, "w") as f:
        json.dump(env, f)


if __name__ == "__main__":
    main()
