#!/usr/bin/env bash
# Make signed MSI, CAB, script and Windows catalog fixtures with osslsigncode, their tampered and
# unsigned copies, and expected.json; every expectation is checked here with osslsigncode verify
# (a catalog member with `osslsigncode verify -catalog`).
#   scripts/make_win_fixtures.sh OUT_DIR   (unsigned MSI/CAB/PE inputs come from testdata/fs-suite)
# Tools: openssl (test PKI, TSA), osslsigncode, python3. The catalog's trust list is written by
# scripts/make_ctl.py (our own DER writer, laid out as makecat writes one); osslsigncode signs it.
set -euo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${SIGAUDIT_CORPUS:-$here/../testdata}"
for t in openssl osslsigncode python3; do
  command -v "$t" >/dev/null || { echo "make_win_fixtures: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
pki="$out/pki"; mkdir -p "$pki"; cd "$pki"
subj_prefix="/C=GB/O=sigaudit fixtures"
openssl req -x509 -newkey rsa:3072 -nodes -keyout root.key -out root.crt -days 3650 -subj "$subj_prefix/CN=sigaudit Fixture Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
mkleaf() { # name cn eku days
  openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$subj_prefix/CN=$2" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA root.crt -CAkey root.key -CAcreateserial -out "$1.crt" -days "$4" -extfile "$1.ext" 2>/dev/null
}
mkleaf signer "sigaudit Fixture Publisher" codeSigning 3650
mkleaf tsa "sigaudit Fixture TSA" critical,timeStamping 3650
cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $pki/tsaserial
crypto_device = builtin
default_policy = 1.2.3.4.1
signer_digest = sha256
digests = sha256, sha384, sha512, sha1
accuracy = secs:1
ordering = yes
tsa_name = no
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
echo 01 > tsaserial
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 "$here/tsa_server.py" "$port" "$pki" &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port)).close()" 2>/dev/null && break; sleep 0.1; done
tsa="http://127.0.0.1:$port/"

cd "$out"
expect=()
record() { expect+=("\"$1\": {\"status\": \"$2\", \"osslsigncode\": \"$3\"}"); }
sign() { osslsigncode sign -certs pki/signer.crt -key pki/signer.key -h sha256 "$@" >/dev/null; }
# osslsigncode verify's verdict on a file (with the fixture root trusted): ok or fail.
verdict() { if osslsigncode verify -CAfile pki/root.crt -TSA-CAfile pki/root.crt -ignore-crl "$@" >/dev/null 2>&1; then echo ok; else echo fail; fi; }
# Record a fixture with its expected status, after checking osslsigncode's verdict is the one given.
check() { # path status expected-osslsigncode-verdict [extra verify args]
  local got; got="$(verdict -in "$1" "${@:4}")"
  [ "$got" = "$3" ] || { echo "make_win_fixtures: osslsigncode says $got for $1, expected $3" >&2; exit 1; }
  record "$1" "$2" "$3"
}

# --- MSI (input: the wixl-built unsigned MSI of the corpus) ---
mkdir -p msi
cp "$corpus/fs-suite/msi/unsigned-base.msi" msi/unsigned.msi
sign -ts "$tsa" -in msi/unsigned.msi -out msi/signed-rfc3161.msi
sign -add-msi-dse -in msi/unsigned.msi -out msi/signed-dse.msi
python3 - "$out/msi" <<'PY'
import sys
d = sys.argv[1]
# A table stream changed: one letter of the manufacturer in the string pool (same size).
b = bytearray(open(f"{d}/signed-rfc3161.msi", "rb").read())
i = b.index(b"Example Software Ltd")
b[i + 19:i + 20] = b"x"
open(f"{d}/tampered-stream.msi", "wb").write(b)
# MsiDigitalSignatureEx: only a stream's modified time changed (contents intact), which the
# metadata pre-hash covers.
b = bytearray(open(f"{d}/signed-dse.msi", "rb").read())
i = b.index("\x05SummaryInformation".encode("utf-16-le"))
b[i + 108:i + 116] = bytes(range(1, 9))
open(f"{d}/tampered-dse-metadata.msi", "wb").write(b)
PY
check msi/unsigned.msi unsigned fail
check msi/signed-rfc3161.msi untrusted ok
check msi/signed-dse.msi untrusted ok
check msi/tampered-stream.msi invalid fail
check msi/tampered-dse-metadata.msi invalid fail

