// Attacks with oversized and malformed input: body size (413), nesting depth, prototype-poisoning members,
// string and array lengths in every schema, filter counts, subrequest counts, and a body that never ends.
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TSchema } from '@sinclair/typebox';
import { startTestApp, type TestApp } from '../helpers/testApp';
import { expectError } from '../api/expectError';
import { composite, createActivity, snapshot } from '../composite/helpers';
import { MAX_JSON_DEPTH } from '../../src/http/body';

const ACTIVITIES = '/rest/common/v1/activities';
const BODY_LIMIT = 200_000;

let t: TestApp;
let activityId: string;
beforeAll(async () => {
  t = await startTestApp({
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    COMPOSITE_MAX_SUBREQUESTS: '5',
    AUTH_FAILURE_LIMIT: '100000',
  });
  activityId = await createActivity(t);
});
afterAll(async () => t.close());

/** Sends raw JSON text as the user; the answer must be `status` in the contract's shape, and nothing may change. */
async function refusedRaw(path: string, text: string, status: number, method: 'post' | 'patch' = 'post') {
  const before = await snapshot(t);
  const res = await t.http[method](path)
    .set('Authorization', t.auth('admin'))
    .set('Content-Type', 'application/json')
    .send(text);
  expectError(res, status);
  expect(await snapshot(t)).toBe(before);
  return res;
}

const refused = (path: string, body: unknown, status = 400, method: 'post' | 'patch' = 'post') =>
  refusedRaw(path, JSON.stringify(body), status, method);
const create = (attributes: Record<string, unknown>) => ({ data: { attributes } });
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

