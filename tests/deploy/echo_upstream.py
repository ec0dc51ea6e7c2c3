#!/usr/bin/env python3
"""echo_upstream.py PORT LOGFILE: an HTTP/1.1 server on 127.0.0.1:PORT that
stands where the control plane sits behind nginx, so the deploy tests can see
exactly what nginx forwards (path, headers, body size) and what LiveKit posts
to the webhook URL. Every request is appended to LOGFILE as one JSON line
(method, path, headers, body as text) and answered 200 with that JSON.
It is a test instrument for nginx/LiveKit behaviour, not a daemon stand-in:
it implements none of the control plane's API."""
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        rec = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items()},
            "body_len": len(body),
            "body": body.decode("utf-8", "replace") if len(body) < 65536 else "",
        }
        line = json.dumps(rec)
        with open(LOG, "a") as f:
            f.write(line + "\n")
        out = line.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_OPTIONS = handle_any

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    LOG = sys.argv[2]
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    # nginx closes idle keep-alive connections with a reset: not an error here.
    server.handle_error = lambda request, address: None
    server.serve_forever()
