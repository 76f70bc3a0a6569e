#!/usr/bin/env bash
# A signed certificate trust list that is not a catalog: the same layout as a catalog from
# scripts/make_ctl.py, listing hello.exe's Authenticode image hash, but with subjectUsage szOID_ROOT_LIST_SIGNER
# (1.3.6.1.4.1.311.10.3.9) instead of szOID_CATALOG_LIST. Windows takes only catalog lists as
# catalogs; osslsigncode 2.9's verdict on the member is printed.
#   scripts/make_ctl_usage_fixture.sh OUT_DIR   (writes root.crt, other-usage.cat; prints osslsigncode's verdict)
# Tools: openssl (a throwaway PKI), osslsigncode (signs the list), python3.
set -euo pipefail
out="$(mkdir -p "$1" && cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
member="$here/../testdata/fs-win/cat/members/hello.exe"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT; cd "$work"
subj="/C=GB/O=sigaudit fixtures"
openssl req -x509 -newkey rsa:3072 -nodes -keyout root.key -out root.crt -days 3650 -subj "$subj/CN=sigaudit CTL Usage Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -newkey rsa:2048 -nodes -keyout signer.key -out signer.csr -subj "$subj/CN=sigaudit CTL Usage Publisher" 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > signer.ext
openssl x509 -req -in signer.csr -CA root.crt -CAkey root.key -CAcreateserial -out signer.crt -days 3650 -extfile signer.ext 2>/dev/null
# The Authenticode image hash of the member, as osslsigncode computes it (from a signed copy).
osslsigncode sign -certs signer.crt -key signer.key -h sha256 -in "$member" -out signed.exe >/dev/null
pe_hash="$({ osslsigncode verify -in signed.exe 2>/dev/null || true; } | sed -n 's/^Calculated message digest *: *//p' | head -1 | tr -d ' \r')"
[ ${#pe_hash} -eq 64 ] || { echo "make_ctl_usage_fixture: no image hash from osslsigncode" >&2; exit 1; }
CTL_USAGE=1.3.6.1.4.1.311.10.3.9 python3 "$here/make_ctl.py" unsigned.cat "pe:hello.exe:$pe_hash"
rm -f "$out/other-usage.cat"
osslsigncode sign -certs signer.crt -key signer.key -h sha256 -in unsigned.cat -out "$out/other-usage.cat" >/dev/null
cp root.crt "$out/root.crt"
if osslsigncode verify -CAfile root.crt -catalog "$out/other-usage.cat" -in "$member" >/dev/null 2>&1; then
  echo "osslsigncode verify -catalog other-usage.cat hello.exe: Succeeded"
else
  echo "osslsigncode verify -catalog other-usage.cat hello.exe: Failed"
fi
