#!/usr/bin/env python3
"""Reference API-key client for the onshape-mock conformance runner (`check --api-key`).

Standard library only (Python 3.11). It does what Onshape's API-key scheme asks of a script:

  1. sign every request (ONSHAPE_API_AUTH=signed, the default): a new 25-character On-Nonce,
     the Date at signing time, and `On ACCESS:HmacSHA256:SIGNATURE` over
     lower-case(method, nonce, date, content type, path, query as sent, each followed by a
     newline); or send HTTP Basic (ONSHAPE_API_AUTH=basic);
  2. follow a 307 by signing the request again for the Location's path and query;
  3. honour Retry-After on 429/503 (at most 3 attempts), each attempt signed anew;
  4. on a 401 to a signed request whose answer's Date shows the local clock more than a minute
     off, correct the clock by it and sign once more; on any other failure, stop with the
     server's message.

`--pitfall NAME` switches on exactly one mistake, so the runner can check that it notices it.
Configuration: ONSHAPE_API_URL, ONSHAPE_ACCESS_KEY, ONSHAPE_SECRET_KEY, ONSHAPE_API_CALLS
(`METHOD /api/path?query` joined by `;`), ONSHAPE_API_AUTH, ONSHAPE_HTTP_TIMEOUT (seconds per answer,
default 10), ONSHAPE_DEBUG.

Exit status: 0 when every API call succeeded, 1 on any failure, 2 on bad usage.
"""

import base64
import email.utils
import hashlib
import hmac
import json
import os
import secrets
import string
import sys
import time
import urllib.parse

# The HTTP exchange, Retry-After, the redaction of secrets and the command line are the OAuth
# reference client's.
from reference_client import (
    MAX_ATTEMPTS,
    REDACT,
    Failure,
    http_request,
    log,
    api_bodies,
    parse_http_timeout,
    retry_after_seconds,
    run_main,
)

MAX_REDIRECTS = 5
RETRIES_ON_401 = 10  # the retry-on-401 pitfall's loop
CLOCK_TOLERANCE = 60  # seconds the local clock may be off before it is corrected
NONCE_ALPHABET = string.ascii_letters + string.digits

PITFALLS = {
    "content-type-unsigned": "POST signs `application/json` but sends `application/json; charset=utf-8`",
    "not-lowercased": "the string to sign is not lower-cased",
    "no-trailing-newline": "the string to sign has no newline after the query",
    "query-unsigned": "the query is left out of the signed string",
    "query-decoded": "the query is signed percent-decoded",
    "body-signed": "the JSON body is appended to the signed string",
    "nonce-reused": "one On-Nonce for every request",
    "date-cached": "the Date is taken once, at start, and reused",
    "key-in-url": "the access key also sent as ?accessKey= in the URL",
    "redirect-not-resigned": "a 307 followed with the old headers (the signature of the old URL)",
    "retry-on-401": "a 401 retried again and again",
    "ignore-retry-after": "429/503 retried at once, without waiting",
    "print-secret": "the secret key printed on stderr at start",
    "wrong-secret": "a secret key with one character changed",
}


class Config:
    def __init__(self, env):
        def need(name):
            value = env.get(name)
            if not value:
                raise Failure(f"{name} is not set (the runner's API-key contract sets it)")
            return value

        self.api_url = need("ONSHAPE_API_URL").rstrip("/")
        self.access_key = need("ONSHAPE_ACCESS_KEY")
        self.secret_key = need("ONSHAPE_SECRET_KEY")
        self.http_timeout = parse_http_timeout(env.get("ONSHAPE_HTTP_TIMEOUT"))
        self.auth = (env.get("ONSHAPE_API_AUTH") or "signed").strip().lower()
        if self.auth not in ("signed", "basic"):
            raise Failure(f"ONSHAPE_API_AUTH must be signed or basic, not {self.auth!r}")
        self.calls = []
        for item in (env.get("ONSHAPE_API_CALLS") or "").split(";"):
            method, _, target = item.strip().partition(" ")
            if method:
                self.calls.append((method.upper(), target.strip()))
        self.bodies = api_bodies(env)


