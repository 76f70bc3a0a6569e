#!/usr/bin/env bash
# Install what sigaudit's tests, demo or benchmarks need on a Debian machine (12 "bookworm" or
# later). Idempotent: only what is missing is installed, and it says what before doing it.
#   scripts/setup.sh           the tests (./scripts/test.sh)
#   scripts/setup.sh --demo    the demo (./scripts/demo.sh): no ferro-oci-server, no signing tools
#   scripts/setup.sh --bench   the demo's set plus hey, bc and time (./scripts/bench.sh)
#
# Root (sudo) is asked for only to apt-get install Debian packages, and to stop the system
# registry service that the docker-registry package starts on :5000 when this run installed it
# (the tests and the demo start their own registries on free ports of 127.0.0.1). Everything
# else runs as you: ferro-oci-server is built with `cargo install` into ~/.cargo/bin.
# The Rust toolchain itself is not installed here: Cargo.lock's dependencies need Rust 1.88 or
# later (Debian's rustc is older); see https://rustup.rs.
set -euo pipefail

mode=test
case "${1:-}" in
  "") ;;
  --demo) mode=demo ;;
  --bench) mode=bench ;;
  *) echo "usage: $0 [--demo|--bench]" >&2; exit 2 ;;
esac

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing: install Rust 1.88 or later (https://rustup.rs; Debian's rustc is too old)" >&2
  exit 2
fi
rust_minor="$(rustc --version | sed -n 's/^rustc 1\.\([0-9]*\).*/\1/p')"
if [ -n "$rust_minor" ] && [ "$rust_minor" -lt 88 ]; then
  echo "setup: $(rustc --version) is too old: sigaudit's locked dependencies need Rust 1.88 or later (rustup update)" >&2
  exit 2
fi

# Debian packages: (command or file that shows it is there, package, why)
need_apt=()
why=()
want() { # test, package, reason
  if ! eval "$1" >/dev/null 2>&1; then need_apt+=("$2"); why+=("  $2: $3"); fi
}
want '[ -x /usr/bin/docker-registry ]' docker-registry "the registry (CNCF distribution 2.8) the demo and tests seed and scan"
want '/usr/bin/python3 -c "import cryptography"' python3-cryptography "scripts/seed_registry.py and make_vectors.py sign with it"
want 'command -v openssl' openssl "the seeder's RFC 3161 timestamp authority (openssl ts), the revocation tests' CA (openssl ca, CRLs)"
want 'command -v curl' curl "waits for the registry to answer"
want 'command -v jq' jq "the demo picks fields out of sigaudit's JSON"
if [ "$mode" = test ]; then
  want 'command -v unshare' util-linux "tests/cluster.rs runs sigaudit in a private mount namespace to give it an in-cluster service account"
  want 'command -v htpasswd' apache2-utils "htpasswd for the registry-behind-Basic-auth tests"
  want 'command -v osslsigncode' osslsigncode "signs and cross-checks the PE, MSI, CAB, script and catalog fixtures"
  want 'command -v unzip' unzip "reads the GlueBall MSI fixtures as ZIP archives (tests/attack13_round2.rs)"
  want 'command -v readelf' binutils "readelf reads the forged ELF headers tests/attack13_files.rs feeds the kernel-module check"
  want 'command -v jarsigner && command -v keytool && command -v jar' openjdk-17-jdk-headless "signs and cross-checks the JAR fixtures"
  want 'command -v apksigner' apksigner "signs the APK fixtures (scripts/make_apk_fixtures.sh) and cross-checks sigaudit's APK verdicts (tests/apk_files.rs)"
  want 'command -v zipalign' zipalign "aligns the unsigned APK the fixtures are signed from (scripts/make_apk_fixtures.sh)"
  want '[ -x /usr/bin/go ]' golang-go "Go's own encoding/json reads the adversarial signed-JSON payloads (tests/support/gojson)"
  want '/usr/bin/python3 -c "import ensurepip"' python3-venv "a virtualenv for kubernetes-validate and the report-format validators (Debian's python3 is externally managed)"
  want 'command -v skopeo' skopeo "signs images with GnuPG (simple signing), judges them under a policy.json, and copies cosign signature tags between repositories (tests/simple_signing.rs, tests/signature_repository.rs)"
  want 'command -v gpg' gpg "makes the throw-away OpenPGP keys skopeo signs with"
  want 'command -v busybox' busybox "busybox httpd serves the simple-signing lookaside store on 127.0.0.1"
  want 'command -v chromium' chromium "headless Chromium opens the HTML report offline, reads its figures and screenshots it (tests/report_formats.rs)"
fi
if [ "$mode" = bench ]; then
  want 'command -v hey' hey "measures the registry's request ceiling"
  want 'command -v bc' bc "arithmetic in bench.sh"
  want '[ -x /usr/bin/time ]' time "wall time and peak RSS of each run"
fi

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null; then sudo "$@"
  else echo "setup: root is needed for: $* (run as root, or install sudo)" >&2; exit 1
  fi
}

