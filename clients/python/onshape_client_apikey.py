#!/usr/bin/env python3
"""Onshape's official Python SDK, onshape-client 1.6.3, with API keys (signed requests).

Configured as its Client docstring shows (`base_url`, `access_key`, `secret_key`), it signs
every request itself (onshape_client/apikey_headers.py: Date, On-Nonce and
`On ACCESS:HmacSHA256:SIGNATURE` over the lower-cased method, nonce, date, Content-Type,
path and urlencoded query). Reads ONSHAPE_API_URL, ONSHAPE_ACCESS_KEY and ONSHAPE_SECRET_KEY;
makes a GET, a GET with a query and a POST with a JSON body; prints one line per call and
exits 0 when all three succeeded.
"""

import json
import os
import sys

from onshape_client.client import Client
from onshape_client.oas.models.bt_document_params import BTDocumentParams


def main():
    client = Client(
        keys_file=None,
        configuration={
            "base_url": os.environ["ONSHAPE_API_URL"],
            "access_key": os.environ["ONSHAPE_ACCESS_KEY"],
            "secret_key": os.environ["ONSHAPE_SECRET_KEY"],
        },
    )
    assert client.get_authentication_method() == "api_keys"
    calls = [
        ("GET /api/users/sessioninfo", lambda: client.users_api.session_info(_preload_content=False)),
        ("GET /api/documents?q=…", lambda: client.documents_api.get_documents(q="Gripper", _preload_content=False)),
        (
            "POST /api/documents",
            lambda: client.documents_api.create_document(
                BTDocumentParams(name="from onshape-client"), _preload_content=False
            ),
        ),
    ]
    ok = True
    for name, call in calls:
        try:
            r = call()
            body = json.loads(r.data)
            print(name, r.status, body.get("name") or body.get("email") or "")
        except Exception as e:  # the library raises ApiException on 4xx/5xx
            ok = False
            print(name, "failed:", str(e).replace("\n", " ")[:500])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
