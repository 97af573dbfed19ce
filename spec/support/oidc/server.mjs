// An independent OAuth 2.0 / OpenID Connect authorization server for the test suite,
// built on the npm package oidc-provider (an OpenID-certified implementation). Started
// and stopped by spec/helpers/oidc.lua; never by the library under test.
//
//   node spec/support/oidc/server.mjs        (configuration through the environment)
//
// On success it prints one line on stdout:
//   OIDC_READY port=<n> issuer=<url> pid=<pid> version=<oidc-provider version>
// and serves until SIGTERM/SIGINT, or until the process named by OIDC_PARENT_PID is gone.
//
// Environment (all optional; times in seconds):
//   OIDC_DEPS_DIR             node_modules holding oidc-provider (default:
//                             <repo>/.deps/node/node_modules, from this file's location)
//   OIDC_PORT                 port on 127.0.0.1 (default 0: the kernel picks a free one)
//   OIDC_PARENT_PID           exit when this process no longer exists
//   OIDC_ACCESS_TOKEN_TTL     access tokens of the user flows           (default 3600)
//   OIDC_CLIENT_CREDENTIALS_TTL  client_credentials access tokens       (default 3600)
//   OIDC_REFRESH_TOKEN_TTL    refresh tokens                            (default 14 days)
//   OIDC_AUTH_CODE_TTL        authorization codes                       (default 300)
//   OIDC_DEVICE_CODE_TTL      device codes                              (default 600)
//   OIDC_ID_TOKEN_TTL         ID tokens                                 (default 3600)
//   OIDC_CLOCK_TOLERANCE      oidc-provider clockTolerance; expired artifacts stay
//                             findable this long after expiry (a device code answers
//                             expired_token), then are purged (invalid_grant) (default 15)
//   OIDC_DEVICE_INTERVAL      adds "interval" to device authorization responses
//                             (oidc-provider sends none; RFC 8628 then means 5)
//   OIDC_SLOW_DOWN=1          answer slow_down to a device-code poll that comes sooner
//                             than the interval (OIDC_DEVICE_INTERVAL or 5) after the
//                             previous one; each slow_down adds 5 s for that code
//   OIDC_ROTATE_REFRESH=0     long-lived refresh tokens (default 1: rotate on every use)
//   OIDC_OFFLINE_ACCESS=strict  upstream OpenID rule: offline_access on /auth is dropped
//                             unless prompt=consent. Default "cc": like Constant
//                             Contact, requesting offline_access is enough (the server
//                             adds prompt=consent to such an authorization request).
//   OIDC_SECRET_POST=1        also accept the client secret in the form body
//                             (client_secret_post); by default the server insists on
//                             HTTP Basic as Constant Contact does (oidc-provider alone
//                             accepts either for a client_secret_basic client)
//   OIDC_CONFIDENTIAL_SECRET  secret of ctct-confidential (default below)
//   OIDC_REDIRECT_URIS        extra redirect URIs (space-separated) for both clients
//   OIDC_RESOURCE             the API resource indicator (default https://api.cc.email/v3)
//
// Clients: ctct-confidential (secret, HTTP Basic; authorization_code, refresh_token,
// client_credentials) and ctct-public (no secret, PKCE S256 required;
// authorization_code, refresh_token, device_code). Both are "native" clients with
// redirect URIs http://127.0.0.1/callback and http://localhost/callback, which
// oidc-provider accepts on any port (RFC 8252 7.3), plus OIDC_REDIRECT_URIS (exact).
// Every access token is an RS256 JWT (typ at+jwt) for OIDC_RESOURCE, with the
// Constant Contact style claims cid, scp and platform_user_id besides the standard ones.
// The devInteractions login page accepts any login and password.
//
// Test-only endpoints: GET /__test/stats, POST /__test/reset (clears the counters).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const env = process.env;
const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..', '..', '..');
const depsDir = path.resolve(env.OIDC_DEPS_DIR || path.join(repoRoot, '.deps', 'node', 'node_modules'));

function seconds(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    fail(`${name} must be a positive number of seconds, got ${JSON.stringify(raw)}`);
  }
  return Math.ceil(n);
}

