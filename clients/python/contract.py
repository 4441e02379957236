"""The onshape-mock runner's client contract, shared by the Python library adapters.

Only the glue that is not the OAuth library's job: read the environment (HTTP_TIMEOUT, for
each adapter to hand to its library's own timeout option), receive the
redirect (a one-shot listener on ONSHAPE_REDIRECT_URI, or one stdin line for the OOB URN),
the ONSHAPE_API_CALLS list, and `main(run)`: exit 0 on success, 1 with a message on stderr
on any exception. Nothing here prints a secret, code or token.
"""

import http.server
import json
import os
import queue
import re
import sys
import threading
import urllib.parse
import webbrowser

OOB = "urn:ietf:wg:oauth:2.0:oob"
WAIT = 25  # seconds to wait for the callback or the stdin line

OAUTH_URL = os.environ.get("ONSHAPE_OAUTH_URL", "").rstrip("/")
API_URL = os.environ.get("ONSHAPE_API_URL", "").rstrip("/")
CLIENT_ID = os.environ.get("ONSHAPE_CLIENT_ID")
CLIENT_SECRET = os.environ.get("ONSHAPE_CLIENT_SECRET")
REDIRECT_URI = os.environ.get("ONSHAPE_REDIRECT_URI")
SCOPE = os.environ.get("ONSHAPE_SCOPE") or None  # space-separated; None: send no scope
COMPANY_ID = os.environ.get("ONSHAPE_COMPANY_ID") or None
HTTP_TIMEOUT = float(os.environ.get("ONSHAPE_HTTP_TIMEOUT") or 10)  # seconds, per HTTP answer
AUTHORIZE_URL = OAUTH_URL + "/oauth/authorize"
TOKEN_URL = OAUTH_URL + "/oauth/token"


def extra_authorize_params():
    """company_id for the authorization URL, when the runner gives one."""
    return {"company_id": COMPANY_ID} if COMPANY_ID else {}


def calls():
    """ONSHAPE_API_CALLS as (method, path, json_body or None); a POST's body is the one
    ONSHAPE_API_BODIES gives for it (a JSON object by `METHOD PATH`), else {"name": ...}."""
    bodies = json.loads(os.environ.get("ONSHAPE_API_BODIES") or "{}")
    out = []
    for item in (os.environ.get("ONSHAPE_API_CALLS") or "").split(";"):
        method, _, path = item.strip().partition(" ")
        if method:
            method, path = method.upper(), path.strip()
            default = {"name": "conformance"} if method == "POST" else None
            out.append((method, path, bodies.get(f"{method} {path}", default)))
    return out


def _listen(port, path):
    """Serve 127.0.0.1:port until one GET reaches `path`; queue its path?query."""
    got = queue.Queue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            ours = urllib.parse.urlsplit(self.path).path == path
            page = b"<!doctype html><title>Done</title><p>You can close this window.</p>"
            self.send_response(200 if ours else 404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            if ours:
                got.put(self.path)

        def log_message(self, *args):  # the request line carries the code: never log it
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, got


def authorize(url):
    """Open `url` in the browser ($BROWSER) and wait for the answer.

    Returns the keyword argument for the library's token call:
    {"authorization_response": full callback URL} or, for OOB, {"code": code}.
    """
    if REDIRECT_URI == OOB:
        webbrowser.open(url)
        line = sys.stdin.readline()
        if not line:
            raise RuntimeError("standard input closed before a code arrived: authorization denied")
        line = line.strip()
        return {"code": line.split("code=", 1)[1] if "code=" in line else line}
    parts = urllib.parse.urlsplit(REDIRECT_URI)
    server, got = _listen(parts.port or 80, parts.path or "/")
    try:
        webbrowser.open(url)
        try:
            path = got.get(timeout=WAIT)
        except queue.Empty:
            raise RuntimeError(f"no callback to {REDIRECT_URI} within {WAIT} s") from None
    finally:
        server.shutdown()
        server.server_close()
    return {"authorization_response": f"{parts.scheme}://{parts.netloc}{path}"}


def report(method, path, status):
    print(f"{method} {path} -> {status}", flush=True)
    if not 200 <= status < 300:
        raise RuntimeError(f"{method} {path} answered HTTP {status}")


_SECRETS = re.compile(r"((?:code|access_token|refresh_token|client_secret)=)[^&\s'\"]+")


def describe(exc):
    """One line: the exception and its causes, with secrets masked."""
    parts = []
    while exc is not None and len(parts) < 4:
        parts.append(f"{type(exc).__name__}: {exc}")
        exc = exc.__cause__ or exc.__context__
    text = _SECRETS.sub(r"\1…", " <- ".join(parts))
    for secret in (CLIENT_SECRET, os.environ.get("ONSHAPE_SECRET_KEY")):
        if secret:
            text = text.replace(secret, "…")
    return text


def main(run):
    try:
        run()
    except BaseException as e:  # noqa: BLE001 - any failure: message and exit 1
        if isinstance(e, SystemExit) and e.code in (0, None):
            raise
        print("error: " + describe(e), file=sys.stderr, flush=True)
        sys.exit(1)
    sys.exit(0)
