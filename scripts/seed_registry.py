#!/usr/bin/env python3
"""Seed an OCI registry with signed, unsigned and tampered images, and write what a correct
scanner must report about them (the expectations file).

The signatures are made here, independently of sigaudit: cosign-format signatures by a scripted
signer on Python's `cryptography` (cosign's own wire format: COSIGN.md §1-3), and real Notary
Project envelopes from testdata/notation (made by notation itself), pushed next to the
exact manifest they sign. Everything goes over the registry HTTP API to 127.0.0.1.

usage: seed_registry.py --registry 127.0.0.1:PORT --out DIR [--corpus DIR] [--referrers-api]

--corpus: where the third-party samples are (default $SIGAUDIT_CORPUS, else this repository's testdata/).

--referrers-api: the registry implements the OCI referrers API (ferro-oci-server): referrers are
pushed with `subject` only, without referrers tag-schema indexes, so that only the API finds them.
"""

import argparse
import base64
import datetime
import hashlib
import http.client
import json
import os
import subprocess
import sys
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
SIMPLESIGNING = "application/vnd.dev.cosign.simplesigning.v1+json"
DSSE = "application/vnd.dsse.envelope.v1+json"
NOTARY = "application/vnd.cncf.notary.signature"
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
EMPTY = b"{}"
EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def fixed_key(label):
    """A P-256 key derived from `label`: the same keys, key files and certificate identities on
    every run (only ECDSA signature bytes vary: Debian's `cryptography` signs with random nonces)."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    d = int.from_bytes(hashlib.sha256(b"sigaudit seed_registry.py: " + label.encode()).digest(), "big")
    return ec.derive_private_key(d % (order - 1) + 1, ec.SECP256R1())


def fixed_serial(label):
    """A positive 127-bit certificate serial number derived from `label`."""
    return (int.from_bytes(hashlib.sha256(b"serial: " + label.encode()).digest()[:16], "big") >> 1) or 1


def canon(obj):
    """Compact JSON as Go's json.Marshal writes it (struct order is ours to choose)."""
    return json.dumps(obj, separators=(",", ":")).encode()


class Registry:
    def __init__(self, hostport):
        self.hostport = hostport
        self.conn = http.client.HTTPConnection(hostport, timeout=30)

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                r = self.conn.getresponse()
                data = r.read()
                return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.hostport, timeout=30)
                if attempt:
                    raise

    def push_blob(self, repo, data):
        digest = sha256(data)
        st, _, _ = self.request("HEAD", f"/v2/{repo}/blobs/{digest}")
        if st == 200:
            return digest
        st, h, body = self.request("POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Length": "0"})
        assert st == 202, (st, body)
        loc = h["location"]
        if loc.startswith("http"):
            loc = "/" + loc.split("/", 3)[3]
        sep = "&" if "?" in loc else "?"
        st, _, body = self.request(
            "PUT", f"{loc}{sep}digest={digest}", data,
            {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))})
        assert st == 201, (st, body)
        return digest

    def push_manifest(self, repo, ref, data, media_type):
        st, h, body = self.request(
            "PUT", f"/v2/{repo}/manifests/{ref}", data,
            {"Content-Type": media_type, "Content-Length": str(len(data))})
        assert st == 201, (repo, ref, st, body)
        return sha256(data)


def descriptor(media_type, data, **extra):
    d = {"mediaType": media_type, "digest": sha256(data), "size": len(data)}
    d.update(extra)
    return d


