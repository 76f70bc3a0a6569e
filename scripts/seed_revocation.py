#!/usr/bin/env python3
"""Push cosign-signed images whose signers come from the `openssl ca` PKI of
scripts/make_revocation_fixtures.sh, for tests/revocation.rs: one image per leaf (good, kc:
revoked for keyCompromise, sup: revoked superseded, under2: under a revoked CA), each signed in
cosign's legacy format (certificate and chain annotations) with the leaf's key by Python's
`cryptography`, as scripts/seed_registry.py signs its own images. Prints {"repo": digest}.

usage: seed_revocation.py --registry 127.0.0.1:PORT --pki DIR [--leaves LEAF:CA,...]
(--leaves: other leaves of another PKI, e.g. scripts/make_online_revocation_fixtures.sh's)
"""

import argparse
import json
import os
import sys

from cryptography.hazmat.primitives import serialization

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_registry import Registry, Seeder  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--pki", required=True)
    ap.add_argument("--leaves", default="good:ica,kc:ica,sup:ica,under2:ica2")
    a = ap.parse_args()
    if not a.registry.startswith("127.0.0.1:"):
        sys.exit("seed_revocation.py: only 127.0.0.1 registries are seeded")
    s = Seeder(Registry(a.registry), a.registry, None, None, False)
    read = lambda name: open(os.path.join(a.pki, name), "rb").read()
    out = {}
    for leaf, ca in (pair.split(":") for pair in a.leaves.split(",")):
        s.key = serialization.load_pem_private_key(read(f"{leaf}.key"), None)
        leaf_pem = read(f"{leaf}.crt").decode()
        s.cert_pem = lambda pem=leaf_pem: pem
        repo = f"revocation/{leaf}"
        img = s.image(repo, ["v1"], f"revocation-{leaf}")
        payload = s.simplesigning_payload(repo, img["digest"])
        layer = s.cosign_layer(payload)
        layer["dev.sigstore.cosign/chain"] = read(f"{ca}.crt").decode()
        s.push_cosign(repo, img["digest"], [(payload, layer)])
        out[repo] = img["digest"]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
