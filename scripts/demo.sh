#!/usr/bin/env bash
# The main job, end to end on this machine: start a local registry (CNCF distribution) on
# 127.0.0.1, seed it with signed, unsigned, replayed and tampered images, and audit it.
set -euo pipefail
cd "$(dirname "$0")/.."

export SIGAUDIT_CORPUS="${SIGAUDIT_CORPUS:-../shared/corpus}"
SIGAUDIT_CORPUS="$(cd "$SIGAUDIT_CORPUS" && pwd)"
./scripts/setup.sh --demo
cargo build --release --locked --quiet

work="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
catalog: {maxentries: 5}
YAML
/usr/bin/docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== seeding 127.0.0.1:$port (scripts/seed_registry.py)"
/usr/bin/python3 scripts/seed_registry.py --registry "127.0.0.1:$port" --corpus "$SIGAUDIT_CORPUS" --out "$work/seed"

bin=target/release/sigaudit
echo
echo "== sigaudit registry 127.0.0.1:$port --plain-http"
$bin registry "127.0.0.1:$port" --plain-http || true
echo
echo "== with the cosign public key: key-only signatures become verified"
$bin registry "127.0.0.1:$port/apps" --plain-http --key "$work/seed/cosign.pub" || true
echo
echo "== with trust material (--key, --ca-roots): good signatures verified, replayed and tampered ones invalid"
$bin registry "127.0.0.1:$port" --plain-http --key "$work/seed/cosign.pub" \
  --ca-roots "$work/seed/signer.crt" --ca-roots "$work/seed/alpine.crt" | tail -n 2 || true
echo
echo "== JSON for jq: every invalid signature and why"
$bin registry "127.0.0.1:$port" --plain-http -o json \
  | jq -r '.images[] | . as $i | .signatures[] | select(.verification.status=="invalid")
           | "\($i.repository):\($i.tags|join(",")) [\(.format)] \(.verification.reasons|join("; "))"'
echo
set +e
$bin registry "127.0.0.1:$port" --plain-http -o ndjson --fail-on invalid >/dev/null
echo "== a cron job with --fail-on invalid exits $? (1: policy failure)"
