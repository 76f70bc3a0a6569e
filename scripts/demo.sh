#!/usr/bin/env bash
# A tour of sigaudit for someone who has never seen it: a throw-away registry on 127.0.0.1 is
# filled with signed, unsigned, replayed and tampered images, and audited step by step, the way
# you would audit your own. Nothing is sent anywhere but 127.0.0.1.
#   ./scripts/demo.sh      (Debian; scripts/setup.sh --demo installs what is missing, root only for apt-get)
# Exits non-zero if any step does not show what it says it shows.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then bold=$'\e[1m'; dim=$'\e[2m'; off=$'\e[0m'; else bold=; dim=; off=; fi
step=0
title() { step=$((step + 1)); printf '\n%s%d. %s%s\n' "$bold" "$step" "$*" "$off"; }
say() { printf '%s\n' "$*" | fold -s -w 100 | sed 's/^/   /'; }   # one paragraph
list() { sed 's/^/     /'; }                                          # lines as they are
# Show a command line as you would type it, run it (pipefail: a pipeline's code is sigaudit's),
# and check its exit code: expect CODE 'COMMAND LINE'
expect() {
  local want="$1" cmd="$2" got
  printf '\n%s$ %s%s\n' "$dim" "$cmd" "$off"
  set +e; eval "$cmd"; got=$?; set -e
  [ "$got" = "$want" ] || { echo "demo: exit $got, expected $want: $cmd" >&2; exit 1; }
  last_exit=$got
}

echo "${bold}sigaudit: which images are signed, by whom, and do the signatures really hold?${off}"
say "This demo starts a registry of its own on 127.0.0.1, fills it with images signed in every way" \
    "sigaudit understands (cosign, Sigstore bundles, Notary Project), plus unsigned, replayed and" \
    "tampered ones, and audits it. First: what it needs, then a release build of sigaudit."
./scripts/setup.sh --demo
echo "   building sigaudit (cargo build --release; the first build takes about 5 minutes on 2 cores)" >&2
# The binary, wherever CARGO_TARGET_DIR or .cargo/config put the target directory.
bin="$(cargo build --release --locked --message-format=json-render-diagnostics \
  | jq -r 'select(.reason == "compiler-artifact" and .target.name == "sigaudit" and (.target.kind | index("bin"))) | .executable')"
[ -x "$bin" ] || { echo "demo: cargo built no sigaudit binary" >&2; exit 1; }
bindir="$(mktemp -d)"
ln -s "$bin" "$bindir/sigaudit"
export PATH="$bindir:$PATH" NO_COLOR=1

work="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat > "$work/registry.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
catalog: {maxentries: 5}
YAML
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry_pid=$!
trap 'rc=$?; kill $registry_pid 2>/dev/null; wait $registry_pid 2>/dev/null || true; rm -rf "$work" "$bindir"; exit $rc' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done
reg="127.0.0.1:$port"
cd "$work"

title "A registry to audit: $reg"
/usr/bin/python3 "$repo/scripts/seed_registry.py" --registry "$reg" --corpus "$repo/testdata" --out seed
say "scripts/seed_registry.py pushed these (the signatures are made by Python's cryptography and by notation" \
    "itself, not by sigaudit):"
