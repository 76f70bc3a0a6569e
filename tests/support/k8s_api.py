#!/usr/bin/env python3
"""A loopback stand-in for the Kubernetes API server, for tests/cluster.rs.

No Kubernetes API server can run on the test machines (it needs etcd, a container runtime and
nodes), so this replays the few read-only paths `sigaudit cluster` calls, over HTTPS (Python's
ssl with an openssl-made certificate), with the answers shaped as the API serves them:

- GET /api/v1/pods and /api/v1/namespaces/NS/pods: a PodList (kind, apiVersion,
  metadata.resourceVersion/continue/remainingItemCount, items), paged with `limit` and
  `continue` as the API server pages (an opaque token; the last page has none), filtered by
  `labelSelector` (equality-based: `k=v`, `k==v`, `k!=v`, `k`, `!k`, comma-separated);
- any other GET: the object stored under that path in OBJECTS (a JSON file: path -> object),
  else a 404 `Status`; an entry `{"forbidden": MESSAGE}` answers a 403 `Status`, as RBAC does;
- every request must carry `Authorization: Bearer TOKEN`, or come over a connection whose client
  certificate chains to CLIENT_CA (when given), else a 401 `Status`, as the API server answers
  an unknown token.

Each request line is appended to LOG (method, path and query), for the test to see the paging.

usage: k8s_api.py PORT CERT KEY TOKEN PODS OBJECTS LOG [CLIENT_CA]
"""

import base64
import http.server
import json
import ssl
import sys
import urllib.parse

PORT, CERT, KEY, TOKEN, PODS, OBJECTS, LOG = sys.argv[1:8]
CLIENT_CA = sys.argv[8] if len(sys.argv) > 8 else None
with open(PODS) as f:
    ALL_PODS = json.load(f)["items"]
with open(OBJECTS) as f:
    STORED = json.load(f)


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def selects(selector, labels):
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.replace("==", "=").split("=", 1)
            if labels.get(k.strip()) != v.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(LOG, "a") as log:
            log.write("GET " + self.path + "\n")
        # A client certificate the TLS layer verified against CLIENT_CA authenticates as well.
        by_cert = CLIENT_CA is not None and bool(self.connection.getpeercert())
        if not by_cert and self.headers.get("Authorization") != "Bearer " + TOKEN:
            return self.answer(401, status(401, "Unauthorized", "Unauthorized"))
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        parts = url.path.strip("/").split("/")
        namespace = None
        if parts == ["api", "v1", "pods"]:
            pass
        elif len(parts) == 5 and parts[:3] == ["api", "v1", "namespaces"] and parts[4] == "pods":
            namespace = parts[3]
        else:
            obj = STORED.get(url.path)
            if obj is None:
                return self.answer(404, status(404, "NotFound", "%s not found" % url.path))
            if "forbidden" in obj:
                # RBAC said no, in the API server's words.
                return self.answer(403, status(403, "Forbidden", obj["forbidden"]))
            return self.answer(200, obj)
        pods = [p for p in ALL_PODS if namespace is None or p["metadata"]["namespace"] == namespace]
        selector = query.get("labelSelector", [""])[0]
        pods = [p for p in pods if selects(selector, p["metadata"].get("labels", {}))]
        start = 0
        if "continue" in query:
            try:
                start = int(base64.urlsafe_b64decode(query["continue"][0]).decode().split(":")[1])
            except Exception:
                return self.answer(410, status(410, "Expired", "The provided continue parameter is too old"))
        limit = int(query.get("limit", ["0"])[0]) or len(pods) or 1
        page = pods[start:start + limit]
        meta = {"resourceVersion": "40123"}
        if start + limit < len(pods):
            meta["continue"] = base64.urlsafe_b64encode(("40123:%d" % (start + limit)).encode()).decode()
            meta["remainingItemCount"] = len(pods) - start - limit
        items = [dict(p) for p in page]
        for p in items:
            # The API server's list items carry no kind or apiVersion (kubectl adds them).
            p.pop("kind", None)
            p.pop("apiVersion", None)
        self.answer(200, {"kind": "PodList", "apiVersion": "v1", "metadata": meta, "items": items})


server = http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(CERT, KEY)
if CLIENT_CA:
    context.verify_mode = ssl.CERT_OPTIONAL
    context.load_verify_locations(CLIENT_CA)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
