// Owns the two-instance figure of `npm run bench` on PostgreSQL (issue 21): 16 clients sending composites
// of 10 to one server, then the same 16 split 8 + 8 over two servers on the same database, run one
// after the other for the same time; what the second instance adds. SQLite allows one server per file.
import autocannon from 'autocannon';
import { COMPOSITE_PATH, compositeBody } from './client';
import { loadAverage } from './roundTwoReport';

export interface TwoInstances {
  seconds: number;
  oneServer: { compositesPerS: number; p99Ms: number; errors: number };
  twoServers: { compositesPerS: number; p99Ms: number; errors: number; perServer: number[] };
  /** Load averages before and after (see `Throughput.loadAverage`). */
  loadAverage: { start: number[]; end: number[] };
}

function load(origin: string, authorization: string, connections: number, seconds: number) {
  return autocannon({
    url: origin + COMPOSITE_PATH,
    connections,
    duration: seconds,
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: compositeBody(10),
  });
}

type Result = Awaited<ReturnType<typeof autocannon>>;

const errorsOf = (r: Result) => r.errors + r.timeouts + r.non2xx;

export async function measureTwoInstances(
  first: string,
  second: string,
  authorization: string,
  seconds: number,
): Promise<TwoInstances> {
  const start = loadAverage();
  const one = await load(first, authorization, 16, seconds);
  const two = await Promise.all([load(first, authorization, 8, seconds), load(second, authorization, 8, seconds)]);
  const perServer = two.map((r) => r['2xx'] / r.duration);
  return {
    seconds,
    oneServer: { compositesPerS: one['2xx'] / one.duration, p99Ms: one.latency.p99, errors: errorsOf(one) },
    twoServers: {
      compositesPerS: perServer[0] + perServer[1],
      p99Ms: Math.max(...two.map((r) => r.latency.p99)),
      errors: two.reduce((a, r) => a + errorsOf(r), 0),
      perServer,
    },
    loadAverage: { start, end: loadAverage() },
  };
}
