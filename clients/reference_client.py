#!/usr/bin/env python3
"""Reference OAuth 2.0 client for the onshape-mock conformance runner.

Standard library only (Python 3.11). It does what Onshape's OAuth guide asks of an installed
desktop application:

  1. listen on the localhost redirect URI (or read the code from stdin for
     `urn:ietf:wg:oauth:2.0:oob`), send the browser to GET /oauth/authorize with every value
     URL-encoded (the client id's trailing `=` as %3D) and a random `state`;
  2. wait for the callback that carries this authorization's `state`: any other (forged, or
     replayed from an earlier authorization) is ignored, until 25 s have passed in all; stop
     on `error=` (a code that comes with an error is never redeemed) and on a callback with
     neither a code nor an error;
  3. POST /oauth/token with a form body, `redirect_uri` repeated; check the answer before
     anything stored changes (a JSON object, whatever its Content-Type, with a non-empty
     `access_token` and `token_type` Bearer; an odd `expires_in` is ignored); authorize again
     once if the code expired or the answer was unusable (the code is never sent twice);
  4. call the API with `Authorization: Bearer` (with ONSHAPE_API_PARALLEL the first
     call alone, then the rest all at once);
     on 401 renew the access token once, single-flight: refresh (keeping the refresh token
     unless a new one is issued; one more refresh after an unusable or transient answer), or
     without a refresh token authorize again (once per run); stop on anything else.

Every HTTP call waits at most ONSHAPE_HTTP_TIMEOUT seconds for its answer; a timeout or a
connection closed mid-answer stops the client (the request may have been processed, so it is
not sent again). 429, 500, 502, 503 and 504 are transient, for token requests and API calls:
at most 3 attempts, waiting `Retry-After` or else 0.2 s × the attempt number. A 4xx from the
token endpoint is permanent: never sent again unchanged.

`--pitfall NAME` switches on exactly one documented mistake, so the runner can check that it
notices it. Configuration comes from the environment (ONSHAPE_OAUTH_URL, ONSHAPE_API_URL,
ONSHAPE_CLIENT_ID, ONSHAPE_CLIENT_SECRET, ONSHAPE_REDIRECT_URI, ONSHAPE_SCOPE,
ONSHAPE_COMPANY_ID, ONSHAPE_API_CALLS, ONSHAPE_API_PARALLEL ("1" or "true": the first call made
alone, the rest concurrently), ONSHAPE_HTTP_TIMEOUT (seconds, default 10), BROWSER, ONSHAPE_DEBUG).

Exit status: 0 when every API call succeeded, 1 on any failure, 2 on bad usage.
"""

import argparse
from http import server as http_server
import http.client
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

HTTP_TIMEOUT = 10  # seconds, every HTTP call, unless ONSHAPE_HTTP_TIMEOUT says otherwise
CALLBACK_WAIT = 25  # seconds to wait for the callback / the stdin line
MAX_ATTEMPTS = 3  # per request, counting retries after a transient answer
TRANSIENT = (429, 500, 502, 503, 504)  # answers worth sending the same request again
BACKOFF_STEP = 0.2  # seconds × attempt number, when a transient answer has no Retry-After
MAX_RETRY_AFTER = 30  # never sleep longer than this for one Retry-After
REFRESH_TRIES = 2  # refresh requests for one 401 (after an unusable or transient answer)
REFRESH_LOOP_LIMIT = 20
RETRY_FOREVER_ATTEMPTS = 20  # the retry-forever pitfall's bound
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
    "retry-forever": "429/5xx retried at once, without waiting, up to 20 attempts",
    "retry-permanent": "a 4xx from the token endpoint sent again unchanged, 3 times in all",
    "no-timeout": "no HTTP timeout at all: waits for an answer forever",
    "redeem-error-callback": "a callback with both code and error treated as a success: "
                             "its code redeemed",
    "exchange-without-code": "a callback without a code still leads to a token request, "
                             "with code= empty",
    "trust-bad-response": "a 2xx token answer used unchecked (`Bearer None`), its missing "
                          "refresh_token stored as is",
    "parallel-refresh": "parallel calls that get a 401 each refresh on their own, with the "
                        "refresh token they saw, unlocked",
}


class Failure(Exception):
    """A failure explained to the user; main prints it and exits 1."""


class BadTokenResponse(Failure):
    """A 2xx token answer that cannot be used; the stored tokens have not changed."""


_OUTPUT = threading.Lock()  # one line at a time, when parallel calls print


