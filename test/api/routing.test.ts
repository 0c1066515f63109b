// Express matches paths exactly as the composite planner does: case-sensitive, no trailing-slash aliases.
import { startTestApp, type TestApp } from '../helpers/testApp';

let t: TestApp;
beforeAll(async () => { t = await startTestApp(); });
afterAll(async () => t.close());

test.each(['/rest/Common/v1/activities', '/rest/common/V1/activities', '/rest/common/v1/activities/'])('%s is not an alias of /rest/common/v1/activities', async (path) => {
  const res = await t.http.get(path).set('Authorization', t.auth('user'));
  expect(res.status).toBe(404);
  expect(res.body.errorCode).toBe('gw.api.rest.exception.NotFoundException');
});

test('the exact path answers', async () => {
  expect((await t.http.get('/rest/common/v1/activities').set('Authorization', t.auth('user'))).status).toBe(200);
});
