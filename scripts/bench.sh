#!/usr/bin/env bash
# Benchmarks (figures printed, not asserted). Everything runs on 127.0.0.1.
#   scripts/bench.sh [registry] [REPOS TAGS]   default 100 x 20 = 2,000 images (try 500 20, 2500 20);
#                                              also measures --verify-digests (GET + hash) against HEAD,
#                                              and 4 shards (4 processes) against one process
#   scripts/bench.sh fs [COPIES]               signed files of every verified format vs sha256sum,
#                                              osslsigncode, jarsigner
#   scripts/bench.sh bundles [ROUNDS]          verify-bundle over the 70 Sigstore conformance cases (file and digest)
#   scripts/bench.sh listing [REPOS TAGS ALIASES]  requests per image: the catalog against each platform
#                                              lister (APIs replayed by tests/support/platform_api.py);
#                                              default 50 x 10 images with 1 alias tag each
set -euo pipefail
cd "$(dirname "$0")/.."
# Samples: testdata/ (or a larger corpus with its layout in $SIGAUDIT_CORPUS).
SIGAUDIT_CORPUS="$(cd "${SIGAUDIT_CORPUS:-testdata}" && pwd)"
export SIGAUDIT_CORPUS PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
mode="${1:-registry}"
case "$mode" in registry|fs|bundles|listing) ;; *) echo "usage: $0 [registry REPOS TAGS | fs COPIES | bundles ROUNDS | listing REPOS TAGS ALIASES]" >&2; exit 2;; esac
[ $# -gt 0 ] && shift
./scripts/setup.sh --bench   # the demo's packages plus hey, bc, time (apt-get: root)
# The binary, wherever CARGO_TARGET_DIR or .cargo/config put the target directory.
# SIGAUDIT_BIN: another build (request counts, as `listing` measures them, do not depend on it).
bin="${SIGAUDIT_BIN:-$(cargo build --release --locked --message-format=json-render-diagnostics \
  | jq -r 'select(.reason == "compiler-artifact" and .target.name == "sigaudit" and (.target.kind | index("bin"))) | .executable')}"
work="$(mktemp -d)"; pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Run a command under /usr/bin/time -v; print wall s, cpu s, max RSS MB.
measure() { # label, command...
  local label="$1"; shift
  /usr/bin/time -v "$@" > "$work/out" 2> "$work/time" || true
  local wall cpu rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$work/time")
  cpu=$(awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$work/time")
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.1f", $2/1024}' "$work/time")
  printf '%-34s wall %8.2f s   cpu %8.2f s   peak RSS %7s MB\n' "$label" "$wall" "$cpu" "$rss"
  echo "$wall" > "$work/last_wall"
}

if [ "$mode" = registry ]; then
  repos="${1:-100}"; tags="${2:-20}"
  port=$(free_port)
  cat > "$work/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/data}, cache: {blobdescriptor: inmemory}}
http: {addr: 127.0.0.1:$port}
catalog: {maxentries: 1000}
YAML
  /usr/bin/docker-registry serve "$work/config.yml" > "$work/registry.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  start=$(date +%s.%N)
  python3 scripts/bench_seed.py --registry "127.0.0.1:$port" --repos "$repos" --tags "$tags" --threads 16
  echo "seeding ($((repos * tags)) images, concurrent uploads over the registry API): $(echo "$(date +%s.%N) - $start" | bc) s"

  # The registry's ceiling: manifest HEAD requests per second, at the best concurrency.
  url="http://127.0.0.1:$port/v2/bench/r00000/manifests/t00000"
  accept="application/vnd.oci.image.manifest.v1+json"
  best=0; best_c=0
  for c in 8 16 32 64; do
    rps=$(hey -n 20000 -c "$c" -m HEAD -H "Accept: $accept" "$url" | awk '/Requests\/sec/ {print int($2)}')
    echo "  hey HEAD concurrency $c: $rps req/s"
    [ "$rps" -gt "$best" ] && best=$rps && best_c=$c
  done
  pages=$(( (repos + 999) / 1000 ))
  requests_floor=$(( repos + repos * tags + pages ))
  floor=$(echo "scale=3; $requests_floor / $best" | bc)
  echo "ceiling: $best req/s (concurrency $best_c); floor = ($repos repos + $((repos * tags)) tags + $pages catalog pages) / ceiling = $floor s"

  # One unmeasured pass, so that the scans meet the registry warm, as hey's ceiling does.
  "$bin" registry "127.0.0.1:$port" --plain-http -o ndjson > /dev/null
  for fmt in json ndjson; do
    measure "scan -o $fmt" "$bin" registry "127.0.0.1:$port" --plain-http -o "$fmt" --stats --concurrency "$best_c"
    wall=$(cat "$work/last_wall")
    total=$(grep -o 'total [0-9]*' "$work/time" | awk '{print $2}')
    sigs=$(grep -o 'blob [0-9]*' "$work/time" | awk '{print $2}')
    echo "  $(grep -o 'requests to.*' "$work/time")"
    echo "  ratio scan/floor: $(echo "scale=2; $wall / $floor" | bc)   requests per image: $(echo "scale=3; $total / ($repos * $tags)" | bc) (of which signature fetches: $((sigs * 2)))"
  done
  # Tags resolved by GET and hashed (--verify-digests) against HEAD: alternated, 3 rounds, medians.
  : > "$work/head_walls"; : > "$work/get_walls"
  for round in 1 2 3; do
    measure "scan -o ndjson (HEAD) #$round" "$bin" registry "127.0.0.1:$port" --plain-http -o ndjson --stats --concurrency "$best_c"
    cat "$work/last_wall" >> "$work/head_walls"
    measure "scan -o ndjson --verify-digests #$round" "$bin" registry "127.0.0.1:$port" --plain-http -o ndjson --stats --concurrency "$best_c" --verify-digests
    cat "$work/last_wall" >> "$work/get_walls"
  done
  echo "  $(grep -o 'requests to.*' "$work/time")"
  median() { sort -n "$1" | sed -n 2p; }
  echo "  --verify-digests / HEAD (medians): $(median "$work/get_walls") s / $(median "$work/head_walls") s = $(echo "scale=2; $(median "$work/get_walls") / $(median "$work/head_walls")" | bc) (manifest bytes per tag: $(curl -s -H "Accept: $accept" "$url" | wc -c))"

  # Sharding: 4 processes (--shard i/4, each with the same --concurrency) against this one
  # registry at once, against one process; then the shards merged, which must count the same.
  measure "one process -o ndjson" "$bin" registry "127.0.0.1:$port" --plain-http -o ndjson --concurrency "$best_c"
  one=$(cat "$work/last_wall")
  measure "4 shards as 4 processes at once" sh -c "for i in 0 1 2 3; do $bin registry 127.0.0.1:$port --plain-http -o ndjson --concurrency $best_c --shard \$i/4 > $work/shard-\$i.ndjson & done; wait"
  four=$(cat "$work/last_wall")
  for i in 0 1 2 3; do
    echo "  shard $i/4: $(tail -n1 "$work/shard-$i.ndjson" | jq -r '"\(.summary.repositories) repositories, \(.summary.images) images"')"
  done
  measure "merge of the 4 shards" "$bin" merge -o json "$work"/shard-{0,1,2,3}.ndjson
  merged_images=$(jq '.summary.images' "$work/out")
  echo "  merged: $merged_images images (one process: $((repos * tags)) expected), complete: $(jq '.scan.complete' "$work/out")"
  echo "  one process / 4 shards: $one s / $four s = $(echo "scale=2; $one / $four" | bc)x; the registry's ceiling is $best req/s: both are bounded by it (floor $floor s)"
elif [ "$mode" = listing ]; then
  # Requests per image when a platform API lists the repositories: the catalog scan against
  # each lister, over the same registry content. Docker Hub, GHCR, Quay, Harbor and ECR list each
  # tag's digest, so no tag list is read and the tags of one image take one manifest HEAD;
  # GitLab lists repositories only. The platform APIs are replayed on 127.0.0.1 (no installable
  # server emulates them), ECR's is moto's; the registry protocol is docker-registry's.
  repos="${1:-50}"; tags="${2:-10}"; aliases="${3:-1}"
  port=$(free_port)
  cat > "$work/config.yml" <<YAML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $work/data}, cache: {blobdescriptor: inmemory}}
