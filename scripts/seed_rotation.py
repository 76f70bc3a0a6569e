#!/usr/bin/env python3
"""Push images signed with an old and a new cosign key (key rotation), some logged in the
seeder's own transparency log at given integrated times, for tests/rotation.rs. Uses
scripts/seed_registry.py's Seeder (same formats, same test log); writes old.pub, new.pub,
trusted_root.json (the test log) and, per image, the payload and signature (for `openssl dgst
-verify`) into --out, and prints {"repo": {"digest", "key", "integratedTime"}}.

usage: seed_rotation.py --registry 127.0.0.1:PORT --out DIR
"""

import argparse
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_registry import Registry, Seeder, fixed_key  # noqa: E402

JUNE_2025 = 1748736000     # 2025-06-01T00:00:00Z
JANUARY_2026 = 1767225600  # 2026-01-01T00:00:00Z


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not a.registry.startswith("127.0.0.1:"):
        sys.exit("seed_rotation.py: only 127.0.0.1 registries are seeded")
    os.makedirs(a.out, exist_ok=True)
    s = Seeder(Registry(a.registry), a.registry, None, a.out, False)
    keys = {"old": fixed_key("rotation old"), "new": fixed_key("rotation new")}
    pems = {}
    for name, key in keys.items():
        pems[name] = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        open(os.path.join(a.out, f"{name}.pub"), "wb").write(pems[name])
    der = s.log_key_der()
    root = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{"baseUrl": "http://127.0.0.1/test-log", "hashAlgorithm": "SHA2_256",
                       "publicKey": {"rawBytes": base64.b64encode(der).decode(),
                                     "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                     "validFor": {"start": "2025-01-01T00:00:00Z"}},
                       "logId": {"keyId": base64.b64encode(hashlib.sha256(der).digest()).decode()}}],
            "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}
    json.dump(root, open(os.path.join(a.out, "trusted_root.json"), "w"), indent=1)
    out = {}
    for repo, key, logged_at in [("rotation/old-logged", "old", JUNE_2025),
                                 ("rotation/old-late", "old", JANUARY_2026),
                                 ("rotation/old-bare", "old", None),
                                 ("rotation/new-logged", "new", JANUARY_2026),
                                 ("rotation/new-bare", "new", None)]:
        s.key = keys[key]
        img = s.image(repo, ["v1"], repo)
        p = s.simplesigning_payload(repo, img["digest"])
        sig = s.sign(p)
        ann = {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode()}
        if logged_at is not None:
            ann["dev.sigstore.cosign/bundle"] = s.rekor_bundle(s.hashedrekord(p, sig, pems[key]), logged_at)
        s.push_cosign(repo, img["digest"], [(p, ann)])
        stem = os.path.join(a.out, repo.replace("/", "_"))
        open(stem + ".payload", "wb").write(p)
        open(stem + ".sig", "wb").write(sig)
        out[repo] = {"digest": img["digest"], "key": key, "integratedTime": logged_at}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
