// The README's example upstream for connectors (`npm run example-upstream`): a tiny HTTP service on
// 127.0.0.1 with an OAuth client-credentials token endpoint, an endpoint that needs that token, and an
// item lookup that needs an API key. Fixed example credentials; never expose it beyond loopback.
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const PORT = Number(process.env.EXAMPLE_UPSTREAM_PORT || 8091);
const CLIENT_ID = 'example-client';
const CLIENT_SECRET = 'example-client-secret';
const API_KEY = 'example-api-key';
/** Tokens handed out by this process; a restart forgets them, as a real server's expiry would. */
const tokens = new Set();

function answer(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  const url = new URL(req.url ?? '/', 'http://upstream');
  if (req.method === 'POST' && url.pathname === '/oauth/token') {
    const form = new URLSearchParams(await readBody(req));
    if (
      form.get('grant_type') !== 'client_credentials' ||
      form.get('client_id') !== CLIENT_ID ||
      form.get('client_secret') !== CLIENT_SECRET
    ) {
      return answer(res, 401, { error: 'invalid_client' });
    }
    const token = randomUUID();
    tokens.add(token);
    return answer(res, 200, { access_token: token, token_type: 'Bearer', expires_in: 3600 });
  }
  if (req.method === 'GET' && url.pathname === '/users/me') {
    const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
    if (!tokens.has(token)) return answer(res, 401, { error: 'invalid_token' });
    return answer(res, 200, { id: 'usr_123', name: 'Example User', email: 'user@example.com' });
  }
  const item = /^\/items\/([A-Za-z0-9._~-]+)$/.exec(url.pathname);
  if (req.method === 'GET' && item) {
    if (req.headers['x-api-key'] !== API_KEY) return answer(res, 401, { error: 'missing or wrong X-Api-Key' });
    return answer(res, 200, { id: item[1], name: `Item ${item[1]}`, query: url.searchParams.get('q') });
  }
  return answer(res, 404, { error: 'not found' });
}

http
  .createServer((req, res) => {
    handle(req, res).catch(() => answer(res, 500, { error: 'upstream failed' }));
  })
  .listen(PORT, '127.0.0.1', () => console.log(`example upstream listening on http://127.0.0.1:${PORT}`));
