#!/usr/bin/env bash
# Make the signed kernel-module fixtures of testdata/kmod/ with independent tools: openssl cms
# signs (the flags the kernel's scripts/sign-file uses: detached, binary, no attributes, no
# certificates, no S/MIME capabilities), python3 appends struct module_signature and the magic
# trailer as include/linux/module_signature.h lays them out. The input is a real module: Debian's
# signed crc7.ko (testdata/fs-suite/real-linux/) with its own signature cut off.
#   scripts/make_kmod_fixtures.sh [OUT_DIR]     (default: testdata/kmod)
# Every fixture's verdict is checked here with `openssl cms -verify` (tests/kmod_files.rs checks
# them again next to sigaudit's). Keys are throw-away: only the certificates are kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../testdata/kmod}"
mkdir -p "$out"; out="$(cd "$out" && pwd)"
for t in openssl python3; do
  command -v "$t" >/dev/null || { echo "make_kmod_fixtures: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
cd "$work"

# split MODULE BODY SIG: the content and the PKCS#7 of an appended signature.
split() {
  python3 - "$@" <<'PY'
import struct, sys
b = open(sys.argv[1], 'rb').read()
magic = b"~Module signature appended~\n"
assert b.endswith(magic), "no signature trailer"
end = len(b) - len(magic)
sig_len, = struct.unpack(">I", b[end - 4:end])
start = end - 12 - sig_len
open(sys.argv[2], 'wb').write(b[:start])
open(sys.argv[3], 'wb').write(b[start:end - 12])
PY
}
# append BODY SIG OUT: the module as sign-file writes it.
append() {
  python3 - "$@" <<'PY'
import struct, sys
body, sig = open(sys.argv[1], 'rb').read(), open(sys.argv[2], 'rb').read()
info = struct.pack(">BBBBB3xI", 0, 0, 2, 0, 0, len(sig))
open(sys.argv[3], 'wb').write(body + sig + info + b"~Module signature appended~\n")
PY
}
# sign BODY CERT KEY OUT [openssl cms options]
sign() {
  local body="$1" cert="$2" key="$3" o="$4"; shift 4
  openssl cms -sign -binary -noattr -nosmimecap -outform DER -md sha256 -in "$body" -signer "$cert" -inkey "$key" -out sig.p7 "$@"
  append "$body" sig.p7 "$o"
}
# verify MODULE CERT: openssl's verdict on the signature (exit status).
verify() {
  split "$1" v.body v.p7
  openssl cms -verify -binary -inform DER -in v.p7 -content v.body -certfile "$2" -noverify -out /dev/null 2>/dev/null
}

real="$here/../testdata/fs-suite/real-linux/debian-6.1.0-56-crc7.ko"
split "$real" unsigned.ko real.p7
cp unsigned.ko "$out/unsigned-crc7.ko"

# Keys and self-signed certificates as the kernel's certs/default_x509.genkey makes them.
mkcert() { # name keyopts cn [days]
  openssl req -x509 -new -nodes -utf8 -sha256 -days "${4:-36500}" -newkey "$2" -keyout "$1.key" -out "$1.pem" \
    -subj "/O=sigaudit fixtures/CN=$3" -addext basicConstraints=critical,CA:FALSE -addext keyUsage=digitalSignature \
    -addext subjectKeyIdentifier=hash -addext authorityKeyIdentifier=keyid 2>/dev/null
}
mkcert rsa rsa:2048 "sigaudit kmod key RSA"
mkcert ec ec:<(openssl ecparam -name prime256v1) "sigaudit kmod key ECDSA"
cp rsa.pem "$out/kmod-key-rsa.pem"; cp ec.pem "$out/kmod-key-ec.pem"

sign unsigned.ko rsa.pem rsa.key "$out/kmod-rsa-sha256.ko" -nocerts
sign unsigned.ko ec.pem ec.key "$out/kmod-ec-keyid.ko" -nocerts -keyid
sign unsigned.ko rsa.pem rsa.key "$out/kmod-rsa-with-cert.ko"
# Tampered: one byte of the module text flipped after signing.
python3 - "$out/kmod-rsa-sha256.ko" "$out/kmod-tampered.ko" <<'PY'
import sys
b = bytearray(open(sys.argv[1], 'rb').read())
b[0x100] ^= 0x01
open(sys.argv[2], 'wb').write(bytes(b))
PY
# Impostor: a certificate with the RSA key's issuer and serial but another key signs the module; the
# signature names the real key, whose certificate then fails it.
serial="$(openssl x509 -in rsa.pem -noout -serial | cut -d= -f2)"
openssl req -x509 -new -nodes -sha256 -days 36500 -newkey rsa:2048 -keyout imp.key -out imp.pem -set_serial "0x$serial" \
  -subj "/O=sigaudit fixtures/CN=sigaudit kmod key RSA" -addext basicConstraints=critical,CA:FALSE \
  -addext keyUsage=digitalSignature 2>/dev/null
sign unsigned.ko imp.pem imp.key "$out/kmod-impostor.ko" -nocerts
# Expired: signed with a certificate whose validity ended in 2021 (no timestamp can help).
python3 - <<'PY'
import datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit fixtures"),
                  x509.NameAttribute(NameOID.COMMON_NAME, "sigaudit kmod key expired")])
cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(datetime.datetime(2020, 1, 1)).not_valid_after(datetime.datetime(2021, 1, 1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256()))
open("expired.pem", "wb").write(cert.public_bytes(serialization.Encoding.PEM))
open("expired.key", "wb").write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
PY
cp expired.pem "$out/kmod-key-expired.pem"
sign unsigned.ko expired.pem expired.key "$out/kmod-expired.ko" -nocerts

# The independent verdicts, as PROVENANCE.md records them.
check() { # module cert expect(ok|fail)
  if verify "$1" "$2"; then got=ok; else got=fail; fi
  [ "$got" = "$3" ] || { echo "make_kmod_fixtures: openssl cms -verify $1 with $2: $got, expected $3" >&2; exit 1; }
}
check "$real" "$here/../testdata/fs-suite/real-linux/debian-6.1.0-56-module-signing-cert.pem" ok
check "$out/kmod-rsa-sha256.ko" rsa.pem ok
check "$out/kmod-ec-keyid.ko" ec.pem ok
check "$out/kmod-rsa-with-cert.ko" rsa.pem ok
check "$out/kmod-tampered.ko" rsa.pem fail
check "$out/kmod-impostor.ko" rsa.pem fail
check "$out/kmod-expired.ko" expired.pem ok
check "$out/kmod-rsa-sha256.ko" ec.pem fail
echo "make_kmod_fixtures: $(ls "$out" | wc -l) files in $out" >&2