http: {addr: 127.0.0.1:$port}
catalog: {maxentries: 1000}
YAML
  /usr/bin/docker-registry serve "$work/config.yml" > "$work/registry.log" 2>&1 & pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
  python3 scripts/bench_seed.py --registry "127.0.0.1:$port" --repos "$repos" --tags "$tags" --aliases "$aliases" --threads 16
  images=$((repos * tags))
  per_image() { # label, stats line
    local total listing
    total=$(echo "$2" | grep -o 'total [0-9]*' | awk '{print $2}')
    listing=$(echo "$2" | grep -o 'listing [0-9]*' | awk '{print $2}')
    printf '%-12s %6d requests (%4d platform API, %s) = %.3f per image, %.3f to the registry\n' "$1" "$total" "$listing" \
      "$(echo "$2" | grep -o 'tag-list [0-9]*, manifest-head [0-9]*')" \
      "$(echo "scale=3; $total / $images" | bc)" "$(echo "scale=3; ($total - $listing) / $images" | bc)"
  }
  echo "$images images in $repos repositories, $((1 + aliases)) tags each"
  "$bin" registry "127.0.0.1:$port/bench" --plain-http -o ndjson --stats > "$work/catalog.ndjson" 2> "$work/err"
  per_image catalog "$(grep -o 'requests to.*' "$work/err")"
  for platform in docker-hub gitlab ghcr quay harbor; do
    api=$(free_port)
    python3 tests/support/platform_api.py "$platform" "$api" "127.0.0.1:$port" bench testdata/listers "$work/$platform.log" \
      > /dev/null 2>&1 & pids+=($!)
    for _ in $(seq 600); do grep -q READY "$work/$platform.log" 2>/dev/null && break; sleep 0.1; done
    "$bin" registry "127.0.0.1:$port/bench" --plain-http -o ndjson --stats --lister "$platform" \
      --lister-url "http://127.0.0.1:$api" > "$work/$platform.ndjson" 2> "$work/err"
    per_image "$platform" "$(grep -o 'requests to.*' "$work/err")"
    [ "$(tail -n1 "$work/$platform.ndjson" | jq '.summary.images')" = "$images" ] || echo "  $platform: not $images images" >&2
  done
  # Amazon ECR: moto in server mode on 127.0.0.1 (the AWS API emulator, as tests/listers.rs runs
  # it), seeded through the ECR API with the registry's images by tests/support/ecr_seed.py.
  venv="${SIGAUDIT_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/sigaudit/venv}"
  [ -x "$venv/bin/moto_server" ] || { echo "$venv/bin/moto_server is missing: ./scripts/setup.sh installs moto[server]" >&2; exit 1; }
  moto=$(free_port)
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto" > "$work/moto.log" 2>&1 & pids+=($!)
  for _ in $(seq 300); do curl -s "http://127.0.0.1:$moto/" >/dev/null && break; sleep 0.1; done
  "$venv/bin/python" tests/support/ecr_seed.py "http://127.0.0.1:$moto" "127.0.0.1:$port" bench > /dev/null
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1 AWS_CONFIG_FILE=/dev/null \
    AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true \
    "$bin" registry "127.0.0.1:$port/bench" --plain-http -o ndjson --stats --lister ecr \
      --lister-url "http://127.0.0.1:$moto" > "$work/ecr.ndjson" 2> "$work/err"
  per_image ecr "$(grep -o 'requests to.*' "$work/err")"
  [ "$(tail -n1 "$work/ecr.ndjson" | jq '.summary.images')" = "$images" ] || echo "  ecr: not $images images" >&2
