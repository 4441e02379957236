// Shared glue for the Node.js adapters: the runner's client contract (README "The client
// contract"), so that each adapter holds only what its OAuth library's docs show.
//
//   config()          the ONSHAPE_* environment, ONSHAPE_API_CALLS parsed into {method, path},
//                     ONSHAPE_HTTP_TIMEOUT as httpTimeout (seconds) for the adapter to hand on
//   apiRequest()      the HTTP request for one call (POST /api/documents: JSON {"name": ...})
//   runCalls()        every call in order, one refresh on a 401, stdout `METHOD PATH -> STATUS`
//   openBrowser(), waitForCallback()   desktop mode: $BROWSER URL, then the localhost
//                     listener or, for urn:ietf:wg:oauth:2.0:oob, a line on stdin
//   hide(), redact(), fail()           secrets and tokens never reach stdout/stderr from here
'use strict';

const http = require('node:http');
const readline = require('node:readline');
const { spawn } = require('node:child_process');

const OOB = 'urn:ietf:wg:oauth:2.0:oob';
const CALLBACK_WAIT_MS = 25000;

const secrets = new Set();

/** Remembers a secret value (client secret, code, token) so that redact() hides it; returns it. */
function hide(value) {
  if (typeof value === 'string' && value.length >= 6) secrets.add(value);
  return value;
}

function redact(text) {
  let out = String(text);
  for (const s of secrets) {
    for (const form of [s, encodeURIComponent(s)]) out = out.split(form).join('<redacted>');
  }
  return out;
}

function fail(message) {
  console.error('error: ' + redact(message));
  process.exit(1);
}

function parseCalls(text, bodiesText) {
  // ONSHAPE_API_BODIES: a JSON object, the body of a call by `METHOD PATH`.
  let bodies = {};
  try {
    bodies = JSON.parse(bodiesText || '{}');
  } catch (e) {
    fail(`ONSHAPE_API_BODIES is not JSON: ${e.message}`);
  }
  return text.split(';').map((s) => s.trim()).filter(Boolean).map((item) => {
    const m = /^(\S+)\s+(\S.*)$/.exec(item);
    if (!m) fail(`ONSHAPE_API_CALLS: \`${item}\` is not \`METHOD PATH\``);
    const path = m[2].trim();
    const method = m[1].toUpperCase();
    return { method, path: path.startsWith('/') ? path : '/' + path, body: bodies[`${method} ${path}`] };
  });
}

function config(env = process.env) {
  const need = (name) => env[name] || fail(`environment variable ${name} is not set`);
  return {
    oauthUrl: need('ONSHAPE_OAUTH_URL').replace(/\/+$/, ''),
    apiUrl: need('ONSHAPE_API_URL').replace(/\/+$/, ''),
    clientId: need('ONSHAPE_CLIENT_ID'),
    clientSecret: hide(need('ONSHAPE_CLIENT_SECRET')),
    redirectUri: need('ONSHAPE_REDIRECT_URI'),
    scope: env.ONSHAPE_SCOPE || undefined,
    companyId: env.ONSHAPE_COMPANY_ID || undefined,
    browser: env.BROWSER || undefined,
    calls: parseCalls(env.ONSHAPE_API_CALLS || '', env.ONSHAPE_API_BODIES),
    httpTimeout: Number(env.ONSHAPE_HTTP_TIMEOUT) || 10, // seconds to wait for one HTTP answer
  };
}

/** {url, method, headers, body} of one call, without the bearer token (the adapter adds it). */
function apiRequest(cfg, call) {
  const headers = { Accept: 'application/json' };
  let body;
  if (call.method === 'POST') {
    body = JSON.stringify(call.body === undefined ? { name: 'conformance' } : call.body);
    headers['Content-Type'] = 'application/json';
  }
  return { url: cfg.apiUrl + call.path, method: call.method, headers, body };
}

/**
 * Makes every call in order. send(call) -> fetch Response (with the current access token);
 * refresh() -> Promise that stores new tokens or throws. One refresh per call, on a 401.
 * Throws an Error with a one-line reason on the first call that does not end 2xx.
 */