function fail(message) {
  process.stderr.write(`oidc server: ${message}\n`);
  process.exit(1);
}

// A fresh RS256 signing key per run (oidc-provider's own quick-start keys are shared
// by every installation), generated on the thread pool while the package loads.
const keyPair = new Promise((resolve, reject) => {
  crypto.generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv)));
});

let Provider;
let errors;
let version;
try {
  const pkgDir = path.join(depsDir, 'oidc-provider');
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  version = pkg.version;
  ({ default: Provider, errors } = await import(pathToFileURL(path.join(pkgDir, pkg.main || 'lib/index.js')).href));
} catch (err) {
  fail(`cannot load oidc-provider from ${depsDir} (run make deps): ${err.message}`);
}

const HOST = '127.0.0.1';
const RESOURCE = env.OIDC_RESOURCE || 'https://api.cc.email/v3';
const API_SCOPES = ['account_read', 'account_update', 'contact_data', 'campaign_data'];
const SCOPES = ['openid', 'offline_access', ...API_SCOPES];
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

const cfg = {
  accessTokenTTL: seconds('OIDC_ACCESS_TOKEN_TTL', 3600),
  clientCredentialsTTL: seconds('OIDC_CLIENT_CREDENTIALS_TTL', 3600),
  refreshTokenTTL: seconds('OIDC_REFRESH_TOKEN_TTL', 14 * 24 * 3600),
  authCodeTTL: seconds('OIDC_AUTH_CODE_TTL', 300),
  deviceCodeTTL: seconds('OIDC_DEVICE_CODE_TTL', 600),
  idTokenTTL: seconds('OIDC_ID_TOKEN_TTL', 3600),
  clockTolerance: env.OIDC_CLOCK_TOLERANCE === '0' ? 0 : seconds('OIDC_CLOCK_TOLERANCE', 15),
  deviceInterval: env.OIDC_DEVICE_INTERVAL ? seconds('OIDC_DEVICE_INTERVAL', 5) : undefined,
  slowDown: env.OIDC_SLOW_DOWN === '1',
  rotateRefresh: env.OIDC_ROTATE_REFRESH !== '0',
  offlineAccess: env.OIDC_OFFLINE_ACCESS || 'cc',
  secretPost: env.OIDC_SECRET_POST === '1',
  secret: env.OIDC_CONFIDENTIAL_SECRET || 'ctct-confidential-secret',
  extraRedirectUris: (env.OIDC_REDIRECT_URIS || '').split(/\s+/).filter(Boolean),
};
if (!['cc', 'strict'].includes(cfg.offlineAccess)) fail('OIDC_OFFLINE_ACCESS must be cc or strict');

// The port is known before the issuer is: listen first (port 0 = a free one, no race),
// then build the provider for http://127.0.0.1:<port> and attach it.
const server = http.createServer();
await new Promise((resolve) => {
  server.once('error', (err) => fail(`cannot listen on ${HOST}:${env.OIDC_PORT || 0}: ${err.message}`));
  server.listen(Number(env.OIDC_PORT || 0), HOST, resolve);
});
const { port } = server.address();
const issuer = `http://${HOST}:${port}`;

const privateKey = await keyPair;
const signingKey = {
  ...privateKey.export({ format: 'jwk' }), kid: `test-${crypto.randomBytes(6).toString('hex')}`, alg: 'RS256', use: 'sig',
};

