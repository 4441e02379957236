#!/usr/bin/env python3
"""Reference OAuth 2.0 client for the onshape-mock conformance runner.

Standard library only (Python 3.11). It does what Onshape's OAuth guide asks of an installed
desktop application:

  1. listen on the localhost redirect URI (or read the code from stdin for
     `urn:ietf:wg:oauth:2.0:oob`), send the browser to GET /oauth/authorize with every value
     URL-encoded (the client id's trailing `=` as %3D) and a random `state`;
  2. check the callback's `state`, stop on `error=`;
  3. POST /oauth/token with a form body, `redirect_uri` repeated; re-authorize once if the
     code expired;
  4. call the API with `Authorization: Bearer`, refresh once on 401 (storing the rotated
     refresh token), honour `Retry-After` on 429/503 (at most 3 attempts), stop on anything
     else.

`--pitfall NAME` switches on exactly one documented mistake, so the runner can check that it
notices it. Configuration comes from the environment (ONSHAPE_OAUTH_URL, ONSHAPE_API_URL,
ONSHAPE_CLIENT_ID, ONSHAPE_CLIENT_SECRET, ONSHAPE_REDIRECT_URI, ONSHAPE_SCOPE,
ONSHAPE_COMPANY_ID, ONSHAPE_API_CALLS, BROWSER, ONSHAPE_DEBUG).

Exit status: 0 when every API call succeeded, 1 on any failure, 2 on bad usage.
"""

import argparse
from http import server as http_server
import json
import os
import queue
import secrets
import subprocess
import sys
import threading
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

HTTP_TIMEOUT = 10  # seconds, every HTTP call
CALLBACK_WAIT = 25  # seconds to wait for the callback / the stdin line
MAX_ATTEMPTS = 3  # per request, counting retries after 429/503
MAX_RETRY_AFTER = 30  # never sleep longer than this for one Retry-After
REFRESH_LOOP_LIMIT = 20
OOB = "urn:ietf:wg:oauth:2.0:oob"

PITFALLS = {
    "token-get": "token requests as GET with the parameters in the query string",
    "query-params": "POST /oauth/token with the parameters in the query string, empty body",
    "json-body": "POST /oauth/token with a JSON body",
    "unencoded-client-id": "the client id's trailing `=` sent raw",
    "no-redirect-uri": "redirect_uri omitted from the token request",
    "no-state-check": "the callback's state is not compared with the issued one",
    "code-reuse": "the authorization code is redeemed a second time",
    "no-refresh": "no refresh on 401 from the API",
    "no-rotation": "every refresh uses the first refresh token",
    "refresh-loop": "a failed refresh is retried again and again",
    "token-in-query": "the access token sent as ?access_token= in the API URL",
    "secret-in-url": "client_secret added to the authorization URL",
    "token-at-api-host": "token requests sent to the API host",
    "no-state": "no state parameter at all",
    "ignore-retry-after": "429/503 retried at once, without waiting",
    "authorize-post": "the authorization request POSTed by the client instead of a browser GET",
    "wrong-redirect-uri": "a trailing slash added to the redirect URI sent to /oauth/authorize",
    "retry-expired-code": "an expired code redeemed again instead of authorizing again",
    "ignore-denial": "error=access_denied treated as nothing to do: exit 0",
    "legacy-scopes": "scope=Read Write (the guide's old names) instead of OAuth2Read...",
    "ignore-company": "ONSHAPE_COMPANY_ID never sent as company_id",
    "token-outside-api": "the bearer token sent to a web path (the first call without /api)",
    "ignore-scope": "ONSHAPE_SCOPE never sent: every registered scope is granted",
    "wrong-secret": "a client secret with one character changed",
    "refresh-on-403": "a 403 from the API answered with a refresh and a retry, again and again",
    "print-tokens": "the token response printed on stdout, tokens and all",
    "log-callback": "the callback's query (its code) logged on stderr",
}


class Failure(Exception):
    """A failure explained to the user; main prints it and exits 1."""


def debug_enabled():
    return bool(os.environ.get("ONSHAPE_DEBUG"))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def dlog(msg):
    if debug_enabled():
        log("debug: " + msg)


def mask(value):
    """A secret or token shortened so that it can be printed."""
    if not value:
        return "<empty>"
    if len(value) <= 8:
        return "****"
    return f"{value[:4]}…({len(value)} chars)"


