#!/usr/bin/env bash
# The fault-injection scan N times over one seeded registry (default 50). Every 5th request is a
# 429 with Retry-After, a 503 or a dropped connection, each run with the faults shifted onto other
# requests; every faulted scan must report exactly what a clean scan reports. Prints one line per
# run (faults, retries, differences) and fails with the differences of any run that differs.
#   scripts/stress.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
# Samples from testdata/, or from SIGAUDIT_CORPUS=DIR when given (as in scripts/test.sh).
if [ -n "${SIGAUDIT_CORPUS:-}" ]; then
  SIGAUDIT_CORPUS="$(cd "$SIGAUDIT_CORPUS" && pwd)"
  export SIGAUDIT_CORPUS
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
runs="${1:-50}"
./scripts/setup.sh >/dev/null
SIGAUDIT_STRESS_RUNS="$runs" cargo test --locked --test hardening -- --exact faults_and_retries_lose_nothing --nocapture
