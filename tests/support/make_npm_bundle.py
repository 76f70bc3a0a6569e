#!/usr/bin/env python3
"""Make an npm-style publish attestation: a Sigstore bundle v0.3 holding a DSSE envelope whose
in-toto statement names a package tarball by its SHA-512 only (as npm does), signed with a managed
key (npm's publish attestations are), and logged in a transparency log of our own: a Rekor v1
`dsse` 0.0.1 entry with its SET and an inclusion proof whose checkpoint the log key signs. All of
it made here with Python's `cryptography`, independently of sigaudit and of sigstore-verify.

usage: make_npm_bundle.py OUT_DIR
writes package.tgz, bundle.json, key.pub (the signing key), trusted_root.json (our log), and
sha512.txt / sha256.txt (the tarball's digests)
"""

import base64
import hashlib
import json
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

B64 = lambda b: base64.b64encode(b).decode()
CANON = lambda o: json.dumps(o, sort_keys=True, separators=(",", ":")).encode()  # RFC 8785 for these values
INTEGRATED = 1767225600  # 2026-01-01T00:00:00Z
LOG_NAME = "sigaudit-test-log"
ORIGIN = LOG_NAME + " - 2605736670972794746"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tarball = b"package/package.json\0" + bytes(range(256)) * 64
    open(os.path.join(out, "package.tgz"), "wb").write(tarball)
    open(os.path.join(out, "sha512.txt"), "w").write(hashlib.sha512(tarball).hexdigest())
    open(os.path.join(out, "sha256.txt"), "w").write(hashlib.sha256(tarball).hexdigest())

    signer = ec.generate_private_key(ec.SECP256R1())
    log = ec.generate_private_key(ec.SECP256R1())
    spki = lambda k: k.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    signer_pem = signer.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
    open(os.path.join(out, "key.pub"), "wb").write(signer_pem)

    statement = {"_type": "https://in-toto.io/Statement/v1",
                 "subject": [{"name": "pkg:npm/sigaudit-demo@1.0.0",
                              "digest": {"sha512": hashlib.sha512(tarball).hexdigest()}}],
                 "predicateType": "https://github.com/npm/attestation/tree/main/specs/publish/v0.1",
                 "predicate": {"name": "sigaudit-demo", "version": "1.0.0", "registry": "https://registry.npmjs.org"}}
    payload = json.dumps(statement, separators=(",", ":")).encode()
    ptype = "application/vnd.in-toto+json"
    pae = b"DSSEv1 %d %s %d %s" % (len(ptype), ptype.encode(), len(payload), payload)
    sig = signer.sign(pae, ec.ECDSA(hashes.SHA256()))
    envelope = {"payload": B64(payload), "payloadType": ptype, "signatures": [{"sig": B64(sig), "keyid": ""}]}

    # The log entry: Rekor's dsse 0.0.1 kind records the payload hash and each signature with its verifier.
    body = CANON({"apiVersion": "0.0.1", "kind": "dsse",
                  "spec": {"envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(CANON(envelope)).hexdigest()},
                           "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                           "signatures": [{"signature": B64(sig), "verifier": B64(signer_pem)}]}})
    log_id = hashlib.sha256(spki(log)).digest()
    set_payload = CANON({"body": B64(body), "integratedTime": INTEGRATED, "logID": log_id.hex(), "logIndex": 0})
    set_sig = log.sign(set_payload, ec.ECDSA(hashes.SHA256()))
    # A tree of one leaf: its root is the leaf hash (RFC 6962).
    root = hashlib.sha256(b"\x00" + body).digest()
    note = f"{ORIGIN}\n1\n{B64(root)}\n"
    note_sig = log.sign(note.encode(), ec.ECDSA(hashes.SHA256()))
    checkpoint = f"{note}\n\u2014 {LOG_NAME} {B64(log_id[:4] + note_sig)}\n"
    entry = {"logIndex": "0", "logId": {"keyId": B64(log_id)},
             "kindVersion": {"kind": "dsse", "version": "0.0.1"},
             "integratedTime": str(INTEGRATED),
             "inclusionPromise": {"signedEntryTimestamp": B64(set_sig)},
             "inclusionProof": {"logIndex": "0", "rootHash": B64(root), "treeSize": "1", "hashes": [],
                                "checkpoint": {"envelope": checkpoint}},
             "canonicalizedBody": B64(body)}
    bundle = {"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
              "verificationMaterial": {"publicKey": {"hint": ""}, "tlogEntries": [entry],
                                       "timestampVerificationData": {}},
              "dsseEnvelope": envelope}
    json.dump(bundle, open(os.path.join(out, "bundle.json"), "w"), indent=1)
    root_json = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                 "tlogs": [{"baseUrl": "http://127.0.0.1/test-log", "hashAlgorithm": "SHA2_256",
                            "publicKey": {"rawBytes": B64(spki(log)), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                          "validFor": {"start": "2025-01-01T00:00:00Z"}},
                            "logId": {"keyId": B64(log_id)}}],
                 "certificateAuthorities": [], "ctlogs": [], "timestampAuthorities": []}
    json.dump(root_json, open(os.path.join(out, "trusted_root.json"), "w"), indent=1)


if __name__ == "__main__":
    main()
