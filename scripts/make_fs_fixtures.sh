#!/usr/bin/env bash
# Make signed PE and JAR fixtures with independent tools, tampered and unsigned copies, and
# expected.json; every expectation is checked here with osslsigncode verify / jarsigner -verify.
#   scripts/make_fs_fixtures.sh OUT_DIR     (the unsigned PE input comes from testdata/, or $SIGAUDIT_CORPUS)
# Tools: openssl (test PKI, TSA), osslsigncode, JDK keytool/jarsigner/jar, python3.
set -euo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${SIGAUDIT_CORPUS:-$here/../testdata}"
for t in openssl osslsigncode jarsigner keytool jar python3; do
  command -v "$t" >/dev/null || { echo "make_fs_fixtures: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
pki="$out/pki"; mkdir -p "$pki"; cd "$pki"
subj_prefix="/C=GB/O=sigaudit fixtures"

# --- test PKI: root, code-signing leaf, TSA ---
openssl req -x509 -newkey rsa:3072 -nodes -keyout root.key -out root.crt -days 3650 -subj "$subj_prefix/CN=sigaudit Fixture Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
mkleaf() { # name cn eku days [startdate]
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

# --- the TSA on 127.0.0.1 ---
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
python3 "$here/tsa_server.py" "$port" "$pki" &
tsa_pid=$!
trap 'kill $tsa_pid 2>/dev/null' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1',$port)).close()" 2>/dev/null && break; sleep 0.1; done
tsa="http://127.0.0.1:$port/"

cd "$out"
expect=()
record() { expect+=("\"$1\": {\"status\": \"$2\", \"signer\": \"$3\"}"); }
signer_dn="CN=sigaudit Fixture Publisher, O=sigaudit fixtures, C=GB"

# --- PE (input: the unsigned mingw-w64 hello from the corpus) ---
mkdir -p pe/deep/er
cp "$corpus/fs-suite/pe/unsigned-hello.exe" pe/unsigned.exe
osslsigncode sign -certs pki/signer.crt -key pki/signer.key -h sha256 -in pe/unsigned.exe -out pe/signed-nots.exe >/dev/null
osslsigncode sign -certs pki/signer.crt -key pki/signer.key -h sha256 -ts "$tsa" -in pe/unsigned.exe -out pe/deep/signed-rfc3161.exe >/dev/null
osslsigncode sign -certs pki/signer.crt -key pki/signer.key -h sha1 -in pe/unsigned.exe -out pe/sha1.tmp.exe >/dev/null
osslsigncode sign -certs pki/signer.crt -key pki/signer.key -h sha256 -nest -ts "$tsa" -in pe/sha1.tmp.exe -out pe/deep/er/dual-nested.exe >/dev/null
rm pe/sha1.tmp.exe
# Tampered: one byte inside the first section's raw data.
python3 - "$out/pe/deep/signed-rfc3161.exe" "$out/pe/tampered-section.exe" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
e = struct.unpack_from("<I", b, 0x3c)[0]
optsz = struct.unpack_from("<H", b, e + 20)[0]
sec = e + 24 + optsz
ptr = struct.unpack_from("<I", b, sec + 20)[0]
b[ptr + 16] ^= 0xFF
open(sys.argv[2], "wb").write(b)
PY
verify_pe() { osslsigncode verify -CAfile pki/root.crt -TSA-CAfile pki/root.crt -ignore-crl -in "$1" >/dev/null 2>&1; }
verify_pe pe/signed-nots.exe && verify_pe pe/deep/signed-rfc3161.exe && verify_pe pe/deep/er/dual-nested.exe \
  || { echo "make_fs_fixtures: osslsigncode rejects a good PE" >&2; exit 1; }
! verify_pe pe/tampered-section.exe || { echo "make_fs_fixtures: osslsigncode accepts the tampered PE" >&2; exit 1; }
record pe/unsigned.exe unsigned ""
record pe/signed-nots.exe untrusted "$signer_dn"
record pe/deep/signed-rfc3161.exe untrusted "$signer_dn"
record pe/deep/er/dual-nested.exe untrusted "$signer_dn"
record pe/tampered-section.exe invalid "$signer_dn"

# --- JAR ---
mkdir -p jar/src/docs jar/lib
echo "hello from sigaudit fixtures" > jar/src/hello.txt
echo "read me" > jar/src/docs/readme.txt
(cd jar/src && jar --create --file ../unsigned.jar hello.txt docs/readme.txt)
openssl pkcs12 -export -in pki/signer.crt -inkey pki/signer.key -certfile pki/root.crt -name signer -out pki/signer.p12 -passout pass:changeit
keytool -importcert -noprompt -alias root -file pki/root.crt -keystore pki/trust.p12 -storetype PKCS12 -storepass changeit >/dev/null 2>&1
js() { jarsigner -keystore pki/signer.p12 -storetype PKCS12 -storepass changeit "$@" >/dev/null 2>&1; }
js -signedjar jar/signed-nots.jar jar/unsigned.jar signer
js -tsa "$tsa" -signedjar jar/lib/signed-tsa.jar jar/unsigned.jar signer
# Tampered copies, rewritten with Python's zipfile: an entry changed, an entry added.
python3 - "$out/jar/lib/signed-tsa.jar" "$out/jar" <<'PY'
import sys, zipfile
src, d = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as z:
    items = [(i, z.read(i.filename)) for i in z.infolist()]
for name, change, extra in (("tampered-entry.jar", b"hello, tampered\n", None), ("entry-added.jar", None, ("added.txt", b"added after signing\n"))):
    with zipfile.ZipFile(f"{d}/{name}", "w", zipfile.ZIP_DEFLATED) as z:
        for i, data in items:
            z.writestr(i, change if (change and i.filename == "hello.txt") else data)
        if extra:
            z.writestr(*extra)
PY
verify_jar() { jarsigner -verify -strict -keystore pki/trust.p12 -storetype PKCS12 -storepass changeit "$1" >/dev/null 2>&1; }
verify_jar jar/signed-nots.jar && verify_jar jar/lib/signed-tsa.jar || { echo "make_fs_fixtures: jarsigner rejects a good JAR" >&2; exit 1; }
! verify_jar jar/tampered-entry.jar && ! verify_jar jar/entry-added.jar || { echo "make_fs_fixtures: jarsigner accepts a tampered JAR" >&2; exit 1; }
rm -rf jar/src
record jar/unsigned.jar unsigned ""
record jar/signed-nots.jar untrusted "$signer_dn"
record jar/lib/signed-tsa.jar untrusted "$signer_dn"
record jar/tampered-entry.jar invalid "$signer_dn"
record jar/entry-added.jar invalid "$signer_dn"

(IFS=,; printf '{%s}\n' "${expect[*]}") > expected.json
echo "make_fs_fixtures: $(( ${#expect[@]} )) fixtures in $out (verdicts confirmed by osslsigncode and jarsigner)" >&2
