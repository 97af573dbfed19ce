// The Node.js contenders of the request benchmarks: N GETs after a warm-up,
// printing the mean nanoseconds per request of the timed loop.
//   node bench/node_peer.js fetch BASE_URL PATH N [LIMIT]   built-in fetch + JSON.parse
//   node bench/node_peer.js sdk   BASE_URL PATH N [LIMIT]   ctct-api-client (GET /contacts only)
// The SDK is found in .deps/node-bench (make bench-npm). Both keep the
// connection alive (undici's default, and node 20's global http agent).
'use strict';
const path = require('path');

const [mode, base, route, nText, limitText] = process.argv.slice(2);
const n = Number(nText);
const limit = limitText ? Number(limitText) : undefined;
const WARM_UP = 3;
const headers = { Authorization: 'Bearer bench-token', Accept: 'application/json' };

function viaFetch() {
  const url = base + route + (limit ? `?limit=${limit}` : '');
  return async () => {
    const res = await fetch(url, { headers });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return JSON.parse(await res.text());
  };
}

function viaSdk() {
  if (route !== '/contacts') throw new Error('the SDK contender only does GET /contacts');
  const sdkDir = path.join(__dirname, '..', '.deps', 'node-bench', 'node_modules', 'ctct-api-client');
  const { Configuration, ContactsApi } = require(sdkDir);
  const api = new ContactsApi(new Configuration({ accessToken: 'bench-token', basePath: base }));
  return async () => {
    // getAllContacts(status, email, lists, segmentId, tags, updatedAfter, updatedBefore,
    //   createdAfter, createdBefore, optoutAfter, optoutBefore, include, smsStatus, includeCount, limit)
    const res = await api.getAllContacts(undefined, undefined, undefined, undefined, undefined, undefined,
      undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, limit);
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    return res.data;
  };
}

async function main() {
  const once = mode === 'sdk' ? viaSdk() : viaFetch();
  for (let i = 0; i < WARM_UP; i++) if (!(await once()).contacts) throw new Error('no contacts');
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) if (!(await once()).contacts) throw new Error('no contacts');
  console.log((Number(process.hrtime.bigint() - t0) / n).toFixed(0));
}

main().catch((e) => { console.error(`node_peer: ${e.message}`); process.exit(1); });