class Redactor:
    """Replaces every known secret (raw and percent-encoded) in text that is about to be printed."""

    def __init__(self):
        self._secrets = set()

    def add(self, value):
        if value and len(value) >= 6:
            self._secrets.add(value)

    def __call__(self, text):
        for s in sorted(self._secrets, key=len, reverse=True):
            for form in {s, urllib.parse.quote(s, safe=""), urllib.parse.quote_plus(s, safe="")}:
                if form in text:
                    text = text.replace(form, mask(s))
        return text


REDACT = Redactor()


def enc(pairs):
    """URL-encode name/value pairs: every reserved character escaped (`=` → %3D, space → %20)."""
    return urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)


# ----- HTTP ------------------------------------------------------------------------------------


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def text(self):
        return self.body.decode("utf-8", errors="replace")

    def json(self):
        try:
            value = json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None
        return value

    def describe(self, limit=2000):
        text = self.text().strip()
        if len(text) > limit:
            text = text[:limit] + "…"
        return REDACT(f"HTTP {self.status}: {text}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """The token endpoint is never redirected to: a 3xx there is an answer to show."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_PLAIN_OPENER = urllib.request.build_opener()
_NO_REDIRECT_OPENER = urllib.request.build_opener(_NoRedirect)


def http_request(method, url, body=None, headers=None, follow_redirects=True):
    """One HTTP exchange; any status is returned, network errors raise Failure."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = _PLAIN_OPENER if follow_redirects else _NO_REDIRECT_OPENER
    dlog(REDACT(f"{method} {url}"))
    try:
        with opener.open(req, timeout=HTTP_TIMEOUT) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as e:
        try:
            data = e.read()
        except Exception:  # noqa: BLE001 - a broken error body is still an answer
            data = b""
        return Response(e.code, e.headers, data)
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise Failure(REDACT(f"{method} {url.split('?')[0]} failed: {reason}")) from e


def retry_after_seconds(resp):
    raw = (resp.headers.get("Retry-After") if resp.headers else None) or ""
    try:
        secs = float(raw.strip())
    except ValueError:
        secs = 1.0
    if secs != secs or secs < 0:  # NaN or negative
        secs = 1.0
    return min(secs, MAX_RETRY_AFTER)


def with_retries(send, what, pitfall):
    """Call send() until it answers something other than 429/503, at most MAX_ATTEMPTS times."""
    attempt = 1
    while True:
        resp = send()
        if resp.status not in (429, 503) or attempt >= MAX_ATTEMPTS:
            return resp
        wait = retry_after_seconds(resp)
        if pitfall == "ignore-retry-after":
            log(f"{what}: HTTP {resp.status}; retrying at once")
        else:
            log(f"{what}: HTTP {resp.status}; waiting {wait:g} s (Retry-After) before retrying")
            time.sleep(wait)
        attempt += 1


# ----- the redirect: localhost listener or stdin -------------------------------------------


class CallbackListener:
    """A tiny HTTP server on 127.0.0.1:PORT that queues the query of each GET to the callback path."""

    def __init__(self, port, path):
        self.path = path or "/"
        self.results = queue.Queue()
        listener = self

        class Handler(http_server.BaseHTTPRequestHandler):
            server_version = "reference-client"

            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urllib.parse.urlsplit(self.path)
                if (parts.path or "/") != listener.path:
                    self._answer(404, "Not found", "This is not the OAuth callback.")
                    return
                params = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
                flat = {k: v[0] for k, v in params.items()}
                # Queued before answering: once the browser has its answer it may send the
                # next callback, which must not overtake this one.
                listener.results.put(flat)
                if "error" in flat:
                    self._answer(200, "Authorization failed",
                                 "The authorization was not granted. You can close this window.")
                else:
                    self._answer(200, "Authorization received",
                                 "You can close this window and return to the application.")

            def _answer(self, status, title, text):
                page = (f"<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>"
                        f"</head><body><h1>{title}</h1><p>{text}</p></body></html>").encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, fmt, *args):
                if debug_enabled():  # the path only: the query carries the code
                    path = urllib.parse.urlsplit(getattr(self, "path", "") or "").path
                    log(f"debug: callback listener: {getattr(self, 'command', '?')} {path}")

        class Server(http_server.ThreadingHTTPServer):
            allow_reuse_address = True
            daemon_threads = True

        try:
            self.server = Server(("127.0.0.1", port), Handler)
        except OSError as e:
            raise Failure(f"cannot listen on 127.0.0.1:{port} for the redirect URI: {e}") from e
        # A short poll interval: shutdown() waits for the serve loop to notice.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def drain(self):
        while True:
            try:
                self.results.get_nowait()
            except queue.Empty:
                return

    def wait(self, timeout):
        try:
            return self.results.get(timeout=timeout)
        except queue.Empty:
            return None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class StdinReader:
    """Reads standard input line by line in the background (OOB: one code per line)."""

    def __init__(self):
        self.lines = queue.Queue()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            for line in sys.stdin:
                self.lines.put(line)
        except Exception:  # noqa: BLE001 - a closed stdin ends the input
            pass
        self.lines.put(None)

    def wait(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ""


def parse_oob_line(line):
    """A code pasted from the OOB page: the bare code, `Success code=…`, or a query string."""
    text = line.strip()
    if text.startswith("Error description="):
        return {"error": text[len("Error description="):] or "error"}
    if text.startswith("Success code="):
        return {"code": text[len("Success code="):].strip()}
    if "code=" in text or "error=" in text:
        query = text.split("?", 1)[1] if "?" in text else text
        params = urllib.parse.parse_qs(query, keep_blank_values=True)
        flat = {k: v[0] for k, v in params.items()}
        if "code" in flat or "error" in flat:
            return flat
    return {"code": text}


# ----- the client ------------------------------------------------------------------------------


class Config:
    def __init__(self, env):
        def need(name):
            value = env.get(name)
            if not value:
                raise Failure(f"environment variable {name} is not set")
            return value

        self.oauth_url = need("ONSHAPE_OAUTH_URL").rstrip("/")
        self.api_url = need("ONSHAPE_API_URL").rstrip("/")
        self.client_id = need("ONSHAPE_CLIENT_ID")
        self.client_secret = need("ONSHAPE_CLIENT_SECRET")
        self.redirect_uri = need("ONSHAPE_REDIRECT_URI")
        self.scope = env.get("ONSHAPE_SCOPE")
        self.company_id = env.get("ONSHAPE_COMPANY_ID")
        self.browser = env.get("BROWSER")
        self.calls = []
        for item in (env.get("ONSHAPE_API_CALLS") or "").split(";"):
            item = item.strip()
            if not item:
                continue
            method, _, path = item.partition(" ")
            path = path.strip()
            if not path:
                raise Failure(f"ONSHAPE_API_CALLS: `{item}` is not `METHOD PATH`")
            if not path.startswith("/"):
                path = "/" + path
            self.calls.append((method.upper(), path))


class Client:
    def __init__(self, config, pitfall):
        self.cfg = config
        self.pitfall = pitfall
        self.access_token = None
        self.refresh_token = None
        self.first_refresh_token = None
        self.listener = None
        self.stdin = None
        REDACT.add(config.client_secret)
        if pitfall == "wrong-secret":
            # One character changed (A<->B), so the secret keeps its shape and its `=`.
            first = config.client_secret[0]
            config.client_secret = ("B" if first == "A" else "A") + config.client_secret[1:]
            REDACT.add(config.client_secret)
        if config.redirect_uri == OOB:
            self.mode = "oob"
        else:
            parts = urllib.parse.urlsplit(config.redirect_uri)
            host = (parts.hostname or "").lower()
            if parts.scheme != "http" or host not in ("localhost", "127.0.0.1"):
                raise Failure(
                    f"ONSHAPE_REDIRECT_URI {config.redirect_uri!r}: this desktop client needs "
                    f"http://localhost:PORT/... or {OOB}")
            try:
                port = parts.port or 80
            except ValueError as e:
                raise Failure(f"ONSHAPE_REDIRECT_URI has a bad port: {e}") from e
            self.mode = "localhost"
            self.redirect_port = port
            self.redirect_path = parts.path or "/"

    # -- tokens kept, never printed

    def _store_tokens(self, body):
        access = body.get("access_token")
        if not isinstance(access, str) or not access:
            raise Failure("the token endpoint answered 2xx without an access_token")
        self.access_token = access
        REDACT.add(access)
        refresh = body.get("refresh_token")
        if self.pitfall == "print-tokens":
            print(f"token response: {json.dumps(body)}", flush=True)
        if isinstance(refresh, str) and refresh:
            REDACT.add(refresh)
            if self.first_refresh_token is None:
                self.first_refresh_token = refresh
            if self.pitfall == "no-rotation":
                self.refresh_token = self.first_refresh_token
            else:
                self.refresh_token = refresh  # refresh tokens rotate: keep the newest
        dlog(f"tokens: access {mask(access)}, refresh {mask(self.refresh_token)}, "
             f"expires_in {body.get('expires_in')}, token_type {body.get('token_type')}")

    # -- step 1 and 2: authorization

    def authorize_url(self, state):
        cfg = self.cfg
        redirect = cfg.redirect_uri + "/" if self.pitfall == "wrong-redirect-uri" else cfg.redirect_uri
        rest = [("redirect_uri", redirect)]
        if state is not None:
            rest.append(("state", state))
        if self.pitfall == "legacy-scopes":
            rest.append(("scope", "Read Write"))
        elif cfg.scope and self.pitfall != "ignore-scope":
            rest.append(("scope", cfg.scope))
        if cfg.company_id and self.pitfall != "ignore-company":
            rest.append(("company_id", cfg.company_id))
        if self.pitfall == "secret-in-url":
            rest.append(("client_secret", cfg.client_secret))
        if self.pitfall == "unencoded-client-id":
            query = "&".join([
                enc([("response_type", "code")]),
                "client_id=" + urllib.parse.quote(cfg.client_id, safe="="),
                enc(rest),
            ])
        else:
            query = enc([("response_type", "code"), ("client_id", cfg.client_id)] + rest)
        return f"{cfg.oauth_url}/oauth/authorize?{query}"

    def open_browser(self, url):
        if not self.cfg.browser:
            log("Open this URL in a browser to authorize the application:")
            log(REDACT(url))
            return
        try:
            proc = subprocess.Popen([self.cfg.browser, url], stdin=subprocess.DEVNULL,
                                    stdout=sys.stderr, stderr=sys.stderr)
        except OSError as e:
            raise Failure(f"cannot run BROWSER {self.cfg.browser!r}: {e}") from e

        def reap():
            rc = proc.wait()
            if rc != 0:
                log(f"warning: BROWSER exited with status {rc}")

        threading.Thread(target=reap, daemon=True).start()

    def obtain_code(self):
        """Runs one authorization; returns the code, or raises Failure."""
        state = None if self.pitfall == "no-state" else secrets.token_urlsafe(24)
        if self.mode == "localhost":
            if self.listener is None:
                self.listener = CallbackListener(self.redirect_port, self.redirect_path)
            self.listener.drain()
        elif self.stdin is None:
            self.stdin = StdinReader()

        url = self.authorize_url(state)
        if self.pitfall == "authorize-post":
            base, _, query = url.partition("?")
            resp = http_request("POST", base, body=query.encode(), follow_redirects=False,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
            raise Failure("the authorization request was refused: " + resp.describe())
        self.open_browser(url)

        if self.mode == "oob":
            line = self.stdin.wait(CALLBACK_WAIT)
            if line is None:
                raise Failure("standard input closed before an authorization code arrived")
            if not line.strip():
                raise Failure(f"no authorization code on standard input within {CALLBACK_WAIT} s")
            params = parse_oob_line(line)
        else:
            params = self.listener.wait(CALLBACK_WAIT)
            if params is None:
                raise Failure(f"no callback to {self.cfg.redirect_uri} within {CALLBACK_WAIT} s")
            check_state = self.pitfall not in ("no-state-check", "no-state")
            if check_state and params.get("state") != state:
                raise Failure("state mismatch: possible CSRF; refusing the code "
                              f"(issued state {state!r}, callback state {params.get('state')!r})")

        if self.pitfall == "log-callback":
            print(f"callback: {urllib.parse.urlencode(params)}", file=sys.stderr, flush=True)
        if "error" in params and self.pitfall == "ignore-denial":
            log(f"authorization answered {params['error']}; nothing to do")
            raise SystemExit(0)
        if "error" in params:
            desc = params.get("error_description")
            raise Failure(f"authorization failed: {params['error']}"
                          + (f" ({desc})" if desc else ""))
        code = params.get("code")
        if not code:
            raise Failure("the callback carried neither a code nor an error")
        return code

    # -- step 3: the token endpoint

    def token_endpoint(self):
        base = self.cfg.api_url if self.pitfall == "token-at-api-host" else self.cfg.oauth_url
        return f"{base}/oauth/token"

    def token_request(self, params, what):
        """Sends one token request the way the pitfall says (correctly by default)."""
        url = self.token_endpoint()
        accept = {"Accept": "application/json"}
        form_ct = {"Content-Type": "application/x-www-form-urlencoded"}
        pitfall = self.pitfall

        if pitfall == "unencoded-client-id":
            encoded = "&".join(
                f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='=')}"
                if k == "client_id" else enc([(k, v)])
                for k, v in params)
        else:
            encoded = enc(params)

        if pitfall == "token-get":
            def send():
                return http_request("GET", f"{url}?{encoded}", headers=accept, follow_redirects=False)
        elif pitfall == "query-params":
            def send():
                return http_request("POST", f"{url}?{encoded}", body=b"", headers={**accept, **form_ct},
                            follow_redirects=False)
        elif pitfall == "json-body":
            data = json.dumps(dict(params)).encode()

            def send():
                return http_request("POST", url, body=data,
                            headers={**accept, "Content-Type": "application/json"},
                            follow_redirects=False)
        else:
            data = encoded.encode("ascii")

            def send():
                return http_request("POST", url, body=data, headers={**accept, **form_ct},
                            follow_redirects=False)

        return with_retries(send, what, pitfall)

    def exchange_code(self, code):
        cfg = self.cfg
        params = [("grant_type", "authorization_code"), ("code", code),
                  ("client_id", cfg.client_id), ("client_secret", cfg.client_secret)]
        if self.pitfall != "no-redirect-uri":
            params.append(("redirect_uri", cfg.redirect_uri))
        return self.token_request(params, "POST /oauth/token (authorization_code)")

    @staticmethod
    def code_expired(resp):
        if resp.status < 400 or resp.status >= 500:
            return False
        body = resp.json()
        if not isinstance(body, dict) or body.get("error") != "invalid_grant":
            return False
        desc = str(body.get("error_description") or "").lower()
        return body.get("rule") == "code-expired" or "expired" in desc

    def authorize(self):
        """Steps 1-3, with one re-authorization if the code expired."""
        for attempt in (1, 2):
            code = self.obtain_code()
            REDACT.add(code)
            resp = self.exchange_code(code)
            if 200 <= resp.status < 300:
                body = resp.json()
                if not isinstance(body, dict):
                    raise Failure("the token endpoint answered 2xx without a JSON object: "
                                  + resp.describe())
                self._store_tokens(body)
                if self.pitfall == "code-reuse":
                    try:
                        again = self.exchange_code(code)
                        dlog(f"code redeemed a second time: HTTP {again.status}")
                    except Failure as e:
                        dlog(f"second redemption failed: {e}")
                return
            if self.code_expired(resp) and self.pitfall == "retry-expired-code":
                again = self.exchange_code(code)
                raise Failure("the code exchange failed twice: " + again.describe())
            if self.code_expired(resp) and attempt == 1:
                log("the authorization code expired before it was redeemed; authorizing again")
                continue
            if self.code_expired(resp):
                raise Failure("the authorization code expired again after re-authorization: "
                              + resp.describe())
            raise Failure("the code exchange failed: " + resp.describe())

    def refresh(self):
        """Exchanges the refresh token; raises Failure if the grant is gone."""
        cfg = self.cfg
        if not self.refresh_token:
            raise Failure("the access token was refused and there is no refresh token; "
                          "re-authorization needed")
        tries = REFRESH_LOOP_LIMIT if self.pitfall == "refresh-loop" else 1
        last = None
        for _ in range(tries):
            token = (self.first_refresh_token if self.pitfall == "no-rotation"
                     else self.refresh_token)
            params = [("grant_type", "refresh_token"), ("refresh_token", token),
                      ("client_id", cfg.client_id), ("client_secret", cfg.client_secret)]
            resp = self.token_request(params, "POST /oauth/token (refresh_token)")
            last = resp
            if 200 <= resp.status < 300:
                body = resp.json()
                if not isinstance(body, dict):
                    raise Failure("the refresh answered 2xx without a JSON object: "
                                  + resp.describe())
                self._store_tokens(body)
                return
            if not 400 <= resp.status < 500:
                raise Failure("the refresh failed: " + resp.describe())
        raise Failure("the grant was revoked or the refresh token is invalid; "
                      "re-authorization needed (" + last.describe() + ")")

    # -- step 4: the API

    def api_request(self, method, path):
        url = self.cfg.api_url + path
        headers = {"Accept": "application/json"}
        body = None
        if method in ("POST", "PUT", "PATCH"):
            body = json.dumps({"name": "conformance"}).encode()
            headers["Content-Type"] = "application/json"
        if self.pitfall == "token-in-query":
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}{enc([('access_token', self.access_token)])}"
        else:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return http_request(method, url, body=body, headers=headers)

    def call(self, method, path):
        what = f"{method} {path}"
        refreshed = False
        attempt = 1
        forbidden_refreshes = 0
        while True:
            resp = self.api_request(method, path)
            if 200 <= resp.status < 300:
                return resp
            if (resp.status == 403 and self.pitfall == "refresh-on-403"
                    and forbidden_refreshes < REFRESH_LOOP_LIMIT):
                log(f"{what}: HTTP 403; refreshing the access token")
                self.refresh()
                forbidden_refreshes += 1
                continue
            if resp.status == 401 and not refreshed:
                if self.pitfall == "no-refresh":
                    print(f"{what} -> {resp.status}", flush=True)
                    raise Failure(f"{what}: the access token was refused (no refresh attempted): "
                                  + resp.describe())
                log(f"{what}: HTTP 401; refreshing the access token")
                try:
                    self.refresh()
                except Failure:
                    print(f"{what} -> {resp.status}", flush=True)
                    raise
                refreshed = True
                continue
            if resp.status in (429, 503) and attempt < MAX_ATTEMPTS:
                wait = retry_after_seconds(resp)
                if self.pitfall == "ignore-retry-after":
                    log(f"{what}: HTTP {resp.status}; retrying at once")
                else:
                    log(f"{what}: HTTP {resp.status}; waiting {wait:g} s (Retry-After) "
                        "before retrying")
                    time.sleep(wait)
                attempt += 1
                continue
            print(f"{what} -> {resp.status}", flush=True)
            raise Failure(f"{what} failed: " + resp.describe())

    def run(self):
        try:
            self.authorize()
            for i, (method, path) in enumerate(self.cfg.calls):
                if i == 0 and self.pitfall == "token-outside-api" and path.startswith("/api/"):
                    path = path[len("/api"):]
                resp = self.call(method, path)
                print(f"{method} {path} -> {resp.status}", flush=True)
        finally:
            if self.listener is not None:
                self.listener.close()


def run_main(argv, prog, description, pitfalls, make_client):
    """The command line both reference clients share: `--pitfall NAME` (one of `pitfalls`),
    then `make_client(pitfall).run()`. Returns the exit status: 0, 1 on any failure (with a
    message, secrets redacted), 2 on bad usage, 130 when interrupted."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, epilog="pitfalls: " + ", ".join(pitfalls))
    parser.add_argument("--pitfall", metavar="NAME",
                        help="switch on one documented mistake (see the list below)")
    args = parser.parse_args(argv)
    if args.pitfall is not None and args.pitfall not in pitfalls:
        parser.print_usage(sys.stderr)
        log(f"{prog}: error: unknown pitfall {args.pitfall!r}; "
            f"choose one of: {', '.join(pitfalls)}")
        return 2
    try:
        make_client(args.pitfall).run()
    except Failure as e:
        if debug_enabled():
            traceback.print_exc()
        log(f"error: {REDACT(str(e))}")
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except Exception as e:  # noqa: BLE001 - robustness: any exception is a clean failure
        if debug_enabled():
            traceback.print_exc()
        log(f"error: unexpected {type(e).__name__}: {REDACT(str(e))}")
        return 1
    return 0


def main(argv=None):
    return run_main(
        sys.argv[1:] if argv is None else argv,
        "reference_client.py",
        "Reference OAuth 2.0 client for the onshape-mock conformance runner.",
        PITFALLS,
        lambda pitfall: Client(Config(os.environ), pitfall),
    )


if __name__ == "__main__":
    sys.exit(main())
