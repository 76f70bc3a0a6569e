#!/usr/bin/env python3
"""A TUF repository made with python-tuf's Metadata API (PyPI `tuf`), for tests/tuf_trust.rs, and
python-tuf's own client (`tuf.ngclient.Updater`) as the independent verdict beside sigaudit's.

The repository is laid out as Sigstore's public-good one: consistent snapshots, metadata at the
served directory's root (`1.root.json`, `timestamp.json`, `N.snapshot.json`, `N.targets.json`),
targets under `targets/` named `<sha256>.<name>`, and ECDSA P-256 keys. The state directory keeps
the keys and the current metadata between commands:

  init STATE TARGET           keys, version 1 of every role, TARGET as trusted_root.json
  publish STATE [--target F] [--expire ROLE]... [--expire-soon ROLE]...
                              new targets, snapshot and timestamp versions (ROLE made expired,
                              or expiring four seconds from now)
  rotate STATE [--new-only]   a new root version with a new root key, signed by the old and the
                              new key (--new-only: by the new key alone, which a client refuses)
  save STATE TAG / restore STATE TAG
                              keep the served timestamp.json / serve it again (a rollback)
  tamper STATE                change one byte of the served trusted_root.json (length kept)
  client STATE URL DIR        python-tuf's client: refresh and download trusted_root.json, with
                              DIR as its cache (started from the initial root); prints JSON
"""

