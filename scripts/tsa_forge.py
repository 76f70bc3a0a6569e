#!/usr/bin/env python3
"""A time-stamp authority on 127.0.0.1 that signs with any certificate at any time, for the
adversarial fixtures: the TSAs real tools refuse to run (no timeStamping EKU, a non-critical
one, a chain to an unknown root) and back-dated tokens. `openssl ts -reply` and osslsigncode's
built-in TSA both refuse a signer without the timeStamping EKU, so tokens are built here with
Python `cryptography` (scripts/advfs_lib.py).

usage: tsa_forge.py PORT DIR
  POST /NAME[/UNIX_TIME]  signs with DIR/NAME.crt and DIR/NAME.key, adds DIR/NAME.chain.pem
  - an RFC 3161 TimeStampReq (DER) gets a TimeStampResp (osslsigncode -ts, jarsigner -tsa);
  - a base64 Authenticode TimeStampRequest (osslsigncode -t) gets a base64 PKCS#7 whose
    SignerInfo osslsigncode appends as a PKCS#9 countersignature."""
import base64
import datetime
import hashlib
import http.server
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from advfs_lib import (  # noqa: E402
    ID_CONTENT_TYPE, ID_DATA, ID_MESSAGE_DIGEST, ID_SIGNING_TIME, ID_TST_INFO, SHA256, Node, alg, attribute,
    der_set, ess_signing_cert_v2, explicit, gentime, integer, load_pem_certs, octets, oid, seq, signed_data,
    signer_info, utctime,
)

port, d = int(sys.argv[1]), sys.argv[2]
serial = [1000]


def load(name):
    cert = x509.load_pem_x509_certificate(open(os.path.join(d, name + ".crt"), "rb").read())
    key = serialization.load_pem_private_key(open(os.path.join(d, name + ".key"), "rb").read(), None)
    chain_path = os.path.join(d, name + ".chain.pem")
    chain = load_pem_certs(open(chain_path, "rb").read()) if os.path.exists(chain_path) else []
    return cert, key, chain


def rfc3161(req, cert, key, chain, when):
    q = Node.parse(req)
    imprint = q[1].der()
    nonce = next((c.der() for c in q.children[2:] if c.tag == 0x02), b"")
    serial[0] += 1
    tst = seq(
        integer(1),
        oid("1.2.3.4.1"),
        imprint,
        integer(serial[0]),
        gentime(when),
        seq(integer(1)),  # accuracy: 1 s
        nonce,
    )
    attrs = [
        attribute(ID_CONTENT_TYPE, oid(ID_TST_INFO)),
        attribute(ID_SIGNING_TIME, utctime(when)),
        attribute(ID_MESSAGE_DIGEST, octets(hashlib.sha256(tst).digest())),
        ess_signing_cert_v2(cert),
    ]
    token = signed_data(ID_TST_INFO, octets(tst), [cert] + chain, [signer_info(cert, key, attrs)], version=3)
    return seq(seq(integer(0)), token)


def authenticode(body, cert, key, chain, when):
    q = Node.parse(base64.b64decode(body))
    # TimeStampRequest { type, blob { type (data), [0] { OCTET STRING signature } } }
    signature = q[1][1][0].content
    attrs = [
        attribute(ID_CONTENT_TYPE, oid(ID_DATA)),
        attribute(ID_SIGNING_TIME, utctime(when)),
        attribute(ID_MESSAGE_DIGEST, octets(hashlib.sha256(signature).digest())),
    ]
    p7 = signed_data(ID_DATA, octets(signature), [cert] + chain, [signer_info(cert, key, attrs)])
    return base64.encodebytes(p7)  # 76-character lines: OpenSSL's base64 BIO wants them


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = [p for p in self.path.split("/") if p]
        cert, key, chain = load(parts[0])
        when = datetime.datetime.now(datetime.timezone.utc)
        if len(parts) > 1:
            when = datetime.datetime.fromtimestamp(int(parts[1]), datetime.timezone.utc)
        if body[:1] == b"\x30":
            out, ctype = rfc3161(body, cert, key, chain, when), "application/timestamp-reply"
        else:
            out, ctype = authenticode(body, cert, key, chain, when), "application/octet-stream"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
