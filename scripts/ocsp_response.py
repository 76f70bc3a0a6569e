#!/usr/bin/env python3
"""An OCSP response (RFC 6960, DER) made by Python's `cryptography` as a scripted responder, for
the answers `openssl ocsp` will not give: dates in the past or the future. For
tests/revocation_online.rs.

usage: ocsp_response.py ISSUER.crt CERT.crt RESPONDER.crt RESPONDER.key --status good|revoked
       --this-update HOURS --next-update HOURS --out FILE
(HOURS relative to now: -48 is two days ago)"""

import argparse
import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("issuer")
    ap.add_argument("cert")
    ap.add_argument("responder")
    ap.add_argument("key")
    ap.add_argument("--status", choices=["good", "revoked"], default="good")
    ap.add_argument("--this-update", type=float, required=True)
    ap.add_argument("--next-update", type=float, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--certid-hash", choices=["sha1", "sha256"], default="sha1")
    a = ap.parse_args()
    load = lambda p: x509.load_pem_x509_certificate(open(p, "rb").read())
    issuer, cert, responder = load(a.issuer), load(a.cert), load(a.responder)
    key = serialization.load_pem_private_key(open(a.key, "rb").read(), None)
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    hours = lambda h: now + datetime.timedelta(hours=h)
    status = ocsp.OCSPCertStatus.GOOD if a.status == "good" else ocsp.OCSPCertStatus.REVOKED
    b = ocsp.OCSPResponseBuilder().add_response(
        cert=cert,
        issuer=issuer,
        algorithm=hashes.SHA1() if a.certid_hash == "sha1" else hashes.SHA256(),
        cert_status=status,
        this_update=hours(a.this_update),
        next_update=hours(a.next_update),
        revocation_time=hours(a.this_update) if status == ocsp.OCSPCertStatus.REVOKED else None,
        revocation_reason=None,
    )
    b = b.responder_id(ocsp.OCSPResponderEncoding.HASH, responder).certificates([responder])
    resp = b.sign(key, hashes.SHA256())
    open(a.out, "wb").write(resp.public_bytes(serialization.Encoding.DER))


if __name__ == "__main__":
    main()
