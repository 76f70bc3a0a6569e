#!/usr/bin/env python3
"""Replays a platform's listing API (Docker Hub, GHCR, GitLab, Quay, Harbor) on 127.0.0.1, for
the repositories and tags a real test registry holds.

No installable server emulates these APIs. The answers are the example objects of
testdata/listers/<platform>/ (written from each platform's published API reference; see its
PROVENANCE.md), copied once per repository, tag or artifact, with the identifying fields set to
what the registry holds (read at start over the registry protocol: catalog, tag lists, a HEAD
per tag for its digest), and paged the way the platform pages. Manifests and signatures are not
replayed: the scanner reads them from the registry itself.

usage: platform_api.py PLATFORM PORT REGISTRY NAMESPACE FIXTURES LOG [options]
  --page-size N         the server's page size (at most N items per page, whatever is asked)
  --trailing-empty-page a listing whose items fill its last page says there is one more, empty
  --foreign-next        the first repositories page points its next page at another host
  --rate-limit N        the first N requests answer 429 with Retry-After: 1
  --rate-limit-status S answer those with S instead (GitHub's 403 of a spent rate limit)
  --auth KIND:SECRET    bearer:TOKEN, private-token:TOKEN or basic:USER:PASSWORD; else 401
  --user                GHCR: the namespace is a user (the orgs endpoint answers 404)
  --null-digest TAG     Docker Hub: list TAG (in every repository) with "digest": null and no images
  --attack KIND         Docker Hub, a hostile platform: loop (the last repositories page's next is
                        page 2 again), duplicate (every repository and tag listed twice, a tag
                        also at a second, foreign digest), names (hostile repository names added
                        to page 1), not-json (the repositories page is HTML), huge (it is
                        17 MiB of JSON), ghost-digest (a tag
                        "ghost" the registry lacks, listed at a digest it does not hold),
                        bad-digest (every tag's digest is "sha256:xyz")
Every request is appended to LOG as "METHOD PATH?QUERY STATUS".
"""
import argparse, base64, copy, http.client, http.server, json, os, time, urllib.parse

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
])

p = argparse.ArgumentParser()
for a in ["platform", "port", "registry", "namespace", "fixtures", "log"]:
    p.add_argument(a)
p.add_argument("--page-size", type=int, default=100)
p.add_argument("--trailing-empty-page", action="store_true")
p.add_argument("--foreign-next", action="store_true")
p.add_argument("--rate-limit", type=int, default=0)
p.add_argument("--rate-limit-status", type=int, default=429)
p.add_argument("--auth")
p.add_argument("--user", action="store_true")
p.add_argument("--null-digest", action="append", default=[])
p.add_argument("--attack")
args = p.parse_args()
ns = args.namespace.strip("/")


def registry_get(method, path):
    c = http.client.HTTPConnection(args.registry, timeout=30)
    c.request(method, path, headers={"Accept": ACCEPT})
    r = c.getresponse()
    body = r.read()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), body


# What the registry holds under the namespace: {repo: [(tag, digest)]}, in catalog order.
catalog, page = [], "/v2/_catalog?n=100"
while page:
    status, headers, body = registry_get("GET", page)
    assert status == 200, body
    catalog += json.loads(body)["repositories"]
    link = headers.get("link", "")
    page = link[link.index("<") + 1:link.index(">")] if 'rel="next"' in link else None
repos = {}
for repo in catalog:
    if not repo.startswith(ns + "/"):
        continue
    status, _, body = registry_get("GET", f"/v2/{repo}/tags/list")
    tags = (json.loads(body).get("tags") or []) if status == 200 else []
    listed = []
    for t in sorted(tags):
        s, h, _ = registry_get("HEAD", f"/v2/{repo}/manifests/{t}")
        assert s == 200, (repo, t, s)
        listed.append((t, h["docker-content-digest"]))
    repos[repo] = listed


def fixture(name):
    with open(os.path.join(args.fixtures, args.platform, name)) as f:
        return json.load(f)