def debug_enabled():
    return bool(os.environ.get("ONSHAPE_DEBUG"))


def say(line):
    """A line on stdout (the runner reads `METHOD PATH -> STATUS` there)."""
    with _OUTPUT:
        print(line, flush=True)


def log(msg):
    with _OUTPUT:
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

    def media_type(self):
        """The Content-Type without its parameters, lower case ("" when there is none)."""
        raw = (self.headers.get("Content-Type") if self.headers else None) or ""
        return raw.split(";")[0].strip().lower()

    def is_html(self):
        return self.media_type() == "text/html"

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


# A connection that ends before the whole answer has arrived.
_CLOSED = (http.client.IncompleteRead, http.client.RemoteDisconnected, ConnectionResetError,
           ConnectionAbortedError, BrokenPipeError)


def http_request(method, url, body=None, headers=None, follow_redirects=True,
                 timeout=HTTP_TIMEOUT):
    """One HTTP exchange; any status is returned. No answer within `timeout` seconds (None:
    wait forever), a connection closed mid-answer and other network errors raise Failure."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    opener = _PLAIN_OPENER if follow_redirects else _NO_REDIRECT_OPENER
    dlog(REDACT(f"{method} {url}"))
    try:
        with opener.open(req, timeout=timeout) as resp:
            return Response(resp.status, resp.headers, resp.read())
    except urllib.error.HTTPError as e:
        try:
            data = e.read()
        except Exception:  # noqa: BLE001 - a broken error body is still an answer
            data = b""
        return Response(e.code, e.headers, data)
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise network_failure(f"{method} {url.split('?')[0]}", e, timeout) from e


def network_failure(what, error, timeout):
    """The Failure for a request that got no (complete) answer."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        within = f"within {timeout:g} s" if timeout is not None else f"({reason})"
        return Failure(REDACT(f"{what} got no answer {within}"))
    if isinstance(reason, _CLOSED):
        detail = str(reason) or type(reason).__name__
        return Failure(REDACT(f"{what}: the connection closed before the answer was complete "
                              f"({detail})"))
    if isinstance(reason, http.client.HTTPException):
        reason = f"a malformed answer ({type(reason).__name__}: {reason})"
    return Failure(REDACT(f"{what} failed: {reason}"))


def api_bodies(env):
    """ONSHAPE_API_BODIES: {"METHOD PATH": body} (absent: every POST sends {"name": ...})."""
    text = env.get("ONSHAPE_API_BODIES") or "{}"
    try:
        bodies = json.loads(text)
    except ValueError as e:
        raise Failure(f"ONSHAPE_API_BODIES is not JSON: {e}") from None
    if not isinstance(bodies, dict):
        raise Failure("ONSHAPE_API_BODIES must be a JSON object of bodies by `METHOD PATH`")
    return bodies


def parse_http_timeout(raw):
    """ONSHAPE_HTTP_TIMEOUT in seconds (`1.5` is fine); HTTP_TIMEOUT when unset or invalid."""
    if raw is None or not raw.strip():
        return HTTP_TIMEOUT
    try:
        secs = float(raw)
    except ValueError:
        secs = float("nan")
    if not 0 < secs < float("inf"):
        log(f"warning: ONSHAPE_HTTP_TIMEOUT {raw[:40]!r} is not a number of seconds; "
            f"using {HTTP_TIMEOUT} s")
        return HTTP_TIMEOUT
    return secs


def retry_after_header(resp):
    return ((resp.headers.get("Retry-After") if resp.headers else None) or "").strip()


def retry_after_requested(resp):
    """The wait Retry-After asks for, in seconds (1 when it is not a number)."""
    raw = retry_after_header(resp)
    try:
        secs = float(raw.strip())
    except ValueError:
        secs = 1.0
    if secs != secs or secs < 0:  # NaN or negative
        secs = 1.0
    return secs


def retry_after_seconds(resp):
    return min(retry_after_requested(resp), MAX_RETRY_AFTER)


def is_transient(status):
    """Whether an answer is worth sending the same request again (after a wait)."""
    return status in TRANSIENT


def max_attempts(pitfall):
    return RETRY_FOREVER_ATTEMPTS if pitfall == "retry-forever" else MAX_ATTEMPTS