# --- CAB (input: the gcab-built unsigned cabinet of the corpus) ---
mkdir -p cab
cp "$corpus/fs-suite/cab/unsigned-base.cab" cab/unsigned.cab
sign -ts "$tsa" -in cab/unsigned.cab -out cab/signed-rfc3161.cab
python3 - "$out/cab" <<'PY'
import struct, sys
d = sys.argv[1]
b = bytearray(open(f"{d}/signed-rfc3161.cab", "rb").read())
sigpos = struct.unpack_from("<I", b, 44)[0]
b[sigpos - 1] ^= 0x01  # the last byte of the compressed data
open(f"{d}/tampered-data.cab", "wb").write(b)
PY
check cab/unsigned.cab unsigned fail
check cab/signed-rfc3161.cab untrusted ok
check cab/tampered-data.cab invalid fail

# --- scripts: every kind osslsigncode 2.9 signs (not .js: only later versions do), in UTF-8 (LF,
# CRLF with BOM) and UTF-16LE ---
mkdir -p scripts
printf 'Write-Host "hello from sigaudit"\n$x = 1\n' > scripts/unsigned.ps1
printf 'Write-Host "hello"\n$x = 1\n' > scripts/lf.ps1
printf '\xef\xbb\xbfWrite-Host "caf\xc3\xa9"\r\n$x = 1\r\n' > scripts/crlf-bom.ps1
python3 -c 'open("scripts/utf16.ps1","wb").write(b"\xff\xfe" + "Write-Host \"h\u00e9llo\"\r\n$y = 2\r\n".encode("utf-16-le"))'
printf 'function Get-Hello { "hello" }\nExport-ModuleMember -Function Get-Hello\n' > scripts/module.psm1
printf '@{ ModuleVersion = "1.0" }\n' > scripts/manifest.psd1
printf '<?xml version="1.0" encoding="utf-8"?>\n<Types><Type><Name>Hello</Name></Type></Types>\n' > scripts/types.ps1xml
printf '#pragma namespace("\\\\\\\\.\\\\root\\\\cimv2")\nclass Hello {};\n' > scripts/hello.mof
for f in lf.ps1 crlf-bom.ps1 utf16.ps1 module.psm1 manifest.psd1 types.ps1xml hello.mof; do
  sign -ts "$tsa" -in "scripts/$f" -out "scripts/signed-$f"
  rm "scripts/$f"
done
python3 - "$out/scripts" <<'PY'
import sys
d = sys.argv[1]
b = open(f"{d}/signed-lf.ps1", "rb").read()
open(f"{d}/tampered-line.ps1", "wb").write(b.replace(b"$x = 1", b"$x = 2", 1))
b = open(f"{d}/signed-utf16.ps1", "rb").read()
open(f"{d}/tampered-utf16.ps1", "wb").write(b.replace("$y = 2".encode("utf-16-le"), "$y = 3".encode("utf-16-le"), 1))
PY
check scripts/unsigned.ps1 unsigned fail
for f in lf.ps1 crlf-bom.ps1 utf16.ps1 module.psm1 manifest.psd1 types.ps1xml hello.mof; do
  check "scripts/signed-$f" untrusted ok
done
check scripts/tampered-line.ps1 invalid fail
check scripts/tampered-utf16.ps1 invalid fail

