#!/usr/bin/env python3
"""A plain Flask 3.1.3 web app using requests-oauthlib 2.0.0, for `onshape-mock check` (web-app mode).

Follows requests-oauthlib's Flask examples (docs/examples/real_world_example.rst and
real_world_example_with_refresh.rst): GET /login builds the authorization URL, keeps `state`
in Flask's session cookie and 302s to Onshape; GET /callback rebuilds OAuth2Session(state=
session['oauth_state']) and calls fetch_token(token_url, client_secret=,
authorization_response=request.url); the token is kept in the session, as the examples do;
GET /calls (the examples' /profile) makes the API calls with auto_refresh_url +
auto_refresh_kwargs + token_updater. app.secret_key = os.urandom(24) and
OAUTHLIB_INSECURE_TRANSPORT=1 as in the examples; app.run without debug=True (the debugger's
pages and reloader have no place under a runner). ONSHAPE_HTTP_TIMEOUT goes in as the
documented `timeout=` of fetch_token and of each request (which hands it on to the automatic
refresh_token). Added glue: one error handler that answers any exception with a one-line reason.

Listens on 127.0.0.1 at the port of ONSHAPE_REDIRECT_URI (http://localhost:PORT/callback).
"""

import os
import urllib.parse

import contract
from flask import Flask, redirect, request, session, url_for
from requests_oauthlib import OAuth2Session
from werkzeug.exceptions import HTTPException

os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
app = Flask(__name__)
app.secret_key = os.urandom(24)
SCOPE = contract.SCOPE.split() if contract.SCOPE else None
EXTRA = {"client_id": contract.CLIENT_ID, "client_secret": contract.CLIENT_SECRET}


@app.route("/login")
def login():
    onshape = OAuth2Session(contract.CLIENT_ID, scope=SCOPE, redirect_uri=contract.REDIRECT_URI)
    authorization_url, state = onshape.authorization_url(
        contract.AUTHORIZE_URL, **contract.extra_authorize_params())
    session["oauth_state"] = state  # State is used to prevent CSRF, keep this for later.
    return redirect(authorization_url)


@app.route("/callback")
def callback():
    onshape = OAuth2Session(contract.CLIENT_ID, redirect_uri=contract.REDIRECT_URI,
                            state=session["oauth_state"])
    session["oauth_token"] = onshape.fetch_token(
        contract.TOKEN_URL, client_secret=contract.CLIENT_SECRET,
        authorization_response=request.url, timeout=contract.HTTP_TIMEOUT)
    return redirect(url_for(".calls"))


@app.route("/calls")
def calls():
    def token_updater(token):
        session["oauth_token"] = token

    onshape = OAuth2Session(contract.CLIENT_ID, token=session["oauth_token"],
                            auto_refresh_url=contract.TOKEN_URL, auto_refresh_kwargs=EXTRA,
                            token_updater=token_updater)
    done = []
    for method, path, body in contract.calls():
        r = onshape.request(method, contract.API_URL + path, json=body,
                            timeout=contract.HTTP_TIMEOUT)
        if not 200 <= r.status_code < 300:
            return f"{method} {path} answered HTTP {r.status_code}\n", 502
        done.append(f"{method} {path} -> {r.status_code}")
    return "every call succeeded: " + "; ".join(done) + "\n"


@app.errorhandler(Exception)
def failed(e):
    if isinstance(e, HTTPException):
        return e
    return "error: " + contract.describe(e) + "\n", getattr(e, "status_code", 500)


if __name__ == "__main__":
    app.run(host="127.0.0.1", port=urllib.parse.urlsplit(contract.REDIRECT_URI).port)