def wait_before_retry(what, resp, attempt, pitfall):
    """Waits after the transient answer to attempt number `attempt`: its Retry-After (capped),
    or else BACKOFF_STEP × `attempt` (at once under the pitfalls that skip the wait)."""
    if pitfall in ("ignore-retry-after", "retry-forever"):
        log(f"{what}: HTTP {resp.status}; retrying at once")
        return
    if retry_after_header(resp) and retry_after_requested(resp) > MAX_RETRY_AFTER:
        # Real limits ask for hours: say so rather than hang.
        raise Failure(f"{what}: HTTP {resp.status}; the server asks to wait "
                      f"{retry_after_requested(resp):g} s (Retry-After), longer than this "
                      f"client waits ({MAX_RETRY_AFTER} s): try again later")
    if retry_after_header(resp):
        wait, why = retry_after_seconds(resp), "Retry-After"
    else:
        wait, why = BACKOFF_STEP * attempt, "backoff"
    log(f"{what}: HTTP {resp.status}; waiting {wait:g} s ({why}) before retrying")
    time.sleep(wait)


def with_retries(send, what, pitfall):
    """Calls send() until its answer is not transient, at most max_attempts(pitfall) times;
    returns the last answer. (A timeout raises Failure from send(): never sent again.)"""
    attempt = 1
    while True:
        resp = send()
        resend = pitfall == "retry-permanent" and 400 <= resp.status < 500
        if not (is_transient(resp.status) or resend):
            return resp
        if attempt >= max_attempts(pitfall):
            log(f"{what}: HTTP {resp.status} again; giving up after {attempt} attempts")
            return resp
        if resend and not is_transient(resp.status):
            log(f"{what}: HTTP {resp.status}; sending it again")
        else:
            wait_before_retry(what, resp, attempt, pitfall)
        attempt += 1


def token_error_text(resp):
    """A token endpoint's error answer in a few words: its status and RFC 6749 `error` code
    (with the description), or what the body is."""
    if resp.is_html():
        return f"HTTP {resp.status} with an HTML page, not the token endpoint's JSON"
    body = resp.json()
    if isinstance(body, dict) and body.get("error"):
        desc = body.get("error_description")
        return REDACT(f"HTTP {resp.status} {body['error']}" + (f": {desc}" if desc else ""))
    return resp.describe(limit=300)


