// Leak hunting: plants passwords, tokens and secrets in every place a client can put them, forces
// validation, constraint and unexpected database errors, then greps every response and every captured
// log line for them (and for SQL, stacks and password hashes). Also: the logger's redaction, and headers.
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Response } from 'supertest';
import { startTestApp, basic, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { createActivity, snapshot } from '../composite/helpers';
import { createLogger } from '../../src/logger';

const ACTIVITIES = '/rest/common/v1/activities';
const USERS = '/rest/admin/v1/users';

const planted = (label: string) => `${label}-${randomBytes(9).toString('base64url')}`;
const SECRETS = {
  password: planted('pw'),
  newPassword: planted('pw2'),
  shortPassword: 'Sx!' + randomBytes(2).toString('hex'),
  wrongPassword: planted('wrong'),
  bearer: planted('tok'),
  jwtish: `eyJhbGciOiJSUzI1NiJ9.${Buffer.from(JSON.stringify({ sub: planted('sub') })).toString('base64url')}.${planted('sig')}`,
  inBody: planted('body'),
  /** Short, because JSON.parse quotes only the first few characters of the text in its message. */
  inMalformed: `Zq${randomBytes(3).toString('hex')}`,
  inNote: planted('note'),
};

let t: TestApp;
const responses: string[] = [];
/** Keeps every response (status, headers, body text) for the final grep. */
function seen(res: Response): Response {
  responses.push(JSON.stringify({ status: res.status, headers: res.headers, text: res.text }));
  return res;
}

beforeAll(async () => {
  t = await startTestApp({ AUTH_FAILURE_LIMIT: '100000' });
});
afterAll(async () => t.close());

describe('planted secrets', () => {
  it("creates and changes a user's password without ever showing it", async () => {
    const created = seen(
      await t.http
        .post(USERS)
        .set('Authorization', t.auth('admin'))
        .send({ data: { attributes: { username: 'victim', password: SECRETS.password, roles: ['user'] } } }),
    );
    expect(created.status).toBe(201);
    const id = created.body.data.attributes.id as string;
    seen(await t.http.get(`${USERS}/${id}?fields=*all`).set('Authorization', t.auth('admin')));
    seen(await t.http.get(`${USERS}?fields=*all`).set('Authorization', t.auth('admin')));
    expect(
      seen(
        await t.http
          .patch(`${USERS}/${id}`)
          .set('Authorization', t.auth('admin'))
          .send({ data: { attributes: { password: SECRETS.newPassword } } }),
      ).status,
    ).toBe(200);
    expect(seen(await t.http.get(ACTIVITIES).set('Authorization', basic('victim', SECRETS.newPassword))).status).toBe(
      200,
    );
  });

  it('refuses bad input that carries a password without echoing it', async () => {
    const before = await snapshot(t);
    expectError(
      seen(
        await t.http
          .post(USERS)
          .set('Authorization', t.auth('admin'))
          .send({ data: { attributes: { username: 'short', password: SECRETS.shortPassword } } }),
      ),
      400,
    );
    expectError(
      seen(
        await t.http
          .post(USERS)
          .set('Authorization', t.auth('admin'))
          .send({ data: { attributes: { username: 'bad name!', password: SECRETS.password, roles: ['root'] } } }),
      ),
      400,
    );
    expectError(
      seen(
        await t.http
          .post(USERS)
          .set('Authorization', t.auth('admin'))
          .send({ data: { attributes: { username: 'victim', password: SECRETS.password } } }),
      ),
      409,
    );
    expectError(
      seen(
        await t.http
          .post(ACTIVITIES)
          .set('Authorization', t.auth('user'))
          .send({ data: { attributes: { subject: 'x', password: SECRETS.inBody, token: SECRETS.bearer } } }),
      ),
      400,
    );
    expectError(
      seen(
        await t.http
          .post(ACTIVITIES)
          .set('Authorization', t.auth('user'))
          .set('Content-Type', 'application/json')
          .send(`{"data":{"attributes":{"subject":"${SECRETS.inMalformed}"`),
      ),
      400,
    );
    expectError(
      seen(
        await t.http
          .post(ACTIVITIES)
          .set('Authorization', t.auth('user'))
          .set('Content-Type', 'application/json')
          .send(`{"p":${SECRETS.inMalformed}}`),
      ),
      400,
    );
    expect(await snapshot(t)).toBe(before);
  });

  it('refuses wrong credentials without repeating them', async () => {
    const before = await snapshot(t);
    for (const authorization of [
      basic('victim', SECRETS.wrongPassword),
      `Bearer ${SECRETS.bearer}`,
      `Bearer ${SECRETS.jwtish}`,
      `Basic ${SECRETS.bearer}`,
    ]) {
      expectError(
        seen(
          await t.http
            .post(ACTIVITIES)
            .set('Authorization', authorization)
            .send({ data: { attributes: { subject: 'x' } } }),
        ),
        401,
      );
    }
    expect(await snapshot(t)).toBe(before);
  });

  it('answers an unexpected database failure with a bare 500 and a request id the log also carries — no SQL, no values', async () => {
    const activityId = await createActivity(t);
    const before = await snapshot(t);
    await t.knex.schema.renameTable('notes', 'notes_hidden');
    let res: Response;
    try {
      res = seen(
        await t.http
          .post(`${ACTIVITIES}/${activityId}/notes`)
          .set('Authorization', t.auth('user'))
          .send({ data: { attributes: { body: SECRETS.inNote, subject: SECRETS.inBody } } }),
      );
    } finally {
      await t.knex.schema.renameTable('notes_hidden', 'notes');
    }
    expectError(res, 500, 'gw.api.rest.exception.InternalServerErrorException');
    expect(res.body.userMessage).toBe('Something unexpected happened');
    const requestId = res.headers['x-request-id'];
    expect(res.body.details[0].properties.requestId).toBe(requestId);
    const lines = t.logs.filter((l) => l.includes(requestId));
    expect(lines.some((l) => /unexpected error/.test(l))).toBe(true);
    for (const line of lines) expect(line).not.toMatch(/insert into|no such table|does not exist|"stack"|\bat .+:\d+/i);
    expect(await snapshot(t)).toBe(before);
  });

  it('shows none of them, nor a password hash, SQL or a stack, in any response or log line', async () => {
    const hashes = (await t.knex('users').select('password_hash')).map(
      (r: { password_hash: string }) => r.password_hash,
    );
    const secrets = [
      ...Object.values(SECRETS),
      ...hashes,
      Buffer.from(`victim:${SECRETS.wrongPassword}`).toString('base64'),
    ];
    expect(responses.length).toBeGreaterThan(10);
    expect(t.logs.length).toBeGreaterThan(10);
    for (const [where, texts] of [
      ['responses', responses],
      ['logs', t.logs],
    ] as const) {
      for (const text of texts) {
        for (const secret of secrets)
          expect({ where, leaked: text.includes(secret) ? secret : undefined }).toEqual({ where, leaked: undefined });
        expect(text).not.toMatch(
          /password_hash|\binsert into\b|\bselect\b.+\bfrom\b|node_modules|\bat .+\.(ts|js):\d+/i,
        );
      }
    }
  });
});

describe('logger redaction', () => {
  it('redacts credentials by key at any depth and by shape in any string, the message included', () => {
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, cb) {
          lines.push(String(chunk));
          cb();
        },
      }),
    );
    const secret = planted('deep');
    const jwt = `eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.${planted('s')}`;
    logger.info(
      {
        user: 'alice',
        headers: { authorization: `Basic ${secret}`, cookie: `sid=${secret}` },
        request: {
          body: {
            data: {
              attributes: { password: secret, nested: { clientSecret: secret, apiKey: secret, refresh_token: secret } },
            },
          },
        },
        url: `https://bob:${secret}@example.test/path`,
        note: `sent Bearer ${secret} and ${jwt}`,
        list: [{ password: secret }, `Basic ${secret}`],
      },
      `calling with Bearer ${secret}`,
    );
    logger.error(new Error(`failed with token ${jwt}`), 'boom');
    const text = lines.join('');
    expect(text).not.toContain(secret);
    expect(text).not.toContain(jwt.split('.')[2]);
    expect(text).toContain('"user":"alice"');
    expect(text).toContain('example.test/path');
    expect(text).toContain('[redacted]');
  });
});

describe('HTTP hygiene', () => {
  it("sends helmet's API headers, no-store and no X-Powered-By on every kind of answer", async () => {
    const answers = [
      await t.http.get('/healthz'),
      await t.http.get(ACTIVITIES).set('Authorization', t.auth('user')),
      await t.http.get(ACTIVITIES),
      await t.http.get('/rest/nowhere').set('Authorization', t.auth('user')),
      await t.http
        .post(ACTIVITIES)
        .set('Authorization', t.auth('user'))
        .set('Content-Type', 'application/json')
        .send('{'),
    ];
    for (const res of answers) {
      seen(res);
      expect(res.headers['x-powered-by']).toBeUndefined();
      expect(res.headers).toMatchObject({
        'content-security-policy': expect.stringContaining("default-src 'none'"),
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'cache-control': 'no-store',
        'cross-origin-resource-policy': 'same-origin',
      });
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    }
  });
});
