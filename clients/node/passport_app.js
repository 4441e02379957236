// Web-app adapter for passport-onshape 1.2.0 (+ passport 0.7.0, express 4, express-session
// 1.19.0, passport-oauth2-refresh 2.2.0), driven by `onshape-mock check` in web mode.
//
// Follows passport-onshape's README and Onshape's own app tutorial (onshape-public docs,
// "OAuth" → passport-onshape sample): express-session + passport.initialize()/session(),
// serializeUser/deserializeUser keeping the whole user, OnshapeStrategy with
// authorizationURL/tokenURL on the OAuth host and userProfileURL on the API host, a verify
// callback storing accessToken/refreshToken on the profile, passport.authenticate('onshape')
// on the sign-in route and passport.authenticate('onshape', {failureRedirect}) on the callback,
// API calls with `Authorization: Bearer`, and passport-oauth2-refresh's README for refreshing.
// Adapted: `state: true` (passport-oauth2's README: state kept in the session), a plain-http
// session cookie, scope from ONSHAPE_SCOPE as an array (separator left at the library default).
// ONSHAPE_HTTP_TIMEOUT bounds the API calls (fetch with AbortSignal.timeout) only: the code
// exchange, the profile fetch and the refresh go through node-oauth's OAuth2 (oauth 0.10.2,
// lib/oauth2.js _executeRequest), which has no timeout option, so they wait as long as the server.
//
//   GET /login     -> 302 to ONSHAPE_OAUTH_URL/oauth/authorize (ONSHAPE_COMPANY_ID goes in as the
//                     library's ?companyId= -> company_id)
//   GET /callback  -> code redeemed by passport (then its profile fetch) -> 302 /done,
//                     or 302 /grantDenied (403 with the reason)
//   GET /done      -> every ONSHAPE_API_CALLS call; 200, or 502 with a one-line reason
//
// Options: --default-token-url   tokenURL on ONSHAPE_API_URL, the layout of passport-onshape's
//                                code default (https://cad.onshape.com/oauth/token)
//          --tutorial-state      Onshape's tutorial: authenticate('onshape', {state: uuid}) with
//                                no state store (the state is sent, never checked)
//          --no-state            passport-oauth2's default: no `state` option, so no state at all
'use strict';

const crypto = require('node:crypto');
const express = require('express');
const session = require('express-session');
const passport = require('passport');
const refresh = require('passport-oauth2-refresh');
const OnshapeStrategy = require('passport-onshape');
const contract = require('./contract');

const cfg = contract.config();
const args = process.argv.slice(2);
const tutorialState = args.includes('--tutorial-state');
const noState = args.includes('--no-state');
const redirect = new URL(cfg.redirectUri);
const port = Number(redirect.port || process.env.ONSHAPE_APP_PORT || 80);

const app = express();
app.use(session({ secret: crypto.randomBytes(32).toString('hex'), saveUninitialized: false, resave: false }));
app.use(passport.initialize());
app.use(passport.session());

passport.serializeUser((user, done) => done(null, user));
passport.deserializeUser((obj, done) => done(null, obj));

const strategy = new OnshapeStrategy({
  clientID: cfg.clientId,
  clientSecret: cfg.clientSecret,
  callbackURL: cfg.redirectUri,
  authorizationURL: `${cfg.oauthUrl}/oauth/authorize`,
  tokenURL: `${args.includes('--default-token-url') ? cfg.apiUrl : cfg.oauthUrl}/oauth/token`,
  userProfileURL: `${cfg.apiUrl}/api/users/sessioninfo`,
  scope: cfg.scope ? cfg.scope.split(' ') : undefined,
  state: !(tutorialState || noState),
}, (accessToken, refreshToken, profile, done) => {
  contract.hide(accessToken);
  contract.hide(refreshToken);
  profile.accessToken = accessToken;
  profile.refreshToken = refreshToken;
  return done(null, profile);
});
passport.use(strategy);
refresh.use(strategy);

app.get('/login', (req, res, next) => {
  // passport-onshape's authorizationParams(): company_id comes from the sign-in URL's ?companyId=
  if (cfg.companyId && !req.query.companyId) req.query.companyId = cfg.companyId;
  const options = tutorialState ? { state: crypto.randomUUID() } : {};
  passport.authenticate('onshape', options)(req, res, next);
});

app.get(redirect.pathname,
  passport.authenticate('onshape', { failureRedirect: '/grantDenied', failureMessage: true }),
  (req, res) => res.redirect('/done'));

app.get('/grantDenied', (req, res) => {
  const reason = (req.session.messages || []).pop() || 'access was not granted';
  console.error('authorization failed: ' + reason);
  res.status(403).type('text').send(`authorization failed: ${reason}\n`);
});

app.get('/done', async (req, res) => {
  if (!req.user) return res.status(401).type('text').send('not signed in\n');
  const user = req.user; // the session's object (deserializeUser returns it): updates persist
  try {
    await contract.runCalls(cfg, {
      send: (call) => {
        const r = contract.apiRequest(cfg, call);
        return fetch(r.url, { method: r.method, body: r.body, headers: { ...r.headers, Authorization: `Bearer ${user.accessToken}` },
          signal: AbortSignal.timeout(cfg.httpTimeout * 1000) });
      },
      refresh: () => new Promise((resolve, reject) => {
        // unbounded: node-oauth's getOAuthAccessToken has no timeout option
        refresh.requestNewAccessToken('onshape', user.refreshToken, (err, accessToken, refreshToken) => {
          if (err) return reject(new Error('refresh failed: ' + (err.statusCode ? `HTTP ${err.statusCode}: ${err.data}` : err.message)));
          user.accessToken = contract.hide(accessToken);
          if (refreshToken) user.refreshToken = contract.hide(refreshToken);
          resolve();
        });
      }),
    });
    res.type('text').send('every API call succeeded\n');
  } catch (e) {
    console.error('error: ' + contract.redact(e.message));
    res.status(502).type('text').send(contract.redact(e.message) + '\n');
  }
});

// passport's error() path (token exchange, profile fetch, error= other than access_denied)
app.use((err, req, res, next) => {
  const detail = err.oauthError ? ` (HTTP ${err.oauthError.statusCode}: ${err.oauthError.data})` : '';
  const line = contract.redact(`${err.name}: ${err.message}${detail}`).replace(/\s+/g, ' ');
  console.error('error: ' + line);
  res.status(err.status && err.status >= 400 ? err.status : 500).type('text').send(line + '\n');
});

app.listen(port, () => console.error(`listening on port ${port}; start at http://localhost:${port}/login`));
