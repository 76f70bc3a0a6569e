#!/usr/bin/env bash
# Install what sigaudit's tests and demo need on a fresh Debian machine. Idempotent.
#   scripts/setup.sh          everything the tests need
#   scripts/setup.sh --demo   only what the demo needs (no ferro-oci-server build)
set -euo pipefail

demo_only=0
[ "${1:-}" = "--demo" ] && demo_only=1

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "setup: need root (or sudo) for: $*" >&2; exit 1; fi
}

need_apt=()
[ -x /usr/bin/docker-registry ] || need_apt+=(docker-registry)
/usr/bin/python3 -c 'import cryptography' 2>/dev/null || need_apt+=(python3-cryptography)
command -v jq >/dev/null || need_apt+=(jq)
command -v curl >/dev/null || need_apt+=(curl)
if [ "$demo_only" = 0 ]; then
  [ -x /usr/bin/openssl ] || need_apt+=(openssl)
  [ -x /usr/bin/htpasswd ] || need_apt+=(apache2-utils)
  command -v osslsigncode >/dev/null || need_apt+=(osslsigncode)
  command -v jarsigner >/dev/null || need_apt+=(openjdk-17-jdk-headless)
  # Go's own encoding/json, the independent reader of signed JSON (tests/adversarial_registry.rs).
  [ -x /usr/bin/go ] || need_apt+=(golang-go)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: apt-get install ${need_apt[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The Debian package starts a system registry on :5000; the tests start their own on free ports.
if command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  as_root systemctl stop docker-registry || true
fi

if [ "$demo_only" = 0 ]; then
  # A registry with the OCI referrers API (CNCF distribution 2.8 has none).
  if ! command -v ferro-oci-server >/dev/null && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/ferro-oci-server" ]; then
    echo "setup: cargo install ferro-oci-server 1.0.0 (about 6 minutes)" >&2
    cargo install ferro-oci-server --version 1.0.0 --locked --quiet
  fi
fi
echo "setup: ok" >&2