# --- the verdict rules PE follows: an expired signer (2020-2021, by `openssl ca`), a SHA-1 hash ---
mkdir -p pki/ca rules; : > pki/ca/index.txt; echo 1000 > pki/ca/serial
cat > pki/ca.cnf <<CNF
[ ca ]
default_ca = dflt
[ dflt ]
database = $pki/ca/index.txt
new_certs_dir = $pki/ca
serial = $pki/ca/serial
default_md = sha256
policy = any
[ any ]
commonName = supplied
organizationName = optional
countryName = optional
[ ext ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
CNF
openssl req -newkey rsa:2048 -nodes -keyout pki/expired.key -out pki/expired.csr -subj "$subj_prefix/CN=sigaudit Fixture Expired Publisher" 2>/dev/null
openssl ca -batch -notext -config pki/ca.cnf -cert pki/root.crt -keyfile pki/root.key -in pki/expired.csr -out pki/expired.crt \
  -startdate 20200101000000Z -enddate 20210101000000Z -extensions ext >/dev/null 2>&1
printf 'Write-Host "expired"\n' > rules/expired.tmp.ps1
cp msi/unsigned.msi rules/expired.tmp.msi
osslsigncode sign -certs pki/expired.crt -key pki/expired.key -h sha256 -in rules/expired.tmp.ps1 -out rules/expired-nots.ps1 >/dev/null
# Timestamped now, after the certificate expired: the timestamp lies outside its validity.
osslsigncode sign -certs pki/expired.crt -key pki/expired.key -h sha256 -ts "$tsa" -in rules/expired.tmp.msi -out rules/expired-ts-after.msi >/dev/null
printf 'Write-Host "sha1"\n' > rules/sha1.tmp.ps1
osslsigncode sign -certs pki/signer.crt -key pki/signer.key -h sha1 -in rules/sha1.tmp.ps1 -out rules/sha1.ps1 >/dev/null
rm rules/*.tmp.*
check rules/expired-nots.ps1 invalid fail
check rules/expired-ts-after.msi invalid fail
check rules/sha1.ps1 untrusted ok

# --- a Windows catalog and its members ---
mkdir -p cat/members cat-tampered
cp "$corpus/fs-suite/pe/unsigned-hello.exe" cat/members/hello.exe
printf '[Version]\r\nSignature="$Windows NT$"\r\nClass=Sample\r\n' > cat/members/driver.inf
printf 'legacy member listed by its SHA-1 hash\n' > cat/members/legacy.dat
# The Authenticode image hash of the unsigned PE, as osslsigncode computes it (from a signed copy).
sign -in cat/members/hello.exe -out pki/hello-signed.exe
pe_hash="$({ osslsigncode verify -in pki/hello-signed.exe 2>/dev/null || true; } | sed -n 's/^Calculated message digest *: *//p' | head -1 | tr -d ' \r')"
[ ${#pe_hash} -eq 64 ] || { echo "make_win_fixtures: no image hash from osslsigncode" >&2; exit 1; }
inf_hash="$(sha256sum cat/members/driver.inf | cut -d' ' -f1)"
legacy_hash="$(sha1sum cat/members/legacy.dat | cut -d' ' -f1)"
python3 "$here/make_ctl.py" pki/unsigned.cat "pe:hello.exe:$pe_hash" "file:driver.inf:$inf_hash" "sha1:legacy.dat:$legacy_hash"
cp pki/unsigned.cat cat/unsigned.cat
sign -ts "$tsa" -in pki/unsigned.cat -out cat/signed.cat
# A member changed after cataloguing, and a file the catalog does not list.
printf '[Version]\r\nSignature="$Windows NT$"\r\nClass=Changed\r\n' > cat/members/driver-changed.inf
cp "$corpus/fs-suite/pe/unsigned-hello.exe" cat/members/hello-patched.exe
python3 - "$out/cat/members/hello-patched.exe" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
e = struct.unpack_from("<I", b, 0x3c)[0]
sec = e + 24 + struct.unpack_from("<H", b, e + 20)[0]
b[struct.unpack_from("<I", b, sec + 20)[0] + 16] ^= 0xFF
open(sys.argv[1], "wb").write(b)
PY
# The catalog with one byte of its trust list changed (its list identifier): the signature fails,
# and so does every member it lists.
python3 - "$out/cat/signed.cat" "$out/cat-tampered/tampered.cat" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.index(bytes(range(16)))
b[i + 15] ^= 0x01
open(sys.argv[2], "wb").write(b)
PY
cp cat/members/hello.exe cat-tampered/hello.exe
check cat/signed.cat untrusted ok
check cat/unsigned.cat unsigned fail
check cat-tampered/tampered.cat invalid fail
# Members: osslsigncode verify -catalog checks the file's hash is listed and the catalog's signature.
check cat/members/hello.exe untrusted ok -catalog cat/signed.cat
check cat/members/hello-patched.exe unsigned fail -catalog cat/signed.cat
# Flat files: osslsigncode verifies no catalog member it has no format for; the listed hash is
# sha256sum's (sha1sum's for legacy.dat), the catalog's signature osslsigncode's.
record cat/members/driver.inf untrusted "-"
record cat/members/legacy.dat untrusted "-"
record cat/members/driver-changed.inf skipped "-"
check cat-tampered/hello.exe invalid fail -catalog cat-tampered/tampered.cat

rm pki/hello-signed.exe pki/unsigned.cat
(IFS=,; printf '{%s}\n' "${expect[*]}") > expected.json
echo "make_win_fixtures: ${#expect[@]} fixtures in $out (verdicts confirmed by osslsigncode verify)" >&2
