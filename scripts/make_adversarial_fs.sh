#!/usr/bin/env bash
# Adversarial signed files (issue 10) made and judged by independent tools, with expected.json:
#   scripts/make_adversarial_fs.sh OUT_DIR     (the unsigned PE input comes from testdata/, or $SIGAUDIT_CORPUS)
# Tools: python3 with cryptography, openssl, osslsigncode, JDK keytool/jarsigner/jar. The work is in
# scripts/make_adversarial_fs.py; its TSAs (tsa_server.py, tsa_forge.py) listen on 127.0.0.1 only.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export SIGAUDIT_CORPUS="${SIGAUDIT_CORPUS:-$(cd "$(dirname "$0")/../testdata" && pwd)}"
for t in openssl osslsigncode jarsigner keytool jar python3; do
  command -v "$t" >/dev/null || { echo "make_adversarial_fs: $t is missing (./scripts/setup.sh installs it)" >&2; exit 2; }
done
python3 -c 'import cryptography' 2>/dev/null || { echo "make_adversarial_fs: python3 lacks cryptography (./scripts/setup.sh)" >&2; exit 2; }
mkdir -p "$1"
exec python3 "$here/make_adversarial_fs.py" "$1"
