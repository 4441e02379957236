#!/usr/bin/env python3
"""Onshape's official Python SDK, onshape-client 1.6.3, configured for OAuth, for `onshape-mock check`.

The package has no OAuth guide; its configuration keys and flows are documented only in
onshape_client/client.py (Client docstring, OAuthAuthorizationMethods comments) and its custom
request in test/test_request_passing_custom.py (client.api_client.request). The flow is the
library's own: the first API call is sent with an empty Bearer token, the 401 makes
oas/rest.py call Client.do_oauth_flow(), which tries a refresh and, when that fails, asks for
a grant; every later 401 or 403 refreshes and retries the call.

Workaround: "localhost_server", the flow that opens the browser itself, cannot be used: it
listens on localhost:9000, hard-coded (oauth/local_server.py: start_server), and its handler
calls fetch_access_token(url) positionally, a TypeError (fetch_access_token takes **kwargs
only), so no code is ever redeemed. The documented "python_callback" method is used
instead: the library builds the URL and calls open_authorize_grant_callback(url, done); the
callback opens the browser with webbrowser.open (as localhost_server does), waits on the
runner's redirect URI and hands the result to `done`, the library's fetch_access_token.
The library cannot send company_id (get_authorization_url passes no extra parameter), so
ONSHAPE_COMPANY_ID is not sent. OAUTHLIB_INSECURE_TRANSPORT=1: the mock speaks plain http.

ONSHAPE_HTTP_TIMEOUT: API calls take the documented `_request_timeout` of
api_client.request (oas/rest.py), as a (connect, read) pair, since a single number counts only
when it is an int; the code exchange takes requests-oauthlib's `timeout=` through
fetch_access_token(**kwargs), which hands its kwargs to OAuth2Session.fetch_token. The refresh
cannot be bounded: Client.refresh_access_token() calls self.oauth.refresh_token() with no
timeout and no way to pass one, and Configuration has no timeout setting.
"""

import os

import contract
from onshape_client.client import Client, OAuthAuthorizationMethods

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def open_grant_page(url, done):
    # authorization_response=... or code=...; timeout= goes on to OAuth2Session.fetch_token
    done(timeout=contract.HTTP_TIMEOUT, **contract.authorize(url))


def run():
    client = Client(
        configuration={
            "base_url": contract.API_URL,
            "client_id": contract.CLIENT_ID,
            "client_secret": contract.CLIENT_SECRET,
            "redirect_uri": contract.REDIRECT_URI,
            "scope": contract.SCOPE,
            "authorization_uri": contract.AUTHORIZE_URL,
            "token_uri": contract.TOKEN_URL,
            "oauth_authorization_method": OAuthAuthorizationMethods.PYTHON_CALLBACK,
        },
        open_authorize_grant_callback=open_grant_page,
    )
    for method, path, body in contract.calls():
        r = client.api_client.request(
            method=method, url=f"{client.configuration.host}{path}",
            headers={"Accept": "application/json"}, query_params={}, body=body,
            _request_timeout=(contract.HTTP_TIMEOUT, contract.HTTP_TIMEOUT))
        contract.report(method, path, r.status)


if __name__ == "__main__":
    contract.main(run)
