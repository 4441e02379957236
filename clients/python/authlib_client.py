#!/usr/bin/env python3
"""Authlib 1.9.6 (requests integration) as its documentation shows it, for `onshape-mock check`.

Follows docs/oauth2/client/http/index.rst: "OAuth2Session for Authorization Code"
(OAuth2Session(client_id, client_secret, scope=, redirect_uri=), create_authorization_url(),
then, on the same session, fetch_token(token_endpoint, authorization_response=), which the
docs say "will also verify the state"), and "Refresh & Auto Update Token" (token_endpoint= so
that Authlib refreshes an expired token itself, update_token= to save the new one).
Default client authentication (client_secret_basic). ONSHAPE_HTTP_TIMEOUT goes in as the
session's documented `default_timeout=`, which its request() applies to every request: token
requests (code exchange, refresh) and API calls. Nothing else is added: no refresh on 401, no
Retry-After handling.
"""

import contract
from authlib.integrations.requests_client import OAuth2Session


def run():
    saved = {}

    def update_token(token, refresh_token=None, access_token=None):
        saved.update(token)  # the docs' update_token: store the newest token

    client = OAuth2Session(
        contract.CLIENT_ID,
        contract.CLIENT_SECRET,
        scope=contract.SCOPE,
        redirect_uri=contract.REDIRECT_URI,
        token_endpoint=contract.TOKEN_URL,
        update_token=update_token,
        default_timeout=contract.HTTP_TIMEOUT,
    )
    uri, state = client.create_authorization_url(
        contract.AUTHORIZE_URL, **contract.extra_authorize_params())
    answer = contract.authorize(uri)  # authorization_response=... or code=...
    saved.update(client.fetch_token(contract.TOKEN_URL, **answer))

    for method, path, body in contract.calls():
        r = client.request(method, contract.API_URL + path, json=body)
        contract.report(method, path, r.status_code)


if __name__ == "__main__":
    contract.main(run)
