// The durable records' times are ISO texts compared as strings (expiry, leases, purging): `iso` must
// write exactly what toISOString writes, for any time, in any order of calls.
import { iso } from '../../src/durable/run';

const at = (ms: number) => [ms, iso(ms), new Date(ms).toISOString()] as const;

test('iso(ms) is new Date(ms).toISOString(): every second and millisecond digit, minute edges, two minutes in turn', () => {
  const now = Date.UTC(2026, 10, 30, 23, 59, 58, 7);
  const cases: number[] = [0, 1, 59999, 60000, 86399999, 951782400000, 253402300799999, 253402300800000, -1, 1.5];
  for (let ms = now - 2500; ms < now + 2500; ms += 7) cases.push(ms, ms + 48 * 3600000);
  for (let i = 0; i < 2000; i++) cases.push(Math.floor(Math.random() * 253402300799999));
  const wrong = cases.map(at).filter(([, mine, theirs]) => mine !== theirs);
  expect(wrong).toEqual([]);
});

test('iso() with no argument is now', () => {
  const before = new Date().toISOString();
  const mine = iso();
  const after = new Date().toISOString();
  expect(mine >= before && mine <= after).toBe(true);
});
