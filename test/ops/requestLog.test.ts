// The one log line per request: a 4xx or 5xx answer's line carries its errorCode (never its messages,
// which can name the caller's values); a success carries none; the time is ISO-8601.
import pino from 'pino';
import { createLogger } from '../../src/logger';
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

function requestLine(path: string, status: number): Record<string, unknown> {
  const lines = t.logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === 'request' && l.path === path && l.status === status);
  expect(lines).toHaveLength(1);
  return lines[0];
}

test('4xx lines carry the errorCode the client got; a 200 line has none; times are ISO-8601', async () => {
  const unauthenticated = await t.http.get('/rest/common/v1/activities');
  expect(unauthenticated.status).toBe(401);
  expect(requestLine('/rest/common/v1/activities', 401).errorCode).toBe(unauthenticated.body.errorCode);

  const missing = await t.http.get('/rest/common/v1/activities/xc:999999').set('Authorization', t.auth('user'));
  expect(missing.status).toBe(404);
  expect(requestLine('/rest/common/v1/activities/xc:999999', 404).errorCode).toBe(
    'gw.api.rest.exception.NotFoundException',
  );

  const bad = await t.http
    .post('/rest/common/v1/activities')
    .set('Authorization', t.auth('user'))
    .set('Content-Type', 'application/json')
    .send('{"data": {"attributes": {"subject": "secret-subject-value", "nope": 1}}}');
  expect(bad.status).toBe(400);
  const badLine = requestLine('/rest/common/v1/activities', 400);
  expect(badLine.errorCode).toBe('gw.api.rest.exception.BadInputException');
  expect(JSON.stringify(badLine)).not.toContain('secret-subject-value');

  const forbidden = await t.http.get('/rest/admin/v1/users').set('Authorization', t.auth('reader'));
  expect(forbidden.status).toBe(403);
  expect(requestLine('/rest/admin/v1/users', 403).errorCode).toBe('gw.api.rest.exception.PermissionDeniedException');

  expect((await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('user'))).status).toBe(200);
  const ok = requestLine('/rest/common/v1/activities', 200);
  expect(ok).not.toHaveProperty('errorCode');
  expect(ok.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
});

test('the server writes its log lines to stdout synchronously (no thread-pool hand-off, no unbounded buffer)', () => {
  const stream = (createLogger('info') as unknown as Record<symbol, { sync?: boolean; fd?: number }>)[
    pino.symbols.streamSym
  ];
  expect(stream.fd).toBe(1);
  expect(stream.sync).toBe(true);
});
