#!/usr/bin/env bash
# Make the APK fixtures of testdata/apk/ with Debian's apksigner and zipalign: v1/v2/v3 signing,
# v2-only, v3-only, ECDSA and DSA keys, key rotation with a proof-of-rotation lineage (apksigner
# rotate, sign --lineage), and tampered copies (python3: bytes flipped in an entry, the central
# directory, the signing block; a scheme's block cut out of the APK Signing Block; the v2 signer's
# public key swapped for another key that re-signs the signed data, with python's cryptography).
#   scripts/make_apk_fixtures.sh [OUT_DIR]     (default: testdata/apk)
# Every fixture's `apksigner verify` verdict is checked here (tests/apk_files.rs checks it again
# next to sigaudit's). Keys are throw-away: only the certificates are kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../testdata/apk}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
for t in openssl python3 apksigner zipalign; do
  command -v "$t" >/dev/null || { echo "make_apk_fixtures: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"

# The unsigned APK: a placeholder manifest (so every verify names --min-sdk-version), a dex-like
# entry stored, a resource deflated; aligned as apksigner expects.
python3 - <<'PY'
import zipfile
with zipfile.ZipFile("raw.apk", "w") as z:
    z.writestr(zipfile.ZipInfo("AndroidManifest.xml", (2026, 1, 1, 0, 0, 0)), b"<manifest package='org.sigaudit.fixture'/>\n")
    info = zipfile.ZipInfo("classes.dex", (2026, 1, 1, 0, 0, 0))
    z.writestr(info, b"dex\n035\0" + bytes(range(256)) * 16, compress_type=zipfile.ZIP_STORED)
    info = zipfile.ZipInfo("res/values/strings.txt", (2026, 1, 1, 0, 0, 0))
    z.writestr(info, b"hello from a sigaudit fixture\n" * 40, compress_type=zipfile.ZIP_DEFLATED)
PY
zipalign -f 4 raw.apk unsigned.apk
cp unsigned.apk "$out/unsigned.apk"

mkkey() { # name keyalg cn
  openssl req -x509 -new -nodes -sha256 -days 36500 -newkey "$2" -keyout "$1.key" -out "$1.pem" \
    -subj "/O=sigaudit fixtures/CN=$3" -addext basicConstraints=critical,CA:FALSE -addext keyUsage=digitalSignature 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$1.key" -outform DER -out "$1.pk8"
  cp "$1.pem" "$out/apk-cert-$1.pem"
}
mkkey rsa rsa:2048 "sigaudit APK signer RSA"
mkkey ec ec:<(openssl ecparam -name prime256v1) "sigaudit APK signer ECDSA"
mkkey dsa dsa:<(openssl dsaparam 2048 2>/dev/null) "sigaudit APK signer DSA"
mkkey new rsa:2048 "sigaudit APK signer RSA rotated"

sign() { # out key [apksigner options]
  local o="$1" k="$2"; shift 2
  apksigner sign --key "$k.pk8" --cert "$k.pem" --v4-signing-enabled false --out "$o" "$@" unsigned.apk
  rm -f "$o.idsig"
}
sign "$out/apk-v1v2v3-rsa.apk" rsa --min-sdk-version 21
sign "$out/apk-v2-only.apk" rsa --min-sdk-version 24 --v1-signing-enabled false --v3-signing-enabled false
sign "$out/apk-v3-only.apk" rsa --min-sdk-version 28 --v1-signing-enabled false --v2-signing-enabled false
sign "$out/apk-v2v3-ec.apk" ec --min-sdk-version 24 --v1-signing-enabled false
sign "$out/apk-v1v2-dsa.apk" dsa --min-sdk-version 21 --v3-signing-enabled false
sign "$out/apk-v1-only.apk" rsa --min-sdk-version 21 --v2-signing-enabled false --v3-signing-enabled false
# Minimum SDK 14: apksigner signs v1 with SHA-1 (SHA1withRSA, SHA1-Digest), v2/v3 with SHA-256.
sign "$out/apk-v1-sha1.apk" rsa --min-sdk-version 14
# A signing certificate that expired in 2021 (python cryptography); Android ignores validity.
python3 - <<'PY'
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit fixtures"),
                  x509.NameAttribute(NameOID.COMMON_NAME, "sigaudit APK signer expired")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(datetime.datetime(2021, 1, 1))
        .sign(key, hashes.SHA256()))
