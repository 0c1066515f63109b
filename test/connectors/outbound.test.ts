// The outbound guard against SSRF: https only and public addresses only, checked on the URL and on
// the address DNS returns at connect time; redirects re-checked hop by hop; exempt hosts from
// CONNECTORS_ALLOWED_HOSTS. The connector under test takes its whole URL from the client, the worst case.
import net from 'node:net';
import path from 'node:path';
import { isPublicAddress } from '../../src/connectors/publicAddress';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { json, startUpstream, tempDir, writeJson, type Upstream } from './upstream';

let t: TestApp;
let api: Upstream;
let trap: net.Server;
let trapPort: number;
let trapConnections = 0;

beforeAll(async () => {
  // Anything that reaches this listener got past the guard.
  trap = net.createServer((socket) => {
    trapConnections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
  trapPort = (trap.address() as net.AddressInfo).port;
  api = await startUpstream((req, res) => {
    if (req.url === '/redirect-loopback')
      return void res.writeHead(302, { location: `https://localhost:${trapPort}/` }).end();
    if (req.url === '/redirect-http')
      return void res.writeHead(307, { location: `http://127.0.0.1:${trapPort}/` }).end();
    if (req.url === '/redirect-metadata')
      return void res.writeHead(301, { location: 'https://169.254.169.254/latest/meta-data/' }).end();
    if (req.url === '/redirect-ok') return void res.writeHead(302, { location: '/ok' }).end();
    json(res, 200, { ok: true, url: req.url });
  });
  const dir = tempDir();
  const registry = path.join(dir, 'connectors_registry.json');
  writeJson(registry, {
    connectors: [
      // Follows redirects to any origin, so every hop meets the address rule (the default would stop at the origin).
      { name: 'Fetch anything', permalink: 'fetch', url: '{{ query_parameters.target }}', follow_redirects: 'any' },
      {
        name: 'Token from a private address',
        permalink: 'private-token',
        url: `${api.url}/ok`,
        authentication: {
          type: 'oauth_client_credentials',
          config: { token_url: 'https://10.1.2.3/token', client_id: 'a', client_secret: 'b' },
        },
      },
    ],
  });
  t = await startTestApp({
    CONNECTORS_REGISTRY: registry,
    CONNECTORS_ALLOWED_HOSTS: api.host,
    CONNECTOR_TIMEOUT_MS: '2000',
  });
});

afterAll(async () => {
  await t.close();
  await api.close();
  await new Promise<void>((resolve) => trap.close(() => resolve()));
});

const fetchVia = (target: string) =>
  t.http.post('/rest/connectors/v1/connectors/fetch/execute').query({ target }).set('Authorization', t.auth('user'));

test('an exempt host is reached over http, and same-rule redirects are followed', async () => {
  expect((await fetchVia(`${api.url}/hello`)).body).toEqual({ ok: true, url: '/hello' });
  expect((await fetchVia(`${api.url}/redirect-ok`)).body).toEqual({ ok: true, url: '/ok' });
});

test.each([
  ['http to a host that is not exempt', 'http://example.com/', /https/],
  ['a non-http scheme', 'file:///etc/passwd', /file URLs cannot be requested/],
  ['a private address', 'https://10.0.0.5/admin', /private address/],
  ['another private range', 'https://192.168.1.1/', /private address/],
  ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/', /linkLocal address/],
  ['IPv6 loopback', `https://[::1]:{trap}/`, /loopback address/],
  ['IPv4-mapped IPv6 loopback', `https://[::ffff:127.0.0.1]:{trap}/`, /loopback address/],
  [
    'IPv4-compatible IPv6 loopback',
    `https://[::127.0.0.1]:{trap}/`,
    /\[::7f00:1\] is an address that embeds 127\.0\.0\.1 \(IPv4-compatible\), a loopback address/,
  ],
  [
    'IPv4-compatible IPv6 private',
    `https://[::10.0.0.1]/`,
    /embeds 10\.0\.0\.1 \(IPv4-compatible\), a private address/,
  ],
  [
    'IPv4-mapped IPv6 metadata address',
    `https://[::ffff:169.254.169.254]/`,
    /embeds 169\.254\.169\.254 \(IPv4-mapped\), a linkLocal address/,
  ],
  [
    'IPv4-translated IPv6 loopback',
    `https://[::ffff:0:127.0.0.1]:{trap}/`,
    /embeds 127\.0\.0\.1 \(IPv4-translated\), a loopback address/,
  ],
  ['NAT64 loopback', `https://[64:ff9b::127.0.0.1]:{trap}/`, /embeds 127\.0\.0\.1 \(NAT64\), a loopback address/],
  ['NAT64 private', `https://[64:ff9b::192.168.0.1]/`, /embeds 192\.168\.0\.1 \(NAT64\), a private address/],
  ['local-use NAT64 (/48 layout) private', `https://[64:ff9b:1:a00:1::]/`, /\(NAT64 local-use\), a private address/],
  ['6to4 loopback', `https://[2002:7f00:1::1]:{trap}/`, /embeds 127\.0\.0\.1 \(6to4\), a loopback address/],
  ['6to4 private', `https://[2002:c0a8:1::1]/`, /embeds 192\.168\.0\.1 \(6to4\), a private address/],
  [
    'Teredo with a loopback client',
    `https://[2001:0:808:808::80ff:fefe]:{trap}/`,
    /embeds 127\.0\.1\.1 \(Teredo client\), a loopback address/,
  ],
  [
    'Teredo with a private server',
    `https://[2001:0:a00:1::f7f7:f7f7]/`,
    /embeds 10\.0\.0\.1 \(Teredo server\), a private address/,
  ],
  [
    'ISATAP with a private IPv4',
    `https://[2606:4700::5efe:10.0.0.1]/`,
    /embeds 10\.0\.0\.1 \(ISATAP\), a private address/,
  ],
  ['a decimal-encoded loopback', `https://2130706433:{trap}/`, /loopback address/],
  ['loopback on a port that is not exempt', `https://127.0.0.1:{trap}/`, /loopback address/],
  ['a DNS name that resolves to loopback', `https://localhost:{trap}/`, /localhost resolves to a loopback address/],
  [
    'a redirect to a name that resolves to loopback',
    `{api}/redirect-loopback`,
    /localhost resolves to a loopback address/,
  ],
  ['a redirect from https rules to plain http', `{api}/redirect-http`, /https/],
  ['a redirect to the metadata address', `{api}/redirect-metadata`, /linkLocal address/],
])('refused: %s', async (_label, target, reason) => {
  const res = await fetchVia(target.replace('{trap}', String(trapPort)).replace('{api}', api.url));
  expect(res.status).toBe(502);
  expect(res.body.errors.code).toBe('OUTBOUND_RULE');
  expect(res.body.errors.detail).toMatch(reason);
  expect(res.body.errors.scope).toBe("Connector 'fetch': Downstream (network/external service)");
  expect(trapConnections).toBe(0);
});

test('a token URL on a private address is refused before anything is sent', async () => {
  const calls = api.requests.length;
  const res = await t.http
    .post('/rest/connectors/v1/connectors/private-token/execute')
    .set('Authorization', t.auth('user'));
  expect(res.status).toBe(502);
  expect(res.body.errors).toMatchObject({ code: 'OUTBOUND_RULE' });
  expect(res.body.errors.detail).toMatch(/token request refused: .*private address/);
  expect(api.requests.length).toBe(calls);
});

test.each([
  ['8.8.8.8', true],
  ['2606:4700:4700::1111', true],
  ['10.1.2.3', false],
  ['172.16.0.1', false],
  ['192.168.0.1', false],
  ['100.64.0.1', false],
  ['127.0.0.1', false],
  ['169.254.169.254', false],
  ['0.0.0.0', false],
  ['224.0.0.1', false],
  ['255.255.255.255', false],
  ['::1', false],
  ['::', false],
  ['fc00::1', false],
  ['fe80::1', false],
  ['::ffff:10.0.0.1', false],
  ['64:ff9b::a00:1', false],
  ['not-an-ip', false],
  // IPv6 forms that embed IPv4 are judged by the IPv4 address: loopback and private ones refused…
  ['::7f00:1', false],
  ['::a00:1', false],
  ['::ffff:0:7f00:1', false],
  ['64:ff9b::7f00:1', false],
  ['64:ff9b:1:7f00:1::', false],
  ['2002:7f00:1::1', false],
  ['2002:a9fe:a9fe::1', false],
  ['2001:0:808:808::80ff:fefe', false],
  ['2001:0:7f00:1::f7f7:f7f7', false],
  ['2606:4700::5efe:7f00:1', false],
  ['fe80::5efe:808:808', false],
  // …public ones still reach their public host.
  ['::808:808', true],
  ['::ffff:8.8.8.8', true],
  ['::ffff:0:808:808', true],
  ['64:ff9b::808:808', true],
  ['2002:808:808::1', true],
  ['2001:0:808:808::f7f7:f7f7', true],
  ['2606:4700::5efe:808:808', true],
])('isPublicAddress(%s) is %s', (address, expected) => {
  expect(isPublicAddress(address)).toBe(expected);
});
