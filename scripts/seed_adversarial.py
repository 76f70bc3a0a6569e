#!/usr/bin/env python3
"""Seed a loopback registry with forged, mis-chained, relocated and ambiguous signatures (issue 10,
classes 1, 3, 4, 5 and 8), and describe each case for tests/adversarial_registry.rs.

Everything here is made independently of sigaudit: certificates and signatures with Python's
`cryptography` (and hand-made DER where `cryptography` refuses to make a wrong certificate),
pushed over the registry HTTP API to 127.0.0.1 with scripts/seed_registry.py's client.

usage: seed_adversarial.py --registry 127.0.0.1:PORT --out DIR --class {1,3,4,5,8}

Writes DIR/cases.json: one entry per case, with
  id, class, rule, how      what is attacked and how the fixture was made
  repository, digest        the image (tag v1) whose only signature is the case
  args                      the sigaudit flags of the scan (trust material as absolute paths)
  expect                    the verdict the rules of issue 10 give
  independent               what the independent tools say, where the seeder can tell
                            (Python `cryptography` on the signature bytes), and the files the test
                            hands to `openssl verify` (class 1, 5) or to the Go decoder (class 8)
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_registry as base  # noqa: E402
from seed_registry import canon, sha256, DSSE, OCI_MANIFEST, EMPTY, EMPTY_DIGEST  # noqa: E402

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier, SignatureAlgorithmOID  # noqa: E402

# Every scan judges certificates at this time (--at), and openssl at the same (-attime).
AT = "2030-01-01T00:00:00Z"
AT_EPOCH = 1893456000
NOT_BEFORE = datetime.datetime(2025, 1, 1)
NOT_AFTER = datetime.datetime(2045, 1, 1)
BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
NOTARY_PAYLOAD = "application/vnd.cncf.notary.payload.v1+json"
ECDSA_SHA256_OID = bytes.fromhex("06082a8648ce3d040302")  # 1.2.840.10045.4.3.2


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                      x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigaudit adversarial"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def key_usage(*bits):
    all_bits = ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
                "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only"]
    return x509.KeyUsage(**{b: b in bits for b in all_bits})


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def make_cert(cn, key, issuer=None, ca=None, path_len=None, ku=("digital_signature",), eku=None,
              san=None, extra=(), serial=None, not_before=NOT_BEFORE, not_after=NOT_AFTER):
    """A certificate for `key`, signed by issuer=(cert, key) or self-signed.
    ca: None (no basicConstraints), True or False. ku: keyUsage bits (critical) or None. eku: OIDs or None."""
    b = (x509.CertificateBuilder().subject_name(name(cn))
         .issuer_name(issuer[0].subject if issuer else name(cn))
         .public_key(key.public_key()).serial_number(serial or x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         # Key identifiers: `openssl verify -x509_strict` requires them (RFC 5280 §4.2.1.1-2).
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if issuer:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
                            critical=False)
    if ca is not None:
        b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=path_len if ca else None), critical=True)
    if ku is not None:
        b = b.add_extension(key_usage(*ku), critical=True)
    if eku is not None:
        b = b.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san is not None:
        b = b.add_extension(x509.SubjectAlternativeName(san), critical=False)
    for ext, critical in extra:
        b = b.add_extension(ext, critical=critical)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256())


def pem(c):
    return c.public_bytes(serialization.Encoding.PEM).decode()


def der(c):
    return c.public_bytes(serialization.Encoding.DER)


# ---- a little DER, for certificates `cryptography` will not make ----
def der_read(b, off=0):
    """(tag, content start, end) of the TLV at off."""
    tag, n = b[off], b[off + 1]
    if n < 0x80:
        return tag, off + 2, off + 2 + n
    k = n & 0x7f
    length = int.from_bytes(b[off + 2:off + 2 + k], "big")
    return tag, off + 2 + k, off + 2 + k + length


def der_children(b):
    out, off = [], 0
    while off < len(b):
        _, start, end = der_read(b, off)
        out.append(b[off:end])
        off = end
    return out


def der_enc(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        nb = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(nb)]) + nb
    return head + content


def cert_parts(c):
    """(tbs, signatureAlgorithm, signatureValue) TLVs of a certificate."""
    d = der(c)
    _, s, e = der_read(d)
    return der_children(d[s:e])


def assemble(tbs, alg, sig):
    return x509.load_der_x509_certificate(der_enc(0x30, tbs + alg + der_enc(0x03, b"\x00" + sig)))


def ecdsa_oid_rsa_signature(c, rsa_key):
    """`c` re-signed by `rsa_key` (PKCS#1 v1.5, SHA-256) while its TBS and outer signature
    algorithm say ecdsa-with-SHA256: an algorithm identifier that the signature does not fit."""
    tbs, _, _ = cert_parts(c)
    _, s, e = der_read(tbs)
    kids = der_children(tbs[s:e])
    alg = der_enc(0x30, ECDSA_SHA256_OID)
    kids[2] = alg  # [0] version, serial, signature
    new_tbs = der_enc(0x30, b"".join(kids))
    return assemble(new_tbs, alg, rsa_key.sign(new_tbs, padding.PKCS1v15(), hashes.SHA256()))


def pkcs1_without_digestinfo(c, rsa_key):
    """`c` (sha256WithRSAEncryption) re-signed with PKCS#1 v1.5 padding around the bare SHA-256
    hash, without the DigestInfo that RFC 8017 §9.2 requires."""
    tbs, alg, _ = cert_parts(c)
    n = rsa_key.private_numbers().public_numbers.n
    d = rsa_key.private_numbers().d
    k = (n.bit_length() + 7) // 8
    h = hashlib.sha256(tbs).digest()
    em = b"\x00\x01" + b"\xff" * (k - len(h) - 3) + b"\x00" + h
    sig = pow(int.from_bytes(em, "big"), d, n).to_bytes(k, "big")
    return assemble(tbs, alg, sig)


def issued_by(c, issuer):
    """Python cryptography's verdict on one certificate link: the signature checked by the scheme
    the certificate's signatureAlgorithm names (Certificate.verify_directly_issued_by, written out
    for Debian's python3-cryptography 38, which predates it)."""
    oid, pub = c.signature_algorithm_oid, issuer.public_key()
    ecdsa_oids = (SignatureAlgorithmOID.ECDSA_WITH_SHA256, SignatureAlgorithmOID.ECDSA_WITH_SHA384,
                  SignatureAlgorithmOID.ECDSA_WITH_SHA512)
    rsa_oids = (SignatureAlgorithmOID.RSA_WITH_SHA256, SignatureAlgorithmOID.RSA_WITH_SHA384,
                SignatureAlgorithmOID.RSA_WITH_SHA512)
    if c.issuer != issuer.subject:
        return "refused: issuer name differs"
    try:
        if oid in ecdsa_oids:
            if not isinstance(pub, ec.EllipticCurvePublicKey):
                return "refused: signatureAlgorithm is ECDSA, the issuer key is not EC"
            pub.verify(c.signature, c.tbs_certificate_bytes, ec.ECDSA(c.signature_hash_algorithm))
        elif oid in rsa_oids:
            if not isinstance(pub, rsa.RSAPublicKey):
                return "refused: signatureAlgorithm is RSA, the issuer key is not RSA"
            pub.verify(c.signature, c.tbs_certificate_bytes, padding.PKCS1v15(), c.signature_hash_algorithm)
        else:
            return "refused: signatureAlgorithm %s not handled here" % oid.dotted_string
        return "ok"
    except InvalidSignature:
        return "refused: InvalidSignature"


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def raw_ecdsa(der_sig):
    r, s = utils.decode_dss_signature(der_sig)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class Adversary(base.Seeder):
    def __init__(self, reg, host, out):
        super().__init__(reg, host, None, out, referrers_api=False)
        self.cases = []

    def path(self, name):
        return os.path.join(self.out, name)

    def write(self, name, data):
        with open(self.path(name), "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return self.path(name)

    def case(self, **kw):
        kw.setdefault("args", [])
        kw["args"] = kw["args"] + ["--at", AT]
        kw.setdefault("independent", {})
        self.cases.append(kw)

    # ---- notary JWS, as notation-core-go writes it ----
    def jws(self, leaf_key, chain, subject, signing_time="2026-01-01T00:00:00Z", expiry=None,
            payload=None, protected=None, raw_jws=None):
        if payload is None:
            payload = canon({"targetArtifact": {"mediaType": subject["mediaType"], "digest": subject["digest"],
                                                "size": subject["size"]}})
        if protected is None:
            crit = ["io.cncf.notary.signingScheme"] + (["io.cncf.notary.expiry"] if expiry else [])
            p = {"alg": "ES256", "crit": crit, "cty": NOTARY_PAYLOAD,
                 "io.cncf.notary.signingScheme": "notary.x509", "io.cncf.notary.signingTime": signing_time}
            if expiry:
                p["io.cncf.notary.expiry"] = expiry
            protected = canon(p)
        prot, pay = b64url(protected), b64url(payload)
        sig = b64url(raw_ecdsa(leaf_key.sign((prot + "." + pay).encode(), ec.ECDSA(hashes.SHA256()))))
        header = {"x5c": [base64.b64encode(der(c)).decode() for c in chain],
                  "io.cncf.notary.signingAgent": "seed_adversarial.py"}
        if raw_jws is not None:
            return raw_jws(prot, pay, header, sig)
        return canon({"payload": pay, "protected": prot, "header": header, "signature": sig}), (prot, pay, sig)

    def jws_verifies(self, leaf, prot, pay, sig):
        raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
        r, s = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
        try:
            leaf.public_key().verify(utils.encode_dss_signature(r, s), (prot + "." + pay).encode(),
                                     ec.ECDSA(hashes.SHA256()))
            return "ok"
        except InvalidSignature:
            return "refused: InvalidSignature"

    def cosign_cert_layer(self, payload, leaf_key, chain):
        return (payload, {"dev.cosignproject.cosign/signature":
                          base64.b64encode(leaf_key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode(),
                          "dev.sigstore.cosign/certificate": pem(chain[0]),
                          "dev.sigstore.cosign/chain": "".join(pem(c) for c in chain[1:])})

    # ---- class 1: certification paths reached through --ca-roots ----
    def class1(self):
        code = [ExtendedKeyUsageOID.CODE_SIGNING]
        server = [ExtendedKeyUsageOID.SERVER_AUTH]
        ca_ku = ("key_cert_sign", "crl_sign")

        def leaf_of(issuer, cn, eku=code):
            k = ec_key()
            return k, make_cert(cn, k, issuer, ca=False, ku=("digital_signature",), eku=eku)

        variants = []

        def three(id_, rule, how, inter_kw, root_kw=None, leaf_eku=code):
            rk = ec_key()
            root = make_cert(id_ + " root", rk, ca=True, ku=ca_ku, **(root_kw or {}))
            ik = ec_key()
            inter = make_cert(id_ + " intermediate", ik, (root, rk), **inter_kw)
            lk, leaf = leaf_of((inter, ik), id_ + " signer", leaf_eku)
            variants.append((id_, rule, how, lk, [leaf, inter, root]))

        three("good", "control: a sound path", "root -> CA intermediate (keyCertSign) -> codeSigning leaf",
              dict(ca=True, ku=ca_ku))
        three("inter-not-ca", "issuers must be CAs",
              "intermediate with basicConstraints cA=FALSE signs the leaf", dict(ca=False, ku=("digital_signature",)))
        three("inter-tls-server", "an end-entity TLS server certificate never issues",
              "intermediate without basicConstraints, EKU serverAuth, signs the leaf",
              dict(ca=None, ku=("digital_signature", "key_encipherment"), eku=server))
        three("inter-no-keycertsign", "issuers need keyUsage keyCertSign",
              "intermediate cA=TRUE with keyUsage digitalSignature+cRLSign only",
              dict(ca=True, ku=("digital_signature", "crl_sign")))
        three("root-pathlen0", "pathLenConstraint honoured",
              "root pathLenConstraint 0, yet a CA intermediate below it", dict(ca=True, ku=ca_ku),
              root_kw=dict(path_len=0))
        three("inter-eku-server", "a CA EKU that excludes codeSigning breaks the chain",
              "intermediate CA with EKU serverAuth only", dict(ca=True, ku=ca_ku, eku=server))
        three("leaf-eku-server", "the leaf needs the codeSigning EKU", "leaf EKU serverAuth",
              dict(ca=True, ku=ca_ku), leaf_eku=server)
        three("leaf-no-eku", "the leaf needs the codeSigning EKU", "leaf without extendedKeyUsage",
              dict(ca=True, ku=ca_ku), leaf_eku=None)

        # Two-level paths under an RSA root, for the signature algorithm rules.
        rk = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        root = make_cert("rsa root", rk, ca=True, ku=ca_ku)
        lk, leaf = leaf_of((root, rk), "rsa-issued signer")
        variants.append(("rsa-good", "control: a sound path under an RSA root", "RSA root -> codeSigning leaf",
                         lk, [leaf, root]))
        lk, leaf = leaf_of((root, rk), "ecdsa-oid signer")
        variants.append(("sigalg-ecdsa-oid-rsa-sig", "the algorithm a certificate names must verify it",
                         "leaf whose signatureAlgorithm says ecdsa-with-SHA256, signed by the RSA root "
                         "with PKCS#1 v1.5 (DER edited by hand)",
                         lk, [ecdsa_oid_rsa_signature(leaf, rk), root]))
        lk, leaf = leaf_of((root, rk), "no-digestinfo signer")
        variants.append(("pkcs1-no-digestinfo", "no PKCS#1 v1.5 without DigestInfo",
                         "leaf sha256WithRSAEncryption, signature pads the bare hash (no DigestInfo)",
                         lk, [pkcs1_without_digestinfo(leaf, rk), root]))

        for id_, rule, how, lk, chain in variants:
            root = chain[-1]
            files = {"leaf": self.write(f"c1-{id_}-leaf.pem", pem(chain[0])),
                     "untrusted": self.write(f"c1-{id_}-untrusted.pem", "".join(pem(c) for c in chain[1:-1]))
                     if len(chain) > 2 else None,
                     "root": self.write(f"c1-{id_}-root.pem", pem(root)),
                     "intermediates": [self.write(f"c1-{id_}-inter{i}.pem", pem(c))
                                       for i, c in enumerate(chain[1:-1])],
                     "attime": AT_EPOCH}
            links = [issued_by(c, i) for c, i in zip(chain, chain[1:])]
            ok = id_ in ("good", "rsa-good")
            for shape in ("cosign", "notary"):
                repo = f"adv1/{id_}-{shape}"
                img = self.image(repo, ["v1"], repo)
                if shape == "cosign":
                    p = self.simplesigning_payload(repo, img["digest"])
                    self.push_cosign(repo, img["digest"], [self.cosign_cert_layer(p, lk, chain)])
                    expect = "verified" if ok else "untrusted"
                else:
                    env, _ = self.jws(lk, chain, img)
                    self.notary_signature(repo, img, env, "application/jose+json")
                    # The Notary certificate profile is part of integrity (NOTATION.md §5.1): a
                    # chain whose CA certificates are not CAs, or whose leaf is a TLS certificate,
                    # is invalid before any trust decision.
                    shape_breaks = id_ in ("inter-not-ca", "inter-tls-server", "inter-no-keycertsign",
                                           "root-pathlen0", "leaf-eku-server", "sigalg-ecdsa-oid-rsa-sig",
                                           "pkcs1-no-digestinfo")
                    expect = "verified" if ok else ("invalid" if shape_breaks else "untrusted")
                self.case(id=f"c1-{id_}-{shape}", cls=1, rule=rule, how=how + f" ({shape} signature)",
                          repository=repo, digest=img["digest"], expect=expect,
                          args=["--ca-roots", files["root"]],
                          independent={"chain": files, "cryptography_links": links})

    # ---- class 3: message-signature bundles ----
    def message_bundle(self, repo, img, sig, certs=None, key_hint=None, digest=None):
        material = {"tlogEntries": []}
        if certs:
            # v0.3 bundles carry the leaf alone (the anchor comes from --ca-roots).
            material["certificate"] = {"rawBytes": base64.b64encode(der(certs[0])).decode()}
        else:
            material["publicKey"] = {"hint": key_hint}
        d = bytes.fromhex((digest or img["digest"])[7:])
        bundle = canon({"mediaType": BUNDLE, "verificationMaterial": material,
                        "messageSignature": {"messageDigest": {"algorithm": "SHA2_256",
                                                               "digest": base64.b64encode(d).decode()},
                                             "signature": base64.b64encode(sig).decode()}})
        self.reg.push_blob(repo, EMPTY)
        self.reg.push_blob(repo, bundle)
        m = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": BUNDLE,
             "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": EMPTY_DIGEST, "size": 2},
             "layers": [base.descriptor(BUNDLE, bundle)],
             "subject": {"mediaType": img["mediaType"], "digest": img["digest"], "size": img["size"]},
             "annotations": {"dev.sigstore.bundle.content": "message-signature"}}
        self.push_referrer(repo, img, m, BUNDLE)

    def class3(self):
        rk = ec_key()
        root = make_cert("bundle root", rk, ca=True, ku=("key_cert_sign", "crl_sign"))
        lk = ec_key()
        leaf = make_cert("bundle signer", lk, (root, rk), ca=False, ku=("digital_signature",),
                         eku=[ExtendedKeyUsageOID.CODE_SIGNING],
                         san=[x509.RFC822Name("bundle-signer@adv.test")])
        root_file = self.write("c3-root.pem", pem(root))
        self.write("c3-leaf.pem", pem(leaf))
        self.write_key_files()
        prehashed = ec.ECDSA(utils.Prehashed(hashes.SHA256()))
        other_digest = sha256(b"another image's manifest")

        def check(pub, digest_hex, sig):
            try:
                pub.verify(sig, bytes.fromhex(digest_hex[7:]), prehashed)
                return "ok"
            except InvalidSignature:
                return "refused: InvalidSignature"

        ca = ["--ca-roots", root_file]
        key = ["--key", self.path("cosign.pub")]
        rows = [
            ("good", "control: the leaf's key signs this image's digest", ca, True,
             lambda d: lk.sign(bytes.fromhex(d[7:]), prehashed)),
            ("bogus", "signature by another key, private-CA leaf, no tlog entry (the reported bypass)", ca, True,
             lambda d: ec_key().sign(bytes.fromhex(d[7:]), prehashed)),
            ("other-digest", "the leaf's signature over another image's digest; messageDigest names this one",
             ca, True, lambda d: lk.sign(bytes.fromhex(other_digest[7:]), prehashed)),
            ("garbage", "signature bytes that are not a signature", ca, True, lambda d: b"\x30\x06\x02\x01\x01\x02\x01\x01"),
            ("key-bogus", "key bundle (publicKey hint), signature by another key, --key given", key, False,
             lambda d: ec_key().sign(bytes.fromhex(d[7:]), prehashed)),
        ]
        for id_, how, args, with_cert, make_sig in rows:
            repo = f"adv3/{id_}"
            img = self.image(repo, ["v1"], repo)
            sig = make_sig(img["digest"])
            if with_cert:
                self.message_bundle(repo, img, sig, certs=[leaf, root])
                verdict = check(lk.public_key(), img["digest"], sig)
            else:
                self.message_bundle(repo, img, sig, key_hint="cosign.pub")
                verdict = check(self.key.public_key(), img["digest"], sig)
            self.case(id=f"c3-{id_}", cls=3,
                      rule="a message signature is checked with the certificate's or --key's key before trust",
                      how=how, repository=repo, digest=img["digest"], args=args,
                      expect="verified" if verdict == "ok" else "invalid",
                      independent={"cryptography_signature": verdict,
                                   "chain": {"leaf": self.path("c3-leaf.pem"), "untrusted": None,
                                             "root": root_file, "intermediates": [], "attime": AT_EPOCH}
                                   if with_cert else None})

    # ---- class 4: keyless (Fulcio) certificates and the identity policy ----
    def class4(self):
        fk = ec_key()
        fulcio = make_cert("adversarial fulcio", fk, ca=True, ku=("key_cert_sign", "crl_sign"),
                           eku=[ExtendedKeyUsageOID.CODE_SIGNING])
        ct_key = ec_key()
        ct_der = ct_key.public_key().public_bytes(serialization.Encoding.DER,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo)
        lk = ec_key()
        issuer_url = "https://issuer.adv.test"
        identity = "keyless-signer@adv.test"
        serial = x509.random_serial_number()
        oidc = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.1.8"),
                                          der_enc(0x0c, issuer_url.encode()))
        # Short-lived, as Fulcio's are: only the Rekor entry's integrated time (2026-01-01T00:00:00Z,
        # the base seeder's log) dates the signature inside it; the scans run at 2030.
        integrated = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        kw = dict(ca=False, ku=("digital_signature",), eku=[ExtendedKeyUsageOID.CODE_SIGNING],
                  san=[x509.RFC822Name(identity)], serial=serial,
                  not_before=integrated - datetime.timedelta(minutes=5),
                  not_after=integrated + datetime.timedelta(minutes=5))
        pre = make_cert("keyless", lk, (fulcio, fk), extra=[(oidc, False)], **kw)
        # RFC 6962 §3.2: the SCT signs the precertificate entry (this TBS, without the SCT list).
        ts = 1767225600000
        issuer_key_hash = hashlib.sha256(fulcio.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).digest()
        tbs = pre.tbs_certificate_bytes
        signed = (b"\x00\x00" + ts.to_bytes(8, "big") + b"\x00\x01" + issuer_key_hash
                  + len(tbs).to_bytes(3, "big") + tbs + b"\x00\x00")
        sct_sig = ct_key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (b"\x00" + hashlib.sha256(ct_der).digest() + ts.to_bytes(8, "big") + b"\x00\x00"
               + b"\x04\x03" + len(sct_sig).to_bytes(2, "big") + sct_sig)
        sct_list = len(sct).to_bytes(2, "big") + sct
        sct_list = len(sct_list).to_bytes(2, "big") + sct_list
        sct_ext = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2"),
                                             der_enc(0x04, sct_list))
        leaf = make_cert("keyless", lk, (fulcio, fk), extra=[(oidc, False), (sct_ext, False)], **kw)
        assert leaf.tbs_certificate_bytes != tbs
        b64 = lambda b: base64.b64encode(b).decode()
        log_der = self.log_key_der()
        root = {"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
                "tlogs": [{"baseUrl": "http://127.0.0.1/test-log", "hashAlgorithm": "SHA2_256",
                           "publicKey": {"rawBytes": b64(log_der), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                         "validFor": {"start": "2025-01-01T00:00:00Z"}},
                           "logId": {"keyId": b64(hashlib.sha256(log_der).digest())}}],
                "certificateAuthorities": [{
                    "subject": {"organization": "sigaudit adversarial", "commonName": "adversarial fulcio"},
                    "uri": "http://127.0.0.1/fulcio",
                    "certChain": {"certificates": [{"rawBytes": b64(der(fulcio))}]},
                    "validFor": {"start": "2025-01-01T00:00:00Z"}}],
                "ctlogs": [{"baseUrl": "http://127.0.0.1/ct", "hashAlgorithm": "SHA2_256",
                            "publicKey": {"rawBytes": b64(ct_der), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                                          "validFor": {"start": "2025-01-01T00:00:00Z"}},
                            "logId": {"keyId": b64(hashlib.sha256(ct_der).digest())}}],
                "timestampAuthorities": []}
        root_file = self.write("c4-trusted_root.json", json.dumps(root, indent=1))
        fulcio_file = self.write("c4-fulcio.pem", pem(fulcio))
        leaf_file = self.write("c4-leaf.pem", pem(leaf))
        try:
            ct_key.public_key().verify(sct_sig, signed, ec.ECDSA(hashes.SHA256()))
            sct_verdict = "ok"
        except InvalidSignature:
            sct_verdict = "refused"

        repo = "adv4/keyless"
        img = self.image(repo, ["v1"], repo)
        p = self.simplesigning_payload(repo, img["digest"])
        layer = self.cosign_cert_layer(p, lk, [leaf])
        sig = base64.b64decode(layer[1]["dev.cosignproject.cosign/signature"])
        # The Rekor SET (hashedrekord of this payload, signature and certificate), as cosign keeps it.
        layer[1]["dev.sigstore.cosign/bundle"] = self.rekor_bundle(self.hashedrekord(p, sig, pem(leaf)))
        self.push_cosign(repo, img["digest"], [layer])
        # The same signature without its log entry: nothing dates it inside the short-lived leaf.
        bare_repo = "adv4/keyless-unlogged"
        bare_img = self.image(bare_repo, ["v1"], bare_repo)
        bare_p = self.simplesigning_payload(bare_repo, bare_img["digest"])
        self.push_cosign(bare_repo, bare_img["digest"], [self.cosign_cert_layer(bare_p, lk, [leaf])])
        try:
            leaf.public_key().verify(sig, p, ec.ECDSA(hashes.SHA256()))
            sig_verdict = "ok"
        except InvalidSignature:
            sig_verdict = "refused"
        common = ["--trusted-root", root_file]
        rule = "an OIDC issuer alone is not an identity policy: keyless needs --certificate-identity[-regexp]"
        rows = [
            ("issuer-only", "only --certificate-oidc-issuer (the right one)",
             ["--certificate-oidc-issuer", issuer_url], "untrusted", "refused: identity flag required"),
            ("no-policy", "no identity flag at all", [], "untrusted", "refused: identity flag required"),
            ("identity", "control: --certificate-identity and --certificate-oidc-issuer both right",
             ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer_url], "verified", "ok"),
            ("identity-regexp", "control: --certificate-identity-regexp anchored, right",
             ["--certificate-identity-regexp", r"^keyless-signer@adv\.test$"], "verified", "ok"),
            ("identity-wrong", "--certificate-identity of someone else, issuer right",
             ["--certificate-identity", "someone-else@adv.test", "--certificate-oidc-issuer", issuer_url],
             "untrusted", "refused: identity mismatch"),
            ("issuer-wrong", "--certificate-identity right, --certificate-oidc-issuer of another issuer",
             ["--certificate-identity", identity, "--certificate-oidc-issuer", "https://other.adv.test"],
             "untrusted", "refused: issuer mismatch"),
        ]
        for id_, how, args, expect, policy in rows:
            self.case(id=f"c4-{id_}", cls=4, rule=rule, how=how + " (Fulcio-style leaf with a verified SCT)",
                      repository=repo, digest=img["digest"], args=common + args, expect=expect,
                      independent={"cryptography_signature": sig_verdict, "cryptography_sct": sct_verdict,
                                   "cosign2_identity_rule": policy,
                                   "chain": {"leaf": leaf_file, "untrusted": None, "root": fulcio_file,
                                             "intermediates": [], "attime": int(integrated.timestamp())}})
        self.case(id="c4-identity-unlogged", cls=4,
                  rule="a Fulcio certificate counts only at a verified time: a Rekor entry or an RFC 3161 timestamp",
                  how="the right identity and issuer, but no Rekor bundle on the layer (cosign 2 refuses without "
                      "--insecure-ignore-tlog)",
                  repository=bare_repo, digest=bare_img["digest"],
                  args=common + ["--certificate-identity", identity, "--certificate-oidc-issuer", issuer_url],
                  expect="untrusted",
                  independent={"cryptography_signature": sig_verdict, "cryptography_sct": sct_verdict,
                               "cosign2_identity_rule": "refused: no transparency log entry",
                               "chain": {"leaf": leaf_file, "untrusted": None, "root": fulcio_file,
                                         "intermediates": [], "attime": AT_EPOCH}})

    # ---- class 5: notation levels that only log a failure ----
    def class5(self):
        ca_ku = ("key_cert_sign", "crl_sign")
        rk = ec_key()
        root = make_cert("notation root", rk, ca=True, ku=ca_ku)
        ok_ = ec_key()
        other = make_cert("another notation root", ok_, ca=True, ku=ca_ku)
        lk = ec_key()
        leaf = make_cert("notation signer", lk, (root, rk), ca=False, ku=("digital_signature",),
                         eku=[ExtendedKeyUsageOID.CODE_SIGNING])
        sk = ec_key()
        short = make_cert("short-lived notation signer", sk, (root, rk), ca=False, ku=("digital_signature",),
                          eku=[ExtendedKeyUsageOID.CODE_SIGNING], not_after=datetime.datetime(2026, 6, 1))
        store = self.path("c5-store")
        for sname, c in (("good", root), ("other", other)):
            os.makedirs(os.path.join(store, "x509", "ca", sname), exist_ok=True)
            self.write(os.path.join("c5-store", "x509", "ca", sname, "root.pem"), pem(c))
        self.write("c5-root.pem", pem(root))
        self.write("c5-other-root.pem", pem(other))
        policies = {}
        for level in ("strict", "permissive", "audit"):
            for sname in ("good", "other"):
                policies[(level, sname)] = self.write(f"c5-policy-{level}-{sname}.json", json.dumps(
                    {"version": "1.0", "trustPolicies": [{
                        "name": f"{level}-{sname}", "registryScopes": ["*"],
                        "signatureVerification": {"level": level},
                        "trustStores": [f"ca:{sname}"], "trustedIdentities": ["*"]}]}))
        envs = {}
        for id_, key, chain, kw in (("good", lk, [leaf, root], {}),
                                    ("expired-signature", lk, [leaf, root], {"expiry": "2027-01-01T00:00:00Z"}),
                                    ("expired-certificate", sk, [short, root], {})):
            repo = f"adv5/{id_}"
            img = self.image(repo, ["v1"], repo)
            env, (prot, pay, sig) = self.jws(key, chain, img, **kw)
            self.notary_signature(repo, img, env, "application/jose+json")
            files = {"leaf": self.write(f"c5-{id_}-leaf.pem", pem(chain[0])), "untrusted": None,
                     "intermediates": [], "attime": AT_EPOCH}
            envs[id_] = (repo, img, files, self.jws_verifies(chain[0], prot, pay, sig), kw.get("expiry"))
        # Documented notation behaviour (specs/trust-store-trust-policy.md): strict enforces every
        # check; permissive enforces authenticity and logs expiry and the authentic timestamp;
        # audit logs all three. "pass" = notation returns success with the failure logged.
        notation = {
            ("authenticity", "strict"): "fail", ("authenticity", "permissive"): "fail",
            ("authenticity", "audit"): "pass (logged)",
            ("expiry", "strict"): "fail", ("expiry", "permissive"): "pass (logged)",
            ("expiry", "audit"): "pass (logged)",
            ("timestamp", "strict"): "fail", ("timestamp", "permissive"): "pass (logged)",
            ("timestamp", "audit"): "pass (logged)",
        }
        for level in ("strict", "permissive", "audit"):
            rows = [("good", "good", None, "control: every check holds", "verified"),
                    ("good", "other", "authenticity", "the store holds another root (authenticity fails)",
                     "untrusted"),
                    ("expired-signature", "good", "expiry",
                     "io.cncf.notary.expiry 2027-01-01 passed at --at 2030 (expiry fails)",
                     "invalid" if level == "strict" else "untrusted"),
                    ("expired-certificate", "good", "timestamp",
                     "signing certificate expired 2026-06-01, no timestamp (authentic timestamp fails)",
                     "invalid" if level == "strict" else "untrusted")]
            for env_id, sname, failing, how, expect in rows:
                repo, img, files, sig_verdict, expiry = envs[env_id]
                chain = dict(files, root=self.path("c5-root.pem" if sname == "good" else "c5-other-root.pem"))
                self.case(id=f"c5-{failing or 'control'}-{level}", cls=5,
                          rule="a failure notation's level only logs is untrusted, never verified",
                          how=how + f" (level {level})", repository=repo, digest=img["digest"],
                          args=["--notation-trust-policy", policies[(level, sname)],
                                "--notation-trust-store", store],
                          expect=expect,
                          independent={"cryptography_signature": sig_verdict, "chain": chain,
                                       "expiry": expiry,
                                       "notation_documented": notation.get((failing, level), "pass")})

    # ---- class 8: signed JSON that Go's encoding/json reads differently ----
    def class8(self):
        self.write_key_files()
        ca_ku = ("key_cert_sign", "crl_sign")
        rk = ec_key()
        root = make_cert("payload root", rk, ca=True, ku=ca_ku)
        lk = ec_key()
        leaf = make_cert("payload signer", lk, (root, rk), ca=False, ku=("digital_signature",),
                         eku=[ExtendedKeyUsageOID.CODE_SIGNING])
        root_file = self.write("c8-root.pem", pem(root))
        other = sha256(b"the manifest of another image")
        key_args = ["--key", self.path("cosign.pub")]
        long_s, kelvin = "\u017f", "\u212a"

        def ss(repo, digest, variant):
            ident = {"docker-reference": f"{self.host}/{repo}"}
            typ = "cosign container image signature"
            img = lambda d: '{"docker-manifest-digest":"%s"}' % d
            crit = lambda image: '{"identity":%s,"image":%s,"type":"%s"}' % (json.dumps(ident), image, typ)
            doc = lambda c: '{"critical":%s,"optional":null}' % c
            v = {
                "plain": doc(crit(img(digest))),
                "exact-dup": doc(crit('{"docker-manifest-digest":"%s","docker-manifest-digest":"%s"}'
                                      % (other, digest))),
                "case-dup": doc(crit('{"Docker-Manifest-Digest":"%s","docker-manifest-digest":"%s"}'
                                     % (digest, other))),
                "critical-case-dup": '{"Critical":%s,"critical":%s,"optional":null}'
                                     % (crit(img(digest)), crit(img(other))),
                "long-s-dup": doc(crit('{"docker-manifest-digest":"%s","docker-manife%st-digest":"%s"}'
                                       % (digest, long_s, other))),
                "kelvin-dup": doc(crit('{"docker-manifest-digest":"%s","doc%ser-manifest-digest":"%s"}'
                                       % (digest, kelvin, other))),
                "case-only": doc(crit('{"Docker-Manifest-Digest":"%s"}' % digest)),
                "long-s-only": doc(crit('{"docker-manife%st-digest":"%s"}' % (long_s, digest))),
                # Characters whose full upper case is ASCII but which Go does not fold to it:
                # U+FB06 (ligature st, upper case "ST") and U+0131 (dotless i, upper case "I").
                "st-ligature-only": doc(crit('{"docker-manife\ufb06-digest":"%s"}' % digest)),
                "dotless-i-only": '{"cr\u0131tical":%s,"optional":null}' % crit(img(digest)),
            }[variant]
            return v.encode()

        def statement(digest, variant):
            s = lambda d: '[{"name":"img","digest":{"sha256":"%s"}}]' % d[7:]
            head = '{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2",'
            v = {
                "subject-long-s": head + '"subject":%s,"%subject":%s,"predicate":{}}' % (s(digest), long_s, s(other)),
                "digest-case": head + '"subject":[{"name":"img","digest":{"sha256":"%s"},"Digest":{"sha256":"%s"}}],'
                                      '"predicate":{}}' % (digest[7:], other[7:]),
                "digest-upper-hex": head + '"subject":[{"name":"img","digest":{"sha256":"%s"}}],"predicate":{}}'
                                           % digest[7:].upper(),
                "digest-st-ligature": head + '"subject":[{"name":"img","dige\ufb06":{"sha256":"%s"}}],"predicate":{}}'
                                             % digest[7:],
            }.get(variant, head + '"subject":%s,"predicate":{}}' % s(digest))
            return v.encode()

        def envelope(digest, variant):
            payload = statement(digest, variant)
            pae = b"DSSEv1 %d %s %d " % (len("application/vnd.in-toto+json"), b"application/vnd.in-toto+json",
                                          len(payload)) + payload
            sig = base64.b64encode(self.sign(pae)).decode()
            p64 = base64.b64encode(payload).decode()
            t = "application/vnd.in-toto+json"
            if variant == "payload-case":
                o64 = base64.b64encode(statement(other, "plain")).decode()
                return ('{"payloadType":"%s","payload":"%s","Payload":"%s","signatures":[{"keyid":"","sig":"%s"}]}'
                        % (t, p64, o64, sig)).encode()
            if variant == "keyid-kelvin":
                return ('{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"","%seyid":"x","sig":"%s"}]}'
                        % (t, p64, kelvin, sig)).encode()
            return ('{"payloadType":"%s","payload":"%s","signatures":[{"keyid":"","sig":"%s"}]}'
                    % (t, p64, sig)).encode()

        def notary(img, variant):
            d, mt, size = img["digest"], img["mediaType"], img["size"]
            target = lambda dd: '{"mediaType":"%s","digest":"%s","size":%d}' % (mt, dd, size)
            payload = {
                "plain": '{"targetArtifact":%s}' % target(d),
                "target-case": '{"targetArtifact":%s,"TargetArtifact":%s}' % (target(d), target(other)),
                "digest-long-s": '{"targetArtifact":{"mediaType":"%s","digest":"%s","dige%st":"%s","size":%d}}'
                                 % (mt, d, long_s, other, size),
                "digest-dotless-i": '{"targetArtifact":{"mediaType":"%s","d\u0131gest":"%s","size":%d}}' % (mt, d, size),
            }.get(variant, '{"targetArtifact":%s}' % target(d)).encode()
            protected = None
            if variant == "protected-cty-case":
                protected = canon({"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"], "cty": NOTARY_PAYLOAD,
                                   "io.cncf.notary.signingScheme": "notary.x509",
                                   "io.cncf.notary.signingTime": "2026-01-01T00:00:00Z"})
                protected = protected[:-1] + b',"Cty":"application/octet-stream"}'
            if variant == "protected-expiry-case":
                # Only a case variant of io.cncf.notary.expiry, long past: Go's struct reads it.
                protected = canon({"alg": "ES256", "crit": ["io.cncf.notary.signingScheme"], "cty": NOTARY_PAYLOAD,
                                   "io.cncf.notary.signingScheme": "notary.x509",
                                   "io.cncf.notary.signingTime": "2026-01-01T00:00:00Z",
                                   "io.cncf.notary.Expiry": "2026-02-01T00:00:00Z"})
            if variant == "jws-payload-case":
                other_payload = ('{"targetArtifact":%s}' % target(other)).encode()

                def raw(prot, pay, header, sig):
                    return ('{"payload":"%s","protected":"%s","header":%s,"signature":"%s","Payload":"%s"}'
                            % (pay, prot, json.dumps(header, separators=(",", ":")), sig,
                               b64url(other_payload))).encode()
                return self.jws(lk, [leaf, root], img, payload=payload, raw_jws=raw)
            env, _ = self.jws(lk, [leaf, root], img, payload=payload, protected=protected)
            return env

        # Payloads without keys that fold together in which Go binds something else than a
        # reader that folds by full case mapping would: invalid too.
        go_reads_otherwise = {"st-ligature-only", "dotless-i-only", "digest-st-ligature", "digest-dotless-i",
                              "protected-expiry-case", "digest-upper-hex"}
        # (id, kind, variant, duplicate by construction, how)
        rows = [
            ("ss-plain", "simplesigning", "plain", False, "control: a plain payload"),
            ("ss-exact-dup", "simplesigning", "exact-dup", True,
             "docker-manifest-digest twice: another image first, this image last"),
            ("ss-case-dup", "simplesigning", "case-dup", True,
             "Docker-Manifest-Digest (this image) then docker-manifest-digest (another)"),
            ("ss-critical-case-dup", "simplesigning", "critical-case-dup", True,
             "Critical (this image) then critical (another)"),
            ("ss-long-s-dup", "simplesigning", "long-s-dup", True,
             "docker-manifest-digest (this image) then docker-manifeſt-digest (U+017F, another)"),
            ("ss-kelvin-dup", "simplesigning", "kelvin-dup", True,
             "docker-manifest-digest (this image) then doc\u212aer-manifest-digest (Kelvin sign, another)"),
            ("ss-case-only", "simplesigning", "case-only", False,
             "control: only Docker-Manifest-Digest (cosign's spec spells it so)"),
            ("ss-long-s-only", "simplesigning", "long-s-only", False,
             "control: only docker-manifeſt-digest (U+017F), which Go folds to the field"),
            ("ss-st-ligature-only", "simplesigning", "st-ligature-only", False,
             "only docker-manife\ufb06-digest (U+FB06 ligature st): Go does not fold it to the field"),
            ("ss-dotless-i-only", "simplesigning", "dotless-i-only", False,
             "only cr\u0131tical (U+0131 dotless i): Go does not fold it to critical"),
            ("att-plain", "dsse", "plain", False, "control: a plain DSSE attestation"),
            ("att-subject-long-s", "dsse", "subject-long-s", True,
             "in-toto subject (this image) then ſubject (U+017F, another)"),
            ("att-digest-case", "dsse", "digest-case", True,
             "in-toto subject digest (this image) then Digest (another)"),
            ("att-payload-case", "dsse", "payload-case", True,
             "DSSE payload (signed, this image) then Payload (unsigned, another)"),
            ("att-keyid-kelvin", "dsse", "keyid-kelvin", True,
             "DSSE signature keyid then \u212aeyid (Kelvin sign): binds nothing, still two names for one field"),
            ("att-digest-st-ligature", "dsse", "digest-st-ligature", False,
             "in-toto subject dige\ufb06 (U+FB06 ligature st) only: Go does not fold it to digest"),
            ("att-digest-upper-hex", "dsse", "digest-upper-hex", False,
             "in-toto subject digest in upper-case hex: cosign compares \"sha256:\"+hex with the digest exactly"),
            ("nv-plain", "notary", "plain", False, "control: a plain Notary JWS"),
            ("nv-target-case", "notary", "target-case", True,
             "payload targetArtifact (this image) then TargetArtifact (another)"),
            ("nv-digest-long-s", "notary", "digest-long-s", True,
             "targetArtifact digest (this image) then digeſt (U+017F, another)"),
            ("nv-jws-payload-case", "notary", "jws-payload-case", True,
             "JWS payload (signed, this image) then Payload (another)"),
            ("nv-protected-cty-case", "notary", "protected-cty-case", True,
             "protected header cty (the Notary payload type) then Cty (application/octet-stream)"),
            ("nv-digest-dotless-i", "notary", "digest-dotless-i", False,
             "targetArtifact d\u0131gest (U+0131 dotless i) only: Go does not fold it to digest"),
            ("nv-protected-expiry-case", "notary", "protected-expiry-case", False,
             "protected header io.cncf.notary.Expiry (2026-02-01, passed) only: Go's struct reads it as the expiry"),
        ]
        for id_, kind, variant, dup, how in rows:
            repo = f"adv8/{id_}"
            img = self.image(repo, ["v1"], repo)
            if kind == "simplesigning":
                blob = ss(repo, img["digest"], variant)
                self.push_cosign(repo, img["digest"], [(blob, {
                    "dev.cosignproject.cosign/signature": base64.b64encode(self.sign(blob)).decode()})])
                args = key_args
            elif kind == "dsse":
                blob = envelope(img["digest"], variant)
                self.push_cosign(repo, img["digest"], [(blob, {"dev.cosignproject.cosign/signature": "",
                                                               "predicateType": "https://slsa.dev/provenance/v0.2"})],
                                 suffix="att", media_type=DSSE)
                args = key_args
            else:
                blob = notary(img, variant)
                self.notary_signature(repo, img, blob, "application/jose+json")
                args = ["--ca-roots", root_file]
            f = self.write(f"c8-{id_}.json", blob)
            self.case(id=f"c8-{id_}", cls=8,
                      rule="signed JSON with keys Go's encoding/json folds together is invalid",
                      how=how, repository=repo, digest=img["digest"], args=args,
                      expect="invalid" if dup or variant in go_reads_otherwise else "verified",
                      independent={"payload_file": f, "kind": kind, "duplicate": dup, "other_digest": other})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--class", dest="cls", required=True, choices=["1", "3", "4", "5", "8"])
    a = ap.parse_args()
    if not a.registry.startswith("127.0.0.1:"):
        sys.exit("seed_adversarial.py: only 127.0.0.1 registries are seeded")
    os.makedirs(a.out, exist_ok=True)
    adv = Adversary(base.Registry(a.registry), a.registry, a.out)
    getattr(adv, "class" + a.cls)()
    with open(os.path.join(a.out, "cases.json"), "w") as f:
        json.dump(adv.cases, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
