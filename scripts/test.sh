#!/usr/bin/env bash
# Every test: unit tests, the real signatures in testdata/, and the integration tests against
# registries started on 127.0.0.1. Installs what they need first (scripts/setup.sh says what;
# root only for apt-get). Works from a bare clone with any CARGO_TARGET_DIR.
#   ./scripts/test.sh [CARGO TEST ARGS...]       e.g. ./scripts/test.sh --test fs_scan
# SIGAUDIT_CORPUS=DIR (optional) runs the sample tests on a larger corpus with testdata/'s layout.
set -euo pipefail
if [ -n "${SIGAUDIT_CORPUS:-}" ]; then
  SIGAUDIT_CORPUS="$(cd "$SIGAUDIT_CORPUS" && pwd)"
  export SIGAUDIT_CORPUS
  echo "test: samples from SIGAUDIT_CORPUS=$SIGAUDIT_CORPUS instead of testdata/" >&2
fi
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

./scripts/setup.sh
cargo test --all-targets --locked "$@"