const loopback = ['http://127.0.0.1/callback', 'http://localhost/callback'];
const clients = [
  {
    // Native: oidc-provider matches a registered http loopback redirect URI on any port
    // (RFC 8252 7.3), for native clients only; web clients need exact URIs.
    client_id: 'ctct-confidential',
    client_secret: cfg.secret,
    application_type: 'native',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    redirect_uris: [...loopback, ...cfg.extraRedirectUris],
    scope: SCOPES.join(' '),
  },
  {
    client_id: 'ctct-public',
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token', DEVICE_GRANT],
    response_types: ['code'],
    redirect_uris: [...loopback, ...cfg.extraRedirectUris],
    scope: SCOPES.join(' '),
  },
];

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  scopes: SCOPES,
  clockTolerance: cfg.clockTolerance,
  pkce: {
    // Public clients must use PKCE (S256 is the only method oidc-provider 9 accepts);
    // confidential ones may.
    required: (_ctx, client) => client.clientAuthMethod === 'none',
  },
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    clientCredentials: { enabled: true },
    revocation: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // Without a resource parameter the token is for the API all the same, as with
      // Constant Contact (whose authorize URL has no resource parameter).
      defaultResource: () => RESOURCE,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resourceIndicator) => {
        if (resourceIndicator !== RESOURCE) {
          throw new errors.InvalidTarget(`unknown resource ${resourceIndicator}`);
        }
        const clientCredentials = ctx.oidc.params?.grant_type === 'client_credentials';
        return {
          scope: API_SCOPES.join(' '),
          audience: RESOURCE,
          accessTokenTTL: clientCredentials ? cfg.clientCredentialsTTL : cfg.accessTokenTTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
  // Claims seen in Constant Contact access tokens, besides the standard ones.
  extraTokenClaims: (_ctx, token) => {
    const claims = { cid: token.clientId };
    if (token.scope !== undefined) claims.scp = token.scope.split(' ').filter(Boolean);
    if (token.accountId) claims.platform_user_id = token.accountId;
    return claims;
  },
  findAccount: (_ctx, sub) => ({
    accountId: sub,
    claims: () => ({ sub }),
  }),
  issueRefreshToken: (_ctx, client, source) => client.grantTypeAllowed('refresh_token')
    && source.scopes.has('offline_access'),
  rotateRefreshToken: () => cfg.rotateRefresh,
  ttl: {
    AccessToken: cfg.accessTokenTTL,
    ClientCredentials: cfg.clientCredentialsTTL,
    AuthorizationCode: cfg.authCodeTTL,
    DeviceCode: cfg.deviceCodeTTL,
    IdToken: cfg.idTokenTTL,
    RefreshToken: cfg.refreshTokenTTL,
    Interaction: 3600,
    Session: 3600,
    Grant: cfg.refreshTokenTTL,
  },
});

// ---- counters for GET /__test/stats -------------------------------------------------
const shortGrant = (gt) => (gt || 'unknown').replace('urn:ietf:params:oauth:grant-type:', '');
function emptyStats() {
  return {
    token_requests: {}, // per grant type, every POST to the token endpoint
    token_success: {},
    token_errors: {}, // per grant type: { error_code: n }
    token_client_auth: {}, // basic / client_secret_post / none: how clients authenticated
    refresh_tokens_consumed: 0,
    grants_revoked: 0,
    device_authorizations: 0,
    authorizations: 0,
    slow_down: 0,
    revocations: 0,
    secret_post_rejected: 0, // client_secret in a form body (see OIDC_SECRET_POST)
  };
}
let stats = emptyStats();
const bump = (obj, key) => { obj[key] = (obj[key] || 0) + 1; };

