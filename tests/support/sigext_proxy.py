#!/usr/bin/env python3
"""A registry with the signature extension, for tests: no registry that Debian packages implements
containers/image's signature extension (OpenShift's integrated registry does), so this small
loopback server replays it from its published format in front of a real registry.

Every request is forwarded to the real registry (docker-registry on 127.0.0.1) unchanged; the
answer to `GET /v2/` gains `X-Registry-Supports-Signatures: 1`, and
`GET /extensions/v2/<name>/signatures/<digest>` answers, as containers/image
(docker/docker_image_src.go, `extensionSignatureList`) reads it:
`{"signatures": [{"schemaVersion": 2, "name": "<digest>@<id>", "type": "atomic", "content": <base64>}]}`
with the files `<store>/<name>@<algo>=<hex>/signature-<n>` (the lookaside layout), and
`PUT` on the same path (one signature per request, as skopeo writes them through the extension)
adds the next file.

usage: sigext_proxy.py LISTEN_PORT UPSTREAM(127.0.0.1:PORT) STORE_DIR
"""

import base64
import http.client
import http.server
import json
import os
import re
import sys

PORT, UPSTREAM, STORE = int(sys.argv[1]), sys.argv[2], sys.argv[3]
assert UPSTREAM.startswith("127.0.0.1:")
EXT = re.compile(r"^/extensions/v2/(?P<name>.+)/signatures/(?P<algo>[a-z0-9]+):(?P<hex>[a-f0-9]+)$")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, headers, body):
        self.send_response(status)
        for k, v in headers:
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
        # Every header line as sent (clients send Accept several times).
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", UPSTREAM)
        for k, v in self.headers.items():
            if k.lower() not in ("host", "connection", "content-length"):
                conn.putheader(k, v)
        conn.putheader("Content-Length", str(len(body or b"")))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        out = [(k, v.replace(f"http://{UPSTREAM}", f"http://127.0.0.1:{PORT}")) for k, v in r.getheaders()]
        if self.path.rstrip("/") == "/v2":
            out.append(("X-Registry-Supports-Signatures", "1"))
        self.reply(r.status, out, data)

    def do_GET(self):
        m = EXT.match(self.path)
        if not m:
            return self.forward()
        d = os.path.join(STORE, f"{m['name']}@{m['algo']}={m['hex']}")
        sigs = []
        n = 1
        while os.path.exists(os.path.join(d, f"signature-{n}")):
            content = open(os.path.join(d, f"signature-{n}"), "rb").read()
            sigs.append({"schemaVersion": 2, "name": f"{m['algo']}:{m['hex']}@sig{n}", "type": "atomic",
                         "content": base64.b64encode(content).decode()})
            n += 1
        body = json.dumps({"signatures": sigs}).encode()
        self.reply(200, [("Content-Type", "application/json")], body)

    def do_PUT(self):
        # containers/image writes one signature per PUT (putSignaturesToAPIExtension):
        # {"schemaVersion": 2, "name": ..., "type": "atomic", "content": base64}.
        m = EXT.match(self.path)
        if not m:
            return self.forward()
        length = int(self.headers.get("Content-Length") or 0)
        sig = json.loads(self.rfile.read(length))
        d = os.path.join(STORE, f"{m['name']}@{m['algo']}={m['hex']}")
        os.makedirs(d, exist_ok=True)
        n = 1
        while os.path.exists(os.path.join(d, f"signature-{n}")):
            n += 1
        with open(os.path.join(d, f"signature-{n}"), "wb") as f:
            f.write(base64.b64decode(sig["content"]))
        self.reply(201, [], b"")

    do_HEAD = forward
    do_POST = forward
    do_PATCH = forward
    do_DELETE = forward


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
