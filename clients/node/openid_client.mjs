// Desktop-mode adapter for openid-client 6.8.9 (npm), driven by `onshape-mock check`.
//
// Follows the library's README "Authorization Code Flow" / examples/oauth.ts exactly, minus
// discovery (Onshape publishes no metadata, so a Configuration is built from known server
// metadata, as the Configuration constructor's docs show) and plus allowInsecureRequests()
// (the documented switch for a plain-http server such as the mock):
//   PKCE S256 always; `state` because the server metadata does not advertise S256;
//   buildAuthorizationUrl -> browser -> authorizationCodeGrant(config, currentUrl,
//   {pkceCodeVerifier, expectedState}); API calls with fetchProtectedResource; on a 401,
//   refreshTokenGrant (its docs) and keep the new refresh token. Client authentication is the
//   library default (client_secret_post). No retries of our own. ONSHAPE_HTTP_TIMEOUT is the
//   Configuration's documented `timeout` (seconds, default 30), which the library turns into an
//   AbortSignal for each of its requests: token requests and fetchProtectedResource.
// The redirect listener / OOB stdin line, BROWSER and ONSHAPE_API_CALLS are in contract.js.
import * as client from 'openid-client';
import contract from './contract.js';

const cfg = contract.config();

const config = new client.Configuration(
  {
    issuer: cfg.oauthUrl,
    authorization_endpoint: `${cfg.oauthUrl}/oauth/authorize`,
    token_endpoint: `${cfg.oauthUrl}/oauth/token`,
  },
  cfg.clientId,
  cfg.clientSecret,
);
client.allowInsecureRequests(config);
config.timeout = cfg.httpTimeout;

// One line from the library's error: its message, the wrapped error's message (e.g. which
// state check failed), the OAuth error, the HTTP status. Never the parameters (they hold the code).
const describe = (e) => {
  const parts = [e.message];
  if (e.cause instanceof Error) parts.push(e.cause.message);
  if (e.error) parts.push(`${e.error}${e.error_description ? ': ' + e.error_description : ''}`);
  const status = e.status ?? (e.cause instanceof Response ? e.cause.status : undefined);
  if (status) parts.push(`HTTP ${status}`);
  return parts.join(' — ');
};

async function main() {
  await contract.listen(cfg);

  const code_verifier = client.randomPKCECodeVerifier();
  const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);
  let state;
  const parameters = { redirect_uri: cfg.redirectUri, code_challenge, code_challenge_method: 'S256' };
  if (cfg.scope) parameters.scope = cfg.scope;
  if (cfg.companyId) parameters.company_id = cfg.companyId;
  if (!config.serverMetadata().supportsPKCE()) {
    state = client.randomState();
    parameters.state = state;
  }
  const redirectTo = client.buildAuthorizationUrl(config, parameters);
  contract.openBrowser(cfg, redirectTo.href);

  const currentUrl = await contract.waitForCallback(cfg);
  // OOB: the user pastes the bare code, no state comes back (PKCE still binds the code).
  const expectedState = cfg.redirectUri === contract.OOB ? client.skipStateCheck : state;
  const tokens = await client.authorizationCodeGrant(config, currentUrl, { pkceCodeVerifier: code_verifier, expectedState });
  contract.hide(tokens.access_token);
  contract.hide(tokens.refresh_token);
  let { access_token, refresh_token } = tokens;

  await contract.runCalls(cfg, {
    async send(call) {
      const r = contract.apiRequest(cfg, call);
      try {
        return await client.fetchProtectedResource(config, access_token, new URL(r.url), r.method, r.body, new Headers(r.headers));
      } catch (e) {
        if (e.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && e.response) return e.response;
        throw e;
      }
    },
    async refresh() {
      if (!refresh_token) throw new Error('the access token was refused and there is no refresh token');
      const fresh = await client.refreshTokenGrant(config, refresh_token);
      contract.hide(fresh.access_token);
      contract.hide(fresh.refresh_token);
      access_token = fresh.access_token;
      refresh_token = fresh.refresh_token || refresh_token;
    },
  });
}

try {
  await main(); // top-level await: should the event loop ever empty first, node exits 13, not 0
} catch (e) {
  contract.fail(describe(e));
}
process.exit(0); // closes the redirect listener
