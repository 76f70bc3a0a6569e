#!/usr/bin/env bash
# A throw-away PKI run by `openssl ca` whose certificates name OCSP responders and CRL distribution
# points on 127.0.0.1, and PE files signed by them with osslsigncode, for the online revocation
# tests (tests/revocation_online.rs). The servers are the test's: it allocates their ports and
# passes the URLs here, then serves OUT_DIR/pki/www with python's http.server and answers OCSP
# with `openssl ocsp -index`.
#   CRL_URL=http://127.0.0.1:P OCSP_ICA=… OCSP_ROOT=… OCSP_UNAUTH=… OCSP_OTHER=… OCSP_REFUSED=… \
#   OCSP_HANG=… OCSP_REPLAY=… scripts/make_online_revocation_fixtures.sh OUT_DIR
# Tools: openssl, osslsigncode, python3 (the RFC 3161 TSA on 127.0.0.1: scripts/tsa_server.py).
#
# OUT_DIR/pki: root.crt (self-signed; root/ its `openssl ca` directory), ica.crt (root → ica, CDP
#   CRL_URL/root.crl), tsa.crt (root → tsa, OCSP OCSP_ROOT: answered by the root itself);
#   ocsp.crt (ica → delegated responder, id-kp-OCSPSigning), badresp.crt (ica → no OCSPSigning),
#   otherresp.crt (root → OCSPSigning, but not issued by ica); leaves (ica → code signing):
#     good kc sup       OCSP OCSP_ICA, CDP CRL_URL/ica.crl; kc revoked keyCompromise, sup superseded
#     unk               OCSP OCSP_ICA, no CDP; taken out of ica's database (the responder does not
#                       know it: "unknown")
#     crlgood crlkc     CDP CRL_URL/ica.crl only; crlkc revoked keyCompromise
#     expired           CDP CRL_URL/ica-expired.crl only (nextUpdate two days ago)
#     wrongkey          CDP CRL_URL/ica-forged.crl only (a CRL in ica's name signed by another key)
#     unauth other      OCSP OCSP_UNAUTH / OCSP_OTHER only (answered by badresp / otherresp)
#     refused hang      OCSP OCSP_REFUSED / OCSP_HANG only (nothing listens / never answers)
#     ldap              CDP ldap://127.0.0.1/… only
#     replay            OCSP OCSP_REPLAY only (the test's replaying attacker)
#   www/: root.crl ica.crl ica-expired.crl ica-forged.crl (DER), what CRL_URL serves
# OUT_DIR/pe: NAME.exe for every leaf, good-copy.exe (good again), sup-ts.exe and kc-ts.exe (RFC
#   3161 timestamped, before the revocations)
set -euo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
corpus="${SIGAUDIT_CORPUS:-$here/../testdata}"
for t in openssl osslsigncode python3; do
  command -v "$t" >/dev/null || { echo "make_online_revocation_fixtures: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
for v in CRL_URL OCSP_ICA OCSP_ROOT OCSP_UNAUTH OCSP_OTHER OCSP_REFUSED OCSP_HANG OCSP_REPLAY; do
  [ -n "${!v:-}" ] || { echo "make_online_revocation_fixtures: $v is not set" >&2; exit 2; }
done
pki="$out/pki"; mkdir -p "$pki/www" "$out/pe"; cd "$pki"
dn="/C=GB/O=sigaudit online revocation fixtures"
q() { "$@" >/dev/null 2>&1 || { echo "make_online_revocation_fixtures: failed: $*" >&2; "$@"; exit 1; }; }

leaf() { # section OCSP-URL CDP-URL
  echo "[ $1 ]"
  echo "basicConstraints = CA:FALSE"
  echo "keyUsage = critical,digitalSignature"
  echo "extendedKeyUsage = codeSigning"
  [ -n "$2" ] && echo "authorityInfoAccess = OCSP;URI:$2"
  [ -n "$3" ] && echo "crlDistributionPoints = URI:$3"
  echo
}
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
crlDistributionPoints = URI:$CRL_URL/root.crl
[ v3_tsa ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
authorityInfoAccess = OCSP;URI:$OCSP_ROOT
[ v3_ocsp ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = OCSPSigning
noCheck = ignored
[ v3_notocsp ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[ crl_ext ]
authorityKeyIdentifier = keyid:always
$(leaf v3_both "$OCSP_ICA" "$CRL_URL/ica.crl")
$(leaf v3_ocsponly "$OCSP_ICA" "")
$(leaf v3_crl "" "$CRL_URL/ica.crl")
$(leaf v3_expired "" "$CRL_URL/ica-expired.crl")
$(leaf v3_wrongkey "" "$CRL_URL/ica-forged.crl")
$(leaf v3_unauth "$OCSP_UNAUTH" "")
$(leaf v3_other "$OCSP_OTHER" "")
$(leaf v3_refused "$OCSP_REFUSED" "")
$(leaf v3_hang "$OCSP_HANG" "")
$(leaf v3_replay "$OCSP_REPLAY" "")
$(leaf v3_ldap "" "ldap://127.0.0.1/cn=Online%20Test%20Issuing%20CA?certificateRevocationList")
CNF
}
key() { q openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }
issue() { # CA NAME CN EXTENSIONS
  key "$2"
  q openssl req -new -key "$2.key" -subj "$dn/CN=$3" -out "$2.csr"
  q openssl ca -batch -config "$1.cnf" -extensions "$4" -in "$2.csr" -out "$2.crt" -notext
}

key root
q openssl req -x509 -new -key root.key -subj "$dn/CN=Online Test Root" -days 3650 -out root.crt \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
cadir root
issue root ica "Online Test Issuing CA" v3_ica
issue root tsa "Online Test TSA" v3_tsa
issue root otherresp "Online Test Root OCSP Responder" v3_ocsp
cadir ica
issue ica ocsp "Online Test OCSP Responder" v3_ocsp
issue ica badresp "Online Test Unauthorised Responder" v3_notocsp
issue ica good "Good Publisher" v3_both
issue ica kc "Compromised Publisher" v3_both
issue ica sup "Superseded Publisher" v3_both
issue ica unk "Unknown Publisher" v3_ocsponly
issue ica crlgood "CRL Good Publisher" v3_crl
issue ica crlkc "CRL Compromised Publisher" v3_crl
issue ica expired "Expired CRL Publisher" v3_expired
issue ica wrongkey "Forged CRL Publisher" v3_wrongkey
issue ica unauth "Unauthorised Responder Publisher" v3_unauth
issue ica other "Other CA Responder Publisher" v3_other
issue ica refused "Refused Publisher" v3_refused
issue ica hang "Hanging Publisher" v3_hang
issue ica ldap "LDAP Publisher" v3_ldap
issue ica replay "Replayed Publisher" v3_replay
cat ica.crt root.crt > chain.pem
# The responder no longer knows unk: its line leaves ica's database.
unk_serial="$(openssl x509 -in unk.crt -noout -serial | cut -d= -f2)"
grep -v "$(printf '	%s	' "$unk_serial")" ica/index.txt > ica/index.new; mv ica/index.new ica/index.txt

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

# Sign before any revocation.
unsigned="$corpus/fs-suite/pe/unsigned-hello.exe"
sign() { # leaf out [ts]
  local extra=()
  [ "${3:-}" = ts ] && extra=(-ts "http://127.0.0.1:$port/")
  cat "$1.crt" ica.crt > "$1.chain.pem"
  q osslsigncode sign -certs "$1.chain.pem" -key "$1.key" -h sha256 "${extra[@]}" -in "$unsigned" -out "$out/pe/$2"
}
for l in good kc sup unk crlgood crlkc expired wrongkey unauth other refused hang ldap replay; do sign "$l" "$l.exe"; done
cp "$out/pe/good.exe" "$out/pe/good-copy.exe"
sign kc kc-ts.exe ts
sign sup sup-ts.exe ts
sleep 2

# Revocations, then the CRLs the distribution points serve.
q openssl ca -batch -config ica.cnf -revoke kc.crt -crl_reason keyCompromise
q openssl ca -batch -config ica.cnf -revoke sup.crt -crl_reason superseded
q openssl ca -batch -config ica.cnf -revoke crlkc.crt -crl_reason keyCompromise
q openssl ca -batch -config root.cnf -gencrl -crlexts crl_ext -out root.crl
q openssl ca -batch -config ica.cnf -gencrl -crlexts crl_ext -out ica.crl
past() { python3 -c "import datetime as d; print((d.datetime.now(d.timezone.utc)-d.timedelta(days=$1)).strftime('%Y%m%d%H%M%SZ'))"; }
q openssl ca -batch -config ica.cnf -gencrl -crl_lastupdate "$(past 3)" -crl_nextupdate "$(past 2)" -out ica-expired.crl
# An impostor: a CA with the issuing CA's name and its own key, whose CRL lists nothing.
mkdir -p forged; (cd forged
  key ica
  q openssl req -x509 -new -key ica.key -subj "/CN=Online Test Issuing CA/O=sigaudit online revocation fixtures/C=GB" \
    -days 3650 -out ica.crt \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
  pki="$pki/forged" cadir ica
  q openssl ca -batch -config ica.cnf -gencrl -out ../ica-forged.crl)
for c in root ica ica-expired ica-forged; do openssl crl -in "$c.crl" -outform DER -out "www/$c.crl"; done
echo "make_online_revocation_fixtures: done in $out"
