// Every class of client mistake over HTTP gets the SPEC §2 error body with its own status (and changes
// nothing); an unexpected failure is a bare 500 with a request id; and the one-line-per-request log
// carries method, path, status, duration and that id — never a credential.
import request from 'supertest';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import { WRITERS, type Operation } from '../../src/api/operation';
import { expectError } from './expectError';
import { Writable } from 'node:stream';

let t: TestApp;
const ACTIVITIES = '/rest/common/v1/activities';
const LIMIT = 2048;

beforeAll(async () => {
  t = await startTestApp({ BODY_LIMIT_BYTES: String(LIMIT), AUTH_FAILURE_LIMIT: '100000' });
});
afterAll(async () => {
  await t.close();
});

async function activityCount(): Promise<number> {
  const [{ n }] = await t.knex('activities').count({ n: '*' });
  return Number(n);
}

describe('request bodies', () => {
  it('malformed JSON, non-object JSON, poisoned members and a missing body are 400s', async () => {
    const post = (text: string, type = 'application/json') =>
      t.http.post(ACTIVITIES).set('Authorization', t.auth('user')).set('Content-Type', type).send(text);
    const malformed = expectError(await post('{"data": {"attributes": {"subject": "x"}'), 400);
    expect(malformed.body.errorCode).toBe('gw.api.rest.exception.BadInputException');
    expect(malformed.body.userMessage).toMatch(/not valid JSON/);
    expectError(await post("{'data': 1}"), 400);
    for (const text of ['null', '[]', '"text"', '42', 'true']) expectError(await post(text), 400);
    expectError(await post('{"__proto__": {"admin": true}, "data": {"attributes": {"subject": "x"}}}'), 400);
    expectError(await post('{"data": {"attributes": {"subject": "x", "constructor": {"prototype": {}}}}}'), 400);
    expectError(await t.http.post(ACTIVITIES).set('Authorization', t.auth('user')), 400);
    expect(await activityCount()).toBe(0);
  });

  it('a body that is not JSON is a 415', async () => {
    for (const type of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/xml',
      'multipart/form-data; boundary=x',
    ]) {
      const res = expectError(
        await t.http.post(ACTIVITIES).set('Authorization', t.auth('user')).set('Content-Type', type).send('subject=x'),
        415,
      );
      expect(res.body.errorCode).toBe('gw.api.rest.exception.UnsupportedMediaTypeException');
    }
    const noType = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .set('Content-Type', '')
      .send(Buffer.from('{"data":{"attributes":{"subject":"x"}}}'));
    expectError(noType, 415);
    // JSON with a charset parameter and +json types are JSON
    const charset = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .set('Content-Type', 'application/json; charset=utf-8')
      .send(JSON.stringify({ data: { attributes: { subject: 'with charset' } } }));
    expect(charset.status).toBe(201);
    expect(await activityCount()).toBe(1);
    await t.knex('activities').delete();
  });

  it('a body over BODY_LIMIT_BYTES is a 413 and creates nothing', async () => {
    const big = { data: { attributes: { subject: 'big', description: 'x'.repeat(LIMIT) } } };
    const res = expectError(await t.http.post(ACTIVITIES).set('Authorization', t.auth('user')).send(big), 413);
    expect(res.body.errorCode).toBe('gw.api.rest.exception.PayloadTooLargeException');
    expect(res.body.userMessage).toContain(String(LIMIT));
    const fits = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .send({ data: { attributes: { subject: 'fits', description: 'x'.repeat(LIMIT - 200) } } });
    expect(fits.status).toBe(201);
    expect(await activityCount()).toBe(1);
    await t.knex('activities').delete();
  });

  it('unknown members, wrong types and out-of-range values are 400s naming the member', async () => {
    const send = (body: unknown) =>
      t.http
        .post(ACTIVITIES)
        .set('Authorization', t.auth('user'))
        .send(body as object);
    expect(
      expectError(await send({ data: { attributes: { subject: 'x', shoeSize: 9 } } }), 400).body.details[0].properties
        .member,
    ).toBe('shoeSize');
    expect(
      expectError(await send({ data: { attributes: { subject: 'x' } }, meta: {} }), 400).body.userMessage,
    ).toContain('meta');
    expect(expectError(await send({ data: { attributes: { subject: ['x'] } } }), 400).body.userMessage).toContain(
      'subject',
    );
    expect(
      expectError(await send({ data: { attributes: { subject: 'x', dueDate: 20300101 } } }), 400).body.userMessage,
    ).toContain('dueDate');
    expect(
      expectError(await send({ data: { attributes: { subject: 'x'.repeat(300) } } }), 400).body.userMessage,
    ).toContain('subject');
    expect(
      expectError(await send({ data: { attributes: { subject: 'x', priority: { code: 'high', name: 'High' } } } }), 400)
        .body.userMessage,
    ).toContain('name');
    expect(
      expectError(await send({ data: { attributes: { subject: 'x' }, checksum: 'x'.repeat(40) } }), 400).body
        .userMessage,
    ).toContain('checksum');
    expect(
      expectError(await t.http.get(`${ACTIVITIES}?pageSize=1000`).set('Authorization', t.auth('user')), 400).body
        .userMessage,
    ).toContain('pageSize');
    expect(
      expectError(await t.http.get(`${ACTIVITIES}?fields=a&fields=b`).set('Authorization', t.auth('user')), 400).body
        .userMessage,
    ).toContain('fields');
    expect(await activityCount()).toBe(0);
  });
});

