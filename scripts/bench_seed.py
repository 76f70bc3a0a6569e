#!/usr/bin/env python3
"""Seed a registry for the benchmark: REPOS x TAGS distinct small images (each manifest differs
by an annotation; layers and configs are shared per repository), one in SIGN_EVERY signed with a
cosign-format signature by the same independent signer as seed_registry.py. Uploads run on
THREADS concurrent HTTP connections to 127.0.0.1.

--aliases N: each image also carries N more tags (t00000-a0, …), as a version tag and its moving
aliases do.

usage: bench_seed.py --registry 127.0.0.1:PORT --repos R --tags T [--aliases 0] [--sign-every 50] [--threads 16]"""
import argparse, concurrent.futures, os, sys, threading
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seed_registry as s  # noqa: E402

local = threading.local()


def reg(addr):
    if not hasattr(local, "r"):
        local.r = s.Registry(addr)
    return local.r


def signer_for(addr):
    if not hasattr(local, "signer"):
        local.signer = s.Seeder(reg(addr), addr, "", "/tmp", False)
    return local.signer


def seed_repo(addr, r, tags, sign_every, aliases=0):
    repo = f"bench/r{r:05d}"
    layer = (f"layer of {repo}\n" * 64).encode()
    config = s.canon({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [s.sha256(layer)]}})
    g = reg(addr)
    g.push_blob(repo, layer)
    g.push_blob(repo, config)
    signed = 0
    for t in range(tags):
        m = s.canon({"schemaVersion": 2, "mediaType": s.OCI_MANIFEST,
                     "config": s.descriptor("application/vnd.oci.image.config.v1+json", config),
                     "layers": [s.descriptor("application/vnd.oci.image.layer.v1.tar+gzip", layer)],
                     "annotations": {"bench.image": f"{r}-{t}"}})
        g.push_manifest(repo, f"t{t:05d}", m, s.OCI_MANIFEST)
        for k in range(aliases):
            g.push_manifest(repo, f"t{t:05d}-a{k}", m, s.OCI_MANIFEST)
        if (r * tags + t) % sign_every == 0:
            d = s.sha256(m)
            signer = signer_for(addr)
            p = signer.simplesigning_payload(repo, d)
            signer.push_cosign(repo, d, [(p, signer.cosign_layer(p))])
            signed += 1
    return signed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--registry", required=True)
    ap.add_argument("--repos", type=int, default=100)
    ap.add_argument("--tags", type=int, default=20)
    ap.add_argument("--sign-every", type=int, default=50)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--aliases", type=int, default=0)
    a = ap.parse_args()
    if not a.registry.startswith("127.0.0.1:"):
        sys.exit("bench_seed.py: only 127.0.0.1")
    with concurrent.futures.ThreadPoolExecutor(a.threads) as ex:
        signed = sum(ex.map(lambda r: seed_repo(a.registry, r, a.tags, a.sign_every, a.aliases), range(a.repos)))
    print(f"seeded {a.repos * a.tags} images ({1 + a.aliases} tags each) in {a.repos} repositories, {signed} signed",
          file=sys.stderr)


if __name__ == "__main__":
    main()