def by_digest(tags):
    out = {}
    for t, d in tags:
        out.setdefault(d, []).append(t)
    return out


requests_seen = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, obj=None, headers=()):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)
        with open(args.log, "a") as f:
            f.write(f"GET {self.path} {status}\n")

    def base(self):
        return f"http://127.0.0.1:{args.port}"

    def authorized(self):
        if not args.auth:
            return True
        kind, secret = args.auth.split(":", 1)
        if kind == "bearer":
            return self.headers.get("Authorization") == f"Bearer {secret}"
        if kind == "private-token":
            return self.headers.get("PRIVATE-TOKEN") == secret
        if kind == "basic":
            return self.headers.get("Authorization") == "Basic " + base64.b64encode(secret.encode()).decode()
        return False

    def page(self, items, number, size):
        """Items of page `number` (from 1), and whether another page follows."""
        size = max(1, min(size, args.page_size))
        start = (number - 1) * size
        chunk = items[start:start + size]
        more = start + size < len(items) or (args.trailing_empty_page and len(chunk) == size)
        return chunk, more, size

    def link(self, path, q, number, size, size_key="per_page"):
        q = dict(q)
        q["page"] = str(number + 1)
        q[size_key] = str(size)
        target = f"{self.base()}{path}?{urllib.parse.urlencode(q)}"
        if args.foreign_next and number == 1 and self.is_repo_listing:
            target = f"http://198.51.100.7{path}?{urllib.parse.urlencode(q)}"
        return f'<{target}>; rel="next"'

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(u.query))
        path = u.path
        requests_seen[0] += 1
        if requests_seen[0] <= args.rate_limit:
            # GitHub answers 403 (or 429) with x-ratelimit-remaining: 0 and the reset time.
            return self.reply(args.rate_limit_status, {"message": "API rate limit exceeded"},
                              [("Retry-After", "1"), ("X-RateLimit-Remaining", "0"),
                               ("X-RateLimit-Reset", str(int(time.time()) + 1))])
        if not self.authorized():
            return self.reply(401, {"message": "Requires authentication"})
        number = int(q.get("page", "1"))
        self.is_repo_listing = False
        getattr(self, "serve_" + args.platform.replace("-", "_"))(path, q, number)

    # Docker Hub: {"count", "next", "previous", "results"}, next an absolute URL.
    def serve_docker_hub(self, path, q, number):
        prefix = f"/v2/namespaces/{ns}/repositories/"
        if path.startswith(prefix) and path.endswith("/tags"):
            return self.docker_hub_tags(path, q, number, f"{ns}/{urllib.parse.unquote(path[len(prefix):-5])}")
        if path != f"/v2/namespaces/{ns}/repositories":
            return self.reply(404, {"message": "object not found"})
        self.is_repo_listing = True
        if args.attack in ("not-json", "huge"):
            body = b"<html><body>Service Unavailable</body></html>"
            if args.attack == "huge":  # a JSON page of 17 MiB, past the lister's 16 MiB cap
                body = b'{"count": 1, "next": null, "results": []' + b" " * (17 << 20) + b"}"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            with open(args.log, "a") as f:
                f.write(f"GET {self.path} 200\n")
            return
        names = list(repos)
        if args.attack == "duplicate":
            names = [n for n in names for _ in (0, 1)]
        chunk, more, size = self.page(names, number, int(q.get("page_size", "10")))
        doc = fixture("repositories-page.json")
        example = doc["results"][0]
        results = []
        for r in chunk:
            item = copy.deepcopy(example)
            item["namespace"], item["name"] = r.split("/", 1)
            results.append(item)
        if args.attack == "names" and number == 1:
            for namespace, name in [(ns, "../other"), (ns, "a%2Fb"), (ns, "x\u0001y"), (ns, "UPPER"),
                                    ("other", "web"), (ns, "web/../../v2/other")]:
                item = copy.deepcopy(example)
                item["namespace"], item["name"] = namespace, name
                results.append(item)
        doc["results"], doc["count"] = results, len(names)
        doc["next"] = None
        if more:
            host = "http://198.51.100.7" if args.foreign_next and number == 1 else self.base()
            doc["next"] = f"{host}{path}?page={number + 1}&page_size={size}"
        elif args.attack == "loop":
            doc["next"] = f"{self.base()}{path}?page=2&page_size={size}"
        doc["previous"] = None if number == 1 else f"{self.base()}{path}?page={number - 1}&page_size={size}"
        self.reply(200, doc)

    def docker_hub_tags(self, path, q, number, repo):
        if repo not in repos:
            return self.reply(404, {"message": "object not found"})
        listed = list(repos[repo])
        if args.attack == "ghost-digest":
            listed.append(("ghost", "sha256:" + "0" * 64))
        if args.attack == "duplicate":
            listed = [t for t in listed for _ in (0, 1)]
            if listed:
                listed.append((listed[0][0], "sha256:" + "1" * 64))
        chunk, more, size = self.page(listed, number, int(q.get("page_size", "10")))
        doc = fixture("tags-page.json")
        example = doc["results"][0]
        results = []
        for t, d in chunk:
            item = copy.deepcopy(example)
            item["name"] = t
            item["digest"] = "sha256:xyz" if args.attack == "bad-digest" else d
            if t in args.null_digest:
                item["digest"], item["images"] = None, []
            else:
                item["images"][0]["digest"] = item["digest"]
            results.append(item)
        doc["results"], doc["count"] = results, len(listed)
        doc["next"] = f"{self.base()}{path}?page={number + 1}&page_size={size}" if more else None
        doc["previous"] = None if number == 1 else f"{self.base()}{path}?page={number - 1}&page_size={size}"
        self.reply(200, doc)

    # GHCR (GitHub REST): arrays, paged by Link.
    def serve_ghcr(self, path, q, number):
        kind = "users" if args.user else "orgs"
        prefix = f"/{kind}/{ns}/packages"
        if not path.startswith(prefix):
            return self.reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        rest = path[len(prefix):]
        if rest == "":
            self.is_repo_listing = True
            names = [r[len(ns) + 1:] for r in repos]
            chunk, more, size = self.page(names, number, int(q.get("per_page", "30")))
            out = []
            for n in chunk:
                item = copy.deepcopy(fixture("package.json"))
                item["name"], item["owner"]["login"] = n, ns
                item["owner"]["type"] = "User" if args.user else "Organization"
                out.append(item)
            headers = [("Link", self.link(path, q, number, size))] if more else []
            return self.reply(200, out, headers)
        package = urllib.parse.unquote(rest.removeprefix("/container/").removesuffix("/versions"))
        repo = f"{ns}/{package}"
        if repo not in repos or not rest.endswith("/versions"):
            return self.reply(404, {"message": "Package not found."})
        versions = list(by_digest(repos[repo]).items())
        chunk, more, size = self.page(versions, number, int(q.get("per_page", "30")))
        out = []
        for i, (d, tags) in enumerate(chunk):
            item = copy.deepcopy(fixture("version.json"))
            item["id"], item["name"] = 1000 + i, d
            item["metadata"]["container"]["tags"] = tags
            out.append(item)
        headers = [("Link", self.link(path, q, number, size))] if more else []
        self.reply(200, out, headers)

    # GitLab: arrays, paged by Link and X-Next-Page (and X-Page, X-Per-Page, X-Total).
    def serve_gitlab(self, path, q, number):
        if path != f"/api/v4/groups/{urllib.parse.quote(ns, safe='')}/registry/repositories":
            return self.reply(404, {"message": "404 Group Not Found"})
        self.is_repo_listing = True
        names = list(repos)
        chunk, more, size = self.page(names, number, int(q.get("per_page", "20")))
        out = []
        for i, r in enumerate(chunk):
            item = copy.deepcopy(fixture("repository.json"))
            item["id"], item["path"], item["name"] = 100 + (number - 1) * size + i, r, r.split("/", 1)[1]
            item["location"] = f"{args.registry}/{r}"
            out.append(item)
        headers = [("X-Page", str(number)), ("X-Per-Page", str(size)), ("X-Total", str(len(names))),
                   ("X-Next-Page", str(number + 1) if more else "")]
        if more:
            headers.append(("Link", self.link(path, q, number, size)))
        self.reply(200, out, headers)

    # Quay: {"repositories", "next_page"} (an opaque token); tags {"tags", "page", "has_additional"}.
    def serve_quay(self, path, q, number):
        if path == "/api/v1/repository":
            self.is_repo_listing = True
            if q.get("namespace") != ns:
                return self.reply(200, {"repositories": []})
            names = list(repos)
            token = q.get("next_page")
            number = 1 if token is None else int(base64.b64decode(token)) + 1
            chunk, more, _ = self.page(names, number, args.page_size)
            doc = fixture("repositories-page.json")
            example = doc["repositories"][0]
            doc["repositories"] = []
            for r in chunk:
                item = copy.deepcopy(example)
                item["namespace"], item["name"] = r.split("/", 1)
                doc["repositories"].append(item)
            doc.pop("next_page", None)
            if more:
                doc["next_page"] = base64.b64encode(str(number).encode()).decode()
            if more and args.foreign_next and number == 1:
                # Quay's next page is a token, not a URL: nothing to point elsewhere.
                pass
            return self.reply(200, doc)
        prefix = f"/api/v1/repository/{ns}/"
        if path.startswith(prefix) and path.endswith("/tag/"):
            repo = f"{ns}/{urllib.parse.unquote(path[len(prefix):-len('/tag/')])}"
            if repo not in repos:
                return self.reply(404, {"detail": "Not Found", "status": 404})
            chunk, more, _ = self.page(repos[repo], number, int(q.get("limit", "50")))
            doc = fixture("tags-page.json")
            example = doc["tags"][0]
            doc["tags"] = []
            for t, d in chunk:
                item = copy.deepcopy(example)
                item["name"], item["manifest_digest"] = t, d
                doc["tags"].append(item)
            doc["page"], doc["has_additional"] = number, more
            return self.reply(200, doc)
        self.reply(404, {"detail": "Not Found", "status": 404})

    # Harbor: arrays, paged by Link, X-Total-Count.
    def serve_harbor(self, path, q, number):
        prefix = f"/api/v2.0/projects/{ns}/repositories"
        if path == prefix:
            self.is_repo_listing = True
            names = list(repos)
            chunk, more, size = self.page(names, number, int(q.get("page_size", "10")))
            out = []
            for i, r in enumerate(chunk):
                item = copy.deepcopy(fixture("repository.json"))
                item["name"], item["id"], item["artifact_count"] = r, 10 + i, len(by_digest(repos[r]))
                out.append(item)
            headers = [("X-Total-Count", str(len(names)))]
            if more:
                headers.append(("Link", self.link(path, q, number, size, "page_size")))
            return self.reply(200, out, headers)
        if path.startswith(prefix + "/") and path.endswith("/artifacts"):
            # The repository name without the project, its `/` encoded twice.
            name = urllib.parse.unquote(urllib.parse.unquote(path[len(prefix) + 1:-len("/artifacts")]))
            repo = f"{ns}/{name}"
            if repo not in repos:
                return self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "repository not found"}]})
            artifacts = list(by_digest(repos[repo]).items())
            chunk, more, size = self.page(artifacts, number, int(q.get("page_size", "10")))
            out = []
            for i, (d, tags) in enumerate(chunk):
                item = copy.deepcopy(fixture("artifact.json"))
                item["digest"], item["id"] = d, 100 + i
                example_tag = item["tags"][0]
                item["tags"] = [dict(example_tag, name=t, artifact_id=100 + i) for t in tags]
                out.append(item)
            headers = [("X-Total-Count", str(len(artifacts)))]
            if more:
                headers.append(("Link", self.link(path, q, number, size, "page_size")))
            return self.reply(200, out, headers)
        self.reply(404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]})


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(args.port)), Handler)
with open(args.log, "a") as f:
    f.write("READY\n")
server.serve_forever()