installed_registry=0
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages with apt-get (needs root; sudo asks for your password if needed):" >&2
  printf '%s\n' "${why[@]}" >&2
  [[ " ${need_apt[*]} " == *" docker-registry "* ]] && installed_registry=1
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# The docker-registry package starts a system registry on :5000 (all interfaces, no auth). When
# this run installed it, stop and disable that service: nothing here uses it.
if [ "$installed_registry" = 1 ] && command -v systemctl >/dev/null && systemctl is-active --quiet docker-registry 2>/dev/null; then
  echo "setup: stopping and disabling the docker-registry system service the package started (needs root)" >&2
  as_root systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

if [ "$mode" = test ]; then
  # A registry with the OCI referrers API (CNCF distribution 2.8 has none), for tests/referrers_api.rs.
  if ! command -v ferro-oci-server >/dev/null; then
    echo "setup: cargo install ferro-oci-server 1.0.0 into ${CARGO_HOME:-$HOME/.cargo}/bin (no root; about 6 minutes)" >&2
    cargo install ferro-oci-server --version 1.0.0 --locked --quiet
  fi
fi
if [ "$mode" = test ]; then
  # From PyPI into a virtualenv (Debian's python3 is externally managed), each pinned:
  #   kubernetes-validate  checks deploy/kubernetes/ against the Kubernetes API schemas it ships,
  #                        offline (tests/deploy_manifests.rs)
  #   jsonschema           validates the SARIF report against the OASIS SARIF 2.1.0 schema
  #   lxml                 validates the JUnit report against Jenkins' junit-10.xsd
  #   prometheus-client    parses the Prometheus textfile report (its text-format parser)
  # (the last three: tests/report_formats.rs; the schemas are in testdata/schemas/)
  #   moto[server]         the AWS API emulator (moto_server on 127.0.0.1), for the Amazon ECR
  #                        lister (tests/listers.rs); its boto3 creates the ECR repositories
  #   tuf                  python-tuf: builds the TUF repositories that `sigaudit trust update` is
  #                        tested against, and its ngclient gives the reference verdict beside ours
  #                        (tests/tuf_trust.rs, tests/support/tuf_repo.py)
  kv_venv="${XDG_CACHE_HOME:-$HOME/.cache}/sigaudit/venv"
  pins=(kubernetes-validate==1.37.0 jsonschema==4.26.0 lxml==6.1.3 prometheus-client==0.26.0 moto[server]==5.2.1 tuf==7.0.1)
  missing=()
  for pin in "${pins[@]}"; do
    name="${pin%%==*}"; name="${name%%\[*}"   # the distribution's name, without [extras]
    if ! "$kv_venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$name') != '${pin##*==}')" >/dev/null 2>&1; then
      missing+=("$pin")
    fi
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: pip install ${missing[*]} into the virtualenv $kv_venv (no root)" >&2
    /usr/bin/python3 -m venv "$kv_venv"
    "$kv_venv/bin/python" -m pip install --quiet --disable-pip-version-check "${missing[@]}"
  fi
fi
echo "setup: ok ($mode)" >&2
