// Express matches paths exactly as the composite planner does: case-sensitive, no trailing-slash aliases.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

test.each(['/rest/Common/v1/activities', '/rest/common/V1/activities', '/rest/common/v1/activities/'])(
  '%s is not an alias of /rest/common/v1/activities',
  async (path) => {
    const res = await t.http.get(path).set('Authorization', t.auth('user'));
    expect(res.status).toBe(404);
    expect(res.body.errorCode).toBe('gw.api.rest.exception.NotFoundException');
  },
);

test('the exact path answers', async () => {
  expect((await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('user'))).status).toBe(200);
});

test('HEAD is answered as GET, without a body', async () => {
  const res = await t.http.head('/rest/common/v1/activities').set('Authorization', t.auth('user'));
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.text ?? '').toBe('');
});

test('a path parameter is percent-decoded once; a malformed one is a 400, an unknown id a 404', async () => {
  const a = t.auth('user');
  expect((await t.http.get('/rest/common/v1/activities/xc%3A999999').set('Authorization', a)).status).toBe(404);
  const bad = await t.http.get('/rest/common/v1/activities/%E0%A4%A').set('Authorization', a);
  expect(bad.status).toBe(400);
  expect(bad.body.userMessage).toMatch(/malformed percent-encoding/);
});

test('a 404 names the whole path, /rest included', async () => {
  const res = await t.http.get('/rest/common/v1/nothing-here').set('Authorization', t.auth('user'));
  expect(res.status).toBe(404);
  expect(res.body.userMessage).toBe('No resource at /rest/common/v1/nothing-here');
});