def shorten(value, limit=40):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def parse_expires_in(value):
    """`expires_in` in seconds (an int, or a string of digits), or None. A negative or odd value
    is ignored: the token is never taken for expired because of it (a 401 says so)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    dlog(f"ignoring expires_in {shorten(value)}: not a number of seconds")
    return None


def parse_token_response(resp):
    """The tokens of a 2xx token answer, checked as RFC 6749 §5.1 and §7.1 ask: a JSON object
    (whatever the Content-Type says) with a non-empty `access_token` and `token_type` Bearer.
    Returns a dict (`refresh_token` None when absent); raises BadTokenResponse otherwise."""
    def bad(problem):
        return BadTokenResponse(f"the token endpoint answered {resp.status} with {problem}")

    try:
        body = json.loads(resp.body)
    except ValueError:
        if resp.is_html():
            raise bad("an HTML page") from None
        if not resp.body.strip():
            raise bad("an empty body") from None
        raise bad("a body that is not JSON") from None
    if resp.media_type() != "application/json":
        dlog(f"the token response came as {resp.media_type() or 'no Content-Type'}, "
             "not application/json; reading it as JSON anyway")
    if not isinstance(body, dict):
        raise bad("JSON that is not an object")
    access, refresh = body.get("access_token"), body.get("refresh_token")
    for value in (access, refresh):
        if isinstance(value, str):
            REDACT.add(value)
    if not isinstance(access, str) or not access:
        raise bad("no access_token")
    token_type = body.get("token_type")
    if token_type is None:
        raise bad("no token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise bad(f"an unsupported token_type {shorten(token_type)}")
    if refresh is not None and not (isinstance(refresh, str) and refresh):
        dlog(f"ignoring a refresh_token that is not a non-empty string "
             f"({type(refresh).__name__})")
        refresh = None
    return {"access_token": access, "refresh_token": refresh, "token_type": token_type,
            "expires_in": parse_expires_in(body.get("expires_in")), "body": body}


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
        self.http_timeout = parse_http_timeout(env.get("ONSHAPE_HTTP_TIMEOUT"))
        self.parallel = (env.get("ONSHAPE_API_PARALLEL") or "").strip().lower() in ("1", "true")
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
        # ONSHAPE_API_BODIES: a JSON object, the body of a call by `METHOD PATH`.
        self.bodies = api_bodies(env)


class Client:
    def __init__(self, config, pitfall):
        self.cfg = config
        self.pitfall = pitfall
        self.access_token = None
        self.refresh_token = None
        self.first_refresh_token = None
        self.http_timeout = None if pitfall == "no-timeout" else config.http_timeout
        self.renew_lock = threading.Lock()  # one refresh at a time (parallel calls)
        self.parallel_barrier = None  # the parallel-refresh pitfall's meeting point
        self.renew_failure = None  # (the refused access token, the Failure renewing it)
        self.reauthorized = False  # a 401 without a refresh token authorizes again, once
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

    def request(self, method, url, **kwargs):
        """http_request with this run's timeout."""
        return http_request(method, url, timeout=self.http_timeout, **kwargs)

    # -- tokens kept, never printed

    def _store_tokens(self, resp, refreshing):
        """Stores the tokens of a 2xx token answer, checked first: an unusable answer raises
        BadTokenResponse and changes nothing. Without a refresh_token in the answer, a refresh
        keeps the current refresh token (RFC 6749 §6); a code exchange leaves none."""
        if self.pitfall == "trust-bad-response":
            body = resp.json()
            body = body if isinstance(body, dict) else {}
            tokens = {"access_token": body.get("access_token"),
                      "refresh_token": body.get("refresh_token"),
                      "token_type": body.get("token_type"), "expires_in": body.get("expires_in"),
                      "body": body}
            for value in (tokens["access_token"], tokens["refresh_token"]):
                if isinstance(value, str):
                    REDACT.add(value)
        else:
            tokens = parse_token_response(resp)
        if self.pitfall == "print-tokens":
            say(f"token response: {json.dumps(tokens['body'])}")
        self.access_token = tokens["access_token"]
        refresh = tokens["refresh_token"]
        if self.pitfall == "trust-bad-response":
            self.refresh_token = refresh  # whatever the answer has, None included
        elif refresh:
            if self.first_refresh_token is None:
                self.first_refresh_token = refresh
            if self.pitfall == "no-rotation":
                self.refresh_token = self.first_refresh_token
            else:
                self.refresh_token = refresh  # refresh tokens rotate: keep the newest
        elif not refreshing:
            self.refresh_token = None
        dlog(f"tokens: access {mask(str(self.access_token))}, "
             f"refresh {mask(self.refresh_token and str(self.refresh_token))}, "
             f"expires_in {tokens['expires_in']}, token_type {tokens['token_type']}")

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
            resp = self.request("POST", base, body=query.encode(), follow_redirects=False,
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
            params = self.await_callback(state)

        if self.pitfall == "log-callback":
            print(f"callback: {urllib.parse.urlencode(params)}", file=sys.stderr, flush=True)
        if "error" in params and self.pitfall == "ignore-denial":
            log(f"authorization answered {params['error']}; nothing to do")
            raise SystemExit(0)
        code = params.get("code")
        if "error" in params and not (self.pitfall == "redeem-error-callback" and code):
            desc = params.get("error_description")
            raise Failure(f"authorization failed: {params['error']}"
                          + (f" ({desc})" if desc else "")
                          + ("; the code that came with the error is not redeemed" if code else ""))
        if not code and self.pitfall != "exchange-without-code":
            raise Failure("the callback carried neither a code nor an error")
        return code or ""

    def await_callback(self, state):
        """The callback of the authorization that issued `state`; any other (a forged state, a
        replay from an earlier authorization) is ignored until CALLBACK_WAIT has passed in all.
        An error without a state is still this authorization's failure. The no-state pitfalls
        take the first callback."""
        deadline = time.monotonic() + CALLBACK_WAIT
        ignored = 0
        while True:
            params = self.listener.wait(max(deadline - time.monotonic(), 0))
            if params is None and ignored:
                raise Failure(f"no callback with the expected state within {CALLBACK_WAIT} s "
                              f"({ignored} ignored)")
            if params is None:
                raise Failure(f"no callback to {self.cfg.redirect_uri} within {CALLBACK_WAIT} s")
            if self.pitfall in ("no-state-check", "no-state") or params.get("state") == state:
                return params
            if "error" in params and not params.get("state"):
                return params
            ignored += 1
            log(REDACT("ignoring a callback whose state does not match this authorization "
                       f"(state {shorten(params.get('state'))}): possible CSRF or a replay"))

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
                return self.request("GET", f"{url}?{encoded}", headers=accept,
                                    follow_redirects=False)
        elif pitfall == "query-params":
            def send():
                return self.request("POST", f"{url}?{encoded}", body=b"",
                                    headers={**accept, **form_ct}, follow_redirects=False)
        elif pitfall == "json-body":
            data = json.dumps(dict(params)).encode()

            def send():
                return self.request("POST", url, body=data,
                                    headers={**accept, "Content-Type": "application/json"},
                                    follow_redirects=False)
        else:
            data = encoded.encode("ascii")

            def send():
                return self.request("POST", url, body=data, headers={**accept, **form_ct},
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

    def authorize(self, authorizations=2):
        """Steps 1-3. Authorizes again (up to `authorizations` in all) when the code expired or
        its exchange gave an unusable answer; a code is never sent twice."""
        for attempt in range(1, authorizations + 1):
            last = attempt == authorizations
            code = self.obtain_code()
            REDACT.add(code)
            resp = self.exchange_code(code)
            if 200 <= resp.status < 300:
                try:
                    self._store_tokens(resp, refreshing=False)
                except BadTokenResponse as e:
                    if last:
                        raise BadTokenResponse(f"the code exchange failed: {e}") from e
                    log(f"the code exchange failed: {e}; authorizing again")
                    continue
                if self.pitfall == "code-reuse":
                    try:
                        again = self.exchange_code(code)
                        dlog(f"code redeemed a second time: HTTP {again.status}")
                    except Failure as e:
                        dlog(f"second redemption failed: {e}")
                return
            if self.code_expired(resp) and self.pitfall == "retry-expired-code":
                again = self.exchange_code(code)
                if 200 <= again.status < 300:  # a refusal that was not for good
                    self._store_tokens(again, refreshing=False)
                    return
                raise Failure("the code exchange failed twice: " + token_error_text(again))
            if self.code_expired(resp) and not last:
                log("the authorization code expired before it was redeemed; authorizing again")
                continue
            if self.code_expired(resp):
                raise Failure("the authorization code expired"
                              + (" again after re-authorization: " if attempt > 1 else ": ")
                              + resp.describe())
            raise Failure("the code exchange failed: " + token_error_text(resp))

    def reauthorize(self):
        """The access token was refused and there is no refresh token: authorize again, once
        per run."""
        if self.reauthorized:
            raise Failure("the access token was refused again and there is no refresh token; "
                          "the client already authorized again once")
        self.reauthorized = True
        log("the access token was refused and there is no refresh token; authorizing again")
        try:
            self.authorize(authorizations=1)
        except Failure as e:
            raise Failure(f"authorizing again failed: {e}") from e

    def refresh(self, token):
        """Exchanges the refresh token `token` for new tokens; raises Failure when that cannot
        be done. An unusable or transient answer leaves the refresh token as it was: one more
        refresh with it (REFRESH_TRIES in all); a 4xx is permanent."""
        cfg = self.cfg
        if self.pitfall == "no-rotation":
            token = self.first_refresh_token
        if self.pitfall == "trust-bad-response":
            token = str(token)  # None is sent as "None"
        if not token:
            raise Failure("the access token was refused and there is no refresh token; "
                          "re-authorization needed")
        what = "POST /oauth/token (refresh_token)"
        params = [("grant_type", "refresh_token"), ("refresh_token", token),
                  ("client_id", cfg.client_id), ("client_secret", cfg.client_secret)]
        tries = REFRESH_LOOP_LIMIT if self.pitfall == "refresh-loop" else REFRESH_TRIES
        for attempt in range(1, tries + 1):
            resp = self.token_request(params, what)
            refused = 400 <= resp.status < 500
            if 200 <= resp.status < 300:
                try:
                    self._store_tokens(resp, refreshing=True)
                    return
                except BadTokenResponse as e:
                    problem = str(e)
            elif refused and self.pitfall != "refresh-loop":
                raise Failure("the grant was revoked or the refresh token is invalid; "
                              f"re-authorization needed ({token_error_text(resp)})")
            elif refused or is_transient(resp.status):
                problem = token_error_text(resp)
            else:
                raise Failure("the refresh failed: " + resp.describe())
            if attempt < tries:
                log(f"the refresh failed ({problem}); refreshing again with the same token")
        raise Failure(f"the refresh failed {tries} times; giving up ({problem})")

    # -- step 4: the API

    def api_request(self, method, path, token):
        url = self.cfg.api_url + path
        headers = {"Accept": "application/json"}
        body = None
        if method in ("POST", "PUT", "PATCH"):
            given = self.cfg.bodies.get(f"{method} {path}", {"name": "conformance"})
            body = json.dumps(given).encode()
            headers["Content-Type"] = "application/json"
        if self.pitfall == "token-in-query":
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}{enc([('access_token', token)])}"
        else:
            headers["Authorization"] = f"Bearer {token}"
        return self.request(method, url, body=body, headers=headers)

    def renew(self, refused, seen_refresh):
        """New tokens after the API refused the access token `refused`. Single-flight: under
        the lock, a call whose token another call has already renewed just uses the new one,
        and one whose renewal already failed does not try again."""
        if self.pitfall == "parallel-refresh":
            # No re-check: each call refreshes on its own, with the refresh token it saw. One
            # after another, once every call has met the 401, and no call retries before all
            # have refreshed: the same run every time.
            self._meet_parallel_calls()
            try:
                with self.renew_lock:
                    self._renew(seen_refresh)
            finally:
                self._meet_parallel_calls()
            return
        with self.renew_lock:
            if self.access_token != refused:
                log("the access token was renewed meanwhile; retrying with the new one")
                return
            if self.renew_failure and self.renew_failure[0] == refused:
                raise Failure(f"renewing the access token failed: {self.renew_failure[1]}")
            try:
                self._renew(self.refresh_token)
            except Failure as e:
                self.renew_failure = (refused, e)
                raise

    def _meet_parallel_calls(self):
        """Waits for the other parallel calls (the parallel-refresh pitfall)."""
        if self.parallel_barrier is None:
            return
        try:
            self.parallel_barrier.wait(timeout=self.cfg.http_timeout)
        except threading.BrokenBarrierError:
            pass

    def _renew(self, refresh_token):
        if refresh_token is None and self.pitfall != "trust-bad-response":
            self.reauthorize()
        else:
            self.refresh(refresh_token)

    def call(self, method, path):
        what = f"{method} {path}"
        refreshed = False
        attempt = 1
        forbidden_refreshes = 0
        while True:
            token, seen_refresh = self.access_token, self.refresh_token
            resp = self.api_request(method, path, token)
            if 200 <= resp.status < 300:
                return resp
            if (resp.status == 403 and self.pitfall == "refresh-on-403"
                    and forbidden_refreshes < REFRESH_LOOP_LIMIT):
                log(f"{what}: HTTP 403; refreshing the access token")
                self.refresh(self.refresh_token)
                forbidden_refreshes += 1
                continue
            if resp.status == 401 and not refreshed:
                if self.pitfall == "no-refresh":
                    say(f"{what} -> {resp.status}")
                    raise Failure(f"{what}: the access token was refused (no refresh attempted): "
                                  + resp.describe())
                log(f"{what}: HTTP 401; renewing the access token")
                try:
                    self.renew(token, seen_refresh)
                except Failure:
                    say(f"{what} -> {resp.status}")
                    raise
                refreshed = True
                continue
            if is_transient(resp.status) and attempt < max_attempts(self.pitfall):
                wait_before_retry(what, resp, attempt, self.pitfall)
                attempt += 1
                continue
            say(f"{what} -> {resp.status}")
            if is_transient(resp.status):
                raise Failure(f"{what} failed after {attempt} attempts: " + resp.describe())
            raise Failure(f"{what} failed: " + resp.describe())

    def call_and_report(self, method, path):
        resp = self.call(method, path)
        say(f"{method} {path} -> {resp.status}")

    def call_in_parallel(self, calls):
        """Every call in its own thread, all started together; raises the first Failure (or
        other error) once every thread has ended."""
        start = threading.Barrier(len(calls))
        if self.pitfall == "parallel-refresh":
            self.parallel_barrier = threading.Barrier(len(calls))
        errors = []

        def work(method, path):
            try:
                start.wait()  # so that the calls really overlap
                self.call_and_report(method, path)
            except Exception as e:  # noqa: BLE001 - raised in the main thread below
                errors.append(e)

        threads = [threading.Thread(target=work, args=call, daemon=True, name=f"call-{i + 1}")
                   for i, call in enumerate(calls)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]

    def run(self):
        try:
            self.authorize()
            calls = list(self.cfg.calls)
            if calls and self.pitfall == "token-outside-api" and calls[0][1].startswith("/api/"):
                calls[0] = (calls[0][0], calls[0][1][len("/api"):])
            if self.cfg.parallel and len(calls) > 2:
                # The first call alone, then the rest all at once (the contract).
                self.call_and_report(*calls[0])
                self.call_in_parallel(calls[1:])
            else:
                for method, path in calls:
                    self.call_and_report(method, path)
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
