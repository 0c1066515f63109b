// Attacks on authentication: Bearer JWTs from a real OAuth2 server on loopback (expired, not yet valid,
// wrong audience or issuer, another key, alg none, HMAC confusion), the JWKS cache, and brute force (429).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Server } from 'oauth2-mock-server';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import pino from 'pino';
import { startTestApp, basic, PASSWORDS, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { snapshot } from '../composite/helpers';
import { JwtAuthenticator } from '../../src/auth/jwt';

const AUDIENCE = 'composite-api';
const ACTIVITIES = '/rest/common/v1/activities';
const UNAUTHENTICATED = 'gw.api.rest.exception.UnauthenticatedException';

let oauth: OAuth2Server;
let t: TestApp;

interface Claims {
  sub?: string;
  roles?: unknown;
  aud?: string;
  iss?: string;
  exp?: number;
  nbf?: number;
}

/** A token from the mock issuer, with its standard claims changed as given. */
function token(claims: Claims = {}, expiresIn = 300): Promise<string> {
  return oauth.issuer.buildToken({
    expiresIn,
    scopesOrTransform: (_header, payload) => {
      Object.assign(payload, { sub: 'alice', roles: ['user'], aud: AUDIENCE }, claims);
    },
  });
}

function b64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

const bearer = (jwt: string) => `Bearer ${jwt}`;

/** Tries to create an activity with the token: refused with 401 in the contract's shape, nothing written. */
async function expectRefused(jwt: string): Promise<void> {
  const before = await snapshot(t);
  const res = await t.http
    .post(ACTIVITIES)
    .set('Authorization', bearer(jwt))
    .send({ data: { attributes: { subject: 'should not exist' } } });
  expectError(res, 401, UNAUTHENTICATED);
  expect(res.headers['www-authenticate']).toMatch(/Bearer realm=/);
  expect(await snapshot(t)).toBe(before);
}

beforeAll(async () => {
  oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  await oauth.start(0, '127.0.0.1');
  t = await startTestApp({
    JWT_JWKS_URL: `${oauth.issuer.url}/jwks`,
    JWT_ISSUER: oauth.issuer.url as string,
    JWT_AUDIENCE: AUDIENCE,
    AUTH_FAILURE_LIMIT: '100000',
  });
});
afterAll(async () => {
  await t.close();
  await oauth.stop();
});

describe('Bearer JWT', () => {
  it('accepts a valid token: subject is the username, roles from the claim, the users-table id as author', async () => {
    const jwt = await token({ sub: 'alice', roles: ['user'] });
    const created = await t.http
      .post(ACTIVITIES)
      .set('Authorization', bearer(jwt))
      .send({ data: { attributes: { subject: 'By token' } } });
    expect(created.status).toBe(201);
    const id = created.body.data.attributes.id as string;
    const note = await t.http
      .post(`${ACTIVITIES}/${id}/notes`)
      .set('Authorization', bearer(jwt))
      .send({ data: { attributes: { body: 'Signed note' } } });
    expect(note.status).toBe(201);
    expect(note.body.data.attributes.author).toMatchObject({ id: t.ids.user, displayName: 'Alice User' });
    const row = await t.knex('notes').where({ body: 'Signed note' }).first();
    expect(`${t.config.idPrefix}:${row.author_id}`).toBe(t.ids.user);
  });

  it("keeps only the server's roles from the claim, and enforces them", async () => {
    const reader = await token({ sub: 'rita', roles: ['reader', 'superuser', 'root'] });
    expect((await t.http.get(ACTIVITIES).set('Authorization', bearer(reader))).status).toBe(200);
    const before = await snapshot(t);
    expectError(
      await t.http
        .post(ACTIVITIES)
        .set('Authorization', bearer(reader))
        .send({ data: { attributes: { subject: 'x' } } }),
      403,
    );
    // A `roles` claim that names admin as a string inside an object is not a role.
    const sneaky = await token({ sub: 'alice', roles: [{ role: 'admin' }, 'admin ', 'ADMIN'] });
    expectError(await t.http.get('/rest/admin/v1/users').set('Authorization', bearer(sneaky)), 403);
    expect(await snapshot(t)).toBe(before);
  });

  it('accepts a subject with no users-table row: no id, so a note has no author', async () => {
    const jwt = await token({ sub: 'svc-importer', roles: ['user'] });
    const created = await t.http
      .post(ACTIVITIES)
      .set('Authorization', bearer(jwt))
      .send({ data: { attributes: { subject: 'From a service' } } });
    expect(created.status).toBe(201);
    const note = await t.http
      .post(`${ACTIVITIES}/${created.body.data.attributes.id}/notes`)
      .set('Authorization', bearer(jwt))
      .send({ data: { attributes: { body: 'Service note' } } });
    expect(note.status).toBe(201);
    expect(note.body.data.attributes.author).toBeUndefined();
    expect((await t.knex('notes').where({ body: 'Service note' }).first()).author_id).toBeNull();
  });

  it('refuses an expired token', async () => {
    await expectRefused(await token({}, -120));
  });

  it('refuses a token that is not valid yet (nbf in the future)', async () => {
    await expectRefused(await token({ nbf: Math.floor(Date.now() / 1000) + 3600 }));
  });

  it('refuses a token for another audience, or from another issuer', async () => {
    await expectRefused(await token({ aud: 'some-other-api' }));
    await expectRefused(await token({ iss: 'https://evil.example/' }));
  });

  it('refuses a token without a subject or with a subject that is not text', async () => {
    await expectRefused(
      await oauth.issuer.buildToken({
        scopesOrTransform: (_h, p) => {
          Object.assign(p, { roles: ['admin'], aud: AUDIENCE });
        },
      }),
    );
    await expectRefused(await token({ sub: 'a\u0000b' }));
  });

  it("refuses a token signed by another key — under the issuer's kid, and under a kid of its own", async () => {
    const { privateKey } = await generateKeyPair('RS256');
    const claims = { sub: 'admin', roles: ['admin'], aud: AUDIENCE, iss: oauth.issuer.url as string };
    const issuerKid = (oauth.issuer.keys.toJSON()[0] as JWK & { kid: string }).kid;
    for (const kid of [issuerKid, 'attacker-key']) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      await expectRefused(forged);
    }
  });

  it('refuses alg none, with and without a signature part', async () => {
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'admin', roles: ['admin'], aud: AUDIENCE, iss: oauth.issuer.url, iat: now, exp: now + 300 };
    for (const alg of ['none', 'None', 'NONE']) {
      const unsigned = `${b64url({ alg, typ: 'JWT' })}.${b64url(payload)}`;
      await expectRefused(`${unsigned}.`);
      await expectRefused(`${unsigned}.c2lnbmF0dXJl`);
    }
  });

  it("refuses an HMAC token whose secret is the issuer's public key (algorithm confusion)", async () => {
    const publicJwk = oauth.issuer.keys.toJSON()[0] as JWK & { kid: string };
    const now = Math.floor(Date.now() / 1000);
    const payload = { sub: 'admin', roles: ['admin'], aud: AUDIENCE, iss: oauth.issuer.url, iat: now, exp: now + 300 };
    const secret = new TextEncoder().encode(JSON.stringify(publicJwk));
    const forged = await new SignJWT(payload).setProtectedHeader({ alg: 'HS256', kid: publicJwk.kid }).sign(secret);
    await expectRefused(forged);
  });

  it('refuses a token of a local account that an admin switched off', async () => {
    await t.knex('users').insert({
      id: 900,
      username: 'gone',
      display_name: 'Gone',
      roles: JSON.stringify(['user']),
      active: false,
      password_hash: 'scrypt$1$1$1$AA==$AA==',
      checksum: 0,
      create_time: new Date().toISOString(),
      update_time: new Date().toISOString(),
    });
    await expectRefused(await token({ sub: 'gone', roles: ['user'] }));
  });

  it('keeps Basic working beside Bearer', async () => {
    expect((await t.http.get(ACTIVITIES).set('Authorization', t.auth('reader'))).status).toBe(200);
    expectError(await t.http.get(ACTIVITIES).set('Authorization', basic('rita', 'wrong')), 401, UNAUTHENTICATED);
  });
});

