#!/usr/bin/env bash
# Run every cargo-fuzz target for a bounded time (FUZZ_SECONDS each, default 60), seeded from the
# real signatures in testdata/ (or $SIGAUDIT_CORPUS) and from the corpus kept in fuzz/corpus/.
# After a run without a crash the target's corpus is minimised (`cargo fuzz cmin`), and inputs
# over 64 KiB are dropped (mostly testdata/ samples, seeded again on the next run): what is
# left is committed, and tests/fuzz_corpus.rs replays it under `cargo test`. Exits 1 if any
# target finds a crash; the reproducer is under fuzz/artifacts/ and, once fixed, belongs in
# fuzz/regressions/TARGET/ (replayed by the same test).
#   FUZZ_SECONDS=30 ./scripts/fuzz.sh [TARGET...]
# Installs cargo-fuzz with `cargo install` (into ~/.cargo/bin, no root) when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v cargo-fuzz >/dev/null || { echo "fuzz: cargo install cargo-fuzz (no root)" >&2; cargo install cargo-fuzz --locked; }
# cargo-fuzz passes nightly-only flags (sanitizers, sancov); the machine's one toolchain is stable.
export RUSTC_BOOTSTRAP=1
seconds="${FUZZ_SECONDS:-60}"
corpus="${SIGAUDIT_CORPUS:-testdata}"

seed() { # target, files...
  local dir="fuzz/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do [ -f "$f" ] && cp -n "$f" "$dir/" 2>/dev/null || true; done
}
if [ -d "$corpus" ]; then
  seed notation_jws "$corpus"/notation/envelopes/*.sig "$corpus"/notation/suite/notation-go/mock/*.json
  seed notation_cose "$corpus"/notation/envelopes/*cose*.sig
  seed sigstore_bundle "$corpus"/sigstore/*.json "$corpus"/cosign/sigstore-rs/*.json "$corpus"/cosign/sigstore-go/*.sigstore.json
  seed x509_identity "$corpus"/notation/truststore/* "$corpus"/cosign/containers-image/keys/*
  seed signed_file "$corpus"/fs-suite/pe/*.exe "$corpus"/fs-suite/jar/*.jar "$corpus"/fs-suite/apk/*.apk \
    testdata/apk/*.apk testdata/kmod/*.ko "$corpus"/fs-suite/real-linux/*.ko
  seed signed_file "$corpus"/fs-win/msi/*.msi "$corpus"/fs-win/cab/*.cab "$corpus"/fs-win/cat/*.cat "$corpus"/fs-win/scripts/*
  seed cms "$corpus"/notation/suite/notation-go/timestamp/countersignature/*.p7s
  seed manifests "$corpus"/notation/oci-layout/index.json "$corpus"/cosign/containers-image/*/manifest.json
  # trust_evidence: the first byte picks the parser (0/1 Rekor bundle, 2 RFC 3161, 3 Sigstore bundle).
  mkdir -p fuzz/corpus/trust_evidence
  for f in "$corpus"/cosign/containers-image/rekor-set-unit/rekor-set "$corpus"/cosign/sigstore-rs/keyless-2021-fulcio-v1/bundle.json; do
    [ -f "$f" ] && { printf '\000'; cat "$f"; } > "fuzz/corpus/trust_evidence/$(basename "$f").0"
  done
  for f in "$corpus"/sigstore/conformance/*/bundle.sigstore.json; do
    { printf '\003'; cat "$f"; } > "fuzz/corpus/trust_evidence/$(basename "$(dirname "$f")").3"
  done
  # path_validation: purpose byte, anchor mask, time, then DER certificates (the test PKIs' chains).
  mkdir -p fuzz/corpus/path_validation
  /usr/bin/python3 - "$corpus" fuzz/corpus/path_validation <<'PY'
import base64, pathlib, re, sys
corpus, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def ders(p):
    t = p.read_bytes()
    if t.startswith(b"0"):
        return [t]
    return [base64.b64decode(b"".join(m.split())) for m in re.findall(rb"-----BEGIN CERTIFICATE-----(.*?)-----END", t, re.S)]
pki = corpus / "fs-suite/pki"
chain = [d for f in ("test-signer-ec.pem", "test-ca.pem", "test-root.pem") if (pki / f).exists() for d in ders(pki / f)]
stores = [d for f in sorted((corpus / "notation/truststore").glob("*")) for d in ders(f)]
for i, (purpose, mask, certs) in enumerate([(0, 0b100, chain), (1, 0b100, chain), (2, 0b110, chain), (1, 0b1, stores)]):
    (out / f"seed{i}").write_bytes(bytes([purpose, mask]) + (700_000_000).to_bytes(4, "big") + b"".join(certs))
PY
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cd fuzz && cargo fuzz list)
failed=()
for t in "${targets[@]}"; do
  echo "== fuzz $t for ${seconds}s"
  if ! (cd fuzz && cargo fuzz run "$t" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=1048576 2>&1 | tail -n 4); then
    failed+=("$t")
    continue
  fi
  (cd fuzz && cargo fuzz cmin "$t" -- -rss_limit_mb=2048 2>&1 | tail -n 1)
  find "fuzz/corpus/$t" -type f -size +64k -delete
  echo "fuzz: $t keeps $(find "fuzz/corpus/$t" -type f | wc -l) inputs ($(du -sh --apparent-size "fuzz/corpus/$t" | cut -f1))"
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (see fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: ${#targets[@]} targets ran ${seconds}s each without a crash"