provider.on('grant.success', (ctx) => bump(stats.token_success, shortGrant(ctx.oidc.params?.grant_type)));
function bumpError(gt, code) {
  stats.token_errors[gt] = stats.token_errors[gt] || {};
  bump(stats.token_errors[gt], code);
}
provider.on('grant.error', (ctx, err) => bumpError(shortGrant(ctx.oidc?.params?.grant_type), err.error || 'server_error'));
provider.on('refresh_token.consumed', () => { stats.refresh_tokens_consumed += 1; });
provider.on('grant.revoked', () => { stats.grants_revoked += 1; });
provider.on('device_authorization.success', () => { stats.device_authorizations += 1; });
provider.on('authorization.success', () => { stats.authorizations += 1; });
provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc server error: ${err.stack || err}\n`));

// ---- device-code polling pace (oidc-provider itself never answers slow_down) --------
const polls = new Map(); // device_code -> { last: ms, interval: s }
// Records a poll; true when it came sooner than the interval after the previous one
// and its answer may be replaced (then the interval for that code grows by 5 s).
function slowDown(deviceCode, replaceable) {
  const now = Date.now();
  const entry = polls.get(deviceCode) || { last: 0, interval: cfg.deviceInterval || 5 };
  const tooSoon = replaceable && entry.last > 0 && now - entry.last < entry.interval * 1000 - 50;
  entry.last = now;
  if (tooSoon) entry.interval += 5;
  polls.delete(deviceCode);
  polls.set(deviceCode, entry);
  if (polls.size > 1000) polls.delete(polls.keys().next().value);
  return tooSoon;
}

const CLIENT_AUTH_PATHS = new Set(['/token', '/token/revocation', '/token/introspection']);
async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 56 * 1024) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/stats' && ctx.method === 'GET') {
    ctx.type = 'json';
    ctx.body = stats;
    return;
  }
  if (ctx.path === '/__test/reset' && ctx.method === 'POST') {
    stats = emptyStats();
    polls.clear();
    ctx.status = 204;
    return;
  }

  // Client authentication at the token endpoints: counted, and HTTP Basic only unless
  // OIDC_SECRET_POST=1. The form is read here; oidc-provider then uses it as parsed.
  if (ctx.method === 'POST' && CLIENT_AUTH_PATHS.has(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
    const raw = await readForm(ctx.req);
    if (raw === undefined) {
      ctx.status = 413;
      return;
    }
    const form = new URLSearchParams(raw);
    const basic = /^basic /i.test(ctx.get('authorization'));
    const inBody = form.has('client_secret');
    if (ctx.path === '/token') {
      bump(stats.token_client_auth, basic ? 'basic' : inBody ? 'client_secret_post' : 'none');
    }
    if (inBody && !cfg.secretPost) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="token"');
      ctx.body = { error: 'invalid_client', error_description: 'client authentication must use HTTP Basic (client_secret_basic)' };
      stats.secret_post_rejected += 1;
      if (ctx.path === '/token') {
        const gt = shortGrant(form.get('grant_type'));
        bump(stats.token_requests, gt);
        bumpError(gt, 'invalid_client');
      }
      return;
    }
    ctx.req.body = raw;
  }

  // Constant Contact hands out refresh tokens for offline_access without prompt=consent;
  // OpenID Connect (and so oidc-provider) drops offline_access unless it is there.
  if (cfg.offlineAccess === 'cc' && ctx.method === 'GET' && ctx.path === '/auth'
      && (ctx.query.scope || '').split(' ').includes('offline_access') && ctx.query.prompt === undefined) {
    ctx.query = { ...ctx.query, prompt: 'consent' };
  }

  await next();

  const route = ctx.oidc?.route;
  if (route === 'token') {
    const gt = shortGrant(ctx.oidc.params?.grant_type);
    bump(stats.token_requests, gt);
    const deviceCode = gt === 'device_code' && ctx.oidc.params?.device_code;
    // Every poll counts for the pace; only a pending answer is turned into slow_down
    // (an answer with tokens has consumed the code and must not be lost).
    if (cfg.slowDown && deviceCode
        && slowDown(deviceCode, ctx.status === 400 && ctx.body?.error === 'authorization_pending')) {
      stats.slow_down += 1;
      bump(stats.token_errors.device_code, 'slow_down');
      stats.token_errors.device_code.authorization_pending -= 1;
      ctx.body = { error: 'slow_down', error_description: 'you are polling too quickly and should back off at a reasonable rate' };
    }
  } else if (route === 'device_authorization' && ctx.status === 200 && cfg.deviceInterval) {
    ctx.body = { ...ctx.body, interval: cfg.deviceInterval };
  } else if (route === 'revocation' && ctx.status === 200) {
    stats.revocations += 1;
  }
});

server.on('request', provider.callback());

function shutdown(code) {
  server.close();
  server.closeAllConnections?.();
  process.exit(code);
}
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
process.on('SIGHUP', () => shutdown(0));

const parent = Number(env.OIDC_PARENT_PID || 0);
if (parent > 1) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch (err) {
      if (err.code === 'ESRCH') shutdown(0);
    }
  }, 500).unref();
}

process.stdout.write(`OIDC_READY port=${port} issuer=${issuer} pid=${process.pid} version=${version}\n`);