describe('every schema bounds what a client can send', () => {
  /** Strings without maxLength, arrays without maxItems, open maps without maxProperties, anywhere in a schema. */
  function unbounded(schema: TSchema, where: string, out: string[]): string[] {
    const s = schema as Record<string, unknown>;
    const kids = (key: string) => (Array.isArray(s[key]) ? (s[key] as TSchema[]) : []);
    for (const [i, sub] of [...kids('anyOf'), ...kids('oneOf'), ...kids('allOf')].entries())
      unbounded(sub, `${where}|${i}`, out);
    if (s.type === 'string' && s.maxLength === undefined && s.const === undefined && s.enum === undefined)
      out.push(`${where}: string without maxLength`);
    if (s.type === 'array') {
      if (s.maxItems === undefined) out.push(`${where}: array without maxItems`);
      if (s.items) unbounded(s.items as TSchema, `${where}[]`, out);
    }
    if (s.type === 'object') {
      const open =
        s.patternProperties !== undefined || (s.additionalProperties !== undefined && s.additionalProperties !== false);
      if (open && s.maxProperties === undefined) out.push(`${where}: open object without maxProperties`);
      for (const [name, sub] of Object.entries((s.properties ?? {}) as Record<string, TSchema>))
        unbounded(sub, `${where}.${name}`, out);
      for (const sub of Object.values((s.patternProperties ?? {}) as Record<string, TSchema>))
        unbounded(sub, `${where}.*`, out);
    }
    return out;
  }

  it('has maxLength on every string, maxItems on every array and maxProperties on every map, in every body and query schema', () => {
    const problems: string[] = [];
    for (const { op } of t.operations) {
      if (op.body) unbounded(op.body, `${op.operationId} body`, problems);
      for (const p of op.queryParams) unbounded(p.schema, `${op.operationId} ?${p.name}`, problems);
    }
    expect(problems).toEqual([]);
  });

  it('refuses strings over their length', async () => {
    await refused(ACTIVITIES, create({ subject: 's'.repeat(256) }));
    await refused(ACTIVITIES, create({ subject: 'ok', description: 'd'.repeat(65536) }));
    await refused(ACTIVITIES, create({ subject: 'ok', dueDate: '2024-01-01T00:00:00.000000000Z' }));
    await refused('/rest/admin/v1/users', create({ username: 'u'.repeat(65), password: 'long-enough-pw' }));
    await refused('/rest/admin/v1/users', create({ username: 'long', password: 'p'.repeat(257) }));
    await refused(
      `${ACTIVITIES}/${activityId}`,
      { data: { attributes: { subject: 'x' }, checksum: '1'.repeat(33) } },
      400,
      'patch',
    );
    await refused('/rest/composite/v1/composite', {
      selections: [{ uri: `/common/v1/activities/${'a'.repeat(2000)}` }],
    });
    await refused('/rest/composite/v1/composite', {
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: create({ subject: 'v' }),
          vars: [{ name: 'v', path: `$${'.a'.repeat(251)}` }],
        },
      ],
    });
    const before = await snapshot(t);
    expectError(
      await t.http.get(`${ACTIVITIES}?fields=${'subject,'.repeat(300)}`).set('Authorization', t.auth('user')),
      400,
    );
    expectError(
      await composite(
        t,
        { requests: [{ method: 'post', uri: '/common/v1/activities', body: create({ subject: 'tx' }) }] },
        'user',
        { 'GW-DBTransaction-ID': 'x'.repeat(129) },
      ),
      400,
    );
    expect(await snapshot(t)).toBe(before);
  });

  it('refuses arrays over their length, too many filters, and too many in-list values', async () => {
    await refused(
      '/rest/admin/v1/users',
      create({ username: 'many', password: 'long-enough-pw', roles: ['admin', 'user', 'reader', 'admin'] }),
    );
    const filters = Array.from({ length: 21 }, () => 'subject:ne:x');
    await refused('/rest/common/v1/search/activities', { data: { attributes: { filters } } });
    await refused('/rest/composite/v1/composite', {
      selections: [{ uri: '/common/v1/activities', parameters: { filter: filters } }],
    });
    await refused('/rest/composite/v1/composite', {
      requests: [
        {
          method: 'post',
          uri: '/common/v1/activities',
          body: create({ subject: 'v' }),
          vars: Array.from({ length: 21 }, (_, i) => ({ name: `v${i}`, path: '$.data' })),
        },
      ],
    });
    await refused('/rest/composite/v1/composite', {
      selections: [
        {
          uri: '/common/v1/activities',
          parameters: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`p${i}`, 'x'])),
        },
      ],
    });
    const before = await snapshot(t);
    const query = filters.map((f) => `filter=${encodeURIComponent(f)}`).join('&');
    expectError(await t.http.get(`${ACTIVITIES}?${query}`).set('Authorization', t.auth('user')), 400);
    const inList = `filter=${encodeURIComponent(`subject:in:${Array.from({ length: 101 }, (_, i) => `s${i}`).join(',')}`)}`;
    expectError(await t.http.get(`${ACTIVITIES}?${inList}`).set('Authorization', t.auth('user')), 400);
    expectError(await t.http.get(`${ACTIVITIES}?pageSize=101`).set('Authorization', t.auth('user')), 400);
    expect(await snapshot(t)).toBe(before);
  });

  it('refuses more subrequests than COMPOSITE_MAX_SUBREQUESTS before running any', async () => {
    const requests = Array.from({ length: 4 }, (_, i) => ({
      method: 'post',
      uri: '/common/v1/activities',
      body: create({ subject: `n${i}` }),
    }));
    await refused('/rest/composite/v1/composite', {
      requests,
      selections: [{ uri: '/common/v1/activities' }, { uri: '/common/v1/activities' }],
    });
  });
});

describe('body size', () => {
  it("answers 413 in the contract's shape for a body over BODY_LIMIT_BYTES, plain or composite", async () => {
    const big = 'x'.repeat(BODY_LIMIT);
    const res = await refused(ACTIVITIES, create({ subject: 'big', description: big }), 413);
    expect(res.body.errorCode).toBe('gw.api.rest.exception.PayloadTooLargeException');
    await refused(
      '/rest/composite/v1/composite',
      {
        requests: [
          { method: 'post', uri: '/common/v1/activities', body: create({ subject: 'big', description: big }) },
        ],
      },
      413,
    );
  });

  it('answers 415 for a body that is not JSON', async () => {
    const before = await snapshot(t);
    expectError(
      await t.http
        .post(ACTIVITIES)
        .set('Authorization', t.auth('user'))
        .set('Content-Type', 'text/plain')
        .send('{"data":{}}'),
      415,
    );
    expectError(
      await t.http
        .post(ACTIVITIES)
        .set('Authorization', t.auth('user'))
        .set('Content-Type', 'application/x-www-form-urlencoded')
        .send('data[attributes][subject]=x'),
      415,
    );
    expect(await snapshot(t)).toBe(before);
  });
});

