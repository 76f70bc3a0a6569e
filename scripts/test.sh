#!/usr/bin/env bash
# Install the test dependencies, then run every test (unit, corpus, real-registry integration).
set -euo pipefail
cd "$(dirname "$0")/.."

export SIGAUDIT_CORPUS="${SIGAUDIT_CORPUS:-../shared/corpus}"
if [ ! -f "$SIGAUDIT_CORPUS/PROVENANCE.md" ]; then
  echo "test: SIGAUDIT_CORPUS=$SIGAUDIT_CORPUS does not hold the shared corpus" >&2
  exit 2
fi
SIGAUDIT_CORPUS="$(cd "$SIGAUDIT_CORPUS" && pwd)"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

./scripts/setup.sh
cargo test --all-targets --locked
