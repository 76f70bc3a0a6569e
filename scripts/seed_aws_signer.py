#!/usr/bin/env python3
"""Push Notary Project signatures shaped exactly like AWS Signer's to a registry on 127.0.0.1,
for tests/notation_aws_signer.rs, made here by Python's `cryptography` (an independent scripted
signer: nothing of sigaudit's).

What AWS Signer signs (its Notation plugin, `notation inspect` of real ECR signatures, NOTATION.md):
a JWS envelope, ES384 (P-384), signing scheme `notary.x509.signingAuthority` with
`io.cncf.notary.authenticSigningTime` and `io.cncf.notary.expiry`, the signed attributes
`io.cncf.notary.verificationPlugin` = `com.amazonaws.signer.notation.plugin`,
`com.amazonaws.signer.signingProfileVersion` (the profile version ARN: the signer's identity, which
trust policies match with ARN trusted identities) and `com.amazonaws.signer.signingJob` (the job
ARN), all critical; a four-certificate chain: a leaf `CN=AWS Signer, OU=AWS Cryptography, O=AWS,
L=Seattle, ST=WA, C=US` valid about three days from the signing, a regional CA `AWS Signer
us-west-2 Code Signing CA G1`, `AWS Signer Code Signing Int CA G1`, and the self-signed root
`AWS Signer Code Signing Root CA G1` that notation's `signingAuthority:aws-signer-ts` store holds.
The certificate carries no ARN: the profile is named only by the signed attribute.

AWS's private keys are not available: the chain is a STAND-IN with the same names, profile and
lifetimes, under a root made here. Images (repository aws/…):
- app: signed by the trusted profile version;
- forged-arn: app's envelope with the signed profile ARN rewritten (signature kept);
- unsigned-arn: signed by another profile, the trusted ARN added as an unprotected header;
- wrong-root: signed by the trusted profile ARN under an attacker's chain of the same names;
- replayed: app's envelope, unchanged, attached to another image;
- not-aws-leaf: the trusted profile ARN stated by a leaf `CN=Mallory, O=Example` that the
  stand-in regional CA issued (as a store shared with another CA would let one chain).

usage: seed_aws_signer.py --registry 127.0.0.1:PORT --out DIR
writes into DIR: x509/signingAuthority/aws-signer-ts/root.crt (the stand-in root),
attacker-root.crt, and per image REPO_NAME.jws (the envelope), .leaf.pem, .chain.pem
(intermediates); prints {"repo": {"digest", "profile"}} and the ARNs.
"""

import argparse
import base64
import datetime
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_registry import Registry, Seeder, fixed_serial  # noqa: E402

PLUGIN = "com.amazonaws.signer.notation.plugin"
ACCOUNT = "arn:aws:signer:us-west-2:111122223333"
PROFILE = f"{ACCOUNT}:/signing-profiles/sigaudit_release"
PROFILE_VERSION = f"{PROFILE}/Ab12Cd34Ef"
OTHER_VERSION = f"{ACCOUNT}:/signing-profiles/someone_else/Zz98Yy76Xx"
JOB = f"{ACCOUNT}:/signing-jobs/5808635f-05de-4207-a891-c95f827b50f4"
SIGNED = datetime.datetime(2026, 1, 10, 10, 0, 0)
JOSE = "application/jose+json"
b64url = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def name(cn, ou="Cryptography", locality=None):
    attrs = [x509.NameAttribute(NameOID.COUNTRY_NAME, "US"), x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "WA")]
    if locality:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    attrs += [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AWS"),
              x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
              x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    return x509.Name(attrs)


def ku(sign, cert):
    return x509.KeyUsage(digital_signature=sign, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=cert, crl_sign=cert,
                         encipher_only=False, decipher_only=False)


def chain(label, leaf_name=None, ca_keys=None):
    """A stand-in AWS Signer chain (leaf first) and the leaf's key; `label` seeds the serials;
    `ca_keys` (regional, intermediate, root) reuses another chain's CAs."""
    keys = [ec.generate_private_key(ec.SECP384R1())] + (ca_keys or [ec.generate_private_key(ec.SECP384R1())
                                                                     for _ in range(3)])
    leaf_name = leaf_name or name("AWS Signer", "AWS Cryptography", "Seattle")
    names = [leaf_name, name("AWS Signer us-west-2 Code Signing CA G1"),
             name("AWS Signer Code Signing Int CA G1"), name("AWS Signer Code Signing Root CA G1")]
    spans = [(SIGNED - datetime.timedelta(hours=1), SIGNED + datetime.timedelta(days=3)),
             (datetime.datetime(2025, 6, 1), datetime.datetime(2027, 6, 1)),
             (datetime.datetime(2024, 1, 1), datetime.datetime(2030, 1, 1)),
             (datetime.datetime(2022, 1, 1), datetime.datetime(2122, 1, 1))]
    certs = [None] * 4
    for i in (3, 2, 1, 0):
        issuer = min(i + 1, 3)
        b = (x509.CertificateBuilder().subject_name(names[i]).issuer_name(names[issuer])
             .public_key(keys[i].public_key()).serial_number(fixed_serial(f"{label} {i}"))
             .not_valid_before(spans[i][0]).not_valid_after(spans[i][1]))
        if i == 0:
            b = (b.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                 .add_extension(ku(True, False), critical=True)
                 .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.CODE_SIGNING]), critical=False))
        else:
            b = (b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                 .add_extension(ku(False, True), critical=True))
        certs[i] = b.sign(keys[issuer], hashes.SHA384())
    return certs, keys