describe('routes', () => {
  it('unknown routes are 404s in the error shape', async () => {
    const a = t.auth('user');
    for (const path of [
      '/rest/common/v1/nothing',
      '/rest/common/v2/activities',
      '/rest/common/v1/activities/xc:1/nothing',
      '/rest/foo/v1/openapi.json',
      '/rest',
      '/rest/common/v1/activities/xc:1/notes/xc:2',
    ]) {
      const res = expectError(await t.http.get(path).set('Authorization', a), 404);
      expect(res.body.errorCode).toBe('gw.api.rest.exception.NotFoundException');
    }
    expectError(await t.http.get('/nothing'), 404);
    expectError(await t.http.post('/healthz/deeper'), 404);
    expectError(await t.http.get(`${ACTIVITIES}/%E0%A4%A`).set('Authorization', a), 400);
  });

  it('a known path with another method is a 405 with Allow', async () => {
    const a = t.auth('user');
    const cases: Array<[string, string, string]> = [
      ['put', ACTIVITIES, 'GET, POST'],
      ['delete', ACTIVITIES, 'GET, POST'],
      ['put', `${ACTIVITIES}/xc:1`, 'GET, PATCH, DELETE'],
      ['post', '/rest/common/v1/notes/xc:1', 'GET, PATCH, DELETE'],
      ['get', `${ACTIVITIES}/xc:1/complete`, 'POST'],
      ['get', '/rest/common/v1/search/activities', 'POST'],
      ['patch', '/rest/admin/v1/users', 'GET, POST'],
    ];
    for (const [method, path, allow] of cases) {
      const res = expectError(
        await (t.http as unknown as Record<string, (p: string) => request.Test>)[method](path).set('Authorization', a),
        405,
      );
      expect(`${method} ${path}: ${res.headers.allow}`).toBe(`${method} ${path}: ${allow}`);
      expect(res.body.errorCode).toBe('gw.api.rest.exception.MethodNotAllowedException');
    }
  });
});

describe('unexpected failures and the request log', () => {
  it('an unexpected error is a 500 with only a request id; the log has the id but no message, SQL or stack', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const boom: Operation = {
      operationId: 'boomForTest',
      api: 'common',
      method: 'get',
      path: '/boom',
      summary: 'fails',
      tag: 'Test',
      roles: WRITERS,
      allowForComposite: false,
      queryParams: [],
      transactional: false,
      responses: [],
      async handler() {
        throw new Error("select * from users where password_hash = 'scrypt$secret-value'");
      },
    };
    const { app } = createApp({
      config: t.config,
      knex: t.knex,
      logger: createLogger('info', sink),
      extraOperations: () => [boom],
    });
    const res = await request(app).get('/rest/common/v1/boom').set('Authorization', t.auth('user'));
    expectError(res, 500);
    expect(res.body.errorCode).toBe('gw.api.rest.exception.InternalServerErrorException');
    const requestId = res.headers['x-request-id'];
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.body.details).toEqual([{ message: expect.any(String), properties: { requestId } }]);
    const log = lines.join('');
    expect(log).toContain(requestId);
    expect(log).not.toMatch(/secret-value|select \*|password_hash|\.ts:\d+/);
    const requestLine = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((e) => e.msg === 'request' && e.reqId === requestId);
    expect(requestLine).toMatchObject({ status: 500, errorCode: 'gw.api.rest.exception.InternalServerErrorException' });
  });

  it('writes one JSON line per request with method, path, status, durationMs and reqId, and no credential', async () => {
    t.logs.length = 0;
    const ok = await t.http
      .get(`${ACTIVITIES}?filter=subject:eq:secret-query-value`)
      .set('Authorization', t.auth('user'));
    const denied = await t.http.get(ACTIVITIES).set('Authorization', 'Basic YWxpY2U6d3JvbmctcGFzc3dvcmQ=');
    const created = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('admin'))
      .send({ data: { attributes: { subject: 'logged' } } });
    const entries = t.logs
      .flatMap((l) => l.split('\n'))
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const requests = entries.filter((e) => e.msg === 'request');
    for (const [res, method, status] of [
      [ok, 'GET', 200],
      [denied, 'GET', 401],
      [created, 'POST', 201],
    ] as const) {
      const mine = requests.filter((e) => e.reqId === res.headers['x-request-id']);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({ method, path: ACTIVITIES, status, level: 30 });
      expect(typeof mine[0].durationMs).toBe('number');
      expect(mine[0].durationMs as number).toBeGreaterThanOrEqual(0);
    }
    expect(requests).toHaveLength(3);
    const text = t.logs.join('');
    for (const secret of [
      'alice-secret-pw',
      'admin-secret-pw',
      'wrong-password',
      'YWxpY2U6',
      'Basic ',
      'secret-query-value',
    ])
      expect(text).not.toContain(secret);
  });
});