class Seeder:
    def __init__(self, reg, host, corpus, out, referrers_api):
        self.reg, self.host, self.corpus, self.out = reg, host, corpus, out
        self.referrers_api = referrers_api
        self.expect = {"images": [], "orphans": [], "notes": [], "repositories": set()}
        self.key = fixed_key("signer")
        self.cert = self.make_cert(self.key, "sigaudit test signer", "signer@example.test")
        # A transparency log of our own: its key signs Rekor SETs (COSIGN.md §1.5) and goes into
        # trusted_root.json, so that a scan given that root can check them.
        self.log_key = fixed_key("transparency log")
        self.log_index = 1000

    # ---- keys and certificates ----
    def make_cert(self, key, cn, email):
        name = x509.Name([
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ])
        now = datetime.datetime(2025, 1, 1)
        return (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(fixed_serial(cn))
                .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
                .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                # The Notary Project certificate profile: keyUsage critical, digitalSignature only.
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=False, crl_sign=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))

    def cert_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()

    def write_key_files(self):
        pub = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        with open(os.path.join(self.out, "cosign.pub"), "wb") as f:
            f.write(pub)
        other = fixed_key("other").public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        with open(os.path.join(self.out, "other.pub"), "wb") as f:
            f.write(other)
        with open(os.path.join(self.out, "signer.crt"), "w") as f:
            f.write(self.cert_pem())

    def sign(self, data):
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    # ---- our transparency log ----
    def log_key_der(self):
        return self.log_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)

    def rekor_bundle(self, body, integrated_time=1767225600):
        """The dev.sigstore.cosign/bundle annotation for a log entry `body` (a dict), logged at
        `integrated_time` (default 2026-01-01)."""
        self.log_index += 1
        payload = {"body": base64.b64encode(canon(body)).decode(), "integratedTime": integrated_time,
                   "logID": hashlib.sha256(self.log_key_der()).hexdigest(), "logIndex": self.log_index}
        # RFC 8785 for these four members: sorted keys, compact.
        msg = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        set_ = self.log_key.sign(msg, ec.ECDSA(hashes.SHA256()))
        return json.dumps({"SignedEntryTimestamp": base64.b64encode(set_).decode(), "Payload": payload})

    def pem_b64(self, pem):
        return base64.b64encode(pem if isinstance(pem, bytes) else pem.encode()).decode()

    def hashedrekord(self, payload, sig, signer_pem):
        return {"apiVersion": "0.0.1", "kind": "hashedrekord",
                "spec": {"data": {"hash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}},
                         "signature": {"content": base64.b64encode(sig).decode(),
                                       "publicKey": {"content": self.pem_b64(signer_pem)}}}}

    def intoto_v2(self, envelope_json, signer_pem):
        env = json.loads(envelope_json)
        payload = base64.b64decode(env["payload"])
        twice = lambda s: base64.b64encode(s.encode()).decode()
        return {"apiVersion": "0.0.2", "kind": "intoto",
                "spec": {"content": {
                    "envelope": {"payloadType": env["payloadType"], "payload": twice(env["payload"]),
                                 "signatures": [{"sig": twice(env["signatures"][0]["sig"]),
                                                 "publicKey": self.pem_b64(signer_pem)}]},
                    "hash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_json).hexdigest()},
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}}}}

    def dsse_v1(self, envelope_json, signer_pem):
        env = json.loads(envelope_json)
        payload = base64.b64decode(env["payload"])
        return {"apiVersion": "0.0.1", "kind": "dsse",
                "spec": {"envelopeHash": {"algorithm": "sha256", "value": hashlib.sha256(envelope_json).hexdigest()},
                         "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                         "signatures": [{"signature": env["signatures"][0]["sig"],
                                         "verifier": self.pem_b64(signer_pem)}]}}

    # ---- a timestamp authority of our own (openssl ts) ----
    def make_tsa(self):
        now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                                     x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit tests"),
                                     x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        ku = lambda sign, cert: x509.KeyUsage(digital_signature=sign, content_commitment=False,
                                              key_encipherment=False, data_encipherment=False,
                                              key_agreement=False, key_cert_sign=cert, crl_sign=cert,
                                              encipher_only=False, decipher_only=False)
        self.tsa_root_key = fixed_key("TSA root")
        self.tsa_root = (x509.CertificateBuilder().subject_name(name("sigaudit test TSA root"))
                         .issuer_name(name("sigaudit test TSA root"))
                         .public_key(self.tsa_root_key.public_key()).serial_number(fixed_serial("TSA root"))
                         .not_valid_before(datetime.datetime(2025, 1, 1)).not_valid_after(datetime.datetime(2045, 1, 1))
                         .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                         .add_extension(ku(False, True), critical=True)
                         .sign(self.tsa_root_key, hashes.SHA256()))
        self.tsa_key = fixed_key("TSA")
        self.tsa_cert = (x509.CertificateBuilder().subject_name(name("sigaudit test TSA"))
                         .issuer_name(self.tsa_root.subject)
                         .public_key(self.tsa_key.public_key()).serial_number(fixed_serial("TSA"))
                         .not_valid_before(datetime.datetime(2025, 1, 1)).not_valid_after(datetime.datetime(2045, 1, 1))
                         .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                         .add_extension(ku(True, False), critical=True)
                         .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                         .sign(self.tsa_root_key, hashes.SHA256()))
        # A signer whose certificate lives two hours around now: expired at any later --at, so
        # only the timestamp can prove it signed in time. This and the tokens' genTime (openssl ts
        # stamps the current time) are the seeder's only inputs from the clock.
        self.short_key = fixed_key("short-lived signer")
        self.short_cert = (x509.CertificateBuilder().subject_name(name("sigaudit short-lived signer"))
                           .issuer_name(name("sigaudit short-lived signer"))
                           .public_key(self.short_key.public_key()).serial_number(fixed_serial("short-lived"))
                           .not_valid_before(now - datetime.timedelta(hours=1))
                           .not_valid_after(now + datetime.timedelta(hours=1))
                           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
                           .sign(self.short_key, hashes.SHA256()))

    def timestamp(self, data):
        """A DER TimeStampResp over sha256(data), made by `openssl ts -reply` with our TSA."""
        pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
        with tempfile.TemporaryDirectory() as t:
            f = lambda n: os.path.join(t, n)
            open(f("data"), "wb").write(data)
            open(f("tsa.crt"), "wb").write(pem(self.tsa_cert))
            open(f("root.crt"), "wb").write(pem(self.tsa_root))
            open(f("tsa.key"), "wb").write(self.tsa_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            open(f("serial"), "w").write("01\n")
            open(f("tsa.cnf"), "w").write(
                "[ tsa ]\ndefault_tsa = c\n[ c ]\nserial = %s\ncrypto_device = builtin\n"
                "default_policy = 1.2.3.4.1\nsigner_digest = sha256\ndigests = sha256\naccuracy = secs:1\n"
                "ordering = yes\ntsa_name = no\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n" % f("serial"))
            run = lambda *a: subprocess.run(["openssl", "ts", *a], check=True, capture_output=True)
            run("-query", "-data", f("data"), "-sha256", "-cert", "-no_nonce", "-out", f("q"))
            run("-reply", "-config", f("tsa.cnf"), "-queryfile", f("q"), "-signer", f("tsa.crt"),
                "-inkey", f("tsa.key"), "-chain", f("root.crt"), "-out", f("r"))
            return open(f("r"), "rb").read()

    def write_trusted_root(self):
        """A Sigstore trusted_root.json naming our log (no CAs: the scan's anchors come from --ca-roots)."""
        der = self.log_key_der()
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
                    "certChain": {"certificates": [
                        {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}
                        for c in (self.tsa_cert, self.tsa_root)]},
                    "validFor": {"start": "2025-01-01T00:00:00Z"}}]}
        with open(os.path.join(self.out, "trusted_root.json"), "w") as f:
            json.dump(root, f, indent=1)

    # ---- images ----
    def image(self, repo, tags, seed):
        layer = hashlib.sha512(seed.encode()).digest() * 8
        config = canon({"architecture": "amd64", "os": "linux",
                        "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]}})
        self.reg.push_blob(repo, layer)
        self.reg.push_blob(repo, config)
        manifest = canon({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                          "config": descriptor("application/vnd.oci.image.config.v1+json", config),
                          "layers": [descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)]})
        for t in tags:
            self.reg.push_manifest(repo, t, manifest, OCI_MANIFEST)
        if not tags:
            self.reg.push_manifest(repo, sha256(manifest), manifest, OCI_MANIFEST)
        self.expect["repositories"].add(repo)
        return {"digest": sha256(manifest), "mediaType": OCI_MANIFEST, "size": len(manifest), "bytes": manifest}

    def index(self, repo, tag, seed, archs=("amd64", "arm64"), before_index=None):
        """Platform images pushed by digest, then an index over them (tagged, or by digest when
        tag is None). before_index(children) runs between the two, as a CI job signs each
        platform image before it pushes the index."""
        children = []
        for arch in archs:
            img = self.image(repo, [], f"{seed}-{arch}")
            children.append({"mediaType": OCI_MANIFEST, "digest": img["digest"], "size": img["size"],
                             "platform": {"architecture": arch, "os": "linux"}})
        if before_index:
            before_index(children)
        return self.push_index(repo, tag, children)

    def push_index(self, repo, tag, children):
        idx = canon({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": children})
        self.reg.push_manifest(repo, tag or sha256(idx), idx, OCI_INDEX)
        self.expect["repositories"].add(repo)
        return {"digest": sha256(idx), "mediaType": OCI_INDEX, "size": len(idx), "children": children}

    def expect_image(self, repo, tags, img, status, signatures, platforms=None):
        e = {"repository": repo, "tags": sorted(tags), "digest": img["digest"],
             "status": status, "signatures": signatures}
        if platforms is not None:
            e["platforms"] = platforms
        self.expect["images"].append(e)

    @staticmethod
    def expect_platform(child, status, signatures, index=None):
        p = {"digest": child["digest"], "status": status, "signatures": signatures}
        if "platform" in child:
            p["platform"] = "%s/%s" % (child["platform"]["os"], child["platform"]["architecture"])
        if index:
            p["index"] = index
        return p

    # ---- cosign legacy format ----
    def simplesigning_payload(self, repo, digest):
        return canon({"critical": {"identity": {"docker-reference": f"{self.host}/{repo}"},
                                   "image": {"docker-manifest-digest": digest},
                                   "type": "cosign container image signature"},
                      "optional": None})

    def cosign_layer(self, payload, with_cert=True, corrupt=False):
        sig = bytearray(self.sign(payload))
        if corrupt:
            sig[-3] ^= 0x55
        ann = {"dev.cosignproject.cosign/signature": base64.b64encode(bytes(sig)).decode()}
        if with_cert:
            ann["dev.sigstore.cosign/certificate"] = self.cert_pem()
        return ann

    def push_cosign(self, repo, subject_digest, layers, suffix="sig", media_type=SIMPLESIGNING):
        """layers: [(blob bytes, annotations)]"""
        descs = []
        for blob, ann in layers:
            self.reg.push_blob(repo, blob)
            descs.append(descriptor(media_type, blob, annotations=ann))
        config = canon({"architecture": "", "config": {}, "created": "0001-01-01T00:00:00Z",
                        "history": [{"created": "0001-01-01T00:00:00Z"}], "os": "",
                        "rootfs": {"type": "layers", "diff_ids": [d["digest"] for d in descs]}})
        self.reg.push_blob(repo, config)
        manifest = canon({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
                          "config": descriptor("application/vnd.oci.image.config.v1+json", config),
                          "layers": descs})
        tag = subject_digest.replace(":", "-") + "." + suffix
        self.reg.push_manifest(repo, tag, manifest, OCI_MANIFEST)
        return tag, manifest

    def dsse(self, statement):
        payload = canon(statement)
        pae = b"DSSEv1 %d %s %d " % (len("application/vnd.in-toto+json"), b"application/vnd.in-toto+json",
                                      len(payload)) + payload
        return {"payloadType": "application/vnd.in-toto+json", "payload": base64.b64encode(payload).decode(),
                "signatures": [{"keyid": "", "sig": base64.b64encode(self.sign(pae)).decode()}]}

    # ---- referrers ----
    def push_referrer(self, repo, subject, manifest_obj, artifact_type):
        data = canon(manifest_obj)
        digest = self.reg.push_manifest(repo, sha256(data), data, OCI_MANIFEST)
        if not self.referrers_api:
            tag = subject["digest"].replace(":", "-")
            st, _, body = self.reg.request("GET", f"/v2/{repo}/manifests/{tag}", headers={"Accept": OCI_INDEX})
            index = json.loads(body) if st == 200 else {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
            entry = descriptor(OCI_MANIFEST, data, artifactType=artifact_type)
            if manifest_obj.get("annotations"):
                entry["annotations"] = manifest_obj["annotations"]
            index["manifests"].append(entry)
            self.reg.push_manifest(repo, tag, canon(index), OCI_INDEX)
        return digest

    def notary_signature(self, repo, subject, envelope, layer_type, shape="legacy", thumbprints=None):
        self.reg.push_blob(repo, EMPTY)
        self.reg.push_blob(repo, envelope)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST}
        if shape == "artifactType":
            m["artifactType"] = NOTARY
            m["config"] = {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2}
        else:
            m["config"] = {"mediaType": NOTARY, "digest": EMPTY_DIGEST, "size": 2}
        m["layers"] = [descriptor(layer_type, envelope)]
        m["subject"] = {"mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]}
        ann = {"org.opencontainers.image.created": "2023-03-14T04:45:22Z"}
        if thumbprints:
            ann["io.cncf.notary.x509chain.thumbprint#S256"] = json.dumps(thumbprints)
        m["annotations"] = ann
        return self.push_referrer(repo, subject, m, NOTARY)

    def bundle_referrer(self, repo, subject, statement_digest_hex):
        statement = {"_type": "https://in-toto.io/Statement/v1",
                     "subject": [{"digest": {"sha256": statement_digest_hex}}],
                     "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}
        bundle = canon({"mediaType": BUNDLE,
                        "verificationMaterial": {
                            "certificate": {"rawBytes": base64.b64encode(
                                self.cert.public_bytes(serialization.Encoding.DER)).decode()},
                            "tlogEntries": []},
                        "dsseEnvelope": self.dsse(statement)})
        self.reg.push_blob(repo, EMPTY)
        self.reg.push_blob(repo, bundle)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE,
             "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2},
             "layers": [descriptor(BUNDLE, bundle)],
             "subject": {"mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]},
             "annotations": {"dev.sigstore.bundle.content": "dsse-envelope",
                             "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"}}
        return self.push_referrer(repo, subject, m, BUNDLE)

    def push_layout(self, repo, layout):
        """Push an OCI image layout as it is: blobs, then manifests (images first), tags from ref.name."""
        index = json.load(open(os.path.join(layout, "index.json")))
        blobs = os.path.join(layout, "blobs", "sha256")
        for name in sorted(os.listdir(blobs)):
            data = open(os.path.join(blobs, name), "rb").read()
            self.reg.push_blob(repo, data)
        entries = sorted(index["manifests"], key=lambda e: e["mediaType"] == OCI_INDEX)
        for e in entries:
            data = open(os.path.join(blobs, e["digest"].split(":")[1]), "rb").read()
            ref = (e.get("annotations") or {}).get("org.opencontainers.image.ref.name", e["digest"])
            self.reg.push_manifest(repo, ref, data, e["mediaType"])
        self.expect["repositories"].add(repo)

    # ---- the mix ----
    def seed(self):
        signer_subject = "CN=sigaudit test signer, O=sigaudit tests, C=US"
        cert_sig = {"format": "cosign", "verdict": "untrusted", "signer": signer_subject, "code": "chain-no-anchor"}

        # Key-only cosign signature; two tags share the digest.
        web = self.image("apps/web", ["v1", "latest"], "web")
        p = self.simplesigning_payload("apps/web", web["digest"])
        web_layer = (p, self.cosign_layer(p, with_cert=False))
        self.push_cosign("apps/web", web["digest"], [web_layer])
        self.expect_image("apps/web", ["v1", "latest"], web, "unverified",
                          [{"format": "cosign", "verdict": "unverified", "withKey": "verified",
                            "code": "key-only-no-key"}])

        # Certificate-bearing cosign signature plus a DSSE attestation.
        api = self.image("apps/api", ["v1"], "api")
        p = self.simplesigning_payload("apps/api", api["digest"])
        self.push_cosign("apps/api", api["digest"], [(p, self.cosign_layer(p))])
        env = canon(self.dsse({"_type": "https://in-toto.io/Statement/v0.1",
                               "subject": [{"name": "apps/api", "digest": {"sha256": api["digest"][7:]}}],
                               "predicateType": "https://cosign.sigstore.dev/attestation/v1",
                               "predicate": {"Data": "ok"}}))
        self.push_cosign("apps/api", api["digest"],
                         [(env, {"dev.cosignproject.cosign/signature": "",
                                 "dev.sigstore.cosign/certificate": self.cert_pem(),
                                 "predicateType": "https://cosign.sigstore.dev/attestation/v1"})],
                         suffix="att", media_type=DSSE)
        self.expect_image("apps/api", ["v1"], api, "untrusted",
                          [cert_sig, dict(cert_sig, kind="attestation")])

        # Replayed: apps/web's valid signature copied next to another image.
        worker = self.image("apps/worker", ["v1"], "worker")
        self.push_cosign("apps/worker", worker["digest"], [web_layer])
        self.expect_image("apps/worker", ["v1"], worker, "invalid",
                          [{"format": "cosign", "verdict": "invalid", "reason": "replayed",
                            "code": "payload-digest-mismatch"}])

        # Corrupted signature bytes.
        batch = self.image("apps/batch", ["v1", "v1.0.1"], "batch")
        p = self.simplesigning_payload("apps/batch", batch["digest"])
        self.push_cosign("apps/batch", batch["digest"], [(p, self.cosign_layer(p, corrupt=True))])
        self.expect_image("apps/batch", ["v1", "v1.0.1"], batch, "invalid",
                          [{"format": "cosign", "verdict": "invalid", "reason": "does not verify",
                            "code": "bad-signature"}])

        # Unsigned.
        unsigned = self.image("apps/unsigned", ["v1"], "unsigned")
        self.expect_image("apps/unsigned", ["v1"], unsigned, "unsigned", [])

        # Multi-arch index, signed as a whole; its platform manifests are listed under it, each
        # judged by its own signatures. Signed as cosign --recursive does: the index and a
        # platform manifest.
        idx = self.index("platform/multi", "v1", "multi")
        p = self.simplesigning_payload("platform/multi", idx["digest"])
        self.push_cosign("platform/multi", idx["digest"], [(p, self.cosign_layer(p))])
        amd64, arm64 = idx["children"]
        p = self.simplesigning_payload("platform/multi", amd64["digest"])
        self.push_cosign("platform/multi", amd64["digest"], [(p, self.cosign_layer(p))])
        self.expect_image("platform/multi", ["v1"], idx, "untrusted", [cert_sig],
                          [self.expect_platform(amd64, "untrusted", [cert_sig]),
                           self.expect_platform(arm64, "unsigned", [])])

        def sign_first(repo):
            def sign(children):
                p = self.simplesigning_payload(repo, children[0]["digest"])
                self.push_cosign(repo, children[0]["digest"], [(p, self.cosign_layer(p))])
            return sign

        # Platform images signed one by one (amd64 only), then an index pushed over them and not
        # signed: the index, which the tag resolves to and verifiers check, is unsigned.
        idx = self.index("platform/partial", "v1", "partial", before_index=sign_first("platform/partial"))
        amd64, arm64 = idx["children"]
        self.expect_image("platform/partial", ["v1"], idx, "unsigned", [],
                          [self.expect_platform(amd64, "untrusted", [dict(cert_sig, withTrust="verified")]),
                           self.expect_platform(arm64, "unsigned", [])])

        # An index nested in an index: amd64 and arm64 images (amd64 signed) under an untagged
        # index, which a tagged index lists beside an s390x image. Nothing is signed at the top.
        inner = self.index("platform/nested", None, "nested", before_index=sign_first("platform/nested"))
        s390x = self.image("platform/nested", [], "nested-s390x")
        s390x_entry = {"mediaType": OCI_MANIFEST, "digest": s390x["digest"], "size": s390x["size"],
                       "platform": {"architecture": "s390x", "os": "linux"}}
        inner_entry = {"mediaType": OCI_INDEX, "digest": inner["digest"], "size": inner["size"]}
        top = self.push_index("platform/nested", "v1", [inner_entry, s390x_entry])
        amd64, arm64 = inner["children"]
        self.expect_image("platform/nested", ["v1"], top, "unsigned", [],
                          [self.expect_platform(inner_entry, "unsigned", []),
                           self.expect_platform(s390x_entry, "unsigned", []),
                           self.expect_platform(amd64, "untrusted", [cert_sig], index=inner["digest"]),
                           self.expect_platform(arm64, "unsigned", [], index=inner["digest"])])

        # Ordinary images under tags shaped like artifact tags: one tagged only with a
        # digest-shaped name (a build id), one tagged with its own digest's name beside v1 (and
        # signed), one whose only tag looks like a cosign signature tag.
        build = self.image("apps/digest-tags", ["sha256-" + hashlib.sha256(b"build 4711").hexdigest()], "dt-build")
        self.expect_image("apps/digest-tags", ["sha256-" + hashlib.sha256(b"build 4711").hexdigest()], build,
                          "unsigned", [])
        own = self.image("apps/digest-tags", ["v1"], "dt-own")
        self.reg.push_manifest("apps/digest-tags", own["digest"].replace(":", "-"), own["bytes"], OCI_MANIFEST)
        p = self.simplesigning_payload("apps/digest-tags", own["digest"])
        self.push_cosign("apps/digest-tags", own["digest"], [(p, self.cosign_layer(p))])
        self.expect_image("apps/digest-tags", ["v1", own["digest"].replace(":", "-")], own, "untrusted", [cert_sig])
        looks_signed = "sha256-" + hashlib.sha256(b"release 2").hexdigest() + ".sig"
        sig_named = self.image("apps/digest-tags", [looks_signed], "dt-sig-named")
        self.expect_image("apps/digest-tags", [looks_signed], sig_named, "unsigned", [])

        # An image pushed by digest only into a new repository: the repository has no tags.
        self.image("apps/untagged-only", [], "untagged-only")
        self.expect["notes"].append({"path": "apps/untagged-only", "code": "empty-repository"})

        # A signature kept in another repository of the registry (cosign's COSIGN_REPOSITORY):
        # not the orphan of a deleted image; the image itself is unsigned where it lives.
        cross = self.image("apps/cross", ["v1"], "cross")
        p = self.simplesigning_payload("apps/cross", cross["digest"])
        tag, _ = self.push_cosign("sigs/store", cross["digest"], [(p, self.cosign_layer(p))])
        self.expect["repositories"].add("sigs/store")
        self.expect_image("apps/cross", ["v1"], cross, "unsigned", [])
        self.expect["orphans"].append({"repository": "sigs/store", "artifact": tag, "subject": cross["digest"],
                                       "subjectRepository": "apps/cross"})

        # A signed image pushed by digest only: an untagged image, not an orphan.
        untagged = self.image("apps/api", [], "api-untagged")
        p = self.simplesigning_payload("apps/api", untagged["digest"])
        self.push_cosign("apps/api", untagged["digest"], [(p, self.cosign_layer(p))])
        self.expect_image("apps/api", [], untagged, "untrusted", [cert_sig])

        # Nested repository name.
        deep = self.image("deep/a/b/c/d", ["v1"], "deep")
        p = self.simplesigning_payload("deep/a/b/c/d", deep["digest"])
        self.push_cosign("deep/a/b/c/d", deep["digest"], [(p, self.cosign_layer(p))])
        self.expect_image("deep/a/b/c/d", ["v1"], deep, "untrusted", [cert_sig])

        # An orphan: a signature whose image is gone.
        ghost = sha256(b"an image that was deleted")
        tag, _ = self.push_cosign("apps/web", ghost, [(self.simplesigning_payload("apps/web", ghost),
                                                      self.cosign_layer(b"x", with_cert=False))])
        self.expect["orphans"].append({"repository": "apps/web", "artifact": tag, "subject": ghost})

        # Real notation envelopes next to the manifest they sign (alpine:v2 from notation-go).
        layout = os.path.join(self.corpus, "notation", "oci-layout")
        self.push_layout("notary/alpine", layout)
        alpine_bytes = open(os.path.join(layout, "blobs", "sha256",
                                         "19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"), "rb").read()
        alpine = {"digest": sha256(alpine_bytes), "mediaType": OCI_MANIFEST, "size": len(alpine_bytes)}
        jws = open(os.path.join(self.corpus, "notation", "envelopes", "alpine-v2.jws.sig"), "rb").read()
        cose = open(os.path.join(self.corpus, "notation", "envelopes", "alpine-v2.cose.sig"), "rb").read()
        x5c = json.loads(jws)["header"]["x5c"]
        thumbs = [hashlib.sha256(base64.b64decode(c)).hexdigest() for c in x5c]
        alpine_pem = x509.load_der_x509_certificate(base64.b64decode(x5c[0])).public_bytes(serialization.Encoding.PEM)
        with open(os.path.join(self.out, "alpine.crt"), "wb") as f:
            f.write(alpine_pem)
        self.notary_signature("notary/alpine", alpine, jws, "application/jose+json", "legacy", thumbs)
        self.notary_signature("notary/alpine", alpine, cose, "application/cose", "artifactType")
        notary_ok = {"format": "notation", "verdict": "untrusted",
                     "signer": "CN=alpine, O=Notary, L=Seattle, ST=WA, C=US", "code": "no-trust-anchor"}
        self.expect_image("notary/alpine", ["v2"], alpine, "untrusted", [notary_ok, notary_ok])

        # The same valid envelope copied next to another image: the attack SigScan misses.
        other = self.image("notary/replayed", ["v1"], "replayed")
        self.notary_signature("notary/replayed", other, jws, "application/jose+json", "legacy", thumbs)
        self.expect_image("notary/replayed", ["v1"], other, "invalid",
                          [{"format": "notation", "verdict": "invalid", "reason": "replayed",
                            "code": "payload-digest-mismatch"}])

        # Sigstore bundle referrer (cosign v3 layout), and one replayed onto another image.
        app = self.image("bundles/app", ["v1"], "bundle-app")
        self.bundle_referrer("bundles/app", app, app["digest"][7:])
        self.expect_image("bundles/app", ["v1"], app, "untrusted",
                          [{"format": "sigstore-bundle", "verdict": "untrusted", "signer": signer_subject,
                            "code": "tlog-evidence-missing"}])
        stolen = self.image("bundles/replayed", ["v1"], "bundle-replayed")
        self.bundle_referrer("bundles/replayed", stolen, app["digest"][7:])
        self.expect_image("bundles/replayed", ["v1"], stolen, "invalid",
                          [{"format": "sigstore-bundle", "verdict": "invalid", "reason": "replayed",
                            "code": "payload-digest-mismatch"}])

        if not self.referrers_api:
            # notation's own end-to-end layouts, with the referrers tag indexes notation wrote.
            e2e = os.path.join(self.corpus, "notation", "suite", "notation-cli", "registry", "oci_layout")
            for name, status in (("e2e-valid-signature", "untrusted"), ("e2e-invalid-signature", "invalid")):
                repo = "notary/" + name
                self.push_layout(repo, os.path.join(e2e, name))
                v1 = open(os.path.join(e2e, name, "blobs", "sha256",
                                       "b8479de3f88fb259a0a9ea82a5b2a052a1ef3c4ebbcfc61482d5ae4c831f8af9"), "rb").read()
                img = {"digest": sha256(v1)}
                self.expect_image(repo, ["v1"], img, status, [{"format": "notation", "verdict": status}])

        # Signatures logged in our transparency log: a key signature (hashedrekord) and an
        # attestation (intoto 0.0.2) on one image, an attestation logged as dsse 0.0.1 on another,
        # and one whose log entry records another envelope. Without our trusted_root.json the log
        # is unknown: untrusted. With it (withTrust): verified, or invalid for the wrong entry.
        pub_pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        logged = self.image("logged/app", ["v1"], "logged-app")
        p = self.simplesigning_payload("logged/app", logged["digest"])
        sig = self.sign(p)
        self.push_cosign("logged/app", logged["digest"],
                         [(p, {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode(),
                               "dev.sigstore.cosign/bundle": self.rekor_bundle(self.hashedrekord(p, sig, pub_pem))})])

        def attestation(repo, img, body_of, envelope_for_log=None):
            env = canon(self.dsse({"_type": "https://in-toto.io/Statement/v0.1",
                                   "subject": [{"name": repo, "digest": {"sha256": img["digest"][7:]}}],
                                   "predicateType": "https://slsa.dev/provenance/v0.2",
                                   "predicate": {"builder": {"id": "test"}}}))
            logged_env = envelope_for_log or env
            self.push_cosign(repo, img["digest"],
                             [(env, {"dev.cosignproject.cosign/signature": "",
                                     "dev.sigstore.cosign/certificate": self.cert_pem(),
                                     "dev.sigstore.cosign/bundle": self.rekor_bundle(
                                         body_of(logged_env, self.cert_pem())),
                                     "predicateType": "https://slsa.dev/provenance/v0.2"})],
                             suffix="att", media_type=DSSE)
            return env

        app_env = attestation("logged/app", logged, self.intoto_v2)
        self.expect_image("logged/app", ["v1"], logged, "untrusted",
                          [{"format": "cosign", "verdict": "unverified", "withTrust": "verified",
                            "code": "key-only-no-key"},
                           dict(cert_sig, kind="attestation", withTrust="verified", code="rekor-untrusted")])
        self.expect["images"][-1]["withTrust"] = "verified"
        dsse_img = self.image("logged/dsse", ["v1"], "logged-dsse")
        attestation("logged/dsse", dsse_img, self.dsse_v1)
        self.expect_image("logged/dsse", ["v1"], dsse_img, "untrusted",
                          [dict(cert_sig, kind="attestation", withTrust="verified", code="rekor-untrusted")])
        self.expect["images"][-1]["withTrust"] = "verified"
        wrong = self.image("logged/wrong-entry", ["v1"], "logged-wrong")
        attestation("logged/wrong-entry", wrong, self.intoto_v2, envelope_for_log=app_env)
        self.expect_image("logged/wrong-entry", ["v1"], wrong, "untrusted",
                          [dict(cert_sig, kind="attestation", withTrust="invalid", code="rekor-untrusted")])
        self.expect["images"][-1]["withTrust"] = "invalid"

        # RFC 3161 timestamps (dev.sigstore.cosign/rfc3161timestamp) by our TSA over the signature
        # of a short-lived certificate; and one whose token stamps another signature.
        self.make_tsa()
        short_pem = self.short_cert.public_bytes(serialization.Encoding.PEM).decode()
        for repo, wrong in (("stamped/app", False), ("stamped/wrong", True)):
            img = self.image(repo, ["v1"], repo)
            p = self.simplesigning_payload(repo, img["digest"])
            sig = self.short_key.sign(p, ec.ECDSA(hashes.SHA256()))
            stamped = self.short_key.sign(b"another payload", ec.ECDSA(hashes.SHA256())) if wrong else sig
            token = base64.b64encode(self.timestamp(stamped)).decode()
            self.push_cosign(repo, img["digest"],
                             [(p, {"dev.cosignproject.cosign/signature": base64.b64encode(sig).decode(),
                                   "dev.sigstore.cosign/certificate": short_pem,
                                   "dev.sigstore.cosign/rfc3161timestamp": json.dumps({"SignedRFC3161Timestamp": token})})])
            # Under the public-good root the TSA is unknown (untrusted); a token over another
            # signature is invalid whatever the root.
            status = "invalid" if wrong else "untrusted"
            with_trust = "invalid" if wrong else "verified"  # with our root and short-lived.crt as anchor
            self.expect_image(repo, ["v1"], img, status,
                              [{"format": "cosign", "verdict": status, "signer": "CN=sigaudit short-lived signer, O=sigaudit tests, C=US",
                                "withTrust": with_trust}])
            self.expect["images"][-1]["withTrust"] = with_trust
        with open(os.path.join(self.out, "short-lived.crt"), "w") as f:
            f.write(short_pem)

        self.write_trusted_root()
        self.write_key_files()
        exp = dict(self.expect)
        exp["repositories"] = sorted(self.expect["repositories"])
        with open(os.path.join(self.out, "expected.json"), "w") as f:
            json.dump(exp, f, indent=1, sort_keys=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--corpus", default=os.environ.get("SIGAUDIT_CORPUS")
                    or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testdata"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--referrers-api", action="store_true")
    a = ap.parse_args()
    if not os.path.isdir(os.path.join(a.corpus, "notation")):
        sys.exit(f"seed_registry.py: {a.corpus} holds no notation/ samples (see testdata/PROVENANCE.md)")
    if not a.registry.startswith("127.0.0.1:"):
        sys.exit("seed_registry.py: only 127.0.0.1 registries are seeded")
    os.makedirs(a.out, exist_ok=True)
    Seeder(Registry(a.registry), a.registry, a.corpus, a.out, a.referrers_api).seed()


if __name__ == "__main__":
    main()