open("expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open("expired.pk8", "wb").write(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
PY
cp expired.pem "$out/apk-cert-expired.pem"
sign "$out/apk-expired-cert.apk" expired --min-sdk-version 24 --v1-signing-enabled false
# Key rotation: v1/v2 by the old key, v3 by the new one with the lineage old -> new.
apksigner rotate --out lineage.bin --old-signer --key rsa.pk8 --cert rsa.pem --new-signer --key new.pk8 --cert new.pem
apksigner sign --key rsa.pk8 --cert rsa.pem --next-signer --key new.pk8 --cert new.pem --lineage lineage.bin \
  --min-sdk-version 21 --v4-signing-enabled false --out "$out/apk-rotated.apk" unsigned.apk
# The old key's capabilities cut down (apksigner lineage): the flags the lineage reports.
apksigner lineage --in lineage.bin --out lineage-revoked.bin --signer --key rsa.pk8 --cert rsa.pem \
  --set-permission false --set-shared-uid false
apksigner sign --key rsa.pk8 --cert rsa.pem --next-signer --key new.pk8 --cert new.pem --lineage lineage-revoked.bin \
  --min-sdk-version 21 --v4-signing-enabled false --out "$out/apk-rotated-revoked.apk" unsigned.apk
rm -f "$out"/*.idsig

# Tampered copies (apk_edit.py: byte-level edits; sizes and offsets kept consistent where said).
cat > apk_edit.py <<'PY'
import struct, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

def layout(b):
    e = b.rindex(b"PK\x05\x06")
    cd_size, cd = struct.unpack("<II", b[e + 12:e + 20])
    assert b[cd - 16:cd] == b"APK Sig Block 42"
    size, = struct.unpack("<Q", b[cd - 24:cd - 16])
    start = cd - size - 8
    return e, cd, start

def pairs(b, start, cd):
    pos, out = start + 8, []
    while pos < cd - 24:
        n, = struct.unpack("<Q", b[pos:pos + 8])
        i, = struct.unpack("<I", b[pos + 8:pos + 12])
        out.append((i, pos, pos + 8 + n))
        pos += 8 + n
    return out

def drop_pair(b, ident):
    """Cut one ID-value pair out of the block; fix both sizes and the EOCD's CD offset."""
    e, cd, start = layout(b)
    [(i, a, z)] = [p for p in pairs(b, start, cd) if p[0] == ident]
    nb = b[:a] + b[z:]
    cut = z - a
    size, = struct.unpack("<Q", b[start:start + 8])
    nb = bytearray(nb)
    struct.pack_into("<Q", nb, start, size - cut)
    struct.pack_into("<Q", nb, cd - cut - 24, size - cut)
    e -= cut
    struct.pack_into("<I", nb, e + 16, cd - cut)
    return bytes(nb)

def copy_pair(b, ident, new_ident, keep):
    """Copy one ID-value pair under another ID (v3 -> v3.1: the same format), appended to the
    block, or in its place when not `keep`; fix both sizes and the EOCD's CD offset."""
    e, cd, start = layout(b)
    [(i, a, z)] = [p for p in pairs(b, start, cd) if p[0] == ident]
    pair = bytearray(b[a:z])
    struct.pack_into("<I", pair, 8, new_ident)
    if not keep:
        nb = bytearray(b)
        nb[a:z] = pair
        return bytes(nb)
    grow = len(pair)
    size, = struct.unpack("<Q", b[start:start + 8])
    nb = bytearray(b[:cd - 24] + bytes(pair) + b[cd - 24:])
    struct.pack_into("<Q", nb, start, size + grow)
    struct.pack_into("<Q", nb, cd + grow - 24, size + grow)
    struct.pack_into("<I", nb, e + grow + 16, cd + grow)
    return bytes(nb)

def drop_block(b):
    """Remove the whole APK Signing Block (v1 stays intact): the downgrade."""
    e, cd, start = layout(b)
    nb = bytearray(b[:start] + b[cd:])
    struct.pack_into("<I", nb, e - (cd - start) + 16, start)
    return bytes(nb)

def flip(b, at):
    nb = bytearray(b)
    nb[at] ^= 0x01
    return bytes(nb)

def swap_key(b, new_key_pem):
    """Replace the v2 signer's public key with another RSA-2048 key and re-sign its signed data
    (RSA PKCS#1 v1.5 SHA-256, 0x0103) with it; the certificate stays the original's."""
    e, cd, start = layout(b)
    [(_, a, z)] = [p for p in pairs(b, start, cd) if p[0] == 0x7109871a]
    v = a + 12
    u32 = lambda o: struct.unpack("<I", b[o:o + 4])[0]
    signer = v + 4 + 4                      # signers sequence length, first signer length
    sd_len = u32(signer); sd = signer + 4
    sigs_len = u32(sd + sd_len); sigs = sd + sd_len + 4
    first = sigs                            # first signature record: length, algorithm, signature
    alg = u32(first + 4); assert alg == 0x0103, hex(alg)
    sig_len = u32(first + 8); sig_at = first + 12
    pk_len = u32(sigs + sigs_len); pk_at = sigs + sigs_len + 4
    key = serialization.load_pem_private_key(open(new_key_pem, "rb").read(), None)
    spki = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert len(spki) == pk_len
    sig = key.sign(b[sd:sd + sd_len], padding.PKCS1v15(), hashes.SHA256())
    assert len(sig) == sig_len
    nb = bytearray(b)
    nb[sig_at:sig_at + sig_len] = sig
    nb[pk_at:pk_at + pk_len] = spki
    return bytes(nb)

def entry_data(b, name):
    """Offset of a stored entry's data: its local header names it."""
    h = b.index(b"PK\x03\x04")
    while True:
        n, m = struct.unpack("<HH", b[h + 26:h + 30])
        csize, = struct.unpack("<I", b[h + 18:h + 22])
        if b[h + 30:h + 30 + n] == name.encode():
            return h + 30 + n + m
        h = b.index(b"PK\x03\x04", h + 30 + n + m + csize)

src, dst, op = sys.argv[1], sys.argv[2], sys.argv[3]
b = open(src, "rb").read()
if op == "entry":
    b = flip(b, entry_data(b, "classes.dex") + 100)
elif op == "cd":
    e, cd, start = layout(b)
    b = flip(b, cd + 12)   # the first entry's last-modified time in the central directory
elif op == "block":
    e, cd, start = layout(b)
    [(_, a, z)] = [p for p in pairs(b, start, cd) if p[0] == 0x7109871a]
    b = flip(b, z - 300)   # inside the v2 signer's signature
elif op == "drop-block":
    b = drop_block(b)
elif op == "drop-v2":
    b = drop_pair(b, 0x7109871a)
elif op == "drop-v3":
    b = drop_pair(b, 0xf05368c0)
elif op == "v3-as-v31":
    b = copy_pair(b, 0xf05368c0, 0x1b93ad61, False)
elif op == "add-v31":
    b = copy_pair(b, 0xf05368c0, 0x1b93ad61, True)
elif op == "swap-key":
    b = swap_key(b, sys.argv[4])
open(dst, "wb").write(b)
PY
openssl req -x509 -new -nodes -days 36500 -newkey rsa:2048 -keyout other.key -out other.pem -subj "/CN=other" 2>/dev/null
edit() { python3 apk_edit.py "$@"; }
edit "$out/apk-v1v2v3-rsa.apk" "$out/apk-tampered-entry.apk" entry
edit "$out/apk-v1v2v3-rsa.apk" "$out/apk-tampered-cd.apk" cd
edit "$out/apk-v1v2v3-rsa.apk" "$out/apk-tampered-block.apk" block
edit "$out/apk-v1v2v3-rsa.apk" "$out/apk-downgrade-v1-only.apk" drop-block
edit "$out/apk-v1v2v3-rsa.apk" "$out/apk-v2-removed.apk" drop-v2
edit "$out/apk-v2v3-ec.apk" "$out/apk-v3-stripped.apk" drop-v3
edit "$out/apk-v2-only.apk" "$out/apk-wrong-key.apk" swap-key other.key
# v3.1 has v3's format under another ID: the v3 signer copied beside it (apksigner 31 predates
# v3.1 and ignores the block), or renamed (then v3 is missing).
edit "$out/apk-v2v3-ec.apk" "$out/apk-v3-and-v31.apk" add-v31
edit "$out/apk-v2v3-ec.apk" "$out/apk-v31-without-v3.apk" v3-as-v31

# apksigner's verdicts (the test checks them again next to sigaudit's).
check() { # apk min-sdk expect(ok|fail)
  if apksigner verify --min-sdk-version "$2" "$1" >/dev/null 2>&1; then got=ok; else got=fail; fi
  [ "$got" = "$3" ] || { echo "make_apk_fixtures: apksigner verify $1: $got, expected $3" >&2; apksigner verify -v --min-sdk-version "$2" "$1" >&2 || true; exit 1; }
}
check "$out/unsigned.apk" 21 fail
check "$out/apk-v1v2v3-rsa.apk" 21 ok
check "$out/apk-v2-only.apk" 24 ok
check "$out/apk-v3-only.apk" 28 ok
check "$out/apk-v2v3-ec.apk" 24 ok
check "$out/apk-v1v2-dsa.apk" 21 ok
check "$out/apk-v1-only.apk" 21 ok
check "$out/apk-rotated.apk" 21 ok
check "$out/apk-v1-sha1.apk" 14 ok
check "$out/apk-expired-cert.apk" 24 ok
check "$out/apk-rotated-revoked.apk" 21 ok
check "$out/apk-tampered-entry.apk" 21 fail
check "$out/apk-tampered-cd.apk" 21 fail
check "$out/apk-tampered-block.apk" 21 fail
check "$out/apk-downgrade-v1-only.apk" 21 fail
check "$out/apk-v2-removed.apk" 21 fail
check "$out/apk-v3-stripped.apk" 24 fail
check "$out/apk-wrong-key.apk" 24 fail
check "$out/apk-v3-and-v31.apk" 24 ok
check "$out/apk-v31-without-v3.apk" 24 fail
echo "make_apk_fixtures: $(ls "$out" | wc -l) files in $out" >&2
