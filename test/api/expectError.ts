// Owns the assertion every error test shares: the SPEC §2 error body, with the HTTP status repeated
// in `status`, and nothing in it that leaks internals (stack traces, SQL).
import type { Response } from 'supertest';

export function expectError(res: Response, status: number, errorCode?: string): Response {
  expect({ status: res.status, body: res.body }).toMatchObject({ status, body: { status } });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(Object.keys(res.body).sort()).toEqual(['details', 'developerMessage', 'errorCode', 'status', 'userMessage']);
  expect(typeof res.body.userMessage).toBe('string');
  expect(res.body.userMessage.length).toBeGreaterThan(0);
  expect(typeof res.body.developerMessage).toBe('string');
  expect(Array.isArray(res.body.details)).toBe(true);
  expect(res.body.errorCode).toMatch(/^gw\.api\./);
  if (errorCode) expect(res.body.errorCode).toBe(errorCode);
  const text = JSON.stringify(res.body);
  expect(text).not.toMatch(
    /\bat .+\.(ts|js):\d+|node_modules|\bselect\b.+\bfrom\b|\binsert into\b|\bupdate\b.+\bset\b|\bdelete from\b|SQLITE_|sqlite|password_hash/i,
  );
  return res;
}