class Client:
    def __init__(self, cfg, pitfall):
        self.cfg = cfg
        self.pitfall = pitfall
        secret = cfg.secret_key
        REDACT.add(secret)
        basic = f"{cfg.access_key}:{secret}".encode()
        REDACT.add(base64.b64encode(basic).decode())
        if pitfall == "wrong-secret":
            secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")
        self.secret = secret
        self.clock_offset = 0.0  # seconds to add to the local clock
        self.fixed_nonce = self.new_nonce()
        self.start_date = self.http_date()
        if pitfall == "print-secret":
            log(f"using API key {cfg.access_key} with secret {cfg.secret_key}")

    @staticmethod
    def new_nonce():
        return "".join(secrets.choice(NONCE_ALPHABET) for _ in range(25))

    def http_date(self):
        return email.utils.formatdate(time.time() + self.clock_offset, usegmt=True)

    # -- signing

    def headers_for(self, method, url, content_type, body):
        """The authentication headers for one request to `url`."""
        if self.cfg.auth == "basic":
            token = base64.b64encode(f"{self.cfg.access_key}:{self.secret}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        p = self.pitfall
        parts = urllib.parse.urlsplit(url)
        query = parts.query
        if p == "query-unsigned":
            query = ""
        elif p == "query-decoded":
            query = urllib.parse.unquote_plus(query)
        nonce = self.fixed_nonce if p == "nonce-reused" else self.new_nonce()
        date = self.start_date if p == "date-cached" else self.http_date()
        signed_type = "application/json" if p == "content-type-unsigned" and content_type else content_type
        text = "\n".join([method, nonce, date, signed_type, parts.path, query]) + "\n"
        if p == "no-trailing-newline":
            text = text[:-1]
        if p != "not-lowercased":
            text = text.lower()
        if p == "body-signed" and body:
            text += body.decode().lower()
        digest = hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).digest()
        signature = base64.b64encode(digest).decode()
        return {
            "Authorization": f"On {self.cfg.access_key}:HmacSHA256:{signature}",
            "Date": date,
            "On-Nonce": nonce,
        }

    def send(self, method, url, stale_headers=None):
        """One request, signed for `url` (or with `stale_headers`, as the redirect pitfall sends)."""
        body = None
        content_type = ""
        if method in ("POST", "PUT", "PATCH"):
            target = url[len(self.cfg.api_url):] if url.startswith(self.cfg.api_url) else url
            given = self.cfg.bodies.get(f"{method} {target}", {"name": "conformance"})
            body = json.dumps(given).encode()
            content_type = "application/json"
            if self.pitfall == "content-type-unsigned":
                content_type = "application/json; charset=utf-8"
        if self.pitfall == "key-in-url":
            sep = "&" if "?" in url else "?"
            url = f"{url}{sep}accessKey={urllib.parse.quote(self.cfg.access_key)}"
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        auth = stale_headers or self.headers_for(method, url, content_type, body)
        headers.update(auth)
        resp = http_request(method, url, body=body, headers=headers, follow_redirects=False,
                            timeout=self.cfg.http_timeout)
        return resp, auth

    # -- the clock

    def corrected_clock(self, resp):
        """Whether the answer's Date shows the local clock off; if so, correct it."""
        server = resp.headers.get("Date") if resp.headers else None
        try:
            server_time = email.utils.parsedate_to_datetime(server).timestamp()
        except (TypeError, ValueError):
            return False
        off = server_time - (time.time() + self.clock_offset)
        if abs(off) <= CLOCK_TOLERANCE:
            return False
        self.clock_offset += off
        log(f"the server's clock is {off:+.0f} s from ours: signing by the server's time")
        return True

    # -- the API

    def call(self, method, target):
        what = f"{method} {target}"
        url = self.cfg.api_url + target
        redirects = 0
        attempt = 1
        corrected = False
        refused = 0
        stale = None
        while True:
            resp, sent = self.send(method, url, stale)
            stale = None
            if 200 <= resp.status < 300:
                return resp
            if resp.status == 307 and redirects < MAX_REDIRECTS and resp.headers.get("Location"):
                url = urllib.parse.urljoin(url, resp.headers["Location"])
                redirects += 1
                log(f"{what}: 307 to {REDACT(url)}")
                if self.pitfall == "redirect-not-resigned":
                    stale = sent
                continue
            if resp.status in (429, 503) and attempt < MAX_ATTEMPTS:
                wait = retry_after_seconds(resp)
                if self.pitfall == "ignore-retry-after":
                    log(f"{what}: HTTP {resp.status}; retrying at once")
                else:
                    log(f"{what}: HTTP {resp.status}; waiting {wait:g} s (Retry-After)")
                    time.sleep(wait)
                attempt += 1
                continue
            if resp.status == 401:
                refused += 1
                if self.pitfall == "retry-on-401" and refused <= RETRIES_ON_401:
                    log(f"{what}: HTTP 401; trying again")
                    continue
                if self.cfg.auth == "signed" and not corrected and self.corrected_clock(resp):
                    corrected = True
                    continue
            print(f"{what} -> {resp.status}", flush=True)
            raise Failure(f"{what} failed: " + resp.describe())

    def run(self):
        for method, target in self.cfg.calls:
            resp = self.call(method, target)
            print(f"{method} {target} -> {resp.status}", flush=True)


def main(argv=None):
    return run_main(
        sys.argv[1:] if argv is None else argv,
        "reference_apikey_client.py",
        "Reference API-key client for the onshape-mock conformance runner.",
        PITFALLS,
        lambda pitfall: Client(Config(os.environ), pitfall),
    )


if __name__ == "__main__":
    sys.exit(main())
