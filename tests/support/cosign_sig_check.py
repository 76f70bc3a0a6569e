#!/usr/bin/env python3
"""Judge a cosign `.sig` tag independently of sigaudit, with Python's `cryptography` and the
registry HTTP API (127.0.0.1 only): fetch the signature manifest `REPO:TAG`, and for each
simple-signing layer verify its `dev.cosignproject.cosign/signature` annotation over the layer blob
with the public key (ECDSA, as cosign signs) and read the payload's
`critical.image.docker-manifest-digest`.

usage: cosign_sig_check.py 127.0.0.1:PORT REPO TAG KEY.pem
prints: [{"valid": true|false, "digest": "sha256:..."}]  (one entry per layer)
"""

import base64
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"


def get(url, accept=None):
    req = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read()


def main():
    registry, repo, tag, key_path = sys.argv[1:5]
    assert registry.startswith("127.0.0.1:"), "loopback registries only"
    key = serialization.load_pem_public_key(open(key_path, "rb").read())
    base = f"http://{registry}/v2/{repo}"
    manifest = json.loads(get(f"{base}/manifests/{tag}", "application/vnd.oci.image.manifest.v1+json"))
    out = []
    for layer in manifest["layers"]:
        if layer["mediaType"] != SIMPLESIGNING:
            continue
        blob = get(f"{base}/blobs/{layer['digest']}")
        sig = base64.b64decode(layer["annotations"]["dev.cosignproject.cosign/signature"])
        try:
            key.verify(sig, blob, ec.ECDSA(hashes.SHA256()))
            valid = True
        except InvalidSignature:
            valid = False
        digest = json.loads(blob)["critical"]["image"]["docker-manifest-digest"]
        out.append({"valid": valid, "digest": digest})
    print(json.dumps(out))


if __name__ == "__main__":
    main()