list <<'EOF'
apps/web, apps/api, deep/…, platform/multi  cosign signatures: by a bare key, by a certificate, an attestation, a multi-arch index
apps/worker                                 a genuine cosign signature copied from another image (replayed)
apps/batch                                  a cosign signature with corrupted bytes
apps/unsigned                               no signature at all
notary/alpine, notary/e2e-*                 Notary Project signatures made by notation (and one that is no envelope)
notary/replayed, bundles/replayed           a valid notation signature / Sigstore bundle copied next to another image
bundles/app                                 a Sigstore bundle stored as an OCI referrer (cosign v3 style)
logged/*, stamped/*                         signatures dated by a transparency log or an RFC 3161 timestamp
EOF

title "Audit it, with no trust material"
expect 0 "sigaudit registry $reg --plain-http"
say "STATUS is the best verdict among an image's signatures:"
list <<'EOF'
invalid     the alarm: a signature that does not hold (replayed from another image, corrupted, not a signature)
unsigned    no signature
unverified  signed with a bare key, and no key was given to check it
untrusted   intact and bound to this exact image, but sigaudit was not told whom you trust
verified    and signed by someone you trust (the next steps give sigaudit that trust)
EOF
say "Exit code $last_exit: the scan completed, and nothing was asked to fail it."

title "Why is something invalid? Every verdict carries its reasons (JSON for jq)"
expect 0 "sigaudit registry $reg --plain-http -o json | jq -r '.images[] | . as \$i | .signatures[]
  | select(.verification.status == \"invalid\") | \"\(\$i.repository): \(.verification.reasons[0])\"'"
say "A valid signature copied next to another image is 'invalid', not 'signed': the signed payload names" \
    "another digest."

title "Say whom you trust: a cosign public key"
expect 0 "sigaudit registry $reg/apps --plain-http --key seed/cosign.pub -o json | jq -r '.images[] | \"\(.repository):\(.tags | join(\",\") | if . == \"\" then \"(untagged)\" else . end)  \(.status)\"'"
say "apps/web's key-only signature is now verified with that key; the certificate-bearing ones stay" \
    "untrusted until their CA is given too."

title "All trust material in one config file, as a cron job would use it"
cp "$repo/testdata/notation/suite/notation-cli/config/localkeys/e2e.crt" notation-e2e.crt
cat > sigaudit.toml <<'TOML'
key = ["seed/cosign.pub"]                                    # cosign key-only signatures
ca-roots = ["seed/signer.crt", "seed/alpine.crt", "seed/short-lived.crt", "notation-e2e.crt"]
trusted-root = ["seed/trusted_root.json"]                    # the seeder's transparency log and TSA
fail-on = ["invalid"]
TOML
sed 's/^/     /' sigaudit.toml
expect 1 "sigaudit registry $reg --plain-http --config sigaudit.toml -o json | jq -r '.summary
  | \"\(.images) images: \(.verified) verified, \(.invalid) invalid, \(.unsigned) unsigned, \(.untrusted) untrusted\"'"
say "Every good signature is verified now; what is left is invalid or unsigned. Exit code $last_exit:" \
    "fail-on = [\"invalid\"] found invalid images."

title "Notary Project signatures, judged by notation's own trust policy and trust store"
mkdir -p truststore/x509/ca/e2e && cp notation-e2e.crt truststore/x509/ca/e2e/e2e.crt
cp "$repo/testdata/notation/suite/notation-cli/config/trustpolicies/trustpolicy.json" .
expect 0 "sigaudit registry $reg/notary --plain-http --notation-trust-policy trustpolicy.json \\
  --notation-trust-store truststore -o json | jq -r '.images[] | \"\(.repository): \(.status)  \(.signatures[0].verification.reasons[0] // \"\")\"'"
say "notation's example policy trusts the e2e certificate in every repository: the e2e signature is" \
    "verified; alpine's signatures are intact but made by a certificate the trust store does not hold" \
    "(untrusted); the replayed and the broken ones are invalid whatever the policy."

title "One Sigstore bundle: a real cosign v3 signature of kubewarden-controller"
cp "$repo/testdata/cosign/sigstore-rs/bundle_v03-cosign-v3-image-signature.sigstore.json" kubewarden.sigstore.json
digest=sha256:c811d58de79c92f03214e63aa339484e488d694ae8a6283b5f3f17a9faf50172
expect 0 "sigaudit verify-bundle --bundle kubewarden.sigstore.json --certificate-identity-regexp '^https://github.com/kubewarden/' \\
  --certificate-oidc-issuer https://token.actions.githubusercontent.com $digest"
expect 1 "sigaudit verify-bundle --bundle kubewarden.sigstore.json --certificate-identity-regexp '^https://github.com/someone-else/' \\
  --certificate-oidc-issuer https://token.actions.githubusercontent.com $digest"
say "Checked offline against the public-good Sigstore root built in: the transparency log entry, the" \
    "timestamp, the certificate chain, and who signed it. Anyone can get a Sigstore certificate, so the" \
    "identity is what makes it 'verified': exit 0 for kubewarden's release workflow, 1 for anyone else."

title "Signed files too: Authenticode and JAR"
mkdir files && cp "$repo/testdata/fs/putty.exe" "$repo/testdata/fs/hello-signed.jar" files/
expect 0 "sigaudit fs files"
say "putty.exe carries two signatures by Simon Tatham, each with a Sectigo timestamp; untrusted only" \
    "because no code-signing roots were given (--ca-roots). hello-signed.jar's signer expired in 2024 and" \
    "nothing proves it signed earlier: invalid."

title "Night after night: reports for auditors and dashboards, and only the news"
expect 1 "sigaudit registry $reg --plain-http --config sigaudit.toml -o json=monday.json -o html=monday.html -o prometheus=sigaudit.prom"
say "One scan, three files, each written atomically: monday.json (the contract), monday.html (one page" \
    "an auditor opens offline) and sigaudit.prom (for Prometheus' textfile collector):"
grep -E '^sigaudit_items_by_status' sigaudit.prom | sed 's/{kind="registry",target="[^"]*",/{/; s/^/     /'
/usr/bin/python3 "$repo/tests/support/mutate_registry.py" "$reg" mutations.json >/dev/null
say "Overnight, apps/web:v1 is pushed over with an unsigned image, apps/batch loses its signature," \
    "deep/a/b/c/d is re-signed by a key the config does not trust, and apps/worker:v1 is deleted."
expect 1 "sigaudit registry $reg --plain-http --config sigaudit.toml -o json=tuesday.json --baseline monday.json --fail-on-new invalid,unsigned"
expect 0 "sigaudit diff monday.json tuesday.json"
say "Exit $last_exit from diff, but 1 from the scan: --fail-on-new alerts on changes INTO invalid or unsigned" \
    "since the baseline, not on the backlog that was already there. --waivers accepts known exceptions" \
    "for a time, with a reason, an owner and an expiry."

title "Wider than one process: shards, merged into one report"
expect 0 "pids=; for i in 0 1 2; do sigaudit registry $reg --plain-http --config sigaudit.toml --shard \$i/3 -o ndjson=shard-\$i.ndjson & pids=\"\$pids \$!\"; done; wait \$pids; true"
expect 0 "sigaudit merge shard-0.ndjson shard-1.ndjson shard-2.ndjson -o json | jq -c '.summary | {repositories, images, verified, invalid, unsigned}'"
expect 1 "sigaudit registry $reg --plain-http --config sigaudit.toml -o json | jq -c '.summary | {repositories, images, verified, invalid, unsigned}'"
say "Each shard scans the repositories whose name hashes into its slice (a Kubernetes Indexed Job sets" \
    "the index: --shard auto/3); merged, the shards give exactly the one-process report (exit $last_exit:" \
    "the config's fail-on found invalid images). deploy/kubernetes/ is the recipe."

title "In a cron job: the exit code is the verdict"
expect 1 "sigaudit registry $reg --plain-http --config sigaudit.toml --fail-on invalid,unsigned -o ndjson > report.ndjson"
say "exit $last_exit: some image is invalid or unsigned (report.ndjson holds one line per image for the details)." \
    "0 means nothing named by --fail-on was found, 2 a usage or configuration error (or an unreachable" \
    "registry), 3 an incomplete scan (what could not be examined is listed in the report's errors)."
echo
echo "${bold}demo: done.${off} Next: sigaudit --help, README.md (configuration, trust material, exit codes)."