async function runCalls(cfg, { send, refresh }) {
  for (const call of cfg.calls) {
    const what = `${call.method} ${call.path}`;
    let resp = await send(call);
    if (resp.status === 401) {
      console.error(`${what}: HTTP 401; refreshing the access token`);
      await refresh();
      resp = await send(call);
    }
    console.log(`${what} -> ${resp.status}`);
    if (resp.status < 200 || resp.status > 299) {
      const text = (await resp.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 500);
      throw new Error(redact(`${what} failed: HTTP ${resp.status}: ${text}`));
    }
    await resp.arrayBuffer().catch(() => {});
  }
}

/** Runs $BROWSER URL (its output to stderr), or asks the user to open the URL. */
function openBrowser(cfg, url) {
  if (!cfg.browser) {
    console.error('Open this URL in a browser to authorize the application:\n' + redact(url));
    return;
  }
  const child = spawn(cfg.browser, [String(url)], { stdio: ['ignore', process.stderr, process.stderr] });
  child.on('error', (e) => fail(`cannot run BROWSER ${cfg.browser}: ${e.message}`));
}

let listener;
let stdinLines;

function page(res, status, text) {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
  res.end(`<!doctype html><title>${text}</title><p>${text}</p>`);
}

/** Starts the localhost listener (before opening the browser); resolves once it listens. */
function listen(cfg) {
  if (cfg.redirectUri === OOB) {
    if (!stdinLines) {
      stdinLines = [];
      stdinLines.waiters = [];
      const rl = readline.createInterface({ input: process.stdin });
      const push = (line) => (stdinLines.waiters.length ? stdinLines.waiters.shift()(line) : stdinLines.push(line));
      rl.on('line', push);
      rl.on('close', () => { stdinLines.closed = true; while (stdinLines.waiters.length) stdinLines.waiters.shift()(null); });
    }
    return Promise.resolve();
  }
  if (listener) return listener.ready;
  const redirect = new URL(cfg.redirectUri);
  if (redirect.protocol !== 'http:' || !['localhost', '127.0.0.1'].includes(redirect.hostname)) {
    fail(`ONSHAPE_REDIRECT_URI ${cfg.redirectUri}: a desktop client needs http://localhost:PORT/... or ${OOB}`);
  }
  const queue = [];
  queue.waiters = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, cfg.redirectUri);
    if (req.method !== 'GET' || url.pathname !== redirect.pathname) return page(res, 404, 'This is not the OAuth callback.');
    hide(url.searchParams.get('code'));
    if (queue.waiters.length) queue.waiters.shift()(url); else queue.push(url);
    page(res, 200, url.searchParams.has('error') ? 'Authorization failed. You can close this window.'
      : 'Authorization received. You can close this window.');
  });
  listener = { server, queue };
  listener.ready = new Promise((resolve) => {
    server.on('error', (e) => fail(`cannot listen on 127.0.0.1:${redirect.port} for the redirect URI: ${e.message}`));
    server.listen(Number(redirect.port || 80), '127.0.0.1', resolve);
  });
  return listener.ready;
}

/**
 * The authorization response as the URL the browser was sent to (what the libraries take as
 * "current URL"): http://localhost:PORT/callback?code=…&state=…, or, for OOB, the redirect URI
 * with the pasted code as its query (urn:ietf:wg:oauth:2.0:oob?code=…).
 */
function waitForCallback(cfg, timeoutMs = CALLBACK_WAIT_MS) {
  const source = cfg.redirectUri === OOB ? stdinLines : listener.queue;
  const next = source.length ? Promise.resolve(source.shift())
    : source.closed ? Promise.resolve(null) : new Promise((resolve) => source.waiters.push(resolve));
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no authorization response within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  return Promise.race([next, timeout]).finally(() => clearTimeout(timer)).then((got) => {
    if (cfg.redirectUri !== OOB) return got;
    if (got === null) throw new Error('standard input closed before an authorization code arrived (denied?)');
    let text = got.trim();
    if (text.startsWith('Error description=')) throw new Error('authorization failed: ' + text);
    if (text.startsWith('Success code=')) text = text.slice('Success code='.length);
    const params = text.includes('code=') ? new URLSearchParams(text.split('?').pop()) : new URLSearchParams({ code: text });
    hide(params.get('code'));
    return new URL(`${OOB}?${params}`);
  });
}

module.exports = { OOB, config, apiRequest, runCalls, openBrowser, listen, waitForCallback, hide, redact, fail };
