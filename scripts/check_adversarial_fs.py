#!/usr/bin/env python3
"""Run a sigaudit binary over the fixtures of scripts/make_adversarial_fs.sh and print, per file,
the expected and actual status next to the independent tool's verdict. Exit 1 if any differs.
Made to show a regression, or that an older build (say the one before a fix) fails the suite:
  scripts/check_adversarial_fs.py BINARY FIXTURE_DIR"""
import json
import subprocess
import sys

binary, d = sys.argv[1], sys.argv[2].rstrip("/")
expected = json.load(open(f"{d}/expected.json"))
out = subprocess.run([binary, "fs", f"{d}/pe", f"{d}/jar", "-o", "json", "--ca-roots", f"{d}/pki/root.crt"],
                     capture_output=True, text=True)
got = {f["path"][len(d) + 1:]: f for f in json.loads(out.stdout)["files"]}
bad = 0
print(f"{'fixture':58} {'class':>5} {'tool':8} {'expected':10} {'got':10} ok")
for path, e in sorted(expected.items()):
    f = got.get(path)
    status = f["status"] if f else "missing"
    reasons = json.dumps(f["signatures"]) + json.dumps(f.get("notes", [])) if f else ""
    ok = status == e["status"] and e["reason"] in reasons
    bad += not ok
    print(f"{path:58} {e['class']:>5} {e['independent']:8} {e['status']:10} {status:10} {'yes' if ok else 'NO'}")
print(f"{len(expected) - bad} of {len(expected)} as expected", file=sys.stderr)
sys.exit(1 if bad else 0)