describe('nesting depth', () => {
  it(`refuses JSON nested deeper than ${MAX_JSON_DEPTH} levels — in a body, inside a composite subrequest, or absurdly deep`, async () => {
    const deep = `{"data":{"attributes":{"subject":"deep","description":${nested(MAX_JSON_DEPTH)}}}}`;
    const attacks = [
      [ACTIVITIES, deep],
      [
        '/rest/composite/v1/composite',
        `{"requests":[{"method":"post","uri":"/common/v1/activities","body":${nested(40)}}]}`,
      ],
      [ACTIVITIES, nested(90_000)],
      [ACTIVITIES, `{"a":${'{"a":'.repeat(30_000)}1${'}'.repeat(30_001)}`],
    ];
    for (const [path, text] of attacks) {
      const res = await refusedRaw(path, text, 400);
      expect(res.body.userMessage).toMatch(new RegExp(`deeper than ${MAX_JSON_DEPTH} levels`));
    }
  });

  it('counts only structure, not brackets inside strings', async () => {
    const res = await t.http
      .post(ACTIVITIES)
      .set('Authorization', t.auth('user'))
      .send(create({ subject: '[[[[{{{{'.repeat(20), description: '\\"[[[[[['.repeat(100) }));
    expect(res.status).toBe(201);
  });
});

describe('prototype-poisoning members', () => {
  const bodies: Array<[string, string]> = [
    ['__proto__ at the top', '{"__proto__":{"polluted":"yes"},"data":{"attributes":{"subject":"p"}}}'],
    ['__proto__ in attributes', '{"data":{"attributes":{"subject":"p","__proto__":{"polluted":"yes"}}}}'],
    ['escaped __proto__', '{"data":{"attributes":{"subject":"p","\\u005f_proto__":{"polluted":"yes"}}}}'],
    ['constructor.prototype', '{"data":{"attributes":{"subject":"p","constructor":{"prototype":{"polluted":"yes"}}}}}'],
    ['constructor alone', '{"data":{"attributes":{"subject":"p"}},"constructor":1}'],
    ['prototype alone', '{"data":{"attributes":{"subject":"p","prototype":{"polluted":"yes"}}}}'],
    [
      '__proto__ inside an array',
      '{"data":{"attributes":{"subject":"p","x":[{"a":[{"__proto__":{"polluted":"yes"}}]}]}}}',
    ],
  ];
  it.each(bodies)('refuses %s with 400, writes nothing and pollutes nothing', async (_name, text) => {
    const res = await refusedRaw(ACTIVITIES, text, 400);
    expect(res.body.errorCode).toBe('gw.api.rest.exception.BadInputException');
    expect(res.body.userMessage).toMatch(/Members named __proto__, constructor or prototype are not allowed/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses them inside a composite subrequest body and in a var-bearing body', async () => {
    for (const text of [
      '{"requests":[{"method":"post","uri":"/common/v1/activities","body":{"data":{"attributes":{"subject":"p"}},"__proto__":{"polluted":"yes"}}}]}',
      '{"requests":[{"method":"post","uri":"/common/v1/activities","body":{"data":{"attributes":{"subject":"p","constructor":{"prototype":{"isAdmin":true}}}}}}]}',
      '{"requests":[{"method":"post","uri":"/common/v1/activities","body":{"data":{"attributes":{"subject":"p","prototype":{"isAdmin":true}}}}}]}',
    ]) {
      const res = await refusedRaw('/rest/composite/v1/composite', text, 400);
      expect(res.body.requestFailed).toBeUndefined();
      expect(res.body.userMessage).toMatch(/Members named __proto__, constructor or prototype are not allowed/);
    }
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe('request time-out', () => {
  it("answers 503 in the contract's shape to a client that never finishes its body, and writes nothing", async () => {
    const slow = await startTestApp({ REQUEST_TIMEOUT_MS: '300' });
    const server = http.createServer(slow.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const before = await snapshot(slow);
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
        let text = '';
        socket.on('data', (chunk) => {
          text += chunk.toString('utf8');
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
        socket.write(
          [
            'POST /rest/common/v1/activities HTTP/1.1',
            'Host: 127.0.0.1',
            `Authorization: ${slow.auth('user')}`,
            'Content-Type: application/json',
            'Content-Length: 1000',
            '',
            '{"data":{"attributes":',
          ].join('\r\n'),
        );
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(JSON.parse(body)).toMatchObject({
        status: 503,
        errorCode: 'gw.api.rest.exception.ServiceUnavailableException',
      });
      expect(await snapshot(slow)).toBe(before);
      // The server still serves everyone else.
      expect((await slow.http.get(ACTIVITIES).set('Authorization', slow.auth('user'))).status).toBe(200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await slow.close();
    }
  });
});
