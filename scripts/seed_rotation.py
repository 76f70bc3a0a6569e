#!/usr/bin/env python3
"""Push images signed with an old and a new cosign key (key rotation), some logged in the
seeder's own transparency log at given integrated times, for tests/rotation.rs. Uses
scripts/seed_registry.py's Seeder (same formats, same test log, same timestamp authority);
writes old.pub, new.pub, trusted_root.json (the test log and TSA), tsa-root.crt and, per image,
the payload and signature (for `openssl dgst -verify`; for a bundle the DSSE PAE it signs) and,
for a timestamped one, the RFC 3161 token (for `openssl ts -verify`) into --out, and prints
{"repo": {"digest", "key", "integratedTime"}}.

Besides cosign `.sig` layers (logged by a Rekor SET, or bare), the old key signs one layer with
only an RFC 3161 timestamp (stamped now: the seeder's one input from the clock) and two Sigstore
bundles (v0.3, DSSE, a managed key) logged in the test log in June 2025 or January 2026 with a SET
and an inclusion proof under a checkpoint the log key signs.

usage: seed_rotation.py --registry 127.0.0.1:PORT --out DIR
"""

import argparse
import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_registry import (BUNDLE, EMPTY, EMPTY_DIGEST, OCI_MANIFEST, Registry, Seeder,  # noqa: E402
                           canon, descriptor, fixed_key)

JUNE_2025 = 1748736000     # 2025-06-01T00:00:00Z
JANUARY_2026 = 1767225600  # 2026-01-01T00:00:00Z
LOG_NAME = "sigaudit-test-log"
B64 = lambda b: base64.b64encode(b).decode()


def logged_bundle(s, pem, subject_digest, integrated_time):
    """A Sigstore bundle v0.3: a DSSE envelope (cosign's sign predicate naming the image) signed by
    s.key, logged as a Rekor dsse 0.0.1 entry at `integrated_time` with a SET and an inclusion
    proof (a tree of one leaf) under a checkpoint signed by the test log's key. Returns (bundle
    bytes, PAE, signature)."""
    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"digest": {"sha256": subject_digest.split(":", 1)[1]}}],
                 "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}
    env = s.dsse(statement)
    payload = base64.b64decode(env["payload"])
    ptype = env["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d " % (len(ptype), ptype, len(payload)) + payload
    sig = base64.b64decode(env["signatures"][0]["sig"])
    body = canon(s.dsse_v1(canon(env), pem))
    log_id = hashlib.sha256(s.log_key_der()).digest()
    set_payload = canon({"body": B64(body), "integratedTime": integrated_time, "logID": log_id.hex(),
                         "logIndex": 0})
    set_sig = s.sign_with_log(set_payload)
    root = hashlib.sha256(b"\x00" + body).digest()  # RFC 6962: a tree of one leaf
    note = f"{LOG_NAME} - 2605736670972794746\n1\n{B64(root)}\n"
    checkpoint = f"{note}\n\u2014 {LOG_NAME} {B64(log_id[:4] + s.sign_with_log(note.encode()))}\n"
    entry = {"logIndex": "0", "logId": {"keyId": B64(log_id)},
             "kindVersion": {"kind": "dsse", "version": "0.0.1"}, "integratedTime": str(integrated_time),
             "inclusionPromise": {"signedEntryTimestamp": B64(set_sig)},
             "inclusionProof": {"logIndex": "0", "rootHash": B64(root), "treeSize": "1", "hashes": [],
                                "checkpoint": {"envelope": checkpoint}},
             "canonicalizedBody": B64(body)}
    bundle = canon({"mediaType": BUNDLE,
                    "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": [entry]},
                    "dsseEnvelope": env})
    return bundle, pae, sig


def push_bundle(s, repo, img, bundle):
    s.reg.push_blob(repo, EMPTY)
    s.reg.push_blob(repo, bundle)
    m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE,
         "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2},
         "layers": [descriptor(BUNDLE, bundle)],
         "subject": {"mediaType": OCI_MANIFEST, "digest": img["digest"], "size": img["size"]},
         "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                         "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"}}
    s.push_referrer(repo, {"digest": img["digest"]}, m, BUNDLE)


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
    s.sign_with_log = lambda data: s.log_key.sign(data, ec.ECDSA(hashes.SHA256()))
    s.make_tsa()
    open(os.path.join(a.out, "tsa-root.crt"), "wb").write(s.tsa_root.public_bytes(serialization.Encoding.PEM))
    der = s.log_key_der()
    root = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [{"baseUrl": "http://127.0.0.1/test-log", "hashAlgorithm": "SHA2_256",
                       "publicKey": {"rawBytes": base64.b64encode(der).decode(),
                                     "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                     "validFor": {"start": "2025-01-01T00:00:00Z"}},
                       "logId": {"keyId": base64.b64encode(hashlib.sha256(der).digest()).decode()}}],
            "certificateAuthorities": [], "ctlogs": [],
            "timestampAuthorities": [{
                "subject": {"organization": "sigaudit tests", "commonName": "sigaudit test TSA"},
                "uri": "http://127.0.0.1/test-tsa",
                "certChain": {"certificates": [{"rawBytes": B64(c.public_bytes(serialization.Encoding.DER))}
                                               for c in (s.tsa_cert, s.tsa_root)]},
                "validFor": {"start": "2025-01-01T00:00:00Z"}}]}
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
    # The old key: a layer dated only by an RFC 3161 timestamp over its signature, and bundles.
    s.key = keys["old"]
    repo = "rotation/old-stamped"
    img = s.image(repo, ["v1"], repo)
    p = s.simplesigning_payload(repo, img["digest"])
    sig = s.sign(p)
    token = s.timestamp(sig)
    s.push_cosign(repo, img["digest"], [(p, {
        "dev.cosignproject.cosign/signature": B64(sig),
        "dev.sigstore.cosign/rfc3161timestamp": json.dumps({"SignedRFC3161Timestamp": B64(token)})})])
    stem = os.path.join(a.out, repo.replace("/", "_"))
    open(stem + ".payload", "wb").write(p)
    open(stem + ".sig", "wb").write(sig)
    open(stem + ".tsr", "wb").write(token)
    out[repo] = {"digest": img["digest"], "key": "old", "integratedTime": None}
    for repo, logged_at in [("rotation/old-bundle-logged", JUNE_2025), ("rotation/old-bundle-late", JANUARY_2026)]:
        img = s.image(repo, ["v1"], repo)
        bundle, pae, sig = logged_bundle(s, pems["old"], img["digest"], logged_at)
        push_bundle(s, repo, img, bundle)
        stem = os.path.join(a.out, repo.replace("/", "_"))
        open(stem + ".payload", "wb").write(pae)
        open(stem + ".sig", "wb").write(sig)
        out[repo] = {"digest": img["digest"], "key": "old", "integratedTime": logged_at}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
