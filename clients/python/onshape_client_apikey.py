#!/usr/bin/env python3
"""Onshape's official Python SDK, onshape-client 1.6.3, with API keys: the runner's API-key
contract (`onshape-mock check --api-key`).

Configured as its Client docstring shows (`base_url`, `access_key`, `secret_key`), it signs
every request itself (onshape_client/apikey_headers.py: Date, On-Nonce and
`On ACCESS:HmacSHA256:SIGNATURE` over the lower-cased method, nonce, date, Content-Type,
path and urlencoded query), and follows a 307 by signing again (oas/rest.py). Reads
ONSHAPE_API_URL, ONSHAPE_ACCESS_KEY, ONSHAPE_SECRET_KEY and ONSHAPE_API_CALLS (the library
only signs: ONSHAPE_API_AUTH is ignored); makes each call through the client's `call_api`
(a POST with a JSON body), prints one line per call, and exits 0 when all succeeded, 1 with
the library's message at the first failure. ONSHAPE_HTTP_TIMEOUT goes in as call_api's
documented `_request_timeout`, a (connect, read) pair (oas/rest.py counts a single number only
when it is an int).
"""

import os
import sys
import urllib.parse

from onshape_client.client import Client

from contract import HTTP_TIMEOUT, main


def calls():
    """ONSHAPE_API_CALLS as (method, path, query pairs)."""
    out = []
    for item in (os.environ.get("ONSHAPE_API_CALLS") or "").split(";"):
        method, _, target = item.strip().partition(" ")
        if method:
            path, _, query = target.strip().partition("?")
            out.append((method.upper(), path, urllib.parse.parse_qsl(query, keep_blank_values=True)))
    return out


def run():
    client = Client(
        keys_file=None,
        configuration={
            "base_url": os.environ["ONSHAPE_API_URL"],
            "access_key": os.environ["ONSHAPE_ACCESS_KEY"],
            "secret_key": os.environ["ONSHAPE_SECRET_KEY"],
        },
    )
    assert client.get_authentication_method() == "api_keys"
    for method, path, query in calls():
        # call_api raises ApiException on any status outside 2xx: `main` reports it.
        r = client.api_client.call_api(
            path,
            method,
            query_params=query,
            header_params={"Accept": "application/json", "Content-Type": "application/json"},
            body={"name": "from onshape-client"} if method == "POST" else None,
            _preload_content=False,
            _return_http_data_only=True,
            _request_timeout=(HTTP_TIMEOUT, HTTP_TIMEOUT),
        )
        print(f"{method} {path} -> {r.status}", flush=True)


if __name__ == "__main__":
    main(run)
