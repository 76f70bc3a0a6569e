#!/usr/bin/env python3
"""Change a registry seeded by scripts/seed_registry.py the way registries change between two
nightly scans, over the registry HTTP API (127.0.0.1 only), with the seeder's own helpers and keys:

1. apps/web:v1 pushed over with a rebuilt, unsigned image (apps/web:latest stays on the signed one);
2. apps/unsigned:v1's manifest tagged again as v2 (a PUT of the same bytes under another tag);
3. deep/a/b/c/d:v1 re-signed by another key (the seeder's `other` key, as a key rotation does):
   its `.sig` manifest replaced by one holding a key-only signature;
4. apps/batch unsigned: its `.sig` manifest deleted by digest;
5. apps/worker:v1 deleted (its manifest, by digest): its `.sig` stays behind, an orphan.

usage: mutate_registry.py 127.0.0.1:PORT OUT.json   (OUT.json: the digests involved)
"""

import base64
import json
import os
import sys

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import seed_registry as sr  # noqa: E402

ACCEPT = {"Accept": ", ".join([sr.OCI_MANIFEST, sr.OCI_INDEX])}


def digest_of(reg, repo, ref):
    st, h, _ = reg.request("HEAD", f"/v2/{repo}/manifests/{ref}", headers=ACCEPT)
    assert st == 200, (repo, ref, st)
    return h["docker-content-digest"]


def delete(reg, repo, digest):
    st, _, body = reg.request("DELETE", f"/v2/{repo}/manifests/{digest}", headers=ACCEPT)
    assert st == 202, (repo, digest, st, body)


def main():
    addr, out = sys.argv[1], sys.argv[2]
    if not addr.startswith("127.0.0.1:"):
        sys.exit("mutate_registry.py: only 127.0.0.1 registries are changed")
    reg = sr.Registry(addr)
    seeder = sr.Seeder(reg, addr, None, None, False)
    done = {}

    done["web_v1_before"] = digest_of(reg, "apps/web", "v1")
    done["web_v1_after"] = seeder.image("apps/web", ["v1"], "web rebuilt")["digest"]

    st, _, manifest = reg.request("GET", "/v2/apps/unsigned/manifests/v1", headers=ACCEPT)
    assert st == 200, st
    done["unsigned_v2"] = reg.push_manifest("apps/unsigned", "v2", manifest, sr.OCI_MANIFEST)

    deep = digest_of(reg, "deep/a/b/c/d", "v1")
    done["deep_sig_before"] = digest_of(reg, "deep/a/b/c/d", deep.replace(":", "-") + ".sig")
    payload = seeder.simplesigning_payload("deep/a/b/c/d", deep)
    signature = sr.fixed_key("other").sign(payload, ec.ECDSA(hashes.SHA256()))
    ann = {"dev.cosignproject.cosign/signature": base64.b64encode(signature).decode()}
    _, sig_manifest = seeder.push_cosign("deep/a/b/c/d", deep, [(payload, ann)])
    done["deep_sig_after"] = sr.sha256(sig_manifest)

    batch = digest_of(reg, "apps/batch", "v1")
    done["batch_sig"] = digest_of(reg, "apps/batch", batch.replace(":", "-") + ".sig")
    delete(reg, "apps/batch", done["batch_sig"])

    done["worker"] = digest_of(reg, "apps/worker", "v1")
    delete(reg, "apps/worker", done["worker"])

    with open(out, "w") as f:
        json.dump(done, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
