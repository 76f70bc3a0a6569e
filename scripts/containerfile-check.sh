#!/usr/bin/env bash
# Exercise the Containerfile without a container engine (none runs on the project's machines):
# read it, run the builder stage's COPY and RUN steps in a temporary directory as the builder
# would, then check what the runtime stage needs of the result:
#   - every COPY source is in the build context (.dockerignore lets it through);
#   - the binary the runtime stage copies exists, carries no debug info, needs only libraries the
#     Debian runtime image has (glibc, libgcc) and no newer glibc than it has;
#   - the runtime stage installs ca-certificates (a package apt knows), creates a non-root user,
#     and USER names that user;
#   - the binary runs as that non-root user (setpriv, when this script runs as root) with an empty
#     environment: --version, and an `fs` scan of a signed file.
#   scripts/containerfile-check.sh            dependencies reuse this checkout's target directory
#   scripts/containerfile-check.sh --clean    a cold build in a fresh target directory, exactly
#                                             as the builder stage does it (slower)
# Needs: cargo, python3, readelf (binutils), apt-cache; setpriv (util-linux) to switch users.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
clean=0
[ "${1:-}" = "--clean" ] && clean=1
target_dir=""
[ "$clean" = 0 ] && target_dir="$(cargo metadata --format-version 1 --no-deps --locked \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
work="$(mktemp -d)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT

python3 - "$PWD" "$work" "$target_dir" <<'PY'
import fnmatch, json, os, re, shlex, shutil, subprocess, sys

repo, work, target_dir = sys.argv[1], sys.argv[2], sys.argv[3]
checks = []


def ok(msg):
    checks.append(msg)
    print(f"containerfile-check: ok: {msg}", flush=True)


def fail(msg):
    print(f"containerfile-check: FAILED: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


# ---- parse: instructions, line continuations, ARG defaults, stages ----
lines, cur = [], ""
for raw in open(os.path.join(repo, "Containerfile")):
    s = raw.rstrip("\n")
    if not cur and (not s.strip() or s.lstrip().startswith("#")):
        continue
    if s.endswith("\\"):
        cur += s[:-1] + " "
        continue
    lines.append((cur + s).strip())
    cur = ""
args, stages = {}, []
expand = lambda s, env: re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), s)
for line in lines:
    instr, _, rest = line.partition(" ")
    instr, rest = instr.upper(), rest.strip()
    if instr == "ARG" and not stages:
        k, _, v = rest.partition("=")
        args[k] = v
    elif instr == "FROM":
        parts = expand(rest, args).split()
        name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
        stages.append({"base": parts[0], "name": name, "steps": []})
    else:
        stages[-1]["steps"].append((instr, rest))
if len(stages) != 2 or not stages[0]["name"]:
    fail("expected two stages: a named builder, then the runtime image")
builder, runtime = stages
ok(f"builder {builder['base']} as {builder['name']}, runtime {runtime['base']}")
if "slim" not in runtime["base"] and "distroless" not in runtime["base"]:
    fail(f"runtime base {runtime['base']} is not a slim image")

# ---- the build context: .dockerignore, last matching rule wins ----
rules = []
ignore = os.path.join(repo, ".dockerignore")
for r in (open(ignore).read().splitlines() if os.path.exists(ignore) else []):
    r = r.strip()
    if r and not r.startswith("#"):
        rules.append((r.startswith("!"), r.lstrip("!").rstrip("/")))


def in_context(path):
    path = os.path.normpath(path)
    parts = path.split(os.sep)
    keep = True
    for negate, pat in rules:
        if any(fnmatch.fnmatch(os.sep.join(parts[:i + 1]), pat) for i in range(len(parts))):
            keep = negate
    return keep


# ---- run the builder stage in a scratch root ----
root = os.path.join(work, "builder-root")
cwd = root
env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "CARGO_HOME", "RUSTUP_HOME", "TMPDIR", "LANG")}
if target_dir:
    env["CARGO_TARGET_DIR"] = target_dir  # reuse compiled dependencies; --clean builds cold
for instr, rest in builder["steps"]:
    if instr == "WORKDIR":
        cwd = os.path.join(root, rest.lstrip("/"))
        os.makedirs(cwd, exist_ok=True)
    elif instr == "ENV":
        k, _, v = rest.partition("=")
        env[k] = v
    elif instr == "COPY":
        words = shlex.split(rest)
        srcs, dst = words[:-1], words[-1]
        dst = os.path.join(root, dst.lstrip("/")) if dst.startswith("/") else os.path.join(cwd, dst)
        for src in srcs:
            path = os.path.join(repo, src)
            if not os.path.exists(path):
                fail(f"COPY {src}: not in the repository")
            if not in_context(src):
                fail(f"COPY {src}: .dockerignore keeps it out of the build context")
            if os.path.isdir(path):
                shutil.copytree(path, dst, dirs_exist_ok=True)  # a directory's contents, as COPY does
            else:
                os.makedirs(dst if dst.endswith("/") else os.path.dirname(dst), exist_ok=True)
                shutil.copy2(path, dst)
        ok(f"COPY {rest}")
    elif instr == "RUN":
        print(f"containerfile-check: RUN {rest}   (in {os.path.relpath(cwd, root) or '.'})", flush=True)
        r = subprocess.run(["/bin/sh", "-c", rest], cwd=cwd, env=env)
        if r.returncode:
            fail(f"RUN {rest}: exit {r.returncode}")
        ok(f"RUN {rest}")
    elif instr in ("USER", "ENTRYPOINT", "CMD", "EXPOSE", "LABEL"):
        pass
    else:
        fail(f"builder instruction {instr} is not understood by this check")

