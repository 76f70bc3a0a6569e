#!/usr/bin/env bash
# A throw-away PKI run by `openssl ca` (index.txt, revocations, CRLs) and PE files signed by its
# certificates with osslsigncode, for the revocation tests (tests/revocation.rs).
#   scripts/make_revocation_fixtures.sh OUT_DIR
# Tools: openssl, osslsigncode, python3 (the RFC 3161 TSA on 127.0.0.1: scripts/tsa_server.py).
#
# OUT_DIR/pki:
#   root.crt            Root CA (self-signed); root/ is its `openssl ca` directory
#   ica.crt             Issuing CA (root → ica); ica/ is its `openssl ca` directory
#   ica2.crt            A second issuing CA, revoked by the root for cACompromise
#   good.*  kc.*  sup.* under2.*   leaves (code signing): good; revoked keyCompromise; revoked
#                       superseded; issued by the revoked ica2. tsa.* the timestamp authority (root → tsa)
#   root.crl            the root's CRL (lists ica2, cACompromise)
#   ica.crl             the issuing CA's CRL (lists kc keyCompromise and sup superseded), current
#   ica2.crl            the compromised CA's CRL (lists nothing)
#   ica-expired.crl     the issuing CA's CRL, expired (nextUpdate two days ago)
#   ica-forged.crl      a CRL naming the issuing CA, signed by another key (an impostor with its name)
#   ica-critical.crl    the issuing CA's CRL with an unknown critical extension
#   chain.pem           ica + root
# OUT_DIR/pe: good.exe kc.exe kc-ts.exe sup.exe sup-ts.exe under2.exe (‑ts: RFC 3161 timestamped,
#   before the revocations)
set -euo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${SIGAUDIT_CORPUS:-$here/../testdata}"
for t in openssl osslsigncode python3; do
  command -v "$t" >/dev/null || { echo "make_revocation_fixtures: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
pki="$out/pki"; mkdir -p "$pki" "$out/pe"; cd "$pki"
dn="/C=GB/O=sigaudit revocation fixtures"
q() { "$@" >/dev/null 2>&1 || { echo "make_revocation_fixtures: failed: $*" >&2; "$@"; exit 1; }; }

# An `openssl ca` directory: NAME, its certificate and key are NAME.crt / NAME.key.
cadir() {
  mkdir -p "$1/new"; : > "$1/index.txt"; echo 1000 > "$1/serial"; echo 1000 > "$1/crlnumber"
  cat > "$1.cnf" <<CNF
[ ca ]
default_ca = this
[ this ]
dir = $pki/$1
database = \$dir/index.txt
new_certs_dir = \$dir/new
serial = \$dir/serial
crlnumber = \$dir/crlnumber
certificate = $pki/$1.crt
private_key = $pki/$1.key
default_md = sha256
default_days = 3650
default_crl_days = 30
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationName = optional
countryName = optional
[ v3_ica ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[ v3_sign ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[ v3_tsa ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
[ crl_ext ]
authorityKeyIdentifier = keyid:always
[ crl_critical ]
1.3.6.1.4.1.55555.1 = critical,DER:05:00
CNF
}
key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
# issue CA NAME CN EXTENSIONS
issue() {
  key "$2"
  q openssl req -new -key "$2.key" -subj "$dn/CN=$3" -out "$2.csr"
  q openssl ca -batch -config "$1.cnf" -extensions "$4" -in "$2.csr" -out "$2.crt" -notext
}

key root
q openssl req -x509 -new -key root.key -subj "$dn/CN=Revocation Test Root" -days 3650 -out root.crt \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
cadir root
issue root ica "Revocation Test Issuing CA" v3_ica
issue root ica2 "Revocation Test Compromised CA" v3_ica
issue root tsa "Revocation Test TSA" v3_tsa
cadir ica
cadir ica2
issue ica good "Good Publisher" v3_sign
issue ica kc "Compromised Publisher" v3_sign
issue ica sup "Superseded Publisher" v3_sign
issue ica2 under2 "Publisher Under Compromised CA" v3_sign
cat ica.crt root.crt > chain.pem

# The TSA on 127.0.0.1 (scripts/tsa_server.py answers with `openssl ts -reply`).
cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
serial = $pki/tsaserial
crypto_device = builtin
default_policy = 1.2.3.4.1
signer_digest = sha256
digests = sha256
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

# Sign before any revocation: the timestamps date these signatures earlier than the revocations.
unsigned="$corpus/fs-suite/pe/unsigned-hello.exe"
sign() { # leaf out [ts]
  local extra=()
  [ "${3:-}" = ts ] && extra=(-ts "http://127.0.0.1:$port/")
  cat "$1.crt" "$( [ "$1" = under2 ] && echo ica2.crt || echo ica.crt )" > "$1.chain.pem"
  q osslsigncode sign -certs "$1.chain.pem" -key "$1.key" -h sha256 "${extra[@]}" -in "$unsigned" -out "$out/pe/$2"
}
sign good good.exe
sign kc kc.exe
sign kc kc-ts.exe ts
sign sup sup.exe
sign sup sup-ts.exe ts
sign under2 under2.exe
sleep 2

# Revocations, then the CRLs.
q openssl ca -batch -config ica.cnf -revoke kc.crt -crl_reason keyCompromise
q openssl ca -batch -config ica.cnf -revoke sup.crt -crl_reason superseded
q openssl ca -batch -config root.cnf -revoke ica2.crt -crl_reason CACompromise
q openssl ca -batch -config root.cnf -gencrl -crlexts crl_ext -out root.crl
q openssl ca -batch -config ica.cnf -gencrl -crlexts crl_ext -out ica.crl
q openssl ca -batch -config ica2.cnf -gencrl -crlexts crl_ext -out ica2.crl
q openssl ca -batch -config ica.cnf -gencrl -crlexts crl_critical -out ica-critical.crl
past() { python3 -c "import datetime as d; print((d.datetime.now(d.timezone.utc)-d.timedelta(days=$1)).strftime('%Y%m%d%H%M%SZ'))"; }
q openssl ca -batch -config ica.cnf -gencrl -crl_lastupdate "$(past 3)" -crl_nextupdate "$(past 2)" -out ica-expired.crl
# An impostor: a CA with the issuing CA's name and its own key, whose CRL lists nothing.
mkdir -p forged; (cd forged
  key ica
  # The name exactly as `openssl ca` wrote the real one (its policy orders CN, O, C).
  q openssl req -x509 -new -key ica.key -subj "/CN=Revocation Test Issuing CA/O=sigaudit revocation fixtures/C=GB" \
    -days 3650 -out ica.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  pki="$pki/forged" cadir ica
  q openssl ca -batch -config ica.cnf -gencrl -out ../ica-forged.crl)
openssl crl -in ica.crl -outform DER -out ica.crl.der
echo "make_revocation_fixtures: done in $out"