import hashlib
import json
import shutil
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key
from securesystemslib.signer import CryptoSigner
from tuf.api.metadata import (
    Key,
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer

TARGET = "trusted_root.json"
ROLES = ("timestamp", "snapshot", "targets")


def signer(state, name):
    pem = (state / "keys" / f"{name}.pem").read_bytes()
    return CryptoSigner(load_pem_private_key(pem, None))


def new_key(state, name):
    s = CryptoSigner.generate_ecdsa()
    (state / "keys").mkdir(parents=True, exist_ok=True)
    (state / "keys" / f"{name}.pem").write_bytes(s.private_bytes)
    return s


def expiry(days):
    return (datetime.now(timezone.utc) + timedelta(days=days)).replace(microsecond=0)


def write(md, path):
    path.write_bytes(md.to_bytes(JSONSerializer(compact=False)))


def load(state, role):
    return Metadata.from_file(str(state / "current" / f"{role}.json"))


def keep(state, role, md):
    write(md, state / "current" / f"{role}.json")


def served(state):
    return state / "served"


def init(state, target):
    for d in ("current", "served/targets"):
        (state / d).mkdir(parents=True, exist_ok=True)
    root = Metadata(Root(expires=expiry(365), consistent_snapshot=True))
    state.joinpath("root-key").write_text("root1")
    signers = {"root": new_key(state, "root1")}
    for role in ROLES:
        signers[role] = new_key(state, role)
    for role, s in signers.items():
        root.signed.add_key(s.public_key, role)
    root.sign(signers["root"])
    keep(state, "root", root)
    write(root, served(state) / "1.root.json")
    shutil.copy(served(state) / "1.root.json", state / "initial-root.json")
    targets = Metadata(Targets(expires=expiry(30)))
    snapshot = Metadata(Snapshot(expires=expiry(30)))
    timestamp = Metadata(Timestamp(expires=expiry(1)))
    for role, md in (("targets", targets), ("snapshot", snapshot), ("timestamp", timestamp)):
        keep(state, role, md)
    publish(state, Path(target), [], bump=0)


def publish(state, target, expired, bump=1, soon=()):
    def days(role, d):
        if role in soon:
            return 4 / 86400  # four seconds: valid when fetched, expired soon after
        return -1 if role in expired else d

    targets = load(state, "targets")
    targets.signed.version += bump
    targets.signed.expires = expiry(days("targets", 30))
    if target is not None:
        data = Path(target).read_bytes()
        tf = TargetFile.from_data(TARGET, data, ["sha256"])
        targets.signed.targets[TARGET] = tf
        digest = hashlib.sha256(data).hexdigest()
        (served(state) / "targets" / f"{digest}.{TARGET}").write_bytes(data)
    targets.signatures.clear()
    targets.sign(signer(state, "targets"))
    keep(state, "targets", targets)
    write(targets, served(state) / f"{targets.signed.version}.targets.json")

    snapshot = load(state, "snapshot")
    snapshot.signed.version += bump
    snapshot.signed.expires = expiry(days("snapshot", 30))
    snapshot.signed.meta["targets.json"] = MetaFile(version=targets.signed.version)
    snapshot.signatures.clear()
    snapshot.sign(signer(state, "snapshot"))
    keep(state, "snapshot", snapshot)
    write(snapshot, served(state) / f"{snapshot.signed.version}.snapshot.json")

    timestamp = load(state, "timestamp")
    timestamp.signed.version += bump
    timestamp.signed.expires = expiry(days("timestamp", 1))
    timestamp.signed.snapshot_meta = MetaFile(version=snapshot.signed.version)
    timestamp.signatures.clear()
    timestamp.sign(signer(state, "timestamp"))
    keep(state, "timestamp", timestamp)
    write(timestamp, served(state) / "timestamp.json")


def rotate(state, new_only):
    root = load(state, "root")
    old_name = state.joinpath("root-key").read_text()
    old = signer(state, old_name)
    n = int(old_name.removeprefix("root")) + 1
    new = new_key(state, f"root{n}")
    state.joinpath("root-key").write_text(f"root{n}")
    root.signed.revoke_key(old.public_key.keyid, "root")
    root.signed.add_key(new.public_key, "root")
    root.signed.version += 1
    root.signatures.clear()
    if not new_only:
        root.sign(old, append=True)
    root.sign(new, append=True)
    keep(state, "root", root)
    write(root, served(state) / f"{root.signed.version}.root.json")


def tamper(state):
    listed = load(state, "targets").signed.targets[TARGET].hashes["sha256"]
    path = served(state) / "targets" / f"{listed}.{TARGET}"
    data = bytearray(path.read_bytes())
    i = data.index(b"{") + 1
    data[i:i] = b" "
    del data[-1:]  # keep the length: the change shows only in the hash
    path.write_bytes(bytes(data))


def client(state, url, cache):
    from tuf.ngclient import Updater

    meta = Path(cache) / "metadata"
    meta.mkdir(parents=True, exist_ok=True)
    # The initial root the first time; then the root this client last trusted (its cache).
    bootstrap = None if (meta / "root.json").exists() else (state / "initial-root.json").read_bytes()
    out = {"ok": False}
    try:
        up = Updater(
            metadata_dir=str(meta),
            metadata_base_url=url.rstrip("/") + "/",
            target_base_url=url.rstrip("/") + "/targets/",
            target_dir=str(Path(cache) / "targets"),
            bootstrap=bootstrap,
        )
        up.refresh()
        info = up.get_targetinfo(TARGET)
        if info is None:
            out["error"] = f"no target {TARGET}"
        else:
            (Path(cache) / "targets").mkdir(exist_ok=True)
            path = up.download_target(info)
            out = {
                "ok": True,
                "root-version": json.loads((meta / "root.json").read_bytes())["signed"]["version"],
                "target-sha256": "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            }
    except Exception as e:  # the verdict, whatever python-tuf raised
        out["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(out))


def main(argv):
    cmd, state = argv[1], Path(argv[2])
    rest = argv[3:]
    if cmd == "init":
        init(state, rest[0])
    elif cmd == "publish":
        target, expired, soon = None, [], []
        while rest:
            flag, value, rest = rest[0], rest[1], rest[2:]
            if flag == "--target":
                target = value
            elif flag == "--expire":
                expired.append(value)
            elif flag == "--expire-soon":
                soon.append(value)
            else:
                sys.exit(f"unknown option {flag}")
        publish(state, target, expired, soon=soon)
    elif cmd == "rotate":
        rotate(state, "--new-only" in rest)
    elif cmd == "save":
        shutil.copy(served(state) / "timestamp.json", state / f"saved-{rest[0]}.timestamp.json")
    elif cmd == "restore":
        shutil.copy(state / f"saved-{rest[0]}.timestamp.json", served(state) / "timestamp.json")
    elif cmd == "tamper":
        tamper(state)
    elif cmd == "client":
        client(state, rest[0], rest[1])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