# ---- the runtime stage ----
copies, user, entrypoint, packages, useradd = [], None, None, [], None
for instr, rest in runtime["steps"]:
    if instr == "COPY":
        words = shlex.split(rest)
        frm = [w for w in words if w.startswith("--from=")]
        words = [w for w in words if not w.startswith("--")]
        copies.append((frm[0].split("=", 1)[1] if frm else None, words[:-1], words[-1]))
    elif instr == "USER":
        user = rest
    elif instr == "ENTRYPOINT":
        entrypoint = json.loads(rest)
    elif instr == "RUN":
        for cmd in re.split(r"&&|;", rest):
            w = shlex.split(cmd)
            if w[:2] == ["apt-get", "install"]:
                packages += [x for x in w[2:] if not x.startswith("-")]
            if w and w[0] == "useradd":
                uid = w[w.index("--uid") + 1] if "--uid" in w else None
                useradd = (w[-1], uid)
binary = None
for frm, srcs, dst in copies:
    if frm != builder["name"]:
        fail(f"runtime COPY from {frm}: only the builder's output belongs in the image")
    for src in srcs:
        built = os.path.join(root, src.lstrip("/"))
        if not os.path.isfile(built):
            fail(f"COPY --from={frm} {src}: the builder produced no such file")
        binary = (built, dst)
ok(f"the builder produced {binary[0][len(root):]} ({os.path.getsize(binary[0]) / 1e6:.1f} MB), copied to {binary[1]}")
if entrypoint[0] != binary[1]:
    fail(f"ENTRYPOINT {entrypoint[0]} is not the copied binary {binary[1]}")

# The binary: stripped of debug info, libraries and glibc symbols the runtime image has.
sections = subprocess.run(["readelf", "-S", "-W", binary[0]], capture_output=True, text=True, check=True).stdout
if ".debug_info" in sections or ".debug_line" in sections:
    fail("the binary carries debug info ([profile.release] should strip it)")
ok("no debug info in the binary")
dynamic = subprocess.run(["readelf", "-d", "-W", binary[0]], capture_output=True, text=True, check=True).stdout
needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic)
allowed = {"libc.so.6", "libm.so.6", "libgcc_s.so.1", "ld-linux-x86-64.so.2", "libpthread.so.0", "libdl.so.2",
           "librt.so.1", "libutil.so.1", "ld-linux-aarch64.so.1"}
extra = [n for n in needed if n not in allowed]
if extra:
    fail(f"the binary needs {extra}, which {runtime['base']} does not have")
syms = subprocess.run(["readelf", "--dyn-syms", "-W", binary[0]], capture_output=True, text=True, check=True).stdout
glibc = max((tuple(int(x) for x in v.split(".")) for v in re.findall(r"GLIBC_([0-9.]+)", syms)), default=(0,))
if "bookworm" in runtime["base"] and glibc > (2, 36):
    fail(f"the binary needs glibc {'.'.join(map(str, glibc))}; bookworm has 2.36")
ok(f"needs only {', '.join(needed)}; glibc {'.'.join(map(str, glibc))} or later")

# CA certificates and a non-root user.
if "ca-certificates" not in packages:
    fail("the runtime stage does not install ca-certificates")
for p in packages:
    if subprocess.run(["apt-cache", "show", "--no-all-versions", p], capture_output=True).returncode:
        fail(f"apt knows no package {p}")
ok(f"runtime packages exist: {', '.join(packages)}")
if not user or not useradd:
    fail("the runtime stage must create a user and switch to it with USER")
name, uid = useradd
uid_of_user = user.split(":")[0]
if uid_of_user not in (name, uid) or uid_of_user in ("0", "root") or uid in (None, "0"):
    fail(f"USER {user} is not the non-root user {name} (uid {uid}) that useradd creates")
ok(f"USER {user}: the non-root user {name}, uid {uid}")

# Run it as that user, as the image would: empty environment, no capabilities.
exe = os.path.join(work, "image", binary[1].lstrip("/"))
os.makedirs(os.path.dirname(exe))
shutil.copy2(binary[0], exe)
os.chmod(exe, 0o755)
home = os.path.join(work, "home")
os.makedirs(home)
scan = os.path.join(work, "scan")
os.makedirs(scan)
shutil.copy2(os.path.join(repo, "testdata/fs/hello-signed.jar"), scan)
for d in (work, os.path.join(work, "image"), home, scan):
    os.chmod(d, 0o755)
as_user = []
if os.geteuid() == 0:
    if not shutil.which("setpriv"):
        fail("running as root without setpriv (util-linux): cannot switch to the image's user")
    os.chown(home, int(uid), int(uid))
    as_user = ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all"]
    who = f"uid {uid}"
else:
    who = f"uid {os.geteuid()} (not root already; cannot switch)"
run_env = {"HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin"}
v = subprocess.run(as_user + [exe, "--version"], capture_output=True, text=True, env=run_env)
if v.returncode:
    fail(f"sigaudit --version as {who}: exit {v.returncode}: {v.stderr.strip()}")
o = subprocess.run(as_user + [exe, "fs", scan, "-o", "json", "--at", "2024-01-01T00:00:00Z"],
                   capture_output=True, text=True, env=run_env)
try:
    files = json.loads(o.stdout)["files"]
except (ValueError, KeyError):
    fail(f"sigaudit fs as {who}: exit {o.returncode}, no JSON report: {o.stderr.strip()[:400]}")
if o.returncode or not files or not files[0]["signatures"]:
    fail(f"sigaudit fs as {who}: exit {o.returncode}, files {files}")
ok(f"runs as {who}: {v.stdout.strip()}; fs scan of a signed JAR: {files[0]['status']}")
print(f"containerfile-check: all {len(checks)} checks passed")
PY
