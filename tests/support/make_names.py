#!/usr/bin/env python3
"""Write self-signed certificates whose names use every directory string type (T.61/Teletex,
BMPString, UniversalString, PrintableString, IA5String, UTF8String) and every character RFC 4514
escapes, made with Python's `cryptography`, independently of sigaudit. tests/names.rs compares
sigaudit's rendering of each name with what openssl shows.

usage: make_names.py OUT_DIR   (writes NAME.pem per case, and signer.key + signer.pem: the
Eclipse-style T.61 signer of tests/names.rs's JAR)
"""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.name import _ASN1Type as T
from cryptography.x509.oid import NameOID as N


def attr(oid, value, kind=None):
    return x509.NameAttribute(oid, value, _type=kind) if kind else x509.NameAttribute(oid, value)


CASES = {
    # The signer of Eclipse's JARs: a T.61 CN with a comma.
    "t61": [attr(N.COUNTRY_NAME, "CA"), attr(N.ORGANIZATION_NAME, "Eclipse.org Foundation, Inc", T.T61String),
            attr(N.COMMON_NAME, "Eclipse.org Foundation, Inc", T.T61String)],
    # cryptography writes the UTF-8 bytes of the text into the T.61 string; openssl reads a T.61
    # string one byte per character (ISO 8859-1), so it shows "CafÃ©": so must we.
    "t61-8bit": [attr(N.COMMON_NAME, "Caf\u00e9 Sign\u00e9", T.T61String)],
    "bmp": [attr(N.ORGANIZATIONAL_UNIT_NAME, "\u00dcn\u00ef \u6f22\u5b57 team", T.BMPString),
            attr(N.COMMON_NAME, "\u041f\u043e\u0434\u043f\u0438\u0441\u044c", T.BMPString)],
    "universal": [attr(N.LOCALITY_NAME, "Z\u00fcrich \U0001F600", T.UniversalString),
                  attr(N.COMMON_NAME, "Universal", T.UniversalString)],
    "printable-ia5": [attr(N.COUNTRY_NAME, "DE"), attr(N.ORGANIZATION_NAME, "Printable Org", T.PrintableString),
                      attr(N.EMAIL_ADDRESS, "signer@example.org"),
                      attr(N.DOMAIN_COMPONENT, "example", T.IA5String),
                      attr(N.COMMON_NAME, "IA5 Name", T.IA5String)],
    "utf8": [attr(N.ORGANIZATION_NAME, "S\u00e3o Paulo \u00c9diteur"), attr(N.COMMON_NAME, "\u5317\u4eac signer")],
    "escapes": [attr(N.STREET_ADDRESS, "  #x+y\\z \"q\" <a>;\x01 "),
                attr(N.ORGANIZATION_NAME, "#lead, trail "),
                attr(N.COMMON_NAME, "a,b+c=d")],
    "ev": [attr(N.JURISDICTION_COUNTRY_NAME, "US"), attr(N.JURISDICTION_STATE_OR_PROVINCE_NAME, "Delaware"),
           attr(N.BUSINESS_CATEGORY, "Private Organization"), attr(N.SERIAL_NUMBER, "5157550"),
           attr(N.POSTAL_CODE, "94043"), attr(N.TITLE, "Signer"), attr(N.SURNAME, "Doe"),
           attr(N.GIVEN_NAME, "Jane"), attr(N.USER_ID, "jdoe"), attr(x509.ObjectIdentifier("2.5.4.97"), "VATDE-123"),
           attr(N.COMMON_NAME, "EV Signer")],
    # A type openssl has no name for: dotted OID and the DER value in hex.
    "unknown-oid": [attr(x509.ObjectIdentifier("1.2.3.4.5"), "opaque"), attr(N.COMMON_NAME, "Unknown attr")],
}


def cert(name, key):
    now = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(0x5A5A).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    for case, attrs in CASES.items():
        with open(os.path.join(out, case + ".pem"), "wb") as f:
            f.write(cert(x509.Name(attrs), key).public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(out, "signer.pem"), "wb") as f:
        f.write(cert(x509.Name(CASES["t61"]), key).public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(out, "signer.key"), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


if __name__ == "__main__":
    main()