describe('JWKS fetching', () => {
  /** A JWKS endpoint on loopback that counts how often it is fetched. */
  async function jwksServer(keys: () => JWK[]) {
    let fetches = 0;
    const server = http.createServer((_req, res) => {
      fetches++;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: keys() }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    return { url, fetches: () => fetches, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  async function keyPair(kid: string) {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } as JWK };
  }

  const sign = (key: Awaited<ReturnType<typeof keyPair>>, sub: string) =>
    new SignJWT({ roles: ['user'] })
      .setProtectedHeader({ alg: 'ES256', kid: key.kid })
      .setSubject(sub)
      .setIssuer('https://issuer.test')
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);

  const quiet = pino({ level: 'silent' });
  const settings = (url: string) => ({ jwksUrl: url, issuer: 'https://issuer.test', audience: AUDIENCE });

  it('caches the key set, and fetches it again when a token names a kid it has not seen (key rotation)', async () => {
    const first = await keyPair('k1');
    const second = await keyPair('k2');
    const published = [first.jwk];
    const jwks = await jwksServer(() => published);
    try {
      const auth = new JwtAuthenticator(t.knex, settings(jwks.url), quiet, { cooldownMs: 0 });
      for (let i = 0; i < 3; i++)
        expect((await auth.authenticate(bearer(await sign(first, 'alice'))))?.username).toBe('alice');
      expect(jwks.fetches()).toBe(1);
      published.push(second.jwk);
      expect((await auth.authenticate(bearer(await sign(second, 'rita'))))?.roles).toEqual(['user']);
      expect(jwks.fetches()).toBe(2);
    } finally {
      await jwks.close();
    }
  });

  it('does not let unknown kids make it fetch again and again within the cool-down', async () => {
    const known = await keyPair('k1');
    const jwks = await jwksServer(() => [known.jwk]);
    try {
      const auth = new JwtAuthenticator(t.knex, settings(jwks.url), quiet, { cooldownMs: 60_000 });
      expect(await auth.authenticate(bearer(await sign(known, 'alice')))).toBeDefined();
      for (let i = 0; i < 5; i++)
        expect(await auth.authenticate(bearer(await sign(await keyPair(`random-${i}`), 'alice')))).toBeUndefined();
      expect(jwks.fetches()).toBe(1);
    } finally {
      await jwks.close();
    }
  });

  it("answers 503 in the contract's shape when the key set cannot be fetched, and writes nothing", async () => {
    const jwks = await jwksServer(() => []);
    await jwks.close(); // nothing listens on that port any more
    const down = await startTestApp({ JWT_JWKS_URL: jwks.url, JWT_AUDIENCE: AUDIENCE });
    try {
      const before = await snapshot(down);
      const res = await down.http
        .post(ACTIVITIES)
        .set('Authorization', bearer(await token()))
        .send({ data: { attributes: { subject: 'x' } } });
      expectError(res, 503, 'gw.api.rest.exception.ServiceUnavailableException');
      expect(await snapshot(down)).toBe(before);
      expect((await down.http.get(ACTIVITIES).set('Authorization', down.auth('user'))).status).toBe(200);
    } finally {
      await down.close();
    }
  });
});

