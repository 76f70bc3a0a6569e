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
echo "== with trust material in a config file (keys, CA roots, the seeder's transparency log and TSA):"
echo "   good signatures verified; replayed, tampered and wrongly logged ones invalid"
cat > "$work/sigaudit.toml" <<TOML
key = ["seed/cosign.pub"]
ca-roots = ["seed/signer.crt", "seed/alpine.crt", "seed/short-lived.crt",
            "$SIGAUDIT_CORPUS/notation/suite/notation-cli/config/localkeys/e2e.crt"]
trusted-root = ["seed/trusted_root.json"]
fail-on = ["invalid"]
TOML
$bin registry "127.0.0.1:$port" --plain-http --config "$work/sigaudit.toml" | tail -n 2 || true
echo
echo "== notation's own trust policy and trust store decide Notary signatures, per repository"
mkdir -p "$work/truststore/x509/ca/e2e"
cp "$SIGAUDIT_CORPUS/notation/suite/notation-cli/config/localkeys/e2e.crt" "$work/truststore/x509/ca/e2e/"
$bin registry "127.0.0.1:$port/notary" --plain-http \
  --notation-trust-policy "$SIGAUDIT_CORPUS/notation/suite/notation-cli/config/trustpolicies/trustpolicy.json" \
  --notation-trust-store "$work/truststore" -o json \
  | jq -r '.images[] | "\(.repository): \(.status)  \(.signatures[0].verification.reasons[0] // "")"'
echo
echo "== one Sigstore bundle (a real cosign v3 signature of kubewarden-controller) against the"
echo "   built-in public-good root: verified for its identity and digest, refused for anyone else's"
kw="$SIGAUDIT_CORPUS/cosign/sigstore-rs/bundle_v03-cosign-v3-image-signature.sigstore.json"
kw_digest=sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172
$bin verify-bundle --bundle "$kw" --certificate-oidc-issuer https://token.actions.githubusercontent.com \
  --certificate-identity-regexp '^https://github.com/kubewarden/' "$kw_digest" || true
$bin verify-bundle --bundle "$kw" --certificate-oidc-issuer https://token.actions.githubusercontent.com \
  --certificate-identity-regexp '^https://github.com/someone-else/' "$kw_digest" || true
echo
echo "== JSON for jq: every invalid signature and why"
$bin registry "127.0.0.1:$port" --plain-http -o json \
  | jq -r '.images[] | . as $i | .signatures[] | select(.verification.status=="invalid")
           | "\($i.repository):\($i.tags|join(",")) [\(.format)] \(.verification.reasons|join("; "))"'
echo
set +e
$bin registry "127.0.0.1:$port" --plain-http -o ndjson --fail-on invalid >/dev/null
echo "== a cron job with --fail-on invalid exits $? (1: policy failure)"
