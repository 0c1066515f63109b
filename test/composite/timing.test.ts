// Server-Timing stays small enough for every client and proxy: an entry per subrequest up to the
// default limit, and the rest summed once a raised limit would make the header too long to read.
import { startTestApp, type TestApp } from '../helpers/testApp';
import { SERVER_TIMING_MAX_CHARS } from '../../src/composite/respond';
import { composite } from './helpers';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ COMPOSITE_MAX_SUBREQUESTS: '400' });
});
afterAll(async () => t.close());

/** 1 activity + n − 1 notes on it, then `selections` reads of the activity. */
function activityWithNotes(n: number, selections = 0) {
  const requests: unknown[] = [
    {
      method: 'post',
      uri: '/common/v1/activities',
      body: { data: { attributes: { subject: 'timed' } } },
      vars: [{ name: 'a', path: '$.data.attributes.id' }],
    },
  ];
  for (let i = 1; i < n; i++)
    requests.push({
      method: 'post',
      uri: '/common/v1/activities/${a}/notes',
      body: { data: { attributes: { body: `note ${i}` } } },
    });
  return { requests, selections: Array.from({ length: selections }, () => ({ uri: '/common/v1/activities/${a}' })) };
}

const names = (header: string) => header.split(', ').map((e) => e.split(';')[0]);
const durOf = (header: string, name: string) =>
  Number(new RegExp(`(?:^|, )${name.replace('.', '\\.')};dur=([\\d.]+)`).exec(header)?.[1]);

test('at the default limit of 100 every subrequest has its own entry, and the header fits its budget', async () => {
  const res = await composite(t, activityWithNotes(100));
  expect(res.status).toBe(200);
  const header: string = res.headers['server-timing'];
  expect(header.length).toBeLessThanOrEqual(SERVER_TIMING_MAX_CHARS);
  expect(names(header)).toEqual([...Array.from({ length: 100 }, (_, i) => `req.${i}`), 'writes', 'commit', 'total']);
});

test('a composite of 300 answers a header any client reads: the first entries, then the rest summed per section', async () => {
  const res = await composite(t, activityWithNotes(290, 10));
  // Node's HTTP client (supertest's) refuses response headers over 16 KiB: an entry with a
  // description per subrequest made 22 KiB here, and the client lost the answer to a committed composite.
  expect(res.status).toBe(200);
  expect(res.body.responses).toHaveLength(290);
  const header: string = res.headers['server-timing'];
  expect(header.length).toBeLessThanOrEqual(SERVER_TIMING_MAX_CHARS);
  const listed = names(header).filter((n) => /^req\.\d+$/.test(n));
  expect(listed.length).toBeGreaterThanOrEqual(100);
  expect(listed).toEqual(listed.map((_, i) => `req.${i}`));
  expect(header).toContain(
    `req.more;dur=${durOf(header, 'req.more').toFixed(3)};desc="requests ${listed.length} to 289", writes;`,
  );
  expect(header).toMatch(
    /, commit;dur=[\d.]+;desc="Commit", sel\.more;dur=[\d.]+;desc="selections 0 to 9", total;dur=[\d.]+;desc="Total"$/,
  );
  expect(durOf(header, 'req.more')).toBeGreaterThan(0);
  expect(durOf(header, 'req.more')).toBeLessThan(durOf(header, 'total'));
});