def envelope(certs, key, digest, size, profile_version, unprotected=None):
    payload = json.dumps({"targetArtifact": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                             "digest": digest, "size": size}}, separators=(",", ":")).encode()
    t = lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")
    header = {"alg": "ES384",
              "crit": ["io.cncf.notary.signingScheme", "io.cncf.notary.authenticSigningTime",
                       "io.cncf.notary.expiry", "io.cncf.notary.verificationPlugin",
                       "com.amazonaws.signer.signingProfileVersion", "com.amazonaws.signer.signingJob"],
              "cty": "application/vnd.cncf.notary.payload.v1+json",
              "io.cncf.notary.signingScheme": "notary.x509.signingAuthority",
              "io.cncf.notary.authenticSigningTime": t(SIGNED),
              "io.cncf.notary.expiry": t(SIGNED.replace(year=SIGNED.year + 11)),
              "io.cncf.notary.verificationPlugin": PLUGIN,
              "com.amazonaws.signer.signingProfileVersion": profile_version,
              "com.amazonaws.signer.signingJob": JOB}
    protected = b64url(json.dumps(header, separators=(",", ":")).encode())
    signing_input = (protected + "." + b64url(payload)).encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA384())))
    head = {"x5c": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs],
            "io.cncf.notary.signingAgent": "sigaudit scripts/seed_aws_signer.py (AWS Signer shape)"}
    head.update(unprotected or {})
    return {"payload": b64url(payload), "protected": protected, "header": head,
            "signature": b64url(r.to_bytes(48, "big") + s.to_bytes(48, "big"))}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registry", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    if not a.registry.startswith("127.0.0.1:"):
        sys.exit("seed_aws_signer.py: only 127.0.0.1 registries are seeded")
    store = os.path.join(a.out, "x509", "signingAuthority", "aws-signer-ts")
    os.makedirs(store, exist_ok=True)
    s = Seeder(Registry(a.registry), a.registry, None, a.out, False)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    good, good_keys = chain("aws stand-in")
    evil, evil_keys = chain("aws attacker")
    good_key, evil_key = good_keys[0], evil_keys[0]
    mallory = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"),
                         x509.NameAttribute(NameOID.COMMON_NAME, "Mallory")])
    other, other_keys = chain("aws mallory", mallory, good_keys[1:])
    other = [other[0]] + good[1:]  # the leaf under the stand-in CAs themselves
    open(os.path.join(store, "root.crt"), "wb").write(pem(good[3]))
    open(os.path.join(a.out, "attacker-root.crt"), "wb").write(pem(evil[3]))

    out = {}

    def push(repo, img, env, certs, profile):
        data = json.dumps(env).encode()
        s.notary_signature(repo, img, data, JOSE)
        stem = os.path.join(a.out, repo.replace("/", "_"))
        open(stem + ".jws", "wb").write(data)
        open(stem + ".leaf.pem", "wb").write(pem(certs[0]))
        open(stem + ".chain.pem", "wb").write(b"".join(pem(c) for c in certs[1:3]))
        out[repo] = {"digest": img["digest"], "profile": profile}

    app = s.image("aws/app", ["v1"], "aws app")
    app_env = envelope(good, good_key, app["digest"], app["size"], PROFILE_VERSION)
    push("aws/app", app, app_env, good, PROFILE_VERSION)

    img = s.image("aws/forged-arn", ["v1"], "aws forged-arn")
    env = envelope(good, good_key, img["digest"], img["size"], OTHER_VERSION)
    header = json.loads(base64.urlsafe_b64decode(env["protected"] + "=="))
    header["com.amazonaws.signer.signingProfileVersion"] = PROFILE_VERSION
    env["protected"] = b64url(json.dumps(header, separators=(",", ":")).encode())
    push("aws/forged-arn", img, env, good, PROFILE_VERSION)

    img = s.image("aws/unsigned-arn", ["v1"], "aws unsigned-arn")
    env = envelope(good, good_key, img["digest"], img["size"], OTHER_VERSION,
                   {"com.amazonaws.signer.signingProfileVersion": PROFILE_VERSION})
    push("aws/unsigned-arn", img, env, good, OTHER_VERSION)

    img = s.image("aws/wrong-root", ["v1"], "aws wrong-root")
    push("aws/wrong-root", img, envelope(evil, evil_key, img["digest"], img["size"], PROFILE_VERSION), evil,
         PROFILE_VERSION)

    img = s.image("aws/replayed", ["v1"], "aws replayed")
    push("aws/replayed", img, app_env, good, PROFILE_VERSION)

    img = s.image("aws/not-aws-leaf", ["v1"], "aws not-aws-leaf")
    push("aws/not-aws-leaf", img, envelope(other, other_keys[0], img["digest"], img["size"], PROFILE_VERSION),
         other, PROFILE_VERSION)

    json.dump({"images": out, "profile": PROFILE, "profileVersion": PROFILE_VERSION, "otherVersion": OTHER_VERSION,
               "job": JOB, "plugin": PLUGIN}, sys.stdout)


if __name__ == "__main__":
    main()