describe('brute force', () => {
  it('answers 429 with Retry-After once a client has failed too often — even for the right password — and writes nothing', async () => {
    const limited = await startTestApp({ AUTH_FAILURE_LIMIT: '3', AUTH_FAILURE_WINDOW_MS: '600000' });
    try {
      const before = await snapshot(limited);
      const attempt = (authorization?: string) => {
        const req = limited.http.post(ACTIVITIES).send({ data: { attributes: { subject: 'brute' } } });
        return authorization ? req.set('Authorization', authorization) : req;
      };
      // No credentials at all is not a guess and does not count.
      for (let i = 0; i < 5; i++) expectError(await attempt(), 401, UNAUTHENTICATED);
      for (const guess of ['guess-1', 'guess-2', 'guess-3'])
        expectError(await attempt(basic('alice', guess)), 401, UNAUTHENTICATED);
      for (const authorization of [basic('alice', 'guess-4'), basic('alice', PASSWORDS.user), 'Bearer a.b.c']) {
        const res = expectError(await attempt(authorization), 429, 'gw.api.rest.exception.TooManyRequestsException');
        const retryAfter = Number(res.headers['retry-after']);
        expect(Number.isInteger(retryAfter)).toBe(true);
        expect(retryAfter).toBeGreaterThan(0);
        expect(retryAfter).toBeLessThanOrEqual(600);
      }
      expect(await snapshot(limited)).toBe(before);
    } finally {
      await limited.close();
    }
  });

  it('counts by the client a trusted proxy names (TRUST_PROXY): one client guessing does not lock out the others', async () => {
    const limited = await startTestApp({
      AUTH_FAILURE_LIMIT: '2',
      AUTH_FAILURE_WINDOW_MS: '600000',
      TRUST_PROXY: 'loopback',
    });
    try {
      const from = (client: string, authorization: string) =>
        limited.http.get(ACTIVITIES).set('X-Forwarded-For', client).set('Authorization', authorization);
      for (const guess of ['guess-1', 'guess-2'])
        expectError(await from('203.0.113.7', basic('alice', guess)), 401, UNAUTHENTICATED);
      expectError(
        await from('203.0.113.7', limited.auth('user')),
        429,
        'gw.api.rest.exception.TooManyRequestsException',
      );
      expect((await from('198.51.100.9', limited.auth('user'))).status).toBe(200);
    } finally {
      await limited.close();
    }
  });

  it('without TRUST_PROXY believes no X-Forwarded-For: a client cannot step around the limit by naming another address', async () => {
    const limited = await startTestApp({ AUTH_FAILURE_LIMIT: '2', AUTH_FAILURE_WINDOW_MS: '600000' });
    try {
      const from = (client: string, authorization: string) =>
        limited.http.get(ACTIVITIES).set('X-Forwarded-For', client).set('Authorization', authorization);
      for (const guess of ['guess-1', 'guess-2'])
        expectError(await from('203.0.113.7', basic('alice', guess)), 401, UNAUTHENTICATED);
      expectError(
        await from('198.51.100.9', limited.auth('user')),
        429,
        'gw.api.rest.exception.TooManyRequestsException',
      );
    } finally {
      await limited.close();
    }
  });

  it('does not count successful sign-ins', async () => {
    const limited = await startTestApp({ AUTH_FAILURE_LIMIT: '2', AUTH_FAILURE_WINDOW_MS: '600000' });
    try {
      for (let i = 0; i < 5; i++)
        expect((await limited.http.get(ACTIVITIES).set('Authorization', limited.auth('user'))).status).toBe(200);
      expectError(await limited.http.get(ACTIVITIES).set('Authorization', basic('alice', 'nope')), 401);
      expect((await limited.http.get(ACTIVITIES).set('Authorization', limited.auth('user'))).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
