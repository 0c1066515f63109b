// How the durable headers are read: Idempotency-Key's bounds, Prefer as RFC 7240 says (preferences
// comma-separated, names case-insensitive, unknown or malformed ones ignored), and the fingerprint.
import { asyncPreference, fingerprint, idempotencyKey, MAX_WAIT_SECONDS } from '../../src/durable/headers';
import { ApiError } from '../../src/errors';

test('Prefer: respond-async with or without wait; anything else is not an asynchronous call', () => {
  expect(asyncPreference('respond-async')).toEqual({ waitSeconds: 0 });
  expect(asyncPreference('Respond-Async, wait=5')).toEqual({ waitSeconds: 5 });
  expect(asyncPreference('wait=3 , respond-async, handling=lenient')).toEqual({ waitSeconds: 3 });
  expect(asyncPreference('respond-async, wait=99999')).toEqual({ waitSeconds: MAX_WAIT_SECONDS });
  expect(asyncPreference('respond-async, wait=soon')).toEqual({ waitSeconds: 0 });
  expect(asyncPreference('respond-async, wait=-1')).toEqual({ waitSeconds: 0 });
  expect(asyncPreference('return=minimal')).toBeUndefined();
  expect(asyncPreference('respond-async=no')).toBeUndefined();
  expect(asyncPreference('')).toBeUndefined();
  expect(asyncPreference(undefined)).toBeUndefined();
});

test('Idempotency-Key: 1 to 255 characters, else a 400', () => {
  expect(idempotencyKey({})).toBeUndefined();
  expect(idempotencyKey({ 'idempotency-key': 'a' })).toBe('a');
  expect(idempotencyKey({ 'idempotency-key': 'k'.repeat(255) })).toHaveLength(255);
  for (const bad of ['', 'k'.repeat(256)]) {
    let caught: unknown;
    try {
      idempotencyKey({ 'idempotency-key': bad });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ApiError);
    expect((caught as ApiError).status).toBe(400);
  }
});

test('the fingerprint tells method, uri and body apart', () => {
  const base = fingerprint('POST', '/rest/common/v1/activities', Buffer.from('{}'));
  expect(fingerprint('post', '/rest/common/v1/activities', Buffer.from('{}'))).toBe(base);
  expect(fingerprint('PATCH', '/rest/common/v1/activities', Buffer.from('{}'))).not.toBe(base);
  expect(fingerprint('POST', '/rest/common/v1/activities?fields=id', Buffer.from('{}'))).not.toBe(base);
  expect(fingerprint('POST', '/rest/common/v1/activities', Buffer.from('{ }'))).not.toBe(base);
  expect(fingerprint('POST', '/rest/common/v1/activities', undefined)).not.toBe(base);
});
