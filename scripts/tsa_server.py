#!/usr/bin/env python3
"""An RFC 3161 time-stamp authority on 127.0.0.1 for fixture generation: each POSTed
TimeStampReq is answered by `openssl ts -reply` with the given TSA certificate and key.
usage: tsa_server.py PORT DIR   (DIR holds tsa.cnf, tsa.crt, tsa.key, root.crt)"""
import http.server, os, subprocess, sys, tempfile

port, d = int(sys.argv[1]), sys.argv[2]


class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def do_POST(self):
        req = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with tempfile.TemporaryDirectory() as t:
            q, r = os.path.join(t, "q"), os.path.join(t, "r")
            open(q, "wb").write(req)
            subprocess.run(["openssl", "ts", "-reply", "-config", os.path.join(d, "tsa.cnf"), "-queryfile", q,
                            "-signer", os.path.join(d, "tsa.crt"), "-inkey", os.path.join(d, "tsa.key"),
                            "-chain", os.path.join(d, "root.crt"), "-out", r], check=True, capture_output=True)
            body = open(r, "rb").read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
