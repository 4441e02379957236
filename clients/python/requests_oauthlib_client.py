#!/usr/bin/env python3
"""requests-oauthlib 2.0.0 (oauthlib 4.0.1) as its documentation shows it, for `onshape-mock check`.

Follows docs/oauth2_workflow.rst: "Web Application Flow" (OAuth2Session(client_id,
redirect_uri=, scope=), authorization_url(), fetch_token(token_url, client_secret=,
authorization_response=)) and "Refreshing tokens", the third, recommended way
(auto_refresh_url + auto_refresh_kwargs={client_id, client_secret} + token_updater).
OAUTHLIB_INSECURE_TRANSPORT=1 because the mock speaks plain http, as the docs' examples set it
for local testing. ONSHAPE_HTTP_TIMEOUT goes in as the documented `timeout=` of fetch_token and
of each request (OAuth2Session.request hands its kwargs, timeout included, to the automatic
refresh_token call). Nothing else is added: no refresh on 401, no Retry-After handling.
"""

import os

import contract
from requests_oauthlib import OAuth2Session

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"


def run():
    token = {}

    def token_saver(new_token):  # the docs' token_updater: keep the newest token
        token.update(new_token)

    oauth = OAuth2Session(
        contract.CLIENT_ID,
        redirect_uri=contract.REDIRECT_URI,
        scope=contract.SCOPE.split() if contract.SCOPE else None,
        auto_refresh_url=contract.TOKEN_URL,
        auto_refresh_kwargs={"client_id": contract.CLIENT_ID,
                             "client_secret": contract.CLIENT_SECRET},
        token_updater=token_saver,
    )
    authorization_url, state = oauth.authorization_url(
        contract.AUTHORIZE_URL, **contract.extra_authorize_params())
    answer = contract.authorize(authorization_url)  # authorization_response=... or code=...
    token_saver(oauth.fetch_token(contract.TOKEN_URL, client_secret=contract.CLIENT_SECRET,
                                  timeout=contract.HTTP_TIMEOUT, **answer))

    for method, path, body in contract.calls():
        r = oauth.request(method, contract.API_URL + path, json=body,
                          timeout=contract.HTTP_TIMEOUT)
        contract.report(method, path, r.status_code)


if __name__ == "__main__":
    contract.main(run)
