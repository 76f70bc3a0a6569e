#!/usr/bin/env python3
"""An independent check of a Notary Project JWS envelope (ES256/ES384/ES512), with Python's
`cryptography`: verifies the signature over `protected.payload` with the key of x5c[0] and prints
{"signatureValid", "protected" (the signed header), "unprotected" (the rest, x5c left out),
"targetDigest"} as JSON. Knows nothing of sigaudit.

usage: verify_notary_jws.py ENVELOPE.json
"""

import base64
import json
import sys

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def unb64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def main():
    env = json.load(open(sys.argv[1]))
    protected = json.loads(unb64url(env["protected"]))
    payload = json.loads(unb64url(env["payload"]))
    leaf = x509.load_der_x509_certificate(base64.b64decode(env["header"]["x5c"][0]))
    hash_alg = {"ES256": hashes.SHA256(), "ES384": hashes.SHA384(), "ES512": hashes.SHA512()}[protected["alg"]]
    raw = unb64url(env["signature"])
    half = len(raw) // 2
    der = encode_dss_signature(int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big"))
    try:
        leaf.public_key().verify(der, (env["protected"] + "." + env["payload"]).encode(), ec.ECDSA(hash_alg))
        valid = True
    except InvalidSignature:
        valid = False
    unprotected = {k: v for k, v in env["header"].items() if k != "x5c"}
    print(json.dumps({"signatureValid": valid, "protected": protected, "unprotected": unprotected,
                      "targetDigest": payload["targetArtifact"]["digest"]}))


if __name__ == "__main__":
    main()
