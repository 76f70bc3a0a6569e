"""DER and CMS building blocks for the adversarial file fixtures (scripts/make_adversarial_fs.sh)
and the forging TSA (scripts/tsa_forge.py). Independent of sigaudit: a small DER codec written
here, signatures by Python `cryptography`. Only what the fixtures need: definite lengths, DER."""
import datetime
import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

# --- DER ---------------------------------------------------------------------------------------
SEQ, SET, INT, OCT, OID_T, NULL, BOOL, GENTIME, UTF8 = 0x30, 0x31, 0x02, 0x04, 0x06, 0x05, 0x01, 0x18, 0x0C


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, content=b""):
    return bytes([tag]) + enc_len(len(content)) + content


def seq(*parts):
    return tlv(SEQ, b"".join(parts))


def der_set(*parts, sort=True):
    parts = sorted(parts) if sort else list(parts)
    return tlv(SET, b"".join(parts))


def integer(n):
    if n == 0:
        return tlv(INT, b"\x00")
    b = n.to_bytes((n.bit_length() + 8) // 8, "big", signed=False)
    return tlv(INT, b)


def octets(b):
    return tlv(OCT, b)


def explicit(n, inner):
    return tlv(0xA0 + n, inner)


def gentime(t):
    return tlv(GENTIME, t.strftime("%Y%m%d%H%M%SZ").encode())


def utctime(t):
    return tlv(0x17, t.strftime("%y%m%d%H%M%SZ").encode())


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
    return tlv(OID_T, bytes(out))


def oid_str(content):
    arcs, v = [], 0
    for b in content:
        v = (v << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(v)
            v = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first] + arcs[1:])


def read(b, off=0):
    """One TLV at `off`: (tag, content_start, end)."""
    tag = b[off]
    n = b[off + 1]
    if n < 0x80:
        return tag, off + 2, off + 2 + n
    k = n & 0x7F
    length = int.from_bytes(b[off + 2 : off + 2 + k], "big")
    return tag, off + 2 + k, off + 2 + k + length


class Node:
    """A DER element: constructed ones hold children, primitive ones their content."""

    def __init__(self, tag, content=b"", children=None):
        self.tag, self.content, self.children = tag, content, children

    @staticmethod
    def parse(b, off=0):
        tag, start, end = read(b, off)
        if tag & 0x20:
            kids, p = [], start
            while p < end:
                kids.append(Node.parse(b, p))
                p = read(b, p)[2]
            return Node(tag, children=kids)
        return Node(tag, content=b[start:end])

    def der(self):
        if self.children is not None:
            return tlv(self.tag, b"".join(c.der() for c in self.children))
        return tlv(self.tag, self.content)

    def __getitem__(self, i):
        return self.children[i]

    def oid(self):
        return oid_str(self.content)


def children(b):
    out, p = [], 0
    while p < len(b):
        end = read(b, p)[2]
        out.append(b[p:end])
        p = end
    return out


# --- OIDs --------------------------------------------------------------------------------------
ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_TST_INFO = "1.2.840.113549.1.9.16.1.4"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ID_SIGNING_TIME = "1.2.840.113549.1.9.5"
ID_SIGNING_CERT_V2 = "1.2.840.113549.1.9.16.2.47"
SHA256 = "2.16.840.1.101.3.4.2.1"
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"
SHA256_RSA = "1.2.840.113549.1.1.11"
MD5_RSA = "1.2.840.113549.1.1.4"


def alg(dotted, null=True):
    return seq(oid(dotted), tlv(NULL) if null else b"")


# --- certificates ------------------------------------------------------------------------------
def cert_der(cert):
    return cert.public_bytes(serialization.Encoding.DER)


def issuer_and_serial(cert):
    """IssuerAndSerialNumber of a certificate, from its exact DER bytes."""
    tbs = Node.parse(cert_der(cert))[0]
    i = 1 if tbs[0].tag == 0xA0 else 0
    return seq(tbs[i + 2].der(), tbs[i].der())  # issuer, serialNumber


def sign_bytes(key, data):
    """(signatureAlgorithm DER, signature) by `key` over `data` with SHA-256."""
    if isinstance(key, rsa.RSAPrivateKey):
        return alg(RSA_ENCRYPTION), key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return seq(oid(ECDSA_SHA256)), key.sign(data, ec.ECDSA(hashes.SHA256()))
    raise ValueError("unsupported key")


def attribute(dotted, *values):
    return seq(oid(dotted), der_set(*values))


def signer_info(cert, key, attrs, unsigned=b""):
    """A version 1 SignerInfo with SHA-256 and the given signed attributes (DER SET order)."""
    signed = der_set(*attrs)
    sig_alg, sig = sign_bytes(key, signed)
    # The attributes go in as [0] IMPLICIT: the content of the SET that was signed.
    body = integer(1) + issuer_and_serial(cert) + alg(SHA256) + tlv(0xA0, _content(signed)) + sig_alg + octets(sig)
    if unsigned:
        body += unsigned
    return seq(body)


def _content(t):
    _, start, end = read(t)
    return t[start:end]


def signed_data(econtent_type, econtent, certs, signer_infos, version=1):
    """ContentInfo(SignedData) with SHA-256, `econtent` (None: detached) and the certificates."""
    encap = oid(econtent_type) + (explicit(0, econtent) if econtent is not None else b"")
    body = (
        integer(version)
        + der_set(alg(SHA256))
        + seq(encap)
        + tlv(0xA0, b"".join(cert_der(c) for c in certs))
        + der_set(*signer_infos)
    )
    return seq(oid(ID_SIGNED_DATA), explicit(0, seq(body)))


def ess_signing_cert_v2(cert):
    """signingCertificateV2 attribute naming `cert` by its SHA-256 (RFC 5816)."""
    h = hashlib.sha256(cert_der(cert)).digest()
    return attribute(ID_SIGNING_CERT_V2, seq(seq(seq(octets(h)))))


def utc(dt):
    return dt.astimezone(datetime.timezone.utc)


def load_pem_certs(pem):
    out, marker = [], b"-----END CERTIFICATE-----"
    for block in pem.split(marker)[:-1]:
        out.append(x509.load_pem_x509_certificate(block.strip() + b"\n" + marker + b"\n"))
    return out