elif [ "$mode" = bundles ]; then
  rounds="${1:-3}"
  conf="$SIGAUDIT_CORPUS/sigstore/conformance"
  id="https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
  # One command line per case and subject form, as the conformance test builds them.
  : > "$work/cmds"
  for d in "$conf"/*/; do
    d="${d%/}"; art="$conf/a.txt"; [ -f "$d/artifact" ] && art="$d/artifact"
    args="--bundle $d/bundle.sigstore.json"
    if [ -f "$d/key.pub" ]; then args="$args --key $d/key.pub"
    else
      i="$id"; [ -f "$d/identity" ] && i="$(cat "$d/identity")"
      iss=https://token.actions.githubusercontent.com; [ -f "$d/issuer" ] && iss="$(cat "$d/issuer")"
      args="$args --certificate-identity $i --certificate-oidc-issuer $iss"
    fi
    [ -f "$d/trusted_root.json" ] && args="$args --trusted-root $d/trusted_root.json"
    echo "$bin verify-bundle $args $art" >> "$work/cmds"
    echo "$bin verify-bundle $args sha256:$(sha256sum "$art" | cut -d' ' -f1)" >> "$work/cmds"
  done
  n=$(( $(wc -l < "$work/cmds") * rounds ))
  measure "process start floor x$n (--version)" sh -c "for i in \$(seq $n); do $bin --version >/dev/null; done"
  floor=$(cat "$work/last_wall")
  measure "verify-bundle x$n (conformance cases)" sh -c "for r in \$(seq $rounds); do while read -r c; do \$c >/dev/null 2>&1; done < $work/cmds; done"
  echo "  per verification: $(echo "scale=2; $(cat "$work/last_wall") * 1000 / $n" | bc) ms (process start alone $(echo "scale=2; $floor * 1000 / $n" | bc) ms)"
else
  copies="${1:-60}"
  files="$work/files"; mkdir -p "$files"
  ./scripts/make_fs_fixtures.sh "$work/fixtures" 2>/dev/null
  # Every verified format: PE, JAR, APK (v1+v2+v3), kernel module, MSI, CAB, PowerShell, and a
  # catalog (whose presence makes every file without its own signature hashed for a lookup).
  srcs=("$SIGAUDIT_CORPUS/fs/putty.exe" "$SIGAUDIT_CORPUS/fs-suite/pe/real-7z1900-x64_signed.exe" "$SIGAUDIT_CORPUS/fs/hello-signed.jar"
        "$work/fixtures/pe/deep/er/dual-nested.exe" "$work/fixtures/jar/lib/signed-tsa.jar"
        "$SIGAUDIT_CORPUS/fs-suite/apk/apk-v1v2v3-rsa.apk" "$SIGAUDIT_CORPUS/fs-suite/real-linux/debian-6.1.0-56-crc7.ko"
        "$SIGAUDIT_CORPUS/fs-suite/msi/real-putty.msi" "testdata/fs-win/cab/signed-rfc3161.cab"
        "testdata/fs-win/scripts/signed-crlf-bom.ps1" "testdata/fs-win/cat/members/legacy.dat")
  for i in $(seq "$copies"); do for s in "${srcs[@]}"; do cp "$s" "$files/$i-$(basename "$s")"; done; done
  cp testdata/fs-win/cat/signed.cat "$files/"
  n=$(ls "$files" | wc -l); mb=$(du -sm "$files" | cut -f1)
  echo "$n files, $mb MB (copies of corpus samples and generated fixtures)"
  cat "$files"/* > /dev/null  # warm the page cache for every contender alike
  measure "sha256sum (read-and-hash floor)" sh -c "sha256sum $files/* > /dev/null"
  floor=$(cat "$work/last_wall")
  measure "sigaudit fs -o ndjson" "$bin" fs "$files" -o ndjson
  echo "  ratio sigaudit/sha256sum: $(echo "scale=2; $(cat "$work/last_wall") / $floor" | bc)"
  pe=$(ls "$files"/*putty.exe | head -10); jars=$(ls "$files"/*.jar | head -10)
  measure "osslsigncode verify x10 (putty)" sh -c "for f in $(echo $pe); do osslsigncode verify -ignore-crl -in \$f >/dev/null 2>&1; done"
  echo "  per file: $(echo "scale=3; $(cat "$work/last_wall") / 10" | bc) s"
  measure "jarsigner -verify x10" sh -c "for f in $(echo $jars); do jarsigner -verify \$f >/dev/null 2>&1; done"
  echo "  per file: $(echo "scale=3; $(cat "$work/last_wall") / 10" | bc) s"
fi
