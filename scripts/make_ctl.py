#!/usr/bin/env python3
"""Write an unsigned Windows catalog (PKCS#7 SignedData, no signers, over a certificate trust
list), laid out as makecat writes a version 2 catalog (see osslsigncode's tests/files/unsigned.cat):
each member's subject identifier is its SHA-256 hash, with a CAT_NAMEVALUE "File" attribute and an
SpcIndirectDataContent naming the hash (SpcPeImageData for a PE, whose hash is the Authenticode
image hash; the flat-file type 1.3.6.1.4.1.311.2.1.25 otherwise). A `sha1:` member is written the
version 1 way: its subject identifier is the SHA-1 hash as UTF-16 hex text, with no SpcIndirectDataContent.
osslsigncode then signs the catalog; this script only writes the list, with its own small DER
encoder (nothing from sigaudit).

usage: make_ctl.py OUT.cat pe:NAME:SHA256HEX | file:NAME:SHA256HEX | sha1:NAME:SHA1HEX ...
CTL_USAGE=OID writes another subjectUsage than szOID_CATALOG_LIST (a trust list that is no catalog).
"""
import os
import sys


def tlv(tag, body):
    n = len(body)
    if n < 0x80:
        ln = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        ln = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + ln + body


def seq(*xs):
    return tlv(0x30, b"".join(xs))


def set_(*xs):
    return tlv(0x31, b"".join(sorted(xs)))


def oid(s):
    parts = [int(p) for p in s.split(".")]
    out = bytes([40 * parts[0] + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.insert(0, 0x80 | (p & 0x7F))
            p >>= 7
        out += bytes(enc)
    return tlv(0x06, out)


def octets(b):
    return tlv(0x04, b)


def integer(i):
    return tlv(0x02, i.to_bytes((i.bit_length() + 8) // 8, "big"))


SHA256 = seq(oid("2.16.840.1.101.3.4.2.1"), b"\x05\x00")


def name_value(name):
    value = (name + "\0").encode("utf-16-le")
    nv = seq(tlv(0x1E, "File".encode("utf-16-be")), integer(0x10010001), octets(value))
    return seq(oid("1.3.6.1.4.1.311.12.2.1"), set_(nv))


def member(kind, name, digest_hex):
    d = bytes.fromhex(digest_hex)
    member_info = seq(oid("1.3.6.1.4.1.311.12.2.3"), set_(tlv(0x82, b"")))
    if kind == "sha1":
        return seq(octets(digest_hex.upper().encode("utf-16-le")), set_(member_info, name_value(name)))
    if kind == "pe":
        # SpcPeImageData { flags BIT STRING, file [0] SpcLink { file [2] SpcString { unicode [0] "" } } }
        data = seq(oid("1.3.6.1.4.1.311.2.1.15"), seq(tlv(0x03, b"\x00"), tlv(0xA0, tlv(0xA2, tlv(0x80, b"")))))
    else:
        data = seq(oid("1.3.6.1.4.1.311.2.1.25"), tlv(0xA2, tlv(0x80, b"")))
    indirect = seq(data, seq(SHA256, octets(d)))
    attrs = set_(member_info, name_value(name), seq(oid("1.3.6.1.4.1.311.2.1.4"), set_(indirect)))
    return seq(octets(d), attrs)


def main():
    out, specs = sys.argv[1], sys.argv[2:]
    members = [member(*s.split(":", 2)) for s in specs]
    ctl = seq(
        seq(oid(os.environ.get("CTL_USAGE", "1.3.6.1.4.1.311.12.1.1"))),  # subjectUsage: szOID_CATALOG_LIST
        octets(bytes(range(16))),  # listIdentifier
        tlv(0x17, b"261122000000Z"),  # thisUpdate
        seq(oid("1.3.6.1.4.1.311.12.1.3"), b"\x05\x00"),  # subjectAlgorithm: catalog list member v2
        seq(*members),
    )
    signed_data = seq(integer(1), set_(), seq(oid("1.3.6.1.4.1.311.10.1"), tlv(0xA0, ctl)), set_())
    open(out, "wb").write(seq(oid("1.2.840.113549.1.7.2"), tlv(0xA0, signed_data)))


main()
